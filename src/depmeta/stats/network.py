"""Frequentist contrast-based random-effects network meta-analysis.

Pure functions on arrays and frames (no file I/O); results are frozen dataclasses.

Model
-----
Each study ``s`` with arms ``A, b, c, ...`` (``A`` its *baseline*, the arm that
comes first in byte order) contributes the contrasts ``y_sb = A - b`` with
within-study covariance ``S_s`` (``S_bb = v_Ab``; off the diagonal
``S_bc = (v_Ab + v_Ac - v_bc) / 2``, the shared arm's variance). The
consistency model is

    y = X d + delta + e,   e ~ N(0, S),   delta ~ N(0, tau² Sigma),

with ``d`` the effects of the treatments relative to the reference, one common
between-study variance ``tau²`` and ``Sigma`` block-diagonal with 1 on the
diagonal and 1/2 off it within a multi-arm study. This is metafor's
``rma.mv(yi, V, mods = X - 1, random = ~ comp | study, rho = 1/2)``, and it is
the model netmeta fits with Rücker's graph-theoretical method (Rücker 2012),
which is generalised least squares in another basis.

Pieces and where they come from
-------------------------------
- ``tau²``: REML (default; the root of the restricted score, found by
  :func:`scipy.optimize.brentq` to machine precision) or ``DL``, the
  multivariate method of moments of Jackson, White & Riley (2012) that netmeta
  uses: ``max(0, (Q - df) / tr(P Sigma))`` with ``Q`` the fixed-effect
  generalised Q and ``P = W - W X (X'WX)^-1 X'W``, ``W = S^-1``; ``FE`` fixes
  ``tau² = 0``.
- Every pairwise estimate ``d_i - d_j`` with its CI and prediction interval
  as metafor's ``predict.rma.mv``: ``estimate ± c se`` and
  ``estimate ± c sqrt(se² + tau²)``, with ``c`` the normal quantile under
  ``test="z"`` (metafor's default) and under ``test="t"`` the quantile of a t
  distribution with ``N - p`` degrees of freedom (``N`` stacked contrasts,
  ``p`` treatment effects: ``rma.mv(test = "t")``'s residual df, which its
  ``predict()`` uses for the prediction interval too); the standard errors are
  the same under both. A network with no residual df (``N = p``: no loop and
  one study per comparison) has no t quantile (metafor gives no interval); its
  intervals use the normal quantile and :data:`T_DF0_NOTE` says so. Checked
  against metafor under both tests (netmeta's prediction interval, t with
  ``N - p - 1`` df, is not reproduced).
- Direct and indirect estimates and the side-splitting test use the normal
  quantile whatever ``test`` is, as netmeta's ``netsplit``: they are inverse-variance
  summaries of parts of the evidence, for which metafor gives no t reference.
- P-scores (Rücker & Schwarzer 2015): mean over the other treatments of
  ``Φ((d_i - d_j) / se_ij)``, sign turned when smaller values are better.
- Direct evidence: as netmeta (``nma.ruecker``'s ``TE.direct``), the studies
  holding both arms pooled by inverse variance, each with its own a-b contrast
  and variance ``v_ab + tau²`` (the network's tau²; a multi-arm study's other
  arms ignored); the indirect estimate is back-calculated
  (netmeta ``netsplit(method = "Back-calculation")``):
  ``ind = (nma / V_nma - dir / V_dir) / (1 / V_nma - 1 / V_dir)``.
- Design-by-treatment decomposition of the fixed-effect Q (netmeta
  ``decomp.design``): ``Q_within`` sums each design's Q around its own
  (multivariate) fixed-effect mean, ``Q_between = Q - Q_within``.
- The random-effects design-by-treatment interaction test (netmeta
  ``decomp.design``'s ``Q.inc.random``, the statistic the CINeMA application's
  incoherence rule reads; Higgins et al. 2012). Its between-study variance is
  not the network's: netmeta's ``tau.within`` estimates it in the full
  design-by-treatment interaction model (every design its own effects), by the
  same method of moments as ``DL`` above, with that model's Q (``Q_within``)
  and projection, ``max(0, (Q_within - df_within) / tr(P_int Sigma))`` (0 when
  ``df_within`` is 0), whatever the network's estimator. With
  ``V = S + tau²_within Sigma`` the statistic is the consistency model's
  generalised Q minus the interaction model's, both at ``V``, on
  ``df_between`` degrees of freedom (netmeta's ``decomp.tau`` with
  ``tau.preset = tau.within``). A network without loops of designs
  (``df_between`` 0) has no test: the p-value is ``nan``.
- Contributions (``contribution=``):

  ``"streams"`` (default; Papakonstantinou et al. 2018, the method CINeMA uses).
  The two-step (aggregate) model: per direct comparison (edge) ``a-b`` the
  studies' adjusted inverse-variance weights ``w_ab^s`` (the off-diagonal of
  each study's information matrix ``X_s' (S_s + tau² Sigma_s)^-1 X_s``, which for
  a two-arm study is ``1 / (v + tau²)`` and for a multi-arm study Rücker's
  reduced weights, the aggregate version of Davies et al. 2022) give the
  edge weight ``W_ab = sum_s w_ab^s`` and the edge estimate
  ``ybar_ab = sum_s w_ab^s y_ab^s / W_ab``. The aggregate hat matrix
  ``H = B L^+ B' diag(W)`` (``B`` the edge-incidence matrix, ``L = B' diag(W) B``)
  maps the edge estimates to every network estimate exactly. (With two-arm
  studies only this is the paper's H; with multi-arm studies it is the H that
  netmeta's ``netcontrib`` uses by default, not the paper's original one, which
  ignored their correlation: ``hatmatrix.F1000 = TRUE``.) Row ``i - j`` of
  ``H`` is a unit flow from ``i`` to ``j``: edge ``a-b`` carries ``|H|`` in the
  direction ``a -> b`` when the entry is positive, ``b -> a`` otherwise. The flow
  is decomposed into streams (a path from ``i`` to ``j`` with a flow ``phi``):
  ``stream_selection="shortest"`` (the paper's algorithm): repeatedly take the
  shortest remaining path (fewest edges; ties to the path breadth-first search
  finds first, visiting treatments in order), give it the smallest flow on its
  edges, subtract that flow from them and drop the emptied edges, until no
  path is left; ``"randomwalk"`` (Davies et al. 2022, the alternative netmeta
  ``netcontrib`` offers): every path, with the probability that a walker
  leaving each node along an edge in proportion to the edge's flow takes it.
  An edge's contribution is the sum, over the streams through it, of
  ``phi / (edges in the path)``; a study's is the sum over its edges of the
  edge's contribution times the study's share of that edge's weight
  (``|w_ab^s| / sum_s |w_ab^s|``).

  ``"proportion"``: the study-level version of the proportion contribution
  matrix of Chaimani et al. (2013). The random-effects hat matrix maps the
  stacked study contrasts to the network estimates; a study's share of the
  estimate ``i - j`` is the sum of ``|H|`` over its contrasts divided by the
  row's total.

  The streams of ``i - j`` are found from ``i`` (``i`` before ``j`` in the
  treatment order) and serve ``j - i`` too, reversed.

  Both sum to 1 per estimate and are non-negative; in a tree-shaped network a
  comparison with direct evidence gets all of it from its own studies.

Why not a library: statsmodels and PyMARE have no multivariate network model,
and netmeta exists only in R.

References
----------
Rücker G (2012) Res Synth Methods 3:312-324. Jackson D, White IR, Riley RD
(2012) Stat Med 31:3805-3820. Rücker G, Schwarzer G (2015) BMC Med Res
Methodol 15:58. Chaimani A et al. (2013) PLoS One 8:e76654. Higgins JPT et al.
(2012) Res Synth Methods 3:98-110 (design-by-treatment interaction).
Papakonstantinou T et al. (2018) F1000Research 7:610 (paths, flows and streams).
Davies AL et al. (2022) Stat Med 41:2091-2114 (network meta-analysis and random
walks). Rücker G, Schwarzer G (2014) Stat Med 33:4353-4369 (reduced weights of
multi-arm studies).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from depmeta.stats.distributions import chi2_sf, norm_cdf, norm_ppf, norm_sf, t_ppf
from depmeta.stats.effects import hedges_correction

__all__ = [
    "CONTRIBUTION_METHODS",
    "STREAM_SELECTIONS",
    "Stream",
    "flow_streams",
    "NETWORK_METHODS",
    "NETWORK_MEASURES",
    "NETWORK_TESTS",
    "T_DF0_NOTE",
    "StudyContrasts",
    "NetworkResult",
    "contrasts_from_pairwise",
    "contrasts_from_arms",
    "connected_components",
    "fit_network",
    "fit_network_parts",
]

NETWORK_METHODS = ("REML", "DL", "FE")
NETWORK_MEASURES = ("RR", "OR", "RD", "SMD", "MD")
NETWORK_TESTS = ("z", "t")
#: What a fit under ``test="t"`` without residual degrees of freedom says (its intervals are normal).
T_DF0_NOTE = ("no residual degrees of freedom (as many contrasts as treatment effects): the network's "
              "intervals use the normal quantile, as a t distribution needs at least one")
CONTRIBUTION_METHODS = ("streams", "proportion")
STREAM_SELECTIONS = ("shortest", "randomwalk")

#: Absolute tolerance on ``y_bc - (y_Ac - y_Ab)`` in a multi-arm study given as
#: pairwise rows: netmeta's ``tol.multiarm`` default (estimates rounded in print
#: still pass; a wrong sign or a mistyped number does not).
TOL_MULTIARM = 1e-3
#: Relative tolerance on the pairwise variances of a multi-arm study: they must
#: split into non-negative per-arm variances (``v_ab = u_a + u_b``) to within this
#: share of the largest variance (rounded standard errors pass).
TOL_MULTIARM_VAR = 1e-3
#: Root-finding tolerance of the REML score (absolute, on tau²); the bracketing
#: search stops at the floating-point fixpoint.
_XTOL = 1e-15
#: Smallest ``1 / V_nma - 1 / V_dir`` (relative to ``1 / V_nma``) for which an
#: indirect estimate is back-calculated; below it the network estimate is all
#: direct evidence and the split is undefined.
_TOL_SPLIT = 1e-10
#: Flow (a share of the unit flow of a hat-matrix row) at or below which an edge counts as
#: empty in the stream decomposition: hat-matrix entries are exact to ~1e-15, so anything
#: left below this is rounding, not evidence.
_TOL_FLOW = 1e-12


@dataclass(frozen=True, eq=False)
class StudyContrasts:
    """One study's contrasts against its baseline arm.

    Attributes
    ----------
    study : str
        Study id.
    arms : tuple of str
        Treatments (nodes) of the study, baseline first.
    y : ndarray, shape (p - 1,)
        ``arms[0] - arms[b]`` for ``b = 1..p-1`` (analysis scale).
    cov : ndarray, shape (p - 1, p - 1)
        Within-study covariance of ``y``.
    n : tuple of float
        Patients per arm (``nan`` where unknown).
    row_ids : tuple of str
        Input rows behind the study's contrasts.
    """

    study: str
    arms: tuple
    y: np.ndarray
    cov: np.ndarray
    n: tuple = ()
    row_ids: tuple = ()

    def pairwise(self) -> tuple[np.ndarray, np.ndarray]:
        """Estimates and variances of every pair of arms: ``Y[a, b]`` is arm a minus arm b."""
        p = len(self.arms)
        m = np.zeros(p)
        m[1:] = -self.y  # arm effect relative to the baseline
        c = np.zeros((p, p))
        c[1:, 1:] = self.cov
        Y = m[:, None] - m[None, :]
        d = np.diag(c)
        return Y, d[:, None] + d[None, :] - 2 * c


def _fail(kind: str, problems: list[str]):
    if problems:
        raise ValueError(f"{kind}: " + "; ".join(problems))


def contrasts_from_pairwise(study, treat1, treat2, yi, vi=None, sei=None, n1=None, n2=None,
                            row_ids=None) -> tuple[StudyContrasts, ...]:
    """Studies' contrasts from pairwise rows (netmeta's ``TE, seTE, treat1, treat2, studlab``).

    Parameters
    ----------
    study, treat1, treat2 : array_like of str, shape (m,)
        Study id and the two treatments of each row.
    yi : array_like, shape (m,)
        ``treat1 - treat2`` on the analysis scale.
    vi, sei : array_like, shape (m,)
        Sampling variances, or standard errors (one of the two).
    n1, n2 : array_like, optional
        Patients in the two arms.
    row_ids : array_like of str, optional
        Input row ids (default ``"row <i>"``).

    Returns
    -------
    tuple of StudyContrasts

    Raises
    ------
    ValueError
        Naming the studies with a row comparing a treatment with itself, a
        duplicated pair, a multi-arm study lacking a pair, non-positive
        variances, or multi-arm rows whose estimates or variances are
        inconsistent (see :data:`TOL_MULTIARM`, :data:`TOL_MULTIARM_VAR`).
    """
    study = np.asarray(study, dtype=object).astype(str)
    t1 = np.asarray(treat1, dtype=object).astype(str)
    t2 = np.asarray(treat2, dtype=object).astype(str)
    y = np.asarray(yi, dtype=float)
    v = np.asarray(vi, dtype=float) if vi is not None else np.asarray(sei, dtype=float) ** 2
    m = len(study)
    n1 = np.full(m, np.nan) if n1 is None else np.asarray(n1, dtype=float)
    n2 = np.full(m, np.nan) if n2 is None else np.asarray(n2, dtype=float)
    rid = np.array([f"row {i + 1}" for i in range(m)] if row_ids is None else list(row_ids), dtype=object)
    bad = {"compares a treatment with itself": [], "has a pair twice": [], "lacks pairs": [],
           "has a missing or non-positive variance": [], "inconsistent multi-arm estimates": [],
           "inconsistent multi-arm variances": []}
    out = []
    for s in dict.fromkeys(study):
        idx = np.flatnonzero(study == s)
        if (t1[idx] == t2[idx]).any():
            bad["compares a treatment with itself"].append(s)
            continue
        if not (np.isfinite(v[idx]).all() and (v[idx] > 0).all() and np.isfinite(y[idx]).all()):
            bad["has a missing or non-positive variance"].append(s)
            continue
        arms = sorted(set(t1[idx]) | set(t2[idx]))
        p = len(arms)
        pos = {a: i for i, a in enumerate(arms)}
        Y = np.full((p, p), np.nan)
        V = np.full((p, p), np.nan)
        N = np.full(p, np.nan)
        dup = False
        for i in idx:
            a, b = pos[t1[i]], pos[t2[i]]
            if np.isfinite(Y[a, b]):
                dup = True
            Y[a, b], Y[b, a] = y[i], -y[i]
            V[a, b] = V[b, a] = v[i]
            N[a] = n1[i] if np.isnan(N[a]) else N[a]
            N[b] = n2[i] if np.isnan(N[b]) else N[b]
        if dup:
            bad["has a pair twice"].append(s)
            continue
        missing = [f"{arms[a]} vs {arms[b]}" for a in range(p) for b in range(a + 1, p) if np.isnan(Y[a, b])]
        if missing:
            bad["lacks pairs"].append(f"{s} ({', '.join(missing)})")
            continue
        if p > 2:
            resid = max(abs(Y[b, c] - (Y[0, c] - Y[0, b])) for b in range(1, p) for c in range(b + 1, p))
            if resid > TOL_MULTIARM:
                bad["inconsistent multi-arm estimates"].append(f"{s} (largest deviation {resid:.3g})")
                continue
            iu = np.triu_indices(p, 1)
            A = np.zeros((len(iu[0]), p))
            A[np.arange(len(iu[0])), iu[0]] = 1
            A[np.arange(len(iu[0])), iu[1]] = 1
            u, *_ = np.linalg.lstsq(A, V[iu], rcond=None)
            scale = V[iu].max()
            dev = np.abs(A @ u - V[iu]).max()
            if dev > TOL_MULTIARM_VAR * scale or u.min() < -TOL_MULTIARM_VAR * scale:
                bad["inconsistent multi-arm variances"].append(
                    f"{s} (the pairwise variances do not split into non-negative per-arm variances: "
                    f"per-arm {', '.join(f'{x:.4g}' for x in u)})")
                continue
        cov = np.empty((p - 1, p - 1))
        for b in range(1, p):
            for c in range(1, p):
                cov[b - 1, c - 1] = V[0, b] if b == c else (V[0, b] + V[0, c] - V[b, c]) / 2
        if np.linalg.eigvalsh(cov).min() <= 0:
            bad["inconsistent multi-arm variances"].append(f"{s} (covariance matrix not positive definite)")
            continue
        out.append(StudyContrasts(s, tuple(arms), Y[0, 1:].copy(), cov, tuple(N), tuple(rid[idx])))
    problems = [f"studies that {k}: {', '.join(map(str, v))}" if not k.startswith("inconsistent")
                else f"{k} in {', '.join(map(str, v))}" for k, v in bad.items() if v]
    _fail("unusable pairwise rows", problems)
    return tuple(out)


def _check_arms(frame: pd.DataFrame, measure: str) -> None:
    """Refuse arms no trial can have, naming the study and treatment of each."""
    def where(mask):
        rows = frame[mask]
        more = f" and {len(rows) - 5} more" if len(rows) > 5 else ""
        return ", ".join(f"{s} ({t})" for s, t in zip(rows.study[:5], rows.treatment[:5])) + more

    bad = []
    n = frame.n
    if (m := ~(np.isfinite(n) & (n > 0))).any():
        bad.append(f"n must be finite and positive: {where(m)}")
    if measure in ("RR", "OR", "RD"):
        x = frame.events
        if (m := ~(np.isfinite(x) & (x >= 0) & (x <= n))).any():
            bad.append(f"events must lie between 0 and n: {where(m)}")
    else:
        if (m := ~np.isfinite(frame["mean"])).any():
            bad.append(f"means must be finite: {where(m)}")
        sd = frame.sd
        if (m := ~(np.isfinite(sd) & (sd > 0))).any():
            bad.append(f"SDs must be finite and positive: {where(m)}")
    if bad:
        raise ValueError("impossible arm data: " + "; ".join(bad))


def contrasts_from_arms(study, treatment, measure: str, n, events=None, mean=None, sd=None, row_ids=None,
                        add: float = 0.5):
    """Studies' contrasts from arm-level data.

    Parameters
    ----------
    study, treatment : array_like of str, shape (m,)
        One row per arm; a treatment occurs at most once per study (combine
        arms of the same node first).
    measure : {"RR", "OR", "RD", "SMD", "MD"}
        Log risk ratio, log odds ratio, risk difference (from ``events`` and
        ``n``), standardised mean difference (Hedges' g against the baseline,
        one standardiser per trial: see Notes), mean difference (``mean``,
        ``sd``, ``n``).
    n, events, mean, sd : array_like, shape (m,)
    row_ids : array_like of str or of lists, optional
        Input row ids per arm.
    add : float, default 0.5
        Added to the events and non-events of every arm of a study in which an
        arm has no events or only events (binary measures).

    Returns
    -------
    contrasts : tuple of StudyContrasts
    excluded : list of (study, reason)
        Studies with fewer than two arms, or (RR, OR) no events or only events
        in every arm.

    Notes
    -----
    Binary and MD contrasts have exact covariances (the baseline arm's
    variance). SMDs of one trial share one standardiser, the SD pooled over all
    its ``a`` arms (``N - a`` degrees of freedom, ``N`` patients), with Hedges'
    exact correction for ``N - a`` df, so that the trial's contrasts add up
    (``g_AC = g_AB + g_BC``); for two arms this is metafor's ``escalc("SMD")``.
    Variances ``1 / n_A + 1 / n_b + g_b² / (2 N)`` and covariances
    ``1 / n_A + g_b g_c / (2 N)`` (Gleser & Olkin 2009, large-sample).

    Raises ``ValueError`` for arms no trial can have: n not positive, events
    outside 0..n, SD not positive, a non-finite mean.
    """
    if measure not in NETWORK_MEASURES:
        raise ValueError(f"measure must be one of {NETWORK_MEASURES}, not {measure!r}")
    frame = pd.DataFrame({"study": np.asarray(study, dtype=object).astype(str),
                          "treatment": np.asarray(treatment, dtype=object).astype(str),
                          "n": np.asarray(n, dtype=float)})
    for name, col in (("events", events), ("mean", mean), ("sd", sd)):
        frame[name] = np.nan if col is None else np.asarray(col, dtype=float)
    frame["row_ids"] = ([[f"row {i + 1}"] for i in range(len(frame))] if row_ids is None
                        else [list(r) if isinstance(r, (list, tuple)) else [r] for r in row_ids])
    _check_arms(frame, measure)
    dups = sorted({s for s, g in frame.groupby("study") if g.treatment.duplicated().any()})
    _fail("arm rows", [f"studies with two arms of the same treatment (combine them first): {', '.join(dups)}"]
          if dups else [])
    out, excluded = [], []
    for s, g in frame.groupby("study", sort=False):
        g = g.sort_values("treatment", kind="stable")
        if len(g) < 2:
            excluded.append((s, "fewer than two arms"))
            continue
        n_, x = g.n.to_numpy(), g.events.to_numpy()
        p = len(g)
        if measure in ("RR", "OR", "RD"):
            if (x == 0).all() or (x == n_).all():
                if measure != "RD":
                    excluded.append((s, "no events or only events in every arm: " + measure + " not estimable"))
                    continue
            if ((x == 0) | (x == n_)).any():
                x, n_ = x + add, n_ + 2 * add
            pr = x / n_
            if measure == "RR":
                a, u = np.log(pr), 1 / x - 1 / n_
            elif measure == "OR":
                a, u = np.log(x / (n_ - x)), 1 / x + 1 / (n_ - x)
            else:
                a, u = pr, pr * (1 - pr) / n_
            yv = a[0] - a[1:]
            cov = np.full((p - 1, p - 1), u[0]) + np.diag(u[1:])
        elif measure == "MD":
            mm, ss = g["mean"].to_numpy(), g.sd.to_numpy()
            u = ss**2 / n_
            yv = mm[0] - mm[1:]
            cov = np.full((p - 1, p - 1), u[0]) + np.diag(u[1:])
        else:
            # One standardiser per trial: the SD pooled over all its arms, so that the
            # contrasts of a multi-arm trial add up (for two arms this is escalc("SMD")).
            mm, ss = g["mean"].to_numpy(), g.sd.to_numpy()
            big_n, df = n_.sum(), n_.sum() - p
            sp = np.sqrt(((n_ - 1) * ss**2).sum() / df)
            yv = hedges_correction(df) * (mm[0] - mm[1:]) / sp
            cov = 1 / n_[0] + np.outer(yv, yv) / (2 * big_n)
            cov[np.diag_indices(p - 1)] += 1 / n_[1:]
        if not (np.isfinite(yv).all() and np.isfinite(cov).all()) or np.linalg.eigvalsh(cov).min() <= 0:
            excluded.append((s, "effect size not estimable from the arm data"))
            continue
        out.append(StudyContrasts(s, tuple(g.treatment), yv, cov, tuple(g.n.astype(float)),
                                  tuple(r for ids in g.row_ids for r in ids)))
    return tuple(out), excluded


def connected_components(contrasts) -> list[tuple[tuple, tuple]]:
    """Connected parts of the network: ``[(treatments, studies), ...]``, largest first."""
    parent: dict = {}

    def find(a):
        while parent.setdefault(a, a) != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for c in contrasts:
        for t in c.arms[1:]:
            parent[find(t)] = find(c.arms[0])
        find(c.arms[0])
    parts: dict = {}
    for c in contrasts:
        parts.setdefault(find(c.arms[0]), []).append(c.study)
    groups = {}
    for t in parent:
        groups.setdefault(find(t), []).append(t)
    res = [(tuple(sorted(groups[r])), tuple(parts[r])) for r in parts]
    return sorted(res, key=lambda x: (-len(x[0]), -len(x[1]), x[0]))


@dataclass(frozen=True)
class Stream:
    """A path from the source to the sink of a flow, and the flow it carries.

    Attributes
    ----------
    path : tuple
        The nodes from source to sink.
    flow : float
    """

    path: tuple
    flow: float

    @property
    def length(self) -> int:
        """Edges in the path."""
        return len(self.path) - 1


def flow_streams(edges, h, source, sink, selection: str = "shortest") -> tuple[tuple[Stream, ...], np.ndarray]:
    """Decompose one hat-matrix row into streams and contributions of its edges.

    Papakonstantinou et al. (2018): the row of the aggregate hat matrix for the
    network estimate ``source - sink`` is a flow of total 1 from ``source`` to
    ``sink``; edge ``(a, b)`` (its estimate is ``a - b``) carries ``|h|`` from
    ``a`` to ``b`` when its entry is positive and from ``b`` to ``a`` otherwise.

    Parameters
    ----------
    edges : sequence of (node, node)
        The direct comparisons, in the order of ``h``.
    h : array_like, shape (n_edges,)
        The hat-matrix row.
    source, sink : node
    selection : {"shortest", "randomwalk"}
        ``shortest``: the paper's algorithm, shortest path first (fewest edges;
        among equally short paths the one breadth-first search finds first,
        visiting nodes in their order of first appearance in ``edges``), its
        flow the smallest on its edges, subtracted from them, until no path with
        flow is left. ``randomwalk``: every path, its flow the probability that
        a walker from ``source`` who leaves each node along an outgoing edge with
        probability proportional to that edge's flow takes it (Davies et al.
        2022).

    Returns
    -------
    streams : tuple of Stream
    contributions : ndarray, shape (n_edges,)
        Per edge, the sum over the streams through it of ``flow / length``.
        They sum to the total flow of the streams (1 for a hat-matrix row).

    Raises
    ------
    ValueError
        For an unknown ``selection``, or when the row carries no flow from
        ``source`` to ``sink``.
    """
    if selection not in STREAM_SELECTIONS:
        raise ValueError(f"selection must be one of {STREAM_SELECTIONS}, not {selection!r}")
    edges = [tuple(e) for e in edges]
    h = np.asarray(h, dtype=float)
    if h.shape != (len(edges),):
        raise ValueError(f"h has shape {h.shape}, expected ({len(edges)},)")
    nodes = list(dict.fromkeys(x for e in edges for x in e))
    order = {x: i for i, x in enumerate(nodes)}
    # directed flow graph: flow[(u, v)], the edge indices it came from, and out-neighbours in node order
    flow, index = {}, {}
    for k, ((a, b), x) in enumerate(zip(edges, h)):
        if abs(x) > _TOL_FLOW:
            u, v = (a, b) if x > 0 else (b, a)
            flow[(u, v)] = flow.get((u, v), 0.0) + abs(x)
            index.setdefault((u, v), []).append(k)
    succ = {u: [] for u in nodes}
    for u, v in sorted(flow, key=lambda e: order[e[1]]):
        succ[u].append(v)

    streams = []
    if selection == "shortest":
        while True:
            prev, queue = {source: None}, [source]
            for u in queue:  # breadth-first search
                if u == sink:
                    break
                for v in succ.get(u, ()):
                    if v not in prev and (u, v) in flow:
                        prev[v] = u
                        queue.append(v)
            if sink not in prev:
                break
            path = [sink]
            while prev[path[-1]] is not None:
                path.append(prev[path[-1]])
            path = path[::-1]
            legs = list(zip(path[:-1], path[1:]))
            phi = min(flow[e] for e in legs)
            for e in legs:
                flow[e] -= phi
                if flow[e] <= _TOL_FLOW:
                    del flow[e]
            streams.append(Stream(tuple(path), float(phi)))
    else:
        total_out = {u: sum(flow[(u, v)] for v in succ[u]) for u in nodes}

        def walk(u, path, prob):
            if u == sink:
                streams.append(Stream(tuple(path), float(prob)))
                return
            for v in succ.get(u, ()):
                if v not in path:  # the flow of a hat-matrix row has no cycles; guard anyway
                    walk(v, path + [v], prob * flow[(u, v)] / total_out[u])

        walk(source, [source], 1.0)
    if not streams:
        raise ValueError(f"no flow from {source!r} to {sink!r} in the hat-matrix row")
    per_leg: dict = {}
    for st in streams:
        for leg in zip(st.path[:-1], st.path[1:]):
            per_leg[leg] = per_leg.get(leg, 0.0) + st.flow / st.length
    contrib = np.zeros(len(edges))
    for leg, c in per_leg.items():
        ks = index[leg]
        # parallel duplicates of an edge (not produced by the aggregate hat matrix) share by |h|
        w = np.abs(h[ks])
        contrib[ks] += c * w / w.sum()
    return tuple(streams), contrib


def _aggregate(contrasts, treatments, tau2):
    """The two-step model: edges, each study's adjusted weight per edge, edge estimates and the
    aggregate hat matrix ``H[i, j]`` (row of the estimate ``i - j`` over the edges)."""
    nt = len(treatments)
    pos = {t: i for i, t in enumerate(treatments)}
    edges = sorted({(min(pos[a], pos[b]), max(pos[a], pos[b])) for c in contrasts
                    for ia, a in enumerate(c.arms) for b in c.arms[ia + 1:]})
    eix = {e: k for k, e in enumerate(edges)}
    w = np.zeros((len(contrasts), len(edges)))
    wy = np.zeros(len(edges))
    for s, c in enumerate(contrasts):
        p = len(c.arms)
        X = np.zeros((p - 1, p))
        X[:, 0] = 1
        X[np.arange(p - 1), np.arange(1, p)] = -1
        q = p - 1
        L = X.T @ np.linalg.solve(c.cov + tau2 * (np.full((q, q), 0.5) + 0.5 * np.eye(q)), X)
        Y, _ = c.pairwise()
        for a in range(p):
            for b in range(a + 1, p):
                i, j = pos[c.arms[a]], pos[c.arms[b]]
                k = eix[(min(i, j), max(i, j))]
                w[s, k] += -L[a, b]
                wy[k] += -L[a, b] * (Y[a, b] if i < j else Y[b, a])
    W = w.sum(axis=0)
    ybar = wy / W
    B = np.zeros((len(edges), nt))
    B[np.arange(len(edges)), [e[0] for e in edges]] = 1
    B[np.arange(len(edges)), [e[1] for e in edges]] = -1
    G = np.linalg.pinv(B.T @ (W[:, None] * B)) @ B.T * W[None, :]  # (nt, E)
    H = G[:, None, :] - G[None, :, :]
    return edges, w, ybar, H


@dataclass(frozen=True, eq=False)
class NetworkResult:
    """A fitted network. Matrices are indexed ``[i, j]`` by ``treatments`` and
    hold "treatment i minus treatment j" on the analysis scale.

    Attributes
    ----------
    treatments : tuple of str
    reference : str
    method : str
        ``REML``, ``DL`` or ``FE``.
    level : float
    test : str
        ``z`` or ``t``: the quantile of the confidence and prediction intervals of
        the network estimates (``z`` where ``t`` was asked for without residual df).
    df : float
        Degrees of freedom of that quantile: stacked contrasts minus treatment
        effects under ``t``, ``inf`` under ``z``.
    note : str
        :data:`T_DF0_NOTE` where ``t`` fell back to ``z``, else empty.
    tau2 : float
    studies : tuple of str
    designs : tuple of tuple
        The distinct sets of arms.
    d : ndarray (n,)
        Effects relative to ``reference`` (0 for it); ``cov_d`` their covariance.
    estimate, se, ci_low, ci_high, pi_low, pi_high : ndarray (n, n)
    direct_estimate, direct_se : ndarray (n, n), ``nan`` without direct evidence
        (their intervals in :meth:`pairs_frame` use the normal quantile, as netsplit)
    direct_k : ndarray of int (n, n)
        Studies holding both treatments.
    indirect_estimate, indirect_se, split_z, split_pval : ndarray (n, n)
        Back-calculated; ``nan`` unless there is direct and indirect evidence.
    pscore : ndarray (n,)
        P-scores, in the direction ``larger_is_better``.
    q_total, q_within, q_between : float; ``*_df`` int; ``*_pval`` float
        Fixed-effect Q and its design-by-treatment decomposition.
    tau2_within : float
        Between-study variance of the full design-by-treatment interaction
        model (method of moments; netmeta's ``tau.within`` squared).
    q_between_random, q_between_random_df, q_between_random_pval : float, int, float
        The random-effects design-by-treatment interaction test at ``tau2_within``
        (netmeta's ``decomp.design(...)$Q.inc.random``); the p-value is ``nan``
        without degrees of freedom.
    contributions : ndarray (n, n, n_studies)
        Share of each network estimate from each study (rows sum to 1), by
        ``contribution_method`` (see the module notes).
    contribution_method : str
        ``streams`` (with ``stream_selection``) or ``proportion``.
    stream_selection : str
        ``shortest`` or ``randomwalk`` (used by ``streams``).
    edges : tuple of (str, str)
        The direct comparisons ``(a, b)`` (estimate ``a - b``, ``a`` first in ``treatments``).
    edge_estimate : ndarray (n_edges,)
        The two-step model's direct estimates (studies pooled with their adjusted weights).
    edge_weights : ndarray (n_studies, n_edges)
        Each study's adjusted inverse-variance weight in each edge (0 where it lacks the pair).
    comparison_hat : ndarray (n, n, n_edges)
        Aggregate hat matrix: the estimate ``i - j`` is ``comparison_hat[i, j] @ edge_estimate``.
    edge_contributions : ndarray (n, n, n_edges)
        Share of each network estimate from each direct comparison (``streams``:
        the stream decomposition; ``proportion``: the studies' shares summed per edge
        by their weights).
    hat : ndarray (n, N)
        Hat matrix of the random-effects fit: ``d = hat @ y`` for the ``N`` stacked
        study contrasts ``y`` (study ``contrast_study[r]`` owns contrast ``r``), so
        the estimate ``i - j`` is ``(hat[i] - hat[j]) @ y``.
    contrast_study : ndarray of int (N,)
        Index into ``studies`` of each stacked contrast.
    n_patients : ndarray (n, n)
        Patients in the studies holding both treatments (arms of the two).
    row_ids : dict
        ``(i, j) -> list`` of input rows of the studies holding both.
    """

    treatments: tuple
    reference: str
    method: str
    level: float
    larger_is_better: bool
    tau2: float
    studies: tuple
    designs: tuple
    d: np.ndarray
    cov_d: np.ndarray
    estimate: np.ndarray
    se: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    pi_low: np.ndarray
    pi_high: np.ndarray
    direct_estimate: np.ndarray
    direct_se: np.ndarray
    direct_k: np.ndarray
    indirect_estimate: np.ndarray
    indirect_se: np.ndarray
    split_z: np.ndarray
    split_pval: np.ndarray
    pscore: np.ndarray
    q_total: float
    q_total_df: int
    q_total_pval: float
    q_within: float
    q_within_df: int
    q_within_pval: float
    q_between: float
    q_between_df: int
    q_between_pval: float
    tau2_within: float
    q_between_random: float
    q_between_random_df: int
    q_between_random_pval: float
    contributions: np.ndarray = field(repr=False)
    hat: np.ndarray = field(repr=False)
    contrast_study: np.ndarray = field(repr=False)
    n_patients: np.ndarray = field(repr=False)
    row_ids: dict = field(repr=False)
    contribution_method: str = "streams"
    stream_selection: str = "shortest"
    test: str = "z"
    df: float = float("inf")
    note: str = ""
    edges: tuple = ()
    edge_estimate: np.ndarray = field(default=None, repr=False)
    edge_weights: np.ndarray = field(default=None, repr=False)
    comparison_hat: np.ndarray = field(default=None, repr=False)
    edge_contributions: np.ndarray = field(default=None, repr=False)

    @property
    def tau(self) -> float:
        """Between-study standard deviation."""
        return float(np.sqrt(self.tau2))

    def index(self, treatment: str) -> int:
        """Position of a treatment in :attr:`treatments`."""
        return self.treatments.index(treatment)

    def pairs_frame(self) -> pd.DataFrame:
        """One row per ordered pair (both orientations), the fields of the pair matrices, and the
        confidence intervals of the direct and indirect estimates (normal quantile at ``level``,
        as netmeta's ``netsplit``, whatever ``test`` the network estimates use)."""
        n = len(self.treatments)
        z = norm_ppf(0.5 + self.level / 2)
        rec = []
        for i in range(n):
            for j in range(n):
                if i == j:
                    continue
                rec.append({"treatment1": self.treatments[i], "treatment2": self.treatments[j],
                            **{f: float(getattr(self, f)[i, j]) for f in
                               ("estimate", "se", "ci_low", "ci_high", "pi_low", "pi_high", "direct_estimate",
                                "direct_se", "indirect_estimate", "indirect_se", "split_z", "split_pval")},
                            "direct_k": int(self.direct_k[i, j]), "n_patients": float(self.n_patients[i, j]),
                            **{f"{kind}_ci_{side}": float(getattr(self, f"{kind}_estimate")[i, j]
                                                          + sign * z * getattr(self, f"{kind}_se")[i, j])
                               for kind in ("direct", "indirect") for side, sign in (("low", -1), ("high", 1))},
                            "row_ids": list(self.row_ids.get((min(i, j), max(i, j)), []))})
        return pd.DataFrame.from_records(rec)

    def ranking_frame(self) -> pd.DataFrame:
        """Treatments with P-score and rank (1 = best)."""
        order = np.argsort(-self.pscore, kind="stable")
        rank = np.empty(len(order), int)
        rank[order] = np.arange(1, len(order) + 1)
        return pd.DataFrame({"treatment": self.treatments, "pscore": self.pscore, "rank": rank}
                            ).sort_values("rank", kind="stable").reset_index(drop=True)

    def contributions_frame(self) -> pd.DataFrame:
        """One row per ordered pair × study with a non-zero share."""
        n = len(self.treatments)
        rec = []
        for i in range(n):
            for j in range(n):
                if i == j:
                    continue
                for s, c in zip(self.studies, self.contributions[i, j]):
                    if c > 0:
                        rec.append({"treatment1": self.treatments[i], "treatment2": self.treatments[j],
                                    "study_id": s, "contribution": float(c)})
        return pd.DataFrame.from_records(rec, columns=["treatment1", "treatment2", "study_id", "contribution"])


def _stack(contrasts, treatments, reference):
    col = {t: i for i, t in enumerate(t for t in treatments if t != reference)}
    ys, Ss, Xs, sig, owner = [], [], [], [], []
    for k, c in enumerate(contrasts):
        q = len(c.y)
        X = np.zeros((q, len(col)))
        for b in range(q):
            if c.arms[0] in col:
                X[b, col[c.arms[0]]] += 1
            if c.arms[b + 1] in col:
                X[b, col[c.arms[b + 1]]] -= 1
        ys.append(c.y)
        Ss.append(c.cov)
        Xs.append(X)
        sig.append(np.full((q, q), 0.5) + 0.5 * np.eye(q))
        owner += [k] * q
    from scipy.linalg import block_diag

    return (np.concatenate(ys), block_diag(*Ss), np.vstack(Xs), block_diag(*sig), np.asarray(owner))


def _gls(y, V, X):
    W = np.linalg.inv(V)
    XtW = X.T @ W
    cov = np.linalg.inv(XtW @ X)
    beta = cov @ XtW @ y
    return beta, cov, W


def _pmat(V, X):
    W = np.linalg.inv(V)
    WX = W @ X
    return W - WX @ np.linalg.solve(X.T @ WX, WX.T)


def _tau2_moments(q, df, S, X, Sig):
    """Multivariate method of moments (Jackson, White & Riley 2012): ``max(0, (Q - df) / tr(P Sigma))``
    for a model ``X`` whose fixed-effect Q on ``df`` degrees of freedom is ``q``; 0 without df."""
    if df == 0:
        return 0.0
    return max(0.0, (q - df) / float(np.trace(_pmat(S, X) @ Sig)))


def _q_within_designs(designs, tau2=0.0):
    """Q of the full design-by-treatment interaction model (each design around its own multivariate
    mean) with covariances ``S_s + tau2 Sigma_s``, and its degrees of freedom."""
    q, df = 0.0, 0
    for arms, cs in designs.items():
        if len(cs) < 2:
            continue
        m = len(arms) - 1
        sig = np.full((m, m), 0.5) + 0.5 * np.eye(m)
        Wi = [np.linalg.inv(c.cov if tau2 == 0 else c.cov + tau2 * sig) for c in cs]
        mean = np.linalg.solve(sum(Wi), sum(w @ c.y for w, c in zip(Wi, cs)))
        q += float(sum((c.y - mean) @ w @ (c.y - mean) for w, c in zip(Wi, cs)))
        df += (len(cs) - 1) * m
    return q, df


def _interaction_matrix(contrasts, designs):
    """Design matrix of the full design-by-treatment interaction model on the stacked contrasts: one
    column per design and contrast (``arms[0] - arms[b]``), in the row order of :func:`_stack`."""
    offset, m = {}, 0
    for arms in designs:
        offset[arms] = m
        m += len(arms) - 1
    rows = [offset[c.arms] + b for c in contrasts for b in range(len(c.y))]
    Xi = np.zeros((len(rows), m))
    Xi[np.arange(len(rows)), rows] = 1
    return Xi


def _tau2_reml(y, S, X, Sig):
    def score(t):
        P = _pmat(S + t * Sig, X)
        Py = P @ y
        return Py @ Sig @ Py - np.trace(P @ Sig)

    if score(0.0) <= 0:
        return 0.0
    hi = 1.0
    while score(hi) > 0:
        hi *= 2
        if hi > 1e12:
            raise ValueError("REML estimate of tau² diverges")
    # imported here: scipy.optimize takes 0.3 s to import, which the report's tables (this
    # module's helpers) would otherwise pay without fitting anything
    from scipy.optimize import brentq

    return float(brentq(score, 0.0, hi, xtol=_XTOL, rtol=4 * np.finfo(float).eps, maxiter=500))


def fit_network(contrasts, method: str = "REML", level: float = 0.95, reference: str | None = None,
                treatments=None, larger_is_better: bool = True, tau2: float | None = None,
                contribution: str = "streams", stream_selection: str = "shortest", test: str = "z") -> NetworkResult:
    """Fit the random-effects network meta-analysis.

    Parameters
    ----------
    contrasts : sequence of StudyContrasts
        From :func:`contrasts_from_pairwise` or :func:`contrasts_from_arms`.
    method : {"REML", "DL", "FE"}, default "REML"
        Estimator of the common tau² (``FE``: tau² = 0).
    level : float, default 0.95
        Level of the confidence and prediction intervals.
    reference : str, optional
        Reference treatment of ``d`` (default: the first of ``treatments``);
        no estimate depends on it.
    treatments : sequence of str, optional
        Order of the treatments in the result (default byte order).
    larger_is_better : bool, default True
        Direction of the P-scores.
    tau2 : float, optional
        Fix tau² at this value instead of estimating it.
    contribution : {"streams", "proportion"}, default "streams"
        How the studies' contributions are computed (module notes):
        Papakonstantinou et al. (2018)'s stream decomposition of the aggregate
        hat matrix, or Chaimani et al. (2013)'s proportion contributions.
    stream_selection : {"shortest", "randomwalk"}, default "shortest"
        Which streams (see :func:`flow_streams`).
    test : {"z", "t"}, default "z"
        Quantile of the network estimates' confidence and prediction intervals:
        normal (``z``, metafor's default) or t with the residual degrees of
        freedom, stacked contrasts minus treatment effects (``t``, as
        ``rma.mv(test = "t")`` and its ``predict()``). Standard errors, P-scores
        (normal, Rücker & Schwarzer 2015), the direct and indirect estimates and
        the side-splitting test (normal, as netmeta's ``netsplit``) do not depend
        on it. Without residual df ``t`` falls back to ``z`` (:data:`T_DF0_NOTE`).

    Returns
    -------
    NetworkResult

    Raises
    ------
    ValueError
        For an unknown method or test, fewer than two treatments, or a disconnected
        network (naming the studies of each part; see :func:`fit_network_parts`).
    """
    if method not in NETWORK_METHODS:
        raise ValueError(f"method must be one of {NETWORK_METHODS}, not {method!r}")
    if contribution not in CONTRIBUTION_METHODS:
        raise ValueError(f"contribution must be one of {CONTRIBUTION_METHODS}, not {contribution!r}")
    if test not in NETWORK_TESTS:
        raise ValueError(f"test must be one of {NETWORK_TESTS}, not {test!r}")
    if stream_selection not in STREAM_SELECTIONS:
        raise ValueError(f"stream_selection must be one of {STREAM_SELECTIONS}, not {stream_selection!r}")
    contrasts = tuple(contrasts)
    present = sorted({t for c in contrasts for t in c.arms})
    treatments = tuple(treatments) if treatments is not None else tuple(present)
    if sorted(treatments) != present:
        raise ValueError(f"treatments {list(treatments)} do not match the network's {present}")
    if len(treatments) < 2:
        raise ValueError("a network needs at least two treatments")
    parts = connected_components(contrasts)
    if len(parts) > 1:
        desc = "; ".join(f"part {i + 1}: treatments {', '.join(t)} (studies {', '.join(s)})"
                         for i, (t, s) in enumerate(parts))
        raise ValueError(f"the network is disconnected into {len(parts)} parts, analyse each separately "
                         f"(fit_network_parts): {desc}")
    reference = reference if reference is not None else treatments[0]
    if reference not in treatments:
        raise ValueError(f"reference {reference!r} is not in the network")
    nt = len(treatments)
    y, S, X, Sig, owner = _stack(contrasts, treatments, reference)
    N, npar = X.shape
    # Fixed-effect Q and the design-by-treatment decomposition
    beta0, _, W0 = _gls(y, S, X)
    r0 = y - X @ beta0
    q_total = float(r0 @ W0 @ r0)
    q_df = N - npar
    designs = {}
    for c in contrasts:
        designs.setdefault(c.arms, []).append(c)
    q_within, q_within_df = _q_within_designs(designs)
    q_between, q_between_df = q_total - q_within, q_df - q_within_df
    # the random-effects test: tau² of the interaction model, then both models' Q at that tau²
    tau2_within = _tau2_moments(q_within, q_within_df, S, _interaction_matrix(contrasts, designs), Sig)
    beta_w, _, W_w = _gls(y, S + tau2_within * Sig, X)
    r_w = y - X @ beta_w
    q_between_random = float(r_w @ W_w @ r_w) - _q_within_designs(designs, tau2_within)[0]

    if tau2 is not None:
        t2 = float(tau2)
    elif method == "FE" or q_df == 0:
        t2 = 0.0
    elif method == "DL":
        t2 = _tau2_moments(q_total, q_df, S, X, Sig)
    else:
        t2 = _tau2_reml(y, S, X, Sig)

    V = S + t2 * Sig
    beta, cov_b, W = _gls(y, V, X)
    keep = [i for i, t in enumerate(treatments) if t != reference]
    d = np.zeros(nt)
    d[keep] = beta
    cov_d = np.zeros((nt, nt))
    cov_d[np.ix_(keep, keep)] = cov_b
    est = d[:, None] - d[None, :]
    dv = np.diag(cov_d)
    var = dv[:, None] + dv[None, :] - 2 * cov_d
    se = np.sqrt(np.maximum(var, 0))
    note = ""
    if test == "t" and q_df == 0:
        test, note = "z", T_DF0_NOTE
    df = float(q_df) if test == "t" else float("inf")
    crit = t_ppf(0.5 + level / 2, df) if test == "t" else norm_ppf(0.5 + level / 2)
    np.fill_diagonal(se, np.nan)
    pse = np.sqrt(se**2 + t2)

    # direct evidence (each study's own contrast, variance + the common tau²) and back-calculation
    pos = {t: i for i, t in enumerate(treatments)}
    sw = np.zeros((nt, nt))
    swy = np.zeros((nt, nt))
    dk = np.zeros((nt, nt), int)
    npat = np.zeros((nt, nt))
    rows: dict = {}
    for c in contrasts:
        p = len(c.arms)
        Y, Vp = c.pairwise()
        for a in range(p):
            for b in range(p):
                if a == b:
                    continue
                i, j = pos[c.arms[a]], pos[c.arms[b]]
                w = 1 / (Vp[a, b] + t2)
                sw[i, j] += w
                swy[i, j] += w * Y[a, b]
                dk[i, j] += 1
                na = c.n[a] if len(c.n) else np.nan
                nb = c.n[b] if len(c.n) else np.nan
                npat[i, j] += np.nansum([na, nb])
                if i < j:
                    rows.setdefault((i, j), []).extend(c.row_ids)
    with np.errstate(divide="ignore", invalid="ignore"):
        dest = np.where(dk > 0, swy / sw, np.nan)
        dse = np.where(dk > 0, 1 / np.sqrt(sw), np.nan)
        prec_ind = 1 / se**2 - 1 / dse**2
        has = (dk > 0) & (prec_ind > _TOL_SPLIT / se**2)
        ind_var = np.where(has, 1 / prec_ind, np.nan)
        ind = np.where(has, (est / se**2 - dest / dse**2) * ind_var, np.nan)
        ind_se = np.sqrt(ind_var)
        sz = (dest - ind) / np.sqrt(dse**2 + ind_var)
    spv = 2 * norm_sf(np.abs(sz))

    sign = 1.0 if larger_is_better else -1.0
    with np.errstate(invalid="ignore"):
        P = norm_cdf(sign * est / se)
    np.fill_diagonal(P, np.nan)
    pscore = np.nanmean(P, axis=1)

    # hat matrix of the network estimates on the stacked contrasts -> study contributions
    Hb = cov_b @ X.T @ W  # (npar, N): beta = Hb y
    Hd = np.zeros((nt, N))
    Hd[keep] = Hb
    nst = len(contrasts)
    edges, ew, ybar, Hagg = _aggregate(contrasts, treatments, t2)
    aw = np.abs(ew)
    share = aw / aw.sum(axis=0)  # (studies, edges): each study's part of an edge
    contrib = np.zeros((nt, nt, nst))
    econtrib = np.zeros((nt, nt, len(edges)))
    onehot = np.zeros((N, nst))
    onehot[np.arange(N), owner] = 1
    for i in range(nt):
        for j in range(nt):
            if i == j:
                continue
            if contribution == "proportion":
                h = np.abs(Hd[i] - Hd[j]) @ onehot
                contrib[i, j] = h / h.sum()
                with np.errstate(invalid="ignore", divide="ignore"):
                    econtrib[i, j] = (contrib[i, j][:, None] * np.where(aw > 0, aw / aw.sum(axis=1, keepdims=True),
                                                                         0)).sum(axis=0)
            elif i < j:
                # j - i is the same estimate negated: same streams reversed, same contributions
                # (so that ties between equally short paths cannot make the two orientations differ)
                _, ce = flow_streams(edges, Hagg[i, j], i, j, selection=stream_selection)
                econtrib[i, j] = econtrib[j, i] = ce / ce.sum()
                contrib[i, j] = contrib[j, i] = share @ econtrib[i, j]

    chi = chi2_sf
    return NetworkResult(
        treatments=treatments, reference=reference, method=method, level=level,
        larger_is_better=larger_is_better, tau2=t2, studies=tuple(c.study for c in contrasts),
        designs=tuple(designs), d=d, cov_d=cov_d, estimate=est, se=se,
        ci_low=est - crit * se, ci_high=est + crit * se, pi_low=est - crit * pse, pi_high=est + crit * pse,
        direct_estimate=dest, direct_se=dse, direct_k=dk, indirect_estimate=ind, indirect_se=ind_se,
        split_z=sz, split_pval=spv, pscore=pscore,
        q_total=q_total, q_total_df=int(q_df), q_total_pval=float(chi(q_total, q_df)) if q_df else np.nan,
        q_within=q_within, q_within_df=int(q_within_df),
        q_within_pval=float(chi(q_within, q_within_df)) if q_within_df else np.nan,
        q_between=q_between, q_between_df=int(q_between_df),
        q_between_pval=float(chi(q_between, q_between_df)) if q_between_df else np.nan,
        tau2_within=tau2_within, q_between_random=q_between_random, q_between_random_df=int(q_between_df),
        q_between_random_pval=float(chi(q_between_random, q_between_df)) if q_between_df else np.nan,
        contributions=contrib, hat=Hd, contrast_study=owner, n_patients=npat,
        row_ids={k: list(dict.fromkeys(v)) for k, v in rows.items()},
        contribution_method=contribution, stream_selection=stream_selection, test=test, df=df, note=note,
        edges=tuple((treatments[a], treatments[b]) for a, b in edges), edge_estimate=ybar, edge_weights=ew,
        comparison_hat=Hagg, edge_contributions=econtrib,
    )


def fit_network_parts(contrasts, **kwargs) -> tuple[list[NetworkResult], str]:
    """Fit each connected part of the network separately.

    Returns the fits (largest part first) and a note saying how the network
    splits (empty when it is connected). Keyword arguments go to
    :func:`fit_network`; ``treatments`` is restricted to each part's own.
    """
    contrasts = tuple(contrasts)
    parts = connected_components(contrasts)
    order = kwargs.pop("treatments", None)
    reference = kwargs.pop("reference", None)
    fits = []
    for tr, st in parts:
        sub = [c for c in contrasts if c.study in set(st)]
        tr_order = [t for t in order if t in tr] if order is not None else None
        fits.append(fit_network(sub, treatments=tr_order, reference=reference if reference in tr else None,
                                **kwargs))
    note = ""
    if len(parts) > 1:
        note = (f"The network is disconnected into {len(parts)} parts, each analysed separately: "
                + "; ".join(f"{' / '.join(t)} ({len(s)} {'study' if len(s) == 1 else 'studies'}: {', '.join(s)})"
                            for t, s in parts) + ".")
    return fits, note


