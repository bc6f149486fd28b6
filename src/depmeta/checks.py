"""Set the pooled evidence against claims and published benchmarks. Pure
functions on DataFrames; no file I/O.

Claims (``data/claims.yaml``) are evaluated against this pipeline's pooled
estimates with three verdicts:

- ``consistent``: the claimed value, or some part of the claimed range, lies
  within the pooled confidence interval; for a claim of *no difference*
  (both bounds empty), the interval contains the null value;
- ``not consistent``: otherwise;
- ``not testable``: the claim is not about something trials of these
  strategies measure (``testable: false``, with its reason), or the evidence
  here cannot test it (no pooled estimate for that comparison and outcome,
  or a different effect measure); the reason is given.

Claims about adults, and published meta-analyses (all of adults), are set
against the pooled estimates of the adult trials when those are given
(``adult=``), so that adolescent trials do not decide them.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from depmeta.analysis import RATIO_MEASURES
from depmeta.contrasts import studies_text

__all__ = ["evaluate_claims", "compare_benchmarks", "network_benchmarks", "about_adults", "CLAIM_VERDICTS"]

CLAIM_VERDICTS = ("consistent", "not consistent", "not testable")
_COLS = ["id", "article", "claim", "comparison", "outcome", "measure", "low", "high", "population", "evidence",
         "verdict", "reason", "pooled_measure", "pooled_k", "pooled_estimate", "pooled_ci_low", "pooled_ci_high"]
ALL_TRIALS, ADULT_TRIALS = "all trials", "adult trials"
_YOUNG = ("adolescen", "child", "youth", "young people")


def about_adults(population) -> bool:
    """Whether a claim's population is adults only (text starting with 'adult' and
    naming no younger group)."""
    text = str(population or "").strip().lower()
    return text.startswith("adult") and not any(w in text for w in _YOUNG)


def _num(x) -> float:
    return float("nan") if x is None or (isinstance(x, float) and math.isnan(x)) or pd.isna(x) else float(x)


def _overlaps(low: float, high: float, ci_low: float, ci_high: float) -> bool:
    lo = -math.inf if math.isnan(low) else low
    hi = math.inf if math.isnan(high) else high
    return bool(lo <= ci_high and hi >= ci_low)


def _fmt_range(low: float, high: float) -> str:
    if math.isnan(low) and math.isnan(high):
        return "no difference"
    if math.isnan(low):
        return f"≤ {high:g}"
    if math.isnan(high):
        return f"≥ {low:g}"
    return f"{low:g}" if low == high else f"{low:g} to {high:g}"


def _pooled(frame: pd.DataFrame, key: str, value: str, outcome: str, missing: str):
    """The pooled row for key == value and outcome, or (None, reason) when there is none."""
    hit = frame[(frame[key] == value) & (frame.outcome == outcome)] if len(frame) else frame
    if len(hit) and hit.iloc[0].status == "pooled":
        return hit.iloc[0], ""
    k = int(hit.iloc[0].k) if len(hit) else 0
    return None, f"{missing} ({studies_text(k)})"


def evaluate_claims(claims: list[dict], summary: pd.DataFrame, rates: pd.DataFrame, level: float = 0.95,
                    adult: tuple[pd.DataFrame, pd.DataFrame] | None = None) -> pd.DataFrame:
    """One row per claim with its verdict and the pooled estimate beside it.

    ``adult`` is the (summary, rates) pair pooled from the adult trials only;
    when given, claims about adults (:func:`about_adults`) are evaluated
    against it, and the ``evidence`` column says which set was used.

    Scales: ``event_rate`` claims are proportions (0-1) compared with the pooled
    event rate of the strategy named in ``comparison``; ``RR``/``OR`` claims on
    the ratio scale, ``RD`` and ``g`` on their own scales; ``direction``
    claims give a bound on the scale of the pooled measure (1 for ratios, 0 for
    differences and g; a negative g means fewer symptoms in the first-named
    strategy).
    """
    pct = f"{100 * level:g}%"
    rows = []
    for c in claims:
        low, high = _num(c.get("low")), _num(c.get("high"))
        out = {k: c.get(k) for k in ("id", "article", "claim", "comparison", "outcome", "measure", "population")}
        use_adult = adult is not None and about_adults(c.get("population"))
        summary_c, rates_c = adult if use_adult else (summary, rates)
        out.update(low=low, high=high, evidence=ADULT_TRIALS if use_adult else ALL_TRIALS, pooled_measure="",
                   pooled_k=np.nan, pooled_estimate=np.nan, pooled_ci_low=np.nan, pooled_ci_high=np.nan)
        if not c.get("testable", True):
            rows.append({**out, "verdict": "not testable", "reason": c.get("why") or "not a testable claim"})
            continue
        measure, outcome = c["measure"], c.get("outcome")
        if measure == "event_rate":
            r, missing = _pooled(rates_c, "strategy", c["comparison"], outcome,
                                 f"no pooled {c['comparison']} {outcome} rate here")
            if missing:
                rows.append({**out, "verdict": "not testable", "reason": missing})
                continue
            est, lo, hi, m, k = r.estimate_rate, r.ci_low_rate, r.ci_high_rate, "event rate", int(r.k)
        else:
            r, missing = _pooled(summary_c, "comparison", c["comparison"], outcome,
                                 f"no pooled estimate for {c['comparison']}, {outcome}")
            if missing:
                rows.append({**out, "verdict": "not testable", "reason": missing})
                continue
            m = r.measure
            wanted = {"g": "SMD"}.get(measure, measure)
            if measure != "direction" and wanted != m:
                rows.append({**out, "verdict": "not testable",
                             "reason": f"claim is a {measure}; the evidence here is pooled as {m}"})
                continue
            est, lo, hi, k = r.estimate_display, r.ci_low_display, r.ci_high_display, int(r.k)
        out.update(pooled_measure=m, pooled_k=k, pooled_estimate=est, pooled_ci_low=lo, pooled_ci_high=hi)
        if math.isnan(low) and math.isnan(high):
            null = 1.0 if out["pooled_measure"] in RATIO_MEASURES else 0.0
            ok = lo <= null <= hi
            why = f"{pct} CI {lo:.2f} to {hi:.2f} {'includes' if ok else 'excludes'} {null:g} (no difference)"
        else:
            ok = _overlaps(low, high, lo, hi)
            why = (f"claimed {_fmt_range(low, high)}; {pct} CI {lo:.2f} to {hi:.2f} "
                   f"{'overlaps' if ok else 'does not overlap'} it")
        rows.append({**out, "verdict": "consistent" if ok else "not consistent", "reason": why})
    return pd.DataFrame(rows, columns=_COLS)


def compare_benchmarks(benchmarks: pd.DataFrame, summary: pd.DataFrame, level: float = 0.95,
                       adult_summary: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each published estimate beside this pipeline's for the same comparison and
    outcome, with a note on where and why they may differ.

    The published meta-analyses are of adults: when ``adult_summary`` (pooled
    from the adult trials only) is given, it is the estimate set beside them.
    The network estimates are set beside them by :func:`network_benchmarks`."""
    evidence = ALL_TRIALS if adult_summary is None else ADULT_TRIALS
    summary = summary if adult_summary is None else adult_summary
    rows = []
    for _, b in benchmarks.iterrows():
        hit = summary[(summary.comparison == b.comparison) & (summary.outcome == b.outcome)] if len(summary) else summary
        out = b.to_dict()
        out.update(evidence=evidence, ours_measure="", ours_k=np.nan, ours_estimate=np.nan, ours_ci_low=np.nan, ours_ci_high=np.nan)
        if not len(hit) or hit.iloc[0].status != "pooled":
            out["note"] = "not estimated here: too few trials in the extraction sheet"
            rows.append(out)
            continue
        r = hit.iloc[0]
        out.update(ours_measure=r.measure, ours_k=int(r.k), ours_estimate=r.estimate_display,
                   ours_ci_low=r.ci_low_display, ours_ci_high=r.ci_high_display)
        b_measure = {"g": "SMD"}.get(b.measure, b.measure)
        notes = []
        if b_measure != r.measure:
            notes.append(f"different measure ({b.measure} published, {r.measure} here): compare direction only")
        else:
            overlap = _overlaps(_num(b.ci_low), _num(b.ci_high), r.ci_low_display, r.ci_high_display) \
                if not (pd.isna(b.ci_low) or pd.isna(b.ci_high)) else None
            if overlap is True:
                notes.append("confidence intervals overlap")
            elif overlap is False:
                notes.append("confidence intervals do not overlap")
        if not pd.isna(b.k):
            notes.append(f"{int(r.k)} trials here vs {int(b.k)} published")
        else:
            notes.append(f"{int(r.k)} trials here")
        if str(b.get("subgroup", "all")) not in ("all", "", "nan"):
            notes.append(f"published estimate is for a subgroup ({b.subgroup})")
        out["note"] = "; ".join(notes)
        rows.append(out)
    return pd.DataFrame(rows)


def network_benchmarks(benchmarks: pd.DataFrame, network: pd.DataFrame) -> pd.DataFrame:
    """The published benchmarks with this pipeline's network estimate of the same
    comparison and outcome beside them.

    Parameters
    ----------
    benchmarks : DataFrame
        The benchmarks sheet (``benchmark_id, comparison, outcome, measure, ...``).
    network : DataFrame
        Network estimates (rule network's ``network_estimates_adults.csv``:
        ``outcome, measure, comparison, estimate_display, ci_low_display,
        ci_high_display`` and optionally ``n_network_studies``).

    Returns
    -------
    DataFrame
        ``benchmarks`` plus ``ours_network_measure, ours_network_estimate,
        ours_network_ci_low, ours_network_ci_high`` (display scale; empty where
        the network has no estimate of that comparison and outcome) and
        ``ours_network_k`` (trials in the network).
    """
    return _add_network(benchmarks.reset_index(drop=True), network)


def _add_network(out: pd.DataFrame, network: pd.DataFrame) -> pd.DataFrame:
    cols = ["ours_network_measure", "ours_network_estimate", "ours_network_ci_low", "ours_network_ci_high",
            "ours_network_k"]
    vals = []
    for _, b in out.iterrows():
        hit = network[(network.comparison == b.comparison) & (network.outcome == b.outcome)] \
            if len(network) else network
        if not len(hit):
            vals.append(["", np.nan, np.nan, np.nan, np.nan])
            continue
        r = hit.iloc[0]
        k = r.n_network_studies if "n_network_studies" in r else np.nan
        vals.append([r.measure, r.estimate_display, r.ci_low_display, r.ci_high_display, k])
    return out.assign(**{c: [v[i] for v in vals] for i, c in enumerate(cols)}) if len(out) else \
        out.reindex(columns=[*out.columns, *cols])
