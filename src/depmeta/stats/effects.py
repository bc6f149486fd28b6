"""Effect sizes from arm-level data, after metafor's ``escalc``.

Everything here is a pure function of arrays: no pandas, no file I/O. The
argument names follow metafor so that a metafor user can translate a call
one to one (``ai, n1i, ci, n2i`` for events and totals of the treatment and
control arm; ``m1i, sd1i, n1i, m2i, sd2i, n2i`` for means).

Why not statsmodels: ``statsmodels.stats.meta_analysis.effectsize_2proportions``
applies its ``zero_correction`` to every study, not only to studies with a
zero cell, and ``effectsize_smd`` uses the approximate small-sample factor;
neither reproduces metafor. PyMARE's Hedges' g variance is not metafor's
large-sample variance either. The formulas below are metafor's (see
``help(escalc)``), checked against ``../shared/reference`` by the tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import gammaln

__all__ = [
    "BINARY_MEASURES",
    "MEASURES",
    "RATIO_MEASURES",
    "EffectSizes",
    "aggregate_correlated",
    "counts_from_percent",
    "escalc",
    "hedges_correction",
]

BINARY_MEASURES = ("RR", "OR", "RD")
MEASURES = (*BINARY_MEASURES, "SMD", "GEN", "PLO")
#: Measures pooled on the log scale and displayed as ratios (HR: hazard ratio of
#: relapse, pooled from published log HRs by generic inverse variance).
RATIO_MEASURES = ("RR", "OR", "HR")

#: Reasons attached to studies whose effect size is missing.
REASON_DOUBLE_ZERO = "no events in either arm (double zero): RR/OR not estimable"
REASON_DOUBLE_FULL = "every patient had the event in both arms: RR/OR not estimable"
REASON_ALL_OR_NONE = "proportion 0 or 1 with drop00: logit not estimable"


@dataclass(frozen=True)
class EffectSizes:
    """Observed effect sizes and sampling variances of ``k`` studies.

    Attributes
    ----------
    measure : str
        One of :data:`MEASURES`.
    yi, vi : ndarray, shape (k,)
        Effect sizes and their sampling variances; ``nan`` where not estimable.
    corrected : ndarray of bool, shape (k,)
        Whether the continuity correction ``add`` was applied to the study.
    derived : ndarray of bool, shape (k,)
        Whether an input count was derived from a percentage.
    reasons : tuple of (str or None)
        Why ``yi`` is missing for a study, ``None`` where it is estimable.
    """

    measure: str
    yi: np.ndarray
    vi: np.ndarray
    corrected: np.ndarray = field(repr=False)
    derived: np.ndarray = field(repr=False)
    reasons: tuple = field(repr=False)

    @property
    def k(self) -> int:
        """Number of studies (including those not estimable)."""
        return int(self.yi.shape[0])

    @property
    def sei(self) -> np.ndarray:
        """Standard errors, ``sqrt(vi)``."""
        return np.sqrt(self.vi)

    @property
    def estimable(self) -> np.ndarray:
        """Boolean mask of studies with a finite ``yi`` and ``vi``."""
        return np.isfinite(self.yi) & np.isfinite(self.vi)

    def ci(self, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """Wald confidence interval of each study's effect size."""
        from depmeta.stats.distributions import norm_ppf

        z = norm_ppf(0.5 + level / 2)
        return self.yi - z * self.sei, self.yi + z * self.sei


def counts_from_percent(percent, n) -> np.ndarray:
    """Event counts from percentages of ``n``, rounded half up.

    ``round(percent * n / 100)`` with halves rounded up (not to even), the rule
    a reader applying the percentage by hand would use. The result is a count,
    which the caller must flag as derived.

    Parameters
    ----------
    percent : array_like
        Percentages in [0, 100].
    n : array_like
        Arm sizes.
    """
    percent = np.asarray(percent, dtype=float)
    n = np.asarray(n, dtype=float)
    if np.any((percent < 0) | (percent > 100)):
        raise ValueError("percentages must lie in [0, 100]")
    # The tiny offset guards against 12.5 being stored as 12.4999999.
    return np.floor(percent * n / 100.0 + 0.5 + 1e-9)


def hedges_correction(m) -> np.ndarray:
    """Exact small-sample correction factor ``c(m)`` of Hedges (1981).

    ``c(m) = Gamma(m/2) / (sqrt(m/2) * Gamma((m-1)/2))`` with ``m`` the degrees
    of freedom, as metafor's ``.cmicalc``.
    """
    m = np.asarray(m, dtype=float)
    return np.exp(gammaln(m / 2) - 0.5 * np.log(m / 2) - gammaln((m - 1) / 2))


def _arr(x, name):
    if x is None:
        raise TypeError(f"escalc: argument '{name}' is required for this measure")
    return np.atleast_1d(np.asarray(x, dtype=float))


def _events(counts, percent, n, name):
    """Counts as given, or derived from a percentage of n (flagged)."""
    n = _arr(n, "n")
    if counts is None and percent is None:
        raise TypeError(f"escalc: give '{name}' (counts) or its percentage")
    if counts is None:
        return counts_from_percent(_arr(percent, name), n), np.ones(n.shape, bool)
    counts = _arr(counts, name)
    derived = np.zeros(counts.shape, bool)
    if percent is not None:
        pct = _arr(percent, name)
        fill = np.isnan(counts) & np.isfinite(pct)
        counts = np.where(fill, counts_from_percent(np.where(fill, pct, 0), n), counts)
        derived = fill
    return counts, derived


def escalc(
    measure: str,
    *,
    ai=None,
    n1i=None,
    ci=None,
    n2i=None,
    pct1i=None,
    pct2i=None,
    m1i=None,
    sd1i=None,
    m2i=None,
    sd2i=None,
    xi=None,
    ni=None,
    yi=None,
    vi=None,
    sei=None,
    add: float = 0.5,
    to: str = "only0",
    drop00: bool | None = None,
) -> EffectSizes:
    """Compute effect sizes and sampling variances, as metafor's ``escalc``.

    Parameters
    ----------
    measure : {"RR", "OR", "RD", "SMD", "GEN", "PLO"}
        ``RR`` log risk ratio, ``OR`` log odds ratio, ``RD`` risk difference
        (arm 1 minus arm 2); ``SMD`` Hedges' g with the exact small-sample
        correction and metafor's large-sample variance (``vtype="LS"``);
        ``GEN`` precomputed effect sizes (``yi`` with ``vi`` or ``sei``), for
        example a reported Hedges' g with its SE; ``PLO`` logit of a
        proportion ``xi / ni``.
    ai, n1i, ci, n2i : array_like
        Events and totals in arm 1 (treatment) and arm 2 (control).
    pct1i, pct2i : array_like, optional
        Percentages of ``n1i``/``n2i`` with the event, used where ``ai``/``ci``
        are missing; the counts are derived (rounded half up) and flagged in
        :attr:`EffectSizes.derived`.
    m1i, sd1i, m2i, sd2i : array_like
        Means and standard deviations (``SMD``).
    xi, ni : array_like
        Events and totals of single arms (``PLO``).
    yi, vi, sei : array_like
        Precomputed effect sizes with variances or standard errors (``GEN``).
    add : float, default 0.5
        Continuity correction added to the cells.
    to : {"only0", "all", "none"}, default "only0"
        Which studies get ``add``: those with a zero cell (metafor's default),
        all, or none.
    drop00 : bool, optional
        Whether studies with no events (or only events) in both arms are set
        missing. Default ``True`` for ``RR`` and ``OR`` (their ratio is not
        estimable; such a study carries no information about it) and ``False``
        otherwise. metafor's ``escalc`` defaults to ``FALSE`` throughout; pass
        ``drop00=False`` to reproduce that.

    Returns
    -------
    EffectSizes

    Examples
    --------
    >>> es = escalc("RR", ai=[4, 6], n1i=[123, 306], ci=[11, 29], n2i=[139, 303])
    >>> es.yi.round(4)
    array([-0.8893, -1.5854])
    """
    measure = measure.upper()
    if measure not in MEASURES:
        raise ValueError(f"escalc: unknown measure {measure!r}; choose one of {MEASURES}")
    if to not in ("only0", "all", "none"):
        raise ValueError("escalc: 'to' must be 'only0', 'all' or 'none'")

    if measure in BINARY_MEASURES:
        return _binary(measure, ai, n1i, ci, n2i, pct1i, pct2i, add, to, drop00)
    if measure == "SMD":
        return _smd(m1i, sd1i, n1i, m2i, sd2i, n2i)
    if measure == "PLO":
        return _plo(xi, ni, add, to, bool(drop00))
    return _gen(yi, vi, sei)


def _binary(measure, ai, n1i, ci, n2i, pct1i, pct2i, add, to, drop00) -> EffectSizes:
    n1 = _arr(n1i, "n1i")
    n2 = _arr(n2i, "n2i")
    a, der1 = _events(ai, pct1i, n1, "ai")
    c, der2 = _events(ci, pct2i, n2, "ci")
    if not (a.shape == c.shape == n1.shape == n2.shape):
        raise ValueError("escalc: ai, n1i, ci, n2i must have the same length")
    if np.any((a < 0) | (c < 0) | (a > n1) | (c > n2)):
        raise ValueError("escalc: event counts must lie between 0 and the arm's total")
    b, d = n1 - a, n2 - c
    if drop00 is None:
        drop00 = measure in ("RR", "OR")

    zero = (a == 0) | (b == 0) | (c == 0) | (d == 0)
    corrected = {"only0": zero, "all": np.ones_like(zero), "none": np.zeros_like(zero)}[to]
    a_, b_, c_, d_ = (x + np.where(corrected, add, 0.0) for x in (a, b, c, d))
    n1_, n2_ = a_ + b_, c_ + d_

    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "RR":
            yi = np.log(a_ / n1_) - np.log(c_ / n2_)
            vi = 1 / a_ - 1 / n1_ + 1 / c_ - 1 / n2_
        elif measure == "OR":
            yi = np.log(a_ * d_ / (b_ * c_))
            vi = 1 / a_ + 1 / b_ + 1 / c_ + 1 / d_
        else:  # RD, large-sample variance
            p1, p2 = a_ / n1_, c_ / n2_
            yi = p1 - p2
            vi = p1 * (1 - p1) / n1_ + p2 * (1 - p2) / n2_

    reasons = [None] * a.shape[0]
    if drop00:
        none_both = (a == 0) & (c == 0)
        all_both = (b == 0) & (d == 0)
        for i in np.flatnonzero(none_both | all_both):
            reasons[i] = REASON_DOUBLE_ZERO if none_both[i] else REASON_DOUBLE_FULL
        gone = none_both | all_both
        yi = np.where(gone, np.nan, yi)
        vi = np.where(gone, np.nan, vi)
        corrected = corrected & ~gone
    return EffectSizes(measure, yi, vi, corrected, der1 | der2, tuple(reasons))


def _smd(m1i, sd1i, n1i, m2i, sd2i, n2i) -> EffectSizes:
    m1, s1, n1 = _arr(m1i, "m1i"), _arr(sd1i, "sd1i"), _arr(n1i, "n1i")
    m2, s2, n2 = _arr(m2i, "m2i"), _arr(sd2i, "sd2i"), _arr(n2i, "n2i")
    if np.any(s1 <= 0) or np.any(s2 <= 0):
        raise ValueError("escalc: standard deviations must be positive")
    ni = n1 + n2
    df = ni - 2
    sp = np.sqrt(((n1 - 1) * s1**2 + (n2 - 1) * s2**2) / df)
    yi = hedges_correction(df) * (m1 - m2) / sp
    vi = 1 / n1 + 1 / n2 + yi**2 / (2 * ni)
    k = yi.shape[0]
    false = np.zeros(k, bool)
    return EffectSizes("SMD", yi, vi, false, false.copy(), (None,) * k)


def _plo(xi, ni, add, to, drop00) -> EffectSizes:
    x, n = _arr(xi, "xi"), _arr(ni, "ni")
    if np.any((x < 0) | (x > n)):
        raise ValueError("escalc: event counts must lie between 0 and the total")
    edge = (x == 0) | (x == n)
    corrected = {"only0": edge, "all": np.ones_like(edge), "none": np.zeros_like(edge)}[to]
    x_ = x + np.where(corrected, add, 0.0)
    y_ = (n - x) + np.where(corrected, add, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        yi = np.log(x_ / y_)
        vi = 1 / x_ + 1 / y_
    reasons = [None] * x.shape[0]
    if drop00:
        for i in np.flatnonzero(edge):
            reasons[i] = REASON_ALL_OR_NONE
        yi = np.where(edge, np.nan, yi)
        vi = np.where(edge, np.nan, vi)
        corrected = corrected & ~edge
    return EffectSizes("PLO", yi, vi, corrected, np.zeros(x.shape, bool), tuple(reasons))


def _gen(yi, vi, sei) -> EffectSizes:
    y = _arr(yi, "yi")
    if vi is None and sei is None:
        raise TypeError("escalc: 'GEN' needs 'vi' or 'sei'")
    v = _arr(vi, "vi") if vi is not None else _arr(sei, "sei") ** 2
    if np.any(v <= 0):
        raise ValueError("escalc: sampling variances must be positive")
    k = y.shape[0]
    false = np.zeros(k, bool)
    return EffectSizes("GEN", y, v, false, false.copy(), (None,) * k)


def aggregate_correlated(yi, vi, rho: float) -> tuple[float, float]:
    """One effect from several correlated effects of one study: metafor's
    ``aggregate.escalc(struct = "CS", rho = rho, weighted = TRUE)``.

    The effects share one correlation ``rho`` (compound symmetry); with
    ``V = D^1/2 R D^1/2`` (``D`` the variances, ``R`` 1 on the diagonal and ``rho`` off it)
    the result is the generalised least-squares mean ``1'V⁻¹y / 1'V⁻¹1`` with variance
    ``1 / 1'V⁻¹1``. A single effect is returned unchanged.

    Raises ``ValueError`` where ``rho`` is outside [0, 1), the effects or variances are not
    finite, a variance is not positive, or ``V`` is not positive definite (metafor refuses it
    too).
    """
    y, v = np.asarray(yi, float).ravel(), np.asarray(vi, float).ravel()
    if y.shape != v.shape or not len(y):
        raise ValueError("aggregate_correlated: yi and vi must be non-empty and of one length")
    if not 0 <= rho < 1:
        raise ValueError(f"aggregate_correlated: rho must lie in [0, 1), not {rho}")
    if not (np.isfinite(y).all() and np.isfinite(v).all()) or (v <= 0).any():
        raise ValueError("aggregate_correlated: effects and variances must be finite, variances positive")
    s = np.sqrt(v)
    corr = np.full((len(y), len(y)), rho)
    np.fill_diagonal(corr, 1.0)
    cov = corr * np.outer(s, s)
    try:
        chol = np.linalg.cholesky(cov)
    except np.linalg.LinAlgError as err:
        raise ValueError("aggregate_correlated: the covariance of the effects is not positive definite") from err
    ones = np.ones(len(y))
    w = np.linalg.solve(chol.T, np.linalg.solve(chol, ones))  # V^-1 1
    total = float(w @ ones)
    return float(w @ y) / total, 1.0 / total
