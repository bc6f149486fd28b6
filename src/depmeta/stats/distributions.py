"""Normal, t, chi-square and F tail probabilities and quantiles, from ``scipy.special``.

The same special functions ``scipy.stats`` evaluates for ``norm``, ``t``, ``chi2`` and ``f``
(``ndtr``/``ndtri``, ``stdtr``/``stdtrit``, ``chdtr``/``chdtrc``/``gammaincinv``, ``fdtrc``),
called directly. Why not ``scipy.stats`` itself: importing it costs about 0.7 s more than
``scipy.special`` (it builds every distribution's docstrings at import), and every pipeline
job is a fresh interpreter that imports the engine, so the import was the largest share of a
small job's time. The values are the ones ``scipy.stats`` returns, bit for bit, on the
arguments the engine passes (probabilities in [0, 1], degrees of freedom > 0 or infinite);
``tests/test_distributions.py`` compares them over a grid that includes the edges.
"""

from __future__ import annotations

import numpy as np
from scipy import special

__all__ = ["chi2_cdf", "chi2_ppf", "chi2_sf", "f_sf", "norm_cdf", "norm_ppf", "norm_sf", "t_ppf", "t_sf"]


def _out(x):
    """A NumPy scalar for scalar arguments (as ``scipy.stats`` returns), else the array."""
    return x[()] if isinstance(x, np.ndarray) else np.float64(x)


def _prob(q):
    q = np.asarray(q, dtype=float)
    return np.where((q >= 0) & (q <= 1), q, np.nan)


def _df(df):
    df = np.asarray(df, dtype=float)
    return np.where(df > 0, df, np.nan)


def _quantile(q, df, lower, fn):
    """``fn(df, q)`` with the support's ends at q = 0 and 1 set as ``scipy.stats`` sets them."""
    q, df = np.broadcast_arrays(_prob(q), _df(df))
    inner = fn(df, np.where((q > 0) & (q < 1), q, 0.5))
    ends = np.where(q == 0, lower, np.where(q == 1, np.inf, inner))
    return _out(np.where(np.isnan(df) | np.isnan(q), np.nan, ends))


def norm_cdf(x):
    """Standard normal distribution function."""
    return _out(special.ndtr(np.asarray(x, dtype=float)))


def norm_sf(x):
    """Standard normal upper tail, ``1 - norm_cdf(x)`` without cancellation."""
    return _out(special.ndtr(-np.asarray(x, dtype=float)))


def norm_ppf(q):
    """Standard normal quantile."""
    return _out(special.ndtri(_prob(q)))


def t_sf(x, df):
    """Upper tail of Student's t with ``df`` degrees of freedom (``df = inf`` allowed)."""
    return _out(special.stdtr(_df(df), -np.asarray(x, dtype=float)))


def t_ppf(q, df):
    """Quantile of Student's t (``df = inf`` allowed)."""
    # stdtrit itself returns +inf at q = 0
    return _quantile(q, df, -np.inf, special.stdtrit)


def chi2_cdf(x, df):
    """Chi-square distribution function."""
    x = np.asarray(x, dtype=float)
    return _out(np.where(x < 0, 0.0, special.chdtr(_df(df), np.maximum(x, 0))))


def chi2_sf(x, df):
    """Chi-square upper tail."""
    x = np.asarray(x, dtype=float)
    return _out(np.where(x < 0, 1.0, special.chdtrc(_df(df), np.maximum(x, 0))))


def chi2_ppf(q, df):
    """Chi-square quantile."""
    return _quantile(q, df, 0.0, lambda df, q: 2 * special.gammaincinv(df / 2, q))


def f_sf(x, dfn, dfd):
    """Upper tail of the F distribution."""
    x = np.asarray(x, dtype=float)
    return _out(np.where(x < 0, 1.0, special.fdtrc(_df(dfn), _df(dfd), np.maximum(x, 0))))
