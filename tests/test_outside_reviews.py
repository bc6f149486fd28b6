"""Outside reviews end to end, laid out as their researchers would lay them out
(tests/reviews/): each gets a report that speaks only of itself."""

from __future__ import annotations

import json
import re
import shutil

import pandas as pd
import pytest
import yaml
from reviews import linde2015, linde2016, metapsy_subset

from conftest import ROOT, copy_project, load_linde2016_reference, shared_path, snakemake

#: Pooled estimates against metafor (REML roots found to 1e-12 on both sides): the project's
#: promise of six significant digits.
RTOL_POOLED = 1e-6
#: Each trial's Hedges' g (closed form on both sides, the arms combined by the same formula):
#: floating-point order of summation only.
RTOL_EFFECT = 1e-10


def _text(html: str) -> str:
    """The report's visible text, one space between words."""
    body = re.sub(r"<script.*?</script>|<style.*?</style>", "", html[html.find("<body"):], flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", body).split())


@pytest.mark.slow
def test_linde2015_drug_classes_in_primary_care(tmp_path):
    dataset = shared_path("datasets", "metadat", "linde2015.csv")
    work = copy_project(tmp_path / "project")
    embedded = pd.read_csv(work / "data" / "studies.csv")
    embedded_title = yaml.safe_load((work / "config" / "config.yaml").read_text())["review"]["title"]
    shutil.rmtree(work / "data")  # a researcher's own project holds only their review
    protocol = linde2015.write_review(dataset, work)
    proc = snakemake(work, "--configfile", str(protocol.relative_to(work)))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    text = _text((work / "results" / "report" / "report.html").read_text())
    assert linde2015.TITLE in text and "Review question." in text and embedded_title not in text
    assert not [label for label in embedded.label if label in text]
    assert "Claims in circulation" not in text and "Published benchmarks" not in text
    assert "Medication vs control." in text  # the opening answer speaks of what this review compared
    # the drug-class networks, and head-to-head trials listed as the network's, not as unused
    assert "Response network" in text and "Remission network" in text
    # head-to-head trials enter the protocol's comparison of two classes; the classes against placebo
    # reach the summary of findings with their network estimates (CINeMA)
    assert "2.5 SSRI vs TCA" in text and "Compared with placebo, TCA increases response (RR 1.29" in text
    sof = pd.read_csv(work / "results" / "certainty" / "sof.csv")
    assert {"TCA_vs_placebo", "SSRI_vs_placebo", "hypericum_vs_placebo", "SSRI_vs_TCA"} <= set(
        sof[sof.evidence == "network"].comparison)
    assert "Med NaSSA vs Med SARI" in text and "Med hypericum" in text  # the review's own drug classes
    studies = pd.read_csv(work / "results" / "validated" / "studies.csv")
    assert len(studies) == 66 and studies.study_id.is_unique


@pytest.mark.slow
def test_metapsy_subset_psychotherapy_vs_control_on_one_scale_per_trial(tmp_path):
    dataset = shared_path("datasets", "metapsy", "depression-psyctr.csv")
    ref = json.loads((ROOT / "tests" / "reference" / "metapsy_subset.json").read_text())
    work = copy_project(tmp_path / "project")
    embedded = pd.read_csv(work / "data" / "studies.csv")
    embedded_title = yaml.safe_load((work / "config" / "config.yaml").read_text())["review"]["title"]
    shutil.rmtree(work / "data")  # a researcher's own project holds only their review
    protocol = metapsy_subset.write_review(dataset, work)
    proc = snakemake(work, "--configfile", str(protocol.relative_to(work)))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    text = _text((work / "results" / "report" / "report.html").read_text())
    assert metapsy_subset.TITLE in text and "Review question." in text and embedded_title not in text
    assert not [label for label in embedded.label if label in text]
    assert "Claims in circulation" not in text and "Published benchmarks" not in text
    assert "Psychotherapy vs control." in text
    # the scales not chosen are listed with the reason, and the methods say the rule
    assert "use HDRS-17 (the scale most of its arms report, then analysis.scales.priority)" in text
    assert "contrasts use one scale: the one most of its arms report, then the first in the order HRSD" in text
    summary = pd.read_csv(work / "results" / "tables" / "summary.csv")
    (pooled,) = summary[(summary.comparison == "psychotherapy_vs_control") & (summary.outcome == "symptoms")
                        ].to_dict("records")
    assert pooled["k"] == ref["k"]
    for ours, theirs in (("estimate", "estimate"), ("se", "se"), ("ci_low", "ci_lb"), ("ci_high", "ci_ub"),
                         ("tau2", "tau2"), ("q", "q"), ("pi_low", "pi_lb"), ("pi_high", "pi_ub")):
        # the review's protocol takes the default Knapp-Hartung test, as the reference's knha fit
        assert pooled[ours] == pytest.approx(ref["knha"][theirs], rel=RTOL_POOLED), ours
    per_study = pd.read_csv(work / "results" / "tables" / "per_study.csv").set_index("study_id")
    theirs = pd.DataFrame(ref["studies"]).set_index("study_id")
    assert set(per_study.index) == set(theirs.index)
    assert (per_study.scale[theirs.index] == theirs.scale).all()
    assert per_study.yi[theirs.index].to_numpy() == pytest.approx(theirs.yi.to_numpy(), rel=RTOL_EFFECT)
    assert per_study.vi[theirs.index].to_numpy() == pytest.approx(theirs.vi.to_numpy(), rel=RTOL_EFFECT)
#: Network estimates against metafor's rma.mv on the same contrasts (tests/reference/linde2016_review.json):
#: the engine's REML agrees to the project's six significant digits (tests/test_network.py); the CSV keeps
#: every digit, so the comparison is as tight. ATOL for log odds ratios near 0.
RTOL_NETWORK, ATOL_NETWORK = 1e-6, 1e-8


@pytest.mark.slow
def test_linde2016_treatments_in_primary_care_from_reported_odds_ratios(tmp_path):
    dataset = shared_path("datasets", "netmeta", "Linde2016.csv")
    ref = load_linde2016_reference()
    work = copy_project(tmp_path / "project")
    embedded = pd.read_csv(work / "data" / "studies.csv")
    embedded_title = yaml.safe_load((work / "config" / "config.yaml").read_text())["review"]["title"]
    shutil.rmtree(work / "data")
    protocol = linde2016.write_review(dataset, work)
    proc = snakemake(work, "--configfile", str(protocol.relative_to(work)))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    text = _text((work / "results" / "report" / "report.html").read_text())
    assert linde2016.TITLE in text and "Review question." in text and embedded_title not in text
    assert "how do psychological treatments, antidepressants and their combination compare" in text
    own = set(pd.read_csv(work / "results" / "validated" / "studies.csv").label)
    # none of the embedded trials, except one both reviews include (Schulberg 1996)
    assert not [label for label in embedded.label if label in text and label not in own]
    assert "Claims in circulation" not in text and "Published benchmarks" not in text
    assert "Response network" in text and "Med SSRI" in text and "Med hypericum" in text
    assert "reported effects are in no network" in text
    assert len(pd.read_csv(work / "results" / "validated" / "studies.csv")) == 93
    # the network estimates, against rma.mv on the same contrasts
    est = pd.read_csv(work / "results" / "network" / "network_estimates.csv")
    est = est.set_index(["treatment1", "treatment2"])
    pairs = ref["pairs"]
    checked = 0
    # the review takes the network's default t-based intervals (network.test), as rma.mv(test = "t")
    for t1, t2, y, lo, hi in zip(pairs["treatment1"], pairs["treatment2"], pairs["estimate"], pairs["ci_lb_t"],
                                 pairs["ci_ub_t"]):
        if (t1, t2) in est.index:
            row = est.loc[(t1, t2)]
            assert row.measure == "OR"
            for ours, theirs in ((row.estimate, y), (row.ci_low, lo), (row.ci_high, hi)):
                assert ours == pytest.approx(theirs, rel=RTOL_NETWORK, abs=ATOL_NETWORK), (t1, t2)
            checked += 1
    assert checked == len(pairs["estimate"]) == 66
    summary = pd.read_csv(work / "results" / "network" / "network_summary.csv").iloc[0]
    assert summary.tau2 == pytest.approx(ref["tau2"], rel=RTOL_NETWORK) and summary.n_studies == ref["n_studies"]
    # the trials whose arms share a node are listed with the reason, not dropped
    excl = pd.read_csv(work / "results" / "network" / "network_exclusions.csv")
    assert excl.reason.str.contains("one network node|same network node").sum() == len(ref["studies_left_out"])
    # the protocol's comparisons of a drug class reach the summary of findings with the network's estimate
    sof = pd.read_csv(work / "results" / "certainty" / "sof.csv")
    network_rows = sof[sof.evidence == "network"].set_index("comparison")
    assert {"SSRI_vs_control", "psychotherapy_vs_SSRI"} <= set(network_rows.index)
    ssri = est.loc[("medication:SSRI", "control")]
    assert network_rows.loc["SSRI_vs_control", "estimate_display"] == pytest.approx(ssri.estimate_display, rel=1e-12)
