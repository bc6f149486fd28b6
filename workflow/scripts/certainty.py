"""Certainty of the evidence (config ``certainty``): GRADE per pooled pairwise comparison × outcome,
CINeMA per network estimate, absolute effects at the assumed comparator risk, and the
summary-of-findings rows; writes results/certainty/."""

import sys
from pathlib import Path

sys.path[:0] = [str(Path(snakemake.scriptdir)), str(Path(snakemake.scriptdir).parents[1] / "src")]

import json  # noqa: E402

import pandas as pd  # noqa: E402

from depmeta.review.certainty import (  # noqa: E402
    CertaintyOptions,
    assumed_risks,
    cinema_network,
    grade_pairwise,
    sof_rows,
    study_rob_levels,
)
from depmeta.review.robustness import robustness_findings  # noqa: E402
from depmeta.review.vocabulary import COMPARISONS, OUTCOME_DIRECTION, STRATEGY  # noqa: E402
from depmeta.stats.bias import regtest  # noqa: E402
from pipeline_io import read_sheet, read_table, read_validated, setup_logging, write_csv, write_json  # noqa: E402

log = setup_logging(snakemake.log[0])
schema_dir = Path(snakemake.scriptdir).parent / "schemas"
try:
    opts = CertaintyOptions.from_config(snakemake.params.certainty)
except (ValueError, KeyError, TypeError) as err:
    raise SystemExit(f"config certainty: {err}") from err
analysis = snakemake.params.analysis
log.info("certainty options: %s", opts)

studies = read_validated(snakemake.input, ("studies",), schema_dir)["studies"]
rob = read_sheet(snakemake.input.risk_of_bias)
summary, per_study = read_table(snakemake.input.summary), read_table(snakemake.input.per_study)
arm_rates = read_table(snakemake.input.event_rates_arms)
rob_levels = study_rob_levels(studies, rob)
log.info("study risk of bias: %s", rob_levels.level.value_counts().to_dict())

unknown = sorted(set(per_study.study_id) - set(studies.study_id)) if len(per_study) else []
if unknown:
    raise SystemExit(f"{snakemake.input.per_study}: study ids not in {snakemake.input.studies}: {unknown}")


def small_study_test(yi, vi):
    """Egger's test as metafor's regtest() (random-effects meta-regression on the standard error)."""
    return float(regtest(yi, vi, method=analysis["method"]).pval)


network = {}
if "estimates" in snakemake.input.keys():
    network = {k: read_table(snakemake.input[k]) for k in ("estimates", "summary_network", "contributions")}
    net_json = json.loads(Path(snakemake.input.network_json).read_text())
    input_rows = {o: v.get("input_rows", {}) for o, v in net_json.get("outcomes", {}).items()}
    log.info("network estimates: %d rows", len(network["estimates"]))
    contrib = network["contributions"]
    unknown = sorted(set(contrib.study_id) - set(studies.study_id)) if len(contrib) else []
    if unknown:
        raise SystemExit(f"{snakemake.input.contributions}: study ids not in {snakemake.input.studies}: {unknown}")

pairs = []
for comp in analysis["comparisons"]:
    for outcome in analysis["outcomes"]:
        pairs.append((comp, outcome, COMPARISONS[comp][1]))
risks = assumed_risks(per_study, arm_rates, opts, pairs)
for (comp, outcome), (r, src) in sorted(risks.items()):
    log.info("assumed risk %s %s: %.3f (%s)", comp, outcome, r, src)

# What the sensitivity rule found (low risk of bias only, influential trials, Egger's test and
# trim-and-fill), carried into the GRADE domains (depmeta.review.robustness).
robustness = robustness_findings(*(read_table(snakemake.input[k])
                                   for k in ("influence", "leave1out", "alternatives", "small_study")))
log.info("sensitivity findings for %d pooled analyses", len(robustness))
try:
    grade, results = grade_pairwise(summary, per_study, rob_levels, studies, opts, risks, OUTCOME_DIRECTION,
                                    small_study_test, robustness)
except ValueError as err:  # an override or judgement in the config that does not fit
    raise SystemExit(f"config certainty: {err}") from err
small = {}
if len(summary):
    for r in summary[(summary.status == "pooled") & (summary.k >= opts.pb_min_studies)].itertuples():
        ps = per_study[(per_study.comparison == r.comparison) & (per_study.outcome == r.outcome)
                       & per_study.weight.notna()]
        # the sensitivity rule's Egger test; computed here only where that rule did not run it
        # (its sensitivity.min_k_small_study above certainty.publication_bias.min_studies)
        found = robustness.get((r.comparison, r.outcome, r.measure))
        p = found.small_study_p if found is not None and found.small_study_p is not None else \
            small_study_test(ps.yi.to_numpy(float), ps.vi.to_numpy(float))
        small[(r.comparison, r.outcome)] = (int(r.k), p)
cinema, net_results = pd.DataFrame(), pd.DataFrame()
if network and len(network["estimates"]):
    est = network["estimates"]
    # the network's strategy nodes name the comparisons; keep those the analysis asks for
    est = est[est.comparison.fillna("").isin(analysis["comparisons"])]
    try:
        cinema, net_results = cinema_network(est, network["summary_network"], network["contributions"], rob_levels,
                                             studies, per_study, opts, risks, OUTCOME_DIRECTION, small,
                                             input_rows)
    except ValueError as err:
        raise SystemExit(f"certainty (network estimates): {err}") from err
    log.info("CINeMA: %d network estimates", len(net_results))

results_all = pd.concat([results, net_results], ignore_index=True)
judgements = pd.concat([grade, cinema], ignore_index=True)
labels = {c: (a if a != "control" else "control", b) for c, (a, b) in COMPARISONS.items()}
names = {c: (a.replace("combined", "combined treatment"), b.replace("combined", "combined treatment"))
         for c, (a, b) in labels.items()}
sof = sof_rows(results_all, judgements, opts, analysis["outcomes"], names)
if len(sof):
    sof = sof.assign(footnotes=sof.footnotes.map(json.dumps))
ABSOLUTE_COLUMNS = ("evidence", "comparison", "outcome", "measure", "estimate_display", "ci_low_display",
                    "ci_high_display", "acr", "acr_source", "absolute_outcome", "risk_comparator", "risk_intervention",
                    "risk_intervention_low", "risk_intervention_high", "difference", "difference_low",
                    "difference_high", "nnt", "absolute_note", "row_ids")
absolute = results_all[[c for c in ABSOLUTE_COLUMNS
                        if c in results_all.columns]] if len(results_all) else pd.DataFrame()

out = Path(snakemake.output.grade).parent
out.mkdir(parents=True, exist_ok=True)
write_csv(snakemake.output.grade, grade)
write_csv(snakemake.output.cinema, cinema)
write_csv(snakemake.output.absolute, absolute)
write_csv(snakemake.output.sof, sof)
write_json(snakemake.output.json, {
    "options": {k: (list(v) if isinstance(v, tuple) else v) for k, v in opts.__dict__.items()},
    "study_risk_of_bias": rob_levels.to_dict(orient="records"),
    "assumed_risks": [{"comparison": c, "outcome": o, "risk": r, "source": s} for (c, o), (r, s) in risks.items()],
    "small_study_test": "depmeta.stats.bias.regtest (model rma, predictor sei)",
    "results": results_all.to_dict(orient="records"),
    "judgements": judgements.to_dict(orient="records"),
    "strategies": sorted(set(STRATEGY.values())),
})
for name in ("grade", "cinema", "absolute", "sof"):
    log.info("wrote %s", snakemake.output[name])
