# Snakemake report (snakemake --report report.html): every table as an HTML page; figures
# and comparison pages are flagged where they are made. Captions: workflow/report/.


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
