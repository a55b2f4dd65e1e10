# LGV (SPEC §4, Table V): each base surrogate fine-tuned into a collection of checkpoints,
# then attacked as an ensemble. The epoch checkpoint <collection>.epoch.pt (and its member
# shards) is not a declared output, so a killed job resumes from it.


rule lgv:
    input:
        base=f"{stem('models')}.pt",
    output:
        collection=f"{stem('lgv')}/{{optimizer}}.pt",
    log:
        f"{stem('logs/lgv')}/{{optimizer}}.log",
    benchmark:
        f"{stem('benchmarks/lgv')}/{{optimizer}}.tsv"
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
        spec=get_lgv_spec,
        device=config["device"],
    shell:
        "python -m transferlab lgv --spec {params.spec:q} --out {output.collection}"
        " --device {params.device} --threads {threads} >> {log} 2>&1"


# One LGV attack rule per data set: the HDF5 outputs list that data set's budgets.
for _dataset in PLAN.lgv_table_datasets():

    rule:
        name:
            f"lgv_attack_{_dataset}"
        input:
            collection=f"{stem('lgv')}/{{optimizer}}.pt",
            targets=lambda wc: list(get_target_models(wc).values()),
        output:
            sets=PLAN.lgv_attack_set_paths(_dataset),
            summary=f"{stem('transfer')}/lgv_{{optimizer}}/{{attack}}.csv",
            samples=f"{stem('transfer')}/lgv_{{optimizer}}/{{attack}}.samples.csv.gz",
        log:
            f"{stem('logs/attack')}/lgv_{{optimizer}}/{{attack}}.log",
        benchmark:
            f"{stem('benchmarks/attack')}/lgv_{{optimizer}}/{{attack}}.tsv"
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
            spec=get_lgv_attack_spec,
            outputs=lambda wc, output: PLAN.attack_outputs(wc.dataset, output.sets),
            targets=lambda wc: json.dumps(get_target_models(wc)),
            device=config["device"],
        shell:
            "python -m transferlab attack --collection --model {input.collection}"
            " --spec {params.spec:q} --outputs {params.outputs:q} --targets {params.targets:q}"
            " --out {output.summary} --samples {output.samples} --device {params.device}"
            " --threads {threads} > {log} 2>&1"
