"""Certainty of the evidence (config ``certainty``): GRADE per pooled pairwise comparison × outcome,
CINeMA per network estimate, absolute effects at the assumed comparator risk, and the
summary-of-findings rows; writes results/certainty/."""

import sys
from pathlib import Path

sys.path[:0] = [str(Path(snakemake.scriptdir)), str(Path(snakemake.scriptdir).parents[1] / "src")]

import json  # noqa: E402

from depmeta.review.certainty import CertaintyOptions, rate_certainty  # noqa: E402
from depmeta.review.comparisons import arm_types, comparison_set  # noqa: E402
from depmeta.review.robustness import robustness_findings  # noqa: E402
from depmeta.review.vocabulary import STRATEGY  # noqa: E402
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


def small_study_test(yi, vi):
    """Egger's test as metafor's regtest() (random-effects meta-regression on the standard error)."""
    return float(regtest(yi, vi, method=analysis["method"]).pval)


network, input_rows = None, None
if "estimates" in snakemake.input.keys():
    network = {k: read_table(snakemake.input[k]) for k in ("estimates", "summary_network", "contributions")}
    net_json = json.loads(Path(snakemake.input.network_json).read_text())
    input_rows = {o: v.get("input_rows", {}) for o, v in net_json.get("outcomes", {}).items()}
    log.info("network estimates: %d rows", len(network["estimates"]))
# What the sensitivity rule found (low risk of bias only, influential trials, Egger's test and
# trim-and-fill), carried into the GRADE domains (depmeta.review.robustness).
robustness = robustness_findings(*(read_table(snakemake.input[k])
                                   for k in ("influence", "leave1out", "alternatives", "small_study")))
log.info("sensitivity findings for %d pooled analyses", len(robustness))
try:
    rated = rate_certainty(
        read_validated(snakemake.input, ("studies",), schema_dir)["studies"], read_sheet(snakemake.input.risk_of_bias),
        read_table(snakemake.input.summary), read_table(snakemake.input.per_study),
        read_table(snakemake.input.event_rates_arms), opts, comparison_set(analysis["comparisons"]),
        analysis["outcomes"], small_study_test, robustness, network, input_rows,
        arm_types(*read_validated(snakemake.input, ("arms", "contrasts"), schema_dir).values()))
except ValueError as err:  # a study id the study sheet lacks, or a reviewer's judgement that does not fit
    raise SystemExit(f"certainty: {err}") from err
log.info("study risk of bias: %s", rated.rob_levels.level.value_counts().to_dict())
for (comp, outcome), (r, src) in sorted(rated.risks.items()):
    log.info("assumed risk %s %s: %.3f (%s)", comp, outcome, r, src)
log.info("GRADE: %d pairwise estimates; CINeMA: %d network estimates", (rated.results.evidence == "pairwise").sum()
         if len(rated.results) else 0, (rated.results.evidence == "network").sum() if len(rated.results) else 0)

sof = rated.sof.assign(footnotes=rated.sof.footnotes.map(json.dumps)) if len(rated.sof) else rated.sof
Path(snakemake.output.grade).parent.mkdir(parents=True, exist_ok=True)
write_csv(snakemake.output.grade, rated.grade)
write_csv(snakemake.output.cinema, rated.cinema)
write_csv(snakemake.output.absolute, rated.absolute)
write_csv(snakemake.output.sof, sof)
write_json(snakemake.output.json, {
    "options": {k: (list(v) if isinstance(v, tuple) else v) for k, v in opts.__dict__.items()},
    "study_risk_of_bias": rated.rob_levels.to_dict(orient="records"),
    "assumed_risks": [{"comparison": c, "outcome": o, "risk": r, "source": s}
                      for (c, o), (r, s) in rated.risks.items()],
    "small_study_test": "depmeta.stats.bias.regtest (model rma, predictor sei)",
    "results": rated.results.to_dict(orient="records"),
    "judgements": rated.judgements.to_dict(orient="records"),
    "strategies": sorted(set(STRATEGY.values())),
})
for name in ("grade", "cinema", "absolute", "sof"):
    log.info("wrote %s", snakemake.output[name])
