"""The review's vocabulary, said once: arm types and the strategies they belong to, the
comparisons, outcomes (in the order the report lists them) and which way is better, analysis
populations, treatment phases, therapy types and drug classes, and the format of the input row
ids every result table carries. The sheet and config schemas (``workflow/schemas/``) list the
same values; tests/test_vocabulary.py keeps them equal. No file I/O."""

from __future__ import annotations

__all__ = [
    "ACTIVE_TYPES", "ANALYSIS_POPULATIONS", "ARM_TYPES", "BINARY_OUTCOMES", "COMPARISONS", "CONTINUOUS_OUTCOMES",
    "CONTROL_TYPES", "DRUG_CLASSES", "FORMATS", "OPEN_LISTS", "OUTCOMES", "OUTCOME_DIRECTION", "PHASES",
    "POPULATION_NOT_REPORTED", "SCALE_PRIORITY", "SCORE_TYPES", "STRATEGIES", "CONTRAST_MEASURES", "MEASURES_OF",
    "STRATEGY", "THERAPY_TYPES",
    "arm_row_id", "contrast_row_id", "strategy_of", "weeks_id", "weeks_text",
]

#: Active strategies, then control, in the order tables and node lists use. ``other_active`` is an
#: active treatment that is neither medication nor psychotherapy (exercise, light therapy, ...).
STRATEGIES = ("medication", "psychotherapy", "combined", "other_active", "control")
#: The arm types of the active strategies (always allowed).
ACTIVE_TYPES = STRATEGIES[:4]
#: Types of control arm, the default of the open list ``vocabulary.control_types``: each is a node
#: of its own in the network unless ``network.controls`` is ``merged`` (pill placebo, usual care,
#: waiting list, no treatment and clinical management, e.g. after an antidepressant is tapered, are
#: different comparators).
CONTROL_TYPES = ("placebo", "usual_care", "waiting_list", "no_treatment", "clinical_management", "other_control")
#: The arm sheet's default ``arm_type`` values (a protocol's own control types add to them).
ARM_TYPES = (*ACTIVE_TYPES, *CONTROL_TYPES)
#: Strategy of each default arm type (:func:`strategy_of` for any).
STRATEGY = {**{t: t for t in ACTIVE_TYPES}, **{t: "control" for t in CONTROL_TYPES}}

#: The comparisons of the strategies a protocol names by name alone (config ``analysis.comparisons``;
#: others are defined with their sides, :mod:`depmeta.review.comparisons`):
#: comparison name -> (strategy of arm 1, strategy of arm 2)
COMPARISONS = {
    "combined_vs_medication": ("combined", "medication"),
    "combined_vs_psychotherapy": ("combined", "psychotherapy"),
    "psychotherapy_vs_medication": ("psychotherapy", "medication"),
    "medication_vs_control": ("medication", "control"),
    "psychotherapy_vs_control": ("psychotherapy", "control"),
    "combined_vs_control": ("combined", "control"),
}

#: Outcomes in the order the report and the default config list them.
OUTCOMES = ("response", "remission", "relapse", "symptoms", "dropout")
#: Outcomes counted as events (the others are symptom scores).
BINARY_OUTCOMES = ("remission", "response", "relapse", "dropout")
CONTINUOUS_OUTCOMES = ("symptoms",)
#: +1: a larger value favours arm 1 (good outcome); -1: a smaller value does.
OUTCOME_DIRECTION = {"remission": 1, "response": 1, "relapse": -1, "dropout": -1, "symptoms": -1}

#: Kinds of symptom score (the arm sheet's ``score_type``; blank is ``endpoint``).
SCORE_TYPES = ("endpoint", "change")
#: The default order in which a trial's symptom scales are chosen (config ``analysis.scales.priority``):
#: clinician-rated before self-report, as the priority lists of metapsyTools' ``filterPriorityRule``
#: are written. An entry names a scale with or without its version (``HRSD`` is also HRSD-17, HRSD 24,
#: ``BDI`` also BDI-II and BDI-2); MADRS-S and QIDS-SR are self-report forms, listed apart.
SCALE_PRIORITY = ("HRSD", "HAMD", "HAM-D", "HDRS", "MADRS", "QIDS-C", "IDS-C", "CDRS-R", "CSDD",
                  "BDI", "PHQ-9", "QIDS-SR", "IDS-SR", "MADRS-S", "MADRS-SR", "CES-D", "HADS-D", "GDS", "EPDS")

ANALYSIS_POPULATIONS = ("ITT", "mITT", "completers")

#: Measures of the contrasts sheet: ratios (pooled as logs), then differences.
CONTRAST_MEASURES = ("OR", "RR", "HR", "RD", "MD", "SMD")
#: The measures a contrast of each kind of outcome may have.
MEASURES_OF = {**{o: ("OR", "RR", "HR", "RD") for o in BINARY_OUTCOMES},
               **{o: ("MD", "SMD") for o in CONTINUOUS_OUTCOMES}}
#: Treatment phases of an arm row (the contrasts sheet adds ``sequential``).
PHASES = ("acute", "continuation", "maintenance")

#: Sub-types of the split network schemes, in the arm sheet's order.
THERAPY_TYPES = ("CBT", "CT", "IPT", "BA", "CBASP", "MBCT", "PST", "psychodynamic", "supportive", "other")
DRUG_CLASSES = ("SSRI", "SNRI", "TCA", "MAOI", "other")
#: Formats of delivery of a psychotherapy (the arm sheet's ``format``).
FORMATS = ("individual", "group", "couple", "guided_self_help", "unguided_self_help", "telephone", "internet")
#: The open lists a protocol may extend (config ``vocabulary``): the arm sheet's column each
#: governs, the default list, and the values always allowed beside it (the active arm types
#: beside the control types).
OPEN_LISTS = {"drug_classes": ("drug_class", DRUG_CLASSES, ()),
              "therapy_types": ("therapy_type", THERAPY_TYPES, ()),
              "formats": ("format", FORMATS, ()),
              "control_types": ("arm_type", CONTROL_TYPES, ACTIVE_TYPES)}


def strategy_of(arm_type: str) -> str:
    """The strategy of an arm type: an active type is its own strategy; every other (the control
    types, the protocol's own among them) is ``control``."""
    return arm_type if arm_type in ACTIVE_TYPES else "control"


#: The analysis population of a row whose sheet leaves it blank.
POPULATION_NOT_REPORTED = "not reported"


def weeks_id(weeks) -> str:
    """A timepoint in a row id: ``12w``, or ``end`` where the sheet gives none (the end of treatment)."""
    return "end" if weeks is None or weeks != weeks else f"{weeks:g}w"


def weeks_text(weeks) -> str:
    """A timepoint in words: ``week 12``, or ``the end of treatment (week not reported)``."""
    return "the end of treatment (week not reported)" if weeks is None or weeks != weeks else f"week {weeks:g}"


def arm_row_id(r) -> str:
    """Id of an arm-sheet row: ``study:arm:outcome:<weeks>w:population`` (``end`` for an unreported week)."""
    return f"{r.study_id}:{r.arm_id}:{r.outcome}:{weeks_id(r.timepoint_weeks)}:{r.analysis_population}"


def contrast_row_id(r) -> str:
    """Id of a contrasts-sheet row (a reported effect): ``study:arm1-vs-arm2:outcome:MEASURE:<weeks>w:population``,
    a hazard ratio by its follow-up, ``study:arm1-vs-arm2:relapse:HR:<months>m:population``."""
    when = (f"{r.followup_months:g}m" if r.measure == "HR" and r.followup_months == r.followup_months
            else weeks_id(r.timepoint_weeks))
    return f"{r.study_id}:{r.arm1_id}-vs-{r.arm2_id}:{r.outcome}:{r.measure}:{when}:{r.analysis_population}"
