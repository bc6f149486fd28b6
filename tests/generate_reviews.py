"""Valid reviews of many shapes, drawn by hypothesis: a protocol and its sheets as a researcher
would fill them in (data/README.md, config/README.md), made up for the tests (no evidence).

:func:`reviews` draws one; ``shape`` names what it is built to be (any shape when not given):

- ``any``: trials of any strategies, outcomes, timepoints and populations;
- ``medication_vs_placebo``: medication against pill placebo only;
- ``symptoms_only``: symptom scores (means and SDs) only;
- ``reported_only``: reported effects (Hedges' g) only, the arm sheet a header;
- ``one_trial``, ``two_trials``: that many trials;
- ``disconnected``: two groups of trials sharing no strategy (medication vs control, psychotherapy
  vs combined);
- ``no_common_outcome``: a trial whose arms report different outcomes, so a comparison of its
  arms has no outcome in common;
- ``multi_arm``: trials of three or four arms, two of them of one strategy at times;
- ``duplicated_reported``: a trial's reported effect for the same arms given twice (two scales);
- ``blank_week_population``: week and population left blank where the source does not say;
- ``optional_sheets``: every optional sheet (reported effects, risk of bias, hazard ratios,
  excluded arms, benchmarks, claims) filled in.

Every other shape leaves every optional sheet out. Any shape may keep its trial sheets in one
workbook instead of CSV files. :meth:`Review.write` writes the files."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml
from hypothesis import strategies as st

from depmeta.review.vocabulary import (
    ARM_TYPES,
    COMPARISONS,
    DRUG_CLASSES,
    OUTCOMES,
    THERAPY_TYPES,
)

SHAPES = ("any", "medication_vs_placebo", "symptoms_only", "reported_only", "one_trial", "two_trials", "disconnected",
          "no_common_outcome", "multi_arm", "duplicated_reported", "blank_week_population", "optional_sheets")
#: The sheets a workbook holds (the others are files of their own).
BOOK_SHEETS = ("studies", "arms", "contrasts", "risk_of_bias", "excluded_arms")
SOURCE = "https://example.org/made-up-trial"
NAMES = ("alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta")
WEEKS = (8.0, 12.0, 0.0, 2.5, 26.0)
POPULATIONS = ("ITT", "mITT", "completers")
#: A protocol's time frames: none (every row, the latest week), the default's acute window, or
#: frames that take every phase, or none of the phases a generated row has.
TIMEFRAMES = st.sampled_from((
    {},
    {o: {"phases": ["acute"], "from_weeks": 6, "to_weeks": 16, "choose": "nearest", "target_weeks": 12}
     for o in ("response", "remission", "symptoms", "dropout")}
    | {"relapse": {"phases": ["continuation", "maintenance"], "choose": "latest"}},
    {o: {"phases": ["acute", "continuation", "maintenance"], "choose": "earliest"} for o in OUTCOMES},
    {o: {"phases": ["sequential"], "from_weeks": 1, "to_weeks": 2, "choose": "latest"} for o in OUTCOMES},
))
SPLIT = {"medication": "drug_class", "combined": "drug_class", "psychotherapy": "therapy_type"}
ROB = {"RoB1": (("random_sequence", "allocation_concealment"), ("low", "unclear", "high")),
       "RoB2": (("randomization", "overall"), ("low", "some_concerns", "high")),
       "Cuijpers4": (("sequence", "concealment"), ("low", "unclear", "high")),
       "AHRQ": (("overall",), ("low", "medium", "high"))}


@dataclass(frozen=True)
class Review:
    """A drawn review: its shape, the protocol's sections other than ``sheets`` and
    ``review``, and its sheets (rows as dicts; an absent optional sheet is not a key; the
    claims are a YAML document)."""

    shape: str
    protocol: dict
    sheets: dict
    workbook: bool = False

    def write(self, folder: Path, relative_to: Path | None = None) -> Path:
        """The review's files in ``folder`` (the trial sheets as CSV files, or as the sheets of
        one workbook), the protocol naming them relative to ``relative_to`` (where the run
        starts; absolute paths without it); returns the protocol's path."""
        folder.mkdir(parents=True, exist_ok=True)
        paths = {}
        book = {name: rows for name, rows in self.sheets.items() if self.workbook and name in BOOK_SHEETS}
        if book:
            paths["workbook"] = folder / "sheets.xlsx"
            with pd.ExcelWriter(paths["workbook"], engine="openpyxl") as writer:
                for name, rows in book.items():
                    pd.DataFrame(rows, columns=COLUMNS[name]).to_excel(writer, sheet_name=name, index=False)
        for name, rows in self.sheets.items():
            if name in book:
                continue
            paths[name] = folder / (f"{name}.yaml" if name == "claims" else f"{name}.csv")
            if name == "claims":
                paths[name].write_text(yaml.safe_dump(rows, sort_keys=False))
            else:
                pd.DataFrame(rows, columns=COLUMNS[name]).to_csv(paths[name], index=False, float_format="%.10g")
        named = {name: str(path.relative_to(relative_to) if relative_to else path) for name, path in paths.items()}
        protocol = {"review": {"title": f"A made-up review ({self.shape})",
                               "question": "Do made-up treatments help made-up patients?", "authors": ["A. Tester"]},
                    "sheets": named, **self.protocol}
        path = folder / "protocol.yaml"
        path.write_text(yaml.safe_dump(protocol, sort_keys=False))
        return path

    def describe(self) -> str:
        """The review in a few lines: the protocol and every sheet as CSV (for a failing example)."""
        parts = [yaml.safe_dump({**self.protocol, "workbook": self.workbook}, sort_keys=False)]
        for name, rows in self.sheets.items():
            text = (yaml.safe_dump(rows, sort_keys=False) if name == "claims"
                    else pd.DataFrame(rows, columns=COLUMNS[name]).to_csv(index=False))
            parts.append(f"{name}:\n{textwrap.indent(text, '  ')}")
        return "\n".join(parts)


#: The columns each sheet is written with (a header-only sheet keeps them).
COLUMNS = {
    "studies": ["study_id", "label", "year", "age_group", "condition", "chronicity", "baseline_severity", "design",
                "risk_of_bias", "rob_source", "reference", "doi", "pmid", "url"],
    "arms": ["study_id", "arm_id", "arm_type", "treatment", "drug_class", "therapy_type", "phase", "outcome",
             "timepoint_weeks", "followup_months", "analysis_population", "n", "events", "percent", "mean", "sd",
             "scale", "source", "locator"],
    "contrasts": ["study_id", "arm1_id", "arm1_type", "arm2_id", "arm2_type", "phase", "outcome", "timepoint_weeks",
                  "followup_months", "analysis_population", "n1", "n2", "measure", "estimate", "ci_low", "ci_high",
                  "log_estimate", "se", "scale", "source", "locator"],
    "risk_of_bias": ["study_id", "tool", "domain", "judgement", "source", "locator"],
    "excluded_arms": ["study_id", "arm_id", "reason"],
    "benchmarks": ["benchmark_id", "citation", "locator", "comparison", "outcome", "measure", "estimate", "ci_low",
                   "ci_high", "k", "subgroup"],
}


# --- studies ------------------------------------------------------------------------------


@st.composite
def study(draw, sid: str, year: int) -> dict:
    rob = draw(st.sampled_from(("not assessed", "not assessed", "low", "some_concerns", "high")))
    ident = draw(st.sampled_from(("doi", "pmid", "url")))
    label = draw(st.sampled_from(("{} {}", "{} et al. {}", "Ünal-{} {}", "{} | *{}*", "{}_{} <b>")))
    return {"study_id": sid, "label": label.format(sid[:-4].capitalize(), year), "year": year,
            "age_group": draw(st.sampled_from(("adult", "adult", "adolescent", "older_adult"))),
            "condition": draw(st.sampled_from(("MDD", "chronic_MDD", "dysthymia", "recurrent_MDD_remitted",
                                               "treatment_resistant", "other"))),
            "chronicity": draw(st.sampled_from(("", "chronic", "recurrent", "episodic", "mixed", "not_reported"))),
            "baseline_severity": draw(st.sampled_from(("", "moderate", "severe", "HRSD-17 mean 21", "21.5"))),
            "design": draw(st.sampled_from(("acute", "continuation", "maintenance", "acute_with_followup"))),
            "risk_of_bias": rob, "rob_source": "" if rob == "not assessed" else "doi:10.1000/made-up-review",
            "reference": f"{sid}: a made-up trial for the test suite.",
            "doi": "10.1000/made-up" if ident == "doi" else "", "pmid": "12345" if ident == "pmid" else "",
            "url": SOURCE if ident == "url" else ""}


# --- arms ---------------------------------------------------------------------------------


@st.composite
def arm(draw, index: int, arm_types) -> dict:
    """An arm of a trial: id, type and, where it has one, a drug class or therapy type."""
    arm_type = draw(st.sampled_from(arm_types))
    out = {"arm_id": f"{arm_type[:5]}{index}", "arm_type": arm_type,
           "treatment": f"made-up {arm_type}{draw(st.sampled_from(('', ' A', ' B')))}",
           "drug_class": "", "therapy_type": ""}
    if arm_type in ("medication", "combined"):
        out["drug_class"] = draw(st.sampled_from(("", *DRUG_CLASSES)))
    if arm_type in ("psychotherapy", "combined"):
        out["therapy_type"] = draw(st.sampled_from(("", *THERAPY_TYPES)))
    return out


@st.composite
def outcome_cells(draw, outcome: str) -> dict:
    """The numbers of one arm row of ``outcome``: n with events or a percentage, or a mean and SD."""
    n = draw(st.integers(1, 300))
    if outcome == "symptoms":
        return {"n": n, "mean": draw(st.integers(0, 40)), "sd": draw(st.sampled_from((0.5, 3.0, 6.5, 9.0, 12.25)))}
    cells = {"n": n}
    if draw(st.booleans()) or n < 2:
        cells["events"] = draw(st.sampled_from((0, n, n // 2, n // 3)) | st.integers(0, n))
    else:
        cells["percent"] = draw(st.sampled_from((0.0, 100.0, 12.5, 50.0)) | st.floats(1.5, 100, allow_nan=False)
                                .map(lambda x: round(x, 1)))
    if outcome == "relapse":
        cells["followup_months"] = draw(st.sampled_from((6.0, 12.0, 24.0)))
    return cells


@st.composite
def trial_rows(draw, sid: str, arms: list[dict], outcomes, blank: bool, reports: dict | None = None) -> list[dict]:
    """Arm rows of a trial: per outcome, its timepoints (or none: ``blank`` may leave the week
    out) and populations (``blank``: possibly left blank), then the numbers of each arm that
    reports it (``reports``: arm id -> its outcomes; every arm every outcome without it)."""
    rows = []
    for outcome in outcomes:
        no_week = blank and draw(st.booleans())
        weeks = [None] if no_week else draw(st.lists(st.sampled_from(WEEKS), min_size=1, max_size=2, unique=True))
        pops = draw(st.lists(st.sampled_from((*POPULATIONS, *([""] if blank else []))), min_size=1, max_size=2,
                             unique=True))
        phase = draw(st.sampled_from(("acute", "acute", "continuation", "maintenance")))
        for a in arms:
            if reports is not None and outcome not in reports[a["arm_id"]]:
                continue
            for week in weeks:
                for pop in pops:
                    rows.append({"study_id": sid, **a, "phase": phase, "outcome": outcome,
                                 "timepoint_weeks": "" if week is None else week, "analysis_population": pop,
                                 **draw(outcome_cells(outcome)), "scale": "HRSD-17" if outcome == "symptoms" else "",
                                 "source": SOURCE, "locator": "Table 2"})
    return rows


# --- reported effects, hazard ratios and the other optional sheets -------------------------


@st.composite
def reported(draw, sid: str, arm1: dict, arm2: dict, scales=("HRSD-17",)) -> list[dict]:
    """A trial's reported Hedges' g of arm 1 against arm 2, once per scale (same arms,
    timepoint and population: a duplicated effect when there are two scales)."""
    week = draw(st.sampled_from(WEEKS))
    pop = draw(st.sampled_from(POPULATIONS))
    phase = draw(st.sampled_from(("acute", "continuation")))
    n1, n2 = draw(st.integers(2, 200)), draw(st.integers(2, 200))
    return [{"study_id": sid, "arm1_id": arm1["arm_id"], "arm1_type": arm1["arm_type"], "arm2_id": arm2["arm_id"],
             "arm2_type": arm2["arm_type"], "phase": phase, "outcome": "symptoms", "timepoint_weeks": week,
             "analysis_population": pop, "n1": n1, "n2": n2, "measure": "SMD",
             "estimate": draw(st.sampled_from((-0.5, 0.0, 0.3, -1.2))),
             "se": draw(st.sampled_from((0.1, 0.25, 0.6))), "scale": scale, "source": SOURCE,
             "locator": "Table 3"} for scale in scales]


@st.composite
def hazard_ratio(draw, sid: str, arm1: dict, arm2: dict) -> dict:
    row = {"study_id": sid, "arm1_id": arm1["arm_id"], "arm1_type": arm1["arm_type"], "arm2_id": arm2["arm_id"],
           "arm2_type": arm2["arm_type"], "phase": draw(st.sampled_from(("maintenance", "continuation"))),
           "outcome": "relapse", "followup_months": draw(st.sampled_from((6.0, 12.0, 24.0))),
           "analysis_population": draw(st.sampled_from(POPULATIONS)),
           "n1": draw(st.sampled_from(("", 40))), "n2": draw(st.sampled_from(("", 38))),
           "measure": "HR", "source": SOURCE, "locator": "Figure 2"}
    if draw(st.booleans()):
        hr = draw(st.sampled_from((0.5, 0.9, 1.4)))
        row.update(estimate=hr, ci_low=round(hr * 0.6, 3), ci_high=round(hr * 1.7, 3))
    else:
        row.update(log_estimate=draw(st.sampled_from((-0.7, 0.0, 0.3))), se=draw(st.sampled_from((0.2, 0.5))))
    return row


@st.composite
def risk_of_bias_rows(draw, study_ids) -> list[dict]:
    rows = []
    for sid in draw(st.lists(st.sampled_from(study_ids), min_size=1, unique=True)):
        tool = draw(st.sampled_from(sorted(ROB)))
        domains, judgements = ROB[tool]
        for domain in draw(st.lists(st.sampled_from(domains), min_size=1, unique=True)):
            rows.append({"study_id": sid, "tool": tool, "domain": domain,
                         "judgement": draw(st.sampled_from(judgements)), "source": "doi:10.1000/made-up-review",
                         "locator": "Table 4"})
    return rows


@st.composite
def benchmark_rows(draw) -> list[dict]:
    rows = []
    for i in range(draw(st.integers(1, 3))):
        outcome = draw(st.sampled_from(OUTCOMES))
        measure = "g" if outcome == "symptoms" else draw(st.sampled_from(("RR", "OR", "RD", "HR")))
        estimate = {"g": -0.3, "RR": 1.3, "OR": 1.5, "RD": 0.05, "HR": 0.7}[measure]
        ci = draw(st.booleans())
        rows.append({"benchmark_id": f"B{i + 1:02d}", "citation": "A made-up meta-analysis.", "locator": "Abstract",
                     "comparison": draw(st.sampled_from((*sorted(COMPARISONS), "sequential"))), "outcome": outcome,
                     "measure": measure, "estimate": estimate, "ci_low": estimate - 0.2 if ci else "",
                     "ci_high": estimate + 0.2 if ci else "", "k": draw(st.sampled_from(("", 5))),
                     "subgroup": draw(st.sampled_from(("all", "all", "chronic", "adolescents")))})
    return rows


@st.composite
def claims_document(draw) -> dict:
    """Claims of every kind: directional, a range or no difference on a measure, an event rate of
    a strategy, about a subgroup, about speed, about named therapies or drug classes, about
    functioning, about sequential treatment, and claims not testable by their nature."""
    claims = []
    for i in range(draw(st.integers(1, 4))):
        outcome = draw(st.sampled_from(OUTCOMES))
        measure = draw(st.sampled_from(("direction", "event_rate", "RD", "HR",
                                        "g" if outcome == "symptoms" else "RR", "OR")))
        if measure == "event_rate":
            comparison = draw(st.sampled_from(("medication", "psychotherapy", "combined", "control")))
        else:
            comparison = draw(st.sampled_from((*sorted(COMPARISONS), "sequential")))
        low, high = draw(st.sampled_from(((None, None), (1.0, None), (None, 1.0), (0.0, None), (None, 0.0),
                                          (0.8, 1.25), (0.2, 0.6), (-0.5, -0.2), (0.05, None))))
        claim = {"id": f"C{i + 1:02d}", "article": "made_up.txt", "quote": "works better | *faster*",
                 "claim": "It works better.", "comparison": comparison, "outcome": outcome, "measure": measure,
                 "low": low, "high": high,
                 "population": draw(st.sampled_from(("adults", "adults with depression", "adolescents", None))),
                 "testable": True, "why": "", "notes": ""}
        extra = draw(st.sampled_from(("", "subgroup", "timing", "therapy_type", "drug_class", "domain", "untestable")))
        if extra == "subgroup":
            claim["subgroup"] = draw(st.sampled_from(("chronic", "recurrent", "remitted", "treatment_resistant",
                                                      "severe", "comorbidity")))
        elif extra == "timing":
            claim["timing"] = draw(st.sampled_from(("early", "course")))
        elif extra == "therapy_type":
            claim["therapy_type"] = draw(st.lists(st.sampled_from(THERAPY_TYPES), min_size=1, max_size=2, unique=True))
        elif extra == "drug_class":
            claim["drug_class"] = draw(st.lists(st.sampled_from(DRUG_CLASSES), min_size=1, max_size=2, unique=True))
        elif extra == "domain":
            claim["domain"] = draw(st.sampled_from(("symptoms", "functioning", "quality_of_life")))
        elif extra == "untestable":
            claim.update(testable=False, why="a made-up reason", comparison=None, outcome=None, measure=None)
        claims.append(claim)
    return {"articles": {"made_up.txt": "A made-up article"}, "claims": claims}


# --- the protocol ---------------------------------------------------------------------------

#: Comparisons a protocol may define by their sides (config ``analysis.comparisons``).
DEFINED_COMPARISONS = (
    {"name": "SSRI_vs_TCA", "arm1": {"strategy": "medication", "drug_class": "SSRI"},
     "arm2": {"strategy": "medication", "drug_class": "TCA"}},
    {"name": "CBT_vs_waiting_list", "arm1": {"strategy": "psychotherapy", "therapy_type": ["CBT", "CT"]},
     "arm2": {"arm_type": "waiting_list"}},
    {"name": "medication_vs_placebo", "arm1": {"strategy": "medication"}, "arm2": {"arm_type": "placebo"}},
    {"name": "other_active_vs_control", "arm1": {"strategy": "other_active"}, "arm2": {"strategy": "control"}},
    {"name": "IPT_vs_CBT", "arm1": {"strategy": "psychotherapy", "therapy_type": "IPT"},
     "arm2": {"strategy": "psychotherapy", "therapy_type": "CBT"}},
)


@st.composite
def protocol(draw, outcomes_present) -> dict:
    """The protocol's analysis choices; its outcomes include one the sheets have."""
    outcomes = draw(st.lists(st.sampled_from(OUTCOMES), min_size=1, max_size=5, unique=True))
    if outcomes_present and not set(outcomes) & set(outcomes_present):
        outcomes.append(draw(st.sampled_from(sorted(outcomes_present))))
    comparisons = draw(st.sampled_from((list(COMPARISONS), None)))
    comparisons = comparisons or draw(st.lists(st.sampled_from(sorted(COMPARISONS)), min_size=1, unique=True))
    # comparisons defined by their sides: within a strategy, of a class, a control type, other active treatments
    comparisons = comparisons + draw(st.lists(st.sampled_from(DEFINED_COMPARISONS), max_size=3,
                                              unique_by=lambda c: c["name"]))
    populations = draw(st.sampled_from((["ITT", "mITT", "completers", "not reported"], ["ITT", "mITT", "completers"],
                                        None)))
    populations = populations or draw(st.lists(st.sampled_from(("ITT", "mITT", "completers", "not reported")),
                                               min_size=1, unique=True))
    level = draw(st.sampled_from(("not assessed", "undetected", "suspected")))
    certainty = {"reporting_bias": {"level": level,
                                    "reason": "the made-up search left out registries" if level == "suspected" else ""},
                 "not_assessed": draw(st.sampled_from(("flag", "some concerns"))),
                 "publication_bias": {"min_studies": draw(st.sampled_from((10, 3, 2)))}}
    if draw(st.booleans()):
        certainty.update(
            assumed_risk=draw(st.sampled_from(({}, {"response": 0.4}, {"relapse": 0.0, "dropout": 1.0}))),
            smd_control_event_rate=draw(st.sampled_from(("response", "remission", 0.3, 0.0))),
            risk_of_bias={"cinema_rule": draw(st.sampled_from(("average", "majority", "highest")))},
            indirectness={"judgements": [{"comparison": "*", "outcome": draw(st.sampled_from(("*", "response"))),
                                          "level": "serious", "reason": "made-up populations"}]},
            overrides=[{"domain": draw(st.sampled_from(("imprecision", "heterogeneity", "risk of bias"))),
                        "evidence": "*", "level": draw(st.sampled_from(("serious", "some concerns"))),
                        "reason": "a made-up judgement"}])
    out = {
        "analysis": {"method": draw(st.sampled_from(("REML", "REML", "DL", "PM", "EE", "ML", "SJ", "HS"))),
                     "test": draw(st.sampled_from(("z", "knha", "t", "adhoc"))),
                     "level": draw(st.sampled_from((0.95, 0.95, 0.9, 0.99))),
                     "prediction_interval": draw(st.sampled_from(("metafor", "metafor", "z", "t", "t_k2"))),
                     "binary_measure": draw(st.sampled_from(("RR", "RR", "OR", "RD"))),
                     "zero_cell": {"add": draw(st.sampled_from((0.5, 0.5, 0.0, 1.0))),
                                   "to": draw(st.sampled_from(("only0", "only0", "all", "none"))),
                                   "drop00": draw(st.booleans())},
                     "min_studies": draw(st.sampled_from((1, 2, 2, 3))), "population_preference": populations,
                     "timeframes": draw(TIMEFRAMES), "outcomes": outcomes,
                     "followup": draw(st.sampled_from(({}, {"response": {"phases": ["acute"], "from_weeks": 10,
                                                                         "choose": "latest"}},
                                                       {o: {"phases": ["acute", "maintenance"], "choose": "latest"}
                                                        for o in ("remission", "symptoms")}))),
                     "populations": draw(st.sampled_from((
                         {}, {}, {"primary": ["adult", "older_adult"], "strata": {"adolescents": ["adolescent"]}},
                         {"primary": ["adult"], "strata": {"adolescents": ["adolescent"]}},
                         {"primary": ["adult", "adolescent", "older_adult"]}))),
                     "comparisons": comparisons, "event_rates": draw(st.booleans())},
        "network": {"enabled": draw(st.sampled_from((True, True, False))),
                    "method": draw(st.sampled_from(("REML", "DL", "FE"))),
                    "nodes": (nodes := draw(st.sampled_from(("strategy", "strategy", "arm_type", "therapy_type",
                                                             "drug_class", "treatment")))),
                    # merged controls with any scheme but arm_type, whose nodes are the control types
                    "controls": "separate" if nodes == "arm_type" else draw(st.sampled_from(("separate",
                                                                                              "merged"))),
                    "outcomes": draw(st.sampled_from((list(outcomes), list(OUTCOMES), []))),
                    "reference": draw(st.sampled_from(("control", "control", "placebo", "medication",
                                                       "psychotherapy:CBT"))),
                    "contribution": draw(st.sampled_from(("streams", "proportion")))},
        "certainty": certainty,
        "subgroups": {"moderators": draw(st.sampled_from((["age_group", "chronicity", "baseline_severity",
                                                            "therapy_type", "drug_class", "control_type",
                                                            "risk_of_bias"],
                                                           ["drug_class"], []))),
                      "regression_moderators": draw(st.sampled_from((["year", "baseline_severity"], ["year"], []))),
                      "tau2": draw(st.sampled_from((["separate", "common"], ["common"]))),
                      "min_per_group": draw(st.sampled_from((1, 2))),
                      "min_studies_regression": draw(st.sampled_from((3, 4))), "permutations": 20,
                      "exact_limit": 24},
        "sensitivity": {"min_k_small_study": draw(st.sampled_from((3, 10))),
                        "min_k_gosh": draw(st.sampled_from((2, 3))), "gosh_max_exhaustive_k": 8,
                        "cumulative_order": draw(st.sampled_from((["year", "precision"], ["precision"], []))),
                        "alternative_methods": draw(st.sampled_from((["DL", "EE"], ["REML", "PM", "HS"])))},
        "report": {"pdf": False},
        "simulation": {"replications": 5, "k": [3], "tau2": [0.0]},
    }
    return out


# --- a review -------------------------------------------------------------------------------


def _ids(n: int, years) -> list[str]:
    return [f"{NAMES[i]}{year}" for i, year in zip(range(n), years)]


@st.composite
def reviews(draw, shape: str | None = None) -> Review:
    """A valid review of ``shape`` (drawn among :data:`SHAPES` when not given)."""
    shape = shape or draw(st.sampled_from(SHAPES))
    n_trials = {"one_trial": 1, "two_trials": 2, "disconnected": draw(st.integers(2, 4))}.get(
        shape, draw(st.integers(1, 6)))
    years = draw(st.lists(st.integers(1985, 2024), min_size=n_trials, max_size=n_trials))
    sids = _ids(n_trials, years)
    studies = [draw(study(sid, year)) for sid, year in zip(sids, years)]
    arm_types = {"medication_vs_placebo": ("medication", "placebo")}.get(shape, ARM_TYPES)
    outcome_pool = ("symptoms",) if shape == "symptoms_only" else OUTCOMES
    blank = shape in ("blank_week_population", "any")
    sheets: dict = {"studies": studies}
    arms, contrasts, trial_arms = [], [], {}
    for t, sid in enumerate(sids):
        if shape == "disconnected":
            pair = ("medication", "control") if t % 2 == 0 else ("psychotherapy", "combined")
            kinds = [draw(st.sampled_from(("placebo", "usual_care"))) if p == "control" else p for p in pair]
            these = [{"arm_id": f"{k[:5]}{j}", "arm_type": k, "treatment": f"made-up {k}", "drug_class": "",
                      "therapy_type": ""} for j, k in enumerate(kinds, 1)]
        else:
            if shape == "multi_arm":
                n_arms = draw(st.integers(3, 4))
            elif shape == "medication_vs_placebo":
                n_arms = draw(st.integers(2, 3))
            else:
                n_arms = draw(st.sampled_from((2, 2, 2, 3, 1)))
            these = [draw(arm(j, arm_types)) for j in range(1, n_arms + 1)]
            if shape == "medication_vs_placebo" and {a["arm_type"] for a in these} != {"medication", "placebo"}:
                these[0] = {**these[0], "arm_id": "medic1", "arm_type": "medication", "treatment": "made-up drug"}
                these[1] = {**these[1], "arm_id": "place2", "arm_type": "placebo", "treatment": "pill placebo",
                            "drug_class": "", "therapy_type": ""}
        trial_arms[sid] = these
        if shape == "reported_only":
            continue
        if shape == "disconnected":
            outcomes = ["response"]
        else:
            outcomes = draw(st.lists(st.sampled_from(outcome_pool), min_size=1, max_size=3, unique=True))
        reports = None
        if shape == "no_common_outcome" and t == 0 and len(these) >= 2:
            # the first two arms report different outcomes: their comparison has no outcome in common
            other = next(o for o in OUTCOMES if o != outcomes[0])
            outcomes = [*outcomes, other] if other not in outcomes else outcomes
            reports = {a["arm_id"]: outcomes for a in these[2:]}
            reports.update({these[0]["arm_id"]: [outcomes[0]], these[1]["arm_id"]: [other]})
        elif shape == "any" and draw(st.booleans()):
            # each arm reports some of the trial's outcomes (one at least: a trial with no row is no trial)
            reports = {a["arm_id"]: draw(st.lists(st.sampled_from(outcomes), min_size=1, unique=True)) for a in these}
        arms += draw(trial_rows(sid, these, outcomes, blank, reports))
    sheets["arms"] = arms

    # reported effects: every trial's (reported_only), a duplicate of one (duplicated_reported), some (optional)
    if shape in ("reported_only", "duplicated_reported", "optional_sheets"):
        for t, sid in enumerate(sids):
            these = trial_arms[sid]
            if len(these) < 2:
                these = these + [{"arm_id": "other9", "arm_type": "waiting_list"}]
            twice = shape == "duplicated_reported" and t == 0 or shape == "reported_only" and draw(st.booleans())
            if shape == "optional_sheets" and not draw(st.booleans()):
                continue
            contrasts += draw(reported(sid, these[0], these[1], ("HRSD-17", "BDI-II") if twice else ("HRSD-17",)))
        sheets["contrasts"] = contrasts
    if shape == "optional_sheets":
        sheets["risk_of_bias"] = draw(risk_of_bias_rows(sids))
        for sid in draw(st.lists(st.sampled_from(sids), min_size=1, unique=True)):
            these = trial_arms[sid] if len(trial_arms[sid]) >= 2 else trial_arms[sid] + [
                {"arm_id": "other9", "arm_type": "usual_care"}]
            contrasts.append(draw(hazard_ratio(sid, these[0], these[1])))
        sheets["contrasts"] = contrasts
        in_sheet = sorted({(r["study_id"], r["arm_id"]) for r in arms})
        excluded = draw(st.lists(st.sampled_from(in_sheet), max_size=2, unique=True)) if in_sheet else []
        sheets["excluded_arms"] = [{"study_id": s, "arm_id": a, "reason": "a made-up factorial margin"}
                                   for s, a in excluded]
        sheets["benchmarks"] = draw(benchmark_rows())
        sheets["claims"] = draw(claims_document())
    present = {r["outcome"] for r in arms} | {r["outcome"] for r in contrasts}
    return Review(shape, draw(protocol(present)), sheets, workbook=draw(st.sampled_from((False, False, False, True))))

