"""The fallback renderer (src/qmdrender) on a fixture that uses every feature of the
supported Quarto subset: numbering, references, captions, embedded images, section
numbers and the landscape page of a wide table, in the HTML and in the PDF."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

for module in ("jupytext", "nbclient", "ipykernel", "pypandoc", "typst"):
    pytest.importorskip(module, reason=f"{module} is needed by the fallback renderer ([workflow] extra)")

import qmdrender  # noqa: E402

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "qmdrender.qmd"
#: the fixture's parameter n_points, overridden so that injection is visible
N_POINTS = 4


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    out = tmp_path_factory.mktemp("qmdrender")
    info = qmdrender.render(FIXTURE, out / "f.html", out / "f.pdf", params={"out_dir": str(out), "n_points": N_POINTS},
                            typst_source=out / "f.typ")
    return out, info


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_html_numbers_figures_and_tables_and_resolves_references(rendered):
    out, _ = rendered
    html = (out / "f.html").read_text()
    for caption in ("Figure 1: Squares shown by a cell.", "Figure 2: Bars written as a markdown figure.",
                    "Table 1: Points and their squares, printed by a cell.", "Table 2: A table written in markdown.",
                    "Table 3: A table printed with its caption line.", "Table 4: A table too wide for a portrait page.",
                    "(none) Table 5: A table cell with nothing to show."):
        assert caption in _text(html)
    for ref, text in (("fig-cell", "Figure 1"), ("tbl-cell", "Table 1"), ("tbl-written", "Table 2"),
                      ("fig-markdown", "Figure 2"), ("tbl-printed", "Table 3"), ("tbl-wide", "Table 4"),
                      ("tbl-empty", "Table 5")):
        assert f'<a href="#{ref}">{text}</a>' in html
        assert f'id="{ref}"' in html
    assert "@fig-" not in html and "@tbl-" not in html


def test_html_is_self_contained_with_toc_sections_and_table_script(rendered):
    out, info = rendered
    html = (out / "f.html").read_text()
    assert html.count("data:image/png;base64") == 2
    assert not re.search(r'<img[^>]+src="(?!data:)', html)
    assert not re.search(r'<(link|script)[^>]+(href|src)="http', html)
    assert '<nav id="TOC"' in html and "A subsection" in html.split('<nav id="TOC"')[1].split("</nav>")[0]
    assert '<span class="header-section-number">1.1</span> A subsection' in html
    assert '<span class="header-section-number">2</span> Second section' in html
    assert html.count("<script>") == 1 and "table-filter" in html  # sorting/filtering of long tables
    assert "position: fixed" in html  # the embedded stylesheet (sticky table of contents)
    text = _text(html)
    assert f"The parameter says {N_POINTS} points" in text  # parameters injected after the parameters cell
    assert f"rendered by {info['renderer']}" in text.replace("’", "'") and "qmdrender" in info["renderer"]
    assert "this hidden output must not appear" not in html  # include: false
    assert "<pre><code>plain output in a code block</code></pre>" in html  # printed text without output: asis
    assert html.count("<tr>") >= N_POINTS + 1 + 3 + 2 + 3


def test_typst_source_numbers_links_and_turns_the_wide_table(rendered):
    out, _ = rendered
    typ = (out / "f.typ").read_text()
    assert "#set figure(numbering: none)" in typ  # numbering comes from the filter only
    for ref, text in (("fig-cell", "Figure 1"), ("tbl-written", "Table 2"), ("tbl-printed", "Table 3")):
        assert f"#link(<{ref}>)[{text}]" in typ and f"<{ref}>" in typ
    assert "Table 4: A table too wide" in typ
    before, wide = typ.split("#page(flipped: true)[")
    assert "Table 4: A table too wide" in wide and "Table 3:" in before


@pytest.mark.skipif(shutil.which("pdftotext") is None or shutil.which("pdfinfo") is None,
                    reason="poppler-utils (pdftotext, pdfinfo) not installed: the PDF's text is not checked")
def test_pdf_shows_numbers_references_sections_and_a_landscape_page(rendered):
    out, _ = rendered
    pdf = out / "f.pdf"
    text = re.sub(r"\s+", " ", subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                                              check=True).stdout)
    for part in ("Figure 1: Squares shown by a cell.", "Figure 2: Bars written as a markdown figure.",
                 "Table 1: Points and their squares", "Table 2: A table written in markdown.", "1.1 A subsection",
                 "2 Second section", "(Figure 1, Table 1)", "refers to Table 2 and Figure 2, and back to Figure 1",
                 "See Table 3.", "(Table 4)", "(Table 5)", "Table 5: A table cell with nothing to show."):
        assert part in text, part
    assert "@fig" not in text and "@tbl" not in text and "this hidden output" not in text
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "99", str(pdf)], capture_output=True, text=True).stdout
    sizes = re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", info)
    assert any(float(w) > float(h) for w, h in sizes) and any(float(w) < float(h) for w, h in sizes)


def test_unknown_reference_is_an_error(tmp_path):
    qmd = tmp_path / "bad.qmd"
    qmd.write_text("---\ntitle: Bad\n---\n\n# One\n\nSee @fig-missing.\n")
    with pytest.raises(qmdrender.QmdError, match="fig-missing"):
        qmdrender.render(qmd, html=tmp_path / "bad.html")
    assert not (tmp_path / "bad.html").exists()


def test_failing_cell_is_an_error_and_writes_nothing(tmp_path):
    qmd = tmp_path / "fail.qmd"
    qmd.write_text("---\ntitle: Fail\n---\n\n```{python}\n#| output: asis\nraise ValueError('no results here')\n```\n")
    with pytest.raises(qmdrender.QmdError, match="no results here"):
        qmdrender.render(qmd, html=tmp_path / "fail.html", pdf=tmp_path / "fail.pdf")
    assert not list(tmp_path.glob("fail.*[lf]"))


def test_option_outside_the_subset_is_an_error():
    with pytest.raises(qmdrender.QmdError, match="fig-width: 4"):
        qmdrender.read_qmd("```{python}\n#| label: fig-x\n#| fig-width: 4\nprint(1)\n```\n")
    with pytest.raises(qmdrender.QmdError, match="echo: True"):
        qmdrender.read_qmd("```{python}\n#| echo: true\nprint(1)\n```\n")


def test_cell_options_are_read_and_removed():
    front, nb = qmdrender.read_qmd(FIXTURE.read_text())
    assert front["format"]["typst"]["papersize"] == "a4"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code[0].metadata["qmd"] == {"tags": ["parameters"]}
    labelled = {c.metadata["qmd"].get("label"): c.metadata["qmd"] for c in code}
    assert labelled["fig-cell"]["fig-cap"] == "Squares shown by a cell."
    assert labelled["tbl-cell"]["output"] == "asis"
    assert not any(line.startswith("#|") for c in code for line in c.source.splitlines())


@pytest.mark.slow
def test_source_date_epoch_makes_the_pdf_byte_identical(tmp_path, monkeypatch):
    # Typst writes the compile time into the PDF (info dates, XMP, document id); with
    # SOURCE_DATE_EPOCH set, two renders of the same source are byte-identical
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764633600")
    pdfs = []
    for name in ("a", "b"):
        out = tmp_path / name
        out.mkdir()
        qmdrender.render(FIXTURE, None, out / "f.pdf", params={"out_dir": str(out), "n_points": N_POINTS})
        pdfs.append((out / "f.pdf").read_bytes())
    assert pdfs[0] == pdfs[1]
    assert b"D:20251202" in pdfs[0]  # the stated date, 2 December 2025 00:00 UTC


def test_printed_text_split_over_stream_messages_is_one_text(tmp_path):
    """The kernel may send one cell's printed text in several stream messages (as its buffer
    was flushed); the markdown must not depend on where the text was split."""
    import nbformat

    def cell(*chunks):
        c = nbformat.v4.new_code_cell("")
        c.metadata["qmd"] = {"output": "asis"}
        c.outputs = [nbformat.v4.new_output("stream", name="stdout", text=t) for t in chunks]
        return c

    whole = qmdrender._cell_markdown(cell("First paragraph. Second sentence\n\nNext.\n"), 0, tmp_path)
    split = qmdrender._cell_markdown(cell("First paragraph.", " Second sentence\n", "\nNext.\n"), 0, tmp_path)
    assert split == whole
    assert "First paragraph. Second sentence" in split


def test_a_cell_plotting_with_pyplot_shows_its_figure(tmp_path):
    """No ``%matplotlib inline`` is run before the cells (it would import matplotlib into
    every report's kernel): ipykernel's default inline backend still shows the figure."""
    qmd = tmp_path / "plot.qmd"
    qmd.write_text('---\ntitle: plot\n---\n\n```{python}\n#| label: fig-plot\n#| fig-cap: "A line."\n'
                   "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nplt.show()\n```\n\nSee @fig-plot.\n")
    qmdrender.render(qmd, tmp_path / "plot.html")
    html = (tmp_path / "plot.html").read_text()
    assert html.count("data:image/png;base64") == 1
    assert "Figure 1: A line." in _text(html)


#: the pieces of a document (as cells contribute them), each section long enough to be a part
#: of its own once parts are small: lists, tables with captions, code with a "#" line, a fenced
#: div split over two cells, figures and references
SECTIONS = [
    "# Methods\n\nSee @tbl-one and @fig-one. A list ends the section:\n\n- first\n- second",
    "## Data {#sec-data}\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n: One table. {#tbl-one}\n\nText after it.",
    "## Code\n\n```\n# not a heading\nx = 1\n```\n\n1. one\n\n2. two (a loose list)",
    "````\nA longer fence holds a shorter one:\n```",
    "# Inside the code block, so no part begins here\n````",
    "::: {#tbl-none}\nNo table here.",
    "# Inside the div, so no part begins here\n\nOne table, as text.\n:::",
    "# Results\n\n![A figure.](a.png){#fig-one}\n\nSmart \"quotes\" -- and dashes, p < 0.05.",
    "## Results by outcome\n\nTerm\n\n:   Its definition.\n\n> A quote\n> over two lines.",
]


def _read_in_parts(tmp_path, pieces, monkeypatch):
    """The AST read part by part (parts of one section at least), and whether the whole text
    had to be read again in one piece; with the AST of reading the whole at once."""
    monkeypatch.setattr(qmdrender, "PART_CHARS", 1)
    whole = []
    one_pass = qmdrender._pandoc_ast
    monkeypatch.setattr(qmdrender, "_pandoc_ast", lambda text: whole.append(text) or one_pass(text))
    with qmdrender._Reader(tmp_path) as reader:
        for piece in ["---\ntitle: Parts\n---", *pieces]:
            reader.add(piece)
        reader.end()
        ast = reader.ast()
    text = reader.text()
    assert text == "---\ntitle: Parts\n---\n\n" + "\n\n".join(p for p in pieces if p.strip()) + "\n"
    return json.loads(ast), json.loads(one_pass(text)), bool(whole), len(reader.parts)


def test_markdown_read_in_parts_gives_the_ast_of_reading_it_at_once(tmp_path, monkeypatch):
    parts_ast, one_ast, again, parts = _read_in_parts(tmp_path, SECTIONS + ["   \n"], monkeypatch)
    assert parts_ast == one_ast
    assert not again
    # with parts this small the metadata block is one, then a part begins at each piece that
    # begins with a heading, but not inside the code block or the fenced div: pieces 3 to 7
    # are one part
    assert parts == 1 + len(SECTIONS) - 4
    assert parts_ast["meta"]["title"]["c"][0]["c"] == "Parts"


@pytest.mark.parametrize(
    "extra, why",
    [
        (["# Methods\n\nAgain."], "a heading repeated in a later part gets the identifier methods-1"),
        (
            [
                "# Links\n\nSee [the data][data] and the note.[^1]",
                "# Notes\n\n[data]: https://example.org/data\n\n[^1]: A note.",
            ],
            "a link and a footnote whose definitions are in another part",
        ),
        (
            ["# Examples\n\n(@good) One example.", "# More\n\n(@) Another, numbered 2."],
            "example lists, numbered across parts",
        ),
        (["# Late\n\n---\nsubtitle: late\n---\n\nText."], "a metadata block after the first part"),
    ],
)
def test_markdown_whose_parts_depend_on_each_other_is_read_at_once(tmp_path, monkeypatch, extra, why):
    parts_ast, one_ast, again, parts = _read_in_parts(tmp_path, SECTIONS + extra, monkeypatch)
    assert again, why
    assert parts_ast == one_ast
    assert parts > 1
