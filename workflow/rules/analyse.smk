rule analyse:
    input:
        studies="results/validated/studies.csv",
        arms="results/validated/arms.csv",
        contrasts="results/validated/contrasts.csv",
        excluded_arms="results/validated/excluded_arms.csv",
        schemas=[
            "workflow/schemas/studies.schema.yaml",
            "workflow/schemas/arms.schema.yaml",
            "workflow/schemas/contrasts.schema.yaml",
            "workflow/schemas/excluded_arms.schema.yaml",
        ],
        engine=ENGINE,
    output:
        contrasts="results/tables/contrasts.csv",
        per_study="results/tables/per_study.csv",
        summary=report(
            "results/tables/summary.csv",
            caption="../report/summary.rst",
            category="Tables",
        ),
        summary_rd="results/tables/summary_rd.csv",
        summary_strata="results/tables/summary_strata.csv",
        summary_followup="results/tables/summary_followup.csv",
        exclusions="results/tables/exclusions.csv",
        event_rates="results/tables/event_rates.csv",
        event_rates_arms="results/tables/event_rates_arms.csv",
        results="results/results.json",
    log:
        "logs/analyse.log",
    benchmark:
        "benchmarks/analyse.tsv"
    priority: 20  # PRIORITY in rules/common.smk
    conda:
        "../../environment.yml"
    params:
        analysis=ANALYSIS,
    script:
        "../scripts/analyse.py"


# The published benchmarks and the claims set against the pooled estimates: a job of its own,
# so that a change to the benchmarks or claims reruns only it and the report.
rule evidence:
    input:
        **evidence_network_files()[0],
        studies="results/validated/studies.csv",
        arms="results/validated/arms.csv",
        contrasts="results/validated/contrasts.csv",
        excluded_arms="results/validated/excluded_arms.csv",
        benchmarks="results/validated/benchmarks.csv",
        claims="results/validated/claims.json",
        summary="results/tables/summary.csv",
        summary_rd="results/tables/summary_rd.csv",
        event_rates="results/tables/event_rates.csv",
        schemas=[
            "workflow/schemas/studies.schema.yaml",
            "workflow/schemas/arms.schema.yaml",
            "workflow/schemas/contrasts.schema.yaml",
            "workflow/schemas/excluded_arms.schema.yaml",
            "workflow/schemas/benchmarks.schema.yaml",
        ],
        engine=ENGINE,
    output:
        **evidence_network_files()[1],
        summary_early="results/tables/summary_early.csv",
        summary_subgroups="results/tables/summary_subgroups.csv",
        claims="results/tables/claims.csv",
        benchmarks="results/tables/benchmarks.csv",
    log:
        "logs/evidence.log",
    benchmark:
        "benchmarks/evidence.tsv"
    conda:
        "../../environment.yml"
    params:
        analysis=ANALYSIS,
    script:
        "../scripts/evidence.py"


rule figures:
    input:
        summary="results/tables/summary.csv",
        per_study="results/tables/per_study.csv",
        event_rates="results/tables/event_rates.csv",
        engine=ENGINE,
    output:
        figures=report(
            directory("results/figures"),
            patterns=["{name}.png"],
            caption="../report/figures.rst",
            category="Figures",
        ),
    log:
        "logs/figures.log",
    benchmark:
        "benchmarks/figures.tsv"
    priority: 10  # PRIORITY in rules/common.smk
    conda:
        "../../environment.yml"
    params:
        level=ANALYSIS["level"],
    script:
        "../scripts/figures.py"
