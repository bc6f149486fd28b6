"""Subgroup and meta-regression tables (depmeta.review.subgroups): moderator values taken from
the study and arm sheets, uncoded and too-small groups listed, numbers identical to the
engine's (whose parity with metafor is tests/test_regression.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from depmeta.review.subgroups import SubgroupOptions, contrast_moderators, run_subgroups
from depmeta.stats.regression import meta_regression, permutation_test, subgroup_analysis

rng = np.random.default_rng(3)
K = 7
STUDIES = pd.DataFrame({
    "study_id": [f"s{i}" for i in range(K)],
    "year": [str(1990 + 3 * i) for i in range(K)],
    "age_group": ["adult", "adult", "adult", "adolescent", "adolescent", "older_adult", "adult"],
    "chronicity": ["chronic", "not_reported", "recurrent", "chronic", "recurrent", "chronic", "recurrent"],
    "baseline_severity": ["HRSD >= 14"] * K,
    "risk_of_bias": ["not assessed"] * K,
})
ARMS = pd.DataFrame([
    {"study_id": f"s{i}", "arm_id": arm, "arm_type": kind, "drug_class": dc, "therapy_type": tt}
    for i in range(K)
    for arm, kind, dc, tt in (("comb", "combined", "SSRI" if i % 2 else "TCA", "CBT" if i < 4 else "IPT"),
                              ("med", "medication", "SSRI" if i % 2 else "TCA", ""))
])
PER_STUDY = pd.DataFrame({
    "comparison": "combined_vs_medication", "outcome": "response", "measure": "RR", "study_id": STUDIES.study_id,
    "label": STUDIES.study_id.str.upper(), "arms1": "comb", "arms2": "med",
    "yi": rng.normal(0.2, 0.2, K), "vi": rng.uniform(0.01, 0.05, K),
})
SUMMARY = pd.DataFrame({"comparison": ["combined_vs_medication"], "outcome": ["response"],
                        "measure": ["RR"], "status": ["pooled"]})
OPTS = SubgroupOptions(permutations=200, exact_limit=100, seed=5)


@pytest.fixture(scope="module")
def tables():
    moderated = contrast_moderators(PER_STUDY, STUDIES, ARMS)
    return moderated, *run_subgroups(moderated, SUMMARY, OPTS)


def test_moderators_from_the_sheets(tables):
    m = tables[0]
    assert list(m.age_group) == list(STUDIES.age_group)
    assert m.chronicity.isna().sum() == 1  # not_reported is no value
    assert m.risk_of_bias.isna().all() and m.baseline_severity.isna().all()
    assert list(m.therapy_type) == ["CBT"] * 4 + ["IPT"] * 3
    assert list(m.drug_class) == ["TCA", "SSRI"] * 3 + ["TCA"]
    assert list(m.year) == [1990 + 3 * i for i in range(K)]


def test_subgroup_tests_equal_the_engine(tables):
    m, groups, tests, _ = tables
    row = tests[(tests.moderator == "age_group") & (tests.tau2_model == "separate")].iloc[0]
    ref = subgroup_analysis(m.yi, m.vi, m.age_group, tau2="separate", test=OPTS.test, min_per_group=2)
    assert row.status == "tested"
    assert row.q_between == ref.q_between and row.q_between_pval == ref.q_between_pval
    assert row.too_small == "older_adult (1)"
    g = groups[(groups.moderator == "age_group") & (groups.tau2_model == "separate")]
    assert list(g.group) == list(ref.groups)
    np.testing.assert_array_equal(g.estimate, ref.estimate)
    np.testing.assert_array_equal(g.estimate_display, np.exp(ref.estimate))


def test_uncoded_and_unusable_moderators_say_why(tables):
    _, _, tests, regression = tables
    chron = tests[(tests.moderator == "chronicity") & (tests.tau2_model == "common")].iloc[0]
    assert chron.not_coded == "s1" and chron.k == K - 1
    for mod in ("risk_of_bias", "baseline_severity"):
        t = tests[tests.moderator == mod]
        assert (t.status == "not coded").all() and t.note.str.len().gt(0).all()
    sev = regression[regression.moderator == "baseline_severity"].iloc[0]
    assert sev.status == "not available" and "text" in sev.note


def test_meta_regression_row_equals_the_engine(tables):
    m, _, _, regression = tables
    row = regression[regression.moderator == "year"].iloc[0]
    fit = meta_regression(m.yi, m.vi, m.year, ["year"], method="REML", test="knha")
    perm = permutation_test(m.yi, m.vi, m.year, ["year"], method="REML", test="knha", iterations=200,
                            exact_limit=100, seed=5)
    assert row.status == "fitted" and row.k == K
    assert row.slope == fit.coef[1] and row.slope_pval == fit.pval[1] and row.r2 == fit.r2
    assert row.perm_pval == perm.qm_pval and not row.perm_exact and row.perm_iterations == 200


def test_too_few_studies_for_regression():
    small = PER_STUDY.iloc[:3]
    moderated = contrast_moderators(small, STUDIES, ARMS)
    _, tests, regression = run_subgroups(moderated, SUMMARY, OPTS)
    row = regression[regression.moderator == "year"].iloc[0]
    assert row.status == "not fitted" and "3 studies" in row.note


def test_unknown_study_and_moderator_are_errors():
    bad = PER_STUDY.assign(study_id=["zz"] + list(PER_STUDY.study_id[1:]))
    with pytest.raises(ValueError, match="zz"):
        contrast_moderators(bad, STUDIES, ARMS)
    moderated = contrast_moderators(PER_STUDY, STUDIES, ARMS)
    with pytest.raises(ValueError, match="subgroups.moderators"):
        run_subgroups(moderated, SUMMARY, SubgroupOptions(moderators=("height",)))


def test_each_measure_is_analysed_apart():
    # relapse can be pooled twice, as RR from counts and as HR: the same studies under two measures
    # must give two analyses of seven studies each, never one of fourteen
    both = pd.concat([PER_STUDY, PER_STUDY.assign(measure="HR", yi=PER_STUDY.yi + 1.0)], ignore_index=True)
    summary = pd.concat([SUMMARY, SUMMARY.assign(measure="HR")], ignore_index=True)
    moderated = contrast_moderators(both, STUDIES, ARMS)
    _, tests, regs = run_subgroups(moderated, summary, OPTS)
    sep = tests[(tests.moderator == "age_group") & (tests.tau2_model == "separate")]
    assert sorted(sep.measure) == ["HR", "RR"] and set(sep.k) == {K}
    assert set(regs[regs.moderator == "year"].k) == {K}


def test_one_study_per_group_has_no_common_tau2_test():
    """min_per_group 1 keeps groups of one study; with one study per group no degree of freedom is
    left for a common tau²: that model is not tested, with the reason, and the separate one is
    (the common model's fit refused k = number of groups and stopped the subgroups job)."""
    two = contrast_moderators(PER_STUDY.iloc[[0, 3]], STUDIES, ARMS)  # an adult and an adolescent trial
    one = contrast_moderators(PER_STUDY.iloc[[0]], STUDIES, ARMS)
    opts = SubgroupOptions(moderators=("age_group",), regression_moderators=(), min_per_group=1)
    for moderated, groups in ((two, 2), (one, 1)):
        _, tests, _ = run_subgroups(moderated, SUMMARY, opts)
        common = tests[tests.tau2_model == "common"].iloc[0]
        assert (common.status, common.note) == ("not tested", f"a common τ² needs more studies than groups ({groups} "
                                                              f"in {groups})")
        separate = tests[tests.tau2_model == "separate"].iloc[0]
        assert separate.status == ("tested" if groups == 2 else "not tested")


def test_the_control_type_moderator_is_the_arm_type_of_the_control_arms():
    arms = pd.DataFrame([{"study_id": f"c{i}", "arm_id": arm, "arm_type": kind}
                         for i, ctl in enumerate(["placebo", "waiting_list", "no_treatment"])
                         for arm, kind in (("cbt", "psychotherapy"), ("ctl", ctl), ("ctl2", "usual_care"))])
    studies = pd.DataFrame({"study_id": ["c0", "c1", "c2"], "year": ["2001", "2002", "2003"]})
    per_study = pd.DataFrame({"comparison": "psychotherapy_vs_control", "outcome": "response", "measure": "RR",
                              "study_id": ["c0", "c1", "c2"], "arms1": "cbt",
                              "arms2": ["ctl", "ctl", "ctl;ctl2"], "yi": [0.1, 0.2, 0.3], "vi": 0.02})
    m = contrast_moderators(per_study, studies, arms)
    # a review's own control type (no_treatment) too; two control arms of one side joined with +
    assert list(m.control_type) == ["placebo", "waiting_list", "no_treatment+usual_care"]
    assert m.control_type_applicable.all()
    # no control arm: the moderator does not apply
    active = contrast_moderators(PER_STUDY, STUDIES, ARMS)
    assert active.control_type.isna().all() and not active.control_type_applicable.any()
