"""A Metapsy-standard database as the project's psychotherapy-vs-control contrasts,
and its standard analyses. Pure functions on DataFrames; no file or network I/O
(the workflow's scripts read, download and write).

The Metapsy standard (https://docs.metapsy.org/data-preparation/format/): one row
per comparison, arm-level data beside the precomputed Hedges' g (``.g``, ``.g_se``,
metapsyTools' names), the treatment in ``condition_arm1`` and the comparator in
``condition_arm2``, risk-of-bias items as columns (``sg`` sequence generation,
``ac`` allocation concealment, ``ba`` blinding of assessors, ``itt`` intention
to treat, ``rob`` their sum 0-4), and a codebook (the variables JSON) naming
every variable.

Sign: Metapsy's ``.g`` is positive when the psychotherapy arm has fewer symptoms;
this project's g is negative then (arm 1 minus arm 2 on a symptom scale), so
``g = -.g``.

Downloading by shorthand and version follows metapsyData's ``getData``: the
Metapsy data index (shorthand -> repository and concept DOI), the Zenodo records
of that concept DOI (one per released version; public API, no token), and the
repository's files at the version's tag. :func:`resolve_release` does the
resolution with a fetcher function passed in, so that it can be tested offline.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from depmeta.stats.distributions import chi2_sf
from depmeta.stats.pooling import pool

__all__ = [
    "CONTROL_TYPES", "INDEX_URL", "LOW_ROB_MIN", "MetapsyError", "Release", "analyse_metapsy",
    "metapsy_contrasts", "resolve_release",
]

INDEX_URL = "https://raw.githubusercontent.com/metapsy-project/metapsyData/master/pkgdown/assets/data/data-index.csv"
ZENODO_RECORDS = "https://zenodo.org/api/records"
RAW = "https://raw.githubusercontent.com/metapsy-project"

#: Metapsy comparator codes -> this project's control arm types. Comparators that are
#: not controls (pharmacotherapy ``pha``, another psychotherapy, supportive counselling
#: ``sup``) are listed as unusable, with the reason.
CONTROL_TYPES = {"wl": "waiting_list", "cau": "usual_care", "other ctr": "other_control"}
#: The risk-of-bias items and the values the codebook defines for each.
ROB_ITEMS = {"sg": ("0", "1"), "ac": ("0", "1"), "ba": ("0", "1", "sr"), "itt": ("0", "1")}
#: Low risk of bias: ``rob`` above 2 of 4, metapsyTools' default ``low.rob.filter = "rob > 2"``.
LOW_ROB_MIN = 3
REQUIRED = ("study", "condition_arm1", "condition_arm2", ".g", ".g_se", "sg", "ac", "ba", "itt", "rob")
#: Where the arm sizes are read, in order (continuous outcome, event data, change scores).
N_COLUMNS = (("n_arm1", "n_arm2"), ("totaln_arm1", "totaln_arm2"), ("n_change_arm1", "n_change_arm2"))


class MetapsyError(ValueError):
    """The database does not follow the Metapsy standard; every problem, one per line."""

    def __init__(self, file: str, problems: list[str]):
        self.problems = [f"{file}: {p}" for p in problems]
        super().__init__(f"{len(problems)} problem(s) in the Metapsy database:\n"
                         + "\n".join(f"  - {p}" for p in self.problems))


def _number(value) -> float:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return math.nan
    text = str(value).strip()
    if text in ("", "NA"):
        return math.nan
    return float(text.replace(",", "."))


def metapsy_contrasts(df: pd.DataFrame, codebook: dict, file: str = "Metapsy database",
                      shorthand: str = "metapsy") -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """The Metapsy rows as the project's psychotherapy-vs-control contrasts.

    Parameters
    ----------
    df : DataFrame
        The database as read (:func:`pipeline_io.read_metapsy`: numbers parsed,
        ``NA`` as missing); the first column, unnamed in the file, is the row number.
    codebook : dict
        The variables JSON (variable -> description).
    file, shorthand : str
        Names used in messages and row ids.

    Returns
    -------
    contrasts : DataFrame
        One row per usable comparison: ``row_id, study_id, comparison, outcome,
        condition_arm1`` (therapy type), ``condition_arm2`` (control type, Metapsy
        code), ``control_type`` (this project's arm type), ``g, g_se`` (this
        project's sign), ``n1, n2``, the risk-of-bias items and ``rob``.
    unusable : DataFrame
        Valid rows that are not psychotherapy vs control, with ``reason``.
    notes : list of str
        Values the codebook does not define, columns it does not describe.

    Raises
    ------
    MetapsyError
        Columns missing or undescribed, or ``.g``/``.g_se`` not numbers or
        ``.g_se`` not positive; each problem names the file, row and column.
    """
    problems, notes = [], []
    for col in REQUIRED:
        if col not in df.columns:
            problems.append(f"column '{col}': required column is missing")
        elif col not in codebook:
            problems.append(f"column '{col}': not described in the codebook (variables JSON)")
    if problems:
        raise MetapsyError(file, problems)
    undescribed = [c for c in df.columns[1:] if c not in codebook]
    if undescribed:
        notes.append(f"columns not described in the codebook (not used): {', '.join(undescribed)}")
    row_no = df.iloc[:, 0].astype(str).str.strip().to_numpy()
    records, unusable = [], []
    off_codebook: dict[tuple[str, str], list[str]] = {}
    for pos in range(len(df)):
        r = df.iloc[pos]
        where = f"row {pos + 1} (row id {row_no[pos]})"
        bad = False
        values = {}
        for col in (".g", ".g_se"):
            try:
                values[col] = _number(r[col])
            except ValueError:
                problems.append(f"{where}, column '{col}': {r[col]!r} is not a number")
                bad = True
                continue
            if not math.isfinite(values[col]):
                problems.append(f"{where}, column '{col}': missing or not finite")
                bad = True
        if not bad and values[".g_se"] <= 0:
            problems.append(f"{where}, column '.g_se': {values['.g_se']:g} must be greater than 0")
            bad = True
        if bad:
            continue
        rid = f"{shorthand}:{row_no[pos]}"
        control = str(r["condition_arm2"]).strip()
        if control not in CONTROL_TYPES:
            unusable.append({"row_id": rid, "study_id": str(r["study"]), "condition_arm1": r["condition_arm1"],
                             "condition_arm2": control,
                             "reason": f"comparator {control!r} is not a control condition "
                                       f"({', '.join(CONTROL_TYPES)}): not psychotherapy vs control"})
            continue
        rob_items = {}
        for item, allowed in ROB_ITEMS.items():
            raw = r[item]
            text = "" if raw is None or (isinstance(raw, float) and math.isnan(raw)) else str(raw).strip()
            text = text[:-2] if text.endswith(".0") else text
            if text and text not in allowed:
                off_codebook.setdefault((item, text), []).append(str(pos + 1))
            rob_items[item] = text
        n1, n2 = math.nan, math.nan
        for c1, c2 in N_COLUMNS:
            if c1 in df.columns and math.isnan(n1):
                n1, n2 = _number(r[c1]), _number(r[c2])
        records.append({
            "row_id": rid, "study_id": str(r["study"]), "comparison": "psychotherapy_vs_control",
            "outcome": "symptoms", "condition_arm1": str(r["condition_arm1"]).strip(), "condition_arm2": control,
            "control_type": CONTROL_TYPES[control], "g": -values[".g"], "g_se": values[".g_se"],
            "n1": n1, "n2": n2, **rob_items, "rob": _number(r["rob"]),
            "metapsy_id": str(r[".id"]) if ".id" in df.columns else "",
        })
    if problems:
        raise MetapsyError(file, problems)
    for (item, text), where_rows in off_codebook.items():
        allowed = ", ".join(ROB_ITEMS[item])
        notes.append(f"column '{item}': value {text!r}, which the codebook does not define ({allowed}), in "
                     f"row(s) {', '.join(where_rows)}; the rows are kept and their rob score used as printed")
    cols_u = ["row_id", "study_id", "condition_arm1", "condition_arm2", "reason"]
    return pd.DataFrame.from_records(records), pd.DataFrame.from_records(unusable, columns=cols_u), notes


#: An extra analysis for :func:`analyse_metapsy`: (contrasts, options) -> rows
#: of the summary table (dicts with at least ``analysis`` and the pooled fields).
ExtraAnalysis = Callable[[pd.DataFrame, dict], list[dict]]


def _pool_row(sub: pd.DataFrame, analysis: str, group: str, opts: dict) -> dict:
    row = {"analysis": analysis, "group": group, "k": len(sub), "n_studies": int(sub.study_id.nunique()),
           "n_patients": float(np.nansum(sub.n1) + np.nansum(sub.n2))}
    if len(sub) < opts.get("min_studies", 2):
        return {**row, "status": "not pooled", "reason": f"{len(sub)} comparison(s); min_studies is "
                                                          f"{opts.get('min_studies', 2)}"}
    res = pool(sub.g.to_numpy(float), sub.g_se.to_numpy(float) ** 2, method=opts.get("method", "REML"),
               test=opts.get("test", "knha"), level=opts.get("level", 0.95),
               pi=opts.get("prediction_interval", "metafor"))
    d = res.to_dict()
    d.pop("weights")
    return {**row, **d, "status": "pooled", "reason": ""}


def _between(rows: list[dict]) -> dict:
    """Test of subgroup differences: Q of the subgroups' random-effects estimates
    around their inverse-variance mean (each subgroup with its own tau²), df = groups - 1."""
    ok = [r for r in rows if r["status"] == "pooled"]
    if len(ok) < 2:
        return {"q_between": math.nan, "q_between_df": math.nan, "q_between_pval": math.nan}
    est = np.array([r["estimate"] for r in ok])
    w = 1 / np.array([r["se"] for r in ok]) ** 2
    q = float(np.sum(w * (est - np.sum(w * est) / np.sum(w)) ** 2))
    return {"q_between": q, "q_between_df": len(ok) - 1, "q_between_pval": float(chi2_sf(q, len(ok) - 1))}


def analyse_metapsy(contrasts: pd.DataFrame, opts: dict,
                    extra: Sequence[ExtraAnalysis] = ()) -> pd.DataFrame:
    """Psychotherapy vs control from a Metapsy database: overall, by control type,
    by therapy type, and on the comparisons at low risk of bias.

    Every comparison enters as its own effect size, as metapsyTools' "overall"
    model. ``extra`` is the hook for further analyses (the project's sensitivity
    analyses — one effect per study, outliers, influence, small-study tests —
    take ``(contrasts, opts)`` and return summary rows); none is passed by default.

    Returns
    -------
    DataFrame
        One row per analysis × group: ``analysis`` (``overall``, ``control type``,
        ``therapy type``, ``low risk of bias``), ``group``, ``k`` (comparisons),
        ``n_studies``, the pooled fields of :class:`depmeta.stats.pooling.PoolResult`,
        and, on subgroup rows, the test of subgroup differences.
    """
    rows = [_pool_row(contrasts, "overall", "all comparisons", opts)]
    for analysis, col in (("control type", "control_type"), ("therapy type", "condition_arm1")):
        part = [_pool_row(g, analysis, str(name), opts) for name, g in contrasts.groupby(col, sort=True)]
        test = _between(part)
        rows += [{**r, **test} for r in part]
    low = contrasts[contrasts.rob >= LOW_ROB_MIN]
    rows.append(_pool_row(low, "low risk of bias", f"rob >= {LOW_ROB_MIN} of 4", opts))
    for fn in extra:
        rows += fn(contrasts, opts)
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Release:
    """One released version of a Metapsy database and where its files are."""

    shorthand: str
    repo: str
    version: str
    concept_doi: str
    version_doi: str
    publication_date: str
    data_url: str
    variables_url: str


def resolve_release(shorthand: str, version: str, fetch: Callable[[str], str]) -> Release:
    """Resolve a shorthand and version (``"latest"`` for the newest) to file URLs.

    ``fetch(url) -> str`` returns the text at a URL (injected: the workflow passes
    an HTTP client, the tests a fake). The data index gives the repository and
    concept DOI; Zenodo's public records of that concept DOI list the versions.

    Raises
    ------
    ValueError
        Unknown shorthand or version, with the ones available.
    """
    index = pd.read_csv(io.StringIO(fetch(INDEX_URL)), sep=";", dtype=str)
    hit = index[index.shorthand == shorthand]
    if not len(hit):
        raise ValueError(f"Metapsy shorthand {shorthand!r} not in the data index ({INDEX_URL}); "
                         f"available: {', '.join(index.shorthand)}")
    repo, doi = hit.iloc[0]["repo"], hit.iloc[0]["doi"]
    query = f'{ZENODO_RECORDS}?q=conceptdoi:"{doi}"&all_versions=true&size=100&sort=mostrecent'
    hits = json.loads(fetch(query)).get("hits", {}).get("hits", [])
    versions = [
        (h.get("metadata", {}).get("version"), h.get("doi", ""), h.get("metadata", {}).get("publication_date", ""))
        for h in hits
        if h.get("metadata", {}).get("version")
    ]
    if not versions:
        raise ValueError(f"no released version of {shorthand!r} found on Zenodo (concept DOI {doi})")
    if version == "latest":
        chosen = max(versions, key=lambda v: v[2])
    else:
        match = [v for v in versions if v[0] == version]
        if not match:
            raise ValueError(f"version {version!r} of {shorthand!r} not found; released: "
                             f"{', '.join(v[0] for v in versions)}")
        chosen = match[0]
    base = f"{RAW}/{repo}/{chosen[0]}"
    return Release(shorthand, repo, chosen[0], doi, chosen[1], chosen[2], f"{base}/data.csv",
                   f"{base}/metadata/variable_description.json")
