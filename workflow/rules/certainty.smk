rule certainty:
    input:
        unpack(lambda wildcards: certainty_network_inputs()),
        summary="results/tables/summary.csv",
        per_study="results/tables/per_study.csv",
        engine=ENGINE,
        event_rates_arms="results/tables/event_rates_arms.csv",
        studies="results/validated/studies.csv",
        arms="results/validated/arms.csv",
        contrasts="results/validated/contrasts.csv",
        risk_of_bias="results/validated/risk_of_bias.csv",
        influence="results/sensitivity/influence.csv",
        leave1out="results/sensitivity/leave1out.csv",
        alternatives="results/sensitivity/alternatives.csv",
        small_study="results/sensitivity/small_study.csv",
        schema="workflow/schemas/studies.schema.yaml",
    output:
        **CERTAINTY_FILES,
    log:
        "logs/certainty.log",
    benchmark:
        "benchmarks/certainty.tsv"
    priority: 20  # PRIORITY in rules/common.smk
    conda:
        "../../environment.yml"
    params:
        certainty=CERTAINTY,
        analysis=ANALYSIS,
    script:
        "../scripts/certainty.py"
