"""Never a traceback on a valid review: reviews of many shapes (tests/generate_reviews.py), each
validated as ``depmeta validate`` does and then taken through every job of the workflow in this
process (tests/pipeline_stages.py) and the report's Python; a few through Snakemake itself. A
review either validates and goes through every job, or is refused with messages that name the
file (and the row and column where there is one); the generated reviews are valid, so each must
validate. The reviews the generator found stopping a job are kept below as they shrank."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from generate_reviews import Review
from pipeline_stages import run_review

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
    return []


def check_valid(review: Review) -> None:
    """A review valid by the codebook validates and goes through every job."""
    with tempfile.TemporaryDirectory() as folder:
        problems = check_review(review, Path(folder))
    assert not problems, "a valid review was refused:\n" + "\n".join(problems) + "\n\n" + review.describe()


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
