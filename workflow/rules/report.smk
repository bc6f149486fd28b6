rule report:
    input:
        **metapsy_outputs(),
        qmd="report/report.qmd",
        quarto_project="report/_quarto.yml",
        figures="results/figures",
        results="results/results.json",
        provenance="results/validated/provenance.json",
        risk_of_bias="results/validated/risk_of_bias.csv",
        tables=rules.analyse.output,
        network=list(network_outputs().values()),
        certainty=list(CERTAINTY_FILES.values()),
        coverage="results/simulation/coverage.csv",
        engine=ENGINE,
    output:
        **report_outputs(caption="../report/report.rst"),
    log:
        "logs/report.log",
    benchmark:
        "benchmarks/report.tsv"
    conda:
        "../../environment.yml"
    params:
        results_dir=lambda wildcards, input: str(Path(input.results).parent),
        config=config,
        metapsy=bool(METAPSY.get("enabled")),
    script:
        "../scripts/render_report.py"
