"""The report's sections as functions (depmeta.report.sections), on small fixtures: no
Snakemake, no renderer. Each section says when it has nothing to show, and a missing option is
a clear error."""

from __future__ import annotations

import pandas as pd
import pytest
from test_certainty import _network_fixture, _pairwise_fixture

from depmeta.report.sections import summary_of_findings, what_the_trials_show
from depmeta.review.certainty import CertaintyOptions, cinema_network, grade_pairwise, sof_rows, study_rob_levels

PAIRS = {"combined_vs_medication": ("combined treatment", "medication")}
OPTIONS = {"cinema_not_assessed": "moderate", "cinema_indirect": "moderate",
           "indirect_population": ["adult", "older_adult"], "not_assessed": "flag", "cinema_ois": True}


def _certainty(network: bool):
    studies, per_study, summary = _pairwise_fixture()
    levels = study_rob_levels(studies, None)
    opts = CertaintyOptions()
    risks = {("combined_vs_medication", "response"): (0.4, "median")}
    grade, res = grade_pairwise(summary, per_study, levels, studies, opts, risks, {"response": 1})
    cin = pd.DataFrame()
    if network:
        est, summ, contrib = _network_fixture()
        cin, net = cinema_network(est, summ, contrib, levels, studies, per_study, opts, risks, {"response": 1})
        res, grade_all = pd.concat([res, net]), pd.concat([grade, cin])
    else:
        grade_all = grade
    return sof_rows(res, grade_all, opts, ["response"], PAIRS), grade, cin


def test_opening_answer_says_when_there_is_nothing_to_answer():
    assert what_the_trials_show(pd.DataFrame()) == "No comparison had a pooled or network estimate in this run.\n\n"


@pytest.mark.parametrize("network", [False, True])
def test_opening_answer_names_its_evidence_and_answers_each_comparison(network):
    sof, _, _ = _certainty(network)
    text = what_the_trials_show(sof)
    assert ("network meta-analysis of all the trials" in text) == network
    assert ("pairwise meta-analyses (no network estimate compares these treatments)" in text) != network
    items = [line for line in text.splitlines() if line.startswith("- **")]
    assert len(items) == 1 and items[0].startswith("- **Combined vs medication.** ")
    assert "combined treatment" in items[0] and "medication" in items[0] and "response" in items[0]
    assert items[0].endswith("certainty).") or items[0].endswith("not assessed).")
    # the network rating beside the domain nobody assessed (reporting bias, the default level)
    assert ("low certainty, reporting bias not assessed)." in items[0]) == network


def test_opening_answer_covers_comparisons_with_controls_in_the_protocols_order():
    sof, _, _ = _certainty(False)
    extra = [sof.assign(comparison=c) for c in ("medication_vs_control", "psychotherapy_vs_control")]
    sof = pd.concat([*extra, sof], ignore_index=True)
    text = what_the_trials_show(sof, ["psychotherapy_vs_control", "medication_vs_control"])
    items = [line.split(".**")[0] for line in text.splitlines() if line.startswith("- **")]
    # the active treatments against each other first, then the protocol's order
    assert items == ["- **Combined vs medication", "- **Psychotherapy vs control", "- **Medication vs control"]
    # a comparison the protocol does not list still reaches the opening answer, last
    assert len([line for line in what_the_trials_show(sof).splitlines() if line.startswith("- **")]) == 3


def test_summary_of_findings_tables_notes_and_rules():
    sof, grade, cin = _certainty(True)
    text = summary_of_findings(sof, ["combined_vs_medication", "psychotherapy_vs_medication"], grade, cin, OPTIONS)
    assert text.count("{#tbl-sof-") == 1 and "{#tbl-sof-combined-vs-medication}" in text
    assert "## Numbers needed to treat" in text and "{#tbl-nnt}" in text
    assert "{#tbl-grade-pairwise}" in text  # pairwise ratings beside the network ones
    assert "{#tbl-certainty-rules}" in text and "GRADE and CINeMA set aside" in text
    assert "**a.**" in text  # the downgrades' footnotes under the table
    # the rating in the table names the domain nobody assessed, with its footnote
    # within-study bias, heterogeneity and imprecision (500 patients < OIS 712) down: very low
    assert "⊕◯◯◯ very low; reporting bias not assessed (" in text
    assert "fewer patients than the optimal information size" in text        # certainty.imprecision.cinema_ois
    assert "fewer patients than the optimal information size" not in summary_of_findings(
        sof, ["combined_vs_medication"], grade, cin, {**OPTIONS, "cinema_ois": False}).split("Rule |")[0]
    assert "Reporting bias (CINeMA: not assessed): reporting bias not assessed." in text
    assert "A domain named *not assessed* beside a certainty was not judged" in text
    assert "named *not assessed*" not in summary_of_findings(sof.assign(not_assessed=""), ["combined_vs_medication"],
                                                            grade, cin, OPTIONS)
    counted = summary_of_findings(sof, ["combined_vs_medication"], grade, cin,
                                  {**OPTIONS, "not_assessed": "some concerns"})
    assert "GRADE and CINeMA count as moderate" in counted
    with pytest.raises(ValueError, match="certainty.not_assessed = 'x' is not one the report describes"):
        summary_of_findings(sof, ["combined_vs_medication"], grade, cin, {**OPTIONS, "not_assessed": "x"})


def test_summary_of_findings_pairwise_only_and_empty():
    sof, grade, _ = _certainty(False)
    text = summary_of_findings(sof, ["combined_vs_medication"], grade, pd.DataFrame(), OPTIONS)
    assert "{#tbl-sof-combined-vs-medication}" in text and "{#tbl-grade-pairwise}" not in text
    assert summary_of_findings(pd.DataFrame(), ["combined_vs_medication"], pd.DataFrame(), pd.DataFrame(),
                               OPTIONS) == ""


def test_a_missing_option_is_a_clear_error():
    sof, grade, cin = _certainty(True)
    with pytest.raises(ValueError, match="'indirect_population' is missing"):
        summary_of_findings(sof, ["combined_vs_medication"], grade, cin, {"cinema_not_assessed": "moderate",
                                                                           "not_assessed": "flag"})
    with pytest.raises(ValueError, match="'not_assessed' is missing"):
        summary_of_findings(sof, ["combined_vs_medication"], grade, cin, {"cinema_not_assessed": "moderate"})


def _networks(controls="merged"):
    from test_network import TYPED, _typed_arms

    from depmeta.review.networks import NetworkOptions, network_record, network_tables, outcome_networks

    opts = NetworkOptions(outcomes=("response", "remission"), nodes="therapy_type", controls=controls)
    nets = outcome_networks(_typed_arms(TYPED), None, opts)
    tables = network_tables(nets, opts.method)
    net = {"outcomes": {n.outcome: network_record(n) for n in nets if n.fits},
           "figures": {n.outcome: [f"network_{n.outcome}.png"] for n in nets if n.fits}}
    return net, tables


def test_network_methods_name_the_model_the_nodes_and_what_is_left_out():
    from depmeta.report.sections import network_methods

    _, t = _networks()
    options = {"method": "REML", "nodes": "therapy_type", "controls": "merged", "test": "t",
               "comparisons": ["combined_vs_medication", "medication_vs_control", "psychotherapy_vs_control"]}
    text = network_methods(options, t["summary"], t["estimates"], t["exclusions"])
    assert "restricted maximum likelihood (REML)" in text and "split by the type of psychotherapy" in text
    # the intervals' quantile, with each analysed outcome's degrees of freedom from the summary table
    df = int(t["summary"].set_index("outcome").loc["response", "df"])
    assert ("use a t distribution whose degrees of freedom are the network's contrasts minus its treatment "
            "effects") in text and f"Degrees of freedom: response {df}" in text
    assert "Direct and indirect estimates and the test of their difference use the normal quantile" in text
    z = network_methods({**options, "test": "z"}, t["summary"], t["estimates"], t["exclusions"])
    assert "use the normal quantile (metafor's default)" in z
    with pytest.raises(ValueError, match="network methods: the option 'test' is missing"):
        network_methods({k: v for k, v in options.items() if k != "test"}, t["summary"], t["estimates"],
                        t["exclusions"])
    assert "- remission: not analysed: 0 usable studies" in text
    # the comparisons whose sides are nodes of the network (here medication and control) have its estimate
    assert ("The protocol's comparison medication vs control has a network estimate; combined vs medication and "
            "psychotherapy vs control have none, because a side of each is not one node of this network") in text
    with pytest.raises(ValueError, match="network.method = 'XX' is not one the report describes"):
        network_methods({**options, "method": "XX"}, t["summary"], t["estimates"], t["exclusions"])
    with pytest.raises(ValueError, match="network.nodes = 'class' is not one"):
        network_methods({**options, "nodes": "class"}, t["summary"], t["estimates"], t["exclusions"])
    assert "medication, control (every control arm one node, whatever its type" in text
    # each control type its own node: the text says so, and medication vs control has no network estimate
    _, t2 = _networks("separate")
    sep = network_methods({**options, "controls": "separate"}, t2["summary"], t2["estimates"], t2["exclusions"])
    assert "medication, each type of control as its own node (pill placebo, usual care" in sep
    assert ("None of the protocol's comparisons (combined vs medication, medication vs control and psychotherapy vs "
            "control) has a network estimate, because a side of each is not one node of this network") in sep


def test_network_outcomes_show_each_graph_and_league_table():
    from pathlib import Path

    from depmeta.report.sections import network_outcomes

    net, t = _networks()
    text = network_outcomes(net, t["summary"], t["estimates"], ["response"], Path("figs"), "95%")
    assert "## Response network" in text and "(figs/network_response.png){#fig-network-response}" in text
    assert "{#tbl-league-response}" in text and "League table, response (RR, 95% CI)" in text


def _pairwise():
    from test_contrasts import arm, sheet

    from depmeta.review.analysis import AnalysisOptions, run_meta_analyses
    from depmeta.review.contrasts import form_contrasts

    arms = sheet(arm("a", "c", "combined", 40, 20), arm("a", "m", "medication", 40, 12),
                 arm("b", "c", "combined", 50, 24), arm("b", "m", "medication", 52, 18),
                 arm("c", "p", "psychotherapy", 30, 10), arm("c", "m", "medication", 30, 12))
    contrasts, _ = form_contrasts(arms, comparisons=["combined_vs_medication", "psychotherapy_vs_medication"])
    summary, _, _ = run_meta_analyses(contrasts, {}, AnalysisOptions())
    studies = pd.DataFrame({"study_id": ["a", "b", "c"], "label": ["A 2001", "B 2002", "Young 2003"]})
    return summary, studies


OPTS = {"min_studies": 2, "method": "REML", "outcomes": ["response"]}


def test_pairwise_intro_and_event_rates_intro():
    from depmeta.report.sections import event_rates_intro, pairwise_intro

    summary, studies = _pairwise()
    pooled = summary[summary.status == "pooled"]
    text = pairwise_intro(len(studies), pooled, OPTS, "95%", 0.95)
    assert text.startswith("Beside the network, this report pools the 3 randomized trials")
    assert "into 1 pairwise" in text
    assert len([line for line in text.splitlines() if line.startswith("- ")]) == 1
    assert event_rates_intro(pd.DataFrame()).startswith("No strategy had enough arms")
    assert event_rates_intro(pd.DataFrame({"status": ["pooled"]})).startswith("Arm-level rates were pooled")


def test_results_by_outcome_forest_plots_and_not_pooled():
    from pathlib import Path

    from depmeta.report.sections import results_by_outcome

    summary, studies = _pairwise()
    forest = [{"comparison": "combined_vs_medication", "outcome": "response", "measure": "RR", "file": "f.png"}]
    text = results_by_outcome(summary, forest, OPTS, "95%", 0.95, Path("figs"))
    assert "## Response" in text and "(figs/f.png){#fig-forest-combined-vs-medication-response}" in text
    assert "## Comparisons not pooled" in text and "- psychotherapy vs medication, response: 1 usable study" in text
    with pytest.raises(ValueError, match="no forest plot of combined_vs_medication"):
        results_by_outcome(summary, [], OPTS, "95%", 0.95, Path("figs"))


POPULATIONS = {"primary": ["adult", "older_adult"], "strata": {"adolescents": ["adolescent"]}}


def test_a_stratum_has_its_own_section_and_table():
    from depmeta.report.sections import strata_section

    summary, studies = _pairwise()
    studies = studies.assign(age_group=["adult", "adult", "adolescent"])
    opts = {**OPTS, "populations": POPULATIONS}
    strata = summary[summary.comparison == "combined_vs_medication"].assign(stratum="adolescents")
    text = strata_section(strata, studies, opts, 0.95)
    assert text.startswith("\n# Adolescents\n") and "{#tbl-stratum-adolescents}" in text
    assert "The 1 trial in adolescents (Young 2003) is a stratum of the protocol's own" in text
    assert "which are of adults and older adults" in text and "@tbl-stratum-adolescents pools it" in text
    # no pooled estimate in the stratum: said so, with no reference to a table that is not there
    none = strata_section(strata.iloc[:0], studies, opts, 0.95)
    assert "tbl-stratum" not in none and "no comparison of them has enough trials to pool" in none
    # no strata (the default protocol): no section
    assert strata_section(pd.DataFrame(), studies, {**OPTS, "populations": {"primary": ["adult"], "strata": {}}},
                          0.95) == ""


def test_methods_name_the_populations():
    from depmeta.report.sections import populations_text

    studies = pd.DataFrame({"study_id": list("abc"), "age_group": ["adult", "older_adult", "adolescent"]})
    text = populations_text({"populations": POPULATIONS}, studies)
    assert "The primary population is adults and older adults (`analysis.populations`, 2 trials)" in text
    assert "The 1 trial in adolescents forms the stratum *adolescents*" in text
    every = populations_text({"populations": {"primary": ["adult", "adolescent", "older_adult"], "strata": {}}},
                             studies)
    assert "adults, adolescents and older adults (`analysis.populations`, 3 trials)" in every
    assert "it holds 1 trial outside adults and older adults, so claims about adults and the published" in every
    assert "stratum" not in every and "outside adults" not in text


SUB_TESTS = pd.DataFrame({
    "comparison": ["combined_vs_medication"] * 3, "outcome": ["response"] * 3, "measure": ["RR"] * 3,
    "moderator": ["age_group", "age_group", "chronicity"], "tau2_model": ["separate", "common", "separate"],
    "status": ["tested", "tested", "not coded"], "groups": ["adult (4); adolescent (2)"] * 2 + [""],
    "q_between": [4.2, 3.9, float("nan")], "q_between_df": [1, 1, float("nan")],
    "q_between_pval": [0.04, 0.048, float("nan")], "note": ["", "", "no study coded"]})
METAREG = pd.DataFrame({
    "comparison": ["combined_vs_medication"], "outcome": ["response"], "measure": ["RR"], "moderator": ["year"],
    "status": ["fitted"], "k": [6], "slope": [0.01], "slope_ci_low": [-0.02], "slope_ci_high": [0.04],
    "slope_pval": [0.5],
    "perm_pval": [0.52], "perm_exact": [True], "perm_iterations": [720], "r2": [0.0], "note": [""]})
SUB_OPTIONS = {"min_per_group": 2, "min_studies_regression": 5, "regression_test": "knha", "exact_limit": 5000,
               "permutations": 1000, "seed": 1}


def test_subgroup_sections_with_and_without_tests():
    from pathlib import Path

    from depmeta.report.sections import (
        meta_regression_table,
        subgroup_bubbles,
        subgroup_groups_table,
        subgroup_tests_table,
        subgroups_intro,
    )

    assert subgroups_intro(pd.DataFrame(), METAREG, SUB_OPTIONS) == "*(no pooled analyses to split)*\n"
    assert subgroup_tests_table(pd.DataFrame()).startswith("*(no subgroup split")
    assert subgroup_groups_table(SUB_TESTS, pd.DataFrame(), "95%") == "*(none)*\n"
    assert meta_regression_table(pd.DataFrame(), "95%") == "*(no meta-regression fitted)*\n"
    intro = subgroups_intro(SUB_TESTS, METAREG, SUB_OPTIONS)
    assert "Each of the 1 pooled comparisons and outcomes was split by age group, chronicity" in intro
    assert "- chronicity not coded in any study of 1 analyses" in intro and "Knapp-Hartung t test" in intro
    tests = subgroup_tests_table(SUB_TESTS)
    assert "| age group |" in tests and "0.04" in tests and "0.048" in tests
    reg = meta_regression_table(METAREG, "95%")
    assert "×1.010" in reg and "(exact)" in reg
    bubble = subgroup_bubbles([{"comparison": "combined_vs_medication", "outcome": "response", "measure": "RR",
                                "moderator": "year", "file": "b.png"}], METAREG, Path("f"), "95%")
    assert bubble.endswith("(f/b.png){#fig-bubble-combined-vs-medication-response-rr-year}\n\n")


def test_benchmarks_and_metapsy_sections():
    from depmeta.report.sections import benchmarks_intro, benchmarks_table, metapsy_section

    assert benchmarks_intro(pd.DataFrame()) == ""
    assert benchmarks_table(pd.DataFrame()) == "*(no benchmarks configured)*\n"
    bench = pd.DataFrame({"citation": ["Cuijpers P, Noma H. Title. 2020."], "comparison": ["combined_vs_medication"],
                          "outcome": ["response"], "subgroup": ["all"], "published_measure": ["RR"],
                          "published_estimate": [1.25], "published_ci_low": [1.1], "published_ci_high": [1.4],
                          "ours_measure": ["RR"], "ours_estimate": [1.2],
                          "ours_ci_low": [1.0], "ours_ci_high": [1.4], "ours_k": [8.0],
                          "evidence": ["primary population"],
                          "note": [""]})
    assert benchmarks_intro(bench).startswith("@tbl-benchmarks sets 1 pooled results")
    table = benchmarks_table(bench)
    assert "Cuijpers P et al. 2020" in table and "(k=8)" in table
    meta = {"shorthand": "db", "version": "1.0", "file": "/x/db.csv", "sha256": "ab" * 32, "rows": 3, "studies": 2,
            "usable": 3, "unusable": 0, "method": "REML", "low_rob_min": 3, "notes": []}
    msum = pd.DataFrame({"analysis": ["overall", "control type"], "group": ["all comparisons", "waiting_list"],
                         "status": ["pooled", "not pooled"], "k": [3, 1], "n_studies": [2, 1],
                         "estimate": [-0.5, float("nan")], "ci_low": [-0.8, float("nan")],
                         "ci_high": [-0.2, float("nan")], "pi_low": [-1.0, float("nan")],
                         "pi_high": [0.0, float("nan")], "i2": [40.0, float("nan")],
                         "reason": ["", "1 comparison(s); min_studies is 2"]})
    text = metapsy_section(meta, msum, "95%")
    assert text.startswith("# The Metapsy database") and "file `db.csv`" in text and "{#tbl-metapsy}" in text
    assert "waiting list" in text and r"1 comparison(s); min\_studies is 2" in text  # md-escaped
    with pytest.raises(ValueError, match="no pooled overall estimate"):
        metapsy_section(meta, msum.iloc[1:], "95%")


def test_sensitivity_section_without_pooled_estimates_says_so():
    from pathlib import Path

    from depmeta.report.sections import sensitivity_section

    summary = pd.DataFrame({"comparison": ["combined_vs_medication"], "outcome": ["response"], "measure": ["RR"],
                            "status": ["not pooled"], "k": [1]})
    empty = pd.DataFrame()
    text = sensitivity_section(summary, empty, empty, empty, empty, {"gosh": [], "cumulative": [], "funnel": []},
                               Path("f"), 0.95)
    # no overview table to refer to (a caption without its table gave the renderer a dangling reference)
    assert text == "No comparison was pooled, so there is nothing to test for sensitivity.\n"


def test_claims_studies_rob_exclusions_methods_and_coverage_sections():
    from depmeta.report import sections as sec

    assert sec.claims_intro(pd.DataFrame(), "95%") == sec.claims_table(pd.DataFrame()) == ""
    claims = pd.DataFrame({"id": ["C1", "C2"], "claim": ["more response", "faster"], "article": ["a1: x", "a1: x"],
                           "verdict": ["supported", "not testable"], "reason": ["above 1", "no early data"],
                           "evidence": ["adult trials", "adult trials"], "pooled_measure": ["RR", ""],
                           "pooled_estimate": [1.2, float("nan")], "pooled_ci_low": [1.0, float("nan")],
                           "pooled_ci_high": [1.4, float("nan")], "pooled_k": [5.0, float("nan")]})
    intro = sec.claims_intro(claims, "95%")
    assert "1 are supported, 0 are not shown and 0 are contradicted" in intro and "1 cannot be tested" in intro
    assert "2 of the 2 claims concern adults and are set against the pooled estimates of its adult trials" in intro
    assert "\nSupported: C1." in intro and "Not shown:" not in intro
    primary = sec.claims_intro(claims.assign(evidence="primary population"), "95%")
    assert "Every claim is set against the pooled estimates of the protocol's primary population." in primary
    # an event rate shows the prediction interval it was set against
    rate = claims.assign(pooled_measure=["event rate", ""], pooled_pi_low=[0.3, None], pooled_pi_high=[0.8, None])
    assert "PI\u00a0\\[0.30,\u00a00.80\\]" in sec.claims_table(rate) and "PI" not in sec.claims_table(claims)
    named = claims.assign(evidence=["adult trials; MBCT arms; remitted subgroup", "adult trials"])
    assert "(k=5; MBCT arms; remitted subgroup)" in sec.claims_table(named) and "(k=5)" in sec.claims_table(claims)
    assert "C1" in sec.claims_table(claims) and "C2" not in sec.claims_table(claims)
    assert "no early data" in sec.claims_untestable_table(claims) and "Articles: a1: x." in \
        sec.claims_untestable_table(claims)
    studies = pd.DataFrame({"study_id": ["s1"], "label": ["S 2001"], "country": ["NL"], "age_group": ["adult"],
                            "condition": ["MDD"], "design": ["acute"], "risk_of_bias": ["not assessed"],
                            "doi": [""], "pmid": ["123"]})
    arms = pd.DataFrame({"study_id": ["s1", "s1"], "arm_type": ["medication", "waiting_list"]})
    hr = pd.DataFrame(columns=["study_id", "arm1_type", "arm2_type"])
    table = sec.studies_table(studies, arms, hr)
    assert "medication, waiting list" in table and "PMID 123" in table
    rob = pd.DataFrame(columns=["study_id", "tool", "domain", "judgement", "source", "locator"])
    assert "*(no published judgements" in sec.risk_of_bias_section(rob, studies)
    assert sec.exclusions_section(pd.DataFrame()) == "*(none)*\n"
    options = {"prediction_interval": "metafor", "test": "knha", "binary_measure": "RR", "add": 0.5, "to": "only0",
               "drop00": True, "population_preference": ["ITT"], "method": "REML", "min_studies": 2,
               "outcomes": ["response", "relapse", "symptoms"],
               "timeframes": {"response": {"phases": ["acute"], "from_weeks": 6, "to_weeks": 16, "choose": "nearest",
                                           "target_weeks": 12},
                              "relapse": {"phases": ["continuation", "maintenance"], "from_weeks": None,
                                          "to_weeks": None, "choose": "latest", "target_weeks": None},
                              "dropout": {"phases": ["acute"], "choose": "latest"}}}
    methods = sec.methods_section(options)
    # the interval method and why, and the prediction interval metafor's predict() gives under that test
    assert "Knapp-Hartung (Hartung-Knapp-Sidik-Jonkman) adjustment, t with k − 1 df" in methods
    assert "Cochrane's Statistical Methods Group recommends it" in methods
    assert "z interval of the same estimator is shown beside it in the sensitivity analyses" in methods
    assert ("prediction interval: t with k − 1 df (the R package meta's default), as metafor's predict() gives it "
            "under the Knapp-Hartung test") in " ".join(methods.split())
    z = " ".join(sec.methods_section({**options, "test": "z"}).split())
    assert "Wald-type z test and interval" in z and "Knapp-Hartung interval of the same estimator" in z
    assert "prediction interval: normal quantile, as metafor's predict() gives it under the z test" in z
    assert sec.software_paragraph({"depmeta": "0.1.0"}, "qmdrender") == ("\n**Software.** depmeta 0.1.0. Report "
                                                                        "rendered by qmdrender.\n")
    # the time frames of the outcomes analysed, in their order (symptoms has none)
    assert ("(response: acute phase, weeks 6 to 16, the week nearest 12; relapse: continuation and maintenance "
            "phases, the latest week; symptoms: any phase, the latest week)") in methods
    assert "dropout: acute" not in methods
    assert "Per trial and outcome the latest timepoint is used" in sec.methods_section(
        {**options, "timeframes": None})
    with pytest.raises(ValueError, match="analysis.test = 'wald' is not one the report describes"):
        sec.methods_section({**options, "test": "wald"})
    coverage = pd.DataFrame({"k": [3, 3], "tau2": [0.0, 0.1], "replications": [1000, 1000], "method": ["REML"] * 2,
                             "level": [0.95] * 2, "mc_se": [0.007] * 2, "ci_z": [0.95, 0.85],
                             "ci_knha": [0.96, 0.94], "ci_adhoc": [0.97, 0.95], "pi_z": [0.9, 0.8],
                             "pi_t_k2": [float("nan"), 0.9]})
    assert "the z interval covered 85.0% to 85.0%" in sec.coverage_intro(coverage)
    assert "–" in sec.coverage_table(coverage)  # no t (k − 2) interval at tau² = 0 here


def test_captioned_numbers_a_table_or_the_text_in_its_place():
    from depmeta.report.sections import captioned

    table = captioned("| a |\n|---|\n| 1 |\n\nA note after it.\n", "Caption.", "tbl-x")
    assert table == "\n| a |\n|---|\n| 1 |\n\n: Caption. {#tbl-x}\n\n\nA note after it.\n"
    assert captioned("*(none)*", "Caption.", "tbl-x") == "\n::: {#tbl-x}\n*(none)*\n\nCaption.\n:::\n"


def test_sections_a_review_does_not_have_do_not_appear():
    from depmeta.report.sections import benchmarks_section, claims_section, network_section

    empty = pd.DataFrame()
    assert benchmarks_section(empty) == claims_section(empty, "95%") == ""
    assert network_section(None, empty, empty, empty, empty, "figs", "95%") == ""


def test_network_section_has_its_heading_and_its_three_numbered_tables():
    from pathlib import Path

    from depmeta.report.sections import network_section

    net, t = _networks()
    net["options"] = {"method": "REML", "nodes": "therapy_type", "controls": "merged", "test": "t"}
    text = network_section(net, t["summary"], t["estimates"], t["ranking"], t["exclusions"], Path("figs"), "95%")
    assert text.startswith("# Network meta-analysis\n\n")
    for label in ("tbl-network-ranking", "tbl-network-inconsistency", "tbl-network-split"):
        assert text.count(f"{{#{label}}}") == 1, label
    assert "## Response network" in text


def test_claims_and_benchmarks_sections_have_their_heading_and_numbered_tables():
    from depmeta.report.sections import benchmarks_section, claims_section

    claims = pd.DataFrame({"id": ["C1"], "claim": ["more response"], "article": ["a1: x"], "verdict": ["supported"],
                           "reason": ["above 1"], "evidence": ["adult trials"], "pooled_measure": ["RR"],
                           "pooled_estimate": [1.2], "pooled_ci_low": [1.0], "pooled_ci_high": [1.4],
                           "pooled_k": [5.0]})
    text = claims_section(claims, "95%")
    assert text.startswith("# Claims in circulation\n\n") and ": Testable claims" in text and "{#tbl-claims}" in text
    # no untestable claim: the numbered table says so rather than vanishing from under its reference
    assert "::: {#tbl-claims-untestable}\n*(none)*" in text
    bench = pd.DataFrame({"citation": ["Cuijpers P, Noma H. Title. 2020."], "comparison": ["combined_vs_medication"],
                          "outcome": ["response"], "subgroup": ["all"], "published_measure": ["RR"],
                          "published_estimate": [1.25], "published_ci_low": [1.1], "published_ci_high": [1.4],
                          "ours_measure": ["RR"], "ours_estimate": [1.2], "ours_ci_low": [1.0], "ours_ci_high": [1.4],
                          "ours_k": [8.0],
                          "evidence": ["primary population"], "note": [""]})
    text = benchmarks_section(bench)
    assert text.startswith("# Published benchmarks\n\n@tbl-benchmarks sets 1") and "{#tbl-benchmarks}" in text


def test_the_unused_data_list_says_where_the_network_uses_a_row():
    from depmeta.report.sections import exclusions_section, network_input_rows

    excl = pd.DataFrame({"study_id": ["a", "b", "c"], "label": ["A 2001", "B 2002", None],
                         "comparison": ["psychotherapy_vs_medication", None, "medication_vs_control"],
                         "outcome": ["symptoms", "remission", "symptoms"],
                         "row_ids": ["a:cbt:symptoms:13w:ITT;a:flx:symptoms:13w:ITT", "b:x:remission:12w:ITT", None],
                         "reason": ["comparison not pooled: 1 usable study; min_studies is 2", "not used: other week",
                                    "comparison not pooled"]})
    net = {"outcomes": {"symptoms": {"input_rows": {"a": ["a:cbt:symptoms:13w:ITT", "a:flx:symptoms:13w:ITT"]}},
                        "remission": {"input_rows": {"z": ["z:y:remission:12w:ITT"]}}}}
    rows = network_input_rows(net)
    assert rows == {"symptoms": {"a:cbt:symptoms:13w:ITT", "a:flx:symptoms:13w:ITT"},
                    "remission": {"z:y:remission:12w:ITT"}}
    table = exclusions_section(excl, rows)
    lines = [line for line in table.splitlines() if line.startswith("| ") and "Study" not in line]
    assert lines[0].endswith("| yes |") and lines[1].endswith("| no |")
    assert "| c |" in lines[2] and lines[2].endswith("| no |")
    # a trial's arm rows with the same reason are one line, their outcomes listed together
    arms = pd.DataFrame({"study_id": ["d"] * 4, "label": ["D 2004"] * 4, "comparison": [None] * 4,
                         "outcome": ["response", "response", "dropout", "dropout"],
                         "row_ids": ["d:x:response:end:ITT", "d:y:response:end:ITT", "d:x:dropout:end:ITT",
                                     "d:y:dropout:end:ITT"], "reason": ["within a strategy"] * 4})
    (line,) = [x for x in exclusions_section(arms, rows).splitlines() if x.startswith("| D 2004")]
    assert "| response, dropout |" in line and line.endswith("| no |")
    assert "In the network" not in exclusions_section(excl)  # no network run: no such column
    assert network_input_rows(None) == {}
