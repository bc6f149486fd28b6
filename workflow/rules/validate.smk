# The sheets are validated in three jobs, one per group of sheets that are checked against
# each other, so that a change to one sheet reruns only the jobs that read it: a row of the
# benchmarks or claims reruns the evidence check and the report, not the analyses; a
# risk-of-bias judgement reruns the certainty and sensitivity analyses and the report.
# With a workbook (`sheets.workbook`) every group reads the workbook.


rule validate_extraction:
    input:
        unpack(lambda wildcards: extraction_inputs()),
        schemas=[
            "workflow/schemas/studies.schema.yaml",
            "workflow/schemas/arms.schema.yaml",
            "workflow/schemas/contrasts.schema.yaml",
            "workflow/schemas/excluded_arms.schema.yaml",
        ],
        engine=ENGINE,
    output:
        studies="results/validated/studies.csv",
        arms="results/validated/arms.csv",
        contrasts="results/validated/contrasts.csv",
        excluded_arms="results/validated/excluded_arms.csv",
        provenance=PROVENANCE["extraction"],
    log:
        "logs/validate_extraction.log",
    benchmark:
        "benchmarks/validate_extraction.tsv"
    priority: 20  # PRIORITY in rules/common.smk
    conda:
        "../../environment.yml"
    params:
        group="extraction",
        vocabulary=config["vocabulary"],
    script:
        "../scripts/validate_sheets.py"


rule validate_risk_of_bias:
    input:
        unpack(lambda wildcards: risk_of_bias_inputs()),
        validated_studies="results/validated/studies.csv",
        schemas=[
            "workflow/schemas/risk_of_bias.schema.yaml",
            "workflow/schemas/studies.schema.yaml",
        ],
        engine=ENGINE,
    output:
        risk_of_bias="results/validated/risk_of_bias.csv",
        provenance=PROVENANCE["risk_of_bias"],
    log:
        "logs/validate_risk_of_bias.log",
    priority: 20  # PRIORITY in rules/common.smk
    conda:
        "../../environment.yml"
    params:
        group="risk_of_bias",
        studies_label=sheet_label("studies"),
    script:
        "../scripts/validate_sheets.py"


rule validate_evidence:
    input:
        unpack(lambda wildcards: evidence_inputs()),
        schemas=[
            "workflow/schemas/benchmarks.schema.yaml",
            "workflow/schemas/claims.schema.yaml",
        ],
        engine=ENGINE,
    output:
        benchmarks="results/validated/benchmarks.csv",
        claims="results/validated/claims.json",
        provenance=PROVENANCE["evidence"],
    log:
        "logs/validate_evidence.log",
    conda:
        "../../environment.yml"
    params:
        group="evidence",
    script:
        "../scripts/validate_sheets.py"
