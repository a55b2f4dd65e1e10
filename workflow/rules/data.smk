# Data: check that each data set is present (downloading it if its options allow).


# Local: on a cluster, the submitting node is the one with internet for downloads.
rule prepare_data:
    output:
        summary=f"{RESULTS}/data/{{dataset}}.json",
    log:
        f"{RESULTS}/logs/prepare_data/{{dataset}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/prepare_data/{{dataset}}.tsv"
    localrule: True
    conda:
        "../../envs/transferlab.yaml"
    params:
        code=command_digest("prepare-data"),
        name=lambda wc: PLAN.dataset_name(wc.dataset),
        options=get_dataset_options,
    shell:
        "python -m transferlab prepare-data --dataset {params.name} --options {params.options:q}"
        " --out {output.summary} > {log} 2>&1"
