"""Contrasts within trials (multi-arm rule, population and timepoint choice, reported g)
and the analyses built on them (exclusions with reasons)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from conftest import reported_rows
from depmeta import escalc, pool
from depmeta.review.analysis import (
    AnalysisOptions,
    exclusions_table,
    pool_event_rates,
    pooled_summary,
    run_meta_analyses,
)
from depmeta.review.contrasts import combine_means, form_contrasts
from depmeta.review.sheets import prepare_arms


def arm(study, arm_id, arm_type, n, events=None, outcome="response", tp=12, pop="ITT", mean=np.nan, sd=np.nan):
    return dict(study_id=study, arm_id=arm_id, arm_type=arm_type, treatment=arm_id, drug_class="",
                therapy_type="", phase="acute", outcome=outcome, outcome_definition="", timepoint_weeks=float(tp),
                followup_months=np.nan, analysis_population=pop, n=n,
                events=pd.NA if events is None else events, percent=np.nan, mean=mean, sd=sd, scale="",
                source="doi:10.1/x", locator="Table 1", derived_note="", notes="")


def sheet(*rows):
    df = pd.DataFrame(rows)
    df["n"] = df["n"].astype("Int64")
    df["events"] = df["events"].astype("Int64")
    return prepare_arms(df)


def test_multi_arm_same_strategy_arms_are_combined_not_double_counted():
    # a four-arm trial: two psychotherapies share one medication arm
    arms = sheet(arm("t1", "cbt", "psychotherapy", 50, 20), arm("t1", "ipt", "psychotherapy", 40, 10),
                 arm("t1", "imi", "medication", 45, 15), arm("t1", "pbo", "placebo", 44, 8))
    c, unused = form_contrasts(arms, comparisons=["psychotherapy_vs_medication", "medication_vs_control"])
    pm = c[c.comparison == "psychotherapy_vs_medication"].iloc[0]
    assert (pm.n1, pm.events1, pm.n2, pm.events2) == (90, 30, 45, 15)
    assert pm.multi_arm and pm.arms1 == "cbt;ipt"
    assert len(c[c.comparison == "psychotherapy_vs_medication"]) == 1  # the study enters once
    assert unused.empty


def test_combined_means_follow_the_cochrane_formula():
    n, m, s = combine_means([10, 20], [5.0, 8.0], [2.0, 3.0])
    # Cochrane Handbook 6.5.2.10, by hand
    sd = math.sqrt(((9 * 4 + 19 * 9) + 10 * 20 / 30 * 9) / 29)
    assert (n, m) == (30, 7.0) and math.isclose(s, sd)


def test_preferred_population_and_latest_timepoint_and_unused_rows_listed():
    arms = sheet(
        arm("t2", "a", "combined", 60, 40, pop="completers"),
        arm("t2", "b", "medication", 58, 30, pop="completers"),
        arm("t2", "a", "combined", 70, 40, pop="ITT", tp=8),
        arm("t2", "b", "medication", 70, 30, pop="ITT", tp=8),
        arm("t2", "a", "combined", 70, 45, pop="ITT", tp=16),
        arm("t2", "b", "medication", 70, 33, pop="ITT", tp=16),
    )
    c, unused = form_contrasts(arms, comparisons=["combined_vs_medication"])
    assert len(c) == 1 and c.iloc[0].timepoint_weeks == 16 and c.iloc[0].analysis_population == "ITT"
    assert len(unused) == 4 and unused.reason.str.contains("use ITT at week 16").all()
    c2, _ = form_contrasts(arms, comparisons=["combined_vs_medication"], timepoint="earliest",
                           population_preference=("completers", "ITT"))
    assert c2.iloc[0].analysis_population == "completers"


def test_reported_g_is_oriented_and_used_only_without_arm_data():
    arms = sheet(arm("t3", "cbt", "psychotherapy", 30, outcome="symptoms", mean=10.0, sd=5.0),
                 arm("t3", "ssri", "medication", 30, outcome="symptoms", mean=12.0, sd=5.0))
    reported = reported_rows([
        dict(study_id="t4", arm1_id="ssri", arm1_type="medication", arm2_id="cbt", arm2_type="psychotherapy",
             phase="acute", outcome="symptoms", timepoint_weeks=12.0, analysis_population="ITT", n1=40, n2=41,
             measure="SMD", estimate=0.3, se=0.2, scale="HRSD", source="doi:10.1/y", locator="Table 2"),
        dict(study_id="t3", arm1_id="cbt", arm1_type="psychotherapy", arm2_id="ssri", arm2_type="medication",
             phase="acute", outcome="symptoms", timepoint_weeks=12.0, analysis_population="ITT", n1=30, n2=30,
             measure="SMD", estimate=-0.5, se=0.2, scale="HRSD", source="doi:10.1/y", locator="Table 2"),
    ])
    c, unused = form_contrasts(arms, reported, comparisons=["psychotherapy_vs_medication"], outcomes=["symptoms"])
    t4 = c[c.study_id == "t4"].iloc[0]
    assert t4.reported_yi == -0.3 and (t4.n1, t4.n2) == (41, 40)  # turned to psychotherapy minus medication
    assert "arm-level data" in unused.iloc[0].reason
    summary, per_study, _ = run_meta_analyses(c, {}, AnalysisOptions(outcomes=("symptoms",),
                                                                     comparisons=("psychotherapy_vs_medication",)))
    g3 = escalc("SMD", m1i=[10.0], sd1i=[5.0], n1i=[30], m2i=[12.0], sd2i=[5.0], n2i=[30])
    expected = pool(np.r_[g3.yi, -0.3], np.r_[g3.vi, 0.04])
    assert math.isclose(summary.iloc[0].estimate, expected.estimate, rel_tol=1e-12)


def test_double_zero_study_is_excluded_with_its_reason():
    arms = sheet(
        arm("z1", "c", "combined", 30, 0, outcome="dropout"),
        arm("z1", "m", "medication", 30, 0, outcome="dropout"),
        arm("z2", "c", "combined", 40, 3, outcome="dropout"),
        arm("z2", "m", "medication", 40, 6, outcome="dropout"),
        arm("z3", "c", "combined", 50, 5, outcome="dropout"),
        arm("z3", "m", "medication", 52, 9, outcome="dropout"),
    )
    c, _ = form_contrasts(arms, comparisons=["combined_vs_medication"])
    summary, per_study, excluded = run_meta_analyses(c, {"z1": "Zero 2001"}, AnalysisOptions())
    assert summary.iloc[0].k == 2 and summary.iloc[0].status == "pooled"
    assert excluded.iloc[0].label == "Zero 2001" and "double zero" in excluded.iloc[0].reason


#: Dropout arms: a double-zero trial (z1), two pooled trials (z2, z3) and, through z3's third
#: arm, psychotherapy vs medication with one trial (not pooled).
DROPOUT = [
    arm("z1", "c", "combined", 30, 0, outcome="dropout"),
    arm("z1", "m", "medication", 30, 0, outcome="dropout"),
    arm("z2", "c", "combined", 40, 3, outcome="dropout"),
    arm("z2", "m", "medication", 40, 6, outcome="dropout"),
    arm("z3", "c", "combined", 50, 5, outcome="dropout"),
    arm("z3", "m", "medication", 52, 9, outcome="dropout"),
    arm("z3", "p", "psychotherapy", 51, 7, outcome="dropout"),
]


def test_summary_alone_is_the_summary_of_the_full_analysis():
    # pooled, not pooled (too few studies) and a double-zero trial, in two comparisons
    arms = sheet(*DROPOUT)
    c, _ = form_contrasts(arms, comparisons=["combined_vs_medication", "psychotherapy_vs_medication"])
    opts = AnalysisOptions(min_studies=2)
    summary = run_meta_analyses(c, {}, opts)[0]
    assert set(summary.status) == {"pooled", "not pooled"}
    pd.testing.assert_frame_equal(pooled_summary(c, opts), summary)


def test_too_few_studies_not_pooled_and_said_why():
    arms = sheet(arm("s1", "c", "combined", 30, 10), arm("s1", "m", "medication", 30, 8))
    c, _ = form_contrasts(arms, comparisons=["combined_vs_medication"])
    summary, _, _ = run_meta_analyses(c, {}, AnalysisOptions(min_studies=2))
    assert summary.iloc[0].status == "not pooled" and "min_studies is 2" in summary.iloc[0].reason


def test_event_rates_pool_logits_of_combined_arms():
    arms = sheet(arm("e1", "a", "psychotherapy", 50, 20), arm("e1", "b", "psychotherapy", 50, 30),
                 arm("e1", "m", "medication", 50, 25),
                 arm("e2", "a", "psychotherapy", 40, 18), arm("e2", "m", "medication", 40, 22))
    rates, per_arm = pool_event_rates(arms, {}, AnalysisOptions(outcomes=("response",)))
    psy = rates[rates.strategy == "psychotherapy"].iloc[0]
    es = escalc("PLO", xi=[50, 18], ni=[100, 40])
    expected = pool(es.yi, es.vi)
    assert math.isclose(psy.estimate, expected.estimate, rel_tol=1e-12)
    assert math.isclose(psy.estimate_rate, 1 / (1 + math.exp(-expected.estimate)), rel_tol=1e-12)


def test_event_rates_without_a_continuity_correction_leave_out_the_rates_of_0_or_1():
    """With zero_cell.add 0 (or to none) a rate of 0 or 1 has no logit: the arm is left out
    of its strategy's pooled rate, which the others still give."""
    arms = sheet(arm("e1", "m", "medication", 20, 0), arm("e1", "p", "placebo", 20, 5),
                 arm("e2", "m", "medication", 30, 6), arm("e2", "p", "placebo", 30, 30),
                 arm("e3", "m", "medication", 25, 5), arm("e3", "p", "placebo", 25, 8))
    for zero in ({"add": 0.0}, {"to": "none"}):
        rates, per_arm = pool_event_rates(arms, {}, AnalysisOptions(outcomes=("response",), **zero))
        es = escalc("PLO", xi=[6, 5], ni=[30, 25])
        med = rates[rates.strategy == "medication"].iloc[0]
        assert (med.status, med.k, med.n_patients, med.studies) == ("pooled", 2, 55, "e2;e3")
        assert math.isclose(med.estimate, pool(es.yi, es.vi).estimate, rel_tol=1e-12)
        ctl = rates[rates.strategy == "control"].iloc[0]
        assert (ctl.status, ctl.k, ctl.studies) == ("pooled", 2, "e1;e3")
        unweighted = per_arm[per_arm.weight.isna()]
        assert sorted(zip(unweighted.strategy, unweighted.study_id)) == [("control", "e2"), ("medication", "e1")]
    rates, _ = pool_event_rates(arms, {}, AnalysisOptions(outcomes=("response",), add=0.0, min_studies=3))
    assert set(rates.reason) == {"2 usable studies; min_studies is 3"}


def test_a_risk_difference_of_variance_0_is_set_apart_not_pooled():
    """Without a continuity correction a trial with no events in either arm has a risk
    difference of 0 with variance 0: listed as not estimable, with the reason, and the
    others pooled (the ratio measures are not estimable there either)."""
    from depmeta.review.analysis import risk_differences

    arms = sheet(arm("d1", "m", "medication", 20, 0), arm("d1", "p", "placebo", 20, 0),
                 arm("d2", "m", "medication", 30, 6), arm("d2", "p", "placebo", 30, 9))
    c, _ = form_contrasts(arms, comparisons=["medication_vs_control"])
    opts = AnalysisOptions(outcomes=("response",), add=0.0, drop00=False, min_studies=1)
    summary, per_study, excluded = run_meta_analyses(c, {}, replace(opts, binary_measure="RD"))
    assert (summary.k[0], summary.studies[0], per_study.study_id.tolist()) == (1, "d2", ["d2"])
    assert excluded.reason.tolist() == ["sampling variance 0: no continuity correction where both arms' risks are "
                                        "0 or 1"]
    assert risk_differences(c, opts).studies.tolist() == ["d2"]  # beside the ratio measure, as for claims


def test_options_from_config_section():
    opts = AnalysisOptions.from_config({"method": "DL", "zero_cell": {"add": 0.25, "drop00": False},
                                        "outcomes": ["response"]})
    assert (opts.method, opts.add, opts.drop00, opts.outcomes) == ("DL", 0.25, False, ("response",))
    with pytest.raises(TypeError):
        AnalysisOptions(bogus=1)


def test_exclusions_table_lists_contrasts_rows_and_comparisons_with_their_reason():
    arms = sheet(*DROPOUT, arm("z4", "p", "psychotherapy", 20, 2, outcome="dropout"))
    c, unused = form_contrasts(arms, comparisons=["combined_vs_medication", "psychotherapy_vs_medication"])
    labels = {"z1": "Zero 2001", "z3": "Three 2003"}
    summary, _, excluded = run_meta_analyses(c, labels, AnalysisOptions(min_studies=2))
    table = exclusions_table(excluded, unused, summary, labels)
    by_kind = {k: g for k, g in table.groupby("kind")}
    assert by_kind["contrast"].label.tolist() == ["Zero 2001"] and "double zero" in by_kind["contrast"].reason.iloc[0]
    assert by_kind["row"].study_id.tolist() == ["z4"] and by_kind["row"].reason.str.startswith("not used").all()
    analysis = by_kind["analysis"].iloc[0]
    assert (analysis.comparison, analysis.label) == ("psychotherapy_vs_medication", "Three 2003")
    assert analysis.reason.startswith("comparison not pooled: 1 usable study")


def test_a_trial_without_a_reported_week_or_population_is_analysed_at_its_end_of_treatment():
    """Secondary datasets often give neither the week nor the analysis population: blank cells
    are the end of treatment and 'not reported', in the pairwise and network analyses alike."""
    from depmeta.review.nodes import outcome_network

    arms = sheet(arm("t1", "drug", "medication", 50, 25, tp=np.nan, pop=""),
                 arm("t1", "pbo", "placebo", 50, 15, tp=np.nan, pop=""),
                 arm("t2", "drug", "medication", 60, 30), arm("t2", "pbo", "placebo", 60, 20))
    assert arms.row_id.tolist()[:2] == ["t1:drug:response:end:not reported", "t1:pbo:response:end:not reported"]
    c, unused = form_contrasts(arms, comparisons=["medication_vs_control"],
                               population_preference=("ITT", "mITT", "completers", "not reported"))
    t1 = c[c.study_id == "t1"].iloc[0]
    assert (t1.n1, t1.events1, t1.n2, t1.events2) == (50, 25, 50, 15) and np.isnan(t1.timepoint_weeks)
    assert unused.empty
    network, excl = outcome_network(arms, "response", "RR", population_preference=("ITT", "not reported"))
    assert {c.study for c in network} == {"t1", "t2"} and not len(excl)
    # a population the protocol does not list is set apart with the reason, never dropped silently
    c, unused = form_contrasts(arms, comparisons=["medication_vs_control"])
    assert set(c.study_id) == {"t2"}
    assert (unused.reason == "not used: analysis population not reported not in population_preference").sum() == 2


def test_a_trial_within_one_strategy_is_named_as_such_among_the_unused_rows():
    arms = sheet(arm("t1", "ssri", "medication", 50, 25), arm("t1", "tca", "medication", 50, 20),
                 arm("t2", "ssri", "medication", 60, 30), arm("t2", "pbo", "placebo", 60, 20),
                 arm("t3", "ssri", "medication", 40, 20))
    _, unused = form_contrasts(arms, comparisons=["medication_vs_control"])
    why = dict(zip(unused.row_ids.str[0], unused.reason))
    assert why["t1:ssri:response:12w:ITT"] == ("not used in the pairwise analyses: every arm of the trial is "
                                              "medication (a comparison within a strategy; analysis.comparisons can "
                                              "define one)")
    assert why["t3:ssri:response:12w:ITT"] == "not used: the trial reports response for one arm only"
    assert len(why) == 3
