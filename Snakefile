# transferlab: "Why Does Little Robustness Help?" (IEEE S&P 2024), end to end.
#   snakemake --cores 8 results/tables/table2.csv                 (paper setup, config.yaml)
#   snakemake --cores 2 --configfile configs/digits.yaml          (embedded default)
# A --configfile replaces config.yaml instead of merging into it.
from snakemake.utils import min_version

min_version("9.0")


if not config.get("datasets"):

    configfile: "config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/report_entries.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/training.smk"
include: "workflow/rules/transfer.smk"
include: "workflow/rules/lgv.smk"
include: "workflow/rules/metrics.smk"
include: "workflow/rules/explain.smk"
include: "workflow/rules/tables.smk"
include: "workflow/rules/compare.smk"
include: "workflow/rules/report.smk"


report: "workflow/report/workflow.rst"


onstart:
    start_warm_interpreter(workflow)


onsuccess:
    stop_warm_interpreter()


onerror:
    stop_warm_interpreter()


rule all:
    input:
        outputs.all_targets(PLAN),
    localrule: True
