"""The published benchmarks and the claims set against the pooled estimates (depmeta.review.evidence):
reads the validated sheets, the pooled tables of rule ``analyse`` and, when the network is on,
the network estimates (of the protocol's primary population); writes the claims, benchmarks and the early and
subgroup summaries the claims are set against."""

import json
import sys
from pathlib import Path

sys.path[:0] = [str(Path(snakemake.scriptdir)), str(Path(snakemake.scriptdir).parents[1] / "src")]

from depmeta.review.analysis import AnalysisOptions  # noqa: E402
from depmeta.review.evidence import evidence_tables  # noqa: E402
from pipeline_io import read_table, read_validated, setup_logging, write_csv  # noqa: E402

log = setup_logging(snakemake.log[0])
schema_dir = Path(snakemake.scriptdir).parent / "schemas"
sheets = read_validated(snakemake.input,
                        ("studies", "arms", "contrasts", "excluded_arms", "benchmarks"), schema_dir)
pooled = {name: read_table(snakemake.input[name])
          for name in ("summary", "summary_rd", "event_rates")}
tables = evidence_tables(
    sheets, pooled, json.loads(Path(snakemake.input.claims).read_text()),
    AnalysisOptions.from_config(snakemake.params.analysis),
    read_table(snakemake.input.network_estimates) if "network_estimates" in snakemake.input.keys() else None)
log.info("claims: %s", tables["claims"].verdict.value_counts().to_dict() if len(tables["claims"]) else {})
for name, df in tables.items():
    write_csv(snakemake.output[name], df)
    log.info("wrote %s (%d rows)", snakemake.output[name], len(df))
