# Attacks: one job per (surrogate model, attack) crafts one HDF5 file per mode × budget and
# evaluates them on every target (transfer summary + per-sample outcomes). One process for
# both: on small models, a second job per surrogate would mostly pay torch's import again.
# A surrogate no table lists is read in the analysis mode only (Table VI, Fig. 2, claims):
# its job, attack_<dataset>_<mode>, crafts that mode alone (transferlab.transfer.modes).


# One attack rule per data set (and mode subset): the HDF5 outputs list its budgets.
for _dataset in config["datasets"]:
    for _modes in [None, *([m] for m in PLAN.single_mode_attack_rules())]:
        _name = attack_job_name("{attack}", _modes or config["modes"], config["modes"])

        rule:
            name:
                f"attack_{_dataset}" if _modes is None else f"attack_{_dataset}_{_modes[0]}"
            input:
                model=f"{stem('models')}.pt",
                targets=lambda wc: list(get_target_models(wc).values()),
            output:
                sets=PLAN.attack_set_paths(_dataset, _modes),
                summary=f"{stem('transfer')}/{_name}.csv",
                samples=f"{stem('transfer')}/{_name}.samples.csv.gz",
            log:
                f"{stem('logs/attack')}/{_name}.log",
            benchmark:
                f"{stem('benchmarks/attack')}/{_name}.tsv"
            wildcard_constraints:
                dataset=_dataset,
                attack="|".join(PLAN.crafted_attacks(_dataset)),
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
                spec=get_evaluation_spec,
                outputs=lambda wc, output, modes=_modes: PLAN.attack_outputs(
                    wc.dataset, output.sets, modes
                ),
                targets=lambda wc: json.dumps(get_target_models(wc)),
                device=config["device"],
            shell:
                "python -m transferlab attack --model {input.model} --spec {params.spec:q}"
                " --outputs {params.outputs:q} --targets {params.targets:q} --out {output.summary}"
                " --samples {output.samples} --device {params.device} --threads {threads} > {log} 2>&1"


# AutoAttack (Table XIII): untargeted only, on Table XIII's subset of the evaluation images.
for _dataset in [
    d for d in config["datasets"] if "autoattack" in PLAN.dataset(d)["attacks"]["methods"]
]:

    rule:
        name:
            f"autoattack_{_dataset}"
        input:
            model=f"{stem('models')}.pt",
            targets=lambda wc: list(get_target_models(wc).values()),
        output:
            sets=PLAN.autoattack_set_paths(_dataset),
            summary=f"{stem('transfer')}/autoattack.csv",
            samples=f"{stem('transfer')}/autoattack.samples.csv.gz",
        log:
            f"{stem('logs/attack')}/autoattack.log",
        benchmark:
            f"{stem('benchmarks/attack')}/autoattack.tsv"
        wildcard_constraints:
            dataset=_dataset,
        conda:
            "../../envs/transferlab.yaml"
        threads: config["threads"]
        resources:
            gpu=gpu_count,
            gpu_slots=gpu_count,
            cpus_per_gpu=lambda wc, threads: threads,
            mem_mb=lambda wc, attempt: 4000 * attempt,
            runtime=lambda wc, attempt: 240 * attempt,
        params:
            code=command_digest("attack"),
            spec=get_autoattack_spec,
            outputs=lambda wc, output: PLAN.attack_outputs(wc.dataset, output.sets, ["untargeted"]),
            targets=lambda wc: json.dumps(get_target_models(wc)),
            device=config["device"],
        shell:
            "python -m transferlab attack --model {input.model} --spec {params.spec:q}"
            " --outputs {params.outputs:q} --targets {params.targets:q} --out {output.summary}"
            " --samples {output.samples} --device {params.device} --threads {threads} > {log} 2>&1"
