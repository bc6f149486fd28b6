"""The published benchmarks and the claims set against the pooled estimates.

Reads the pooled tables of rule ``analyse`` (and the network estimates of the adult trials,
when the network is on) and forms again, from the validated sheets, the contrasts that claims
about speed and about subgroups need: each claim is evaluated only on its own population,
timepoint and scale (absolute-difference claims on the RD rows, speed claims on each trial's
earliest timepoint, subgroup claims on the trials of that subgroup, depmeta.review.checks.SUBGROUP_RULES)."""

import json
import sys
from dataclasses import replace
from pathlib import Path

sys.path[:0] = [str(Path(snakemake.scriptdir)), str(Path(snakemake.scriptdir).parents[1] / "src")]

import pandas as pd  # noqa: E402

from depmeta.review.analysis import AnalysisOptions, adult_study_ids, assemble_contrasts, pooled_with_rd  # noqa: E402
from depmeta.review.checks import (  # noqa: E402
    SUBGROUP_RULES,
    compare_benchmarks,
    evaluate_claims,
    network_benchmarks,
    subgroup_studies,
)
from pipeline_io import read_table, read_validated, setup_logging, write_csv  # noqa: E402

log = setup_logging(snakemake.log[0])
schema_dir = Path(snakemake.scriptdir).parent / "schemas"
sheets = read_validated(snakemake.input,
                        ("studies", "arms", "contrasts", "hazard_ratios", "excluded_arms", "benchmarks"), schema_dir)
opts = AnalysisOptions.from_config(snakemake.params.analysis)
studies = sheets["studies"]
adult_ids = adult_study_ids(studies)
pooled = {name: read_table(snakemake.input[name])
          for name in ("summary", "summary_rd", "summary_adults", "event_rates", "event_rates_adults")}

contrasts = assemble_contrasts(sheets, opts).contrasts
early_opts = replace(opts, timepoint="earliest")
early_contrasts = assemble_contrasts(sheets, early_opts, hazard=False).contrasts
summary_early = pooled_with_rd(early_contrasts, early_opts)
early_adults = pooled_with_rd(early_contrasts, early_opts, adult_ids)
subgroups, subgroup_tables = {}, []
for name in SUBGROUP_RULES:
    ids = subgroup_studies(studies, name)
    subgroups[name] = (pooled_with_rd(contrasts, opts, ids), pooled_with_rd(contrasts, opts, ids & adult_ids))
    log.info("subgroup %s: %d studies", name, len(ids))
    if len(subgroups[name][0]):
        subgroup_tables.append(subgroups[name][0].assign(subgroup=name))
summary_subgroups = pd.concat(subgroup_tables, ignore_index=True) if subgroup_tables else pd.DataFrame()
adult_with_rd = pooled_with_rd(contrasts, opts, adult_ids)

claims = evaluate_claims(json.loads(Path(snakemake.input.claims).read_text()),
                         pd.concat([pooled["summary"], pooled["summary_rd"]], ignore_index=True),
                         pooled["event_rates"], opts.level,
                         adult=(adult_with_rd, pooled["event_rates_adults"]), early=(summary_early, early_adults),
                         subgroups=subgroups)
benchmarks = compare_benchmarks(sheets["benchmarks"], pooled["summary"], opts.level,
                                adult_summary=pooled["summary_adults"])
log.info("claims: %s", claims.verdict.value_counts().to_dict() if len(claims) else {})
tables = {"claims": claims, "benchmarks": benchmarks, "summary_early": summary_early,
          "summary_subgroups": summary_subgroups}
if "network_estimates_adults" in snakemake.input.keys():
    # the published (adult) network meta-analyses beside this project's network of the adult trials
    tables["network_benchmarks"] = network_benchmarks(sheets["benchmarks"],
                                                      read_table(snakemake.input.network_estimates_adults))
for name, df in tables.items():
    write_csv(snakemake.output[name], df)
    log.info("wrote %s (%d rows)", snakemake.output[name], len(df))
