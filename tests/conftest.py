"""Shared test fixtures: where ../shared is, and skipping cleanly without it."""

from __future__ import annotations

import json
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
