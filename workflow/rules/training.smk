# Training: one job per model (surrogates: mechanism × tau × seed; targets: ST per seed).
# The epoch checkpoint <model>.epoch.pt is not a declared output, so it survives a
# killed or failed job and the re-run resumes from it.


rule train:
    input:
        data=f"{RESULTS}/data/{{dataset}}.json",
    output:
        model=f"{stem('models')}.pt",
        record=f"{stem('models')}.json",
    log:
        f"{stem('logs/train')}.log",
    benchmark:
        f"{stem('benchmarks/train')}.tsv"
    conda:
        "../../envs/transferlab.yaml"
    threads: config["threads"]
    resources:
        gpu=gpu_count,
        gpu_slots=gpu_count,
        cpus_per_gpu=lambda wc, threads: threads,
        mem_mb=lambda wc, attempt: 4000 * attempt,
        runtime=lambda wc, attempt: 720 * attempt,
    params:
        code=command_digest("train"),
        spec=get_training_spec,
        device=config["device"],
        compile=get_compile_flag,
    shell:
        "python -m transferlab train --spec {params.spec:q} --model {output.model}"
        " --record {output.record} --device {params.device} --threads {threads}"
        " {params.compile} >> {log} 2>&1"
