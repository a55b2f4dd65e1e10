# Accuracy: Table XII from every trained model's record.


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
