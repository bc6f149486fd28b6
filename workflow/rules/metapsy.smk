# A Metapsy-standard database (psychotherapy vs control) read by config: the shared or a local
# copy when `metapsy.path` is set, else downloaded by shorthand and version into resources/.


wildcard_constraints:
    shorthand=r"[a-z0-9-]+",
    version=r"[A-Za-z0-9._-]+",


# The download runs where the workflow was started (cluster nodes often have no network).
localrules:
    metapsy_download,


rule metapsy_download:
    output:
        data="resources/metapsy/{shorthand}/{version}/data.csv",
        variables="resources/metapsy/{shorthand}/{version}/variables.json",
        release="resources/metapsy/{shorthand}/{version}/release.json",
    log:
        "logs/metapsy_download_{shorthand}_{version}.log",
    conda:
        "../../environment.yml"
    script:
        "../scripts/metapsy_download.py"


rule metapsy:
    input:
        unpack(lambda wildcards: metapsy_inputs()),
        engine=ENGINE,
    output:
        summary="results/metapsy/summary.csv",
        contrasts="results/metapsy/contrasts.csv",
        unusable="results/metapsy/unusable.csv",
        results="results/metapsy/metapsy.json",
    log:
        "logs/metapsy.log",
    benchmark:
        "benchmarks/metapsy.tsv"
    conda:
        "../../environment.yml"
    params:
        analysis=ANALYSIS,
        metapsy=METAPSY,
    script:
        "../scripts/metapsy.py"
