"""Display tables of the sensitivity analyses for the report (at most 7 columns each, so the A4 PDF stays
readable). Formatting only: the numbers are the rule ``sensitivity``'s tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

from depmeta.report.labels import TEST_NAME, comparison_label, fmt_p
from depmeta.report.tables import fmt, fmt_ci
from depmeta.stats.effects import RATIO_MEASURES

__all__ = ["alternatives_display", "influence_display", "other_test_display", "overview_table",
           "small_study_display"]

#: How a conclusion (``depmeta.review.robustness.conclusion``) reads in a table.
CONCLUSION_TEXT = {"above": "above no effect", "below": "below no effect", "includes": "includes no effect",
                   "": "–"}


def _d(measure, x):
    return float(np.exp(x)) if measure in RATIO_MEASURES and pd.notna(x) else x


def _sel(df, comparison, outcome, measure=None):
    """The rows of one pooled analysis (relapse can be pooled as RR and as HR: give the measure)."""
    if not len(df):
        return df
    keep = (df.comparison == comparison) & (df.outcome == outcome)
    return df[keep & (df.measure == measure)] if measure is not None else df[keep]


def overview_table(summary: pd.DataFrame, influence: pd.DataFrame, leave1out: pd.DataFrame,
                   small_study: pd.DataFrame) -> pd.DataFrame:
    """One row per pooled comparison × outcome: flagged trials, range of leave-one-out estimates, small-study tests."""
    rows = []
    for _, s in summary[summary.status == "pooled"].iterrows():
        inf = _sel(influence, s.comparison, s.outcome, s.measure)
        l1 = _sel(leave1out, s.comparison, s.outcome, s.measure)
        ss = _sel(small_study, s.comparison, s.outcome, s.measure)
        flagged = ", ".join(inf.loc[inf.influential.astype(bool), "label"]) if len(inf) else ""
        if len(ss) and ss.iloc[0].status == "run":
            r = ss.iloc[0]
            tests = f"Egger p = {fmt_p(r.egger_pval)}; trim-and-fill k0 = {int(r.trimfill_k0)}"
        else:
            tests = f"not run (k < {_min_k(ss)})" if len(ss) else "not run"
        rows.append({
            "Comparison": comparison_label(s.comparison),
            "Outcome": s.outcome + (" (HR)" if s.measure == "HR" else ""), "k": int(s.k),
            "Estimate": fmt(s.estimate_display),
            "Leave-one-out range": (f"{fmt(l1.estimate_display.min())} to {fmt(l1.estimate_display.max())}"
                                    if len(l1) else "–"),
            "Influential trials": flagged or ("none" if len(inf) else "– (k < 3)"),
            "Small-study tests": tests,
        })
    return pd.DataFrame(rows)


def _min_k(ss):
    reason = str(ss.iloc[0].reason)
    return reason.split("<")[1].split(":")[0].strip() if "<" in reason else "?"


def influence_display(influence: pd.DataFrame, leave1out: pd.DataFrame, comparison: str, outcome: str,
                      level: float, measure: str | None = None) -> pd.DataFrame:
    """Per trial: the estimate without it, and metafor's influence diagnostics."""
    inf = _sel(influence, comparison, outcome, measure)
    l1 = _sel(leave1out, comparison, outcome, measure).set_index("study_id")
    rows = []
    for _, r in inf.iterrows():
        o = l1.loc[r.study_id]
        rows.append({
            "Trial": r.label + (" *" if r.influential else ""),
            f"Without it ({100 * level:g}% CI)":
                f"{fmt(o.estimate_display)} {fmt_ci(o.ci_low_display, o.ci_high_display)}",
            "Std. residual": fmt(r.rstudent), "DFFITS": fmt(r.dffits), "Cook's D": fmt(r.cook_d),
            "tau² without": fmt(r.tau2_del, 3), "Weight %": fmt(r.weight, 1),
        })
    return pd.DataFrame(rows)


def alternatives_display(alternatives: pd.DataFrame, comparison: str, outcome: str, level: float,
                         measure: str | None = None) -> pd.DataFrame:
    """The pooled estimate under each alternative analysis."""
    a = _sel(alternatives, comparison, outcome, measure)
    return pd.DataFrame({
        "Analysis": a.analysis, "k": a.k.astype(int),
        f"Estimate ({100 * level:g}% CI)": [f"{fmt(e)} {fmt_ci(lo, hi)}" if pd.notna(e) else "–"
                                           for e, lo, hi in zip(a.estimate_display, a.ci_low_display,
                                                                a.ci_high_display)],
        "p": [fmt_p(p) if pd.notna(p) else "–" for p in a.pval],
        "tau²": [fmt(t, 3) for t in a.tau2],
        "Note": a.note.fillna(""),
    })


def small_study_display(row: pd.Series, level: float) -> pd.DataFrame:
    """Egger (both forms), Begg's rank test, trim-and-fill and PET-PEESE for one analysis that ran them."""
    m = row.measure
    ci = f"{100 * level:g}% CI"
    return pd.DataFrame([
        {"Test": "Egger regression (random effects, sei)", "Statistic": f"z = {fmt(row.egger_stat)}",
         "p": fmt_p(row.egger_pval), f"Adjusted estimate ({ci})": f"limit {fmt(_d(m, row.egger_limit))}"},
        {"Test": "Egger regression (classical, weighted lm)",
         "Statistic": f"t({int(row.egger_lm_df)}) = {fmt(row.egger_lm_stat)}", "p": fmt_p(row.egger_lm_pval),
         f"Adjusted estimate ({ci})": "–"},
        {"Test": "Begg rank correlation", "Statistic": f"Kendall's tau = {fmt(row.rank_tau)}",
         "p": fmt_p(row.rank_pval), f"Adjusted estimate ({ci})": "–"},
        {"Test": "Trim-and-fill (L0)", "Statistic": f"{int(row.trimfill_k0)} filled, {row.trimfill_side} side",
         "p": fmt_p(row.trimfill_pval),
         f"Adjusted estimate ({ci})": f"{fmt(_d(m, row.trimfill_estimate))} "
                                     f"{fmt_ci(_d(m, row.trimfill_ci_low), _d(m, row.trimfill_ci_high))}"},
        {"Test": f"PET-PEESE ({row.pet_peese_selected} selected)", "Statistic": f"PET p = {fmt_p(row.pet_pval)}",
         "p": "–", f"Adjusted estimate ({ci})": f"{fmt(_d(m, row.pet_peese_estimate))} "
                                                f"{fmt_ci(_d(m, row.pet_peese_ci_low), _d(m, row.pet_peese_ci_high))}"},
    ])


def other_test_display(conclusions: pd.DataFrame, level: float) -> pd.DataFrame:
    """Per pooled estimate: its CI under the primary test and under the other test, and whether the
    conclusion (the interval's side of no effect) differs (``depmeta.review.robustness.other_test_conclusions``)."""
    c = conclusions
    if not len(c):
        return pd.DataFrame()
    main, other = TEST_NAME[c.test.iloc[0]], TEST_NAME[c.other_test.iloc[0]]
    ci = f"{100 * level:g}% CI"
    return pd.DataFrame({
        "Comparison": [comparison_label(x) for x in c.comparison],
        "Outcome": [o + (" (HR)" if m == "HR" else "") for o, m in zip(c.outcome, c.measure)],
        "k": c.k.astype(int),
        f"Estimate, {main} {ci}": [f"{fmt(e)} {fmt_ci(lo, hi)}" for e, lo, hi in
                                   zip(c.estimate_display, c.ci_low_display, c.ci_high_display)],
        f"{other} {ci}": [fmt_ci(lo, hi) for lo, hi in zip(c.other_ci_low_display, c.other_ci_high_display)],
        f"Conclusion, {main} → {other}": [
            CONCLUSION_TEXT[a] if a == b else f"{CONCLUSION_TEXT[a]} → {CONCLUSION_TEXT[b]}"
            for a, b in zip(c.conclusion, c.other_conclusion)],
        "Differs": ["–" if pd.isna(d) else ("yes" if d else "no") for d in c.differs],
    })
