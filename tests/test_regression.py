"""Parity of meta-regression, subgroup analyses and permutation tests with metafor 3.8-1.

References: tests/reference/regression.json (made by tests/reference/generate_regression.R
with tight control, tol 1e-12) and ``meta_regression``/``subgroup_common_tau2`` in
../shared/reference/metafor/bcg.json.

Tolerances:
- RTOL = 1e-6: the project's promise of six significant digits; the fits agree
  far better (about 1e-10), the margin absorbs only the order of summation.
- ATOL = 1e-8: for quantities at or near zero (tau² at the boundary, an R² of 0).
- Permutation p-values are counts over the same enumerated permutations, so
  they must agree exactly (PERM_ATOL = 1e-12 only absorbs the division).
Known divergences: none. Seeded (non-exact) permutation tests are not compared
with metafor: R's and numpy's random streams differ.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from depmeta.stats.regression import (
    distinct_permutations,
    meta_regression,
    permutation_test,
    subgroup_analysis,
)
from tests.conftest import load_reference

RTOL = 1e-6
ATOL = 1e-8
PERM_ATOL = 1e-12

REF = json.loads((Path(__file__).parent / "reference" / "regression.json").read_text())
INPUT = REF["subgroups"]["input"]
YI, VI = np.array(INPUT["yi"]), np.array(INPUT["vi"])
MODS = {"ablat": ["ablat"], "year": ["year"], "ablat_year": ["ablat", "year"]}


def _close(ours, theirs):
    ours = np.atleast_1d(np.asarray(ours, float))
    theirs = np.atleast_1d(theirs)
    theirs = np.asarray([np.nan if t is None else t for t in theirs], float)
    assert ours.shape == theirs.shape
    for a, b in zip(ours, theirs):
        if math.isnan(b):
            assert math.isnan(a)
        else:
            assert math.isclose(a, b, rel_tol=RTOL, abs_tol=ATOL), (a, b)


def _mods(model, rows=slice(None)):
    return np.column_stack([np.array(INPUT[m], float)[rows] for m in MODS[model]])


@pytest.mark.parametrize("case", sorted(REF["regression"]))
def test_meta_regression_matches_metafor(case):
    ref = REF["regression"][case]
    fit = meta_regression(YI, VI, _mods(ref["model"]), MODS[ref["model"]],
                          method=ref["method"], test=ref["test"])
    assert fit.k == ref["k"] and fit.p == ref["p"]
    for ours, theirs in (("coef", "coef"), ("se", "se"), ("stat", "stat"), ("pval", "pval"),
                         ("ci_low", "ci_lb"), ("ci_high", "ci_ub"), ("tau2", "tau2"), ("qm", "qm"),
                         ("qm_df", "qm_df"), ("qm_pval", "qm_pval"), ("qe", "qe"),
                         ("qe_df", "qe_df"),
                         ("qe_pval", "qe_pval"), ("i2", "i2"), ("h2", "h2"), ("r2", "r2")):
        _close(getattr(fit, ours), ref[theirs])
    if ref["test"] != "z":
        assert fit.df == ref["df"] and fit.qm_df2 == ref["qm_df2"]
    else:
        assert math.isinf(fit.df)


def test_meta_regression_matches_shared_bcg_reference():
    ref = load_reference("bcg")["meta_regression"]
    z = meta_regression(YI, VI, INPUT["ablat"], ["ablat"], method="REML")
    k = meta_regression(YI, VI, INPUT["ablat"], ["ablat"], method="REML", test="knha")
    _close(z.coef, ref["coef"])
    _close(z.se, ref["se"])
    for ours, theirs in (("tau2", "tau2"), ("qm", "qm"), ("qm_pval", "qm_pval"), ("qe", "qe"),
                         ("r2", "r2")):
        _close(getattr(z, ours), ref[theirs])
    _close(k.se, ref["knha_se"])
    _close(k.qm, ref["knha_f"])
    _close(k.qm_pval, ref["knha_pval"])


def test_subgroup_common_tau2_matches_shared_bcg_reference():
    ref = load_reference("bcg")["subgroup_common_tau2"]
    res = subgroup_analysis(YI, VI, INPUT["alloc"], tau2="common", method="REML")
    _close(res.q_between, ref["qm"])
    assert res.q_between_df == ref["qm_df"]
    _close(res.q_between_pval, ref["qm_pval"])


@pytest.mark.parametrize("method", ["REML", "DL"])
def test_subgroups_match_metafor(method):
    common = REF["subgroups"][f"common_{method}"]
    res = subgroup_analysis(YI, VI, INPUT["alloc"], tau2="common", method=method)
    assert list(res.groups) == common["groups"]
    _close(res.estimate, common["estimate"])
    _close(res.se, common["se"])
    _close(res.tau2, [common["tau2"]] * len(res.groups))
    _close(res.q_between, common["qm"])
    _close(res.q_between_pval, common["qm_pval"])

    sep = REF["subgroups"][f"separate_{method}"]
    res = subgroup_analysis(YI, VI, INPUT["alloc"], tau2="separate", method=method)
    assert list(res.groups) == sep["groups"]
    assert list(res.k) == sep["k"]
    for ours, theirs in (("estimate", "estimate"), ("se", "se"), ("tau2", "tau2"),
                         ("q_within", "q_within"),
                         ("q_between", "qm"), ("q_between_pval", "qm_pval")):
        _close(getattr(res, ours), sep[theirs])
    assert res.q_between_df == sep["qm_df"]


def test_subgroup_lists_groups_too_small():
    groups = ["a"] * 5 + ["b"] * 7 + ["c"]
    res = subgroup_analysis(YI, VI, groups, min_per_group=2)
    assert res.groups == ("a", "b")
    assert res.too_small == (("c", 1),)
    one = subgroup_analysis(YI[:6], VI[:6], ["a"] * 5 + ["c"])
    assert one.groups == ("a",) and math.isnan(one.q_between)


@pytest.mark.parametrize("case", sorted(REF["permutest"]))
def test_exact_permutation_test_matches_metafor(case):
    ref = REF["permutest"][case]
    rows = np.array(ref["rows"]) - 1
    y, v = YI[rows], VI[rows]
    if ref["moderator"] == "alloc":
        alloc = np.array(INPUT["alloc"])[rows]
        levels = sorted(set(alloc))
        mods = (alloc[:, None] == np.array(levels[1:])[None, :]).astype(float)
    elif ref["moderator"]:
        mods = np.array(INPUT[ref["moderator"]], float)[rows]
    else:
        mods = None
    res = permutation_test(y, v, mods, method=ref["method"], test=ref["test"], exact_limit=10_000)
    assert res.exact and res.iterations == ref["iterations"] and res.failed == 0
    _close(res.stat, ref["stat"])
    _close(res.qm, ref["qm"])
    np.testing.assert_allclose(res.pval, np.atleast_1d(ref["pval"]), rtol=0, atol=PERM_ATOL)
    assert abs(res.qm_pval - ref["qm_pval"]) <= PERM_ATOL


def test_distinct_permutations_counts_ties():
    assert distinct_permutations(np.array([[1.0], [2.0], [2.0], [3.0]])) == 12
    assert distinct_permutations(np.array([[0.0], [0.0], [1.0]])) == 3


def test_seeded_permutation_test_is_reproducible_and_close_to_exact():
    mods = np.array(INPUT["ablat"], float)[:7]
    exact = permutation_test(YI[:7], VI[:7], mods, exact_limit=10_000)
    a = permutation_test(YI[:7], VI[:7], mods, iterations=2000, exact_limit=0, seed=7)
    b = permutation_test(YI[:7], VI[:7], mods, iterations=2000, exact_limit=0, seed=7)
    assert not a.exact and a.iterations == 2000 and a.seed == 7
    np.testing.assert_array_equal(a.pval, b.pval)
    # Monte Carlo error of a proportion near 0.2 from 2000 draws: sd about 0.009.
    MC_ATOL = 0.05
    np.testing.assert_allclose(a.pval, exact.pval, atol=MC_ATOL)


def test_bad_input_is_rejected():
    with pytest.raises(ValueError, match="rows"):
        meta_regression(YI, VI, np.ones(3))
    with pytest.raises(ValueError, match="collinear"):
        meta_regression(YI, VI, np.column_stack([INPUT["ablat"], INPUT["ablat"]]))
    with pytest.raises(ValueError, match="finite"):
        meta_regression(YI, VI, np.r_[np.nan, INPUT["ablat"][1:]])
    with pytest.raises(ValueError, match="more studies"):
        meta_regression(YI[:2], VI[:2], INPUT["ablat"][:2])


def test_explicit_orders_reproduce_the_exact_distribution():
    from itertools import permutations

    mods = np.array(INPUT["ablat"], float)[:7]
    exact = permutation_test(YI[:7], VI[:7], mods, exact_limit=10_000)
    # All 7! orders: each distinct one twice (ablat has one tie), so the same proportions.
    orders = np.array(list(permutations(range(7))))
    given = permutation_test(YI[:7], VI[:7], mods, orders=orders)
    assert not given.exact and given.iterations == 2 * exact.iterations == len(orders)
    np.testing.assert_allclose(given.pval, exact.pval, rtol=0, atol=PERM_ATOL)
    np.testing.assert_allclose(np.sort(given.qm_perm)[::2], np.sort(exact.qm_perm), rtol=RTOL)
    with pytest.raises(ValueError, match="permutation"):
        permutation_test(YI[:7], VI[:7], mods, orders=np.zeros((3, 7), int))


@pytest.mark.parametrize("tau2", ["separate", "common"])
def test_a_knapp_hartung_fit_without_residual_heterogeneity_has_no_qm(tau2):
    """Trials with the same effect and variance (reported effects rounded alike): the
    Knapp-Hartung factor is 0 and so is the covariance of the coefficients, which cannot be
    inverted; QM is missing, as metafor's NA (its try(chol(vb))), and the subgroups get no
    between-group test rather than an error."""
    fit = meta_regression([-1.2, -1.2], [0.01, 0.01], None, method="DL", test="knha")
    assert (fit.coef[0], fit.se[0]) == (-1.2, 0.0) and math.isnan(fit.qm) and math.isnan(fit.qm_pval)
    with np.errstate(divide="ignore", invalid="ignore"):
        res = subgroup_analysis([-1.2, -1.2, 0.3, 0.3], [0.01] * 4, ["a", "a", "b", "b"], tau2=tau2, method="DL",
                                test="knha")
    assert res.estimate.tolist() == [-1.2, 0.3] and math.isnan(res.q_between_pval)
    # effects on a line of the moderator: the orders that keep the line have no QM and are left out of
    # the permutation distribution, the others keep theirs; the observed order has no QM, so no p-value
    perm = permutation_test([0.1, 0.2, 0.3, 0.4], [0.01] * 4, [1, 2, 3, 4], method="DL", test="knha")
    assert (perm.exact, perm.failed, len(perm.qm_perm)) == (True, 2, 22) and np.isfinite(perm.qm_perm).all()
    assert math.isnan(perm.qm) and math.isnan(perm.qm_pval)
