"""Validation of the extraction sheets against their JSON schemas.

Takes DataFrames of strings (as read from CSV or a workbook) and the schema
dicts; reports every problem with its file, row and column, so that a
researcher can fix the sheet in one pass. No file I/O here: the workflow's
scripts read the files and write the outputs.

Row numbers are spreadsheet rows: the header is row 1, the first data row is
row 2 (the same number as the line of a CSV file without embedded newlines,
and the row an Excel user sees).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from depmeta.review.vocabulary import BINARY_OUTCOMES, OPEN_LISTS, POPULATION_NOT_REPORTED, arm_row_id, weeks_text
from depmeta.stats.effects import counts_from_percent

__all__ = [
    "ROB_TOOLS",
    "Problem",
    "SheetError",
    "check_claims",
    "check_extraction",
    "check_excluded_arms",
    "check_contrasts",
    "check_layout",
    "effect_scale",
    "check_risk_of_bias",
    "check_sheet",
    "coerce",
    "prepare_arms",
    "prepare_contrasts",
]

CONTINUOUS_OUTCOMES = ("symptoms",)
POPULATION_RANK = {"ITT": 0, "mITT": 1, "completers": 2}
#: Tolerance between a printed count and its printed percentage, in percentage
#: points: percentages are printed rounded to at most one decimal, and a trial
#: may print a percentage of a slightly different denominator; above this the
#: two numbers cannot describe the same patients.
PERCENT_TOLERANCE = 1.0

#: Domains and judgements of each risk-of-bias tool, in display order.
#: RoB1: Cochrane Handbook 5.1, chapter 8 (Table 8.5.a); RoB2: Sterne et al. 2019,
#: BMJ 366:l4898; Cuijpers4: the four criteria of the Cochrane tool rated in
#: Cuijpers' meta-analyses of psychotherapy; AHRQ: one overall rating.
ROB_TOOLS: dict[str, dict[str, tuple[str, ...]]] = {
    "RoB1": {
        "domains": ("random_sequence", "allocation_concealment", "blinding_participants", "blinding_outcome",
                    "incomplete_data", "selective_reporting", "other_bias"),
        "judgements": ("low", "unclear", "high"),
    },
    "RoB2": {
        "domains": ("randomization", "deviations", "missing_data", "measurement", "selection_reported", "overall"),
        "judgements": ("low", "some_concerns", "high"),
    },
    "Cuijpers4": {
        "domains": ("sequence", "concealment", "blinding_assessors", "itt"),
        "judgements": ("low", "unclear", "high"),
    },
    "AHRQ": {"domains": ("overall",), "judgements": ("low", "medium", "high")},
}


@dataclass(frozen=True)
class Problem:
    """One problem in a sheet: where it is and what is wrong."""

    file: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column is not None:
            where += f", column '{self.column}'"
        return f"{where}: {self.message}"


class SheetError(ValueError):
    """Raised with every problem found, one per line."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{len(problems)} problem(s) in the extraction sheets:\n{lines}")


def _row(i: int) -> int:
    return int(i) + 2


def _first_rows(df: pd.DataFrame, key: list[str]) -> pd.Series:
    """For every row, the sheet row of the first row with the same ``key``."""
    first_index = df.reset_index().groupby(key, dropna=False, sort=False)["index"].transform("min")
    return pd.Series([_row(i) for i in first_index], index=df.index)


def _blank(value) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or str(value).strip() == ""


_INTEGER = r"[+-]?\d+(\.0+)?"


def _text(col: pd.Series) -> pd.Series:
    """A column as stripped strings, missing values as ""."""
    # A list comprehension: several times faster than pandas' .str accessor here.
    return pd.Series(["" if _blank(v) else str(v).strip() for v in col.tolist()], index=col.index, dtype=object)


def _numbers(text: pd.Series, kind: str) -> tuple[pd.Series, pd.Series]:
    """Parsed values of a non-blank text column and a mask of the cells that do not parse.

    Vectorised (pandas) so that a sheet of 100,000 rows validates in seconds; the same
    parser serves :func:`check_sheet` and :func:`coerce`, so what passes one converts in
    the other.
    """
    if kind == "integer":
        ok = text.str.fullmatch(_INTEGER)
        values = pd.to_numeric(text.where(ok), errors="coerce")
        return values, ~ok
    values = pd.to_numeric(text, errors="coerce")
    return values, values.isna() | ~np.isfinite(values.fillna(0.0))


def _records(df: pd.DataFrame, columns: tuple[str, ...]):
    """(index, row as dict of ``columns``) pairs: the rows of :meth:`DataFrame.iterrows`
    at a fraction of its cost (100,000 rows in well under a second)."""
    values = [df[c].tolist() for c in columns]
    return ((i, dict(zip(columns, row))) for i, row in zip(df.index, zip(*values)))


def _number_hint(text: str) -> str:
    """The fix for a number written as a spreadsheet shows it: ``45%``, ``45,5``, ``1 234``."""
    t = text.strip()
    if t.endswith("%") and pd.notna(pd.to_numeric(t[:-1].strip().replace(",", "."), errors="coerce")):
        return f": enter {t[:-1].strip()} without the % sign (percent columns hold percentages)"
    if re.fullmatch(r"[+-]?\d+,\d+", t):
        return f": use a decimal point, {t.replace(',', '.')}"
    if re.fullmatch(r"[+-]?\d{1,3}([ \u00a0\u202f']\d{3})+", t):
        return f": write it without thousands separators, {re.sub(r'[^0-9+-]', '', t)}"
    return ""


def check_sheet(df: pd.DataFrame, schema: dict, file: str) -> list[Problem]:
    """Check a sheet of strings cell by cell against a JSON schema.

    Checks required and unknown columns, required values, types (integer,
    number, string), ``minimum``/``maximum``/``exclusiveMinimum``, ``enum`` and
    ``pattern``. Returns every problem found (empty list if none), column by column
    and, within a column, row by row.
    """
    props: dict = schema["properties"]
    required = set(schema.get("required", []))
    problems: list[Problem] = []
    for col in df.columns:
        if col not in props:
            problems.append(Problem(file, None, col, f"unknown column; expected one of {sorted(props)}"))
    for col in sorted(required - set(df.columns)):
        problems.append(Problem(file, None, col, "required column is missing"))
    for col, spec in props.items():
        if col not in df.columns:
            continue
        kind = spec.get("type", "string")
        text = _text(df[col])
        blank = text.eq("")
        found: list[tuple[int, int, str]] = []  # (position, order of the check, message)
        if col in required:
            found += [(i, 0, "required value is missing") for i in np.flatnonzero(blank.to_numpy())]
        if kind in ("integer", "number"):
            values, bad = _numbers(text, kind)
            bad &= ~blank
            noun = "a whole number" if kind == "integer" else "a number"
            for i in np.flatnonzero(bad.to_numpy()):
                t = text.iloc[i]
                what = "a finite number" if kind == "number" and t.lower().lstrip("+-") in ("inf", "infinity", "nan") \
                    else noun
                found.append((i, 1, f"{t!r} is not {what}{_number_hint(t)}"))
            ok = ~blank & ~bad
            def shown(i):
                return f"{int(values.iloc[i])}" if kind == "integer" else f"{values.iloc[i]}"
            if "minimum" in spec:
                for i in np.flatnonzero((ok & (values < spec["minimum"])).to_numpy()):
                    found.append((i, 4, f"{shown(i)} is below the minimum {spec['minimum']}"))
            if "maximum" in spec:
                for i in np.flatnonzero((ok & (values > spec["maximum"])).to_numpy()):
                    found.append((i, 5, f"{shown(i)} is above the maximum {spec['maximum']}"))
            if "exclusiveMinimum" in spec:
                for i in np.flatnonzero((ok & (values <= spec["exclusiveMinimum"])).to_numpy()):
                    found.append((i, 6, f"{shown(i)} must be greater than {spec['exclusiveMinimum']}"))
            parsed = values.where(ok)
        else:
            ok = ~blank
            parsed = text
        if "enum" in spec:
            allowed = ", ".join(repr(e) for e in spec["enum"] if e != "")
            by_case = {str(e).casefold(): e for e in spec["enum"] if e != ""}
            for i in np.flatnonzero((ok & ~parsed.isin(spec["enum"])).to_numpy()):
                value = parsed.iloc[i]
                value = int(value) if kind == "integer" else value
                near = by_case.get(" ".join(str(value).split()).casefold())
                hint = f": write {near!r}" if near is not None else ""
                found.append((i, 2, f"{value!r} is not one of {allowed}{hint}"))
        if "pattern" in spec:
            matches = text.map(re.compile(spec["pattern"]).search).notna()
            for i in np.flatnonzero((ok & ~matches).to_numpy()):
                found.append((i, 3, f"{text.iloc[i]!r} does not match {spec['pattern']!r}"))
        problems += [Problem(file, _row(df.index[i]), col, msg) for i, _, msg in sorted(found)]
    return problems


def coerce(df: pd.DataFrame, schema: dict) -> pd.DataFrame:
    """Typed copy of a sheet that passed :func:`check_sheet`: numbers as float,
    integers as nullable ``Int64``, strings with blanks as ``""``; schema
    columns absent from the sheet are added empty."""
    out = pd.DataFrame(index=df.index)
    for col, spec in schema["properties"].items():
        raw = df[col] if col in df.columns else pd.Series([""] * len(df), index=df.index, dtype=object)
        kind = spec.get("type", "string")
        text = _text(raw)
        if kind in ("integer", "number"):
            values, _ = _numbers(text, kind)
            values = values.where(text.ne("")).astype(float)
            out[col] = values.round().astype("Int64") if kind == "integer" else values
        else:
            out[col] = text
    return out


def check_open_lists(arms: pd.DataFrame, vocabulary: dict | None, file: str) -> list[Problem]:
    """The arm sheet's (and the contrasts sheet's arms') drug classes, therapy types, formats and
    arm types against the protocol's lists (config ``vocabulary``; the defaults of
    :data:`~depmeta.review.vocabulary.OPEN_LISTS` where it gives none; the active arm types are
    always allowed beside the control types): a value the protocol does not list is named, with the
    list and the way to extend it."""
    vocabulary = vocabulary or {}
    problems = []
    for key, (name, default, fixed) in OPEN_LISTS.items():
        allowed = (*fixed, *(vocabulary.get(key) or default))
        by_case = {a.casefold(): a for a in allowed}
        # the arm sheet's column, and each arm's in the contrasts sheet
        columns = ("arm1_type", "arm2_type") if name == "arm_type" else (f"arm1_{name}", f"arm2_{name}")
        for column, text in [(c, _text(arms[c])) for c in (name, *columns) if c in arms.columns]:
            for i, value in zip(arms.index, text):
                if value and value not in allowed:
                    near = by_case.get(value.casefold())
                    fix = (f"write {near!r}" if near else
                           f"add it to vocabulary.{key} in the protocol, or use one of "
                           f"{', '.join(map(repr, allowed))}")
                    what = name.replace("_", " ")
                    article = "an" if what[0] in "aeiou" else "a"
                    problems.append(Problem(file, _row(i), column,
                                            f"{value!r} is not {article} {what} of this review's protocol: {fix}"))
    return problems


def check_extraction(
    studies: pd.DataFrame,
    arms: pd.DataFrame,
    contrasts: pd.DataFrame | None,
    files: dict[str, str],
) -> list[Problem]:
    """Cross-field and cross-sheet rules on typed sheets (after :func:`coerce`).

    ``files`` maps ``"studies"``, ``"arms"``, ``"contrasts"`` to the names used
    in messages; the contrasts sheet's rules are :func:`check_contrasts`'.
    """
    fs, fa = files["studies"], files["arms"]
    problems: list[Problem] = []

    first = _first_rows(studies, ["study_id"])
    for i in studies.index[studies["study_id"].duplicated(keep="first")]:
        problems.append(Problem(fs, _row(i), "study_id", f"duplicated study {studies.at[i, 'study_id']!r} "
                                                         f"(first at row {first[i]})"))
    for i, r in _records(studies, ("risk_of_bias", "rob_source", "doi", "pmid", "url")):
        if r["risk_of_bias"] != "not assessed" and not r["rob_source"]:
            problems.append(Problem(fs, _row(i), "rob_source", "a risk-of-bias judgement needs its published source"))
        if not (r["doi"] or r["pmid"] or r["url"]):
            problems.append(Problem(fs, _row(i), "doi", "missing source: give a DOI, PMID or URL"))
    known = set(studies["study_id"])

    # symptoms: one row per scale and kind of score (several scales per arm; the protocol's
    # analysis.scales chooses among them); other outcomes: one row
    keyed = arms.assign(_scale=_symptom_values(arms, "scale"), _score=_symptom_values(arms, "score_type"))
    key = ["study_id", "arm_id", "outcome", "timepoint_weeks", "analysis_population", "_scale", "_score"]
    dup = keyed.duplicated(subset=key, keep="first")
    first = _first_rows(keyed, key)
    for i in arms.index[dup]:
        r = arms.loc[i]
        what = (f", scale {r['scale'] or '(blank)'} ({keyed.at[i, '_score']})" if r["outcome"] in CONTINUOUS_OUTCOMES
                else "")
        fix = ("; a second scale of the arm goes in a row with another scale (or score_type)"
               if r["outcome"] in CONTINUOUS_OUTCOMES else "")
        problems.append(Problem(
            fa, _row(i), "arm_id",
            f"duplicated arm row: {r['study_id']}/{r['arm_id']}, {r['outcome']} at {weeks_text(r['timepoint_weeks'])} "
            f"({r['analysis_population'] or POPULATION_NOT_REPORTED}){what} already appears at row {first[i]}{fix}"))
    for i in arms.index[arms.outcome.isin(BINARY_OUTCOMES) & arms.score_type.ne("")]:
        problems.append(Problem(fa, _row(i), "score_type", (
            f"score_type {arms.at[i, 'score_type']!r} given for binary outcome {arms.at[i, 'outcome']!r}: "
            "leave it blank (it says whether a symptom score is at endpoint or a change from baseline)")))
    # a trial's rows of one outcome give their week, or none of them does (the end of treatment)
    unreported = arms["timepoint_weeks"].isna()
    for (sid, outcome), rows in arms.groupby(["study_id", "outcome"], sort=False):
        blank = unreported[rows.index]
        if blank.any() and not blank.all():
            i = rows.index[blank.to_numpy()][0]
            problems.append(Problem(fa, _row(i), "timepoint_weeks", (
                f"{sid}'s {outcome} rows give a week on some rows and none on others: give the week on every row "
                "of a trial and outcome, or on none (then the end of treatment)")))
    types = arms.groupby(["study_id", "arm_id"])["arm_type"].nunique()
    for (sid, aid), n_types in types.items():
        if n_types > 1:
            i = arms.index[(arms.study_id == sid) & (arms.arm_id == aid)][0]
            problems.append(Problem(fa, _row(i), "arm_type", f"arm {sid}/{aid} has more than one arm_type"))

    for i, r in _records(arms, ("study_id", "n", "outcome", "events", "percent", "mean", "sd", "followup_months")):
        if r["study_id"] not in known:
            problems.append(Problem(fa, _row(i), "study_id", f"study {r['study_id']!r} is not in {fs}"))
        n = r["n"]
        if r["outcome"] in BINARY_OUTCOMES:
            ev, pct = r["events"], r["percent"]
            if pd.isna(ev) and np.isnan(pct):
                problems.append(Problem(fa, _row(i), "events", f"a {r['outcome']} row needs events or percent"))
            if pd.isna(ev) and 0 < pct <= 1:
                problems.append(Problem(fa, _row(i), "percent", (
                    f"{pct:g} looks like a proportion: enter the percentage ({100 * pct:g} for {100 * pct:g} %); "
                    f"if it is {pct:g} %, enter the number of patients in events instead")))
            if not pd.isna(ev) and not pd.isna(n) and ev > n:
                problems.append(Problem(fa, _row(i), "events", f"{ev} events exceed n = {n}"))
            if not pd.isna(ev) and not np.isnan(pct) and not pd.isna(n):
                if abs(100 * ev / n - pct) > PERCENT_TOLERANCE:
                    problems.append(Problem(
                        fa, _row(i), "percent",
                        f"{pct:g}% disagrees with {ev}/{n} = {100 * ev / n:.1f}%"))
            for col in ("mean", "sd"):
                if not np.isnan(r[col]):
                    problems.append(Problem(fa, _row(i), col, f"{col} given for binary outcome {r['outcome']!r}"))
        else:
            for col in ("mean", "sd"):
                if np.isnan(r[col]):
                    problems.append(Problem(fa, _row(i), col, f"a symptoms row needs {col}"))
            if not pd.isna(r["events"]) or not np.isnan(r["percent"]):
                problems.append(Problem(fa, _row(i), "events", "events/percent given for a symptoms row"))
        if r["outcome"] == "relapse" and np.isnan(r["followup_months"]):
            problems.append(Problem(fa, _row(i), "followup_months", "a relapse row needs its follow-up length"))

    if contrasts is not None and len(contrasts):
        problems += check_contrasts(contrasts, studies, arms, files)
    return problems


def _symptom_values(arms: pd.DataFrame, column: str) -> pd.Series:
    """A column's value on symptom rows (``score_type``: blank is ``endpoint``), "" on the others."""
    values = arms[column].where(arms[column].ne("") | (column != "score_type"), "endpoint")
    return values.where(arms.outcome.isin(CONTINUOUS_OUTCOMES), "")


def check_risk_of_bias(rob: pd.DataFrame, studies: pd.DataFrame, files: dict[str, str]) -> list[Problem]:
    """Cross-checks of the typed risk-of-bias sheet: known study, a domain and a
    judgement the tool has (:data:`ROB_TOOLS`), one judgement per study, tool,
    domain and source."""
    fr, fs = files["risk_of_bias"], files["studies"]
    known = set(studies["study_id"])
    problems: list[Problem] = []
    for i, r in _records(rob, ("study_id", "tool", "domain", "judgement")):
        if r["study_id"] not in known:
            problems.append(Problem(fr, _row(i), "study_id", f"study {r['study_id']!r} is not in {fs}"))
        tool = ROB_TOOLS[r["tool"]]
        if r["domain"] not in tool["domains"]:
            problems.append(Problem(fr, _row(i), "domain",
                                    f"{r['domain']!r} is not a {r['tool']} domain ({', '.join(tool['domains'])})"))
        if r["judgement"] not in tool["judgements"]:
            problems.append(
                Problem(
                    fr,
                    _row(i),
                    "judgement",
                    f"{r['judgement']!r} is not a {r['tool']} judgement ({', '.join(tool['judgements'])})",
                )
            )
    dup = rob.duplicated(subset=["study_id", "tool", "domain", "source"], keep="first")
    for i in rob.index[dup]:
        r = rob.loc[i]
        problems.append(Problem(fr, _row(i), "domain",
                                f"{r['study_id']}: {r['tool']} {r['domain']} from this source already appears"))
    return problems


#: The two forms of a reported effect: its estimate with the CI, or the estimate on the pooled
#: scale (``log_estimate`` for a ratio, ``estimate`` for a difference) with its SE.
CI_FORM = ("estimate", "ci_low", "ci_high")
#: The CI level of a row that leaves ``ci_level`` blank, in percent.
DEFAULT_CI_LEVEL = 95.0
#: Columns of the layouts the contrasts sheet replaced, and how to convert each row.
OLD_LAYOUTS = {
    "g": "an old contrasts sheet (g, g_se): rename g to estimate and g_se to se, and add measure SMD on every row",
    "g_se": "an old contrasts sheet (g, g_se): rename g to estimate and g_se to se, and add measure SMD on every row",
    "hr": "a hazard-ratio sheet (hr, ci_low, ci_high): rename hr to estimate, add measure HR on every row, and "
          "keep the rows in the contrasts sheet (sheets.contrasts)",
    "log_hr": "a hazard-ratio sheet (log_hr, se_log_hr): rename log_hr to log_estimate and se_log_hr to se, add "
              "measure HR on every row, and keep the rows in the contrasts sheet (sheets.contrasts)",
    "se_log_hr": "a hazard-ratio sheet (log_hr, se_log_hr): rename log_hr to log_estimate and se_log_hr to se, "
                 "add measure HR on every row, and keep the rows in the contrasts sheet (sheets.contrasts)",
}


def check_layout(df: pd.DataFrame, file: str) -> list[Problem]:
    """A contrasts sheet in a layout it replaced (reported g; the hazard-ratio sheet): one
    problem per old column, with the conversion."""
    return [Problem(file, 1, col, f"this is {fix}; data/README.md, 'contrasts.csv', describes the layout")
            for col, fix in OLD_LAYOUTS.items() if col in df.columns]


def effect_scale(measure, estimate, ci_low, ci_high, ci_level, log_estimate, se) -> tuple[np.ndarray, np.ndarray]:
    """Reported effects on the scale they are pooled on, with their standard errors.

    Parameters
    ----------
    measure : array_like of str, shape (k,)
        ``OR``, ``RR``, ``HR`` (ratios, pooled as logs) or ``RD``, ``MD``, ``SMD``.
    estimate, ci_low, ci_high : array_like, shape (k,)
        The effect and its CI on the measure's own scale (``nan`` where not given).
    ci_level : array_like, shape (k,)
        The CI's level in percent (``nan``: 95).
    log_estimate, se : array_like, shape (k,)
        The log of a ratio, and the SE on the pooled scale.

    Returns
    -------
    yi, sei : ndarray, shape (k,)
        ``log`` of a ratio or the difference; the SE as given, else the width of the CI on the
        pooled scale over ``2 z``, ``z`` the normal quantile of the row's level.
    """
    from depmeta.stats.distributions import norm_ppf
    from depmeta.stats.effects import RATIO_MEASURES

    ratio = np.isin(np.asarray(measure, dtype=object).astype(str), RATIO_MEASURES)
    est, lo, hi, level, lest, se = (np.atleast_1d(np.asarray(x, float))
                                    for x in (estimate, ci_low, ci_high, ci_level, log_estimate, se))
    level = np.where(np.isnan(level), DEFAULT_CI_LEVEL, level)
    z = norm_ppf(0.5 + level / 200)
    with np.errstate(divide="ignore", invalid="ignore"):
        yi = np.where(ratio, np.where(np.isfinite(lest), lest, np.log(est)), est)
        width = np.where(ratio, np.log(hi) - np.log(lo), hi - lo)
        sei = np.where(np.isfinite(se), se, width / (2 * z))
    return yi, sei


def check_contrasts(contrasts: pd.DataFrame, studies: pd.DataFrame, arms: pd.DataFrame,
                    files: dict[str, str]) -> list[Problem]:
    """Cross-field rules of the typed contrasts sheet (after :func:`coerce`).

    A known study; two different arms whose types agree with the arm sheet where the arm is
    there; a measure of the outcome's kind (:data:`~depmeta.review.vocabulary.MEASURES_OF`); a
    relapse row's follow-up; exactly one complete form (the estimate with its CI, or the
    estimate on the pooled scale with its SE), the estimate inside its CI, a ratio above 0;
    one row per study, pair of arms, outcome, measure, timepoint, follow-up and population; and
    a trial with more than two arms in one slice (outcome, measure, timepoint, follow-up,
    population, phase) whose rows give every pair of its arms gives them consistently, as
    netmeta requires (:data:`depmeta.stats.network.TOL_MULTIARM`). Hazard ratios are pooled
    pair by pair, never in a network, and are not held to the last rule. ``files`` maps
    ``"contrasts"``, ``"studies"`` and ``"arms"`` to the names used in messages.
    """
    from depmeta.review.vocabulary import MEASURES_OF
    from depmeta.stats.effects import RATIO_MEASURES
    from depmeta.stats.network import contrasts_from_pairwise

    fc, fs, fa = files["contrasts"], files["studies"], files["arms"]
    known = set(studies["study_id"])
    arm_types = {(s, a): t for s, a, t in arms[["study_id", "arm_id", "arm_type"]].itertuples(index=False)}
    problems: list[Problem] = []
    usable = []
    columns = ("study_id", "arm1_id", "arm2_id", "arm1_type", "arm2_type", "outcome", "measure", "followup_months",
               "estimate", "ci_low", "ci_high", "ci_level", "log_estimate", "se")
    for i, r in _records(contrasts, columns):
        where = (fc, _row(i))
        if r["study_id"] not in known:
            problems.append(Problem(*where, "study_id", f"study {r['study_id']!r} is not in {fs}"))
        if r["arm1_id"] == r["arm2_id"]:
            problems.append(Problem(*where, "arm2_id", "an arm cannot be compared with itself"))
        for side in ("arm1", "arm2"):
            t = arm_types.get((r["study_id"], r[f"{side}_id"]))
            if t is not None and t != r[f"{side}_type"]:
                problems.append(Problem(*where, f"{side}_type", f"{t!r} in {fa} but {r[f'{side}_type']!r} here"))
        m, outcome = r["measure"], r["outcome"]
        if m not in MEASURES_OF[outcome]:
            problems.append(Problem(*where, "measure", f"{m} is not a measure of {outcome}: use one of "
                                                        f"{', '.join(MEASURES_OF[outcome])}"))
            continue
        if outcome == "relapse" and np.isnan(r["followup_months"]):
            problems.append(Problem(*where, "followup_months", "a relapse row needs its follow-up length"))
        ratio = m in RATIO_MEASURES
        given = {c: not np.isnan(r[c]) for c in ("estimate", "ci_low", "ci_high", "log_estimate", "se")}
        before = len(problems)
        if given["log_estimate"] and not ratio:
            problems.append(Problem(*where, "log_estimate", f"a {m} is not a ratio: give it in estimate, with se "
                                                            "or its CI, and leave log_estimate empty"))
        elif ratio and given["log_estimate"] and given["estimate"]:
            problems.append(Problem(*where, "log_estimate", (
                f"give either estimate, ci_low, ci_high (the {m} and its CI as printed) or log_estimate, se, not "
                "both: what was published goes in, the other stays empty")))
        elif given["se"] and (given["ci_low"] or given["ci_high"]):
            problems.append(Problem(*where, "se", "give either the CI (ci_low, ci_high) or se, not both: what was "
                                                  "published goes in, the other stays empty"))
        elif ratio and given["estimate"] and given["se"]:
            problems.append(Problem(*where, "se", (
                f"se is the standard error of the log {m}: give the {m} with its CI (ci_low, ci_high), or its "
                f"log in log_estimate with se")))
        elif not (given["estimate"] or given["log_estimate"]):
            problems.append(Problem(*where, "estimate", (
                f"the effect is missing: give estimate, ci_low, ci_high{' or log_estimate, se' if ratio else ''}"
                f"{'' if ratio else ' or estimate, se'}")))
        elif given["log_estimate"] and not given["se"]:
            problems.append(Problem(*where, "se", "se is missing: log_estimate needs its standard error"))
        elif not given["se"]:
            for c in ("ci_low", "ci_high"):
                if not given[c]:
                    problems.append(Problem(*where, c, f"{c} is missing: give the estimate's CI (ci_low, ci_high) "
                                                       "or its standard error in se"))
        if len(problems) > before:
            continue
        if ratio and given["estimate"]:
            for c in ("estimate", "ci_low", "ci_high"):
                if given[c] and r[c] <= 0:
                    problems.append(Problem(*where, c, f"{r[c]:g} is not a {m}: a ratio is greater than 0 "
                                                       "(a log goes in log_estimate, with se)"))
        if len(problems) > before:
            continue
        if given["ci_low"] and not r["ci_low"] < r["estimate"] < r["ci_high"]:
            problems.append(Problem(*where, "estimate", f"the {m} {r['estimate']:g} must lie strictly inside its "
                                                        f"CI ({r['ci_low']:g} to {r['ci_high']:g})"))
        elif not np.isnan(r["ci_level"]) and not given["ci_low"]:
            problems.append(Problem(*where, "ci_level", "a CI level without a CI: leave ci_level empty"))
        else:
            usable.append(i)
    # one effect per scale: a trial's effects on several symptom scales are rows of their own (the
    # analyses keep one, depmeta.review.analysis.analysable_reported)
    key = ["study_id", "pair", "outcome", "measure", "timepoint_weeks", "followup_months", "analysis_population",
           "scale_key"]
    keyed = contrasts.assign(pair=[" vs ".join(sorted(p)) for p in zip(contrasts.arm1_id, contrasts.arm2_id)],
                             scale_key=_scale_key(contrasts))
    first = _first_rows(keyed, key)
    for i in keyed.index[keyed.duplicated(subset=key, keep="first")]:
        r = keyed.loc[i]
        scale = f" on {r['scale_key']}" if r["scale_key"] else ""
        problems.append(Problem(fc, _row(i), "arm2_id", (
            f"duplicated effect: {r['study_id']} {r['pair']}, {r['outcome']} {r['measure']}{scale} at "
            f"{weeks_text(r['timepoint_weeks'])} already appears at row {first[i]}")))
    ok = contrasts.loc[usable]
    ok = ok[ok.measure != "HR"]
    yi, sei = effect_scale(ok.measure, ok.estimate, ok.ci_low, ok.ci_high, ok.ci_level, ok.log_estimate, ok.se)
    ok = ok.assign(yi=yi, sei=sei)
    slice_key = ["study_id", "outcome", "measure", "timepoint_weeks", "followup_months", "analysis_population", "phase",
                 "scale_key"]
    ok = ok.assign(scale_key=_scale_key(ok))
    for _, rows in ok.groupby(slice_key, dropna=False, sort=False):
        arms_of = set(rows.arm1_id) | set(rows.arm2_id)
        if len(arms_of) < 3 or len(rows) < len(arms_of) * (len(arms_of) - 1) // 2:
            continue  # two arms, or not every pair: the network says so (depmeta.review.nodes)
        try:
            contrasts_from_pairwise(rows.study_id, rows.arm1_id, rows.arm2_id, rows.yi, sei=rows.sei)
        except ValueError as err:
            r = rows.iloc[0]
            where = ", ".join(str(_row(i)) for i in rows.index)
            problems.append(Problem(fc, _row(rows.index[0]), "estimate", (
                f"rows {where} give every pair of {r['study_id']}'s arms {', '.join(sorted(arms_of))} "
                f"({r['outcome']}, {r['measure']}), but they do not add up as one trial's contrasts must "
                f"({str(err).split(': ', 1)[-1]}): correct the rows, as printed to enough digits "
                "(differences of the pooled-scale estimates within 0.001, as netmeta's tol.multiarm)")))
    return problems


def _scale_key(contrasts: pd.DataFrame) -> pd.Series:
    """The scale of each reported effect, blank where the sheet has none."""
    if "scale" not in contrasts:
        return pd.Series("", index=contrasts.index)
    return contrasts["scale"].fillna("").astype(str).str.strip()


def prepare_contrasts(contrasts: pd.DataFrame | None) -> pd.DataFrame | None:
    """Add ``row_id``, ``sheet_row`` and the effect on the pooled scale (``yi``, ``sei``:
    :func:`effect_scale`) to the typed contrasts sheet; a blank analysis population is
    ``not reported``, as in :func:`prepare_arms`."""
    from depmeta.review.vocabulary import contrast_row_id

    if contrasts is None:
        return None
    out = contrasts.copy()
    out["analysis_population"] = out["analysis_population"].replace("", POPULATION_NOT_REPORTED)
    out["sheet_row"] = [_row(i) for i in out.index]
    out["row_id"] = [contrast_row_id(r) for r in out.itertuples()]
    out["yi"], out["sei"] = effect_scale(out.measure, out.estimate, out.ci_low, out.ci_high, out.ci_level,
                                         out.log_estimate, out.se) if len(out) else ([], [])
    return out


def check_excluded_arms(excluded: pd.DataFrame, arms: pd.DataFrame, files: dict[str, str]) -> list[Problem]:
    """Each excluded arm must be an arm of the arm sheet, and an excluded outcome (``outcome``,
    blank: the whole arm) one of that arm's outcomes there; an arm or arm and outcome is set apart
    once (a whole arm, then one of its outcomes, is set apart twice).
    ``files`` maps ``"excluded_arms"`` and ``"arms"`` to the names used in messages."""
    fe, fa = files["excluded_arms"], files["arms"]
    known = set(zip(arms.study_id, arms.arm_id))
    outcomes = set(zip(arms.study_id, arms.arm_id, arms.outcome))
    outcome = excluded["outcome"] if "outcome" in excluded else pd.Series("", index=excluded.index)
    problems, seen = [], {}
    for (i, r), o in zip(excluded.iterrows(), outcome):
        arm = (r["study_id"], r["arm_id"])
        name = f"arm {r['study_id']}/{r['arm_id']}"
        if arm not in known:
            problems.append(Problem(fe, _row(i), "arm_id", f"{name} is not in {fa}"))
        elif o and (*arm, o) not in outcomes:
            problems.append(Problem(fe, _row(i), "outcome", f"{name} has no {o} rows in {fa}; leave outcome blank "
                                                            "to set apart the whole arm, or name one of its outcomes"))
        before = seen.setdefault(arm, set())
        if "" in before or o in before or (not o and before):
            problems.append(Problem(fe, _row(i), "arm_id", f"{name}{f' ({o})' if o else ''} is already excluded "
                                                           "above"))
        before.add(o)
    return problems


def check_claims(doc: dict, schema: dict, file: str) -> list[Problem]:
    """Check the claims document against its JSON schema; one problem per error,
    naming the claim (by id and position) and the field."""
    import jsonschema

    problems = []
    validator = jsonschema.Draft202012Validator(schema)
    items = doc.get("claims", []) if isinstance(doc, dict) else []
    for err in sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path)):
        path = list(err.absolute_path)
        if len(path) >= 2 and path[0] == "claims":
            i = path[1]
            cid = items[i].get("id", "?") if isinstance(items[i], dict) else "?"
            field = f", field '{path[2]}'" if len(path) > 2 else ""
            where = f"claim {cid} (item {i + 1}){field}"
        else:
            where = "document"
        problems.append(Problem(file, None, None, f"{where}: {err.message}"))
    seen = set()
    for i, c in enumerate(items):
        cid = c.get("id") if isinstance(c, dict) else None
        if cid in seen:
            problems.append(Problem(file, None, None, f"claim {cid} (item {i + 1}): duplicated id"))
        seen.add(cid)
    return problems


def prepare_arms(arms: pd.DataFrame) -> pd.DataFrame:
    """Add ``row_id``, ``sheet_row`` and, for binary outcomes, the count used.

    ``events_used`` is ``events`` where printed, else derived from ``percent``
    (rounded half up) with ``events_derived`` set.
    """
    out = arms.copy()
    out["analysis_population"] = out["analysis_population"].replace("", POPULATION_NOT_REPORTED)
    out["sheet_row"] = [_row(i) for i in out.index]
    if "score_type" in out:
        out["score_type"] = _symptom_values(out, "score_type")
    ids = pd.Series([arm_row_id(r) for r in out.itertuples()], index=out.index)
    # an arm with several symptom rows at one timepoint and population: each id names its scale
    # (and ':change' for a change from baseline), so that every row id stays unique
    several = ids.duplicated(keep=False) & out.outcome.isin(CONTINUOUS_OUTCOMES)
    if several.any():
        kinds = out.get("score_type", pd.Series("", index=out.index))
        ids[several] = [f"{i}:{s or 'blank'}" + (":change" if k == "change" else "")
                        for i, s, k in zip(ids[several], out.scale[several], kinds[several])]
    out["row_id"] = ids.tolist()
    binary = out["outcome"].isin(BINARY_OUTCOMES)
    printed = out["events"].notna()
    derive = binary & ~printed
    events = out["events"].astype("Float64").astype(float)
    if derive.any():
        events[derive] = counts_from_percent(out.loc[derive, "percent"], out.loc[derive, "n"].astype(float))
    out["events_used"] = np.where(binary, events, np.nan)
    out["events_derived"] = derive
    return out
