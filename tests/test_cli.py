"""`depmeta init` writes a review that fails validation until it is filled in; `depmeta
validate` checks a protocol and its sheets with the workflow's rules, messages only."""

from __future__ import annotations

import os

import openpyxl
import pandas as pd
import pytest
import yaml

from depmeta.cli import (
    failed_run_message,
    failed_run_summary,
    init_review,
    main,
    remove_outdated,
    set_aside_outdated,
    validate_review,
)
from depmeta.review.reading import read_sheet

ARMS = [("t1", "drug", "medication", 40, 22), ("t1", "pill", "placebo", 41, 12),
        ("t2", "drug", "medication", 55, 30), ("t2", "pill", "placebo", 52, 17)]


def _fill(folder):
    """Fill a new review in as a user would: the placeholders, two trials, their arms."""
    protocol = folder / "protocol.yaml"
    text = protocol.read_text()
    for old, new in (("<title of the review>", "Drug versus placebo"), ("<author>", "A. Author"),
                     ("<the review question: population, interventions, comparators, outcomes>",
                      "In adults with depression, does the drug improve response?"),
                     ("<why: how the search was made, and whether unpublished trials were sought>",
                      "registries were not searched")):
        text = text.replace(old, new)
    protocol.write_text(text)
    studies = pd.read_csv(folder / "studies.csv", dtype=str, keep_default_na=False)
    rows = [{**studies.iloc[0].to_dict(), "study_id": s, "label": s.upper(), "year": "2010"} for s in ("t1", "t2")]
    pd.concat([studies, pd.DataFrame(rows)]).to_csv(folder / "studies.csv", index=False)
    arms = pd.read_csv(folder / "arms.csv", dtype=str, keep_default_na=False)
    rows = [{**arms.iloc[0].to_dict(), "study_id": s, "arm_id": a, "arm_type": t, "n": str(n), "events": str(e),
             "drug_class": "SSRI" if t == "medication" else "", "treatment": a} for s, a, t, n, e in ARMS]
    pd.concat([arms, pd.DataFrame(rows)]).to_csv(folder / "arms.csv", index=False)
    return protocol


def test_init_writes_a_review_that_names_what_is_missing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    written = init_review("mine")
    assert [p.name for p in written] == ["protocol.yaml", "studies.csv", "arms.csv", "contrasts.csv", "sheets.xlsx"]
    protocol = yaml.safe_load(written[0].read_text())
    assert protocol["sheets"]["studies"] == "mine/studies.csv"
    assert protocol["sheets"]["contrasts"] == "mine/contrasts.csv"  # a header and a comment: no rows, valid
    assert not any(protocol["sheets"][k] for k in ("claims", "benchmarks", "risk_of_bias", "excluded_arms"))
    assert protocol["metapsy"]["enabled"] is False
    problems, _ = validate_review(written[0])
    assert any("review.title: replace the placeholder" in p for p in problems)
    assert any("certainty.reporting_bias.reason: replace the placeholder" in p for p in problems)
    assert "mine/studies.csv: no data rows: the sheet has a header only" in problems
    assert "mine/arms.csv: no data rows: the sheet has a header only" in problems


def test_init_refuses_a_folder_that_holds_a_review(tmp_path, capsys):
    init_review(tmp_path / "mine")
    before = (tmp_path / "mine" / "studies.csv").read_bytes()
    assert main(["init", str(tmp_path / "mine")]) == 1
    assert "already there: nothing written" in capsys.readouterr().err
    assert (tmp_path / "mine" / "studies.csv").read_bytes() == before


def test_a_filled_in_review_validates_and_a_planted_mistake_is_named(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    init_review("mine")
    protocol = _fill(tmp_path / "mine")
    assert main(["validate", "mine/protocol.yaml"]) == 0
    out = capsys.readouterr().out
    assert "mine/protocol.yaml: valid" in out and "mine/arms.csv: 4 rows" in out and "mine/studies.csv: 2 rows" in out
    arms = pd.read_csv(tmp_path / "mine" / "arms.csv", dtype=str, keep_default_na=False)
    arms.loc[3, "events"] = "70"  # more events than patients, in sheet row 5
    arms.to_csv(tmp_path / "mine" / "arms.csv", index=False)
    assert main(["validate", str(protocol.relative_to(tmp_path))]) == 1
    err = capsys.readouterr().err
    assert err.startswith("1 problem(s):") and "mine/arms.csv, row 5" in err and "events" in err


def test_the_workbook_has_notes_drop_downs_and_the_example_as_a_comment(tmp_path):
    init_review(tmp_path / "mine")
    book = openpyxl.load_workbook(tmp_path / "mine" / "sheets.xlsx")
    assert book.sheetnames == ["studies", "arms", "contrasts"]
    contrasts = book["contrasts"]
    header = [c.value for c in contrasts[1]]
    assert contrasts.cell(1, header.index("estimate") + 1).comment.text.startswith("The effect as printed")
    measures = {str(dv.sqref).split(":")[0]: dv.formula1 for dv in contrasts.data_validations.dataValidation}
    assert measures[f"{openpyxl.utils.get_column_letter(header.index('measure') + 1)}3"] == '"OR,RR,HR,RD,MD,SMD"'
    assert len(read_sheet(str(tmp_path / "mine" / "sheets.xlsx"), "contrasts")) == 0
    arms = book["arms"]
    header = [c.value for c in arms[1]]
    assert arms.cell(1, header.index("arm_type") + 1).comment.text.startswith("Treatment strategy")
    lists = {str(dv.sqref).split(":")[0]: dv.formula1 for dv in arms.data_validations.dataValidation}
    col = openpyxl.utils.get_column_letter(header.index("arm_type") + 1)
    assert "placebo" in lists[f"{col}3"]
    assert str(arms.cell(2, 1).value).startswith("# example")
    # the workbook reads as a review with no trials yet: the example is a comment
    assert len(read_sheet(str(tmp_path / "mine" / "sheets.xlsx"), "arms")) == 0


def test_comment_rows_are_skipped_and_the_others_keep_their_numbers(tmp_path):
    f = tmp_path / "arms.csv"
    f.write_text("study_id,n\n# an example,10\nt1,12\n  # another,3\nt2,x\n")
    df = read_sheet(str(f))
    assert df.study_id.tolist() == ["t1", "t2"] and [int(i) + 2 for i in df.index] == [3, 5]


@pytest.mark.parametrize("text, message", [
    ("title: no review section\n", "not a protocol: it has no `review:` section"),
    ("review: {title: T}\nanalysis: {method: XYZ}\n", "analysis.method: 'XYZ' is not one of"),
    ("review: [unclosed\n", "not valid YAML"),
])
def test_a_protocol_that_is_not_one_is_named(tmp_path, text, message):
    f = tmp_path / "p.yaml"
    f.write_text(text)
    problems, _ = validate_review(f)
    assert len(problems) >= 1 and message in problems[0] and problems[0].startswith(str(f))


def test_a_sheet_the_protocol_names_but_that_is_not_there(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    init_review("mine")
    protocol = _fill(tmp_path / "mine")
    (tmp_path / "mine" / "contrasts.csv").unlink()
    problems, _ = validate_review(protocol)
    assert problems == [f"mine/contrasts.csv: no such file (sheets.contrasts in {protocol})"]


def test_validate_reads_a_workbook_like_the_workflow(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    init_review("mine")
    protocol = _fill(tmp_path / "mine")
    with pd.ExcelWriter(tmp_path / "mine" / "filled.xlsx") as book:
        for name in ("studies", "arms"):
            pd.read_csv(tmp_path / "mine" / f"{name}.csv", dtype=str, keep_default_na=False).to_excel(
                book, sheet_name=name, index=False)
    protocol.write_text(protocol.read_text().replace('workbook: ""', "workbook: mine/filled.xlsx"))
    problems, counts = validate_review(protocol)
    assert problems == [] and counts["mine/filled.xlsx [sheet arms]"] == 4


def test_a_failed_run_is_summed_up_from_the_logs_written_during_it(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "old.log").write_text("2026-01-01 10:00:00,000 ERROR an error of an earlier run\n")
    os.utime(logs / "old.log", (100.0, 100.0))
    (logs / "validate.log").write_text(
        "2026-01-01 10:00:00,000 INFO read 3 sheets\n"
        "2026-01-01 10:00:01,000 ERROR 1 problem(s) in the extraction sheets:\n"
        "  - data/arms.csv, row 4, column 'n': -5 is below the minimum 1\n")
    (logs / "analyse.log").write_text("2026-01-01 10:00:02,000 INFO nothing wrong here\n")
    text = failed_run_summary(logs, since=1000.0)
    assert text == ("The run stopped:\n" + f"{logs / 'validate.log'}:\n"
                    "  1 problem(s) in the extraction sheets:\n"
                    "    - data/arms.csv, row 4, column 'n': -5 is below the minimum 1")
    assert "earlier run" not in text
    (logs / "validate.log").write_text("2026-01-01 10:00:00,000 INFO fine\n")
    assert failed_run_summary(logs, since=1000.0).startswith("The run stopped; the error is in the output above")


def test_a_report_made_before_a_failed_run_is_set_aside(tmp_path):
    old, new = tmp_path / "report.html", tmp_path / "report.pdf"
    old.write_text("earlier")
    os.utime(old, (100.0, 100.0))
    new.write_text("this run")
    moved = set_aside_outdated([old, new, tmp_path / "absent.html"], since=1000.0)
    assert moved == [tmp_path / "report.outdated.html"]
    assert not old.exists() and moved[0].read_text() == "earlier" and new.exists()
    remove_outdated([old, new])  # the next run that succeeds
    assert not moved[0].exists() and new.exists()


def test_a_failed_run_message_ends_with_the_reports_set_aside(tmp_path):
    (tmp_path / "logs").mkdir()
    report = tmp_path / "report.html"
    report.write_text("earlier")
    os.utime(report, (100.0, 100.0))
    text = failed_run_message(tmp_path / "logs", 1000.0, [report])
    assert text.splitlines()[1].startswith("The run stopped; the error is in the output above")
    assert text.endswith(f"{tmp_path / 'report.outdated.html'}: the report of an earlier run, set aside")
