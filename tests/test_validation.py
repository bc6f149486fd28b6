"""Validation of the sheets group by group (depmeta.review.validation), without Snakemake:
the embedded review passes, and a planted mistake in each group is named by file, row and
column with nothing typed."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from conftest import ROOT
from depmeta.review.validation import GROUPS, validate_group

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
