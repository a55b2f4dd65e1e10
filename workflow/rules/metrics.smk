# Metrics: per-model smoothness and input gradients; similarities from stored gradients;
# the tables and figures built from them live in tables.smk and report.smk.


rule measure:
    input:
        model=f"{stem('models')}.pt",
    output:
        smoothness=f"{stem('metrics/smoothness')}.csv",
        summary=f"{stem('metrics/smoothness')}.json",
        gradients=f"{stem('metrics/gradients')}.pt",
    log:
        f"{stem('logs/measure')}.log",
    benchmark:
        f"{stem('benchmarks/measure')}.tsv"
    group:
        "metrics"
    conda:
        "../../envs/transferlab.yaml"
    threads: config["threads"]
    resources:
        gpu=gpu_count,
        gpu_slots=gpu_count,
        cpus_per_gpu=lambda wc, threads: threads,
        mem_mb=lambda wc, attempt: 4000 * attempt,
        runtime=lambda wc, attempt: 30 * attempt,
    params:
        code=command_digest("measure"),
        spec=get_metrics_spec,
        device=config["device"],
    shell:
        "python -m transferlab measure --model {input.model} --spec {params.spec:q}"
        " --smoothness {output.smoothness} --summary {output.summary}"
        " --gradients {output.gradients} --device {params.device} --threads {threads} > {log} 2>&1"


rule similarity:
    input:
        sources=lambda wc: [m["gradients"] for m in get_similarity_models(wc)[0]],
        targets=lambda wc: [m["gradients"] for m in get_similarity_models(wc)[1]],
    output:
        summary=f"{RESULTS}/metrics/similarity/{{dataset}}/{{kind}}.csv",
        samples=f"{RESULTS}/metrics/similarity/{{dataset}}/{{kind}}.samples.csv.gz",
    log:
        f"{RESULTS}/logs/similarity/{{dataset}}/{{kind}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/similarity/{{dataset}}/{{kind}}.tsv"
    localrule: True
    conda:
        "../../envs/transferlab.yaml"
    params:
        code=command_digest("similarity"),
        sources=lambda wc: json.dumps(get_similarity_models(wc)[0]),
        targets=lambda wc: json.dumps(get_similarity_models(wc)[1]),
        seed_pairs=lambda wc: "shifted" if wc.kind == "intra" else "all",
    shell:
        "python -m transferlab similarity --sources {params.sources:q} --targets {params.targets:q}"
        " --seed-pairs {params.seed_pairs} --out {output.summary} --samples {output.samples} > {log} 2>&1"
