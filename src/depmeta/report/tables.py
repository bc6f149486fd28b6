"""Formatting of pipeline results for the report: numbers to text and
DataFrames to markdown tables. No computation of results happens here."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from depmeta.report.labels import MEASURE_LABEL, comparison_label, fmt_p, p_text
from depmeta.review.comparisons import side_texts
from depmeta.review.sheets import ROB_TOOLS

__all__ = ["NBSP", "fmt", "fmt_ci", "fmt_est_ci", "md_escape", "md_table", "summary_table",
           "heterogeneity_table", "event_rate_table", "rob_tables", "sentence"]

#: No-break space: joins the parts of an estimate and its interval so that a
#: table cell never wraps inside a number or an interval.
NBSP = "\u00a0"
#: Characters that pandoc markdown (or raw HTML inside it) would interpret;
#: backslash-escaped in every string from a sheet so it shows as typed.
#: pandoc's ``--columns``: a pipe table with a longer line gets relative column
#: widths from the dashes of its separator line, a shorter one natural widths.
_PANDOC_COLUMNS = 72
#: characters of table text across a page (the PDF's tables are set in 7.5 pt on
#: A4 portrait: about 120; somewhat less, as cells are padded)
_TABLE_LINE = 115
#: the longest cell length that still claims more width (longer prose wraps)
_PROSE_CAP = 60
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|$@~^&])")


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and not math.isfinite(x)) or bool(pd.isna(x))


def fmt(x, digits: int = 2) -> str:
    """A number with fixed digits, or an en dash for missing."""
    if _missing(x):
        return "–"
    text = f"{x:.{digits}f}"
    return text[1:] if text == f"-{0:.{digits}f}" else text  # a value rounding to zero has no sign


def fmt_ci(lo, hi, digits: int = 2) -> str:
    """'[lo, hi]' (unbreakable) or an en dash."""
    if _missing(lo) or _missing(hi):
        return "–"
    return f"[{lo:.{digits}f},{NBSP}{hi:.{digits}f}]"


def fmt_est_ci(est, lo, hi, digits: int = 2) -> str:
    """'est [lo, hi]' as one unbreakable unit, or an en dash if the estimate is missing."""
    if _missing(est):
        return "–"
    return f"{fmt(est, digits)}{NBSP}{fmt_ci(lo, hi, digits)}"


def md_escape(text) -> str:
    """Text shown literally in pandoc markdown (HTML and Typst): markdown and HTML
    special characters backslash-escaped, line breaks as spaces; missing as blank."""
    if _missing(text):
        return ""
    return _MD_SPECIAL.sub(r"\\\1", str(text)).replace("\r", " ").replace("\n", " ")


def _column_widths(columns: list[list[str]]) -> list[int]:
    """Relative column widths (in characters) of a wide table: every column gets
    its longest unbreakable word (words joined by :data:`NBSP` count as one), and
    what is left of :data:`_TABLE_LINE` goes to the columns with longer text, in
    proportion to their longest cell (capped at :data:`_PROSE_CAP`)."""
    words = [max(len(w) for cell in col for w in (cell.split(" ") or [""])) + 2 for col in columns]
    longest = [min(max(len(cell) for cell in col), _PROSE_CAP) for col in columns]
    extra = [max(0, full - word) for full, word in zip(longest, words)]
    room = max(0, _TABLE_LINE - sum(words))
    return [max(3, round(w + (room * e / sum(extra) if sum(extra) else 0))) for w, e in zip(words, extra)]


def md_table(df: pd.DataFrame, align: str | None = None, markdown: tuple[str, ...] = ()) -> str:
    """A pipe table (survives both the HTML and the Typst path).

    Every cell is escaped with :func:`md_escape` (missing values blank) except
    in the columns named in ``markdown``, whose cells are markdown already."""
    if not len(df):
        return "*(none)*"
    cols = list(df.columns)
    cells = pd.DataFrame({c: [("" if _missing(v) else str(v).replace("\n", " ")) if c in markdown else md_escape(v)
                              for v in df[c]] for c in cols})
    header = [md_escape(c) for c in cols]
    rows = [list(row) for row in cells.itertuples(index=False)]
    aligns = align or "l" * len(cols)
    lines = ["| " + " | ".join(header) + " |"]
    if max(len(line) for line in lines + ["| " + " | ".join(r) + " |" for r in rows]) <= _PANDOC_COLUMNS:
        dashes = [3] * len(cols)  # a narrow table: pandoc sizes its columns to their content
    else:
        dashes = _column_widths([[h] + [r[i] for r in rows] for i, h in enumerate(header)])
    lines.append("|" + "|".join({"l": ":" + "-" * d, "r": "-" * d + ":", "c": ":" + "-" * d + ":"}[a]
                                for a, d in zip(aligns, dashes)) + "|")
    for row in rows:
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def summary_table(summary: pd.DataFrame, level: float) -> pd.DataFrame:
    """One row per pooled comparison × outcome: the estimate with its confidence
    and prediction intervals (heterogeneity: :func:`heterogeneity_table`)."""
    pct = f"{100 * level:g}%"
    rows = []
    for _, r in summary[summary.status == "pooled"].iterrows():
        rows.append({
            "Comparison": comparison_label(r.comparison),
            "Outcome": r.outcome,
            "k (patients)": f"{int(r.k)} ({int(r.n_patients)})",
            f"Estimate [{pct} CI]":
                f"{r.measure}{NBSP}{fmt_est_ci(r.estimate_display, r.ci_low_display, r.ci_high_display)}",
            "p": fmt_p(r.pval),
            f"{pct} PI": fmt_ci(r.pi_low_display, r.pi_high_display),
        })
    return pd.DataFrame(rows)


def heterogeneity_table(summary: pd.DataFrame, level: float) -> pd.DataFrame:
    """One row per pooled comparison × outcome: τ², I² with its confidence interval, Q."""
    pct = f"{100 * level:g}%"
    rows = []
    for _, r in summary[summary.status == "pooled"].iterrows():
        rows.append({
            "Comparison": comparison_label(r.comparison),
            "Outcome": r.outcome + (" (HR)" if r.measure == "HR" else ""),  # relapse: RR and HR rows
            "k": f"{int(r.k)}",
            "τ²": fmt(r.tau2, 3),
            f"I² % [{pct} CI]": fmt_est_ci(r.i2, r.i2_ci_low, r.i2_ci_high, 0),
            "Q (df)": f"{fmt(r.q)}{NBSP}({r.q_df:.0f})",
            "p (Q)": fmt_p(r.q_pval),
        })
    return pd.DataFrame(rows)


def event_rate_table(rates: pd.DataFrame, level: float) -> pd.DataFrame:
    """Pooled event rates per strategy and outcome, as percentages."""
    pct = f"{100 * level:g}%"
    rows = []
    if not len(rates):
        return pd.DataFrame()
    for _, r in rates[rates.status == "pooled"].iterrows():
        rows.append({
            "Strategy": r.strategy, "Outcome": r.outcome, "k (patients)": f"{int(r.k)} ({int(r.n_patients)})",
            f"Rate % [{pct} CI]": fmt_est_ci(100 * r.estimate_rate, 100 * r.ci_low_rate, 100 * r.ci_high_rate, 1),
            f"{pct} PI": fmt_ci(100 * r.pi_low_rate, 100 * r.pi_high_rate, 1),
            "I² (%)": fmt(r.i2, 0),
        })
    return pd.DataFrame(rows)


def rob_tables(rob: pd.DataFrame, labels: dict[str, str]) -> dict[str, tuple[pd.DataFrame, list[str]]]:
    """Published risk-of-bias judgements for display: per tool, one row per study
    and one column per domain (in :data:`ROB_TOOLS` order), and the sources.

    Where two sources judge the same domain, both judgements are shown (sources
    in the order of the sheet, numbered in the Source column)."""
    out = {}
    for tool, spec in ROB_TOOLS.items():
        part = rob[rob.tool == tool]
        if not len(part):
            continue
        sources = list(dict.fromkeys(part.source))
        number = {s: f"[{i + 1}]" for i, s in enumerate(sources)} if len(sources) > 1 else None
        domains = [d for d in spec["domains"] if d in set(part.domain)]
        rows = []
        for sid, d in part.groupby("study_id", sort=False):
            row = {"Study": labels.get(sid, sid)}
            for dom in domains:
                cells = d[d.domain == dom]
                row[dom.replace("_", " ")] = "; ".join(
                    j.replace("_", " ") + (f" {number[s]}" if number and len(cells) > 1 else "")
                    for j, s in zip(cells.judgement, cells.source)) or "–"
            if number:
                row["Source"] = ", ".join(number[s] for s in dict.fromkeys(d.source))
            rows.append(row)
        table = pd.DataFrame(rows).sort_values("Study", kind="stable")
        out[tool] = (table.reset_index(drop=True), sources)
    return out


def sentence(r: pd.Series, level: float) -> str:
    """One sentence stating a pooled result."""
    a, b = side_texts(r.comparison)
    pct = f"{100 * level:g}%"
    text = (f"**{a.capitalize()} vs {b}, {r.outcome}** ({int(r.k)} studies, {int(r.n_patients)} patients): "
            f"{MEASURE_LABEL[r.measure].lower()} {fmt(r.estimate_display)} "
            f"({pct} CI {fmt(r.ci_low_display)} to {fmt(r.ci_high_display)}; {p_text(r.pval)})")
    if np.isfinite(r.get("pi_low_display", np.nan)):
        text += f", prediction interval {fmt(r.pi_low_display)} to {fmt(r.pi_high_display)}"
    text += f", I² = {r.i2:.0f}%."
    return text
