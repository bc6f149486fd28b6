"""Benchmark (on demand, not a test): the full Metapsy analysis of the shared copy of
depression-psyctr (900 comparisons; read, codebook checks, contrasts, overall, by
control type, by therapy type, low risk of bias), against the 60-second budget on 2 cores.

Usage, from the project root:
    PYTHONPATH=src python benchmarks/bench_metapsy.py [path/to/depression-psyctr.csv] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "workflow" / "scripts")]

from depmeta.review.metapsy import analyse_metapsy, metapsy_contrasts  # noqa: E402
from pipeline_io import read_metapsy  # noqa: E402

BUDGET_S = 60.0

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument(
    "path", nargs="?", default=str(ROOT.parent / "shared" / "datasets" / "metapsy" / "depression-psyctr.csv")
)
parser.add_argument("--repeat", type=int, default=3)
args = parser.parse_args()
data = Path(args.path)
if not data.exists():
    sys.exit(f"{data} not found (the shared copy lives in ../shared)")
codebook_path = data.with_suffix(".variables.json")
times = []
for _ in range(args.repeat):
    t0 = time.perf_counter()
    df = read_metapsy(str(data))
    contrasts, unusable, notes = metapsy_contrasts(df, json.loads(codebook_path.read_text(encoding="utf-8")), str(data))
    summary = analyse_metapsy(contrasts, {"method": "REML", "test": "z", "level": 0.95})
    times.append(time.perf_counter() - t0)
print(f"{len(df)} comparisons, {len(summary)} pooled analyses; "
      f"time per full analysis: min {min(times):.2f} s, max {max(times):.2f} s over {args.repeat} runs "
      f"(budget {BUDGET_S:.0f} s): {'within' if max(times) <= BUDGET_S else 'OVER'} budget")
