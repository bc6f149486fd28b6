"""Random-effects pooling, after metafor's ``rma.uni`` (intercept-only model).

Pure functions on arrays: no pandas, no file I/O. The numerical core works on
``(k, d)`` arrays, ``d`` independent datasets of ``k`` studies each, so that
leave-one-out, permutation and simulation analyses can be run in one call;
:func:`pool` is the one-dataset front end.

tau² comes from :mod:`depmeta.stats.tau2`, the engine meta-regression shares, on its
intercept-only sums.

Where libraries are used and where not
--------------------------------------
- DL and HE tau² are closed forms written out on the ``(k, d)`` arrays; they
  equal PyMARE's ``DerSimonianLaird`` and ``Hedges`` to rounding (checked in
  tests/test_library_crosscheck.py), which solve one least-squares problem
  per dataset and are about 50 times slower on large batches.
- ML, REML, PM/EB, SJ and HS are written out too. PyMARE fits ML/REML with
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

import warnings
from dataclasses import asdict, dataclass, field

import numpy as np

from depmeta.stats import tau2 as engine
from depmeta.stats.distributions import chi2_ppf, chi2_sf, norm_ppf, norm_sf, t_ppf, t_sf
from depmeta.stats.tau2 import LL0_THRESHOLD, LL0_TOL, ll0_wins  # noqa: F401 (pooling's names for them)

__all__ = ["METHODS", "PI_METHODS", "TESTS", "BatchPoolResult", "LocalMaximumWarning", "PoolResult", "check_yivi",
           "pool", "pool_batch", "tau2_estimate", "q_profile"]

METHODS = ("EE", "DL", "REML", "PM", "SJ", "ML", "HE", "EB", "HS")
TESTS = ("z", "t", "knha", "adhoc")
PI_METHODS = ("metafor", "z", "t", "t_k2")

class LocalMaximumWarning(UserWarning):
    """ML/REML: the likelihood is higher at tau² = 0 than at the root Fisher scoring reached,
    so tau² was set to 0 (metafor's warning "Fisher scoring algorithm may have gotten stuck at
    a local maximum")."""


#: What a fit that was reset to tau² = 0 says (PoolResult.note, MetaRegressionResult.note).
LL0_NOTE = ("tau² = 0: the likelihood is higher there than at the root Fisher scoring reached "
            "(a local maximum; metafor's ll0check)")
#: What a one-study fit under a t-based test says (metafor sets test = "z" at k = 1).
K1_NOTE = "k = 1: the z test is used (Knapp-Hartung and t tests need at least two studies)"


def check_level(level: float) -> None:
    """A confidence level strictly between 0 and 1, else ``ValueError``."""
    if not 0 < level < 1:
        raise ValueError("level must lie strictly between 0 and 1")


def check_options(method: str, test: str, level: float, methods=METHODS, tests=TESTS) -> tuple[str, str]:
    """The estimator and test as the engine spells them (``method`` upper case, ``test`` lower
    case), checked against ``methods`` and ``tests``, and the level; ``ValueError`` otherwise."""
    method, test = method.upper(), test.lower()
    if method not in methods:
        raise ValueError(f"unknown method {method!r}; choose one of {methods}")
    if test not in tests:
        raise ValueError(f"unknown test {test!r}; choose one of {tests}")
    check_level(level)
    return method, test


def _as2d(x) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    return x[:, None] if x.ndim == 1 else x


def _checked2d(yi, vi) -> tuple[np.ndarray, np.ndarray]:
    """Datasets in columns, ``(k, d)``, checked: the same shape, finite, positive variances
    (else ``ValueError`` naming the first offending study and column)."""
    y, v = _as2d(yi), _as2d(vi)
    if y.shape != v.shape or y.ndim != 2:
        raise ValueError(f"yi and vi must have the same shape, (k,) or (k, d) (got {np.shape(yi)} and "
                         f"{np.shape(vi)})")
    bad = ~(np.isfinite(y) & np.isfinite(v))
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise ValueError(f"yi and vi must be finite; not so for study {i + 1} of column {j + 1} "
                         f"({int(bad.sum())} entries in all)")
    bad = v <= 0
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise ValueError(f"sampling variances must be positive; vi = {v[i, j]:g} for study {i + 1} of column "
                         f"{j + 1} ({int(bad.sum())} entries in all)")
    if y.shape[0] < 1:
        raise ValueError("need at least one study")
    return y, v


def check_yivi(yi, vi, min_k: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """One dataset's effect sizes and sampling variances as flat float arrays, checked: one
    dimension, the same length, finite, positive variances, at least ``min_k`` studies (else
    ``ValueError``)."""
    y = np.asarray(yi, dtype=float)
    v = np.asarray(vi, dtype=float)
    if y.ndim > 1 or v.ndim > 1:
        raise ValueError(f"yi and vi must be one-dimensional, one value per study (got shapes {y.shape} and "
                         f"{v.shape}; pool_batch fits datasets in columns)")
    y, v = y.reshape(-1), v.reshape(-1)
    if y.shape != v.shape:
        raise ValueError(f"yi and vi must have the same length (got {y.size} and {v.size})")
    bad = np.flatnonzero(~(np.isfinite(y) & np.isfinite(v))) + 1
    if bad.size:
        raise ValueError(f"yi and vi must be finite (not finite: study {', '.join(map(str, bad))} of {y.size})")
    bad = np.flatnonzero(v <= 0)
    if bad.size:
        raise ValueError(f"sampling variances must be positive (study {', '.join(map(str, bad + 1))} of {y.size}: "
                         f"vi = {', '.join(f'{x:g}' for x in v[bad])})")
    if y.size < min_k:
        raise ValueError(f"need at least {min_k} studies, got {y.size}")
    return y, v


def q_statistic(y, v, tau2=0.0) -> np.ndarray:
    """Generalised Q, ``sum w_i (y_i - mu_w)^2`` with ``w_i = 1/(v_i + tau2)``.

    At ``tau2 = 0`` this is Cochran's Q. Shapes: ``y, v`` (k, d); ``tau2``
    scalar or (d,); returns (d,). The engine's (:mod:`depmeta.stats.tau2`).
    """
    return engine.design(y, v).q(tau2)[0]


def typical_variance(v) -> np.ndarray:
    """metafor's "typical" within-study variance ``s²`` used by I² and H²."""
    w = 1.0 / v
    k = v.shape[0]
    return (k - 1) * w.sum(0) / (w.sum(0) ** 2 - (w**2).sum(0))


def _tau2(y, v, method: str) -> tuple[np.ndarray, np.ndarray]:
    """tau² of checked ``(k, d)`` arrays, and where ML/REML was reset to 0 by the ll0check
    (:func:`depmeta.stats.tau2.estimate`, intercept-only)."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {METHODS}")
    return engine.estimate(engine.design(y, v), method)


def tau2_estimate(yi, vi, method: str = "REML") -> np.ndarray:
    """Estimate the between-study variance tau².

    Parameters
    ----------
    yi, vi : array_like, shape (k,) or (k, d)
        Effect sizes and sampling variances (finite, ``vi > 0``); ``d`` datasets
        are estimated at once.
    method : str
        One of :data:`METHODS`. ``EB`` (Morris' empirical Bayes) solves the
        same equation as ``PM`` for the intercept-only model. ML and REML
        are checked as metafor's ``ll0check``: where the likelihood is higher
        at 0 than at the root Fisher scoring reached, tau² is 0.

    Returns
    -------
    ndarray, shape (d,)
    """
    y, v = _checked2d(yi, vi)
    if y.shape[0] < 2:
        raise ValueError("tau² needs at least two studies (with one, pool and pool_batch set it to 0)")
    return _tau2(y, v, method.upper())[0]


def q_profile(yi, vi, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Q-profile confidence interval for tau² (Viechtbauer 2007), as metafor.

    The bounds solve ``Q(tau2) = chi2_{k-1}`` quantiles ``1 - alpha/2`` (lower)
    and ``alpha/2`` (upper); a bound is 0 where Q(0) is already below its target.
    """
    y, v = _checked2d(yi, vi)
    if y.shape[0] < 2:
        raise ValueError("the Q-profile interval needs at least two studies")
    check_level(level)
    df = y.shape[0] - 1
    alpha = 1 - level
    m = engine.design(y, v)
    lower = engine.solve_q(m, chi2_ppf(1 - alpha / 2, df))
    upper = engine.solve_q(m, chi2_ppf(alpha / 2, df))
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
    note : str
        What the fit changed from what was asked, as metafor warns: tau² set to 0 at a
        local maximum of ML/REML (:data:`LL0_NOTE`), the z test at k = 1 (:data:`K1_NOTE`).
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
    note: str = ""

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
    try:
        y, v = check_yivi(yi, vi)
    except ValueError as e:
        if "finite" in str(e):
            raise ValueError(f"{e}; drop non-estimable studies first") from None
        raise
    method, test = check_options(method, test, level)
    if pi not in PI_METHODS:
        raise ValueError(f"unknown prediction interval {pi!r}; choose one of {PI_METHODS}")
    k = y.shape[0]
    notes = []
    if k == 1 and test != "z":
        test = "z"  # as metafor: a t-based test needs k - 1 > 0 degrees of freedom
        notes.append(K1_NOTE)

    y2, v2 = y[:, None], v[:, None]
    tau2, reset = _tau2(y2, v2, method) if k > 1 else (np.zeros(1), np.zeros(1, bool))
    tau2 = float(tau2[0])
    if np.isnan(tau2):
        raise RuntimeError(f"the {method} estimator of tau² did not converge in {engine.MAXITER} iterations")
    if reset[0]:
        warnings.warn(LL0_NOTE, LocalMaximumWarning, stacklevel=2)
        notes.append(LL0_NOTE)
    w = 1.0 / (v + tau2)
    estimate = float((w * y).sum() / w.sum())
    se = float(np.sqrt(1.0 / w.sum()))
    alpha = 1 - level

    df = float("inf")
    if test in ("knha", "adhoc"):
        s2 = float((w * (y - estimate) ** 2).sum() / (k - 1))
        se *= np.sqrt(max(s2, 1.0) if test == "adhoc" else s2)
    if test != "z":
        df = float(k - 1)
    crit = norm_ppf(1 - alpha / 2) if np.isinf(df) else t_ppf(1 - alpha / 2, df)
    stat = estimate / se
    pval = float(2 * (norm_sf(abs(stat)) if np.isinf(df) else t_sf(abs(stat), df)))

    # Heterogeneity: Cochran's Q, I² and H² as metafor (Q-based for EE).
    q = float(q_statistic(y2, v2)[0]) if k > 1 else 0.0
    q_df = k - 1
    q_pval = float(chi2_sf(q, q_df)) if q_df > 0 else 1.0  # metafor's QEp = 1 at k = 1
    s2_typ = float(typical_variance(v2)[0]) if k > 1 else float("nan")
    if k == 1:  # one study: metafor's I² = 0, H² = 1
        i2, h2 = 0.0, 1.0
        tau2_lo = tau2_hi = i2_lo = i2_hi = float("nan")
    elif method == "EE":
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
                norm_ppf(1 - alpha / 2)
                if np.isinf(pi_df)
                else t_ppf(1 - alpha / 2, pi_df)
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
        note="; ".join(notes),
    )


@dataclass(frozen=True)
class BatchPoolResult:
    """Many random-effects fits at once (:func:`pool_batch`); every field an array of shape (d,).

    Field names as :class:`PoolResult`; ``s2w`` is the Knapp-Hartung variance
    factor (1 under ``z`` and ``t``). No Q-profile or prediction intervals.
    """

    method: str
    test: str
    level: float
    k: np.ndarray
    estimate: np.ndarray
    se: np.ndarray
    stat: np.ndarray
    pval: np.ndarray
    df: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    tau2: np.ndarray
    q: np.ndarray
    q_pval: np.ndarray
    i2: np.ndarray
    h2: np.ndarray
    s2w: np.ndarray


def pool_batch(yi, vi, method: str = "REML", test: str = "z", level: float = 0.95) -> BatchPoolResult:
    """Fit ``d`` datasets of ``k`` studies each in one vectorised call, as :func:`pool` column by column.

    Parameters
    ----------
    yi, vi : array_like, shape (k, d)
        Effect sizes and sampling variances, one dataset per column (finite, ``vi > 0``).
    method : str, default "REML"
        One of :data:`METHODS`.
    test : {"z", "t", "knha", "adhoc"}, default "z"
    level : float, default 0.95

    Returns
    -------
    BatchPoolResult
        A column whose iterative estimator did not converge is ``nan`` throughout. ML/REML
        columns at a local maximum have tau² = 0 (metafor's ``ll0check``); with one study
        the test is ``z`` (as :func:`pool`).
    """
    y, v = _checked2d(yi, vi)
    method, test = check_options(method, test, level)
    k, d = y.shape
    if k == 1:
        test = "z"  # as pool (metafor): no t-based test with one study
    tau2 = _tau2(y, v, method)[0] if k > 1 else np.zeros(d)
    w = 1.0 / (v + tau2)
    sw = w.sum(0)
    estimate = (w * y).sum(0) / sw
    se = np.sqrt(1.0 / sw)
    s2w = np.ones(d)
    if test in ("knha", "adhoc"):
        s2w = (w * (y - estimate) ** 2).sum(0) / (k - 1)
        if test == "adhoc":  # the factor truncated at 1: never narrower than z
            s2w = np.maximum(s2w, 1.0)
        se = se * np.sqrt(s2w)
    df = np.full(d, np.inf if test == "z" else float(k - 1))
    alpha = 1 - level
    stat = estimate / se
    if test == "z":
        crit = norm_ppf(1 - alpha / 2)
        pval = 2 * norm_sf(np.abs(stat))
    else:
        crit = t_ppf(1 - alpha / 2, k - 1)
        pval = 2 * t_sf(np.abs(stat), k - 1)
    if k > 1:
        q = q_statistic(y, v)
        q_pval = chi2_sf(q, k - 1)
        if method == "EE":
            with np.errstate(invalid="ignore", divide="ignore"):
                i2 = np.where(q > 0, np.maximum(0.0, 100 * (q - (k - 1)) / q), 0.0)
            h2 = q / (k - 1)
        else:
            s2 = typical_variance(v)
            i2 = 100 * tau2 / (tau2 + s2)
            h2 = (tau2 + s2) / s2
    else:  # one study: metafor's QE = 0, QEp = 1, I2 = 0, H2 = 1
        q, q_pval, i2, h2 = np.zeros(d), np.ones(d), np.zeros(d), np.ones(d)
    return BatchPoolResult(
        method=method, test=test, level=level, k=np.full(d, k), estimate=estimate, se=se, stat=stat,
        pval=pval, df=df, ci_low=estimate - crit * se, ci_high=estimate + crit * se, tau2=tau2, q=q,
        q_pval=q_pval, i2=i2, h2=h2, s2w=s2w,
    )
