"""The engine at its boundaries, against metafor (tests/reference/boundary.json, made by
tests/reference/generate_boundary.R): REML/ML stuck at a local maximum (metafor's ll0check),
one study under Knapp-Hartung, multi-arm standardised mean differences with one standardiser
per trial; and the low-level functions refusing invalid input with a clear error.

Tolerances: RTOL/ATOL as test_parity_metafor (six significant digits; 1e-8 absolute near
zero). The local-maximum references use metafor's default control, whose Fisher scoring stops
once tau² changes by less than 1e-5 in absolute terms (``threshold``), so an interior tau² of
theirs is only that accurate: it is compared at an absolute 1e-6 (it is 3.4e-7 here) and the
estimate at ROOT_RTOL = 1e-4. The two-peak references are run to convergence (tol and
threshold 1e-12) and compared at RTOL."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest

from depmeta import pool, q_profile, tau2_estimate
from depmeta.stats.network import contrasts_from_arms, fit_network
from depmeta.stats.pooling import LocalMaximumWarning, pool_batch
from depmeta.stats.regression import meta_regression
from depmeta.stats.sensitivity import gosh

RTOL, ATOL = 1e-6, 1e-8
ROOT_RTOL = 1e-4
REF = json.loads((Path(__file__).parent / "reference" / "boundary.json").read_text())
PRITZ = REF["local_maximum"]["pritz1997"]


# --- REML / ML at a local maximum --------------------------------------------------------


@pytest.mark.parametrize("method", ["REML", "ML"])
def test_pool_compares_the_root_with_tau2_zero_as_metafor(method):
    ref = PRITZ[method]
    y, v = PRITZ["input"]["yi"], PRITZ["input"]["vi"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = pool(y, v, method=method)
    if ref["warned"]:
        assert res.tau2 == 0.0
        assert any(issubclass(w.category, LocalMaximumWarning) for w in caught)
        assert "tau² = 0" in res.note
    else:
        assert math.isclose(res.tau2, ref["fit"]["tau2"], rel_tol=ROOT_RTOL, abs_tol=1e-6)
        assert not any(issubclass(w.category, LocalMaximumWarning) for w in caught)
    for ours, theirs in (("estimate", "beta"), ("se", "se"), ("ci_low", "ci_lb"), ("ci_high", "ci_ub")):
        assert math.isclose(getattr(res, ours), ref["fit"][theirs], rel_tol=ROOT_RTOL if not ref["warned"] else RTOL,
                            abs_tol=ATOL), ours


def test_the_pritz_subset_is_a_local_maximum_in_both_engines():
    """The documented case: the root metafor's scoring reaches (ll0check off) is the engine's
    Fisher root, and the likelihood at 0 is higher, so both set tau² = 0."""
    ref = PRITZ["REML"]
    assert ref["warned"] and ref["fit"]["loglik"] > ref["root"]["loglik"]
    assert math.isclose(ref["root"]["tau2"], 0.4378601, rel_tol=1e-6)
    assert math.isclose(ref["fit"]["beta"], 0.3931312, rel_tol=1e-6)
    y, v = PRITZ["input"]["yi"], PRITZ["input"]["vi"]
    assert tau2_estimate(y, v, "REML")[0] == 0.0


@pytest.mark.parametrize("method", ["REML", "ML"])
def test_batch_and_single_fits_agree_at_a_local_maximum(method):
    y = np.asarray(PRITZ["input"]["yi"])
    v = np.asarray(PRITZ["input"]["vi"])
    # the pritz subset beside two ordinary columns
    rng = np.random.default_rng(7)
    Y = np.column_stack([y, rng.normal(0.3, 0.5, 5), rng.normal(0, 0.1, 5)])
    V = np.column_stack([v, rng.uniform(0.05, 0.2, 5), rng.uniform(0.05, 0.2, 5)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LocalMaximumWarning)
        b = pool_batch(Y, V, method=method)
        singles = [pool(Y[:, j], V[:, j], method=method) for j in range(3)]
    np.testing.assert_allclose(b.tau2, [s.tau2 for s in singles], rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(b.estimate, [s.estimate for s in singles], rtol=1e-10)
    if PRITZ[method]["warned"]:
        assert b.tau2[0] == 0.0


def test_gosh_points_carry_the_ll0check():
    """Every subset fit of a GOSH plot is a pool: the pritz subset's point is at tau² = 0."""
    y = np.asarray(PRITZ["input"]["yi"])
    v = np.asarray(PRITZ["input"]["vi"])
    g = gosh(y, v, method="REML")
    full = np.flatnonzero(g.incl.all(axis=1))
    assert len(full) == 1 and g.tau2[full[0]] == 0.0
    assert math.isclose(g.estimate[full[0]], PRITZ["REML"]["fit"]["beta"], rel_tol=RTOL)


def test_meta_regression_compares_the_root_with_tau2_zero_as_metafor():
    ref = REF["local_maximum"]["bcg_ablat"]
    assert ref["REML"]["warned"]
    inp = ref["input"]
    res = meta_regression(inp["yi"], inp["vi"], inp["x"], method="REML")
    fit = ref["REML"]["fit"]
    assert res.tau2 == 0.0
    np.testing.assert_allclose(res.coef, fit["beta"], rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(res.se, fit["se"], rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(res.ci_low, fit["ci_lb"], rtol=RTOL, atol=ATOL)
    assert "tau² = 0" in res.note


TWO_PEAKS = json.loads((Path(__file__).parent / "reference" / "two_peaks_input.json").read_text())["cases"]


def _loglik(y, v, X, tau2, restricted):
    w = 1 / (v + tau2)
    M = X.T @ (w[:, None] * X)
    r = y - X @ np.linalg.solve(M, X.T @ (w * y))
    ll = -0.5 * (np.log(v + tau2).sum() + (w * r**2).sum())
    return ll - 0.5 * np.linalg.slogdet(M)[1] if restricted else ll


@pytest.mark.parametrize("case", range(len(TWO_PEAKS)))
def test_two_peaks_reach_metafors_root_or_a_higher_one(case):
    """With two peaks of the likelihood, the accelerated scoring may leave the basin metafor's
    plain scoring climbs; where it ends at 0 the plain scoring runs again. The engine's root is
    metafor's, or (case 7 of 9, a meta-regression) a higher peak of the same likelihood."""
    c, ref = TWO_PEAKS[case], REF["local_maximum"]["two_peaks"][case]
    y, v = np.asarray(c["y"]), np.asarray(c["v"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LocalMaximumWarning)
        if c["x"] is None:
            fit = pool(y, v, method=c["method"])
            tau2, X = fit.tau2, np.ones((len(y), 1))
            assert math.isclose(tau2_estimate(y, v, c["method"])[0], tau2, rel_tol=1e-12)
            assert math.isclose(meta_regression(y, v, None, method=c["method"]).tau2, tau2, rel_tol=RTOL)
        else:
            fit = meta_regression(y, v, c["x"], method=c["method"])
            tau2, X = fit.tau2, np.column_stack([np.ones(len(y)), c["x"]])
    restricted = c["method"] == "REML"
    ours, theirs = _loglik(y, v, X, tau2, restricted), _loglik(y, v, X, ref["tau2"], restricted)
    if math.isclose(tau2, ref["tau2"], rel_tol=RTOL):
        return
    assert case == 6 and ours > theirs + 1e-3, (tau2, ref["tau2"], ours, theirs)


@pytest.mark.parametrize("moderator", [True, False])
def test_an_unconverged_fit_is_not_an_estimate(monkeypatch, moderator):
    """The one engine behind pool and meta_regression: a fit that has not converged in MAXITER
    steps is nan, with a moderator (the p x p sums) or without (the intercept-only sums)."""
    from depmeta.stats import tau2 as engine

    y, v = np.asarray(TWO_PEAKS[3]["y"]), np.asarray(TWO_PEAKS[3]["v"])
    X = np.column_stack([np.ones(len(y)), TWO_PEAKS[3]["x"]])[:, None, :] if moderator else None
    monkeypatch.setattr(engine, "MAXITER", 1)
    tau2, reset = engine.estimate(engine.design(y[:, None], v[:, None], X), "ML")
    assert np.isnan(tau2[0]) and not reset[0]


# --- one study ---------------------------------------------------------------------------


@pytest.mark.parametrize("test", ["knha", "adhoc", "t"])
def test_one_study_falls_back_to_z_as_metafor(test):
    ref = REF["k1_knha"]
    res = pool([ref["input"]["yi"]], [ref["input"]["vi"]], test=test)
    assert res.test == "z" and math.isinf(res.df) and "k = 1" in res.note
    for ours, theirs in (("estimate", "estimate"), ("se", "se"), ("stat", "zval"), ("pval", "pval"),
                         ("ci_low", "ci_lb"), ("ci_high", "ci_ub"), ("pi_low", "pi_lb"), ("pi_high", "pi_ub"),
                         ("tau2", "tau2"), ("i2", "I2"), ("h2", "H2"), ("q", "QE"), ("q_pval", "QEp")):
        assert math.isclose(getattr(res, ours), ref[theirs], rel_tol=RTOL, abs_tol=ATOL), ours
    b = pool_batch([[ref["input"]["yi"]]], [[ref["input"]["vi"]]], test=test)
    assert b.test == "z" and math.isclose(b.se[0], ref["se"], rel_tol=RTOL)
    assert math.isclose(b.ci_low[0], ref["ci_lb"], rel_tol=RTOL) and b.q_pval[0] == 1.0


# --- multi-arm SMD -----------------------------------------------------------------------


def _senn_smd():
    inp = REF["multiarm_smd"]["input"]
    return contrasts_from_arms(inp["study"], inp["treatment"], "SMD", inp["n"], mean=inp["mean"], sd=inp["sd"])


def test_multi_arm_smd_contrasts_share_one_standardiser_as_the_reference():
    out, excluded = _senn_smd()
    assert not excluded
    ref = REF["multiarm_smd"]
    yi = dict()
    for s, t1, t2, y in zip(*(ref["contrasts"][c] for c in ("study", "t1", "t2", "yi"))):
        yi.setdefault(s, []).append(y)
    assert {c.study for c in out} == set(yi)
    for c in out:
        np.testing.assert_allclose(c.y, yi[c.study], rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(c.cov, np.atleast_2d(ref["V"][c.study]), rtol=RTOL, atol=ATOL)


def test_multi_arm_smd_contrasts_add_up_within_the_trial():
    out, _ = _senn_smd()
    three = [c for c in out if len(c.arms) == 3]
    assert len(three) == 1
    Y, _ = three[0].pairwise()
    assert math.isclose(Y[0, 2], Y[0, 1] + Y[1, 2], rel_tol=1e-12)


def test_multi_arm_smd_network_matches_rma_mv():
    out, _ = _senn_smd()
    ref = REF["multiarm_smd"]["fit"]
    fit = fit_network(out, method="REML", reference=ref["reference"])
    assert math.isclose(fit.tau2, ref["tau2"], rel_tol=RTOL)
    for t, b in ref["coef"].items():
        # the fit's d are the effects of each treatment against the reference
        assert math.isclose(fit.d[fit.index(t)], b, rel_tol=RTOL, abs_tol=ATOL), t


# --- invalid input -----------------------------------------------------------------------


BAD = [
    ([0.1, np.nan, 0.3], [0.1, 0.1, 0.1], "finite"),
    ([0.1, 0.2, 0.3], [0.1, -0.1, 0.1], "positive"),
    ([0.1, 0.2, 0.3], [0.1, np.nan, 0.1], "finite"),
    ([0.1, 0.2, 0.3, 0.4, 0.5], [0.1, 0.1, 0.1, 0.1], "same"),
]


@pytest.mark.parametrize("method", ["REML", "PM", "HE", "DL"])
@pytest.mark.parametrize("y, v, message", BAD)
def test_tau2_estimate_refuses_invalid_input(method, y, v, message):
    with pytest.raises(ValueError, match=message):
        tau2_estimate(y, v, method)


def test_one_study_has_no_tau2_estimate_and_levels_are_checked():
    with pytest.raises(ValueError, match="at least two studies"):
        tau2_estimate([0.5], [0.1], "PM")
    with pytest.raises(ValueError, match="level"):
        pool_batch([[0.1], [0.2]], [[0.1], [0.1]], level=2)
    with pytest.raises(ValueError, match="level"):
        q_profile([0.1, 0.2, 0.3], [0.1, 0.1, 0.1], level=1.5)


@pytest.mark.parametrize("y, v, message", BAD)
def test_q_profile_and_pool_batch_refuse_invalid_input(y, v, message):
    with pytest.raises(ValueError, match=message):
        q_profile(y, v)
    with pytest.raises(ValueError, match=message):
        pool_batch(y, v)


def test_pool_refuses_a_two_dimensional_array():
    with pytest.raises(ValueError, match="one-dimensional"):
        pool(np.ones((3, 2)) * 0.1, np.ones((3, 2)) * 0.1)


@pytest.mark.parametrize("measure, kwargs, message", [
    ("RR", dict(events=[12, 5], n=[10, 10]), "events"),
    ("RD", dict(events=[2, 5], n=[-10, 10]), "positive"),
    ("OR", dict(events=[-1, 5], n=[10, 10]), "events"),
    ("SMD", dict(mean=[1, 2], sd=[-1, 1], n=[10, 10]), "positive"),
    ("MD", dict(mean=[1, np.nan], sd=[1, 1], n=[10, 10]), "finite"),
])
def test_contrasts_from_arms_refuses_impossible_arms(measure, kwargs, message):
    with pytest.raises(ValueError, match=message):
        contrasts_from_arms(["s1", "s1"], ["a", "b"], measure, **kwargs)
