"""Shared test fixtures: where ../shared is, and skipping cleanly without it; a copy of
the project and one run of the workflow on the test config, shared by the tests that
read its outputs (workflow, determinism, browser)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
REFERENCE = SHARED / "reference" / "metafor"


def shared_path(*parts: str) -> Path:
    """A path under ../shared, or skip the test when it is absent (a user's fresh clone)."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} not found: the metafor reference results live in ../shared, "
                    "which only the project's developers and CI have")
    return path


def load_reference(name: str) -> dict:
    """metafor's results on a metadat dataset (../shared/reference/metafor/NAME.json)."""
    return json.loads(shared_path("reference", "metafor", f"{name}.json").read_text())


#: What a copy of the project needs to run the workflow.
COPY = ("Snakefile", ".snakemake-workflow-catalog.yml", "environment.yml", "workflow", "report", "config",
        "data", "profiles", "src", "tests/config")


def copy_project(dest: Path) -> Path:
    """Copy the project's workflow files (not its results) to ``dest``."""
    for item in COPY:
        src = ROOT / item
        target = dest / item
        if src.is_dir():
            shutil.copytree(src, target, ignore=shutil.ignore_patterns(".snakemake", "_output",
                                                                       "__pycache__", "*.egg-info"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, target)
    return dest


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    """Run Snakemake with 2 cores in ``workdir``."""
    return subprocess.run([sys.executable, "-m", "snakemake", "--cores", "2", *args], cwd=workdir,
                          capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="session")
def workflow_run(tmp_path_factory):
    """A copy of the project after one full run on tests/config/config.yaml."""
    work = copy_project(tmp_path_factory.mktemp("workflow"))
    proc = snakemake(work, "--configfile", "tests/config/config.yaml")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return work


def reported_rows(rows):
    """Rows of the contrasts sheet (dicts of its columns; the others blank) typed and prepared as
    the analyses read them (:func:`depmeta.review.sheets.prepare_contrasts`)."""
    import pandas as pd
    import yaml

    from depmeta.review.sheets import coerce, prepare_contrasts

    schema = yaml.safe_load((Path(__file__).resolve().parents[1] / "workflow" / "schemas"
                             / "contrasts.schema.yaml").read_text())
    raw = pd.DataFrame([{c: "" if pd.isna(r.get(c, "")) else str(r.get(c, "")) for c in schema["properties"]}
                        for r in rows])
    return prepare_contrasts(coerce(raw, schema))


def load_linde2016_reference() -> dict:
    """rma.mv's fit of the Linde 2016 outside review's response network
    (tests/reference/linde2016_review.json, made by tests/reference/generate_linde2016_review.R)."""
    return json.loads((Path(__file__).resolve().parent / "reference" / "linde2016_review.json").read_text())
