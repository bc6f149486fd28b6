"""Timing of the whole pipeline on the embedded data, and where the time goes.

Usage (from the project root, with the project's Python environment)::

    PYTHONPATH=src python benchmarks/pipeline.py [--cores 2] [--reps 3] [--write]

On a fresh copy of the project tree (sheets, config, workflow, report, src; no results):

1. cold run: ``snakemake --cores N -F`` (every job, HTML and PDF report), ``--reps`` times
   (median, min and max reported; the job breakdown is the median of each job);
2. no-op run: ``snakemake --cores N`` right after (nothing to do), ``--reps`` times;
3. a change to one row: one count in ``data/arms.csv`` changed, the jobs Snakemake would rerun
   listed from ``snakemake -n``, then run and timed; likewise a change of one config key
   (``subgroups.seed``), which reruns only the jobs whose parameters changed;
4. breakdown: Python start-up and imports of the engine and its libraries (each in a fresh
   interpreter), Snakemake's start-up (``snakemake -n`` on the finished tree), each job's wall
   time from Snakemake's ``benchmark:`` files (``benchmarks/*.tsv`` of the copy), and the report
   job split into executing the cells and rendering from its log's timestamps.

``--write`` replaces the section between the ``pipeline`` markers of ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
COPY = ("Snakefile", "environment.yml", "workflow", "report", "config", "data", "profiles", "src")
START, END = "<!-- pipeline:start -->", "<!-- pipeline:end -->"
IMPORTS = {
    "python start-up (`python -c pass`)": "pass",
    "numpy, pandas, scipy.special (what the engine imports)": "import numpy, pandas, scipy.special",
    "numpy, pandas, scipy.stats (for comparison: the engine no longer imports it)": "import numpy, pandas, scipy.stats",
    "matplotlib (Agg) + pyplot": "import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot",
    "pymare": "import pymare",
    "the engine (`depmeta` and all its modules)": (
        "import depmeta, depmeta.review.analysis, depmeta.review.contrasts, depmeta.stats.pooling, "
        "depmeta.report.figures, depmeta.stats.regression, depmeta.review.subgroups, depmeta.report.tables, "
        "depmeta.review.checks, depmeta.review.sheets, depmeta.review.certainty, depmeta.review.robustness, "
        "depmeta.stats.sensitivity, depmeta.stats.network, depmeta.review.nodes"),
    "Snakemake's script preamble (what each `script:` job imports before its code)": (
        "import pickle; import snakemake.iocontainers; from snakemake.logging import logger"),
    "snakemake's API (what the command line imports)": "import snakemake.api",
}


def copy_project(dest: Path) -> Path:
    for item in COPY:
        src = ROOT / item
        target = dest / item
        if src.is_dir():
            shutil.copytree(src, target, ignore=shutil.ignore_patterns(
                "results", ".snakemake", "_output", "__pycache__", "*.egg-info", ".quarto"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, target)
    return dest


CPU = {}


def _child_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def run(cmd, cwd, env) -> tuple[float, subprocess.CompletedProcess]:
    """Wall time of a command; its CPU time (user + system, with its children) in CPU[id(proc)]."""
    c0, t0 = _child_cpu(), time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    CPU[id(proc)] = _child_cpu() - c0
    if proc.returncode:
        sys.exit(f"{' '.join(cmd)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return dt, proc


def planned_jobs(work, env, cores) -> dict[str, int]:
    """Jobs ``snakemake -n`` would run, from its job-stats table."""
    _, proc = run([sys.executable, "-m", "snakemake", "--cores", str(cores), "-n"], work, env)
    text = proc.stdout + proc.stderr
    jobs = {}
    m = re.search(r"Job stats:\n(.*?)\n\n", text, re.S)
    if m:
        for line in m.group(1).splitlines()[2:]:
            parts = line.split()
            if len(parts) == 2 and parts[0] not in ("total", "all") and parts[1].isdigit():
                jobs[parts[0]] = int(parts[1])
    return jobs


def jobs_run(proc) -> dict[str, int]:
    """Jobs a Snakemake run finished, from its log lines ``Finished jobid: N (Rule: name)``."""
    out = {}
    for name in re.findall(r"\(Rule: (\w+)\)", proc.stdout + proc.stderr):
        if name != "all":
            out[name] = out.get(name, 0) + 1
    return out


def job_times(work) -> dict[str, tuple[float, float]]:
    """(wall, CPU) seconds of each job with a ``benchmark:`` file."""
    out = {}
    for tsv in sorted((work / "benchmarks").glob("*.tsv")):
        b = pd.read_csv(tsv, sep="\t").iloc[-1]
        out[tsv.stem] = (float(b["s"]), float(b["cpu_time"]))
    return out


def report_split(work) -> list[str]:
    """Seconds between the report log's first and last timestamps, and notable steps."""
    log = (work / "logs" / "report.log").read_text() if (work / "logs" / "report.log").exists() else ""
    stamps = [(datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f"), m.group(2))
              for m in re.finditer(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+) \w+ (.*)$", log, re.M)]
    return [f"{(t - stamps[0][0]).total_seconds():.1f} s: {msg[:90]}" for t, msg in stamps]


def versions() -> str:
    """The versions that move these timings: Snakemake and its executor plugins (each installed
    plugin is imported at start-up), matplotlib (its text drawing), pandas."""
    from importlib import metadata

    names = ["snakemake", "matplotlib", "pandas"] + sorted(
        d.metadata["Name"] for d in metadata.distributions()
        if (d.metadata["Name"] or "").startswith("snakemake-executor-plugin-"))
    out = []
    for name in names:
        try:
            out.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            pass
    return ", ".join(out)


def imports(env, reps=3) -> dict[str, tuple[float, float]]:
    out = {}
    for name, code in IMPORTS.items():
        runs = []
        for _ in range(reps):
            dt, proc = run([sys.executable, "-c", code], ROOT, env)
            runs.append((dt, CPU[id(proc)]))
        out[name] = min(runs)
    return out


def spread(values) -> str:
    """Median (min to max) of a few timings."""
    return f"{statistics.median(values):.1f} ({min(values):.1f} to {max(values):.1f})"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--reps", type=int, default=3, help="cold and no-op runs, each (default 3)")
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    sm = [sys.executable, "-m", "snakemake", "--cores", str(args.cores)]
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        work = copy_project(Path(tmp) / "project")
        env_w = dict(env, PYTHONPATH=str(work / "src"))
        colds, cold_each = [], []
        for _ in range(args.reps):
            colds.append(run(sm + ["-F"], work, env_w))
            cold_each.append(job_times(work))
        cold_jobs = {job: tuple(statistics.median(times[job][i] for times in cold_each) for i in (0, 1))
                     for job in cold_each[0]}
        split = report_split(work)
        noops = [run(sm, work, env_w) for _ in range(args.reps)]
        noop_msg = all("nothing to be done" in (proc.stdout + proc.stderr).lower() for _, proc in noops)
        t_dry, p_dry = run(sm + ["-n"], work, env_w)
        t_version, p_version = run([sys.executable, "-m", "snakemake", "--version"], work, env_w)

        arms = work / "data" / "arms.csv"
        df = pd.read_csv(arms, dtype=str, keep_default_na=False)
        i = int(df.index[(df.events != "") & (df.n != "")][0])
        df.loc[i, "events"] = str(int(df.loc[i, "events"]) + 1)
        row = f"row {i + 2} ({df.loc[i, 'study_id']}, {df.loc[i, 'arm_id']}, {df.loc[i, 'outcome']}): events +1"
        df.to_csv(arms, index=False)
        planned_row = planned_jobs(work, env_w, args.cores)
        t_row, p_row = run(sm, work, env_w)

        bench = work / "data" / "benchmarks.csv"
        bf = pd.read_csv(bench, dtype=str, keep_default_na=False)
        bf.loc[0, "notes"] = (bf.loc[0, "notes"] + " (edited)").strip()
        bf.to_csv(bench, index=False)
        planned_bench = planned_jobs(work, env_w, args.cores)
        t_bench, p_bench = run(sm, work, env_w)

        cfg = work / "config" / "config.yaml"
        cfg.write_text(re.sub(r"(\n  seed: )(\d+)", lambda m: m.group(1) + str(int(m.group(2)) + 1),
                              cfg.read_text(), count=1))
        planned_cfg = planned_jobs(work, env_w, args.cores)
        t_cfg, p_cfg = run(sm, work, env_w)
    imp = imports(env)
    load_after = os.getloadavg()

    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    fmt_jobs = lambda j: ", ".join(f"{k}" + (f" ×{n}" if n > 1 else "") for k, n in j.items()) or "none"  # noqa: E731
    lines = [
        START,
        f"Measured {stamp} on {platform.node() or 'this machine'} ({os.cpu_count()} cores, `--cores "
        f"{args.cores}`, Python {platform.python_version()}, {versions()}); load average "
        f"{load_before[0]:.1f} before, "
        f"{load_after[0]:.1f} after: the machine is shared, these are timings under that load.",
        "",
        f"Command: `PYTHONPATH=src python benchmarks/pipeline.py --cores {args.cores} --reps {args.reps}"
        f"{' --write' if args.write else ''}`",
        "",
        f"Cold and no-op runs: median (min to max) of {args.reps} runs each, one after the other on the "
        "same copy; the other rows are one run each.",
        "",
        "| run | wall time (s) | CPU time (s) | target (wall) | jobs run |",
        "| --- | --- | --- | --- | --- |",
        f"| cold `snakemake --cores {args.cores} -F` (HTML and PDF) | {spread([t for t, _ in colds])} | "
        f"{spread([CPU[id(p)] for _, p in colds])} | ≤ 30 | all |",
        f"| no-op `snakemake --cores {args.cores}` | {spread([t for t, _ in noops])} | "
        f"{spread([CPU[id(p)] for _, p in noops])} | ≤ 2 | none"
        f"{'' if noop_msg else ' (Snakemake did not say nothing to be done!)'} |",
        f"| one row of `data/arms.csv` changed ({row}) | {t_row:.1f} | {CPU[id(p_row)]:.1f} | "
        f"| {fmt_jobs(jobs_run(p_row))} |",
        f"| the notes of row 2 of `data/benchmarks.csv` changed | {t_bench:.1f} | {CPU[id(p_bench)]:.1f} | "
        f"| {fmt_jobs(jobs_run(p_bench))} |",
        f"| one config key changed (`subgroups.seed`) | {t_cfg:.1f} | {CPU[id(p_cfg)]:.1f} | "
        f"| {fmt_jobs(jobs_run(p_cfg))} |",
        "",
        f"Jobs `snakemake -n` planned before each change was run: arms row: {fmt_jobs(planned_row)}; "
        f"benchmarks row: {fmt_jobs(planned_bench)}; config key: {fmt_jobs(planned_cfg)}.",
        "",
        "Where the time goes (cold runs): each job's wall time from its `benchmark:` file, the median "
        "over the cold runs (jobs without one are not listed), and fresh-interpreter import times "
        "(best of 3):",
        "",
        "| part | wall (s) | CPU (s) |",
        "| --- | --- | --- |",
        *[f"| job `{k}` | {w:.2f} | {c:.2f} |" for k, (w, c) in cold_jobs.items()],
        f"| Snakemake start-up and DAG (`snakemake -n`, up to date) | {t_dry:.2f} | {CPU[id(p_dry)]:.2f} |",
        f"| Snakemake alone (`snakemake --version`: no workflow read) | {t_version:.2f} | "
        f"{CPU[id(p_version)]:.2f} |",
        *[f"| import: {k} | {w:.2f} | {c:.2f} |" for k, (w, c) in imp.items()],
        "",
        "Report job of the last cold run, from its log (seconds after its first line):",
        "",
        *[f"- {s}" for s in split],
        END,
    ]
    text = "\n".join(lines)
    print(text)
    if args.write:
        readme = ROOT / "benchmarks" / "README.md"
        old = readme.read_text() if readme.exists() else "# Benchmarks\n"
        if START in old:
            new = old[: old.index(START)] + text + old[old.index(END) + len(END):]
        else:
            new = old.rstrip("\n") + "\n\n## Pipeline timing\n\n" + text + "\n"
        readme.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
