# Meta-analysis of trials comparing antidepressant medication, psychotherapy and
# their combination: extraction sheets -> effect sizes -> pooled estimates -> report.
# Run `snakemake` (profile profiles/default); see README.md and config/README.md.
#
# The workflow itself is workflow/Snakefile (the catalog's standard layout, runnable on
# its own with `snakemake -s workflow/Snakefile`); new rule files are included there.
# Snakemake takes the default target from the top-level Snakefile only (an included
# file's default_target is ignored), hence the rule below.


include: "workflow/Snakefile"


localrules:
    default,


rule default:
    default_target: True
    input:
        rules.all.input,
