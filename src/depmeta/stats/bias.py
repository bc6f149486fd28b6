"""Small-study effects: Egger's regression test, Begg's rank test, trim-and-fill, PET-PEESE.

Pure functions on arrays (no pandas, no file I/O), each after its metafor 3.8-1
counterpart, returning frozen dataclasses:

- :func:`regtest` metafor's ``regtest()``: ``model="rma"`` fits the
  random-effects meta-regression ``yi ~ sei`` (or another predictor) and tests
  the slope; ``model="lm"`` is Egger's classical weighted linear regression.
  The intercept of the ``sei`` (or ``vi``) model is the "limit estimate", the
  effect expected of a study with infinite precision.
- :func:`ranktest` Begg and Mazumdar's rank correlation test (``ranktest()``).
- :func:`trimfill` Duval and Tweedie's trim-and-fill with the L0 (or R0)
  estimator, side chosen as metafor does (sign of the ``sei`` slope).
- :func:`pet_peese` Stanley and Doucouliagos' conditional PET-PEESE estimate.

Where libraries are used and where not
--------------------------------------
- The classical Egger regression (``model="lm"``) and PET-PEESE are weighted
  least squares: statsmodels' ``WLS``, which is exactly R's ``lm(weights=)``.
- Kendall's tau and its p-value come from ``scipy.stats.kendalltau``, with
  the exact/asymptotic choice made as R's ``cor.test(exact=TRUE)``: exact
  unless there are ties.
- The random-effects meta-regression (``model="rma"``, and the slope that
  chooses trim-and-fill's side) is :func:`depmeta.stats.regression.meta_regression`:
  tau² by metafor's Fisher scoring, run to the floating-point fixpoint
  (statsmodels and PyMARE fit it with a general optimiser at a loose tolerance).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from depmeta.stats.distributions import t_ppf, t_sf
from depmeta.stats.pooling import check_yivi, pool
from depmeta.stats.regression import meta_regression

__all__ = [
    "PREDICTORS",
    "PetPeeseResult",
    "RanktestResult",
    "RegtestResult",
    "TrimfillResult",
    "pet_peese",
    "ranktest",
    "regtest",
    "trimfill",
]

PREDICTORS = ("sei", "vi", "ni", "ninv", "sqrtni", "sqrtninv")
# --------------------------------------------------------------------------- regtest


@dataclass(frozen=True)
class RegtestResult:
    """Result of a regression test for funnel-plot asymmetry (metafor's ``regtest``).

    Attributes
    ----------
    model, predictor, method, test : str
        As passed (``method`` is ``"lm"`` for the classical test).
    k : int
        Number of studies.
    stat, pval, df : float
        Test of the predictor's slope [``zval``, ``pval``, ``dfs``]: z (``df = inf``)
        or t statistic.
    slope, slope_se : float
        The predictor's coefficient and its standard error.
    est, est_se, ci_low, ci_high : float
        The intercept: the limit estimate as the predictor goes to 0 [``est``,
        ``ci.lb``, ``ci.ub``]; ``nan`` for predictors whose 0 is no limit
        (``ni``, ``sqrtni``).
    tau2 : float
        Residual heterogeneity of the ``rma`` fit (``nan`` for ``lm``).
    """

    model: str
    predictor: str
    method: str
    test: str
    k: int
    stat: float
    pval: float
    df: float
    slope: float
    slope_se: float
    est: float
    est_se: float
    ci_low: float
    ci_high: float
    tau2: float


def _predictor(v, predictor, ni):
    if predictor == "sei":
        return np.sqrt(v)
    if predictor == "vi":
        return v
    if ni is None:
        raise ValueError(f"predictor {predictor!r} needs the sample sizes ni")
    n = np.asarray(ni, dtype=float).reshape(-1)
    if n.shape != v.shape:
        raise ValueError(f"ni must have one entry per study (got {n.size} for {v.size})")
    if not np.all(np.isfinite(n) & (n > 0)):
        raise ValueError("sample sizes ni must be positive and finite")
    return {"ni": n, "ninv": 1 / n, "sqrtni": np.sqrt(n), "sqrtninv": 1 / np.sqrt(n)}[predictor]


def _wls(y, X, w, level):
    """Weighted least squares as R's ``lm(weights = w)``: coefficients, se, t, df, crit."""
    # the module itself, not statsmodels.api, which imports all of statsmodels (0.4 s more)
    from statsmodels.regression.linear_model import WLS

    fit = WLS(y, X, weights=w).fit()
    df = float(fit.df_resid)
    crit = t_ppf(1 - (1 - level) / 2, df)
    return np.asarray(fit.params), np.asarray(fit.bse), np.asarray(fit.tvalues), np.asarray(fit.pvalues), df, crit


def regtest(
    yi,
    vi,
    model: str = "rma",
    predictor: str = "sei",
    method: str = "REML",
    test: str = "z",
    ni=None,
    level: float = 0.95,
) -> RegtestResult:
    """Regression test for funnel-plot asymmetry, as metafor's ``regtest()``.

    Parameters
    ----------
    yi, vi : array_like, shape (k,)
        Effect sizes and sampling variances.
    model : {"rma", "lm"}, default "rma"
        ``rma``: random-effects meta-regression of ``yi`` on the predictor
        (metafor's default); ``lm``: Egger's classical test, weighted least
        squares with weights ``1/vi`` and a t test on k - 2 df.
    predictor : {"sei", "vi", "ni", "ninv", "sqrtni", "sqrtninv"}, default "sei"
        ``sei`` is Egger's test; ``vi`` the PEESE form; the sample-size forms
        need ``ni``.
    method : str, default "REML"
        tau² estimator of the ``rma`` model (ignored for ``lm``).
    test : {"z", "t", "knha"}, default "z"
        Test of the ``rma`` model (ignored for ``lm``, which uses t).
    ni : array_like, optional
        Sample sizes, for the ``ni`` predictors.
    level : float, default 0.95
        Confidence level of the limit estimate's interval.

    Returns
    -------
    RegtestResult
    """
    model, predictor = model.lower(), predictor.lower()
    if model not in ("rma", "lm"):
        raise ValueError(f"unknown model {model!r}; choose 'rma' or 'lm'")
    if predictor not in PREDICTORS:
        raise ValueError(f"unknown predictor {predictor!r}; choose one of {PREDICTORS}")
    y, v = check_yivi(yi, vi, min_k=3)
    x = _predictor(v, predictor, ni)
    if np.ptp(x) == 0:
        raise ValueError(f"the predictor {predictor!r} is the same for every study; no test possible")
    X = np.column_stack([np.ones_like(x), x])
    limit = predictor in ("sei", "vi", "ninv", "sqrtninv")
    if model == "rma":
        fit = meta_regression(y, v, x, method=method, test=test, level=level)
        beta, se, st, pv, lo, hi, df, tau2 = (
            fit.coef, fit.se, fit.stat, fit.pval, fit.ci_low, fit.ci_high, fit.df, fit.tau2)
        meth, tst = fit.method, fit.test
    else:
        beta, se, st, pv, df, crit = _wls(y, X, 1.0 / v, level)
        lo, hi = beta - crit * se, beta + crit * se
        tau2, meth, tst = float("nan"), "lm", "t"
    nan = float("nan")
    return RegtestResult(
        model=model, predictor=predictor, method=meth, test=tst, k=int(y.size),
        stat=float(st[1]), pval=float(pv[1]), df=float(df), slope=float(beta[1]), slope_se=float(se[1]),
        est=float(beta[0]) if limit else nan, est_se=float(se[0]) if limit else nan,
        ci_low=float(lo[0]) if limit else nan, ci_high=float(hi[0]) if limit else nan, tau2=float(tau2),
    )


# --------------------------------------------------------------------------- ranktest


@dataclass(frozen=True)
class RanktestResult:
    """Begg and Mazumdar's rank correlation test (metafor's ``ranktest``).

    Attributes
    ----------
    k : int
    kendall_tau, pval : float
        Kendall's tau (tau-b) between standardised deviates and variances, and its p-value.
    exact : bool
        Whether the p-value is exact (no ties) or the normal approximation.
    """

    k: int
    kendall_tau: float
    pval: float
    exact: bool


def ranktest(yi, vi) -> RanktestResult:
    """Rank correlation test for funnel-plot asymmetry, as metafor's ``ranktest()``.

    The deviates ``(yi - theta) / sqrt(vi - 1/sum(1/vi))`` from the equal-effects
    estimate ``theta`` are correlated with ``vi`` by Kendall's tau; the p-value
    is exact when there are no ties (R's ``cor.test(exact = TRUE)``), else the
    tie-corrected normal approximation without continuity correction.

    Parameters
    ----------
    yi, vi : array_like, shape (k,)

    Returns
    -------
    RanktestResult
    """
    y, v = check_yivi(yi, vi, min_k=3)
    w = 1.0 / v
    theta = (w * y).sum() / w.sum()
    ystar = (y - theta) / np.sqrt(v - 1.0 / w.sum())
    ties = min(np.unique(ystar).size, np.unique(v).size) < y.size
    from scipy.stats import kendalltau  # imported here: only the rank test needs scipy.stats

    res = kendalltau(ystar, v, method="asymptotic" if ties else "exact")
    return RanktestResult(k=int(y.size), kendall_tau=float(res.statistic), pval=float(res.pvalue), exact=not ties)


# --------------------------------------------------------------------------- trim and fill


@dataclass(frozen=True)
class TrimfillResult:
    """Trim-and-fill (metafor's ``trimfill``).

    Attributes
    ----------
    k0, se_k0 : int, float
        Estimated number of missing studies and its standard error.
    side : {"left", "right"}
        Side of the funnel on which studies were filled.
    estimator : str
        ``L0`` or ``R0``.
    k : int
        Studies observed.
    pooled : PoolResult
        The model fitted to observed plus filled studies (the observed model if ``k0 = 0``).
    yi_fill, vi_fill : ndarray, shape (k0,)
        The filled-in (imputed) studies.
    """

    k0: int
    se_k0: float
    side: str
    estimator: str
    k: int
    pooled: object = field(repr=False)
    yi_fill: np.ndarray = field(repr=False)
    vi_fill: np.ndarray = field(repr=False)

    @property
    def estimate(self) -> float:
        """Pooled estimate after filling."""
        return self.pooled.estimate

    @property
    def se(self) -> float:
        """Its standard error."""
        return self.pooled.se

    @property
    def tau2(self) -> float:
        """tau² after filling."""
        return self.pooled.tau2


def trimfill(yi, vi, method: str = "REML", side: str | None = None, estimator: str = "L0",
             maxiter: int = 100, test: str = "z") -> TrimfillResult:
    """Duval and Tweedie's trim-and-fill, as metafor's ``trimfill()``.

    Parameters
    ----------
    yi, vi : array_like, shape (k,)
    method : str, default "REML"
        tau² estimator of every fit.
    side : {"left", "right"}, optional
        Side on which studies are missing; by default as metafor: ``right``
        when the slope of ``yi`` on ``sqrt(vi)`` (meta-regression, same
        ``method``) is negative, else ``left``.
    estimator : {"L0", "R0"}, default "L0"
    maxiter : int, default 100
    test : str, default "z"
        Test of the final fit.

    Returns
    -------
    TrimfillResult
    """
    y0, v0 = check_yivi(yi, vi, min_k=2)
    estimator = estimator.upper()
    if estimator not in ("L0", "R0"):
        raise ValueError(f"unknown estimator {estimator!r}; choose 'L0' or 'R0'")
    if side is None:
        slope = meta_regression(y0, v0, np.sqrt(v0), method=method).coef[1]
        side = "right" if slope < 0 else "left"
    elif side not in ("left", "right"):
        raise ValueError(f"side must be 'left' or 'right', got {side!r}")
    y = -y0 if side == "right" else y0.copy()
    order = np.argsort(y, kind="stable")
    y, v = y[order], v0[order]
    k = y.size
    k0, k0_prev, it = 0, -1, 0
    while k0 != k0_prev:
        k0_prev = k0
        it += 1
        if it > maxiter:
            raise RuntimeError("trim-and-fill did not converge")
        beta = pool(y[: k - k0], v[: k - k0], method=method).estimate
        yc = y - beta
        # rank(abs(.), ties.method = "first"): stable sort order of |yc|.
        ranks = np.empty(k)
        ranks[np.argsort(np.abs(yc), kind="stable")] = np.arange(1, k + 1)
        signed = np.sign(yc) * ranks
        if estimator == "L0":
            sr = signed[signed > 0].sum()
            k0f = (4 * sr - k * (k + 1)) / (2 * k - 1)
            var_sr = (k * (k + 1) * (2 * k + 1) + 10 * k0f**3 + 27 * k0f**2 + 17 * k0f
                      - 18 * k * k0f**2 - 18 * k * k0f + 6 * k**2 * k0f) / 24
            se_k0 = 4 * np.sqrt(var_sr) / (2 * k - 1)
        else:
            neg = signed[signed < 0]
            k0f = (k - (-neg).max()) - 1 if neg.size else k - 1.0
            se_k0 = np.sqrt(2 * max(0.0, k0f) + 2)
        # R's round() halves to even, as numpy's.
        k0 = int(max(0, np.round(k0f)))
        se_k0 = max(0.0, float(se_k0))
    if k0 > 0:
        yc = -(yc - beta) if side == "right" else yc - beta
        y_fill = -yc[k - k0:]
        v_fill = v[k - k0:]
        pooled = pool(np.concatenate([y0, y_fill]), np.concatenate([v0, v_fill]), method=method, test=test)
    else:
        y_fill = v_fill = np.empty(0)
        pooled = pool(y0, v0, method=method, test=test)
    return TrimfillResult(k0=k0, se_k0=se_k0, side=side, estimator=estimator, k=k, pooled=pooled,
                          yi_fill=y_fill, vi_fill=v_fill)


# --------------------------------------------------------------------------- PET-PEESE


@dataclass(frozen=True)
class PetPeeseResult:
    """PET-PEESE (Stanley and Doucouliagos 2014).

    Attributes
    ----------
    pet, peese : RegtestResult
        Weighted least-squares regressions of ``yi`` on ``sei`` (PET) and on
        ``vi`` (PEESE); their intercepts ``est`` are the corrected estimates.
    alpha : float
        Two-sided level of PET's intercept test that selects PEESE.
    selected : {"PET", "PEESE"}
        PEESE when PET's intercept differs from zero at ``alpha``, else PET.
    estimate, se, ci_low, ci_high : float
        The selected model's intercept and interval.
    """

    pet: RegtestResult
    peese: RegtestResult
    alpha: float
    selected: str
    estimate: float
    se: float
    ci_low: float
    ci_high: float

    @property
    def pet_pval(self) -> float:
        """p-value of PET's intercept (the test that selects PEESE)."""
        return float(2 * t_sf(abs(self.pet.est / self.pet.est_se), self.pet.df))


def pet_peese(yi, vi, alpha: float = 0.10, level: float = 0.95) -> PetPeeseResult:
    """Conditional PET-PEESE estimate of the effect corrected for small-study effects.

    PET is the weighted (``1/vi``) least-squares regression of ``yi`` on
    ``sqrt(vi)``, PEESE on ``vi`` (metafor's ``regtest(model = "lm")`` with
    those predictors); the intercepts estimate the effect of an infinitely
    precise study. PEESE is selected when PET's intercept differs from zero
    at two-sided ``alpha`` (0.10, i.e. one-sided 5% as Stanley and
    Doucouliagos 2014), else PET.

    Parameters
    ----------
    yi, vi : array_like, shape (k,)
    alpha : float, default 0.10
    level : float, default 0.95

    Returns
    -------
    PetPeeseResult
    """
    if not 0 < alpha < 1:
        raise ValueError("alpha must lie strictly between 0 and 1")
    pet = regtest(yi, vi, model="lm", predictor="sei", level=level)
    peese = regtest(yi, vi, model="lm", predictor="vi", level=level)
    p = float(2 * t_sf(abs(pet.est / pet.est_se), pet.df))
    sel = peese if p < alpha else pet
    return PetPeeseResult(
        pet=pet, peese=peese, alpha=alpha, selected="PEESE" if p < alpha else "PET",
        estimate=sel.est, se=sel.est_se, ci_low=sel.ci_low, ci_high=sel.ci_high,
    )
