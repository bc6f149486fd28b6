"""Formatting of pipeline results for the report: numbers to text and
DataFrames to markdown tables. No computation of results happens here."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from depmeta.contrasts import COMPARISONS
from depmeta.plots import MEASURE_LABEL, comparison_label, fmt_p, p_text
from depmeta.sheets import ROB_TOOLS

__all__ = ["fmt", "fmt_ci", "md_table", "summary_table", "event_rate_table", "rob_tables", "sentence"]


def fmt(x, digits: int = 2) -> str:
    """A number with fixed digits, or an en dash for missing."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)) or pd.isna(x):
        return "–"
    return f"{x:.{digits}f}"


def fmt_ci(lo, hi, digits: int = 2) -> str:
    """'[lo, hi]' or an en dash."""
    if any(v is None or pd.isna(v) or not math.isfinite(v) for v in (lo, hi)):
        return "–"
    return f"[{lo:.{digits}f}, {hi:.{digits}f}]"


def md_table(df: pd.DataFrame, align: str | None = None) -> str:
    """A pipe table (survives both the HTML and the Typst path)."""
    if not len(df):
        return "*(none)*"
    cols = list(df.columns)
    esc = lambda v: str(v).replace("|", "\\|").replace("\n", " ")  # noqa: E731
    lines = ["| " + " | ".join(esc(c) for c in cols) + " |"]
    aligns = align or "l" * len(cols)
    # pandoc sizes the columns of a wide pipe table by the dashes of this line
    # (long prose columns capped so that short unbreakable numbers keep room)
    def weight(col) -> int:
        cells = [str(col)] + [str(v) for v in df[col]]
        longest_word = max(len(w) for c in cells for w in (c.split() or [""]))
        return max(min(max(len(c) for c in cells), 24), longest_word + 1)

    widths = [weight(c) for c in cols]
    dashes = [max(3, round(70 * w / sum(widths))) for w in widths]
    lines.append("|" + "|".join({"l": ":" + "-" * d, "r": "-" * d + ":", "c": ":" + "-" * d + ":"}[a]
                                for a, d in zip(aligns, dashes)) + "|")
    for _, row in df.iterrows():
        lines.append("| " + " | ".join(esc(v) for v in row) + " |")
    return "\n".join(lines)


def summary_table(summary: pd.DataFrame, level: float) -> pd.DataFrame:
    """One row per pooled comparison × outcome, for display."""
    pct = f"{100 * level:g}%"
    rows = []
    for _, r in summary[summary.status == "pooled"].iterrows():
        rows.append({
            "Comparison": comparison_label(r.comparison),
            "Outcome": r.outcome,
            "k (patients)": f"{int(r.k)} ({int(r.n_patients)})",
            # one column for every measure (RR, SMD, HR side by side would leave empty cells)
            "Measure": r.measure,
            f"Estimate [{pct} CI]": f"{fmt(r.estimate_display)} {fmt_ci(r.ci_low_display, r.ci_high_display)}",
            "p": fmt_p(r.pval),
            f"{pct} PI": fmt_ci(r.pi_low_display, r.pi_high_display),
            "τ²": fmt(r.tau2, 3),
            "I² % [CI]": f"{r.i2:.0f} {fmt_ci(r.i2_ci_low, r.i2_ci_high, 0)}",
            "Q (df); p": f"{r.q:.2f} ({r.q_df:.0f}); {fmt_p(r.q_pval)}",
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
            f"Rate % [{pct} CI]": f"{fmt(100 * r.estimate_rate, 1)} {fmt_ci(100 * r.ci_low_rate, 100 * r.ci_high_rate, 1)}",
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
    a, b = COMPARISONS[r.comparison]
    pct = f"{100 * level:g}%"
    text = (f"**{a.capitalize()} vs {b}, {r.outcome}** ({int(r.k)} studies, {int(r.n_patients)} patients): "
            f"{MEASURE_LABEL[r.measure].lower()} {fmt(r.estimate_display)} "
            f"({pct} CI {fmt(r.ci_low_display)} to {fmt(r.ci_high_display)}; {p_text(r.pval)})")
    if np.isfinite(r.get("pi_low_display", np.nan)):
        text += f", prediction interval {fmt(r.pi_low_display)} to {fmt(r.pi_high_display)}"
    text += f", I² = {r.i2:.0f}%."
    return text
