"""A review's protocol: a config file with a `review:` section stands alone, the report's title
block and question come from it, and nothing of the embedded review reaches another review's
report."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pandas as pd
import pytest
import yaml

from depmeta.report.front_matter import review_intro, title_block
from depmeta.review.protocol import check_protocol, given_other_sheets, other_sheets_message
from tests.conftest import ROOT, copy_project, snakemake

EMBEDDED = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
SHEETS = {"studies": "s.csv", "arms": "a.csv"}


# --- the rules, without Snakemake -------------------------------------------------------


def test_the_embedded_protocol_passes_its_own_checks():
    assert check_protocol(EMBEDDED) == []
    assert EMBEDDED["review"]["title"]


def test_intervals_default_to_knapp_hartung_and_t(tmp_path):
    """A protocol that leaves the tests out gets Knapp-Hartung for the pooled estimates, metafor's
    prediction interval (t with k - 1 df under it) and t intervals for the network; the embedded
    protocol says so explicitly, and the options' own defaults are the schema's."""
    from depmeta.cli import load_protocol
    from depmeta.review.analysis import AnalysisOptions
    from depmeta.review.networks import NetworkOptions
    from depmeta.review.sensitivity import SensitivityOptions
    from depmeta.review.subgroups import SubgroupOptions

    path = tmp_path / "protocol.yaml"
    path.write_text(yaml.safe_dump({"review": {"title": "T"}, "sheets": SHEETS}))
    config, problems = load_protocol(path)
    assert problems == []
    assert (config["analysis"]["test"], config["analysis"]["prediction_interval"]) == ("knha", "metafor")
    assert config["network"]["test"] == "t"
    assert (EMBEDDED["analysis"]["test"], EMBEDDED["network"]["test"]) == ("knha", "t")
    assert AnalysisOptions().test == SensitivityOptions().test == SubgroupOptions().test == "knha"
    assert NetworkOptions().test == "t"
    assert NetworkOptions.from_config(config["network"], config["analysis"]).test == "t"


@pytest.mark.parametrize("level", ["suspected", "strongly suspected"])
def test_a_reporting_bias_judgement_needs_the_reviews_own_reason(level):
    config = {"sheets": SHEETS, "certainty": {"reporting_bias": {"level": level, "reason": "  "}}}
    (message,) = check_protocol(config)
    assert message.startswith("certainty.reporting_bias:") and repr(level) in message
    assert "level: undetected" in message and "level: not assessed" in message  # the other ways out are named


@pytest.mark.parametrize("level", ["undetected", "not assessed"])
def test_reporting_bias_undetected_or_not_assessed_needs_no_reason(level):
    assert check_protocol({"sheets": SHEETS}) == []  # left out: not assessed, shown as such
    assert check_protocol({"sheets": SHEETS, "certainty": {"reporting_bias": {"level": level}}}) == []


def test_a_protocol_names_its_trial_sheets_and_replaces_its_placeholders():
    undetected = {"certainty": {"reporting_bias": {"level": "undetected"}}}
    (message,) = check_protocol({**undetected, "sheets": {"studies": "s.csv", "arms": ""}})
    assert message.startswith("sheets: name the review's trial sheets")
    assert check_protocol({**undetected, "sheets": {"workbook": "book.xlsx"}}) == []
    problems = check_protocol({**undetected, "sheets": SHEETS, "review": {"title": " <title> ", "authors": ["<a>"]}})
    assert problems == ["review.title: replace the placeholder ' <title> ' with the review's own value",
                        "review.authors.0: replace the placeholder '<a>' with the review's own value"]


def test_other_trial_sheets_without_a_protocol_are_named():
    assert given_other_sheets({}) == []
    assert given_other_sheets({"analysis": {"method": "DL"}}) == []
    assert given_other_sheets({"sheets": {"claims": ""}}) == []
    assert given_other_sheets({"sheets": {"workbook": "mine.xlsx", "arms": "a.csv"}}) == ["arms", "workbook"]
    message = other_sheets_message(["workbook"])
    assert message.startswith("sheets.workbook given without a protocol")
    assert "--configfile config/config.yaml --config sheets=" in message


def test_title_block_leaves_out_what_the_protocol_leaves_empty():
    assert title_block({"title": " A review ", "subtitle": "", "authors": []}) == {"title": "A review"}
    assert title_block({"title": "T", "subtitle": "S", "authors": ["A. One", " "]}) == {
        "title": "T", "subtitle": "S", "author": ["A. One"]}
    with pytest.raises(ValueError, match="no title"):
        title_block({"title": "  "})


def test_review_intro_states_the_question_and_the_registration():
    assert review_intro({"title": "T"}) == ""
    text = review_intro({"title": "T", "question": "Does X help?", "registration": "PROSPERO CRD42099000001"})
    assert "**Review question.** Does X help?" in text
    assert "**Protocol registration.** PROSPERO CRD42099000001" in text


# --- a review of one's own, end to end -------------------------------------------------

#: A small made-up review (test input only, not evidence): four trials of a medication against
#: pill placebo and three of a psychotherapy against waiting list.
OWN_STUDIES = [
    ("alpha2001", "Alpha 2001", 2001), ("beta2004", "Beta 2004", 2004), ("gamma2009", "Gamma 2009", 2009),
    ("delta2012", "Delta 2012", 2012), ("eps2015", "Epsilon 2015", 2015), ("zeta2017", "Zeta 2017", 2017),
    ("eta2020", "Eta 2020", 2020),
]
OWN_TITLE = "Made-up treatments for depression: a test review"
OWN_REASON = "the made-up search covered every made-up registry"


def _own_review(folder: Path) -> Path:
    folder.mkdir()
    studies = pd.DataFrame([{"study_id": s, "label": label, "year": year, "age_group": "adult", "condition": "MDD",
                             "design": "acute", "risk_of_bias": "not assessed",
                             "reference": f"{label}. A made-up trial for the test suite.",
                             "url": "https://example.org/made-up"}
                            for s, label, year in OWN_STUDIES])
    rows = []
    counts = {"alpha2001": (60, 30, 58, 20), "beta2004": (45, 25, 47, 18), "gamma2009": (80, 41, 79, 30),
              "delta2012": (52, 22, 50, 19), "eps2015": (40, 20, 41, 9), "zeta2017": (33, 15, 30, 6),
              "eta2020": (55, 24, 57, 13)}
    for s, (n1, e1, n2, e2) in counts.items():
        active, control = (("medication", "placebo") if s in ("alpha2001", "beta2004", "gamma2009", "delta2012")
                           else ("psychotherapy", "waiting_list"))
        for arm, n, e in ((active, n1, e1), (control, n2, e2)):
            for outcome, events in (("response", e), ("dropout", max(1, n // 8))):
                rows.append({"study_id": s, "arm_id": arm, "arm_type": arm, "phase": "acute", "outcome": outcome,
                             "timepoint_weeks": 8, "analysis_population": "ITT", "n": n, "events": events,
                             "source": "https://example.org/made-up", "locator": "Table 2"})
    studies.to_csv(folder / "studies.csv", index=False)
    pd.DataFrame(rows).to_csv(folder / "arms.csv", index=False)
    protocol = folder / "protocol.yaml"
    protocol.write_text(textwrap.dedent(f"""\
        review:
          title: "{OWN_TITLE}"
          question: In adults with depression, do made-up treatments improve response?
          authors: [A. Tester]
        sheets:
          studies: {folder.name}/studies.csv
          arms: {folder.name}/arms.csv
        analysis:
          outcomes: [response, dropout]
          comparisons: [medication_vs_control, psychotherapy_vs_control]
        network:
          outcomes: [response, dropout]
        certainty:
          reporting_bias: {{level: suspected, reason: {OWN_REASON}}}
        report:
          pdf: false
        simulation: {{replications: 20, k: [3], tau2: [0.0]}}
        """))
    return protocol


@pytest.mark.slow
def test_a_review_of_ones_own_gets_a_report_with_nothing_of_the_embedded_review(tmp_path):
    work = copy_project(tmp_path / "project")
    embedded_studies = pd.read_csv(work / "data" / "studies.csv")
    claims = yaml.safe_load((work / "data" / "claims.yaml").read_text())["claims"]
    benchmarks = pd.read_csv(work / "data" / "benchmarks.csv")
    shutil.rmtree(work / "data")  # the embedded review's sheets are not there to be read
    protocol = _own_review(work / "mine")
    proc = snakemake(work, "--configfile", str(protocol.relative_to(work)))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    html = " ".join((work / "results" / "report" / "report.html").read_text().split())  # unwrapped lines
    assert OWN_TITLE in html and "A. Tester" in html and "do made-up treatments improve response?" in html
    assert EMBEDDED["review"]["title"] not in html
    assert OWN_REASON in html
    assert EMBEDDED["certainty"]["reporting_bias"]["reason"] not in html
    for label in embedded_studies.label:
        assert label not in html, label
    for claim in claims:
        assert claim["claim"] not in html, claim["id"]
    assert "Claims in circulation" not in html and "Published benchmarks" not in html  # sections it does not have
    assert not len(pd.read_csv(work / "results" / "tables" / "claims.csv"))
    assert not len(pd.read_csv(work / "results" / "tables" / "benchmarks.csv"))
    for citation in benchmarks.citation.dropna().unique():
        assert citation not in html, citation


@pytest.mark.slow
def test_other_sheets_without_a_protocol_are_refused_before_any_job(tmp_path):
    work = copy_project(tmp_path)
    proc = snakemake(work, "--config", "sheets={'workbook': 'mine.xlsx'}")
    assert proc.returncode != 0
    assert "sheets.workbook given without a protocol" in proc.stdout + proc.stderr
    assert not (work / "results").exists()


def test_merged_controls_contradict_the_arm_type_nodes():
    config = {"sheets": SHEETS, "network": {"nodes": "arm_type", "controls": "merged"}}
    (message,) = check_protocol(config)
    assert message.startswith("network: network.nodes arm_type makes each control type a node")
    assert "write nodes: strategy for merged controls" in message
    assert check_protocol({"sheets": SHEETS, "network": {"nodes": "strategy", "controls": "merged"}}) == []


def test_a_control_node_is_known_by_its_scheme():
    from depmeta.review.nodes import control_node

    assert [control_node(n, "strategy") for n in ("placebo", "no_treatment", "control", "medication")] == [
        True, True, True, False]
    assert [control_node(n, "therapy_type") for n in ("psychotherapy:CBT", "waiting_list")] == [False, True]
    # treatments are named by the trials: only the known control types and control are controls
    assert [control_node(n, "treatment") for n in ("fluoxetine", "placebo", "control")] == [False, True, True]
