# Config loading and validation, sheet locations and input functions; no rules here.
from pathlib import Path

from snakemake.utils import validate

validate(config, schema="../schemas/config.schema.yaml")

RESULTS = Path("results")
SHEETS = config["sheets"]
ANALYSIS = config["analysis"]
REPORT = config["report"]
SIMULATION = config["simulation"]

# The engine's modules, a named input `engine=` of every rule whose script imports
# depmeta: Snakemake's `code` rerun trigger sees only a rule's own script, so without
# this a change to src/depmeta/ would not rerun the jobs that use it. Through the
# `mtime` and `input` triggers (on by default) an edited or added module reruns them.
ENGINE = sorted(str(p) for p in Path("src/depmeta").glob("*.py"))


def sheet_inputs():
    """The extraction files the run reads: a workbook, or the CSV sheets."""
    if SHEETS.get("workbook"):
        return {"workbook": SHEETS["workbook"], **evidence_inputs()}
    files = {"studies": SHEETS["studies"], "arms": SHEETS["arms"]}
    for optional in ("contrasts", "risk_of_bias"):
        if SHEETS.get(optional):
            files[optional] = SHEETS[optional]
    return {**files, **evidence_inputs()}


def evidence_inputs():
    """Published benchmarks and claims to check, where configured."""
    return {k: SHEETS[k] for k in ("benchmarks", "claims") if SHEETS.get(k)}


def report_outputs(caption=None):
    """The report files the config asks for; with a caption, tagged for `snakemake --report`."""
    files = {"html": "results/report/report.html"}
    if REPORT.get("pdf", True):
        files["pdf"] = "results/report/report.pdf"
    if caption:
        files = {
            k: report(v, caption=caption, category="Report") for k, v in files.items()
        }
    return files


def all_targets():
    """Default targets: the report and the tidy tables behind it."""
    return [
        *report_outputs().values(),
        "results/tables/summary.csv",
        "results/tables/exclusions.csv",
    ]
