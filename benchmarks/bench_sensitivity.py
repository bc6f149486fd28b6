"""Speed of the batched sensitivity analyses against metafor, on the same simulated data in one run.

Usage (from the project root, with the project's environment active)::

    PYTHONPATH=src python benchmarks/bench_sensitivity.py [--repeats 5] [--r-repeats 3] [--r-gosh-repeats 1]

Times leave-one-out and influence diagnostics at k = 200 and GOSH at k = 16 (REML, all 65,535 subsets)
with depmeta and with metafor (``benchmarks/bench_sensitivity.R``, tight control so both compute the
exact roots), prints min/median/max of each and the ratio of medians, checks that the two agree to
1e-6 relative (1e-8 absolute for tau² at the boundary), and times GOSH at k = 20 (1,048,575 REML fits)
in a child process whose peak resident memory it reports. A benchmark run on demand, never a test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from depmeta.stats.sensitivity import gosh, influence, leave1out

HERE = Path(__file__).resolve().parent
RTOL = 1e-6  # the project's promise of agreement with metafor
ATOL = 1e-8  # tau² at or near 0, where a relative criterion is meaningless


def simulate(k: int, seed: int):
    """Log risk ratios of k two-arm trials with between-trial heterogeneity (tau = 0.2)."""
    rng = np.random.default_rng(seed)
    n = rng.integers(40, 400, k)
    vi = rng.uniform(2, 6, k) / n
    yi = rng.normal(-0.2, 0.2, k) + rng.normal(0, np.sqrt(vi))
    return yi, vi


def timed(n: int, fn):
    times, value = [], None
    for _ in range(n):
        t0 = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - t0)
    return times, value


def summary(times):
    times = np.atleast_1d(times).tolist()  # one repeat comes back from R as a scalar
    return min(times), statistics.median(times), max(times)


def agree(ours, theirs, name):
    theirs = np.array([np.nan if x is None else x for x in theirs], float)
    ok = np.allclose(ours, theirs, rtol=RTOL, atol=ATOL)
    worst = np.nanmax(np.abs(ours - theirs) / np.maximum(np.abs(theirs), 1e-300) * (np.abs(ours - theirs) > ATOL))
    return {"quantity": name, "ok": bool(ok), "max_rel_diff": float(worst)}


def gosh20_child():
    yi, vi = simulate(20, 3)
    t0 = time.perf_counter()
    g = gosh(yi, vi, method="REML")
    elapsed = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": elapsed, "peak_rss_mb": peak_mb, "n_subsets": g.n_subsets,
                      "not_converged": int(np.isnan(g.tau2).sum())}))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5, help="repeats of each depmeta timing")
    ap.add_argument("--r-repeats", type=int, default=3, help="repeats of metafor's leave1out/influence")
    ap.add_argument("--r-gosh-repeats", type=int, default=1, help="repeats of metafor's gosh (about 4 min each)")
    ap.add_argument("--r-json", type=Path, help="keep metafor's timings and results in this file; "
                    "if it exists, reuse them instead of running metafor again")
    ap.add_argument("--gosh20-child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.gosh20_child:
        return gosh20_child()

    large, small = simulate(200, 1), simulate(16, 2)
    if args.r_json and args.r_json.exists():
        ref = json.loads(args.r_json.read_text())
    else:
        with tempfile.TemporaryDirectory() as tmp:
            inp, out = Path(tmp) / "in.json", Path(tmp) / "out.json"
            inp.write_text(json.dumps({
                "large": {"yi": large[0].tolist(), "vi": large[1].tolist()},
                "gosh": {"yi": small[0].tolist(), "vi": small[1].tolist()},
                "repeats_r": args.r_repeats, "repeats_r_gosh": args.r_gosh_repeats}))
            print("running metafor ...", file=sys.stderr, flush=True)
            subprocess.run(["Rscript", str(HERE / "bench_sensitivity.R"), str(inp), str(out)], check=True)
            ref = json.loads(out.read_text())
            if args.r_json:
                args.r_json.write_text(out.read_text())

    rows, checks = [], []
    t, l1 = timed(args.repeats, lambda: leave1out(*large))
    rows.append(("leave-one-out, k = 200, REML", summary(t), summary(ref["leave1out"]["times"])))
    checks += [agree(l1.estimate, ref["leave1out"]["estimate"], "leave1out estimate"),
               agree(l1.tau2, ref["leave1out"]["tau2"], "leave1out tau2")]
    t, inf = timed(args.repeats, lambda: influence(*large))
    rows.append(("influence, k = 200, REML", summary(t), summary(ref["influence"]["times"])))
    checks += [agree(getattr(inf, f), ref["influence"][f], f"influence {f}")
               for f in ("rstudent", "cook_d", "dffits", "tau2_del")]
    t, g = timed(args.repeats, lambda: gosh(*small, method="REML"))
    rows.append(("GOSH, k = 16 (65,535 fits), REML", summary(t), summary(ref["gosh"]["times"])))
    incl = np.array([[c == "1" for c in r] for r in ref["gosh"]["incl"]])
    checks += [{"quantity": "gosh subsets", "ok": bool(np.array_equal(incl, g.incl)), "max_rel_diff": 0.0},
               agree(g.estimate, ref["gosh"]["estimate"], "gosh estimate"),
               agree(g.tau2, ref["gosh"]["tau2"], "gosh tau2")]

    child = subprocess.run([sys.executable, __file__, "--gosh20-child"], check=True, capture_output=True, text=True,
                           env={**os.environ})
    g20 = json.loads(child.stdout.strip().splitlines()[-1])

    lines = [f"metafor {ref['metafor_version']}, numpy {np.__version__}, Python {platform.python_version()}, "
             f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end",
             "", "| analysis | depmeta min / median / max (s) | metafor min / median / max (s) | ratio of medians |",
             "| --- | --- | --- | --- |"]
    for name, ours, theirs in rows:
        lines.append(f"| {name} | {ours[0]:.4f} / {ours[1]:.4f} / {ours[2]:.4f} | "
                     f"{theirs[0]:.2f} / {theirs[1]:.2f} / {theirs[2]:.2f} | {theirs[1] / ours[1]:.0f}x |")
    lines += ["", f"GOSH, k = 20 ({g20['n_subsets']:,} REML fits): {g20['seconds']:.1f} s, "
              f"peak RSS {g20['peak_rss_mb']:.0f} MB, {g20['not_converged']} not converged", "",
              "| agreement with metafor | max relative difference | within 1e-6 |", "| --- | --- | --- |"]
    lines += [f"| {c['quantity']} | {c['max_rel_diff']:.1e} | {'yes' if c['ok'] else 'NO'} |" for c in checks]
    print("\n".join(lines))
    if not all(c["ok"] for c in checks):
        sys.exit("disagreement with metafor beyond 1e-6")


if __name__ == "__main__":
    main()
