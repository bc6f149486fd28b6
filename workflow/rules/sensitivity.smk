rule sensitivity:
    input:
        per_study="results/tables/per_study.csv",
        summary="results/tables/summary.csv",
        studies="results/validated/studies.csv",
        risk_of_bias="results/validated/risk_of_bias.csv",
        engine=ENGINE,
    output:
        influence="results/sensitivity/influence.csv",
        leave1out="results/sensitivity/leave1out.csv",
        cumulative="results/sensitivity/cumulative.csv",
        small_study="results/sensitivity/small_study.csv",
        alternatives="results/sensitivity/alternatives.csv",
        gosh="results/sensitivity/gosh.csv.gz",
        figures=directory("results/sensitivity/figures"),
    log:
        "logs/sensitivity.log",
    benchmark:
        "benchmarks/sensitivity.tsv"
    priority: 20  # PRIORITY in rules/common.smk
    conda:
        "../../environment.yml"
    params:
        sensitivity=SENSITIVITY,
        analysis=ANALYSIS,
    script:
        "../scripts/sensitivity.py"
