"""Validation of the sheets group by group (depmeta.review.validation), without Snakemake:
the embedded review passes, and a planted mistake in each group is named by file, row and
column with nothing typed."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from conftest import ROOT
from depmeta.review.validation import GROUPS, GroupCheck, validate_group

SCHEMAS = {p.name.split(".")[0]: yaml.safe_load(p.read_text()) for p in (ROOT / "workflow" / "schemas").glob("*.yaml")}


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(ROOT / "data" / f"{name}.csv", dtype=str, keep_default_na=False)


def _extraction(**changed):
    raw = {name: _read(name) for name in GROUPS["extraction"]}
    raw.update(changed)
    return validate_group("extraction", raw, SCHEMAS, {n: f"{n}.csv" for n in raw})


def test_the_embedded_review_is_valid_group_by_group():
    ext = _extraction()
    assert ext.ok and set(ext.sheets) == set(GROUPS["extraction"]) and len(ext.sheets["arms"])
    rob = validate_group("risk_of_bias", {"risk_of_bias": _read("risk_of_bias")}, SCHEMAS,
                         {"risk_of_bias": "risk_of_bias.csv"}, validated_studies=_read("studies"),
                         studies_label="studies.csv")
    assert rob.ok and len(rob.sheets["risk_of_bias"])
    claims = yaml.safe_load((ROOT / "data" / "claims.yaml").read_text())
    ev = validate_group("evidence", {"benchmarks": _read("benchmarks")}, SCHEMAS, {"benchmarks": "benchmarks.csv"},
                        claims_doc=claims, claims_label="claims.yaml")
    assert ev.ok and len(ev.claims) == len(claims["claims"])


def test_a_bad_cell_is_named_and_nothing_is_typed():
    arms = _read("arms")
    arms.loc[3, "n"] = "-5"
    check = _extraction(arms=arms)
    assert not check.ok and not check.sheets
    assert any(p.file == "arms.csv" and p.row == 5 and p.column == "n" for p in check.problems), check.problems


def test_sheets_are_checked_against_each_other():
    arms = _read("arms")
    arms.loc[0, "study_id"] = "nosuch2099"
    check = _extraction(arms=arms)
    assert any(p.file == "arms.csv" and p.row == 2 and p.column == "study_id" for p in check.problems), check.problems


def test_a_header_only_studies_sheet_is_refused():
    check = _extraction(studies=_read("studies").iloc[:0])
    assert any(p.file == "studies.csv" and "header only" in p.message for p in check.problems)


def _reported_only(contrasts: pd.DataFrame) -> GroupCheck:
    """The embedded studies with an arm sheet of its header only and ``contrasts``."""
    raw = {"studies": _read("studies"), "arms": _read("arms").iloc[:0], "contrasts": contrasts}
    return validate_group("extraction", raw, SCHEMAS, {n: f"{n}.csv" for n in raw})


def test_a_review_of_reported_effects_only_may_leave_the_arm_sheet_a_header():
    study = _read("studies").study_id[0]
    reported = pd.DataFrame([{
        "study_id": study, "arm1_id": "cbt", "arm1_type": "psychotherapy", "arm2_id": "wl", "arm2_type": "waiting_list",
        "phase": "acute", "outcome": "symptoms", "timepoint_weeks": "12", "analysis_population": "ITT", "n1": "40",
        "n2": "42", "measure": "SMD", "estimate": "-0.5", "se": "0.22", "scale": "BDI-II", "source": "doi:10.1000/x",
        "locator": "Table 2"}])
    check = _reported_only(reported)
    assert check.ok, check.problems
    assert not len(check.sheets["arms"]) and len(check.sheets["contrasts"]) == 1
    # without a reported effect the arm sheet must have rows, as before
    check = _reported_only(reported.iloc[:0])
    assert [str(p) for p in check.problems] == ["arms.csv: no data rows: the sheet has a header only"]


def test_risk_of_bias_names_an_unknown_study_in_the_users_file():
    rob = _read("risk_of_bias")
    rob.loc[0, "study_id"] = "nosuch2099"
    check = validate_group("risk_of_bias", {"risk_of_bias": rob}, SCHEMAS, {"risk_of_bias": "rob.csv"},
                           validated_studies=_read("studies"), studies_label="my_studies.csv")
    assert not check.ok and any(p.file == "rob.csv" and p.row == 2 for p in check.problems)
    assert any("my_studies.csv" in p.message for p in check.problems)


def test_unknown_group_is_an_error():
    with pytest.raises(ValueError, match="unknown validation group"):
        validate_group("nosuch", {}, SCHEMAS, {})


# --- what a spreadsheet does to numbers and codes, named with its fix ---------------------


def _binary_row(arms: pd.DataFrame) -> int:
    """Position of the first binary-outcome arm row with printed events."""
    return int(((arms.outcome == "response") & arms.events.ne("")).to_numpy().nonzero()[0][0])


@pytest.mark.parametrize("cell, message", [
    ("45%", "'45%' is not a number: enter 45 without the % sign"),
    ("45,5", "'45,5' is not a number: use a decimal point, 45.5"),
    ("1 234", "'1 234' is not a number: write it without thousands separators, 1234"),
])
def test_a_number_typed_as_a_spreadsheet_shows_it_gets_its_fix(cell, message):
    arms = _read("arms")
    i = _binary_row(arms)
    arms.loc[i, "percent"] = cell
    (problem,) = _extraction(arms=arms).problems
    assert (problem.row, problem.column) == (i + 2, "percent") and problem.message.startswith(message)


def test_a_code_in_another_case_gets_the_right_spelling():
    arms = _read("arms")
    arms.loc[0, "arm_type"] = "Medication"
    (problem,) = [p for p in _extraction(arms=arms).problems if p.column == "arm_type"]
    assert problem.row == 2 and problem.message.endswith(": write 'medication'")


def test_a_proportion_in_the_percent_column_is_refused():
    arms = _read("arms")
    i = _binary_row(arms)
    events, n = int(arms.loc[i, "events"]), int(arms.loc[i, "n"])
    arms.loc[i, ["events", "percent"]] = ["", f"{events / n:.3f}"]
    (problem,) = _extraction(arms=arms).problems
    assert (problem.row, problem.column) == (i + 2, "percent")
    assert problem.message.startswith(f"{events / n:.3f} looks like a proportion: enter the percentage")


def test_a_duplicate_names_the_row_of_its_first_copy():
    studies = _read("studies")
    studies = pd.concat([studies, studies.iloc[[1]]], ignore_index=True)
    (problem,) = _extraction(studies=studies).problems
    assert problem.row == len(studies) + 1 and problem.message.endswith("(first at row 3)")
    arms = _read("arms")
    arms = pd.concat([arms, arms.iloc[[4]]], ignore_index=True)
    (problem,) = _extraction(arms=arms).problems
    assert problem.row == len(arms) + 1 and problem.message.endswith("already appears at row 6")


def test_an_excel_cell_formatted_as_a_percentage_is_refused(tmp_path):
    import openpyxl

    from depmeta.review.reading import read_sheet
    from depmeta.review.sheets import SheetError

    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "arms"
    ws.append(["study_id", "n", "percent"])
    ws.append(["t1", 76, 0.632])
    ws["C2"].number_format = "0.0%"
    ws.append(["t2", 80, 45.0])
    book.save(tmp_path / "book.xlsx")
    with pytest.raises(SheetError) as err:
        read_sheet(str(tmp_path / "book.xlsx"), "arms", label="book.xlsx [sheet arms]")
    (problem,) = err.value.problems
    assert (problem.file, problem.row, problem.column) == ("book.xlsx [sheet arms]", 2, "percent")
    assert "holds the proportion 0.632" in problem.message and "enter 63.2 for 63.2 %" in problem.message


def test_a_week_is_given_on_every_row_of_a_trial_and_outcome_or_on_none():
    arms = _read("arms")
    study, outcome = arms.loc[0, ["study_id", "outcome"]]
    rows = arms.index[(arms.study_id == study) & (arms.outcome == outcome)]
    arms.loc[rows, ["timepoint_weeks", "analysis_population"]] = ""  # none: valid (end of treatment)
    assert _extraction(arms=arms).ok
    arms.loc[rows[1:], "timepoint_weeks"] = "12"  # some: refused, naming the first blank row
    (problem,) = _extraction(arms=arms).problems
    assert (problem.row, problem.column) == (rows[0] + 2, "timepoint_weeks")
    assert "give the week on every row of a trial and outcome, or on none" in problem.message


def test_drug_classes_and_therapy_types_are_the_protocols_open_lists():
    arms = _read("arms")
    i = int(arms.index[arms.drug_class.eq("SSRI")][0])
    arms.loc[i, "drug_class"] = "NaSSA"
    (problem,) = _extraction(arms=arms).problems
    assert (problem.row, problem.column) == (i + 2, "drug_class")
    assert problem.message.startswith("'NaSSA' is not a drug class of this review's protocol: add it to "
                                      "vocabulary.drug_classes in the protocol, or use one of 'SSRI'")
    raw = {name: _read(name) for name in GROUPS["extraction"]} | {"arms": arms}
    extended = {"drug_classes": ["SSRI", "SNRI", "TCA", "MAOI", "NaSSA", "other"]}
    check = validate_group("extraction", raw, SCHEMAS, {n: f"{n}.csv" for n in raw}, vocabulary=extended)
    assert check.ok and "NaSSA" in set(check.sheets["arms"].drug_class)
    arms.loc[i, "drug_class"] = "ssri"
    (problem,) = _extraction(arms=arms).problems
    assert problem.message.endswith(": write 'SSRI'")
