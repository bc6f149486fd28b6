"""Small-study tests (depmeta.stats.bias) against metafor 3.8-1.

Reference numbers: ``diagnostics`` of ../shared/reference/metafor/*.json
(``regtest``, ``egger_lm``, ``ranktest``, ``trimfill``), made by
../shared/reference/metafor/generate.R.

Tolerances:
- RTOL = 1e-6: the project's promise; regtest and ranktest agree to about 1e-10.
- TRIMFILL_RTOL = 1e-5: metafor's ``trimfill()`` refits the filled data at
  rma.uni's *default* convergence (tau² change below 1e-5), whatever control the
  model had, so the shared reference's estimate, se and tau² lie up to ~4e-6
  (relative) from the exact REML root the engine computes; against trimfill
  run with tight control (``trimfill(m, control = tight)``) it is 1e-10.
  k0 and side are compared exactly.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from depmeta.stats.bias import pet_peese, ranktest, regtest, trimfill
from depmeta.stats.pooling import pool
from tests.conftest import load_reference

RTOL = 1e-6
TRIMFILL_RTOL = 1e-5

CASES = {"bcg": "RR", "linde2005": "RR", "normand1999": "SMD"}


def _data(name):
    ref = load_reference(name)[CASES[name]]
    es = ref["escalc"]
    yi = np.array([np.nan if x is None else x for x in es["yi"]], float)
    vi = np.array([np.nan if x is None else x for x in es["vi"]], float)
    keep = np.isfinite(yi)
    return yi[keep], vi[keep], ref["diagnostics"]


@pytest.mark.parametrize("name", list(CASES))
def test_regtest_rma_sei_matches_metafor(name):
    yi, vi, d = _data(name)
    ref = d["regtest"]
    res = regtest(yi, vi, model="rma", predictor="sei", method="REML", test="z")
    assert res.k == yi.size and math.isinf(res.df)
    assert res.stat == pytest.approx(ref["stat"], rel=RTOL)
    assert res.pval == pytest.approx(ref["pval"], rel=RTOL)
    assert res.est == pytest.approx(ref["limit_estimate"], rel=RTOL)


@pytest.mark.parametrize("name", list(CASES))
def test_regtest_lm_matches_metafor(name):
    yi, vi, d = _data(name)
    ref = d["egger_lm"]
    res = regtest(yi, vi, model="lm")
    assert res.df == ref["df"] == yi.size - 2
    assert res.stat == pytest.approx(ref["stat"], rel=RTOL)
    assert res.pval == pytest.approx(ref["pval"], rel=RTOL)


@pytest.mark.parametrize("name", list(CASES))
def test_ranktest_matches_metafor(name):
    yi, vi, d = _data(name)
    ref = d["ranktest"]
    res = ranktest(yi, vi)
    assert res.exact  # no ties in these datasets: R's exact Kendall distribution
    assert res.kendall_tau == pytest.approx(ref["kendall_tau"], rel=RTOL)
    assert res.pval == pytest.approx(ref["pval"], rel=RTOL)


@pytest.mark.parametrize("name", list(CASES))
def test_trimfill_matches_metafor(name):
    yi, vi, d = _data(name)
    ref = d["trimfill"]
    res = trimfill(yi, vi, method="REML")
    assert (res.k0, res.side) == (ref["k0"], ref["side"])
    assert res.yi_fill.size == res.vi_fill.size == res.k0
    assert res.pooled.k == yi.size + res.k0
    assert res.estimate == pytest.approx(ref["estimate"], rel=TRIMFILL_RTOL)
    assert res.se == pytest.approx(ref["se"], rel=TRIMFILL_RTOL)
    assert res.tau2 == pytest.approx(ref["tau2"], rel=TRIMFILL_RTOL)


def test_trimfill_without_missing_studies_is_the_observed_fit():
    yi, vi, _ = _data("normand1999")
    res = trimfill(yi, vi)
    assert res.k0 == 0
    assert res.estimate == pool(yi, vi).estimate


def test_trimfill_filled_studies_mirror_the_trimmed_ones():
    yi, vi, _ = _data("linde2005")
    res = trimfill(yi, vi, side="left")
    # Filled studies carry the variances of the most extreme studies on the other side.
    assert set(np.round(res.vi_fill, 12)) <= set(np.round(vi, 12))


def test_meta_regression_intercept_only_equals_pool():
    # regtest's random-effects model is depmeta.stats.regression.meta_regression; without
    # moderators it is the pooled model
    from depmeta.stats.regression import meta_regression

    yi, vi, _ = _data("bcg")
    for method in ("REML", "ML", "DL", "PM", "HE", "EE"):
        fit = meta_regression(yi, vi, None, method=method)
        ref = pool(yi, vi, method=method)
        assert fit.tau2 == pytest.approx(ref.tau2, rel=RTOL, abs=1e-12)
        assert fit.coef[0] == pytest.approx(ref.estimate, rel=RTOL)
        assert fit.se[0] == pytest.approx(ref.se, rel=RTOL)


def test_pet_peese_intercepts_are_the_lm_limit_estimates():
    yi, vi, _ = _data("linde2005")
    res = pet_peese(yi, vi)
    assert res.pet.est == regtest(yi, vi, model="lm", predictor="sei").est
    assert res.peese.est == regtest(yi, vi, model="lm", predictor="vi").est
    chosen = res.peese if res.pet_pval < res.alpha else res.pet
    assert res.estimate == chosen.est and res.selected in ("PET", "PEESE")


def test_ranktest_with_ties_uses_the_normal_approximation():
    yi = np.array([0.1, 0.3, -0.2, 0.5, 0.4, 0.0])
    vi = np.array([0.04, 0.04, 0.09, 0.02, 0.05, 0.03])
    res = ranktest(yi, vi)
    assert not res.exact and 0 <= res.pval <= 1


@pytest.mark.parametrize(
    ("yi", "vi", "message"),
    [
        ([0.1, 0.2, np.nan, 0.3], [0.1, 0.1, 0.1, 0.1], "study 3 of 4"),
        ([0.1, 0.2, 0.3], [0.1, -0.1, 0.1], "positive"),
        ([0.1, 0.2], [0.1, 0.2], "at least 3"),
        ([0.1, 0.2, 0.3], [0.1, 0.1, 0.1], "same for every study"),
    ],
)
def test_regtest_rejects_bad_input(yi, vi, message):
    with pytest.raises(ValueError, match=message):
        regtest(yi, vi)


def test_regtest_rejects_unknown_options():
    with pytest.raises(ValueError, match="model"):
        regtest([0.1, 0.2, 0.3], [0.1, 0.2, 0.3], model="glm")
    with pytest.raises(ValueError, match="ni"):
        regtest([0.1, 0.2, 0.3], [0.1, 0.2, 0.3], predictor="ni")
