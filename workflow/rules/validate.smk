rule validate_sheets:
    input:
        unpack(lambda wildcards: sheet_inputs()),
        schemas=[
            "workflow/schemas/studies.schema.yaml",
            "workflow/schemas/arms.schema.yaml",
            "workflow/schemas/contrasts.schema.yaml",
            "workflow/schemas/risk_of_bias.schema.yaml",
            "workflow/schemas/benchmarks.schema.yaml",
            "workflow/schemas/claims.schema.yaml",
        ],
        engine=ENGINE,
    output:
        studies="results/validated/studies.csv",
        arms="results/validated/arms.csv",
        contrasts="results/validated/contrasts.csv",
        risk_of_bias="results/validated/risk_of_bias.csv",
        benchmarks="results/validated/benchmarks.csv",
        claims="results/validated/claims.json",
        provenance="results/validated/provenance.json",
    log:
        "logs/validate_sheets.log",
    conda:
        "../../environment.yml"
    script:
        "../scripts/validate_sheets.py"
