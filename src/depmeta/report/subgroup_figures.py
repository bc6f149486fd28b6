"""Figures of the subgroup analyses: the bubble plot of a meta-regression."""

from __future__ import annotations

import numpy as np
import pandas as pd

from depmeta.stats.effects import RATIO_MEASURES
from depmeta.stats.regression import meta_regression

__all__ = ["bubble_plot"]


def bubble_plot(rows: pd.DataFrame, reg: pd.Series, level: float = 0.95):
    """Bubble plot of a meta-regression: each study's effect against the moderator
    (area proportional to its weight ``1/(v_i + tau2)``), the fitted line and its
    confidence band (from ``reg``'s coefficients, refitted for the band).

    Parameters
    ----------
    rows : DataFrame
        The contrasts of one comparison × outcome with ``yi, vi, label`` and the moderator column.
    reg : Series
        A ``status == "fitted"`` row of :func:`run_subgroups`' regression table.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, NullLocator

    from depmeta.report.figures import MEASURE_LABEL, comparison_label, log_ticks, p_text

    col = "year" if reg.moderator == "year" else "baseline_severity_score"
    d = rows[rows[col].notna()]
    x, y, v = d[col].to_numpy(float), d.yi.to_numpy(float), d.vi.to_numpy(float)
    fit = meta_regression(y, v, x, [reg.moderator], method=reg.method, test=reg.test, level=level)
    grid = np.linspace(x.min(), x.max(), 100)
    pred, lo, hi = fit.predict(np.column_stack([np.ones_like(grid), grid]))
    ratio = reg.measure in RATIO_MEASURES
    tr = np.exp if ratio else (lambda z: z)
    w = 1 / (v + fit.tau2)
    fig, ax = plt.subplots(figsize=(6.2, 4.0))
    ax.fill_between(grid, tr(lo), tr(hi), color="#1b6ca8", alpha=0.15, lw=0)
    ax.plot(grid, tr(pred), color="#1b6ca8", lw=1.5)
    ax.scatter(x, tr(y), s=600 * w / w.sum(), facecolor="#d9822b", edgecolor="black", alpha=0.7, zorder=3)
    for xi, yi_, lab in zip(x, y, d.label):
        ax.annotate(str(lab), (xi, tr(yi_)), xytext=(4, 4), textcoords="offset points", fontsize=7)
    ax.axhline(1 if ratio else 0, color="grey", lw=0.8, ls=":")
    unit = "year" if reg.moderator == "year" else "point"
    if ratio:
        ax.set_yscale("log")
        lo_, hi_ = ax.get_ylim()
        ax.set_yticks(log_ticks(lo_, hi_) or [1])
        ax.yaxis.set_major_formatter(FuncFormatter(lambda t, _: f"{t:g}"))
        # no minor ticks, as on the forest plots' log axes (the ratio ticks carry the scale)
        ax.yaxis.set_minor_locator(NullLocator())
        change = f"{reg.measure} ×{np.exp(reg.slope):.3f} per {unit}"
    else:
        change = f"{reg.measure} {reg.slope:+.3f} per {unit}"
    ax.set_xlabel("Publication year" if reg.moderator == "year" else "Baseline severity")
    ax.set_ylabel(MEASURE_LABEL.get(reg.measure, reg.measure))
    ax.set_title(f"{comparison_label(reg.comparison)}, {reg.outcome}:\n{change}, "
                 f"{p_text(reg.slope_pval)} ({reg.test}); permutation {p_text(reg.perm_pval)}", fontsize=9)
    fig.tight_layout()
    return fig
