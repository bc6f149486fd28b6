"""One vocabulary: the values the sheet and config schemas allow are the ones
depmeta.review.vocabulary defines, and the code's other lists of them (network nodes and their
colours, the Metapsy control codes, the row ids) are built from it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import ROOT
from depmeta.report.network_figure import NODE_COLOUR
from depmeta.review import vocabulary as voc
from depmeta.review.comparisons import DEFAULT_COMPARISONS, SIDE_KEYS
from depmeta.review.metapsy import CONTROL_TYPES as METAPSY_CONTROLS
from depmeta.review.nodes import NODE_ORDER
from depmeta.review.sheets import prepare_arms

SCHEMAS = ROOT / "workflow" / "schemas"


def _schema(name: str) -> dict:
    return yaml.safe_load((SCHEMAS / f"{name}.schema.yaml").read_text())


def _enum(schema: dict, *path: str) -> list:
    node = schema
    for key in path:
        node = node[key]
    return node.get("enum") or node["items"]["enum"]


@pytest.mark.parametrize("sheet, columns", [
    ("arms", ["arm_type"]), ("contrasts", ["arm1_type", "arm2_type"]),
])
def test_arm_types_in_the_sheets_are_the_vocabulary(sheet, columns):
    # the arm types are an open list (the protocol's control types beside the active ones), checked
    # against the vocabulary by the validation, not by the schema
    for col in columns:
        assert "enum" not in _schema(sheet)["properties"][col], (sheet, col)
    column, default, fixed = voc.OPEN_LISTS["control_types"]
    assert column == "arm_type" and (*fixed, *default) == voc.ARM_TYPES and fixed == voc.ACTIVE_TYPES


def test_contrast_sheet_lists_are_the_vocabulary():
    contrasts = _schema("contrasts")
    assert set(_enum(contrasts, "properties", "outcome")) == set(voc.OUTCOMES) == set(voc.MEASURES_OF)
    assert tuple(_enum(contrasts, "properties", "measure")) == voc.CONTRAST_MEASURES
    assert {m for ms in voc.MEASURES_OF.values() for m in ms} == set(voc.CONTRAST_MEASURES)


def test_arm_sheet_lists_are_the_vocabulary():
    arms = _schema("arms")
    assert set(_enum(arms, "properties", "outcome")) == set(voc.OUTCOMES)
    assert tuple(_enum(arms, "properties", "analysis_population")) == (*voc.ANALYSIS_POPULATIONS, "")
    assert tuple(_enum(arms, "properties", "phase")) == voc.PHASES
    # drug classes and therapy types are the protocol's open lists, their defaults the vocabulary's
    vocabulary = _schema("config")["properties"]["vocabulary"]["properties"]
    for key, (column, default, _) in voc.OPEN_LISTS.items():
        assert "enum" not in arms["properties"][column]
        assert tuple(vocabulary[key]["default"]) == default


def test_claim_lists_are_the_vocabulary():
    item = _schema("claims")["properties"]["claims"]["items"]["properties"]
    assert set(_enum(item, "outcome")) == {*voc.OUTCOMES, None}
    assert tuple(_enum(item, "therapy_type")) == voc.THERAPY_TYPES
    assert tuple(_enum(item, "drug_class")) == voc.DRUG_CLASSES


def test_config_lists_are_the_vocabulary():
    cfg = _schema("config")["properties"]
    analysis, network = cfg["analysis"]["properties"], cfg["network"]["properties"]
    assert tuple(analysis["outcomes"]["default"]) == voc.OUTCOMES
    assert tuple(network["outcomes"]["default"]) == voc.OUTCOMES
    assert set(_enum(analysis, "outcomes")) == set(voc.OUTCOMES)
    named, defined = analysis["comparisons"]["items"]["oneOf"]
    assert set(named["enum"]) == set(voc.COMPARISONS) == set(analysis["comparisons"]["default"])
    side = _schema("config")["$defs"]["side"]["properties"]
    assert tuple(side["strategy"]["enum"]) == voc.STRATEGIES
    assert set(side) == {"strategy", *SIDE_KEYS} and set(defined["properties"]) == {"name", "arm1", "arm2"}
    assert tuple(_enum(analysis, "population_preference")) == (*voc.ANALYSIS_POPULATIONS, voc.POPULATION_NOT_REPORTED)
    assert tuple(analysis["population_preference"]["default"]) == (*voc.ANALYSIS_POPULATIONS,
                                                                    voc.POPULATION_NOT_REPORTED)
    assert (ROOT / "config" / "config.yaml").exists()
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    assert tuple(config["analysis"]["outcomes"]) == voc.OUTCOMES


def test_evidence_sheets_name_the_vocabulary():
    for name in ("benchmarks",):
        props = _schema(name)["properties"]
        assert set(_enum(props, "outcome")) == set(voc.OUTCOMES)
        assert set(voc.COMPARISONS) <= set(props["comparison"]["anyOf"][0]["enum"])


def test_code_lists_derive_from_the_vocabulary():
    assert {n: (c.arm1.whole_strategy, c.arm2.whole_strategy) for n, c in DEFAULT_COMPARISONS.items()} \
        == voc.COMPARISONS
    assert set(voc.STRATEGY) == set(voc.ARM_TYPES) and set(voc.STRATEGY.values()) == set(voc.STRATEGIES)
    assert {s for pair in voc.COMPARISONS.values() for s in pair} <= set(voc.STRATEGIES)
    assert set(voc.BINARY_OUTCOMES) | set(voc.CONTINUOUS_OUTCOMES) == set(voc.OUTCOMES)
    assert set(voc.OUTCOME_DIRECTION) == set(voc.OUTCOMES)
    assert NODE_ORDER == (*voc.ARM_TYPES, "control") and set(NODE_ORDER) == set(voc.ARM_TYPES) | set(voc.STRATEGIES)
    assert set(NODE_COLOUR) == set(voc.ARM_TYPES) | set(voc.STRATEGIES)
    assert set(METAPSY_CONTROLS.values()) <= set(voc.CONTROL_TYPES)


def test_row_ids_have_one_format():
    arms = pd.DataFrame([dict(study_id="s1", arm_id="a", arm_type="medication", outcome="response",
                              timepoint_weeks=12.0, analysis_population="ITT", n=10, events=4, percent=None,
                              phase="acute")])
    assert prepare_arms(arms).row_id.tolist() == ["s1:a:response:12w:ITT"] == [voc.arm_row_id(r)
                                                                                for r in arms.itertuples()]
    row = pd.Series(dict(study_id="s1", arm1_id="a", arm2_id="b", outcome="symptoms", timepoint_weeks=8.5,
                         analysis_population="mITT", followup_months=float("nan"), measure="SMD"))
    assert voc.contrast_row_id(row) == "s1:a-vs-b:symptoms:SMD:8.5w:mITT"
    # a hazard ratio by its follow-up (the ids the former hazard-ratio sheet gave, kept)
    hr = row.copy()
    hr.update(dict(outcome="relapse", measure="HR", followup_months=24.0))
    assert voc.contrast_row_id(hr) == "s1:a-vs-b:relapse:HR:24m:mITT"


def test_the_vocabulary_module_is_the_only_definition():
    """No other module spells out the arm types, the outcome list or a row-id format."""
    offenders = []
    for path in (ROOT / "src" / "depmeta").rglob("*.py"):
        if path.name == "vocabulary.py":
            continue
        text = path.read_text()
        for needle in ('"usual_care", "waiting_list"', '("remission", "response", "relapse"', '-vs-{r.arm2_id}',
                       ':{r.timepoint_weeks:g}w:'):
            if needle in text:
                offenders.append(f"{Path(path).relative_to(ROOT)}: {needle}")
    assert not offenders, offenders
