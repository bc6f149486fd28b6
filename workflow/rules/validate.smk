rule validate_sheets:
    input:
        unpack(lambda wildcards: sheet_inputs()),
        schemas=[
            "workflow/schemas/studies.schema.yaml",
            "workflow/schemas/arms.schema.yaml",
            "workflow/schemas/contrasts.schema.yaml",
        ],
    output:
        studies="results/validated/studies.csv",
        arms="results/validated/arms.csv",
        contrasts="results/validated/contrasts.csv",
        provenance="results/validated/provenance.json",
    log:
        "logs/validate_sheets.log",
    conda:
        "../../environment.yml"
    script:
        "../scripts/validate_sheets.py"
