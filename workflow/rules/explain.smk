# Explaining transferability: the joined per-surrogate table and the paper's claims.


rule surrogates:
    input:
        records=[e["record"] for e in outputs.surrogate_entries(PLAN)],
        summaries=[e["summary"] for e in outputs.surrogate_entries(PLAN)],
        transfers=[e["transfer"] for e in outputs.surrogate_entries(PLAN)],
        similarity=[
            f"{RESULTS}/metrics/similarity/{dataset}/targets.csv" for dataset in config["datasets"]
        ],
    output:
        csv=f"{RESULTS}/tables/surrogates.csv",
    log:
        f"{RESULTS}/logs/surrogates.log",
    benchmark:
        f"{RESULTS}/benchmarks/surrogates.tsv"
    localrule: True
    conda:
        "../../envs/transferlab.yaml"
    params:
        code=command_digest("surrogates"),
        spec=outputs.surrogates_spec(PLAN),
    shell:
        "python -m transferlab surrogates --spec {params.spec:q} --out {output.csv} > {log} 2>&1"


# The paper's qualitative claims, each with a bootstrap interval and a verdict.
rule claims:
    input:
        outputs.claims_input_files(PLAN),
    output:
        csv=f"{RESULTS}/claims.csv",
        md=f"{RESULTS}/claims.md",
        page=claims_page(),
    log:
        f"{RESULTS}/logs/claims.log",
    benchmark:
        f"{RESULTS}/benchmarks/claims.tsv"
    localrule: True
    conda:
        "../../envs/transferlab.yaml"
    params:
        code=command_digest("claims"),
        spec=json.dumps(outputs.claims_spec(PLAN), sort_keys=True),
        settings=json.dumps(config["claims"], sort_keys=True),
    shell:
        "python -m transferlab claims --spec {params.spec:q} --settings {params.settings:q}"
        " --out {output.csv} --markdown {output.md} --html {output.page} > {log} 2>&1"
