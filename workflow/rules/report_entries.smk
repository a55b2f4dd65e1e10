# Report entries (snakemake --report report.html): the paper section, caption and labels of
# every figure and table page. Included right after common.smk: the rules flag their
# outputs with figure_report(), table_page() and comparison_page().

# Report categories, listed alphabetically by Snakemake: the number keeps the paper's order.
REPORT_SECTIONS = {
    "at": "1 Adversarial training (Sec. 2)",
    "augmentation": "2 Data augmentation (Sec. 3)",
    "regularization": "3 Gradient regularization (Sec. 4)",
    "asr": "4 Transfer ASR tables (Secs. 2-5)",
    "explain": "5 What explains transferability (Sec. 6)",
    "accuracy": "6 Clean accuracy (appendix)",
    "compare": "7 Comparison with the paper",
    "claims": "8 Which of the paper's claims hold here",
}
FIGURE_SECTIONS = {
    "asr_vs_at_eps": ("Fig. 2", "at"),
    "smoothness_vs_at_eps": ("Fig. 3", "at"),
    "similarity_vs_at_eps": ("Fig. 4", "at"),
    "similarity_vs_tau_augmentations": ("Figs. 5-6", "augmentation"),
    "smoothness_vs_tau_augmentations": ("Figs. 7-8", "augmentation"),
    "smoothness_vs_tau_regularizers": ("Figs. 9-10", "regularization"),
    "similarity_matrix": ("Fig. 11", "regularization"),
}
TABLE_SECTIONS = {
    "table2": ("Table II", "asr"),
    "table3": ("Table III", "asr"),
    "table4": ("Table IV", "asr"),
    "table5": ("Table V", "asr"),
    "table6": ("Table VI", "explain"),
    "table7": ("Table VII", "explain"),
    "table8": ("Table VIII", "explain"),
    "table13": ("Table XIII", "asr"),
    "table12": ("Table XII", "accuracy"),
}


def figure_report(path, name):
    """``path`` (a figure rule's PNG output) flagged for the report under its paper section,
    captioned by workflow/report/figures/<name>.rst."""
    number, section = FIGURE_SECTIONS[name]
    return report(
        path,
        caption=f"../report/figures/{name}.rst",
        category=REPORT_SECTIONS[section],
        subcategory=get_dataset_label,
        labels={"figure": number, "file": name},
    )


def table_source(table):
    """Which data set a table is built from, for its report label."""
    if table in config["tables"]:
        datasets = table_datasets(config["tables"][table])
        return ", ".join(PLAN.dataset_label(d) for d in datasets)
    return ", ".join(PLAN.dataset_label(d) for d in config["datasets"])


def table_page(table):
    """A table's HTML page flagged for the report under its paper section."""
    title, section = TABLE_SECTIONS[table]
    return report(
        f"{RESULTS}/report/tables/{table}.html",
        caption=f"../report/tables/{table}.rst",
        category=REPORT_SECTIONS[section],
        subcategory=title,
        labels={"table": title, "data set": table_source(table)},
    )


def comparison_title(wildcards, name):
    name = getattr(wildcards, "table", name)
    return TABLE_SECTIONS[name][0] if name in TABLE_SECTIONS else "Summary"


def comparison_page(name):
    """A comparison's HTML page flagged for the report; ``name``: "summary" or "{table}"
    (the compare rule's wildcard)."""
    return report(
        f"{RESULTS}/report/compare/{name}.html",
        caption="../report/compare.rst",
        category=REPORT_SECTIONS["compare"],
        subcategory=lambda wc: comparison_title(wc, name),
        labels=lambda wc: {"table": comparison_title(wc, name)},
    )


def claims_page():
    """The claims check's HTML page, flagged for the report."""
    return report(
        f"{RESULTS}/report/claims.html",
        caption="../report/claims.rst",
        category=REPORT_SECTIONS["claims"],
        subcategory="Claims",
        labels={"table": "Claims check"},
    )
