"""depmeta.stats.distributions returns what scipy.stats returns.

Tolerance: none (``assert_array_equal``). Both evaluate the same ``scipy.special``
functions, so any difference would be a different formula, not rounding.
"""

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from scipy import stats

from depmeta.stats import distributions as dist

X = np.array([-np.inf, -40.0, -8.5, -3.0, -1.959963984540054, -0.5, 0.0, 1e-12, 0.3, 1.0, 2.5, 7.0, 39.0,
              1e3, np.inf, np.nan])
Q = np.array([0.0, 1e-300, 1e-12, 0.001, 0.025, 0.05, 0.3, 0.5, 0.7, 0.95, 0.975, 0.999, 1 - 1e-12, 1.0, -0.1,
              1.1, np.nan])
DF = [0.5, 1, 2, 3, 7.5, 30, 1e6, np.inf]


def same(a, b):
    assert np.shape(a) == np.shape(b)
    assert_array_equal(a, b)


def test_normal():
    same(dist.norm_cdf(X), stats.norm.cdf(X))
    same(dist.norm_sf(X), stats.norm.sf(X))
    same(dist.norm_ppf(Q), stats.norm.ppf(Q))


@pytest.mark.parametrize("df", DF)
def test_t(df):
    same(dist.t_sf(X, df), stats.t.sf(X, df))
    same(dist.t_ppf(Q, df), stats.t.ppf(Q, df))


@pytest.mark.parametrize("df", [d for d in DF if np.isfinite(d)])
def test_chi2(df):
    x = np.abs(X)
    same(dist.chi2_sf(x, df), stats.chi2.sf(x, df))
    same(dist.chi2_cdf(x, df), stats.chi2.cdf(x, df))
    same(dist.chi2_sf(X, df), stats.chi2.sf(X, df))
    same(dist.chi2_ppf(Q, df), stats.chi2.ppf(Q, df))


@pytest.mark.parametrize("dfn,dfd", [(1, 1), (1, 5), (3, 12), (2, 200.5)])
def test_f(dfn, dfd):
    same(dist.f_sf(X, dfn, dfd), stats.f.sf(X, dfn, dfd))


def test_scalars_and_arrays_of_degrees_of_freedom():
    assert isinstance(dist.norm_ppf(0.975), np.float64)
    assert isinstance(dist.t_sf(2.0, 4), np.float64)
    assert dist.norm_ppf(0.975) == stats.norm.ppf(0.975)
    dfs = np.array([1.0, 4.0, np.inf, 0.0, -1.0])
    for q in (0.0, 1.0, 0.975):
        same(dist.t_ppf(q, dfs), stats.t.ppf(q, dfs))
        same(dist.chi2_ppf(q, dfs), stats.chi2.ppf(q, dfs))
    same(dist.t_ppf(0.975, dfs), stats.t.ppf(0.975, dfs))
    same(dist.t_sf(2.0, dfs), stats.t.sf(2.0, dfs))
    same(dist.chi2_sf(3.0, dfs[:2]), stats.chi2.sf(3.0, dfs[:2]))
    same(dist.chi2_sf(3.0, np.array([0.0, -1.0])), stats.chi2.sf(3.0, np.array([0.0, -1.0])))
