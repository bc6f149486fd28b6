"""Sensitivity analyses, batched: leave-one-out, influence, cumulative, GOSH, and the standard subsets.

Pure functions on arrays (no pandas, no file I/O) after metafor 3.8-1's
``leave1out``, ``influence``, ``cumul`` and ``gosh`` for the intercept-only
random-effects model, returning frozen dataclasses of arrays.

Every analysis that refits the model on subsets of the studies gathers those
subsets into ``(m, n)`` arrays (``n`` subsets of ``m`` studies) and fits them
in one call of :func:`depmeta.stats.pooling.pool_batch`: all ``k`` leave-one-out
fits at once, GOSH's ``2^k - 1`` subsets size by size in bounded chunks.

- :func:`leave1out` metafor's ``leave1out()``.
- :func:`influence` metafor's ``influence.rma.uni()``: externally
  standardised residuals, DFFITS, Cook's distance, covariance ratio, tau² and
  Q with the study deleted, hat values, weights, DFBETAS, and the flag.
- :func:`cumulative` metafor's ``cumul()``.
- :func:`gosh` metafor's ``gosh()``: every subset up to ``max_exhaustive_k``
  studies, a seeded random sample of subsets beyond.
- :func:`outliers` studies whose confidence interval does not overlap the
  pooled one (the Metapsy "outliers removed" analysis).
- :func:`alternative_estimators` the pooled estimate under other tau²
  estimators and tests.

Why not the libraries: PyMARE fits ``(k, d)`` arrays but with a general
optimiser at a loose tolerance (see :mod:`depmeta.stats.pooling`), and neither it
nor statsmodels has influence diagnostics for meta-analysis.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from depmeta.stats.distributions import chi2_cdf, norm_ppf
from depmeta.stats.pooling import BatchPoolResult, check_yivi, pool, pool_batch

__all__ = [
    "CumulativeResult",
    "GoshResult",
    "InfluenceResult",
    "Leave1outResult",
    "alternative_estimators",
    "cumulative",
    "gosh",
    "influence",
    "leave1out",
    "outliers",
]

#: Subsets fitted per vectorised call in :func:`gosh`: with the ~15 temporaries
#: of a REML iteration on ``m <= 20`` rows this bounds the working memory to
#: roughly 15 * 20 * 8 bytes * 2^16 = 160 MB whatever ``k``.
GOSH_CHUNK = 2**16
#: Largest k for which :func:`gosh` fits all 2^k - 1 subsets by default.
GOSH_MAX_EXHAUSTIVE_K = 20
#: Subsets sampled beyond it by default (metafor's default, 10^6).
GOSH_SAMPLE = 10**6


def _batch_dict(b: BatchPoolResult) -> dict:
    return {name: getattr(b, name) for name in (
        "estimate", "se", "stat", "pval", "ci_low", "ci_high", "tau2", "q", "q_pval", "i2", "h2")}


# --------------------------------------------------------------------------- leave-one-out


@dataclass(frozen=True)
class Leave1outResult:
    """Leave-one-out fits (metafor's ``leave1out``): entry ``i`` is the fit without study ``i``.

    Attributes
    ----------
    estimate, se, stat, pval, ci_low, ci_high, q, q_pval, tau2, i2, h2 : ndarray, shape (k,)
    """

    method: str
    test: str
    estimate: np.ndarray
    se: np.ndarray
    stat: np.ndarray
    pval: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    q: np.ndarray
    q_pval: np.ndarray
    tau2: np.ndarray
    i2: np.ndarray
    h2: np.ndarray
    s2w: np.ndarray = field(repr=False)


def _without_each(k: int) -> np.ndarray:
    """Index array of shape (k - 1, k): column ``i`` lists every study but ``i``."""
    idx = np.broadcast_to(np.arange(k - 1)[:, None], (k - 1, k))
    return idx + (idx >= np.arange(k)[None, :])


def leave1out(yi, vi, method: str = "REML", test: str = "z", level: float = 0.95) -> Leave1outResult:
    """Refit the model leaving out each study in turn, all ``k`` fits in one vectorised call.

    Parameters
    ----------
    yi, vi : array_like, shape (k,)
        Effect sizes and sampling variances (k >= 2).
    method, test, level
        As :func:`depmeta.stats.pooling.pool` (``test`` one of ``z``, ``t``, ``knha``, ``adhoc``).

    Returns
    -------
    Leave1outResult
    """
    y, v = check_yivi(yi, vi, min_k=2)
    idx = _without_each(y.size)
    b = pool_batch(y[idx], v[idx], method=method, test=test, level=level)
    return Leave1outResult(method=b.method, test=b.test, s2w=b.s2w, **_batch_dict(b))


# --------------------------------------------------------------------------- influence


@dataclass(frozen=True)
class InfluenceResult:
    """Influence diagnostics of each study (metafor's ``influence.rma.uni``).

    Attributes
    ----------
    rstudent : ndarray
        Externally standardised residual ``(yi - mu_(-i)) / sqrt(vi + tau2_(-i) + se_(-i)^2)``
        (variances scaled by the Knapp-Hartung factor under ``knha``).
    dffits, cook_d, cov_r : ndarray
        DFFITS, Cook's distance, covariance ratio ``var(mu_(-i)) / var(mu)``.
    tau2_del, qe_del : ndarray
        tau² and Cochran's Q with study ``i`` deleted.
    hat, weight : ndarray
        Hat value (share of the weight, 0-1) and weight in percent.
    dfbetas : ndarray
        DFBETAS of the pooled estimate.
    influential : ndarray of bool
        metafor's flag: ``|dffits| > 3 sqrt(1/(k-1))``, or ``pchisq(cook_d, 1) > 0.5``,
        or ``hat > 3/k``, or ``|dfbetas| > 1``.
    leave1out : Leave1outResult
        The deletion fits behind them.
    """

    rstudent: np.ndarray
    dffits: np.ndarray
    cook_d: np.ndarray
    cov_r: np.ndarray
    tau2_del: np.ndarray
    qe_del: np.ndarray
    hat: np.ndarray
    weight: np.ndarray
    dfbetas: np.ndarray
    influential: np.ndarray
    leave1out: Leave1outResult = field(repr=False)


def influence(yi, vi, method: str = "REML", test: str = "z", level: float = 0.95) -> InfluenceResult:
    """Influence diagnostics for every study, from one vectorised set of deletion fits.

    Parameters
    ----------
    yi, vi : array_like, shape (k,)
        Effect sizes and sampling variances (k >= 3).
    method, test, level
        As :func:`leave1out`.

    Returns
    -------
    InfluenceResult
    """
    y, v = check_yivi(yi, vi, min_k=3)
    k = y.size
    full = pool(y, v, method=method, test=test, level=level)
    l1 = leave1out(y, v, method=method, test=test, level=level)
    w = 1.0 / (v + full.tau2)
    hat = w / w.sum()
    vb = full.se**2
    diff = full.estimate - l1.estimate
    dffits = diff / np.sqrt(l1.s2w * hat * (l1.tau2 + v))
    # Variance of the full-data estimate with tau² set to its deletion value.
    vb_del = 1.0 / (1.0 / (v[:, None] + l1.tau2[None, :])).sum(0)
    dfbetas = diff / np.sqrt(l1.s2w * vb_del)
    cook_d = diff**2 / vb
    cov_r = l1.se**2 / vb
    resid = y - l1.estimate
    resid[np.abs(resid) < 100 * np.finfo(float).eps] = 0.0
    rstudent = resid / np.sqrt(v * l1.s2w + l1.se**2 + l1.tau2 * l1.s2w)
    infl = ((np.abs(dffits) > 3 * np.sqrt(1 / (k - 1))) | (chi2_cdf(cook_d, 1) > 0.5)
            | (hat > 3 / k) | (np.abs(dfbetas) > 1))
    return InfluenceResult(
        rstudent=rstudent, dffits=dffits, cook_d=cook_d, cov_r=cov_r, tau2_del=l1.tau2, qe_del=l1.q,
        hat=hat, weight=100 * hat, dfbetas=dfbetas, influential=infl, leave1out=l1,
    )


# --------------------------------------------------------------------------- subsets


def _fit_subsets(y, v, idx: np.ndarray, method, test, level) -> dict:
    """Fit subsets of equal size: ``idx`` (n, m) row-wise study indices."""
    b = pool_batch(y[idx.T], v[idx.T], method=method, test=test, level=level)
    return _batch_dict(b)


@dataclass(frozen=True)
class CumulativeResult:
    """Cumulative meta-analysis (metafor's ``cumul``): entry ``j`` pools the first ``j + 1`` studies in ``order``.

    Attributes
    ----------
    order : ndarray of int
        Study positions in the order added.
    k : ndarray of int
        Studies pooled at each step.
    estimate, se, stat, pval, ci_low, ci_high, q, q_pval, tau2, i2, h2 : ndarray, shape (k,)
    """

    method: str
    test: str
    order: np.ndarray
    k: np.ndarray
    estimate: np.ndarray
    se: np.ndarray
    stat: np.ndarray
    pval: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    q: np.ndarray
    q_pval: np.ndarray
    tau2: np.ndarray
    i2: np.ndarray
    h2: np.ndarray


def cumulative(yi, vi, order=None, method: str = "REML", test: str = "z", level: float = 0.95,
               decreasing: bool = False) -> CumulativeResult:
    """Cumulative meta-analysis, adding studies in the order of ``order``.

    Parameters
    ----------
    yi, vi : array_like, shape (k,)
    order : array_like, shape (k,), optional
        Sort key (e.g. publication year, or ``vi`` for most precise first); ties
        keep the input order, as R's ``order()``. Default: the input order.
    method, test, level
        As :func:`leave1out`.
    decreasing : bool, default False

    Returns
    -------
    CumulativeResult
    """
    y, v = check_yivi(yi, vi, min_k=1)
    k = y.size
    if order is None:
        perm = np.arange(k)
    else:
        key = np.asarray(order)
        if key.shape != (k,):
            raise ValueError(f"order must have one entry per study (got {key.size} for {k})")
        if key.dtype.kind in "fc" and np.isnan(key).any():
            raise ValueError(f"order has missing values at positions {np.flatnonzero(np.isnan(key)).tolist()}")
        perm = np.argsort(-key if decreasing else key, kind="stable")
    ys, vs = y[perm], v[perm]
    cols = {name: np.empty(k) for name in ("estimate", "se", "stat", "pval", "ci_low", "ci_high", "tau2",
                                           "q", "q_pval", "i2", "h2")}
    for j in range(k):  # one fit per size; each is a (j + 1, 1) batch
        b = pool_batch(ys[: j + 1, None], vs[: j + 1, None], method=method, test=test, level=level)
        for name, val in _batch_dict(b).items():
            cols[name][j] = val[0]
    return CumulativeResult(method=method.upper(), test=test.lower(), order=perm, k=np.arange(1, k + 1), **cols)


# --------------------------------------------------------------------------- GOSH


@dataclass(frozen=True)
class GoshResult:
    """GOSH: the model fitted to many subsets of the studies (metafor's ``gosh``).

    Attributes
    ----------
    incl : ndarray of bool, shape (n, k)
        Row ``r`` marks the studies in subset ``r``; rows ordered by subset
        size, then (exhaustive) as metafor's ``expand.grid`` order.
    k, estimate, tau2, q, i2, h2 : ndarray, shape (n,)
        Per subset ( ``nan`` where the estimator did not converge).
    exhaustive : bool
        Whether all ``2^k - 1`` subsets were fitted.
    seed : int or None
        Seed of the random sample when not exhaustive.
    """

    method: str
    exhaustive: bool
    seed: int | None
    incl: np.ndarray = field(repr=False)
    k: np.ndarray = field(repr=False)
    estimate: np.ndarray = field(repr=False)
    tau2: np.ndarray = field(repr=False)
    q: np.ndarray = field(repr=False)
    i2: np.ndarray = field(repr=False)
    h2: np.ndarray = field(repr=False)

    @property
    def n_subsets(self) -> int:
        """Number of subsets fitted."""
        return int(self.k.size)


def _subset_masks(k: int, exhaustive: bool, n: int, seed) -> np.ndarray:
    """Integer bitmasks of the subsets (bit ``j`` = study ``j``), ordered by size then value."""
    if exhaustive:
        masks = np.arange(1, 2**k, dtype=np.int64)
    else:
        rng = np.random.default_rng(seed)
        # Each study in with probability 1/2, empty subsets redrawn: uniform over the
        # non-empty subsets, the distribution of metafor's size-then-subset draw.
        weights = np.int64(1) << np.arange(k, dtype=np.int64)
        masks = np.empty(0, np.int64)
        while masks.size < n:
            draw = (rng.random((min(GOSH_CHUNK, 2 * (n - masks.size)), k)) < 0.5) @ weights
            masks = np.concatenate([masks, draw[draw > 0]])
        masks = masks[:n]
    sizes = np.zeros(masks.size, np.int64)
    for j in range(k):
        sizes += (masks >> j) & 1
    order = np.lexsort((masks, sizes)) if exhaustive else np.argsort(sizes, kind="stable")
    return masks[order], sizes[order]


def gosh(yi, vi, method: str = "REML", max_exhaustive_k: int = GOSH_MAX_EXHAUSTIVE_K,
         n_subsets: int = GOSH_SAMPLE, seed: int | None = 0, chunk: int = GOSH_CHUNK,
         workers: int = 1) -> GoshResult:
    """Fit the model to every subset of the studies (or a random sample), chunk by chunk.

    Parameters
    ----------
    yi, vi : array_like, shape (k,)
    method : str, default "REML"
    max_exhaustive_k : int, default 20
        Up to this k all ``2^k - 1`` subsets are fitted (1,048,575 at k = 20);
        beyond, ``n_subsets`` random subsets.
    n_subsets : int, default 10^6
        Size of the random sample beyond ``max_exhaustive_k``; if it is at
        least ``2^k - 1`` the analysis is exhaustive anyway.
    seed : int, optional
        Seed of the random sample (numpy's default generator).
    chunk : int, default :data:`GOSH_CHUNK`
        Subsets per vectorised call (bounds the memory: about ``workers``
        times 160 MB at the default).
    workers : int, default 1
        Chunks fitted at once in threads (numpy releases the GIL in its array
        loops, so two workers use two cores). The results do not depend on it.

    Returns
    -------
    GoshResult
    """
    y, v = check_yivi(yi, vi, min_k=2)
    k = y.size
    if k > 62:
        raise ValueError("gosh supports at most 62 studies")
    if chunk < 1 or n_subsets < 1 or workers < 1:
        raise ValueError("chunk, n_subsets and workers must be positive")
    exhaustive = k <= max_exhaustive_k or n_subsets >= 2**k - 1
    masks, sizes = _subset_masks(k, exhaustive, n_subsets, seed)
    n = masks.size
    out = {name: np.empty(n) for name in ("estimate", "tau2", "q", "i2", "h2")}
    bits = np.int64(1) << np.arange(k, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, sizes[1:] != sizes[:-1]])
    bounds = np.r_[starts, n]
    # Chunks never straddle two subset sizes: each is an (m, n) block of equal m.
    pieces = [(int(sizes[a]), c, min(b, c + chunk)) for a, b in zip(bounds[:-1], bounds[1:])
              for c in range(a, b, chunk)]

    def fit(piece):
        m, c, e = piece
        incl = (masks[c:e, None] & bits[None, :]) != 0
        idx = np.nonzero(incl)[1].reshape(e - c, m)
        res = pool_batch(y[idx.T], v[idx.T], method=method)
        for name in out:
            out[name][c:e] = getattr(res, name)
        if res.method == "DL" and m > 1:
            # metafor's gosh() fits DL by a shortcut whose H² is Q / (k - 1) (below 1
            # where tau² is truncated at 0; equal to rma()'s H² elsewhere).
            out["h2"][c:e] = res.q / (m - 1)

    if workers == 1:
        for piece in pieces:
            fit(piece)
    else:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(workers) as pool_:
            list(pool_.map(fit, pieces))
    incl = (masks[:, None] & bits[None, :]) != 0
    return GoshResult(method=method.upper(), exhaustive=exhaustive, seed=None if exhaustive else seed, incl=incl,
                      k=sizes, **out)


# --------------------------------------------------------------------------- standard subsets


def outliers(yi, vi, method: str = "REML", test: str = "z", level: float = 0.95) -> np.ndarray:
    """Studies whose confidence interval does not overlap the pooled estimate's.

    A study is an outlier when its upper bound ``yi + z sqrt(vi)`` lies below
    the pooled interval's lower bound, or its lower bound above the upper
    (Harrer et al. 2021, *Doing Meta-Analysis in R*, ch. 5.4; metapsyTools'
    "outliers removed" analysis).

    Returns
    -------
    ndarray of bool, shape (k,)
    """
    y, v = check_yivi(yi, vi, min_k=2)
    fit = pool(y, v, method=method, test=test, level=level)
    half = norm_ppf(1 - (1 - level) / 2) * np.sqrt(v)
    return (y + half < fit.ci_low) | (y - half > fit.ci_high)


def alternative_estimators(yi, vi, methods=("REML", "DL", "PM", "ML", "SJ", "HE", "EE"),
                           tests=("z", "knha"), level: float = 0.95) -> list:
    """The pooled estimate under other tau² estimators and tests.

    Returns
    -------
    list of PoolResult
        One per method × test (``EE`` only with ``z``).
    """
    y, v = check_yivi(yi, vi, min_k=1)
    return [pool(y, v, method=m, test=t, level=level) for m in methods for t in tests
            if not (m == "EE" and t != "z") and not (y.size < 2 and t != "z")]
