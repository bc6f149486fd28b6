rule network:
    input:
        studies="results/validated/studies.csv",
        arms="results/validated/arms.csv",
        contrasts="results/validated/contrasts.csv",
        excluded_arms="results/validated/excluded_arms.csv",
        engine=ENGINE,
        schemas=[
            "workflow/schemas/studies.schema.yaml",
            "workflow/schemas/arms.schema.yaml",
            "workflow/schemas/contrasts.schema.yaml",
            "workflow/schemas/excluded_arms.schema.yaml",
        ],
    output:
        **NETWORK_FILES,
        figures=directory("results/network/figures"),
    log:
        "logs/network.log",
    benchmark:
        "benchmarks/network.tsv"
    priority: 10  # PRIORITY in rules/common.smk
    conda:
        "../../environment.yml"
    params:
        network=NETWORK,
        analysis=ANALYSIS,
    script:
        "../scripts/network.py"
