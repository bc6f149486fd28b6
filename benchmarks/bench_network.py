"""Speed of the engine's network meta-analysis against metafor's rma.mv, on the same networks in one run.

Usage (from the project root, with the project's environment active and ``Rscript``)::

    PYTHONPATH=src python benchmarks/bench_network.py [--rounds 3] [--slow-rounds 1] [--openblas DIR|none]
        [--blas-threads 1] [--write]

Networks: netmeta's Linde2016 (``../shared/datasets/netmeta/Linde2016.csv``, log odds ratios, 22
treatments, 93 trials of which 14 multi-arm; read here only) and networks generated from a seed with
10, 30 and 100 treatments and 4 trials per treatment (``generate``).

The model: REML random-effects network meta-analysis with multi-arm trials, contrast-based, one common
tau² (``depmeta.stats.network``), against metafor's ``rma.mv(yi, V, mods = X, intercept = FALSE,
random = ~ comp | study, rho = 1/2, struct = "CS")`` as in tests/reference/generate_network.R
(``benchmarks/bench_network.R``), fitted to the very contrasts and covariances the engine stacks.
Two engine timings per network: ``fit_network`` as the pipeline calls it (REML, every pairwise
estimate, direct and indirect evidence, P-scores, the design decomposition of Q and the studies'
stream contributions), and the model fit alone (tau², the effects and their covariance: the steps
``fit_network`` takes first, ``_stack``, ``_tau2_reml`` and ``_gls``; checked to give its numbers), the
like-for-like counterpart of ``rma.mv``. ``fit_network`` on networks of 100 or more treatments is
timed only in the first ``--slow-rounds`` rounds.

metafor runs at its default control. The two sides alternate: each round times depmeta once, then
metafor once in a fresh R process (R's start-up and the building of its data not timed) on the
system's BLAS and, when an OpenBLAS is found (``--openblas``; Debian's ``libopenblas0-pthread`` by
default), once more on it. Wall and CPU seconds are reported, with the load average before and after
each round and the BLAS R loaded. One BLAS thread per side unless ``--blas-threads`` says otherwise
(0: the libraries' defaults). Agreement of tau², the effects and their SEs is checked against metafor
at tight control (BFGS with ``reltol = 1e-14`` and tau² polished by Brent's method, as the parity
tests' reference), run once and not timed: 1e-6 relative, 1e-8 absolute. ``--write`` replaces the
block between the ``bench_network`` markers of ``benchmarks/README.md``. A benchmark run on demand,
never a test.
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

from depmeta.stats import network
from depmeta.stats.network import contrasts_from_pairwise, fit_network

HERE = Path(__file__).resolve().parent
R_SCRIPT = HERE / "bench_network.R"
LINDE = HERE.parents[1] / "shared" / "datasets" / "netmeta" / "Linde2016.csv"
MARKERS = ("<!-- bench_network:start -->", "<!-- bench_network:end -->")
SLOW = 100  # treatments from which fit_network is timed only in the first --slow-rounds rounds
TAU2 = 0.04  # between-trial variance of the generated networks
FLOOR = 1e-2  # relative differences of values nearer 0 are taken on this scale (1e-8 absolute / 1e-6 relative)


def generate(n_treatments: int, n_trials: int, seed: int) -> pd.DataFrame:
    """A connected network as pairwise rows (study, t1, t2, y = t1 - t2, v), one row per pair of arms.

    Treatments ``T000`` (the reference, in 40% of the trials beyond the first) to ``T{n-1}``; the first
    ``n - 1`` trials compare each treatment with an earlier one (so the network is connected), the
    others draw their arms at random; 15% of trials have three arms and 3% four. Each arm has a
    sampling variance (2 to 6) / n with n from 30 to 299 patients and a random effect of variance
    tau² / 2, so that contrasts within a trial share it as the model's rho = 1/2 says.
    """
    rng = np.random.default_rng(seed)
    names = [f"T{i:03d}" for i in range(n_treatments)]
    effect = np.concatenate([[0.0], rng.normal(0.3, 0.3, n_treatments - 1)])
    rows = []
    for s in range(n_trials):
        n_arms = 2 + int(rng.random() < 0.15) + int(rng.random() < 0.03)
        if s < n_treatments - 1:
            arms = [s + 1, int(rng.integers(0, s + 1))]
        else:
            arms = [0] if rng.random() < 0.4 else []
        while len(arms) < n_arms:
            t = int(rng.integers(0, n_treatments))
            if t not in arms:
                arms.append(t)
        n = rng.integers(30, 300, len(arms))
        u = rng.uniform(2, 6, len(arms)) / n
        mean = (rng.normal() + effect[arms] + rng.normal(0, np.sqrt(TAU2 / 2), len(arms))
                + rng.normal(0, np.sqrt(u)))
        rows += [(f"s{s + 1:04d}", names[arms[i]], names[arms[j]], mean[i] - mean[j], u[i] + u[j])
                 for i in range(len(arms)) for j in range(i + 1, len(arms))]
    return pd.DataFrame(rows, columns=["study", "t1", "t2", "y", "v"])


def networks(sizes: list[tuple[int, int]], seed: int) -> dict:
    """name -> (label, contrasts, reference)."""
    out = {}
    if LINDE.exists():
        d = pd.read_csv(LINDE)
        out["linde2016"] = ("Linde2016 (netmeta)", contrasts_from_pairwise(d.id, d.treat1, d.treat2, d.lnOR,
                                                                           sei=d.selnOR), "Placebo")
    else:
        print(f"{LINDE} not found: Linde2016 left out", file=sys.stderr)
    for nt, ns in sizes:
        p = generate(nt, ns, seed + nt)
        out[f"gen{nt}"] = (f"generated (seed {seed + nt})", contrasts_from_pairwise(p.study, p.t1, p.t2, p.y, p.v),
                           "T000")
    return out


def n_treatments(contrasts) -> int:
    return len({t for c in contrasts for t in c.arms})


def describe(label: str, contrasts) -> str:
    nt = n_treatments(contrasts)
    multi = sum(len(c.arms) > 2 for c in contrasts)
    return (f"{label}: {nt} treatments, {len(contrasts)} trials ({multi} multi-arm), "
            f"{sum(len(c.y) for c in contrasts)} contrasts")


def model_fit(contrasts, reference: str):
    """tau², the effects against the reference and their covariance: ``fit_network``'s first steps."""
    treatments = tuple(sorted({t for c in contrasts for t in c.arms}))
    y, S, X, Sig, _ = network._stack(contrasts, treatments, reference)
    tau2 = network._tau2_reml(y, S, X, Sig)
    beta, cov, _ = network._gls(y, S + tau2 * Sig, X)
    return tau2, beta, cov


def r_network(contrasts, reference: str) -> dict:
    """A network as the R side reads it: the contrasts and covariances the engine stacks."""
    return {"treatments": sorted({t for c in contrasts for t in c.arms}), "reference": reference,
            "studies": [{"study": c.study, "arms": list(c.arms), "y": c.y.tolist(), "cov": c.cov.tolist()}
                        for c in contrasts]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds (depmeta, then metafor)")
    ap.add_argument("--slow-rounds", type=int, default=1,
                    help=f"rounds that time fit_network on networks of {SLOW} or more treatments")
    ap.add_argument("--sizes", default="10x40,30x120,100x400", help="generated networks: treatments x trials, ...")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--openblas", help="folder of OpenBLAS's libblas.so.3 for a second metafor column; 'none' "
                                       "for none (default: Debian's libopenblas0-pthread if installed)")
    ap.add_argument("--blas-threads", type=int, default=1, help="BLAS threads of both sides (0: the defaults)")
    ap.add_argument("--write", action="store_true", help="write the result into benchmarks/README.md")
    args = ap.parse_args()
    threads = blas_threads(args.blas_threads)
    openblas = openblas_dir(args.openblas)
    sizes = [tuple(int(x) for x in s.split("x")) for s in args.sizes.split(",")]
    nets = networks(sizes, args.seed)
    payload = {"networks": {name: r_network(c, ref) for name, (_, c, ref) in nets.items()}}

    print("metafor at tight control (the exact REML roots, untimed) ...", file=sys.stderr, flush=True)
    ref_fits = run_r(R_SCRIPT, payload, "reference")["results"]
    fit_network(nets[next(iter(nets))][1])  # warm-up, untimed: lazy imports (scipy.linalg, scipy.optimize)

    sides = [("system", None)] + ([("openblas", openblas)] if openblas else [])
    calls = {
        "model": ("model fit alone", lambda c, r: model_fit(c, r)),
        "proportion": ("`fit_network`, proportion contributions",
                       lambda c, r: fit_network(c, method="REML", reference=r, contribution="proportion")),
        "streams": ("`fit_network` as the pipeline runs it (stream contributions)",
                    lambda c, r: fit_network(c, method="REML", reference=r)),
    }
    times = {(name, call): [] for name in nets for call in calls}
    r_times = {(name, side): [] for name in nets for side, _ in sides}
    values, default_fits, loads, infos = {}, {name: [] for name in nets}, [], {}
    for rnd in range(args.rounds):
        before = os.getloadavg()[0]
        for name, (_, contrasts, reference) in nets.items():
            for call, (_, fn) in calls.items():
                if call == "streams" and n_treatments(contrasts) >= SLOW and rnd >= args.slow_rounds:
                    continue
                print(f"round {rnd + 1}: depmeta {call} on {name} ...", file=sys.stderr, flush=True)
                wall, cpu, values[name, call] = timed(lambda: fn(contrasts, reference))
                times[name, call].append((wall, cpu))
        for side, blas in sides:
            print(f"round {rnd + 1}: metafor ({side} BLAS) ...", file=sys.stderr, flush=True)
            r = run_r(R_SCRIPT, payload, "time", blas=blas)
            infos[side] = r
            for name in nets:
                res = r["results"][name]
                r_times[name, side].append((res["elapsed"], res["cpu"]))
                default_fits[name].append(res)
        loads.append((before, os.getloadavg()[0]))

    agreement, same = [], True
    for name, (_, contrasts, reference) in nets.items():
        tau2, beta, cov = values[name, "model"]
        for call in ("proportion", "streams"):  # the model fit alone gives fit_network's numbers
            full = values.get((name, call))
            if full is not None:
                keep = [i for i, t in enumerate(full.treatments) if t != reference]
                same &= bool(np.allclose(full.tau2, tau2, rtol=1e-12, atol=0)
                             and np.allclose(full.d[keep], beta, rtol=1e-12, atol=1e-15)
                             and np.allclose(full.cov_d[np.ix_(keep, keep)], cov, rtol=1e-12, atol=1e-15))
        ref = ref_fits[name]
        ours = {"tau2": tau2, "coef": beta, "se": np.sqrt(np.diag(cov))}
        checks = [agree(ours[key], ref[key], key, floor=FLOOR) for key in ("coef", "se", "tau2")]
        drift = max((max_rel_diff(run[key], ref[key], floor=FLOOR), key)
                    for run in default_fits[name] for key in ("coef", "se", "tau2"))
        agreement.append((name, checks, drift, ref["tau2"]))

    blas_runs = [(blas_label(infos[side]["blas"]), infos[side]) for side, _ in sides]
    short = {name: f"{label.split(' (')[0]}, {n_treatments(c)} treatments, {len(c)} trials"
             for name, (label, c, _) in nets.items()}
    lines = [
        header(infos["system"], blas_runs, threads, loads),
        "",
        f"Command: `PYTHONPATH=src python benchmarks/bench_network.py --rounds {args.rounds} "
        f"--slow-rounds {args.slow_rounds}{' --openblas ' + args.openblas if args.openblas else ''}"
        f"{f' --blas-threads {args.blas_threads}' if args.blas_threads != 1 else ''} --write`",
        "",
        "Networks: " + "; ".join(describe(label, c) for label, c, _ in nets.values()) + ".",
        "",
        "metafor, `rma.mv` (REML) at its default control:",
        "",
        "| network | R's BLAS | wall min / median / max (s) | CPU median (s) |",
        "| --- | --- | --- | --- |",
    ]
    for name in nets:
        for (side, _), (blas, _) in zip(sides, blas_runs):
            mw, mc = zip(*r_times[name, side])
            lines.append(f"| {short[name]} ({len(mw)} rounds) | {blas} | {' / '.join(map(seconds, span(mw)))} | "
                         f"{seconds(statistics.median(mc))} |")
    lines += [
        "",
        "depmeta, and the ratio of metafor's median to depmeta's (wall; CPU):",
        "",
        "| network | depmeta | wall min / median / max (s) | CPU median (s) | "
        + " | ".join(f"ratio to `rma.mv` on {blas}" for blas, _ in blas_runs) + " |",
        "| --- | --- | --- | --- | " + " | ".join("---" for _ in blas_runs) + " |",
    ]
    for name in nets:
        for call, (what, _) in calls.items():
            if not times[name, call]:
                continue
            ow, oc = zip(*times[name, call])
            ratios = []
            for side, _ in sides:
                mw, mc = zip(*r_times[name, side])
                ratios.append(f"{ratio(statistics.median(mw) / statistics.median(ow))}; "
                              f"{ratio(statistics.median(mc) / statistics.median(oc))}")
            rounds = f"{len(ow)} round{'s' if len(ow) > 1 else ''}"
            lines.append(f"| {short[name]} | {what} ({rounds}) | {' / '.join(map(seconds, span(ow)))} | "
                         f"{seconds(statistics.median(oc))} | {' | '.join(ratios)} |")
    lines += [
        "",
        "| network | tau² (metafor, tight) | depmeta vs metafor at tight control: max relative difference of the "
        "effects / SEs / tau² | metafor at default control (the timed runs) vs tight: max relative difference | "
        "depmeta within 1e-6 |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, checks, drift, tau2 in agreement:
        lines.append(f"| {short[name]} | {tau2:.5g} | "
                     f"{' / '.join(format(c['max_rel_diff'], '.1e') for c in checks)} | {drift[0]:.1e} ({drift[1]}) | "
                     f"{'yes' if all(c['ok'] for c in checks) else 'NO'} |")
    lines += ["", f"Relative difference: |a - b| / max(|b|, {FLOOR:g}). The effects are each treatment's against the "
              "reference (metafor's coefficients), with their SEs. The model fit alone gives `fit_network`'s tau², "
              f"effects and covariance (to 1e-12): {'yes' if same else 'NO'}."]
    block = "\n".join(lines)
    print(block)
    if args.write:
        write_block(MARKERS, block)
    ok = same and all(c["ok"] for _, checks, _, _ in agreement for c in checks)
    if not ok:
        print("disagreement with metafor beyond 1e-6, or the model fit alone is not fit_network's", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
