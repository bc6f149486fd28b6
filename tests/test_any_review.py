"""Never a traceback on a valid review: reviews of many shapes (tests/generate_reviews.py), each
validated as ``depmeta validate`` does and then taken through every job of the workflow in this
process (tests/pipeline_stages.py) and the report's Python; a few through Snakemake itself. A
review either validates and goes through every job, or is refused with messages that name the
file (and the row and column where there is one); the generated reviews are valid, so each must
validate. The reviews the generator found stopping a job are kept below as they shrank."""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from generate_reviews import SHAPES, Review, reviews
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st
from pipeline_stages import QMD, run_review

from conftest import copy_project

#: A validation message: the file, then the row and the column where there is one.
MESSAGE = re.compile(r"^[^:]+?\.(csv|yaml|xlsx)( \[sheet \w+\])?(, row \d+)?(, column '[^']+')?: \S")
#: Every job of a run, then the report (``network`` only where the protocol has it on).
EVERY_JOB = ("validate_extraction", "validate_risk_of_bias", "validate_evidence", "review_protocol", "analyse",
             "network", "evidence", "figures", "sensitivity", "subgroups", "coverage", "certainty", "report")


def check_review(review: Review, folder: Path) -> list[str]:
    """Validate ``review`` and take it through every job: it is refused with messages naming
    their file, or it goes through every job (a job's exception fails the test). Returns the
    validation's messages."""
    run = run_review(review.write(folder / "review"), folder / "results")
    if run.problems:
        unplaced = [p for p in run.problems if not MESSAGE.match(p)]
        assert not unplaced, f"messages that do not name their file: {unplaced}"
        return run.problems
    network = review.protocol["network"]["enabled"]
    assert run.jobs == [j for j in EVERY_JOB if network or j != "network"]
    assert "Report rendered by tests." in run.report  # the report's Python ran to its methods and on
    # every cross-reference the report makes has its figure or table (the renderer stops on one without)
    text = run.report + QMD.read_text()
    labels = re.findall(r"\{#((?:tbl|fig)-[\w-]+)", text) + re.findall(r"#\| label: ((?:tbl|fig)-[\w-]+)", text)
    dangling = set(re.findall(r"@((?:tbl|fig)-[\w-]+)", text)) - set(labels)
    assert not dangling, f"references to no table or figure: {sorted(dangling)}"
    return []


def check_valid(review: Review) -> None:
    """A review valid by the codebook validates and goes through every job."""
    with tempfile.TemporaryDirectory() as folder:
        try:
            problems = check_review(review, Path(folder))
        except Exception as err:  # the review that stopped a job, as its sheets read
            err.add_note(f"the review ({review.shape}):\n{review.describe()}")
            raise
    assert not problems, "a valid review was refused:\n" + "\n".join(problems) + "\n\n" + review.describe()


def substantial(review: Review, trials: int) -> bool:
    """Whether ``review`` has at least ``trials`` trials and an analysis of more than one outcome
    (the examples the fast suite and the Snakemake runs take, rather than the simplest)."""
    return len(review.sheets["studies"]) >= trials and len(review.protocol["analysis"]["outcomes"]) > 1


#: The same few examples on every run, with no search for a smaller one.
FIXED = settings(max_examples=1, derandomize=True, database=None, deadline=None, phases=[Phase.generate],
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


#: A protocol's analysis choices for the reviews written out below (the defaults otherwise).
PROTOCOL = {"network": {"enabled": True}, "report": {"pdf": False},
            "simulation": {"replications": 5, "k": [3], "tau2": [0.0]}}
SOURCE = {"source": "https://example.org/made-up-trial", "locator": "Table 2"}


def _study(sid: str, year: int) -> dict:
    return {"study_id": sid, "label": sid.capitalize(), "year": year, "age_group": "adult", "condition": "MDD",
            "design": "acute", "risk_of_bias": "not assessed", "reference": f"{sid}: a made-up trial.",
            "url": SOURCE["source"]}


# --- the reviews that stopped a job, as they shrank ---------------------------------------


def test_a_review_whose_trials_form_no_contrast_goes_through_every_job():
    """One trial of two medication arms: no contrast between strategies, so no per-study
    effect; the subgroups job wrote the empty per-study table as its moderators table and
    stopped (its columns are not the moderators')."""
    arms = [{"study_id": "alpha1985", "arm_id": arm, "arm_type": "medication", "phase": "acute",
             "outcome": "response", "timepoint_weeks": 4, "analysis_population": "ITT", "n": 1, "events": 0, **SOURCE}
            for arm in ("medic1", "medic2")]
    check_valid(Review("one_trial", PROTOCOL, {"studies": [_study("alpha1985", 1985)], "arms": arms}))


def test_a_review_whose_symptom_arms_have_one_patient_each_goes_through_every_job():
    """A waiting list and two psychotherapy arms of one patient each, equal means: the two
    psychotherapy arms combined have an SD of 0 and the contrast no degree of freedom for a
    pooled SD, so its SMD is listed as not estimable (the analyse job stopped in escalc)."""
    arms = [{"study_id": "alpha1985", "arm_id": arm, "arm_type": kind, "phase": "acute", "outcome": "symptoms",
             "timepoint_weeks": 8, "analysis_population": "ITT", "n": 1, "mean": 0, "sd": 0.5, "scale": "HRSD-17",
             **SOURCE}
            for arm, kind in (("waiti1", "waiting_list"), ("psych2", "psychotherapy"), ("psych3", "psychotherapy"))]
    protocol = {**PROTOCOL, "analysis": {"outcomes": ["symptoms"], "min_studies": 1}}
    with tempfile.TemporaryDirectory() as folder:
        assert not check_review(Review("symptoms_only", protocol, {"studies": [_study("alpha1985", 1985)],
                                                                    "arms": arms}), Path(folder))
        excluded = (Path(folder) / "results" / "tables" / "exclusions.csv").read_text()
    assert "SMD not estimable: arms of 2 and 1 patients with SDs 0 and 0.5 give no pooled SD" in excluded


def test_an_invalid_review_is_refused_by_file_row_and_column_before_any_job(tmp_path):
    arms = [{"study_id": "alpha1985", "arm_id": arm, "arm_type": kind, "phase": "acute", "outcome": "response",
             "timepoint_weeks": 4, "analysis_population": "ITT", "n": 10, "events": events, **SOURCE}
            for arm, kind, events in (("medic1", "medication", 12), ("place2", "placebo", 3))]
    review = Review("one_trial", PROTOCOL, {"studies": [_study("alpha1985", 1985)], "arms": arms})
    problems = check_review(review, tmp_path)
    assert problems == [f"{tmp_path}/review/arms.csv, row 2, column 'events': 12 events exceed n = 10"]
    assert not (tmp_path / "results").exists()


# --- a handful in the fast suite ---------------------------------------------------------


@pytest.mark.parametrize("shape, trials", [("reported_only", 3), ("optional_sheets", 3)])
@FIXED
@given(data=st.data())
def test_a_valid_review_goes_through_every_job(shape, trials, data):
    review = data.draw(reviews(shape), label="review")
    assume(substantial(review, trials))
    check_valid(review)


# --- a few hundred in the slow suite -----------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("shape", SHAPES)
@settings(max_examples=20, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_valid_review_goes_through_every_job(shape, data):
    check_valid(data.draw(reviews(shape), label="review"))


# --- through Snakemake ---------------------------------------------------------------------


def _job_error(stderr: str) -> str:
    """A failed job's traceback from Snakemake's output (the list of its inputs cut), else the tail."""
    start = stderr.find("Traceback")
    return stderr[start:start + 3000] if start >= 0 else stderr[-3000:]


@pytest.mark.slow
@pytest.mark.parametrize("shape, trials", [("reported_only", 3), ("optional_sheets", 4), ("disconnected", 4)])
@FIXED
@given(data=st.data())
def test_a_generated_review_gets_its_report_from_snakemake(shape, trials, data):
    review = data.draw(reviews(shape), label="review")
    assume(substantial(review, trials))
    with tempfile.TemporaryDirectory() as folder:
        work = copy_project(Path(folder) / "project")
        protocol = review.write(work / "review", relative_to=work)
        proc = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "1", "--configfile",
                               str(protocol.relative_to(work))], cwd=work, capture_output=True, text=True, timeout=900)
        assert proc.returncode == 0, _job_error(proc.stderr) + "\n" + review.describe()
        html = (work / "results" / "report" / "report.html").read_text()
    assert f"A made-up review ({shape})" in html
