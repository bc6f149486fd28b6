# Config loading and validation, sheet locations and input functions; no rules here.
from pathlib import Path

from snakemake.utils import validate

validate(config, schema="../schemas/config.schema.yaml")

RESULTS = Path("results")
SHEETS = config["sheets"]
ANALYSIS = config["analysis"]
REPORT = config["report"]
SENSITIVITY = config.get("sensitivity", {})


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


def report_outputs():
    """The report files the config asks for."""
    files = {"html": "results/report/report.html"}
    if REPORT.get("pdf", True):
        files["pdf"] = "results/report/report.pdf"
    return files


def all_targets():
    """Default targets: the report and the tidy tables behind it."""
    return [
        *report_outputs().values(),
        "results/tables/summary.csv",
        "results/tables/exclusions.csv",
    ]
