"""Coverage of the pooled effect's confidence intervals and of the prediction interval,
by Monte-Carlo simulation of the random-effects model.

Pure and seeded: no file I/O, and a cell of the grid (one k, one tau²) gets its own
random stream derived from ``(seed, k, tau²)`` alone, so a cell's result does not
depend on which other cells are simulated nor on the order in which they run.

The simulation is batched on the ``(k, d)`` arrays of :mod:`depmeta.stats.pooling`: the
``d`` replications of a cell are estimated in one call of
:func:`depmeta.stats.pooling.tau2_estimate`, and the intervals are computed as
:func:`depmeta.stats.pooling.pool` computes them (tests/test_simulation.py checks that they
agree replication by replication).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from depmeta.stats.distributions import norm_ppf, t_ppf
from depmeta.stats.pooling import METHODS, tau2_estimate

__all__ = ["Coverage", "coverage_grid", "simulate_coverage", "interval_batch"]

#: Interval kinds reported, in display order.
INTERVALS = ("ci_z", "ci_knha", "ci_adhoc", "pi_z", "pi_t_k2")


@dataclass(frozen=True)
class Coverage:
    """Monte-Carlo coverage of the intervals in one cell of the grid.

    Attributes
    ----------
    k : int
        Studies per meta-analysis.
    tau2 : float
        True between-study variance.
    method : str
        tau² estimator.
    level : float
        Nominal level of every interval.
    replications : int
        Simulated meta-analyses.
    ci_z, ci_knha, ci_adhoc : float
        Share of replications whose confidence interval (z; Knapp-Hartung; Knapp-Hartung
        never narrower than z) contains the true mean effect.
    pi_z, pi_t_k2 : float
        Share whose prediction interval (normal quantile, metafor's default under the z
        test; t with k - 2 df, Higgins et al. 2009) contains the true effect of a new study
        (``nan`` for ``pi_t_k2`` when k < 3).
    mc_se : float
        Monte-Carlo standard error of a coverage at the nominal level,
        ``sqrt(level (1 - level) / replications)``.
    """

    k: int
    tau2: float
    method: str
    level: float
    replications: int
    ci_z: float
    ci_knha: float
    ci_adhoc: float
    pi_z: float
    pi_t_k2: float
    mc_se: float


def interval_batch(y, v, method: str = "REML", level: float = 0.95) -> dict[str, np.ndarray]:
    """Pooled estimate and intervals of ``d`` meta-analyses at once.

    Parameters
    ----------
    y, v : ndarray, shape (k, d)
        Effect sizes and sampling variances, one column per meta-analysis.
    method : str
        tau² estimator, one of :data:`depmeta.stats.pooling.METHODS`.
    level : float
        Level of every interval.

    Returns
    -------
    dict of ndarray, each of shape (d,)
        ``estimate``, ``tau2`` and ``<kind>_low``/``<kind>_high`` for each kind in
        :data:`INTERVALS`, computed as :func:`depmeta.stats.pooling.pool` does with the
        corresponding ``test`` and ``pi``.
    """
    y = np.asarray(y, float)
    v = np.asarray(v, float)
    k = y.shape[0]
    if k < 2:
        raise ValueError("interval coverage needs k >= 2 studies")
    tau2 = tau2_estimate(y, v, method) if method.upper() != "EE" else np.zeros(y.shape[1])
    w = 1.0 / (v + tau2)
    est = (w * y).sum(0) / w.sum(0)
    se = np.sqrt(1.0 / w.sum(0))
    s2 = (w * (y - est) ** 2).sum(0) / (k - 1)
    alpha = 1 - level
    zc = norm_ppf(1 - alpha / 2)
    tc = t_ppf(1 - alpha / 2, k - 1)
    out = {"estimate": est, "tau2": tau2}
    for kind, half in (("ci_z", zc * se), ("ci_knha", tc * se * np.sqrt(s2)),
                       ("ci_adhoc", tc * se * np.sqrt(np.maximum(s2, 1.0)))):
        out[f"{kind}_low"], out[f"{kind}_high"] = est - half, est + half
    pi_sd = np.sqrt(se**2 + tau2)
    tk2 = t_ppf(1 - alpha / 2, k - 2) if k > 2 else np.nan
    for kind, crit in (("pi_z", zc), ("pi_t_k2", tk2)):
        out[f"{kind}_low"], out[f"{kind}_high"] = est - crit * pi_sd, est + crit * pi_sd
    return out


def _cell_rng(seed: int, k: int, tau2: float) -> np.random.Generator:
    # tau² enters the seed through its exact binary representation.
    bits = int(np.float64(tau2).view(np.uint64))
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(k), bits]))


def simulate_coverage(
    k: int,
    tau2: float,
    *,
    replications: int,
    seed: int,
    method: str = "REML",
    level: float = 0.95,
    mu: float = 0.0,
    arm_size: tuple[int, int] = (20, 100),
) -> Coverage:
    """Simulate ``replications`` meta-analyses of ``k`` studies and count covering intervals.

    Study ``i`` has two arms of ``n_i`` patients, ``n_i`` uniform on ``arm_size``, and the
    sampling variance ``v_i = 2 / n_i`` of a standardized mean difference near 0; its true
    effect is ``theta_i ~ N(mu, tau2)`` and its estimate ``y_i ~ N(theta_i, v_i)``. The
    prediction intervals are scored against the true effect of one new study,
    ``theta_new ~ N(mu, tau2)``.

    Parameters
    ----------
    k : int
        Studies per meta-analysis (at least 2).
    tau2 : float
        True between-study variance (at least 0).
    replications : int
        Number of simulated meta-analyses.
    seed : int
        Seed; with ``k`` and ``tau2`` it fixes the cell's random stream.
    method : str, default "REML"
        tau² estimator.
    level : float, default 0.95
        Nominal level.
    mu : float, default 0
        True mean effect.
    arm_size : (int, int), default (20, 100)
        Smallest and largest number of patients per arm.

    Returns
    -------
    Coverage
    """
    if k < 2:
        raise ValueError(f"k = {k}: coverage needs at least 2 studies")
    if not tau2 >= 0:
        raise ValueError(f"tau2 = {tau2}: must be >= 0")
    if replications < 1:
        raise ValueError("replications must be at least 1")
    if method.upper() not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {METHODS}")
    rng = _cell_rng(seed, k, tau2)
    n = rng.integers(arm_size[0], arm_size[1] + 1, size=(k, replications))
    v = 2.0 / n
    theta = mu + np.sqrt(tau2) * rng.standard_normal((k, replications))
    y = theta + np.sqrt(v) * rng.standard_normal((k, replications))
    theta_new = mu + np.sqrt(tau2) * rng.standard_normal(replications)
    iv = interval_batch(y, v, method, level)
    share = {}
    for kind in INTERVALS:
        target = theta_new if kind.startswith("pi") else mu
        covered = (iv[f"{kind}_low"] <= target) & (target <= iv[f"{kind}_high"])
        share[kind] = float(covered.mean()) if np.isfinite(iv[f"{kind}_low"]).all() else float("nan")
    return Coverage(k=int(k), tau2=float(tau2), method=method.upper(), level=float(level),
                    replications=int(replications), mc_se=float(np.sqrt(level * (1 - level) / replications)),
                    **share)


def coverage_grid(ks, tau2s, *, replications: int, seed: int, method: str = "REML",
                  level: float = 0.95) -> tuple[Coverage, ...]:
    """:func:`simulate_coverage` over every ``k`` × ``tau2`` (k varying slowest)."""
    return tuple(simulate_coverage(k, t, replications=replications, seed=seed, method=method, level=level)
                 for k in ks for t in tau2s)
