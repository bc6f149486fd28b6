"""Subgroup tests (common and separate tau²) and meta-regressions with permutation
p-values for every pooled comparison × outcome; bubble plots of the meta-regressions."""

import sys
from pathlib import Path

sys.path[:0] = [str(Path(snakemake.scriptdir)), str(Path(snakemake.scriptdir).parents[1] / "src")]


from depmeta.report.subgroup_figures import bubble_plot  # noqa: E402
from depmeta.review.subgroups import SubgroupOptions, contrast_moderators, run_subgroups  # noqa: E402
from pipeline_io import figure_defaults, read_sheet, read_table, save_png, setup_logging, write_csv, write_json  # noqa: E402

log = setup_logging(snakemake.log[0])
figure_defaults()
opts = SubgroupOptions.from_config(snakemake.params.subgroups, snakemake.params.analysis)
log.info("options: %s", opts)
per_study = read_table(snakemake.input.per_study)
summary = read_table(snakemake.input.summary)
studies = read_sheet(snakemake.input.studies)
arms = read_sheet(snakemake.input.arms)

moderated = contrast_moderators(per_study, studies, arms)
groups, tests, regression = run_subgroups(moderated, summary, opts)
log.info("%d subgroup tests (%d tested), %d meta-regressions (%d fitted)", len(tests),
         int((tests.get("status") == "tested").sum()) if len(tests) else 0, len(regression),
         int((regression.get("status") == "fitted").sum()) if len(regression) else 0)

figdir = Path(snakemake.output.figures)
figdir.mkdir(parents=True, exist_ok=True)
manifest = []
if len(regression):
    regression["figure"] = ""
    for i, reg in regression[regression.status == "fitted"].iterrows():
        rows = moderated[(moderated.comparison == reg.comparison) & (moderated.outcome == reg.outcome)
                         & (moderated.measure == reg.measure)]
        fig = bubble_plot(rows, reg, opts.level)
        name = f"bubble_{reg.comparison}_{reg.outcome}_{reg.measure}_{reg.moderator}.png"
        save_png(fig, figdir / name)
        regression.loc[i, "figure"] = name
        manifest.append({"comparison": reg.comparison, "outcome": reg.outcome, "measure": reg.measure,
                         "moderator": reg.moderator, "file": name})
        log.info("bubble plot %s (k=%d)", name, reg.k)
write_json(figdir / "figures.json", {"bubble": manifest, "options": opts.__dict__})

for name, df in (("tests", tests), ("groups", groups), ("regression", regression), ("moderators", moderated)):
    write_csv(snakemake.output[name], df)
    log.info("wrote %s (%d rows)", snakemake.output[name], len(df))
