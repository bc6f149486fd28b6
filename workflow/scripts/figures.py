"""Forest plots (one per pooled comparison × outcome), the summary figure and
the event-rate figure, with a manifest (figures.json) the report reads."""

import sys
from pathlib import Path

sys.path[:0] = [str(Path(snakemake.scriptdir)), str(Path(snakemake.scriptdir).parents[1] / "src")]

from depmeta.report.figures import event_rate_plot, forest_plot, summary_plot  # noqa: E402
from pipeline_io import figure_defaults, read_table, save_png, setup_logging, write_json  # noqa: E402

log = setup_logging(snakemake.log[0])
figure_defaults()
out = Path(snakemake.output.figures)
out.mkdir(parents=True, exist_ok=True)
level = snakemake.params.level
summary = read_table(snakemake.input.summary)
per_study = read_table(snakemake.input.per_study)
rates = read_table(snakemake.input.event_rates)
manifest = {"forest": [], "summary": None, "event_rates": None}
pooled = summary[summary.status == "pooled"] if len(summary) else summary
for _, row in pooled.iterrows():
    rows = per_study[(per_study.comparison == row.comparison) & (per_study.outcome == row.outcome)
                     & (per_study.measure == row.measure)]
    fig = forest_plot(rows, row, level)
    # hazard ratios of relapse sit beside the count-based relapse analysis: their own file
    name = f"forest_{row.comparison}_{row.outcome}{'_HR' if row.measure == 'HR' else ''}.png"
    save_png(fig, out / name)
    manifest["forest"].append({"comparison": row.comparison, "outcome": row.outcome, "measure": row.measure,
                               "file": name})
    log.info("forest plot %s (k=%d)", name, row.k)

for key, maker, data in (("summary", summary_plot, summary), ("event_rates", event_rate_plot, rates)):
    fig = maker(data, level)
    save_png(fig, out / f"{key}.png")
    manifest[key] = f"{key}.png"
write_json(out / "figures.json", manifest)
log.info("%d forest plots", len(manifest["forest"]))
