"""Figures of the sensitivity analyses: contour-enhanced funnel plot, GOSH plot, cumulative forest plot.

matplotlib; functions take arrays or the tables of :mod:`depmeta.review.sensitivity` and return Figures
(saving them is the caller's job), in the style of :mod:`depmeta.report.figures`.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from depmeta.report.figures import MEASURE_LABEL, comparison_label, log_ticks  # noqa: E402
from depmeta.stats.distributions import norm_ppf  # noqa: E402
from depmeta.stats.effects import RATIO_MEASURES  # noqa: E402

__all__ = ["cumulative_plot", "funnel_plot", "gosh_plot"]

#: Significance contours of the funnel plot (two-sided p), shaded light to dark.
FUNNEL_CONTOURS = (0.10, 0.05, 0.01)
_SHADES = ("#ffffff", "#dddddd", "#bbbbbb", "#999999")


def _axis_scale(ax, measure, axis="x"):
    if measure in RATIO_MEASURES:
        lo, hi = (ax.get_xlim() if axis == "x" else ax.get_ylim())
        ticks = log_ticks(np.exp(lo), np.exp(hi))
        (ax.set_xticks if axis == "x" else ax.set_yticks)(np.log(ticks))
        (ax.set_xticklabels if axis == "x" else ax.set_yticklabels)([f"{t:g}" for t in ticks])


def funnel_plot(yi, vi, estimate: float, measure: str, title: str = "", yi_fill=None, vi_fill=None,
                limit_estimate: float | None = None) -> plt.Figure:
    """Contour-enhanced funnel plot: effect against standard error, shaded by significance against 0.

    Parameters
    ----------
    yi, vi : array_like
        Effects (analysis scale) and sampling variances of the trials.
    estimate : float
        Pooled estimate (the funnel's centre line).
    measure : str
        For the axis label (ratios shown on a log axis with ratio ticks).
    yi_fill, vi_fill : array_like, optional
        Trim-and-fill's imputed studies, drawn as open circles.
    limit_estimate : float, optional
        Egger's limit estimate, drawn as a dashed line.
    """
    y, se = np.asarray(yi, float), np.sqrt(np.asarray(vi, float))
    fig, ax = plt.subplots(figsize=(6, 4.2))
    top = max(se.max(), np.sqrt(np.max(vi_fill)) if vi_fill is not None and len(vi_fill) else 0) * 1.08
    s = np.linspace(0, top, 100)
    span = max(np.abs(y).max(), norm_ppf(0.995) * top) * 1.1
    ax.fill_betweenx(s, -span, span, color=_SHADES[-1], lw=0)
    # Darkest outside (p < 0.01), then ever lighter bands inwards, white where p > 0.10.
    for p, shade in zip(sorted(FUNNEL_CONTOURS), _SHADES[-2::-1]):
        z = norm_ppf(1 - p / 2)
        ax.fill_betweenx(s, -z * s, z * s, color=shade, lw=0)
    z95 = norm_ppf(0.975)
    ax.plot(estimate - z95 * s, s, color="#444444", lw=0.8, ls=":")
    ax.plot(estimate + z95 * s, s, color="#444444", lw=0.8, ls=":")
    ax.axvline(estimate, color="#1b6ca8", lw=1.2, label="pooled estimate")
    if limit_estimate is not None and np.isfinite(limit_estimate):
        ax.axvline(limit_estimate, color="#c0392b", lw=1, ls="--", label="Egger limit estimate")
    ax.scatter(y, se, s=28, color="black", zorder=3, label="trials")
    if yi_fill is not None and len(yi_fill):
        ax.scatter(yi_fill, np.sqrt(vi_fill), s=28, facecolor="white", edgecolor="black", zorder=3,
                   label="filled (trim-and-fill)")
    ax.set_ylim(top, 0)
    lo, hi = min(y.min(), estimate) - 0.3 * np.ptp(np.r_[y, estimate]) - 0.1, \
        max(y.max(), estimate) + 0.3 * np.ptp(np.r_[y, estimate]) + 0.1
    ax.set_xlim(lo, hi)
    _axis_scale(ax, measure)
    ax.set_xlabel(MEASURE_LABEL.get(measure, measure) + (" (log scale)" if measure in RATIO_MEASURES else ""))
    ax.set_ylabel("Standard error")
    patches = [plt.Rectangle((0, 0), 1, 1, color=c, ec="#888888") for c in _SHADES]
    names = ["p > 0.10", "0.05 < p < 0.10", "0.01 < p < 0.05", "p < 0.01"]
    h, lab = ax.get_legend_handles_labels()
    ax.legend(h + patches, lab + names, fontsize=7, loc="lower left", bbox_to_anchor=(1.01, 0), frameon=False)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def gosh_plot(gosh: pd.DataFrame, measure: str, title: str = "") -> plt.Figure:
    """GOSH plot: pooled estimate against I² of every subset fitted (hexagonal bins when many)."""
    fig, ax = plt.subplots(figsize=(5.5, 4))
    x, i2 = gosh.estimate.to_numpy(float), gosh.i2.to_numpy(float)
    ok = np.isfinite(x) & np.isfinite(i2)
    if ok.sum() > 5000:
        hb = ax.hexbin(x[ok], i2[ok], gridsize=50, bins="log", cmap="Blues", mincnt=1)
        fig.colorbar(hb, ax=ax, label="subsets (log)")
    else:
        small = ok.sum() < 500
        ax.scatter(x[ok], i2[ok], s=16 if small else 6, alpha=0.7 if small else 0.4, color="#1b6ca8", lw=0)
    _axis_scale(ax, measure)
    ax.set_xlabel(MEASURE_LABEL.get(measure, measure) + (" (log scale)" if measure in RATIO_MEASURES else ""))
    ax.set_ylabel("I² (%)")
    ax.set_ylim(-2, 102)
    ax.set_title(title or f"GOSH: {ok.sum():,} subsets", fontsize=10)
    fig.tight_layout()
    return fig


def cumulative_plot(cum: pd.DataFrame, measure: str, title: str = "") -> plt.Figure:
    """Cumulative forest plot: the pooled estimate and interval as each trial is added, in table order."""
    n = len(cum)
    fig, ax = plt.subplots(figsize=(6.5, 0.32 * n + 1.2))
    pos = np.arange(n)[::-1]
    ax.hlines(pos, cum.ci_low, cum.ci_high, color="black", lw=1)
    ax.plot(cum.estimate, pos, "s", color="#1b6ca8", ms=5)
    ax.axvline(0, color="#888888", lw=0.8)
    labels = [f"+ {lab if len(lab) <= 38 else lab[:37] + '…'}" for lab in cum.label.astype(str)]
    ax.set_yticks(pos)
    ax.set_yticklabels(labels, fontsize=8)
    lo = np.nanmin(cum.ci_low.to_numpy(float))
    hi = np.nanmax(cum.ci_high.to_numpy(float))
    pad = 0.05 * (hi - lo) if hi > lo else 0.1
    ax.set_xlim(min(lo, 0) - pad, max(hi, 0) + pad)
    _axis_scale(ax, measure)
    ax.set_xlabel(MEASURE_LABEL.get(measure, measure) + (" (log scale)" if measure in RATIO_MEASURES else ""))
    ax.set_ylim(-0.7, n - 0.3)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def figure_title(comparison: str, outcome: str) -> str:
    """'combined vs medication: response'."""
    return f"{comparison_label(comparison)}: {outcome}"
