"""Time frames: which phase and which weeks each outcome is analysed at.

A review's protocol names, per outcome, the treatment phases its analysis takes and a window
of weeks from randomization (``analysis.timeframes``): for example response at the end of
acute treatment, weeks 6 to 16, the week nearest 12; relapse over continuation and
maintenance treatment, the latest week. Phases outside the frame are other questions
(relapse prevention, sequential treatment) and are never pooled with it; weeks outside the
window (long-term follow-up, early weeks) are not either.

One step applies the frames, before any contrast, network or event rate is formed, so the
pairwise and the network analyses see the same rows:

1. A row of a phase outside its outcome's frame is set apart, with the reason.
2. A row whose week lies outside the window is set apart, with the reason. A row with no
   week is the trial's end of treatment and lies in every window.
3. Of what is left, one week per trial, outcome and analysis population: the nearest to the
   target week (``choose: nearest``; the later of two equally near), the latest or the
   earliest. The other weeks are set apart, naming the week used.

No file I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from depmeta.review.vocabulary import weeks_text

__all__ = ["TimeFrame", "timeframes_from_config", "within_timeframes", "frame_text", "CHOICES"]

#: How a frame picks one week of a trial: the nearest to its target, the latest or the earliest.
CHOICES = ("nearest", "latest", "earliest")

_UNUSED_COLUMNS = ["study_id", "row_ids", "sheet", "sheet_row", "comparison", "outcome", "reason"]


@dataclass(frozen=True)
class TimeFrame:
    """The phases and weeks (from randomization) one outcome is analysed at.

    ``from_weeks``/``to_weeks`` bound the window (inclusive; ``None``: open); ``choose`` picks
    one week per trial: ``nearest`` to ``target_weeks`` (the later of two equally near),
    ``latest`` or ``earliest``."""

    phases: tuple[str, ...]
    from_weeks: float | None = None
    to_weeks: float | None = None
    choose: str = "latest"
    target_weeks: float | None = None

    def __post_init__(self):
        if self.choose not in CHOICES:
            raise ValueError(f"choose must be one of {', '.join(CHOICES)}, not {self.choose!r}")
        if self.choose == "nearest" and self.target_weeks is None:
            raise ValueError("choose 'nearest' needs target_weeks")
        if self.from_weeks is not None and self.to_weeks is not None and self.from_weeks > self.to_weeks:
            raise ValueError(f"from_weeks {self.from_weeks:g} is after to_weeks {self.to_weeks:g}")

    def in_window(self, weeks) -> bool:
        """Whether a week lies in the window (an unreported week, the end of treatment, always does)."""
        if weeks is None or weeks != weeks:
            return True
        return ((self.from_weeks is None or weeks >= self.from_weeks)
                and (self.to_weeks is None or weeks <= self.to_weeks))

    def order(self, weeks) -> tuple:
        """Sort key of a week within the frame: smaller is chosen first."""
        if weeks is None or weeks != weeks:
            return (0.0, 0.0)
        if self.choose == "nearest":
            return (abs(weeks - self.target_weeks), -weeks)
        return (-weeks if self.choose == "latest" else weeks, 0.0)

    def without_window(self, choose: str = "earliest") -> "TimeFrame":
        """The same phases at any week, one chosen by ``choose`` (the early analysis behind claims
        about speed looks before the window)."""
        return TimeFrame(self.phases, None, None, choose, self.target_weeks if choose == "nearest" else None)


def timeframes_from_config(section: dict) -> dict[str, TimeFrame]:
    """The ``analysis.timeframes`` mapping of a schema-validated protocol, as frames by outcome."""
    return {outcome: TimeFrame(tuple(f["phases"]), f.get("from_weeks"), f.get("to_weeks"),
                               f.get("choose", "latest"), f.get("target_weeks"))
            for outcome, f in section.items()}


def frame_text(outcome: str, frame: TimeFrame) -> str:
    """A frame in words: 'response: acute phase, weeks 6 to 16, the week nearest 12'."""
    phases = " and ".join(frame.phases)
    parts = [f"{phases} phase" + ("s" if len(frame.phases) > 1 else "")]
    lo, hi = frame.from_weeks, frame.to_weeks
    if lo is not None and hi is not None:
        parts.append(f"weeks {lo:g} to {hi:g}")
    elif lo is not None:
        parts.append(f"from week {lo:g}")
    elif hi is not None:
        parts.append(f"up to week {hi:g}")
    parts.append(f"the week nearest {frame.target_weeks:g}" if frame.choose == "nearest"
                 else f"the {frame.choose} week")
    return f"{outcome}: " + ", ".join(parts)


def _window_text(frame: TimeFrame) -> str:
    lo, hi = frame.from_weeks, frame.to_weeks
    if lo is not None and hi is not None:
        return f"weeks {lo:g} to {hi:g}"
    return f"from week {lo:g}" if lo is not None else f"up to week {hi:g}"


def within_timeframes(rows: pd.DataFrame, frames: dict[str, TimeFrame] | None, sheet: str,
                      row_id, sheet_rows=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows of a sheet (arms or reported effects: ``study_id``, ``outcome``, ``phase``,
    ``timepoint_weeks``, ``analysis_population``) that lie in their outcome's time frame, one week
    per trial, outcome and population; and the others, with the reason, in the form of
    :func:`depmeta.review.contrasts.form_contrasts`' ``unused`` frame.

    ``row_id`` makes a row's id; ``sheet_rows`` gives each row's line in its sheet (default: a
    ``sheet_row`` column). An outcome without a frame keeps all its rows (``frames`` None: no
    frame at all)."""
    if frames is None or rows is None or not len(rows):
        return rows, pd.DataFrame(columns=_UNUSED_COLUMNS)
    lines = rows["sheet_row"] if sheet_rows is None else pd.Series(sheet_rows, index=rows.index)
    why: dict = {}
    kept: dict[tuple, list] = {}
    for i, r in zip(rows.index, rows.itertuples()):
        frame = frames.get(r.outcome)
        if frame is None:
            continue
        if r.phase not in frame.phases:
            why[i] = (f"phase {r.phase}: the {r.outcome} analysis takes the "
                      f"{' and '.join(frame.phases)} phase{'s' if len(frame.phases) > 1 else ''} "
                      "(analysis.timeframes)")
        elif not frame.in_window(r.timepoint_weeks):
            why[i] = (f"{weeks_text(r.timepoint_weeks)} is outside the {r.outcome} window, "
                      f"{_window_text(frame)} (analysis.timeframes)")
        else:
            kept.setdefault((r.study_id, r.outcome, r.analysis_population), []).append(i)
    for (sid, outcome, population), idx in kept.items():
        frame = frames[outcome]
        weeks = {i: rows.at[i, "timepoint_weeks"] for i in idx}
        best = min(weeks.values(), key=frame.order)
        for i, w in weeks.items():
            if frame.order(w) != frame.order(best):
                rule = (f"nearest week {frame.target_weeks:g}" if frame.choose == "nearest"
                        else f"{frame.choose} week")
                why[i] = (f"{weeks_text(w)} not used: the trial's {outcome} at {weeks_text(best)} "
                          f"({population}) is used, the {rule} in the window (analysis.timeframes)")
    drop = rows.index.isin(list(why))
    out = [{"study_id": rows.at[i, "study_id"], "row_ids": [row_id(rows.loc[i])], "sheet": sheet,
            "sheet_row": int(lines.at[i]), "comparison": "", "outcome": rows.at[i, "outcome"], "reason": why[i]}
           for i in rows.index[drop]]
    return rows[~np.asarray(drop)], pd.DataFrame.from_records(out, columns=_UNUSED_COLUMNS)
