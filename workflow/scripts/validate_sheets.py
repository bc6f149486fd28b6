"""Validate one group of sheets and write their typed copies and provenance.

The sheets are validated in three jobs, so that a change to one sheet reruns only what
reads it (``params.group``):

- ``extraction``: studies, arms, contrasts, hazard ratios and excluded arms (checked
  against each other);
- ``risk_of_bias``: the published judgements (checked against the validated studies);
- ``evidence``: the published benchmarks and the claims to check.

Every problem is reported with file, row and column; on any problem nothing
is written and the job fails."""

import json
import sys
from pathlib import Path

sys.path[:0] = [str(Path(snakemake.scriptdir)), str(Path(snakemake.scriptdir).parents[1] / "src")]

import pandas as pd  # noqa: E402
import yaml  # noqa: E402
from snakemake.utils import validate  # noqa: E402

from depmeta.review.sheets import (  # noqa: E402
    Problem,
    SheetError,
    check_claims,
    check_excluded_arms,
    check_extraction,
    check_hazard_ratios,
    check_risk_of_bias,
    check_sheet,
    coerce,
)
from pipeline_io import read_sheet, setup_logging, sha256, versions, write_json  # noqa: E402

log = setup_logging(snakemake.log[0])
schema_files = {Path(p).name.split(".")[0]: str(Path(p).resolve()) for p in snakemake.input.schemas}
schemas = {name: yaml.safe_load(Path(p).read_text()) for name, p in schema_files.items()}
#: the sheets a workbook may hold (benchmarks and claims are always files of their own)
BOOK_SHEETS = ("studies", "arms", "contrasts", "risk_of_bias", "hazard_ratios", "excluded_arms")
GROUPS = {
    "extraction": ("studies", "arms", "contrasts", "hazard_ratios", "excluded_arms"),
    "risk_of_bias": ("risk_of_bias",),
    "evidence": ("benchmarks",),
}
group = snakemake.params.group
SHEETS = GROUPS[group]

inputs = dict(snakemake.input.items())
sources, labels = {}, {}
if "workbook" in inputs:
    book = inputs["workbook"]
    try:
        present = pd.ExcelFile(book).sheet_names
    except Exception as err:  # a corrupt or mislabelled file: zipfile, openpyxl and xlrd errors alike
        log.error("%s: not a readable .xlsx workbook (%s)", book, err)
        sys.exit(1)
    for name in BOOK_SHEETS:
        if name in present and name in SHEETS:
            sources[name], labels[name] = (book, name), f"{book} [sheet {name}]"
    missing = [name for name in ("studies", "arms") if name in SHEETS and name not in sources]
    if missing:
        log.error("%s: the workbook has no sheet named %s (it has %s)", book, " or ".join(map(repr, missing)), present)
        sys.exit(1)
for name in SHEETS:
    if name in inputs and name not in sources:
        sources[name], labels[name] = (inputs[name], None), inputs[name]

# A sheet that cannot be read (empty file, other separator, merged cells, ...) is
# reported and not checked further; the other sheets are still checked, so that one
# pass lists every problem.
raw, problems = {}, []
for name, (path, sheet) in sources.items():
    try:
        raw[name] = read_sheet(path, sheet, labels[name])
    except SheetError as err:
        problems += err.problems
for name, df in raw.items():
    problems += check_sheet(df, schemas[name], labels[name])
    if name in ("studies", "arms") and len(df.columns) and not len(df):
        problems.append(Problem(labels[name], None, None, "no data rows: the sheet has a header only"))
claims = []
if "claims" in inputs:
    claims_doc = yaml.safe_load(Path(inputs["claims"]).read_text()) or {}
    problems += check_claims(claims_doc, schemas["claims"], inputs["claims"])
    articles = claims_doc.get("articles", {})
    claims = [{**c, "article": articles.get(c.get("article"), c.get("article"))} for c in claims_doc.get("claims", [])]
if not problems:
    typed = {name: coerce(raw.get(name, pd.DataFrame()), schemas[name]) for name in SHEETS}
    if group == "extraction":
        labels.setdefault("contrasts", "contrasts sheet")
        problems += check_extraction(typed["studies"], typed["arms"], typed["contrasts"], labels)
        if "hazard_ratios" in labels:
            problems += check_hazard_ratios(typed["hazard_ratios"], typed["studies"], typed["arms"], labels)
        if "excluded_arms" in labels:
            problems += check_excluded_arms(typed["excluded_arms"], typed["arms"], labels)
    elif group == "risk_of_bias" and "risk_of_bias" in labels:
        # the studies as the extraction job validated them, named in messages as the user's file
        studies = coerce(read_sheet(inputs["validated_studies"]), schemas["studies"])
        problems += check_risk_of_bias(typed["risk_of_bias"], studies,
                                       {**labels, "studies": snakemake.params.studies_label})

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

files = {labels[name]: path for name, (path, _) in sources.items()}
files.update({inputs[k]: inputs[k] for k in ("claims",) if k in inputs})
write_json(snakemake.output.provenance, {
    "files": {label: {"path": path, "sha256": sha256(path)} for label, path in files.items()},
    "software": versions(),
})
