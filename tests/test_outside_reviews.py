"""Outside reviews end to end, laid out as their researchers would lay them out
(tests/reviews/): each gets a report that speaks only of itself."""

from __future__ import annotations

import re
import shutil

import pandas as pd
import pytest
import yaml
from reviews import linde2015

from conftest import copy_project, shared_path, snakemake


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
    assert "every arm of the trial is medication (a comparison within a strategy)" in text
    assert "Med NaSSA vs Med SARI" in text and "Med hypericum" in text  # the review's own drug classes
    studies = pd.read_csv(work / "results" / "validated" / "studies.csv")
    assert len(studies) == 66 and studies.study_id.is_unique
