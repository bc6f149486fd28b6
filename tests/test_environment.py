"""environment.yml (conda route) and pyproject.toml (pip route) name the same
dependencies with the same version bounds."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
#: conda-forge packages of the conda route that pip does not install: Quarto renders
#: the report there; pip itself.
CONDA_ONLY = {"python", "quarto", "pip"}


def _split(spec: str) -> tuple[str, str]:
    m = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*(.*)", spec)
    return m.group(1).lower().replace("_", "-"), m.group(2).replace(" ", "")


def test_environment_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip_specs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        pip_specs += extra
    pip = dict(_split(s) for s in pip_specs)

    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "conda-forge" in env["channels"]
    conda = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            conda.update(_split(s) for s in dep["pip"])
        else:
            conda.update([_split(dep)])
    assert set(conda) - CONDA_ONLY == set(pip), (
        f"only in environment.yml: {sorted(set(conda) - CONDA_ONLY - set(pip))}; "
        f"only in pyproject.toml: {sorted(set(pip) - set(conda))}")
    assert {k: conda[k] for k in pip} == pip
    assert conda["python"] == project["requires-python"]
