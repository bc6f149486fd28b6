"""Forest plots and summary figures (matplotlib). Functions return Figures;
saving them is the caller's job."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.patches import Polygon  # noqa: E402

# the text helpers live in depmeta.report.labels (no matplotlib); imported here for the plots
from depmeta.report.labels import MEASURE_LABEL, comparison_label, fmt_p, p_text  # noqa: E402, F401
from depmeta.review.comparisons import side_texts  # noqa: E402
from depmeta.review.vocabulary import OUTCOME_DIRECTION  # noqa: E402
from depmeta.stats.effects import RATIO_MEASURES  # noqa: E402

_LOG_TICKS = (0.05, 0.1, 0.2, 0.25, 0.33, 0.5, 0.67, 0.8, 1, 1.25, 1.5, 2, 3, 4, 5, 10, 20)
STRATEGY_COLOUR = {"medication": "#1b6ca8", "psychotherapy": "#d9822b", "combined": "#2e8540",
                   "other_active": "#7b4f9d", "control": "#777777"}
#: The colour of a comparison whose first side is not a whole strategy (SSRI, CBT, ...).
OTHER_COLOUR = "#4477aa"


def log_ticks(lo: float, hi: float, most: int = 7) -> list[float]:
    """Round tick values for a log axis from lo to hi, thinned to at most ``most`` (1 kept)."""
    ticks = [t for t in _LOG_TICKS if lo <= t <= hi]
    while len(ticks) > most:
        ticks = ticks[::2] if 1 in ticks[::2] else ticks[1::2]
    return ticks


def _favours(comparison: str, outcome: str) -> tuple[str, str]:
    """(left label, right label) under the x axis."""
    a, b = side_texts(comparison)
    good_high = OUTCOME_DIRECTION[outcome] > 0
    return (f"favours {b}", f"favours {a}") if good_high else (f"favours {a}", f"favours {b}")


def _cells(row: pd.Series, measure: str) -> tuple[str, str]:
    if measure == "HR" or row.get("source_kind") in ("reported", "averaged"):
        return f"n={row.n1:.0f}", f"n={row.n2:.0f}"
    if measure == "SMD":
        return f"{row.mean1:.1f} ({row.sd1:.1f}), {row.n1:.0f}", f"{row.mean2:.1f} ({row.sd2:.1f}), {row.n2:.0f}"
    return f"{row.events1:.0f}/{row.n1:.0f}", f"{row.events2:.0f}/{row.n2:.0f}"


def forest_plot(studies: pd.DataFrame, pooled: pd.Series, level: float = 0.95) -> plt.Figure:
    """Forest plot of one comparison × outcome.

    Parameters
    ----------
    studies : DataFrame
        The analysis's rows of ``per_study.csv`` (``label, yi_display,
        ci_low_display, ci_high_display, weight, n1, n2, events1, ...``).
    pooled : Series
        The analysis's row of ``summary.csv``.
    """
    measure, comparison, outcome = pooled.measure, pooled.comparison, pooled.outcome
    ratio = measure in RATIO_MEASURES
    a, b = side_texts(comparison)
    k = len(studies)
    n_rows = k + 4
    derived = bool(studies.get("derived", pd.Series(dtype=bool)).any())
    # The plot's height, and below it room for the footnote (58 pt under the axes, 12 pt a
    # line), so that everything drawn lies on the canvas.
    height = 1.6 + 0.32 * n_rows
    below = max(0.0, (58 + 12 * (1 + derived) + 6) / 72 - 0.2 * height)
    fig = plt.figure(figsize=(10.5, height + below))
    ax = fig.add_axes([0.43, (0.2 * height + below) / (height + below), 0.27, 0.68 * height / (height + below)])
    ys = np.arange(k, 0, -1) + 1.5
    w = studies["weight"].to_numpy(float)
    sizes = 30 + 220 * w / max(w.max(), 1e-9)
    lo, hi = studies.ci_low_display.to_numpy(float), studies.ci_high_display.to_numpy(float)
    est = studies.yi_display.to_numpy(float)
    ax.hlines(ys, lo, hi, color="black", lw=1)
    ax.scatter(est, ys, s=sizes, marker="s", color="#34495e", zorder=3)

    yd = 1.0
    e, cl, ch = pooled.estimate_display, pooled.ci_low_display, pooled.ci_high_display
    ax.add_patch(Polygon([[cl, yd], [e, yd + 0.32], [ch, yd], [e, yd - 0.32]], closed=True,
                         color="#c0392b", zorder=3))
    pl, ph = pooled.get("pi_low_display", np.nan), pooled.get("pi_high_display", np.nan)
    if np.isfinite(pl) and np.isfinite(ph):
        ax.hlines(yd - 0.6, pl, ph, color="#c0392b", lw=1.5, linestyles="--")
    null = 1.0 if ratio else 0.0
    ax.axvline(null, color="grey", lw=0.8)
    ax.axvline(e, color="#c0392b", lw=0.6, ls=":")
    if ratio:
        ax.set_xscale("log")
    values = np.concatenate([lo, hi, [cl, ch, null] + ([pl, ph] if np.isfinite(pl) else [])])
    values = values[np.isfinite(values)]
    if ratio:
        lo_x, hi_x = math.log(values.min()), math.log(values.max())
        pad = 0.08 * (hi_x - lo_x or 1)
        ax.set_xlim(math.exp(lo_x - pad), math.exp(hi_x + pad))
        ticks = log_ticks(math.exp(lo_x - pad), math.exp(hi_x + pad))
        ax.set_xticks(ticks)
        ax.set_xticklabels([f"{t:g}" for t in ticks])
        ax.minorticks_off()
    else:
        pad = 0.08 * (values.max() - values.min() or 1)
        ax.set_xlim(values.min() - pad, values.max() + pad)
    ax.set_ylim(-0.2, n_rows - 0.3)
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    pct = f"{100 * level:g}%"
    ax.set_xlabel(f"{MEASURE_LABEL[measure]} ({pct} CI)", labelpad=20)
    left, right = _favours(comparison, outcome)
    for x, text, ha in ((0.0, f"← {left}", "left"), (1.0, f"{right} →", "right")):
        ax.annotate(text, xy=(x, 0), xycoords="axes fraction", xytext=(0, -24), textcoords="offset points",
                    ha=ha, va="top", fontsize=8)

    # text columns, in figure coordinates through a blended transform
    tr = ax.get_yaxis_transform()

    def col(x, y, s, **kw):
        ax.text(x, y, s, transform=tr, va="center", fontsize=8.5, clip_on=False, **kw)

    head = n_rows - 1.0
    header = "events/N" if measure != "SMD" else "mean (SD), N"
    col(-1.55, head, "Study", weight="bold")
    col(-0.72, head, f"{a}\n{header}", weight="bold", ha="center")
    col(-0.25, head, f"{b}\n{header}", weight="bold", ha="center")
    col(1.05, head, "Weight", weight="bold")
    col(1.28, head, f"{MEASURE_LABEL[measure]} [{pct} CI]", weight="bold")
    for y, (_, r) in zip(ys, studies.iterrows()):
        c1, c2 = _cells(r, measure)
        mark = " †" if r.get("derived", False) else ""
        col(-1.55, y, f"{r.label}{mark}")
        col(-0.72, y, c1, ha="center")
        col(-0.25, y, c2, ha="center")
        col(1.05, y, f"{r.weight:.1f}%")
        col(1.28, y, f"{r.yi_display:.2f} [{r.ci_low_display:.2f}, {r.ci_high_display:.2f}]")
    n1 = studies.n1.sum()
    n2 = studies.n2.sum()
    col(-1.55, yd, f"Random effects ({pooled.method}, {pooled.test})", weight="bold")
    col(-0.72, yd, f"{n1:.0f}", ha="center")
    col(-0.25, yd, f"{n2:.0f}", ha="center")
    col(1.05, yd, "100%")
    col(1.28, yd, f"{e:.2f} [{cl:.2f}, {ch:.2f}]", weight="bold")
    if np.isfinite(pl):
        col(-1.55, yd - 0.6, "Prediction interval", style="italic")
        col(1.28, yd - 0.6, f"[{pl:.2f}, {ph:.2f}]", style="italic")
    het = (f"Heterogeneity: τ² = {pooled.tau2:.3f} [{pooled.tau2_ci_low:.3f}, {pooled.tau2_ci_high:.3f}]; "
           f"I² = {pooled.i2:.0f}% [{pooled.i2_ci_low:.0f}, {pooled.i2_ci_high:.0f}]; "
           f"Q = {pooled.q:.2f} (df = {pooled.q_df:.0f}), {p_text(pooled.q_pval)}. "
           f"Test of overall effect: {p_text(pooled.pval)}.")
    foot = [het]
    if derived:
        foot.append("† count derived from a reported percentage (rounded half up)")
    ax.annotate("\n".join(foot), xy=(0, 0), xycoords=("figure fraction", "axes fraction"), xytext=(12, -58),
                textcoords="offset points", ha="left", va="top", fontsize=8)
    fig.suptitle(f"{comparison_label(comparison).capitalize()}: {outcome}", x=0.02, ha="left", fontsize=11,
                 weight="bold")
    return fig


def summary_plot(summary: pd.DataFrame, level: float = 0.95) -> plt.Figure:
    """Pooled estimates of every comparison × outcome, one panel per measure, stacked so that
    every panel has the page's width and each row the same height."""
    pooled = summary[summary.status == "pooled"]
    measures = [m for m in ("RR", "OR", "RD", "HR", "SMD") if m in set(pooled.measure)]
    counts = [int((pooled.measure == m).sum()) for m in measures] or [1]
    fig, axes = plt.subplots(len(counts), 1, figsize=(8, 0.9 * len(counts) + 0.32 * sum(counts)),
                             squeeze=False, gridspec_kw={"height_ratios": [c + 2 for c in counts]})
    for ax, measure in zip(axes[:, 0], measures):
        rows = pooled[pooled.measure == measure].reset_index(drop=True)
        ys = np.arange(len(rows))[::-1]
        for y, (_, r) in zip(ys, rows.iterrows()):
            colour = STRATEGY_COLOUR.get(side_texts(r.comparison)[0], OTHER_COLOUR)
            ax.hlines(y, r.ci_low_display, r.ci_high_display, color=colour, lw=2)
            ax.plot(r.estimate_display, y, "o", color=colour)
            if np.isfinite(r.get("pi_low_display", np.nan)):
                ax.hlines(y - 0.18, r.pi_low_display, r.pi_high_display, color=colour, lw=0.8, ls="--")
        ax.set_yticks(ys)
        ax.set_yticklabels([f"{comparison_label(r.comparison)} — {r.outcome} (k={r.k})" for _, r in rows.iterrows()],
                           fontsize=8)
        null = 1.0 if measure in RATIO_MEASURES else 0.0
        ax.axvline(null, color="grey", lw=0.8)
        if measure in RATIO_MEASURES:
            ax.set_xscale("log")
            lo = rows[["ci_low_display", "pi_low_display"]].min().min()
            hi = rows[["ci_high_display", "pi_high_display"]].max().max()
            ticks = log_ticks(min(lo, 1) / 1.1, max(hi, 1) * 1.1)
            ax.xaxis.set_major_locator(matplotlib.ticker.FixedLocator(ticks))
            ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
            ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.tick_params(axis="x", labelsize=8)
        ax.set_xlabel(f"{MEASURE_LABEL[measure]} ({100 * level:g}% CI; dashed: prediction interval)", fontsize=8)
        ax.set_ylim(-0.8, len(rows) - 0.4)
    if not measures:
        axes[0][0].text(0.5, 0.5, "No comparison has enough studies to pool", ha="center", va="center")
        axes[0][0].set_axis_off()
    fig.tight_layout()
    return fig


def event_rate_plot(rates: pd.DataFrame, level: float = 0.95) -> plt.Figure:
    """Pooled event rates (proportion with the outcome) per strategy and outcome."""
    pooled = rates[rates.status == "pooled"] if len(rates) else rates
    outcomes = [o for o in ("response", "remission", "relapse", "dropout") if len(pooled) and o in set(pooled.outcome)]
    fig, ax = plt.subplots(figsize=(8, 1.0 + 0.9 * max(len(outcomes), 1)))
    strategies = [s for s in STRATEGY_COLOUR if len(pooled) and s in set(pooled.strategy)]
    for i, outcome in enumerate(outcomes):
        for j, strategy in enumerate(strategies):
            r = pooled[(pooled.outcome == outcome) & (pooled.strategy == strategy)]
            if not len(r):
                continue
            r = r.iloc[0]
            y = len(outcomes) - 1 - i + (len(strategies) / 2 - j - 0.5) * 0.18
            ax.hlines(y, r.ci_low_rate, r.ci_high_rate, color=STRATEGY_COLOUR[strategy], lw=2)
            ax.plot(r.estimate_rate, y, "o", color=STRATEGY_COLOUR[strategy],
                    label=strategy if i == 0 or strategy not in ax.get_legend_handles_labels()[1] else None)
    ax.set_yticks(range(len(outcomes)))
    ax.set_yticklabels(outcomes[::-1])
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.set_xlabel(f"Pooled proportion of patients ({100 * level:g}% CI)")
    if outcomes:
        ax.legend(loc="lower right", fontsize=8, frameon=False)
    else:
        ax.text(0.5, 0.5, "No event rate has enough studies to pool", ha="center", va="center")
    fig.tight_layout()
    return fig
