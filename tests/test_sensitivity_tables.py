"""The sensitivity tables of every pooled analysis (depmeta.review.sensitivity), on small synthetic frames:
each table's rows trace to the analyses, numbers equal the engine's direct results, reasons are given where an
analysis cannot run. Tolerance: RTOL = 1e-12, the same computation reached two ways (rounding only)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from depmeta.report.sensitivity_tables import alternatives_display, influence_display, overview_table
from depmeta.review.sensitivity import SensitivityOptions, run_sensitivity
from depmeta.stats.bias import regtest
from depmeta.stats.pooling import pool
from depmeta.stats.sensitivity import leave1out

RTOL = 1e-12


@pytest.fixture(scope="module")
def frames():
    rng = np.random.default_rng(4)
    rows = []
    for comparison, k in (("combined_vs_medication", 11), ("psychotherapy_vs_medication", 4),
                          ("medication_vs_control", 2)):
        for i in range(k):
            v = rng.uniform(0.01, 0.1)
            rows.append({"comparison": comparison, "outcome": "response", "measure": "RR",
                         "study_id": f"s{comparison[:3]}{i}", "label": f"Trial {i}", "yi": rng.normal(0.2, 0.2),
                         "vi": v, "n1": 50 + i, "n2": 50, "row_ids": f"r{i}"})
    per_study = pd.DataFrame(rows)
    summary = []
    for (comparison, outcome), g in per_study.groupby(["comparison", "outcome"]):
        fit = pool(g.yi, g.vi)
        summary.append({"comparison": comparison, "outcome": outcome, "measure": "RR", "k": len(g),
                        "status": "pooled", "estimate": fit.estimate, "estimate_display": np.exp(fit.estimate)})
    studies = pd.DataFrame({"study_id": per_study.study_id, "year": 2000 + np.arange(len(per_study))})
    low = {"scom0", "scom1", "scom2"}
    return per_study, pd.DataFrame(summary), studies, low


def test_tables_per_analysis(frames):
    per_study, summary, studies, low = frames
    t = run_sensitivity(per_study, summary, studies, low, SensitivityOptions(test="z"))  # as the references below
    assert set(t.influence.comparison) == {"combined_vs_medication", "psychotherapy_vs_medication"}  # k >= 3
    assert len(t.leave1out) == len(per_study)
    ss = t.small_study.set_index("comparison")
    assert ss.loc["combined_vs_medication", "status"] == "run"
    assert ss.loc["psychotherapy_vs_medication", "status"] == "not run"
    assert "k = 4 < 10" in ss.loc["psychotherapy_vs_medication", "reason"]
    big = per_study[per_study.comparison == "combined_vs_medication"]
    eg = regtest(big.yi, big.vi)
    assert ss.loc["combined_vs_medication", "egger_pval"] == pytest.approx(eg.pval, rel=RTOL)
    l1 = leave1out(big.yi, big.vi)
    got = t.leave1out[t.leave1out.comparison == "combined_vs_medication"].estimate.to_numpy()
    np.testing.assert_allclose(got, l1.estimate, rtol=RTOL)
    # GOSH for k >= 5 only; all 2^11 - 1 subsets.
    assert set(t.gosh.comparison) == {"combined_vs_medication"} and len(t.gosh) == 2**11 - 1
    alt = t.alternatives
    low_row = alt[(alt.comparison == "combined_vs_medication") & (alt.analysis == "low risk of bias only")].iloc[0]
    assert low_row.k == 3
    none_row = alt[(alt.comparison == "psychotherapy_vs_medication")
                   & (alt.analysis == "low risk of bias only")].iloc[0]
    assert none_row.k == 0 and none_row.note.startswith("not run")
    cum = t.cumulative[(t.cumulative.comparison == "combined_vs_medication") & (t.cumulative.order_by == "year")]
    assert cum.year.is_monotonic_increasing and cum.k.tolist() == list(range(1, 12))


def test_display_tables_stay_narrow(frames):
    per_study, summary, studies, low = frames
    t = run_sensitivity(per_study, summary, studies, low, SensitivityOptions())
    for df in (overview_table(summary, t.influence, t.leave1out, t.small_study),
               influence_display(t.influence, t.leave1out, "combined_vs_medication", "response", 0.95),
               alternatives_display(t.alternatives, "combined_vs_medication", "response", 0.95)):
        assert 0 < len(df) and df.shape[1] <= 7


def test_options_from_config():
    o = SensitivityOptions.from_config({"min_k_small_study": 8, "cumulative_order": ["precision"]},
                                       {"method": "DL", "test": "knha", "level": 0.9})
    assert (o.min_k_small_study, o.cumulative_order, o.method, o.test, o.level) == (8, ("precision",), "DL",
                                                                                    "knha", 0.9)


def test_each_measure_is_analysed_apart(frames):
    # relapse can be pooled twice, as RR from counts and as HR: the same comparison and outcome
    # under two measures must give two analyses of their own studies, never one of both
    per_study, summary, studies, low = frames
    four = per_study[per_study.comparison == "psychotherapy_vs_medication"]
    both = pd.concat([four, four.assign(measure="HR", yi=four.yi + 1.0)], ignore_index=True)
    two = summary[summary.comparison == "psychotherapy_vs_medication"]
    t = run_sensitivity(both, pd.concat([two, two.assign(measure="HR")], ignore_index=True), studies, low,
                        SensitivityOptions())
    assert t.leave1out.groupby("measure").size().to_dict() == {"HR": 4, "RR": 4}
    rr = t.leave1out[t.leave1out.measure == "RR"].estimate.to_numpy()
    np.testing.assert_allclose(rr, leave1out(four.yi, four.vi).estimate, rtol=RTOL)
    assert len(influence_display(t.influence, t.leave1out, "psychotherapy_vs_medication", "response", 0.95,
                                 "HR")) == 4


def test_primary_estimator_under_z_and_the_conclusions_that_differ():
    """Under Knapp-Hartung the alternatives hold the primary estimator with z; the conclusions under both
    tests come from those two rows, and the report names the estimates whose conclusion differs. Two
    trials of 0.3 and 0.5 (variance 0.02 each): z gives 0.40 [0.20, 0.60], Knapp-Hartung with 1 df an
    interval about 12.7 / 1.96 times as wide around the same estimate, which includes 0."""
    from depmeta.report.sections import other_test_section
    from depmeta.review.robustness import conclusion, other_test_conclusions

    rng = np.random.default_rng(7)
    y = {"combined_vs_medication": list(rng.normal(0.3, 0.1, 6)), "psychotherapy_vs_medication": [0.3, 0.5]}
    per_study = pd.DataFrame([{"comparison": c, "outcome": "symptoms", "measure": "SMD", "study_id": f"{c[:3]}{i}",
                               "label": f"Trial {i}", "yi": yi, "vi": 0.02, "n1": 50, "n2": 50, "row_ids": f"r{i}"}
                              for c, ys in y.items() for i, yi in enumerate(ys)])
    summary = pd.DataFrame([{"comparison": c, "outcome": "symptoms", "measure": "SMD", "k": len(ys),
                             "status": "pooled", "method": "REML", "test": "knha",
                             "estimate_display": pool(ys, [0.02] * len(ys), test="knha").estimate}
                            for c, ys in y.items()])
    studies = pd.DataFrame({"study_id": per_study.study_id, "year": 2000})
    alt = run_sensitivity(per_study, summary, studies, set(), SensitivityOptions(test="knha")).alternatives
    conc = other_test_conclusions(summary, alt).set_index("comparison")
    for c, ys in y.items():
        rows = alt[alt.comparison == c].set_index("analysis")
        z, kh = pool(ys, [0.02] * len(ys), test="z"), pool(ys, [0.02] * len(ys), test="knha")
        assert rows.loc["estimator REML, z", "ci_low"] == pytest.approx(z.ci_low, rel=RTOL)
        assert rows.loc["main analysis (REML, knha)", "ci_high"] == pytest.approx(kh.ci_high, rel=RTOL)
        assert "estimator REML, knha" not in rows.index  # the main analysis is not repeated
        r = conc.loc[c]
        assert (r.other_test, r.conclusion, r.other_conclusion) == (
            "z", conclusion(kh.ci_low, kh.ci_high, 0.0), conclusion(z.ci_low, z.ci_high, 0.0))
    assert (conc.loc["psychotherapy_vs_medication", "conclusion"],
            conc.loc["psychotherapy_vs_medication", "other_conclusion"]) == ("includes", "above")
    assert bool(conc.loc["psychotherapy_vs_medication", "differs"])
    assert not conc.loc["combined_vs_medication", "differs"]  # six trials around 0.3: above under both
    text = other_test_section(other_test_conclusions(summary, alt), 0.95)
    assert ("The conclusion (the interval's side of no effect) differs for 1 of 2: psychotherapy vs medication, "
            "symptoms (k = 2: includes no effect under Knapp-Hartung, above no effect under z).") in text
    assert "{#tbl-sensitivity-test}" in text and "| psychotherapy vs medication | symptoms | 2 |" in text
    # under z the other test is Knapp-Hartung, from the rows of the same run under z
    alt_z = run_sensitivity(per_study, summary.assign(test="z"), studies, set(), SensitivityOptions(test="z"))
    conc_z = other_test_conclusions(summary.assign(test="z"), alt_z.alternatives).set_index("comparison")
    assert list(conc_z.other_test) == ["knha", "knha"]
    assert (conc_z.differs == conc.differs).all()
