"""Coverage of the confidence and prediction intervals by simulation (config
`simulation:`); writes results/simulation/coverage.csv."""

import sys
from dataclasses import asdict
from pathlib import Path

sys.path[:0] = [str(Path(snakemake.scriptdir)), str(Path(snakemake.scriptdir).parents[1] / "src")]

import pandas as pd  # noqa: E402

from depmeta.stats.simulation import coverage_grid  # noqa: E402
from pipeline_io import setup_logging, write_csv  # noqa: E402

log = setup_logging(snakemake.log[0])
sim = snakemake.params.simulation
log.info("coverage simulation: %s, level %s", sim, snakemake.params.level)
cells = coverage_grid(sim["k"], sim["tau2"], replications=sim["replications"], seed=sim["seed"],
                      method=sim["method"], level=snakemake.params.level)
table = pd.DataFrame([asdict(c) for c in cells])
write_csv(snakemake.output.coverage, table)
log.info("wrote %s (%d cells)", snakemake.output.coverage, len(table))
