"""A review's protocol: the config file that says what the review is and how it is analysed.

A config file with a ``review:`` section (title, question, authors, registration) is a
protocol. Given on the command line (``snakemake --configfile PROTOCOL``) it stands alone:
the workflow fills the keys it leaves out from the schema's defaults, which name nothing of
any review (no claims, no benchmarks, no optional sheet), and never merges the embedded
review's protocol (``config/config.yaml``) into it. Without a protocol on the command line
the embedded review runs, and ``--config`` overrides apply to it.

Checks the JSON schema cannot say (each message names the key and the fix):

- other sheets without a protocol: ``--config sheets=...`` on the embedded review's
  protocol would set the embedded claims, benchmarks and judgements against another
  review's trials;
- a reporting-bias judgement of ``suspected`` or ``strongly suspected`` without its reason (the
  reason is printed under every summary-of-findings table, and is the review's own);
- no trial sheets: ``sheets.studies`` and ``sheets.arms``, or ``sheets.workbook``;
- a hazard-ratio sheet (``sheets.hazard_ratios``): its rows belong in the contrasts sheet now;
- a placeholder left in (``<...>``, as ``depmeta init`` writes them);
- comparisons whose sides can hold the same arm, name a class or type the review's
  vocabulary does not list, or repeat a name or a pair of sides
  (:func:`depmeta.review.comparisons.check_comparisons`);
- an age group named twice in ``analysis.populations`` (primary and a stratum, or two strata).

:func:`group_files` says which files each validation group reads; the workflow's validation
jobs and ``depmeta validate`` both take their inputs from it.
"""

from __future__ import annotations

from depmeta.review.comparisons import check_comparisons
from depmeta.review.nodes import check_node_options
from depmeta.review.populations import populations_problems
from depmeta.review.timeframes import timeframes_from_config
from depmeta.review.validation import BOOK_SHEETS, GROUPS

#: The sheets that hold a review's trials: changing one of them on the command line means
#: another review.
TRIAL_SHEETS = ("studies", "arms", "workbook")

#: The files each validation group reads: its sheets, and for the evidence group the claims.
GROUP_FILES = {group: (*sheets, *(("claims",) if group == "evidence" else ())) for group, sheets in GROUPS.items()}
#: Groups whose sheets a workbook holds (benchmarks and claims are always files of their own).
BOOK_GROUPS = tuple(group for group, sheets in GROUPS.items() if set(sheets) & set(BOOK_SHEETS))

#: Where a new review's protocol is described.
HOW = "see config/README.md, 'Your own review'"


def given_other_sheets(given: dict) -> list[str]:
    """The trial sheets a command line without a protocol sets (``given``: the config Snakemake
    holds before any config file of the workflow is read, i.e. ``--config`` and
    ``--configfile`` values)."""
    sheets = given.get("sheets") or {}
    return [name for name in TRIAL_SHEETS if name in sheets]


def other_sheets_message(names: list[str]) -> str:
    """Why a run that points the embedded review's protocol at other sheets is refused."""
    keys = ", ".join(f"sheets.{n}" for n in names)
    return (f"{keys} given without a protocol: the embedded review's protocol (config/config.yaml) would set "
            "its claims, benchmarks and judgements against these trials. Write a protocol for your review (a "
            f"config file with a `review:` section; {HOW}) and run `snakemake --configfile YOUR_PROTOCOL.yaml`. "
            "To run the embedded protocol on other sheets on purpose, give it explicitly: "
            "`snakemake --configfile config/config.yaml --config sheets=...`.")


def group_files(sheets: dict, group: str) -> dict[str, str]:
    """The files validation group ``group`` reads, as the protocol's ``sheets`` section names
    them: ``{"workbook": path}`` for a workbook, else each configured sheet's file (an empty
    path is a sheet the review does not have)."""
    if group not in GROUP_FILES:
        raise ValueError(f"unknown validation group {group!r}; choose one of {tuple(GROUP_FILES)}")
    if group in BOOK_GROUPS and sheets.get("workbook"):
        return {"workbook": sheets["workbook"]}
    return {name: sheets[name] for name in GROUP_FILES[group] if sheets.get(name)}


def _placeholders(node, path=()) -> list[str]:
    """Keys whose value is still a ``<...>`` placeholder."""
    if isinstance(node, dict):
        return [k for key, value in node.items() for k in _placeholders(value, (*path, str(key)))]
    if isinstance(node, list):
        return [k for i, value in enumerate(node) for k in _placeholders(value, (*path, str(i)))]
    text = str(node).strip() if isinstance(node, str) else ""
    return [".".join(path)] if text.startswith("<") and text.endswith(">") else []


def check_protocol(config: dict) -> list[str]:
    """Problems of a validated config the schema cannot express, one message each (empty if none)."""
    problems = [f"{key}: replace the placeholder {_get(config, key)!r} with the review's own value"
                for key in _placeholders(config)]
    sheets = config.get("sheets") or {}
    if not sheets.get("workbook") and not (sheets.get("studies") and sheets.get("arms")):
        problems.append("sheets: name the review's trial sheets: `studies` and `arms` (CSV files), or `workbook` "
                        "(an .xlsx workbook with sheets named studies and arms); data/README.md describes them.")
    for outcome, frame in ((config.get("analysis") or {}).get("timeframes") or {}).items():
        try:
            timeframes_from_config({outcome: frame})
        except ValueError as err:
            problems.append(f"analysis.timeframes.{outcome}: {err}")
    problems += check_comparisons((config.get("analysis") or {}).get("comparisons"), config.get("vocabulary"))
    problems += populations_problems((config.get("analysis") or {}).get("populations"))
    net = config.get("network") or {}
    try:
        check_node_options(net.get("nodes", "strategy"), net.get("controls", "separate"))
    except ValueError as err:
        problems.append(f"network: {err}")
    if sheets.get("hazard_ratios"):
        problems.append(
            f"sheets.hazard_ratios: hazard ratios are rows of the contrasts sheet (measure HR) now. Move the rows of "
            f"{sheets['hazard_ratios']} into the contrasts sheet (sheets.contrasts): rename hr to estimate (or "
            "log_hr to log_estimate and se_log_hr to se), add measure HR on every row, and remove "
            "sheets.hazard_ratios; data/README.md, 'contrasts.csv', describes the layout.")
    rb = (config.get("certainty") or {}).get("reporting_bias") or {}
    level = rb.get("level", "not assessed")
    if level in ("suspected", "strongly suspected") and not str(rb.get("reason", "")).strip():
        problems.append(
            f"certainty.reporting_bias: the level is {level!r} but no reason is given. State the review's own "
            "judgement of reporting bias and why (e.g. `reason: the search did not cover trial registries`), or "
            "set `level: undetected` or `level: not assessed`; the reason is printed under every "
            "summary-of-findings table.")
    return problems


def _get(config: dict, dotted: str):
    node = config
    for part in dotted.split("."):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node
