"""Network meta-analysis per outcome (config ``network``): league estimates with direct and
back-calculated indirect evidence, P-score ranking, design-by-treatment Q, study contributions,
a network graph per outcome, and the rows not in any network with the reason. (The published
benchmarks are set beside the network estimates of the adult trials by rule ``evidence``.)"""

import sys
from pathlib import Path

sys.path[:0] = [str(Path(snakemake.scriptdir)), str(Path(snakemake.scriptdir).parents[1] / "src")]

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from depmeta.report.network_figure import network_graph  # noqa: E402
from depmeta.review.analysis import adult_study_ids, analysable_arms, display_scale  # noqa: E402
from depmeta.review.nodes import node_order, outcome_network  # noqa: E402
from depmeta.review.vocabulary import BINARY_OUTCOMES, COMPARISONS, OUTCOME_DIRECTION  # noqa: E402
from depmeta.stats.network import fit_network_parts  # noqa: E402
from pipeline_io import figure_defaults, read_validated, save_png, setup_logging, write_csv, write_json  # noqa: E402

log = setup_logging(snakemake.log[0])
figure_defaults()
cfg, analysis = snakemake.params.network, snakemake.params.analysis
schema_dir = Path(snakemake.scriptdir).parent / "schemas"
sheets = read_validated(snakemake.input, ("arms", "contrasts", "studies", "excluded_arms"), schema_dir)
# the arms set apart by the excluded-arms sheet enter no network (as no pairwise analysis)
arms, set_apart = analysable_arms(sheets)
figdir = Path(snakemake.output.figures)
figdir.mkdir(parents=True, exist_ok=True)
level = analysis.get("level", 0.95)
comparison_of = {pair: name for name, pair in COMPARISONS.items()}
log.info("network options: %s", cfg)
CONTRIBUTION_NOTE = {
    "streams": "Papakonstantinou et al. 2018 streams of the aggregate hat matrix (shortest path first), "
               "split to studies by their weight in each direct comparison",
    "proportion": "study-level proportion contributions from the hat matrix (Chaimani et al. 2013)",
}


estimates, summary, ranking, contributions, exclusions, figures, outcomes_json = [], [], [], [], [], {}, {}
for outcome in cfg["outcomes"]:
    measure = analysis.get("binary_measure", "RR") if outcome in BINARY_OUTCOMES else "SMD"
    contrasts, excl = outcome_network(
        arms, outcome, measure, nodes=cfg["nodes"], population_preference=analysis["population_preference"],
        timepoint=analysis["timepoint"], reported=sheets["contrasts"], add=analysis["zero_cell"]["add"])
    exclusions.append(set_apart.loc[set_apart.outcome == outcome, ["study_id", "row_ids", "reason"]]
                      .assign(outcome=outcome))
    exclusions.append(excl.assign(outcome=outcome))
    nodes = node_order(cfg["nodes"], [t for c in contrasts for t in c.arms])
    base = {"outcome": outcome, "measure": measure, "method": cfg["method"], "n_studies": len(contrasts),
            "n_treatments": len(nodes)}
    if len(contrasts) < analysis["min_studies"] or len(nodes) < 2:
        why = (f"not analysed: {len(contrasts)} usable {'study' if len(contrasts) == 1 else 'studies'} "
               f"and {len(nodes)} nodes (min_studies is {analysis['min_studies']}; a network needs two nodes)")
        summary.append({**base, "components": np.nan, "note": why})
        exclusions.append(pd.DataFrame({"study_id": [c.study for c in contrasts],
                                        "row_ids": [list(c.row_ids) for c in contrasts],
                                        "reason": why, "outcome": outcome}))
        log.info("%s: %s", outcome, why)
        continue
    reference = cfg["reference"] if cfg["reference"] in nodes else next(
        (t for t in ("control", "placebo") if t in nodes), nodes[0])
    fits, note = fit_network_parts(contrasts, method=cfg["method"], level=level, treatments=nodes,
                                   reference=reference, larger_is_better=OUTCOME_DIRECTION[outcome] > 0,
                                   contribution=cfg["contribution"])
    if note:
        log.warning("%s: %s", outcome, note)
    main = fits[0]
    summary.append({**base, "n_designs": sum(len(f.designs) for f in fits), "tau2": main.tau2, "tau": main.tau,
                    **{f"q_{q}{s}": getattr(main, f"q_{q}{s}") for q in ("total", "within", "between")
                       for s in ("", "_df", "_pval")},
                    "components": len(fits), "reference": reference,
                    "note": note + (" Heterogeneity and Q are those of the largest part." if note else "")})
    for part, fit in enumerate(fits, 1):
        pf = fit.pairs_frame()
        pf.insert(0, "outcome", outcome)
        pf.insert(1, "measure", measure)
        pf.insert(4, "comparison", [comparison_of.get((a, b), "") for a, b in zip(pf.treatment1, pf.treatment2)])
        for f in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high", "direct_estimate", "direct_ci_low",
                  "direct_ci_high", "indirect_estimate", "indirect_ci_low", "indirect_ci_high"):
            pf[f"{f}_display"] = display_scale(measure, pf[f])
        pf["n_studies"] = pf.direct_k
        pf["direct_k"] = pf.direct_k.where(pf.direct_k > 0)
        pf["part"] = part
        estimates.append(pf)
        rk = fit.ranking_frame()
        ranking.append(rk.assign(outcome=outcome, part=part))
        contributions.append(fit.contributions_frame().assign(outcome=outcome))
        # network graph: node size = patients randomised to the node, edge width = trials
        patients = [sum(c.n[c.arms.index(t)] for c in contrasts if t in c.arms) for t in fit.treatments]
        fig = network_graph(fit.treatments, patients, np.where(fit.direct_k > 0, fit.direct_k, 0))
        name = f"network_{outcome}.png" if part == 1 else f"network_{outcome}_part{part}.png"
        save_png(fig, figdir / name)
        figures.setdefault(outcome, []).append(name)
    outcomes_json[outcome] = {
        "measure": measure, "reference": reference, "note": note,
        "parts": [{"treatments": list(f.treatments), "studies": list(f.studies), "tau2": f.tau2,
                   "designs": [list(d) for d in f.designs], "d": list(f.d), "cov_d": f.cov_d.tolist()}
                  for f in fits],
        "input_rows": {c.study: list(c.row_ids) for c in contrasts},
    }
    log.info("%s: %d studies, %d nodes, tau2 %.4g, Q %.3f on %d df%s", outcome, len(contrasts), len(nodes),
             main.tau2, main.q_total, main.q_total_df, f"; {note}" if note else "")

# The same networks on the trials in adults and older adults only: the published network
# meta-analyses (benchmarks) are of adults, as the pairwise benchmarks' comparison.
adult_ids = adult_study_ids(sheets["studies"])
adult_arms = arms[arms.study_id.isin(adult_ids)]
adult_estimates = []
for outcome in cfg["outcomes"]:
    measure = analysis.get("binary_measure", "RR") if outcome in BINARY_OUTCOMES else "SMD"
    contrasts, _ = outcome_network(
        adult_arms, outcome, measure, nodes=cfg["nodes"], population_preference=analysis["population_preference"],
        timepoint=analysis["timepoint"], reported=sheets["contrasts"], add=analysis["zero_cell"]["add"])
    nodes = node_order(cfg["nodes"], [t for c in contrasts for t in c.arms])
    if len(contrasts) < analysis["min_studies"] or len(nodes) < 2:
        continue
    reference = cfg["reference"] if cfg["reference"] in nodes else nodes[0]
    fits, _ = fit_network_parts(contrasts, method=cfg["method"], level=level, treatments=nodes, reference=reference,
                                larger_is_better=OUTCOME_DIRECTION[outcome] > 0)
    for part, fit in enumerate(fits, 1):
        pf = fit.pairs_frame()
        pf["outcome"], pf["measure"], pf["part"], pf["n_network_studies"] = outcome, measure, part, len(fit.studies)
        pf["comparison"] = [comparison_of.get((a, b), "") for a, b in zip(pf.treatment1, pf.treatment2)]
        for f in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high"):
            pf[f"{f}_display"] = display_scale(measure, pf[f])
        adult_estimates.append(pf)
log.info("adult trials: %d of %d", len(adult_ids), len(sheets["studies"]))

EST_COLS = ["outcome", "measure", "treatment1", "treatment2", "comparison", "estimate", "se", "ci_low", "ci_high",
            "pi_low", "pi_high", "estimate_display", "ci_low_display", "ci_high_display", "pi_low_display",
            "pi_high_display", "direct_estimate", "direct_se", "direct_k", "indirect_estimate", "indirect_se",
            "split_z", "split_pval", "n_studies", "n_patients", "row_ids", "part", "direct_ci_low", "direct_ci_high",
            "indirect_ci_low", "indirect_ci_high", "direct_estimate_display", "direct_ci_low_display",
            "direct_ci_high_display", "indirect_estimate_display", "indirect_ci_low_display",
            "indirect_ci_high_display"]
SUM_COLS = ["outcome", "measure", "method", "tau2", "tau", "n_studies", "n_treatments", "n_designs", "q_total",
            "q_total_df", "q_total_pval", "q_within", "q_within_df", "q_within_pval", "q_between", "q_between_df",
            "q_between_pval", "components", "reference", "note"]
tables = {
    "estimates": pd.concat(estimates, ignore_index=True)[EST_COLS] if estimates else pd.DataFrame(columns=EST_COLS),
    "summary": pd.DataFrame(summary).reindex(columns=SUM_COLS),
    "ranking": (
        pd.concat(ranking, ignore_index=True)
        if ranking
        else pd.DataFrame(columns=["treatment", "pscore", "rank", "outcome", "part"])
    )[["outcome", "treatment", "pscore", "rank", "part"]],
    "contributions": (
        pd.concat(contributions, ignore_index=True)
        if contributions
        else pd.DataFrame(columns=["outcome", "treatment1", "treatment2", "study_id", "contribution"])
    )[["outcome", "treatment1", "treatment2", "study_id", "contribution"]],
    "estimates_adults": pd.concat(adult_estimates, ignore_index=True)[
        [
            "outcome",
            "measure",
            "treatment1",
            "treatment2",
            "comparison",
            "estimate",
            "se",
            "ci_low",
            "ci_high",
            "estimate_display",
            "ci_low_display",
            "ci_high_display",
            "pi_low_display",
            "pi_high_display",
            "direct_k",
            "n_network_studies",
            "row_ids",
            "part",
        ]
    ]
    if adult_estimates
    else pd.DataFrame(),
    "exclusions": pd.concat(exclusions, ignore_index=True)[["outcome", "study_id", "row_ids", "reason"]]
    if exclusions
    else pd.DataFrame(columns=["outcome", "study_id", "row_ids", "reason"]),
}
for key, df in tables.items():
    write_csv(snakemake.output[key], df)
    log.info("wrote %s (%d rows)", snakemake.output[key], len(df))
write_json(snakemake.output.json, {
    "options": {**cfg, "level": level, "population_preference": analysis["population_preference"],
                "timepoint": analysis["timepoint"], "binary_measure": analysis.get("binary_measure", "RR"),
                "zero_cell_add": analysis["zero_cell"]["add"],
                "prediction_interval": "metafor predict(): estimate ± z·sqrt(se² + tau²)",
                "contributions": CONTRIBUTION_NOTE[cfg["contribution"]]},
    "outcomes": outcomes_json, "figures": figures,
    **{k: tables[k].to_dict(orient="records") for k in ("summary", "ranking")},
    "estimates": tables["estimates"].to_dict(orient="records"),
    "contributions": tables["contributions"].to_dict(orient="records"),
})
