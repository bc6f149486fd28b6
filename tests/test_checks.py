"""Claims against pooled evidence, and published benchmarks beside this pipeline's estimates."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from depmeta.checks import compare_benchmarks, evaluate_claims, network_benchmarks
from depmeta.sheets import check_claims

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


def test_range_overlapping_the_ci_is_consistent_and_disjoint_is_not():
    assert verdict(comparison="combined_vs_medication", outcome="response", measure="RR", low=1.3, high=1.6).verdict == "consistent"
    v = verdict(comparison="combined_vs_medication", outcome="response", measure="RR", low=1.5, high=2.0)
    assert v.verdict == "not consistent" and "does not overlap" in v.reason


def test_point_value_and_direction():
    assert verdict(comparison="combined_vs_medication", outcome="response", measure="RR", low=1.0, high=1.0).verdict == "not consistent"
    assert verdict(comparison="combined_vs_medication", outcome="response", measure="direction", low=1.0, high=None).verdict == "consistent"
    # fewer symptoms with psychotherapy: g < 0 on this project's scale
    assert verdict(comparison="psychotherapy_vs_medication", outcome="symptoms", measure="direction", low=None, high=0.0).verdict == "consistent"


def test_no_difference_claim_checks_the_null():
    assert verdict(comparison="psychotherapy_vs_medication", outcome="symptoms", measure="g", low=None, high=None).verdict == "consistent"
    assert verdict(comparison="combined_vs_medication", outcome="response", measure="RR", low=None, high=None).verdict == "not consistent"


def test_event_rate_claims_use_pooled_rates():
    assert verdict(comparison="medication", outcome="remission", measure="event_rate", low=0.3, high=0.39).verdict == "not consistent"
    assert verdict(comparison="medication", outcome="remission", measure="event_rate", low=0.3, high=0.42).verdict == "consistent"


def test_not_testable_says_why():
    v = verdict(comparison="combined_vs_psychotherapy", outcome="relapse", measure="RR", low=0.5, high=0.5)
    assert v.verdict == "not testable" and "1 study" in v.reason
    v = verdict(comparison="combined_vs_medication", outcome="response", measure="OR", low=2, high=3)
    assert v.verdict == "not testable" and "pooled as RR" in v.reason
    v = evaluate_claims([{**claim(), "testable": False, "why": "a mechanism"}], SUMMARY, RATES).iloc[0]
    assert (v.verdict, v.reason) == ("not testable", "a mechanism")


def test_benchmark_notes():
    bench = pd.DataFrame([dict(benchmark_id="B1", comparison="combined_vs_medication", outcome="response", measure="RR",
                               estimate=1.25, ci_low=1.14, ci_high=1.37, k=20, subgroup="all"),
                          dict(benchmark_id="B2", comparison="combined_vs_medication", outcome="response", measure="OR",
                               estimate=2.9, ci_low=2.1, ci_high=4.0, k=np.nan, subgroup="long-term"),
                          dict(benchmark_id="B3", comparison="combined_vs_psychotherapy", outcome="relapse", measure="RR",
                               estimate=0.8, ci_low=0.6, ci_high=0.9, k=5, subgroup="all")])
    out = compare_benchmarks(bench, SUMMARY)
    assert out.note[0] == "confidence intervals overlap; 4 trials here vs 20 published"
    assert "different measure" in out.note[1] and "subgroup (long-term)" in out.note[1]
    assert out.note[2].startswith("not estimated here")


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
    assert (on_all.evidence, on_all.pooled_k, on_all.pooled_estimate) == ("all trials", 4, 1.19)
    assert (on_adults.evidence, on_adults.pooled_k, on_adults.pooled_estimate) == ("adult trials", 3, 1.50)
    rate = evaluate_claims([claim(comparison="medication", outcome="remission", measure="event_rate", low=0.3, high=0.32)],
                           SUMMARY, RATES, adult=ADULT).iloc[0]
    assert rate.evidence == "adult trials" and rate.verdict == "consistent"
    assert verdict(comparison="combined_vs_medication", outcome="response", measure="RR", low=1.3, high=1.6).evidence == "all trials"


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
    assert list(out.columns[:len(bench.columns)]) == list(bench.columns)  # the benchmark rows as they are
    assert (out.ours_network_measure[0], out.ours_network_estimate[0], out.ours_network_k[0]) == ("RR", 1.21, 12)
    assert (out.ours_network_ci_low[0], out.ours_network_ci_high[0]) == (1.05, 1.40)
    assert out.ours_network_measure[1] == "" and np.isnan(out.ours_network_estimate[1])
    # the pairwise comparison (rule analyse) carries no network columns
    assert "ours_network_estimate" not in compare_benchmarks(bench, SUMMARY).columns
    # no network estimates at all: the columns are there, empty
    none = network_benchmarks(bench, pd.DataFrame())
    assert none.ours_network_estimate.isna().all() and (none.ours_network_measure == "").all()
