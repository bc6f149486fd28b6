"""Large coverage simulation on demand (not run by the tests or the workflow).

    PYTHONPATH=src python benchmarks/coverage.py --replications 20000 --method REML \
        --out benchmarks/coverage_large.tsv

Prints the coverage table and the time taken; the workflow's `coverage` rule runs the
same engine function (depmeta.stats.simulation.coverage_grid) with config `simulation:`.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import asdict

import pandas as pd

from depmeta.stats.simulation import coverage_grid


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replications", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=20240101)
    ap.add_argument("--method", default="REML")
    ap.add_argument("--level", type=float, default=0.95)
    ap.add_argument("--k", type=int, nargs="+", default=[3, 5, 10, 20])
    ap.add_argument("--tau2", type=float, nargs="+", default=[0.0, 0.02, 0.1, 0.3])
    ap.add_argument("--out", help="write the table here (TSV)")
    args = ap.parse_args()
    start = time.perf_counter()
    cells = coverage_grid(args.k, args.tau2, replications=args.replications, seed=args.seed,
                          method=args.method, level=args.level)
    elapsed = time.perf_counter() - start
    table = pd.DataFrame([asdict(c) for c in cells])
    print(table.to_string(index=False))
    n = len(cells) * args.replications
    print(f"\n{n:,} meta-analyses in {elapsed:.1f} s ({n / elapsed:,.0f} per second)")
    if args.out:
        table.to_csv(args.out, sep="\t", index=False)


if __name__ == "__main__":
    main()
