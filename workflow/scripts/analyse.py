"""Effect sizes per contrast, pooled estimates per comparison × outcome, and
pooled event rates per strategy; writes the tidy tables and results.json.
(The published benchmarks and the claims are set against these by rule ``evidence``.)"""

import sys
from pathlib import Path

sys.path[:0] = [str(Path(snakemake.scriptdir)), str(Path(snakemake.scriptdir).parents[1] / "src")]

import pandas as pd  # noqa: E402

from depmeta.review.analysis import (  # noqa: E402
    AnalysisOptions,
    assemble_contrasts,
    exclusions_table,
    followup_analyses,
    pool_event_rates,
    risk_differences,
    run_meta_analyses,
    stratum_analyses,
)
from pipeline_io import read_validated, setup_logging, write_csv, write_json  # noqa: E402

log = setup_logging(snakemake.log[0])
schema_dir = Path(snakemake.scriptdir).parent / "schemas"
sheets = read_validated(snakemake.input, ("studies", "arms", "contrasts", "excluded_arms"),
                        schema_dir)
opts = AnalysisOptions.from_config(snakemake.params.analysis)
log.info("options: %s", opts)

studies = sheets["studies"]
labels = dict(zip(studies.study_id, studies.label))
# The protocol's primary population only; rows set apart before any analysis (trials of a stratum,
# factorial margins mixing strategies, ...), listed with the reason; relapse as time to event:
# published hazard ratios, pooled apart from the counts (measure HR).
formed = assemble_contrasts(sheets, opts)
arms, contrasts, unused = formed.arms, formed.contrasts, formed.unused
log.info("%d arm rows set apart (excluded-arms sheet)", formed.n_excluded_arms)
log.info("%d contrasts (%d hazard ratios) from %d studies; %d rows not used", len(contrasts), formed.n_hazard,
         contrasts.study_id.nunique() if len(contrasts) else 0, len(unused))

summary, per_study, excluded = run_meta_analyses(contrasts, labels, opts)
# Binary outcomes again as risk differences, for claims stated as absolute differences.
summary_rd = risk_differences(contrasts, opts)
if opts.event_rates:
    rates, rate_arms = pool_event_rates(arms, labels, opts)
else:
    rates, rate_arms = pd.DataFrame(), pd.DataFrame()

exclusions = exclusions_table(excluded, unused, summary, labels)

# Each stratum of the protocol (e.g. adolescents) pooled on its own.
summary_strata = stratum_analyses(sheets, opts)
# The long-term follow-up (analysis.followup) pooled on its own.
summary_followup = followup_analyses(sheets, opts)
log.info("long-term follow-up: %d pooled analyses", int((summary_followup.status == "pooled").sum())
         if len(summary_followup) else 0)
primary = set(contrasts.study_id) if len(contrasts) else set()
log.info("primary population (%s): %d trials in a contrast", opts.populations.primary_text, len(primary))

for name, df in (("contrasts", contrasts), ("per_study", per_study), ("summary", summary), ("summary_rd", summary_rd),
                 ("summary_strata", summary_strata), ("summary_followup", summary_followup),
                 ("exclusions", exclusions), ("event_rates", rates), ("event_rates_arms", rate_arms)):
    write_csv(snakemake.output[name], df)
    log.info("wrote %s (%d rows)", snakemake.output[name], len(df))

write_json(snakemake.output.results, {
    "options": opts.record(),
    "analyses": summary.to_dict(orient="records"),
    "event_rates": rates.to_dict(orient="records"),
    "strata": summary_strata.to_dict(orient="records"),
    "followup": summary_followup.to_dict(orient="records"),
    "studies": studies.to_dict(orient="records"),
})
