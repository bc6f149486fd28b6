"""Speed of the engine's meta-regression against metafor, side by side in one run.

Usage (from the project root, with the project's Python environment and ``Rscript``)::

    PYTHONPATH=src python benchmarks/bench_regression.py [--reps-fit 20] [--reps-perm 3] [--write]

Cases, on the Metapsy psychotherapy database (``../shared/datasets/metapsy/depression-psyctr.csv``,
read here only, never copied into the project):

1. REML fit of every comparison with ``.g``/``.g_se`` (intercept only, and with year as moderator);
2. a permutation test with 1000 random permutations at k = 60 (the first 60 comparisons, year as
   moderator). Both sides use the same permutations: metafor's are recomputed from its seed and
   passed to the engine, so the permutation distributions are compared draw by draw.

Each side is timed ``reps`` times (wall clock; R's ``proc.time``, Python's ``perf_counter``) and
the results are checked to agree to 1e-6 relative. ``--write`` replaces the section between the
``bench_regression`` markers of ``benchmarks/README.md`` with the table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from depmeta.stats.pooling import pool  # noqa: E402
from depmeta.stats.regression import meta_regression, permutation_test  # noqa: E402

DATA = ROOT.parent / "shared" / "datasets" / "metapsy" / "depression-psyctr.csv"
#: The project's promise: six significant digits. ATOL for statistics near zero.
RTOL = 1e-6
ATOL = 1e-8
START, END = "<!-- bench_regression:start -->", "<!-- bench_regression:end -->"


def _timed(fn, reps):
    out, times = None, []
    for _ in range(reps):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return out, np.array(times)


def _maxrel(ours, theirs):
    ours, theirs = np.asarray(ours, float).ravel(), np.asarray(theirs, float).ravel()
    den = np.maximum(np.abs(theirs), ATOL / RTOL)
    return float(np.max(np.abs(ours - theirs) / den))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps-fit", type=int, default=20)
    ap.add_argument("--reps-perm", type=int, default=3)
    ap.add_argument("--k-perm", type=int, default=60)
    ap.add_argument("--iter", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--write", action="store_true", help="write the table into benchmarks/README.md")
    args = ap.parse_args()
    if not DATA.exists():
        sys.exit(f"{DATA} not found: the Metapsy database lives in ../shared")

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "r.json"
        cmd = ["Rscript", str(ROOT / "benchmarks" / "bench_regression.R"), str(DATA), str(out),
               str(args.reps_fit), str(args.reps_perm), str(args.k_perm), str(args.iter), str(args.seed)]
        subprocess.run(cmd, check=True)
        r = json.loads(out.read_text())

    d = pd.read_csv(DATA, sep=";", decimal=",")
    d = d[d[".g"].notna() & d[".g_se"].notna()]
    y, v, year = d[".g"].to_numpy(float), d[".g_se"].to_numpy(float) ** 2, d.year.to_numpy(float)
    k = len(y)
    assert k == r["k"], (k, r["k"])

    rows, checks = [], []
    # Warm-up, untimed: the first call pays for lazy imports (PyMARE, scipy.stats distributions);
    # the pipeline's import costs are measured by benchmarks/pipeline.py.
    pool(y[:5], v[:5], method="REML")
    meta_regression(y[:10], v[:10], year[:10], method="REML")
    permutation_test(y[:10], v[:10], year[:10], iterations=10, exact_limit=0)
    fit0, t0 = _timed(lambda: pool(y, v, method="REML"), args.reps_fit)
    dev = max(_maxrel(fit0.estimate, r["fit_intercept"]["coef"]), _maxrel(fit0.se, r["fit_intercept"]["se"]),
              _maxrel(fit0.tau2, r["fit_intercept"]["tau2"]), _maxrel(fit0.q, r["fit_intercept"]["q"]))
    rows.append((f"REML fit, intercept only, k={k} (`pool`)", r["time_fit_intercept"], t0, dev))
    fit1, t1 = _timed(lambda: meta_regression(y, v, year, ["year"], method="REML"), args.reps_fit)
    ry = r["fit_year"]
    dev = max(_maxrel(fit1.coef, ry["coef"]), _maxrel(fit1.se, ry["se"]), _maxrel(fit1.tau2, ry["tau2"]),
              _maxrel(fit1.qm, ry["qm"]), _maxrel(fit1.qe, ry["qe"]), _maxrel(fit1.r2, ry["r2"]))
    rows.append((f"REML meta-regression on year, k={k} (`meta_regression`)", r["time_fit_year"], t1, dev))

    rp = r["permutest"]
    kp = rp["k"]
    orders = np.array(rp["orders"], dtype=int)
    orders[0] = np.arange(kp)  # permutest puts the observed order first
    perm, tp = _timed(lambda: permutation_test(y[:kp], v[:kp], year[:kp], ["year"], method="REML",
                                               orders=orders), args.reps_perm)
    ok = np.isfinite(np.array(rp["qm_perm"], float))
    dev = max(_maxrel(perm.qm_perm, np.array(rp["qm_perm"], float)[ok]),
              _maxrel(perm.stat_perm, np.array(rp["zval_perm"], float)[ok]), _maxrel(perm.qm, rp["qm"]))
    same_p = bool(np.allclose(perm.pval, rp["pval"], rtol=0, atol=1e-12)
                  and abs(perm.qm_pval - rp["qm_pval"]) <= 1e-12)
    rows.append((f"permutation test, {args.iter} permutations, k={kp} (`permutation_test`)",
                 r["time_permutest"], tp, dev))
    checks.append(f"permutation p-values identical to metafor's: {same_p} "
                  f"(QM p = {perm.qm_pval:.3f}, metafor {rp['qm_pval']:.3f})")
    load_after = os.getloadavg()

    lines = [
        "| case | metafor min / median / max (s) | depmeta min / median / max (s) | ratio (median) "
        "| ratio (min; max) | max rel. deviation |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    ok_all = same_p
    for name, tr, tpy, dev in rows:
        tr, tpy = np.array(tr, float), np.array(tpy, float)
        mm = lambda t: f"{t.min():.4g} / {np.median(t):.4g} / {t.max():.4g}"  # noqa: E731
        lines.append(f"| {name} | {mm(tr)} | {mm(tpy)} | {np.median(tr) / np.median(tpy):.0f}× "
                     f"| {tr.min() / tpy.min():.0f}×; {tr.max() / tpy.max():.0f}× | {dev:.1e} |")
        ok_all &= dev <= RTOL
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    text = "\n".join([
        START,
        f"Measured {stamp} on {platform.node() or 'this machine'} ({os.cpu_count()} cores, "
        f"{platform.python_version()}, numpy {np.__version__}; {r['r_version']}, metafor "
        f"{r['metafor_version']}); load average {load_before[0]:.1f} before, {load_after[0]:.1f} after "
        "(the machine is shared: timings are under that load, for both sides alike).",
        "",
        f"Command: `PYTHONPATH=src python benchmarks/bench_regression.py --reps-fit {args.reps_fit} "
        f"--reps-perm {args.reps_perm}{' --write' if args.write else ''}`",
        "",
        *lines,
        "",
        "Ratios: metafor's time over depmeta's (median over repetitions; then min over min and max over max). "
        f"Deviation: largest relative difference of coefficients, SEs, tau², Q/QM, R² and, for the "
        f"permutation test, of every permuted QM and z statistic (same permutations on both sides). "
        f"{'; '.join(checks)}. All within {RTOL:g}: {ok_all}.",
        END,
    ])
    print(text)
    if args.write:
        readme = ROOT / "benchmarks" / "README.md"
        old = readme.read_text() if readme.exists() else "# Benchmarks\n"
        if START in old:
            new = old[: old.index(START)] + text + old[old.index(END) + len(END):]
        else:
            new = old.rstrip("\n") + "\n\n## Meta-regression and permutation tests against metafor\n\n" + text + "\n"
        readme.write_text(new)
    return 0 if ok_all else 1


if __name__ == "__main__":
    sys.exit(main())
