"""Property-based tests (hypothesis) of the pooling engine: what must hold for any data,
not only for the reference datasets."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from depmeta.stats.pooling import METHODS, TESTS, pool

#: Relative tolerance of the invariances: the same quantities computed from permuted or
#: transformed inputs differ by summation order and by the iterative estimators' stopping
#: rule (relative 1e-14 per step), far below this.
RTOL = 1e-7
#: Absolute floor for quantities that are 0 in exact arithmetic (tau² at the boundary,
#: an estimate of 0) and come out as rounding noise.
ATOL = 1e-9

#: Settings shared by the property tests: deterministic (derandomized, so the suite gives
#: the same verdict on every run and machine) and bounded in time.
PROPS = settings(max_examples=60, deadline=None, derandomize=True,
                 suppress_health_check=[HealthCheck.too_slow])

ESTIMATORS = [m for m in METHODS if m != "EE"]
effects = st.floats(min_value=-5, max_value=5, allow_nan=False, allow_infinity=False)
variances = st.floats(min_value=1e-3, max_value=2.0, allow_nan=False, allow_infinity=False)


@st.composite
def datasets(draw, min_k=2, max_k=12):
    k = draw(st.integers(min_value=min_k, max_value=max_k))
    y = draw(st.lists(effects, min_size=k, max_size=k))
    v = draw(st.lists(variances, min_size=k, max_size=k))
    return np.array(y), np.array(v)


def close(a, b, scale=1.0):
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=RTOL, abs_tol=ATOL * max(1.0, scale))


FIELDS = ("estimate", "se", "ci_low", "ci_high", "pi_low", "pi_high", "tau2", "q", "i2")


@PROPS
@given(data=datasets(), method=st.sampled_from(ESTIMATORS), test=st.sampled_from(TESTS),
       perm_seed=st.integers(0, 2**32 - 1))
def test_invariant_to_study_order(data, method, test, perm_seed):
    y, v = data
    order = np.random.default_rng(perm_seed).permutation(len(y))
    a, b = pool(y, v, method=method, test=test), pool(y[order], v[order], method=method, test=test)
    for f in FIELDS:
        assert close(getattr(a, f), getattr(b, f), scale=np.abs(y).max() + 1), f
    np.testing.assert_allclose(a.weights[order], b.weights, rtol=RTOL, atol=ATOL)


@PROPS
@given(data=datasets(), method=st.sampled_from(ESTIMATORS), test=st.sampled_from(TESTS))
def test_sign_flip_mirrors_the_estimate_and_its_intervals(data, method, test):
    y, v = data
    a, b = pool(y, v, method=method, test=test), pool(-y, v, method=method, test=test)
    s = np.abs(y).max() + 1
    assert close(a.estimate, -b.estimate, s) and close(a.ci_low, -b.ci_high, s) and close(a.ci_high, -b.ci_low, s)
    assert close(a.pi_low, -b.pi_high, s) and close(a.tau2, b.tau2) and close(a.se, b.se)
    assert close(a.pval, b.pval)


@PROPS
@given(data=datasets(), method=st.sampled_from(ESTIMATORS), shift=st.floats(-10, 10))
def test_location_shift_moves_only_the_location(data, method, shift):
    y, v = data
    a, b = pool(y, v, method=method), pool(y + shift, v, method=method)
    s = np.abs(y).max() + abs(shift) + 1
    assert close(a.estimate + shift, b.estimate, s)
    assert close(a.ci_low + shift, b.ci_low, s) and close(a.ci_high + shift, b.ci_high, s)
    for f in ("tau2", "se", "q", "i2"):
        assert close(getattr(a, f), getattr(b, f), s), f


@PROPS
@given(data=datasets(), method=st.sampled_from(METHODS), test=st.sampled_from(TESTS),
       level=st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_tau2_nonnegative_and_intervals_contain_the_estimate(data, method, test, level):
    y, v = data
    r = pool(y, v, method=method, test=test, level=level)
    assert r.tau2 >= 0 and r.se > 0
    assert r.ci_low <= r.estimate <= r.ci_high
    if method != "EE":
        # same quantile (pi="metafor") and a standard error widened by tau²
        assert r.pi_low <= r.ci_low + ATOL and r.ci_high <= r.pi_high + ATOL
        assert r.tau2_ci_low <= r.tau2_ci_high
        if method in ("PM", "EB"):  # the Q-profile interval is built around the PM estimate
            assert r.tau2_ci_low <= r.tau2 + ATOL and r.tau2 <= r.tau2_ci_high + ATOL
    assert 0 <= r.i2 <= 100
    assert 0 <= r.pval <= 1
    np.testing.assert_allclose(r.weights.sum(), 100)


@PROPS
@given(y=effects, v=variances, method=st.sampled_from(METHODS), test=st.sampled_from(TESTS))
def test_single_study_is_its_own_estimate(y, v, method, test):
    r = pool([y], [v], method=method, test=test)
    assert r.k == 1 and r.tau2 == 0 and r.estimate == pytest.approx(y)
    assert r.se == pytest.approx(math.sqrt(v))
    # a t-based test has k - 1 = 0 df: as metafor, the z test is used, and the fit says so
    assert r.test == "z" and r.ci_low <= y <= r.ci_high
    assert (r.note == "") == (test == "z")


@PROPS
@given(data=datasets(min_k=2, max_k=2), method=st.sampled_from(ESTIMATORS))
def test_two_studies(data, method):
    y, v = data
    r = pool(y, v, method=method, pi="t_k2")
    assert r.k == 2 and r.q_df == 1 and min(y) - ATOL <= r.estimate <= max(y) + ATOL
    assert math.isnan(r.pi_low)  # t with k - 2 = 0 df: no prediction interval


@PROPS
@given(y=effects, v=st.lists(variances, min_size=2, max_size=10), method=st.sampled_from(METHODS))
def test_identical_effects_have_no_heterogeneity(y, v, method):
    r = pool([y] * len(v), v, method=method)
    assert r.estimate == pytest.approx(y, abs=ATOL)
    assert r.tau2 == pytest.approx(0, abs=ATOL) and r.q == pytest.approx(0, abs=ATOL)
    assert r.i2 == pytest.approx(0, abs=1e-6)


@PROPS
@given(data=datasets(min_k=3), method=st.sampled_from(ESTIMATORS),
       scale=st.sampled_from([1e-8, 1e-4, 1e4, 1e8]))
def test_tiny_and_huge_variances(data, method, scale):
    y, v = data
    r = pool(y, v * scale, method=method)
    for f in ("estimate", "se", "ci_low", "ci_high", "tau2", "q", "i2"):
        assert math.isfinite(getattr(r, f)), f
    assert r.tau2 >= 0 and r.ci_low <= r.estimate <= r.ci_high
    assert min(y) - 1e-6 <= r.estimate <= max(y) + 1e-6  # a weighted mean of the yi


@PROPS
@given(data=datasets(min_k=3), method=st.sampled_from(ESTIMATORS), factor=st.floats(0.5, 2.0))
def test_scaling_effects_and_variances_together(data, method, factor):
    # y -> c y, v -> c² v: the same meta-analysis in other units.
    y, v = data
    assume(factor != 1.0)
    a, b = pool(y, v, method=method), pool(factor * y, factor**2 * v, method=method)
    s = np.abs(y).max() + 1
    assert close(factor * a.estimate, b.estimate, s) and close(factor**2 * a.tau2, b.tau2, s)
    assert close(a.i2, b.i2, 100) and close(a.q, b.q, s)


@pytest.mark.parametrize("bad", [math.nan, 0.0, -0.1, math.inf])
def test_nan_or_nonpositive_variance_is_rejected(bad):
    v = [0.1, bad, 0.2]
    with pytest.raises(ValueError, match=r"(finite|positive).*study 2 of 3"):
        pool([0.1, 0.2, 0.3], v)


@PROPS
@given(data=datasets(), index=st.integers(0, 11), bad=st.sampled_from([math.nan, 0.0, -1.0, -1e-12]))
def test_any_bad_variance_is_rejected_with_a_clear_error(data, index, bad):
    y, v = data
    v = v.copy()
    v[index % len(v)] = bad
    with pytest.raises(ValueError, match=rf"(finite|positive).*study {index % len(v) + 1} of {len(v)}\b"):
        pool(y, v)


def test_nan_effect_is_rejected():
    with pytest.raises(ValueError, match="finite.*study 2 of 2"):
        pool([0.1, math.nan], [0.1, 0.1])
