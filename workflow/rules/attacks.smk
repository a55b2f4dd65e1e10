# Attacks: one job per (surrogate model, attack) crafts one HDF5 file per mode × budget and
# evaluates them on every target (transfer summary + per-sample outcomes). One process for
# both: on small models, a second job per surrogate would mostly pay torch's import again.


rule attack:
    input:
        model=f"{RESULTS}/models/{{dataset}}/{{arch}}/{{method}}/tau{{tau}}/seed{{seed}}.pt",
        targets=lambda wc: list(target_model_paths(wc).values()),
    output:
        sets=[
            f"{RESULTS}/adversarial/{{dataset}}/{{arch}}/{{method}}/tau{{tau}}/seed{{seed}}/{{attack}}/{mode}-eps{eps}.h5"
            for mode in config["modes"]
            for eps in config["budgets"]
        ],
        summary=f"{RESULTS}/transfer/{{dataset}}/{{arch}}/{{method}}/tau{{tau}}/seed{{seed}}/{{attack}}.csv",
        samples=f"{RESULTS}/transfer/{{dataset}}/{{arch}}/{{method}}/tau{{tau}}/seed{{seed}}/{{attack}}.samples.csv.gz",
    log:
        f"{RESULTS}/logs/attack/{{dataset}}/{{arch}}/{{method}}/tau{{tau}}/seed{{seed}}/{{attack}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/attack/{{dataset}}/{{arch}}/{{method}}/tau{{tau}}/seed{{seed}}/{{attack}}.tsv"
    conda:
        "../../envs/transferlab.yaml"
    threads: config["threads"]
    resources:
        gpu=gpu_count,
        gpu_slots=gpu_count,
        cpus_per_gpu=lambda wc, threads: threads,
        mem_mb=lambda wc, attempt: 4000 * attempt,
        runtime=lambda wc, attempt: 120 * attempt,
    params:
        code=command_digest("attack"),
        spec=evaluation_spec,
        outputs=lambda wc, output: json.dumps(
            [
                {"path": path, "mode": mode, "eps": eps}
                for path, (mode, eps) in zip(
                    output.sets, [(m, e) for m in config["modes"] for e in config["budgets"]]
                )
            ]
        ),
        targets=lambda wc: json.dumps(target_model_paths(wc)),
        device=config["device"],
    shell:
        "python -m transferlab attack --model {input.model} --spec {params.spec:q}"
        " --outputs {params.outputs:q} --targets {params.targets:q} --out {output.summary}"
        " --samples {output.samples} --device {params.device} --threads {threads} > {log} 2>&1"


for _table in [t for t in ("table2", "table3", "table4") if t in config["tables"]]:

    rule:
        name:
            f"{_table}"
        input:
            summaries=(
                [e["csv"] for e in asr_table_inputs(_table)] if _table in config["tables"] else []
            ),
        output:
            csv=f"{RESULTS}/tables/{_table}.csv",
            md=f"{RESULTS}/tables/{_table}.md",
        log:
            f"{RESULTS}/logs/{_table}.log",
        benchmark:
            f"{RESULTS}/benchmarks/{_table}.tsv"
        localrule: True
        conda:
            "../../envs/transferlab.yaml"
        params:
            code=command_digest("asr-table"),
            spec=asr_table_spec(_table),
        shell:
            "python -m transferlab asr-table --spec {params.spec:q} --out {output.csv}"
            " --markdown {output.md} > {log} 2>&1"
