"""Coverage simulation (depmeta.stats.simulation): the batched intervals are pool()'s, the
simulation is reproducible, and coverage behaves as theory says, within tolerances
derived from the binomial standard error of a simulated proportion."""

from __future__ import annotations

import numpy as np
import pytest

from depmeta.stats.pooling import pool
from depmeta.stats.simulation import INTERVALS, coverage_grid, interval_batch, simulate_coverage

#: Replications of the small fixed-seed runs: enough for a binomial SE of 0.5 percentage
#: points at 95%, few enough to run in seconds.
REPS = 2000
#: Allowed distance from the nominal level where the interval is exact, in binomial SEs:
#: a 4-SE band is missed by chance with probability 6e-5 (and the seed is fixed anyway).
Z_BAND = 4.0
#: Agreement of the batched intervals with pool(): the same floating-point operations
#: up to summation order.
RTOL_BATCH = 1e-10


def binomial_se(p: float, n: int) -> float:
    return float(np.sqrt(p * (1 - p) / n))


@pytest.mark.parametrize("method", ["DL", "REML", "PM", "EE"])
def test_batched_intervals_are_pools(method):
    rng = np.random.default_rng(3)
    k, d = 6, 5
    v = rng.uniform(0.02, 0.1, (k, d))
    y = rng.normal(0, np.sqrt(v + 0.05))
    iv = interval_batch(y, v, method)
    for j in range(d):
        for test, kind in (("z", "ci_z"), ("knha", "ci_knha"), ("adhoc", "ci_adhoc")):
            r = pool(y[:, j], v[:, j], method=method, test=test)
            np.testing.assert_allclose([iv[f"{kind}_low"][j], iv[f"{kind}_high"][j]], [r.ci_low, r.ci_high],
                                       rtol=RTOL_BATCH)
        if method != "EE":  # prediction intervals around the z-test standard error
            for pi, kind in (("z", "pi_z"), ("t_k2", "pi_t_k2")):
                r = pool(y[:, j], v[:, j], method=method, test="z", pi=pi)
                np.testing.assert_allclose([iv[f"{kind}_low"][j], iv[f"{kind}_high"][j]], [r.pi_low, r.pi_high],
                                           rtol=RTOL_BATCH)
        np.testing.assert_allclose(iv["estimate"][j], pool(y[:, j], v[:, j], method=method).estimate,
                                   rtol=RTOL_BATCH)


def test_same_seed_same_result_and_cells_independent_of_the_grid():
    a = simulate_coverage(5, 0.1, replications=300, seed=11)
    b = simulate_coverage(5, 0.1, replications=300, seed=11)
    c = simulate_coverage(5, 0.1, replications=300, seed=12)
    assert a == b
    assert a != c


@pytest.mark.parametrize("k", [3, 10])
def test_exact_intervals_cover_at_the_nominal_level(k):
    # tau² = 0 with the equal-effects model: (mu_hat - mu)/se is exactly N(0, 1), and the
    # Knapp-Hartung ratio exactly t with k - 1 df, so both intervals are exact.
    cov = simulate_coverage(k, 0.0, replications=REPS, seed=2024, method="EE")
    band = Z_BAND * binomial_se(0.95, REPS)
    assert abs(cov.ci_z - 0.95) < band
    assert abs(cov.ci_knha - 0.95) < band
    assert cov.ci_adhoc >= cov.ci_knha  # never narrower than Knapp-Hartung
    assert cov.mc_se == pytest.approx(binomial_se(0.95, REPS))


def test_z_undercovers_with_few_heterogeneous_studies_and_knapp_hartung_does_not():
    # k = 3 and tau² four times the typical sampling variance: the z interval ignores the
    # uncertainty of tau² and is known to undercover badly (e.g. IntHout et al. 2014).
    cov = simulate_coverage(3, 0.2, replications=REPS, seed=2024, method="DL")
    band = Z_BAND * binomial_se(0.95, REPS)
    assert cov.ci_z < 0.95 - band
    assert abs(cov.ci_knha - 0.95) < band + 0.01  # close to nominal (not exact)
    assert cov.ci_adhoc >= cov.ci_knha > cov.ci_z


def test_z_near_nominal_with_many_studies():
    # k = 20 and moderate tau²: the estimate of tau² is good, the z interval nearly right.
    cov = simulate_coverage(20, 0.05, replications=REPS, seed=2024, method="REML")
    assert abs(cov.ci_z - 0.95) < Z_BAND * binomial_se(0.95, REPS) + 0.02
    assert abs(cov.pi_t_k2 - 0.95) < 0.05


def test_k2_has_no_t_k2_prediction_interval_and_bad_input_is_rejected():
    cov = simulate_coverage(2, 0.1, replications=50, seed=1)
    assert np.isnan(cov.pi_t_k2) and 0 <= cov.ci_z <= 1
    assert set(INTERVALS) <= set(cov.__dict__)
    for kwargs, msg in (({"k": 1, "tau2": 0.1}, "at least 2"), ({"k": 3, "tau2": -1.0}, "tau2"),
                        ({"k": 3, "tau2": 0.1, "method": "XX"}, "unknown method")):
        with pytest.raises(ValueError, match=msg):
            simulate_coverage(**kwargs, replications=10, seed=1)


@pytest.mark.slow
def test_workflow_writes_the_configured_grid_and_the_report_shows_it(workflow_run):
    import html as html_lib
    import re

    import pandas as pd
    import yaml

    sim = yaml.safe_load((workflow_run / "tests" / "config" / "config.yaml").read_text())["simulation"]
    table = pd.read_csv(workflow_run / "results" / "simulation" / "coverage.csv")
    assert [(r.k, r.tau2) for r in table.itertuples()] == [(k, t) for k in sim["k"] for t in sim["tau2"]]
    assert (table.replications == sim["replications"]).all() and (table.method == sim["method"]).all()
    expected = coverage_grid(sim["k"], sim["tau2"], replications=sim["replications"], seed=sim["seed"],
                             method=sim["method"])
    np.testing.assert_array_equal(table.ci_z.to_numpy(), [c.ci_z for c in expected])
    text = html_lib.unescape(re.sub(r"<[^>]+>", " ", (workflow_run / "results" / "report" / "report.html").read_text()))
    text = re.sub(r"\s+", " ", text)
    appendix = text[text.index("Appendix: coverage of intervals"):]
    for r in table.itertuples():
        assert f"{100 * r.ci_z:.1f}" in appendix and f"{100 * r.ci_knha:.1f}" in appendix
