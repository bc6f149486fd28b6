"""The exploration notebook runs from top to bottom on the embedded data."""

from __future__ import annotations

from pathlib import Path

import pytest

#: Runs Snakemake or renders the report: the full suite only (python -m pytest -m "not slow" skips it).
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]


def test_explore_notebook_executes():
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(ROOT / "notebooks" / "explore.ipynb", as_version=4)
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(ROOT / "notebooks")}})
    client.execute()
    text = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    assert "0 problems" in text
