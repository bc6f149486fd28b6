"""Several symptom scales per arm, and change scores: which of a trial's symptom rows its
contrasts use (config ``analysis.scales`` and ``analysis.change_scores``). No file I/O.

A *slice* is, as in :mod:`depmeta.review.contrasts`, the rows of one trial sharing outcome,
timepoint, analysis population and phase. Within a slice every arm is compared on the same
scale and the same kind of score, so the choice is made per slice, for all its arms at once:

1. Change scores (``score_type`` ``change``) are set apart under ``change_scores: never`` (the
   default). Under ``when_no_endpoint`` they are candidates after the endpoint scores: a slice
   uses them only where no endpoint scale is reported by two of its arms (Cochrane Handbook
   10.5.2: SMDs of change scores and of endpoint scores are not combined without saying so).
2. Among the candidates (a kind of score and a scale), the one reported by the most arms of
   the slice, then the first of the priority list (:func:`scale_rank`), then the one met first
   in the sheet. A slice whose arms share no candidate (arm A only HRSD, arm B only BDI) is not
   used at all: an SMD compares arms on one instrument, and comparing HRSD in one arm with BDI
   in the other would set the difference between instruments against the treatment effect.
3. ``rule: priority`` keeps that one scale; ``rule: average`` keeps every scale of the same kind
   of score reported by the same arms; their SMDs are averaged within the trial
   (:func:`averaged_smd`; metafor's ``aggregate(struct = "CS", rho)``).

Rows not kept are returned with the reason, in the form of
:func:`depmeta.review.contrasts.form_contrasts`' ``unused`` frame."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from depmeta.review.vocabulary import CONTINUOUS_OUTCOMES, SCALE_PRIORITY, SCORE_TYPES, weeks_text
from depmeta.stats.effects import aggregate_correlated, escalc

__all__ = ["ScaleOptions", "averaged_smd", "scale_rank", "score_label", "select_scales"]

UNUSED_COLUMNS = ["study_id", "row_ids", "sheet", "sheet_row", "comparison", "outcome", "reason"]
SCALE_RULES = ("priority", "average")
CHANGE_SCORE_USES = ("never", "when_no_endpoint")


@dataclass(frozen=True)
class ScaleOptions:
    """How a trial's symptom rows are chosen (config ``analysis.scales``, ``analysis.change_scores``)."""

    rule: str = "priority"
    priority: tuple = SCALE_PRIORITY
    rho: float = 0.5
    change_scores: str = "never"

    def __post_init__(self):
        if self.rule not in SCALE_RULES:
            raise ValueError(f"analysis.scales.rule must be one of {SCALE_RULES}, not {self.rule!r}")
        if self.change_scores not in CHANGE_SCORE_USES:
            raise ValueError(f"analysis.change_scores.use must be one of {CHANGE_SCORE_USES}, "
                             f"not {self.change_scores!r}")
        if not 0 <= self.rho < 1:
            raise ValueError(f"analysis.scales.rho must lie in [0, 1), not {self.rho}")

    def one_scale(self) -> "ScaleOptions":
        """The same choice with one scale per slice (``rule: priority``): what the network
        meta-analysis uses, whose arm-level SMDs take one standardiser per trial."""
        return replace(self, rule="priority")


def scale_rank(scale: str, priority) -> int:
    """Position of ``scale`` in the priority list; ``len(priority)`` for a scale not on it (it
    ranks after every listed scale). An entry matches the scale written as it is, or followed by a
    version, in digits or roman numerals, after an optional hyphen or space; case is ignored:
    ``HRSD`` matches ``HRSD-17``, ``hrsd 24``; ``BDI`` matches ``BDI-II``, ``bdi-2``; ``MADRS`` does
    not match ``MADRS-S``."""
    text = str(scale).strip()
    for i, entry in enumerate(priority):
        if re.fullmatch(re.escape(str(entry).strip()) + r"(?:[- ]?(?:\d+|[IVX]+))?", text, flags=re.I):
            return i
    return len(priority)


def score_label(scale: str, score_type: str) -> str:
    """A scale as a reason names it: ``HRSD-17``, ``HRSD-17 (change from baseline)``."""
    name = scale or "a scale left blank"
    return f"{name} (change from baseline)" if score_type == "change" else name


def _score_type(value) -> str:
    return "change" if str(value) == "change" else "endpoint"


def select_scales(arms: pd.DataFrame, opts: ScaleOptions | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The symptom rows each slice uses (module docstring), from the prepared arm sheet.

    Returns the arm rows kept (every row of another outcome among them) and the symptom rows
    set apart, with the reason (:data:`UNUSED_COLUMNS`)."""
    opts = opts or ScaleOptions()
    symptoms = arms.outcome.isin(CONTINUOUS_OUTCOMES)
    if not symptoms.any():
        return arms, pd.DataFrame(columns=UNUSED_COLUMNS)
    types = arms.get("score_type", pd.Series("", index=arms.index))
    slices: dict[tuple, list[dict]] = {}
    for order, (r, kind) in enumerate(zip(arms[symptoms].to_dict("records"), types[symptoms])):
        tp = r["timepoint_weeks"]
        key = (r["study_id"], r["outcome"], None if pd.isna(tp) else tp, r["analysis_population"], r["phase"])
        slices.setdefault(key, []).append({**r, "_kind": _score_type(kind), "_order": order})
    why: dict[str, str] = {}
    for (_, outcome, tp, pop, _), rows in slices.items():
        where = f"at {weeks_text(tp)} ({pop})"
        usable = rows
        if opts.change_scores == "never":
            for r in rows:
                if r["_kind"] == "change":
                    why[r["row_id"]] = ("not used: a change from baseline (analysis.change_scores.use is never: "
                                        "SMDs of change scores are not pooled with SMDs of endpoint scores)")
            usable = [r for r in rows if r["_kind"] == "endpoint"]
        if not usable:
            continue
        candidates: dict[tuple, dict] = {}
        for r in usable:
            c = candidates.setdefault((r["_kind"], r["scale"]), {"arms": set(), "first": r["_order"]})
            c["arms"].add(r["arm_id"])
        need = min(2, len({r["arm_id"] for r in usable}))

        def rank(c, need=need, candidates=candidates):
            info = candidates[c]
            return (len(info["arms"]) < need, SCORE_TYPES.index(c[0]), -len(info["arms"]),
                    scale_rank(c[1], opts.priority), info["first"])

        best = min(candidates, key=rank)
        if len(candidates[best]["arms"]) < need:
            by_arm: dict[str, list[str]] = {}
            for r in usable:
                by_arm.setdefault(r["arm_id"], []).append(score_label(r["scale"], r["_kind"]))
            listed = "; ".join(f"{a}: {', '.join(s)}" for a, s in by_arm.items())
            for r in usable:
                why[r["row_id"]] = (f"not used: the trial's arms share no {outcome} scale {where} ({listed}); "
                                    "an SMD compares arms on one scale")
            continue
        chosen = {best}
        if opts.rule == "average":
            chosen |= {c for c, info in candidates.items()
                       if c[0] == best[0] and info["arms"] == candidates[best]["arms"]}
        names = ", ".join(score_label(s, k) for k, s in sorted(chosen, key=rank))
        rule = ("averaged over the scales all its arms report" if len(chosen) > 1
                else "the scale most of its arms report, then analysis.scales.priority")
        for r in usable:
            if (r["_kind"], r["scale"]) in chosen:
                continue
            if r["arm_id"] not in candidates[best]["arms"]:
                why[r["row_id"]] = (f"not used: the trial's {outcome} contrasts {where} use {names}, which this "
                                    "arm does not report (a trial's arms are compared on one scale)")
            elif r["_kind"] == "change" and best[0] == "endpoint":
                why[r["row_id"]] = (f"not used: a change from baseline; the trial's {outcome} contrasts {where} use "
                                    f"endpoint scores ({names})")
            else:
                why[r["row_id"]] = f"not used: the trial's {outcome} contrasts {where} use {names} ({rule})"
    drop = arms.row_id.isin(why)
    out = [{"study_id": r.study_id, "row_ids": [r.row_id], "sheet": "arms", "sheet_row": r.sheet_row,
            "comparison": "", "outcome": r.outcome, "reason": why[r.row_id]} for r in arms[drop].itertuples()]
    return arms[~drop], pd.DataFrame.from_records(out, columns=UNUSED_COLUMNS)


def averaged_smd(side1: list[dict], side2: list[dict], rho: float, merge) -> dict:
    """One contrast's SMD averaged over the scales both sides report (``rule: average``): per scale
    the arms of a side merged (``merge``, :func:`depmeta.review.contrasts.combine_means`), Hedges'
    g of side 1 minus side 2, then the g's averaged with correlation ``rho``
    (:func:`depmeta.stats.effects.aggregate_correlated`; metafor's ``aggregate(struct = "CS")``).
    Returns the average as a reported SMD (``reported_measure``, ``reported_yi``, ``reported_se``),
    the arms' sizes (each side's largest over the scales) and the scales."""
    scales = list(dict.fromkeys(r["scale"] for r in side1 + side2))
    merged = []
    for s in scales:
        sides = []
        for rows in (side1, side2):
            on = [r for r in rows if r["scale"] == s]
            sides.append(merge([float(r["n"]) for r in on], [r["mean"] for r in on], [r["sd"] for r in on]))
        merged.append(sides)
    es = escalc("SMD", m1i=[a[1] for a, _ in merged], sd1i=[a[2] for a, _ in merged], n1i=[a[0] for a, _ in merged],
                m2i=[b[1] for _, b in merged], sd2i=[b[2] for _, b in merged], n2i=[b[0] for _, b in merged])
    g, v = aggregate_correlated(es.yi, es.vi, rho)
    return {"reported_measure": "SMD", "reported_yi": g, "reported_se": float(np.sqrt(v)),
            "n1": max(a[0] for a, _ in merged),
            "n2": max(b[0] for _, b in merged), "scale": "; ".join(scales)}
