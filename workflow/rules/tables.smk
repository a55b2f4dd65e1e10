# Tables: one job per paper table, each reading the stage files its rows need.


# Table XII: the accuracy of every trained model, from the models' records.
rule table12:
    input:
        records=[e["record"] for e in tables.table12_models(PLAN)],
    output:
        csv=f"{RESULTS}/tables/table12.csv",
        md=f"{RESULTS}/tables/table12.md",
    log:
        f"{RESULTS}/logs/table12.log",
    benchmark:
        f"{RESULTS}/benchmarks/table12.tsv"
    localrule: True
    conda:
        "../../envs/transferlab.yaml"
    params:
        code=command_digest("table12"),
        models=json.dumps(tables.table12_models(PLAN)),
    shell:
        "python -m transferlab table12 --models {params.models:q} --out {output.csv}"
        " --markdown {output.md} > {log} 2>&1"


# Tables II-V and XIII: one job per table joins its rows' transfer summaries.
if ASR_TABLES:

    rule asr_table:
        input:
            summaries=lambda wc: [e["csv"] for e in tables.asr_table_inputs(PLAN, wc.table)],
            samples=lambda wc: [e["samples"] for e in tables.asr_table_inputs(PLAN, wc.table)],
        output:
            csv=f"{RESULTS}/tables/{{table}}.csv",
            md=f"{RESULTS}/tables/{{table}}.md",
        log:
            f"{RESULTS}/logs/{{table}}.log",
        benchmark:
            f"{RESULTS}/benchmarks/{{table}}.tsv"
        wildcard_constraints:
            table="|".join(ASR_TABLES),
        localrule: True
        conda:
            "../../envs/transferlab.yaml"
        params:
            code=command_digest("asr-table"),
            spec=lambda wc: tables.asr_table_spec(PLAN, wc.table),
        shell:
            "python -m transferlab asr-table --spec {params.spec:q} --out {output.csv}"
            " --markdown {output.md} > {log} 2>&1"


# Table VIII: the stored PGD AEs of the surrogate rows on targets trained off D, one job.
if "table8" in config["tables"]:

    rule table8:
        input:
            tables.table8_inputs(PLAN),
        output:
            csv=f"{RESULTS}/tables/table8.csv",
            md=f"{RESULTS}/tables/table8.md",
        log:
            f"{RESULTS}/logs/table8.log",
        benchmark:
            f"{RESULTS}/benchmarks/table8.tsv"
        conda:
            "../../envs/transferlab.yaml"
        threads: config["threads"]
        resources:
            gpu=lambda wc: 0 if config["device"] == "cpu" else 1,
            mem_mb=4000,
            runtime=120,
        params:
            code=command_digest("table8"),
            spec=tables.table8_spec(PLAN),
            device=config["device"],
        shell:
            "python -m transferlab table8 --spec {params.spec:q} --out {output.csv}"
            " --markdown {output.md} --device {params.device} --threads {threads} > {log} 2>&1"


# Table VI: Pearson r and OLS R² over the joined surrogate table.
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


# Table VII: gradient similarity across architectures, per target training.
if "table7" in config["tables"]:

    rule table7:
        input:
            similarity=f"{RESULTS}/metrics/similarity/{config['tables']['table7']['dataset']}/table7.csv",
        output:
            csv=f"{RESULTS}/tables/table7.csv",
            md=f"{RESULTS}/tables/table7.md",
        log:
            f"{RESULTS}/logs/table7.log",
        benchmark:
            f"{RESULTS}/benchmarks/table7.tsv"
        localrule: True
        conda:
            "../../envs/transferlab.yaml"
        params:
            code=command_digest("table7"),
            dataset=PLAN.dataset_label(config["tables"]["table7"]["dataset"]),
        shell:
            "python -m transferlab table7 --similarity {input.similarity} --dataset {params.dataset:q}"
            " --out {output.csv} --markdown {output.md} > {log} 2>&1"
