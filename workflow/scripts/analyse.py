"""Effect sizes per contrast, pooled estimates per comparison × outcome, and
pooled event rates per strategy; writes the tidy tables and results.json."""

import sys
from pathlib import Path

sys.path[:0] = [str(Path(snakemake.scriptdir)), str(Path(snakemake.scriptdir).parents[1] / "src")]

import json  # noqa: E402
from dataclasses import replace  # noqa: E402

import pandas as pd  # noqa: E402
import yaml  # noqa: E402

from depmeta.analysis import (  # noqa: E402
    AnalysisOptions, adult_analyses, pool_event_rates, pooled_with_rd, risk_differences, run_meta_analyses)
from depmeta.checks import SUBGROUP_RULES, compare_benchmarks, evaluate_claims, subgroup_studies  # noqa: E402
from depmeta.contrasts import exclude_arms, form_contrasts  # noqa: E402
from depmeta.hazard import hazard_contrasts  # noqa: E402
from depmeta.sheets import coerce, prepare_arms  # noqa: E402
from pipeline_io import read_sheet, setup_logging, write_csv, write_json  # noqa: E402

log = setup_logging(snakemake.log[0])
schema_dir = Path(snakemake.scriptdir).parent / "schemas"
sheets = {
    name: coerce(read_sheet(snakemake.input[name]),
                 yaml.safe_load((schema_dir / f"{name}.schema.yaml").read_text()))
    for name in ("studies", "arms", "contrasts", "benchmarks", "hazard_ratios", "excluded_arms")
}
opts = AnalysisOptions.from_config(snakemake.params.analysis)
log.info("options: %s", opts)

studies = sheets["studies"]
labels = dict(zip(studies.study_id, studies.label))
# Arms set apart before any analysis (e.g. factorial margins mixing strategies), listed with the reason.
arms, excluded_arms = exclude_arms(prepare_arms(sheets["arms"]), sheets["excluded_arms"])
log.info("%d arm rows set apart (excluded-arms sheet)", len(excluded_arms))
contrasts, unused = form_contrasts(
    arms, sheets["contrasts"], comparisons=list(opts.comparisons), outcomes=list(opts.outcomes),
    population_preference=opts.population_preference, timepoint=opts.timepoint,
)
# Relapse as time to event: published hazard ratios, pooled apart from the counts (measure HR).
hr_contrasts, hr_unused = hazard_contrasts(sheets["hazard_ratios"], opts.comparisons, opts.population_preference)
if len(hr_contrasts):
    contrasts = pd.concat([contrasts, hr_contrasts], ignore_index=True)
unused = pd.concat([u for u in (unused, hr_unused, excluded_arms) if len(u)], ignore_index=True)
log.info("%d contrasts (%d hazard ratios) from %d studies; %d rows not used", len(contrasts), len(hr_contrasts),
         contrasts.study_id.nunique() if len(contrasts) else 0, len(unused))
summary, per_study, excluded = run_meta_analyses(contrasts, labels, opts)
# Binary outcomes again as risk differences, for claims stated as absolute differences.
summary_rd = risk_differences(contrasts, labels, opts)
if opts.event_rates:
    rates, rate_arms = pool_event_rates(arms, labels, opts)
else:
    rates, rate_arms = pd.DataFrame(), pd.DataFrame()

unused = unused.assign(label=unused.study_id.map(labels))
exclusions = pd.concat([
    excluded.assign(kind="contrast"),
    unused.assign(kind="row", measure="")[["comparison", "outcome", "measure", "study_id", "label", "row_ids",
                                           "reason", "kind"]],
], ignore_index=True)
if len(summary):
    not_pooled = summary[summary.status != "pooled"]
    exclusions = pd.concat([exclusions, pd.DataFrame({
        "comparison": not_pooled.comparison, "outcome": not_pooled.outcome, "measure": not_pooled.measure,
        "study_id": not_pooled.studies,
        "label": not_pooled.studies.map(lambda s: "; ".join(labels.get(x, x) for x in s.split(";") if x)),
        "row_ids": not_pooled.row_ids, "reason": "comparison not pooled: " + not_pooled.reason,
        "kind": "analysis"})], ignore_index=True)

# The same analyses on the adult trials only (adolescent trials analysed apart):
# claims about adults and the published meta-analyses of adults are set against these.
adult_ids, summary_adults, rates_adults = adult_analyses(contrasts, arms, studies, labels, opts)
log.info("adult trials: %d of %d", len(adult_ids), len(studies))

# What claims are set against: each claim only on its own population, timepoint and scale.
# Absolute-difference claims: the RD rows; speed claims: each trial's earliest timepoint;
# subgroup claims: the trials of that subgroup (depmeta.checks.SUBGROUP_RULES).
early_contrasts, _ = form_contrasts(
    arms, sheets["contrasts"], comparisons=list(opts.comparisons), outcomes=list(opts.outcomes),
    population_preference=opts.population_preference, timepoint="earliest",
)
early_opts = replace(opts, timepoint="earliest")
summary_early = pooled_with_rd(early_contrasts, labels, early_opts)
early_adults = pooled_with_rd(early_contrasts, labels, early_opts, adult_ids)
subgroups, subgroup_tables = {}, []
for name in SUBGROUP_RULES:
    ids = subgroup_studies(studies, name)
    subgroups[name] = (pooled_with_rd(contrasts, labels, opts, ids), pooled_with_rd(contrasts, labels, opts, ids & adult_ids))
    log.info("subgroup %s: %d studies", name, len(ids))
    if len(subgroups[name][0]):
        subgroup_tables.append(subgroups[name][0].assign(subgroup=name))
summary_subgroups = pd.concat(subgroup_tables, ignore_index=True) if subgroup_tables else pd.DataFrame()
adult_with_rd = pooled_with_rd(contrasts, labels, opts, adult_ids)
claims = evaluate_claims(json.loads(Path(snakemake.input.claims).read_text()),
                         pd.concat([summary, summary_rd], ignore_index=True), rates, opts.level,
                         adult=(adult_with_rd, rates_adults), early=(summary_early, early_adults),
                         subgroups=subgroups)
benchmarks = compare_benchmarks(sheets["benchmarks"], summary, opts.level, adult_summary=summary_adults)
log.info("claims: %s", claims.verdict.value_counts().to_dict() if len(claims) else {})

for name, df in (("claims", claims), ("benchmarks", benchmarks), ("contrasts", contrasts), ("per_study", per_study),
                 ("summary", summary), ("summary_rd", summary_rd),
                 ("summary_early", summary_early), ("summary_subgroups", summary_subgroups), ("summary_adults", summary_adults), ("exclusions", exclusions),
                 ("event_rates", rates), ("event_rates_adults", rates_adults), ("event_rates_arms", rate_arms)):
    write_csv(snakemake.output[name], df)
    log.info("wrote %s (%d rows)", snakemake.output[name], len(df))

write_json(snakemake.output.results, {
    "options": opts.__dict__,
    "analyses": summary.to_dict(orient="records"),
    "event_rates": rates.to_dict(orient="records"),
    "adult_trials": {"studies": sorted(adult_ids), "analyses": summary_adults.to_dict(orient="records"),
                     "event_rates": rates_adults.to_dict(orient="records")},
    "studies": studies.to_dict(orient="records"),
})
