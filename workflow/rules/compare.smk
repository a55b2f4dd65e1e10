# Comparison with the paper: each built table next to the published numbers, and a summary.


rule compare:
    input:
        table=f"{RESULTS}/tables/{{table}}.csv",
        paper=get_paper_csvs,
    output:
        cells=f"{RESULTS}/compare/{{table}}.csv",
        columns=f"{RESULTS}/compare/{{table}}.columns.csv",
        md=f"{RESULTS}/compare/{{table}}.md",
        page=comparison_page("{table}"),
    log:
        f"{RESULTS}/logs/compare/{{table}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/compare/{{table}}.tsv"
    wildcard_constraints:
        table="|".join(BUILT_TABLES),
    localrule: True
    conda:
        "../../envs/transferlab.yaml"
    params:
        code=command_digest("compare"),
        rows=lambda wc: outputs.paper_rows(PLAN, wc.table),
        budgets=lambda wc: outputs.paper_budgets(PLAN, wc.table),
    shell:
        "python -m transferlab compare --table {wildcards.table} --ours {input.table}"
        " --rows {params.rows:q} --budgets {params.budgets:q} --out {output.cells} --columns {output.columns}"
        " --markdown {output.md} --html {output.page} > {log} 2>&1"


rule compare_summary:
    input:
        columns=[f"{RESULTS}/compare/{table}.columns.csv" for table in BUILT_TABLES],
    output:
        csv=f"{RESULTS}/compare/summary.csv",
        md=f"{RESULTS}/compare/summary.md",
        page=comparison_page("summary"),
    log:
        f"{RESULTS}/logs/compare/summary.log",
    benchmark:
        f"{RESULTS}/benchmarks/compare/summary.tsv"
    localrule: True
    conda:
        "../../envs/transferlab.yaml"
    params:
        code=command_digest("compare-summary"),
    shell:
        "python -m transferlab compare-summary --columns {input.columns} --out {output.csv}"
        " --markdown {output.md} --html {output.page} > {log} 2>&1"
