# Config loading and validation, sheet locations and input functions; no rules here.
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from depmeta.review.protocol import check_protocol, group_files

validate(config, schema="../schemas/config.schema.yaml")
if check_protocol(config):
    raise WorkflowError("\n".join(check_protocol(config)))

RESULTS = Path("results")
SHEETS = config["sheets"]
ANALYSIS = config["analysis"]
REPORT = config["report"]
NETWORK = config["network"]
NETWORK_FILES = {
    key: f"results/network/network_{key}.csv"
    for key in (
        "estimates",
        "summary",
        "ranking",
        "contributions",
        "exclusions",
    )
} | {"json": "results/network/network.json"}
CERTAINTY = config["certainty"]
CERTAINTY_FILES = {
    key: f"results/certainty/{key}.csv"
    for key in ("grade", "cinema", "absolute", "sof")
} | {"json": "results/certainty/certainty.json"}
METAPSY = config.get("metapsy", {"enabled": False})
SIMULATION = config["simulation"]

# The engine's modules, a named input `engine=` of every rule whose script imports
# depmeta: Snakemake's `code` rerun trigger sees only a rule's own script, so without
# this a change to src/depmeta/ would not rerun the jobs that use it. Through the
# `mtime` and `input` triggers (on by default) an edited or added module reruns them.
# The schemas of the result tables, through which every table is written, count too.
ENGINE = sorted(str(p) for p in Path("src/depmeta").rglob("*.py")) + sorted(
    str(p) for p in Path("workflow/schemas/results").rglob("*.yaml")
)
# PRIORITY: with 2 cores, jobs wait for one; the longest chain (validate_extraction ->
# analyse -> sensitivity -> certainty -> report, with validate_risk_of_bias, which
# sensitivity reads) is started first (priority 20), then
# what the report waits for beside it (network, figures: 10); the rest (0) fills the gaps.
SUBGROUPS = config.get("subgroups", {})
SENSITIVITY = config.get("sensitivity", {})


PROVENANCE = {
    group: f"results/validated/provenance/{group}.json"
    for group in ("extraction", "risk_of_bias", "evidence")
}


def extraction_inputs():
    """The extraction files the run reads: a workbook, or the CSV sheets."""
    return group_files(SHEETS, "extraction")


def risk_of_bias_inputs():
    """The risk-of-bias sheet, where configured (a workbook may hold it as a sheet)."""
    return group_files(SHEETS, "risk_of_bias")


def sheet_label(name):
    """How messages name a sheet: its file, or the workbook's sheet."""
    if SHEETS.get("workbook"):
        return f"{SHEETS['workbook']} [sheet {name}]"
    return SHEETS[name]


def evidence_inputs():
    """Published benchmarks and claims to check, where configured."""
    return group_files(SHEETS, "evidence")


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


def network_outputs():
    """The network meta-analysis outputs, when ``network.enabled``."""
    if not NETWORK.get("enabled", True):
        return {}
    return {
        **NETWORK_FILES,
        **evidence_network_files()[1],
        "network_figures": "results/network/figures",
    }


def evidence_network_files():
    """The network estimates (of the protocol's primary population) and the benchmarks set
    beside them (when ``network.enabled``)."""
    if not NETWORK.get("enabled", True):
        return {}, {}
    return (
        {"network_estimates": NETWORK_FILES["estimates"]},
        {"network_benchmarks": "results/network/network_benchmarks.csv"},
    )


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
        *metapsy_outputs().values(),
        "results/tables/summary.csv",
        "results/tables/exclusions.csv",
        *network_outputs().values(),
        *CERTAINTY_FILES.values(),
    ]
