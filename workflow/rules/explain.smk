# Explaining transferability: the joined per-surrogate table, Table VI and Fig. 2.


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


rule table6:
    input:
        surrogates=f"{RESULTS}/tables/surrogates.csv",
    output:
        csv=f"{RESULTS}/tables/table6.csv",
        md=f"{RESULTS}/tables/table6.md",
    log:
        f"{RESULTS}/logs/table6.log",
    benchmark:
        f"{RESULTS}/benchmarks/table6.tsv"
    localrule: True
    conda:
        "../../envs/transferlab.yaml"
    params:
        code=command_digest("table6"),
    shell:
        "python -m transferlab table6 --surrogates {input.surrogates} --out {output.csv}"
        " --markdown {output.md} > {log} 2>&1"


rule asr_figure:
    input:
        surrogates=f"{RESULTS}/tables/surrogates.csv",
    output:
        png=figure_report(f"{RESULTS}/figures/{{dataset}}/asr_vs_at_eps.png", "asr_vs_at_eps"),
        svg=f"{RESULTS}/figures/{{dataset}}/asr_vs_at_eps.svg",
    log:
        f"{RESULTS}/logs/figures/{{dataset}}.asr.log",
    benchmark:
        f"{RESULTS}/benchmarks/figures/{{dataset}}.asr.tsv"
    localrule: True
    conda:
        "../../envs/transferlab.yaml"
    params:
        code=command_digest("asr-figure"),
        dataset=get_dataset_label,
        eps=lambda wc: f"{PLAN.budgets(wc.dataset)[len(PLAN.budgets(wc.dataset)) // 2]}/255",
        stem=lambda wc, output: output.png[: -len(".png")],
    shell:
        "python -m transferlab asr-figure --surrogates {input.surrogates} --dataset {params.dataset:q}"
        " --eps {params.eps} --out-stem {params.stem} > {log} 2>&1"


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
