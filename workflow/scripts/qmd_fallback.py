r"""Render a Quarto ``.qmd`` report without the Quarto CLI.

This module is the fallback renderer of the pipeline: when ``quarto`` is not
on ``PATH`` the report is rendered from the very same ``.qmd`` source by

1. parsing the front matter, the markdown and the ```` ```{python} ```` cells
   (including their ``#| key: value`` option lines),
2. injecting the parameters after the cell tagged ``parameters`` (as Quarto
   and papermill do) and running all cells in a Jupyter kernel (``nbclient``),
3. turning the cell outputs into pandoc markdown while honouring the usual
   Quarto cell options (``echo``, ``output``, ``include``, ``warning``,
   ``label``, ``fig-cap``, ``tbl-cap`` ...),
4. numbering figures, tables and sections and resolving ``@fig-...``,
   ``@tbl-...`` and ``@sec-...`` cross-references on the pandoc AST, and
5. writing a self-contained HTML file (pandoc) and a PDF (pandoc to Typst,
   compiled with the ``typst`` Python package).

Both outputs are written to temporary files next to their targets and only
renamed into place once everything succeeded.

Command line usage::

    python qmd_fallback.py REPORT.qmd --html OUT.html --pdf OUT.pdf \
        -P key=value -P other=3
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import datetime as _dt
import importlib.metadata
import importlib.util
import json
import keyword
import logging
import os
import re
import subprocess
import sys
import tempfile
import urllib.parse
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "CellExecutionFailed",
    "Chunk",
    "CrossRefError",
    "QmdDocument",
    "QmdError",
    "QmdParseError",
    "ToolError",
    "main",
    "parse_cell_options",
    "parse_qmd",
    "render",
    "renderer_description",
]

LOGGER = logging.getLogger(__name__)

#: Metadata keys of the front matter that are handed on to pandoc.
PASSTHROUGH_METADATA = (
    "title",
    "subtitle",
    "author",
    "date",
    "abstract",
    "abstract-title",
    "lang",
    "keywords",
    "description",
    "toc-title",
    "papersize",
    "fontsize",
    "mainfont",
    "margin",
    "linestretch",
)

#: Cross-reference prefixes reserved by Quarto; ``@<prefix>-...`` citations
#: using them must resolve, the others are left to pandoc as citations.
CROSSREF_PREFIXES = (
    "fig",
    "tbl",
    "sec",
    "eq",
    "lst",
    "thm",
    "lem",
    "cor",
    "prp",
    "cnj",
    "def",
    "exm",
    "exr",
)

#: Human readable names of the cross-reference kinds this module numbers.
CROSSREF_NAMES = {"fig": "Figure", "tbl": "Table", "sec": "Section"}

#: Image MIME types written to files, in order of preference.
IMAGE_MIME_TYPES = {
    "image/png": ".png",
    "image/svg+xml": ".svg",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
}

#: MIME type used by the hidden cells evaluating inline expressions.
INLINE_MIME_TYPE = "application/x-qmd-inline+json"

#: Name of the notebook cell metadata entry used by this module.
META_KEY = "qmd_fallback"

HTML_CSS = """\
:root { color-scheme: light; }
html { font-size: 16px; }
body {
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  line-height: 1.55; color: #1f2328; background: #fff;
  max-width: 54rem; margin: 0 auto; padding: 2rem 1.25rem 4rem;
}
header#title-block-header {
  margin-bottom: 2rem; padding-bottom: 1rem; border-bottom: 1px solid #d0d7de;
}
h1.title { font-size: 2.1rem; margin: 0 0 .3rem; line-height: 1.2; }
p.subtitle { font-size: 1.25rem; color: #57606a; margin: 0 0 .6rem; }
p.author, p.date { margin: .15rem 0; color: #57606a; }
div.abstract { margin-top: 1rem; font-size: .95rem; }
h1, h2, h3, h4 { line-height: 1.25; margin-top: 2rem; }
a { color: #0a58ca; text-decoration: none; }
a:hover { text-decoration: underline; }
img, svg, video { max-width: 100%; height: auto; }
figure { margin: 1.5rem auto; text-align: center; }
figcaption { font-size: .92rem; color: #444; margin-top: .5rem; }
table { border-collapse: collapse; margin: 1.25rem auto; font-size: .92rem;
        font-variant-numeric: tabular-nums; max-width: 100%; }
caption { caption-side: top; font-size: .92rem; color: #444; padding-bottom: .5rem; }
th, td { padding: .3rem .75rem; border-bottom: 1px solid #d0d7de; vertical-align: top; }
thead th { border-bottom: 2px solid #8c959f; text-align: left; }
tbody tr:nth-child(even) { background: #f6f8fa; }
pre {
  background: #f6f8fa; padding: .75rem 1rem; overflow-x: auto; border-radius: 6px;
  font-size: .85rem;
}
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .9em; }
blockquote { margin: 1rem 0; padding: 0 1rem; color: #57606a; border-left: .25rem solid #d0d7de; }
nav#TOC {
  background: #f6f8fa; border: 1px solid #d0d7de; border-radius: 6px;
  padding: .5rem 1.25rem; margin-bottom: 2rem;
}
nav#TOC ul { padding-left: 1.2rem; }
div[class*="callout-"] {
  border-left: 4px solid #0a58ca; background: #f1f6fe; padding: .5rem 1rem; margin: 1rem 0;
  border-radius: 4px;
}
div.callout-warning, div.callout-caution { border-left-color: #bf8700; background: #fff8e5; }
div.callout-important { border-left-color: #cf222e; background: #ffebe9; }
div.callout-tip { border-left-color: #1a7f37; background: #edfbef; }
@media print { body { max-width: none; padding: 0; } }
"""

#: Typst preamble: numbering is done by this module, so Typst must not add
#: its own "Figure N" supplements to the captions; long tables may break
#: across pages.
TYPST_PREAMBLE = """\
#set figure(numbering: none)
#show figure.where(kind: table): set block(breakable: true)
"""

_ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_CELL_OPEN_RE = re.compile(
    r"^(?P<fence>`{3,})[ \t]*\{(?P<engine>[A-Za-z_][\w.-]*)(?P<rest>[^}]*)\}[ \t]*$"
)
_MD_FENCE_RE = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_INLINE_EXPR_RE = re.compile(r"`\{python\}[ \t]+(?P<expr>[^`]+?)[ \t]*`")
_SHORTCODE_RE = re.compile(r"\{\{<\s*(?P<name>[\w-]+)(?P<args>[^>]*)>\}\}")
_PAGEBREAK_MD = (
    "\n\n```{=typst}\n#pagebreak()\n```\n\n"
    '```{=html}\n<div style="page-break-after: always;"></div>\n```\n\n'
)


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------


class QmdError(RuntimeError):
    """Base class of all errors raised by the fallback renderer."""


class QmdParseError(QmdError):
    """The ``.qmd`` source could not be parsed."""


class CellExecutionFailed(QmdError):
    """A code cell raised an exception, timed out or killed the kernel."""


class CrossRefError(QmdError):
    """A cross-reference could not be resolved (or a label is duplicated)."""


class ToolError(QmdError):
    """pandoc, typst or the Jupyter kernel machinery is missing or failed."""


# --------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Chunk:
    """One piece of a ``.qmd`` document.

    Attributes
    ----------
    kind : str
        ``"markdown"`` or ``"code"``.
    source : str
        The markdown text, or the cell code without its ``#|`` option lines.
    options : dict
        Cell options (empty for markdown chunks).
    line : int
        1-based line number in the ``.qmd`` file where the chunk starts.
    engine : str
        Engine named in the cell fence (``"python"``), empty for markdown.
    """

    kind: str
    source: str
    options: dict[str, Any]
    line: int
    engine: str = ""


@dataclasses.dataclass(frozen=True)
class QmdDocument:
    """A parsed ``.qmd`` document.

    Attributes
    ----------
    front_matter : dict
        The YAML front matter (empty if there is none).
    chunks : list of Chunk
        Markdown and code chunks in document order.
    """

    front_matter: dict[str, Any]
    chunks: list[Chunk]


def split_front_matter(text: str) -> tuple[dict[str, Any], str, int]:
    """Split a ``.qmd`` text into its YAML front matter and its body.

    Parameters
    ----------
    text : str
        Whole content of the ``.qmd`` file.

    Returns
    -------
    front_matter : dict
        Parsed YAML front matter, ``{}`` when absent.
    body : str
        The remaining text.
    body_line : int
        1-based line number at which ``body`` starts in ``text``.

    Raises
    ------
    QmdParseError
        If the front matter is not closed or is not a YAML mapping.
    """
    lines = text.lstrip("\ufeff").splitlines(keepends=True)
    if not lines or lines[0].rstrip() != "---":
        return {}, text.lstrip("\ufeff"), 1
    for index in range(1, len(lines)):
        if lines[index].rstrip() in ("---", "..."):
            try:
                data = yaml.safe_load("".join(lines[1:index])) or {}
            except yaml.YAMLError as exc:
                raise QmdParseError(f"invalid YAML front matter: {exc}") from exc
            if not isinstance(data, dict):
                raise QmdParseError("the YAML front matter must be a mapping")
            return data, "".join(lines[index + 1 :]), index + 2
    raise QmdParseError("the YAML front matter starting on line 1 is not closed by '---'")


def parse_cell_options(code: str) -> tuple[dict[str, Any], str]:
    """Split the leading ``#| key: value`` option lines off a cell.

    Parameters
    ----------
    code : str
        Source of a code cell as written in the ``.qmd`` file.

    Returns
    -------
    options : dict
        The options, parsed as one YAML mapping (so multi-line values work).
    code : str
        The remaining code.

    Raises
    ------
    QmdParseError
        If the option lines are not a valid YAML mapping.
    """
    lines = code.splitlines()
    option_lines: list[str] = []
    while len(option_lines) < len(lines) and lines[len(option_lines)].startswith("#|"):
        option_lines.append(lines[len(option_lines)])
    if not option_lines:
        return {}, code
    yaml_text = "\n".join(line[3:] if line.startswith("#| ") else line[2:] for line in option_lines)
    try:
        options = yaml.safe_load(yaml_text) or {}
    except yaml.YAMLError as exc:
        raise QmdParseError(f"invalid cell options:\n{yaml_text}\n{exc}") from exc
    if not isinstance(options, dict):
        raise QmdParseError(f"cell options must be 'key: value' lines, got:\n{yaml_text}")
    return options, "\n".join(lines[len(option_lines) :])


def _deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Merge two mappings recursively, ``override`` winning.

    Parameters
    ----------
    base, override : mapping
        Mappings to merge.

    Returns
    -------
    dict
        The merged mapping.
    """
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def project_metadata(qmd: Path) -> dict[str, Any]:
    """Read the Quarto project file (``_quarto.yml``) governing a document.

    Like Quarto, the nearest ``_quarto.yml``/``_quarto.yaml`` in the
    document's directory or its parents is used.

    Parameters
    ----------
    qmd : Path
        The ``.qmd`` file.

    Returns
    -------
    dict
        The project's document options (its ``project`` entry removed), or
        ``{}`` when there is no project file.

    Raises
    ------
    QmdParseError
        If the project file is not a YAML mapping.
    """
    for directory in qmd.resolve().parents:
        for name in ("_quarto.yml", "_quarto.yaml"):
            path = directory / name
            if path.is_file():
                try:
                    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
                except yaml.YAMLError as exc:
                    raise QmdParseError(f"invalid YAML in {path}: {exc}") from exc
                if not isinstance(data, dict):
                    raise QmdParseError(f"{path} must be a YAML mapping")
                LOGGER.debug("using project options from %s", path)
                return {key: value for key, value in data.items() if key != "project"}
    return {}


def parse_qmd(text: str) -> QmdDocument:
    """Parse the text of a ``.qmd`` file.

    Executable cells are fenced with three or more backticks and an engine in
    braces (```` ```{python} ````); fenced blocks of the markdown itself
    (```` ```python ````, ``~~~``) are left alone, even if they contain
    something that looks like a cell.

    Parameters
    ----------
    text : str
        Content of the ``.qmd`` file.

    Returns
    -------
    QmdDocument
        Front matter and chunks.

    Raises
    ------
    QmdParseError
        On invalid YAML or an unclosed cell.
    """
    front_matter, body, first_line = split_front_matter(text)
    chunks: list[Chunk] = []
    markdown: list[str] = []
    markdown_start = first_line
    lines = body.splitlines()
    index = 0

    def flush_markdown(next_line: int) -> None:
        nonlocal markdown_start
        if "".join(markdown).strip():
            chunks.append(Chunk("markdown", "\n".join(markdown).strip("\n"), {}, markdown_start))
        markdown.clear()
        markdown_start = next_line

    while index < len(lines):
        line = lines[index]
        line_no = first_line + index
        cell = _CELL_OPEN_RE.match(line)
        if cell:
            end = _find_closing_fence(lines, index + 1, "`", len(cell["fence"]))
            if end is None:
                raise QmdParseError(f"line {line_no}: code cell is not closed")
            flush_markdown(first_line + end + 1)
            options, code = parse_cell_options("\n".join(lines[index + 1 : end]))
            chunks.append(Chunk("code", code, options, line_no, cell["engine"]))
            index = end + 1
            continue
        fence = _MD_FENCE_RE.match(line)
        if fence and not ("`" in fence["fence"] and "`" in fence["info"]):
            end = _find_closing_fence(lines, index + 1, fence["fence"][0], len(fence["fence"]))
            stop = len(lines) if end is None else end + 1
            markdown.extend(lines[index:stop])
            index = stop
            continue
        markdown.append(line)
        index += 1
    flush_markdown(first_line + len(lines))
    return QmdDocument(front_matter, chunks)


def _find_closing_fence(lines: Sequence[str], start: int, char: str, length: int) -> int | None:
    """Return the index of the line closing a fence, or ``None``.

    Parameters
    ----------
    lines : sequence of str
        Lines of the document.
    start : int
        Index of the first line after the opening fence.
    char : str
        Fence character (backtick or tilde).
    length : int
        Length of the opening fence; the closing one must be at least as long.

    Returns
    -------
    int or None
        Index of the closing line.
    """
    pattern = re.compile(r"^ {0,3}" + re.escape(char) + "{" + str(length) + r",}[ \t]*$")
    for index in range(start, len(lines)):
        if pattern.match(lines[index]):
            return index
    return None


# --------------------------------------------------------------------------
# Notebook construction and execution
# --------------------------------------------------------------------------


def renderer_description() -> str:
    """Describe this renderer with the versions of its tools.

    Returns
    -------
    str
        E.g. ``"fallback (qmd parser+nbclient, pandoc 3.9, typst 0.15.2)"``.

    Raises
    ------
    ToolError
        If pypandoc (with a pandoc binary) or typst is not installed.
    """
    pandoc, typst = _pandoc_version(), _package_version("typst")
    return f"fallback (qmd parser+nbclient, pandoc {pandoc}, typst {typst})"


def _package_version(name: str) -> str:
    """Return the installed version of a distribution.

    Parameters
    ----------
    name : str
        Distribution name.

    Returns
    -------
    str
        Its version.

    Raises
    ------
    ToolError
        If it is not installed.
    """
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError as exc:
        raise ToolError(
            f"the Python package {name!r} is required by the fallback renderer"
        ) from exc


def _pandoc_path() -> str:
    """Locate the pandoc binary shipped with ``pypandoc-binary``.

    Returns
    -------
    str
        Path of the pandoc executable.

    Raises
    ------
    ToolError
        If pypandoc or its pandoc binary is unavailable.
    """
    try:
        import pypandoc
    except ImportError as exc:
        raise ToolError("pypandoc is required: pip install pypandoc-binary") from exc
    try:
        return pypandoc.get_pandoc_path()
    except OSError as exc:
        raise ToolError("no pandoc binary found: pip install pypandoc-binary") from exc


def _pandoc_version() -> str:
    """Return the version of the pandoc binary.

    Returns
    -------
    str
        E.g. ``"3.9"``.
    """
    first_line = _run_pandoc(["--version"]).splitlines()[0]
    return first_line.split()[-1]


def _cell_meta(role: str, **extra: Any) -> dict[str, Any]:
    """Build the notebook metadata identifying a cell's role.

    Parameters
    ----------
    role : str
        ``"user"`` for cells from the ``.qmd`` file, ``"hidden"`` for helper
        cells whose outputs are discarded, ``"inline"`` for cells evaluating
        inline expressions.
    **extra
        Further entries (options, line number ...).

    Returns
    -------
    dict
        Metadata for ``cell.metadata``.
    """
    return {META_KEY: {"role": role, **extra}}


def _params_code(params: Mapping[str, Any]) -> str:
    """Generate the code of the injected parameters cell.

    Parameters
    ----------
    params : mapping
        Parameter names and values.

    Returns
    -------
    str
        One ``name = repr(value)`` line per parameter.

    Raises
    ------
    ValueError
        If a name is not a valid Python identifier.
    """
    lines = ["# Injected parameters"]
    for name, value in params.items():
        if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
            raise ValueError(f"parameter name {name!r} is not a valid Python identifier")
        lines.append(f"{name} = {value!r}")
    return "\n".join(lines)


def _figsize_code(width: float, height: float) -> str:
    """Generate code setting matplotlib's default figure size, if installed.

    Parameters
    ----------
    width, height : float
        Figure size in inches.

    Returns
    -------
    str
        Python code.
    """
    return (
        "try:\n    import matplotlib as _qmd_mpl\nexcept ImportError:\n    pass\nelse:\n"
        f"    _qmd_mpl.rcParams['figure.figsize'] = ({float(width)!r}, {float(height)!r})\n"
        "    del _qmd_mpl\n"
    )


def _setup_code(renderer: str, fig_size: tuple[float, float], fig_dpi: float) -> str:
    """Generate the first, hidden cell of the notebook.

    Parameters
    ----------
    renderer : str
        Value given to ``RENDERER``.
    fig_size : tuple of float
        Default matplotlib figure size in inches.
    fig_dpi : float
        Default matplotlib figure resolution.

    Returns
    -------
    str
        Python code.
    """
    return (
        f"RENDERER = {renderer!r}\n"
        "try:\n    import matplotlib as _qmd_mpl\nexcept ImportError:\n    pass\nelse:\n"
        f"    _qmd_mpl.rcParams['figure.figsize'] = {tuple(float(x) for x in fig_size)!r}\n"
        f"    _qmd_mpl.rcParams['figure.dpi'] = {float(fig_dpi)!r}\n"
        "    del _qmd_mpl\n"
    )


def _inline_code(expressions: Sequence[str]) -> str:
    """Generate a cell evaluating inline ``{python}`` expressions.

    Parameters
    ----------
    expressions : sequence of str
        Python expressions.

    Returns
    -------
    str
        Code displaying the ``str()`` of every value under
        :data:`INLINE_MIME_TYPE`.
    """
    items = "".join(f"({expr}), " for expr in expressions)
    return (
        "__import__('IPython.display', fromlist=['display']).display("
        f"{{{INLINE_MIME_TYPE!r}: [str(_qmd_v) for _qmd_v in ({items})]}}, raw=True)"
    )


def _is_parameters_cell(options: Mapping[str, Any]) -> bool:
    """Tell whether cell options tag the cell as the parameters cell.

    Parameters
    ----------
    options : mapping
        Cell options.

    Returns
    -------
    bool
        ``True`` for ``tags: [parameters]`` (or ``tags: parameters``).
    """
    tags = options.get("tags", [])
    if isinstance(tags, str):
        tags = [tag.strip() for tag in tags.split(",")]
    return "parameters" in (tags or [])


def _markdown_cells(chunk: Chunk) -> list[Any]:
    """Turn a markdown chunk into notebook cells.

    Parameters
    ----------
    chunk : Chunk
        A markdown chunk.

    Returns
    -------
    list of nbformat.NotebookNode
        The markdown cell, preceded by a cell evaluating its inline
        ``{python}`` expressions if it has any.
    """
    import nbformat

    cells = []
    expressions = [
        match["expr"].replace("\n", " ") for match in _INLINE_EXPR_RE.finditer(chunk.source)
    ]
    if expressions:
        meta = _cell_meta("inline", line=chunk.line)
        cells.append(nbformat.v4.new_code_cell(_inline_code(expressions), metadata=meta))
    meta = _cell_meta("user", line=chunk.line)
    cells.append(nbformat.v4.new_markdown_cell(chunk.source, metadata=meta))
    return cells


def _code_cells(
    chunk: Chunk, options: Mapping[str, Any], fig_size: tuple[float, float]
) -> list[Any]:
    """Turn a code chunk into notebook cells.

    Parameters
    ----------
    chunk : Chunk
        A code chunk.
    options : mapping
        Its effective options.
    fig_size : tuple of float
        Document default figure size, restored after cells setting
        ``fig-width``/``fig-height``.

    Returns
    -------
    list of nbformat.NotebookNode
        The cell (a raw cell if it is not to be executed), surrounded by
        hidden cells changing the figure size if the options ask for it.
    """
    import nbformat

    meta = _cell_meta("user", options=dict(options), line=chunk.line, engine=chunk.engine)
    if chunk.engine != "python":
        LOGGER.warning(
            "line %d: '%s' cells are not executed by the fallback renderer",
            chunk.line,
            chunk.engine,
        )
    if chunk.engine != "python" or not options.get("eval", True):
        return [nbformat.v4.new_raw_cell(chunk.source, metadata=meta)]
    cell = nbformat.v4.new_code_cell(chunk.source, metadata=meta)
    tags = ["parameters"] if _is_parameters_cell(options) else []
    if options.get("error", False):
        tags.append("raises-exception")
    if tags:
        cell.metadata["tags"] = tags
    if "fig-width" not in options and "fig-height" not in options:
        return [cell]
    size = (options.get("fig-width", fig_size[0]), options.get("fig-height", fig_size[1]))
    hidden = _cell_meta("hidden")
    return [
        nbformat.v4.new_code_cell(_figsize_code(*size), metadata=hidden),
        cell,
        nbformat.v4.new_code_cell(_figsize_code(*fig_size), metadata=hidden),
    ]


def build_notebook(
    document: QmdDocument,
    params: Mapping[str, Any],
    renderer: str,
    cell_defaults: Mapping[str, Any],
) -> Any:
    """Convert a parsed document into an executable notebook.

    The notebook starts with a hidden setup cell defining ``RENDERER``; the
    parameters (if any) are assigned in a hidden cell right after the cell
    tagged ``parameters`` (at the top, with a warning, if there is none).

    Parameters
    ----------
    document : QmdDocument
        Parsed ``.qmd`` document.
    params : mapping
        Parameter values overriding the defaults of the parameters cell.
    renderer : str
        Renderer description assigned to ``RENDERER``.
    cell_defaults : mapping
        Default cell options (merged under every cell's own options).

    Returns
    -------
    nbformat.NotebookNode
        The notebook; every cell carries its role, options and source line in
        ``cell.metadata["qmd_fallback"]``.
    """
    import nbformat

    front = document.front_matter
    fig_size = (
        float(_format_option(front, "fig-width", 7)),
        float(_format_option(front, "fig-height", 5)),
    )
    fig_dpi = float(_format_option(front, "fig-dpi", 144))
    hidden = _cell_meta("hidden")
    cells = [nbformat.v4.new_code_cell(_setup_code(renderer, fig_size, fig_dpi), metadata=hidden)]
    params_meta = _cell_meta("hidden", tags=["injected-parameters"])
    params_cell = nbformat.v4.new_code_cell(_params_code(params), metadata=params_meta)
    params_inserted = not params
    for chunk in document.chunks:
        if chunk.kind == "markdown":
            cells.extend(_markdown_cells(chunk))
            continue
        options = {**cell_defaults, **chunk.options}
        cells.extend(_code_cells(chunk, options, fig_size))
        if not params_inserted and _is_parameters_cell(options):
            cells.append(params_cell)
            params_inserted = True
    if not params_inserted:
        LOGGER.warning("no cell tagged 'parameters': parameters are injected at the top")
        cells.insert(1, params_cell)
    kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": kernelspec})


def _write_kernel_spec(directory: Path) -> str:
    """Write a kernel spec running ipykernel in the current interpreter.

    Parameters
    ----------
    directory : Path
        Directory used as the kernel spec search path.

    Returns
    -------
    str
        The kernel name.

    Raises
    ------
    ToolError
        If ipykernel is not installed in this interpreter.
    """
    if importlib.util.find_spec("ipykernel") is None:
        raise ToolError(f"ipykernel is not installed for {sys.executable}: pip install ipykernel")
    name = "qmd-fallback-python"
    spec_dir = directory / name
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": f"Python ({sys.executable})",
        "language": "python",
        "env": {"PYDEVD_DISABLE_FILE_VALIDATION": "1"},
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    return name


def strip_ansi(text: str) -> str:
    """Remove ANSI escape sequences (colours of IPython tracebacks).

    Parameters
    ----------
    text : str
        Text possibly containing escape sequences.

    Returns
    -------
    str
        Plain text.
    """
    return _ANSI_RE.sub("", text)


def _describe_failed_cell(notebook: Any, qmd_name: str) -> str:
    """Describe the cell whose error stopped the execution.

    Parameters
    ----------
    notebook : nbformat.NotebookNode
        The partially executed notebook.
    qmd_name : str
        File name used in the message.

    Returns
    -------
    str
        Location and label of the failing cell (its source and traceback are
        part of nbclient's error message).
    """
    for cell in notebook.cells:
        if cell.cell_type != "code" or "raises-exception" in cell.metadata.get("tags", []):
            continue
        if any(output.output_type == "error" for output in cell.get("outputs", [])):
            meta = cell.metadata.get(META_KEY, {})
            where = f"{qmd_name}:{meta['line']}" if "line" in meta else qmd_name
            if meta.get("role") == "inline":
                where += " (inline `{python}` expression)"
            label = meta.get("options", {}).get("label")
            label_text = f" [label: {label}]" if label else ""
            return f"the cell at {where}{label_text}"
    return "a cell"


def execute_notebook(
    notebook: Any, cwd: Path, scratch: Path, timeout: int | None, qmd_name: str
) -> None:
    """Run all code cells of a notebook in a fresh kernel.

    Parameters
    ----------
    notebook : nbformat.NotebookNode
        Notebook to execute in place.
    cwd : Path
        Working directory of the kernel.
    scratch : Path
        Scratch directory (kernel spec and kernel log are written there).
    timeout : int or None
        Per-cell timeout in seconds (``None``: no limit).
    qmd_name : str
        Name of the ``.qmd`` file, for error messages.

    Raises
    ------
    CellExecutionFailed
        If a cell raises (message includes the cell source and traceback),
        times out or the kernel dies.
    ToolError
        If nbclient, jupyter_client or ipykernel are missing.
    """
    try:
        from jupyter_client.kernelspec import KernelSpecManager
        from jupyter_client.manager import AsyncKernelManager
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
    except ImportError as exc:
        raise ToolError(
            "nbclient, nbformat and ipykernel are required: pip install nbclient nbformat ipykernel"
        ) from exc

    kernel_dir = scratch / "kernels"
    kernel_name = _write_kernel_spec(kernel_dir)
    spec_manager = KernelSpecManager(kernel_dirs=[str(kernel_dir)])
    manager = AsyncKernelManager(kernel_name=kernel_name, kernel_spec_manager=spec_manager)
    client = NotebookClient(
        notebook,
        km=manager,
        timeout=timeout,
        allow_errors=False,
        record_timing=False,
        resources={"metadata": {"path": str(cwd)}},
    )
    log_path = scratch / "kernel.log"
    with open(log_path, "wb") as kernel_log:
        try:
            client.execute(cleanup_kc=True, stdout=kernel_log, stderr=kernel_log)
        except CellExecutionError as exc:
            where = _describe_failed_cell(notebook, qmd_name)
            raise CellExecutionFailed(
                f"error while executing {where}:\n{strip_ansi(str(exc))}"
            ) from None
        except CellTimeoutError as exc:
            raise CellExecutionFailed(
                f"cell timed out in {qmd_name}: {strip_ansi(str(exc))}"
            ) from None
        except DeadKernelError as exc:
            log_tail = log_path.read_text(encoding="utf-8", errors="replace")[-3000:]
            raise CellExecutionFailed(
                f"the kernel died while executing {qmd_name}: {exc}\n{log_tail}"
            ) from None
    log_text = log_path.read_text(encoding="utf-8", errors="replace").strip()
    if log_text:
        LOGGER.debug("kernel log:\n%s", log_text)


# --------------------------------------------------------------------------
# Outputs to markdown
# --------------------------------------------------------------------------


def _fence(text: str, info: str = "") -> str:
    """Wrap text in a fenced code block longer than any backtick run in it.

    Parameters
    ----------
    text : str
        Content of the block.
    info : str
        Info string (e.g. ``"python"``).

    Returns
    -------
    str
        Markdown code block.
    """
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{text.rstrip(chr(10))}\n{fence}"


def _one_line(text: Any) -> str:
    """Collapse a caption into a single line of markdown.

    Parameters
    ----------
    text : Any
        Caption value from the cell options (a list of subcaptions is
        joined).

    Returns
    -------
    str
        Whitespace-normalised text.
    """
    if isinstance(text, (list, tuple)):
        text = " ".join(str(item) for item in text)
    return " ".join(str(text).split())


def _merge_streams(outputs: Sequence[Any]) -> list[Any]:
    """Merge consecutive stream outputs of the same stream.

    Parameters
    ----------
    outputs : sequence
        Outputs of one code cell.

    Returns
    -------
    list
        Outputs where runs of ``stdout``/``stderr`` chunks are joined.
    """
    merged: list[Any] = []
    for output in outputs:
        if (
            output.get("output_type") == "stream"
            and merged
            and merged[-1].get("output_type") == "stream"
            and merged[-1].get("name") == output.get("name")
        ):
            merged[-1] = {**merged[-1], "text": merged[-1]["text"] + output["text"]}
        else:
            merged.append(dict(output))
    return merged


def _joined(value: Any) -> str:
    """Join a notebook multiline string (str or list of str).

    Parameters
    ----------
    value : str or list of str
        Output data.

    Returns
    -------
    str
        The text.
    """
    return "".join(value) if isinstance(value, list) else str(value)


class _AssetWriter:
    """Write image outputs to files with unique, readable names.

    Parameters
    ----------
    directory : Path
        Where images are written (created on first use).
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._count = 0

    def write(self, mime: str, data: Any, stem: str) -> Path:
        """Write one image.

        Parameters
        ----------
        mime : str
            MIME type (a key of :data:`IMAGE_MIME_TYPES`).
        data : str or list of str
            Base64 data, or SVG text.
        stem : str
            Base of the file name (the cell label, if any).

        Returns
        -------
        Path
            Absolute path of the written file.
        """
        self._count += 1
        self.directory.mkdir(parents=True, exist_ok=True)
        safe_stem = re.sub(r"[^\w.-]+", "-", stem).strip("-") or "output"
        path = self.directory / f"{safe_stem}-{self._count}{IMAGE_MIME_TYPES[mime]}"
        text = _joined(data)
        if mime == "image/svg+xml":
            path.write_text(text, encoding="utf-8")
        else:
            path.write_bytes(base64.b64decode(text))
        return path.resolve()


def _html_to_markdown(html: str) -> str:
    """Convert an HTML output (typically a DataFrame) into pandoc markdown.

    Parameters
    ----------
    html : str
        HTML fragment.

    Returns
    -------
    str
        Markdown, so that the output works for both HTML and PDF.
    """
    html = re.sub(r"<style\b.*?</style>", "", html, flags=re.DOTALL | re.IGNORECASE)
    return _run_pandoc(
        [
            "-f",
            "html",
            "-t",
            "markdown-raw_html-native_divs-native_spans-fenced_divs-bracketed_spans",
            "--wrap=none",
        ],
        html,
    )


def _data_to_markdown(data: Mapping[str, Any], raw: bool, assets: _AssetWriter, stem: str) -> str:
    """Convert a rich (display/execute_result) output into markdown.

    Parameters
    ----------
    data : mapping
        MIME bundle of the output.
    raw : bool
        Insert ``text/plain`` as markdown instead of a code block.
    assets : _AssetWriter
        Writer for image files.
    stem : str
        Base name for image files.

    Returns
    -------
    str
        The markdown (an image reference for image outputs).
    """
    for mime in IMAGE_MIME_TYPES:
        if mime in data:
            path = assets.write(mime, data[mime], stem)
            return f"![](<{path.as_posix()}>)"
    if "text/markdown" in data:
        return _joined(data["text/markdown"])
    if "text/html" in data:
        return _html_to_markdown(_joined(data["text/html"]))
    if "text/plain" in data:
        text = _joined(data["text/plain"])
        return text if raw else _fence(text)
    return ""


def _float_kind(options: Mapping[str, Any]) -> str | None:
    """Return ``"fig"``/``"tbl"`` if a cell produces a figure/table float.

    Parameters
    ----------
    options : mapping
        Cell options.

    Returns
    -------
    str or None
        Kind of float, ``None`` for ordinary cells.
    """
    label = str(options.get("label", ""))
    for kind in ("fig", "tbl"):
        if label.startswith(f"{kind}-") or f"{kind}-cap" in options:
            return kind
    return None


def code_cell_to_markdown(cell: Any, options: Mapping[str, Any], assets: _AssetWriter) -> str:
    """Render an executed code cell as pandoc markdown.

    Parameters
    ----------
    cell : nbformat.NotebookNode
        The executed (or, with ``eval: false``, raw) cell.
    options : mapping
        Effective cell options.
    assets : _AssetWriter
        Writer for image outputs.

    Returns
    -------
    str
        Markdown for the cell (possibly empty).

    Notes
    -----
    Cells labelled ``fig-*`` become a fenced div with the label as id and
    the caption as a ``.qmd-caption`` div; ``tbl-*`` likewise, and their
    printed output is treated as markdown (so that
    ``print(df.to_markdown())`` yields a table). :func:`number_floats` turns
    these divs into numbered pandoc figures and tables.
    """
    if not options.get("include", True):
        return ""
    parts: list[str] = []
    if options.get("echo", False):
        parts.append(_fence(cell.source, "python"))
    output_option = options.get("output", True)
    if output_option is False or cell.cell_type != "code":
        return "\n\n".join(parts)
    kind = _float_kind(options)
    label = str(options.get("label", ""))
    asis = output_option == "asis"
    body: list[str] = []
    for output in _merge_streams(cell.get("outputs", [])):
        output_type = output.get("output_type")
        if output_type == "stream":
            if output["name"] == "stderr" and not options.get("warning", True):
                continue
            text = _joined(output["text"])
            as_markdown = asis or (kind == "tbl" and output["name"] == "stdout")
            body.append(text if as_markdown else _fence(text))
        elif output_type == "error":
            body.append(_fence(strip_ansi("\n".join(output.get("traceback", [])))))
        elif output_type in ("display_data", "execute_result"):
            body.append(_data_to_markdown(output.get("data", {}), asis, assets, label or "cell"))
    body = [part for part in body if part.strip()]
    if kind is None:
        parts.extend(body)
        return "\n\n".join(parts)
    caption = _one_line(options.get(f"{kind}-cap", ""))
    attributes = f"#{label} " if label.startswith(f"{kind}-") else ""
    inner = "\n\n".join(body)
    caption_div = f"::: {{.qmd-caption}}\n{caption}\n:::\n\n" if caption else ""
    parts.append(f":::::: {{{attributes}.qmd-{kind}}}\n{inner}\n\n{caption_div}::::::")
    return "\n\n".join(parts)


def _expand_shortcodes(markdown: str) -> str:
    """Expand the Quarto shortcodes this renderer understands.

    Parameters
    ----------
    markdown : str
        Markdown text.

    Returns
    -------
    str
        Text where ``{{< pagebreak >}}`` became raw page breaks; other
        shortcodes are left alone (with a warning).
    """

    def replace(match: re.Match[str]) -> str:
        if match["name"] == "pagebreak":
            return _PAGEBREAK_MD
        LOGGER.warning("unsupported Quarto shortcode left as is: %s", match[0])
        return match[0]

    return _SHORTCODE_RE.sub(replace, markdown)


def _substitute_inline(markdown: str, values: Sequence[str]) -> str:
    """Replace inline ``{python}`` expressions by their computed values.

    Parameters
    ----------
    markdown : str
        Markdown of one cell.
    values : sequence of str
        Values of its inline expressions, in order.

    Returns
    -------
    str
        The markdown with the values in place of the expressions.
    """
    remaining = iter(values)
    return _INLINE_EXPR_RE.sub(lambda match: next(remaining, match[0]), markdown)


def notebook_to_markdown(notebook: Any, assets: _AssetWriter) -> str:
    """Assemble the markdown body of the report from an executed notebook.

    Parameters
    ----------
    notebook : nbformat.NotebookNode
        Executed notebook built by :func:`build_notebook`.
    assets : _AssetWriter
        Writer for image outputs.

    Returns
    -------
    str
        Pandoc markdown (without front matter).
    """
    parts: list[str] = []
    inline_values: list[str] = []
    for cell in notebook.cells:
        meta = cell.metadata.get(META_KEY, {})
        role = meta.get("role")
        if role == "inline":
            inline_values = [
                str(value)
                for output in cell.get("outputs", [])
                for value in output.get("data", {}).get(INLINE_MIME_TYPE, [])
            ]
        elif role == "user" and cell.cell_type == "markdown":
            text = _substitute_inline(cell.source, inline_values)
            parts.append(_expand_shortcodes(text))
            inline_values = []
        elif role == "user":
            markdown = code_cell_to_markdown(cell, meta.get("options", {}), assets)
            if markdown.strip():
                parts.append(markdown)
    return "\n\n".join(parts) + "\n"


# --------------------------------------------------------------------------
# Metadata
# --------------------------------------------------------------------------


def _author_names(author: Any) -> list[str]:
    """Normalise Quarto's many author forms into a list of names.

    Parameters
    ----------
    author : str, dict or list
        The ``author`` entry of the front matter.

    Returns
    -------
    list of str
        Author names.
    """
    authors = author if isinstance(author, list) else [author]
    names = []
    for item in authors:
        if isinstance(item, dict):
            name = item.get("name", "")
            if isinstance(name, dict):
                name = (
                    name.get("literal")
                    or " ".join(str(name.get(key, "")) for key in ("given", "family")).strip()
                )
            names.append(str(name))
        elif item is not None:
            names.append(str(item))
    return [name for name in names if name]


def _resolve_date(value: Any, qmd_path: Path) -> Any:
    """Resolve Quarto's special date values.

    Parameters
    ----------
    value : Any
        The ``date`` entry of the front matter.
    qmd_path : Path
        The ``.qmd`` file (for ``last-modified``).

    Returns
    -------
    Any
        ISO date for ``today``, ``now`` and ``last-modified``, else ``value``.
    """
    if value == "today":
        return _dt.date.today().isoformat()
    if value == "now":
        return _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    if value == "last-modified":
        return _dt.date.fromtimestamp(qmd_path.stat().st_mtime).isoformat()
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    return value


def pandoc_metadata(front_matter: Mapping[str, Any], qmd_path: Path) -> dict[str, Any]:
    """Select and normalise the front matter entries handed to pandoc.

    Entries are taken from the top level or, failing that, from the
    ``format: html``/``typst``/``pdf`` sections (e.g. ``papersize``).

    Parameters
    ----------
    front_matter : mapping
        The ``.qmd`` front matter.
    qmd_path : Path
        The ``.qmd`` file.

    Returns
    -------
    dict
        Metadata for pandoc's YAML metadata block.
    """
    metadata = {key: _format_option(front_matter, key) for key in PASSTHROUGH_METADATA}
    metadata = {key: value for key, value in metadata.items() if value is not None}
    if "author" in metadata:
        metadata["author"] = _author_names(metadata["author"])
    if "date" in metadata:
        metadata["date"] = _resolve_date(metadata["date"], qmd_path)
    return metadata


def _format_option(front_matter: Mapping[str, Any], key: str, default: Any = None) -> Any:
    """Read an option given at top level or under ``format: html``.

    Parameters
    ----------
    front_matter : mapping
        The ``.qmd`` front matter.
    key : str
        Option name (``toc``, ``number-sections`` ...).
    default : Any
        Value when absent.

    Returns
    -------
    Any
        The option value.
    """
    if key in front_matter:
        return front_matter[key]
    formats = front_matter.get("format")
    if isinstance(formats, dict):
        for name in ("html", "typst", "pdf"):
            if isinstance(formats.get(name), dict) and key in formats[name]:
                return formats[name][key]
    return default


# --------------------------------------------------------------------------
# Pandoc AST: numbering and cross-references
# --------------------------------------------------------------------------


def _text_inlines(text: str) -> list[dict[str, Any]]:
    """Turn plain text into pandoc ``Str``/``Space`` inlines.

    Parameters
    ----------
    text : str
        Plain text.

    Returns
    -------
    list of dict
        Pandoc inline elements.
    """
    inlines: list[dict[str, Any]] = []
    for index, word in enumerate(text.split(" ")):
        if index:
            inlines.append({"t": "Space"})
        if word:
            inlines.append({"t": "Str", "c": word})
    return inlines


def _stringify(node: Any) -> str:
    """Concatenate the text of a pandoc AST fragment.

    Parameters
    ----------
    node : Any
        Element, list of elements or JSON value.

    Returns
    -------
    str
        The plain text.
    """
    if isinstance(node, list):
        return "".join(_stringify(item) for item in node)
    if isinstance(node, dict):
        kind = node.get("t")
        if kind == "Str":
            return node["c"]
        if kind in ("Space", "SoftBreak", "LineBreak"):
            return " "
        if kind in ("Code", "Math"):
            return node["c"][1]
        return _stringify(node.get("c", []))
    return ""


def walk(node: Any, visit: Callable[[dict[str, Any]], Any]) -> Any:
    """Transform a pandoc JSON AST, visiting elements in document order.

    Parameters
    ----------
    node : Any
        AST fragment (document, list, element or scalar).
    visit : callable
        Called with every element (dict with a ``"t"`` key) found in a list,
        before its children. It returns ``None`` to keep the element, an
        element to replace it, or a list of elements to splice in its
        place. Children of the kept or replacement elements are visited.

    Returns
    -------
    Any
        The transformed fragment.
    """
    if isinstance(node, list):
        result: list[Any] = []
        for item in node:
            if isinstance(item, dict) and "t" in item:
                replacement = visit(item)
                if replacement is None:
                    replacement = [item]
                elif not isinstance(replacement, list):
                    replacement = [replacement]
                result.extend(_walk_children(element, visit) for element in replacement)
            else:
                result.append(walk(item, visit))
        return result
    if isinstance(node, dict):
        return _walk_children(node, visit)
    return node


def _walk_children(
    element: dict[str, Any], visit: Callable[[dict[str, Any]], Any]
) -> dict[str, Any]:
    """Apply :func:`walk` to the values of a dict.

    Parameters
    ----------
    element : dict
        AST element or other JSON object.
    visit : callable
        See :func:`walk`.

    Returns
    -------
    dict
        A new dict with transformed values.
    """
    return {key: walk(value, visit) for key, value in element.items()}


def _prefix_caption(caption: list[Any], label: str) -> list[Any]:
    """Prefix a pandoc caption with ``"Figure N: "`` (or ``"Figure N"``).

    Parameters
    ----------
    caption : list
        Pandoc caption ``[short, blocks]``.
    label : str
        E.g. ``"Figure 1"``.

    Returns
    -------
    list
        The new caption.
    """
    short, blocks = caption
    blocks = list(blocks)
    if blocks and blocks[0]["t"] in ("Plain", "Para") and blocks[0]["c"]:
        blocks[0] = {"t": blocks[0]["t"], "c": _text_inlines(f"{label}: ") + blocks[0]["c"]}
    else:
        blocks.insert(0, {"t": "Plain", "c": _text_inlines(label)})
    return [short, blocks]


def _split_caption(blocks: list[Any], explicit_only: bool) -> tuple[list[Any], list[Any]]:
    """Separate the caption from the content of a float div.

    Parameters
    ----------
    blocks : list
        Blocks of the div.
    explicit_only : bool
        Only accept a ``.qmd-caption`` div as caption (divs generated from
        cells); otherwise the last paragraph is the caption, as in Quarto's
        div syntax.

    Returns
    -------
    content : list
        Blocks without the caption.
    caption_inlines : list
        Caption inlines (possibly empty).
    """
    for index, block in enumerate(blocks):
        if block["t"] == "Div" and "qmd-caption" in block["c"][0][1]:
            inlines = [
                inline
                for sub in block["c"][1]
                if sub["t"] in ("Para", "Plain")
                for inline in sub["c"]
            ]
            return blocks[:index] + blocks[index + 1 :], inlines
    if not explicit_only and len(blocks) > 1 and blocks[-1]["t"] == "Para":
        return blocks[:-1], blocks[-1]["c"]
    return blocks, []


def _div_to_figure(div: dict[str, Any], identifier: str, explicit_only: bool) -> dict[str, Any]:
    """Convert a figure div into a pandoc ``Figure`` block.

    Parameters
    ----------
    div : dict
        ``Div`` element.
    identifier : str
        Identifier of the figure (may be empty).
    explicit_only : bool
        See :func:`_split_caption`.

    Returns
    -------
    dict
        A ``Figure`` element.
    """
    (_, classes, attributes), blocks = div["c"]
    content, caption = _split_caption(blocks, explicit_only)
    converted = []
    for block in content:
        if block["t"] == "Para" and all(
            inline["t"] in ("Image", "Space", "SoftBreak") for inline in block["c"]
        ):
            if caption:
                for inline in block["c"]:
                    if inline["t"] == "Image" and not inline["c"][1]:
                        inline["c"][1] = list(caption)
            block = {"t": "Plain", "c": block["c"]}
        converted.append(block)
    caption_blocks = [{"t": "Plain", "c": list(caption)}] if caption else []
    classes = [name for name in classes if name != "qmd-fig"]
    return {
        "t": "Figure",
        "c": [[identifier, classes, attributes], [None, caption_blocks], converted],
    }


def _div_to_table(
    div: dict[str, Any], identifier: str, explicit_only: bool
) -> list[dict[str, Any]]:
    """Move the caption and identifier of a table div onto its table.

    Parameters
    ----------
    div : dict
        ``Div`` element.
    identifier : str
        Identifier of the table (may be empty).
    explicit_only : bool
        See :func:`_split_caption`.

    Returns
    -------
    list of dict
        The div's blocks with the captioned table; when the div contains
        no table, the div itself (with the caption as a paragraph above its
        content) is kept so that references still have a target.
    """
    (_, classes, attributes), blocks = div["c"]
    content, caption = _split_caption(blocks, explicit_only)
    tables = [index for index, block in enumerate(content) if block["t"] == "Table"]
    if not tables:
        LOGGER.warning(
            "table %r: the cell output contains no markdown table", identifier or "(unlabelled)"
        )
        paragraph = [{"t": "Para", "c": list(caption)}] if caption else []
        return [{"t": "Div", "c": [[identifier, classes, attributes], paragraph + content]}]
    if len(tables) > 1:
        LOGGER.warning("table %r: several tables, the caption goes to the first one", identifier)
    table = content[tables[0]]
    table_attr, table_caption = table["c"][0], table["c"][1]
    if caption or not table_caption[1]:
        table_caption = [None, [{"t": "Plain", "c": list(caption)}] if caption else []]
    table = {
        "t": "Table",
        "c": [
            [identifier or table_attr[0], table_attr[1], table_attr[2]],
            table_caption,
            *table["c"][2:],
        ],
    }
    content[tables[0]] = table
    return content


def number_floats(
    doc: dict[str, Any], number_sections: bool
) -> tuple[dict[str, Any], dict[str, str]]:
    """Assign numbers to figures, tables and sections and prefix their captions.

    Recognised floats, numbered in order of appearance:

    * ``Figure`` blocks with an id ``fig-*`` (``![cap](x.png){#fig-x}``),
    * divs with an id ``fig-*`` (Quarto's div syntax, last paragraph is
      the caption) and divs generated from ``fig-*`` cells,
    * ``Table`` blocks with an id ``tbl-*`` (``: cap {#tbl-x}``) and divs
      with an id ``tbl-*``,
    * headers with an id ``sec-*``.

    Parameters
    ----------
    doc : dict
        Pandoc JSON document.
    number_sections : bool
        Whether sections are numbered (else references to a section show its
        title).

    Returns
    -------
    doc : dict
        Transformed document.
    labels : dict
        Identifier to reference text, e.g. ``{"fig-demo": "Figure 1"}``.

    Raises
    ------
    CrossRefError
        If an identifier is used by two floats.
    """
    labels: dict[str, str] = {}
    counters = {"fig": 0, "tbl": 0}
    section_counters = [0] * 6

    def register(identifier: str, kind: str) -> str:
        if identifier in labels:
            raise CrossRefError(f"duplicate cross-reference label {identifier!r}")
        counters[kind] += 1
        labels[identifier] = f"{CROSSREF_NAMES[kind]} {counters[kind]}"
        return labels[identifier]

    def visit(element: dict[str, Any]) -> Any:
        kind = element["t"]
        if kind == "Header":
            level, (identifier, classes, _), inlines = element["c"]
            if number_sections and "unnumbered" not in classes:
                section_counters[level - 1] += 1
                section_counters[level:] = [0] * (6 - level)
            if identifier.startswith("sec-"):
                if identifier in labels:
                    raise CrossRefError(f"duplicate cross-reference label {identifier!r}")
                number = ".".join(str(count) for count in section_counters[:level])
                numbered = number_sections and "unnumbered" not in classes
                labels[identifier] = f"Section {number}" if numbered else _stringify(inlines)
            return None
        if kind == "Div":
            identifier, classes, _ = element["c"][0]
            explicit = "qmd-fig" in classes or "qmd-tbl" in classes
            if identifier.startswith("fig-") or "qmd-fig" in classes:
                figure = _div_to_figure(element, identifier, explicit)
                if identifier.startswith("fig-"):
                    figure["c"][1] = _prefix_caption(figure["c"][1], register(identifier, "fig"))
                return figure
            if identifier.startswith("tbl-") or "qmd-tbl" in classes:
                blocks = _div_to_table(element, identifier, explicit)
                if identifier.startswith("tbl-"):
                    label = register(identifier, "tbl")
                    for block in blocks:
                        if block["t"] == "Table":
                            block["c"][1] = _prefix_caption(block["c"][1], label)
                            break
                        if block["t"] == "Div":
                            block["c"][1].insert(0, {"t": "Para", "c": _text_inlines(label + ":")})
                return blocks
            return None
        if kind == "Figure" and element["c"][0][0].startswith("fig-"):
            element["c"][1] = _prefix_caption(element["c"][1], register(element["c"][0][0], "fig"))
        elif kind == "Table" and element["c"][0][0].startswith("tbl-"):
            element["c"][1] = _prefix_caption(element["c"][1], register(element["c"][0][0], "tbl"))
        return None

    return walk(doc, visit), labels


def _crossref_key(citation_id: str) -> str | None:
    """Return the normalised label of a cross-reference citation.

    Parameters
    ----------
    citation_id : str
        Citation identifier, e.g. ``fig-demo`` or ``Fig-demo``.

    Returns
    -------
    str or None
        Lower-cased prefix + rest (``fig-demo``), or ``None`` if the id does
        not use a Quarto cross-reference prefix.
    """
    prefix, sep, rest = citation_id.partition("-")
    if sep and rest and prefix.lower() in CROSSREF_PREFIXES:
        return f"{prefix.lower()}-{rest}"
    return None


def resolve_crossrefs(doc: dict[str, Any], labels: Mapping[str, str]) -> dict[str, Any]:
    """Replace ``@fig-x``-style citations by linked "Figure N" text.

    Parameters
    ----------
    doc : dict
        Pandoc JSON document (after :func:`number_floats`).
    labels : mapping
        Identifier to reference text.

    Returns
    -------
    dict
        Transformed document.

    Raises
    ------
    CrossRefError
        Listing every reference without a target.
    """
    missing: list[str] = []

    def visit(element: dict[str, Any]) -> Any:
        if element["t"] != "Cite":
            return None
        citations = element["c"][0]
        if not any(_crossref_key(citation["citationId"]) for citation in citations):
            return None
        inlines: list[Any] = []
        for index, citation in enumerate(citations):
            if index:
                inlines += [{"t": "Str", "c": ","}, {"t": "Space"}]
            if citation["citationPrefix"]:
                inlines += citation["citationPrefix"] + [{"t": "Space"}]
            key = _crossref_key(citation["citationId"])
            if key is None:
                inlines.append(
                    {"t": "Cite", "c": [[citation], _text_inlines("@" + citation["citationId"])]}
                )
            elif key not in labels:
                missing.append("@" + citation["citationId"])
            else:
                text = labels[key]
                if citation["citationMode"]["t"] == "SuppressAuthor" and re.fullmatch(
                    r"\w+ [\d.]+", text
                ):
                    text = text.rsplit(" ", 1)[-1]
                link_attr = ["", ["quarto-xref"], []]
                inlines.append(
                    {"t": "Link", "c": [link_attr, _text_inlines(text), ["#" + key, ""]]}
                )
            inlines += citation["citationSuffix"]
        return inlines

    doc = walk(doc, visit)
    if missing:
        known = ", ".join(sorted(labels)) or "none"
        raise CrossRefError(
            f"unresolved cross-reference(s): {', '.join(missing)} (known labels: {known})"
        )
    return doc


def absolutize_images(doc: dict[str, Any], base: Path) -> dict[str, Any]:
    """Make local image paths absolute so that pandoc and typst find them.

    Pandoc percent-encodes spaces in link targets; local paths are decoded.

    Parameters
    ----------
    doc : dict
        Pandoc JSON document.
    base : Path
        Directory relative paths are resolved against (the ``.qmd``'s).

    Returns
    -------
    dict
        Transformed document.
    """

    def visit(element: dict[str, Any]) -> Any:
        if element["t"] == "Image":
            target = element["c"][2][0]
            if target and not re.match(r"^[a-zA-Z][\w+.-]*:", target):
                element["c"][2][0] = (base / urllib.parse.unquote(target)).resolve().as_posix()
        return None

    return walk(doc, visit)


# --------------------------------------------------------------------------
# Pandoc and Typst
# --------------------------------------------------------------------------


def _run_pandoc(args: Sequence[str], stdin: str | None = None) -> str:
    """Run pandoc and return its standard output.

    Parameters
    ----------
    args : sequence of str
        Command line arguments.
    stdin : str, optional
        Text fed to pandoc.

    Returns
    -------
    str
        Standard output.

    Raises
    ------
    ToolError
        If pandoc exits with an error.
    """
    command = [_pandoc_path(), *args]
    process = subprocess.run(
        command, input=stdin, capture_output=True, text=True, encoding="utf-8", check=False
    )
    if process.returncode != 0:
        raise ToolError(f"pandoc failed ({process.returncode}): {' '.join(args)}\n{process.stderr}")
    if process.stderr.strip():
        LOGGER.warning("pandoc: %s", process.stderr.strip())
    return process.stdout


def markdown_to_ast(markdown: str, metadata: Mapping[str, Any]) -> dict[str, Any]:
    """Parse pandoc markdown (with a metadata block) into a JSON AST.

    Parameters
    ----------
    markdown : str
        Markdown body.
    metadata : mapping
        Document metadata.

    Returns
    -------
    dict
        Pandoc JSON document.
    """
    header = (
        f"---\n{yaml.safe_dump(dict(metadata), allow_unicode=True, sort_keys=False)}---\n\n"
        if metadata
        else ""
    )
    return json.loads(_run_pandoc(["-f", "markdown", "-t", "json"], header + markdown))


def write_html(
    doc: dict[str, Any], output: Path, scratch: Path, options: Mapping[str, Any]
) -> None:
    """Write a standalone, self-contained HTML file.

    Parameters
    ----------
    doc : dict
        Pandoc JSON document.
    output : Path
        File to write.
    scratch : Path
        Directory for the stylesheet.
    options : mapping
        ``toc``, ``toc-depth``, ``number-sections``, ``pagetitle`` and
        ``resource-path`` entries.
    """
    css = scratch / "qmd-fallback.css"
    css.write_text(HTML_CSS, encoding="utf-8")
    args = [
        "-f",
        "json",
        "-t",
        "html5",
        "--standalone",
        "--embed-resources",
        f"--css={css}",
        "-o",
        str(output),
    ]
    args += [
        f"--resource-path={options['resource-path']}",
        f"--metadata=pagetitle:{options['pagetitle']}",
    ]
    args += _common_pandoc_args(options)
    _run_pandoc(args, json.dumps(doc))


def write_pdf(doc: dict[str, Any], output: Path, scratch: Path, options: Mapping[str, Any]) -> None:
    """Write a PDF through pandoc's Typst writer and the typst compiler.

    Parameters
    ----------
    doc : dict
        Pandoc JSON document (with absolute image paths).
    output : Path
        File to write.
    scratch : Path
        Directory for the intermediate ``.typ`` file.
    options : mapping
        ``toc``, ``toc-depth`` and ``number-sections`` entries.

    Raises
    ------
    ToolError
        If typst is not installed or compilation fails.
    """
    try:
        import typst
    except ImportError as exc:
        raise ToolError("the typst package is required: pip install typst") from exc
    preamble = scratch / "preamble.typ"
    preamble.write_text(TYPST_PREAMBLE, encoding="utf-8")
    source = scratch / "report.typ"
    args = [
        "-f",
        "json",
        "-t",
        "typst",
        "--standalone",
        f"--include-in-header={preamble}",
        "-o",
        str(source),
    ]
    args += ["--variable=page-numbering:1", *_common_pandoc_args(options)]
    _run_pandoc(args, json.dumps(doc))
    try:
        typst.compile(str(source), output=str(output), root="/")
    except Exception as exc:  # typst raises TypstError, a RuntimeError subclass
        raise ToolError(f"typst failed to compile {source.name}: {exc}") from exc


def _common_pandoc_args(options: Mapping[str, Any]) -> list[str]:
    """Pandoc arguments shared by the HTML and Typst writers.

    Parameters
    ----------
    options : mapping
        ``toc``, ``toc-depth`` and ``number-sections`` entries.

    Returns
    -------
    list of str
        Arguments.
    """
    args = []
    if options.get("toc"):
        args += ["--toc", f"--toc-depth={int(options.get('toc-depth', 3))}"]
    if options.get("number-sections"):
        args.append("--number-sections")
    return args


# --------------------------------------------------------------------------
# Orchestration
# --------------------------------------------------------------------------


def _temporary_sibling(target: Path) -> Path:
    """Return an unused temporary path in the directory of ``target``.

    Parameters
    ----------
    target : Path
        Final output path.

    Returns
    -------
    Path
        Hidden path such as ``.report.html.<hex>.part``.
    """
    return target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}.part")


def _output_options(front_matter: Mapping[str, Any], qmd: Path) -> dict[str, Any]:
    """Collect the front matter options used by the HTML and PDF writers.

    Parameters
    ----------
    front_matter : mapping
        The ``.qmd`` front matter.
    qmd : Path
        The ``.qmd`` file.

    Returns
    -------
    dict
        ``toc``, ``toc-depth``, ``number-sections``, ``pagetitle`` and
        ``resource-path``.
    """
    return {
        "toc": bool(_format_option(front_matter, "toc", False)),
        "toc-depth": _format_option(front_matter, "toc-depth", 3),
        "number-sections": bool(_format_option(front_matter, "number-sections", False)),
        "pagetitle": str(front_matter.get("pagetitle") or front_matter.get("title") or qmd.stem),
        "resource-path": str(qmd.parent),
    }


def write_outputs(
    doc: dict[str, Any], targets: Mapping[str, Path], scratch: Path, options: Mapping[str, Any]
) -> None:
    """Write all outputs atomically: all of them or none.

    Every output is first written to a hidden temporary file next to its
    target; the files are renamed into place only once all were written,
    and the temporary files are removed on failure.

    Parameters
    ----------
    doc : dict
        Final pandoc JSON document.
    targets : mapping
        ``"html"`` and/or ``"pdf"`` to output path.
    scratch : Path
        Scratch directory for intermediate files.
    options : mapping
        Writer options (see :func:`_output_options`).
    """
    temporaries: dict[str, Path] = {}
    try:
        for fmt, target in targets.items():
            target.parent.mkdir(parents=True, exist_ok=True)
            temporaries[fmt] = _temporary_sibling(target)
            writer = write_html if fmt == "html" else write_pdf
            writer(doc, temporaries[fmt], scratch, options)
        for fmt, target in targets.items():
            os.replace(temporaries[fmt], target)
            LOGGER.info("wrote %s", target)
    finally:
        for path in temporaries.values():
            path.unlink(missing_ok=True)


def render(
    qmd_path: str | os.PathLike[str],
    html_out: str | os.PathLike[str] | None,
    pdf_out: str | os.PathLike[str] | None,
    params: Mapping[str, Any] | None = None,
    workdir: str | os.PathLike[str] | None = None,
    *,
    echo: bool = False,
    timeout: int | None = 1800,
) -> dict[str, Any]:
    """Render a ``.qmd`` report to HTML and/or PDF without Quarto.

    Parameters
    ----------
    qmd_path : path-like
        The Quarto document.
    html_out : path-like or None
        Self-contained HTML output (``None``: not written).
    pdf_out : path-like or None
        PDF output (``None``: not written).
    params : mapping, optional
        Values overriding the defaults of the cell tagged ``parameters``.
    workdir : path-like, optional
        Working directory of the kernel (default: the ``.qmd``'s directory).
    echo : bool
        Default of the ``echo`` cell option (``execute: echo`` in the front
        matter and the cells' own options take precedence).
    timeout : int or None
        Per-cell timeout in seconds.

    Returns
    -------
    dict
        ``renderer`` (description with tool versions, also available to the
        report as ``RENDERER``), ``html`` and ``pdf`` (written paths or
        ``None``), ``figures`` and ``tables`` (numbers of numbered floats).

    Raises
    ------
    QmdParseError
        If the document cannot be parsed.
    CellExecutionFailed
        If a cell fails; the message has the cell source and traceback.
    CrossRefError
        For unknown or duplicated cross-reference labels.
    ToolError
        If pandoc, typst or the kernel machinery is missing or fails.

    Notes
    -----
    Nothing is written to ``html_out``/``pdf_out`` unless the whole render
    succeeds: outputs go to hidden temporary files in the same directories
    and are renamed at the end.
    """
    qmd = Path(qmd_path).resolve()
    if not qmd.is_file():
        raise FileNotFoundError(f"no such .qmd file: {qmd}")
    targets = {
        fmt: Path(path).resolve()
        for fmt, path in (("html", html_out), ("pdf", pdf_out))
        if path is not None
    }
    if not targets:
        raise ValueError("at least one of html_out and pdf_out is required")
    cwd = Path(workdir).resolve() if workdir is not None else qmd.parent
    document = parse_qmd(qmd.read_text(encoding="utf-8"))
    front = _deep_merge(project_metadata(qmd), document.front_matter)
    document = dataclasses.replace(document, front_matter=front)
    renderer = renderer_description()
    execute_defaults = front.get("execute") if isinstance(front.get("execute"), dict) else {}
    cell_defaults = {"echo": echo, **execute_defaults}
    LOGGER.info("rendering %s with %s", qmd, renderer)

    with tempfile.TemporaryDirectory(prefix="qmd-fallback-") as scratch_name:
        scratch = Path(scratch_name)
        notebook = build_notebook(document, dict(params or {}), renderer, cell_defaults)
        execute_notebook(notebook, cwd, scratch, timeout, qmd.name)
        markdown = notebook_to_markdown(notebook, _AssetWriter(scratch / "figures"))
        LOGGER.debug("intermediate markdown:\n%s", markdown)
        options = _output_options(front, qmd)
        doc = markdown_to_ast(markdown, pandoc_metadata(front, qmd))
        doc, labels = number_floats(doc, options["number-sections"])
        doc = resolve_crossrefs(doc, labels)
        doc = absolutize_images(doc, qmd.parent)
        write_outputs(doc, targets, scratch, options)
    return {
        "renderer": renderer,
        "html": str(targets["html"]) if "html" in targets else None,
        "pdf": str(targets["pdf"]) if "pdf" in targets else None,
        "figures": sum(label.startswith("fig-") for label in labels),
        "tables": sum(label.startswith("tbl-") for label in labels),
    }


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------


def parse_param(text: str) -> tuple[str, Any]:
    """Parse a ``key=value`` command line parameter.

    Parameters
    ----------
    text : str
        ``key=value``; the value is parsed as YAML (``3`` is an int,
        ``true`` a bool, ``a b`` a string).

    Returns
    -------
    tuple
        Name and value.

    Raises
    ------
    argparse.ArgumentTypeError
        If there is no ``=`` or the value is not valid YAML.
    """
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected key=value, got {text!r}")
    try:
        return key.strip(), yaml.safe_load(value)
    except yaml.YAMLError as exc:
        raise argparse.ArgumentTypeError(f"invalid YAML value in {text!r}: {exc}") from exc


def build_parser() -> argparse.ArgumentParser:
    """Build the command line parser.

    Returns
    -------
    argparse.ArgumentParser
        The parser.
    """
    parser = argparse.ArgumentParser(
        description="Render a Quarto .qmd report without Quarto (fallback renderer)."
    )
    parser.add_argument("qmd", type=Path, help="the .qmd document")
    parser.add_argument("--html", type=Path, help="self-contained HTML output")
    parser.add_argument("--pdf", type=Path, help="PDF output")
    parser.add_argument(
        "-P",
        "--param",
        dest="params",
        action="append",
        type=parse_param,
        default=[],
        metavar="KEY=VALUE",
        help="parameter value (YAML scalar), repeatable",
    )
    parser.add_argument(
        "--workdir", type=Path, help="kernel working directory (default: the .qmd's directory)"
    )
    parser.add_argument(
        "--echo", action="store_true", help="show code by default (default: hidden)"
    )
    parser.add_argument(
        "--timeout", type=int, default=1800, help="per-cell timeout in seconds (default: 1800)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 on success, 1 on a render error.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.html is None and args.pdf is None:
        parser.error("give --html and/or --pdf")
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        result = render(
            args.qmd,
            args.html,
            args.pdf,
            dict(args.params),
            args.workdir,
            echo=args.echo,
            timeout=args.timeout,
        )
    except (QmdError, FileNotFoundError, ValueError) as exc:
        LOGGER.error("%s", exc)
        return 1
    LOGGER.info("rendered with %s", result["renderer"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
