"""Where the stack's libraries give the same numbers as the engine, and where they do not
(the reasons the engine computes those itself; see the module docstring of depmeta.stats.pooling).

Tolerances: EXACT = 1e-10 relative for closed forms computed two ways (rounding only);
STATSMODELS_PM = 1e-4 relative, because statsmodels stops its Paule-Mandel iteration at a
loose default tolerance."""

from __future__ import annotations

import numpy as np
import pytest

from depmeta import escalc, pool, q_profile, tau2_estimate

EXACT = 1e-10
STATSMODELS_PM = 1e-4

TPOS = [4, 6, 3, 62, 33, 180, 8, 505, 29, 17, 186, 5, 27]
TNEG = [119, 300, 228, 13536, 5036, 1361, 2537, 87886, 7470, 1699, 50448, 2493, 16886]
CPOS = [11, 29, 11, 248, 47, 372, 10, 499, 45, 65, 141, 3, 29]
CNEG = [128, 274, 209, 12619, 5761, 1079, 619, 87892, 7232, 1600, 27197, 2338, 17825]


@pytest.fixture(scope="module")
def bcg():
    """The BCG vaccine trials (Colditz 1994) as log risk ratios."""
    return escalc("RR", ai=TPOS, n1i=np.add(TPOS, TNEG), ci=CPOS, n2i=np.add(CPOS, CNEG))


def test_pymare_q_profile_agrees(bcg):
    from pymare.stats import q_profile as pymare_q_profile

    theirs = pymare_q_profile(bcg.yi, bcg.vi, np.ones((bcg.k, 1)))
    lo, hi = q_profile(bcg.yi, bcg.vi)
    np.testing.assert_allclose([lo[0], hi[0]], [theirs["ci_l"], theirs["ci_u"]], rtol=1e-6)


def test_statsmodels_dl_and_pm_agree_where_tau2_is_positive(bcg):
    from statsmodels.stats.meta_analysis import combine_effects

    dl = combine_effects(bcg.yi, bcg.vi, method_re="chi2")
    assert dl.tau2 == pytest.approx(tau2_estimate(bcg.yi, bcg.vi, "DL")[0], rel=EXACT)
    assert dl.mean_effect_re == pytest.approx(pool(bcg.yi, bcg.vi, method="DL").estimate, rel=EXACT)
    pm = combine_effects(bcg.yi, bcg.vi, method_re="iterated")
    assert pm.tau2 == pytest.approx(tau2_estimate(bcg.yi, bcg.vi, "PM")[0], rel=STATSMODELS_PM)


@pytest.mark.filterwarnings("ignore:invalid value encountered in sqrt:RuntimeWarning")
def test_statsmodels_dl_is_not_truncated_on_homogeneous_data():
    """The known defect: statsmodels reports a negative tau² where metafor (and the engine) give 0."""
    from statsmodels.stats.meta_analysis import combine_effects

    y = np.array([0.10, 0.12, 0.11, 0.09])
    v = np.array([0.04, 0.05, 0.03, 0.06])
    assert combine_effects(y, v, method_re="chi2").tau2 < 0
    assert pool(y, v, method="DL").tau2 == 0.0


def test_pymare_dl_and_hedges_equal_the_closed_forms():
    """The engine's DL and HE closed forms on (k, d) arrays are PyMARE's estimators, column by column."""
    from pymare.estimators import DerSimonianLaird, Hedges

    rng = np.random.default_rng(5)
    y, v = rng.normal(0.2, 0.3, (9, 40)), rng.uniform(0.01, 0.2, (9, 40))
    X = np.ones((9, 1))
    for name, est in (("DL", DerSimonianLaird), ("HE", Hedges)):
        theirs = np.asarray(est().fit(y, v, X).params_["tau2"], float).reshape(-1)
        np.testing.assert_allclose(tau2_estimate(y, v, name), theirs, rtol=EXACT, atol=1e-14, err_msg=name)
