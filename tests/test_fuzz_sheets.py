"""Fuzzed extraction sheets: byte-order marks, CRLF line ends, other separators, wrong
types, empty files, header-only sheets, 100,000 rows, merged cells in a workbook. Each is
either read correctly or refused with a message naming file, row and column; through the
workflow, nothing is written on failure."""

from __future__ import annotations

import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ROOT, copy_project, snakemake
from depmeta.review.sheets import SheetError, check_extraction, check_open_lists, check_sheet, coerce

sys.path.insert(0, str(ROOT / "workflow" / "scripts"))
from pipeline_io import read_sheet  # noqa: E402

SCHEMAS = {n: yaml.safe_load((ROOT / "workflow" / "schemas" / f"{n}.schema.yaml").read_text())
           for n in ("studies", "arms", "contrasts")}
ARMS = (ROOT / "data" / "arms.csv").read_bytes()
STUDIES = (ROOT / "data" / "studies.csv").read_bytes()


def reference(name: str) -> pd.DataFrame:
    return pd.read_csv(ROOT / "data" / f"{name}.csv", dtype=str, keep_default_na=False)


def messages(err: SheetError) -> list[str]:
    return [str(p) for p in err.problems]


def validate(arms: pd.DataFrame, studies: pd.DataFrame | None = None) -> list[str]:
    """The validate_sheets checks on two read sheets, as messages."""
    studies = reference("studies") if studies is None else studies
    found = (check_sheet(studies, SCHEMAS["studies"], "studies.csv") + check_sheet(arms, SCHEMAS["arms"], "arms.csv")
             + check_open_lists(arms, None, "arms.csv"))
    if not found:
        found = check_extraction(coerce(studies, SCHEMAS["studies"]), coerce(arms, SCHEMAS["arms"]), None,
                                 {"studies": "studies.csv", "arms": "arms.csv", "contrasts": "contrasts.csv"})
    return [str(p) for p in found]


# --- encodings and line ends: read correctly ------------------------------------------

@pytest.mark.parametrize("transform", [
    lambda b: b"\xef\xbb\xbf" + b,                                      # UTF-8 byte-order mark (Excel)
    lambda b: b.replace(b"\n", b"\r\n"),                                # Windows line ends
    lambda b: b"\xef\xbb\xbf" + b.replace(b"\n", b"\r\n"),              # both
    lambda b: b.replace(b"\n", b"\r\n").rstrip(b"\r\n"),                # no final line end
    lambda b: b + b"\n\n,,,\n",                                         # empty rows at the end
], ids=["bom", "crlf", "bom+crlf", "no-final-newline", "trailing-empty-rows"])
def test_harmless_variants_read_like_the_original(tmp_path, transform):
    f = tmp_path / "arms.csv"
    f.write_bytes(transform(ARMS))
    df = read_sheet(str(f))
    pd.testing.assert_frame_equal(df, reference("arms"))
    assert validate(df) == []


# --- unreadable files: refused with file, row, column ----------------------------------

@pytest.mark.parametrize("content, expected", [
    (b"", "arms.csv: the file is empty"),
    (b"  \n\n", "arms.csv: the file is empty"),
    (ARMS.replace(b",", b";"), "arms.csv, row 1: the header is one column"),
    (ARMS.replace(b",", b"\t"), "separated by tabs"),
    ("study_id,arm_id\nbarber2012,\xe9t\xe9\n".encode("latin-1"), "arms.csv, row 2: not UTF-8 text (byte 0xe9)"),
    ("study_id,arm_id\n".encode("utf-16"), "arms.csv: the file is UTF-16 text"),
    (b"study_id,n,n\nx,1,2\n", "arms.csv, row 1, column 'n': column appears more than once"),
    (b"study_id,n\nx,1\ny,2,3\n", "arms.csv, row 3: 3 cells where the header has 2"),
    (b"study_id,n\nx,1\n,\ny,2\n", "arms.csv, row 3: empty row between data rows"),
], ids=["empty", "blank-lines", "semicolons", "tabs", "latin-1", "utf-16", "duplicate-column", "ragged",
        "empty-row-inside"])
def test_unreadable_sheets_are_refused_with_their_place(tmp_path, content, expected):
    f = tmp_path / "arms.csv"
    f.write_bytes(content)
    with pytest.raises(SheetError) as err:
        read_sheet(str(f), label="arms.csv")
    assert any(m.startswith(expected) or expected in m for m in messages(err.value)), messages(err.value)


def test_header_only_sheet_reads_as_no_rows(tmp_path):
    f = tmp_path / "arms.csv"
    f.write_bytes(ARMS.splitlines(keepends=True)[0])
    df = read_sheet(str(f))
    assert len(df) == 0 and list(df.columns) == list(reference("arms").columns)


# --- wrong types: every bad cell named ------------------------------------------------

@pytest.mark.parametrize("column, value, expected", [
    ("n", "twelve", "column 'n': 'twelve' is not a whole number"),
    ("n", "12.5", "column 'n': '12.5' is not a whole number"),
    ("n", "1e400", "column 'n': '1e400' is not a whole number"),
    ("percent", "50%", "column 'percent': '50%' is not a number"),
    ("percent", "nan", "column 'percent': 'nan' is not a finite number"),
    ("percent", "inf", "column 'percent': 'inf' is not a finite number"),
    ("percent", "12,5", "column 'percent': '12,5' is not a number"),
    ("timepoint_weeks", "2020-01-01", "column 'timepoint_weeks': '2020-01-01' is not a number"),
    ("arm_type", "Medication", "column 'arm_type': 'Medication' is not an arm type of this review's protocol: "
                               "write 'medication'"),
])
def test_wrong_types_are_named(column, value, expected):
    arms = reference("arms")
    i = int(arms.index[(arms.outcome != "symptoms") & (arms.percent != "")][0]) if column == "percent" else 3
    arms.loc[i, column] = value
    found = validate(arms)
    assert f"arms.csv, row {i + 2}, {expected}" in "\n".join(found), found


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(value=st.text(max_size=12), column=st.sampled_from(["n", "events", "percent", "mean", "sd",
                                                          "timepoint_weeks", "arm_type", "outcome"]))
def test_any_cell_value_is_accepted_or_named_never_a_crash(value, column):
    arms = reference("arms")
    arms.loc[5, column] = value
    found = validate(arms)  # never raises: a bad value is a problem, not a crash
    for message in found:
        assert message.startswith("arms.csv, row "), message  # every problem names its row
    if found and column in ("n", "percent", "mean", "sd", "timepoint_weeks", "arm_type", "outcome"):
        assert any(m.startswith("arms.csv, row 7, ") for m in found), found


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(value=st.one_of(st.text(max_size=8), st.sampled_from(["0", "-1", "1e300", "0.5", "2", "OR", "HR", "SMD"])),
       column=st.sampled_from(["measure", "estimate", "ci_low", "ci_high", "ci_level", "log_estimate", "se",
                               "outcome", "followup_months", "n1"]))
def test_any_contrast_cell_is_accepted_or_named_never_a_crash(value, column):
    """The contrasts sheet (its hazard ratios, every measure's forms): a changed cell is valid or a
    problem naming its row, never an exception."""
    contrasts = reference("contrasts")
    contrasts.loc[2, column] = value
    found = check_sheet(contrasts, SCHEMAS["contrasts"], "contrasts.csv")
    if not found:
        found = check_extraction(coerce(reference("studies"), SCHEMAS["studies"]), coerce(reference("arms"),
                                 SCHEMAS["arms"]), coerce(contrasts, SCHEMAS["contrasts"]),
                                 {"studies": "studies.csv", "arms": "arms.csv", "contrasts": "contrasts.csv"})
    for message in map(str, found):
        assert message.startswith("contrasts.csv, row 4, "), message


# --- size ------------------------------------------------------------------------------

@pytest.mark.slow
def test_100000_rows_validate_and_a_bad_cell_deep_inside_is_found(tmp_path):
    arms = reference("arms")
    big = pd.concat([arms] * (100_000 // len(arms) + 1), ignore_index=True).iloc[:100_000].copy()
    big["timepoint_weeks"] = [str(i) for i in range(len(big))]  # no duplicated arm rows
    big.loc[99_998, "n"] = "-1"
    f = tmp_path / "arms.csv"
    big.to_csv(f, index=False)
    df = read_sheet(str(f), label="arms.csv")
    assert len(df) == 100_000
    found = validate(df)
    assert found == ["arms.csv, row 100000, column 'n': -1 is below the minimum 1"]


# --- workbooks ---------------------------------------------------------------------------

def _workbook(path: Path, merge: str | None = None) -> Path:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "arms"
    arms = reference("arms")
    ws.append(list(arms.columns))
    for row in arms.itertuples(index=False):
        ws.append(list(row))
    if merge:
        ws.merge_cells(merge)
    book.save(path)
    return path


def test_workbook_with_merged_cells_is_refused_naming_them(tmp_path):
    book = _workbook(tmp_path / "book.xlsx", merge="A3:A5")
    with pytest.raises(SheetError) as err:
        read_sheet(str(book), "arms", label="book.xlsx [sheet arms]")
    assert messages(err.value) == [
        "book.xlsx [sheet arms], row 3, column 'study_id': merged cells A3:A5: unmerge them and fill in every cell"]


def test_workbook_without_merged_cells_reads_like_the_csv(tmp_path):
    book = _workbook(tmp_path / "book.xlsx")
    df = read_sheet(str(book), "arms")
    assert df.shape == reference("arms").shape
    assert validate(df) == []


def test_corrupt_workbook_is_refused(tmp_path):
    f = tmp_path / "book.xlsx"
    f.write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(SheetError, match="book.xlsx: not a readable .xlsx workbook"):
        read_sheet(str(f), "arms", label="book.xlsx")


# --- through the workflow: nothing written on failure ----------------------------------

def _validate_run(work: Path, *args: str):
    return snakemake(work, "results/validated/provenance/extraction.json", *args)


@pytest.mark.slow
def test_workflow_reads_bom_crlf_and_refuses_semicolons_writing_nothing(tmp_path):
    work = copy_project(tmp_path)
    arms = work / "data" / "arms.csv"
    arms.write_bytes(b"\xef\xbb\xbf" + ARMS.replace(b"\n", b"\r\n"))
    proc = _validate_run(work)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert pd.read_csv(work / "results" / "validated" / "arms.csv").shape[0] == len(reference("arms"))

    fresh = copy_project(tmp_path / "second")
    (fresh / "data" / "studies.csv").write_bytes(STUDIES.replace(b",", b";"))
    (fresh / "data" / "arms.csv").write_bytes(ARMS.splitlines(keepends=True)[0])  # header only
    # and no reported effects either (arms may be a header only where the contrasts sheet has rows)
    contrasts = fresh / "data" / "contrasts.csv"
    contrasts.write_bytes(contrasts.read_bytes().splitlines(keepends=True)[0])
    proc = _validate_run(fresh)
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "data/studies.csv, row 1: the header is one column" in out and "separated by semicolons" in out
    assert "data/arms.csv: no data rows: the sheet has a header only" in out
    assert not (fresh / "results" / "validated").exists() or not any((fresh / "results" / "validated").iterdir())


@pytest.mark.slow
def test_workflow_refuses_a_workbook_with_merged_cells_writing_nothing(tmp_path):
    work = copy_project(tmp_path)
    with pd.ExcelWriter(work / "data" / "sheets.xlsx") as book:
        for name in ("studies", "arms"):
            reference(name).to_excel(book, sheet_name=name, index=False)
    wb = openpyxl.load_workbook(work / "data" / "sheets.xlsx")
    wb["arms"].merge_cells("B10:B12")
    wb.save(work / "data" / "sheets.xlsx")
    proc = _validate_run(work, "--configfile", "config/config.yaml", "--config",
                         "sheets={'workbook': 'data/sheets.xlsx'}")
    assert proc.returncode != 0
    assert ("data/sheets.xlsx [sheet arms], row 10, column 'arm_id': merged cells B10:B12"
            in proc.stdout + proc.stderr), proc.stderr[-2000:]
    assert not (work / "results" / "validated").exists() or not any((work / "results" / "validated").iterdir())
