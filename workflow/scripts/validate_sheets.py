"""Validate one group of sheets (``params.group``; the rules are depmeta.review.validation):
read them (CSV files or a workbook's sheets), write their typed copies and provenance. Every
problem is reported with file, row and column; on any problem nothing is written and the job
fails."""

import json
import sys
from pathlib import Path

sys.path[:0] = [str(Path(snakemake.scriptdir)), str(Path(snakemake.scriptdir).parents[1] / "src")]

import yaml  # noqa: E402
from snakemake.utils import validate  # noqa: E402

from depmeta.review.reading import read_group, read_sheet  # noqa: E402
from depmeta.review.sheets import SheetError  # noqa: E402
from depmeta.review.validation import BOOK_SHEETS, GROUPS, validate_group  # noqa: E402
from pipeline_io import setup_logging, sha256, versions, write_json  # noqa: E402

log = setup_logging(snakemake.log[0])
schema_files = {Path(p).name.split(".")[0]: str(Path(p).resolve()) for p in snakemake.input.schemas}
schemas = {name: yaml.safe_load(Path(p).read_text()) for name, p in schema_files.items()}
group = snakemake.params.group
SHEETS = GROUPS[group]

inputs = dict(snakemake.input.items())
# A sheet that cannot be read (empty file, other separator, merged cells, ...) is
# reported and not checked further; the other sheets are still checked.
raw, labels, sources, read_problems = read_group(SHEETS, inputs, BOOK_SHEETS)
if read_problems and not raw and "workbook" in inputs:  # the workbook itself cannot be used
    log.error("%s", SheetError(read_problems))
    sys.exit(1)
checked = validate_group(
    group, raw, schemas, labels, read_problems,
    claims_doc=(yaml.safe_load(Path(inputs["claims"]).read_text()) or {}) if "claims" in inputs else None,
    claims_label=inputs.get("claims", "claims"),
    validated_studies=read_sheet(inputs["validated_studies"]) if "validated_studies" in inputs else None,
    studies_label=getattr(snakemake.params, "studies_label", "studies"),
    vocabulary=getattr(snakemake.params, "vocabulary", None))
problems, typed, claims = checked.problems, checked.sheets, checked.claims

if problems:
    log.error("%s", SheetError(problems))
    sys.exit(1)

# Belt and braces: the same schemas through Snakemake's own validator.
for name, df in typed.items():
    if len(df):
        validate(df.astype(object).where(df.notna(), None).replace({"": None}), schema_files[name])

for name, df in typed.items():
    df.to_csv(snakemake.output[name], index=False)
    log.info("%s: %d rows valid", labels.get(name, name), len(df))
if "claims" in snakemake.output.keys():
    Path(snakemake.output.claims).write_text(json.dumps(claims, indent=1) + "\n")
    log.info("%d claims valid", len(claims))

files = {labels[name]: path for name, path in sources.items()}
files.update({inputs[k]: inputs[k] for k in ("claims",) if k in inputs})
write_json(snakemake.output.provenance, {
    "files": {label: {"path": path, "sha256": sha256(path)} for label, path in files.items()},
    "software": versions(),
})
