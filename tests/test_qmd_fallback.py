"""Tests of the Quarto-less fallback renderer (workflow/scripts/qmd_fallback.py)."""

from __future__ import annotations

import argparse
import importlib.util
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("pypandoc")
pytest.importorskip("typst")
pytest.importorskip("nbclient")
pytest.importorskip("nbformat")
pytest.importorskip("ipykernel")

SCRIPT = Path(__file__).resolve().parents[1] / "workflow" / "scripts" / "qmd_fallback.py"


def _load_module():
    """Import the script as a module (workflow/scripts is not a package)."""
    spec = importlib.util.spec_from_file_location("qmd_fallback", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


qf = _load_module()

DEMO_QMD = textwrap.dedent(
    """\
    ---
    title: "Demo report"
    subtitle: "Rendered without Quarto"
    author: "Test Author"
    date: 2024-05-01
    ---

    ```{python}
    #| tags: [parameters]
    sample = "default-sample"
    n_points = 3
    ```

    # Results

    ```{python}
    #| output: asis
    print(f"Sample **{sample}** has {n_points} points, shown in @fig-demo and @tbl-demo.")
    ```

    ```{python}
    #| label: fig-demo
    #| fig-cap: "Squares of the first points."
    #| fig-height: 3
    import matplotlib.pyplot as plt
    plt.plot(range(n_points), [i * i for i in range(n_points)])
    plt.show()
    ```

    ```{python}
    #| label: tbl-demo
    #| tbl-cap: "Points and their squares."
    import pandas as pd
    table = pd.DataFrame({"x": range(n_points), "square": [i * i for i in range(n_points)]})
    print(table.to_markdown(index=False))
    ```

    ```{python}
    #| label: fig-second
    #| fig-cap: "A second, smaller figure."
    #| fig-width: 4
    #| fig-height: 2
    plt.bar(["a", "b"], [1, 2])
    plt.show()
    ```

    ```{python}
    #| output: asis
    print(f"Rendered by: {RENDERER}")
    ```

    See also @fig-second.
    """
)


def _page_count(pdf: Path) -> int:
    """Count the pages of a PDF (pypdf if installed, else the raw objects)."""
    try:
        from pypdf import PdfReader
    except ImportError:
        return len(re.findall(rb"/Type\s*/Page(?![A-Za-z])", pdf.read_bytes()))
    return len(PdfReader(str(pdf)).pages)


def _outputs(directory: Path) -> list[Path]:
    """All html/pdf files and leftover temporary files in ``directory``."""
    return sorted(p for p in directory.iterdir() if p.suffix in (".html", ".pdf", ".part"))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """Render the demo report once for all assertions."""
    root = tmp_path_factory.mktemp("render")
    qmd = root / "report.qmd"
    qmd.write_text(DEMO_QMD, encoding="utf-8")
    out = root / "out"
    result = qf.render(
        qmd, out / "report.html", out / "report.pdf", {"sample": "S-42", "n_points": 4}
    )
    return result, out / "report.html", out / "report.pdf"


def test_result_describes_renderer(rendered):
    result, html, pdf = rendered
    assert re.fullmatch(
        r"fallback \(.*nbclient, pandoc \d+(\.\d+)+, typst \d+(\.\d+)+\)", result["renderer"]
    )
    assert result["html"] == str(html) and result["pdf"] == str(pdf)
    assert (result["figures"], result["tables"]) == (2, 1)


def test_html_is_self_contained(rendered):
    _, html, _ = rendered
    text = html.read_text(encoding="utf-8")
    sources = re.findall(r'src="([^"]*)"', text)
    assert len(sources) == 2
    assert all(src.startswith("data:image/png;base64,") for src in sources)
    assert not re.search(r'<link[^>]+href="(?!data:)', text)


def test_html_content_and_crossrefs(rendered):
    _, html, _ = rendered
    text = html.read_text(encoding="utf-8")
    assert "Demo report" in text and "Rendered without Quarto" in text and "Test Author" in text
    assert "S-42" in text and "default-sample" not in text
    assert "Figure 1: Squares of the first points." in text
    assert "Figure 2: A second, smaller figure." in text
    assert "Table 1: Points and their squares." in text
    assert re.search(
        r'shown in <a href="#fig-demo"[^>]*>Figure 1</a> and <a href="#tbl-demo"[^>]*>Table 1</a>',
        text,
    )
    assert re.search(r'See also <a href="#fig-second"[^>]*>Figure 2</a>', text)
    assert '<figure id="fig-demo">' in text and 'id="tbl-demo"' in text
    assert "@fig-" not in text and "@tbl-" not in text
    assert "Rendered by: fallback (" in text
    assert "import matplotlib" not in text  # echo is off by default


def test_pdf(rendered):
    _, _, pdf = rendered
    assert pdf.read_bytes().startswith(b"%PDF")
    assert _page_count(pdf) >= 1
    assert not list(pdf.parent.glob(".*.part"))


def _pdf_text(pdf: Path) -> str:
    """Extract the text of a PDF with pypdf or pdftotext, else skip the test."""
    try:
        from pypdf import PdfReader
    except ImportError:
        pdftotext = shutil.which("pdftotext")
        if pdftotext is None:
            pytest.skip("neither pypdf nor pdftotext is available")
        return subprocess.run(
            [pdftotext, str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
    return "\n".join(page.extract_text() for page in PdfReader(str(pdf)).pages)


def test_pdf_has_numbered_captions_and_refs(rendered):
    _, _, pdf = rendered
    text = " ".join(_pdf_text(pdf).split())
    assert "Figure 1: Squares of the first points." in text
    assert "Figure 2: A second, smaller figure." in text
    assert "Table 1: Points and their squares." in text
    assert "shown in Figure 1 and Table 1." in text
    assert "S-42" in text


def test_failing_cell_leaves_no_output(tmp_path):
    qmd = tmp_path / "broken.qmd"
    qmd.write_text(
        "---\ntitle: Broken\n---\n\nText.\n\n"
        "```{python}\n#| label: boom\nvalue = 1\nraise ValueError('kaboom in cell')\n```\n",
        encoding="utf-8",
    )
    with pytest.raises(qf.CellExecutionFailed) as info:
        qf.render(qmd, tmp_path / "broken.html", tmp_path / "broken.pdf", {})
    message = str(info.value)
    assert "raise ValueError('kaboom in cell')" in message  # the cell source
    assert "ValueError" in message and "kaboom in cell" in message  # the traceback
    assert "broken.qmd:7" in message and "\x1b[" not in message
    assert _outputs(tmp_path) == []


def test_late_failure_is_atomic(tmp_path, monkeypatch):
    qmd = tmp_path / "ok.qmd"
    qmd.write_text("# Title\n\nPlain text.\n", encoding="utf-8")

    def failing_pdf(*args, **kwargs):
        raise qf.ToolError("typst exploded")

    monkeypatch.setattr(qf, "write_pdf", failing_pdf)
    with pytest.raises(qf.ToolError, match="typst exploded"):
        qf.render(qmd, tmp_path / "ok.html", tmp_path / "ok.pdf", {})
    assert _outputs(tmp_path) == []


def test_unknown_reference_raises(tmp_path):
    qmd = tmp_path / "badref.qmd"
    qmd.write_text(
        "---\ntitle: Bad ref\n---\n\nSee @fig-missing.\n\n"
        "```{python}\n#| output: asis\nprint('and @tbl-nowhere')\n```\n",
        encoding="utf-8",
    )
    with pytest.raises(qf.CrossRefError, match=r"@fig-missing.*@tbl-nowhere"):
        qf.render(qmd, tmp_path / "badref.html", tmp_path / "badref.pdf", {})
    assert _outputs(tmp_path) == []


def test_parse_qmd_cells_options_and_fences():
    text = textwrap.dedent(
        """\
        ---
        title: T
        execute:
          echo: true
        ---

        Intro

        ````markdown
        ```{python}
        not_a_cell()
        ```
        ````

        ```{python}
        #| label: fig-x
        #| fig-cap: >
        #|   A long
        #|   caption
        x = 1
        #| not an option
        ```
        """
    )
    document = qf.parse_qmd(text)
    assert document.front_matter == {"title": "T", "execute": {"echo": True}}
    kinds = [chunk.kind for chunk in document.chunks]
    assert kinds == ["markdown", "code"]
    assert "not_a_cell()" in document.chunks[0].source
    code = document.chunks[1]
    assert code.options == {"label": "fig-x", "fig-cap": "A long caption"}
    assert code.source == "x = 1\n#| not an option"
    assert code.line == 15


def test_parse_qmd_unclosed_cell():
    with pytest.raises(qf.QmdParseError, match="line 3"):
        qf.parse_qmd("Text\n\n```{python}\nx = 1\n")


def test_parse_param_yaml_scalars():
    assert qf.parse_param("n=3") == ("n", 3)
    assert qf.parse_param("flag=true") == ("flag", True)
    assert qf.parse_param("name=S 1") == ("name", "S 1")
    assert qf.parse_param("ratio=0.5") == ("ratio", 0.5)
    with pytest.raises(argparse.ArgumentTypeError, match="key=value"):
        qf.parse_param("novalue")


def test_params_injected_after_parameters_cell():
    document = qf.parse_qmd(
        "```{python}\n#| tags: [parameters]\na = 1\n```\n\n```{python}\nb = a\n```\n"
    )
    notebook = qf.build_notebook(document, {"a": "x'y"}, "R", {"echo": False})
    sources = [cell.source for cell in notebook.cells]
    assert sources[0].startswith("RENDERER = 'R'")
    assert sources[1:] == ["a = 1", '# Injected parameters\na = "x\'y"', "b = a"]


def test_cli_renders_with_yaml_params(tmp_path):
    qmd = tmp_path / "cli.qmd"
    qmd.write_text(
        "---\ntitle: CLI\n---\n\n```{python}\n#| tags: [parameters]\ncount = 1\nname = 'x'\n```\n\n"
        "```{python}\n#| output: asis\nprint(f'count+1 = {count + 1}, name = {name}')\n```\n",
        encoding="utf-8",
    )
    html = tmp_path / "out" / "cli.html"
    command = [
        sys.executable,
        str(SCRIPT),
        str(qmd),
        "--html",
        str(html),
        "-P",
        "count=41",
        "-P",
        "name=from cli",
    ]
    process = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert process.returncode == 0, process.stderr
    assert "count+1 = 42, name = from cli" in html.read_text(encoding="utf-8")
    assert not (tmp_path / "out" / "cli.pdf").exists()


def test_crossref_numbering_on_markdown():
    markdown = (
        "See @fig-b, [@tbl-a] and [-@fig-a].\n\n![Second](b.png){#fig-a}\n\n"
        "::: {#fig-b}\n![](c.png)\n\nDiv caption\n:::\n\n| x |\n|---|\n| 1 |\n\n: Cap {#tbl-a}\n"
    )
    doc, labels = qf.number_floats(qf.markdown_to_ast(markdown, {}), number_sections=False)
    assert labels == {"fig-a": "Figure 1", "fig-b": "Figure 2", "tbl-a": "Table 1"}
    text = qf._stringify(qf.resolve_crossrefs(doc, labels)["blocks"])
    assert text.startswith("See Figure 2, Table 1 and 1.")
    assert "Figure 1: Second" in text and "Figure 2: Div caption" in text and "Table 1: Cap" in text
    with pytest.raises(qf.CrossRefError, match="@Fig-zzz"):
        qf.resolve_crossrefs(qf.markdown_to_ast("@Fig-zzz", {}), labels)


def test_project_file_and_format_options(tmp_path):
    (tmp_path / "_quarto.yml").write_text(
        "project:\n  output-dir: _out\nexecute:\n  echo: true\n  warning: false\n"
        "format:\n  typst:\n    papersize: a4\n",
        encoding="utf-8",
    )
    sub = tmp_path / "report"
    sub.mkdir()
    qmd = sub / "r.qmd"
    qmd.write_text("x", encoding="utf-8")
    project = qf.project_metadata(qmd)
    assert "project" not in project
    front = qf._deep_merge(project, {"execute": {"echo": False}, "author": {"name": "A. B."}})
    assert front["execute"] == {"echo": False, "warning": False}
    metadata = qf.pandoc_metadata(front, qmd)
    assert metadata == {"author": ["A. B."], "papersize": "a4"}
