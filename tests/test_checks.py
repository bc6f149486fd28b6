"""Claims against pooled evidence, and published benchmarks beside this pipeline's estimates."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from depmeta.review.checks import PUBLISHED, compare_benchmarks, evaluate_claims, network_benchmarks
from depmeta.review.sheets import check_claims

ROOT = Path(__file__).resolve().parents[1]

SUMMARY = pd.DataFrame([
    dict(comparison="combined_vs_medication", outcome="response", status="pooled", measure="RR", k=4,
         estimate_display=1.19, ci_low_display=1.01, ci_high_display=1.40),
    dict(comparison="psychotherapy_vs_medication", outcome="symptoms", status="pooled", measure="SMD", k=3,
         estimate_display=-0.10, ci_low_display=-0.30, ci_high_display=0.10),
    dict(comparison="combined_vs_psychotherapy", outcome="relapse", status="not pooled", measure="RR", k=1,
         estimate_display=np.nan, ci_low_display=np.nan, ci_high_display=np.nan),
])
RATES = pd.DataFrame([dict(strategy="medication", outcome="remission", status="pooled", k=5,
                           estimate_rate=0.45, ci_low_rate=0.40, ci_high_rate=0.50)])


def claim(**kw):
    return {"id": "C1", "article": "a", "claim": "c", "population": "adults", "testable": True, **kw}


def verdict(**kw):
    return evaluate_claims([claim(**kw)], SUMMARY, RATES).iloc[0]


RESP = dict(comparison="combined_vs_medication", outcome="response")  # RR 1.19 [1.01, 1.40]
SYMP = dict(comparison="psychotherapy_vs_medication", outcome="symptoms")  # SMD -0.10 [-0.30, 0.10]


def test_directional_claim_supported_not_shown_or_contradicted():
    # the interval excludes no difference on the claimed side
    v = verdict(**RESP, measure="direction", low=1.0, high=None)
    assert v.verdict == "supported" and "lies entirely above it" in v.reason and "1 (no difference)" in v.reason
    # ... on the other side: the opposite claim is contradicted, never supported as well
    v = verdict(**RESP, measure="direction", low=None, high=1.0)
    assert v.verdict == "contradicted" and "the opposite direction" in v.reason
    # the interval includes no difference: neither a claim nor its opposite is shown
    for bounds in (dict(low=None, high=0.0), dict(low=0.0, high=None)):
        v = verdict(**SYMP, measure="direction", **bounds)
        assert v.verdict == "not shown" and "includes 0 (no difference)" in v.reason
    # a bound other than no difference is a threshold, with the same three states
    assert verdict(**RESP, measure="direction", low=1.5, high=None).verdict == "contradicted"
    assert verdict(**RESP, measure="direction", low=1.2, high=None).verdict == "not shown"
    assert verdict(**RESP, measure="direction", low=0.9, high=None).verdict == "supported"


def test_claimed_difference_as_a_range_or_value():
    # the range lies on one side of no difference: the interval must meet it and exclude no difference
    v = verdict(**RESP, measure="RR", low=1.3, high=1.6)
    assert v.verdict == "supported" and "overlaps it and excludes 1 (no difference)" in v.reason
    v = verdict(**RESP, measure="RR", low=1.5, high=2.0)
    assert v.verdict == "contradicted" and "lies entirely below it" in v.reason
    v = verdict(**SYMP, measure="g", low=-0.5, high=-0.2)
    assert v.verdict == "not shown" and "but also includes 0 (no difference)" in v.reason
    # an open range
    assert verdict(**RESP, measure="RR", low=1.3, high=None).verdict == "supported"
    assert verdict(**RESP, measure="RR", low=None, high=0.9).verdict == "contradicted"
    # a value: the interval must include it
    v = verdict(**RESP, measure="RR", low=1.2, high=1.2)
    assert v.verdict == "supported" and "includes it and excludes" in v.reason


def test_claimed_range_that_includes_no_difference_must_contain_the_interval():
    v = verdict(**SYMP, measure="g", low=-0.5, high=0.5)
    assert v.verdict == "supported" and "lies within it" in v.reason
    v = verdict(**SYMP, measure="g", low=-0.2, high=0.2)
    assert v.verdict == "not shown" and "reaches beyond it" in v.reason
    assert verdict(**SYMP, measure="g", low=0.2, high=0.5).verdict == "contradicted"
    # a value of no difference is such a range: the interval of a difference contradicts it
    assert verdict(**RESP, measure="RR", low=1.0, high=1.0).verdict == "contradicted"


def test_claim_of_no_difference_is_contradicted_by_a_difference_and_otherwise_not_shown():
    v = verdict(**SYMP, measure="g", low=None, high=None)
    assert v.verdict == "not shown" and "states no margin" in v.reason
    v = verdict(**RESP, measure="RR", low=None, high=None)
    assert v.verdict == "contradicted" and "excludes 1 (no difference)" in v.reason


def test_event_rate_claims_use_the_prediction_interval_where_there_is_one():
    rate = dict(comparison="medication", outcome="remission", measure="event_rate")
    # no prediction interval: the CI of the pooled rate (0.45 [0.40, 0.50]), and the reason says so
    v = verdict(**rate, low=0.3, high=0.39)
    assert v.verdict == "contradicted" and "CI of the pooled rate (no prediction interval" in v.reason
    assert verdict(**rate, low=0.3, high=0.42).verdict == "not shown"
    assert verdict(**rate, low=0.3, high=0.6).verdict == "supported"
    # with one (0.25 to 0.65): where trials' rates are expected to fall decides
    with_pi = RATES.assign(pi_low_rate=0.25, pi_high_rate=0.65)

    def on_pi(**kw):
        return evaluate_claims([claim(**rate, **kw)], SUMMARY, with_pi).iloc[0]

    v = on_pi(low=0.3, high=0.39)  # outside the CI of the mean, but within where trials' rates fall
    assert v.verdict == "not shown" and "prediction interval of the pooled rate" in v.reason
    assert "reaches beyond it" in v.reason and "the pooled rate is 0.45" in v.reason
    assert (v.pooled_pi_low, v.pooled_pi_high) == (0.25, 0.65)
    assert on_pi(low=0.2, high=0.7).verdict == "supported"
    v = on_pi(low=0.7, high=0.9)
    assert v.verdict == "contradicted" and "lies entirely below it" in v.reason
    assert on_pi(low=0.5, high=None).verdict == "not shown"


def test_not_testable_says_why():
    v = verdict(comparison="combined_vs_psychotherapy", outcome="relapse", measure="RR", low=0.5, high=0.5)
    assert v.verdict == "not testable" and "1 study" in v.reason
    v = verdict(comparison="combined_vs_medication", outcome="response", measure="OR", low=2, high=3)
    assert v.verdict == "not testable" and "pooled as RR" in v.reason
    v = evaluate_claims([{**claim(), "testable": False, "why": "a mechanism"}], SUMMARY, RATES).iloc[0]
    assert (v.verdict, v.reason) == ("not testable", "a mechanism")


def test_benchmark_notes():
    bench = pd.DataFrame(
        [
            dict(
                benchmark_id="B1",
                comparison="combined_vs_medication",
                outcome="response",
                measure="RR",
                estimate=1.25,
                ci_low=1.14,
                ci_high=1.37,
                k=20,
                subgroup="all",
            ),
            dict(
                benchmark_id="B2",
                comparison="combined_vs_medication",
                outcome="response",
                measure="OR",
                estimate=2.9,
                ci_low=2.1,
                ci_high=4.0,
                k=np.nan,
                subgroup="long-term",
            ),
            dict(
                benchmark_id="B3",
                comparison="combined_vs_psychotherapy",
                outcome="relapse",
                measure="RR",
                estimate=0.8,
                ci_low=0.6,
                ci_high=0.9,
                k=5,
                subgroup="all",
            ),
        ]
    )
    out = compare_benchmarks(bench, SUMMARY)
    assert out.note[0] == "confidence intervals overlap; 4 trials here vs 20 published"
    assert "different measure" in out.note[1] and "subgroup (long-term)" in out.note[1]
    assert out.note[2].startswith("not estimated here")
    # a published comparison the protocol does not define (against waiting list, say) is named as such
    other = bench.iloc[:1].assign(comparison="psychotherapy_vs_waiting_list")
    mine = compare_benchmarks(pd.concat([bench, other], ignore_index=True), SUMMARY,
                              comparisons=sorted(set(bench.comparison)))
    assert mine.note.tolist()[:3] == out.note.tolist()
    assert mine.note.iloc[3] == "not estimated here: the protocol does not compare psychotherapy vs waiting list"


def test_embedded_claims_file_is_valid():
    doc = yaml.safe_load((ROOT / "data" / "claims.yaml").read_text())
    schema = yaml.safe_load((ROOT / "workflow" / "schemas" / "claims.schema.yaml").read_text())
    assert check_claims(doc, schema, "data/claims.yaml") == []
    bad = {"claims": [{**doc["claims"][0], "measure": "hazard"}, doc["claims"][0]]}
    messages = [str(p) for p in check_claims(bad, schema, "data/claims.yaml")]
    assert any("claim C01 (item 1), field 'measure'" in m for m in messages)
    assert any("duplicated id" in m for m in messages)


ADULT = (SUMMARY.assign(k=[3, 2, 1], estimate_display=[1.50, -0.10, np.nan], ci_low_display=[1.30, -0.30, np.nan],
                        ci_high_display=[1.70, 0.10, np.nan]),
         RATES.assign(k=4, estimate_rate=0.30, ci_low_rate=0.25, ci_high_rate=0.35))


def test_claims_about_adults_are_set_against_the_adult_trials():
    kw = dict(comparison="combined_vs_medication", outcome="response", measure="RR", low=1.3, high=1.6)
    on_all = evaluate_claims([claim(**kw, population="children and adolescents")], SUMMARY, RATES, adult=ADULT).iloc[0]
    on_adults = evaluate_claims([claim(**kw, population="adults with chronic depression")], SUMMARY, RATES,
                                adult=ADULT).iloc[0]
    assert (on_all.evidence, on_all.pooled_k, on_all.pooled_estimate) == ("primary population", 4, 1.19)
    assert (on_adults.evidence, on_adults.pooled_k, on_adults.pooled_estimate) == ("adult trials", 3, 1.50)
    rate = evaluate_claims(
        [claim(comparison="medication", outcome="remission", measure="event_rate", low=0.3, high=0.32)],
        SUMMARY,
        RATES,
        adult=ADULT,
    ).iloc[0]
    assert rate.evidence == "adult trials" and rate.verdict == "not shown"
    assert (
        verdict(comparison="combined_vs_medication", outcome="response", measure="RR", low=1.3, high=1.6).evidence
        == "primary population"
    )


def test_benchmarks_are_set_against_the_adult_trials_when_given():
    bench = pd.DataFrame([dict(benchmark_id="B1", comparison="combined_vs_medication", outcome="response", measure="RR",
                               estimate=1.25, ci_low=1.14, ci_high=1.37, k=20, subgroup="all")])
    out = compare_benchmarks(bench, SUMMARY, adult_summary=ADULT[0]).iloc[0]
    assert (out.evidence, out.ours_k, out.ours_estimate) == ("adult trials", 3, 1.50)
    assert out.note == "confidence intervals overlap; 3 trials here vs 20 published"


def test_benchmarks_get_the_network_estimate_beside_them():
    bench = pd.DataFrame([dict(benchmark_id="B1", comparison="combined_vs_medication", outcome="response", measure="RR",
                               estimate=1.25, ci_low=1.14, ci_high=1.37, k=np.nan, subgroup="all"),
                          dict(benchmark_id="B2", comparison="combined_vs_psychotherapy", outcome="relapse",
                               measure="RR", estimate=0.8, ci_low=0.6, ci_high=0.9, k=5, subgroup="all")])
    network = pd.DataFrame([dict(outcome="response", measure="RR", treatment1="combined", treatment2="medication",
                                 comparison="combined_vs_medication", estimate_display=1.21, ci_low_display=1.05,
                                 ci_high_display=1.40, n_network_studies=12),
                            dict(outcome="response", measure="RR", treatment1="medication", treatment2="combined",
                                 comparison="", estimate_display=1 / 1.21, ci_low_display=1 / 1.40,
                                 ci_high_display=1 / 1.05, n_network_studies=12)])
    out = network_benchmarks(bench, network)
    # the benchmark rows as they are, the published values named as such
    assert list(out.columns[:len(bench.columns)]) == [PUBLISHED.get(c, c) for c in bench.columns]
    assert out.published_estimate.tolist() == bench.estimate.tolist()
    assert (out.ours_network_measure[0], out.ours_network_estimate[0], out.ours_network_k[0]) == ("RR", 1.21, 12)
    assert (out.ours_network_ci_low[0], out.ours_network_ci_high[0]) == (1.05, 1.40)
    assert out.ours_network_measure[1] == "" and np.isnan(out.ours_network_estimate[1])
    # the pairwise comparison (rule analyse) carries no network columns
    assert "ours_network_estimate" not in compare_benchmarks(bench, SUMMARY).columns
    # no network estimates at all: the columns are there, empty
    none = network_benchmarks(bench, pd.DataFrame())
    assert none.ours_network_estimate.isna().all() and (none.ours_network_measure == "").all()


# --- population, timepoint and scale: a claim is only set against its own ---------------------------------

def _row(comparison, outcome, measure, est, lo, hi, k=3, status="pooled"):
    return dict(comparison=comparison, outcome=outcome, status=status, measure=measure, k=k,
                estimate_display=est, ci_low_display=lo, ci_high_display=hi)


CHRONIC = pd.DataFrame([_row("combined_vs_medication", "response", "RR", 0.95, 0.80, 1.10)])
EARLY = pd.DataFrame([_row("combined_vs_medication", "response", "RR", 1.02, 0.90, 1.15)])
WITH_RD = pd.concat([SUMMARY, pd.DataFrame([_row("combined_vs_medication", "response", "RD", 0.05, 0.01, 0.09, k=4)])],
                    ignore_index=True)


def test_subgroup_claim_is_set_against_the_subgroup_estimate_never_all_trials():
    kw = dict(comparison="combined_vs_medication", outcome="response", measure="direction", low=1.0, high=None)
    v = evaluate_claims([claim(**kw, subgroup="chronic")], SUMMARY, RATES, subgroups={"chronic": (CHRONIC, None)}).iloc[
        0
    ]
    assert v.evidence == "primary population; chronic subgroup"
    assert v.pooled_estimate == 0.95 and v.verdict == "not shown"
    # all trials (1.19, 1.01-1.40) would have said supported; the subgroup decides on its own numbers
    v = evaluate_claims([claim(**{**kw, "low": 1.2}, subgroup="chronic")], SUMMARY, RATES,
                        subgroups={"chronic": (CHRONIC, None)}).iloc[0]
    assert v.verdict == "contradicted" and v.pooled_estimate == 0.95
    # no subgroup estimates given, or none pooled in it: not testable, with the reason
    v = evaluate_claims([claim(**kw, subgroup="chronic")], SUMMARY, RATES).iloc[0]
    assert v.verdict == "not testable" and "chronic subgroup" in v.reason and np.isnan(v.pooled_estimate)
    empty = {"treatment_resistant": (pd.DataFrame(), None)}
    v = evaluate_claims([claim(**kw, subgroup="treatment_resistant")], SUMMARY, RATES, subgroups=empty).iloc[0]
    assert v.verdict == "not testable" and "(0 studies) in the treatment resistant subgroup" in v.reason


def test_subgroups_the_study_sheet_does_not_code_are_not_testable():
    kw = dict(comparison="combined_vs_medication", outcome="response", measure="direction", low=1.0, high=None)
    for sub in ("mild", "severe", "personality_disorder"):
        v = evaluate_claims([claim(**kw, subgroup=sub)], SUMMARY, RATES, subgroups={"chronic": (CHRONIC, None)}).iloc[0]
        assert v.verdict == "not testable" and "not coded per trial" in v.reason, sub


def test_subgroup_membership_follows_the_coded_study_fields():
    from depmeta.review.checks import subgroup_studies

    studies = pd.DataFrame({"study_id": ["a", "b", "c", "d"],
                            "condition": ["chronic_MDD", "MDD", "recurrent_MDD_remitted", "MDD"],
                            "chronicity": ["chronic", "chronic", "recurrent", "not_reported"],
                            "design": ["acute", "acute", "maintenance", "sequential"]})
    assert subgroup_studies(studies, "chronic") == {"a", "b"}
    assert subgroup_studies(studies, "remitted") == {"c", "d"}
    assert subgroup_studies(studies, "treatment_resistant") == set()


def test_speed_claim_is_set_against_the_earliest_timepoint_or_not_testable():
    kw = dict(comparison="combined_vs_medication", outcome="response", measure="direction", low=1.0, high=None,
              timing="early")
    v = evaluate_claims([claim(**{**kw, "low": 1.2})], SUMMARY, RATES, early=(EARLY, None)).iloc[0]
    assert (
        v.evidence == "primary population; earliest timepoint" and v.pooled_estimate == 1.02
        and v.verdict == "contradicted"
    )
    v = evaluate_claims([claim(**kw)], SUMMARY, RATES).iloc[0]
    assert v.verdict == "not testable" and "earliest timepoint" in v.reason
    v = evaluate_claims([claim(**{**kw, "timing": "course"})], SUMMARY, RATES, early=(EARLY, None)).iloc[0]
    assert v.verdict == "not testable" and "time course" in v.reason


def test_a_trial_gives_early_evidence_only_with_a_timepoint_before_its_end_of_treatment():
    from depmeta.review.checks import early_contrasts

    def contrasts(*rows):
        return pd.DataFrame([dict(study_id=s, comparison="combined_vs_medication", outcome="response",
                                  source_kind=kind, timepoint_weeks=tp) for s, tp, kind in rows])

    main = contrasts(("a", 16, "arms"), ("b", 12, "arms"), ("d", 0, "hazard_ratio"), ("e", 12, "reported"))
    early = contrasts(("a", 8, "arms"), ("b", 12, "arms"), ("c", 4, "arms"), ("d", 4, "arms"), ("e", 6, "reported"))
    # a: 8 weeks before its end of treatment at 16; b: one timepoint; c, d: no end-of-treatment contrast
    assert early_contrasts(early, main).study_id.tolist() == ["a", "e"]
    assert early_contrasts(early, main.iloc[:0]).empty and early_contrasts(early.iloc[:0], main).empty


def test_speed_claim_on_an_early_pool_that_rests_on_end_of_treatment_estimates_is_not_testable():
    kw = dict(comparison="combined_vs_medication", outcome="response", measure="direction", low=1.0, high=None,
              timing="early")
    rows = ["s1:c:response:12w:ITT", "s1:m:response:12w:ITT", "s2:c:response:8w:ITT", "s2:m:response:8w:ITT"]
    main = SUMMARY.assign(row_ids=[rows, [], []])
    # the same input rows: the early pool is the end-of-treatment pool (every trial has one timepoint)
    same = EARLY.assign(row_ids=[rows])
    v = evaluate_claims([claim(**kw)], main, RATES, early=(same, None)).iloc[0]
    assert v.verdict == "not testable" and "rests on the same estimates as the end-of-treatment pool" in v.reason
    assert "2 studies at the same timepoints" in v.reason and np.isnan(v.pooled_estimate)
    # in a result table the row ids are ';'-joined; one of two trials enters with its end-of-treatment rows
    part = EARLY.assign(row_ids=[";".join(rows[:2] + ["s3:c:response:4w:ITT", "s3:m:response:4w:ITT"])])
    v = evaluate_claims([claim(**kw)], main, RATES, early=(part, None)).iloc[0]
    assert v.verdict == "not testable" and "1 study of the pool at the earliest timepoint" in v.reason
    # earlier rows of their own: evaluated
    own = EARLY.assign(row_ids=[["s1:c:response:4w:ITT", "s1:m:response:4w:ITT"]])
    v = evaluate_claims([claim(**kw)], main, RATES, early=(own, None)).iloc[0]
    assert (v.verdict, v.pooled_estimate) == ("not shown", 1.02)
    # nothing pooled before the end of treatment: the reason says so
    v = evaluate_claims([claim(**kw)], main, RATES, early=(EARLY.assign(status="not pooled", k=1), None)).iloc[0]
    assert v.verdict == "not testable" and v.reason.endswith("(1 study) with a timepoint before the end of treatment")


def test_absolute_difference_claim_is_set_against_the_risk_difference():
    kw = dict(comparison="combined_vs_medication", outcome="response", measure="RD", low=0.10, high=0.10)
    v = evaluate_claims([claim(**kw)], WITH_RD, RATES).iloc[0]
    assert (v.pooled_measure, v.pooled_estimate, v.verdict) == ("RD", 0.05, "contradicted")
    v = evaluate_claims([claim(**{**kw, "low": 0.08, "high": 0.08})], WITH_RD, RATES).iloc[0]
    assert v.verdict == "supported"
    # without an RD row, never against the RR
    v = evaluate_claims([claim(**kw)], SUMMARY, RATES).iloc[0]
    assert v.verdict == "not testable" and "pooled as RR" in v.reason
    # a direction claim keeps to the primary (ratio) analysis even with RD rows present
    v = evaluate_claims([claim(comparison="combined_vs_medication", outcome="response", measure="direction",
                               low=1.0, high=None)], WITH_RD, RATES).iloc[0]
    assert v.pooled_measure == "RR"


def test_functioning_and_quality_of_life_claims_are_not_testable_against_symptoms():
    for domain in ("functioning", "quality_of_life", "functioning_and_quality_of_life"):
        v = verdict(comparison="psychotherapy_vs_medication", outcome="symptoms", measure="direction", low=None,
                    high=0.0, domain=domain)
        assert v.verdict == "not testable" and "symptom scores" in v.reason and np.isnan(v.pooled_estimate)


def test_relapse_direction_claim_uses_the_pooled_hazard_ratio_where_the_trials_report_one():
    kw = dict(comparison="combined_vs_psychotherapy", outcome="relapse", measure="direction", low=None, high=1.0)
    counts = pd.DataFrame([_row("combined_vs_psychotherapy", "relapse", "RR", 0.95, 0.75, 1.20, k=4)])
    hr = pd.DataFrame([_row("combined_vs_psychotherapy", "relapse", "HR", 0.7, 0.5, 0.9, k=3)])
    # only hazard ratios pooled (the count-based row has 1 study)
    v = evaluate_claims([claim(**kw)], pd.concat([SUMMARY, hr], ignore_index=True), RATES).iloc[0]
    assert (v.pooled_measure, v.pooled_k, v.verdict) == ("HR", 3, "supported")
    assert v.reason.startswith("pooled hazard ratio of relapse from published hazard ratios")
    # both pooled: the hazard ratio decides, and the reason gives the count-based estimate beside it
    both = pd.concat([counts, hr], ignore_index=True)
    v = evaluate_claims([claim(**kw)], both, RATES).iloc[0]
    assert (v.pooled_measure, v.verdict) == ("HR", "supported")
    assert "the count-based RR of relapse (4 studies) is 0.95 (0.75 to 1.20)" in v.reason
    # the hazard ratios not pooled: the count-based analysis
    v = evaluate_claims([claim(**kw)], pd.concat([counts, hr.assign(status="not pooled", k=1)]), RATES).iloc[0]
    assert (v.pooled_measure, v.verdict) == ("RR", "not shown") and "hazard" not in v.reason
    # neither: not testable, counting both kinds of trial
    v = evaluate_claims([claim(**kw)], pd.concat([SUMMARY, hr.assign(status="not pooled", k=1)]), RATES).iloc[0]
    assert v.verdict == "not testable" and "(1 study with counts, 1 study with a hazard ratio)" in v.reason
    # a claim on the HR scale takes the HR row; one stated as an RR never does
    v = evaluate_claims([claim(**{**kw, "measure": "HR", "low": 0.6, "high": 0.8})], both, RATES).iloc[0]
    assert (v.pooled_measure, v.verdict) == ("HR", "supported")
    v = evaluate_claims([claim(**{**kw, "measure": "RR", "low": 0.6, "high": 0.8})], both, RATES).iloc[0]
    assert (v.pooled_measure, v.verdict) == ("RR", "not shown")
    # other outcomes keep the primary analysis
    v = evaluate_claims([claim(comparison="combined_vs_medication", outcome="response", measure="direction",
                               low=1.0, high=None)], pd.concat([SUMMARY, hr]), RATES).iloc[0]
    assert v.pooled_measure == "RR"


# --- claims about a named therapy or drug class: the arms of it ------------------------------------------

def _arm(study, arm, arm_type, therapy="", drug=""):
    return dict(study_id=study, arm_id=arm, arm_type=arm_type, therapy_type=therapy, drug_class=drug)


ARMS = pd.DataFrame([
    _arm("t1", "cbt", "psychotherapy", "CBT"), _arm("t1", "ipt", "psychotherapy", "IPT"),
    _arm("t1", "imi", "medication", drug="TCA"), _arm("t1", "pbo", "placebo"),
    _arm("t2", "comb", "combined", "CBT", "SSRI"), _arm("t2", "flx", "medication", drug="SSRI"),
    _arm("t3", "couns", "psychotherapy", "other"), _arm("t3", "ad", "medication"),
])


def _pair(study, a1, t1, a2, t2):
    return dict(study_id=study, arm1_id=a1, arm1_type=t1, arm2_id=a2, arm2_type=t2)


def test_specific_sheets_keep_only_the_arms_of_the_named_therapy_or_drug_class():
    from depmeta.review.checks import specific_sheets

    reported = pd.DataFrame([{**_pair("t1", "ipt", "psychotherapy", "imi", "medication"), "measure": "SMD"},
                             {**_pair("t1", "cbt", "psychotherapy", "imi", "medication"), "measure": "SMD"},
                             {**_pair("t2", "comb", "combined", "flx", "medication"), "measure": "HR"},
                             {**_pair("t9", "mbct", "psychotherapy", "tau", "usual_care"), "measure": "HR"},
                             {**_pair("t9", "adm", "medication", "stop", "other_control"), "measure": "HR"}])
    sheets = {"arms": ARMS, "contrasts": reported, "studies": pd.DataFrame()}
    ipt = specific_sheets(sheets, ["IPT"])
    # the trial enters with its IPT arm; its CBT arm, and CBT or uncoded therapy elsewhere, are set aside
    assert list(zip(ipt["arms"].study_id, ipt["arms"].arm_id)) == [
        ("t1", "ipt"), ("t1", "imi"), ("t1", "pbo"), ("t2", "flx"), ("t3", "ad")]
    assert ipt["contrasts"].arm1_id.tolist() == ["ipt", "adm"]
    # a hazard ratio of an arm the arm sheet does not have is left out; one without a psychotherapy arm is kept
    hr = ipt["contrasts"][ipt["contrasts"].measure == "HR"]
    assert hr.study_id.tolist() == ["t9"] and hr.arm1_id.tolist() == ["adm"]
    ssri = specific_sheets(sheets, drug_classes=["SSRI"])
    assert set(ssri["arms"].arm_id) == {"cbt", "ipt", "pbo", "comb", "flx", "couns"}
    assert ssri["contrasts"][ssri["contrasts"].measure == "HR"].study_id.tolist() == ["t2", "t9"]
    both = specific_sheets(sheets, ["CBT", "CT"], ["SSRI"])
    assert set(both["arms"].arm_id) == {"cbt", "pbo", "comb", "flx"}
    assert specific_sheets(sheets) == sheets


def test_hazard_ratios_left_out_for_want_of_coded_arms_are_named_by_comparison():
    from depmeta.review.checks import uncoded_hazard_studies

    hazard = pd.DataFrame([_pair("t2", "comb", "combined", "flx", "medication"),
                           _pair("t9", "tau", "usual_care", "mbct", "psychotherapy"),
                           _pair("t8", "cm", "medication", "ct_cm", "combined")]).assign(measure="HR")
    sheets = {"arms": ARMS, "contrasts": hazard}
    assert uncoded_hazard_studies(sheets, ["MBCT"]) == {"psychotherapy_vs_control": ["t9"],
                                                        "combined_vs_medication": ["t8"]}
    assert uncoded_hazard_studies(sheets, drug_classes=["SSRI"]) == {"combined_vs_medication": ["t8"]}
    assert uncoded_hazard_studies(sheets) == {}


def test_claim_about_a_named_therapy_is_set_against_the_arms_of_it_or_not_testable():
    from depmeta.review.checks import ClaimEvidence, claim_arms

    kw = dict(comparison="psychotherapy_vs_medication", outcome="symptoms", measure="direction", low=None,
              high=0.0, therapy_type=["IPT"])
    assert claim_arms(claim(**kw)) == (("IPT",), ()) and claim_arms(claim()) == ((), ())
    assert claim_arms(claim(therapy_type=["CT", "CBT"], drug_class="SSRI")) == (("CBT", "CT"), ("SSRI",))
    ipt = pd.DataFrame([_row("psychotherapy_vs_medication", "symptoms", "SMD", -0.4, -0.6, -0.2, k=2),
                        _row("psychotherapy_vs_medication", "relapse", "RR", 0.7, 0.5, 0.9, k=2)])
    specific = {(("IPT",), ()): ClaimEvidence(ipt, RATES.assign(strategy="psychotherapy", k=2, estimate_rate=0.6,
                                                                ci_low_rate=0.5, ci_high_rate=0.7),
                                              relapse_notes={("psychotherapy_vs_medication", False, None): "t9 out"})}
    v = evaluate_claims([claim(**kw)], SUMMARY, RATES, specific=specific).iloc[0]
    # all trials (-0.10 [-0.30, 0.10]) would have said not shown; the IPT arms decide
    assert (v.evidence, v.pooled_k, v.verdict, v.therapy_type) == ("primary population; IPT arms", 2, "supported",
                                                                    "IPT")
    v = evaluate_claims([claim(**{**kw, "outcome": "relapse", "high": 1.0})], SUMMARY, RATES,
                        specific=specific).iloc[0]
    assert v.verdict == "supported" and v.reason.endswith("; t9 out")
    rate = dict(comparison="psychotherapy", outcome="remission", measure="event_rate", low=0.45, high=0.75,
                therapy_type=["IPT"])
    assert evaluate_claims([claim(**rate)], SUMMARY, RATES, specific=specific).iloc[0].verdict == "supported"
    # none pooled from those arms: not testable, saying from which arms
    v = evaluate_claims([claim(**{**kw, "outcome": "response"})], SUMMARY, RATES, specific=specific).iloc[0]
    assert v.verdict == "not testable" and v.reason.endswith("(0 studies) from IPT arms")
    # no estimate from the arms at all, or a comparison without an arm of that kind: not testable
    v = evaluate_claims([claim(**kw)], SUMMARY, RATES).iloc[0]
    assert v.verdict == "not testable" and "IPT arms, and no estimate from them was computed" in v.reason
    v = evaluate_claims([claim(**{**kw, "comparison": "medication_vs_control"})], SUMMARY, RATES,
                        specific=specific).iloc[0]
    assert v.verdict == "not testable" and "has no psychotherapy or combined arm" in v.reason
    v = evaluate_claims([claim(**{**kw, "therapy_type": None, "drug_class": ["SSRI"],
                                  "comparison": "psychotherapy_vs_control"})], SUMMARY, RATES).iloc[0]
    assert v.verdict == "not testable" and "names the drug class SSRI" in v.reason


def test_embedded_claims_naming_a_therapy_or_drug_class_carry_it():
    import re

    doc = yaml.safe_load((ROOT / "data" / "claims.yaml").read_text())
    therapy = re.compile(r"\b(CBT|cognitive[- ]behaviou?ral|IPT|interpersonal (psycho)?therapy|MBCT|mindfulness|"
                         r"CBASP|psychodynamic|problem[- ]solving therapy|behaviou?ral activation)\b", re.I)
    drug = re.compile(r"\b(SSRIs?|SNRIs?|tricyclics?|TCAs?|MAOIs?)\b", re.I)
    for c in doc["claims"]:
        if not c["testable"]:
            continue
        text = f"{c['claim']} {c['quote']}"
        assert bool(therapy.search(text)) == bool(c.get("therapy_type")), f"{c['id']}: code its therapy_type"
        assert bool(drug.search(text)) == bool(c.get("drug_class")), f"{c['id']}: code its drug_class"


def test_sequential_treatment_is_kept_apart_from_combined_vs_medication():
    v = verdict(comparison="sequential", outcome="relapse", measure="RR", low=0.84, high=0.84)
    assert v.verdict == "not testable" and "comparison of its own" in v.reason
    bench = pd.DataFrame([dict(benchmark_id="B44", comparison="sequential", outcome="relapse", measure="RR",
                               estimate=0.84, ci_low=0.74, ci_high=0.94, k=17, subgroup="sequential")])
    extra = pd.DataFrame([_row("combined_vs_medication", "relapse", "RR", 0.8, 0.6, 1.0)])
    out = compare_benchmarks(bench, pd.concat([SUMMARY, extra], ignore_index=True)).iloc[0]
    assert np.isnan(out.ours_estimate) and "comparison of its own" in out.note
    embedded = pd.read_csv(ROOT / "data" / "benchmarks.csv", dtype=str, keep_default_na=False)
    guidi = embedded[embedded.citation.str.contains("Guidi")]
    assert len(guidi) and (guidi.comparison == "sequential").all()


def test_every_benchmark_a_claim_cites_exists():
    import re

    text = (ROOT / "data" / "claims.yaml").read_text()
    cited = set(re.findall(r"\bB\d{2,3}\b", text))
    known = set(pd.read_csv(ROOT / "data" / "benchmarks.csv", dtype=str).benchmark_id)
    assert cited, "no benchmark citations found: the pattern is stale"
    assert cited <= known, f"claims.yaml cites benchmarks not in benchmarks.csv: {sorted(cited - known)}"


def test_embedded_claims_naming_a_subgroup_carry_it():
    doc = yaml.safe_load((ROOT / "data" / "claims.yaml").read_text())
    words = ("mild", "severe", "chronic", "treatment-resistant", "personality", "remission", "remitted", "recurrent")
    for c in doc["claims"]:
        if c["testable"] and any(w in str(c.get("population", "")).lower() for w in words):
            assert c.get("subgroup"), f"{c['id']}: population {c['population']!r} names a subgroup; code it"


def test_no_embedded_claim_gets_a_verdict_from_the_wrong_population_timepoint_or_scale():
    """Every claim of data/claims.yaml against estimate sets that carry a marker value: all
    trials (ratio/g 11, RD 22), earliest timepoint 33, each subgroup 44. A claim may only
    ever be set beside the marker of its own population, timepoint and scale."""
    from depmeta.review.checks import SUBGROUP_RULES
    from depmeta.review.vocabulary import COMPARISONS

    def frame(marker_main, marker_rd=None):
        rows = []
        for comp in COMPARISONS:
            for outcome in ("remission", "response", "relapse", "dropout", "symptoms"):
                m = "SMD" if outcome == "symptoms" else "RR"
                rows.append(_row(comp, outcome, m, marker_main, marker_main - 1, marker_main + 1))
                if marker_rd is not None and outcome != "symptoms":
                    rows.append(_row(comp, outcome, "RD", marker_rd, marker_rd - 1, marker_rd + 1))
        return pd.DataFrame(rows)

    from depmeta.review.checks import ClaimEvidence, claim_arms

    doc = yaml.safe_load((ROOT / "data" / "claims.yaml").read_text())
    main, early, sub = frame(11, 22), frame(33, 33), frame(44, 44)
    # the estimates from the arms of a named therapy or drug class: 55 + 100 x (early, subgroup)
    arms, arms_early, arms_sub = frame(55, 66), frame(155, 155), frame(255, 255)
    arms_ev = ClaimEvidence(arms, RATES, adult=(arms, RATES), early=(arms_early, arms_early),
                            subgroups={name: (arms_sub, arms_sub) for name in SUBGROUP_RULES})
    specific = {claim_arms(c): arms_ev for c in doc["claims"] if any(claim_arms(c))}
    out = evaluate_claims(doc["claims"], main, RATES, adult=(main, RATES), early=(early, early),
                          subgroups={name: (sub, sub) for name in SUBGROUP_RULES}, specific=specific).set_index("id")
    for c in doc["claims"]:
        got = out.loc[c["id"], "pooled_estimate"]
        if not c["testable"] or np.isnan(got) or c.get("measure") == "event_rate":
            continue
        if c.get("domain") or c.get("comparison") == "sequential" or c.get("timing") == "course":
            raise AssertionError(f"{c['id']}: a verdict against symptom or pairwise estimates")
        named = any(claim_arms(c))
        if c.get("subgroup"):
            assert got == (255 if named else 44), c["id"]
        elif c.get("timing") == "early":
            assert got == (155 if named else 33), c["id"]
        elif named:
            assert got == (66 if c["measure"] == "RD" else 55), c["id"]
        else:
            assert got == (22 if c["measure"] == "RD" else 11), c["id"]
    subgroup_ids = [c["id"] for c in doc["claims"] if c.get("subgroup") and not any(claim_arms(c))]
    assert (out.loc[subgroup_ids, "pooled_estimate"].dropna() == 44).all()
    assert out.loc[[c["id"] for c in doc["claims"] if any(claim_arms(c))], "pooled_estimate"].notna().any()
