# Meta-analysis of trials comparing antidepressant medication, psychotherapy and
# their combination: extraction sheets -> effect sizes -> pooled estimates -> report.
# Run `snakemake` (profile profiles/default); see README.md and config/README.md.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/validate.smk"
include: "workflow/rules/analyse.smk"
include: "workflow/rules/sensitivity.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        all_targets(),
