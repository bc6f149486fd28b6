"""Time to event: published hazard ratios turned into contrasts.

Maintenance and sequential trials often report relapse only as a hazard ratio
(Cox model) or a Kaplan-Meier comparison. The contrasts sheet holds the
published HR of arm1 relative to arm2 as a row of measure ``HR`` (the HR with
its CI, or its log with the SE; :func:`depmeta.review.sheets.effect_scale` puts
it on the log scale). This module orients each row to one of the project's
comparisons (inverting the HR when the sheet's arm1 is the comparison's arm2)
and returns contrasts that :func:`depmeta.review.analysis.run_meta_analyses`
pools by generic inverse variance (metafor's ``escalc(measure="GEN")`` +
``rma``) with measure ``HR``, beside the count-based measure of the same
outcome. Counts are never derived from survival curves. No file I/O.
"""

from __future__ import annotations

import pandas as pd

from depmeta.review.comparisons import comparison_set, matching, reported_arm_attributes
from depmeta.review.contrasts import preference_key
from depmeta.review.vocabulary import strategy_of

__all__ = ["hazard_contrasts"]


def _count(n) -> float:
    """An arm size as float; NaN where the report did not print it (the sheet leaves it empty)."""
    return float("nan") if pd.isna(n) else float(n)


def hazard_contrasts(hazard: pd.DataFrame, comparisons=None,
                     population_preference=("ITT", "mITT", "completers"),
                     arms: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One contrast per study × comparison × outcome from the contrasts sheet's hazard ratios
    (its rows of measure HR, as :func:`depmeta.review.sheets.prepare_contrasts` gives them).

    Orientation: the log HR is of the comparison's first side relative to
    its second; a row whose arm1 is on the comparison's second side is
    inverted (log HR negated, arms and n swapped; ``inverted`` is set).
    Where a study gives several rows for one comparison, the preferred analysis
    population is used, then the longest follow-up; the others are returned as
    unused with the reason. ``arms`` (the arm sheet) gives a row's drug class, therapy type and
    treatment where the row leaves them blank, for comparisons whose sides name them.

    Returns
    -------
    contrasts : DataFrame
        Columns of :func:`depmeta.review.contrasts.form_contrasts` (``source_kind`` is
        ``hazard_ratio``, ``timepoint_weeks`` is the follow-up in weeks) with the log HR in
        ``reported_yi``, its SE in ``reported_se`` and ``inverted``.
    unused : DataFrame
        Rows no contrast uses (``study_id, row_ids, sheet, sheet_row, comparison,
        outcome, reason``).
    """
    comparisons = comparison_set(comparisons)
    cols_u = ["study_id", "row_ids", "sheet", "sheet_row", "comparison", "outcome", "reason"]
    if hazard is None or not len(hazard):
        return pd.DataFrame(), pd.DataFrame(columns=cols_u)
    rank = {p: i for i, p in enumerate(population_preference)}
    candidates, unused = [], []
    attrs = reported_arm_attributes(hazard, arms if arms is not None else pd.DataFrame())
    for i, r in enumerate(hazard.itertuples()):
        s1, s2 = strategy_of(r.arm1_type), strategy_of(r.arm2_type)
        # every comparison of the protocol the row's two arms are the sides of, and which way round
        matched = matching(comparisons, attrs[1][i], attrs[2][i])
        base = {"study_id": r.study_id, "row_ids": [r.row_id], "sheet": "contrasts",
                "sheet_row": r.sheet_row, "comparison": matched[0][0] if len(matched) == 1 else "",
                "outcome": r.outcome}
        if not matched:
            unused.append({**base, "reason": f"not used: {s1} vs {s2} is not a comparison selected in config"})
            continue
        if r.analysis_population not in rank:
            unused.append({**base, "reason": f"not used: analysis population {r.analysis_population} "
                                             "not in population_preference"})
            continue
        for comp, flip in matched:
            sgn = -1.0 if flip else 1.0
            candidates.append(({**base, "comparison": comp}, {
                "study_id": r.study_id, "comparison": comp, "outcome": r.outcome, "source_kind": "hazard_ratio",
                "timepoint_weeks": float(r.followup_months) * 52.0 / 12.0 if pd.notna(r.followup_months)
                else r.timepoint_weeks, "analysis_population": r.analysis_population,
                "phase": r.phase, "followup_months": float(r.followup_months), "outcome_definition": r.notes,
                "multi_arm": False, "derived": False, "row_ids": [r.row_id], "sources": r.source,
                "n1": _count(r.n2 if flip else r.n1), "n2": _count(r.n1 if flip else r.n2),
                "arms1": r.arm2_id if flip else r.arm1_id, "arms2": r.arm1_id if flip else r.arm2_id,
                "arm_types1": r.arm2_type if flip else r.arm1_type,
                "arm_types2": r.arm1_type if flip else r.arm2_type,
                "treatments1": "", "treatments2": "",
                "reported_measure": "HR", "reported_yi": sgn * r.yi, "reported_se": r.sei, "inverted": flip,
            }))
    chosen = {}
    preferred = preference_key(population_preference, "latest")
    for base, rec in candidates:
        key = (rec["study_id"], rec["comparison"], rec["outcome"])
        best = chosen.get(key)
        if best is None or preferred(rec["analysis_population"], rec["followup_months"]) < \
                preferred(best[1]["analysis_population"], best[1]["followup_months"]):
            if best is not None:
                unused.append({**best[0], "reason": _why_not(best[1], rec)})
            chosen[key] = (base, rec)
        else:
            unused.append({**base, "reason": _why_not(rec, best[1])})
    contrasts = pd.DataFrame.from_records([rec for _, rec in chosen.values()])
    return contrasts, pd.DataFrame.from_records(unused, columns=cols_u)


def _why_not(rec: dict, used: dict) -> str:
    return (f"not used: the study's {used['comparison']} hazard ratio uses {used['analysis_population']} "
            f"over {used['followup_months']:g} months")
