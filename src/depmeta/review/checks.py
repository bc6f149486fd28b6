"""Set the pooled evidence against claims and published benchmarks. Pure
functions on DataFrames; no file I/O.

Claims (``data/claims.yaml``) are evaluated against this pipeline's pooled
estimates (the confidence interval, CI, at the configured level) with four
verdicts (:data:`CLAIM_VERDICTS`):

- ``supported``: the interval shows what the claim says;
- ``not shown``: the interval neither shows it nor rules it out;
- ``contradicted``: the interval rules it out;
- ``not testable``: the claim is not about something trials of these
  strategies measure (``testable: false``, with its reason), or the evidence
  here cannot test it (no pooled estimate for that comparison and outcome,
  or a different effect measure); the reason is given.

How the interval decides, by the kind of claim (the null value, *no difference*,
is 1 for ratio measures and 0 for RD and g):

- a *directional* claim (``measure: direction`` with one bound, normally the
  null: ``low: 1`` claims a ratio above 1, ``high: 0`` a g below 0): supported
  when the CI lies entirely on the claimed side of the bound, contradicted when
  it lies entirely on the other side, not shown when it includes the bound;
- a claimed *range* or value (``low`` and/or ``high`` on the claim's measure;
  one end may be open): contradicted when the CI lies entirely outside the
  range. When the range excludes the null (a claimed difference, e.g. RD 0.10),
  supported when the CI meets the range and excludes the null, not shown when
  it meets the range but includes the null. When the range includes the null
  (a claim that allows no difference, e.g. RR 0.8 to 1.25), supported only when
  the CI lies within the range, not shown when it reaches beyond it;
- a claim of *no difference* (both bounds empty): contradicted when the CI
  excludes the null; otherwise not shown, since without a claimed margin an
  interval that includes the null also includes differences (code the margin
  as ``low``/``high`` to make such a claim a range);
- an *event rate* (a proportion, ``measure: event_rate``) is compared with the
  prediction interval of the pooled rate where one was computed, i.e. with where
  trials' rates are expected to fall, and with the CI of the pooled rate only
  where there is none: supported when that interval lies within the claimed
  range, contradicted when it lies entirely outside it, not shown when it
  reaches beyond it. The reason names the interval used.

Claims and published meta-analyses are set against the pooled estimates of the
protocol's primary population (``analysis.populations``: in the embedded review adults
and older adults, the adolescent trials a stratum of their own). Where the primary
population also holds younger trials (a protocol that pools all ages), claims about
adults and the published meta-analyses (all of adults) are set against the pooled
estimates of its adult trials when those are given (``adult=``), so that adolescent
trials do not decide them.

A claim is only ever set against the estimate of the population, timepoint
and scale it speaks of, else it is ``not testable`` with the reason:

- ``subgroup`` (mild, severe, chronic, treatment-resistant, personality
  disorder, remitted, ...): the estimate pooled from the trials of that
  subgroup (:data:`SUBGROUP_RULES`, from the study sheet's coded fields);
  subgroups the study sheet does not code (:data:`SUBGROUP_UNCODED`, e.g.
  baseline severity, which is free text) are not testable;
- ``timing: early`` (speed, "faster relief"): the estimate pooled at each
  trial's earliest reported timepoint, from the trials whose earliest timepoint
  lies before the one of the main analysis, their end of treatment
  (:func:`early_contrasts`: a trial with one timepoint gives no early evidence);
  an early pool that rests on end-of-treatment estimates (input rows of the
  main pool) is not testable; ``timing: course`` (a time course) is not
  testable;
- ``measure: RD`` (an absolute difference): the risk-difference estimate,
  pooled beside the ratio measure for binary outcomes;
- ``therapy_type`` / ``drug_class`` (a claim about named therapies, e.g. IPT,
  or drug classes, e.g. SSRIs): the estimates pooled from those arms only
  (:func:`specific_sheets`: psychotherapy and combined arms of another therapy
  type, medication and combined arms of another drug class set aside), so that
  a trial enters with its arm of that therapy, or not at all; a claim naming a
  therapy for a comparison without a psychotherapy or combined arm (a drug
  class without a medication or combined arm) is not testable;
- a directional claim about relapse: the pooled hazard ratio (time to
  relapse) where the trials' published hazard ratios are pooled, else the
  count-based ratio; the reason gives the count-based estimate beside the
  hazard ratio where both are pooled;
- ``domain`` functioning or quality of life: not testable against symptom
  scores or response counts;
- a comparison that is not one of :data:`depmeta.review.contrasts.COMPARISONS`
  (``sequential``: psychotherapy after response to medication, Guidi & Fava
  2021) is kept apart and not set beside combined vs medication.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from depmeta.review.contrasts import studies_text
from depmeta.review.vocabulary import COMPARISONS, strategy_of
from depmeta.stats.effects import RATIO_MEASURES

__all__ = [
    "ClaimEvidence",
    "claim_arms",
    "specific_sheets",
    "uncoded_hazard_studies",
    "evaluate_claims",
    "early_contrasts",
    "judge_claim",
    "compare_benchmarks",
    "network_benchmarks",
    "about_adults",
    "subgroup_studies",
    "CLAIM_VERDICTS",
    "SUBGROUP_RULES",
    "SUBGROUP_UNCODED",
    "SEPARATE_COMPARISONS",
]

#: The verdicts, from the strongest for the claim to none.
CLAIM_VERDICTS = ("supported", "not shown", "contradicted", "not testable")
_COLS = ["id", "article", "claim", "comparison", "outcome", "measure", "low", "high", "population", "subgroup",
         "timing", "domain", "therapy_type", "drug_class", "evidence", "verdict", "reason", "pooled_measure",
         "pooled_k", "pooled_estimate", "pooled_ci_low", "pooled_ci_high", "pooled_pi_low", "pooled_pi_high"]

#: Subgroups with an estimate of their own: which trials of the study sheet belong
#: to each (``condition``, ``chronicity`` and ``design`` are coded fields).
SUBGROUP_RULES = {
    "chronic": ("trials of chronic depression or dysthymia (condition chronic_MDD or dysthymia, or chronicity "
                "chronic)", lambda s: s.condition.isin(["chronic_MDD", "dysthymia"]) | (s.chronicity == "chronic")),
    "recurrent": ("trials of recurrent depression (chronicity recurrent or condition recurrent_MDD_remitted)",
                  lambda s: (s.chronicity == "recurrent") | (s.condition == "recurrent_MDD_remitted")),
    "remitted": ("trials randomizing patients in remission or response (condition recurrent_MDD_remitted, or a "
                 "maintenance or sequential design)",
                 lambda s: (s.condition == "recurrent_MDD_remitted") | s.design.isin(["maintenance", "sequential"])),
    "treatment_resistant": ("trials of treatment-resistant depression (condition treatment_resistant)",
                            lambda s: s.condition == "treatment_resistant"),
}
_SEVERITY = ("baseline severity is not coded per trial (the study sheet's baseline_severity is free text), "
             "so there is no estimate in {} depression here")
#: Subgroups the study sheet does not code: claims about them are not testable, with this reason.
SUBGROUP_UNCODED = {
    "mild": _SEVERITY.format("mild"),
    "mild_to_moderate": _SEVERITY.format("mild to moderate"),
    "moderate_to_severe": _SEVERITY.format("moderate to severe"),
    "severe": _SEVERITY.format("severe"),
    "severe_or_chronic": _SEVERITY.format("severe (or severe or chronic)"),
    "personality_disorder": "comorbid personality disorder is not coded per trial, so there is no estimate in "
                            "patients with a personality disorder here",
    "comorbidity": "comorbid medical or psychiatric conditions are not coded per trial, so there is no estimate "
                   "in that subgroup here",
}
#: Comparisons kept apart from the pairwise ones (never set beside another comparison).
SEPARATE_COMPARISONS = {
    "sequential": "sequential treatment (psychotherapy after response to medication, with or without continued "
                  "medication, vs control conditions; Guidi & Fava 2021) is a comparison of its own, not combined "
                  "vs medication, and is not pooled here",
}
_NOT_SYMPTOMS = ("the claim is about {}; the evidence here is symptom scores and response, remission, relapse "
                 "and dropout counts, which do not measure it")
ALL_TRIALS, ADULT_TRIALS = "primary population", "adult trials"
#: The arm types a claim's ``therapy_type`` / ``drug_class`` applies to (the arm sheet's columns).
ARMS_OF = {"therapy_type": ("psychotherapy", "combined"), "drug_class": ("medication", "combined")}
_YOUNG = ("adolescen", "child", "youth", "young people")


def about_adults(population) -> bool:
    """Whether a claim's population is adults only (text starting with 'adult' and
    naming no younger group)."""
    text = str(population or "").strip().lower()
    return text.startswith("adult") and not any(w in text for w in _YOUNG)


def _num(x) -> float:
    return float("nan") if x is None or (isinstance(x, float) and math.isnan(x)) or pd.isna(x) else float(x)


def _overlaps(low: float, high: float, ci_low: float, ci_high: float) -> bool:
    lo = -math.inf if math.isnan(low) else low
    hi = math.inf if math.isnan(high) else high
    return bool(lo <= ci_high and hi >= ci_low)


@dataclass(frozen=True)
class ClaimEvidence:
    """The pooled estimates one set of trials or arms offers the claims: ``summary`` and
    ``rates`` of the primary population and the optional ``adult``, ``early`` and ``subgroups`` of
    :func:`evaluate_claims` (same meaning); ``relapse_notes``: (comparison, about adults,
    subgroup or None) -> what the reason of a relapse claim set against them adds (e.g. hazard ratios left out)."""

    summary: pd.DataFrame
    rates: pd.DataFrame
    adult: tuple | None = None
    early: tuple | None = None
    subgroups: dict | None = None
    relapse_notes: dict | None = None


def _codes(value) -> tuple[str, ...]:
    """A claim field of codes (a list, one string or empty) as a sorted tuple."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ()
    values = [value] if isinstance(value, str) else value
    return tuple(sorted({str(v).strip() for v in values if str(v).strip()}))


def claim_arms(claim: dict) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The therapy types and drug classes a claim is about (its ``therapy_type`` and
    ``drug_class``, sorted; empty tuples when it names none): the key of the estimates
    pooled from those arms (``specific`` of :func:`evaluate_claims`)."""
    return _codes(claim.get("therapy_type")), _codes(claim.get("drug_class"))


def _arms_text(key: tuple[tuple[str, ...], tuple[str, ...]], sep: str = " and ") -> str:
    return sep.join(" or ".join(v) + " arms" for v in key if v)


def specific_sheets(sheets: dict[str, pd.DataFrame], therapy_types=(), drug_classes=()) -> dict[str, pd.DataFrame]:
    """The sheets with only the arms of the named therapy types and drug classes among the
    arms they apply to (:data:`ARMS_OF`): psychotherapy and combined arms of another (or no
    coded) therapy type and medication and combined arms of another (or no coded) drug class
    are left out, the other arms kept. Reported effects (``contrasts``, hazard ratios among
    them) are kept only when each of their arms the filter applies to is an arm of the arm
    sheet coded with a named value (a hazard ratio of arms the arm sheet does not have is left
    out). Contrasts formed from the result hold only those arms."""
    wanted = {"therapy_type": set(therapy_types), "drug_class": set(drug_classes)}
    wanted = {col: values for col, values in wanted.items() if values}
    out = dict(sheets)
    arms = sheets["arms"]
    if not wanted or not len(arms):
        return out
    coded = {col: dict(zip(zip(arms.study_id, arms.arm_id), arms[col])) for col in wanted}
    keep = np.ones(len(arms), bool)
    for col, values in wanted.items():
        keep &= ~arms.arm_type.isin(ARMS_OF[col]).to_numpy() | arms[col].isin(values).to_numpy()
    out["arms"] = arms[keep]

    def named(study, arm, arm_type) -> bool:
        return all(arm_type not in ARMS_OF[col] or coded[col].get((study, arm)) in values
                   for col, values in wanted.items())

    sheet = sheets.get("contrasts")
    if sheet is not None and len(sheet):
        ok = [named(r.study_id, r.arm1_id, r.arm1_type) and named(r.study_id, r.arm2_id, r.arm2_type)
              for r in sheet.itertuples()]
        out["contrasts"] = sheet[np.array(ok, bool)]
    return out


def uncoded_hazard_studies(sheets: dict[str, pd.DataFrame], therapy_types=(), drug_classes=()) -> dict[str, list]:
    """The studies of the contrasts sheet's hazard ratios that :func:`specific_sheets` leaves out
    because an arm the filter applies to is not in the arm sheet (so its therapy type or drug
    class is not coded), by the comparison of their hazard ratio."""
    hr, arms = sheets.get("contrasts"), sheets["arms"]
    hr = hr[hr.measure == "HR"] if hr is not None and len(hr) else hr
    cols = [col for col, values in zip(ARMS_OF, (therapy_types, drug_classes)) if values]
    if hr is None or not len(hr) or not cols:
        return {}
    known = set(zip(arms.study_id, arms.arm_id))
    pair = {frozenset(v) if v[0] != v[1] else frozenset(v[:1]): k for k, v in COMPARISONS.items()}
    out: dict[str, list] = {}
    for r in hr.itertuples():
        sides = ((r.arm1_id, r.arm1_type), (r.arm2_id, r.arm2_type))
        if any((r.study_id, arm) not in known and arm_type in ARMS_OF[col] for col in cols for arm, arm_type in sides):
            comparison = pair.get(frozenset(strategy_of(t) for _, t in sides))
            if comparison and r.study_id not in out.setdefault(comparison, []):
                out[comparison].append(r.study_id)
    return out


def _arms_apply(comparison: str, key) -> str:
    """Why a claim's named therapy or drug class cannot apply to its comparison, or ""."""
    strategies = COMPARISONS.get(comparison, (comparison,))
    for col, values in zip(ARMS_OF, key):
        if values and not set(strategies) & set(ARMS_OF[col]):
            what = "therapy" if col == "therapy_type" else "drug class"
            return (f"the claim names the {what} {' or '.join(values)}, but {comparison.replace('_', ' ')} has no "
                    f"{' or '.join(ARMS_OF[col])} arm")
    return ""


def _fmt_range(low: float, high: float) -> str:
    if math.isnan(low) and math.isnan(high):
        return "no difference"
    if math.isnan(low):
        return f"≤ {high:g}"
    if math.isnan(high):
        return f"≥ {low:g}"
    return f"{low:g}" if low == high else f"{low:g} to {high:g}"


def _side(low: float, high: float, ci_low: float, ci_high: float) -> str:
    """Where the interval lies against the range: 'above', 'below' (entirely outside it),
    'within' (entirely inside it) or 'overlaps'."""
    lo = -math.inf if math.isnan(low) else low
    hi = math.inf if math.isnan(high) else high
    if ci_high < lo:
        return "below"
    if ci_low > hi:
        return "above"
    return "within" if lo <= ci_low and ci_high <= hi else "overlaps"


def judge_claim(kind: str, low: float, high: float, null: float, ci: tuple[float, float], pct: str,
                label: str = "CI", measure: str = "") -> tuple[str, str]:
    """The verdict on a claim and the reason, from one interval (the rules of the module
    docstring).

    Parameters
    ----------
    kind : {"direction", "range", "rate"}
        ``direction``: one bound (``low``: the claim is above it; ``high``: below it);
        ``range``: the claimed value or range on an effect measure (both bounds empty: no
        difference); ``rate``: a claimed event rate or range of rates.
    low, high : float
        The claimed bounds (NaN: open).
    null : float
        No difference on the measure's scale (1 for ratios, 0 for RD and g; unused for rates).
    ci : (float, float)
        The interval the claim is set against.
    pct : str
        Its level ("95%").
    label : str
        What the interval is, for the reason ("CI", "prediction interval ...").
    measure : str
        The measure's name, for the reason ("RR", "event rate").
    """
    a, b = ci
    name, on = (f"{measure} ", f" in {measure}") if measure else ("", "")
    iv = f"the {pct} {label} {a:.2f} to {b:.2f}"
    nothing = f"{null:g} (no difference)"
    meets = "includes it" if low == high else "overlaps it"
    if kind == "direction":
        up = not math.isnan(low)
        bound = low if up else high
        at = nothing if bound == null else f"{bound:g}"
        claimed = f"claimed {name}{'above' if up else 'below'} {at}"
        if (a > bound) if up else (b < bound):
            return "supported", f"{claimed}; {iv} lies entirely {'above' if up else 'below'} it"
        if (b < bound) if up else (a > bound):
            return "contradicted", (f"{claimed}; {iv} lies entirely {'below' if up else 'above'} it, "
                                    "the opposite direction")
        return "not shown", f"{claimed}; {iv} includes {at}, so neither direction is shown"
    if kind == "rate":
        claimed = f"claimed {name}{_fmt_range(low, high)}"
        where = _side(low, high, a, b)
        if where == "within":
            return "supported", f"{claimed}; {iv} lies within it"
        if where in ("above", "below"):
            return "contradicted", f"{claimed}; {iv} lies entirely {where} it"
        return "not shown", f"{claimed}; {iv} {meets} but reaches beyond it"
    if math.isnan(low) and math.isnan(high):
        if a > null or b < null:
            return "contradicted", f"claimed no difference{on}; {iv} excludes {nothing}"
        return "not shown", (f"claimed no difference{on}; {iv} includes {nothing} but also differences up to its "
                             "bounds, and the claim states no margin within which a difference would not matter")
    claimed = f"claimed {name}{_fmt_range(low, high)}"
    where = _side(low, high, a, b)
    if where in ("above", "below"):
        return "contradicted", f"{claimed}; {iv} lies entirely {where} it"
    if _side(low, high, null, null) in ("above", "below"):
        # the claimed range lies on one side of no difference: a claimed difference
        if a > null or b < null:
            return "supported", f"{claimed}; {iv} {meets} and excludes {nothing}"
        return "not shown", f"{claimed}; {iv} {meets} but also includes {nothing}"
    if where == "within":
        return "supported", f"{claimed} (a range that includes no difference); {iv} lies within it"
    return "not shown", f"{claimed} (a range that includes no difference); {iv} reaches beyond it"


def subgroup_studies(studies: pd.DataFrame, subgroup: str) -> set:
    """Study ids of the study sheet in a subgroup of :data:`SUBGROUP_RULES`."""
    _, rule = SUBGROUP_RULES[subgroup]
    return set(studies.study_id[rule(studies)])


def early_contrasts(early: pd.DataFrame, main: pd.DataFrame) -> pd.DataFrame:
    """The contrasts at each trial's earliest timepoint that can speak of speed: those whose
    timepoint lies before the timepoint of the same trial, comparison and outcome in the
    main analysis (``main``: its contrasts, at the week each outcome's time frame chooses,
    ``analysis.timeframes``, taken as the end of treatment; ``early``: the same phases at any
    week, the earliest, :meth:`~depmeta.review.analysis.AnalysisOptions.early`). A trial whose
    earliest timepoint is its end-of-treatment timepoint gives no early evidence and is left out."""
    if not len(early) or not len(main):
        return early.iloc[:0] if len(early) else early
    arm_level = main[main.source_kind != "hazard_ratio"] if "source_kind" in main else main
    end = {(r.study_id, r.comparison, r.outcome): float(r.timepoint_weeks) for r in arm_level.itertuples()}
    keep = [float(tp) < end.get(key, -math.inf)
            for key, tp in zip(zip(early.study_id, early.comparison, early.outcome), early.timepoint_weeks)]
    return early[np.array(keep, bool)].reset_index(drop=True)


def _input_rows(x) -> set:
    """A pooled row's input row ids (a list in memory, ``;``-joined in a result table)."""
    if isinstance(x, (list, tuple, np.ndarray)):
        return {str(i) for i in x}
    return set() if _blank(x) else set(str(x).split(";"))


def _same_estimates(early_row, main: pd.DataFrame) -> str:
    """Why the early pooled row says nothing about speed, or "": when it rests on input rows
    of the main (end-of-treatment) pool of the same comparison, outcome and measure."""
    if not len(main) or "row_ids" not in early_row or "row_ids" not in main:
        return ""
    hit = main[(main.comparison == early_row.comparison) & (main.outcome == early_row.outcome)
               & (main.measure == early_row.measure)]
    if not len(hit):
        return ""
    early_ids, main_ids = _input_rows(early_row.row_ids), _input_rows(hit.iloc[0].row_ids)
    shared = early_ids & main_ids
    if not shared:
        return ""
    if early_ids <= main_ids:
        return ("the pool at the earliest timepoint rests on the same estimates as the end-of-treatment pool "
                f"({studies_text(len({i.split(':')[0] for i in early_ids}))} at the same timepoints), so it says "
                "nothing about speed")
    n = len({i.split(":")[0] for i in shared})
    return (f"{studies_text(n)} of the pool at the earliest timepoint enter it with their end-of-treatment "
            "estimates, so it does not measure speed")


def _rates_row(frame: pd.DataFrame, strategy: str, outcome: str):
    hit = frame[(frame.strategy == strategy) & (frame.outcome == outcome)] if len(frame) else frame
    if len(hit) and hit.iloc[0].status == "pooled":
        return hit.iloc[0], ""
    k = int(hit.iloc[0].k) if len(hit) else 0
    return None, f"no pooled {strategy} {outcome} rate here ({studies_text(k)})"


def _pick(frame: pd.DataFrame, comparison: str, outcome: str, measure: str):
    """The pooled row on the claim's scale, or (None, reason), and a note on the other
    pooled relapse measure.

    A ``direction`` claim about relapse takes the pooled hazard ratio where the trials
    report hazard ratios and they are pooled (time to relapse, with each trial's follow-up
    and censoring), else the count-based analysis; the note gives the other one where it
    is pooled too. Any other ``direction`` claim takes the primary analysis (the configured
    measure); any other claim the row of its own measure (RD, HR, ...)."""
    if not len(frame):
        return None, f"no pooled estimate for {comparison}, {outcome} ({studies_text(0)})", ""
    hit = frame[(frame.comparison == comparison) & (frame.outcome == outcome)]
    if "measure" not in hit:
        hit = hit.assign(measure="")
    if measure == "direction":
        primary = hit[~hit.measure.isin(["RD", "HR"])]
        hr = hit[hit.measure == "HR"]
        pooled_primary = primary[primary.status == "pooled"]
        pooled_hr = hr[hr.status == "pooled"]
        if len(pooled_hr) and outcome == "relapse":
            note = ""
            if len(pooled_primary):
                r = pooled_primary.iloc[0]
                note = (f"the count-based {r.measure} of relapse ({studies_text(int(r.k))}) is "
                        f"{r.estimate_display:.2f} ({r.ci_low_display:.2f} to {r.ci_high_display:.2f})")
            return pooled_hr.iloc[0], "", note
        if len(pooled_primary):
            return pooled_primary.iloc[0], "", ""
        if len(pooled_hr):
            return pooled_hr.iloc[0], "", ""
        k = int(primary.iloc[0].k) if len(primary) else 0
        if len(hr):
            k_hr = int(hr.iloc[0].k)
            return None, (f"no pooled estimate for {comparison}, {outcome} ({studies_text(k)} with counts, "
                          f"{studies_text(k_hr)} with a hazard ratio)"), ""
        return None, f"no pooled estimate for {comparison}, {outcome} ({studies_text(k)})", ""
    wanted = {"g": "SMD"}.get(measure, measure)
    mine = hit[hit.measure == wanted]
    if not len(mine):
        if len(hit):
            return None, (f"claim is a {measure}; the evidence here is pooled as "
                          f"{', '.join(dict.fromkeys(hit.measure))}"), ""
        return None, f"no pooled estimate for {comparison}, {outcome} ({studies_text(0)})", ""
    if mine.iloc[0].status != "pooled":
        return None, f"no pooled estimate for {comparison}, {outcome} ({studies_text(int(mine.iloc[0].k))})", ""
    return mine.iloc[0], "", ""


def _blank(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x)) or str(x).strip() in ("", "nan", "None")


def evaluate_claims(claims: list[dict], summary: pd.DataFrame, rates: pd.DataFrame, level: float = 0.95,
                    adult: tuple[pd.DataFrame, pd.DataFrame] | None = None,
                    early: tuple[pd.DataFrame, pd.DataFrame | None] | None = None,
                    subgroups: dict[str, tuple[pd.DataFrame, pd.DataFrame | None]] | None = None,
                    specific: dict[tuple, ClaimEvidence] | None = None) -> pd.DataFrame:
    """One row per claim with its verdict and the pooled estimate beside it.

    Parameters
    ----------
    claims : list of dict
        The claims (``data/claims.yaml``'s items).
    summary : DataFrame
        Pooled estimates of the primary population, one row per comparison × outcome ×
        measure (the ratio measure, and RD / HR rows where pooled).
    rates : DataFrame
        Pooled event rates per strategy × outcome.
    level : float
        Confidence level, for the reasons' wording.
    adult : (summary, rates), optional
        The same pooled from the adult trials only, where the primary population holds
        others (:func:`depmeta.review.evidence.claim_evidence`); claims about adults
        (:func:`about_adults`) are evaluated against it, and the ``evidence``
        column says which set was used.
    early : (summary, adult summary), optional
        Pooled estimates at each trial's earliest timepoint before its end of
        treatment (:func:`early_contrasts`); speed claims (``timing: early``) are
        evaluated against it, else not testable. Where its row rests on input
        rows of the main pool (``row_ids``), the claim is not testable.
    subgroups : dict, optional
        Subgroup name -> (summary, adult summary) pooled from the trials of that
        subgroup; subgroup claims are evaluated against it, else not testable.
    specific : dict, optional
        :func:`claim_arms` key -> :class:`ClaimEvidence` pooled from those arms only
        (:func:`specific_sheets`); claims naming a therapy type or drug class are
        evaluated against it, else not testable.

    Scales: ``event_rate`` claims are proportions (0-1) compared with the pooled
    event rate of the strategy named in ``comparison``; ``RR``/``OR``/``HR``
    claims on the ratio scale, ``RD`` and ``g`` on their own scales; ``direction``
    claims give a bound on the scale of the pooled measure (1 for ratios, 0 for
    differences and g; a negative g means fewer symptoms in the first-named
    strategy).
    """
    pct = f"{100 * level:g}%"
    rows = []
    for c in claims:
        low, high = _num(c.get("low")), _num(c.get("high"))
        out = {k: c.get(k) for k in ("id", "article", "claim", "comparison", "outcome", "measure", "population")}
        subgroup, timing, domain = (None if _blank(c.get(k)) else c.get(k) for k in ("subgroup", "timing", "domain"))
        ev = ClaimEvidence(summary, rates, adult, early, subgroups)
        use_adult = adult is not None and about_adults(c.get("population"))
        evidence = [ADULT_TRIALS if use_adult else ALL_TRIALS]
        key = claim_arms(c)
        out.update(low=low, high=high, subgroup=subgroup or "", timing=timing or "", domain=domain or "",
                   therapy_type="+".join(key[0]), drug_class="+".join(key[1]),
                   pooled_measure="", pooled_k=np.nan, pooled_estimate=np.nan, pooled_ci_low=np.nan,
                   pooled_ci_high=np.nan, pooled_pi_low=np.nan, pooled_pi_high=np.nan)

        notes = []  # what the reason adds whatever the verdict

        def untestable(reason, out=out, evidence=evidence, notes=notes):
            rows.append({**out, "evidence": "; ".join(evidence), "verdict": "not testable",
                         "reason": "; ".join([reason, *notes])})

        if not c.get("testable", True):
            untestable(c.get("why") or "not a testable claim")
            continue
        measure, outcome, comparison = c["measure"], c.get("outcome"), c["comparison"]
        if domain in ("functioning", "quality_of_life", "functioning_and_quality_of_life"):
            untestable(_NOT_SYMPTOMS.format(domain.replace("_", " ")))
            continue
        if comparison in SEPARATE_COMPARISONS:
            untestable(SEPARATE_COMPARISONS[comparison])
            continue
        if timing == "course":
            untestable("a claim about the time course of the effect needs outcomes at several timepoints per "
                       "trial; the estimates here are at one timepoint per trial")
            continue
        if any(key):
            problem = _arms_apply(comparison, key)
            if problem or specific is None or key not in specific:
                untestable(problem or f"the claim is about {_arms_text(key)}, and no estimate from them was computed")
                continue
            ev = specific[key]
            evidence.append(_arms_text(key, "; "))
            relapse_note = ((ev.relapse_notes or {}).get((comparison, use_adult, subgroup))
                            if outcome == "relapse" else None)
            if relapse_note:
                notes.append(relapse_note)
        summary_c, rates_c = ev.adult if use_adult and ev.adult is not None else (ev.summary, ev.rates)
        if subgroup is not None:
            name = subgroup.replace("_", " ")
            if subgroup in SUBGROUP_UNCODED:
                untestable(SUBGROUP_UNCODED[subgroup])
                continue
            if measure == "event_rate":
                untestable(f"the claim is about the {name} subgroup; event rates are not pooled by subgroup here")
                continue
            if ev.subgroups is None or subgroup not in ev.subgroups:
                untestable(f"the claim is about the {name} subgroup, and no estimate in it was computed")
                continue
            pair = ev.subgroups[subgroup]
            summary_c = pair[1] if use_adult and pair[1] is not None else pair[0]
            evidence.append(f"{name} subgroup")
        if timing == "early":
            if measure == "event_rate":
                untestable("a claim about speed; event rates are pooled at each trial's latest timepoint only")
                continue
            if subgroup is not None or ev.early is None:
                untestable("a claim about speed needs the estimate at the earliest timepoint"
                           + (" in that subgroup" if subgroup is not None else "") + ", which was not computed")
                continue
            main_c, summary_c = summary_c, ev.early[1] if use_adult and ev.early[1] is not None else ev.early[0]
            evidence.append("earliest timepoint")
        if measure == "event_rate":
            r, missing = _rates_row(rates_c, comparison, outcome)
            if missing:
                untestable(missing + (f" from {_arms_text(key)}" if any(key) else ""))
                continue
            est, lo, hi, m, k = r.estimate_rate, r.ci_low_rate, r.ci_high_rate, "event rate", int(r.k)
            pi_lo, pi_hi = _num(r.get("pi_low_rate")), _num(r.get("pi_high_rate"))
        else:
            r, missing, aside = _pick(summary_c, comparison, outcome, measure)
            if missing:
                untestable(missing + (f" in the {subgroup.replace('_', ' ')} subgroup" if subgroup else "")
                           + (" with a timepoint before the end of treatment" if timing == "early" else "")
                           + (f" from {_arms_text(key)}" if any(key) else ""))
                continue
            same = _same_estimates(r, main_c) if timing == "early" else ""
            if same:
                untestable(same)
                continue
            m = r.measure
            est, lo, hi, k = r.estimate_display, r.ci_low_display, r.ci_high_display, int(r.k)
            pi_lo, pi_hi = _num(r.get("pi_low_display")), _num(r.get("pi_high_display"))
        out.update(pooled_measure=m, pooled_k=k, pooled_estimate=est, pooled_ci_low=lo, pooled_ci_high=hi,
                   pooled_pi_low=pi_lo, pooled_pi_high=pi_hi)
        if measure == "event_rate":
            has_pi = not (math.isnan(pi_lo) or math.isnan(pi_hi))
            label = ("prediction interval of the pooled rate (where trials' rates are expected to fall)" if has_pi
                     else "CI of the pooled rate (no prediction interval was computed)")
            verdict, why = judge_claim("rate", low, high, math.nan, (pi_lo, pi_hi) if has_pi else (lo, hi), pct,
                                       label, "event rate")
            if has_pi:
                why += f"; the pooled rate is {est:.2f} ({pct} CI {lo:.2f} to {hi:.2f})"
        else:
            null = 1.0 if m in RATIO_MEASURES else 0.0
            kind = "direction" if measure == "direction" and math.isnan(low) != math.isnan(high) else "range"
            verdict, why = judge_claim(kind, low, high, null, (lo, hi), pct, measure=m)
            if m == "HR":
                why = f"pooled hazard ratio of relapse from published hazard ratios; {why}"
            if aside:
                why += f"; {aside}"
        rows.append({**out, "evidence": "; ".join(evidence), "verdict": verdict, "reason": "; ".join([why, *notes])})
    return pd.DataFrame(rows, columns=_COLS)


def compare_benchmarks(benchmarks: pd.DataFrame, summary: pd.DataFrame, level: float = 0.95,
                       adult_summary: pd.DataFrame | None = None, comparisons=None) -> pd.DataFrame:
    """Each published estimate beside this pipeline's for the same comparison and
    outcome, with a note on where and why they may differ.

    The published meta-analyses are of adults: when ``adult_summary`` (pooled
    from the adult trials only) is given, it is the estimate set beside them.
    ``comparisons`` (names of the protocol's comparisons) lets the note say when a benchmark's
    comparison is not one the protocol analyses (for example a published estimate against
    waiting list in a review without that comparison).
    The network estimates are set beside them by :func:`network_benchmarks`."""
    evidence = ALL_TRIALS if adult_summary is None else ADULT_TRIALS
    summary = summary if adult_summary is None else adult_summary
    rows = []
    for _, b in benchmarks.iterrows():
        out = b.to_dict()
        out.update(
            evidence=evidence,
            ours_measure="",
            ours_k=np.nan,
            ours_estimate=np.nan,
            ours_ci_low=np.nan,
            ours_ci_high=np.nan,
        )
        if b.comparison in SEPARATE_COMPARISONS:
            out["note"] = f"not estimated here: {SEPARATE_COMPARISONS[b.comparison]}"
            rows.append(out)
            continue
        if comparisons is not None and b.comparison not in set(comparisons):
            out["note"] = f"not estimated here: the protocol does not compare {b.comparison.replace('_', ' ')}"
            rows.append(out)
            continue
        hit = (
            summary[(summary.comparison == b.comparison) & (summary.outcome == b.outcome)] if len(summary) else summary
        )
        if len(hit) and "measure" in hit:
            # the row on the benchmark's own measure where pooled (e.g. HR), else the primary analysis
            b_measure = {"g": "SMD"}.get(b.measure, b.measure)
            same = hit[(hit.measure == b_measure) & (hit.status == "pooled")]
            hit = same if len(same) else hit[~hit.measure.isin(["RD", "HR"])]
        if not len(hit) or hit.iloc[0].status != "pooled":
            out["note"] = "not estimated here: too few trials in the extraction sheet"
            rows.append(out)
            continue
        r = hit.iloc[0]
        out.update(ours_measure=r.measure, ours_k=int(r.k), ours_estimate=r.estimate_display,
                   ours_ci_low=r.ci_low_display, ours_ci_high=r.ci_high_display)
        b_measure = {"g": "SMD"}.get(b.measure, b.measure)
        notes = []
        if b_measure != r.measure:
            notes.append(f"different measure ({b.measure} published, {r.measure} here): compare direction only")
        else:
            overlap = _overlaps(_num(b.ci_low), _num(b.ci_high), r.ci_low_display, r.ci_high_display) \
                if not (pd.isna(b.ci_low) or pd.isna(b.ci_high)) else None
            if overlap is True:
                notes.append("confidence intervals overlap")
            elif overlap is False:
                notes.append("confidence intervals do not overlap")
        if not pd.isna(b.k):
            notes.append(f"{int(r.k)} trials here vs {int(b.k)} published")
        else:
            notes.append(f"{int(r.k)} trials here")
        if str(b.get("subgroup", "all")) not in ("all", "", "nan"):
            notes.append(f"published estimate is for a subgroup ({b.subgroup})")
        out["note"] = "; ".join(notes)
        rows.append(out)
    return _published(pd.DataFrame(rows))


def network_benchmarks(benchmarks: pd.DataFrame, network: pd.DataFrame) -> pd.DataFrame:
    """The published benchmarks with this pipeline's network estimate of the same
    comparison and outcome beside them.

    Parameters
    ----------
    benchmarks : DataFrame
        The benchmarks sheet (``benchmark_id, comparison, outcome, measure, ...``).
    network : DataFrame
        Network estimates (rule network's ``network_estimates.csv``, of the primary population:
        ``outcome, measure, comparison, estimate_display, ci_low_display,
        ci_high_display`` and optionally ``n_network_studies``).

    Returns
    -------
    DataFrame
        ``benchmarks`` plus ``ours_network_measure, ours_network_estimate,
        ours_network_ci_low, ours_network_ci_high`` (display scale; empty where
        the network has no estimate of that comparison and outcome) and
        ``ours_network_k`` (trials in the network).
    """
    return _published(_add_network(benchmarks.reset_index(drop=True), network))


#: The benchmark sheet's columns as the result tables name them: the published values, on
#: the published measure's own (display) scale, apart from this pipeline's estimates.
PUBLISHED = {"measure": "published_measure", "estimate": "published_estimate", "ci_low": "published_ci_low",
             "ci_high": "published_ci_high", "k": "published_k"}


def _published(table: pd.DataFrame) -> pd.DataFrame:
    return table.rename(columns=PUBLISHED)


def _add_network(out: pd.DataFrame, network: pd.DataFrame) -> pd.DataFrame:
    cols = ["ours_network_measure", "ours_network_estimate", "ours_network_ci_low", "ours_network_ci_high",
            "ours_network_k"]
    vals = []
    for _, b in out.iterrows():
        hit = network[(network.comparison == b.comparison) & (network.outcome == b.outcome)] \
            if len(network) else network
        if not len(hit):
            vals.append(["", np.nan, np.nan, np.nan, np.nan])
            continue
        r = hit.iloc[0]
        k = r.n_network_studies if "n_network_studies" in r else np.nan
        vals.append([r.measure, r.estimate_display, r.ci_low_display, r.ci_high_display, k])
    return out.assign(**{c: [v[i] for v in vals] for i, c in enumerate(cols)}) if len(out) else \
        out.reindex(columns=[*out.columns, *cols])
