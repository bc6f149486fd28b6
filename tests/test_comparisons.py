"""Comparisons the protocol defines (config ``analysis.comparisons``): sides by strategy, arm type,
drug class, therapy type or treatment; within-strategy comparisons pooled from arms, reported
effects and hazard ratios; the network estimate named for a comparison whose sides are nodes."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import yaml
from test_contrasts import arm, sheet

from conftest import reported_rows
from depmeta.review.analysis import AnalysisOptions, run_meta_analyses
from depmeta.review.comparisons import Side, check_comparisons, comparison_set, side_texts
from depmeta.review.contrasts import form_contrasts
from depmeta.review.hazard import hazard_contrasts
from depmeta.review.networks import NetworkOptions, network_tables, outcome_networks
from depmeta.review.nodes import node_comparisons, node_of, node_order
from depmeta.review.protocol import check_protocol
from depmeta.review.vocabulary import STRATEGY

SSRI_VS_TCA = {"name": "SSRI_vs_TCA", "arm1": {"strategy": "medication", "drug_class": "SSRI"},
               "arm2": {"strategy": "medication", "drug_class": "TCA"}}
SSRI_VS_PLACEBO = {"name": "SSRI_vs_placebo", "arm1": {"strategy": "medication", "drug_class": "SSRI"},
                   "arm2": {"arm_type": "placebo"}}
CBT_VS_WL = {"name": "CBT_vs_waiting_list", "arm1": {"strategy": "psychotherapy", "therapy_type": ["CBT", "CT"]},
             "arm2": {"arm_type": "waiting_list"}}


def typed(study, arm_id, arm_type, n, events, drug_class="", therapy_type="", **kw):
    return {**arm(study, arm_id, arm_type, n, events, **kw), "drug_class": drug_class, "therapy_type": therapy_type}


def test_a_side_holds_the_arms_matching_every_key_it_gives():
    ssri = Side.from_config(SSRI_VS_TCA["arm1"])
    assert ssri.matches("medication", "SSRI") and not ssri.matches("combined", "SSRI")
    assert not ssri.matches("medication", "TCA") and not ssri.matches("medication", "")
    cbt = Side.from_config(CBT_VS_WL["arm1"])
    assert cbt.therapy_type == ("CBT", "CT") and cbt.matches("psychotherapy", "", "CT")
    wl = Side.from_config({"arm_type": "waiting_list"})
    assert wl.matches("waiting_list") and not wl.matches("placebo") and wl.strategies() == {"control"}
    named = Side.from_config({"strategy": "medication", "treatment": "Fluoxetine"})
    assert named.matches("medication", treatment=" fluoxetine ") and not named.matches("medication", treatment="x")
    # the six comparisons of the strategies by name; the effect is the first side relative to the second
    (default,) = comparison_set(["combined_vs_control"])
    assert default.arm1 == Side("combined") and default.arm2 == Side("control")
    assert default.orient(("combined", "", "", ""), ("usual_care", "", "", "")) == 1
    assert default.orient(("placebo", "", "", ""), ("combined", "", "", "")) == -1
    assert default.orient(("medication", "", "", ""), ("placebo", "", "", "")) == 0
    assert side_texts("SSRI_vs_waiting_list") == ("SSRI", "waiting list")
    with pytest.raises(ValueError, match="unknown comparison 'drug_vs_pill'"):
        comparison_set(["drug_vs_pill"])


def test_the_protocol_check_refuses_comparisons_that_cannot_be_told_apart():
    overlap = {"name": "medication_vs_SSRI", "arm1": {"strategy": "medication"},
               "arm2": {"strategy": "medication", "drug_class": "SSRI"}}
    unknown = {"name": "NaSSA_vs_placebo", "arm1": {"strategy": "medication", "drug_class": "NaSSA"},
               "arm2": {"arm_type": "placebo"}}
    wrong = {"name": "x_vs_y", "arm1": {"strategy": "medication", "arm_type": "placebo"},
             "arm2": {"arm_type": "waiting_list"}}
    again = {**SSRI_VS_TCA, "name": "TCA_vs_SSRI", "arm1": SSRI_VS_TCA["arm2"], "arm2": SSRI_VS_TCA["arm1"]}
    problems = check_comparisons([SSRI_VS_TCA, overlap, unknown, wrong, SSRI_VS_TCA, again])
    assert problems[0] == ("analysis.comparisons.1: the sides of medication_vs_SSRI can hold the same arm; make "
                           "them differ in strategy, arm type, drug class, therapy type or treatment")
    assert problems[1] == ("analysis.comparisons.2.arm1.drug_class: 'NaSSA' is not in the review's drug_classes "
                           "(SSRI, SNRI, TCA, MAOI, other); add it to vocabulary.drug_classes")
    assert problems[2].startswith("analysis.comparisons.3.arm1: arm type placebo is not medication")
    assert "analysis.comparisons.4: the name 'SSRI_vs_TCA' is used twice" in problems[3]
    assert problems[-1] == "analysis.comparisons.5: TCA_vs_SSRI compares the same arms as SSRI_vs_TCA"
    # the review's own vocabulary extends what a side may name; the six strategies' comparisons pass
    assert check_comparisons([unknown], {"drug_classes": ["SSRI", "NaSSA"]}) == []
    assert check_comparisons(["combined_vs_medication", "medication_vs_control", SSRI_VS_PLACEBO, CBT_VS_WL]) == []
    config = {"sheets": {"studies": "s.csv", "arms": "a.csv"}, "analysis": {"comparisons": [overlap]}}
    assert any(p.startswith("analysis.comparisons.0: the sides of medication_vs_SSRI") for p in check_protocol(config))


def test_the_config_schema_takes_names_and_definitions():
    from pathlib import Path

    import jsonschema

    schema = yaml.safe_load((Path(__file__).resolve().parents[1] / "workflow" / "schemas"
                             / "config.schema.yaml").read_text())
    config = yaml.safe_load((Path(__file__).resolve().parents[1] / "config" / "config.yaml").read_text())
    config["analysis"]["comparisons"] = ["medication_vs_control", SSRI_VS_TCA, CBT_VS_WL]
    jsonschema.validate(config, schema)
    for bad in ({"name": "SSRI_vs_TCA", "arm1": {"drug_class": "SSRI"}, "arm2": SSRI_VS_TCA["arm2"]},  # no strategy
                {**SSRI_VS_TCA, "name": "SSRI versus TCA"},  # not <side>_vs_<side>
                {**SSRI_VS_TCA, "arm2": {"strategy": "drugs"}}):
        config["analysis"]["comparisons"] = [bad]
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(config, schema)


def test_a_comparison_within_a_strategy_is_pooled_from_the_arms():
    arms = sheet(typed("t1", "ssri", "medication", 50, 30, "SSRI"), typed("t1", "tca", "medication", 50, 20, "TCA"),
                 typed("t2", "tca", "medication", 40, 18, "TCA"), typed("t2", "ssri", "medication", 40, 22, "SSRI"),
                 typed("t2", "pbo", "placebo", 40, 10),
                 typed("t3", "snri", "medication", 30, 15, "SNRI"), typed("t3", "tca", "medication", 30, 12, "TCA"))
    opts = AnalysisOptions(outcomes=("response",), test="z",
                           comparisons=("medication_vs_control", SSRI_VS_TCA, SSRI_VS_PLACEBO))
    assert [c.name for c in opts.comparisons] == ["medication_vs_control", "SSRI_vs_TCA", "SSRI_vs_placebo"]
    c, unused = form_contrasts(arms, comparisons=opts.comparisons, outcomes=["response"])
    ssri_tca = c[c.comparison == "SSRI_vs_TCA"].set_index("study_id")
    assert list(ssri_tca.index) == ["t1", "t2"]
    assert (ssri_tca.events1.tolist(), ssri_tca.events2.tolist()) == ([30, 22], [20, 18])
    # a trial enters every comparison its arms are the sides of: t2's SSRI arm against placebo,
    # and both its drug arms together against placebo
    assert c[c.comparison == "SSRI_vs_placebo"].events1.tolist() == [22]
    assert c[c.comparison == "medication_vs_control"].events1.tolist() == [40]
    # t3 (SNRI vs TCA) is in no comparison of the protocol, and said so
    why = set(unused[unused.study_id == "t3"].reason)
    assert why == {"not used in the pairwise analyses: every arm of the trial is medication (a comparison within a "
                   "strategy; analysis.comparisons can define one)"}
    summary, per_study, _ = run_meta_analyses(c, {}, opts)
    row = summary.set_index("comparison").loc["SSRI_vs_TCA"]
    assert row.k == 2 and row.n_patients == 180
    # the first study's log risk ratio, SSRI relative to TCA
    assert per_study[per_study.comparison == "SSRI_vs_TCA"].yi.iloc[0] == pytest.approx(math.log(30 / 20))
    record = opts.record()
    assert record["comparisons"] == ["medication_vs_control", "SSRI_vs_TCA", "SSRI_vs_placebo"]
    assert set(record["comparison_definitions"]) == {"SSRI_vs_TCA", "SSRI_vs_placebo"}
    assert "comparison_definitions" not in AnalysisOptions().record()
    assert record["comparison_definitions"]["SSRI_vs_placebo"] == {
        "name": "SSRI_vs_placebo", "arm1": {"strategy": "medication", "drug_class": ["SSRI"]},
        "arm2": {"arm_type": ["placebo"]}}
    assert AnalysisOptions.from_config({"comparisons": [SSRI_VS_TCA]}).comparisons == comparison_set([SSRI_VS_TCA])


def test_reported_effects_and_hazard_ratios_take_their_arms_classes_from_the_arm_sheet():
    arms = sheet(typed("t1", "tca", "medication", 50, 20, "TCA"), typed("t1", "ssri", "medication", 50, 30, "SSRI"))
    # a reported OR of TCA relative to SSRI, without classes on the row: the arm sheet gives them,
    # and the effect is turned to SSRI relative to TCA
    rep = reported_rows([{"study_id": "t1", "arm1_id": "tca", "arm1_type": "medication", "arm2_id": "ssri",
                          "arm2_type": "medication", "phase": "acute", "outcome": "remission", "measure": "OR",
                          "estimate": "0.5", "ci_low": "0.25", "ci_high": "1.0", "analysis_population": "ITT",
                          "source": "doi:10.1/x", "locator": "Table 2"},
                         {"study_id": "t2", "arm1_id": "a", "arm1_type": "medication", "arm1_drug_class": "SSRI",
                          "arm2_id": "b", "arm2_type": "medication", "arm2_drug_class": "TCA", "phase": "acute",
                          "outcome": "remission", "measure": "OR", "estimate": "1.5", "ci_low": "1.0",
                          "ci_high": "2.25", "analysis_population": "ITT", "source": "doi:10.1/x",
                          "locator": "Table 2"}])
    c, unused = form_contrasts(arms, rep, comparisons=[SSRI_VS_TCA], outcomes=["remission"], binary_measure="OR")
    assert c.set_index("study_id").reported_yi.to_dict() == pytest.approx({"t1": math.log(2.0), "t2": math.log(1.5)})
    assert c.inverted.tolist() == [True, False] and not (unused.sheet == "contrasts").any()
    hr = reported_rows([{"study_id": "t1", "arm1_id": "tca", "arm1_type": "medication", "arm2_id": "ssri",
                         "arm2_type": "medication", "phase": "maintenance", "outcome": "relapse", "measure": "HR",
                         "estimate": "2.0", "ci_low": "1.0", "ci_high": "4.0", "followup_months": "12",
                         "analysis_population": "ITT", "source": "doi:10.1/x", "locator": "Table 3"}])
    h, h_unused = hazard_contrasts(hr, [SSRI_VS_TCA], arms=arms)
    assert h.comparison.tolist() == ["SSRI_vs_TCA"] and h.reported_yi.tolist() == pytest.approx([-math.log(2.0)])
    # without the arm sheet the row names no class, and no side of the comparison holds its arms
    _, h_unused = hazard_contrasts(hr, [SSRI_VS_TCA])
    assert h_unused.reason.tolist() == ["not used: medication vs medication is not a comparison selected in config"]


@pytest.mark.parametrize("scheme, controls, expected", [
    ("strategy", "merged", {("medication", "control"): "medication_vs_control"}),
    ("strategy", "separate", {("medication", "placebo"): "medication_vs_placebo"}),
    ("arm_type", "separate", {("medication", "placebo"): "medication_vs_placebo"}),
    ("drug_class", "merged", {("medication:SSRI", "medication:TCA"): "SSRI_vs_TCA",
                              ("medication:SSRI", "control"): "SSRI_vs_control"}),
    ("drug_class", "separate", {("medication:SSRI", "medication:TCA"): "SSRI_vs_TCA"}),
    ("treatment", "separate", {("Fluoxetine", "placebo"): "fluoxetine_vs_placebo"}),
    ("treatment", "merged", {("Fluoxetine", "control"): "fluoxetine_vs_control"}),
])
def test_a_comparison_whose_sides_are_nodes_names_the_network_estimate(scheme, controls, expected):
    comps = ["medication_vs_control", SSRI_VS_TCA,
             {"name": "SSRI_vs_control", "arm1": {"strategy": "medication", "drug_class": "SSRI"},
              "arm2": {"strategy": "control"}},
             {"name": "medication_vs_placebo", "arm1": {"strategy": "medication"}, "arm2": {"arm_type": "placebo"}},
             {"name": "fluoxetine_vs_placebo", "arm1": {"treatment": "fluoxetine"}, "arm2": {"arm_type": "placebo"}},
             {"name": "fluoxetine_vs_control", "arm1": {"treatment": "fluoxetine"}, "arm2": {"strategy": "control"}},
             CBT_VS_WL]
    present = ["Fluoxetine", "placebo"] if scheme == "treatment" else ()
    assert node_comparisons(comps, scheme, present, controls) == expected


def test_a_control_side_is_the_only_control_node_of_its_network():
    comps = ["medication_vs_control", "psychotherapy_vs_control",
             {"name": "medication_vs_placebo", "arm1": {"strategy": "medication"}, "arm2": {"arm_type": "placebo"}}]
    # placebo the only control: psychotherapy vs control is psychotherapy vs placebo; the medication vs placebo
    # pair keeps the name of the comparison of that very node
    assert node_comparisons(comps, "strategy", ["medication", "psychotherapy", "placebo"]) == {
        ("medication", "placebo"): "medication_vs_placebo", ("psychotherapy", "placebo"): "psychotherapy_vs_control"}
    # two control types: a side of both is no node
    assert node_comparisons(comps, "strategy", ["medication", "psychotherapy", "placebo", "waiting_list"]) == {
        ("medication", "placebo"): "medication_vs_placebo"}
    # a side of some control types is the one of them present
    usual = {"name": "CBT_vs_usual_or_waiting", "arm1": {"strategy": "psychotherapy"},
             "arm2": {"arm_type": ["usual_care", "waiting_list"]}}
    assert node_comparisons([usual], "strategy", ["psychotherapy", "placebo", "waiting_list"]) == {
        ("psychotherapy", "waiting_list"): "CBT_vs_usual_or_waiting"}
    # merged controls: the side is the node control, whatever is present
    assert node_comparisons(comps, "strategy", ["medication", "control"], "merged") == {
        ("medication", "control"): "medication_vs_control", ("psychotherapy", "control"): "psychotherapy_vs_control"}


def test_the_node_per_treatment_scheme():
    assert node_of("medication", "treatment", treatment=" fluoxetine ") == "fluoxetine"
    assert node_of("waiting_list", "treatment") == "waiting_list"
    assert node_order("treatment", ["placebo", "sertraline", "CBT", "amitriptyline"]) == [
        "amitriptyline", "CBT", "sertraline", "placebo"]
    assert node_order("treatment", ["control", "sertraline", "CBT"]) == ["CBT", "sertraline", "control"]
    assert STRATEGY["other_active"] == "other_active"


def test_a_drug_class_network_gives_its_estimates_to_the_protocols_comparisons():
    rows = []
    rng = np.random.default_rng(7)
    for i, (a, b) in enumerate([("SSRI", "placebo"), ("TCA", "placebo"), ("SSRI", "TCA"), ("SSRI", "placebo"),
                                ("TCA", "placebo"), ("SSRI", "TCA")]):
        for cls in (a, b):
            kind = "placebo" if cls == "placebo" else "medication"
            rows.append(typed(f"t{i}", cls.lower(), kind, 60, int(rng.integers(15, 40)),
                              "" if kind == "placebo" else cls))
    arms = sheet(*rows)
    comps = comparison_set([SSRI_VS_TCA, SSRI_VS_PLACEBO, "medication_vs_control"])
    opts = NetworkOptions(outcomes=("response",), nodes="drug_class", comparisons=comps)
    (net,) = outcome_networks(arms, None, opts)
    est = network_tables([net], opts.method)["estimates"]
    named = est[est.comparison != ""].set_index("comparison")
    # the comparisons whose sides are single nodes (control types are nodes of their own); medication_vs_control
    # is not (medication is split, and the controls are not one node)
    assert set(named.index) == {"SSRI_vs_TCA", "SSRI_vs_placebo"}
    assert (named.loc["SSRI_vs_TCA", "treatment1"], named.loc["SSRI_vs_TCA", "treatment2"]) == (
        "medication:SSRI", "medication:TCA")
    assert named.loc["SSRI_vs_placebo", "treatment2"] == "placebo"
    # with the controls merged into one node, a side of every control arm is that node
    (net2,) = outcome_networks(arms, None, NetworkOptions(outcomes=("response",), nodes="drug_class",
                                                          controls="merged",
                                                          comparisons=comparison_set([SSRI_VS_TCA, {
                                                              **SSRI_VS_PLACEBO, "arm2": {"strategy": "control"},
                                                              "name": "SSRI_vs_control"}])))
    est2 = network_tables([net2], "REML")["estimates"]
    row = est2[est2.comparison == "SSRI_vs_control"].iloc[0]
    back = est2[(est2.treatment1 == "control") & (est2.treatment2 == "medication:SSRI")].iloc[0]
    assert row.estimate == pytest.approx(-back.estimate, abs=1e-12)
    assert pd.isna(back.comparison) or back.comparison == ""


def test_the_protocols_own_control_types_and_formats():
    from depmeta.review.sheets import check_open_lists
    from depmeta.review.subgroups import contrast_moderators

    raw = pd.DataFrame({"arm_type": ["psychotherapy", "psychological_placebo", "Waiting_List"],
                        "format": ["group", "", "internet"]})
    found = [str(p) for p in check_open_lists(raw, None, "arms.csv")]
    assert found == [
        "arms.csv, row 3, column 'arm_type': 'psychological_placebo' is not an arm type of this review's protocol: "
        "add it to vocabulary.control_types in the protocol, or use one of 'medication', 'psychotherapy', 'combined', "
        "'other_active', 'placebo', 'usual_care', 'waiting_list', 'no_treatment', 'clinical_management', "
        "'other_control'",
        "arms.csv, row 4, column 'arm_type': 'Waiting_List' is not an arm type of this review's protocol: write "
        "'waiting_list'"]
    own = {"control_types": ["psychological_placebo"]}
    assert [str(p) for p in check_open_lists(raw.iloc[:2], own, "arms.csv")] == []
    assert STRATEGY.get("psychological_placebo") is None and Side("control").matches("psychological_placebo")
    # a side by format, and the format as a subgroup moderator
    arms = sheet({**typed("t1", "cbtg", "psychotherapy", 40, 20, therapy_type="CBT"), "format": "group"},
                 {**typed("t1", "nt", "psychological_placebo", 40, 8)},
                 {**typed("t2", "cbti", "psychotherapy", 30, 14, therapy_type="CBT"), "format": "internet"},
                 {**typed("t2", "nt", "psychological_placebo", 30, 5)})
    group = {"name": "group_CBT_vs_psychological_placebo", "arm1": {"strategy": "psychotherapy", "format": "group"},
             "arm2": {"arm_type": "psychological_placebo"}}
    assert check_comparisons([group], own) == []
    assert check_comparisons([group])[0].startswith(
        "analysis.comparisons.0.arm2.arm_type: 'psychological_placebo' is not")
    c, _ = form_contrasts(arms, comparisons=[group, "psychotherapy_vs_control"], outcomes=["response"])
    assert c[c.comparison == "group_CBT_vs_psychological_placebo"].study_id.tolist() == ["t1"]
    assert c[c.comparison == "psychotherapy_vs_control"].study_id.tolist() == ["t1", "t2"]
    per_study = c.assign(yi=0.1, vi=0.04, label=c.study_id)
    studies = pd.DataFrame({"study_id": ["t1", "t2"], "year": [2001, 2002]})
    mod = contrast_moderators(per_study[per_study.comparison == "psychotherapy_vs_control"], studies, arms)
    assert mod.format.tolist() == ["group", "internet"]
