"""Study contributions to network estimates: Papakonstantinou et al. (2018) streams (default) and
Chaimani et al. (2013) proportion contributions (depmeta.stats.network)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import shared_path
from depmeta.stats.network import contrasts_from_pairwise, fit_network, flow_streams

#: Hand-worked values below are exact fractions; the engine computes them through a
#: pseudo-inverse and sums, so agreement is to floating-point rounding only.
RTOL_EXACT = 1e-10
#: The paper's worked example is printed to 3 decimals: half a unit in the last digit.
TOL_PRINTED = 5e-4

# Papakonstantinou et al. (2018), worked example: the network of Macfadyen et al. (2005),
# topical treatments of chronically discharging ears (x no treatment, y quinolone antibiotic,
# u non-quinolone antibiotic, v antiseptic). The row x:y of the paper's hat matrix H, over the
# direct comparisons xy, xv, yu, yv, uv (entry for "a-b" multiplies the direct estimate a - b),
# and the streams and contributions the paper derives from it (also in the first author's
# ISCB 2018 presentation of the paper, github.com/tpapak/iscb2018, slides 8b-8c).
EARDRUM_EDGES = [("x", "y"), ("x", "v"), ("y", "u"), ("y", "v"), ("u", "v")]
EARDRUM_H_XY = [0.635, 0.365, -0.114, -0.251, -0.114]
EARDRUM_H_XU = [0.603, 0.397, 0.632, -0.029, -0.368]


def test_paper_worked_example_streams_and_contributions():
    # flow of x:y: x->y 0.635, x->v 0.365, u->y 0.114 (yu negative), v->y 0.251, v->u 0.114
    streams, c = flow_streams(EARDRUM_EDGES, EARDRUM_H_XY, "x", "y")
    # shortest path first: x-y (1 edge, flow 0.635); then x-v-y (2 edges, flow min(0.365, 0.251));
    # then x-v-u-y (3 edges, the 0.114 left)
    assert [s.path for s in streams] == [("x", "y"), ("x", "v", "y"), ("x", "v", "u", "y")]
    np.testing.assert_allclose([s.flow for s in streams], [0.635, 0.251, 0.114], rtol=RTOL_EXACT)
    # contribution = sum over streams through the edge of flow / path length
    expected = {("x", "y"): 0.635, ("x", "v"): 0.251 / 2 + 0.114 / 3, ("y", "u"): 0.114 / 3,
                ("y", "v"): 0.251 / 2, ("u", "v"): 0.114 / 3}
    np.testing.assert_allclose(c, [expected[e] for e in EARDRUM_EDGES], rtol=RTOL_EXACT)
    # the values printed in the paper's example: c_xy 0.635, c_vy 0.126, c_xv 0.164, c_vu = c_uy 0.038
    np.testing.assert_allclose(c, [0.635, 0.164, 0.038, 0.126, 0.038], atol=TOL_PRINTED)
    assert c.sum() == pytest.approx(1.0, rel=RTOL_EXACT)


def test_paper_row_xu_hand_worked():
    # x:u flows: x->y 0.603, x->v 0.397, y->u 0.632, v->y 0.029, v->u 0.368. Shortest first:
    # x-y-u (0.603; breadth-first search reaches u through y, the first neighbour of x), then
    # x-v-u (min(0.397, 0.368) = 0.368), then x-v-y-u with the 0.029 left on x-v, v-y, y-u.
    streams, c = flow_streams(EARDRUM_EDGES, EARDRUM_H_XU, "x", "u")
    assert [s.path for s in streams] == [("x", "y", "u"), ("x", "v", "u"), ("x", "v", "y", "u")]
    np.testing.assert_allclose([s.flow for s in streams], [0.603, 0.368, 0.029], rtol=RTOL_EXACT)
    np.testing.assert_allclose(c, [0.603 / 2, 0.368 / 2 + 0.029 / 3, 0.603 / 2 + 0.029 / 3, 0.029 / 3,
                                   0.368 / 2], rtol=RTOL_EXACT)
    # the random walk gives the same three streams here (v is the only node with a choice)
    rw, c_rw = flow_streams(EARDRUM_EDGES, EARDRUM_H_XU, "x", "u", selection="randomwalk")
    assert sorted((s.path, round(s.flow, 12)) for s in rw) == sorted((s.path, round(s.flow, 12)) for s in streams)
    np.testing.assert_allclose(c_rw, c, rtol=RTOL_EXACT)


def test_shortest_path_and_random_walk_differ_where_flows_mix():
    # s->m 0.6, s->a 0.4, a->m 0.4, m->t 0.5, m->b 0.5, b->t 0.5 (node m mixes two inflows)
    edges = [("s", "m"), ("s", "a"), ("a", "m"), ("m", "t"), ("m", "b"), ("b", "t")]
    h = [0.6, 0.4, 0.4, 0.5, 0.5, 0.5]
    sp, c_sp = flow_streams(edges, h, "s", "t")
    # shortest: s-m-t 0.5, then s-m-b-t 0.1 (left on s-m), then s-a-m-b-t 0.4
    assert [(s.path, round(s.flow, 12)) for s in sp] == [
        (("s", "m", "t"), 0.5), (("s", "m", "b", "t"), 0.1), (("s", "a", "m", "b", "t"), 0.4)]
    np.testing.assert_allclose(c_sp, [0.5 / 2 + 0.1 / 3, 0.4 / 4, 0.4 / 4, 0.5 / 2, 0.1 / 3 + 0.4 / 4,
                                      0.1 / 3 + 0.4 / 4], rtol=RTOL_EXACT)
    # random walk: s->m 0.6 then t or b with 1/2 each; s->a 0.4 then m, then t or b
    rw, c_rw = flow_streams(edges, h, "s", "t", selection="randomwalk")
    got = {s.path: s.flow for s in rw}
    np.testing.assert_allclose([got[p] for p in [("s", "m", "t"), ("s", "m", "b", "t"), ("s", "a", "m", "t"),
                                                 ("s", "a", "m", "b", "t")]], [0.3, 0.3, 0.2, 0.2], rtol=RTOL_EXACT)
    np.testing.assert_allclose(c_rw, [0.3 / 2 + 0.3 / 3, 0.2 / 3 + 0.2 / 4, 0.2 / 3 + 0.2 / 4,
                                      0.3 / 2 + 0.2 / 3, 0.3 / 3 + 0.2 / 4, 0.3 / 3 + 0.2 / 4], rtol=RTOL_EXACT)
    for streams in (sp, rw):  # both decompose the whole flow: each edge's flow is the sum of its streams
        through = {e: 0.0 for e in edges}
        for s in streams:
            for leg in zip(s.path[:-1], s.path[1:]):
                through[leg] += s.flow
        np.testing.assert_allclose([through[e] for e in edges], h, rtol=RTOL_EXACT)
    for c in (c_sp, c_rw):
        assert c.sum() == pytest.approx(1.0, rel=RTOL_EXACT)


def _triangle():
    # Two A-B trials (variance 2 each), one A-C and one B-C trial (variance 0.5 each)
    return contrasts_from_pairwise(["ab1", "ab2", "ac", "bc"], ["A", "A", "A", "B"], ["B", "B", "C", "C"],
                                   [0.3, 0.1, 0.5, 0.1], [2.0, 2.0, 0.5, 0.5])


def test_triangle_hand_worked():
    res = fit_network(_triangle(), method="FE")
    assert res.edges == (("A", "B"), ("A", "C"), ("B", "C"))
    # edge weights: W_AB = 1/2 + 1/2 = 1, W_AC = 2, W_BC = 2; each trial's weight its 1/v
    np.testing.assert_allclose(res.edge_weights, [[0.5, 0, 0], [0.5, 0, 0], [0, 2, 0], [0, 0, 2]], rtol=RTOL_EXACT)
    # A-B: direct weight 1, indirect A-C-B in series 1 / (1/2 + 1/2) = 1, so
    # A-B = 1/2 ybar_AB + 1/2 (ybar_AC - ybar_BC): H row (0.5, 0.5, -0.5)
    A, B, C = (res.index(t) for t in "ABC")
    np.testing.assert_allclose(res.comparison_hat[A, B], [0.5, 0.5, -0.5], rtol=RTOL_EXACT)
    np.testing.assert_allclose(res.comparison_hat[A, B] @ res.edge_estimate, res.estimate[A, B], rtol=RTOL_EXACT)
    # flow A->B 0.5, A->C 0.5, C->B 0.5: streams A-B 0.5 and A-C-B 0.5 (two edges, 0.25 each)
    np.testing.assert_allclose(res.edge_contributions[A, B], [0.5, 0.25, 0.25], rtol=RTOL_EXACT)
    # the A-B half split between the two A-B trials by weight (equal here)
    np.testing.assert_allclose(res.contributions[A, B], [0.25, 0.25, 0.25, 0.25], rtol=RTOL_EXACT)
    # A-C: direct weight 2, indirect A-B-C in series 1 / (1 + 1/2) = 2/3: H_AC = 2 / (8/3) = 0.75;
    # stream A-C 0.75 and A-B-C 0.25 (0.125 to each of its edges)
    np.testing.assert_allclose(res.comparison_hat[A, C], [0.25, 0.75, 0.25], rtol=RTOL_EXACT)
    np.testing.assert_allclose(res.edge_contributions[A, C], [0.125, 0.75, 0.125], rtol=RTOL_EXACT)
    np.testing.assert_allclose(res.contributions[A, C], [0.0625, 0.0625, 0.75, 0.125], rtol=RTOL_EXACT)
    # B-C by the same symmetry: 0.75 direct, A-B and A-C 0.125 each; the reverse orientation the same
    np.testing.assert_allclose(res.edge_contributions[B, C], [0.125, 0.125, 0.75], rtol=RTOL_EXACT)
    np.testing.assert_allclose(res.contributions[C, B], res.contributions[B, C], rtol=RTOL_EXACT)
    # Chaimani et al.'s proportion method on the same network: |H| over the trials' contrasts for
    # A-B is (0.25, 0.25, 0.5, 0.5), total 1.5 -> (1/6, 1/6, 1/3, 1/3)
    prop = fit_network(_triangle(), method="FE", contribution="proportion")
    np.testing.assert_allclose(prop.contributions[A, B], [1 / 6, 1 / 6, 1 / 3, 1 / 3], rtol=RTOL_EXACT)
    assert prop.contribution_method == "proportion" and res.contribution_method == "streams"


def test_tree_network_direct_comparison_is_all_its_own_trials():
    # a star around A (a tree): A-B in two trials, A-C and A-D in one each; random effects
    c = contrasts_from_pairwise(["ab1", "ab2", "ac", "ad", "ad2"], ["A", "A", "A", "A", "A"], ["B", "B", "C", "D", "D"],
                                [0.2, 0.6, 0.1, -0.3, 0.4], [0.04, 0.09, 0.05, 0.06, 0.08])
    for selection in ("shortest", "randomwalk"):
        res = fit_network(c, method="DL", stream_selection=selection)
        assert res.tau2 > 0
        A, B, C = res.index("A"), res.index("B"), res.index("C")
        w = 1 / (np.array([0.04, 0.09]) + res.tau2)
        np.testing.assert_allclose(res.contributions[A, B], [*(w / w.sum()), 0, 0, 0], rtol=RTOL_EXACT, atol=1e-15)
        # B-C only through A: half from the A-B trials (by weight), half from the A-C trial
        np.testing.assert_allclose(res.contributions[B, C], [*(w / w.sum() / 2), 0.5, 0, 0], rtol=RTOL_EXACT,
                                   atol=1e-15)


def _linde():
    d = pd.read_csv(shared_path("datasets", "metadat", "linde2016.csv"))
    return contrasts_from_pairwise(d.id, d.treat1, d.treat2, d.lnOR, sei=d.selnOR)


@pytest.mark.parametrize("contribution,selection", [("streams", "shortest"), ("streams", "randomwalk"),
                                                    ("proportion", "shortest")])
def test_contributions_sum_to_one_non_negative_with_multi_arm_trials(contribution, selection):
    res = fit_network(_linde(), contribution=contribution, stream_selection=selection)
    n = len(res.treatments)
    off = ~np.eye(n, dtype=bool)
    np.testing.assert_allclose(res.contributions.sum(axis=2)[off], 1.0, rtol=1e-12)
    np.testing.assert_allclose(res.edge_contributions.sum(axis=2)[off], 1.0, rtol=1e-12)
    assert (res.contributions >= 0).all() and (res.edge_contributions >= 0).all()
    # the aggregate (two-step) hat matrix reproduces every network estimate from the edge estimates,
    # multi-arm trials included (their reduced weights)
    est = np.einsum("ije,e->ij", res.comparison_hat, res.edge_estimate)
    np.testing.assert_allclose(est[off], res.estimate[off], rtol=1e-9, atol=1e-12)
    frame = res.contributions_frame()
    np.testing.assert_allclose(frame.groupby(["treatment1", "treatment2"]).contribution.sum(), 1.0, rtol=1e-12)
    # a two-arm trial's weight in its edge is its inverse variance (v + tau²)
    d = pd.read_csv(shared_path("datasets", "metadat", "linde2016.csv"))
    two = d.groupby("id").filter(lambda g: len(g) == 1).iloc[0]
    s = res.studies.index(str(two.id))
    e = res.edges.index(tuple(sorted((two.treat1, two.treat2), key=res.treatments.index)))
    assert res.edge_weights[s, e] == pytest.approx(1 / (two.selnOR**2 + res.tau2), rel=1e-12)


def test_stream_decomposition_uses_all_flow_of_every_row():
    res = fit_network(_linde())
    for i in range(len(res.treatments)):
        for j in range(i + 1, len(res.treatments)):
            h = res.comparison_hat[i, j]
            streams, _ = flow_streams(res.edges, h, res.treatments[i], res.treatments[j])
            through = np.zeros(len(res.edges))
            for s in streams:
                for leg in zip(s.path[:-1], s.path[1:]):
                    k = res.edges.index(leg) if leg in res.edges else res.edges.index(leg[::-1])
                    through[k] += s.flow
            np.testing.assert_allclose(through, np.abs(h), atol=1e-10)
            assert sum(s.flow for s in streams) == pytest.approx(1.0, rel=1e-10)


def test_bad_contribution_options():
    with pytest.raises(ValueError, match="contribution must be one of"):
        fit_network(_triangle(), contribution="flows")
    with pytest.raises(ValueError, match="stream_selection must be one of"):
        fit_network(_triangle(), stream_selection="longest")
    with pytest.raises(ValueError, match="no flow from"):
        flow_streams(EARDRUM_EDGES, np.zeros(5), "x", "y")
