"""Time frames: each outcome at the phases and weeks the protocol sets, one week per trial, the
same rows for the pairwise and the network analyses, and every row left out listed with why."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from depmeta.review.analysis import AnalysisOptions, analysable_arms, assemble_contrasts
from depmeta.review.networks import NetworkOptions, outcome_networks
from depmeta.review.protocol import check_protocol
from depmeta.review.timeframes import TimeFrame, frame_text, timeframes_from_config, within_timeframes

ACUTE = TimeFrame(("acute",), 6, 16, "nearest", 12)
PREVENTION = TimeFrame(("continuation", "maintenance"))
FRAMES = {"response": ACUTE, "relapse": PREVENTION}


def _rows(spec):
    """Arm-like rows from (study, arm, phase, outcome, week, population) tuples."""
    df = pd.DataFrame(spec, columns=["study_id", "arm_id", "phase", "outcome", "timepoint_weeks",
                                     "analysis_population"])
    df["row_id"] = [f"{r.study_id}:{r.arm_id}:{r.outcome}:{r.timepoint_weeks}" for r in df.itertuples()]
    df["sheet_row"] = np.arange(2, len(df) + 2)
    return df


def test_a_frame_keeps_its_phases_and_window_and_says_why_of_the_others():
    rows = _rows([("s1", "a", "acute", "response", 12.0, "ITT"),
                  ("s1", "a", "maintenance", "response", 36.0, "ITT"),
                  ("s2", "a", "acute", "response", 94.0, "ITT"),
                  ("s3", "a", "acute", "response", 4.0, "ITT"),
                  ("s4", "a", "acute", "response", np.nan, "ITT"),
                  ("s5", "a", "maintenance", "relapse", 66.0, "ITT"),
                  ("s6", "a", "acute", "relapse", 12.0, "ITT"),
                  ("s7", "a", "acute", "symptoms", 94.0, "ITT")])
    kept, out = within_timeframes(rows, FRAMES, "arms", lambda r: r["row_id"])
    # in the frame: week 12 acute, the unreported week (the end of treatment), relapse in maintenance,
    # and symptoms, which has no frame
    assert list(kept.study_id) == ["s1", "s4", "s5", "s7"]
    why = dict(zip(out.study_id, out.reason))
    assert why["s1"] == ("phase maintenance: the response analysis takes the acute phase (analysis.timeframes)")
    assert why["s2"] == "week 94 is outside the response window, weeks 6 to 16 (analysis.timeframes)"
    assert why["s3"] == "week 4 is outside the response window, weeks 6 to 16 (analysis.timeframes)"
    assert why["s6"] == ("phase acute: the relapse analysis takes the continuation and maintenance phases "
                         "(analysis.timeframes)")
    assert list(out.sheet) == ["arms"] * 4 and list(out.sheet_row) == [3, 4, 5, 8]
    assert out.row_ids.tolist() == [["s1:a:response:36.0"], ["s2:a:response:94.0"], ["s3:a:response:4.0"],
                                    ["s6:a:relapse:12.0"]]


@pytest.mark.parametrize("frame, chosen", [
    (TimeFrame(("acute",), 6, 16, "nearest", 12), 10.0),
    (TimeFrame(("acute",), 6, 16, "nearest", 13), 14.5),
    (TimeFrame(("acute",), 6, 16, "latest"), 16.0),
    (TimeFrame(("acute",), 6, 16, "earliest"), 6.0),
    (TimeFrame(("acute",), None, None, "earliest"), 2.0),
    (TimeFrame(("acute",), None, None, "nearest", 1), 2.0),
])
def test_one_week_per_trial_outcome_and_population(frame, chosen):
    rows = _rows([("s1", arm, "acute", "response", w, "ITT") for w in (2.0, 6.0, 10.0, 14.5, 16.0)
                  for arm in ("a", "b")] + [("s1", "a", "acute", "response", 8.0, "completers")])
    kept, out = within_timeframes(rows, {"response": frame}, "arms", lambda r: r["row_id"])
    itt = kept[kept.analysis_population == "ITT"]
    assert set(itt.timepoint_weeks) == {chosen} and len(itt) == 2
    # another population keeps its own week (the population preference chooses later)
    assert list(kept[kept.analysis_population == "completers"].timepoint_weeks) == [8.0]
    assert len(kept) + len(out) == len(rows)
    used = [r for r in out.reason if "not used" in r]
    assert used and all(f"at week {chosen:g} (ITT) is used" in r for r in used)


def test_two_weeks_equally_near_the_target_give_the_later():
    rows = _rows([("s1", "a", "acute", "response", w, "ITT") for w in (8.0, 16.0)])
    kept, out = within_timeframes(rows, {"response": ACUTE}, "arms", lambda r: r["row_id"])
    assert list(kept.timepoint_weeks) == [16.0]
    assert out.reason.iloc[0] == ("week 8 not used: the trial's response at week 16 (ITT) is used, the nearest week "
                                  "12 in the window (analysis.timeframes)")


def test_frames_are_read_from_the_protocol_and_checked():
    frames = timeframes_from_config({"response": {"phases": ["acute"], "from_weeks": 6, "to_weeks": 16,
                                                  "choose": "nearest", "target_weeks": 12},
                                     "relapse": {"phases": ["maintenance"]}})
    assert frames == {"response": ACUTE, "relapse": TimeFrame(("maintenance",))}
    assert frame_text("response", ACUTE) == "response: acute phase, weeks 6 to 16, the week nearest 12"
    assert frame_text("relapse", TimeFrame(("maintenance",), 26)) == "relapse: maintenance phase, from week 26, " \
                                                                       "the latest week"
    bad = {"analysis": {"timeframes": {"response": {"phases": ["acute"], "choose": "nearest"},
                                       "remission": {"phases": ["acute"], "from_weeks": 16, "to_weeks": 6}}},
           "sheets": {"studies": "s.csv", "arms": "a.csv"}}
    assert check_protocol(bad) == ["analysis.timeframes.response: choose 'nearest' needs target_weeks",
                                   "analysis.timeframes.remission: from_weeks 16 is after to_weeks 6"]


def _trial_sheets():
    """A TADS-like four-arm trial: response at weeks 12 (all arms), 18 and 36 (three arms, later
    phases); and a two-arm trial with response only at week 30."""
    arms = []
    for arm, kind, base in (("cbt", "psychotherapy", 40), ("comb", "combined", 70), ("flx", "medication", 60),
                            ("pbo", "placebo", 35)):
        arms.append(dict(arm_id=arm, arm_type=kind, phase="acute", timepoint_weeks=12.0, events=base))
        if kind != "placebo":
            arms.append(dict(arm_id=arm, arm_type=kind, phase="continuation", timepoint_weeks=18.0, events=base + 15))
            arms.append(dict(arm_id=arm, arm_type=kind, phase="maintenance", timepoint_weeks=36.0, events=base + 20))
    rows = [{"study_id": "tads", "outcome": "response", "analysis_population": "ITT", "n": 110, **a} for a in arms]
    rows += [{"study_id": "late", "arm_id": arm, "arm_type": kind, "phase": "acute", "timepoint_weeks": 30.0,
              "outcome": "response", "analysis_population": "ITT", "n": 50, "events": ev}
             for arm, kind, ev in (("cbt", "psychotherapy", 20), ("flx", "medication", 25))]
    return _sheets(rows, {"tads": ("TADS", "adolescent"), "late": ("Late", "adult")})


def _sheets(rows: list[dict], studies: dict) -> dict:
    """The sheets of arm rows (study, arm, type, phase, week, outcome, population, n, events; the
    other columns blank) and of ``studies`` (study id -> label, age group)."""
    arms = pd.DataFrame(rows)
    for col in ("treatment", "drug_class", "therapy_type", "outcome_definition", "percent", "mean", "sd", "scale",
                "derived_note", "notes", "locator"):
        arms[col] = np.nan if col in ("percent", "mean", "sd") else ""
    arms["followup_months"] = np.nan
    arms["source"] = "https://example.org/trial"
    return {"arms": arms, "contrasts": None, "hazard_ratios": None, "excluded_arms": None,
            "studies": pd.DataFrame({"study_id": list(studies), "label": [v[0] for v in studies.values()],
                                     "age_group": [v[1] for v in studies.values()]})}


def test_the_pairwise_and_the_network_analyses_take_the_same_week():
    sheets = _trial_sheets()
    opts = AnalysisOptions(timeframes={"response": ACUTE}, outcomes=("response",))
    formed = assemble_contrasts(sheets, opts)
    c = formed.contrasts
    assert set(c.timepoint_weeks) == {12.0} and set(c.study_id) == {"tads"}
    # the later phases and the trial outside the window are listed, none dropped silently
    reasons = formed.unused.reason.tolist()
    assert sum("phase continuation" in r for r in reasons) == 3 and sum("phase maintenance" in r for r in reasons) == 3
    assert sum("week 30 is outside the response window" in r for r in reasons) == 2
    arms, apart = analysable_arms(sheets, opts.timeframes)
    assert set(arms.timepoint_weeks) == {12.0} and len(arms) + len(apart) == len(sheets["arms"])
    (net,) = outcome_networks(arms, None, NetworkOptions(outcomes=("response",)), apart)
    # TADS enters the network with its four arms at week 12 (the 110 patients of each), as pairwise
    assert [(c.study, c.n) for c in net.contrasts] == [("tads", (110, 110, 110, 110))]
    assert NetworkOptions.from_config(
        {"outcomes": ["response"], "nodes": "strategy", "method": "REML", "reference": "control",
         "contribution": "streams"},
        {"population_preference": ["ITT"], "zero_cell": {"add": 0.5}, "min_studies": 2,
         "timeframes": {"response": {"phases": ["acute"], "from_weeks": 6, "to_weeks": 16, "choose": "nearest",
                                     "target_weeks": 12}}}).timeframes == {"response": ACUTE}
    # without frames the pairwise analysis takes each comparison's latest slice: week 36 for TADS
    old = assemble_contrasts(sheets, AnalysisOptions(outcomes=("response",))).contrasts
    assert old[(old.study_id == "tads") & (old.comparison == "combined_vs_psychotherapy")].timepoint_weeks.item() == 36


def test_long_term_follow_up_is_pooled_on_its_own_rows():
    """analysis.followup: the rows of the follow-up window pooled apart, through the same exclusion step;
    the primary analysis keeps its own frame and lists those rows as outside it."""
    from depmeta.review.analysis import followup_analyses, pooled_summary

    rows = []
    for sid, (e1, e2) in {"t1": (30, 20), "t2": (25, 20), "t3": (40, 30)}.items():
        for week, scale in ((12.0, 1.0), (52.0, 0.8)):
            rows += [{"study_id": sid, "arm_id": arm, "arm_type": kind, "phase": "acute", "timepoint_weeks": week,
                      "outcome": "remission", "analysis_population": "ITT", "n": 60, "events": round(e * scale)}
                     for arm, kind, e in (("psy", "psychotherapy", e1), ("med", "medication", e2))]
    sheets = _sheets(rows, {sid: (sid.upper(), "adult") for sid in ("t1", "t2", "t3")})
    later = TimeFrame(("acute",), 39, None, "latest", None)
    opts = AnalysisOptions(outcomes=("remission",), comparisons=("psychotherapy_vs_medication",), test="z",
                           timeframes={"remission": ACUTE}, followup={"remission": later})
    row = followup_analyses(sheets, opts).iloc[0]
    assert (row.comparison, row.outcome, row.k, row.followup_weeks) == ("psychotherapy_vs_medication", "remission",
                                                                        3, "52 weeks")
    # the same pooling as a primary analysis whose frame is the follow-up window, on the week-52 counts
    alone = AnalysisOptions(outcomes=("remission",), comparisons=("psychotherapy_vs_medication",), test="z",
                            timeframes={"remission": later})
    expected = pooled_summary(assemble_contrasts(sheets, alone).contrasts, alone).iloc[0]
    assert row.estimate == pytest.approx(expected.estimate, rel=1e-12) and row.k == expected.k
    primary = assemble_contrasts(sheets, opts)
    assert set(primary.contrasts.timepoint_weeks) == {12.0}
    assert primary.unused.reason.str.contains("week 52 is outside the remission window").sum() == 6
    assert followup_analyses(sheets, AnalysisOptions(outcomes=("remission",))).empty
    # a row without a week is its trial's end of treatment, never its long-term follow-up
    blank = {**sheets, "arms": sheets["arms"].assign(timepoint_weeks=np.where(
        (sheets["arms"].study_id == "t3") & (sheets["arms"].timepoint_weeks == 52.0), np.nan,
        sheets["arms"].timepoint_weeks))}
    blank["arms"] = blank["arms"][~((blank["arms"].study_id == "t3") & (blank["arms"].timepoint_weeks == 12.0))]
    assert followup_analyses(blank, opts).iloc[0].k == 2
    assert opts.record()["followup"]["remission"]["from_weeks"] == 39
