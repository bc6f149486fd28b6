"""The report's sections as functions: each takes the result tables it shows and returns the
section's markdown (text, tables with their captions, figure references), which the report
source prints. Frames in, markdown out; reading the results is the report source's.

A section that has nothing to show says so in one line, and an option it does not know is a
``ValueError`` naming the option and what it may be, never a ``KeyError``."""

from __future__ import annotations

import math
from pathlib import PurePath

import pandas as pd

from depmeta.report.labels import TEST_NAME, and_list, comparison_label, fmt_p
from depmeta.report.network_tables import (
    LEAGUE_MAX_NODES,
    abbreviations,
    inconsistency_table,
    league_table,
    pairs_table,
    ranking_table,
    split_table,
)
from depmeta.report.sensitivity_tables import (
    alternatives_display,
    influence_display,
    other_test_display,
    overview_table,
    small_study_display,
)
from depmeta.report.summary_of_findings import (
    GRADE_NOTES,
    answer_items,
    nnt_table,
    pairwise_table,
    rules_table,
    sof_table,
)
from depmeta.report.tables import (
    NBSP,
    fmt,
    fmt_ci,
    fmt_est_ci,
    md_escape,
    md_table,
    rob_tables,
    sentence,
    summary_table,
)
from depmeta.review.checks import CLAIM_VERDICTS
from depmeta.review.nodes import node_order
from depmeta.review.populations import ADULT_GROUPS, groups_text
from depmeta.review.robustness import other_test_conclusions
from depmeta.review.timeframes import TimeFrame, frame_text

__all__ = ["MAIN_COMPARISONS", "benchmarks_intro", "benchmarks_section", "benchmarks_table", "captioned",
           "claims_intro", "claims_section", "claims_table", "claims_untestable_table", "coverage_intro",
           "coverage_table", "event_rates_intro", "exclusions_section", "meta_regression_table", "metapsy_section",
           "methods_section", "network_input_rows", "network_methods", "network_outcomes", "network_section",
           "network_test_text", "other_test_section", "followup_section",
           "pairwise_intro", "populations_text", "results_by_outcome", "risk_of_bias_section", "sensitivity_section",
           "software_paragraph", "strata_section", "studies_table", "subgroup_bubbles", "subgroup_groups_table",
           "subgroup_tests_table", "subgroups_intro",
           "summary_of_findings", "what_the_trials_show"]

#: The report's name of each test of a meta-regression slope.
REGRESSION_TEST_TEXT = {"knha": "Knapp-Hartung t", "z": "z", "t": "t", "adhoc": "Knapp-Hartung (ad hoc) t"}

#: How each network tau² estimator and node scheme is named in the report.
NETWORK_METHOD_TEXT = {
    "REML": "restricted maximum likelihood (REML)",
    "DL": "the method of moments of DerSimonian-Laird generalised to networks (netmeta's default)",
    "FE": "none (common-effect model, τ² = 0)",
}
NODE_SCHEME_TEXT = {
    "strategy": "the strategies (medication, psychotherapy, combined, and other active treatments as a node of "
                "their own) and {controls}",
    "treatment": "the treatments as the trials name them (an arm without a named treatment by its arm type){merged}",
    "arm_type": "medication, psychotherapy, combined and {controls}",
    "therapy_type": "medication, {controls}, and psychotherapy and combined treatment split by the type of "
                    "psychotherapy (an arm without a recorded type in its own *unspecified* node)",
    "drug_class": "psychotherapy, {controls}, and medication and combined treatment split by drug class "
                  "(an arm without a recorded class in its own *unspecified* node)",
}
#: How the control arms are nodes (``network.controls``), in the words of :data:`NODE_SCHEME_TEXT`.
CONTROL_NODE_TEXT = {
    "separate": ("each type of control as its own node (pill placebo, usual care, waiting list, no treatment and "
                 "the like are different comparators, so they are not pooled as one)", ""),
    "merged": ("control (every control arm one node, whatever its type: placebo, usual care, waiting list and "
               "the like are treated as one comparator)", ", with every control arm one node, control"),
}


def node_scheme_text(nodes: str, controls: str) -> str:
    """The network's nodes in words (``network.nodes`` and ``network.controls``)."""
    control, merged = _choice(CONTROL_NODE_TEXT, controls, "network.controls")
    return _choice(NODE_SCHEME_TEXT, nodes, "network.nodes").format(controls=control, merged=merged)


#: The comparisons of the active treatments the opening summary answers, in its order.
MAIN_COMPARISONS = ("combined_vs_medication", "combined_vs_psychotherapy", "psychotherapy_vs_medication")


class _Text:
    """Collects what the section prints, line by line as ``print`` would."""

    def __init__(self):
        self.parts: list[str] = []

    def __call__(self, *items, end: str = "\n") -> None:
        self.parts.append(" ".join(str(i) for i in items) + end)

    def __str__(self) -> str:
        return "".join(self.parts)


def _capital(text: str) -> str:
    return text[0].upper() + text[1:]


def _choice(table: dict, value: str, option: str) -> str:
    """The report's words for an option's value; a clear error for a value it does not know."""
    if value not in table:
        raise ValueError(f"{option} = {value!r} is not one the report describes ({', '.join(table)})")
    return table[value]


def _option(options: dict, key: str, where: str):
    """An option the section needs; a clear error where the results lack it."""
    if key not in options:
        raise ValueError(f"{where}: the option {key!r} is missing from the results' options "
                         f"(it has {sorted(options)}); run the workflow again")
    return options[key]


def _notes(notes: list[str]) -> str:
    """Footnotes ``a. reason`` set as one paragraph with bold letters."""
    return "\n" + " ".join(f"**{n.split('.', 1)[0]}.**{n.split('.', 1)[1]}" for n in notes) + "\n"


def _any_not_assessed(sof: pd.DataFrame) -> bool:
    """Whether a summary-of-findings row names a domain nobody assessed."""
    # a column left empty in every row reads back as numbers (NaN), not as text
    return "not_assessed" in sof and bool(sof.not_assessed.map(lambda x: isinstance(x, str) and x != "").any())



def captioned(body: str, caption: str, label: str) -> str:
    """A numbered table in the report's markdown: a pipe table with its caption line
    ``: caption {#label}``, or, for text in place of a table (e.g. "(none)"), a div holding the
    text with the caption last, as Quarto numbers a cell's output (the fallback renderer takes
    both forms alike)."""
    body = body.strip("\n")
    if not body.lstrip().startswith("|"):
        return f"\n::: {{#{label}}}\n{body}\n\n{caption}\n:::\n"
    lines = body.split("\n")
    end = next((j for j, line in enumerate(lines) if not line.startswith("|")), len(lines))
    return "\n" + "\n".join([*lines[:end], "", f": {caption} {{#{label}}}", "", *lines[end:]]).rstrip("\n") + "\n"


def what_the_trials_show(sof: pd.DataFrame, comparisons=()) -> str:
    """The opening answer: one plain-language item per comparison with a pooled or network
    estimate (``sof``: results/certainty/sof.csv), whatever the review compared: the active
    treatments against each other first (:data:`MAIN_COMPARISONS`), then the others in the
    protocol's order (``comparisons``), then any other comparison the table holds."""
    out = _Text()
    present = list(dict.fromkeys(sof.comparison)) if len(sof) else []
    order = [c for c in dict.fromkeys([*MAIN_COMPARISONS, *comparisons, *present]) if c in present]
    if not order:
        out("No comparison had a pooled or network estimate in this run.\n")
        return str(out)
    n_net = int((sof.evidence == "network").sum())
    n_pair = int((sof.evidence != "network").sum())
    source = ("network meta-analysis of all the trials (direct and indirect evidence together)"
              + (", and of pairwise meta-analyses where the network has no estimate" if n_pair else "")
              if n_net else "pairwise meta-analyses (no network estimate compares these treatments)")
    judged = ("CINeMA (GRADE adapted to network meta-analysis)" + (" or GRADE" if n_pair else "")
              if n_net else "GRADE")
    out(f"These are the estimates of the {source}, with the certainty of each judged by {judged} and the absolute "
        "effect per 1000 patients at the risk observed in the comparator arms (risk ratios above 1 mean more "
        "patients with the outcome under the first-named treatment; for symptom scores, negative values mean fewer "
        "symptoms, shown as responders per 1000).\n")
    for comp, text in answer_items(sof, order):
        out(f"- **{_capital(comparison_label(comp))}.** {text}")
    out()
    return str(out)


def summary_of_findings(sof: pd.DataFrame, comparisons, grade: pd.DataFrame, cinema: pd.DataFrame,
                        certainty_options: dict) -> str:
    """The summary-of-findings tables (one per comparison, Cochrane's layout) with how to read
    them, the numbers needed to treat, the pairwise GRADE ratings beside the network ones, and
    the rule behind each domain's judgement (``certainty_options``: certainty.json's options)."""
    out = _Text()
    if len(sof):
        out("One table per comparison, laid out as in Cochrane reviews. Each row is the network estimate where "
            "there is one (certainty by CINeMA's six domains), else the pairwise estimate (certainty by GRADE's "
            "five). Letters in the certainty column point to the reason for each downgrade (and each domain not "
            "assessed), printed under the table. After it comes the certainty of the other estimate of the same "
            "comparison and outcome, *pairwise (GRADE)* after a network rating and *network (CINeMA)* after a "
            "pairwise one; where the two differ, its letter points to the domains that differ.\n")
    for comp in [c for c in comparisons if len(sof) and c in set(sof.comparison)]:
        tab, notes = sof_table(sof, comp)
        slug = comp.replace("_", "-").lower()
        out(f"\n## {_capital(comparison_label(comp))}\n")
        out(md_table(tab))
        out(f"\n: Summary of findings: {comparison_label(comp)}. {{#tbl-sof-{slug}}}\n")
        if notes:
            out(_notes(notes))
    if len(sof):
        out("\n**How to read these tables.** The risk with the comparator is the assumed comparator risk: the "
            "median risk in the comparator arms of the trials of that comparison (of all arms of that strategy "
            "where no trial compared the two directly), unless the configuration sets one "
            "(`certainty.assumed_risk`). The risk with the intervention (and its 95% CI) is based on the assumed "
            "comparator risk and the relative effect (and its 95% CI): the risk times the RR, or for an OR "
            "`OR × risk / (1 − risk + OR × risk)`. "
            "† Symptom scores: the standardised mean difference is converted to responders per 1000 by the method "
            "of Furukawa and Leucht (2011) at the comparator's response risk. Participants (trials) of a network "
            "estimate count every trial contributing to it, of which *direct* compared the two treatments head to "
            "head. ‡ Pairwise estimate (no network estimate for this comparison and outcome). wk: weeks. "
            "CI: confidence interval; RR: risk ratio; SMD: standardised mean difference (Hedges' g). "
            + ("A domain named *not assessed* beside a certainty was not judged (for risk of bias and within-study "
               "bias: trials without a published risk-of-bias assessment carry at least half of the estimate's "
               "weight) and did not lower it; "
               "the certainty does not rule out bias there (`certainty.not_assessed`). "
               if _any_not_assessed(sof) else "")
            + "GRADE Working Group grades of evidence: " + GRADE_NOTES + "\n")
    nnt = nnt_table(sof, comparisons) if len(sof) else pd.DataFrame()
    if len(nnt):
        out("\n## Numbers needed to treat\n")
        out("The absolute effects of the tables above as risk differences and numbers needed to treat for one more "
            "patient to benefit (NNTB) or be harmed (NNTH), rounded up; where the CI of the difference includes no "
            "difference, the NNT's CI runs from NNTB through infinity to NNTH (Altman 1998). For relapse and "
            "dropout a negative difference is a benefit.\n")
        out(md_table(nnt))
        out("\n: Risk differences and numbers needed to treat at the assumed comparator risk. {#tbl-nnt}\n")
    if len(sof) and (sof.evidence == "pairwise").any() and (sof.evidence == "network").any():
        tab, notes = pairwise_table(sof, comparisons)
        out("\n## Pairwise estimates (GRADE)\n")
        out("The pooled pairwise estimates (direct evidence only; supporting detail) rated by GRADE: start at high "
            "certainty for randomized trials, one level down per serious and two per very serious concern in risk "
            "of bias, inconsistency, indirectness, imprecision and publication bias (rules in `config/README.md`; "
            "every judgement, including those that did not lower the certainty, in `results/certainty/grade.csv`). "
            "The sensitivity analyses (section *Sensitivity and small-study effects*) enter three domains: risk of "
            "bias is at least serious when the trials at low risk of bias alone reach another conclusion, "
            "inconsistency when leaving out an influential trial with an outlying result does, and publication "
            "bias when trim-and-fill's filled estimate does; Egger's test there is the small-study test here. The "
            "reviewers' own judgement of reporting bias (`certainty.reporting_bias`), when it is suspected, makes "
            "publication bias serious, as it gives CINeMA's reporting bias concerns.\n")
        out(md_table(tab))
        out("\n: Certainty of the pairwise estimates by GRADE. {#tbl-grade-pairwise}\n")
        if notes:
            out(_notes(notes))
    rules = rules_table(grade, cinema)
    if len(rules):
        out("\n## Rules applied\n")
        out("Each domain's judgement follows the rule below (thresholds from the `certainty` section of the "
            "configuration; a reviewer's override replaces it, with the reason printed). Study-level inputs: the "
            "overall risk of bias published for a trial, else derived from its published domain judgements (any "
            "high: high; all low: low; otherwise some concerns), else *not assessed*, which GRADE and CINeMA "
            + _choice({"flag": "set aside: risk of bias (GRADE) and within-study bias (CINeMA) are *not assessed*, "
                               "not downgraded and named beside the rating, where such trials carry at least half "
                               "of the weight (contributions), and are judged on the assessed trials otherwise (a "
                               "reporting bias nobody assessed likewise)",
                       "some concerns": "count as "
                                        f"{_option(certainty_options, 'cinema_not_assessed', 'certainty.json')} "
                                        "(CINeMA's study level; GRADE's moderate is some concerns, which counts with "
                                        "high risk for a serious risk of bias; a reporting bias nobody assessed as "
                                        "some concerns)"},
                      _option(certainty_options, "not_assessed", "certainty.json"), "certainty.not_assessed")
            + "; trials outside the question's age groups ("
            f"{groups_text(_option(certainty_options, 'indirect_population', 'certainty.json'))}) count as "
            f"{_option(certainty_options, 'cinema_indirect', 'certainty.json')} indirectness "
            "for CINeMA and rate GRADE indirectness down by their share of the weight (the rule below). CINeMA's "
            "summary: one level down per domain with some concerns, two per domain with major concerns. GRADE "
            "imprecision follows GRADE guidelines 6 (Guyatt et al. 2011): precision is adequate when the CI "
            "excludes no effect and the optimal information size is met, and is rated down when the CI includes no "
            "effect and appreciable benefit or harm. The CINeMA domains, the contribution matrix and "
            "the three levels of concern are those of Nikolakopoulou et al. (2020) and Papakonstantinou et al. "
            "(2020); the imprecision, heterogeneity and incoherence rules are those the CINeMA web application's "
            "code applies (version 2.0.0; it differs from its documentation)"
            + (", with one addition of this project's to imprecision: an estimate whose contributing trials hold "
               "fewer patients than the optimal information size has at least some concerns, as GRADE rates "
               "precision adequate only when the OIS is met (`certainty.imprecision.cinema_ois`)"
               if _option(certainty_options, "cinema_ois", "certainty.json") else "")
            + ", the three contribution rules those "
            "of its documentation, as the papers' rule tables could not be checked; the reporting-bias default "
            "and the summary of the six domains into one rating are this project's.\n")
        out(md_table(rules))
        out("\n: The rule behind each domain's judgement. {#tbl-certainty-rules}\n")
    return str(out)


#: Captions of the network section's tables.
NETWORK_CAPTIONS = {
    "ranking": ("P-scores (rank) per treatment and outcome: the mean certainty that a treatment is better than "
                "another, 1 best; better means more remission and response, less relapse, symptoms and dropout."),
    "inconsistency": ("Heterogeneity and inconsistency per network: trials, designs (distinct sets of compared "
                      "nodes), between-study variance τ², the common-effect Q (df) and its design-by-treatment "
                      "decomposition into heterogeneity within designs and inconsistency between designs, and the "
                      "between-designs Q of the random-effects design-by-treatment interaction model (its τ² "
                      "estimated within designs, `tau2_within` in results/network/network_summary.csv), the global "
                      "test CINeMA's incoherence rule reads, each with its p-value; – no test (no loops of designs)."),
    "split": ("Direct and indirect evidence for every comparison that has both: k trials compare the two directly; "
              "the indirect estimate is back-calculated from the network and direct estimates; p: test of their "
              "difference."),
}


def network_section(net: dict | None, net_sum: pd.DataFrame, net_est: pd.DataFrame, net_rank: pd.DataFrame,
                    net_excl: pd.DataFrame, figure_dir, pct: str) -> str:
    """The network meta-analysis with its heading: how the networks were built, each outcome's
    network, the ranking, heterogeneity and inconsistency, and direct against indirect evidence;
    nothing at all when no network was run (``net``: network.json, or None)."""
    if net is None:
        return ""
    opts = net["options"]
    outcomes = [o for o in net_sum.outcome if o in net["outcomes"]]
    order = node_order(opts["nodes"], set(net_rank.treatment) | set(net_est.treatment1))
    return ("# Network meta-analysis\n\n" + network_methods(opts, net_sum, net_est, net_excl)
            + network_outcomes(net, net_sum, net_est, outcomes, figure_dir, pct)
            + captioned(md_table(ranking_table(net_rank, outcomes, order)), NETWORK_CAPTIONS["ranking"],
                        "tbl-network-ranking")
            + captioned(md_table(inconsistency_table(net_sum)), NETWORK_CAPTIONS["inconsistency"],
                        "tbl-network-inconsistency")
            + captioned(md_table(split_table(net_est, order)), NETWORK_CAPTIONS["split"], "tbl-network-split"))


def network_methods(net_options: dict, net_sum: pd.DataFrame, net_est: pd.DataFrame, net_excl: pd.DataFrame) -> str:
    """How the networks were built and fitted, the outcomes not analysed or split into parts,
    and how many arm rows and reported effects are in no network (``net_options``: network.json's options)."""
    out = _Text()
    method_text = _choice(NETWORK_METHOD_TEXT, net_options["method"], "network.method")
    node_text = node_scheme_text(net_options["nodes"], _option(net_options, "controls", "network methods"))
    out(f"Every outcome's trials form one network whose nodes are {node_text}. All comparisons are estimated "
        f"together in a contrast-based random-effects network meta-analysis (one common between-study "
        f"variance τ², estimated by {method_text}; multi-arm trials enter with all their arms and the "
        f"correlation between their contrasts). Each trial contributes one timepoint and population: "
        f"the week its outcome's time frame chooses (the same rule as the pairwise analyses), the preferred "
        f"population, then the slice holding most of its arms; arms of the same node are combined, and the "
        f"standardised mean differences of a multi-arm trial share one standardiser (the SD pooled over all "
        f"its arms), so that its contrasts add up. Arms set apart in the excluded-arms sheet enter no network. "
        f"Risk ratios above 1 mean more patients with the outcome under the first-named treatment. The "
        f"pairwise meta-analyses of the following sections remain as supporting detail.\n")
    out(network_test_text(_option(net_options, "test", "network methods"), net_sum))
    for _, r in net_sum[net_sum.tau2.isna()].iterrows():
        out(f"- {r.outcome}: {r.note}")
    for _, r in net_sum[net_sum.note.notna() & net_sum.tau2.notna()].iterrows():
        out(f"- {r.outcome}: {r.note}")
    comparisons = list(net_options.get("comparisons") or [])
    named = set(net_est.comparison.dropna()) if len(net_est) else set()
    apart = [c for c in comparisons if c not in named]
    if apart:
        with_net = [c for c in comparisons if c in named]
        without = and_list(comparison_label(c) for c in apart)
        if not with_net:
            text = f"None of the protocol's comparisons ({without}) has a network estimate"
        else:
            lead = (f"The protocol's comparison {comparison_label(with_net[0])} has a network estimate"
                    if len(with_net) == 1 else
                    f"The protocol's comparisons {and_list(comparison_label(c) for c in with_net)} have network "
                    "estimates")
            text = f"{lead}; {without} {'has' if len(apart) == 1 else 'have'} none"
        out(f"\n{text}, because a side of {'it' if len(apart) == 1 else 'each'} is not one node of this network (or "
            "no trial connects it), so the summary of findings and the answer above rest on the pairwise "
            "meta-analyses there (certainty by GRADE).\n")
    if len(net_excl):
        # a reported effect's row id names its two arms (study:arm1-vs-arm2:...)
        reported = net_excl.row_ids.astype(str).str.contains("-vs-", regex=False)
        parts = [f"{(~reported).sum()} arm rows" if (~reported).any() else "",
                 f"{reported.sum()} reported effects" if reported.any() else ""]
        why = ("another timepoint or population of the same trial, or a trial without two nodes" if not reported.any()
               else "another timepoint, population or measure of the same trial, a trial without two nodes, or "
                    "a trial whose reported contrasts cannot enter as given")
        out(f"\n{' and '.join(p for p in parts if p)} are in no network ({why}); they are listed with "
            "the reason in `results/network/network_exclusions.csv`.\n")
    return str(out)


#: The quantile of the network estimates' intervals under each ``network.test``, and why.
NETWORK_TEST_TEXT = {
    "z": "Confidence and prediction intervals of the network estimates use the normal quantile (metafor's default), "
         "which with few trials per comparison contains the true effect less often than its level says.",
    "t": "Confidence and prediction intervals of the network estimates use a t distribution whose degrees of "
         "freedom are the network's contrasts minus its treatment effects (metafor's rma.mv with test = \"t\" "
         "and its predict()), for the same reason as the pairwise Knapp-Hartung intervals: with few trials the "
         "normal quantile makes them too narrow.",
}


def network_test_text(test: str, net_sum: pd.DataFrame) -> str:
    """How the network estimates' intervals are formed, with each analysed outcome's degrees of freedom."""
    out = _Text()
    out(_choice(NETWORK_TEST_TEXT, test, "network.test"), end="")
    fitted = net_sum[net_sum.tau2.notna()] if len(net_sum) and "df" in net_sum else net_sum.iloc[:0]
    with_t = fitted[fitted.test == "t"] if len(fitted) else fitted
    if len(with_t):
        out(" Degrees of freedom: " + ", ".join(f"{r.outcome} {int(r.df)}" for r in with_t.itertuples())
            + (" (with 1 or 2 degrees of freedom the intervals are very wide, as the evidence warrants)"
               if (with_t.df <= 2).any() else "") + ".", end="")
    if test == "t" and len(fitted) and (fitted.test == "z").any():
        out(" " + ", ".join(fitted[fitted.test == "z"].outcome) + ": no residual degrees of freedom, so the "
            "normal quantile.", end="")
    out(" Direct and indirect estimates and the test of their difference use the normal quantile, as netmeta's "
        "netsplit.\n")
    return str(out)


def network_outcomes(net: dict, net_sum: pd.DataFrame, net_est: pd.DataFrame, outcomes, figure_dir, pct: str) -> str:
    """Per outcome network: its graph and its league table (every pair where there are too many
    nodes for a league table). ``net``: network.json; ``figure_dir``: where its figures are."""
    out = _Text()
    for o in outcomes:
        s = net_sum[net_sum.outcome == o].iloc[0]
        est = net_est[net_est.outcome == o]
        above = "1" if s.measure in ("RR", "OR") else "0"
        out(f"\n## {o.capitalize()} network\n")
        for part, name in enumerate(net["figures"][o], 1):
            part_est = est[est.part == part]
            info = net["outcomes"][o]["parts"][part - 1]
            trts = info["treatments"]
            suffix = f"-part{part}" if part > 1 else ""
            out(f"@fig-network-{o}{suffix} shows the {o} network ({len(info['studies'])} "
                f"trials) and @tbl-league-{o}{suffix} every comparison.\n")
            out(f"![Network of the {o} trials: node area proportional to the patients randomised to the node, "
                f"edge width and label: number of trials comparing the two directly.]"
                f"({figure_dir / name}){{#fig-network-{o}{suffix}}}\n")
            abbrev = abbreviations(trts)
            abbrev = f" Abbreviations: {abbrev}." if abbrev else ""
            if len(trts) <= LEAGUE_MAX_NODES:
                league = league_table(part_est, trts, short=True)
                out(md_table(league, markdown=tuple(league.columns)))
                out(f"\n: League table, {o} ({s.measure}, {pct} CI). Each cell compares its row's treatment (named "
                    f"on the diagonal) with its column's (named on top) ({s.measure} above {above}: more patients "
                    f"with the outcome, or higher scores, under the row's treatment). Below the diagonal: network "
                    f"estimates; above it: direct estimates (trials comparing the two, pooled with the network's "
                    f"τ²; · none).{abbrev} {{#tbl-league-{o}{suffix}}}\n")
            else:
                out(md_table(pairs_table(part_est, trts)))
                out(f"\n: Every comparison of the {len(trts)} nodes, {o} ({s.measure}, {pct} CI; too many nodes "
                    f"for a league table). Each row compares the first-named treatment with the second "
                    f"({s.measure} above {above}: more patients with the outcome, "
                    f"or higher scores, under the first): network estimate, and direct estimate (trials comparing "
                    f"the two, pooled with the network's τ²; · none).{abbrev} {{#tbl-league-{o}{suffix}}}\n")
    return str(out)


def pairwise_intro(n_studies: int, pooled: pd.DataFrame, options: dict, pct: str, level: float) -> str:
    """What the pairwise meta-analyses are, and one sentence per pooled estimate
    (``options``: results.json's analysis options)."""
    out = _Text()
    out(f"Beside the network, this report pools the {n_studies} randomized trials of the extraction sheet into "
        f"{len(pooled)} pairwise random-effects meta-analyses (one per comparison and outcome with at least "
        f"{options['min_studies']} studies), using the {options['method']} estimator of the between-study "
        f"variance and {pct} confidence intervals. @fig-summary shows every pooled estimate and "
        f"@tbl-summary gives the numbers (heterogeneity in @tbl-heterogeneity); risk ratios above 1 mean more "
        f"patients with the outcome "
        f"in the first-named strategy.\n")
    for _, r in pooled.iterrows():
        out(f"- {sentence(r, level)}")
    return str(out)


def event_rates_intro(rates: pd.DataFrame) -> str:
    """What the pooled event rates are, or that there are none."""
    if len(rates) and (rates.status == "pooled").any():
        return ("Arm-level rates were pooled per strategy on the logit scale and back-transformed "
                "(@fig-rates, @tbl-rates). They describe what share of patients in these trials "
                "reached each outcome; they are not randomized comparisons.\n")
    return "No strategy had enough arms reporting an outcome to pool event rates.\n"


def results_by_outcome(summary: pd.DataFrame, forest: list[dict], options: dict, pct: str, level: float,
                       figure_dir) -> str:
    """Per outcome, each pooled estimate in words with its forest plot (``forest``: the
    figures manifest's forest entries, in ``figure_dir``); the comparisons with too few trials to pool."""
    out = _Text()
    pooled = summary[summary.status == "pooled"] if len(summary) else summary
    for outcome in [o for o in options["outcomes"] if len(pooled) and o in set(pooled.outcome)]:
        out(f"\n## {outcome.capitalize()}\n")
        for _, r in pooled[pooled.outcome == outcome].iterrows():
            entry = next((f for f in forest if f["comparison"] == r.comparison and f["outcome"] == outcome
                          and f.get("measure", r.measure) == r.measure), None)
            if entry is None:
                raise ValueError(f"no forest plot of {r.comparison}, {outcome}, {r.measure} in the figures manifest; "
                                 "run the workflow again")
            label = f"fig-forest-{r.comparison.replace('_', '-')}-{outcome}" + ("-hr" if r.measure == "HR" else "")
            out(f"{sentence(r, level)} See @{label}.\n")
            cap = (f"Forest plot: {comparison_label(r.comparison)}, {outcome} "
                   f"({r.measure}, {options['method']}, {pct} CI; dashed line: prediction interval).")
            out(f"![{cap}]({figure_dir / entry['file']}){{#{label}}}\n")
    not_pooled = summary[summary.status != "pooled"] if len(summary) else summary
    if len(not_pooled):
        out("\n## Comparisons not pooled\n")
        out("These comparisons have data but fewer studies than `min_studies`; they are listed with "
            "their studies in @tbl-exclusions.\n")
        for _, r in not_pooled.iterrows():
            out(f"- {comparison_label(r.comparison)}, {r.outcome}{' (hazard ratio)' if r.measure == 'HR' else ''}: "
                f"{md_escape(r.reason)}")
    return str(out)


def subgroups_intro(sub_tests: pd.DataFrame, metareg: pd.DataFrame, sub_options: dict) -> str:
    """How the pooled analyses were split and tested, which splits could not be tested and why,
    and how the meta-regressions were fitted and tested (``sub_options``: the subgroups
    figures manifest's options)."""
    out = _Text()
    if not len(sub_tests):
        out("*(no pooled analyses to split)*")
        return str(out)
    tested = sub_tests[sub_tests.status == "tested"]
    n_analyses = len(sub_tests.drop_duplicates(["comparison", "outcome"]))
    why = sub_tests[sub_tests.status != "tested"].drop_duplicates(["comparison", "outcome", "moderator"])
    out(f"Each of the {n_analyses} pooled comparisons and outcomes was split by "
        f"{', '.join(m.replace('_', ' ') for m in dict.fromkeys(sub_tests.moderator))}. "
        "Between-group differences are tested twice: with a separate between-study variance in each "
        "group (a test on the group estimates) and with one variance shared by all groups (the omnibus test "
        "of a model with the groups as moderator). Groups with too few studies are left out of a test and "
        f"named. {len(tested.drop_duplicates(['comparison', 'outcome', 'moderator']))} splits had two or "
        f"more groups large enough to test (@tbl-subgroups, group estimates in @tbl-subgroup-groups); "
        f"{len(why)} had not:\n")
    small = why[why.status == "not tested"]
    if len(small):
        counts = ", ".join(f"{m.replace('_', ' ')} {n}" for m, n in small.moderator.value_counts().items())
        out(f"- fewer than two groups with at least {sub_options['min_per_group']} studies: {len(small)} splits "
            f"({counts})")
    for _, part in why[why.status == "not coded"].groupby("moderator", sort=False):
        out(f"- {part.moderator.iloc[0].replace('_', ' ')} not coded in any study of {len(part)} analyses"
            + (f": {part.note.iloc[0]}" if part.moderator.iloc[0] == "baseline_severity" else ""))
    for _, part in why[why.status == "not applicable"].groupby("moderator", sort=False):
        out(f"- {part.moderator.iloc[0].replace('_', ' ')} not applicable in {len(part)} analyses "
            f"({part.note.iloc[0]})")
    out("")
    if len(metareg):
        fitted = metareg[metareg.status == "fitted"]
        test = sub_options["regression_test"]
        out(f"\nMeta-regression on the publication year was fitted where at least "
            f"{sub_options['min_studies_regression']} studies had a year ({len(fitted)} analyses, "
            f"@tbl-metareg). The slope is tested with the "
            f"{REGRESSION_TEST_TEXT.get(test, test)} test and by "
            "permutation: the years are shuffled against the effects and the model refitted, over every "
            f"distinct order when there are at most {sub_options['exact_limit']}, else over "
            f"{sub_options['permutations']} seeded random orders (seed {sub_options['seed']}); the permutation "
            "test keeps its size with few studies, where the model-based test may not. ")
        sev = metareg[metareg.moderator == "baseline_severity"]
        if len(sev) and (sev.status != "fitted").all():
            out(f"Meta-regression on baseline severity is not available: {sev.note.iloc[0]}.")
        out("")
    return str(out)


def subgroup_tests_table(sub_tests: pd.DataFrame) -> str:
    """The between-group tests of every tested split, separate and common tau² side by side."""
    t = sub_tests[sub_tests.status == "tested"] if len(sub_tests) else sub_tests
    if not len(t):
        return "*(no subgroup split had two groups large enough to test)*\n"
    index = ["comparison", "outcome", "measure", "moderator"]
    sep = t[t.tau2_model == "separate"].set_index(index)
    com = t[t.tau2_model == "common"].set_index(index)
    rows = []
    for key in dict.fromkeys(list(sep.index) + list(com.index)):
        s = sep.loc[key] if key in sep.index else None
        c = com.loc[key] if key in com.index else None
        first = s if s is not None else c
        rows.append({
            "Comparison, outcome": f"{comparison_label(key[0])}, {key[1]} ({key[2]})",
            "Moderator": key[3].replace("_", " "),
            "Groups (studies)": first.groups.replace("_", " "),
            "Q (df)": f"{fmt(s.q_between)} ({s.q_between_df:.0f})" if s is not None else "–",
            "p, separate": fmt_p(s.q_between_pval) if s is not None else "–",
            "p, common": fmt_p(c.q_between_pval) if c is not None else "–",
        })
    return md_table(pd.DataFrame(rows)) + "\n"


def subgroup_groups_table(sub_tests: pd.DataFrame, sub_groups: pd.DataFrame, pct: str) -> str:
    """The pooled estimate within each group of each tested split (separate tau²)."""
    if not len(sub_groups):
        return "*(none)*\n"
    tested_keys = sub_tests[sub_tests.status == "tested"][["comparison", "outcome", "moderator", "tau2_model"]]
    g = sub_groups.merge(tested_keys, on=["comparison", "outcome", "moderator", "tau2_model"])
    g = g[g.tau2_model == "separate"]
    return md_table(pd.DataFrame({
        "Comparison, outcome": g.comparison.map(comparison_label) + ", " + g.outcome,
        "Moderator": g.moderator.str.replace("_", " "), "Group": g.group.str.replace("_", " "), "k": g.k,
        f"Estimate [{pct} CI]": [f"{m} {fmt(e)} {fmt_ci(a, b)}" for m, e, a, b in
                                 zip(g.measure, g.estimate_display, g.ci_low_display, g.ci_high_display)],
        "τ²": g.tau2.map(lambda x: fmt(x, 3)),
    })) + "\n"


def meta_regression_table(metareg: pd.DataFrame, pct: str) -> str:
    """Each fitted meta-regression: slope per year with CI, its test and permutation p-value, R²."""
    if not (len(metareg) and (metareg.status == "fitted").any()):
        return "*(no meta-regression fitted)*\n"
    f = metareg[metareg.status == "fitted"]
    ratio = f.measure.isin(["RR", "OR"])

    def tr(x, r):
        return math.exp(x) if r else x

    return md_table(pd.DataFrame({
        "Comparison, outcome": f.comparison.map(comparison_label) + ", " + f.outcome, "k": f.k,
        f"Per year [{pct} CI]": [f"{'×' if r else '+'}{fmt(tr(s, r), 3)} {fmt_ci(tr(a, r), tr(b, r), 3)}"
                                 for s, a, b, r in zip(f.slope, f.slope_ci_low, f.slope_ci_high, ratio)],
        "p": f.slope_pval.map(fmt_p),
        "Permutation p": [f"{fmt_p(p)} ({'exact' if e else f'{n:.0f} draws'})"
                          for p, e, n in zip(f.perm_pval, f.perm_exact, f.perm_iterations)],
        "R² (%)": f.r2.map(lambda x: fmt(x, 0)),
    })) + "\n"


def subgroup_bubbles(bubbles: list[dict], metareg: pd.DataFrame, figure_dir, pct: str) -> str:
    """The bubble plot of each meta-regression drawn (``bubbles``: the figures manifest)."""
    out = _Text()
    for entry in bubbles:
        r = metareg[(metareg.comparison == entry["comparison"]) & (metareg.outcome == entry["outcome"])
                    & (metareg.measure == entry["measure"]) & (metareg.moderator == entry["moderator"])].iloc[0]
        label = (f"fig-bubble-{r.comparison.replace('_', '-')}-{r.outcome}-{r.measure.lower()}-"
                 f"{r.moderator.replace('_', '-')}")
        cap = (f"Meta-regression of {comparison_label(r.comparison)}, {r.outcome} ({r.measure}) on "
               f"{r.moderator.replace('_', ' ')}: one bubble per study (area: weight), fitted line and {pct} "
               "confidence band.")
        out(f"![{cap}]({figure_dir / entry['file']}){{#{label}}}\n")
    return str(out)


def sensitivity_section(summary: pd.DataFrame, influence: pd.DataFrame, leave1out: pd.DataFrame,
                        small_study: pd.DataFrame, alternatives: pd.DataFrame, manifest: dict, figure_dir,
                        level: float) -> str:
    """The sensitivity analyses of every pooled estimate: the overview table, then per estimate
    its influence table, GOSH and cumulative plots, small-study tests and funnel plot (where
    run), and alternative analyses (``manifest``: the sensitivity figures manifest). Without a
    pooled estimate, a sentence says so."""
    out = _Text()
    overview = overview_table(summary, influence, leave1out, small_study)
    if not len(overview):
        return "No comparison was pooled, so there is nothing to test for sensitivity.\n"
    out("Does a pooled estimate rest on one trial, is it driven by small trials, does it change with the estimator "
        "or with the trials at high risk of bias set aside? For every pooled comparison and outcome the pipeline "
        "refits the model leaving out each trial in turn (with metafor's influence diagnostics; a trial is flagged "
        "\\* when its DFFITS, Cook's distance, hat value or DFBETAS passes metafor's cut-off), fits it to every "
        "subset of the trials (GOSH, where k ≥ 5), adds the trials one by one by year (cumulative meta-analysis), "
        "and repeats it with outliers (confidence interval not overlapping the pooled one) removed, one effect per "
        "trial, only trials at low risk of bias, and other tau² estimators and tests. Small-study tests (Egger's "
        "regression in both forms, Begg's rank test, trim-and-fill, PET-PEESE) and the contour-enhanced funnel "
        "plot are shown only where at least 10 trials are pooled; with fewer they cannot tell asymmetry from "
        "chance. @tbl-sensitivity-overview sums up. What these analyses find enters the GRADE domains of the "
        "pairwise estimates (risk of bias, inconsistency, publication bias; see the pairwise GRADE table).\n")
    out(f"\n{md_table(overview)}\n\n"
        ": Sensitivity at a glance: estimate (display scale), range of the leave-one-out estimates, trials "
        "flagged as influential, and the small-study tests. {#tbl-sensitivity-overview}\n")
    out(other_test_section(other_test_conclusions(summary, alternatives), level))
    pooled = summary[summary.status == "pooled"] if len(summary) else summary
    for _, r in pooled.iterrows():
        stem = f"{r.comparison.replace('_', '-')}-{r.outcome}-{r.measure.lower()}"
        name = f"{comparison_label(r.comparison)}, {r.outcome}" + (" (hazard ratio)" if r.measure == "HR" else "")
        out(f"\n## {_capital(name)}\n")
        inf = influence_display(influence, leave1out, r.comparison, r.outcome, level, r.measure)
        if len(inf):
            out(f"\n{md_table(inf)}\n\n: Leave-one-out and influence ({name}, {r.measure}); "
                f"\\* flagged as influential. {{#tbl-influence-{stem}}}\n")
        else:
            out(f"With k = {int(r.k)} trials there are no influence diagnostics (they need at least 3).\n")
        for kind, caption in (("gosh", "GOSH plot: pooled estimate against I² of every subset of the trials"),
                              ("cumulative", "Cumulative meta-analysis: the estimate as each trial is added, by year")):
            entry = next((f for f in manifest[kind] if f["comparison"] == r.comparison and f["outcome"] == r.outcome
                          and f["measure"] == r.measure and f.get("order_by", "year") == "year"), None)
            if entry:
                out(f"![{caption} ({name}).]({figure_dir / entry['file']}){{#fig-{kind}-{stem}}}\n")
        ss = small_study[(small_study.comparison == r.comparison) & (small_study.outcome == r.outcome)
                         & (small_study.measure == r.measure)]
        if len(ss) and ss.iloc[0].status == "run":
            entry = next(f for f in manifest["funnel"] if f["comparison"] == r.comparison
                         and f["outcome"] == r.outcome and f["measure"] == r.measure)
            out(f"![Contour-enhanced funnel plot ({name}); open circles: studies filled by trim-and-fill; "
                f"dashed line: Egger's limit estimate.]({figure_dir / entry['file']}){{#fig-funnel-{stem}}}\n")
            out(f"\n{md_table(small_study_display(ss.iloc[0], level))}\n\n"
                f": Small-study tests ({name}). {{#tbl-small-study-{stem}}}\n")
        elif len(ss):
            out(f"Small-study tests and funnel plot not run: {ss.iloc[0].reason}.\n")
        out(f"\n{md_table(alternatives_display(alternatives, r.comparison, r.outcome, level, r.measure))}\n\n"
            f": Alternative analyses ({name}). {{#tbl-alternatives-{stem}}}\n")
    return str(out)


def other_test_section(conclusions: pd.DataFrame, level: float) -> str:
    """Which pooled conclusions differ between the primary test and the other one (z, or Knapp-Hartung
    where the primary test is z): a sentence naming them and a table of every pooled estimate
    (``conclusions``: :func:`depmeta.review.robustness.other_test_conclusions`)."""
    if not len(conclusions):
        return ""
    c = conclusions
    main, other = TEST_NAME[c.test.iloc[0]], TEST_NAME[c.other_test.iloc[0]]
    differ = c[c.differs.fillna(False).astype(bool)]
    out = _Text()
    out(f"\n**{main} or {other}?** The pooled estimates use the {main} interval; "
        f"@tbl-sensitivity-test sets each beside the same estimator with the {other} interval. ", end="")
    if len(differ):
        names = "; ".join(f"{comparison_label(r.comparison)}, {r.outcome}"
                          + (" (hazard ratio)" if r.measure == "HR" else "")
                          + f" (k = {r.k}: {r.conclusion} no effect under {main}, "
                            f"{r.other_conclusion} no effect under {other})"
                          for r in differ.itertuples())
        out(f"The conclusion (the interval's side of no effect) differs for {len(differ)} of {len(c)}: {names}.\n")
    else:
        out(f"The conclusion (the interval's side of no effect) is the same for all {len(c)}.\n")
    out(f"\n{md_table(other_test_display(c, level))}\n\n"
        f": Conclusions under the {main} and the {other} interval (same τ² estimator); *above* or *below*: "
        f"the interval lies wholly on one side of no effect. {{#tbl-sensitivity-test}}\n")
    return str(out)


BENCHMARKS_CAPTION = ("Published pooled estimates and this pipeline's estimate for the same comparison and outcome "
                      "(Here: pairwise; Network here: the network meta-analysis of the same trials, in the "
                      "published measure, where run).")


def benchmarks_section(bench: pd.DataFrame) -> str:
    """The published benchmarks beside this review's estimates, with its heading; nothing at all
    when the protocol names no benchmarks (``bench``: as :func:`benchmarks_intro`)."""
    if not len(bench):
        return ""
    return ("# Published benchmarks\n\n" + benchmarks_intro(bench)
            + captioned(benchmarks_table(bench), BENCHMARKS_CAPTION, "tbl-benchmarks"))


def benchmarks_intro(bench: pd.DataFrame) -> str:
    """What the benchmarks table sets side by side (``bench``: benchmarks.csv, with the network
    columns of network_benchmarks.csv joined where the network ran)."""
    if not len(bench):
        return ""
    here = bench[bench.ours_k.notna()]
    return (f"@tbl-benchmarks sets {len(bench)} pooled results from published meta-analyses beside this "
            f"pipeline's estimate for the same comparison and outcome ({len(here)} have one here; "
            f"from the {bench.evidence.iloc[0]}). "
            "Differences are expected where this extraction holds fewer trials, where the published "
            "estimate is for a subgroup or uses another measure or outcome definition; the last column says which "
            "applies.\n")


def benchmarks_table(bench: pd.DataFrame) -> str:
    """Each published estimate beside this pipeline's pairwise (and network) estimate."""
    if not len(bench):
        return "*(no benchmarks configured)*\n"
    return md_table(pd.DataFrame({
        "Source": bench.citation.str.split(".").str[0].str.replace(r",.*", " et al.", regex=True)
                  + " " + bench.citation.str.extract(r"(\d{4})", expand=False).fillna(""),
        "Comparison, outcome (subgroup)": bench.comparison.map(comparison_label) + ", " + bench.outcome
                  + bench.subgroup.map(lambda s: "" if s in ("all", "") else f" ({s})"),
        "Published": bench.published_measure + NBSP + [
            fmt_est_ci(e, a, b) for e, a, b in zip(bench.published_estimate, bench.published_ci_low,
                                                   bench.published_ci_high)],
        "Here": [f"{m}{NBSP}{fmt_est_ci(e, a, b)} (k={k:.0f})" if k == k else "–"
                 for m, e, a, b, k in zip(bench.ours_measure.fillna(""), bench.ours_estimate, bench.ours_ci_low,
                                         bench.ours_ci_high, bench.ours_k)],
        **({"Network here": [(f"{fmt(e)} {fmt_ci(a, b)}" if m == {"g": "SMD"}.get(pm, pm) else f"{m} {fmt(e)}")
                             if e == e else "–"
                             for m, e, a, b, pm in zip(bench.ours_network_measure.fillna(""),
                                                       bench.ours_network_estimate, bench.ours_network_ci_low,
                                                       bench.ours_network_ci_high, bench.published_measure)]}
           if "ours_network_estimate" in bench else {}),
        "Note": bench.note,
    })) + "\n"


def metapsy_section(meta: dict, msum: pd.DataFrame, pct: str) -> str:
    """The Metapsy database: what it holds, the overall estimate, and the estimates by subgroup
    (``meta``: metapsy.json; ``msum``: its summary.csv)."""
    out = _Text()
    ok = msum[msum.status == "pooled"]
    overall = ok[ok.analysis == "overall"]
    if not len(overall):
        raise ValueError("the Metapsy summary has no pooled overall estimate; run the workflow again")
    overall = overall.iloc[0]
    out("# The Metapsy database\n")
    out(f"The Metapsy database `{meta['shorthand']}` ({meta['version']}; file `{PurePath(meta['file']).name}`, "
        f"SHA-256 `{meta['sha256'][:12]}…`) holds {meta['rows']} comparisons of psychotherapy with a control "
        f"condition from {meta['studies']} studies; {meta['usable']} are psychotherapy vs control and enter the "
        f"analyses ({meta['unusable']} set apart). Each comparison enters with the database's precomputed Hedges' g, "
        f"turned to this report's sign (negative = fewer symptoms with psychotherapy), pooled with the "
        f"{meta['method']} estimator. Overall: g = {fmt(overall.estimate)} {fmt_ci(overall.ci_low, overall.ci_high)} "
        f"from {int(overall.k)} comparisons, prediction interval {fmt_ci(overall.pi_low, overall.pi_high)}, "
        f"I² = {overall.i2:.0f}%. @tbl-metapsy gives the estimates by control type, by type of psychotherapy "
        f"and on the comparisons at low risk of bias (a risk-of-bias score of at least {meta['low_rob_min']} of 4); "
        "every comparison counts as its own effect size, so studies with several comparisons weigh more.\n")
    rows, seen = [], set()
    for _, r in msum.iterrows():
        test = (f"{r.q_between:.1f} ({r.q_between_df:.0f}); {fmt_p(r.q_between_pval)}"
                if pd.notna(r.get("q_between", float("nan"))) and r.analysis not in seen else "")
        first = r.analysis not in seen
        seen.add(r.analysis)
        rows.append({"Analysis": r.analysis if first else "", "Group": str(r.group).replace("_", " "),
                     "k (studies)": f"{int(r.k)} ({int(r.n_studies)})",
                     f"g [{pct} CI]": f"{fmt(r.estimate)} {fmt_ci(r.ci_low, r.ci_high)}" if r.status == "pooled"
                     else r.reason,
                     f"{pct} PI": fmt_ci(r.pi_low, r.pi_high) if r.status == "pooled" else "",
                     "I² %": f"{r.i2:.0f}" if r.status == "pooled" else "",
                     "Q between (df); p": test})
    out(md_table(pd.DataFrame(rows)))
    out("\n: Psychotherapy vs control in the Metapsy database, overall and by subgroup "
        "(random effects; Q between: test of subgroup differences). {#tbl-metapsy}\n")
    if meta["notes"]:
        out("\nNotes on the database: " + "; ".join(meta["notes"]) + ".\n")
    return str(out)


def claims_intro(claims: pd.DataFrame, pct: str) -> str:
    """How many claims were checked, the tally of each verdict with the claims that got it,
    and what each verdict means."""
    out = _Text()
    if not len(claims):
        return ""
    counts = claims.verdict.value_counts()
    n = {v: int(counts.get(v, 0)) for v in CLAIM_VERDICTS}
    out(f"{len(claims)} quantitative or testable claims were extracted from articles in circulation about "
        f"combining medication and psychotherapy. Against the pooled evidence here, {n['supported']} are "
        f"supported, {n['not shown']} are not shown and {n['contradicted']} are contradicted by it, and "
        f"{n['not testable']} cannot be tested with this evidence (@tbl-claims, @tbl-claims-untestable). "
        f"A claim that something differs is *supported* when the {pct} confidence interval excludes no "
        "difference on the claimed side, *contradicted* when it excludes no difference on the other side, and "
        "*not shown* when it includes no difference: an interval that merely reaches the claimed side does "
        "not support a claim. A claimed value or range is contradicted when the interval lies entirely "
        "outside it, and supported when the interval meets it and excludes no difference (for a range that "
        "includes no difference: when the interval lies within it); a claim of no difference with no margin "
        "is at best not shown. A claimed event rate is set against the prediction interval of the pooled "
        "rate, where trials' rates are expected to fall, where one was computed. Each claim is set only "
        "against the estimate of its own population, timepoint and scale: a claim about a subgroup against "
        "the trials of that subgroup, a claim about speed against the trials with a timepoint before their "
        "end of treatment (at the earliest), a claim about a named therapy or drug class against the arms of it, "
        "a claim about relapse against the pooled hazard ratio where the "
        "trials report hazard ratios, a claim of an absolute difference against the risk difference; "
        "otherwise it is not testable, with the reason.")
    n_adult = int(claims.evidence.str.startswith("adult trials").sum()) if "evidence" in claims else 0
    if n_adult:
        out(f" The primary population holds trials outside adults: {n_adult} of the {len(claims)} claims concern "
            "adults and are set against the pooled estimates of its adult trials; the others against the whole "
            "primary population.")
    else:
        out(" Every claim is set against the pooled estimates of the protocol's primary population.")
    for verdict in CLAIM_VERDICTS[:3]:
        ids = claims.id[claims.verdict == verdict].tolist()
        if ids:
            out(f"\n{_capital(verdict)}: {', '.join(ids)}.")
    return str(out)


def _pooled_cell(r) -> str:
    """The pooled estimate a claim was set against, with its prediction interval for an event rate,
    the number of trials and what the trials were restricted to beyond their population (arms of a
    named therapy, a subgroup, the earliest timepoint)."""
    text = f"{r.pooled_measure}{NBSP}{fmt_est_ci(r.pooled_estimate, r.pooled_ci_low, r.pooled_ci_high)}"
    pi_low, pi_high = r.get("pooled_pi_low", math.nan), r.get("pooled_pi_high", math.nan)
    if r.pooled_measure == "event rate" and not (pd.isna(pi_low) or pd.isna(pi_high)):
        text += f", PI{NBSP}{fmt_ci(pi_low, pi_high)}"
    within = str(r.get("evidence", "") or "").split("; ")[1:]
    return f"{text} (k={r.pooled_k:.0f}{''.join('; ' + w for w in within)})"


def claims_section(claims: pd.DataFrame, pct: str) -> str:
    """The claims set against the evidence, with the heading; nothing at all when the protocol
    names no claims (``claims``: results/tables/claims.csv)."""
    if not len(claims):
        return ""
    return ("# Claims in circulation\n\n" + claims_intro(claims, pct)
            + captioned(claims_table(claims) or "*(none)*",
                        "Testable claims, the pooled estimate beside each, and the verdict.", "tbl-claims")
            + captioned(claims_untestable_table(claims) or "*(none)*",
                        "Claims that cannot be tested with this evidence, and why.", "tbl-claims-untestable"))


def claims_table(claims: pd.DataFrame) -> str:
    """The testable claims with the pooled estimate beside each (and, for an event rate, the
    prediction interval) and the verdict with its reason."""
    if not len(claims):
        return ""
    tested = claims[claims.verdict != "not testable"]
    return md_table(pd.DataFrame({
        "ID": tested.id, "Claim": tested.claim, "Article": tested.article.str.split(":").str[0],
        "Pooled": [_pooled_cell(r) for _, r in tested.iterrows()],
        "Verdict": tested.verdict + ": " + tested.reason,
    })) + "\n"


def claims_untestable_table(claims: pd.DataFrame) -> str:
    """The claims that cannot be tested, why, and the articles they come from."""
    if not len(claims):
        return ""
    untested = claims[claims.verdict == "not testable"]
    arts = claims.drop_duplicates("article").article.tolist()
    return (md_table(pd.DataFrame({"ID": untested.id, "Claim": untested.claim,
                                   "Article": untested.article.str.split(":").str[0], "Why": untested.reason}))
            + "\n" + "\n\nArticles: " + "; ".join(map(md_escape, arts)) + ".\n")


def studies_table(studies: pd.DataFrame, arms: pd.DataFrame, contrasts: pd.DataFrame) -> str:
    """Characteristics of the included studies, with their arms (of the arm sheet, and of the
    contrasts sheet for trials entered only with reported effects or hazard ratios)."""
    arm_types = pd.concat([arms[["study_id", "arm_type"]]] + [
        contrasts[["study_id", f"arm{i}_type"]].rename(columns={f"arm{i}_type": "arm_type"}) for i in (1, 2)])
    arm_list = arm_types.groupby("study_id").arm_type.agg(
        lambda t: ", ".join(dict.fromkeys(t.str.replace("_", " "))))
    return md_table(pd.DataFrame({
        "Study": studies.label,
        "Country": studies.country,
        "Age group": studies.age_group.str.replace("_", " "),
        "Condition": studies.condition.str.replace("_", " "),
        "Design": studies.design.str.replace("_", " "),
        "Arms": studies.study_id.map(arm_list).fillna(""),
        "Risk of bias": studies.risk_of_bias.str.replace("_", " "),
        "Source": studies.doi.where(studies.doi != "", ("PMID " + studies.pmid).where(studies.pmid != "", "")),
    })) + "\n"


#: How the report names each risk-of-bias tool of the risk-of-bias sheet.
ROB_TOOL_TEXT = {
    "RoB1": "the Cochrane risk-of-bias tool (Handbook 5.1, chapter 8)",
    "RoB2": "the revised Cochrane risk-of-bias tool (RoB 2)",
    "Cuijpers4": "four criteria of the Cochrane tool as rated in Cuijpers' meta-analyses",
    "AHRQ": "an overall rating of an AHRQ-style review",
}


def risk_of_bias_section(rob: pd.DataFrame, studies: pd.DataFrame) -> str:
    """The published risk-of-bias judgements, one table per tool, with their sources."""
    out = _Text()
    rob_by_tool = rob_tables(rob, dict(zip(studies.study_id, studies.label)))
    out(f"Published risk-of-bias judgements were found for {rob.study_id.nunique()} of the {len(studies)} trials; "
        "they are shown as published, by the tool the reviewers used, and are not re-assessed here. "
        "The column *Risk of bias* of the study table holds an overall rating only where one was published.\n")
    if not rob_by_tool:
        out("*(no published judgements in the risk-of-bias sheet)*")
    where = rob.drop_duplicates("source").set_index("source").locator
    for tool, (tab, sources) in rob_by_tool.items():
        out(f"\n**Judgements by {_choice(ROB_TOOL_TEXT, tool, 'risk_of_bias.tool')}** ({len(tab)} trials).\n")
        out(md_table(tab))
        out("\nSources: " + "; ".join(
            (f"[{i + 1}] " if len(sources) > 1 else "") + f"{md_escape(where[s])} ({md_escape(s)})"
            for i, s in enumerate(sources)) + ".\n")
    return str(out)


def network_input_rows(net: dict | None) -> dict[str, set]:
    """The input rows of each outcome's network (``net``: network.json; none without a network)."""
    if not net:
        return {}
    return {outcome: {rid for rows in rec.get("input_rows", {}).values() for rid in rows}
            for outcome, rec in net.get("outcomes", {}).items()}


def exclusions_section(exclusions: pd.DataFrame, network_rows: dict | None = None) -> str:
    """Every valid row, contrast and comparison not in a pooled pairwise estimate, with the reason,
    and whether the network meta-analysis uses it (``network_rows``: :func:`network_input_rows`),
    so that nothing the network rests on is called unused; one line per study, comparison, reason
    and network use, with its outcomes (the rows of a trial's arms once)."""
    if not len(exclusions):
        return "*(none)*\n"
    network_rows = network_rows or {}

    def in_network(row) -> str:
        ids = set(str(row.row_ids).split(";")) if isinstance(row.row_ids, str) else set()
        return "yes" if ids & network_rows.get(row.outcome, set()) else "no"

    table = pd.DataFrame({
        "Study": exclusions.label.fillna(exclusions.study_id).to_numpy(),
        "Comparison": exclusions.comparison.fillna("").map(lambda c: comparison_label(c) if c else "–").to_numpy(),
        "Outcome": exclusions.outcome.to_numpy(),
        "Reason": exclusions.reason.to_numpy(),
    })
    if network_rows:
        table["In the network"] = [in_network(r) for r in exclusions.itertuples()]
    # one line per study, comparison and reason: its outcomes listed together, rows of the same
    # outcome (a trial's arms) once
    keys = [c for c in table.columns if c != "Outcome"]
    table = (table.groupby(keys, sort=False, dropna=False)["Outcome"]
             .agg(lambda o: ", ".join(dict.fromkeys(o))).reset_index())
    return md_table(table[["Study", "Comparison", "Outcome", "Reason", *keys[3:]]]) + "\n"


#: How the report names each prediction interval and test of the analysis options.
PREDICTION_INTERVAL_TEXT = {
    "metafor": "{quantile}, as metafor's predict() gives it under the {test} test",
    "z": "normal quantile", "t": "t with k − 1 df", "t_k2": "t with k − 2 df (Higgins et al. 2009)",
}
#: The quantile of the prediction interval ``metafor`` gives under each test.
METAFOR_PI_QUANTILE = {"z": "normal quantile", "t": "t with k − 1 df (the R package meta's default)",
                       "knha": "t with k − 1 df (the R package meta's default)",
                       "adhoc": "t with k − 1 df (the R package meta's default)"}
TEST_TEXT = {"z": "Wald-type z test and interval", "t": "t distribution with k − 1 df",
             "knha": "Knapp-Hartung (Hartung-Knapp-Sidik-Jonkman) adjustment, t with k − 1 df",
             "adhoc": "Knapp-Hartung adjustment truncated so the interval is never narrower than the z interval"}
#: Why each test is the pooled estimates' test, and what the sensitivity analyses set beside it.
TEST_REASON = {
    "z": "the normal interval is the usual one, but with few trials it contains the true mean less often "
         "than its level says (see the coverage simulation in the appendix); the Knapp-Hartung interval of the "
         "same estimator is shown beside it in the sensitivity analyses",
    "t": "the t quantile widens the interval for few trials without rescaling its standard error; the z interval "
         "of the same estimator is shown beside it in the sensitivity analyses",
    "knha": "with the few trials per comparison of this review the normal (z) interval contains the true mean "
            "less often than its level says, the Knapp-Hartung interval close to it (see the coverage simulation "
            "in the appendix); Cochrane's Statistical Methods Group recommends it and RevMan uses it since 2025. "
            "With two trials (1 df) its intervals are very wide, as they should be. The z interval of the same "
            "estimator is shown beside it in the sensitivity analyses, with the conclusions that differ",
    "adhoc": "Knapp-Hartung's rescaled standard error can narrow the interval below the z interval when the trials "
             "agree more than their standard errors lead one to expect; the truncation prevents that. The z "
             "interval of the same estimator is shown beside it in the sensitivity analyses",
}


def timeframes_text(frames: dict | None, outcomes=()) -> str:
    """The analyses' time frames in words (``analysis.timeframes`` as the run's options record
    them, for the run's ``outcomes``): one item per outcome, and what happens to the rows outside."""
    frames = frames or {}
    if not any(o in frames for o in outcomes):
        return "Per trial and outcome the latest timepoint is used, whatever its phase."
    items = "; ".join(frame_text(o, TimeFrame(**{**frames[o], "phases": tuple(frames[o]["phases"])}))
                      if o in frames else f"{o}: any phase, the latest week" for o in outcomes)
    return (f"**Time frames.** Each outcome is analysed at the phase and weeks from randomization the protocol "
            f"sets ({items}); a row with no week is its trial's end of treatment. Phases are never pooled "
            "together, and rows outside their outcome's frame (another phase, long-term follow-up, early weeks) "
            "are listed among the unused data with the reason.")


def methods_section(options: dict) -> str:
    """The methods in words, from the run's analysis options (the symptom scales and the software
    follow: :func:`symptom_scales_section`, :func:`software_paragraph`)."""
    out = _Text()
    pi_text = _choice(PREDICTION_INTERVAL_TEXT, options["prediction_interval"], "analysis.prediction_interval").format(
        quantile=_choice(METAFOR_PI_QUANTILE, options["test"], "analysis.test"),
        test=_choice(TEST_NAME, options["test"], "analysis.test"))
    test_text = _choice(TEST_TEXT, options["test"], "analysis.test")
    test_reason = _choice(TEST_REASON, options["test"], "analysis.test")
    double_zero = "are excluded from ratio measures" if options["drop00"] else "are kept"
    out(f"""
**Effect sizes.** Binary outcomes (remission, response, relapse, dropout) as {options['binary_measure']}
(log scale for pooling); symptom scores as Hedges' g with the exact small-sample correction and
the large-sample variance (metafor's `escalc(measure="SMD")`), negative g meaning fewer symptoms in
the first-named strategy; reported g with its standard error used as given. Counts reported only
as percentages were converted to counts (rounded half up) and are marked † in the forest plots.
Published hazard ratios of relapse are pooled on the log scale by generic inverse variance
(metafor's `escalc(measure="GEN")`) as a relapse measure of their own (HR, each oriented to the
comparison), beside the count-based analysis; no count is read off a survival curve. Binary
outcomes are also pooled as risk differences, against which claims of absolute differences are set.

**Zero cells.** {options['add']} added to every cell of a study with a zero cell (`to = "{options['to']}"`);
studies with no events (or only events) in both arms {double_zero}.

**Contrasts.** Formed within each trial. Arms of the same strategy in one trial (e.g. two
psychotherapies, or placebo and usual care as controls) are combined into one arm, so no arm is
counted twice in a meta-analysis; per trial the preferred analysis population
({', '.join(options['population_preference'])}) is used.
{timeframes_text(options.get('timeframes'), options['outcomes'])}

**Pooling.** Random-effects model with the {options['method']} estimator of τ²; {test_text}
({test_reason}); prediction interval: {pi_text}; τ² confidence interval by the Q-profile method; I² as in metafor
(τ² relative to the typical within-study variance). Estimates are pooled when at least
{options['min_studies']} studies contribute. Event rates are pooled on the logit scale with the same
estimator and back-transformed. The statistics were checked against R's metafor to six significant digits.
""")
    return str(out)


def populations_text(options: dict, studies: pd.DataFrame) -> str:
    """The methods' paragraph on the protocol's populations (``options``: results.json's analysis
    options, ``populations``), with the number of trials in each."""
    pops = options.get("populations") or {}
    primary = pops.get("primary") or sorted(set(studies.age_group))
    n = int(studies.age_group.isin(primary).sum())
    text = (f"\n**Populations.** The primary population is {groups_text(primary)} (`analysis.populations`, "
            f"{studies_text_count(n)}): every pairwise, event-rate and network analysis above and the claims "
            "and published meta-analyses set beside them are of its trials")
    young = int((studies.age_group.isin(primary) & ~studies.age_group.isin(ADULT_GROUPS)).sum())
    text += (f"; it holds {studies_text_count(young)} outside adults and older adults, so claims about adults and "
             "the published meta-analyses are set against its adult trials alone." if young else ".")
    strata = pops.get("strata") or {}
    for name, groups in strata.items():
        m = int(studies.age_group.isin(groups).sum())
        text += (f" The {studies_text_count(m)} in {groups_text(groups)} form{'s' if m == 1 else ''} the stratum "
                 f"*{md_escape(name)}*, "
                 "pooled on its own in the same way (its own section) and listed among the unused data of the "
                 "primary analyses with that reason.")
    others = sorted(set(studies.age_group) - set(primary) - {g for gs in strata.values() for g in gs})
    if others:
        m = int(studies.age_group.isin(others).sum())
        text += (f" The {studies_text_count(m)} in {groups_text(others)} are in no population of the protocol and "
                 "are listed among the unused data.")
    return text + "\n"


def strata_section(summary_strata: pd.DataFrame, studies: pd.DataFrame, options: dict, level: float) -> str:
    """One section per stratum of the protocol (``analysis.populations.strata``, e.g. adolescents):
    its trials and their pooled estimates (rule analyse's ``summary_strata.csv``); empty without strata."""
    out = _Text()
    pops = options.get("populations") or {}
    primary = groups_text(pops.get("primary") or [])
    for name, groups in (pops.get("strata") or {}).items():
        title = name.replace("_", " ")
        mine = studies[studies.age_group.isin(groups)]
        out(f"\n# {md_escape(title[0].upper() + title[1:])}\n")
        if not len(mine):
            out(f"The protocol analyses trials in {groups_text(groups)} as a stratum of their own; the study sheet "
                "has none.\n")
            continue
        rows = summary_strata[summary_strata.stratum == name] if len(summary_strata) else summary_strata
        pooled = rows[rows.status == "pooled"] if len(rows) else rows
        out(f"The {studies_text_count(len(mine))} in {groups_text(groups)} ({md_escape(', '.join(mine.label))}) "
            f"{'is' if len(mine) == 1 else 'are'} a stratum of the protocol's own (`analysis.populations`): "
            f"{'it is' if len(mine) == 1 else 'they are'} in none of the estimates above, which are of "
            f"{primary}, and ")
        label = f"tbl-stratum-{name.replace('_', '-')}"
        if len(pooled):
            out(f"@{label} pools {'it' if len(mine) == 1 else 'them'} on {'its' if len(mine) == 1 else 'their'} "
                "own with the same estimator, test and time frames. These estimates enter no claim, benchmark or "
                "certainty rating.\n")
            out(f"\n{md_table(summary_table(pooled, level))}\n\n"
                f": Pooled estimates from the trials in {groups_text(groups)} only. {{#{label}}}\n")
        else:
            out("no comparison of them has enough trials to pool (`min_studies`).\n")
    return str(out)


def followup_section(summary_followup: pd.DataFrame, options: dict, level: float) -> str:
    """The long-term follow-up the protocol analyses on its own (``analysis.followup``): its frames in
    words and its pooled estimates (rule analyse's ``summary_followup.csv``); empty without follow-up."""
    frames = {o: f for o, f in (options.get("followup") or {}).items() if o in (options.get("outcomes") or [])}
    if not frames:
        return ""
    items = "; ".join(frame_text(o, TimeFrame(**{**f, "phases": tuple(f["phases"])})) for o, f in frames.items())
    out = _Text()
    out("\n# Long-term follow-up\n")
    out(f"The protocol analyses long-term follow-up on its own (`analysis.followup`: {items}), through the same "
        "exclusion step, contrasts and pooling as the analyses above, which are of the end of acute treatment "
        "(or of relapse prevention). These estimates enter no claim, benchmark or certainty rating.")
    pooled = summary_followup[summary_followup.status == "pooled"] if len(summary_followup) else summary_followup
    if not len(pooled):
        out(" No comparison has enough trials in its follow-up window to pool (`min_studies`).\n")
        return str(out)
    table = summary_table(pooled, level)
    table.insert(2, "Weeks", [r.followup_weeks if isinstance(r.followup_weeks, str) else "" for r in
                              pooled.itertuples()])
    out(" @tbl-followup lists them.\n")
    out(f"\n{md_table(table)}\n\n: Pooled estimates at long-term follow-up (weeks from randomization). "
        "{#tbl-followup}\n")
    return str(out)


def software_paragraph(software: dict, renderer: str) -> str:
    """The software that ran the analyses and rendered the report, the methods' last paragraph."""
    versions = "; ".join(f"{k} {v}" for k, v in software.items())
    return f"\n**Software.** {versions}. Report rendered by {renderer}.\n"


def symptom_scales_section(options: dict, per_study: pd.DataFrame, studies: pd.DataFrame) -> str:
    """How a trial's symptom scales and change scores were chosen (``options``: results.json's
    analysis options), and each pooled SMD that mixes change and endpoint scores, with its trials."""
    if "symptoms" not in options["outcomes"]:
        return ""
    priority = md_escape(", ".join(options["scale_priority"]))
    if options["scale_rule"] == "average":
        rule = (f"every scale reported by the same arms, their SMDs averaged within the trial assuming a correlation "
                f"of {options['scale_rho']:g} between them (metafor's `aggregate()` with compound symmetry); the "
                "network meta-analysis, whose SMDs take one standardiser per trial, uses one scale per trial, chosen "
                f"as under the priority rule: the one most of its arms report, then the first in the order {priority}")
    else:
        rule = f"one scale: the one most of its arms report, then the first in the order {priority}"
    change = ("change from baseline is not used, its rows are listed as unused data"
              if options["change_scores"] == "never" else
              "a trial whose arms share no endpoint scale enters with its SMD of change from baseline")
    out = _Text()
    out(f"\n**Symptom scales.** Where an arm reports several symptom scales at one timepoint and population, a "
        f"trial's contrasts use {rule}; a scale not in that order ranks after those in it. The arms of a trial are "
        "compared on the same scale, and a trial whose arms share none is listed as unused. Endpoint scores are "
        f"preferred and {change} (SMDs of change scores and of endpoint scores divide by different standard "
        "deviations: Cochrane Handbook, section 10.5.2).\n")
    sym = per_study.iloc[:0]
    if len(per_study) and "score_type" in per_study:
        sym = per_study[(per_study.outcome == "symptoms") & (per_study.score_type == "change")]
    labels = dict(zip(studies.study_id, studies.label))
    for (comp, _), rows in sym.groupby(["comparison", "outcome"], sort=False):
        names = ", ".join(labels.get(s, s) for s in rows.study_id)
        verb = "enters" if len(rows) == 1 else "enter"
        out(f"\n**Change and endpoint scores pooled together.** {_capital(comparison_label(comp))}, symptoms: "
            f"{studies_text_count(len(rows))} ({md_escape(names)}) {verb} with the SMD of change from baseline "
            "beside endpoint SMDs (analysis.change_scores.use when_no_endpoint). The two SMDs divide by different "
            "standard deviations, of the change and of the score, so the pooled SMD mixes both.\n")
    return str(out)


def studies_text_count(k: int) -> str:
    """'1 trial', '3 trials'."""
    return f"{k} trial" if k == 1 else f"{k} trials"


def coverage_intro(coverage: pd.DataFrame) -> str:
    """What the coverage simulation did, and the range of coverage of the z and Knapp-Hartung
    intervals where τ² > 0."""
    out = _Text()
    cov0 = coverage.iloc[0]
    out(f"""
How often do the intervals of this report contain what they claim to contain? In
{int(cov0.replications):,} simulated meta-analyses per row, each of k studies with two arms of
20 to 100 patients (sampling variance 2/n), true effects drawn around a common mean with
between-study variance τ² and τ² estimated by {cov0.method}, @tbl-coverage counts the
{100 * cov0.level:g}% confidence intervals that contain the true mean and the prediction
intervals that contain the true effect of a new study. The Monte-Carlo standard error of a
coverage near {100 * cov0.level:g}% is {100 * cov0.mc_se:.1f} percentage points.
""")
    het = coverage[coverage.tau2 > 0]
    if len(het):
        small = het[het.k == het.k.min()]
        out(f"With τ² > 0 the z interval covered {100 * het.ci_z.min():.1f}% to {100 * het.ci_z.max():.1f}% "
            f"({100 * small.ci_z.min():.1f}% to {100 * small.ci_z.max():.1f}% at k = {small.k.iloc[0]}), "
            f"the Knapp-Hartung interval {100 * het.ci_knha.min():.1f}% to {100 * het.ci_knha.max():.1f}%.\n")
    return str(out)


def coverage_table(coverage: pd.DataFrame) -> str:
    """Simulated coverage (%) of the confidence and prediction intervals, per k and τ²."""
    def pct_cell(x):
        return "–" if pd.isna(x) else f"{100 * x:.1f}"

    return md_table(pd.DataFrame({
        "k": coverage.k, "τ²": coverage.tau2.map(lambda t: f"{t:g}"),
        "CI z": coverage.ci_z.map(pct_cell), "CI Knapp-Hartung": coverage.ci_knha.map(pct_cell),
        "CI ad hoc": coverage.ci_adhoc.map(pct_cell), "PI z": coverage.pi_z.map(pct_cell),
        "PI t (k − 2)": coverage.pi_t_k2.map(pct_cell),
    })) + "\n"
