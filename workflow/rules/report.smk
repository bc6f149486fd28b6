rule review_protocol:
    output:
        "results/review.json",
    log:
        "logs/review_protocol.log",
    conda:
        "../../environment.yml"
    params:
        review=config["review"],
    script:
        "../scripts/review_protocol.py"


rule report:
    input:
        **metapsy_outputs(),
        review=rules.review_protocol.output[0],
        qmd="report/report.qmd",
        quarto_project="report/_quarto.yml",
        figures="results/figures",
        results="results/results.json",
        provenance=list(PROVENANCE.values()),
        risk_of_bias="results/validated/risk_of_bias.csv",
        arms="results/validated/arms.csv",
        contrasts="results/validated/contrasts.csv",
        tables=rules.analyse.output,
        evidence=rules.evidence.output,
        network=list(network_outputs().values()),
        certainty=list(CERTAINTY_FILES.values()),
        coverage="results/simulation/coverage.csv",
        engine=ENGINE,
        subgroups=rules.subgroups.output,
        sensitivity=rules.sensitivity.output,
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
