"""What the sensitivity analyses found, carried into the GRADE domains of a pooled estimate.

The sensitivity rule (``depmeta.stats.sensitivity``, ``depmeta.stats.bias``) writes, per pooled comparison ×
outcome × measure, the fit on the trials at low risk of bias only, metafor's influence flags
with the fit without each trial, and the small-study tests (Egger's regression, trim-and-fill).
This module reads those tables (:func:`robustness_findings`) and applies three rules, each
stated in the judgement's ``rule`` and its finding always written into the ``reason``:

- **risk of bias** (:func:`robust_rob`): restricted to the trials at low risk of bias (at least
  two), the conclusion differs from that of all trials → at least *serious*. Cochrane Handbook
  8.8.3 and GRADE guidelines 4 (Guyatt et al. 2011, J Clin Epidemiol 64:407) ask whether the
  effect differs in the trials at low risk of bias; a different conclusion is the mark used here.
- **inconsistency** (:func:`robust_inconsistency`): a trial that metafor's ``influence()`` flags
  as influential and whose result is outlying (studentized deleted residual beyond ±1.96,
  :data:`OUTLIER_Z`) changes the conclusion when left out → at least *serious* (the pooled
  result rests on one trial whose result differs from the others'; GRADE guidelines 7, Guyatt
  et al. 2011, J Clin Epidemiol 64:1294, on results that differ between studies). A trial
  influential only through its weight (a large trial in agreement with the rest) is a matter
  of precision, not of inconsistency, and does not count here.
- **publication bias** (:func:`robust_publication_bias`): the Egger test of the sensitivity rule
  is the test; with at least ``min_studies`` trials, trim-and-fill adding trials whose filled
  estimate has a different conclusion → *serious* (GRADE guidelines 5, Guyatt et al. 2011, J Clin
  Epidemiol 64:1277, on methods that examine the pattern of the data).

The *conclusion* of an interval is its side of the null: above it, below it, or including it
(:func:`conclusion`). A judgement already downgraded keeps its level (no second downgrade for
the same domain); the finding is added to its reason. With a rule's switch off the finding is
reported and nothing is downgraded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import pandas as pd

from depmeta.review.analysis import display_scale
from depmeta.review.judgements import Judgement
from depmeta.review.sensitivity import alternative_label, main_label
from depmeta.stats.effects import RATIO_MEASURES

__all__ = ["Robustness", "conclusion", "other_test", "other_test_conclusions", "robust_inconsistency",
           "robust_publication_bias", "robust_rob",
           "robustness_findings"]

KEY = ["comparison", "outcome", "measure"]
#: A trial's result is outlying when its studentized deleted residual (metafor's ``rstudent``)
#: lies beyond the two-sided 5% limit of the standard normal.
OUTLIER_Z = 1.96


@dataclass(frozen=True)
class Robustness:
    """Sensitivity findings for one pooled estimate (display scale)."""

    #: (k, estimate, ci_low, ci_high) on the trials at low risk of bias only; None: not fitted
    low_rob: tuple | None = None
    #: (label, estimate, ci_low, ci_high) without each influential trial whose result is outlying
    influential: tuple = ()
    #: Egger's regression test p (random-effects meta-regression on the SE), None: not run
    small_study_p: float | None = None
    #: (k0, estimate, ci_low, ci_high) of trim-and-fill, None: not run
    trimfill: tuple | None = None
    #: why the small-study tests were not run (e.g. too few trials)
    small_study_reason: str = ""


def conclusion(low: float, high: float, null: float) -> str:
    """The side of the null an interval lies on: ``above``, ``below`` or ``includes``."""
    if low > null:
        return "above"
    if high < null:
        return "below"
    return "includes"


_WORDS = {"above": "lies above the null", "below": "lies below the null", "includes": "includes the null"}


def _f(x: float) -> str:
    return f"{x:.2f}"


def _interval(est, lo, hi) -> str:
    return f"{_f(est)} ({_f(lo)} to {_f(hi)})"


def robustness_findings(influence: pd.DataFrame, leave1out: pd.DataFrame, alternatives: pd.DataFrame,
                        small_study: pd.DataFrame) -> dict:
    """(comparison, outcome, measure) -> :class:`Robustness`, from the sensitivity tables
    (``influence.csv``, ``leave1out.csv``, ``alternatives.csv``, ``small_study.csv``)."""
    out: dict = {}

    def get(key):
        return out.setdefault(key, Robustness())

    if len(alternatives):
        low = alternatives[alternatives.analysis == "low risk of bias only"]
        for r in low.itertuples():
            key = (r.comparison, r.outcome, r.measure)
            fit = (int(r.k), float(r.estimate_display), float(r.ci_low_display), float(r.ci_high_display))
            out[key] = replace(
                get(key), low_rob=fit if all(map(math.isfinite, fit[1:])) else (int(r.k),) + (math.nan,) * 3
            )
    if len(influence):
        flagged = influence[(influence.influential.astype(str).str.lower() == "true")
                            & (influence.rstudent.astype(float).abs() > OUTLIER_Z)]
        l1o = leave1out.set_index(KEY + ["study_id"]) if len(leave1out) else None
        for r in flagged.itertuples():
            key = (r.comparison, r.outcome, r.measure)
            if l1o is None or (*key, r.study_id) not in l1o.index:
                continue
            w = l1o.loc[(*key, r.study_id)]
            item = (str(r.label), float(w.estimate_display), float(w.ci_low_display), float(w.ci_high_display))
            out[key] = replace(get(key), influential=get(key).influential + (item,))
    if len(small_study):
        for r in small_study.itertuples():
            key = (r.comparison, r.outcome, r.measure)
            if r.status != "run":
                out[key] = replace(get(key), small_study_reason=str(r.reason))
                continue
            p = float(r.egger_pval) if pd.notna(r.egger_pval) else None
            tf = None
            if pd.notna(r.trimfill_k0):
                est, lo, hi = display_scale(r.measure, [r.trimfill_estimate, r.trimfill_ci_low, r.trimfill_ci_high])
                tf = (int(r.trimfill_k0), float(est), float(lo), float(hi))
            out[key] = replace(get(key), small_study_p=p, trimfill=tf)
    return out


def other_test(test: str) -> str:
    """The test a pooled estimate's conclusion is checked against: z (the normal interval, the
    usual one before Knapp-Hartung), or Knapp-Hartung where the primary test is z."""
    return "knha" if test == "z" else "z"


def other_test_conclusions(summary: pd.DataFrame, alternatives: pd.DataFrame) -> pd.DataFrame:
    """Per pooled estimate of ``summary``: its interval and conclusion (:func:`conclusion`) under its own
    test and under :func:`other_test` with the same estimator, both read from the sensitivity rule's
    ``alternatives.csv`` (the primary fit's row and the estimator's row under the other test).

    Returns one row per pooled comparison × outcome × measure: ``comparison, outcome, measure, k,
    method, test, other_test, estimate_display, ci_low_display, ci_high_display,
    other_ci_low_display, other_ci_high_display, conclusion, other_conclusion, differs``; an
    estimate whose other-test row is missing (or without an interval) has ``differs`` missing.
    """
    cols = ["comparison", "outcome", "measure", "k", "method", "test", "other_test", "estimate_display",
            "ci_low_display", "ci_high_display", "other_ci_low_display", "other_ci_high_display", "conclusion",
            "other_conclusion", "differs"]
    pooled = summary[summary.status == "pooled"] if len(summary) else summary
    if not len(pooled) or not len(alternatives):
        return pd.DataFrame(columns=cols)
    alt = alternatives.set_index(KEY + ["analysis"])
    rows = []
    for s in pooled.itertuples():
        other = other_test(s.test)
        key = (s.comparison, s.outcome, s.measure)
        null = 1.0 if s.measure in RATIO_MEASURES else 0.0
        main = alt.loc[(*key, main_label(s.method, s.test))] if (*key, main_label(s.method, s.test)) in alt.index \
            else None
        oth = alt.loc[(*key, alternative_label(s.method, other))] \
            if (*key, alternative_label(s.method, other)) in alt.index else None
        lo, hi = (float(main.ci_low_display), float(main.ci_high_display)) if main is not None \
            else (float(s.ci_low_display), float(s.ci_high_display))
        olo, ohi = (float(oth.ci_low_display), float(oth.ci_high_display)) if oth is not None else (math.nan,) * 2
        mine = conclusion(lo, hi, null)
        theirs = conclusion(olo, ohi, null) if math.isfinite(olo) and math.isfinite(ohi) else ""
        rows.append({"comparison": s.comparison, "outcome": s.outcome, "measure": s.measure, "k": int(s.k),
                     "method": s.method, "test": s.test, "other_test": other,
                     "estimate_display": float(s.estimate_display), "ci_low_display": lo, "ci_high_display": hi,
                     "other_ci_low_display": olo, "other_ci_high_display": ohi, "conclusion": mine,
                     "other_conclusion": theirs, "differs": (mine != theirs) if theirs else pd.NA})
    return pd.DataFrame(rows, columns=cols)


def _raise(j: Judgement, finding: str, rule: str, changes: bool, use: bool) -> Judgement:
    """``j`` with the finding in its reason, at least serious when it changes the conclusion."""
    reason = f"{j.reason}; {finding}" if j.reason else finding
    rule = f"{j.rule}; {rule}" if j.rule else rule
    if changes and use and j.downgrade == 0:
        return replace(j, level="serious", downgrade=1, reason=reason, rule=rule)
    return replace(j, reason=reason, rule=rule)


def robust_rob(j: Judgement, rb: Robustness | None, ci: tuple, null: float, use: bool = True) -> Judgement:
    """The risk-of-bias judgement with the restriction to trials at low risk of bias."""
    rule = ("serious if, restricted to the trials at low risk of bias (at least 2), the conclusion "
            "differs from that of all trials" + ("" if use else " (switched off: reported only)"))
    if rb is None or rb.low_rob is None:
        return j
    k, est, lo, hi = rb.low_rob
    if k < 2 or not math.isfinite(lo):
        return _raise(j, f"not restricted to low risk of bias ({k} such trials)", rule, False, use)
    main, low = conclusion(*ci, null), conclusion(lo, hi, null)
    if main == low:
        return _raise(j, f"{k} trials at low risk of bias: {_interval(est, lo, hi)}, same conclusion", rule, False, use)
    return _raise(j, f"{k} trials at low risk of bias: {_interval(est, lo, hi)}, whose interval {_WORDS[low]}, "
                     f"where that of all trials {_WORDS[main]}", rule, True, use)


def robust_inconsistency(j: Judgement, rb: Robustness | None, ci: tuple, null: float, use: bool = True) -> Judgement:
    """The inconsistency judgement with the fits without each influential trial."""
    rule = ("serious if leaving out an influential trial (metafor's influence()) with an outlying result "
            f"(|rstudent| > {OUTLIER_Z}) changes the conclusion" + ("" if use else " (switched off: reported only)"))
    if rb is None or not rb.influential:
        return j
    main = conclusion(*ci, null)
    changed = [(lab, est, lo, hi) for lab, est, lo, hi in rb.influential if conclusion(lo, hi, null) != main]
    if not changed:
        names = ", ".join(lab for lab, *_ in rb.influential)
        return _raise(j, f"influential and outlying: {names}; without each, same conclusion", rule, False, use)
    text = "; ".join(f"without {lab}: {_interval(est, lo, hi)}, whose interval {_WORDS[conclusion(lo, hi, null)]}"
                     for lab, est, lo, hi in changed)
    return _raise(j, f"an influential, outlying trial changes the conclusion ({text})", rule, True, use)


def robust_publication_bias(j: Judgement, rb: Robustness | None, ci: tuple, null: float, min_studies: int,
                            use: bool = True) -> Judgement:
    """The publication-bias judgement with trim-and-fill (where the small-study tests ran)."""
    rule = (f"with >= {min_studies} studies: serious if trim-and-fill adds trials and the filled "
            "estimate's conclusion differs" + ("" if use else " (switched off: reported only)"))
    if rb is None or rb.trimfill is None:
        return j
    k0, est, lo, hi = rb.trimfill
    if not k0:
        return _raise(j, "trim-and-fill adds no trials", rule, False, use)
    filled = conclusion(lo, hi, null)
    same = filled == conclusion(*ci, null)
    text = (f"trim-and-fill adds {k0} trials: {_interval(est, lo, hi)}"
            + (", same conclusion" if same else f", whose interval {_WORDS[filled]}"))
    return _raise(j, text, rule, not same, use)
