# Accuracy: Table XII from every trained model's record.


def table12_models():
    entries = []
    for dataset in config["datasets"]:
        for role, models in (
            ("surrogate", surrogate_models(dataset)),
            ("target", target_models(dataset)),
        ):
            for arch, method, tau, seed in models:
                entries.append(
                    {
                        "record": model_stem(dataset, arch, method, tau, seed) + ".json",
                        "model": model_label(dataset, arch, method, tau, role),
                        "role": role,
                        "arch": arch,
                    }
                )
    # A target that is also a surrogate (same arch, ST, seed) is listed once.
    unique = {e["record"]: e for e in reversed(entries)}
    return list(reversed(unique.values()))


rule table12:
    input:
        records=[e["record"] for e in table12_models()],
        code=library_sources("tables", "cli"),
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
        models=json.dumps(table12_models()),
    shell:
        "python -m transferlab table12 --models {params.models:q} --out {output.csv}"
        " --markdown {output.md} > {log} 2>&1"
