rule report:
    input:
        qmd="report/report.qmd",
        quarto_project="report/_quarto.yml",
        figures="results/figures",
        results="results/results.json",
        provenance="results/validated/provenance.json",
        risk_of_bias="results/validated/risk_of_bias.csv",
        tables=rules.analyse.output,
        sensitivity=rules.sensitivity.output,
    output:
        **report_outputs(),
    log:
        "logs/report.log",
    benchmark:
        "benchmarks/report.tsv"
    conda:
        "../../environment.yml"
    params:
        results_dir=lambda wildcards, input: str(Path(input.results).parent),
        config=config,
    script:
        "../scripts/render_report.py"
