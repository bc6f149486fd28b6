# Config loading and validation, sheet locations and input functions; no rules here.
from pathlib import Path

from snakemake.utils import validate

validate(config, schema="../schemas/config.schema.yaml")

RESULTS = Path("results")
SHEETS = config["sheets"]
ANALYSIS = config["analysis"]
REPORT = config["report"]
METAPSY = config.get("metapsy", {"enabled": False})


def sheet_inputs():
    """The extraction files the run reads: a workbook, or the CSV sheets."""
    if SHEETS.get("workbook"):
        return {"workbook": SHEETS["workbook"], **evidence_inputs()}
    files = {"studies": SHEETS["studies"], "arms": SHEETS["arms"]}
    for optional in ("contrasts", "risk_of_bias", "hazard_ratios", "excluded_arms"):
        if SHEETS.get(optional):
            files[optional] = SHEETS[optional]
    return {**files, **evidence_inputs()}


def evidence_inputs():
    """Published benchmarks and claims to check, where configured."""
    return {k: SHEETS[k] for k in ("benchmarks", "claims") if SHEETS.get(k)}


def metapsy_inputs():
    """The Metapsy database and its codebook: the configured copy, else the download."""
    if METAPSY.get("path"):
        path = Path(METAPSY["path"])
        variables = METAPSY.get("variables") or str(path.with_suffix(".variables.json"))
        return {"data": str(path), "variables": variables}
    base = f"resources/metapsy/{METAPSY['shorthand']}/{METAPSY['version']}"
    return {"data": f"{base}/data.csv", "variables": f"{base}/variables.json"}


def metapsy_outputs():
    """The Metapsy analyses' outputs when enabled (the report shows them), else none."""
    if not METAPSY.get("enabled"):
        return {}
    return {
        "metapsy": "results/metapsy/metapsy.json",
        "metapsy_summary": "results/metapsy/summary.csv",
    }


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
        *metapsy_outputs().values(),
        "results/tables/summary.csv",
        "results/tables/exclusions.csv",
    ]
