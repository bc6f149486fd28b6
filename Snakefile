# Meta-analysis of trials comparing antidepressant medication, psychotherapy and
# their combination: extraction sheets -> effect sizes -> pooled estimates -> report.
# Run `snakemake` (profile profiles/default); see README.md and config/README.md.
#
# The workflow itself is workflow/Snakefile (the catalog's standard layout); new rule
# files are included there. This file only adds the default target, which Snakemake
# takes from the top-level Snakefile alone.


include: "workflow/Snakefile"


localrules:
    all,


rule all:
    default_target: True
    input:
        all_targets(),
