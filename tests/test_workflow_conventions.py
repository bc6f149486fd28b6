"""Workflow conventions: the catalog's standardized usage (workflow/Snakefile, the catalog
file, report() tags for `snakemake --report`), the Slurm profile, and reruns when the
engine's code changes."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import zipfile

import pytest
import yaml

from conftest import ROOT, copy_project, snakemake

#: Runs Snakemake or renders the report: the full suite only (python -m pytest -m "not slow" skips it).
pytestmark = pytest.mark.slow

#: The rules whose scripts import depmeta: each must rerun when an engine module changes.
ENGINE_RULES = {"validate_extraction", "validate_risk_of_bias", "validate_evidence", "analyse", "evidence",
                "figures", "report"}


def dry_run_jobs(stdout: str) -> set[str]:
    """Rule names of the jobs a `snakemake -n` run would execute."""
    return set(re.findall(r"^rule (\w+):$", stdout, flags=re.M)) | set(
        re.findall(r"^localrule (\w+):$", stdout, flags=re.M))


def test_catalog_file_declares_standardized_usage():
    doc = yaml.safe_load((ROOT / ".snakemake-workflow-catalog.yml").read_text())
    usage = doc["usage"]
    assert usage["software-stack-deployment"]["conda"] is True
    assert usage["report"] is True
    assert "desc" in usage["mandatory-flags"] and "flags" in usage["mandatory-flags"]
    assert (ROOT / "config" / "README.md").exists() and (ROOT / "config" / "config.yaml").exists()


def test_workflow_snakefile_is_the_main_entry_and_root_keeps_the_default_target():
    main = (ROOT / "workflow" / "Snakefile").read_text()
    root = (ROOT / "Snakefile").read_text()
    assert 'configfile: "config/config.yaml"' in main
    for stage in ("common", "validate", "analyse", "report"):
        assert f'include: "rules/{stage}.smk"' in main
    assert "rule all:" in main and "default_target: True" in main
    assert 'include: "workflow/Snakefile"' in root
    assert "default_target: True" in root and "rules.all.input" in root


@pytest.mark.parametrize("entry, target", [((), "default"), (("-s", "workflow/Snakefile"), "all")],
                         ids=["root-Snakefile", "workflow-Snakefile"])
def test_default_dry_run_lists_every_stage(tmp_path, entry, target):
    work = copy_project(tmp_path)
    proc = snakemake(work, "-n", *entry, "--configfile", "tests/config/config.yaml")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert ENGINE_RULES | {"coverage", target} <= dry_run_jobs(proc.stdout)


def test_slurm_profile_dry_run(tmp_path):
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        pytest.skip("snakemake-executor-plugin-slurm is not installed (pip install -e '.[slurm]')")
    profile = yaml.safe_load((ROOT / "profiles" / "slurm" / "config.yaml").read_text())
    assert profile["executor"] == "slurm"
    assert ENGINE_RULES <= set(profile["set-resources"]) and ENGINE_RULES <= set(profile["set-threads"])
    for rule, res in profile["set-resources"].items():
        assert {"mem_mb", "runtime"} <= set(res), rule
    work = copy_project(tmp_path)
    proc = snakemake(work, "-n", "--profile", "profiles/slurm", "--configfile", "tests/config/config.yaml")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert ENGINE_RULES <= dry_run_jobs(proc.stdout)
    # The per-rule resources of the profile reach the jobs.
    analyse = proc.stdout[proc.stdout.index("rule analyse:"):]
    analyse = analyse[:analyse.index("\n\n")]
    assert f"mem_mb={profile['set-resources']['analyse']['mem_mb']}" in analyse
    assert f"runtime={profile['set-resources']['analyse']['runtime']}" in analyse


def test_changing_an_engine_module_reruns_the_jobs_that_import_it(workflow_run):
    proc = snakemake(workflow_run, "-n", "--configfile", "tests/config/config.yaml")
    assert proc.returncode == 0 and "Nothing to be done" in proc.stdout + proc.stderr, proc.stdout[-2000:]
    module = workflow_run / "src" / "depmeta" / "stats" / "pooling.py"
    text, before = module.read_bytes(), module.stat()
    try:
        # Snakemake compares a newer input's checksum with the recorded one, so the
        # content must change (a touch alone reruns nothing, on purpose).
        module.write_bytes(text + b"\n# an edit of the engine\n")
        later = max(p.stat().st_mtime for p in (workflow_run / "results").rglob("*")) + 10
        os.utime(module, (later, later))
        proc = snakemake(workflow_run, "-n", "--configfile", "tests/config/config.yaml")
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert ENGINE_RULES <= dry_run_jobs(proc.stdout), proc.stdout[-3000:]
        assert "src/depmeta/stats/pooling.py" in proc.stdout
    finally:
        module.write_bytes(text)
        os.utime(module, ns=(before.st_atime_ns, before.st_mtime_ns))


#: The jobs a changed row of each sheet reruns (a dry run after the change): the sheet's own
#: validation job and what reads its outputs, nothing else.
RERUNS = {
    "data/benchmarks.csv": {"validate_evidence", "evidence", "report"},
    "data/claims.yaml": {"validate_evidence", "evidence", "report"},
    "data/risk_of_bias.csv": {"validate_risk_of_bias", "certainty", "sensitivity", "report"},
    "data/arms.csv": {"validate_extraction", "validate_risk_of_bias", "analyse", "evidence", "network", "figures",
                      "certainty", "subgroups", "sensitivity", "report"},
}


def _edit_last_line(text: bytes, sheet: str) -> bytes:
    """The sheet with its last row's last cell (a free-text column: notes) changed."""
    if sheet.endswith(".yaml"):
        return text + b"# a comment added\n"
    lines = text.rstrip(b"\n").split(b"\n")
    lines[-1] = lines[-1] + b" (edited)" if not lines[-1].endswith(b'"') else lines[-1][:-1] + b' (edited)"'
    return b"\n".join(lines) + b"\n"


@pytest.mark.parametrize("sheet", sorted(RERUNS))
def test_a_changed_row_reruns_only_the_jobs_that_read_its_sheet(workflow_run, sheet):
    proc = snakemake(workflow_run, "-n", "--configfile", "tests/config/config.yaml")
    assert proc.returncode == 0 and "Nothing to be done" in proc.stdout + proc.stderr, proc.stdout[-2000:]
    path = workflow_run / sheet
    text, before = path.read_bytes(), path.stat()
    try:
        path.write_bytes(_edit_last_line(text, sheet))
        later = max(p.stat().st_mtime for p in (workflow_run / "results").rglob("*")) + 10
        os.utime(path, (later, later))
        proc = snakemake(workflow_run, "-n", "--configfile", "tests/config/config.yaml")
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert dry_run_jobs(proc.stdout) == RERUNS[sheet] | {"default"}, proc.stdout[-3000:]
    finally:
        path.write_bytes(text)
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def test_snakemake_report_collects_the_tagged_outputs(workflow_run, tmp_path):
    out = tmp_path / "snakemake_report.zip"
    proc = subprocess.run([sys.executable, "-m", "snakemake", "--configfile", "tests/config/config.yaml",
                           "--report", str(out)], cwd=workflow_run, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    names = {name.rsplit("/", 1)[-1] for name in zipfile.ZipFile(out).namelist()}
    assert {"report.html", "report.pdf", "summary.csv", "summary.png"} <= names
    assert any(n.startswith("forest_") for n in names)
