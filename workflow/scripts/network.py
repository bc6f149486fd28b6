"""Network meta-analysis per outcome (config ``network``; depmeta.review.networks): league
estimates with direct and back-calculated indirect evidence, P-score ranking, design-by-treatment
Q, study contributions, a network graph per outcome and the rows not in any network with the
reason, from the trials of the protocol's primary population (the published benchmarks are set
beside these by rule ``evidence``)."""

import sys
from pathlib import Path

sys.path[:0] = [str(Path(snakemake.scriptdir)), str(Path(snakemake.scriptdir).parents[1] / "src")]

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from depmeta.report.network_figure import network_graph  # noqa: E402
from depmeta.review.analysis import AnalysisOptions, analysable_arms, analysable_reported  # noqa: E402
from depmeta.review.networks import (  # noqa: E402
    CONTRIBUTION_NOTE,
    INTERVAL_NOTE,
    NetworkOptions,
    network_record,
    network_tables,
    outcome_networks,
)
from depmeta.review.nodes import control_node  # noqa: E402
from pipeline_io import figure_defaults, read_validated, save_png, setup_logging, write_csv, write_json  # noqa: E402

log = setup_logging(snakemake.log[0])
figure_defaults()
cfg = snakemake.params.network
opts = NetworkOptions.from_config(cfg, snakemake.params.analysis)
log.info("network options: %s", cfg)
schema_dir = Path(snakemake.scriptdir).parent / "schemas"
sheets = read_validated(snakemake.input, ("arms", "contrasts", "studies", "excluded_arms"), schema_dir)
# the trials outside the protocol's primary population, the arms set apart by the excluded-arms
# sheet or outside their outcome's time frame enter no network (as no pairwise analysis); a trial's
# symptom arms enter on one scale (its SMDs take one standardiser per trial)
analysis = AnalysisOptions.from_config(snakemake.params.analysis)
scales = analysis.scales.one_scale()
arms, set_apart = analysable_arms(sheets, opts.timeframes, scales, analysis.populations)
reported, reported_apart = analysable_reported(sheets, opts.population_preference, opts.timepoint, opts.timeframes,
                                               analysis.populations, scales.priority)
set_apart = pd.concat([set_apart, reported_apart], ignore_index=True)

networks = outcome_networks(arms, reported, opts, set_apart)
tables = network_tables(networks, opts.method)
figdir = Path(snakemake.output.figures)
figdir.mkdir(parents=True, exist_ok=True)
figures = {}
for net in networks:
    if not net.fits:
        log.info("%s: %s", net.outcome, net.why)
        continue
    if net.note:
        log.warning("%s: %s", net.outcome, net.note)
    for fit in net.fits:
        if fit.note:
            log.warning("%s: %s", net.outcome, fit.note)
    main = net.fits[0]
    log.info("%s: %d studies, %d nodes, tau2 %.4g, Q %.3f on %d df%s", net.outcome, len(net.contrasts),
             len(net.nodes), main.tau2, main.q_total, main.q_total_df, f"; {net.note}" if net.note else "")
    for part, fit in enumerate(net.fits, 1):
        # network graph: node size = patients randomised to the node, edge width = trials
        fig = network_graph(fit.treatments, net.patients(fit), np.where(fit.direct_k > 0, fit.direct_k, 0),
                            controls=[t for t in fit.treatments if control_node(t, opts.nodes)])
        name = f"network_{net.outcome}.png" if part == 1 else f"network_{net.outcome}_part{part}.png"
        save_png(fig, figdir / name)
        figures.setdefault(net.outcome, []).append(name)

for key, df in tables.items():
    write_csv(snakemake.output[key], df)
    log.info("wrote %s (%d rows)", snakemake.output[key], len(df))
write_json(snakemake.output.json, {
    "options": {**cfg, "level": opts.level, "population_preference": list(opts.population_preference),
                "timeframes": snakemake.params.analysis.get("timeframes", {}),
                "binary_measure": opts.binary_measure, "zero_cell_add": opts.add,
                "test": opts.test, "prediction_interval": INTERVAL_NOTE[opts.test],
                "comparisons": [c.name for c in opts.comparisons],
                "contributions": CONTRIBUTION_NOTE[cfg["contribution"]]},
    "outcomes": {net.outcome: network_record(net) for net in networks if net.fits}, "figures": figures,
    **{k: tables[k].to_dict(orient="records") for k in ("summary", "ranking")},
    "estimates": tables["estimates"].to_dict(orient="records"),
    "contributions": tables["contributions"].to_dict(orient="records"),
})
