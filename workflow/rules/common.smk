# Config loading and validation, sheet locations and input functions; no rules here.
from pathlib import Path

from snakemake.utils import validate

validate(config, schema="../schemas/config.schema.yaml")

RESULTS = Path("results")
SHEETS = config["sheets"]
ANALYSIS = config["analysis"]
REPORT = config["report"]
NETWORK = config["network"]
NETWORK_FILES = {
    key: f"results/network/network_{key}.csv"
    for key in (
        "estimates",
        "estimates_adults",
        "summary",
        "ranking",
        "contributions",
        "exclusions",
        "benchmarks",
    )
} | {"json": "results/network/network.json"}
CERTAINTY = config["certainty"]
CERTAINTY_FILES = {
    key: f"results/certainty/{key}.csv"
    for key in ("grade", "cinema", "absolute", "sof")
} | {"json": "results/certainty/certainty.json"}


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


def network_outputs():
    """The network meta-analysis outputs, when ``network.enabled``."""
    if not NETWORK.get("enabled", True):
        return {}
    return {**NETWORK_FILES, "network_figures": "results/network/figures"}


def certainty_network_inputs():
    """The network tables the certainty rule reads (none when the network is off)."""
    if not NETWORK.get("enabled", True):
        return {}
    return {
        "estimates": NETWORK_FILES["estimates"],
        "summary_network": NETWORK_FILES["summary"],
        "contributions": NETWORK_FILES["contributions"],
        "network_json": NETWORK_FILES["json"],
    }


def all_targets():
    """Default targets: the report and the tidy tables behind it."""
    return [
        *report_outputs().values(),
        "results/tables/summary.csv",
        "results/tables/exclusions.csv",
        *network_outputs().values(),
        *CERTAINTY_FILES.values(),
    ]
