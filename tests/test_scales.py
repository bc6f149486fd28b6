"""Several symptom scales per arm and change scores (depmeta.review.scales): which rows a
trial's contrasts use, what is listed as not used and why, what the validation accepts and
refuses, and the averaged SMD against the engine's own pieces."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import ROOT
from depmeta import escalc
from depmeta.review.analysis import AnalysisOptions, assemble_contrasts, run_meta_analyses
from depmeta.review.scales import ScaleOptions, scale_rank, select_scales
from depmeta.review.sheets import coerce, prepare_arms
from depmeta.review.validation import GROUPS, validate_group
from depmeta.stats.effects import aggregate_correlated

SCHEMAS = {p.name.split(".")[0]: yaml.safe_load(p.read_text()) for p in (ROOT / "workflow" / "schemas").glob("*.yaml")}
STUDIES = pd.DataFrame([{"study_id": s, "label": s.title(), "year": "2019", "age_group": "adult",
                         "condition": "MDD", "design": "acute", "risk_of_bias": "not assessed",
                         "reference": f"{s} trial report", "doi": "10.1000/x"} for s in ("s1", "s2", "s3")])


def row(study, arm_id, arm_type, scale, mean, sd=6.0, n=40, score_type="", tp="8"):
    return {"study_id": study, "arm_id": arm_id, "arm_type": arm_type, "treatment": arm_id, "phase": "acute",
            "outcome": "symptoms", "timepoint_weeks": tp, "analysis_population": "ITT", "n": str(n),
            "mean": str(mean), "sd": str(sd), "scale": scale, "score_type": score_type,
            "source": "doi:10.1000/x", "locator": "Table 2"}


def validate(rows):
    raw = {"studies": STUDIES.astype(str), "arms": pd.DataFrame(rows).astype(str)}
    return validate_group("extraction", raw, SCHEMAS, {"studies": "studies.csv", "arms": "arms.csv"})


def sheets(rows):
    check = validate(rows)
    assert check.ok, [str(p) for p in check.problems]
    return {**check.sheets, "arms": check.sheets["arms"]}


def formed(rows, **scales):
    opts = AnalysisOptions(outcomes=("symptoms",), comparisons=("psychotherapy_vs_control",),
                           **{f"scale_{k}" if k != "change_scores" else k: v for k, v in scales.items()})
    return assemble_contrasts(sheets(rows), opts, hazard=False)


TWO_SCALES = [row("s1", "cbt", "psychotherapy", "BDI-II", 14.0, 8.0), row("s1", "cbt", "psychotherapy", "HRSD-17", 9.0),
              row("s1", "wl", "waiting_list", "HRSD-17", 12.0), row("s1", "wl", "waiting_list", "BDI-II", 19.0, 9.0)]


def test_priority_names_versions_and_ranks_unlisted_scales_last():
    prio = ("HRSD", "MADRS", "BDI")
    assert [scale_rank(s, prio) for s in ("HRSD-17", "hrsd 24", "MADRS", "MADRS-S", "BDI-II", "bdi-2", "DSSQ")] \
        == [0, 0, 1, 3, 2, 2, 3]


def test_several_scales_per_arm_validate_and_get_row_ids_of_their_own():
    check = validate(TWO_SCALES)
    assert check.ok
    ids = prepare_arms(check.sheets["arms"]).row_id.tolist()
    assert ids == ["s1:cbt:symptoms:8w:ITT:BDI-II", "s1:cbt:symptoms:8w:ITT:HRSD-17",
                   "s1:wl:symptoms:8w:ITT:HRSD-17", "s1:wl:symptoms:8w:ITT:BDI-II"]


def test_the_same_scale_twice_is_a_duplicate_named_with_its_fix():
    (problem,) = validate([*TWO_SCALES, row("s1", "wl", "waiting_list", "BDI-II", 18.0)]).problems
    assert (problem.file, problem.row, problem.column) == ("arms.csv", 6, "arm_id")
    assert "scale BDI-II (endpoint) already appears at row 5" in problem.message
    assert "another scale (or score_type)" in problem.message
    # the same scale as a change from baseline is a row of its own
    assert validate([*TWO_SCALES, row("s1", "wl", "waiting_list", "BDI-II", -4.0, score_type="change")]).ok


def test_a_score_type_on_a_binary_row_is_refused_with_the_fix():
    binary = {**row("s1", "cbt", "psychotherapy", "", "", ""), "outcome": "response", "mean": "", "sd": "",
              "events": "12", "score_type": "change"}
    (problem,) = validate([*TWO_SCALES, binary]).problems
    assert (problem.row, problem.column) == (6, "score_type") and "leave it blank" in problem.message


def test_priority_rule_uses_the_first_listed_scale_and_lists_the_other():
    got = formed(TWO_SCALES)
    (c,) = got.contrasts.to_dict("records")
    assert (c["scale"], c["score_type"], c["source_kind"]) == ("HRSD-17", "endpoint", "arms")
    assert (c["mean1"], c["mean2"]) == (9.0, 12.0)
    apart = got.unused.set_index(got.unused.row_ids.str[0]).reason
    assert apart["s1:cbt:symptoms:8w:ITT:BDI-II"] == (
        "not used: the trial's symptoms contrasts at week 8 (ITT) use HRSD-17 (the scale most of its arms report, "
        "then analysis.scales.priority)")
    # the protocol's own order
    (c,) = formed(TWO_SCALES, priority=("BDI", "HRSD")).contrasts.to_dict("records")
    assert c["scale"] == "BDI-II"


def test_average_rule_averages_the_scales_smds_as_metafor_aggregate():
    got = formed(TWO_SCALES, rule="average", rho=0.5)
    (c,) = got.contrasts.to_dict("records")
    assert c["source_kind"] == "averaged" and c["scale"] == "BDI-II; HRSD-17" and not len(got.unused)
    es = escalc("SMD", m1i=[14.0, 9.0], sd1i=[8.0, 6.0], n1i=[40, 40], m2i=[19.0, 12.0], sd2i=[9.0, 6.0],
                n2i=[40, 40])
    g, v = aggregate_correlated(es.yi, es.vi, 0.5)
    assert (c["reported_yi"], c["reported_se"]) == (pytest.approx(g, rel=1e-12), pytest.approx(np.sqrt(v), rel=1e-12))
    _, per_study, _ = run_meta_analyses(got.contrasts, {"s1": "S1"}, AnalysisOptions(min_studies=1))
    assert per_study.yi.iloc[0] == pytest.approx(g, rel=1e-12)


def test_arms_sharing_no_scale_are_listed_not_compared_across_instruments():
    rows = [row("s2", "cbt", "psychotherapy", "HRSD-17", 9.0), row("s2", "wl", "waiting_list", "BDI-II", 19.0)]
    got = formed(rows)
    assert not len(got.contrasts)
    assert set(got.unused.reason) == {"not used: the trial's arms share no symptoms scale at week 8 (ITT) "
                                      "(cbt: HRSD-17; wl: BDI-II); an SMD compares arms on one scale"}


def test_an_arm_without_the_chosen_scale_is_listed_with_the_reason():
    rows = [*TWO_SCALES, row("s1", "ipt", "psychotherapy", "BDI-II", 15.0, 8.0)]
    got = formed(rows)  # BDI-II is reported by all three arms: it is the scale of the slice
    (c,) = got.contrasts.to_dict("records")
    assert c["scale"] == "BDI-II" and c["arms1"] == "cbt;ipt"
    assert got.unused.reason.str.contains("use BDI-II (the scale most of its arms report", regex=False).sum() == 2


def test_change_scores_are_listed_by_default_and_used_where_the_protocol_allows():
    rows = [row("s3", "cbt", "psychotherapy", "HRSD-17", -9.0, score_type="change"),
            row("s3", "wl", "waiting_list", "HRSD-17", -4.0, score_type="change")]
    got = formed(rows)
    assert not len(got.contrasts) and got.unused.reason.str.startswith(
        "not used: a change from baseline (analysis.change_scores.use is never").all()
    got = formed(rows, change_scores="when_no_endpoint")
    (c,) = got.contrasts.to_dict("records")
    assert c["score_type"] == "change" and c["mean1"] - c["mean2"] == -5.0  # lower is better for both
    # endpoint scores shared by the arms are preferred to change scores
    both = [*rows, row("s3", "cbt", "psychotherapy", "BDI-II", 12.0), row("s3", "wl", "waiting_list", "BDI-II", 15.0)]
    got = formed(both, change_scores="when_no_endpoint")
    (c,) = got.contrasts.to_dict("records")
    assert (c["scale"], c["score_type"]) == ("BDI-II", "endpoint")
    assert got.unused.reason.str.contains("a change from baseline; the trial's symptoms contrasts", regex=False).all()


def test_other_outcomes_and_one_scale_per_arm_pass_unchanged():
    raw = pd.read_csv(ROOT / "data" / "arms.csv", dtype=str, keep_default_na=False)
    arms = prepare_arms(coerce(raw, SCHEMAS["arms"]))
    for opts in (ScaleOptions(), ScaleOptions(rule="average")):
        kept, apart = select_scales(arms, opts)
        assert kept.equals(arms) and not len(apart)


def test_options_from_the_protocol():
    opts = AnalysisOptions.from_config({"scales": {"rule": "average", "priority": ["MADRS", "HRSD"], "rho": 0.6},
                                        "change_scores": {"use": "when_no_endpoint"}})
    assert opts.scales == ScaleOptions("average", ("MADRS", "HRSD"), 0.6, "when_no_endpoint")
    assert opts.scales.one_scale().rule == "priority"
    with pytest.raises(ValueError, match="analysis.scales.rule"):
        ScaleOptions(rule="mean")


def test_the_default_priority_is_the_config_schemas():
    from depmeta.review.vocabulary import SCALE_PRIORITY

    spec = SCHEMAS["config"]["properties"]["analysis"]["properties"]["scales"]["properties"]
    assert tuple(spec["priority"]["default"]) == SCALE_PRIORITY == AnalysisOptions().scale_priority
    assert GROUPS["extraction"][1] == "arms"


def test_the_methods_say_the_scale_rule_and_name_pooled_change_scores():
    from depmeta.report.sections import symptom_scales_section

    opts = {**AnalysisOptions(outcomes=("symptoms",)).__dict__}
    studies = pd.DataFrame({"study_id": ["s1", "s3"], "label": ["Smith 2019", "Jones 2020"]})
    per_study = pd.DataFrame({"comparison": ["psychotherapy_vs_control"] * 2, "outcome": ["symptoms"] * 2,
                              "study_id": ["s1", "s3"], "score_type": ["endpoint", "endpoint"]})
    text = symptom_scales_section(opts, per_study, studies)
    assert "use one scale: the one most of its arms report, then the first in the order HRSD, HAMD" in text
    assert "change from baseline is not used, its rows are listed as unused data" in text
    assert "pooled together" not in text
    mixed = symptom_scales_section({**opts, "change_scores": "when_no_endpoint", "scale_rule": "average"},
                                   per_study.assign(score_type=["endpoint", "change"]), studies)
    assert "averaged within the trial assuming a correlation of 0.5" in mixed
    assert ("**Change and endpoint scores pooled together.** Psychotherapy vs control, symptoms: 1 trial "
            "(Jones 2020) enters with the SMD of change from baseline") in mixed
    assert symptom_scales_section({**opts, "outcomes": ("response",)}, per_study, studies) == ""


#: Pooled REML estimates against metafor (roots found to 1e-12 on both sides): the project's
#: promise of six significant digits.
RTOL_POOLED = 1e-6
#: Each trial's g, or average of g's (closed forms on both sides): order of summation only.
RTOL_EFFECT = 1e-10


@pytest.mark.parametrize("rule", ["priority", "average"])
def test_the_metapsy_subset_pools_as_metafor_under_either_rule(tmp_path, rule):
    """The outside review of tests/reviews/metapsy_subset.py through validation, the scale rule and
    pooling (the workflow end to end: tests/test_outside_reviews.py), against
    tests/reference/generate_metapsy_subset.R, which applies the rules to the database on its own."""
    import json

    from reviews import metapsy_subset

    from conftest import shared_path

    dataset = shared_path("datasets", "metapsy", "depression-psyctr.csv")
    protocol = yaml.safe_load(metapsy_subset.write_review(dataset, tmp_path).read_text())
    raw = {name: pd.read_csv(tmp_path / protocol["sheets"][name], dtype=str, keep_default_na=False)
           for name in ("studies", "arms", "contrasts")}
    check = validate_group("extraction", raw, SCHEMAS, {n: f"{n}.csv" for n in raw},
                           vocabulary=protocol["vocabulary"])
    assert check.ok, [str(p) for p in check.problems]
    # the reference is metafor's rma() with its default z test
    opts = AnalysisOptions.from_config({**protocol["analysis"], "scales": {"rule": rule}, "test": "z"})
    got = assemble_contrasts(check.sheets, opts, hazard=False)
    summary, per_study, _ = run_meta_analyses(got.contrasts, {}, opts)
    ref = json.loads((ROOT / "tests" / "reference" / "metapsy_subset.json").read_text())
    ref = ref["average"] if rule == "average" else ref
    (pooled,) = summary.to_dict("records")
    assert pooled["k"] == ref["k"]
    for ours, theirs in (("estimate", "estimate"), ("se", "se"), ("ci_low", "ci_lb"), ("ci_high", "ci_ub"),
                         ("tau2", "tau2"), ("q", "q")):
        assert pooled[ours] == pytest.approx(ref[theirs], rel=RTOL_POOLED), ours
    theirs = pd.DataFrame(ref["studies"]).set_index("study_id")
    ours = per_study.set_index("study_id").loc[theirs.index]
    assert ours.yi.to_numpy() == pytest.approx(theirs.yi.to_numpy(), rel=RTOL_EFFECT)
    assert ours.vi.to_numpy() == pytest.approx(theirs.vi.to_numpy(), rel=RTOL_EFFECT)
    if rule == "average":
        assert ((ours.source_kind == "averaged") == (theirs.scales > 1)).all()
