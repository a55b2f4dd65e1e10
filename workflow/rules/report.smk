# Report: Figures 2-11 and the Snakemake report's table pages
# (snakemake --report report.html); figures and comparison pages are flagged where they
# are made. Captions: workflow/report/.


# Figures 3-11 of one data set from its metric files.
rule figures:
    input:
        summaries=lambda wc: [m["summary"] for m in PLAN.surrogate_metric_entries(wc.dataset)],
        similarity=f"{RESULTS}/metrics/similarity/{{dataset}}/targets.csv",
        intra=f"{RESULTS}/metrics/similarity/{{dataset}}/intra.csv",
    output:
        [figure_report(f"{RESULTS}/figures/{{dataset}}/{name}.png", name) for name in FIGURES],
        [f"{RESULTS}/figures/{{dataset}}/{name}.svg" for name in FIGURES],
        matrix=f"{RESULTS}/figures/{{dataset}}/similarity_matrix.json",
    log:
        f"{RESULTS}/logs/figures/{{dataset}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/figures/{{dataset}}.tsv"
    localrule: True
    conda:
        "../../envs/transferlab.yaml"
    params:
        code=command_digest("figures"),
        spec=get_figures_spec,
    shell:
        "python -m transferlab figures --spec {params.spec:q} > {log} 2>&1"


# Fig. 2: transfer ASR against the AT surrogates' training ε.
rule asr_figure:
    input:
        surrogates=f"{RESULTS}/tables/surrogates.csv",
    output:
        png=figure_report(f"{RESULTS}/figures/{{dataset}}/asr_vs_at_eps.png", "asr_vs_at_eps"),
        svg=f"{RESULTS}/figures/{{dataset}}/asr_vs_at_eps.svg",
    log:
        f"{RESULTS}/logs/figures/{{dataset}}.asr.log",
    benchmark:
        f"{RESULTS}/benchmarks/figures/{{dataset}}.asr.tsv"
    localrule: True
    conda:
        "../../envs/transferlab.yaml"
    params:
        code=command_digest("asr-figure"),
        dataset=get_dataset_label,
        eps=lambda wc: f"{PLAN.budgets(wc.dataset)[len(PLAN.budgets(wc.dataset)) // 2]}/255",
        stem=lambda wc, output: output.png[: -len(".png")],
    shell:
        "python -m transferlab asr-figure --surrogates {input.surrogates} --dataset {params.dataset:q}"
        " --eps {params.eps} --out-stem {params.stem} > {log} 2>&1"


# One job renders every table page: each is a few milliseconds of work.
rule report_tables:
    input:
        md=[f"{RESULTS}/tables/{name}.md" for name in BUILT_TABLES],
        csv=[f"{RESULTS}/tables/{name}.csv" for name in BUILT_TABLES],
    output:
        pages=[table_page(name) for name in BUILT_TABLES],
    log:
        f"{RESULTS}/logs/report/tables.log",
    benchmark:
        f"{RESULTS}/benchmarks/report/tables.tsv"
    localrule: True
    conda:
        "../../envs/transferlab.yaml"
    params:
        code=command_digest("report-pages"),
    shell:
        "python -m transferlab report-pages --markdown {input.md} --csv {input.csv}"
        " --out {output.pages} > {log} 2>&1"
