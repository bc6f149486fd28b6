"""Engine behaviour beyond the shared reference: zero cells, t/adhoc tests, logit
proportions (numbers from tests/reference/extra.json, made by
tests/reference/generate_extra.R with metafor), percentages, and input errors.

Tolerances: RTOL/ATOL as in test_parity_metafor (six significant digits; 1e-8
absolute near zero)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from depmeta import counts_from_percent, escalc, pool, q_profile, tau2_estimate

RTOL, ATOL = 1e-6, 1e-8
EXTRA = json.loads((Path(__file__).parent / "reference" / "extra.json").read_text())


def _arr(xs):
    return np.array([np.nan if x is None else x for x in xs], float)


@pytest.mark.parametrize("measure", ["RR", "OR", "RD"])
@pytest.mark.parametrize("drop00", [False, True])
def test_zero_cells_as_metafor(measure, drop00):
    inp = EXTRA["zero_cells"]["input"]
    ref = EXTRA["zero_cells"][measure][f"drop00_{str(drop00).lower()}"]
    es = escalc(measure, **inp, drop00=drop00)
    np.testing.assert_allclose(es.yi, _arr(ref["yi"]), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(es.vi, _arr(ref["vi"]), rtol=RTOL, atol=ATOL)


def test_double_zero_excluded_by_default_for_ratios_with_reason():
    inp = EXTRA["zero_cells"]["input"]
    es = escalc("RR", **inp)
    assert np.isnan(es.yi[1]) and "double zero" in es.reasons[1]
    assert np.isnan(es.yi[3]) and "every patient" in es.reasons[3]
    assert es.reasons[0] is None and es.corrected[0] and not es.corrected[4]
    # risk differences keep double-zero studies, as metafor
    assert escalc("RD", **inp).estimable.all()


@pytest.mark.parametrize("key", ["REML_t", "REML_adhoc", "DL_t", "DL_adhoc", "PM_t", "PM_adhoc"])
def test_t_and_adhoc_tests_match_metafor(key):
    ref = EXTRA["tests"][key]
    tpos = [4, 6, 3, 62, 33, 180, 8, 505, 29, 17, 186, 5, 27]
    tneg = [119, 300, 228, 13536, 5036, 1361, 2537, 87886, 7470, 1699, 50448, 2493, 16886]
    cpos = [11, 29, 11, 248, 47, 372, 10, 499, 45, 65, 141, 3, 29]
    cneg = [128, 274, 209, 12619, 5761, 1079, 619, 87892, 7232, 1600, 27197, 2338, 17825]
    es = escalc("RR", ai=tpos, n1i=np.add(tpos, tneg), ci=cpos, n2i=np.add(cpos, cneg))
    res = pool(es.yi, es.vi, method=ref["method"], test=ref["test"])
    for theirs, ours in [("estimate", "estimate"), ("se", "se"), ("ci_lb", "ci_low"),
                         ("ci_ub", "ci_high"), ("pi_lb", "pi_low"), ("pi_ub", "pi_high"),
                         ("tau2", "tau2"), ("pval", "pval"), ("tau2_ci_lb", "tau2_ci_low"),
                         ("tau2_ci_ub", "tau2_ci_high")]:
        assert math.isclose(getattr(res, ours), ref[theirs], rel_tol=RTOL, abs_tol=ATOL), theirs


def test_adhoc_never_narrower_than_z_where_knha_is():
    inp = EXTRA["tests"]["homog_input"]
    z = pool(inp["yi"], inp["vi"], test="z")
    kh = pool(inp["yi"], inp["vi"], test="knha")
    ad = pool(inp["yi"], inp["vi"], test="adhoc")
    for res, key in [(z, "z"), (kh, "knha"), (ad, "adhoc")]:
        ref = EXTRA["tests"][f"homog_REML_{key}"]
        assert math.isclose(res.ci_low, ref["ci_lb"], rel_tol=RTOL, abs_tol=ATOL)
        assert math.isclose(res.ci_high, ref["ci_ub"], rel_tol=RTOL, abs_tol=ATOL)
    assert kh.ci_high - kh.ci_low < z.ci_high - z.ci_low  # Knapp-Hartung narrows here
    assert ad.ci_high - ad.ci_low >= z.ci_high - z.ci_low


def test_logit_proportions_and_pooling_match_metafor():
    plo = EXTRA["plo"]
    es = escalc("PLO", **plo["input"])
    np.testing.assert_allclose(es.yi, plo["yi"], rtol=RTOL)
    np.testing.assert_allclose(es.vi, plo["vi"], rtol=RTOL)
    for key, ref in plo["fits"].items():
        method, test = key.split("_")
        res = pool(es.yi, es.vi, method=method, test=test)
        for theirs, ours in [("estimate", "estimate"), ("se", "se"), ("ci_lb", "ci_low"),
                             ("pi_lb", "pi_low"), ("pi_ub", "pi_high"), ("tau2", "tau2"),
                             ("tau2_ci_ub", "tau2_ci_high"), ("i2", "i2")]:
            assert math.isclose(getattr(res, ours), ref[theirs], rel_tol=RTOL, abs_tol=ATOL), (key, theirs)
    res = pool(es.yi, es.vi)
    inv = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    bt = plo["back_transformed"]
    for ours, theirs in [(res.estimate, "pred"), (res.ci_low, "ci_lb"), (res.pi_high, "pi_ub")]:
        assert math.isclose(inv(ours), bt[theirs], rel_tol=RTOL)


def test_percentages_round_half_up_and_are_flagged():
    assert counts_from_percent([12.5, 50, 33.3], [4, 3, 10]).tolist() == [1.0, 2.0, 3.0]
    es = escalc("RR", pct1i=[48.0], n1i=[226], ci=[np.nan], pct2i=[73.0], n2i=[226])
    assert es.derived.all()
    direct = escalc("RR", ai=[108], n1i=[226], ci=[165], n2i=[226])  # 47.8% -> 108, 73.0% -> 165
    np.testing.assert_allclose(es.yi, direct.yi)


def test_smd_precomputed_g_passes_through():
    es = escalc("GEN", yi=[0.3, -0.1], sei=[0.1, 0.2])
    np.testing.assert_allclose(es.vi, [0.01, 0.04])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(measure="RR", ai=[5], n1i=[4], ci=[1], n2i=[4]), "between 0"),
        (dict(measure="SMD", m1i=[1], sd1i=[0], n1i=[4], m2i=[1], sd2i=[1], n2i=[4]), "positive"),
        (dict(measure="XX"), "unknown measure"),
        (dict(measure="GEN", yi=[1]), "vi"),
    ],
)
def test_bad_input_raises(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        escalc(**kwargs)


def test_pool_rejects_nan_and_unknown_options():
    with pytest.raises(ValueError, match="finite"):
        pool([0.1, np.nan], [0.1, 0.1])
    with pytest.raises(ValueError, match="unknown method"):
        pool([0.1, 0.2], [0.1, 0.1], method="XYZ")
    with pytest.raises(ValueError, match="unknown test"):
        pool([0.1, 0.2], [0.1, 0.1], test="wald")


def test_single_study_pools_to_itself():
    res = pool([0.4], [0.04])
    assert res.k == 1 and res.tau2 == 0 and math.isclose(res.estimate, 0.4)
    # as metafor (and pool_batch): QE = 0, QEp = 1, I² = 0, H² = 1 (tests/test_boundary.py)
    assert (res.q, res.q_pval, res.i2, res.h2) == (0.0, 1.0, 0.0, 1.0)


def test_vectorised_estimators_equal_columnwise():
    rng = np.random.default_rng(1)
    y = rng.normal(0.3, 0.4, size=(12, 5))
    v = rng.uniform(0.02, 0.2, size=(12, 5))
    for method in ("DL", "REML", "ML", "PM", "SJ", "HE", "HS"):
        batch = tau2_estimate(y, v, method)
        one = [tau2_estimate(y[:, j], v[:, j], method)[0] for j in range(5)]
        np.testing.assert_allclose(batch, one, rtol=1e-12, atol=1e-14)
    lo, hi = q_profile(y, v)
    assert np.all(lo <= tau2_estimate(y, v, "PM")) and np.all(hi >= lo)


def test_t_k2_prediction_interval_is_wider_and_needs_three_studies():
    res = pool([0.1, 0.5, 0.3, 0.9], [0.04, 0.05, 0.03, 0.06], pi="t_k2")
    ref = pool([0.1, 0.5, 0.3, 0.9], [0.04, 0.05, 0.03, 0.06])
    assert res.pi_high - res.pi_low > ref.pi_high - ref.pi_low
    assert math.isnan(pool([0.1, 0.5], [0.04, 0.05], pi="t_k2").pi_low)
