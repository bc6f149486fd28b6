"""Network meta-analysis engine (depmeta.stats.network) against metafor's rma.mv and netmeta's printout.

References: tests/reference/network.json from tests/reference/generate_network.R (metafor's
contrast-based model, REML and tau² = 0, on metadat's senn2013 and linde2016);
tests/reference/network_t.json from tests/reference/generate_network_t.R (the same model under
metafor's test = "t": t quantiles with contrasts minus treatment effects df, for the confidence
and prediction intervals; senn2013, a three-study part of it and linde2016);
tests/reference/decomp.json from tests/reference/generate_decomp.R (netmeta's random-effects
design-by-treatment test, Q.inc.random, rebuilt with metafor on netmeta's Linde2016, a part of it
and metadat's senn2013)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import reported_rows, shared_path
from depmeta.stats.effects import escalc
from depmeta.stats.network import (
    T_DF0_NOTE,
    connected_components,
    contrasts_from_arms,
    contrasts_from_pairwise,
    fit_network,
    fit_network_parts,
)

REF = json.loads((Path(__file__).parent / "reference" / "network.json").read_text())
REF_T = json.loads((Path(__file__).parent / "reference" / "network_t.json").read_text())
DECOMP = json.loads((Path(__file__).parent / "reference" / "decomp.json").read_text())

#: metafor parity: the R references polish tau² by Brent's method on metafor's own restricted
#: likelihood (relative accuracy ~sqrt(machine eps) in tau², far less in the estimates).
RTOL = 1e-6
#: The design-by-treatment statistics against the R reference: both sides are closed-form linear
#: algebra (a method-of-moments tau², generalised least squares, no iterative fit), so they agree to
#: rounding (observed ~1e-15 relative); 1e-10 leaves room for the condition of the 108 x 108
#: covariance of Linde 2016 on other BLAS builds.
RTOL_DECOMP = 1e-10
#: netmeta's published Senn 2013 printout (Rücker & Schwarzer 2015; netmeta's help) is rounded to
#: 3-5 digits and computed from netmeta's own rounded TE/seTE; the arm data here give Q 96.984
#: (printed 96.986). Tolerances: half a unit in the printed last digit plus that data rounding.
TOL_Q = 0.01
TOL_TAU2 = 2e-5
TOL_EST = 2e-4


def _senn():
    p = pd.DataFrame(REF["senn2013"]["pairwise"])
    return contrasts_from_pairwise(p.study, p.t1, p.t2, p.y, p.v)


def _linde():
    d = pd.read_csv(shared_path("datasets", "metadat", "linde2016.csv"))
    return contrasts_from_pairwise(d.id, d.treat1, d.treat2, d.lnOR, sei=d.selnOR)


def _check_fit(res, ref, random=True):
    pairs = ref["pairs"]
    key = "random" if random else "fixed"
    i = [res.index(t) for t in pairs["treatment1"]]
    j = [res.index(t) for t in pairs["treatment2"]]
    for ours, theirs in (("estimate", "estimate"), ("se", "se"), ("ci_low", "ci_lb"), ("ci_high", "ci_ub")):
        np.testing.assert_allclose(getattr(res, ours)[i, j], pairs[key][theirs], rtol=RTOL, err_msg=ours)
    if random:
        np.testing.assert_allclose(res.tau2, ref["tau2"], rtol=RTOL)
        np.testing.assert_allclose(res.pi_low[i, j], pairs[key]["pi_lb"], rtol=RTOL)
        np.testing.assert_allclose(res.pi_high[i, j], pairs[key]["pi_ub"], rtol=RTOL)
        coef = ref["coef"]
        np.testing.assert_allclose([res.d[res.index(t)] for t in coef], list(coef.values()), rtol=RTOL)
        keep = [res.index(t) for t in coef]
        np.testing.assert_allclose(res.cov_d[np.ix_(keep, keep)], ref["vcov"], rtol=RTOL)
    np.testing.assert_allclose(res.q_total, ref["qe"], rtol=RTOL)
    assert res.q_total_df == ref["qe_df"]
    np.testing.assert_allclose(res.q_total_pval, ref["qe_pval"], rtol=RTOL)


@pytest.mark.parametrize("method", ["REML", "FE"])
def test_senn2013_matches_metafor(method):
    res = fit_network(_senn(), method=method, reference="placebo")
    _check_fit(res, REF["senn2013"]["fit"], random=method == "REML")
    assert len(res.studies) == REF["senn2013"]["fit"]["n_studies"]


@pytest.mark.parametrize("method", ["REML", "FE"])
def test_linde2016_matches_metafor(method):
    res = fit_network(_linde(), method=method, reference="Placebo")
    _check_fit(res, REF["linde2016"]["fit"], random=method == "REML")
    assert len(res.treatments) == 22 and len(res.studies) == 93


@pytest.mark.parametrize("method", ["REML", "FE"])
@pytest.mark.parametrize("name", ["senn2013", "senn2013_part", "linde2016"])
def test_t_intervals_match_metafor(name, method):
    """test="t": estimates and SEs as under z, CIs and PIs with the t quantile on contrasts minus
    treatment effects df (rma.mv(test = "t") and predict()); the same RTOL as the z parity."""
    ref = REF_T[name]["fit"]
    if name == "linde2016":
        contrasts = _linde()
    else:
        p = pd.DataFrame(REF_T[name]["pairwise"])
        contrasts = contrasts_from_pairwise(p.study, p.t1, p.t2, p.y, p.v)
    res = fit_network(contrasts, method=method, reference=ref["reference"], test="t")
    assert (res.test, res.note) == ("t", "")
    assert res.df == ref["ddf"] == ref["pi_ddf"] == ref["k_contrasts"] - ref["n_parameters"]
    pairs = ref["pairs"]["random" if method == "REML" else "fixed"]
    i = [res.index(t) for t in ref["pairs"]["treatment1"]]
    j = [res.index(t) for t in ref["pairs"]["treatment2"]]
    est = np.asarray(pairs["estimate"])
    np.testing.assert_allclose(res.estimate[i, j], est, rtol=RTOL)
    np.testing.assert_allclose(res.se[i, j], pairs["se"], rtol=RTOL)
    if method == "REML":
        np.testing.assert_allclose(res.tau2, ref["tau2"], rtol=RTOL)
    limits = [("ci_low", "ci_lb"), ("ci_high", "ci_ub")] + ([("pi_low", "pi_lb"), ("pi_high", "pi_ub")]
                                                            if method == "REML" else [])
    for ours, theirs in limits:
        # RTOL relative to the interval's half-width (a limit near 0 has no relative accuracy of its own)
        half = np.abs(np.asarray(pairs[theirs]) - est)
        np.testing.assert_allclose(getattr(res, ours)[i, j] - res.estimate[i, j], np.asarray(pairs[theirs]) - est,
                                   rtol=RTOL, err_msg=ours)
        assert np.all(np.abs(getattr(res, ours)[i, j] - pairs[theirs]) <= RTOL * half), ours


def test_t_without_residual_df_falls_back_to_z():
    """A star of one study per comparison has as many contrasts as effects: no t quantile exists
    (metafor gives no interval), so the intervals are the z ones and the note says why."""
    contrasts = contrasts_from_pairwise(["s1", "s2", "s3"], ["a", "b", "c"], ["ref"] * 3,
                                        [0.1, 0.9, -0.3], [0.04, 0.05, 0.06])
    t = fit_network(contrasts, reference="ref", test="t")
    z = fit_network(contrasts, reference="ref")
    assert (t.test, t.df, t.note) == ("z", float("inf"), T_DF0_NOTE)
    np.testing.assert_array_equal(t.ci_low, z.ci_low)
    np.testing.assert_array_equal(t.pi_high, z.pi_high)
    with pytest.raises(ValueError, match="test must be one of"):
        fit_network(contrasts, reference="ref", test="knha")


@pytest.mark.parametrize("name", ["senn2013", "linde2016"])
def test_pscores_match_metafor(name):
    res = fit_network(_senn() if name == "senn2013" else _linde(), larger_is_better=True)
    ref = REF[name]["fit"]["pscore"]
    np.testing.assert_allclose([res.pscore[res.index(t)] for t in ref], list(ref.values()), rtol=RTOL)
    low = fit_network(_senn() if name == "senn2013" else _linde(), larger_is_better=False)
    np.testing.assert_allclose(low.pscore, 1 - res.pscore, rtol=RTOL)
    rk = res.ranking_frame()
    assert list(rk["rank"]) == list(range(1, len(res.treatments) + 1))
    assert rk.pscore.is_monotonic_decreasing


def test_senn2013_dl_matches_netmeta_printout():
    res = fit_network(_senn(), method="DL", reference="placebo")
    assert abs(res.tau2 - 0.10872) < TOL_TAU2
    i, j = res.index("metformin"), res.index("placebo")
    assert abs(res.estimate[i, j] - -1.1268) < TOL_EST
    assert abs(res.se[i, j] - 0.1543) < TOL_EST
    assert (res.q_total_df, res.q_within_df, res.q_between_df) == (18, 11, 7)
    assert abs(res.q_total - 96.986) < TOL_Q
    assert abs(res.q_within - 74.455) < TOL_Q
    assert abs(res.q_between - 22.530) < TOL_Q


def _netmeta_linde(treatments=None):
    d = pd.read_csv(shared_path("datasets", "netmeta", "Linde2016.csv"))
    if treatments is not None:
        d = d[d.treat1.isin(treatments) & d.treat2.isin(treatments)]
    return contrasts_from_pairwise(d.id, d.treat1, d.treat2, d.lnOR, sei=d.selnOR)


@pytest.mark.parametrize("name", ["linde2016", "linde2016_tcas", "senn2013"])
def test_random_effects_design_by_treatment_test_matches_the_r_reference(name):
    """netmeta's Q.inc.random: tau² of the full design-by-treatment interaction model by the method
    of moments, then the consistency minus the interaction model's Q at that tau² (in linde2016_tcas
    the moment estimate is truncated at 0, so the test equals the fixed-effect one)."""
    ref = DECOMP[name]
    if name == "senn2013":
        p = pd.DataFrame(ref["pairwise"])
        contrasts = contrasts_from_pairwise(p.study, p.t1, p.t2, p.y, p.v)
    else:
        contrasts = _netmeta_linde(("TCA", "SSRI", "Placebo") if name == "linde2016_tcas" else None)
    res = fit_network(contrasts, reference=ref["treatments"][0])
    assert (len(res.studies), len(res.designs)) == (ref["n_studies"], ref["n_designs"])
    for field in ("q_total", "q_within", "q_between", "tau2_within", "q_between_random", "q_between_random_pval"):
        np.testing.assert_allclose(getattr(res, field), ref[field], rtol=RTOL_DECOMP, atol=1e-300, err_msg=field)
    assert (res.q_total_df, res.q_within_df, res.q_between_df, res.q_between_random_df) == \
        (ref["q_total_df"], ref["q_within_df"], ref["q_between_df"], ref["q_between_random_df"])
    if name == "linde2016_tcas":
        assert res.tau2_within == 0 and res.q_between_random == res.q_between


def test_random_effects_design_by_treatment_test_ignores_the_network_estimator():
    """tau2_within belongs to the interaction model: REML, DL or a fixed tau² of the network leave
    the test unchanged."""
    fits = [fit_network(_senn(), method=m, reference="placebo") for m in ("REML", "DL", "FE")]
    fits.append(fit_network(_senn(), reference="placebo", tau2=0.5))
    assert len({(f.tau2_within, f.q_between_random, f.q_between_random_pval) for f in fits}) == 1
    assert len({f.tau2 for f in fits}) == 4


def test_network_without_loops_has_no_design_by_treatment_test():
    """A star (every design a different pair with the reference) has no between-designs df: the
    random-effects test has no p-value, as netmeta's decomp.design (p NA at df 0)."""
    contrasts = contrasts_from_pairwise(["s1", "s2", "s3", "s4"], ["a", "a", "b", "c"], ["ref"] * 4,
                                        [0.1, 0.9, 0.1, -0.3], [0.04, 0.05, 0.03, 0.06])
    res = fit_network(contrasts, reference="ref")
    assert res.q_between_df == res.q_between_random_df == 0
    assert np.isnan(res.q_between_random_pval) and np.isnan(res.q_between_pval)
    assert abs(res.q_between_random) < 1e-12 and res.tau2_within > 0


def test_reference_and_order_do_not_change_estimates():
    a = fit_network(_senn(), reference="placebo")
    b = fit_network(_senn(), reference="acarbose", treatments=sorted(a.treatments, reverse=True))
    idx = [b.index(t) for t in a.treatments]
    np.testing.assert_allclose(b.estimate[np.ix_(idx, idx)], a.estimate, rtol=RTOL, atol=1e-14)
    np.testing.assert_allclose(b.pscore[idx], a.pscore, rtol=RTOL)


def test_direct_and_back_calculated_split():
    res = fit_network(_linde())
    t2 = res.tau2
    # a comparison made only in two-arm trials: direct = inverse-variance mean with tau² added
    d = pd.read_csv(shared_path("datasets", "metadat", "linde2016.csv"))
    sizes = d.groupby("id").size()
    d["pair"] = [tuple(sorted(x)) for x in zip(d.treat1, d.treat2)]
    multi = set(d.pair[d.id.isin(sizes.index[sizes > 1])])
    two_only = d[~d.pair.isin(multi)]
    rows = d[d.pair == two_only.pair.value_counts().index[0]]
    pair = (rows.treat1.iloc[0], rows.treat2.iloc[0])
    assert len(rows) >= 3 and (rows.treat1 == pair[0]).all()
    w = 1 / (rows.selnOR**2 + t2)
    i, j = res.index(pair[0]), res.index(pair[1])
    np.testing.assert_allclose(res.direct_estimate[i, j], (w * rows.lnOR).sum() / w.sum(), rtol=1e-12)
    np.testing.assert_allclose(res.direct_se[i, j], 1 / np.sqrt(w.sum()), rtol=1e-12)
    assert res.direct_k[i, j] == len(rows)
    # a comparison with a three-arm trial: its own pairwise row with the row's variance + tau²
    # (netmeta's direct estimate; the trial's other arms do not enter)
    rows = d[d.pair == ("SNRI", "TCA")]
    assert rows.id.isin(sizes.index[sizes > 1]).any()
    sign = np.where(rows.treat1 == "SNRI", 1.0, -1.0)
    w = 1 / (rows.selnOR**2 + t2)
    i, j = res.index("SNRI"), res.index("TCA")
    np.testing.assert_allclose(res.direct_estimate[i, j], (w * sign * rows.lnOR).sum() / w.sum(), rtol=1e-9)
    np.testing.assert_allclose(res.direct_se[i, j], 1 / np.sqrt(w.sum()), rtol=1e-9)
    # the back-calculation identity: precision-weighted direct + indirect = network
    has = np.isfinite(res.indirect_estimate)
    assert has.sum() > 20
    lhs = (res.direct_estimate / res.direct_se**2 + res.indirect_estimate / res.indirect_se**2)[has]
    np.testing.assert_allclose(lhs, (res.estimate / res.se**2)[has], rtol=1e-9)
    np.testing.assert_allclose(res.split_z, -res.split_z.T, rtol=1e-12, equal_nan=True)
    assert np.nanmin(res.split_pval) >= 0 and np.nanmax(res.split_pval) <= 1
    # no direct evidence -> no split
    assert np.isnan(res.indirect_estimate[res.direct_k == 0]).all()


def test_contributions_sum_to_one_and_follow_direct_evidence():
    res = fit_network(_senn())
    off = ~np.eye(len(res.treatments), dtype=bool)
    np.testing.assert_allclose(res.contributions.sum(axis=2)[off], 1.0, rtol=1e-12)
    assert (res.contributions >= 0).all()
    frame = res.contributions_frame()
    assert np.allclose(frame.groupby(["treatment1", "treatment2"]).contribution.sum(), 1.0)
    # the hat matrix reproduces the estimates from the stacked contrasts
    y = np.concatenate([c.y for c in _senn()])
    np.testing.assert_allclose(res.hat @ y, res.d, rtol=1e-9, atol=1e-12)
    assert res.contrast_study.shape == y.shape
    # A-B in two trials, B-C in one: A-C = A-B + B-C, half of it from the B-C trial and the
    # other half split between the A-B trials by their (fixed-effect) weights
    c = contrasts_from_pairwise(["ab1", "ab2", "bc"], ["A", "A", "B"], ["B", "B", "C"], [0.1, 0.3, 0.2],
                                [0.02, 0.06, 0.05])
    fe = fit_network(c, method="FE")
    w = np.array([1 / 0.02, 1 / 0.06])
    np.testing.assert_allclose(fe.contributions[0, 2], [*(w / w.sum() / 2), 0.5], rtol=1e-12)
    np.testing.assert_allclose(fe.contributions[0, 1], [*(w / w.sum()), 0.0], atol=1e-15)


def test_disconnected_network_message_and_parts():
    p = pd.DataFrame({"study": ["s1", "s2", "s3", "s4"], "t1": ["A", "B", "C", "D"], "t2": ["B", "A", "D", "E"],
                      "y": [0.2, -0.1, 0.4, 0.3], "v": [0.04, 0.05, 0.03, 0.06]})
    c = contrasts_from_pairwise(p.study, p.t1, p.t2, p.y, p.v)
    assert [t for t, _ in connected_components(c)] == [("C", "D", "E"), ("A", "B")]
    with pytest.raises(ValueError, match=r"disconnected into 2 parts.*C, D, E \(studies s3, s4\).*A, B "
                                         r"\(studies s1, s2\)"):
        fit_network(c)
    fits, note = fit_network_parts(c, method="FE")
    assert [f.treatments for f in fits] == [("C", "D", "E"), ("A", "B")]
    assert "disconnected into 2 parts" in note and "s3, s4" in note and "s1, s2" in note
    ab = fits[1]
    w = 1 / np.array([0.04, 0.05])
    np.testing.assert_allclose(ab.estimate[0, 1], (w * [0.2, 0.1]).sum() / w.sum(), rtol=1e-12)
    assert fit_network_parts(_senn())[1] == ""


def test_inconsistent_multiarm_rows_are_named():
    base = {"study": ["ok", "ok", "ok", "badv", "badv", "badv", "two"],
            "t1": ["A", "A", "B", "A", "A", "B", "A"], "t2": ["B", "C", "C", "B", "C", "C", "B"],
            "y": [0.1, 0.3, 0.2, 0.1, 0.3, 0.2, 0.0]}
    # badv: v_BC larger than v_AB + v_AC, so arm A would need a negative variance
    v = [0.05, 0.06, 0.07, 0.01, 0.01, 0.09, 0.04]
    with pytest.raises(ValueError, match=r"inconsistent multi-arm variances in badv") as e:
        contrasts_from_pairwise(base["study"], base["t1"], base["t2"], base["y"], v)
    assert "ok" not in str(e.value).split("variances in")[1]
    y = [0.1, 0.3, 0.5, 0.1, 0.3, 0.2, 0.0]  # ok: B - C should be 0.2
    with pytest.raises(ValueError, match=r"inconsistent multi-arm estimates in ok \(largest deviation 0\.3\)"):
        contrasts_from_pairwise(base["study"], base["t1"], base["t2"], y, [0.05, 0.06, 0.07] * 2 + [0.04])
    with pytest.raises(ValueError, match=r"lacks pairs: tri \(B vs C\)"):
        contrasts_from_pairwise(["tri", "tri"], ["A", "A"], ["B", "C"], [0.1, 0.2], [0.1, 0.1])
    with pytest.raises(ValueError, match=r"non-positive variance: z1"):
        contrasts_from_pairwise(["z1"], ["A"], ["B"], [0.1], [0.0])


def test_arm_level_md_equals_pairwise_and_metafor():
    senn = pd.read_csv(shared_path("datasets", "metadat", "senn2013.csv"))
    c, excluded = contrasts_from_arms(senn.study, senn.treatment, "MD", senn.ni, mean=senn.mi, sd=senn.sdi)
    assert excluded == []
    _check_fit(fit_network(c, reference="placebo"), REF["senn2013"]["fit"])


def test_arm_level_binary_zero_cells():
    # three-arm study with a zero arm: 0.5 added to every arm (also the B-C pair); two-arm study
    # without zero untouched; a study without events in any arm excluded for RR/OR
    st = ["t", "t", "t", "u", "u", "z", "z"]
    tr = ["A", "B", "C", "A", "B", "A", "C"]
    n = np.array([20, 22, 25, 30, 30, 10, 12.0])
    ev = np.array([0, 5, 9, 6, 12, 0, 0.0])
    for m in ("RR", "OR", "RD"):
        c, excl = contrasts_from_arms(st, tr, m, n, events=ev)
        by = {x.study: x for x in c}
        Y, V = by["t"].pairwise()
        e = escalc(m, ai=ev[[1, 3]] + [0.5, 0], n1i=n[[1, 3]] + [1, 0], ci=ev[[2, 4]] + [0.5, 0],
                   n2i=n[[2, 4]] + [1, 0], add=0.5, to="only0")
        np.testing.assert_allclose(Y[1, 2], e.yi[0], rtol=1e-12)
        np.testing.assert_allclose(V[1, 2], e.vi[0], rtol=1e-12)
        e2 = escalc(m, ai=[6], n1i=[30], ci=[12], n2i=[30])
        np.testing.assert_allclose(by["u"].y, e2.yi, rtol=1e-12)
        np.testing.assert_allclose(by["u"].cov.ravel(), e2.vi, rtol=1e-12)
        if m == "RD":
            assert "z" in by and excl == []
        else:
            assert "z" not in by and excl[0][0] == "z" and "no events or only events" in excl[0][1]


def test_arm_level_smd_two_arm_matches_escalc():
    c, _ = contrasts_from_arms(["s", "s"], ["A", "B"], "SMD", [20, 25], mean=[10.0, 12.5], sd=[4.0, 5.0])
    e = escalc("SMD", m1i=[10.0], sd1i=[4.0], n1i=[20], m2i=[12.5], sd2i=[5.0], n2i=[25])
    np.testing.assert_allclose(c[0].y, e.yi, rtol=1e-12)
    np.testing.assert_allclose(c[0].cov.ravel(), e.vi, rtol=1e-12)
    with pytest.raises(ValueError, match="two arms of the same treatment.*: s"):
        contrasts_from_arms(["s", "s"], ["A", "A"], "MD", [5, 5], mean=[1, 2], sd=[1, 1])


def test_pairs_frame_has_both_orientations():
    res = fit_network(_senn())
    f = res.pairs_frame()
    n = len(res.treatments)
    assert len(f) == n * (n - 1)
    fwd = f.set_index(["treatment1", "treatment2"])
    rev = f.rename(columns={"treatment1": "treatment2", "treatment2": "treatment1"}).set_index(
        ["treatment1", "treatment2"]).loc[fwd.index]
    np.testing.assert_allclose(fwd.estimate, -rev.estimate, rtol=1e-12)
    np.testing.assert_allclose(fwd.se, rev.se, rtol=1e-12)
    assert (fwd.direct_k == rev.direct_k).all()


def _arms(rows):
    cols = ["study_id", "arm_id", "arm_type", "timepoint_weeks", "analysis_population", "n", "events_used"]
    f = pd.DataFrame(rows, columns=cols)
    f["outcome"], f["phase"], f["mean"], f["sd"] = "response", "acute", np.nan, np.nan
    f["row_id"] = [f"{r.study_id}:{r.arm_id}:{r.timepoint_weeks}w:{r.analysis_population}" for r in f.itertuples()]
    return f


def test_outcome_network_slices_nodes_and_exclusions():
    from depmeta.review.nodes import outcome_network

    arms = _arms([
        # s1: two medication arms merged into one node; 8-week slice has all three nodes, 16-week two
        ("s1", "ssri", "medication", 8, "ITT", 40, 20), ("s1", "snri", "medication", 8, "ITT", 40, 18),
        ("s1", "cbt", "psychotherapy", 8, "ITT", 50, 22), ("s1", "pbo", "placebo", 8, "ITT", 45, 12),
        ("s1", "ssri", "medication", 16, "ITT", 40, 25), ("s1", "cbt", "psychotherapy", 16, "ITT", 50, 27),
        ("s2", "med", "medication", 12, "completers", 30, 15), ("s2", "comb", "combined", 12, "completers", 30, 20),
        ("s2", "med", "medication", 12, "ITT", 35, 15), ("s2", "comb", "combined", 12, "ITT", 36, 20),
        ("s3", "cbt", "psychotherapy", 10, "ITT", 20, 8),  # one arm only
    ])
    c, excl = outcome_network(arms, "response", "RR", controls="merged")
    by = {x.study: x for x in c}
    assert set(by) == {"s1", "s2"}
    assert by["s1"].arms == ("control", "medication", "psychotherapy")
    assert by["s1"].n == (45.0, 80.0, 50.0)
    np.testing.assert_allclose(by["s1"].y[0], np.log(12 / 45) - np.log(38 / 80), rtol=1e-12)
    assert by["s2"].n == (36.0, 35.0)  # ITT preferred to completers
    reasons = dict(zip(excl.row_ids.map(tuple), excl.reason))
    assert "uses ITT at week 8" in reasons[("s1:ssri:16w:ITT",)]
    assert "uses ITT at week 12" in reasons[("s2:med:12w:completers",)]
    assert "no slice of the study" in reasons[("s3:cbt:10w:ITT",)]
    c2, _ = outcome_network(arms, "response", "RR", nodes="arm_type")
    assert {x.study: x for x in c2}["s1"].arms == ("medication", "placebo", "psychotherapy")
    # separate controls (the default) under strategy: the same nodes as arm_type
    c3, _ = outcome_network(arms, "response", "RR")
    assert [x.arms for x in c3] == [x.arms for x in c2]


def test_outcome_network_uses_reported_g_only_without_arm_data():
    from depmeta.review.nodes import outcome_network

    arms = _arms([("a1", "med", "medication", 8, "ITT", 30, 0), ("a1", "cbt", "psychotherapy", 8, "ITT", 30, 0)])
    arms["outcome"], arms["mean"], arms["sd"] = "symptoms", [10.0, 12.0], [4.0, 5.0]
    rep = _reported({"study_id": ["a1", "r1", "r2"], "arm1_id": ["med", "comb", "x"], "arm2_id": ["cbt", "med", "y"],
                     "arm1_type": ["medication", "combined", "medication"],
                     "arm2_type": ["psychotherapy", "medication", "medication"],
                     "outcome": "symptoms", "timepoint_weeks": 12.0, "analysis_population": "ITT",
                     "n1": [30, 40, 20], "n2": [30, 42, 20], "estimate": [-0.2, -0.4, 0.1], "se": [0.26, 0.22, 0.3]})
    c, excl = outcome_network(arms, "symptoms", "SMD", reported=rep)
    by = {x.study: x for x in c}
    assert set(by) == {"a1", "r1"}
    assert by["r1"].arms == ("combined", "medication") and by["r1"].y[0] == -0.4
    np.testing.assert_allclose(by["r1"].cov, [[0.22**2]])
    reasons = dict(zip(excl.study_id, excl.reason))
    assert "the study has arm-level data" in reasons["a1"]
    assert "same network node" in reasons["r2"]


# --- node schemes: therapy_type and drug_class split the active strategies ---------------------------------

#: Exact arithmetic on a tree-shaped network (every estimate a sum of inverse-variance pooled log RRs):
#: only floating-point rounding separates the two computations.
TOL_TREE = 1e-12


@pytest.mark.parametrize("scheme, controls, expected", [
    ("strategy", "separate", ["medication", "psychotherapy", "psychotherapy", "combined", "combined", "placebo",
                              "waiting_list"]),
    ("strategy", "merged", ["medication", "psychotherapy", "psychotherapy", "combined", "combined", "control",
                            "control"]),
    ("arm_type", "separate", ["medication", "psychotherapy", "psychotherapy", "combined", "combined", "placebo",
                              "waiting_list"]),
    ("therapy_type", "separate", ["medication", "psychotherapy:CBT", "psychotherapy:unspecified", "combined:IPT",
                                  "combined:unspecified", "placebo", "waiting_list"]),
    ("therapy_type", "merged", ["medication", "psychotherapy:CBT", "psychotherapy:unspecified", "combined:IPT",
                                "combined:unspecified", "control", "control"]),
    ("drug_class", "merged", ["medication:SSRI", "psychotherapy", "psychotherapy", "combined:unspecified",
                              "combined:TCA", "control", "control"]),
    ("treatment", "separate", ["fluoxetine", "CBT", "psychotherapy", "combined", "combined", "pill placebo",
                               "waiting_list"]),
    ("treatment", "merged", ["fluoxetine", "CBT", "psychotherapy", "combined", "combined", "control", "control"]),
])
def test_node_of_each_scheme(scheme, controls, expected):
    from depmeta.review.nodes import node_of

    arms = [("medication", "", "SSRI", "fluoxetine"), ("psychotherapy", "CBT", "", "CBT"),
            ("psychotherapy", "", "", ""), ("combined", "IPT", "", ""), ("combined", np.nan, "TCA", ""),
            ("placebo", "", "", "pill placebo"), ("waiting_list", "", "", "")]
    assert [node_of(t, scheme, tt, dc, tr, controls) for t, tt, dc, tr in arms] == expected


def test_node_of_rejects_unknown_scheme_and_arm_type():
    from depmeta.review.nodes import node_of

    with pytest.raises(ValueError, match="nodes must be one of.*'therapy'"):
        node_of("medication", "therapy")
    with pytest.raises(ValueError, match="an arm without an arm type has no node"):
        node_of("", "drug_class")
    with pytest.raises(ValueError, match="controls must be one of"):
        node_of("placebo", "strategy", controls="pooled")
    with pytest.raises(ValueError, match="write nodes: strategy for merged controls"):
        node_of("placebo", "arm_type", controls="merged")
    # a control type of the protocol's own is the control strategy, and a node of its own unless merged
    assert (node_of("no_treatment", "strategy"), node_of("no_treatment", "strategy", controls="merged"),
            node_of("no_treatment", "arm_type")) == ("no_treatment", "control", "no_treatment")


def test_node_order_strategy_first_then_sheet_order_unspecified_last():
    from depmeta.review.nodes import node_order

    present = ["control", "psychotherapy:unspecified", "combined:CBT", "psychotherapy:IPT", "medication",
               "psychotherapy:CBT", "psychotherapy:zz_new"]
    assert node_order("therapy_type", present) == [
        "medication", "psychotherapy:CBT", "psychotherapy:IPT", "psychotherapy:zz_new",
        "psychotherapy:unspecified", "combined:CBT", "control"]
    assert node_order("drug_class", ["control", "medication:TCA", "medication:SSRI", "combined:SSRI"]) == [
        "medication:SSRI", "medication:TCA", "combined:SSRI", "control"]
    assert node_order("arm_type", ["waiting_list", "placebo", "medication"]) == ["medication", "placebo",
                                                                                 "waiting_list"]
    # separate controls after the active strategies, in the vocabulary's order; a review's own type after them
    assert node_order("drug_class", ["no_treatment", "waiting_list", "medication:SSRI", "placebo"]) == [
        "medication:SSRI", "placebo", "waiting_list", "no_treatment"]


def _typed_arms(rows):
    f = _arms([r[:7] for r in rows])
    f["therapy_type"] = [r[7] for r in rows]
    f["drug_class"] = [r[8] for r in rows]
    return f


#: A tree-shaped network under therapy_type nodes: CBT vs control (t1, t2), IPT vs control (t3, with two
#: placebo-type control arms merged), medication vs CBT (t4, two CBT arms merged), and t5 comparing CBT with
#: IPT (one node under strategy) plus an arm without a therapy type.
TYPED = [
    ("t1", "cbt", "psychotherapy", 12, "ITT", 50, 25, "CBT", ""),
    ("t1", "wl", "waiting_list", 12, "ITT", 48, 12, "", ""),
    ("t2", "cbt", "psychotherapy", 16, "ITT", 80, 36, "CBT", ""),
    ("t2", "cau", "usual_care", 16, "ITT", 82, 30, "", ""),
    ("t3", "ipt", "psychotherapy", 12, "ITT", 60, 30, "IPT", ""),
    ("t3", "pbo", "placebo", 12, "ITT", 30, 9, "", ""),
    ("t3", "cm", "other_control", 12, "ITT", 31, 8, "", ""),
    ("t4", "ssri", "medication", 8, "ITT", 70, 35, "", "SSRI"),
    ("t4", "cbt_ind", "psychotherapy", 8, "ITT", 40, 16, "CBT", ""),
    ("t4", "cbt_grp", "psychotherapy", 8, "ITT", 41, 19, "CBT", ""),
    ("t5", "cbt", "psychotherapy", 10, "ITT", 30, 15, "CBT", ""),
    ("t5", "ipt", "psychotherapy", 10, "ITT", 30, 12, "IPT", ""),
    ("t6", "talk", "psychotherapy", 10, "ITT", 25, 10, "", ""),
    ("t6", "pbo", "placebo", 10, "ITT", 25, 6, "", ""),
]


def test_outcome_network_splits_nodes_by_therapy_type():
    from depmeta.review.nodes import outcome_network

    arms = _typed_arms(TYPED)
    c, excl = outcome_network(arms, "response", "RR", nodes="therapy_type", controls="merged")
    by = {x.study: x for x in c}
    assert set(by) == {"t1", "t2", "t3", "t4", "t5", "t6"}
    assert by["t3"].arms == ("control", "psychotherapy:IPT") and by["t3"].n == (61.0, 60.0)  # controls merged
    assert by["t4"].arms == ("medication", "psychotherapy:CBT") and by["t4"].n == (70.0, 81.0)  # CBT arms merged
    np.testing.assert_allclose(by["t4"].y[0], np.log(35 / 70) - np.log(35 / 81), rtol=TOL_TREE)
    assert by["t4"].row_ids == ("t4:ssri:8w:ITT", "t4:cbt_ind:8w:ITT", "t4:cbt_grp:8w:ITT")
    assert by["t5"].arms == ("psychotherapy:CBT", "psychotherapy:IPT")
    assert by["t6"].arms == ("control", "psychotherapy:unspecified")  # blank therapy type: its own node
    assert not len(excl)
    # under strategy, t5's two psychotherapies are one node: the trial is listed as not used, with the reason
    c2, excl2 = outcome_network(arms, "response", "RR", nodes="strategy")
    assert "t5" not in {x.study for x in c2}
    assert set(excl2.study_id) == {"t5"} and excl2.reason.str.contains("two network nodes").all()
    # drug_class splits the medication arm; the psychotherapies merge again
    c3, _ = outcome_network(arms, "response", "RR", nodes="drug_class")
    assert {x.study: x for x in c3}["t4"].arms == ("medication:SSRI", "psychotherapy")


def test_split_nodes_through_fit_network_tree_equals_pooled_direct_evidence():
    from depmeta.review.nodes import node_order, outcome_network

    arms = _typed_arms([r for r in TYPED if r[0] != "t5"])  # without t5 the network is a tree
    c, _ = outcome_network(arms, "response", "RR", nodes="therapy_type", controls="merged")
    trts = node_order("therapy_type", {t for x in c for t in x.arms})
    assert trts == ["medication", "psychotherapy:CBT", "psychotherapy:IPT", "psychotherapy:unspecified", "control"]
    res = fit_network(c, method="FE", treatments=trts, reference="control")

    def pooled(pairs):  # inverse-variance pooled log RR of (events1, n1, events2, n2) rows
        e = escalc("RR", ai=[p[0] for p in pairs], n1i=[p[1] for p in pairs], ci=[p[2] for p in pairs],
                   n2i=[p[3] for p in pairs])
        w = 1 / e.vi
        return float((w * e.yi).sum() / w.sum()), float(1 / w.sum())

    cbt, v_cbt = pooled([(25, 50, 12, 48), (36, 80, 30, 82)])
    ipt, v_ipt = pooled([(30, 60, 17, 61)])
    med, v_med = pooled([(35, 70, 35, 81)])  # medication vs CBT
    unsp, v_unsp = pooled([(10, 25, 6, 25)])
    ix = res.index
    np.testing.assert_allclose(res.estimate[ix("psychotherapy:CBT"), ix("control")], cbt, rtol=TOL_TREE)
    np.testing.assert_allclose(res.se[ix("psychotherapy:CBT"), ix("control")], np.sqrt(v_cbt), rtol=TOL_TREE)
    np.testing.assert_allclose(res.estimate[ix("psychotherapy:IPT"), ix("psychotherapy:CBT")], ipt - cbt,
                               rtol=TOL_TREE)
    np.testing.assert_allclose(res.se[ix("psychotherapy:IPT"), ix("psychotherapy:CBT")], np.sqrt(v_ipt + v_cbt),
                               rtol=TOL_TREE)
    np.testing.assert_allclose(res.estimate[ix("medication"), ix("control")], med + cbt, rtol=TOL_TREE)
    np.testing.assert_allclose(res.estimate[ix("psychotherapy:unspecified"), ix("medication")], unsp - med - cbt,
                               rtol=TOL_TREE)
    assert res.q_total_df == 1 and res.direct_k[ix("psychotherapy:CBT"), ix("control")] == 2
    f = res.pairs_frame()
    assert len(f) == 5 * 4 and set(f.treatment1) == set(trts)


def test_reported_g_rows_take_the_arm_sheet_therapy_type():
    from depmeta.review.nodes import outcome_network

    arms = _typed_arms([("r1", "cbt", "psychotherapy", 8, "ITT", 30, 0, "CBT", ""),
                        ("r1", "ipt", "psychotherapy", 8, "ITT", 30, 0, "IPT", "")])
    arms["outcome"] = "response"  # the arm sheet holds the arms, but for another outcome
    rep = _reported({"study_id": ["r1", "r2"], "arm1_id": ["cbt", "x"], "arm2_id": ["ipt", "y"],
                     "arm1_type": ["psychotherapy", "psychotherapy"], "arm2_type": ["psychotherapy", "placebo"],
                     "outcome": "symptoms", "timepoint_weeks": 12.0, "analysis_population": "ITT",
                     "n1": [30, 20], "n2": [30, 21], "estimate": [-0.3, -0.5], "se": [0.26, 0.3]})
    c, excl = outcome_network(arms, "symptoms", "SMD", nodes="therapy_type", reported=rep)
    by = {x.study: x for x in c}
    assert by["r1"].arms == ("psychotherapy:CBT", "psychotherapy:IPT") and by["r1"].y[0] == -0.3
    assert by["r2"].arms == ("placebo", "psychotherapy:unspecified")  # arm not in the arm sheet
    c2, excl2 = outcome_network(arms, "symptoms", "SMD", nodes="strategy", reported=rep)
    assert {x.study for x in c2} == {"r2"} and "same network node" in excl2.reason.iloc[0]


def _reported(columns: dict) -> pd.DataFrame:
    """Reported SMDs of the contrasts sheet from columns (a scalar is every row's)."""
    n = max(len(v) for v in columns.values() if isinstance(v, list))
    rows = [{k: (v[i] if isinstance(v, list) else v) for k, v in columns.items()} for i in range(n)]
    return reported_rows([{**r, "measure": "SMD", "phase": "acute", "source": "doi:10.1/x", "locator": "Table 1"}
                          for r in rows])
