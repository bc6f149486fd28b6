"""Formatting of the certainty outputs (results/certainty/sof.csv) for the report: the
plain-language summary and Cochrane-style summary-of-findings tables with footnotes. No
computation of results happens here; the numbers and judgements come from the pipeline."""

from __future__ import annotations

import json
import math

import pandas as pd

from depmeta.report.labels import and_list
from depmeta.review.comparisons import side_texts

__all__ = ["GRADE_NOTES", "answer_items", "nnt_table", "pairwise_table", "rules_table", "sof_table",
           "strategy_name"]

#: The GRADE Working Group's definitions of the certainty levels, as printed under Cochrane's tables.
GRADE_NOTES = (
    "**High certainty:** we are very confident that the true effect lies close to that of the estimate of the "
    "effect. **Moderate certainty:** we are moderately confident in the effect estimate; the true effect is likely "
    "to be close to the estimate, but there is a possibility that it is substantially different. **Low "
    "certainty:** our confidence in the effect estimate is limited; the true effect may be substantially different "
    "from the estimate. **Very low certainty:** we have very little confidence in the effect estimate; the true "
    "effect is likely to be substantially different from the estimate."
)
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def strategy_name(s: str) -> str:
    """'combined' -> 'combined treatment'; others unchanged."""
    return "combined treatment" if s == "combined" else s


def _num(x, digits=2) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)) or pd.isna(x):
        return "–"
    text = f"{x:.{digits}f}"
    return text[1:] if text == f"-{0:.{digits}f}" else text  # a value rounding to zero has no sign


def _per1000(x) -> str:
    return "–" if pd.isna(x) else f"{x:.0f}"


def _relative(r) -> str:
    return f"{r.measure} {_num(r.estimate_display)} ({_num(r.ci_low_display)} to {_num(r.ci_high_display)})"


def _participants(r) -> str:
    text = f"{int(r.n_patients)} ({int(r.k)}"
    if r.evidence == "network":
        kd = getattr(r, "k_direct", math.nan)
        text += f"; {int(kd) if pd.notna(kd) else 0} direct"
    return text + ")"


def _not_assessed(r) -> str:
    """The domains of a rating nobody assessed, as printed beside it ("" when none)."""
    domains = getattr(r, "not_assessed", "")
    return f"{and_list(domains.split('; '))} not assessed" if isinstance(domains, str) and domains else ""


def _headline(r) -> bool:
    """Whether a row shown may head the summary (sof.csv ``headline``: never a single small trial)."""
    h = getattr(r, "headline", True)
    return True if h is None or (isinstance(h, float) and math.isnan(h)) else bool(h)


def _headline_note(r) -> str:
    note = getattr(r, "headline_note", "")
    return note if isinstance(note, str) else ""


def _types_text(types: str) -> str:
    """``placebo (2); no_treatment (1)`` -> ``placebo (2 trials), no treatment (1 trial)``."""
    parts = []
    for item in types.split("; "):
        name, _, k = item.rpartition(" (")
        k = k.rstrip(")")
        parts.append(f"{name.replace('_', ' ')} ({k} {'trial' if k == '1' else 'trials'})")
    return ", ".join(parts)


def _headlines(sof: pd.DataFrame) -> pd.Series:
    """:func:`_headline` of each row, as a boolean mask (also of an empty table)."""
    return pd.Series([_headline(r) for r in sof.itertuples()], index=sof.index, dtype=bool)


def _footnotes(r) -> list[dict]:
    notes = r.footnotes
    return json.loads(notes) if isinstance(notes, str) else list(notes or [])


def _other_rating(r, letter) -> str:
    """The certainty of the comparison × outcome's other estimate (pairwise beside a network row,
    network beside a pairwise one), with the letter of the footnote saying why the two differ."""
    other = "pairwise" if r.evidence == "network" else "network"
    word = getattr(r, f"{other}_certainty", "")
    if not isinstance(word, str) or not word:
        return ""
    return f"{other} ({'GRADE' if other == 'pairwise' else 'CINeMA'}): {word}" + (f" ({letter})" if letter else "")


def sof_table(sof: pd.DataFrame, comparison: str) -> tuple[pd.DataFrame, list[str]]:
    """One comparison's summary-of-findings table (six columns) and its footnotes ("a. ...").

    Every domain that lowered the certainty, that a reviewer overrode, or that
    nobody assessed gets a letter in the certainty cell and its reason below the
    table, and the domains not assessed are named in the cell ("within-study
    bias not assessed"), so that the rating is not read as bias ruled out; the assumed
    comparator risk gets a letter naming its source (Cochrane Handbook 5.1,
    11.5.6.3: "A footnote should specify the source or rationale for each
    control group risk"). Layout after the Handbook's standard table (11.5.3:
    outcomes, "a measure of the typical burden of these outcomes", absolute and
    relative effect, "Numbers of participants and studies", the certainty per
    outcome, "Space for comments"), without the comments column so that the
    table fits an A4 page: what would be a comment is a footnote. After the
    certainty, in the same cell (a column of its own would widen the table), the
    other estimate's (the pairwise GRADE rating after a network row's, the
    network's after a pairwise row's), so that a comparison and outcome tells one
    story: where the two differ, a footnote names the domains that do
    (``certainty_difference`` of sof.csv).
    """
    sub = sof[(sof.comparison == comparison) & _primary(sof)]
    a, b = side_texts(comparison)
    rows, letter, differs = [], _Letters(), []
    for r in sub.itertuples():
        letters = []
        for n in _footnotes(r):
            source = "CINeMA" if r.evidence == "network" else "GRADE"
            verdict = (f"{n['level']}" + (f", down {n['downgrade']}" if n["downgrade"] else "")
                       + (" (reviewer)" if n.get("overridden") else ""))
            text = f"{n['domain'].capitalize()} ({source}: {verdict}): {n['reason']}."
            letters.append(letter(text))
        differ = getattr(r, "certainty_difference", "")
        if isinstance(differ, str) and differ:
            differs.append((len(rows), f"Network (CINeMA) {r.network_certainty} and pairwise (GRADE) "
                                       f"{r.pairwise_certainty} certainty differ ({r.outcome}): {differ}."))
        follow = f", {r.followup_weeks.replace(' weeks', ' wk')}" if isinstance(r.followup_weeks, str) \
            and r.followup_weeks else ""
        mark = "" if r.evidence == "network" else " ‡"
        mixed = getattr(r, "control_types", "")
        if isinstance(mixed, str) and "; " in mixed:
            # a pairwise pool of control arms of several types: which, and that the network keeps them apart
            text = (f"Control arms of several types pooled ({r.outcome}): {_types_text(mixed)}; the network "
                    "meta-analysis keeps each type a node of its own.")
            mark += f" ({letter(text)})"
        dagger = "†" if r.measure == "SMD" else ""
        relative = _relative(r)
        if not _headline(r):
            # a single small trial: shown, but not as a summary of the evidence
            text = (f"{r.outcome.capitalize()} rests on {_headline_note(r)}: its estimate, {_relative(r)}, is not "
                    "summarised here (the network section shows it).")
            comp_risk = int_risk = "–"
            relative = f"not summarised: one small trial ({letter(text)})"
        elif pd.isna(r.risk_comparator):
            comp_risk = int_risk = "–"
        else:
            comp_risk = f"{_per1000(r.risk_comparator)}{dagger}"
            source = getattr(r, "acr_source", None)
            if isinstance(source, str) and source:
                text = f"Risk with {strategy_name(b)} ({r.outcome}): {source}."
                comp_risk += f" ({letter(text)})"
            int_risk = (f"{_per1000(r.risk_intervention)} ({_per1000(r.risk_intervention_low)} to "
                        f"{_per1000(r.risk_intervention_high)}){dagger}")
        rows.append({
            "Outcome (measure, follow-up)": f"{r.outcome.capitalize()} ({r.measure}{follow}){mark}",
            f"Risk with {strategy_name(b)}, per 1000": comp_risk,
            f"Risk with {strategy_name(a)}, per 1000 (95% CI)": int_risk,
            "Relative effect (95% CI)": relative,
            "Participants (trials)": _participants(r),
            "Certainty": f"{r.symbols} {r.certainty}" + (f"; {_not_assessed(r)}" if _not_assessed(r) else "")
                         + (f" ({','.join(letters)})" if letters else ""),
            "_other": r,
        })
    # the notes on why two ratings differ come last, so that they leave the other letters as they were
    letter_at = {}
    for i, text in differs:
        letter_at[i] = letter(text)
    for i, row in enumerate(rows):
        other = _other_rating(row.pop("_other"), letter_at.get(i, ""))
        # after a dash, not a semicolon: the word before it (the letters) does not grow wider
        row["Certainty"] += f" – {other}" if other else ""
    return pd.DataFrame(rows), letter.notes


def answer_items(sof: pd.DataFrame, comparisons) -> list[tuple[str, str]]:
    """The plain-language summary, one ``(comparison, text)`` item per comparison: for each
    outcome the statement the pipeline derived from the estimate and its certainty, with the
    relative and absolute effect, and the domains not assessed beside the certainty; the outcomes
    with very low certainty in one sentence."""
    items = []
    for comp in comparisons:
        sub = sof[(sof.comparison == comp) & _primary(sof)]
        if not len(sub):
            continue
        a, b = (strategy_name(s) for s in side_texts(comp))
        parts = []
        small = sub[~_headlines(sub)]
        sub = sub.drop(small.index)
        sure, unsure = sub[sub.certainty_score > 1], sub[sub.certainty_score <= 1]
        for r in sure.itertuples():
            na = f", {_not_assessed(r)}" if _not_assessed(r) else ""
            parts.append(f"{r.statement[:-1]} ({_effect_text(r)}; {r.certainty} certainty{na}).")
        if len(unsure):
            # the domains not assessed said once when every outcome of the sentence shares them
            same = {_not_assessed(r) for r in unsure.itertuples()}
            common = same.pop() if len(same) == 1 else ""
            listed = "; ".join(f"{r.outcome}: {_effect_text(r)}"
                               + (f", {_not_assessed(r)}" if _not_assessed(r) and not common else "")
                               for r in unsure.itertuples())
            parts.append(f"The evidence is very uncertain about the effect of {a} compared with {b} on "
                         f"{and_list([r.outcome for r in unsure.itertuples()])} ({listed}; very low certainty"
                         + (f", {common}" if common else "") + ").")
        for r in small.itertuples():
            # a single small trial heads no statement: it is named, and left unsummarised
            parts.append(f"On {r.outcome}, the evidence is {_headline_note(r)}: too little to summarise.")
        items.append((comp, " ".join(parts)))
    return items


def _primary(sof: pd.DataFrame) -> pd.Series:
    return sof.primary.astype(bool) if "primary" in sof else pd.Series(True, index=sof.index)


def pairwise_table(sof: pd.DataFrame, comparisons) -> tuple[pd.DataFrame, list[str]]:
    """The GRADE certainty of every pooled pairwise estimate (supporting detail), with footnotes; a
    domain nobody assessed is named beside the rating, as in :func:`sof_table`."""
    from depmeta.report.labels import comparison_label

    rows, letter = [], _Letters()
    pw = sof[sof.evidence == "pairwise"]
    order = {c: i for i, c in enumerate(comparisons)}
    pw = pw.sort_values("comparison", key=lambda c: c.map(order), kind="stable")
    for r in pw.itertuples():
        letters = []
        for n in _footnotes(r):
            who = " (reviewer)" if n.get("overridden") else ""
            text = f"{n['domain'].capitalize()} ({n['level']}{who}): {n['reason']}."
            letters.append(letter(text))
        rows.append({
            "Comparison": comparison_label(r.comparison),
            "Outcome": r.outcome,
            "Effect (95% CI)": _relative(r),
            "Patients (trials)": f"{int(r.n_patients)} ({int(r.k)})",
            "Certainty (GRADE)": f"{r.symbols} {r.certainty}" + (f"; {_not_assessed(r)}" if _not_assessed(r) else "")
                                 + (f" ({','.join(letters)})" if letters else ""),
        })
    return pd.DataFrame(rows), letter.notes


def nnt_table(sof: pd.DataFrame, comparisons) -> pd.DataFrame:
    """Risk difference per 1000 and NNT (Altman's NNTB/NNTH form) of each summary-of-findings row."""
    from depmeta.report.labels import comparison_label

    sub = sof[_primary(sof) & sof.risk_comparator.notna()] if "risk_comparator" in sof else sof.iloc[:0]
    sub = sub[_headlines(sub)]  # no number needed to treat from a single small trial
    order = {c: i for i, c in enumerate(comparisons)}
    sub = sub.sort_values("comparison", key=lambda c: c.map(order), kind="stable")
    return pd.DataFrame([{
        "Comparison": comparison_label(r.comparison),
        "Outcome": r.outcome + (" (responders)" if r.measure == "SMD" else ""),
        "Difference per 1000 (95% CI)": f"{r.difference:+.0f} ({r.difference_low:+.0f} to {r.difference_high:+.0f})",
        "NNT (95% CI)": r.nnt,
    } for r in sub.itertuples()])


def rules_table(grade: pd.DataFrame, cinema: pd.DataFrame) -> pd.DataFrame:
    """The rule each domain applied (as the pipeline recorded it), one row per framework × domain."""
    rows = []
    for name, df in (("GRADE (pairwise)", grade), ("CINeMA (network)", cinema)):
        if not len(df):
            continue
        rules = df[~df.overridden.astype(bool)]
        for domain, d in rules.groupby("domain", sort=False):
            rows.append({"Framework": name, "Domain": domain, "Rule": " / ".join(dict.fromkeys(d.rule))})
    return pd.DataFrame(rows)


class _Letters:
    """A table's footnotes: each text gets the next letter (:func:`_label`) the first time it is
    used and keeps it; ``notes`` lists them as printed, "a. text"."""

    def __init__(self):
        self.of, self.notes = {}, []

    def __call__(self, text: str) -> str:
        if text not in self.of:
            self.of[text] = _label(len(self.of))
            self.notes.append(f"{self.of[text]}. {text}")
        return self.of[text]


def _label(i: int) -> str:
    """Footnote letters a..z, then aa, ab, ..."""
    return _LETTERS[i] if i < 26 else _LETTERS[i // 26 - 1] + _LETTERS[i % 26]


def _effect_text(r) -> str:
    what = f"{r.measure} {_num(r.estimate_display)}, 95% CI {_num(r.ci_low_display)} to {_num(r.ci_high_display)}"
    if pd.notna(r.risk_comparator):
        unit = " responders" if r.measure == "SMD" else ""
        what += f", {_per1000(r.risk_intervention)} vs {_per1000(r.risk_comparator)}{unit} per 1000"
    if r.evidence != "network":
        what += f", pairwise, {int(r.k)} {'trial' if int(r.k) == 1 else 'trials'}"
    elif int(r.k) == 1:
        what += ", network, one trial"  # an estimate resting on one trial says so where it is printed
    return what

