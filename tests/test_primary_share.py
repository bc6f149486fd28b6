"""Tests of the primary-report share count (workflow/scripts/primary_share.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "workflow" / "scripts" / "primary_share.py"


def _load_module():
    """Import the script as a module (workflow/scripts is not a package)."""
    spec = importlib.util.spec_from_file_location("primary_share", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


ps = _load_module()


@pytest.mark.parametrize(
    "locator",
    [
        "Cochrane review CD002018, characteristics of included studies",
        "n from ClinicalTrials.gov NCT00000000 participant flow",
        "Evidence-Based Nursing summary of the trial",
        "research round-up (news item); HR as reported",
        "Meta-analysis table 2",
        "secondary source: Zhang et al 2018 table 1",
    ],
)
def test_secondary_locators_are_flagged(locator):
    assert ps.is_secondary(locator)


@pytest.mark.parametrize(
    "locator",
    [
        "Abstract (PMID 19045965), Results",
        "Table 2, relapse by 68 weeks",
        "J Consult Clin Psychol 2014; Results paragraph 3",
        "",
    ],
)
def test_primary_locators_are_not_flagged(locator):
    assert not ps.is_secondary(locator)


def test_case_is_ignored():
    assert ps.is_secondary("COCHRANE REVIEW")
    assert ps.is_secondary("Registry record")


def test_share_on_synthetic_frame():
    frame = pd.DataFrame(
        {
            "study_id": ["a", "a", "b", "c"],
            "locator": ["Table 1", "review table", "Abstract", None],
        }
    )
    primary, total, share = ps.primary_share(frame)
    assert (primary, total) == (3, 4)
    assert share == pytest.approx(0.75)


def test_share_on_empty_frame_is_nan():
    primary, total, share = ps.primary_share(pd.DataFrame({"locator": []}))
    assert (primary, total) == (0, 0)
    assert share != share


@pytest.mark.parametrize("sheet", ["arms.csv", "contrasts.csv"])
def test_share_on_embedded_sheets_is_a_proportion(sheet):
    path = ROOT / "data" / sheet
    if not path.exists():
        pytest.skip(f"{sheet} not present")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    primary, total, share = ps.primary_share(frame)
    assert total == len(frame)
    assert 0 <= primary <= total
    if total:
        assert 0.0 <= share <= 1.0


def test_cli_prints_one_line_per_sheet(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    ps.main(["data/arms.csv", "data/does_not_exist.csv"])
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2
    assert out[0].startswith("data/arms.csv: ")
    assert out[1] == "data/does_not_exist.csv: not found"
