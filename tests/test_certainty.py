"""depmeta.review.certainty: absolute effects, NNT, OIS, Furukawa-Leucht, GRADE and CINeMA rules.

OIS and the Furukawa-Leucht conversion are checked against base R
(tests/reference/certainty.json from tests/reference/generate_certainty.R); every
rule is tested at its boundaries with the arithmetic written out."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from depmeta.review.certainty import (
    APP_DECIMALS,
    CINEMA_DOMAINS,
    GRADE_DOMAINS,
    CertaintyOptions,
    _as_shown,
    certainty_difference,
    cinema_heterogeneity,
    cinema_imprecision,
    cinema_incoherence,
    contribution_domain,
    imprecision_domain,
    inconsistency_domain,
    indirectness_domain,
    outcome_ois,
    publication_bias_domain,
    reporting_bias_domain,
    rob_domain,
    study_rob_levels,
    zone_crossings,
)
from depmeta.review.judgements import CINEMA_LEVELS, Judgement, apply_override, overall_certainty
from depmeta.review.populations import outside_population
from depmeta.review.robustness import robust_inconsistency, robust_publication_bias, robust_rob, robustness_findings
from depmeta.stats.absolute import (
    absolute_effect,
    median_risk,
    nnt,
    optimal_information_size,
    risk_with_intervention,
    smd_to_risk,
)
from depmeta.stats.distributions import norm_ppf

#: R's power.prop.test and pnorm/qnorm agree with scipy's normal quantiles to
#: double precision; 1e-9 relative leaves room for the root-finding tolerance.
RTOL = 1e-9
REF = json.loads((Path(__file__).parent / "reference" / "certainty.json").read_text())
ZONE = (0.8, 1.25)


# ------------------------------------------------------------ absolute effects

def test_risk_with_intervention_rr_or_rd():
    # RR 1.5 at ACR 0.2: 0.2 * 1.5 = 0.30
    assert risk_with_intervention("RR", 1.5, 0.2) == pytest.approx(0.30)
    # OR 2 at ACR 0.2: 2*0.2 / (1 - 0.2 + 2*0.2) = 0.4 / 1.2 = 1/3
    assert risk_with_intervention("OR", 2.0, 0.2) == pytest.approx(1 / 3)
    # RD -0.05 at ACR 0.2: 0.15
    assert risk_with_intervention("RD", -0.05, 0.2) == pytest.approx(0.15)
    # HR 0.5 at ACR 0.4 by the same follow-up: 1 - 0.6 ** 0.5 = 1 - 0.774597 = 0.225403
    assert risk_with_intervention("HR", 0.5, 0.4) == pytest.approx(0.225403, abs=1e-6)
    # HR 1 leaves the risk as it is
    assert risk_with_intervention("HR", 1.0, 0.4) == pytest.approx(0.4)
    # RR 3 at ACR 0.5 would be 1.5: clipped to 1
    assert risk_with_intervention("RR", 3.0, 0.5) == 1.0
    with pytest.raises(ValueError, match="comparator risk"):
        risk_with_intervention("RR", 1.0, 1.2)
    with pytest.raises(ValueError, match="measure"):
        risk_with_intervention("SMD", 0.1, 0.2)


def test_absolute_effect_per_1000_and_nntb():
    # RR 1.25 (1.05 to 1.50), ACR 0.40, good outcome (response):
    # risk 400 -> 500 per 1000 (420 to 600); difference +100 (+20 to +200);
    # NNTB 1/0.1 = 10, CI 1/0.2 = 5 to 1/0.02 = 50.
    a = absolute_effect("RR", 1.25, 1.05, 1.50, 0.40, direction=1)
    assert (a.risk_comparator, a.risk_intervention) == pytest.approx((400, 500))
    assert (a.risk_intervention_low, a.risk_intervention_high) == pytest.approx((420, 600))
    assert (a.difference, a.difference_low, a.difference_high) == pytest.approx((100, 20, 200))
    assert a.nnt.kind == "NNTB" and a.nnt.ci_kind == "NNTB"
    assert (a.nnt.value, a.nnt.ci_low, a.nnt.ci_high) == pytest.approx((10, 5, 50))
    assert a.nnt.text() == "NNTB 10 (5 to 50)"


def test_nnt_bad_outcome_and_altman_form():
    # Relapse (bad outcome): RR 0.5 (0.25 to 1.2) at ACR 0.4: risks 200 (100 to 480);
    # difference -0.2 (-0.3 to +0.08): benefit 0.2 -> NNTB 5; CI crosses 0:
    # NNTB 1/0.3 = 3.33 -> 4 (rounded up) to infinity to NNTH 1/0.08 = 12.5 -> 13.
    a = absolute_effect("RR", 0.5, 0.25, 1.2, 0.4, direction=-1)
    assert a.nnt.kind == "NNTB" and a.nnt.value == pytest.approx(5)
    assert a.nnt.ci_kind == "both"
    assert (a.nnt.ci_low, a.nnt.ci_high) == pytest.approx((1 / 0.3, 12.5))
    assert a.nnt.text() == "NNTB 5 (NNTB 4 to ∞ to NNTH 13)"
    # Harm wholly: good outcome falling by 0.1 (0.05 to 0.2): NNTH 10 (5 to 20)
    h = nnt(-0.1, -0.2, -0.05, direction=1)
    assert (h.kind, h.ci_kind) == ("NNTH", "NNTH")
    assert (h.value, h.ci_low, h.ci_high) == pytest.approx((10, 5, 20))
    # No difference at all: NNT infinite, CI from NNTB 10 through infinity to NNTH 10
    z = nnt(0.0, -0.1, 0.1, direction=1)
    assert z.kind == "none" and math.isinf(z.value) and z.ci_kind == "both"
    assert z.text() == "NNT ∞ (NNTB 10 to ∞ to NNTH 10)"
    # A CI limit exactly at 0 counts as including no effect: NNTB 1/0.1 = 10 to ∞
    e = nnt(0.05, 0.0, 0.1, direction=1)
    assert e.ci_kind == "both" and e.ci_low == pytest.approx(10) and math.isinf(e.ci_high)


@pytest.mark.parametrize("case", REF["furukawa"])
def test_furukawa_leucht_against_r(case):
    # symptoms: lower is better (direction -1), so negative g is a benefit
    assert smd_to_risk(case["g"], case["cer"], direction=-1) == pytest.approx(case["eer"], rel=RTOL)


def test_furukawa_leucht_sign_and_hand_value():
    # g = -0.5 (fewer symptoms) at CER 0.2: Phi(Phi^-1(0.2) + 0.5) = Phi(-0.8416 + 0.5) = Phi(-0.3416) = 0.3663
    assert smd_to_risk(-0.5, 0.2) == pytest.approx(0.36632, abs=1e-5)
    assert smd_to_risk(0.5, 0.2) < 0.2          # more symptoms: fewer responders
    assert smd_to_risk(0.0, 0.3) == pytest.approx(0.3)
    # an outcome where higher is better: +0.5 is the benefit
    assert smd_to_risk(0.5, 0.2, direction=1) == pytest.approx(smd_to_risk(-0.5, 0.2))
    with pytest.raises(ValueError, match="control event rate"):
        smd_to_risk(-0.5, 0.0)


def test_median_risk():
    # risks 10/50 = 0.2, 30/100 = 0.3, 5/10 = 0.5 -> median 0.3; the n = 0 arm is ignored
    assert median_risk([10, 30, 5, 1], [50, 100, 10, 0]) == pytest.approx(0.3)
    # even count: (0.2 + 0.3) / 2 = 0.25
    assert median_risk([10, 30], [50, 100]) == pytest.approx(0.25)
    assert math.isnan(median_risk([], []))


@pytest.mark.parametrize("case", REF["ois"])
def test_ois_binary_against_r(case):
    assert optimal_information_size(case["acr"], rrr=case["rrr"]) == case["total"]


@pytest.mark.parametrize("case", REF["smd_ois"])
def test_ois_continuous_against_r(case):
    assert optimal_information_size(smd=case["smd"]) == case["total"]


def test_ois_by_hand():
    # ACR 0.4, RRR 25%: p2 = 0.3, pbar = 0.35; z = 1.959964, 0.841621;
    # (1.959964*sqrt(2*.35*.65) + 0.841621*sqrt(.24+.21))^2 / 0.1^2 = 1.886642^2 / 0.01 = 355.94 -> 356 per group
    assert optimal_information_size(0.4) == 712
    # stricter alpha needs more patients
    assert optimal_information_size(0.4, alpha=0.01) > 712
    with pytest.raises(ValueError, match="acr"):
        optimal_information_size(None)


# ------------------------------------------------------------ study-level risk of bias

def test_study_rob_levels():
    studies = pd.DataFrame({"study_id": ["a", "b", "c", "d", "e"],
                            "risk_of_bias": ["high", "not assessed", "not assessed", "not assessed", "not assessed"]})
    rob = pd.DataFrame({"study_id": ["b", "b", "c", "c", "d"], "judgement": ["low", "high", "low", "unclear", "low"]})
    out = study_rob_levels(studies, rob).set_index("study_id").level.to_dict()
    assert out == {"a": "high", "b": "high", "c": "some_concerns", "d": "low", "e": "not assessed"}


# ------------------------------------------------------------ GRADE domains

def test_rob_domain_boundaries():
    # weights 50/30/20: high 50% -> very serious (>= 50%)
    assert rob_domain([50, 30, 20], ["high", "low", "low"]).downgrade == 2
    # high 49% + some concerns 1% = 50% -> serious
    j = rob_domain([49, 1, 50], ["high", "some_concerns", "low"])
    assert (j.level, j.downgrade) == ("serious", 1)
    assert j.reason == "weight 49% high risk, 1% some concerns, 50% low risk"
    # high 30% + some concerns 19.9% = 49.9% < 50% -> no
    assert rob_domain([30, 19.9, 50.1], ["high", "some_concerns", "low"]).level == "no"
    # some concerns count with high risk for serious (not for very serious)
    assert rob_domain([60, 40], ["some_concerns", "low"]).level == "serious"
    # unnormalised weights are normalised: 1 of 2 equal weights some concerns = 50% -> serious
    assert rob_domain([3, 3], ["some_concerns", "low"]).level == "serious"
    with pytest.raises(ValueError, match="weights"):
        rob_domain([0, 0], ["low", "low"])
    with pytest.raises(ValueError, match="study levels must be"):
        rob_domain([1], ["unclear"])
    with pytest.raises(ValueError, match="not_assessed must be flag or a study level"):
        rob_domain([1], ["low"], not_assessed="moderate")


ROB_NOT_ASSESSED_CASES = [
    # (weights, levels, not_assessed, level, why)
    ([40, 30, 30], ["low", "high", "some_concerns"], "flag", "serious",
     "all assessed: high 30% + some concerns 30% = 60% -> serious, nothing set aside"),
    ([40, 60], ["low", "high"], "flag", "very serious", "all assessed: high 60% -> very serious"),
    ([50, 50], ["not assessed", "not assessed"], "flag", "not assessed", "none assessed: not assessed, no downgrade"),
    ([1], ["not assessed"], "flag", "not assessed", "a single unassessed trial"),
    ([50, 50], ["not assessed", "high"], "flag", "not assessed",
     "unassessed trials carry exactly half (the serious_share): not assessed, the high half does not decide"),
    ([49, 51], ["not assessed", "high"], "flag", "very serious",
     "unassessed 49%: judged on the assessed 51%, all high"),
    ([49, 51], ["not assessed", "low"], "flag", "no", "unassessed 49% set aside: the assessed trials are at low risk"),
    ([51, 49], ["not assessed", "low"], "flag", "not assessed", "unassessed 51%: not assessed"),
    ([50, 50], ["not assessed", "low"], "some_concerns", "serious",
     "counted as some concerns: 50% >= serious_share -> serious (the rule before the flag)"),
    ([49, 51], ["not assessed", "low"], "some_concerns", "no", "counted as some concerns: 49% < 50% -> no"),
    ([50, 50], ["not assessed", "low"], "high", "very serious", "counted as high risk: 50% -> very serious"),
    ([50, 50], ["not assessed", "low"], "low", "no", "counted as low risk"),
]


@pytest.mark.parametrize("w, lev, na, level, why", ROB_NOT_ASSESSED_CASES, ids=[x[-1] for x in ROB_NOT_ASSESSED_CASES])
def test_rob_domain_not_assessed_worked_cases(w, lev, na, level, why):
    j = rob_domain(w, lev, 0.5, 0.5, not_assessed=na)
    assert j.level == level and j.downgrade == {"no": 0, "serious": 1, "very serious": 2, "not assessed": 0}[level]
    # the share without an assessment is in the reason whenever there are such trials
    assert ("from trials without an assessment" in j.reason) == ("not assessed" in lev)


def test_rob_domain_not_assessed_reasons_follow_the_cinema_rule():
    j = rob_domain([70, 30], ["not assessed", "high"])
    assert j.reason == "weight 70% from trials without an assessment; 30% high risk, 0% some concerns, 0% low risk"
    assert j.rule.endswith("; trials without an assessment set aside, the domain not assessed when they carry >= 50% "
                           "of the weight")
    j = rob_domain([20, 80], ["not assessed", "low"])
    assert j.reason == ("weight 0% high risk, 0% some concerns, 100% low risk (the assessed trials; 20% from trials "
                        "without an assessment set aside)")
    j = rob_domain([70, 30], ["not assessed", "low"], not_assessed="some_concerns")
    assert j.reason.endswith("(70% from trials without an assessment, counted as some concerns)")
    assert j.rule.endswith("a trial without an assessment counts as some concerns")
    # the same weights and states give the same verdict as CINeMA's within-study bias (one rule, one threshold)
    for w, lev in (([50, 50], ["not assessed", "high"]), ([49, 51], ["not assessed", "high"]),
                   ([30, 70], ["not assessed", "low"])):
        cin = contribution_domain("within-study bias", w, ["high" if x == "high" else x for x in lev], "average",
                                  "flag")
        assert (rob_domain(w, lev).level == "not assessed") == (cin.level == "not assessed")


def test_inconsistency_boundaries():
    # I² 50% exactly and PI 0.9 to 1.4 includes 1 -> serious
    assert inconsistency_domain(50.0, 0.9, 1.4, 5, 1.0, ZONE).level == "serious"
    # I² 49.9% -> no, whatever the PI
    assert inconsistency_domain(49.9, 0.5, 2.0, 5, 1.0, ZONE).level == "no"
    # I² 80% but PI 1.05 to 1.9 excludes 1 -> no
    assert inconsistency_domain(80.0, 1.05, 1.9, 5, 1.0, ZONE).level == "no"
    # I² 75% and PI 0.79 to 1.26 beyond both zone limits -> very serious
    assert inconsistency_domain(75.0, 0.79, 1.26, 5, 1.0, ZONE).downgrade == 2
    # I² 75% but PI 0.8 to 1.26: touches the lower limit without passing it -> serious only
    assert inconsistency_domain(75.0, 0.80, 1.26, 5, 1.0, ZONE).level == "serious"
    # one study: not assessable, no downgrade
    j = inconsistency_domain(0.0, math.nan, math.nan, 1, 1.0, ZONE)
    assert (j.level, j.downgrade) == ("not assessable", 0)
    # no PI: I² alone decides
    assert inconsistency_domain(60.0, math.nan, math.nan, 2, 1.0, ZONE).level == "serious"
    # SMD: null 0, zone -0.2 to 0.2
    assert inconsistency_domain(76, -0.3, 0.25, 4, 0.0, (-0.2, 0.2)).level == "very serious"


def test_indirectness_is_proportional_to_the_weight_outside_the_question():
    # the share of weight from trials outside the question's population, at the defaults: serious from 50%,
    # very serious when all of it
    j = indirectness_domain([1, 2], [False, True])
    assert j.level == "serious" and j.reason.startswith("trials outside adults and older adults carry 67% of")
    assert indirectness_domain([1, 2], [True, True]).level == "very serious"
    assert indirectness_domain([2, 1], [False, True]).level == "no"
    assert indirectness_domain([3], [False]).level == "no"
    # exactly 50% at a 50% threshold counts
    assert indirectness_domain([1, 1], [False, True]).level == "serious"
    # thresholds from the protocol, and the question's population named in the reason and the rule
    j = indirectness_domain([46, 54], [True, False], serious_share=0.25, very_serious_share=0.75,
                            population="adults")
    assert (j.level, j.downgrade) == ("serious", 1) and "trials outside adults carry 46% of the weight" in j.reason
    assert "very serious if trials outside adults carry >= 75% of the weight, serious if >= 25%" in j.rule
    assert indirectness_domain([72, 28], [True, False], 0.25, 0.75).level == "serious"
    assert indirectness_domain([80, 20], [True, False], 0.25, 0.75).level == "very serious"
    # the configured judgement wins, with its reason
    j = indirectness_domain([1], [False], configured={"level": "very serious", "reason": "inpatients only"})
    assert (j.level, j.downgrade, j.reason) == ("very serious", 2, "inpatients only")


def test_one_definition_of_indirect_trials_for_grade_and_cinema():
    studies = pd.DataFrame({"study_id": ["a", "y", "o"], "age_group": ["adult", "adolescent", "older_adult"]})
    opts = CertaintyOptions.from_config({"indirectness": {"population": ["adult", "older_adult"],
                                                          "cinema_indirect": "high"}})
    assert outside_population(studies, opts.indirect_population) == {"y"}
    assert outside_population(studies, ("adult",)) == {"y", "o"}
    assert CertaintyOptions().indirect_population == ("adult", "older_adult")
    # GRADE: the share of the per-study weights; CINeMA: the level of those trials in the contribution rule
    per_study = pd.DataFrame({"comparison": "c", "outcome": "response", "study_id": ["a", "y"],
                              "weight": [30.0, 70.0]})
    ps = per_study[per_study.weight.notna()]
    share = indirectness_domain(ps.weight, ps.study_id.isin(outside_population(studies, opts.indirect_population)),
                                opts.indirect_serious_share, opts.indirect_very_serious_share)
    assert share.level == "serious" and "70%" in share.reason
    j = contribution_domain("indirectness", [30, 70], ["low", opts.cinema_indirect], "majority")
    assert j.level == "major concerns"


def test_imprecision_boundaries():
    # GRADE guidelines 6: precision adequate when the CI excludes RR 1 and the OIS is met; rate down when the
    # CI includes appreciable benefit or harm (RR < 0.75 or > 1.25). Thresholds T = (0.75, 1.25).
    T = (0.75, 1.25)
    # CI 1.05 to 1.20 excludes 1, N 800 >= OIS 712 -> no
    assert imprecision_domain(1.05, 1.20, 1.0, T, 800, 712).level == "no"
    # N 711 < 712 -> serious, whatever the CI
    assert imprecision_domain(1.05, 1.20, 1.0, T, 711, 712).level == "serious"
    # N exactly at OIS: not short -> no
    assert imprecision_domain(1.05, 1.20, 1.0, T, 712, 712).level == "no"
    # CI 1.00 to 1.20 includes 1 (limit exactly 1) but stays within 0.75-1.25, OIS met -> no
    # (a precise estimate of little or no effect is not rated down)
    j = imprecision_domain(1.00, 1.20, 1.0, T, 5000, 712)
    assert j.level == "no" and "includes no effect" in j.reason and "within 0.75 to 1.25" in j.reason
    # CI 0.90 to 1.26 includes 1 and passes 1.25 (appreciable harm or benefit) -> serious even with the OIS met
    j = imprecision_domain(0.90, 1.26, 1.0, T, 5000, 712)
    assert j.level == "serious" and "reaches above 1.25" in j.reason
    # CI 0.90 to 1.25: the upper limit at the threshold does not pass it -> no
    assert imprecision_domain(0.90, 1.25, 1.0, T, 5000, 712).level == "no"
    # CI 1.10 to 1.60 excludes 1 and the OIS is met: adequate although it reaches beyond 1.25 -> no
    assert imprecision_domain(1.10, 1.60, 1.0, T, 5000, 712).level == "no"
    # CI 0.74 to 1.26: appreciable benefit and harm both -> very serious
    j = imprecision_domain(0.74, 1.26, 1.0, T, 5000, 712)
    assert j.downgrade == 2 and "reaches below 0.75 and above 1.25" in j.reason
    # CI 0.75 to 1.26: lower limit at the threshold -> serious, not very serious
    assert imprecision_domain(0.75, 1.26, 1.0, T, 5000, 712).downgrade == 1
    # SMD: null 0, thresholds from the zone -0.2 to 0.2; CI -0.25 to 0.05 includes 0, passes -0.2 -> serious
    assert imprecision_domain(-0.25, 0.05, 0.0, (-0.2, 0.2), 500, 394).level == "serious"


def test_grade_thresholds_default_and_config():
    # RR/OR default to GRADE 6's rough guide 0.75 / 1.25; other measures fall back to the zone
    o = CertaintyOptions()
    assert o.grade_thresholds("RR") == (0.75, 1.25) and o.grade_thresholds("OR") == (0.75, 1.25)
    assert o.grade_thresholds("SMD") == (-0.2, 0.2) and o.grade_thresholds("RD") == (-0.05, 0.05)
    c = CertaintyOptions.from_config({"imprecision": {"thresholds": {"RR": [0.8, 1.25], "SMD": [-0.5, 0.5]}}})
    assert c.grade_thresholds("RR") == (0.8, 1.25) and c.grade_thresholds("SMD") == (-0.5, 0.5)
    assert c.grade_thresholds("OR") == (0.75, 1.25)


def test_publication_bias():
    # 9 studies: not assessable even with p = 0.001
    j = publication_bias_domain(9, 0.001)
    assert (j.level, j.downgrade) == ("not assessable", 0)
    # 10 studies: p 0.099 < 0.10 -> serious; p 0.10 -> no
    assert publication_bias_domain(10, 0.099).level == "serious"
    assert publication_bias_domain(10, 0.10).level == "no"
    assert publication_bias_domain(12, None).level == "not assessable"


def test_overall_certainty_and_override():
    js = [rob_domain([1], ["high"], serious_share=0.5, very_serious_share=1.1),
          imprecision_domain(0.74, 1.26, 1.0, (0.75, 1.25), 100, 712)]
    # 4 - (1 + 2) = 1: very low
    c = overall_certainty(js)
    assert (c.score, c.word, c.symbols, c.downgrades) == (1, "very low", "⊕◯◯◯", 3)
    # floor at very low
    assert overall_certainty(js + js).score == 1
    assert overall_certainty([]).symbols == "⊕⊕⊕⊕"
    assert overall_certainty([js[0]]).word == "moderate"
    o = apply_override(js[0], "no", "blinded outcome assessment in all trials")
    assert (o.level, o.downgrade, o.overridden, o.rule) == ("no", 0, True, "reviewer override")
    assert "blinded outcome assessment" in o.reason and "rule gave serious" in o.reason
    with pytest.raises(ValueError, match="reason"):
        apply_override(js[0], "no", " ")
    with pytest.raises(ValueError, match="not one of"):
        apply_override(js[0], "some concerns", "x")
    assert apply_override(js[0], "some concerns", "x", cinema=True).downgrade == 1


# ------------------------------------------------------------ CINeMA

def test_contribution_rules():
    c = [0.5, 0.3, 0.2]
    lev = ["low", "moderate", "high"]
    # average: 0.5*1 + 0.3*2 + 0.2*3 = 1.7 -> rounds to 2: some concerns
    j = contribution_domain("within-study bias", c, lev, "average")
    assert (j.level, j.downgrade) == ("some concerns", 1) and "1.70" in j.reason
    # majority: low has 50% -> no concerns
    assert contribution_domain("within-study bias", c, lev, "majority").level == "no concerns"
    # highest: a high study contributes -> major concerns
    assert contribution_domain("within-study bias", c, lev, "highest").level == "major concerns"
    # average exactly 1.5 (half low, half moderate) rounds up -> some concerns
    assert contribution_domain("indirectness", [1, 1], ["low", "moderate"], "average").level == "some concerns"
    # 1.49: (0.51*1 + 0.49*2) = 1.49 -> no concerns
    assert contribution_domain("indirectness", [0.51, 0.49], ["low", "moderate"], "average").level == "no concerns"
    # 2.5 (half moderate, half high) -> major
    assert contribution_domain("indirectness", [1, 1], ["moderate", "high"], "average").level == "major concerns"
    # majority tie between low and high goes to the worse level
    assert contribution_domain("indirectness", [1, 1], ["low", "high"], "majority").level == "major concerns"
    # highest ignores studies contributing nothing
    assert contribution_domain("indirectness", [1, 0], ["low", "high"], "highest").level == "no concerns"
    with pytest.raises(ValueError, match="low, moderate or high"):
        contribution_domain("indirectness", [1], ["unclear"])
    # indirectness is judged for every study: a study without a judgement is an error there
    with pytest.raises(ValueError, match="low, moderate or high, got \\['not assessed'\\]"):
        contribution_domain("indirectness", [1], ["not assessed"])


NOT_ASSESSED_CASES = [
    # (contributions, levels, rule, not_assessed, level, why)
    ([0.5, 0.5], ["not assessed", "high"], "average", "flag", "not assessed",
     "unassessed trials carry exactly half: not assessed, no downgrade"),
    ([0.99, 0.01], ["not assessed", "high"], "highest", "flag", "not assessed",
     "99% unassessed: the 1% at high risk does not decide"),
    ([0.49, 0.51], ["not assessed", "high"], "average", "flag", "major concerns",
     "51% assessed, all high: judged on the assessed trials"),
    ([0.2, 0.5, 0.3], ["not assessed", "low", "high"], "average", "flag", "some concerns",
     "assessed 0.5 low + 0.3 high -> 62.5% low, 37.5% high: mean 1.75 -> some concerns"),
    ([0.2, 0.5, 0.3], ["not assessed", "low", "high"], "majority", "flag", "no concerns",
     "assessed: low carries the majority"),
    ([0.5, 0.5], ["not assessed", "high"], "average", "moderate", "major concerns",
     "counted as moderate: 0.5*2 + 0.5*3 = 2.5 -> major concerns"),
    ([1.0], ["not assessed"], "average", "moderate", "some concerns",
     "all unassessed counted as moderate: some concerns (the rule some concerns)"),
    ([1.0], ["not assessed"], "average", "low", "no concerns", "counted as low"),
    ([0.6, 0.4], ["low", "high"], "average", "flag", "some concerns", "nothing unassessed: the rule as usual"),
]


@pytest.mark.parametrize("c, lev, rule, na, level, why", NOT_ASSESSED_CASES, ids=[x[-1] for x in NOT_ASSESSED_CASES])
def test_within_study_bias_not_assessed_worked_cases(c, lev, rule, na, level, why):
    j = contribution_domain("within-study bias", c, lev, rule, not_assessed=na)
    assert j.level == level and j.downgrade == CINEMA_LEVELS[level]
    shown = "trials without an assessment" in j.reason
    assert shown == ("not assessed" in lev)      # the share without an assessment is always in the reason


def test_within_study_bias_not_assessed_reasons():
    j = contribution_domain("within-study bias", [0.7, 0.3], ["not assessed", "high"], "average", "flag")
    assert j.reason == "contributions 70% from trials without an assessment; 0% low, 0% moderate, 30% high risk"
    assert j.rule.endswith("the domain not assessed when they carry >= 50% of the contributions")
    j = contribution_domain("within-study bias", [0.2, 0.8], ["not assessed", "low"], "average", "flag")
    assert "(the assessed trials; 20% from trials without an assessment set aside)" in j.reason
    j = contribution_domain("within-study bias", [0.7, 0.3], ["not assessed", "high"], "average", "moderate")
    assert "(70% from trials without an assessment, counted as moderate)" in j.reason
    assert j.rule.endswith("a trial without an assessment counts as moderate")
    with pytest.raises(ValueError, match="not_assessed must be flag or a study level"):
        contribution_domain("within-study bias", [1], ["low"], "average", "unclear")


def test_reporting_bias_not_assessed():
    # nothing assessed, rule flag: its own state, no downgrade; the reviewer's reason printed
    j = reporting_bias_domain("not assessed", "no search of registries recorded")
    assert (j.level, j.downgrade) == ("not assessed", 0) and j.reason.endswith("no search of registries recorded")
    # a small-study test without a signal is reported but is not an assessment
    j = reporting_bias_domain("not assessed", k_tested=12, small_study_p=0.40)
    assert j.level == "not assessed" and "p = 0.400" in j.reason
    # a small-study test with p < 0.10 makes it suspected either way
    assert reporting_bias_domain("not assessed", k_tested=12, small_study_p=0.05).level == "some concerns"
    # rule some concerns: counted as suspected
    j = reporting_bias_domain("not assessed", not_assessed="some concerns")
    assert (j.level, j.downgrade) == ("some concerns", 1) and j.reason.endswith("(counted as some concerns)")
    # a reviewer's judgement is not touched by the rule
    assert reporting_bias_domain("suspected", not_assessed="flag").level == "some concerns"
    with pytest.raises(ValueError, match="not_assessed must be one of"):
        reporting_bias_domain("not assessed", not_assessed="unclear")


def test_reporting_bias():
    assert reporting_bias_domain("undetected").level == "no concerns"
    assert reporting_bias_domain("suspected", "no systematic search").reason.endswith("no systematic search")
    assert reporting_bias_domain("strongly suspected").downgrade == 2
    # a small-study test with p < 0.10 lifts undetected to suspected
    assert reporting_bias_domain("undetected", k_tested=12, small_study_p=0.05).level == "some concerns"
    assert reporting_bias_domain("undetected", k_tested=12, small_study_p=0.10).level == "no concerns"
    with pytest.raises(ValueError, match="reporting bias"):
        reporting_bias_domain("low")


# ---------------------------------------------------------------- CINeMA rules as the CINeMA application decides them
# Worked cases: the inputs, the judgement, and why, one per branch of each rule, with the boundaries
# (a limit on a zone limit or on no effect; p at 0.10 and 0.05) and the application's rounding to three
# decimals. ZONE is 0.8 to 1.25, no effect 1; SMD_ZONE -0.2 to 0.2, no effect 0.

SMD_ZONE = (-0.2, 0.2)

ZONE_CROSSINGS = [
    # (low, high, zone_low, zone_high, crossings, why)
    (0.9, 1.1, 0.8, 1.25, 0, "strictly inside"),
    (1.3, 2.0, 0.8, 1.25, 0, "wholly above"),
    (0.5, 0.7, 0.8, 1.25, 0, "wholly below"),
    (0.7, 1.1, 0.8, 1.25, 1, "across the lower limit"),
    (0.7, 0.8, 0.8, 1.25, 1, "ending on the lower limit counts as crossing it"),
    (1.1, 1.5, 0.8, 1.25, 1, "across the upper limit"),
    (1.25, 1.5, 0.8, 1.25, 1, "starting on the upper limit counts as crossing it"),
    (0.7, 1.3, 0.8, 1.25, 2, "across both"),
    (0.8, 1.1, 0.8, 1.25, 0, "starting on the lower limit and ending inside: none"),
    (0.9, 1.25, 0.8, 1.25, 2, "ending on the upper limit from inside: two (the application's arithmetic)"),
    (0.8, 1.3, 0.8, 1.25, 2, "from the lower limit past the upper one: two"),
    (math.nan, math.nan, 0.8, 1.25, 2, "a missing interval: two"),
]


@pytest.mark.parametrize("low, high, zl, zh, n, why", ZONE_CROSSINGS, ids=[c[-1] for c in ZONE_CROSSINGS])
def test_zone_crossings_count_as_the_application(low, high, zl, zh, n, why):
    assert zone_crossings(low, high, zl, zh) == n


def test_limits_and_p_values_are_compared_as_the_application_prints_them():
    # JavaScript's toFixed(3): to three decimals, an exact tie away from zero (0.0625 is exact in binary)
    assert (_as_shown(0.0625), _as_shown(-0.0625), _as_shown(0.1004), _as_shown(0.0996)) == (0.063, -0.063, 0.1, 0.1)
    assert math.isnan(_as_shown(None)) and math.isnan(_as_shown(math.nan)) and APP_DECIMALS == 3
    # an interval bound of a sparse network can be huge: it is a whole number, shown as it is (it overflowed the
    # decimal context of a generated review's rating)
    assert _as_shown(3.136729250975171e+43) == 3.136729250975171e+43 and _as_shown(-2.0 ** 60) == -2.0 ** 60


IMPRECISION = [
    # (estimate, ci_low, ci_high, zone, null, level, why)
    (1.0, 0.85, 1.20, ZONE, 1, "no concerns", "CI strictly inside the zone"),
    (1.5, 1.30, 2.00, ZONE, 1, "no concerns", "above the zone: crosses neither 1 nor 0.8"),
    (1.5, 1.10, 2.00, ZONE, 1, "no concerns", "crosses 1.25 but excludes no effect: the far limit is 0.8"),
    (1.3, 0.95, 1.80, ZONE, 1, "some concerns", "crosses 1, not 0.8"),
    (1.3, 0.75, 2.20, ZONE, 1, "major concerns", "crosses 1 and 0.8"),
    (1.3, 1.00, 1.60, ZONE, 1, "some concerns", "lower limit on no effect counts as crossing it"),
    (1.3, 1.0004, 1.60, ZONE, 1, "some concerns", "1.0004 is printed 1.000: on no effect"),
    (1.3, 1.0006, 1.60, ZONE, 1, "no concerns", "1.0006 is printed 1.001: above no effect"),
    (1.3, 0.80, 1.60, ZONE, 1, "major concerns", "lower limit on 0.8 counts as crossing it"),
    (1.1, 0.80, 1.20, ZONE, 1, "major concerns", "not strictly inside (0.80 on the limit), reaches 0.8"),
    (0.7, 0.50, 0.95, ZONE, 1, "no concerns", "below no effect: the far limit is 1.25"),
    (0.7, 0.50, 1.10, ZONE, 1, "some concerns", "crosses 1, not 1.25"),
    (0.7, 0.50, 1.2496, ZONE, 1, "major concerns", "1.2496 is printed 1.250: on the far limit"),
    (0.7, 0.50, 1.2494, ZONE, 1, "some concerns", "1.2494 is printed 1.249"),
    (1.0, 0.90, 1.30, ZONE, 1, "major concerns", "estimate at no effect, CI not inside the zone: crosses 1 twice"),
    (-0.5, -0.80, -0.25, SMD_ZONE, 0, "no concerns", "SMD: excludes 0"),
    (-0.3, -0.50, 0.10, SMD_ZONE, 0, "some concerns", "SMD: crosses 0, not 0.2"),
    (-0.3, -0.60, 0.20, SMD_ZONE, 0, "major concerns", "SMD: reaches 0.2"),
]


@pytest.mark.parametrize("est, lo, hi, zone, null, level, why", IMPRECISION, ids=[c[-1] for c in IMPRECISION])
def test_cinema_imprecision_worked_cases(est, lo, hi, zone, null, level, why):
    j = cinema_imprecision(est, lo, hi, zone, null)
    assert j.level == level and j.downgrade == CINEMA_LEVELS[level] and "CINeMA application" in j.rule


HETEROGENEITY = [
    # (estimate, ci, pi, level, why); crossings of (CI, PI)
    (1.0, (0.90, 1.10), (0.85, 1.20), "no concerns", "CI inside the zone, PI inside (0, 0)"),
    (1.0, (0.90, 1.10), (0.85, 1.30), "some concerns", "CI inside, PI crosses 1.25 of the whole zone (0, 1)"),
    (1.0, (0.90, 1.10), (0.70, 1.40), "major concerns", "CI inside, PI crosses both zone limits (0, 2)"),
    (1.3, (1.10, 1.50), (1.05, 1.70), "no concerns", "estimate above 1: limits 0.8 and 1; PI excludes 1 (0, 0)"),
    (1.3, (1.10, 1.50), (0.90, 1.80), "some concerns", "PI crosses 1 (0, 1)"),
    (1.3, (1.10, 1.50), (0.70, 2.00), "major concerns", "PI crosses 1 and 0.8 (0, 2)"),
    (1.3, (0.95, 1.50), (0.85, 1.70), "no concerns", "CI and PI both cross 1 (1, 1)"),
    (1.3, (0.95, 1.50), (0.70, 2.00), "some concerns", "PI crosses 0.8 too (1, 2)"),
    (1.3, (0.70, 2.00), (0.50, 3.00), "no concerns", "CI already crosses both (2, 2)"),
    (1.3, (1.10, 1.50), (1.00, 1.70), "some concerns", "PI lower limit on no effect counts (0, 1)"),
    (1.3, (1.10, 1.50), (1.0006, 1.70), "no concerns", "1.0006 is printed 1.001 (0, 0)"),
    (0.7, (0.60, 0.90), (0.50, 1.05), "some concerns", "estimate below 1: limits 1 and 1.25; PI crosses 1 (0, 1)"),
    (1.3, (1.10, 1.50), (math.nan, math.nan), "major concerns", "no PI counts as crossing both (0, 2)"),
    (1.3, (0.95, 1.50), (math.nan, math.nan), "some concerns", "no PI (1, 2)"),
    (1.3, (0.70, 2.00), (math.nan, math.nan), "no concerns", "no PI (2, 2)"),
]


@pytest.mark.parametrize("est, ci, pi, level, why", HETEROGENEITY, ids=[c[-1] for c in HETEROGENEITY])
def test_cinema_heterogeneity_worked_cases(est, ci, pi, level, why):
    j = cinema_heterogeneity(est, *ci, *pi, ZONE, 1.0)
    assert j.level == level and j.downgrade == CINEMA_LEVELS[level]


INCOHERENCE = [
    # (split_p, dbt_p, direct, indirect, has_direct, level, why); areas (below, inside, above) of 0.8 to 1.25
    (0.35, None, (1.3, 2.0), (0.5, 0.75), True, "no concerns", "mixed, side p >= 0.10: no concerns whatever the CIs"),
    (0.100, None, (1.3, 2.0), (0.5, 0.75), True, "no concerns", "mixed, side p exactly 0.10"),
    (0.0996, None, (1.3, 2.0), (0.5, 0.75), True, "no concerns", "side p 0.0996 is printed 0.100"),
    (0.0994, None, (0.9, 1.1), (0.85, 1.2), True, "no concerns", "side p 0.099: CIs agree on 3 areas"),
    (0.05, None, (0.9, 1.1), (1.1, 1.5), True, "some concerns", "(F,T,F) and (F,T,T) agree on 2"),
    (0.05, None, (1.3, 2.0), (0.5, 0.75), True, "major concerns", "(F,F,T) and (T,F,F) agree on 1"),
    (0.05, None, (1.3, 2.0), (0.5, 0.9), True, "major concerns", "(F,F,T) and (T,T,F) agree on 0"),
    (0.05, None, (0.8, 1.1), (1.1, 1.25), True, "no concerns", "a CI on a zone limit does not reach across it"),
    (0.05, None, (0.9, 1.1), (1.25, 1.6), True, "major concerns", "from 1.25 up: (F,F,T) against (F,T,F)"),
    (None, None, (0.9, 1.1), (1.1, 1.5), True, "some concerns", "mixed without a side p: the CIs decide"),
    (None, 0.5, None, None, True, "no concerns", "direct only, design-by-treatment p 0.5"),
    (None, 0.100, None, None, True, "some concerns", "p exactly 0.10 is not above 0.10"),
    (None, 0.1004, None, None, True, "some concerns", "0.1004 is printed 0.100"),
    (None, 0.1006, None, None, True, "no concerns", "0.1006 is printed 0.101"),
    (None, 0.06, None, None, False, "some concerns", "indirect only, p 0.06"),
    (None, 0.0506, None, None, False, "some concerns", "0.0506 is printed 0.051"),
    (None, 0.050, None, None, False, "major concerns", "p exactly 0.05 is not above 0.05"),
    (None, 0.0504, None, None, False, "major concerns", "0.0504 is printed 0.050"),
    (None, 0.001, None, None, True, "major concerns", "direct only, p 0.001"),
    (None, None, None, None, True, "major concerns", "direct only, no test (no loops)"),
    (None, math.nan, None, None, False, "major concerns", "indirect only, no test (p nan)"),
]


@pytest.mark.parametrize("split_p, dbt_p, direct, indirect, has_direct, level, why", INCOHERENCE,
                         ids=[c[-1] for c in INCOHERENCE])
def test_cinema_incoherence_worked_cases(split_p, dbt_p, direct, indirect, has_direct, level, why):
    j = cinema_incoherence(split_p, dbt_p, ZONE, direct, indirect, has_direct=has_direct)
    assert j.level == level and j.downgrade == CINEMA_LEVELS[level]


def test_cinema_incoherence_reasons_and_thresholds():
    j = cinema_incoherence(0.04, None, ZONE, (0.9, 1.1), (1.1, 1.5))
    assert j.reason == ("side-splitting p = 0.040; direct CI 0.900 to 1.100, indirect CI 1.100 to 1.500: agree on 2 "
                        "of 3 areas")
    assert cinema_incoherence(None, 0.0123, ZONE, has_direct=False).reason == (
        "indirect evidence only; random-effects design-by-treatment test p = 0.012")
    assert cinema_incoherence(None, math.nan, ZONE).reason == (
        "direct evidence only; no design-by-treatment test (no loops of designs in the network)")
    # the thresholds are the config's (certainty.incoherence): 0.2 / 0.01
    assert cinema_incoherence(None, 0.15, ZONE, some_p=0.2, major_p=0.01).level == "some concerns"
    assert cinema_incoherence(None, 0.02, ZONE, some_p=0.2, major_p=0.01).level == "some concerns"
    assert cinema_incoherence(0.15, None, ZONE, (1.3, 2.0), (0.5, 0.75), some_p=0.2).level == "major concerns"


def test_options_from_config():
    o = CertaintyOptions.from_config({"zone": {"RR": [0.9, 1.11]}, "risk_of_bias": {"cinema_rule": "highest"},
                                      "imprecision": {"rrr": 0.2}, "overrides": [{"domain": "imprecision"}]})
    assert o.zone["RR"] == (0.9, 1.11) and o.zone["SMD"] == (-0.2, 0.2)
    assert (o.cinema_rule, o.ois_rrr, len(o.overrides)) == ("highest", 0.2, 1)
    assert (o.incoherence_some_p, o.incoherence_major_p) == (0.1, 0.05)  # the CINeMA application's cut-offs
    assert CertaintyOptions.from_config({"incoherence": {"major_p": 0.01}}).incoherence_major_p == 0.01
    assert o.null("OR") == 1.0 and o.null("SMD") == 0.0
    with pytest.raises(ValueError, match="cinema_rule"):
        CertaintyOptions.from_config({"risk_of_bias": {"cinema_rule": "mean"}})
    assert (o.not_assessed, o.reporting_bias) == ("flag", "not assessed")
    assert CertaintyOptions.from_config({"not_assessed": "some concerns"}).not_assessed == "some concerns"
    with pytest.raises(ValueError, match="certainty.not_assessed must be one of some concerns, flag"):
        CertaintyOptions.from_config({"not_assessed": "unclear"})
    assert np.isclose(CertaintyOptions().i2_serious, 50)


# ------------------------------------------------------------ tables (fixtures shaped as the pipeline's outputs)

from depmeta.review.certainty import (  # noqa: E402
    assumed_risks,
    cinema_network,
    grade_pairwise,
    plain_statement,
    sof_rows,
    study_sizes,
)


def _pairwise_fixture():
    studies = pd.DataFrame({"study_id": ["s1", "s2", "s3"], "risk_of_bias": ["low", "high", "not assessed"],
                            "age_group": ["adult", "adult", "adolescent"]})
    per_study = pd.DataFrame({
        "comparison": ["combined_vs_medication"] * 3, "outcome": ["response"] * 3, "measure": ["RR"] * 3,
        "study_id": ["s1", "s2", "s3"], "n1": [100, 100, 50], "n2": [100, 100, 50],
        "events1": [60, 50, 30], "events2": [40, 50, 20], "arms1": ["c", "c", "c"], "arms2": ["m", "m", "m"],
        "timepoint_weeks": [12, 16, 12], "yi": [0.4, 0.0, 0.4], "vi": [0.02, 0.02, 0.04],
        "weight": [40.0, 40.0, 20.0]})
    summary = pd.DataFrame({
        "comparison": ["combined_vs_medication"], "outcome": ["response"], "measure": ["RR"], "k": [3],
        "n_patients": [500], "status": ["pooled"], "i2": [30.0], "estimate_display": [1.2],
        "ci_low_display": [1.05], "ci_high_display": [1.37], "pi_low_display": [0.9], "pi_high_display": [1.6],
        "row_ids": ["r1;r2"]})
    return studies, per_study, summary


def test_assumed_risks_sources():
    _, per_study, _ = _pairwise_fixture()
    rates = pd.DataFrame({"strategy": ["psychotherapy"] * 2, "outcome": ["response"] * 2, "events": [3, 5],
                          "n": [10, 10]})
    opts = CertaintyOptions(assumed_risk={"remission": 0.3})
    r = assumed_risks(per_study, rates, opts, [("combined_vs_medication", "response", "medication"),
                                               ("combined_vs_psychotherapy", "response", "psychotherapy"),
                                               ("combined_vs_medication", "remission", "medication"),
                                               ("combined_vs_control", "relapse", "control")])
    # medication arms: 40/100, 50/100, 20/50 -> 0.4, 0.5, 0.4 -> median 0.4
    assert r[("combined_vs_medication", "response")][0] == pytest.approx(0.4)
    assert "3 trials" in r[("combined_vs_medication", "response")][1]
    # no direct trials: psychotherapy arms 0.3, 0.5 -> 0.4
    assert r[("combined_vs_psychotherapy", "response")] == (pytest.approx(0.4), "median risk of 2 psychotherapy arms "
                                                                                "(no direct trials)")
    assert r[("combined_vs_medication", "remission")] == (0.3, "assumed risk set in the config")
    assert ("combined_vs_control", "relapse") not in r
    # a comparator of one control type without direct trials: the arms of that type, found by their arm ids
    arms = pd.DataFrame({"strategy": "control", "outcome": "relapse", "study_id": ["a", "b", "c"],
                         "arms": ["pbo", "wl", "pbo;wl"], "events": [4, 6, 5], "n": [10, 10, 10]})
    types = {("a", "pbo"): "placebo", ("b", "wl"): "waiting_list", ("c", "pbo"): "placebo", ("c", "wl"): "waiting_list"}
    r = assumed_risks(per_study, arms, opts, [("combined_vs_placebo", "relapse", "", ("placebo",))], types)
    assert r[("combined_vs_placebo", "relapse")] == (pytest.approx(0.4), "median risk of 1 placebo arm "
                                                                          "(no direct trials)")
    assert not assumed_risks(per_study, arms, opts, [("combined_vs_placebo", "relapse", "", ("placebo",))])


def test_grade_pairwise_end_to_end():
    studies, per_study, summary = _pairwise_fixture()
    levels = study_rob_levels(studies, None)
    risks = {("combined_vs_medication", "response"): (0.4, "median")}
    # RoB, rule flag (default): s3 (20%) has no assessment and is set aside; of the assessed weight s2 at high
    # risk carries 40/80 = 50% -> very serious; nothing named not assessed beside the rating
    grade_f, res_f = grade_pairwise(summary, per_study, levels, studies, CertaintyOptions(), risks, {"response": 1})
    rob_f = grade_f.set_index("domain").loc["risk of bias"]
    assert (rob_f.concern, rob_f.downgrade) == ("very serious", 2)
    assert "20% from trials without an assessment set aside" in rob_f.reason
    assert (res_f.iloc[0].certainty, res_f.iloc[0].not_assessed) == ("very low", "")
    # s3 carrying 60%: risk of bias not assessed, no downgrade, named in the row; s3 is an adolescent
    # trial, so its 60% of the weight is also serious indirectness (50% or more outside the population)
    heavy = per_study.assign(weight=[20.0, 20.0, 60.0])
    grade_h, res_h = grade_pairwise(summary, heavy, levels, studies, CertaintyOptions(), risks, {"response": 1})
    rob_h = grade_h.set_index("domain").loc["risk of bias"]
    assert (rob_h.concern, rob_h.downgrade) == ("not assessed", 0)
    assert rob_h.reason.startswith("weight 60% from trials without an assessment")
    assert grade_h.set_index("domain").loc["indirectness", "concern"] == "serious"
    assert (res_h.iloc[0].certainty, res_h.iloc[0].not_assessed) == ("low", "risk of bias")
    # rule some concerns: s3 counts as some concerns (risk_of_bias.cinema_not_assessed moderate)
    opts = CertaintyOptions(not_assessed="some concerns")
    grade, res = grade_pairwise(summary, per_study, levels, studies, opts, risks, {"response": 1})
    g = grade.set_index("domain")
    # RoB: high 40% + some concerns 20% = 60% >= 50% -> serious; high alone 40% < 50%
    assert g.loc["risk of bias", "concern"] == "serious"
    assert "(20% from trials without an assessment, counted as some concerns)" in g.loc["risk of bias", "reason"]
    assert res.iloc[0].not_assessed == ""
    high = CertaintyOptions(not_assessed="some concerns", cinema_not_assessed="high")
    g_high, _ = grade_pairwise(summary, per_study, levels, studies, high, risks, {"response": 1})
    assert g_high.set_index("domain").loc["risk of bias", "concern"] == "very serious"   # high 60%
    # I² 30% < 50% -> no
    assert g.loc["inconsistency", "concern"] == "no"
    # adolescents 20% < 50% -> no
    assert g.loc["indirectness", "concern"] == "no"
    # CI 1.05-1.37 excludes 1; OIS at ACR 0.4 is 712 > 500 patients -> serious
    assert g.loc["imprecision", "concern"] == "serious" and "500 patients < OIS 712" in g.loc["imprecision", "reason"]
    assert g.loc["publication bias", "concern"] == "not assessable"
    r = res.iloc[0]
    # 4 - 2 = 2: low; risk 400 -> 480 per 1000 (420 to 548)
    assert (r.certainty, r.symbols) == ("low", "⊕⊕◯◯")
    assert (r.risk_comparator, r.risk_intervention, r.risk_intervention_low, r.risk_intervention_high) == \
        pytest.approx((400, 480, 420, 548))
    assert r.followup_weeks == "12–16 weeks"
    # an override with its reason, and a small-study test used only from k >= min_studies
    o = CertaintyOptions(overrides=({"domain": "imprecision", "comparison": "combined_vs_medication",
                                     "level": "no", "reason": "OIS met when counting events"},),
                         pb_min_studies=3, not_assessed="some concerns")
    grade2, res2 = grade_pairwise(summary, per_study, levels, studies, o, risks, {"response": 1},
                                  small_study_test=lambda y, v: 0.04)
    g2 = grade2.set_index("domain")
    assert g2.loc["imprecision", "overridden"] and "OIS met when counting events" in g2.loc["imprecision", "reason"]
    assert g2.loc["publication bias", "concern"] == "serious"
    assert res2.iloc[0].certainty == "low"   # imprecision 1 -> 0, publication bias 0 -> 1
    # an imprecision override with a CINeMA level leaves the pairwise (GRADE) judgement alone
    o3 = CertaintyOptions(overrides=({"domain": "imprecision", "level": "no concerns", "reason": "x"},))
    g3, _ = grade_pairwise(summary, per_study, levels, studies, o3, risks, {"response": 1})
    assert not g3.set_index("domain").loc["imprecision", "overridden"]
    with pytest.raises(ValueError, match="neither a GRADE"):
        grade_pairwise(summary, per_study, levels, studies,
                       CertaintyOptions(overrides=({"domain": "imprecision", "level": "low", "reason": "x"},)),
                       risks, {})
    with pytest.raises(ValueError, match="unknown domain"):
        grade_pairwise(summary, per_study, levels, studies,
                       CertaintyOptions(overrides=({"domain": "bias", "level": "no", "reason": "x"},)), risks, {})


def _network_fixture():
    est = pd.DataFrame({
        "outcome": ["response", "response"], "measure": ["RR", "RR"], "treatment1": ["combined", "medication"],
        "treatment2": ["medication", "combined"], "comparison": ["combined_vs_medication", np.nan],
        "estimate_display": [1.3, 1 / 1.3], "ci_low_display": [1.1, 1 / 1.5], "ci_high_display": [1.5, 1 / 1.1],
        "pi_low_display": [1.0, 1 / 1.7], "pi_high_display": [1.7, 1.0],
        "direct_estimate": [np.log(1.3), -np.log(1.3)], "direct_se": [0.1, 0.1], "direct_k": [2, 2],
        "indirect_estimate": [np.log(1.2), -np.log(1.2)], "indirect_se": [0.2, 0.2],
        "split_pval": [0.5, 0.5], "n_studies": [2, 2], "row_ids": ["a;b", "a;b"]})
    # the direct and indirect 95% CIs as the network rule writes them (normal quantile, display scale)
    z = norm_ppf(0.975)
    for kind in ("direct", "indirect"):
        for side, sign in (("low", -1), ("high", 1)):
            est[f"{kind}_ci_{side}_display"] = np.exp(est[f"{kind}_estimate"] + sign * z * est[f"{kind}_se"])
    summ = pd.DataFrame({"outcome": ["response"], "q_between_random_pval": [0.3]})
    contrib = pd.DataFrame({"outcome": ["response"] * 3, "treatment1": ["combined"] * 3,
                            "treatment2": ["medication"] * 3, "study_id": ["s1", "s2", "s3"],
                            "contribution": [0.5, 0.3, 0.2]})
    return est, summ, contrib


def test_cinema_network_end_to_end():
    """The CINeMA rules without the OIS (certainty.imprecision.cinema_ois false: the application's rules);
    the OIS in test_cinema_imprecision_reads_the_optimal_information_size."""
    studies, per_study, _ = _pairwise_fixture()
    est, summ, contrib = _network_fixture()
    levels = study_rob_levels(studies, None)
    opts = CertaintyOptions(cinema_ois=False)
    risks = {("combined_vs_medication", "response"): (0.4, "median")}
    cin, res = cinema_network(est, summ, contrib, levels, studies, per_study, opts, risks, {"response": 1})
    assert len(res) == 1          # only the row naming a project comparison
    c = cin.set_index("domain")
    # within-study bias, rule flag (default): s3 (20%) has no assessment and is set aside; the assessed
    # s1 low 0.5 and s2 high 0.3 -> 62.5% low, 37.5% high: 0.625 + 1.125 = 1.75 -> some concerns
    assert c.loc["within-study bias", "concern"] == "some concerns"
    # indirectness: s3 adolescent (moderate) 0.2: 0.8 + 0.4 = 1.2 -> no concerns
    assert c.loc["indirectness", "concern"] == "no concerns"
    # reporting bias: nothing assessed (the default level) -> its own state, no downgrade
    assert (c.loc["reporting bias", "concern"], c.loc["reporting bias", "downgrade"]) == ("not assessed", 0)
    # estimate 1.3 above no effect: the limits that matter are 1 and 0.8; CI 1.1-1.5 crosses neither
    assert c.loc["imprecision", "concern"] == "no concerns"
    assert c.loc["heterogeneity", "concern"] == "some concerns"           # PI 1.0-1.7 reaches no effect
    assert c.loc["incoherence", "concern"] == "no concerns"               # side-splitting p 0.5 >= 0.10
    r = res.iloc[0]
    # some concerns in 2 domains: 4 - 2 = 2, low, with reporting bias not assessed; patients 200 + 200 + 100
    assert (r.certainty, r.not_assessed, r.k, r.k_direct, r.n_patients) == ("low", "reporting bias", 3, 2, 500)
    # risk 400 -> 520 per 1000 (440 to 600): NNTB 1/0.12 = 8.3 -> 9, CI 1/0.2 = 5 to 1/0.04 = 25
    assert (r.risk_intervention, r.risk_intervention_low, r.risk_intervention_high) == pytest.approx((520, 440, 600))
    assert r.nnt == "NNTB 9 (5 to 25)"
    assert r.row_ids == "a;b"          # the direct evidence's rows without network.json's input rows
    _, res_rows = cinema_network(est, summ, contrib, levels, studies, per_study, opts, risks, {"response": 1},
                                 input_rows={"response": {"s1": ["x1", "x2"], "s3": ["x3"]}})
    assert res_rows.iloc[0].row_ids == "x1;x2;x3"
    # rule some concerns (the earlier behaviour): s3 counts as moderate, 0.5 + 0.9 + 0.4 = 1.8 -> some
    # concerns; reporting bias not assessed -> some concerns: three domains down, very low, nothing flagged
    sc = CertaintyOptions(cinema_ois=False, not_assessed="some concerns")
    cin_sc, res_sc = cinema_network(est, summ, contrib, levels, studies, per_study, sc, risks, {"response": 1})
    c_sc = cin_sc.set_index("domain")
    assert "counted as moderate" in c_sc.loc["within-study bias", "reason"]
    assert c_sc.loc["reporting bias", "concern"] == "some concerns"
    assert (res_sc.iloc[0].certainty, res_sc.iloc[0].not_assessed) == ("very low", "")
    # the unassessed (adolescent) s3 carrying 60%: within-study bias not assessed too; heterogeneity and
    # indirectness (0.4 low + 0.6 moderate = 1.6 -> some concerns) down: low
    most = contrib.assign(contribution=[0.2, 0.2, 0.6])
    cin_na, res_na = cinema_network(est, summ, most, levels, studies, per_study, opts, risks, {"response": 1})
    assert cin_na.set_index("domain").loc["within-study bias", "concern"] == "not assessed"
    assert (res_na.iloc[0].certainty, res_na.iloc[0].not_assessed) == ("low", "within-study bias; reporting bias")
    # a reviewer's judgement of reporting bias (suspected: some concerns), lifted for network estimates by an
    # override: within-study bias and heterogeneity down, 4 - 2 = low (without the override: very low)
    o = CertaintyOptions(cinema_ois=False, reporting_bias="suspected",
                         overrides=({"domain": "reporting bias", "evidence": "network", "level": "no concerns",
                                     "reason": "registries searched"},))
    _, res2 = cinema_network(est, summ, contrib, levels, studies, per_study, o, risks, {"response": 1})
    assert res2.iloc[0].certainty == "low"
    suspected = CertaintyOptions(cinema_ois=False, reporting_bias="suspected")
    _, res3 = cinema_network(est, summ, contrib, levels, studies, per_study, suspected, risks, {"response": 1})
    assert res3.iloc[0].certainty == "very low"
    # a pair with no contributions is an error naming the file
    with pytest.raises(ValueError, match="network_contributions.csv"):
        cinema_network(est, summ, contrib.iloc[:0], levels, studies, per_study, opts, risks, {"response": 1})


def test_study_sizes_count_each_arm_once():
    ps = pd.DataFrame({"study_id": ["t"] * 3, "outcome": ["response"] * 3, "arms1": ["c", "c", "p"],
                       "arms2": ["m", "p", "m"], "n1": [10, 10, 20], "n2": [30, 20, 30]})
    # three arms c 10, m 30, p 20 -> 60, not 120
    assert study_sizes(ps) == {("t", "response"): 60.0}
    # a reported effect without arm sizes counts none, so that a network rating never stops on it
    unknown = pd.DataFrame({"study_id": ["u"], "outcome": ["response"], "arms1": ["a"], "arms2": ["b"],
                            "n1": [np.nan], "n2": [40.0]})
    assert study_sizes(pd.concat([ps, unknown])) == {("t", "response"): 60.0, ("u", "response"): 40.0}


def _rated():
    """The pairwise and network fixtures rated: GRADE and CINeMA judgements and estimates."""
    studies, per_study, summary = _pairwise_fixture()
    est, summ, contrib = _network_fixture()
    levels = study_rob_levels(studies, None)
    opts = CertaintyOptions(cinema_ois=False)
    risks = {("combined_vs_medication", "response"): (0.4, "median")}
    grade, res = grade_pairwise(summary, per_study, levels, studies, opts, risks, {"response": 1})
    cin, net = cinema_network(est, summ, contrib, levels, studies, per_study, opts, risks, {"response": 1})
    return opts, grade, res, cin, net


def test_sof_rows_prefer_network_and_list_downgrades():
    opts, grade, res, cin, net = _rated()
    sof = sof_rows(pd.concat([res, net]), pd.concat([grade, cin]), opts, ["response"],
                   {"combined_vs_medication": ("combined treatment", "medication")})
    assert len(sof) == 2 and list(sof.evidence) == ["network", "pairwise"] and list(sof.primary) == [True, False]
    notes = sof.iloc[0].footnotes
    # downgraded domains and the not-assessed one (reporting bias) get a footnote
    assert [(n["domain"], n["level"]) for n in notes] == [("within-study bias", "some concerns"),
                                                          ("reporting bias", "not assessed"),
                                                          ("heterogeneity", "some concerns")]
    assert sof.iloc[0].statement == "Compared with medication, combined treatment may increase response."
    # pairwise only when there is no network estimate
    sof_p = sof_rows(res, grade, opts, ["response"], {"combined_vs_medication": ("combined treatment", "medication")})
    assert sof_p.iloc[0].evidence == "pairwise" and sof_p.iloc[0].primary
    assert [n["domain"] for n in sof_p.iloc[0].footnotes] == ["risk of bias", "imprecision"]


def test_a_network_estimate_from_one_trial_gives_way_to_a_pairwise_estimate_of_more():
    opts, grade, res, cin, net = _rated()
    pairs = {"combined_vs_medication": ("combined treatment", "medication")}
    one = net.assign(k=1)
    sof = sof_rows(pd.concat([res, one]), pd.concat([grade, cin]), opts, ["response"], pairs)
    assert list(sof.evidence) == ["pairwise", "network"] and list(sof.primary) == [True, False]
    assert list(sof.headline) == [True, False] and list(sof.headline_note) == ["", ""]
    from depmeta.report.summary_of_findings import answer_items, nnt_table, sof_table

    # with no pairwise estimate the single trial's network estimate is still shown, as what there is; a trial
    # at least as large as the optimal information size heads the summary, and says it is one trial
    big = one.assign(n_patients=one.ois.astype(float) + 1)
    sof = sof_rows(big, cin, opts, ["response"], pairs)
    assert list(sof.evidence) == ["network"] and list(sof.primary) == [True] and list(sof.headline) == [True]
    (item,) = answer_items(sof, ["combined_vs_medication"])
    assert "network, one trial" in item[1]  # and it says so where it is printed
    # a smaller one is shown, but heads nothing: no effect statement, no summary estimate, no NNT
    small = one.assign(n_patients=60)
    sof = sof_rows(small, cin, opts, ["response"], pairs)
    ois = float(small.ois.iloc[0])
    assert list(sof.primary) == [True] and list(sof.headline) == [False]
    assert sof.headline_note.iloc[0] == (f"one trial of 60 patients, fewer than the {ois:.0f} the optimal "
                                         "information size asks for")
    (item,) = answer_items(sof, ["combined_vs_medication"])
    assert item[1] == (f"On response, the evidence is one trial of 60 patients, fewer than the {ois:.0f} the optimal "
                       "information size asks for: too little to summarise.")
    tab, notes = sof_table(sof, "combined_vs_medication")
    row = tab.iloc[0]
    assert row["Relative effect (95% CI)"].startswith("not summarised: one small trial (")
    assert row["Risk with medication, per 1000"] == "–"
    assert any("Response rests on one trial of 60 patients" in n and "is not summarised here" in n for n in notes)
    assert not len(nnt_table(sof, ["combined_vs_medication"]))
    assert not len(nnt_table(sof.assign(risk_comparator=np.nan), ["combined_vs_medication"]))  # no risk at all
    # without an optimal information size (no comparator risk) a single trial is not judged large enough
    sof = sof_rows(small.assign(ois=np.nan), cin, opts, ["response"], pairs)
    assert not sof.headline.iloc[0] and "no optimal information size" in sof.headline_note.iloc[0]


def test_plain_statements():
    z = (0.8, 1.25)
    assert plain_statement("A", "B", "response", "RR", 1.3, 4, z) == "Compared with B, A increases response."
    assert plain_statement("A", "B", "response", "RR", 1.3, 3, z) == "Compared with B, A probably increases response."
    assert plain_statement("A", "B", "relapse", "RR", 0.7, 2, z) == "Compared with B, A may reduce relapse."
    # inside the zone (0.8 <= 1.1 <= 1.25): little or no difference
    assert plain_statement("A", "B", "response", "RR", 1.1, 3, z) == \
        "Compared with B, A probably makes little or no difference to response."
    assert plain_statement("A", "B", "symptoms", "SMD", -0.5, 2, (-0.2, 0.2)) == \
        "Compared with B, A may reduce symptom scores."
    assert plain_statement("A", "B", "response", "RR", 1.3, 1, z).startswith("The evidence is very uncertain")


def test_sof_table_format_and_answer():
    from depmeta.report.summary_of_findings import answer_items, sof_table

    studies, per_study, summary = _pairwise_fixture()
    est, summ, contrib = _network_fixture()
    levels = study_rob_levels(studies, None)
    opts = CertaintyOptions(not_assessed="some concerns")  # s3 counted: serious
    risks = {("combined_vs_medication", "response"): (0.4, "median")}
    grade, res = grade_pairwise(summary, per_study, levels, studies, opts, risks, {"response": 1})
    sof = sof_rows(res, grade, opts, ["response"], {"combined_vs_medication": ("combined treatment", "medication")})
    tab, notes = sof_table(sof, "combined_vs_medication")
    assert tab.shape == (1, 6)
    row = tab.iloc[0]
    assert row["Outcome (measure, follow-up)"] == "Response (RR, 12–16 wk) ‡"
    # the assumed comparator risk names its source in a footnote (after the certainty footnotes a, b)
    assert row["Risk with medication, per 1000"] == "400 (c)"
    assert notes[2] == "c. Risk with medication (response): median."
    assert row["Risk with combined treatment, per 1000 (95% CI)"] == "480 (420 to 548)"
    assert row["Relative effect (95% CI)"] == "RR 1.20 (1.05 to 1.37)"
    assert row["Participants (trials)"] == "500 (3)"
    assert row["Certainty"] == "⊕⊕◯◯ low (a,b)"
    assert notes[0].startswith("a. Risk of bias (GRADE: serious, down 1): weight 40% high risk")
    assert notes[1].startswith("b. Imprecision (GRADE: serious, down 1)")
    from depmeta.report.summary_of_findings import nnt_table

    nt = nnt_table(sof, ["combined_vs_medication"]).iloc[0]
    # 480 - 400 = +80 (+20 to +148): NNTB 1/0.08 = 12.5 -> 13, CI 1/0.148 = 6.8 -> 7 to 1/0.02 = 50
    assert (nt["Difference per 1000 (95% CI)"], nt["NNT (95% CI)"]) == ("+80 (+20 to +148)", "NNTB 13 (7 to 50)")
    ((comp, text),) = answer_items(sof, ["combined_vs_medication"])
    assert comp == "combined_vs_medication"
    # RR 1.20 lies inside the zone 0.8-1.25: "little or no difference", "may" for low certainty
    assert text == ("Compared with medication, combined treatment may make little or no difference to response "
                    "(RR 1.20, 95% CI 1.05 to 1.37, 480 vs 400 per 1000, pairwise, 3 trials; low certainty).")


def test_ratings_name_the_domains_not_assessed_beside_them():
    from depmeta.report.summary_of_findings import answer_items, sof_table

    studies, per_study, _ = _pairwise_fixture()
    est, summ, contrib = _network_fixture()
    levels = study_rob_levels(studies, None)
    risks = {("combined_vs_medication", "response"): (0.4, "median")}
    cin, net = cinema_network(est, summ, contrib, levels, studies, per_study, CertaintyOptions(cinema_ois=False), risks,
                              {"response": 1})
    sof = sof_rows(net, cin, CertaintyOptions(cinema_ois=False), ["response"],
                   {"combined_vs_medication": ("combined treatment", "medication")})
    tab, notes = sof_table(sof, "combined_vs_medication")
    # low (within-study bias and heterogeneity down) with reporting bias not assessed and its footnote (b)
    assert tab.iloc[0]["Certainty"] == "⊕⊕◯◯ low; reporting bias not assessed (a,b,c)"
    assert notes[1] == "b. Reporting bias (CINeMA: not assessed): reporting bias not assessed."
    ((_, text),) = answer_items(sof, ["combined_vs_medication"])
    assert text.endswith("; low certainty, reporting bias not assessed).")
    # very low outcomes in one sentence: the domains said once when they share them, else per outcome
    two = pd.concat([sof, sof.assign(outcome="remission")], ignore_index=True).assign(
        certainty="very low", certainty_score=1)
    ((_, text),) = answer_items(two, ["combined_vs_medication"])
    assert text.endswith("per 1000; very low certainty, reporting bias not assessed).")
    assert text.count("not assessed") == 1
    mixed = two.assign(not_assessed=["reporting bias", "within-study bias; reporting bias"])
    ((_, text),) = answer_items(mixed, ["combined_vs_medication"])
    assert "per 1000, reporting bias not assessed; remission:" in text
    assert text.endswith("per 1000, within-study bias and reporting bias not assessed; very low certainty).")


def test_publication_bias_uses_regtest_from_ten_studies():
    from depmeta.stats.bias import regtest

    rng = np.random.default_rng(1)
    k = 10
    vi = rng.uniform(0.01, 0.2, k)
    yi = 0.2 + 1.5 * np.sqrt(vi) + rng.normal(0, 0.05, k)      # strong small-study effect
    ids = [f"t{i}" for i in range(k)]
    studies = pd.DataFrame({"study_id": ids, "risk_of_bias": ["low"] * k, "age_group": ["adult"] * k})
    per_study = pd.DataFrame({"comparison": "combined_vs_medication", "outcome": "response", "study_id": ids,
                              "n1": 50, "n2": 50, "events1": 30, "events2": 20, "arms1": "c", "arms2": "m",
                              "timepoint_weeks": 12, "yi": yi, "vi": vi, "weight": 10.0})
    summary = pd.DataFrame({"comparison": ["combined_vs_medication"], "outcome": ["response"], "measure": ["RR"],
                            "k": [k], "n_patients": [1000], "status": ["pooled"], "i2": [10.0],
                            "estimate_display": [1.5], "ci_low_display": [1.3], "ci_high_display": [1.7],
                            "pi_low_display": [1.2], "pi_high_display": [1.9], "row_ids": ["x"]})
    p = regtest(yi, vi).pval
    assert p < 0.10
    grade, _ = grade_pairwise(summary, per_study, study_rob_levels(studies, None), studies, CertaintyOptions(),
                              {("combined_vs_medication", "response"): (0.4, "m")}, {"response": 1},
                              small_study_test=lambda y, v: regtest(y, v).pval)
    j = grade.set_index("domain").loc["publication bias"]
    assert j.concern == "serious" and f"p = {p:.3f}" in j.reason


def test_override_is_printed_even_without_downgrade():
    from depmeta.report.summary_of_findings import sof_table

    studies, per_study, summary = _pairwise_fixture()
    levels = study_rob_levels(studies, None)
    opts = CertaintyOptions(overrides=({"domain": "risk of bias", "level": "no",
                                        "reason": "outcome assessors blinded in every trial"},))
    risks = {("combined_vs_medication", "response"): (0.4, "median")}
    grade, res = grade_pairwise(summary, per_study, levels, studies, opts, risks, {"response": 1})
    sof = sof_rows(res, grade, opts, ["response"], {"combined_vs_medication": ("combined treatment", "medication")})
    tab, notes = sof_table(sof, "combined_vs_medication")
    # risk of bias no longer lowers the certainty (4 - 1 = moderate) but its reason is printed
    assert tab.iloc[0]["Certainty"] == "⊕⊕⊕◯ moderate (a,b)"
    assert notes[0].startswith("a. Risk of bias (GRADE: no (reviewer)): reviewer judgement: outcome assessors blinded")
    assert "rule gave very serious" in notes[0]     # s2 at high risk: 50% of the assessed weight


def test_rules_table_lists_each_domain_once():
    from depmeta.report.summary_of_findings import rules_table

    studies, per_study, summary = _pairwise_fixture()
    grade, _ = grade_pairwise(summary, per_study, study_rob_levels(studies, None), studies, CertaintyOptions(),
                              {("combined_vs_medication", "response"): (0.4, "m")}, {"response": 1})
    t = rules_table(grade, pd.DataFrame())
    assert list(t.Domain) == ["risk of bias", "inconsistency", "indirectness", "imprecision", "publication bias"]
    assert t.Rule.iloc[0].startswith("very serious if trials at high risk carry >= 50% of the weight")


# ---------------------------------------------------------------- sensitivity findings in GRADE

def _robust_inputs():
    """A pooled RR above 1 (CI 1.10 to 1.60) with two trials, one of them influential."""
    key = ("combined_vs_medication", "response", "RR")
    base = {"comparison": key[0], "outcome": key[1], "measure": key[2]}
    influence = pd.DataFrame([{**base, "study_id": "a", "label": "A 2000", "influential": True, "rstudent": 2.5},
                              {**base, "study_id": "b", "label": "B 2001", "influential": False, "rstudent": -0.3},
                              # influential through its weight only (not outlying): not an inconsistency
                              {**base, "study_id": "c", "label": "C 2002", "influential": True, "rstudent": 0.4}])
    leave1out = pd.DataFrame([{**base, "study_id": "a", "label": "A 2000", "k": 1, "estimate_display": 1.05,
                               "ci_low_display": 0.90, "ci_high_display": 1.22},
                              {**base, "study_id": "b", "label": "B 2001", "k": 1, "estimate_display": 1.40,
                               "ci_low_display": 1.20, "ci_high_display": 1.70},
                              {**base, "study_id": "c", "label": "C 2002", "k": 1, "estimate_display": 1.10,
                               "ci_low_display": 0.70, "ci_high_display": 1.70}])
    alternatives = pd.DataFrame([{**base, "analysis": "low risk of bias only", "k": 2, "estimate_display": 1.02,
                                  "ci_low_display": 0.85, "ci_high_display": 1.21, "note": ""}])
    small = pd.DataFrame([{**base, "k": 12, "status": "run", "egger_pval": 0.40, "trimfill_k0": 3.0,
                           "trimfill_estimate": np.log(1.01), "trimfill_ci_low": np.log(0.88),
                           "trimfill_ci_high": np.log(1.16)}])
    return key, influence, leave1out, alternatives, small


def test_robustness_reads_the_sensitivity_tables():
    key, influence, leave1out, alternatives, small = _robust_inputs()
    rb = robustness_findings(influence, leave1out, alternatives, small)[key]
    assert rb.low_rob == (2, 1.02, 0.85, 1.21)
    assert rb.influential == (("A 2000", 1.05, 0.90, 1.22),)
    assert rb.small_study_p == 0.40
    assert rb.trimfill[0] == 3 and rb.trimfill[1:] == pytest.approx((1.01, 0.88, 1.16), rel=1e-12)


def test_a_changed_conclusion_downgrades_once_and_says_why():
    key, influence, leave1out, alternatives, small = _robust_inputs()
    rb = robustness_findings(influence, leave1out, alternatives, small)[key]
    ci, null = (1.10, 1.60), 1.0
    rob = robust_rob(Judgement("risk of bias", "no", 0, "0% of the weight at high risk", "r"), rb, ci, null)
    assert (rob.level, rob.downgrade) == ("serious", 1)
    assert "2 trials at low risk of bias" in rob.reason and "1.02 (0.85 to 1.21)" in rob.reason
    # already serious: stays serious, the finding is added to the reason, no second downgrade
    rob2 = robust_rob(Judgement("risk of bias", "serious", 1, "60% at high risk", "r"), rb, ci, null)
    assert rob2.downgrade == 1 and "low risk of bias" in rob2.reason
    inc = robust_inconsistency(Judgement("inconsistency", "no", 0, "I² 10%", "r"), rb, ci, null)
    assert (inc.level, inc.downgrade) == ("serious", 1) and "A 2000" in inc.reason
    pb = robust_publication_bias(publication_bias_domain(12, rb.small_study_p, 10, 0.10), rb, ci, null, 10)
    assert (pb.level, pb.downgrade) == ("serious", 1) and "trim-and-fill" in pb.reason and "3 " in pb.reason
    # the same findings with the switches off: reported, not downgraded
    off = dict(low_risk_of_bias=False, influential=False, trimfill=False)
    assert (
        robust_rob(Judgement("risk of bias", "no", 0, "x", "r"), rb, ci, null, use=off["low_risk_of_bias"]).downgrade
        == 0
    )
    assert robust_inconsistency(Judgement("inconsistency", "no", 0, "x", "r"), rb, ci, null,
                                use=off["influential"]).downgrade == 0
    assert "low risk of bias" in robust_rob(Judgement("risk of bias", "no", 0, "x", "r"), rb, ci, null,
                                            use=False).reason


def test_the_same_conclusion_keeps_the_judgement():
    key, influence, leave1out, alternatives, small = _robust_inputs()
    rb = robustness_findings(influence, leave1out, alternatives, small)[key]
    ci, null = (0.80, 1.30), 1.0  # the main CI includes 1, as do the low-RoB, leave-one-out and trim-and-fill CIs
    for fn, dom in ((robust_rob, "risk of bias"), (robust_inconsistency, "inconsistency")):
        j = fn(Judgement(dom, "no", 0, "x", "r"), rb, ci, null)
        assert j.downgrade == 0 and "same conclusion" in j.reason
    pb = robust_publication_bias(publication_bias_domain(12, rb.small_study_p, 10, 0.10), rb, ci, null, 10)
    assert pb.downgrade == 0 and "same conclusion" in pb.reason


def test_too_few_trials_for_the_restriction_is_said():
    key, influence, leave1out, alternatives, small = _robust_inputs()
    alternatives = alternatives.assign(k=1)
    rb = robustness_findings(influence, leave1out, alternatives, small)[key]
    j = robust_rob(Judgement("risk of bias", "no", 0, "x", "r"), rb, (1.1, 1.6), 1.0)
    assert j.downgrade == 0 and "not restricted to low risk of bias (1 such trials)" in j.reason
    assert robustness_findings(influence.iloc[:0], leave1out.iloc[:0], alternatives.iloc[:0], small.iloc[:0]) == {}


def test_rate_certainty_puts_grade_cinema_absolute_and_sof_together():
    from depmeta.review.certainty import ABSOLUTE_COLUMNS, rate_certainty

    studies, per_study, summary = _pairwise_fixture()
    est, summ, contrib = _network_fixture()
    rates = pd.DataFrame(columns=["strategy", "outcome", "events", "n"])
    calls = []

    def egger(yi, vi):
        calls.append(len(yi))
        return 0.5

    rated = rate_certainty(studies, None, summary, per_study, rates, CertaintyOptions(), ["combined_vs_medication"],
                           ["response"], egger, network={"estimates": est, "summary_network": summ,
                                                         "contributions": contrib})
    assert set(rated.grade.evidence) == {"pairwise"} and set(rated.cinema.evidence) == {"network"}
    assert list(rated.sof.evidence) == ["network", "pairwise"] and rated.sof.primary.tolist() == [True, False]
    assert list(rated.absolute.columns) == [c for c in ABSOLUTE_COLUMNS if c in rated.results.columns]
    assert rated.risks[("combined_vs_medication", "response")][0] == pytest.approx(0.4)
    assert calls == []  # k = 3 is below the small-study threshold: Egger's test is not run
    with pytest.raises(ValueError, match="study ids not in the study sheet: \\['s3'\\]"):
        rate_certainty(studies.iloc[:2], None, summary, per_study, rates, CertaintyOptions(),
                       ["combined_vs_medication"], ["response"], egger)


def test_an_smd_at_a_control_event_rate_of_0_or_1_has_no_absolute_effect_and_stops_nothing():
    """A review whose comparator arms have no responder (or only responders) rates its symptom
    scores; the Furukawa-Leucht conversion, which needs a rate strictly between 0 and 1, is left
    out with the reason."""
    from depmeta.review.certainty import rate_certainty

    studies = pd.DataFrame({"study_id": ["s1", "s2"], "risk_of_bias": ["low", "low"], "age_group": ["adult"] * 2})
    for events2 in (0, 30):
        per_study = pd.DataFrame({
            "comparison": ["combined_vs_medication"] * 4, "outcome": ["response"] * 2 + ["symptoms"] * 2,
            "measure": ["RR", "RR", "SMD", "SMD"], "study_id": ["s1", "s2"] * 2, "n1": [30] * 4, "n2": [30] * 4,
            "events1": [10, 12, None, None], "events2": [events2, events2, None, None],
            "timepoint_weeks": [12] * 4, "yi": [0.4, 0.3, -0.3, -0.2], "vi": [0.05] * 4, "weight": [50.0] * 4})
        summary = pd.DataFrame({
            "comparison": ["combined_vs_medication"], "outcome": ["symptoms"], "measure": ["SMD"], "k": [2],
            "n_patients": [120], "status": ["pooled"], "i2": [0.0], "estimate_display": [-0.25],
            "ci_low_display": [-0.6], "ci_high_display": [0.1], "pi_low_display": [-0.6], "pi_high_display": [0.1],
            "row_ids": ["r1;r2"]})
        rated = rate_certainty(studies, None, summary, per_study, pd.DataFrame(), CertaintyOptions(),
                               ["combined_vs_medication"], ["response", "symptoms"], lambda yi, vi: 0.5)
        (row,) = rated.absolute.to_dict("records")
        rate = events2 / 30
        assert row["absolute_note"] == (f"no SMD conversion at a control event rate of {rate:g} (median risk of the "
                                        "medication arms of 2 trials): it needs a rate between 0 and 1")
        assert math.isnan(row.get("risk_intervention", math.nan))
        assert rated.sof.certainty.tolist() == [rated.results.certainty.iloc[0]]


def test_no_small_study_test_is_asked_for_where_it_cannot_run():
    """A protocol may ask for the small-study test from 2 trials (publication_bias.min_studies
    has no floor), and trials may share one standard error: Egger's regression then has too few
    points or no slope, so publication bias is not assessable, as rule sensitivity says, and
    the test is not called (regtest refused such data and stopped the certainty job)."""
    from depmeta.review.certainty import rate_certainty, small_study_testable

    def refuse(yi, vi):
        raise AssertionError(f"asked for a test on {len(yi)} trials of variances {list(vi)}")

    studies = pd.DataFrame({"study_id": ["s1", "s2", "s3"], "risk_of_bias": ["low"] * 3, "age_group": ["adult"] * 3})
    for k, vi in ((2, [0.01, 0.02]), (3, [0.01] * 3)):
        per_study = pd.DataFrame({
            "comparison": ["medication_vs_control"] * k, "outcome": ["symptoms"] * k, "measure": ["SMD"] * k,
            "study_id": studies.study_id[:k], "n1": [50] * k, "n2": [50] * k, "events1": [np.nan] * k,
            "events2": [np.nan] * k, "timepoint_weeks": [8] * k,
            "yi": [-1.2] * k, "vi": vi, "weight": [100 / k] * k})
        summary = pd.DataFrame({
            "comparison": ["medication_vs_control"], "outcome": ["symptoms"], "measure": ["SMD"], "k": [k],
            "n_patients": [100 * k], "status": ["pooled"], "i2": [0.0], "estimate_display": [-1.2],
            "ci_low_display": [-1.4], "ci_high_display": [-1.0], "pi_low_display": [-1.4], "pi_high_display": [-1.0],
            "row_ids": ["r"]})
        rated = rate_certainty(studies, None, summary, per_study, pd.DataFrame(),
                               CertaintyOptions(pb_min_studies=2), ["medication_vs_control"], ["symptoms"], refuse)
        pb = rated.grade[rated.grade.domain == "publication bias"].iloc[0]
        assert (pb.concern, pb.reason) == ("not assessable", f"{k} studies but no test result")
        assert not small_study_testable(vi)
    assert small_study_testable([0.01, 0.02, 0.02])


def test_a_pairwise_risk_of_bias_nobody_assessed_is_named_where_grade_prints():
    from depmeta.report.summary_of_findings import pairwise_table, sof_table

    studies, per_study, summary = _pairwise_fixture()
    studies = studies.assign(age_group="adult")              # no indirectness: risk of bias alone
    heavy = per_study.assign(weight=[20.0, 20.0, 60.0])      # s3, without an assessment, carries 60%
    opts = CertaintyOptions()
    risks = {("combined_vs_medication", "response"): (0.4, "median")}
    grade, res = grade_pairwise(summary, heavy, study_rob_levels(studies, None), studies, opts, risks,
                                {"response": 1})
    sof = sof_rows(res, grade, opts, ["response"], {"combined_vs_medication": ("combined treatment", "medication")})
    assert sof.iloc[0].not_assessed == "risk of bias"
    tab, notes = pairwise_table(sof, ["combined_vs_medication"])
    # imprecision (500 < OIS 712) is the one downgrade; risk of bias named beside the rating, with its footnote
    assert tab.iloc[0]["Certainty (GRADE)"] == "⊕⊕⊕◯ moderate; risk of bias not assessed (a,b)"
    assert notes[0].startswith("a. Risk of bias (not assessed): weight 60% from trials without an assessment")
    sof_tab, sof_notes = sof_table(sof, "combined_vs_medication")
    assert sof_tab.iloc[0]["Certainty"].startswith("⊕⊕⊕◯ moderate; risk of bias not assessed")
    assert sof_notes[0].startswith("a. Risk of bias (GRADE: not assessed): weight 60%")


# ------------------------------------------------------------ imprecision: the optimal information size

def test_grade_imprecision_downgrades_one_small_trial_whose_ci_excludes_no_effect():
    # one trial of 60 patients, RR 1.60 (1.10 to 2.30): the CI excludes no effect and lies above the threshold
    # of appreciable benefit, yet 60 patients < OIS 712 (ACR 0.4, RRR 0.25): serious (GRADE guidelines 6)
    ois = outcome_ois("RR", (0.4, "median"), CertaintyOptions())
    assert ois == optimal_information_size(0.4, 0.25) == 712
    j = imprecision_domain(1.10, 2.30, 1.0, (0.75, 1.25), 60, ois)
    assert (j.level, j.downgrade) == ("serious", 1)
    assert j.reason == "CI 1.10 to 2.30, excludes no effect, reaches above 1.25; 60 patients < OIS 712"
    # the same CI from 800 patients: precise
    assert imprecision_domain(1.10, 2.30, 1.0, (0.75, 1.25), 800, ois).level == "no"
    # no comparator risk: no OIS, said so, the CI alone decides
    assert math.isnan(outcome_ois("RR", None, CertaintyOptions()))
    j = imprecision_domain(1.10, 2.30, 1.0, (0.75, 1.25), 60, math.nan)
    assert j.level == "no" and j.reason.endswith("60 patients, no optimal information size (no comparator risk)")
    # SMD: powered for 0.2, 2 * ceil(2 (z_0.975 + z_0.8)^2 / 0.04) = 786
    assert outcome_ois("SMD", None, CertaintyOptions()) == 786


CINEMA_OIS_CASES = [
    # (estimate, ci, n, ois, level, why)
    (1.60, (1.10, 2.30), 60, 712, "some concerns",
     "one trial of 60 patients, CI excluding no effect: the application says no concerns, the OIS some"),
    (1.60, (1.10, 2.30), 2668, 712, "no concerns", "many trials: the OIS met, the application's rule unchanged"),
    (1.60, (1.10, 2.30), 712, 712, "no concerns", "exactly the OIS: met"),
    (1.30, (0.90, 1.90), 60, 712, "some concerns", "already some concerns (CI reaches no effect): not lowered twice"),
    (1.30, (0.70, 2.40), 60, 712, "major concerns", "major concerns stay major"),
    (1.10, (1.05, 1.15), 60, 712, "some concerns", "a CI inside the zone with 60 patients: some concerns"),
    (1.60, (1.10, 2.30), 60, math.nan, "no concerns", "no OIS (no comparator risk): the application's rule"),
]


@pytest.mark.parametrize("est, ci, n, ois, level, why", CINEMA_OIS_CASES, ids=[x[-1] for x in CINEMA_OIS_CASES])
def test_cinema_imprecision_with_the_optimal_information_size(est, ci, n, ois, level, why):
    j = cinema_imprecision(est, *ci, (0.8, 1.25), 1.0, n, ois)
    assert (j.level, j.downgrade) == (level, CINEMA_LEVELS[level])
    if math.isfinite(ois):
        assert f"{n} patients {'<' if n < ois else '>='} OIS {ois}" in j.reason    # both numbers, always
    assert "optimal information size" in j.rule
    # without the OIS the application's rule alone
    app = cinema_imprecision(est, *ci, (0.8, 1.25), 1.0)
    assert "OIS" not in app.reason and "optimal information size" not in app.rule
    assert app.downgrade <= j.downgrade


def test_cinema_imprecision_reads_the_optimal_information_size():
    studies, per_study, _ = _pairwise_fixture()
    est, summ, contrib = _network_fixture()
    levels = study_rob_levels(studies, None)
    risks = {("combined_vs_medication", "response"): (0.4, "median")}
    # CI 1.1-1.5 excludes no effect (the application: no concerns) but the 3 trials hold 500 patients < OIS 712
    cin, res = cinema_network(est, summ, contrib, levels, studies, per_study, CertaintyOptions(), risks,
                              {"response": 1})
    imp = cin.set_index("domain").loc["imprecision"]
    assert (imp.concern, imp.downgrade) == ("some concerns", 1)
    assert "500 patients < OIS 712 (some concerns for want of patients)" in imp.reason
    assert (res.iloc[0].n_patients, res.iloc[0].ois) == (500, 712)
    # certainty.imprecision.cinema_ois false: the application's rule alone
    off = CertaintyOptions.from_config({"imprecision": {"cinema_ois": False}})
    assert not off.cinema_ois and CertaintyOptions.from_config({}).cinema_ois
    cin_off, res_off = cinema_network(est, summ, contrib, levels, studies, per_study, off, risks, {"response": 1})
    assert cin_off.set_index("domain").loc["imprecision", "concern"] == "no concerns"
    assert res_off.iloc[0].certainty_score == res.iloc[0].certainty_score + 1



# ------------------------------------------------------------ one story per comparison: both ratings side by side

def _judged(domains, concerns, downgrades, evidence):
    return pd.DataFrame({"evidence": evidence, "domain": domains, "concern": concerns, "downgrade": downgrades})


def test_certainty_difference_names_the_counterpart_domains_that_differ():
    net = _judged(CINEMA_DOMAINS, ["not assessed", "some concerns", "no concerns", "no concerns", "no concerns",
                                   "major concerns"], [0, 1, 0, 0, 0, 2], "network")
    pw = _judged(GRADE_DOMAINS, ["not assessed", "no", "no", "serious", "serious"], [0, 0, 0, 1, 1], "pairwise")
    # both risk of bias domains not assessed, reporting and publication bias both down one: the same;
    # imprecision differs, and incoherence has no pairwise counterpart
    assert certainty_difference(net, pw) == ("network: imprecision no concerns, incoherence major concerns; "
                                             "pairwise: imprecision serious, no indirect evidence")
    same = _judged(CINEMA_DOMAINS, ["no concerns"] * 6, [0] * 6, "network")
    none = _judged(GRADE_DOMAINS, ["no", "no", "no", "no", "not assessable"], [0] * 5, "pairwise")
    assert certainty_difference(same, none) == ""
    # the pairwise risk of bias downgraded where the network's within-study bias is not assessed
    rob = none.assign(concern=["serious", "no", "no", "no", "not assessable"], downgrade=[1, 0, 0, 0, 0])
    wsb = same.assign(concern=["not assessed"] + ["no concerns"] * 5)
    assert certainty_difference(wsb, rob) == "network: within-study bias not assessed; pairwise: risk of bias serious"


def test_sof_rows_carry_both_ratings_and_why_they_differ():
    from depmeta.report.summary_of_findings import sof_table

    opts, grade, res, cin, net = _rated()
    pairs = {"combined_vs_medication": ("combined treatment", "medication")}
    sof = sof_rows(pd.concat([res, net]), pd.concat([grade, cin]), opts, ["response"], pairs)
    # network low (within-study bias, heterogeneity); pairwise very low (risk of bias very serious, imprecision)
    assert list(sof.network_certainty) == ["low", "low"] and list(sof.pairwise_certainty) == ["very low", "very low"]
    why = ("network: within-study bias some concerns, imprecision no concerns, heterogeneity some concerns; "
           "pairwise: risk of bias very serious, imprecision serious, inconsistency not serious")
    assert list(sof.certainty_difference) == [why, why]
    tab, notes = sof_table(sof, "combined_vs_medication")
    # the network's rating with its footnotes (a-c; d the comparator risk), then the pairwise one with the letter
    # of why they differ, after every other note (e)
    assert tab.iloc[0]["Certainty"] == ("⊕⊕◯◯ low; reporting bias not assessed (a,b,c) – pairwise (GRADE): "
                                        "very low (e)")
    assert notes[-1] == f"e. Network (CINeMA) low and pairwise (GRADE) very low certainty differ (response): {why}."
    # the same rating on both sides: shown, no footnote
    same = sof.assign(pairwise_certainty="low", certainty_difference="")
    tab, notes = sof_table(same, "combined_vs_medication")
    assert tab.iloc[0]["Certainty"].endswith("(a,b,c) – pairwise (GRADE): low")
    assert not any("differ" in n for n in notes)
    # a one-trial network estimate gives way to the pairwise one, which then shows the network's rating
    sof1 = sof_rows(pd.concat([res, net.assign(k=1)]), pd.concat([grade, cin]), opts, ["response"], pairs)
    tab, _ = sof_table(sof1, "combined_vs_medication")
    assert tab.iloc[0]["Outcome (measure, follow-up)"].endswith("‡")
    assert " – network (CINeMA): low (" in tab.iloc[0]["Certainty"]
    # no network estimate: nothing beside the rating
    only = sof_rows(res, grade, opts, ["response"], pairs)
    assert (only.iloc[0].network_certainty, only.iloc[0].certainty_difference) == ("", "")


def test_two_pairwise_analyses_of_one_key_each_compare_with_their_own_judgements():
    """Relapse pooled as RR and as HR: the network's RR row is set beside the pairwise RR."""
    opts, grade, res, cin, net = _rated()
    hr = res.assign(measure="HR", certainty="high", certainty_score=4)
    g_hr = grade.assign(concern="no", downgrade=0)
    both = pd.concat([res, hr], ignore_index=True)
    sof = sof_rows(pd.concat([both, net]), pd.concat([grade, g_hr, cin]), opts, ["response"],
                   {"combined_vs_medication": ("combined treatment", "medication")})
    rows = sof.set_index(["evidence", "measure"])
    assert rows.loc[("network", "RR"), "pairwise_certainty"] == "very low"       # the RR analysis, not the HR
    assert "risk of bias very serious" in rows.loc[("network", "RR"), "certainty_difference"]
    # the HR analysis's own row: its judgements (nothing downgraded) against the network's
    assert rows.loc[("pairwise", "HR"), "pairwise_certainty"] == "high"
    assert rows.loc[("pairwise", "HR"), "certainty_difference"] == (
        "network: within-study bias some concerns, heterogeneity some concerns; pairwise: risk of bias not serious, "
        "inconsistency not serious")


@pytest.mark.parametrize("level, downgrade", [("suspected", 1), ("strongly suspected", 1), ("undetected", 0),
                                               ("not assessed", 0)])
def test_grade_publication_bias_takes_the_reviewers_judgement_as_cinema_does(level, downgrade):
    from depmeta.review.certainty import with_reviewers_judgement

    # too few trials for a small-study test: the reviewer's judgement alone decides
    few = publication_bias_domain(4, None)
    j = with_reviewers_judgement(few, level, "the search covered no trial registry")
    assert j.downgrade == downgrade and "reviewer's judgement of reporting bias" in j.rule
    if downgrade:
        assert j.level == "serious"
        assert j.reason == (f"reporting bias {level} by the reviewers: the search covered no trial registry; "
                            "4 studies, fewer than 10")
    else:
        assert (j.level, j.reason) == (few.level, few.reason)
    # a test that already found small-study effects stays one level down, with both reasons
    found = with_reviewers_judgement(publication_bias_domain(12, 0.01), level, "")
    assert found.downgrade == 1 and "p = 0.010" in found.reason
    # through the GRADE rating: the same pairwise estimate, one level apart, as CINeMA's reporting bias
    studies, per_study, summary = _pairwise_fixture()
    levels = study_rob_levels(studies, None)
    risks = {("combined_vs_medication", "response"): (0.4, "median")}
    rated = {lv: grade_pairwise(summary, per_study, levels, studies, CertaintyOptions(reporting_bias=lv), risks,
                                {"response": 1})[0] for lv in ("not assessed", level)}
    pb = {lv: g[g.domain == "publication bias"].iloc[0] for lv, g in rated.items()}
    assert pb[level].downgrade == pb["not assessed"].downgrade + downgrade


def test_the_weeks_of_a_row_read_as_whole_weeks_where_months_gave_them():
    from depmeta.review.certainty import _weeks

    assert _weeks([36.0, 26 * 52 / 12]) == "36–113 weeks"  # 26 months of follow-up
    assert _weeks([8.5, 8.5]) == "8.5 weeks" and _weeks([np.nan]) == ""


def test_a_pairwise_pool_names_the_control_types_it_holds():
    from depmeta.report.summary_of_findings import sof_table
    from depmeta.review.certainty import pooled_control_types
    from depmeta.review.comparisons import arm_types

    arms = pd.DataFrame({"study_id": ["a", "a", "b", "b", "c", "c"], "arm_id": ["m", "p", "m", "nt", "m", "p"],
                         "arm_type": ["medication", "placebo", "medication", "no_treatment", "medication", "placebo"]})
    contrasts = pd.DataFrame({"study_id": ["d"], "arm1_id": ["m"], "arm1_type": ["medication"], "arm2_id": ["cm"],
                              "arm2_type": ["clinical_management"]})
    types = arm_types(arms, contrasts)
    assert types[("d", "cm")] == "clinical_management" and types[("b", "nt")] == "no_treatment"
    ps = pd.DataFrame({"comparison": "medication_vs_control", "outcome": "remission", "measure": "RR",
                       "study_id": ["a", "b", "c", "d"], "arms1": "m", "arms2": ["p", "nt", "p", "cm"],
                       "weight": [30.0, 20.0, 25.0, np.nan]})  # d is not pooled (no weight)
    assert pooled_control_types(ps, types) == {("medication_vs_control", "remission", "RR"):
                                               "placebo (2); no_treatment (1)"}
    # no control arm: nothing to name
    active = ps.assign(comparison="combined_vs_medication", arms2="m")
    assert pooled_control_types(active, types) == {}
    # the summary-of-findings row of such a pool says which, in a footnote
    opts, grade, res, cin, net = _rated()
    row = res.assign(comparison="medication_vs_control", control_types="placebo (2); no_treatment (1)")
    sof = sof_rows(row, grade.assign(comparison="medication_vs_control"), opts, ["response"],
                   {"medication_vs_control": ("medication", "control")})
    tab, notes = sof_table(sof, "medication_vs_control")
    (note,) = [n for n in notes if "several types" in n]
    letter = note.split(".")[0]
    assert note == (f"{letter}. Control arms of several types pooled (response): placebo (2 trials), no treatment "
                    "(1 trial); the network meta-analysis keeps each type a node of its own.")
    assert tab.iloc[0, 0].endswith(f"‡ ({letter})")
    one = sof.assign(control_types="placebo (2)")
    assert not [n for n in sof_table(one, "medication_vs_control")[1] if "several types" in n]
