"""Psychotherapy vs control from a Metapsy-standard database: read it (';', decimal
commas, NA), check it against its codebook, form the contrasts and run the standard
analyses (overall, by control type, by therapy type, low risk of bias)."""

import sys
from pathlib import Path

sys.path[:0] = [str(Path(snakemake.scriptdir)), str(Path(snakemake.scriptdir).parents[1] / "src")]

import json  # noqa: E402

from depmeta.review.metapsy import LOW_ROB_MIN, MetapsyError, analyse_metapsy, metapsy_contrasts  # noqa: E402
from pipeline_io import read_metapsy, setup_logging, sha256, write_csv, write_json  # noqa: E402

log = setup_logging(snakemake.log[0])
data, variables = snakemake.input.data, snakemake.input.variables
cfg = snakemake.params.metapsy
df = read_metapsy(data)
codebook = json.loads(Path(variables).read_text(encoding="utf-8"))
log.info("%s: %d comparisons, %d columns; codebook %s (%d variables)", data, len(df), df.shape[1], variables,
         len(codebook))
try:
    contrasts, unusable, notes = metapsy_contrasts(df, codebook, file=data, shorthand=cfg["shorthand"])
except MetapsyError as err:
    log.error("%s", err)
    sys.exit(1)
for note in notes:
    log.info("note: %s", note)
# Hook: further analyses (e.g. the sensitivity analyses of depmeta) are passed to
# analyse_metapsy(extra=[...]) as functions (contrasts, options) -> summary rows.
summary = analyse_metapsy(contrasts, snakemake.params.analysis)
log.info("pooled: %s", summary[["analysis", "group", "k", "estimate"]].to_string(index=False))
write_csv(snakemake.output.summary, summary)
write_csv(snakemake.output.contrasts, contrasts)
write_csv(snakemake.output.unusable, unusable)
release = Path(data).with_name("release.json")
write_json(snakemake.output.results, {
    "file": data, "sha256": sha256(data), "variables": variables, "shorthand": cfg["shorthand"],
    "version": cfg["version"] if not cfg.get("path") else "local copy",
    "release": json.loads(release.read_text()) if release.exists() else None,
    "rows": len(df), "studies": int(df["study"].nunique()), "usable": len(contrasts), "unusable": len(unusable),
    "notes": notes, "low_rob_min": LOW_ROB_MIN, "method": snakemake.params.analysis.get("method", "REML"),
})
