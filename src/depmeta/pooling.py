"""Random-effects pooling, after metafor's ``rma.uni`` (intercept-only model).

Pure functions on arrays: no pandas, no file I/O. The numerical core works on
``(k, d)`` arrays, ``d`` independent datasets of ``k`` studies each, so that
leave-one-out, permutation and simulation analyses can be run in one call;
:func:`pool` is the one-dataset front end.

Where libraries are used and where not
--------------------------------------
- DL and HE tau² come from PyMARE's ``DerSimonianLaird`` and ``Hedges``
  estimators, which are closed forms and agree with metafor to rounding.
- ML, REML, PM/EB, SJ and HS are written here. PyMARE fits ML/REML with
  ``scipy.optimize.minimize`` at its default tolerance (agreement with metafor
  to about 1e-4, not 1e-6) and has no PM, SJ or HS; statsmodels'
  ``combine_effects`` leaves the DL tau² untruncated (negative tau², negative
  I² on homogeneous data) and iterates PM to a loose tolerance. Here ML/REML
  use metafor's Fisher scoring, PM/EB and the Q-profile interval a Newton
  iteration on the generalised Q statistic that is monotone by construction,
  each run to machine precision.
- PyMARE defaults to Knapp-Hartung, which can narrow the interval when
  Q < k - 1; here the test is explicit (``"z"`` by default, as metafor), and
  ``"adhoc"`` never narrows it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
from scipy import stats

__all__ = ["METHODS", "PI_METHODS", "TESTS", "PoolResult", "pool", "tau2_estimate", "q_profile"]

METHODS = ("EE", "DL", "REML", "PM", "SJ", "ML", "HE", "EB", "HS")
TESTS = ("z", "t", "knha", "adhoc")
PI_METHODS = ("metafor", "z", "t", "t_k2")

#: Relative convergence criterion of the iterative estimators; the loops stop
#: at the floating-point fixpoint long before this many iterations.
_TOL = 1e-14
_MAXITER = 10_000


def _as2d(x) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    return x[:, None] if x.ndim == 1 else x


def _wmean(y, w):
    return (w * y).sum(0) / w.sum(0)


def q_statistic(y, v, tau2=0.0) -> np.ndarray:
    """Generalised Q, ``sum w_i (y_i - mu_w)^2`` with ``w_i = 1/(v_i + tau2)``.

    At ``tau2 = 0`` this is Cochran's Q. Shapes: ``y, v`` (k, d); ``tau2``
    scalar or (d,); returns (d,).
    """
    w = 1.0 / (v + tau2)
    return (w * (y - _wmean(y, w)) ** 2).sum(0)


def typical_variance(v) -> np.ndarray:
    """metafor's "typical" within-study variance ``s²`` used by I² and H²."""
    w = 1.0 / v
    k = v.shape[0]
    return (k - 1) * w.sum(0) / (w.sum(0) ** 2 - (w**2).sum(0))


def _solve_q(y, v, target) -> np.ndarray:
    """Smallest ``tau2 >= 0`` with ``Q(tau2) = target`` (0 if ``Q(0) <= target``).

    Q decreases and is convex in tau2, so Newton's method started at 0 (left
    of the root) increases monotonically to the root without overshooting.
    """
    target = np.broadcast_to(np.asarray(target, dtype=float), y.shape[1:]).copy()
    tau2 = np.zeros(y.shape[1])
    active = q_statistic(y, v, tau2) > target
    for _ in range(_MAXITER):
        if not active.any():
            break
        w = 1.0 / (v + tau2)
        r = y - _wmean(y, w)
        q = (w * r**2).sum(0)
        dq = (w**2 * r**2).sum(0)  # -dQ/dtau2; the mu term vanishes
        step = np.where(active, (q - target) / dq, 0.0)
        tau2 = tau2 + step
        active &= np.abs(step) > _TOL * np.maximum(tau2, 1e-300)
    return tau2


def _tau2_fisher(y, v, restricted: bool) -> np.ndarray:
    """ML or REML tau² by Fisher scoring with step halving, as metafor."""
    tau2 = np.maximum(0.0, _tau2_he(y, v))
    active = np.ones(y.shape[1], bool)
    for _ in range(_MAXITER):
        if not active.any():
            break
        w = 1.0 / (v + tau2)
        sw, sw2 = w.sum(0), (w**2).sum(0)
        r = y - _wmean(y, w)
        ypppy = ((w * r) ** 2).sum(0)
        if restricted:
            tr_p = sw - sw2 / sw
            tr_pp = sw2 - 2 * (w**3).sum(0) / sw + (sw2 / sw) ** 2
            adj = (ypppy - tr_p) / tr_pp
        else:
            adj = (ypppy - sw) / sw2
        # At the boundary with a negative score the maximum is tau2 = 0.
        at_zero = (tau2 == 0) & (adj <= 0)
        adj = np.where(active & ~at_zero, adj, 0.0)
        new = tau2 + adj
        # Step halving keeps tau2 >= 0 (terminates: adj < 0 only where tau2 > 0).
        neg = new < 0
        while neg.any():
            adj = np.where(neg, adj / 2, adj)
            new = tau2 + adj
            neg = new < 0
        active &= np.abs(new - tau2) > _TOL * np.maximum(new, 1e-12)
        tau2 = new
    return tau2


def _tau2_dl(y, v):
    from pymare.estimators import DerSimonianLaird

    X = np.ones((y.shape[0], 1))
    return np.asarray(DerSimonianLaird().fit(y, v, X).params_["tau2"], float).reshape(-1)


def _tau2_he(y, v):
    from pymare.estimators import Hedges

    X = np.ones((y.shape[0], 1))
    return np.asarray(Hedges().fit(y, v, X).params_["tau2"], float).reshape(-1)


def _tau2_sj(y, v):
    # Sidik-Jonkman: one weighted step from the crude variance of the yi.
    k = y.shape[0]
    tau0 = ((y - y.mean(0)) ** 2).sum(0) / k
    return tau0 * q_statistic(y, v, tau0) / (k - 1)


def _tau2_hs(y, v):
    # Hunter-Schmidt: (Q - k) / sum(w), truncated at zero.
    return np.maximum(0.0, (q_statistic(y, v) - y.shape[0]) / (1.0 / v).sum(0))


def tau2_estimate(yi, vi, method: str = "REML") -> np.ndarray:
    """Estimate the between-study variance tau².

    Parameters
    ----------
    yi, vi : array_like, shape (k,) or (k, d)
        Effect sizes and sampling variances; ``d`` datasets are estimated at once.
    method : str
        One of :data:`METHODS`. ``EB`` (Morris' empirical Bayes) solves the
        same equation as ``PM`` for the intercept-only model.

    Returns
    -------
    ndarray, shape (d,)
    """
    y, v = _as2d(yi), _as2d(vi)
    method = method.upper()
    if method == "EE":
        return np.zeros(y.shape[1])
    if method == "DL":
        return _tau2_dl(y, v)
    if method == "HE":
        return _tau2_he(y, v)
    if method in ("PM", "EB"):
        return _solve_q(y, v, y.shape[0] - 1)
    if method == "SJ":
        return _tau2_sj(y, v)
    if method == "HS":
        return _tau2_hs(y, v)
    if method in ("REML", "ML"):
        return _tau2_fisher(y, v, restricted=method == "REML")
    raise ValueError(f"unknown method {method!r}; choose one of {METHODS}")


def q_profile(yi, vi, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Q-profile confidence interval for tau² (Viechtbauer 2007), as metafor.

    The bounds solve ``Q(tau2) = chi2_{k-1}`` quantiles ``1 - alpha/2`` (lower)
    and ``alpha/2`` (upper); a bound is 0 where Q(0) is already below its target.
    """
    y, v = _as2d(yi), _as2d(vi)
    df = y.shape[0] - 1
    alpha = 1 - level
    lower = _solve_q(y, v, stats.chi2.ppf(1 - alpha / 2, df))
    upper = _solve_q(y, v, stats.chi2.ppf(alpha / 2, df))
    return lower, upper


@dataclass(frozen=True)
class PoolResult:
    """Result of a random-effects (or equal-effects) meta-analysis.

    Field names follow the statistics; metafor's names in brackets.

    Attributes
    ----------
    estimate, se : float
        Pooled effect [``b``, ``se``], on the analysis scale (log for RR/OR).
    ci_low, ci_high : float
        Confidence interval of the pooled effect [``ci.lb``, ``ci.ub``].
    stat, pval, df : float
        Test statistic (z or t), its p-value, and degrees of freedom
        (``inf`` for the z test).
    pi_low, pi_high : float
        Prediction interval [``predict()$pi.lb``, ``pi.ub``]; ``nan`` for EE.
    tau2, tau2_ci_low, tau2_ci_high : float
        Between-study variance and its Q-profile interval.
    i2, i2_ci_low, i2_ci_high, h2 : float
        I² (percent) and H², as metafor defines them.
    q, q_df, q_pval : float
        Cochran's Q test of heterogeneity.
    k : int
        Number of studies.
    weights : ndarray
        Percentage weight of each study.
    """

    method: str
    test: str
    level: float
    pi_method: str
    k: int
    estimate: float
    se: float
    stat: float
    pval: float
    df: float
    ci_low: float
    ci_high: float
    pi_low: float
    pi_high: float
    tau2: float
    tau2_ci_low: float
    tau2_ci_high: float
    i2: float
    i2_ci_low: float
    i2_ci_high: float
    h2: float
    q: float
    q_df: int
    q_pval: float
    weights: np.ndarray = field(repr=False, compare=False)

    @property
    def tau(self) -> float:
        """Between-study standard deviation."""
        return float(np.sqrt(self.tau2))

    def to_dict(self) -> dict:
        """Plain-Python dict (weights as a list), for JSON and tables."""
        out = asdict(self)
        out["weights"] = [float(x) for x in self.weights]
        return out


def pool(
    yi,
    vi,
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
    pi: str = "metafor",
) -> PoolResult:
    """Pool effect sizes with a random-effects (or equal-effects) model.

    Parameters
    ----------
    yi, vi : array_like, shape (k,)
        Effect sizes and sampling variances (``nan`` entries are not allowed;
        drop non-estimable studies first).
    method : str, default "REML"
        tau² estimator, one of :data:`METHODS` (``EE`` is the equal-effects model).
    test : {"z", "t", "knha", "adhoc"}, default "z"
        ``z`` normal-based; ``t`` t-distribution with k-1 df; ``knha`` the
        Knapp-Hartung adjustment; ``adhoc`` Knapp-Hartung with its variance
        factor truncated at 1, so the interval is never narrower than ``z``.
    level : float, default 0.95
        Confidence level of every interval.
    pi : {"metafor", "z", "t", "t_k2"}, default "metafor"
        Prediction interval: ``metafor`` as ``predict.rma`` (normal quantile
        under ``z``, t with k-1 df otherwise); ``z`` and ``t`` force either;
        ``t_k2`` uses t with k-2 df (Higgins, Thompson & Spiegelhalter 2009;
        ``nan`` when k < 3).

    Returns
    -------
    PoolResult
    """
    y = np.asarray(yi, dtype=float).reshape(-1)
    v = np.asarray(vi, dtype=float).reshape(-1)
    if y.shape != v.shape:
        raise ValueError("yi and vi must have the same length")
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(v))):
        bad = np.flatnonzero(~(np.isfinite(y) & np.isfinite(v))) + 1
        raise ValueError(f"yi and vi must be finite; drop non-estimable studies first "
                         f"(not finite: study {', '.join(map(str, bad))} of {y.size})")
    if np.any(v <= 0):
        bad = np.flatnonzero(v <= 0) + 1
        raise ValueError(f"sampling variances must be positive (study {', '.join(map(str, bad))} of {y.size}: "
                         f"vi = {', '.join(f'{x:g}' for x in v[v <= 0])})")
    method, test = method.upper(), test.lower()
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {METHODS}")
    if test not in TESTS:
        raise ValueError(f"unknown test {test!r}; choose one of {TESTS}")
    if pi not in PI_METHODS:
        raise ValueError(f"unknown prediction interval {pi!r}; choose one of {PI_METHODS}")
    if not 0 < level < 1:
        raise ValueError("level must lie strictly between 0 and 1")
    k = y.shape[0]
    if k < 1:
        raise ValueError("need at least one study")

    y2, v2 = y[:, None], v[:, None]
    tau2 = float(tau2_estimate(y2, v2, method)[0]) if k > 1 else 0.0
    w = 1.0 / (v + tau2)
    estimate = float((w * y).sum() / w.sum())
    se = float(np.sqrt(1.0 / w.sum()))
    alpha = 1 - level

    df = float("inf")
    if test in ("knha", "adhoc"):
        s2 = float((w * (y - estimate) ** 2).sum() / (k - 1)) if k > 1 else 1.0
        se *= np.sqrt(max(s2, 1.0) if test == "adhoc" else s2)
    if test != "z":
        df = float(k - 1)
    crit = stats.norm.ppf(1 - alpha / 2) if np.isinf(df) else stats.t.ppf(1 - alpha / 2, df)
    stat = estimate / se
    pval = float(2 * (stats.norm.sf(abs(stat)) if np.isinf(df) else stats.t.sf(abs(stat), df)))

    # Heterogeneity: Cochran's Q, I² and H² as metafor (Q-based for EE).
    q = float(q_statistic(y2, v2)[0]) if k > 1 else 0.0
    q_df = k - 1
    q_pval = float(stats.chi2.sf(q, q_df)) if q_df > 0 else float("nan")
    s2_typ = float(typical_variance(v2)[0]) if k > 1 else float("nan")
    if method == "EE":
        i2 = max(0.0, 100 * (q - q_df) / q) if q > 0 else 0.0
        h2 = q / q_df if q_df > 0 else float("nan")
        tau2_lo = tau2_hi = i2_lo = i2_hi = float("nan")
    else:
        i2 = 100 * tau2 / (tau2 + s2_typ)
        h2 = (tau2 + s2_typ) / s2_typ
        if k > 1:
            lo, hi = q_profile(y2, v2, level)
            tau2_lo, tau2_hi = float(lo[0]), float(hi[0])
            i2_lo = 100 * tau2_lo / (tau2_lo + s2_typ)
            i2_hi = 100 * tau2_hi / (tau2_hi + s2_typ)
        else:
            tau2_lo = tau2_hi = i2_lo = i2_hi = float("nan")

    pi_low = pi_high = float("nan")
    if method != "EE":
        pi_df = {"metafor": df, "z": float("inf"), "t": float(k - 1), "t_k2": float(k - 2)}[pi]
        if pi_df > 0:
            pcrit = (
                stats.norm.ppf(1 - alpha / 2)
                if np.isinf(pi_df)
                else stats.t.ppf(1 - alpha / 2, pi_df)
            )
            half = pcrit * np.sqrt(se**2 + tau2)
            pi_low, pi_high = estimate - half, estimate + half

    return PoolResult(
        method=method,
        test=test,
        level=level,
        pi_method=pi,
        k=k,
        estimate=estimate,
        se=se,
        stat=float(stat),
        pval=pval,
        df=df,
        ci_low=estimate - crit * se,
        ci_high=estimate + crit * se,
        pi_low=float(pi_low),
        pi_high=float(pi_high),
        tau2=tau2,
        tau2_ci_low=tau2_lo,
        tau2_ci_high=tau2_hi,
        i2=float(i2),
        i2_ci_low=float(i2_lo),
        i2_ci_high=float(i2_hi),
        h2=float(h2),
        q=q,
        q_df=q_df,
        q_pval=q_pval,
        weights=100 * w / w.sum(),
    )
