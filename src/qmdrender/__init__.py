r"""Render a Quarto ``.qmd`` report without the Quarto CLI.

A small renderer assembled from maintained tools: jupytext's R Markdown reader
splits the source into cells, nbclient runs them in a Jupyter kernel, pandoc 3
(from ``pypandoc-binary``) with the Lua filter ``crossref.lua`` numbers figures
and tables and resolves references, and the ``typst`` package compiles the PDF.

Supported subset of Quarto (exactly what ``report/report.qmd`` uses)
--------------------------------------------------------------------
- Front matter: ``title``, ``subtitle``, ``author`` (or the same given to :func:`render` as
  ``metadata``, as Quarto's ``--metadata-file``); ``format: html:`` and ``format: typst:``
  options ``toc``, ``number-sections``, ``papersize`` (typst) and
  ``embed-resources`` (the HTML is always self-contained); ``execute: echo`` and
  ``warning`` (code is never shown, warnings never printed: both are taken as
  ``false``).
- ``{python}`` cells with ``#|`` options ``label``, ``fig-cap``, ``tbl-cap``,
  ``output: asis`` (printed text is markdown), ``include: false`` (run, nothing
  shown) and ``tags: [parameters]`` (the parameters given to :func:`render` are
  assigned in a cell right after it, as Quarto and papermill do).
- Cell output: printed text (a code block unless ``output: asis``), PNG images
  (e.g. ``display(Image(filename=...))``) and markdown displays.
- A cell labelled ``fig-x`` with ``fig-cap`` becomes figure *x* (its first
  image); one labelled ``tbl-x`` with ``tbl-cap`` becomes table *x*: the
  markdown table it prints first, or (if it prints no table) its text.
  ``echo: false`` and ``warning: false`` are accepted per cell too; any other
  option or value is an error.
- Markdown: headings (numbered with ``number-sections``), pipe tables with a
  caption line ``: caption {#tbl-x}``, figures ``![caption](path){#fig-x}``,
  references ``@fig-x`` and ``@tbl-x`` (rendered "Figure 1", "Table 2" and linked;
  an unknown reference is an error).

Anything else (raw HTML, which is read as text; a bracketed heading text as a link to the heading;
inline code, other engines, ``@sec-`` references, callouts, shortcodes) is not supported. Before executing, the
kernel gets ``RENDERER``: a string naming this renderer and its tools.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from importlib import metadata, resources
from pathlib import Path

import yaml

__all__ = ["CELL_OPTIONS", "QmdError", "render", "renderer_name", "read_qmd", "to_markdown"]

#: Seconds a single cell may run before the render is abandoned (the report's
#: cells read precomputed results; none should come close).
CELL_TIMEOUT = 600
#: cell options of the supported subset, with the values allowed (None: any)
CELL_OPTIONS = {"label": None, "fig-cap": None, "tbl-cap": None, "output": {"asis"}, "include": {False},
                "tags": None, "echo": {False}, "warning": {False}}
_OPTION = re.compile(r"^#\|\s?(.*)$")
_FRONT = re.compile(r"\A---\n(.*?)\n---\s*\n", re.S)


class QmdError(RuntimeError):
    """The source uses something outside the supported subset, a cell failed,
    or pandoc/typst reported an error."""


def _data(name: str) -> Path:
    return Path(str(resources.files(__name__).joinpath(name)))


def _pandoc() -> str:
    import pypandoc

    return pypandoc.get_pandoc_path()


def renderer_name() -> str:
    """The renderer and tool versions, as the report states them."""
    pandoc = subprocess.run([_pandoc(), "--version"], capture_output=True, text=True, check=True).stdout.split()[1]
    tools = ", ".join(f"{p} {metadata.version(p)}" for p in ("jupytext", "nbclient", "typst"))
    return f"the project's fallback renderer qmdrender ({tools}, pandoc {pandoc})"


def read_qmd(text: str):
    """Split a ``.qmd`` source into front matter and a notebook.

    Returns
    -------
    front : dict
        The parsed YAML front matter (empty if none).
    nb : nbformat.NotebookNode
        Cells as read by jupytext's R Markdown reader; each code cell's ``#|``
        options are parsed into ``cell.metadata["qmd"]`` and removed from its source.
    """
    import jupytext

    m = _FRONT.match(text)
    front = yaml.safe_load(m.group(1)) or {} if m else {}
    nb = jupytext.reads(text[m.end():] if m else text, fmt="Rmd")
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        lines = cell.source.split("\n")
        n = next((j for j, line in enumerate(lines) if not _OPTION.match(line)), len(lines))
        try:
            opts = yaml.safe_load("\n".join(_OPTION.match(line).group(1) for line in lines[:n])) or {}
        except yaml.YAMLError as err:
            raise QmdError(f"cell {i + 1}: unreadable #| options: {err}") from err
        for key, value in opts.items():
            allowed = CELL_OPTIONS.get(key, ())
            if allowed is not None and value not in allowed:
                raise QmdError(f"cell {i + 1} ({opts.get('label', 'unlabelled')}): option '{key}: {value}' is not "
                               f"in the subset the fallback renderer supports ({', '.join(CELL_OPTIONS)})")
        cell.metadata["qmd"] = opts
        cell.source = "\n".join(lines[n:])
    return front, nb


@contextmanager
def _kernel(cwd: Path):
    """A kernel of this very interpreter (so the report sees the same packages), started
    in ``cwd``, and shut down on leaving. It is started before the source is read, so that
    its start-up (about a second) runs while the main process reads and parses."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    with tempfile.TemporaryDirectory() as kernels:
        spec = Path(kernels) / "qmdrender"
        spec.mkdir()
        argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "qmdrender", "language": "python"}))
        km = KernelManager(kernel_name="qmdrender", kernel_spec_manager=KernelSpecManager(kernel_dirs=[kernels]))
        km.start_kernel(cwd=str(cwd))
        try:
            yield km
        finally:
            km.shutdown_kernel(now=True)


def _execute(nb, km, params: dict, renderer: str, on_cell=None) -> None:
    """Run the cells in place on the started kernel ``km``: ``RENDERER`` first, ``params``
    after the parameters cell. ``on_cell(i)``, if given, is called as soon as code cell
    ``nb.cells[i]`` has run without error (its outputs complete)."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    # no "%matplotlib inline": ipykernel makes the inline backend the default already, and the
    # magic imports matplotlib (0.7 s) into a kernel whose cells may not plot at all
    setup = nbformat.v4.new_code_cell(f"RENDERER = {renderer!r}")
    setup.metadata["qmd"] = {"include": False}
    cells = [setup]
    for cell in nb.cells:
        cells.append(cell)
        if cell.cell_type == "code" and "parameters" in (cell.metadata["qmd"].get("tags") or []):
            injected = nbformat.v4.new_code_cell("\n".join(f"{k} = {v!r}" for k, v in params.items()))
            injected.metadata["qmd"] = {"include": False}
            cells.append(injected)
    nb.cells = cells

    def executed(cell, cell_index, execute_reply):
        if on_cell is not None and execute_reply["content"].get("status") == "ok":
            on_cell(cell_index)

    client = NotebookClient(nb, km=km, timeout=CELL_TIMEOUT, on_cell_executed=executed)
    try:
        client.execute()
    except CellExecutionError as err:
        raise QmdError(f"a cell of the report failed:\n{err}") from err
    finally:
        if client.kc is not None:
            client.kc.stop_channels()


def _image(outputs, assets: Path, stem: str) -> str | None:
    for out in outputs:
        png = out.get("data", {}).get("image/png")
        if png:
            path = assets / f"{stem}.png"
            path.write_bytes(base64.b64decode(png))
            return path.as_posix()
    return None


def _cell_markdown(cell, n: int, assets: Path) -> str:
    """The markdown a code cell contributes, from its options and outputs."""
    opts = cell.metadata["qmd"]
    if opts.get("include") is False or "parameters" in (opts.get("tags") or []):
        return ""
    label, asis = opts.get("label", ""), opts.get("output") == "asis"
    import nbformat

    parts = []
    # The kernel sends printed text in as many stream messages as its output buffer was flushed,
    # which depends on timing: consecutive stdout chunks are one text, however they were split.
    outputs = []
    for out in cell.outputs:
        if out.output_type == "stream" and out.name == "stdout" and outputs \
                and outputs[-1].output_type == "stream" and outputs[-1].name == "stdout":
            outputs[-1] = nbformat.from_dict({**outputs[-1], "text": outputs[-1]["text"] + out.text})
        else:
            outputs.append(out)
    for i, out in enumerate(outputs):
        if out.output_type == "stream" and out.name == "stdout":
            parts.append(out.text if asis else f"```\n{out.text.rstrip()}\n```")
        elif out.output_type in ("display_data", "execute_result"):
            data = out.get("data", {})
            if "image/png" in data:
                parts.append(f"![]({_image([out], assets, f'cell{n}-{i}')})")
            elif "text/markdown" in data:
                parts.append(data["text/markdown"])
            elif "text/plain" in data and out.output_type == "execute_result":
                parts.append(f"```\n{data['text/plain']}\n```")
    body = "\n\n".join(p.strip("\n") for p in parts)
    if label.startswith("fig-") and "fig-cap" in opts:
        path = _image(cell.outputs, assets, f"cell{n}")
        if path is None:
            raise QmdError(f"cell {label!r} has a fig-cap but shows no PNG image")
        return f"![{opts['fig-cap']}]({path}){{#{label}}}"
    if label.startswith("tbl-") and "tbl-cap" in opts:
        if not body.lstrip().startswith("|"):
            # no table printed (e.g. "(none)"): still table x, as in Quarto, with its caption last
            return f"::: {{#{label}}}\n{body}\n\n{opts['tbl-cap']}\n:::"
        # the caption line goes right after the table (before any text printed after it)
        lines = body.split("\n")
        end = next((j for j, line in enumerate(lines) if not line.startswith("|")), len(lines))
        lines.insert(end, f"\n: {opts['tbl-cap']} {{#{label}}}\n")
        return "\n".join(lines)
    return body


def _cell_text(cell, n: int, assets: Path) -> str:
    """The markdown cell ``n`` contributes (a markdown cell its source, a code cell its output)."""
    if cell.cell_type in ("markdown", "raw"):
        return cell.source
    if cell.cell_type == "code":
        return _cell_markdown(cell, n, assets)
    return ""


def _join(pieces) -> str:
    """Markdown pieces as one text: blank pieces left out, a blank line between the others."""
    return "\n\n".join(p for p in pieces if p.strip()) + "\n"


def to_markdown(nb, assets: Path) -> str:
    """Pandoc markdown from an executed notebook (figures written to ``assets``): the body
    :func:`render` hands to pandoc, after the metadata block."""
    return _join(_cell_text(cell, n, assets) for n, cell in enumerate(nb.cells))


#: pandoc's reader: Pandoc markdown without raw HTML and without implicit header references.
#: The report holds no HTML (a ``<`` is text, as in "p < 0.05"), and looking for raw HTML in
#: every line doubles the time pandoc takes to read it (1.5 s instead of 3.2 s for the 190 KB of
#: a full report). A bracketed heading text (``[Results]``) is text, not a link to the heading:
#: such a link would reach across the parts that :class:`_Reader` reads apart.
READER = "markdown-raw_html-implicit_header_references"


def _pandoc_ast(markdown: str) -> str:
    """The document read in one pass as pandoc's JSON AST (where :class:`_Reader` cannot read
    it in parts)."""
    proc = subprocess.run([_pandoc(), "--from", READER, "--to", "json"], input=markdown,
                          capture_output=True, text=True)
    if proc.returncode:
        raise QmdError(f"pandoc failed: {proc.stderr.strip()}")
    return proc.stdout


#: a part read by :class:`_Reader` holds at least this many characters (about six parts for
#: a full report; each pandoc process costs about 0.05 s to start)
PART_CHARS = 32_000
_HEADING = re.compile(r"#{1,6}[ \t]")
#: a fence line: of a code block (backticks or tildes, closed by a run as long or longer and
#: nothing else) or of a div (colons; an opening one has attributes or a class after them)
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,}|:{3,})(.*)$")
#: definitions whose use may lie in another part (links, footnotes) and example lists, which
#: pandoc numbers across the document: a text with any of them is read in one piece
_ACROSS = re.compile(r"^ {0,3}(\[[^\]\n]+\]:|\(@[\w-]*\)[ \t])", re.M)
#: a heading's identifier in pandoc's JSON (compact, "t" before "c"; a quote inside a string is escaped)
_HEADING_ID = re.compile(r'"t":"Header","c":\[\d+,\["((?:[^"\\]|\\.)*)"')


class _Reader:
    """Pandoc's reader run part by part on the markdown while the report's cells still run.

    Reading the 190 KB of a full report takes pandoc about 1.5 s, and running its cells about
    2 s: each part is read by a pandoc process of its own as soon as the cells that make it have
    run, and the parts' blocks are joined into one AST. A part begins at a heading, which ends
    any paragraph, list or table before it, and never inside a fenced code block or div, so each
    block lies whole in one part. Pandoc reads a part as it reads it inside the whole document,
    except where one part depends on another: a heading's identifier made unique against an
    earlier part's, link or footnote definitions, example lists, a metadata block after the
    first part. Where the parts show any of these, the whole text is read again in one piece:
    the AST is always the one of reading the text at once (tests/test_qmdrender.py).
    """

    def __init__(self, scratch: Path):
        self.scratch, self.pieces, self.size = scratch, [], 0
        self.parts: list[str] = []
        self.procs: list[subprocess.Popen] = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for proc in self.procs:  # stopped if still running (a failure: the AST is not needed)
            if proc.poll() is None:
                proc.kill()
            proc.wait()

    def _closed(self) -> bool:
        """Whether the pieces gathered so far leave no fenced code block or div open."""
        code, divs = "", 0  # the open code fence, the open divs
        for piece in self.pieces:
            for line in piece.split("\n"):
                m = _FENCE.match(line)
                if not m:
                    continue
                fence, rest = m.group(1), m.group(2).strip()
                if code:
                    if fence[0] == code[0] and len(fence) >= len(code) and not rest:
                        code = ""
                elif fence[0] == ":":
                    divs += 1 if rest else -1
                else:
                    code = fence
        return not code and divs == 0

    def add(self, piece: str) -> None:
        """Append the next piece: the metadata block first, then the markdown of each cell (a
        text of blanks only is skipped, as in :func:`to_markdown`)."""
        if not piece.strip():
            return
        if self.pieces and self.size >= PART_CHARS and _HEADING.match(piece) and self._closed():
            self._start()
        self.pieces.append(piece)
        self.size += len(piece)

    def _start(self) -> None:
        n = len(self.parts)
        text = _join(self.pieces)
        self.parts.append(text)
        self.pieces, self.size = [], 0
        src, out, err = (self.scratch / f"part{n}.{ext}" for ext in ("md", "json", "err"))
        src.write_text(text, encoding="utf-8")
        with err.open("w") as stderr:
            self.procs.append(subprocess.Popen([_pandoc(), "--from", READER, "--to", "json", "--output", str(out),
                                                str(src)], stdout=subprocess.DEVNULL, stderr=stderr))

    def text(self) -> str:
        """The whole markdown (as :func:`to_markdown` gives it, after the metadata block)."""
        return "\n".join(self.parts)

    def end(self) -> None:
        """No more pieces: start reading what is left."""
        if self.pieces:
            self._start()

    def ast(self) -> str:
        """Wait for every part, and return the document's AST (JSON)."""
        whole = self.text()
        apart = not _ACROSS.search(whole)
        docs, seen = [], set()
        for n, proc in enumerate(self.procs):
            if proc.wait():
                raise QmdError(f"pandoc failed: {(self.scratch / f'part{n}.err').read_text().strip()}")
            text = (self.scratch / f"part{n}.json").read_text(encoding="utf-8")
            docs.append(json.loads(text))
            # pandoc makes a heading's identifier unique against the headings before it only
            headings = _HEADING_ID.findall(text)
            apart = apart and not (n and docs[-1]["meta"]) and seen.isdisjoint(headings)
            seen.update(headings)
        if not (apart and docs):
            return _pandoc_ast(whole)
        doc = docs[0]
        doc["blocks"] = [block for d in docs for block in d["blocks"]]
        return json.dumps(doc, ensure_ascii=False)


def _pandoc_start(args: list[str], ast_file: Path) -> subprocess.Popen:
    """Start a pandoc writer on the AST (with the cross-reference filter, which is format-aware)."""
    return subprocess.Popen([_pandoc(), "--from", "json", "--lua-filter", str(_data("crossref.lua")), *args,
                             str(ast_file)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _pandoc_wait(proc: subprocess.Popen) -> None:
    _, err = proc.communicate()
    if proc.returncode:
        raise QmdError(f"pandoc failed: {err.strip()}")


def _replace(tmp: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, target)


def render(qmd: str | Path, html: str | Path | None = None, pdf: str | Path | None = None,
           params: dict | None = None, typst_source: str | Path | None = None,
           metadata: dict | None = None) -> dict:
    """Render ``qmd`` to self-contained HTML and/or a PDF through Typst.

    Parameters
    ----------
    qmd : path
        The ``.qmd`` source; cells run with its folder as working directory.
    html, pdf : path, optional
        Outputs to write (each only once everything succeeded).
    params : dict, optional
        Values assigned after the cell tagged ``parameters``.
    typst_source : path, optional
        Where to keep the Typst source of the PDF (for inspection).
    metadata : dict, optional
        Title block (``title``, ``subtitle``, ``author``, ``date``) set over the source's
        front matter, as Quarto's ``--metadata-file``.

    Returns
    -------
    dict
        ``renderer`` (the string given to the report as ``RENDERER``) and the
        paths written.
    """
    import typst

    qmd = Path(qmd).resolve()
    info = {}
    with tempfile.TemporaryDirectory() as scratch, _Reader(Path(scratch)) as reader:
        scratch = Path(scratch)
        with _kernel(qmd.parent) as km:  # cells run with the source's folder as working directory
            front, nb = read_qmd(qmd.read_text(encoding="utf-8"))
            formats = front.get("format") or {}
            meta = {k: v for k, v in {**front, **(metadata or {})}.items()
                    if k in ("title", "subtitle", "author", "date")}
            info["renderer"] = renderer = renderer_name()
            reader.add("---\n" + yaml.safe_dump(meta, allow_unicode=True) + "---")
            done = 0

            def upto(last: int) -> None:
                """Hand the markdown of every cell up to ``last`` to the reader."""
                nonlocal done
                for n in range(done, last + 1):
                    reader.add(_cell_text(nb.cells[n], n, scratch))
                done = max(done, last + 1)

            _execute(nb, km, dict(params or {}), renderer, on_cell=upto)
            upto(len(nb.cells) - 1)
            reader.end()
        ast_json = reader.ast()  # the last parts are read while the kernel shut down

        def options(fmt: str) -> list[str]:
            o = formats.get(fmt) or {}
            return ["--toc"] * bool(o.get("toc")) + ["--number-sections"] * bool(o.get("number-sections"))

        ast = scratch / "report.json"
        ast.write_text(ast_json, encoding="utf-8")
        # the HTML and the Typst writer run side by side; Typst compiles as soon as its source is there
        writers = {}
        if html:
            script = scratch / "tables.html"
            script.write_text(f"<script>\n{_data('tables.js').read_text()}</script>\n")
            writers["html"] = _pandoc_start(
                ["--to", "html5", "--standalone", "--embed-resources", "--css", str(_data("report.css")),
                 "--include-after-body", str(script), "--resource-path", str(qmd.parent),
                 "--metadata", "pagetitle=" + str(meta.get("title", qmd.stem)),
                 *options("html"), "--output", str(scratch / "report.html")], ast)
        try:
            if pdf:
                typ = scratch / "report.typ"
                paper = (formats.get("typst") or {}).get("papersize", "a4")
                _pandoc_wait(_pandoc_start(["--to", "typst", "--standalone", "--variable", f"papersize={paper}",
                                            "--include-before-body", str(_data("header.typ")),
                                            *options("typst"), "--output", str(typ)], ast))
                out = scratch / "report.pdf"
                try:
                    # SOURCE_DATE_EPOCH (the reproducible-builds convention) fixes the PDF's dates and
                    # ids; the typst package does not read it itself, only its `timestamp` argument
                    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
                    stamp = {"timestamp": int(epoch)} if epoch.isdigit() else {}
                    typst.compile(str(typ), output=str(out), root="/", **stamp)
                except Exception as err:  # typst raises its own TypstError; report it with the source name
                    raise QmdError(f"typst failed on the generated {typ.name}: {err}") from err
            if html:
                _pandoc_wait(writers.pop("html"))
        finally:
            for proc in writers.values():  # a failure above: stop the other writer
                proc.kill()
                proc.wait()
        # outputs are moved into place only once both succeeded (nothing half-written)
        if html:
            _replace(scratch / "report.html", Path(html))
            info["html"] = str(html)
        if pdf:
            _replace(out, Path(pdf))
            info["pdf"] = str(pdf)
            if typst_source:
                _replace(typ, Path(typst_source))
                info["typst_source"] = str(typst_source)
    return info


def main(argv: list[str] | None = None) -> int:
    """``python -m qmdrender REPORT.qmd [--html OUT] [--pdf OUT] [-P key=value ...]``."""
    import argparse

    parser = argparse.ArgumentParser(prog="qmdrender", description=main.__doc__)
    parser.add_argument("qmd")
    parser.add_argument("--html")
    parser.add_argument("--pdf")
    parser.add_argument("-P", dest="params", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args(argv)
    params = {k: yaml.safe_load(v) for k, v in (p.split("=", 1) for p in args.params)}
    print(render(args.qmd, args.html, args.pdf, params))
    return 0
