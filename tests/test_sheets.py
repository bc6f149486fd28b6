"""Validation of the extraction sheets: one message per problem, naming file, row and column."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from depmeta.review.sheets import (
    check_extraction,
    check_open_lists,
    check_risk_of_bias,
    check_sheet,
    coerce,
    prepare_arms,
)

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = {n: yaml.safe_load((ROOT / "workflow" / "schemas" / f"{n}.schema.yaml").read_text())
           for n in ("studies", "arms", "contrasts")}
FILES = {"studies": "studies.csv", "arms": "arms.csv", "contrasts": "contrasts.csv"}


def _read(name):
    return pd.read_csv(ROOT / "data" / f"{name}.csv", dtype=str, keep_default_na=False)


def _problems(arms=None, studies=None):
    studies = _read("studies") if studies is None else studies
    arms = _read("arms") if arms is None else arms
    found = (check_sheet(studies, SCHEMAS["studies"], "studies.csv") + check_sheet(arms, SCHEMAS["arms"], "arms.csv")
             + check_open_lists(arms, None, "arms.csv"))
    if found:
        return found
    return check_extraction(coerce(studies, SCHEMAS["studies"]), coerce(arms, SCHEMAS["arms"]), None, FILES)


def test_embedded_sheets_are_valid():
    assert _problems() == []


def _first_binary_row(arms):
    return int(arms.index[(arms.outcome != "symptoms") & (arms.events != "")][0])


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("events", "12.5", "column 'events': '12.5' is not a whole number"),
        ("events", "-3", "column 'events': -3 is below the minimum 0"),
        ("events", "100000", "events exceed n"),
        ("percent", "120", "column 'percent': 120.0 is above the maximum 100"),
        ("arm_type", "pill", "column 'arm_type': 'pill' is not an arm type of this review's protocol: add it to "
                             "vocabulary.control_types in the protocol, or use one of 'medication'"),
        ("outcome", "recovery", "column 'outcome': 'recovery' is not one of"),
        ("source", "", "column 'source': required value is missing"),
        ("n", "abc", "column 'n': 'abc' is not a whole number"),
        ("study_id", "nobody2000", "column 'study_id': study 'nobody2000' is not in studies.csv"),
    ],
)
def test_bad_cell_is_named(column, value, expected):
    arms = _read("arms")
    i = _first_binary_row(arms)
    arms.loc[i, column] = value
    messages = [str(p) for p in _problems(arms)]
    assert any(m.startswith(f"arms.csv, row {i + 2}") and expected in m for m in messages), messages


def test_sd_must_be_positive_and_symptom_rows_need_sd():
    arms = _read("arms")
    row = arms.iloc[_first_binary_row(arms)].copy()
    row[["outcome", "events", "percent", "mean", "sd"]] = ["symptoms", "", "", "12.0", "0"]
    arms = pd.concat([arms, row.to_frame().T], ignore_index=True)
    messages = [str(p) for p in _problems(arms)]
    assert any(f"row {len(arms) + 1}, column 'sd': 0.0 must be greater than 0" in m for m in messages)


def test_duplicated_arm_row_is_reported_once_per_duplicate():
    arms = _read("arms")
    arms = pd.concat([arms, arms.iloc[[0]]], ignore_index=True)
    messages = [str(p) for p in _problems(arms)]
    dup = [m for m in messages if "duplicated arm row" in m]
    assert len(dup) == 1 and f"row {len(arms) + 1}" in dup[0]


def test_every_problem_is_reported_not_just_the_first():
    arms = _read("arms")
    arms.loc[0, "n"] = "x"
    arms.loc[1, "arm_type"] = "pill"
    arms.loc[2, "source"] = "a paper I read"
    assert len(_problems(arms)) == 3


def test_unknown_and_missing_columns():
    arms = _read("arms").rename(columns={"events": "evnts"})
    messages = [str(p) for p in _problems(arms)]
    assert any("column 'evnts': unknown column" in m for m in messages)


def test_risk_of_bias_needs_its_source():
    studies = _read("studies")
    studies.loc[0, ["risk_of_bias", "rob_source"]] = ["low", ""]
    messages = [str(p) for p in _problems(studies=studies)]
    assert any("row 2, column 'rob_source'" in m for m in messages)


def test_percentages_become_flagged_counts():
    arms = coerce(_read("arms"), SCHEMAS["arms"])
    prepared = prepare_arms(arms)
    derived = prepared[prepared.events_derived]
    assert len(derived), "the embedded data has percentages to derive"
    expected = (derived.percent * derived.n.astype(float) / 100 + 0.5).astype(int)
    assert (derived.events_used == expected).all()
    printed = prepared[prepared.events.notna()]
    assert (printed.events_used == printed.events.astype(float)).all()


ROB_SCHEMA = yaml.safe_load((ROOT / "workflow" / "schemas" / "risk_of_bias.schema.yaml").read_text())
ROB_FILES = {"studies": "studies.csv", "risk_of_bias": "risk_of_bias.csv"}


def _rob_problems(rob):
    found = check_sheet(rob, ROB_SCHEMA, "risk_of_bias.csv")
    if found:
        return found
    return check_risk_of_bias(coerce(rob, ROB_SCHEMA), coerce(_read("studies"), SCHEMAS["studies"]), ROB_FILES)


def test_embedded_risk_of_bias_sheet_is_valid():
    rob = _read("risk_of_bias")
    assert len(rob) and _rob_problems(rob) == []


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("domain", "sequence", "'sequence' is not a RoB1 domain"),
        ("judgement", "some_concerns", "'some_concerns' is not a RoB1 judgement"),
        ("judgement", "probably fine", "column 'judgement': 'probably fine' is not one of"),
        ("tool", "RoB3", "column 'tool': 'RoB3' is not one of"),
        ("study_id", "nobody2000", "study 'nobody2000' is not in studies.csv"),
        ("source", "", "column 'source': required value is missing"),
    ],
)
def test_bad_risk_of_bias_cell_is_named(column, value, expected):
    rob = pd.DataFrame([{"study_id": "derubeis2005", "tool": "RoB1", "domain": "random_sequence",
                         "judgement": "low", "support": "", "source": "doi:10.1/x", "locator": "Table 1",
                         "notes": ""}] * 2)
    rob.loc[1, "domain"] = "allocation_concealment"
    rob.loc[1, column] = value
    messages = [str(p) for p in _rob_problems(rob)]
    assert any(m.startswith("risk_of_bias.csv, row 3") and expected in m for m in messages), messages


def test_same_judgement_twice_from_one_source_is_a_duplicate():
    row = {"study_id": "derubeis2005", "tool": "AHRQ", "domain": "overall", "judgement": "low",
           "support": "", "source": "doi:10.1/x", "locator": "Table 2", "notes": ""}
    rob = pd.DataFrame([row, row, {**row, "source": "doi:10.1/y"}])
    messages = [str(p) for p in _rob_problems(rob)]
    assert messages == [
        "risk_of_bias.csv, row 3, column 'domain': derubeis2005: AHRQ overall from this source already appears"
    ]


def test_risk_of_bias_display_keeps_tool_domains_in_order_and_numbers_sources():
    from depmeta.report.tables import rob_tables

    rob = pd.DataFrame([
        {"study_id": "b", "tool": "RoB1", "domain": "incomplete_data", "judgement": "high", "source": "S1"},
        {"study_id": "b", "tool": "RoB1", "domain": "random_sequence", "judgement": "low", "source": "S1"},
        {"study_id": "a", "tool": "RoB1", "domain": "random_sequence", "judgement": "unclear", "source": "S2"},
        {"study_id": "b", "tool": "RoB1", "domain": "random_sequence", "judgement": "unclear", "source": "S2"},
        {"study_id": "a", "tool": "AHRQ", "domain": "overall", "judgement": "medium", "source": "S3"},
    ])
    tables = rob_tables(rob, {"a": "Alpha 2000", "b": "Beta 2001"})
    assert list(tables) == ["RoB1", "AHRQ"]
    tab, sources = tables["RoB1"]
    assert sources == ["S1", "S2"]
    assert list(tab.columns) == ["Study", "random sequence", "incomplete data", "Source"]
    assert tab.to_dict(orient="records") == [
        {"Study": "Alpha 2000", "random sequence": "unclear", "incomplete data": "–", "Source": "[2]"},
        {
            "Study": "Beta 2001",
            "random sequence": "low [1]; unclear [2]",
            "incomplete data": "high",
            "Source": "[1], [2]",
        },
    ]
    tab, sources = tables["AHRQ"]
    assert sources == ["S3"] and tab.to_dict(orient="records") == [{"Study": "Alpha 2000", "overall": "medium"}]
