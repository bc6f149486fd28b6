rule analyse:
    input:
        studies="results/validated/studies.csv",
        arms="results/validated/arms.csv",
        contrasts="results/validated/contrasts.csv",
        schemas=[
            "workflow/schemas/studies.schema.yaml",
            "workflow/schemas/arms.schema.yaml",
            "workflow/schemas/contrasts.schema.yaml",
        ],
    output:
        contrasts="results/tables/contrasts.csv",
        per_study="results/tables/per_study.csv",
        summary="results/tables/summary.csv",
        exclusions="results/tables/exclusions.csv",
        event_rates="results/tables/event_rates.csv",
        event_rates_arms="results/tables/event_rates_arms.csv",
        results="results/results.json",
    log:
        "logs/analyse.log",
    benchmark:
        "benchmarks/analyse.tsv"
    conda:
        "../../environment.yml"
    params:
        analysis=ANALYSIS,
    script:
        "../scripts/analyse.py"


rule figures:
    input:
        summary="results/tables/summary.csv",
        per_study="results/tables/per_study.csv",
        event_rates="results/tables/event_rates.csv",
    output:
        figures=directory("results/figures"),
    log:
        "logs/figures.log",
    benchmark:
        "benchmarks/figures.tsv"
    conda:
        "../../environment.yml"
    params:
        level=ANALYSIS["level"],
    script:
        "../scripts/figures.py"
