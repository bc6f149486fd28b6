"""Validate the extraction sheets; write typed copies and their provenance.

Every problem is reported with file, row and column; on any problem nothing
is written and the job fails."""

import sys
from pathlib import Path

sys.path[:0] = [str(Path(snakemake.scriptdir)), str(Path(snakemake.scriptdir).parents[1] / "src")]

import yaml  # noqa: E402
from snakemake.utils import validate  # noqa: E402

from depmeta.sheets import SheetError, check_extraction, check_sheet, coerce  # noqa: E402
from pipeline_io import read_sheet, setup_logging, sha256, versions, write_json  # noqa: E402

log = setup_logging(snakemake.log[0])
schema_files = {Path(p).name.split(".")[0]: str(Path(p).resolve()) for p in snakemake.input.schemas}
schemas = {name: yaml.safe_load(Path(p).read_text()) for name, p in schema_files.items()}

inputs = dict(snakemake.input.items())
if "workbook" in inputs:
    book = inputs["workbook"]
    import pandas as pd

    present = pd.ExcelFile(book).sheet_names
    sources = {name: (book, name) for name in ("studies", "arms", "contrasts") if name in present}
    labels = {name: f"{book} [sheet {name}]" for name in sources}
    for required in ("studies", "arms"):
        if required not in sources:
            log.error("%s: the workbook has no sheet named %r (it has %s)", book, required, present)
            sys.exit(1)
else:
    sources = {name: (inputs[name], None) for name in ("studies", "arms", "contrasts") if name in inputs}
    labels = {name: path for name, (path, _) in sources.items()}

raw = {name: read_sheet(path, sheet) for name, (path, sheet) in sources.items()}
problems = []
for name, df in raw.items():
    problems += check_sheet(df, schemas[name], labels[name])
if not problems:
    typed = {name: coerce(df, schemas[name]) for name, df in raw.items()}
    if "contrasts" not in typed:
        typed["contrasts"] = coerce(raw["arms"].iloc[0:0].reindex(columns=[]), schemas["contrasts"])
    labels.setdefault("contrasts", "contrasts sheet")
    problems += check_extraction(typed["studies"], typed["arms"], typed["contrasts"], labels)

if problems:
    err = SheetError(problems)
    log.error("%s", err)
    sys.exit(1)

# Belt and braces: the same schemas through Snakemake's own validator.
for name, df in typed.items():
    if len(df):
        validate(df.astype(object).where(df.notna(), None).replace({"": None}), schema_files[name])

for name, df in typed.items():
    df.to_csv(snakemake.output[name], index=False)
    log.info("%s: %d rows valid", labels[name], len(df))

write_json(snakemake.output.provenance, {
    "files": {labels[name]: {"path": path, "sha256": sha256(path)} for name, (path, _) in sources.items()},
    "software": versions(),
})
