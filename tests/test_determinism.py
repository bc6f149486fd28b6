"""Determinism: two runs of the workflow, in two copies of the project, write
byte-identical tables, JSON, figures and HTML report; the PDF differs only in the
creation date Typst stamps on it (and the document id derived from it)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import copy_project, snakemake

#: Runs Snakemake or renders the report: the full suite only (python -m pytest -m "not slow" skips it).
pytestmark = pytest.mark.slow

#: What must be byte-identical between two runs (globs under results/).
IDENTICAL = ("tables/*.csv", "*.json", "validated/*", "validated/provenance/*", "figures/*", "simulation/*",
             "network/*", "network/figures/*", "certainty/*", "subgroups/*", "subgroups/figures/*",
             "sensitivity/*", "sensitivity/figures/*", "report/report.html")

#: The parts of a PDF that carry the time it was written: the info dictionary's dates, the
#: XMP dates, and the document and instance ids Typst derives from them. The Python typst
#: package ignores SOURCE_DATE_EPOCH; only its `timestamp=` argument fixes these.
PDF_TIMESTAMPS = re.compile(
    rb"(/(?:CreationDate|ModDate)\s*\(D:)[^)]*"
    rb"|(<xmp:(?:CreateDate|ModifyDate|MetadataDate)>)[^<]*"
    rb"|(<xmpMM:(?:InstanceID|DocumentID)>)[^<]*"
    rb"|(/ID\s*\[)[^\]]*")


def without_timestamps(pdf: bytes) -> bytes:
    return PDF_TIMESTAMPS.sub(lambda m: next(g for g in m.groups() if g) + b"#", pdf)


def snapshot(results: Path) -> dict[str, bytes]:
    files = {}
    for pattern in IDENTICAL:
        for path in sorted(results.glob(pattern)):
            if path.is_file():
                files[str(path.relative_to(results))] = path.read_bytes()
    return files


@pytest.fixture(scope="module")
def second_run(tmp_path_factory):
    work = copy_project(tmp_path_factory.mktemp("determinism"))
    proc = snakemake(work, "--configfile", "tests/config/config.yaml")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return work


def test_two_runs_write_identical_files(workflow_run, second_run):
    first, second = snapshot(workflow_run / "results"), snapshot(second_run / "results")
    assert len(first) > 15 and "report/report.html" in first and "figures/summary.png" in first
    assert sorted(first) == sorted(second)
    differ = [name for name in first if first[name] != second[name]]
    assert not differ, f"not byte-identical between two runs: {differ}"


def test_pdf_identical_apart_from_its_creation_date(workflow_run, second_run):
    a = (workflow_run / "results" / "report" / "report.pdf").read_bytes()
    b = (second_run / "results" / "report" / "report.pdf").read_bytes()
    assert PDF_TIMESTAMPS.search(a), "the PDF states when it was written"
    # compared outside the assert: pytest's diff of two large byte strings takes minutes
    same = without_timestamps(a) == without_timestamps(b)
    assert same, f"the PDFs differ beyond their dates ({len(a)} and {len(b)} bytes)"


def test_figures_carry_no_software_or_date_metadata(workflow_run):
    for png in (workflow_run / "results" / "figures").glob("*.png"):
        head = png.read_bytes()[:4096]
        for chunk in (b"tEXtSoftware", b"tIMEdate", b"tIME", b"Creation Time"):
            assert chunk not in head, f"{png.name}: {chunk!r}"
