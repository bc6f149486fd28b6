"""Sensitivity analyses and small-study tests of every pooled comparison × outcome: the tables under
results/sensitivity/ and their figures (funnel, GOSH and cumulative plots) with a manifest (figures.json)."""

import sys
from pathlib import Path

sys.path[:0] = [str(Path(snakemake.scriptdir)), str(Path(snakemake.scriptdir).parents[1] / "src")]


from depmeta.report.sensitivity_figures import cumulative_plot, figure_title, funnel_plot, gosh_plot  # noqa: E402
from depmeta.review.certainty import study_rob_levels  # noqa: E402
from depmeta.review.sensitivity import SensitivityOptions, run_sensitivity  # noqa: E402
from pipeline_io import figure_defaults, read_table, save_png, setup_logging, write_csv, write_json  # noqa: E402

log = setup_logging(snakemake.log[0])
figure_defaults()
opts = SensitivityOptions.from_config(snakemake.params.sensitivity, snakemake.params.analysis)
log.info("options: %s", opts)
per_study = read_table(snakemake.input.per_study)
summary = read_table(snakemake.input.summary)
studies = read_table(snakemake.input.studies)
rob = read_table(snakemake.input.risk_of_bias)

# Low risk of bias overall, as the certainty rule rates it (depmeta.review.certainty.study_rob_levels): the
# studies sheet's overall rating where published, else every published domain judgement low.
levels = study_rob_levels(studies.fillna({"risk_of_bias": ""}), rob)
low_rob = set(levels.study_id[levels.level == "low"])
log.info("%d trials at low risk of bias overall: %s", len(low_rob), sorted(low_rob))

tables = run_sensitivity(per_study, summary, studies, low_rob, opts)

out = Path(snakemake.output.figures)
out.mkdir(parents=True, exist_ok=True)
manifest = {"funnel": [], "gosh": [], "cumulative": []}
pooled = summary[summary.status == "pooled"] if len(summary) else summary
for _, s in pooled.iterrows():
    sel = dict(comparison=s.comparison, outcome=s.outcome, measure=s.measure)
    title = figure_title(s.comparison, s.outcome) + (" (hazard ratio)" if s.measure == "HR" else "")
    stem = f"{s.comparison}_{s.outcome}_{s.measure}"
    ss = tables.small_study
    row = ss[(ss.comparison == s.comparison) & (ss.outcome == s.outcome) & (ss.measure == s.measure)].iloc[0]
    if row.status == "run":
        from depmeta.stats.bias import trimfill

        rows = per_study[(per_study.comparison == s.comparison) & (per_study.outcome == s.outcome)
                         & (per_study.measure == s.measure)]
        rows = rows[rows.yi.notna() & rows.vi.notna()]
        tf = trimfill(rows.yi, rows.vi, method=opts.method, test=opts.test)
        fig = funnel_plot(rows.yi, rows.vi, s.estimate, s.measure, title, yi_fill=tf.yi_fill, vi_fill=tf.vi_fill,
                          limit_estimate=row.egger_limit)
        name = f"funnel_{stem}.png"
        save_png(fig, out / name)
        manifest["funnel"].append({**sel, "file": name})
    g = tables.gosh
    if len(g):
        g = g[(g.comparison == s.comparison) & (g.outcome == s.outcome) & (g.measure == s.measure)]
    if len(g):
        fig = gosh_plot(g, s.measure, f"{title}: GOSH, {len(g):,} subsets")
        name = f"gosh_{stem}.png"
        save_png(fig, out / name)
        manifest["gosh"].append({**sel, "file": name})
    cu = tables.cumulative
    for by in opts.cumulative_order:
        c = cu[(cu.comparison == s.comparison) & (cu.outcome == s.outcome) & (cu.measure == s.measure)
               & (cu.order_by == by)]
        if len(c) < 2:
            continue
        fig = cumulative_plot(c, s.measure, f"{title}\ncumulative, by {by}")
        name = f"cumulative_{by}_{stem}.png"
        save_png(fig, out / name)
        manifest["cumulative"].append({**sel, "order_by": by, "file": name})
write_json(out / "figures.json", manifest)

for name in ("influence", "leave1out", "cumulative", "small_study", "alternatives"):
    write_csv(snakemake.output[name], getattr(tables, name))
    log.info("wrote %s (%d rows)", snakemake.output[name], len(getattr(tables, name)))
# gzip stamps the time in its header unless told otherwise: mtime 0 keeps two runs byte-identical
write_csv(snakemake.output.gosh, tables.gosh, compression={"method": "gzip", "mtime": 0})
log.info("wrote %s (%d subsets); %d funnel, %d GOSH, %d cumulative plots", snakemake.output.gosh, len(tables.gosh),
         len(manifest["funnel"]), len(manifest["gosh"]), len(manifest["cumulative"]))
