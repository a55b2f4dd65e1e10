# LGV (SPEC §4, Table V): each base surrogate fine-tuned into a collection of checkpoints,
# then attacked as an ensemble. The epoch checkpoint <collection>.epoch.pt (and its member
# shards) is not a declared output, so a killed job resumes from it.


rule lgv:
    input:
        base=f"{RESULTS}/models/{{dataset}}/{{arch}}/{{method}}/tau{{tau}}/seed{{seed}}.pt",
    output:
        collection=f"{RESULTS}/lgv/{{dataset}}/{{arch}}/{{method}}/tau{{tau}}/seed{{seed}}/{{optimizer}}.pt",
    log:
        f"{RESULTS}/logs/lgv/{{dataset}}/{{arch}}/{{method}}/tau{{tau}}/seed{{seed}}/{{optimizer}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/lgv/{{dataset}}/{{arch}}/{{method}}/tau{{tau}}/seed{{seed}}/{{optimizer}}.tsv"
    conda:
        "../../envs/transferlab.yaml"
    threads: config["threads"]
    resources:
        gpu=gpu_count,
        gpu_slots=gpu_count,
        cpus_per_gpu=lambda wc, threads: threads,
        mem_mb=lambda wc, attempt: 8000 * attempt,
        runtime=lambda wc, attempt: 720 * attempt,
    params:
        code=command_digest("lgv"),
        spec=lgv_spec,
        device=config["device"],
    shell:
        "python -m transferlab lgv --spec {params.spec:q} --out {output.collection}"
        " --device {params.device} --threads {threads} >> {log} 2>&1"


# One LGV attack rule per data set: the HDF5 outputs list that data set's budgets.
for _dataset in lgv_table_datasets():

    rule:
        name:
            f"lgv_attack_{_dataset}"
        input:
            collection=f"{RESULTS}/lgv/{{dataset}}/{{arch}}/{{method}}/tau{{tau}}/seed{{seed}}/{{optimizer}}.pt",
            targets=lambda wc: list(target_model_paths(wc).values()),
        output:
            sets=lgv_attack_set_paths(_dataset),
            summary=f"{RESULTS}/transfer/{{dataset}}/{{arch}}/{{method}}/tau{{tau}}/seed{{seed}}/lgv_{{optimizer}}/{{attack}}.csv",
            samples=f"{RESULTS}/transfer/{{dataset}}/{{arch}}/{{method}}/tau{{tau}}/seed{{seed}}/lgv_{{optimizer}}/{{attack}}.samples.csv.gz",
        log:
            f"{RESULTS}/logs/attack/{{dataset}}/{{arch}}/{{method}}/tau{{tau}}/seed{{seed}}/lgv_{{optimizer}}/{{attack}}.log",
        benchmark:
            f"{RESULTS}/benchmarks/attack/{{dataset}}/{{arch}}/{{method}}/tau{{tau}}/seed{{seed}}/lgv_{{optimizer}}/{{attack}}.tsv"
        wildcard_constraints:
            dataset=_dataset,
        conda:
            "../../envs/transferlab.yaml"
        threads: config["threads"]
        resources:
            gpu=gpu_count,
            gpu_slots=gpu_count,
            cpus_per_gpu=lambda wc, threads: threads,
            mem_mb=lambda wc, attempt: 8000 * attempt,
            runtime=lambda wc, attempt: 240 * attempt,
        params:
            code=command_digest("attack"),
            spec=lgv_attack_spec,
            outputs=lambda wc, output: attack_outputs(wc.dataset, output.sets),
            targets=lambda wc: json.dumps(target_model_paths(wc)),
            device=config["device"],
        shell:
            "python -m transferlab attack --collection --model {input.collection}"
            " --spec {params.spec:q} --outputs {params.outputs:q} --targets {params.targets:q}"
            " --out {output.summary} --samples {output.samples} --device {params.device}"
            " --threads {threads} > {log} 2>&1"
