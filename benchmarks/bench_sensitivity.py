"""Speed of the batched sensitivity analyses against metafor, on the same simulated data in one run.

Usage (from the project root, with the project's environment active)::

    PYTHONPATH=src python benchmarks/bench_sensitivity.py [--rounds 3] [--gosh-rounds 1] [--write]

Times leave-one-out and influence diagnostics at k = 200, cumulative meta-analysis (by precision)
at k = 50 and k = 200, and GOSH at k = 16 (REML, all 65,535 subsets), with depmeta and with metafor
at its default control (``benchmarks/bench_sensitivity.R``). The two sides alternate: each round
times depmeta once, then metafor once in a fresh R process (R's start-up is not timed), so load
that comes and goes falls on both. Wall and CPU seconds are reported, with the machine's load
average before and after each round and the BLAS R uses. Agreement is checked against metafor at
tight control (``tol = threshold = 1e-12``), run once and not timed: 1e-6 relative, 1e-8 absolute
for tau² at the boundary. GOSH's agreement with metafor is tested in tests/test_sensitivity.py
(its tight-control reference takes about 10 minutes here). GOSH at k = 20 (1,048,575 fits) runs
in a child process whose peak resident memory is reported. With ``--write`` the result replaces
the block between the markers in benchmarks/README.md. A benchmark run on demand, never a test.
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
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from benchlib import agree, run_r, span, timed, write_block

from depmeta.stats.sensitivity import cumulative, gosh, influence, leave1out

HERE = Path(__file__).resolve().parent
R_SCRIPT = HERE / "bench_sensitivity.R"
MARKERS = ("<!-- bench_sensitivity:start -->", "<!-- bench_sensitivity:end -->")
NAMES = {
    "leave1out": "leave-one-out, k = 200",
    "influence": "influence diagnostics, k = 200",
    "cumul50": "cumulative (by precision), k = 50",
    "cumul200": "cumulative (by precision), k = 200",
    "gosh": "GOSH, k = 16 (65,535 fits)",
}


def simulate(k: int, seed: int):
    """Log risk ratios of k two-arm trials with between-trial heterogeneity (tau = 0.2)."""
    rng = np.random.default_rng(seed)
    n = rng.integers(40, 400, k)
    vi = rng.uniform(2, 6, k) / n
    yi = rng.normal(-0.2, 0.2, k) + rng.normal(0, np.sqrt(vi))
    return yi, vi


def ours(large, small):
    """depmeta's analyses as callables, by name."""
    return {
        "leave1out": lambda: leave1out(*large),
        "influence": lambda: influence(*large),
        "cumul50": lambda: cumulative(large[0][:50], large[1][:50], order=large[1][:50]),
        "cumul200": lambda: cumulative(*large, order=large[1]),
        "gosh": lambda: gosh(*small, method="REML"),
    }


def gosh20_child():
    yi, vi = simulate(20, 3)
    t0 = time.perf_counter()
    g = gosh(yi, vi, method="REML")
    elapsed = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": elapsed, "peak_rss_mb": peak_mb, "n_subsets": len(g.k),
                      "not_converged": int(np.isnan(g.tau2).sum())}))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds (depmeta, then metafor)")
    ap.add_argument("--gosh-rounds", type=int, default=1, help="rounds that include GOSH (about 4 min of R each)")
    ap.add_argument("--write", action="store_true", help="write the result into benchmarks/README.md")
    ap.add_argument("--gosh20-child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.gosh20_child:
        return gosh20_child()

    large, small = simulate(200, 1), simulate(16, 2)
    data = {"large": {"yi": large[0].tolist(), "vi": large[1].tolist()},
            "gosh": {"yi": small[0].tolist(), "vi": small[1].tolist()}}
    fns = ours(large, small)
    for fn in fns.values():  # warm-up: imports and first-call costs are not timed
        fn()
    times = {name: {"depmeta": [], "metafor": []} for name in fns}
    loads, info = [], {}
    for rnd in range(args.rounds):
        names = [n for n in fns if n != "gosh" or rnd < args.gosh_rounds]
        before = os.getloadavg()[0]
        for name in names:
            times[name]["depmeta"].append(timed(fns[name])[:2])
        print(f"round {rnd + 1}: metafor ...", file=sys.stderr, flush=True)
        r = run_r(R_SCRIPT, {**data, "analyses": names}, "time")
        info = {k: r[k] for k in ("metafor_version", "r_version", "blas", "lapack")}
        for name in names:
            times[name]["metafor"].append((r["results"][name]["elapsed"], r["results"][name]["cpu"]))
        loads.append((before, os.getloadavg()[0]))

    print("metafor at tight control (the exact roots, untimed) ...", file=sys.stderr, flush=True)
    ref = run_r(R_SCRIPT, {**data, "analyses": ["leave1out", "influence", "cumul50", "cumul200"]},
                "reference")["results"]
    l1, inf = fns["leave1out"](), fns["influence"]()
    c50, c200 = fns["cumul50"](), fns["cumul200"]()
    checks = [agree(l1.estimate, ref["leave1out"]["estimate"], "leave-one-out estimate"),
              agree(l1.tau2, ref["leave1out"]["tau2"], "leave-one-out tau²")]
    checks += [agree(getattr(inf, f), ref["influence"][f], f"influence {f}")
               for f in ("rstudent", "cook_d", "dffits", "tau2_del")]
    checks += [agree(c.estimate, ref[n]["estimate"], f"cumulative k = {n[5:]} estimate")
               for c, n in ((c50, "cumul50"), (c200, "cumul200"))]
    checks += [agree(c.tau2, ref[n]["tau2"], f"cumulative k = {n[5:]} tau²")
               for c, n in ((c50, "cumul50"), (c200, "cumul200"))]

    child = subprocess.run([sys.executable, __file__, "--gosh20-child"], check=True, capture_output=True, text=True)
    g20 = json.loads(child.stdout.strip().splitlines()[-1])

    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lo = min(min(pair) for pair in loads)
    hi = max(max(pair) for pair in loads)
    lines = [
        f"Measured {now} on {platform.node()} ({os.cpu_count()} cores, Python {platform.python_version()}, "
        f"numpy {np.__version__}; {info['r_version']}, metafor {info['metafor_version']} at its default control; "
        f"R's BLAS: {info['blas'] or 'not reported'}, LAPACK: {info['lapack']}). Load average {lo:.1f} to "
        f"{hi:.1f} over the rounds.",
        "",
        f"Command: `PYTHONPATH=src python benchmarks/bench_sensitivity.py --rounds {args.rounds} "
        f"--gosh-rounds {args.gosh_rounds} --write`",
        "",
        "| analysis (REML) | depmeta wall min / median / max (s) | depmeta CPU median (s) | "
        "metafor wall min / median / max (s) | metafor CPU median (s) | ratio of wall medians | "
        "ratio of CPU medians |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, label in NAMES.items():
        if not times[name]["depmeta"]:
            continue
        ow, oc = zip(*times[name]["depmeta"])
        mw, mc = zip(*times[name]["metafor"])
        a, b = span(ow), span(mw)
        rounds = f"{len(ow)} round{'s' if len(ow) > 1 else ''}"
        lines.append(f"| {label} ({rounds}) | {a[0]:.4f} / {a[1]:.4f} / {a[2]:.4f} | "
                     f"{statistics.median(oc):.4f} | {b[0]:.2f} / {b[1]:.2f} / {b[2]:.2f} | "
                     f"{statistics.median(mc):.2f} | {b[1] / a[1]:,.0f}× | "
                     f"{statistics.median(mc) / max(statistics.median(oc), 1e-9):,.0f}× |")
    lines += ["", f"GOSH, k = 20 ({g20['n_subsets']:,} REML fits): {g20['seconds']:.1f} s, "
              f"peak RSS {g20['peak_rss_mb']:.0f} MB, {g20['not_converged']} not converged.", "",
              "| agreement with metafor at tight control | max relative difference (entries differing by > 1e-8) "
              "| within 1e-6 |", "| --- | --- | --- |"]
    lines += [f"| {c['quantity']} | {c['max_rel_diff']:.1e} | {'yes' if c['ok'] else 'NO'} |" for c in checks]
    block = "\n".join(lines)
    print(block)
    if args.write:
        write_block(MARKERS, block)
    if not all(c["ok"] for c in checks):
        sys.exit("disagreement with metafor beyond 1e-6")


if __name__ == "__main__":
    main()
