"""Speed of the engine's meta-regression against metafor, on the same data in one run.

Usage (from the project root, with the project's environment active and ``Rscript``)::

    PYTHONPATH=src python benchmarks/bench_regression.py [--rounds 5] [--perm-rounds 3] [--openblas DIR|none]
        [--blas-threads 1] [--write]

Cases, on the Metapsy psychotherapy database (``../shared/datasets/metapsy/depression-psyctr.csv``,
read here only, never copied into the project): every comparison with ``.g`` and ``.g_se``

1. REML, intercept only (``pool``; metafor ``rma``);
2. REML meta-regression on the publication year (``meta_regression``; ``rma(mods = ~ year)``);
3. a permutation test with 1000 random permutations of the first 60 comparisons, year as moderator
   (``permutation_test``; ``permutest``). The engine is given the permutations metafor drew
   (recomputed in R from ``permutest``'s seed), so the permutation distributions are compared draw
   by draw and the p-values must be equal.

metafor runs at its default control (``benchmarks/bench_regression.R``). The two sides alternate:
each round times depmeta once, then metafor once in a fresh R process (R's start-up not timed) on
the system's BLAS and, when an OpenBLAS is found (``--openblas``; Debian's ``libopenblas0-pthread``
by default), once more on it; the permutation test is in the first ``--perm-rounds`` rounds. Wall
and CPU seconds are reported, with the load average before and after each round and the BLAS R
loaded. One BLAS thread per side unless ``--blas-threads`` says otherwise (0: the libraries'
defaults). Agreement is checked against metafor at tight control (``tol = threshold = 1e-12``), run
once and not timed: 1e-6 relative, 1e-8 absolute. ``--write`` replaces the block between the
``bench_regression`` markers of ``benchmarks/README.md``. A benchmark run on demand, never a test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from benchlib import (
    agree,
    blas_label,
    blas_threads,
    header,
    max_rel_diff,
    openblas_dir,
    ratio,
    run_r,
    seconds,
    span,
    timed,
    write_block,
)

from depmeta.stats.pooling import pool
from depmeta.stats.regression import meta_regression, permutation_test

HERE = Path(__file__).resolve().parent
R_SCRIPT = HERE / "bench_regression.R"
DATA = HERE.parents[1] / "shared" / "datasets" / "metapsy" / "depression-psyctr.csv"
MARKERS = ("<!-- bench_regression:start -->", "<!-- bench_regression:end -->")
FLOOR = 1e-2  # relative differences of values nearer 0 are taken on this scale (1e-8 absolute / 1e-6 relative)
#: What each side's result holds, per case: (depmeta's attribute, metafor's field).
FIELDS = {
    "pool": [("estimate", "coef"), ("se", "se"), ("tau2", "tau2"), ("q", "q")],
    "regression": [("coef", "coef"), ("se", "se"), ("tau2", "tau2"), ("qm", "qm"), ("qe", "qe"), ("r2", "r2")],
    "permutation": [("qm", "qm"), ("qm_perm", "qm_perm"), ("stat_perm", "zval_perm")],
}


def metafor_values(res: dict, case: str) -> dict:
    """metafor's numbers of one case; permuted statistics only of the permutations whose fit converged."""
    out = {theirs: res[theirs] for _, theirs in FIELDS[case]}
    if case == "permutation":
        ok = np.isfinite(np.array([np.nan if x is None else x for x in res["qm_perm"]], float))
        out["qm_perm"] = np.asarray(res["qm_perm"], dtype=object)[ok]
        out["zval_perm"] = np.asarray(res["zval_perm"], dtype=object)[ok]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5, help="alternating rounds (depmeta, then metafor)")
    ap.add_argument("--perm-rounds", type=int, default=3, help="rounds that include the permutation test")
    ap.add_argument("--k-perm", type=int, default=60)
    ap.add_argument("--iter", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--openblas", help="folder of OpenBLAS's libblas.so.3 for a second metafor column; 'none' "
                                       "for none (default: Debian's libopenblas0-pthread if installed)")
    ap.add_argument("--blas-threads", type=int, default=1, help="BLAS threads of both sides (0: the defaults)")
    ap.add_argument("--write", action="store_true", help="write the result into benchmarks/README.md")
    args = ap.parse_args()
    threads = blas_threads(args.blas_threads)
    if not DATA.exists():
        sys.exit(f"{DATA} not found: the Metapsy database lives in ../shared")
    openblas = openblas_dir(args.openblas)

    d = pd.read_csv(DATA, sep=";", decimal=",")
    d = d[d[".g"].notna() & d[".g_se"].notna()]
    y, v, year = d[".g"].to_numpy(float), d[".g_se"].to_numpy(float) ** 2, d.year.to_numpy(float)
    k, kp = len(y), args.k_perm
    payload = {"yi": y.tolist(), "vi": v.tolist(), "year": year.tolist(), "k_perm": kp, "iter": args.iter,
               "seed": args.seed, "analyses": ["pool", "regression", "permutation"]}

    print("metafor at tight control (the exact roots and the permutations, untimed) ...", file=sys.stderr, flush=True)
    ref = run_r(R_SCRIPT, payload, "reference")["results"]
    assert ref["pool"]["k"] == k, (k, ref["pool"]["k"])
    orders = np.array(ref["permutation"]["orders"], dtype=int)
    orders[0] = np.arange(kp)  # permutest puts the observed order first
    fns = {
        "pool": lambda: pool(y, v, method="REML"),
        "regression": lambda: meta_regression(y, v, year, ["year"], method="REML"),
        "permutation": lambda: permutation_test(y[:kp], v[:kp], year[:kp], ["year"], method="REML", orders=orders),
    }
    # warm-up, untimed: the first calls pay for lazy imports (benchmarks/pipeline.py times those)
    pool(y[:5], v[:5], method="REML")
    meta_regression(y[:10], v[:10], year[:10], method="REML")
    permutation_test(y[:10], v[:10], year[:10], iterations=10, exact_limit=0)

    sides = [("system", None)] + ([("openblas", openblas)] if openblas else [])
    times = {name: {"depmeta": [], **{side: [] for side, _ in sides}} for name in fns}
    default_values = {name: [] for name in fns}
    loads, infos = [], {}
    for rnd in range(args.rounds):
        names = [n for n in fns if n != "permutation" or rnd < args.perm_rounds]
        before = os.getloadavg()[0]
        for name in names:
            times[name]["depmeta"].append(timed(fns[name])[:2])
        for side, blas in sides:
            print(f"round {rnd + 1}: metafor ({side} BLAS) ...", file=sys.stderr, flush=True)
            r = run_r(R_SCRIPT, {**payload, "analyses": names}, "time", blas=blas)
            infos[side] = r
            for name in names:
                times[name][side].append((r["results"][name]["elapsed"], r["results"][name]["cpu"]))
                default_values[name].append(r["results"][name])
        loads.append((before, os.getloadavg()[0]))

    results = {name: fn() for name, fn in fns.items()}
    agreement = []
    for name, fields in FIELDS.items():
        theirs = metafor_values(ref[name], name)
        checks = [agree(getattr(results[name], ours), theirs[key], f"{name} {ours}", floor=FLOOR)
                  for ours, key in fields]
        drift = max((max_rel_diff(metafor_values(run, name)[key], theirs[key], floor=FLOOR), ours)
                    for run in default_values[name] for ours, key in fields)
        agreement.append((name, checks, drift))
    perm, rp = results["permutation"], ref["permutation"]
    same_p = bool(np.allclose(perm.pval, rp["pval"], rtol=0, atol=1e-12) and abs(perm.qm_pval - rp["qm_pval"]) <= 1e-12)
    p_default = sorted({run["qm_pval"] for run in default_values["permutation"]})

    labels = {
        "pool": f"REML, intercept only, k = {k} (`pool`)",
        "regression": f"REML meta-regression on year, k = {k} (`meta_regression`)",
        "permutation": f"permutation test, {args.iter} permutations, k = {kp} (`permutation_test`)",
    }
    blas_runs = [(blas_label(infos[side]["blas"]), infos[side]) for side, _ in sides]
    lines = [
        header(infos["system"], blas_runs, threads, loads),
        "",
        f"Command: `PYTHONPATH=src python benchmarks/bench_regression.py --rounds {args.rounds} "
        f"--perm-rounds {args.perm_rounds}{' --openblas ' + args.openblas if args.openblas else ''}"
        f"{f' --blas-threads {args.blas_threads}' if args.blas_threads != 1 else ''} --write`",
        "",
        "| case | R's BLAS | depmeta wall min / median / max (s) | depmeta CPU median (s) | "
        "metafor wall min / median / max (s) | metafor CPU median (s) | ratio of wall medians | ratio of CPU medians |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, label in labels.items():
        ow, oc = zip(*times[name]["depmeta"])
        a = span(ow)
        for (side, _), (blas, _) in zip(sides, blas_runs):
            mw, mc = zip(*times[name][side])
            b = span(mw)
            rounds = f"{len(ow)} round{'s' if len(ow) > 1 else ''}"
            lines.append(f"| {label} ({rounds}) | {blas} | {' / '.join(map(seconds, a))} | "
                         f"{seconds(statistics.median(oc))} | {' / '.join(map(seconds, b))} | "
                         f"{seconds(statistics.median(mc))} | {ratio(b[1] / a[1])} | "
                         f"{ratio(statistics.median(mc) / statistics.median(oc))} |")
    lines += [
        "",
        "| case | quantities compared | depmeta vs metafor at tight control: max relative difference | "
        "metafor at default control (the timed runs) vs tight: max relative difference | depmeta within 1e-6 |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, checks, drift in agreement:
        quantities = ", ".join(c["quantity"].split(" ", 1)[1] for c in checks)
        worst = max(c["max_rel_diff"] for c in checks)
        lines.append(f"| {labels[name]} | {quantities} | {worst:.1e} | {drift[0]:.1e} ({drift[1]}) | "
                     f"{'yes' if all(c['ok'] for c in checks) else 'NO'} |")
    lines += [
        "",
        f"Relative difference: |a - b| / max(|b|, {FLOOR:g}). Permutation p-values equal to metafor's "
        f"at tight control: {'yes' if same_p else 'NO'} (omnibus p = {perm.qm_pval:.3f}; metafor at its default "
        f"control: {', '.join(f'{p:.3f}' for p in p_default)}).",
    ]
    block = "\n".join(lines)
    print(block)
    if args.write:
        write_block(MARKERS, block)
    ok = same_p and all(c["ok"] for _, checks, _ in agreement for c in checks)
    if not ok:
        print("disagreement with metafor beyond 1e-6", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
