"""Meta-regression, subgroup analyses and permutation tests, after metafor's
``rma.uni(mods = ...)``, its subgroup idioms and ``permutest()``.

Pure functions on arrays: no pandas, no file I/O. The numerical core fits ``d``
models at once, in the layout of :mod:`depmeta.stats.tau2`: outcomes ``y`` and
variances ``v`` of shape ``(k, d)`` and designs of shape ``(k, d, p)`` (``(k, 1, p)``
where shared), so that a permutation test is a handful of batched calls instead of
thousands of fits. The public functions take the usual ``(k,)`` vectors and a
``(k, q)`` moderator matrix.

Where libraries are used and where not
--------------------------------------
- Weighted least squares is written out (:mod:`depmeta.stats.tau2`) with ``numpy``
  batched linear algebra: statsmodels' ``WLS`` fits one model per call (a permutation test
  would be thousands of Python-level fits) and has no between-study variance;
  PyMARE's ``VarianceBasedLikelihoodEstimator`` fits ML/REML with
  ``scipy.optimize`` at its default tolerance (about 1e-4 from metafor).
- tau² is :mod:`depmeta.stats.tau2`'s, the engine pooling uses too, and follows
  metafor 3.8-1: Fisher scoring for ML/REML (from the Hedges start, steps halved
  to stay >= 0), the method-of-moments forms of DL, HE, SJ and HS with
  moderators, and for PM/EB the root of the generalised Q statistic
  ``Q(tau2) = k - p`` by Newton's method. As metafor's ``ll0check``, an ML/REML
  root is compared with tau² = 0 and replaced by 0 where the likelihood is higher
  there (Fisher scoring can stop at a local maximum: dat.bcg, studies 2, 5, 7, 9,
  11 and 12 with latitude, tests/test_boundary.py); the rule is
  :func:`depmeta.stats.tau2.ll0_wins`. The intercept-only model (R²'s reference
  fit, sign-flip permutations, subgroups) takes the engine's closed-form sums.
- Distributions from ``scipy.stats``.

References
----------
Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package.
J Stat Softw 36(3). Higgins JPT, Thompson SG (2004). Controlling the risk of
spurious findings from meta-regression. Stat Med 23:1663-82 (permutation tests).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import factorial

import numpy as np

from depmeta.stats import tau2 as engine
from depmeta.stats.distributions import chi2_sf, f_sf, norm_ppf, norm_sf, t_ppf, t_sf
from depmeta.stats.pooling import LL0_NOTE, check_options, pool

__all__ = [
    "REG_METHODS",
    "MetaRegressionResult",
    "PermutationResult",
    "SubgroupResult",
    "meta_regression",
    "permutation_test",
    "subgroup_analysis",
    "distinct_permutations",
]

REG_METHODS = ("EE", "DL", "HE", "REML", "ML", "PM", "EB", "SJ", "HS")
_TESTS = ("z", "t", "knha", "adhoc")

#: metafor's ``comptol`` in ``permutest``: permuted statistics within this of
#: the observed one count as "as extreme" (guards against rounding ties).
COMPTOL = np.sqrt(np.finfo(float).eps)
#: Permutations fitted per batched call: bounds memory at about
#: ``_BATCH * k * p`` floats per array.
_BATCH = 2048


# --------------------------------------------------------------------------
# batched core: y, v (k, d); X (k, d or 1, p), as depmeta.stats.tau2
# --------------------------------------------------------------------------


def _standardise(X, intercept):
    """``(X_s, T)`` with ``X_s`` the moderators centred and scaled (when there is
    an intercept) and ``beta = T @ beta_s``. The column space, hence tau² and
    every test, is unchanged; the fit is well conditioned (a moderator such as
    the year, about 2000 with a spread of 10, makes ``X'WX`` nearly singular and
    the scores noisy at 1e-13, enough to stall Fisher scoring near tau² = 0).
    Row permutations of X permute the rows of ``X_s`` alike."""
    p = X.shape[1]
    T = np.eye(p)
    if not intercept or p == 1:
        return X, T
    m = X[:, 1:].mean(0)
    sd = X[:, 1:].std(0)
    sd = np.where(sd > 0, sd, 1.0)
    T[1:, 1:] = np.diag(1 / sd)
    T[0, 1:] = -m / sd
    Xs = X.copy()
    Xs[:, 1:] = (X[:, 1:] - m) / sd
    return Xs, T


def _fit(y, v, X, method, test, btt, T=None):
    """Batched fit of outcomes ``y`` and variances ``v`` (k, d or 1) on the design ``X``
    (k, d or 1, p; ``None`` for the intercept-only model): tau², where the ``ll0check`` set it to
    0, coefficients, their covariance, z/t statistics and QM.

    ``X`` is the (standardised) design and ``T`` maps its coefficients back
    to the original parametrisation (``beta = T @ beta_s``)."""
    m = engine.design(y, v, X)
    k, p = m.k, m.p
    tau2, reset = engine.estimate(m, method)
    w = 1.0 / (m.v + tau2)
    beta, vb, r = m.wls(w)
    if test in ("knha", "adhoc"):
        rss = (w * r**2).sum(0)
        s2w = np.where(rss <= np.finfo(float).eps, 0.0, rss / (k - p))
        if test == "adhoc":
            s2w = np.maximum(s2w, 1.0)
        vb = vb * s2w[..., None, None]
    if T is not None:
        beta = beta @ T.T
        vb = T @ vb @ T.T
    se = np.sqrt(np.diagonal(vb, axis1=-2, axis2=-1))
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = beta / se
        bb = beta[..., btt]
        vbb = vb[..., btt[:, None], btt[None, :]]
        qm = _quadratic_form(bb, vbb)
    if test != "z":
        qm = qm / len(btt)
    return tau2, reset, beta, vb, se, stat, qm


def _design(X, intercept):
    """The design as the engine takes it, (k, 1, p), or ``None`` for the intercept-only model
    (whose sums the engine has in closed form)."""
    return None if intercept and X.shape[-1] == 1 else X[:, None, :]


def _quadratic_form(b, V):
    """``b' V^-1 b`` over the batch, NaN where ``V`` cannot be inverted: as metafor's QM, which
    is NA where ``chol(vb)`` fails (a Knapp-Hartung fit without residual heterogeneity scales
    the covariance to 0)."""
    try:
        return (b[..., None, :] @ np.linalg.solve(V, b[..., None]))[..., 0, 0]
    except np.linalg.LinAlgError:
        flat_b, flat_V = b.reshape(-1, b.shape[-1]), V.reshape(-1, *V.shape[-2:])
        out = np.full(len(flat_b), np.nan)
        for i, (bi, Vi) in enumerate(zip(flat_b, flat_V)):
            try:
                out[i] = bi @ np.linalg.solve(Vi, bi)
            except np.linalg.LinAlgError:
                pass
        return out.reshape(b.shape[:-1])


def _prepare(yi, vi, mods, intercept):
    y = np.asarray(yi, dtype=float).reshape(-1)
    v = np.asarray(vi, dtype=float).reshape(-1)
    if y.shape != v.shape:
        raise ValueError("yi and vi must have the same length")
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(v))):
        raise ValueError("yi and vi must be finite; drop non-estimable studies first")
    if np.any(v <= 0):
        raise ValueError("sampling variances must be positive")
    k = y.shape[0]
    if mods is None:
        Z = np.empty((k, 0))
    else:
        Z = np.asarray(mods, dtype=float)
        Z = Z[:, None] if Z.ndim == 1 else Z
        if Z.shape[0] != k:
            raise ValueError(f"mods has {Z.shape[0]} rows for {k} studies")
        if not np.all(np.isfinite(Z)):
            raise ValueError("moderators must be finite; drop studies without a value first")
    X = np.column_stack([np.ones(k), Z]) if intercept else Z
    if X.shape[1] == 0:
        raise ValueError("the model has no terms")
    if k <= X.shape[1]:
        raise ValueError(f"need more studies ({k}) than model coefficients ({X.shape[1]})")
    if np.linalg.matrix_rank(X) < X.shape[1]:
        raise ValueError("the moderators are collinear (design matrix not of full rank)")
    return y, v, X


def _check(method, test, level):
    return check_options(method, test, level, REG_METHODS, _TESTS)


def _btt(X, intercept):
    p = X.shape[-1]
    return np.arange(1, p) if intercept and p > 1 else np.arange(p)


# --------------------------------------------------------------------------
# meta-regression
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class MetaRegressionResult:
    """Mixed-effects meta-regression (metafor's ``rma.uni`` with ``mods``).

    Attributes
    ----------
    names : tuple of str
        Coefficient names (``"intercept"`` first when there is one).
    coef, se, stat, pval, ci_low, ci_high : ndarray, shape (p,)
        Coefficients [``b``], standard errors, z (or t) statistics, p-values
        and confidence intervals.
    df : float
        Degrees of freedom of the t tests (``inf`` for z).
    tau2 : float
        Residual between-study variance.
    qm, qm_df, qm_df2, qm_pval : float
        Omnibus test of the moderators [``QM``]: chi² with ``qm_df`` df under
        ``z``, F with (``qm_df``, ``qm_df2``) df under ``knha``/``t``/``adhoc``.
    qe, qe_df, qe_pval : float
        Test for residual heterogeneity [``QE``].
    i2, h2 : float
        Residual I² (percent) and H².
    r2 : float
        Pseudo-R² (percent): proportional reduction of tau² against the
        intercept-only model fitted with the same estimator [``R2``]; ``nan``
        without an intercept.
    vcov : ndarray, shape (p, p)
        Covariance of the coefficients (Knapp-Hartung-scaled under ``knha``).
    note : str
        :data:`depmeta.stats.pooling.LL0_NOTE` where an ML/REML root was replaced by tau² = 0.
    """

    method: str
    test: str
    level: float
    k: int
    p: int
    names: tuple
    coef: np.ndarray
    se: np.ndarray
    stat: np.ndarray
    pval: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    df: float
    tau2: float
    qm: float
    qm_df: int
    qm_df2: float
    qm_pval: float
    qe: float
    qe_df: int
    qe_pval: float
    i2: float
    h2: float
    r2: float
    vcov: np.ndarray = field(repr=False)
    note: str = ""

    def predict(self, X_new) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Fitted values and their confidence interval at rows ``X_new`` (n, p),
        which include the intercept column where the model has one."""
        X_new = np.atleast_2d(np.asarray(X_new, dtype=float))
        pred = X_new @ self.coef
        se = np.sqrt(np.einsum("np,pq,nq->n", X_new, self.vcov, X_new))
        crit = _crit(self.level, self.df)
        return pred, pred - crit * se, pred + crit * se


def _crit(level, df):
    a = 1 - level
    return norm_ppf(1 - a / 2) if np.isinf(df) else t_ppf(1 - a / 2, df)


def _p_two_sided(stat, df):
    return 2 * (norm_sf(np.abs(stat)) if np.isinf(df) else t_sf(np.abs(stat), df))


def meta_regression(
    yi,
    vi,
    mods=None,
    names=None,
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
    intercept: bool = True,
) -> MetaRegressionResult:
    """Fit a mixed-effects meta-regression model.

    Parameters
    ----------
    yi, vi : array_like, shape (k,)
        Effect sizes and sampling variances.
    mods : array_like, shape (k,) or (k, q), optional
        Moderator values (code factors as dummy columns); ``None`` fits the
        intercept-only model.
    names : sequence of str, optional
        Names of the ``q`` moderator columns.
    method : str, default "REML"
        Residual tau² estimator, one of :data:`REG_METHODS` (``EE``: no tau²).
    test : {"z", "t", "knha", "adhoc"}, default "z"
        ``knha`` is Knapp and Hartung's adjustment (t tests with k - p df and
        an F omnibus test), ``adhoc`` its variant never narrower than ``z``.
    level : float, default 0.95
        Confidence level.
    intercept : bool, default True
        Add an intercept column; the omnibus test then excludes it.

    Returns
    -------
    MetaRegressionResult
    """
    method, test = _check(method, test, level)
    y, v, X = _prepare(yi, vi, mods, intercept)
    k, p = X.shape
    q = p - int(intercept)
    if names is None:
        names = [f"x{j + 1}" for j in range(q)]
    names = (("intercept",) if intercept else ()) + tuple(names)
    if len(names) != p:
        raise ValueError(f"{len(names) - int(intercept)} names for {q} moderator columns")
    btt = _btt(X, intercept)
    Xs, T = _standardise(X, intercept)
    fitted = _fit(y[:, None], v[:, None], _design(Xs, intercept), method, test, btt, T)
    tau2, reset, beta, vb, se, stat, qm = (a[0] for a in fitted)
    df = float("inf") if test == "z" else float(k - p)
    m = len(btt)
    qm_pval = float(chi2_sf(qm, m) if test == "z" else f_sf(qm, m, k - p))
    crit = _crit(level, df)

    # Residual heterogeneity with the equal-effects weights.
    model, zero = engine.design(y[:, None], v[:, None], _design(Xs, intercept)), np.zeros(1)
    qe = max(0.0, float(model.q(zero)[0][0]))
    vt = (k - p) / float(model.tr_p(zero)[0])
    if method == "EE":
        i2 = max(0.0, 100 * (qe - (k - p)) / qe) if qe > 0 else 0.0
        h2 = qe / (k - p)
    else:
        i2 = 100 * float(tau2) / (vt + float(tau2))
        h2 = float(tau2) / vt + 1

    r2 = float("nan")
    if intercept and p > 1:
        if method == "EE":
            # metafor: adjusted R² of the weighted least-squares fit.
            w0 = 1.0 / v
            ybar = (w0 * y).sum() / w0.sum()
            tss = (w0 * (y - ybar) ** 2).sum()
            r2 = 0.0 if tss == 0 else max(0.0, 100 * (1 - (qe / tss) * (k - 1) / (k - p)))
        else:
            tau2_re = float(engine.estimate(engine.design(y[:, None], v[:, None]), method)[0][0])
            r2 = 0.0 if tau2_re == 0 else max(0.0, 100 * (tau2_re - float(tau2)) / tau2_re)

    return MetaRegressionResult(
        method=method, test=test, level=level, k=k, p=p, names=names,
        coef=beta, se=se, stat=stat, pval=_p_two_sided(stat, df),
        ci_low=beta - crit * se, ci_high=beta + crit * se, df=df, tau2=float(tau2),
        qm=float(qm), qm_df=m, qm_df2=df, qm_pval=qm_pval,
        qe=qe, qe_df=k - p, qe_pval=float(chi2_sf(qe, k - p)),
        i2=float(i2), h2=float(h2), r2=r2, vcov=vb, note=LL0_NOTE if reset else "",
    )


# --------------------------------------------------------------------------
# permutation tests
# --------------------------------------------------------------------------


def _multiset_classes(X) -> np.ndarray:
    """Class index of each row of X (equal rows share a class)."""
    _, inverse = np.unique(X, axis=0, return_inverse=True)
    return np.asarray(inverse).reshape(-1)


def distinct_permutations(X) -> int:
    """Number of distinct row orders of X: ``k! / prod(n_c!)`` over classes of equal rows."""
    counts = np.bincount(_multiset_classes(np.asarray(X)))
    out = factorial(int(counts.sum()))
    for c in counts:
        out //= factorial(int(c))
    return out


def _multiset_perms(classes) -> np.ndarray:
    """All distinct orderings of ``classes`` (lexicographic next-permutation),
    as row indices into the original order, shape (n, k)."""
    order = np.argsort(classes, kind="stable")
    a = list(np.asarray(classes)[order])
    k = len(a)
    out = []
    while True:
        out.append(list(a))
        i = k - 2
        while i >= 0 and a[i] >= a[i + 1]:
            i -= 1
        if i < 0:
            break
        j = k - 1
        while a[j] <= a[i]:
            j -= 1
        a[i], a[j] = a[j], a[i]
        a[i + 1:] = reversed(a[i + 1:])
    cls = np.asarray(out)
    # A representative row for each class: the first study of that class.
    first = {c: int(np.flatnonzero(np.asarray(classes) == c)[0]) for c in set(classes)}
    rep = np.vectorize(first.get)(cls) if len(cls) else cls
    return rep


@dataclass(frozen=True)
class PermutationResult:
    """Permutation test of a meta-regression (metafor's ``permutest``).

    Attributes
    ----------
    exact : bool
        All distinct permutations enumerated (else a seeded random sample).
    iterations : int
        Permutations used (the observed order counts as one).
    seed : int or None
        Seed of the random sample (``None`` when exact).
    names : tuple of str
    stat : ndarray, shape (p,)
        Observed z (or t) statistics.
    pval : ndarray, shape (p,)
        Permutation p-values of the coefficients: share of permutations with
        ``|stat| >= |observed| - comptol`` (metafor's two-sided "abs" definition).
    qm, qm_pval : float
        Observed omnibus statistic and its permutation p-value (share with
        ``QM >= observed - comptol``).
    failed : int
        Permutations whose fit failed (left out, as metafor's ``na.rm``).
    qm_perm, stat_perm : ndarray, shapes (n,) and (n, p)
        The permutation distribution (metafor's ``QM.perm``, ``zval.perm``),
        failed fits left out.
    """

    exact: bool
    iterations: int
    seed: int | None
    names: tuple
    stat: np.ndarray
    pval: np.ndarray
    qm: float
    qm_pval: float
    failed: int
    qm_perm: np.ndarray = field(repr=False, compare=False, default=None)
    stat_perm: np.ndarray = field(repr=False, compare=False, default=None)


def permutation_test(
    yi,
    vi,
    mods=None,
    names=None,
    method: str = "REML",
    test: str = "z",
    iterations: int = 1000,
    exact_limit: int | None = None,
    seed: int = 1,
    intercept: bool = True,
    orders=None,
) -> PermutationResult:
    """Permutation test of the coefficients and the omnibus test of a meta-regression.

    With moderators, the rows of the design matrix are permuted against the
    outcomes; for the intercept-only model the signs of the outcomes are
    flipped (metafor's scheme). Each permutation is refitted with the same
    estimator and test, in batches of ``(d, k, p)`` arrays.

    Parameters
    ----------
    yi, vi, mods, names, method, test, intercept
        As :func:`meta_regression`.
    iterations : int, default 1000
        Size of the random sample when the test is not exact (the observed
        order counts as the first), as metafor's ``iter``.
    exact_limit : int, optional
        Enumerate all distinct permutations when there are at most this many
        (default: ``iterations``, metafor's rule); else sample.
    seed : int, default 1
        Seed of ``numpy.random.default_rng`` for the sample.
    orders : array_like of int, shape (n, k), optional
        Explicit row orders of the design matrix to use instead (row ``j`` of
        permutation ``i`` is study ``orders[i, j]``; 0-based), e.g. another
        program's, to compare permutation distributions draw by draw. Not for
        the intercept-only model. ``iterations``, ``exact_limit`` and ``seed``
        are then ignored; the result is marked not exact.

    Returns
    -------
    PermutationResult
    """
    if iterations < 2:
        raise ValueError("iterations must be >= 2")
    method, test = _check(method, test, 0.95)
    obs = meta_regression(yi, vi, mods, names, method, test, intercept=intercept)
    y, v, X = _prepare(yi, vi, mods, intercept)
    k, p = X.shape
    btt = _btt(X, intercept)
    Xs, T = _standardise(X, intercept)
    int_only = intercept and p == 1
    limit = iterations if exact_limit is None else exact_limit
    n_exact = 2**k if int_only else distinct_permutations(X)
    exact = n_exact <= limit
    rng = None if exact else np.random.default_rng(seed)

    if orders is not None:
        orders = np.asarray(orders, dtype=int)
        if int_only or orders.ndim != 2 or orders.shape[1] != k:
            raise ValueError(f"orders must be an (n, {k}) array of row orders of a model with "
                             "moderators")
        if not np.array_equal(np.sort(orders, axis=1), np.broadcast_to(np.arange(k), orders.shape)):
            raise ValueError("each row of orders must be a permutation of 0..k-1")
        exact, rng = False, None

    def batches():
        if orders is not None:
            for start in range(0, len(orders), _BATCH):
                yield None, orders[start:start + _BATCH]
            return
        if int_only:
            if exact:
                for start in range(0, n_exact, _BATCH):
                    idx = np.arange(start, min(start + _BATCH, n_exact))
                    bits = (idx[:, None] >> np.arange(k)[None, :]) & 1
                    yield 1.0 - 2.0 * bits, None
            else:
                done = 0
                while done < iterations:
                    n = min(_BATCH, iterations - done)
                    signs = rng.choice(np.array([-1.0, 1.0]), size=(n, k))
                    if done == 0:
                        signs[0] = 1.0  # the observed data is the first
                    done += n
                    yield signs, None
        else:
            if exact:
                perms = _multiset_perms(_multiset_classes(X))
                for start in range(0, len(perms), _BATCH):
                    yield None, perms[start:start + _BATCH]
            else:
                done = 0
                while done < iterations:
                    n = min(_BATCH, iterations - done)
                    perms = rng.permuted(np.tile(np.arange(k), (n, 1)), axis=1)
                    if done == 0:
                        perms[0] = np.arange(k)
                    done += n
                    yield None, perms

    stat_all, qm_all = [], []
    for signs, perms in batches():
        if signs is not None:  # the intercept-only model: signs flipped, (k, n) outcomes
            yb, Xb, n = (signs * y[None, :]).T, _design(Xs, intercept), len(signs)
        else:  # rows of the design permuted: (k, n, p)
            yb, Xb, n = y[:, None], Xs[perms.T], len(perms)
        with np.errstate(all="ignore"):
            try:
                *_, st, qm = _fit(yb, v[:, None], Xb, method, test, btt, T)
            except np.linalg.LinAlgError:
                st = np.full((n, p), np.nan)
                qm = np.full(n, np.nan)
        stat_all.append(st)
        qm_all.append(qm)
    st = np.concatenate(stat_all)
    qm = np.concatenate(qm_all)
    ok = np.isfinite(qm) & np.all(np.isfinite(st), axis=1)
    st, qm = st[ok], qm[ok]
    pval = np.minimum(1.0, (np.abs(st) >= np.abs(obs.stat)[None, :] - COMPTOL).mean(0))
    # no QM for the observed order (a fit without residual heterogeneity): no p-value either
    qm_pval = float((qm >= obs.qm - COMPTOL).mean()) if np.isfinite(obs.qm) else float("nan")
    return PermutationResult(
        exact=bool(exact), iterations=int(len(ok)),
        seed=None if exact or orders is not None else int(seed),
        names=obs.names, stat=obs.stat, pval=pval, qm=obs.qm, qm_pval=qm_pval,
        failed=int((~ok).sum()), qm_perm=qm, stat_perm=st,
    )


# --------------------------------------------------------------------------
# subgroups
# --------------------------------------------------------------------------


def _group_fit(y, v, method, test, level):
    """(estimate, se, ci_low, ci_high, tau2, Q) of one group's intercept-only model."""
    if len(y) == 1:
        f = pool(y, v, method=method, test=test, level=level)
        return f.estimate, f.se, f.ci_low, f.ci_high, f.tau2, 0.0
    f = meta_regression(y, v, None, method=method, test=test, level=level)
    return f.coef[0], f.se[0], f.ci_low[0], f.ci_high[0], f.tau2, f.qe


@dataclass(frozen=True)
class SubgroupResult:
    """Subgroup analysis with a test for differences between groups.

    Attributes
    ----------
    tau2_model : {"separate", "common"}
        ``separate``: one random-effects model per group, then an
        equal-effects test on the group estimates (metafor's recipe);
        ``common``: one model with the groups as moderator, so one tau²
        (the between-group test is its omnibus QM).
    groups : tuple of str
        Groups analysed (those with at least ``min_per_group`` studies), sorted.
    k, estimate, se, ci_low, ci_high, tau2, q_within : ndarray, shape (G,)
        Per group (``tau2`` the same in every group for ``common``).
    q_between, q_between_df, q_between_pval : float
        Between-group test (chi²; an F statistic with (G - 1, k - G) df under
        ``knha`` with a common tau²); ``nan`` with fewer than two groups.
    too_small : tuple of (str, int)
        Groups left out for having fewer than ``min_per_group`` studies, with
        their study counts.
    """

    tau2_model: str
    method: str
    test: str
    level: float
    groups: tuple
    k: np.ndarray
    estimate: np.ndarray
    se: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    tau2: np.ndarray
    q_within: np.ndarray
    q_between: float
    q_between_df: float
    q_between_pval: float
    too_small: tuple


def subgroup_analysis(
    yi,
    vi,
    groups,
    tau2: str = "separate",
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
    min_per_group: int = 2,
) -> SubgroupResult:
    """Pool within subgroups and test whether the subgroup effects differ.

    Parameters
    ----------
    yi, vi : array_like, shape (k,)
    groups : array_like of str, shape (k,)
        Group label of each study.
    tau2 : {"separate", "common"}, default "separate"
        Between-study variance per group, or one shared by all groups.
    method, test, level
        As :func:`depmeta.stats.pooling.pool`.
    min_per_group : int, default 2
        Groups with fewer studies are left out (listed in ``too_small``).

    Returns
    -------
    SubgroupResult
    """
    method, test = _check(method, test, level)
    if tau2 not in ("separate", "common"):
        raise ValueError("tau2 must be 'separate' or 'common'")
    y = np.asarray(yi, dtype=float).reshape(-1)
    v = np.asarray(vi, dtype=float).reshape(-1)
    g = np.asarray(groups, dtype=object).reshape(-1)
    if not (len(y) == len(v) == len(g)):
        raise ValueError("yi, vi and groups must have the same length")
    labels, counts = np.unique(g.astype(str), return_counts=True)
    too_small = tuple((str(lab), int(c)) for lab, c in zip(labels, counts) if c < min_per_group)
    keep_labels = [str(lab) for lab, c in zip(labels, counts) if c >= min_per_group]
    keep = np.isin(g.astype(str), keep_labels)
    y, v, g = y[keep], v[keep], g[keep].astype(str)
    G = len(keep_labels)
    nan = float("nan")
    ks = np.array([int((g == lab).sum()) for lab in keep_labels])

    if tau2 == "separate":
        # One intercept-only model per group (the same fit as ``pool``, without the
        # heterogeneity intervals this analysis does not report).
        fits = [_group_fit(y[g == lab], v[g == lab], method, test, level) for lab in keep_labels]
        est, se, lo, hi, t2, qw = (np.array([f[j] for f in fits], dtype=float) for j in range(6))
        if G >= 2:
            w = 1 / se**2
            qb = float((w * (est - (w * est).sum() / w.sum()) ** 2).sum())
            qb_df, qb_p = float(G - 1), float(chi2_sf(qb, G - 1))
        else:
            qb = qb_df = qb_p = nan
    else:
        if G == 0:
            est = se = lo = hi = t2 = qw = np.array([])
            qb = qb_df = qb_p = nan
        else:
            D = (g[:, None] == np.array(keep_labels)[None, :]).astype(float)
            cell = meta_regression(y, v, D, keep_labels, method, test, level, intercept=False)
            est, se, lo, hi = cell.coef, cell.se, cell.ci_low, cell.ci_high
            t2 = np.full(G, cell.tau2)
            qw = np.array([_group_fit(y[g == lab], v[g == lab], "EE", "z", level)[5]
                           for lab in keep_labels])
            if G >= 2:
                full = meta_regression(y, v, D[:, 1:], keep_labels[1:], method, test, level)
                qb, qb_df, qb_p = full.qm, float(full.qm_df), full.qm_pval
            else:
                qb = qb_df = qb_p = nan
    return SubgroupResult(
        tau2_model=tau2, method=method, test=test, level=level, groups=tuple(keep_labels), k=ks,
        estimate=np.asarray(est), se=np.asarray(se), ci_low=np.asarray(lo), ci_high=np.asarray(hi),
        tau2=np.asarray(t2), q_within=np.asarray(qw), q_between=qb, q_between_df=qb_df,
        q_between_pval=qb_p, too_small=too_small,
    )
