"""Within-study contrasts between treatment strategies.

Takes the prepared arm sheet (:func:`depmeta.review.sheets.prepare_arms`) and the
optional sheet of reported effect sizes, and forms one contrast per study,
comparison and outcome. No file I/O.

Rules, in order (documented in ``config/README.md``):

1. The sides of a comparison are the protocol's (:mod:`depmeta.review.comparisons`): by
   default the strategies, ``medication``, ``psychotherapy``, ``combined``, or ``control``
   for ``placebo``, ``usual_care``, ``waiting_list`` and ``other_control``; a side may also
   be a drug class, a therapy type, a control type or a named treatment.
2. A "slice" is the set of arm rows of one study sharing outcome, timepoint,
   analysis population and phase. For a comparison A vs B a study contributes
   its best slice that holds arms of both sides: preferred analysis population
   first (``population_preference``), then the latest (or earliest,
   ``timepoint``) timepoint. The arms reach here through the time frames
   (:mod:`depmeta.review.timeframes`), which leave one week per trial, outcome
   and population.
3. Multi-arm trials: arms of the same side within the slice are combined
   into one (events and n summed; means and SDs by the Cochrane Handbook's
   formula, section 6.5.2.10), so a study enters each meta-analysis once and
   no arm is counted twice within an analysis (Cochrane Handbook 23.3.4).
   Symptom rows: one scale per slice, or several averaged (``analysis.scales``), as
   :func:`depmeta.review.scales.select_scales` chose them; several are averaged here
   (:func:`depmeta.review.scales.averaged_smd`, ``source_kind`` ``averaged``).
4. A reported effect (contrasts sheet) is used for a study × comparison where no
   arm-level data exist, on the scale of the analysis only (an OR where binary
   outcomes are pooled as OR, an SMD for symptoms); its sign is turned to A
   minus B. Hazard ratios are pooled apart (:mod:`depmeta.review.hazard`).
5. Arm rows used by no contrast are returned with the reason.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from depmeta.review.comparisons import comparison_set, matching, reported_arm_attributes
from depmeta.review.scales import averaged_smd
from depmeta.review.vocabulary import BINARY_OUTCOMES, OUTCOMES, strategy_of, weeks_text

__all__ = ["combine_means", "exclude_arms", "form_contrasts", "preference_key", "studies_text"]

SLICE = ["study_id", "outcome", "timepoint_weeks", "analysis_population", "phase"]


def preference_key(population_preference, timepoint: str = "latest"):
    """Sort key of (analysis population, timepoint): the preferred population
    first, then the latest (or earliest) timepoint. Smaller sorts first."""
    if timepoint not in ("latest", "earliest"):
        raise ValueError("timepoint must be 'latest' or 'earliest'")
    rank = {p: i for i, p in enumerate(population_preference)}
    sign = -1.0 if timepoint == "latest" else 1.0
    # a trial x outcome gives every row's week or none (the validation's rule): an unreported week
    # is its only timepoint, and sorts as any
    return lambda population, weeks: (rank.get(population, len(rank)), 0.0 if pd.isna(weeks) else sign * weeks)


def studies_text(k: int, adjective: str = "") -> str:
    """'1 study', '3 studies', '2 usable studies'."""
    return " ".join(filter(None, [str(k), adjective, "study" if k == 1 else "studies"]))


def combine_means(n, m, sd) -> tuple[float, float, float]:
    """Combine groups' sizes, means and SDs into one group (Cochrane Handbook 6.5.2.10)."""
    n, m, sd = (np.asarray(x, float) for x in (n, m, sd))
    nt, mt, st = n[0], m[0], sd[0]
    for ni, mi, si in zip(n[1:], m[1:], sd[1:]):
        var = ((nt - 1) * st**2 + (ni - 1) * si**2 + nt * ni / (nt + ni) * (mt - mi) ** 2) / (nt + ni - 1)
        mt = (nt * mt + ni * mi) / (nt + ni)
        nt, st = nt + ni, np.sqrt(var)
    return float(nt), float(mt), float(st)


def _merge(rows: list[dict], continuous: bool) -> dict:
    """One side of a contrast from its arm rows (records of the arm sheet)."""
    out = {
        # numpy's sum, as pandas' Series.sum, so that sums round as they always did
        "n": float(np.sum(np.asarray([r["n"] for r in rows], float))),
        "arms": ";".join(r["arm_id"] for r in rows),
        "arm_types": ";".join(sorted({r["arm_type"] for r in rows})),
        "treatments": "; ".join(r["treatment"] for r in rows if r["treatment"]),
        "row_ids": [r["row_id"] for r in rows],
        "derived": any(bool(r["events_derived"]) for r in rows) if "events_derived" in rows[0] else False,
    }
    if continuous:
        n, m, s = combine_means([float(r["n"]) for r in rows], [r["mean"] for r in rows], [r["sd"] for r in rows])
        out.update(mean=m, sd=s)
    else:
        out["events"] = float(np.sum(np.asarray([r["events_used"] for r in rows], float)))
    return out


def _max(values) -> float:
    """Largest value, ignoring NaN (NaN if all are), as pandas' Series.max."""
    finite = [float(v) for v in values if not pd.isna(v)]
    return max(finite) if finite else np.nan


def form_contrasts(
    arms: pd.DataFrame,
    reported: pd.DataFrame | None = None,
    comparisons=None,
    outcomes: list[str] | None = None,
    population_preference: tuple[str, ...] = ("ITT", "mITT", "completers"),
    timepoint: str = "latest",
    rho: float = 0.5,
    binary_measure: str = "RR",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Form within-study contrasts of the ``comparisons`` (names of the default ones or
    :class:`~depmeta.review.comparisons.Comparison` objects; None: the six of the strategies;
    ``rho``: the correlation of a trial's SMDs on several scales,
    where the arm rows hold several; ``analysis.scales.rho``).

    ``reported`` is the contrasts sheet as :func:`depmeta.review.sheets.prepare_contrasts`
    gives it, without hazard ratios; ``binary_measure`` is the measure binary outcomes are
    pooled on (a reported effect on another measure is listed as unused).

    Returns
    -------
    contrasts : DataFrame
        One row per study × comparison × outcome, with arm-level summaries of
        both sides (``n1, events1, mean1, sd1, ...``) or a reported effect
        (``reported_measure``, ``reported_yi``, ``reported_se`` on the pooled scale).
    unused : DataFrame
        Arm rows (and reported effect sizes) no contrast uses, with ``reason``.
    """
    comparisons = comparison_set(comparisons)
    outcomes = list(outcomes or OUTCOMES)
    preferred = preference_key(population_preference, timepoint)

    a = arms[arms["outcome"].isin(outcomes)].copy()
    a["strategy"] = a["arm_type"].map(strategy_of)
    a = a[a["analysis_population"].isin(population_preference)]
    blank = pd.Series("", index=a.index)
    # each row's values as the sides match them (arm type, drug class, therapy type, treatment, format)
    a["_attrs"] = list(zip(a.arm_type, a.get("drug_class", blank), a.get("therapy_type", blank),
                           a.get("treatment", blank), a.get("format", blank)))
    # The grouping works on the rows as records (a few hundred): pandas' per-group overhead
    # was most of the time this took. Studies x outcomes in sorted order, slices in order of
    # first appearance, rows with a missing slice key left out (pandas' groupby semantics).
    records_a = a.to_dict("records")
    by_study: dict[tuple, dict[tuple, list[dict]]] = {}
    for r in records_a:
        # an unreported week is a timepoint of its own: NaN is never equal to itself, so it is keyed as None
        key = (None if pd.isna(r["timepoint_weeks"]) else r["timepoint_weeks"], r["analysis_population"], r["phase"])
        if any(pd.isna(v) for v in key[1:]):
            continue
        by_study.setdefault((r["study_id"], r["outcome"]), {}).setdefault(key, []).append(r)
    used: set[str] = set()
    records = []
    for (sid, outcome) in sorted(by_study):
        slices = [(preferred(pop, np.nan if tp is None else tp), np.nan if tp is None else tp, pop, phase, rows)
                  for (tp, pop, phase), rows in by_study[(sid, outcome)].items()]
        slices.sort(key=lambda s: s[0])
        for c in comparisons:
            comp = c.name
            for _, tp, pop, phase, rows in slices:
                g1 = [r for r in rows if c.arm1.matches(*r["_attrs"])]
                g2 = [r for r in rows if c.arm2.matches(*r["_attrs"])]
                if g1 and g2:
                    break
            else:
                continue
            cont = outcome == "symptoms"
            m1, m2 = _merge(g1, cont), _merge(g2, cont)
            used.update(m1["row_ids"] + m2["row_ids"])
            ids = set(m1["row_ids"] + m2["row_ids"])
            rec = {
                "study_id": sid, "comparison": comp, "outcome": outcome, "source_kind": "arms",
                "timepoint_weeks": tp, "analysis_population": pop, "phase": phase,
                "followup_months": _max(r["followup_months"] for r in rows),
                "outcome_definition": "; ".join(sorted(set(r["outcome_definition"] for r in rows
                                                           if r["outcome_definition"]))),
                "multi_arm": len(g1) > 1 or len(g2) > 1,
                "derived": m1["derived"] or m2["derived"],
                "row_ids": m1["row_ids"] + m2["row_ids"],
                "sources": ";".join(sorted(set(r["source"] for r in rows if r["row_id"] in ids))),
            }
            for side, m in (("1", m1), ("2", m2)):
                rec[f"n{side}"] = m["n"]
                rec[f"arms{side}"] = m["arms"]
                rec[f"arm_types{side}"] = m["arm_types"]
                rec[f"treatments{side}"] = m["treatments"]
                for f in ("events", "mean", "sd"):
                    rec[f"{f}{side}"] = m.get(f, np.nan)
            rec["scale"] = "; ".join(dict.fromkeys(r["scale"] for r in g1 + g2)) if cont else ""
            rec["score_type"] = ("change" if any(r.get("score_type") == "change" for r in g1 + g2)
                                 else "endpoint") if cont else ""
            if cont and len({r["scale"] for r in g1 + g2}) > 1:
                rec.update(averaged_smd(g1, g2, rho, combine_means), source_kind="averaged",
                           mean1=np.nan, sd1=np.nan, mean2=np.nan, sd2=np.nan)
            records.append(rec)

    # for each study x outcome, the first used row in sheet order (what its contrasts use)
    first_used: dict[tuple, dict] = {}
    for r in records_a:
        if r["row_id"] in used:
            first_used.setdefault((r["study_id"], r["outcome"]), r)
    strategies_of: dict[tuple, set] = {}
    arms_of: dict[tuple, set] = {}
    for r in records_a:
        strategies_of.setdefault((r["study_id"], r["outcome"]), set()).add(r["strategy"])
        arms_of.setdefault((r["study_id"], r["outcome"]), set()).add(r["arm_id"])
    unused = []
    for r in records_a:
        if r["row_id"] in used:
            continue
        best = first_used.get((r["study_id"], r["outcome"]))
        if best is not None:
            reason = (f"not used: the study's {r['outcome']} contrasts use "
                      f"{best['analysis_population']} at {weeks_text(best['timepoint_weeks'])}")
        elif len(arms_of[(r["study_id"], r["outcome"])]) == 1:
            reason = f"not used: the trial reports {r['outcome']} for one arm only"
        elif strategies_of[(r["study_id"], r["outcome"])] == {r["strategy"]}:
            reason = (f"not used in the pairwise analyses: every arm of the trial is {r['strategy']} (a comparison "
                      "within a strategy; analysis.comparisons can define one)")
        else:
            reason = "not used: no arm of the other side of a comparison at the same timepoint and population"
        unused.append({"study_id": r["study_id"], "row_ids": [r["row_id"]], "sheet": "arms",
                       "sheet_row": r["sheet_row"], "comparison": "", "outcome": r["outcome"], "reason": reason})
    skipped = arms[~arms["outcome"].isin(outcomes) | ~arms["analysis_population"].isin(population_preference)]
    for r in skipped.itertuples():
        why = ("outcome not selected in config" if r.outcome not in outcomes
               else f"analysis population {r.analysis_population} not in population_preference")
        unused.append({"study_id": r.study_id, "row_ids": [r.row_id], "sheet": "arms", "sheet_row": r.sheet_row,
                       "comparison": "", "outcome": r.outcome, "reason": f"not used: {why}"})

    contrasts = pd.DataFrame.from_records(records)
    if reported is not None and len(reported):
        contrasts, extra_unused = _add_reported(contrasts, reported, comparisons, outcomes, binary_measure, arms)
        unused.extend(extra_unused)
    return contrasts, pd.DataFrame.from_records(
        unused, columns=["study_id", "row_ids", "sheet", "sheet_row", "comparison", "outcome", "reason"])


def _add_reported(contrasts, reported, comparisons, outcomes, binary_measure, arms):
    have: dict[tuple, str] = {}  # study x comparison x outcome -> what its contrast uses
    if len(contrasts):
        have = {key: "" for key in zip(contrasts.study_id, contrasts.comparison, contrasts.outcome)}
    records, unused = [], []
    rep = reported.copy()
    rep["s1"] = rep["arm1_type"].map(strategy_of)
    rep["s2"] = rep["arm2_type"].map(strategy_of)
    attrs = reported_arm_attributes(rep, arms)
    for i, r in enumerate(rep.itertuples()):
        # every comparison of the protocol the row's two arms are the sides of, and which way round
        matched = matching(comparisons, attrs[1][i], attrs[2][i])
        base = {"study_id": r.study_id, "row_ids": [r.row_id], "sheet": "contrasts", "sheet_row": r.sheet_row,
                "comparison": matched[0][0] if len(matched) == 1 else "", "outcome": r.outcome}
        if not matched or r.outcome not in outcomes:
            why = (f"outcome {r.outcome} not selected in config" if r.outcome not in outcomes
                   else f"both arms are {r.s1} (a comparison within a strategy; analysis.comparisons can define one)"
                   if r.s1 == r.s2 else f"{r.s1} vs {r.s2} is not a comparison selected in config")
            unused.append({**base, "reason": f"not used in the pairwise analyses: {why}"})
            continue
        pooled_as = binary_measure if r.outcome in BINARY_OUTCOMES else "SMD"
        if r.measure != pooled_as:
            how = "analysis.binary_measure" if r.outcome in BINARY_OUTCOMES else "symptom scores are pooled as SMD"
            unused.append({**base, "reason": f"not used: a {r.measure}, and {r.outcome} is pooled as {pooled_as} "
                                             f"({how})"})
            continue
        blocked = []
        for comp, flip in matched:
            if (r.study_id, comp, r.outcome) in have:
                blocked.append((comp, have[(r.study_id, comp, r.outcome)]))
                continue
            have[(r.study_id, comp, r.outcome)] = r.row_id
            records.append(_reported_record(r, comp, flip))
        if len(blocked) == len(matched):
            comp, other = blocked[0]
            unused.append({**base, "comparison": comp,
                           "reason": f"not used: another reported effect of the trial is used for this "
                                     f"comparison ({other})" if other else
                                     "not used: the study has arm-level data for this comparison"})
    out = pd.concat([contrasts, pd.DataFrame.from_records(records)], ignore_index=True) if records else contrasts
    return out, unused


def _reported_record(r, comp: str, flip: bool) -> dict:
    """A reported effect as the contrast of comparison ``comp`` (``flip``: its arm1 is the comparison's arm2)."""
    sgn = -1.0 if flip else 1.0
    return {
        "study_id": r.study_id, "comparison": comp, "outcome": r.outcome, "source_kind": "reported",
        "timepoint_weeks": r.timepoint_weeks, "analysis_population": r.analysis_population,
        "phase": r.phase, "followup_months": r.followup_months, "outcome_definition": r.scale or r.notes,
        "scale": r.scale, "score_type": "",
        "multi_arm": False, "derived": False, "row_ids": [r.row_id], "sources": r.source,
        "n1": float("nan") if pd.isna(r.n2 if flip else r.n1) else float(r.n2 if flip else r.n1),
        "n2": float("nan") if pd.isna(r.n1 if flip else r.n2) else float(r.n1 if flip else r.n2),
        "arms1": r.arm2_id if flip else r.arm1_id, "arms2": r.arm1_id if flip else r.arm2_id,
        "arm_types1": r.arm2_type if flip else r.arm1_type, "arm_types2": r.arm1_type if flip else r.arm2_type,
        "treatments1": "", "treatments2": "",
        "reported_measure": r.measure, "reported_yi": sgn * r.yi, "reported_se": r.sei, "inverted": flip,
    }


def exclude_arms(arms: pd.DataFrame, excluded: pd.DataFrame | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Set apart the arm rows of the excluded-arms sheet (e.g. factorial margins
    that mix strategies), before any contrast or event rate is formed.

    Returns the arm rows kept, and the rows set apart in the form of
    :func:`form_contrasts`' ``unused`` frame with ``reason`` "excluded: ...".
    """
    cols = ["study_id", "row_ids", "sheet", "sheet_row", "comparison", "outcome", "reason"]
    if excluded is None or not len(excluded):
        return arms, pd.DataFrame(columns=cols)
    why = {(r.study_id, r.arm_id): r.reason for r in excluded.itertuples()}
    key = list(zip(arms.study_id, arms.arm_id))
    drop = np.array([k in why for k in key], bool)
    out = [{"study_id": r.study_id, "row_ids": [r.row_id], "sheet": "arms", "sheet_row": r.sheet_row,
            "comparison": "", "outcome": r.outcome, "reason": f"excluded: {why[(r.study_id, r.arm_id)]}"}
           for r in arms[drop].itertuples()]
    return arms[~drop], pd.DataFrame.from_records(out, columns=cols)
