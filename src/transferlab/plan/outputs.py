"""What ``rule all`` builds, and the specs of the jobs that join every surrogate
(the surrogates table behind Table VI and Fig. 2, the claims check) or compare a built
table with the paper's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from transferlab.compare.counterparts import budget_map
from transferlab.config.labels import paper_row_label, surrogate_label
from transferlab.config.rows import table_datasets, table_rows
from transferlab.plan.grid import Plan
from transferlab.report.figures import FIGURES


def built_tables(plan: Plan) -> list[str]:
    """Every table the configuration builds; each has a published counterpart."""
    return ["table12", "table6", *plan.config["tables"]]


def report_pages(plan: Plan) -> list[str]:
    results = plan.results
    pages = [f"{results}/report/tables/{name}.html" for name in built_tables(plan)]
    pages.append(f"{results}/report/claims.html")
    pages += [f"{results}/report/compare/{name}.html" for name in [*built_tables(plan), "summary"]]
    return pages


def all_targets(plan: Plan) -> list[str]:
    """``rule all``: every table, figure, comparison, the claims check and report page."""
    results = plan.results
    tables = [f"{results}/tables/{name}.csv" for name in built_tables(plan)]
    names = [*FIGURES, "asr_vs_at_eps"]
    figures = [
        f"{results}/figures/{ds}/{name}.png" for ds in plan.config["datasets"] for name in names
    ]
    compare = [f"{results}/compare/{name}.csv" for name in built_tables(plan)]
    compare.append(f"{results}/compare/summary.csv")
    claims = [f"{results}/claims.csv", f"{results}/claims.md"]
    return tables + figures + compare + claims + report_pages(plan)


def _surrogate_entry(plan: Plan, dataset: str, entry: dict[str, Any]) -> dict[str, Any]:
    """A surrogate's labels and model record, from its metric entry."""
    model = (dataset, entry["arch"], entry["method_key"], entry["tau_index"], entry["seed"])
    return {
        "dataset": plan.dataset_label(dataset),
        "surrogate": entry["label"],
        "method": entry["method"],
        "tau_index": entry["tau_index"],
        "tau": entry["tau"],
        "seed": entry["seed"],
        "record": plan.model_stem(*model) + ".json",
    }


def surrogate_entries(plan: Plan) -> list[dict[str, Any]]:
    """Every surrogate with the files Table VI joins (transfer: PGD)."""
    entries = []
    for dataset in plan.config["datasets"]:
        for entry in plan.surrogate_metric_entries(dataset):
            model = (dataset, entry["arch"], entry["method_key"], entry["tau_index"], entry["seed"])
            entries.append(
                {
                    **_surrogate_entry(plan, dataset, entry),
                    "summary": entry["summary"],
                    "transfer": plan.transfer_stem(*model, "pgd") + ".csv",
                }
            )
    return entries


def surrogates_spec(plan: Plan) -> str:
    similarity = {
        plan.dataset_label(ds): f"{plan.results}/metrics/similarity/{ds}/targets.csv"
        for ds in plan.config["datasets"]
    }
    return json.dumps(
        {"entries": surrogate_entries(plan), "similarity": similarity}, sort_keys=True
    )


def claims_spec(plan: Plan) -> dict[str, Any]:
    """Every surrogate's per-sample files (transferlab.explain.claims.claims_inputs) and the
    per-image similarity files, per data set label."""
    entries, similarity = [], {}
    for dataset in plan.config["datasets"]:
        rows = {
            (method, tau): row
            for row, method, tau in table_rows(plan.dataset(dataset)["mechanisms"])
        }
        for entry in plan.surrogate_metric_entries(dataset):
            key = (entry["method_key"], entry["tau_index"])
            model = (dataset, entry["arch"], *key, entry["seed"])
            entries.append(
                {
                    **_surrogate_entry(plan, dataset, entry),
                    "smoothness": plan.model_stem(*model, kind="metrics/smoothness") + ".csv",
                    "transfer_samples": plan.transfer_stem(*model, "pgd") + ".samples.csv.gz",
                    "table_row": rows.get(key),
                }
            )
        folder = f"{plan.results}/metrics/similarity/{dataset}"
        files = {"targets": f"{folder}/targets.samples.csv.gz"}
        if plan.config["tables"].get("table7", {}).get("dataset") == dataset:
            files["table7"] = f"{folder}/table7.samples.csv.gz"
        similarity[plan.dataset_label(dataset)] = files
    return {"entries": entries, "similarity": similarity}


def claims_input_files(plan: Plan) -> list[str]:
    spec = claims_spec(plan)
    files = [e[k] for e in spec["entries"] for k in ("record", "smoothness", "transfer_samples")]
    return files + [path for paths in spec["similarity"].values() for path in paths.values()]


def paper_rows(plan: Plan, table: str) -> str:
    """JSON {dataset label: {our row label: the paper's}} of one compared table ("null":
    rows already use the paper's labels)."""
    config = plan.config
    if table in ("table2", "table3", "table4", "table13"):
        tcfg = config["tables"][table]
        datasets = {dataset: tcfg.get("surrogates") for dataset in table_datasets(tcfg)}
    elif table == "table12":
        datasets = {dataset: None for dataset in config["datasets"]}
    else:
        return "null"
    rows = {}
    for dataset, only in datasets.items():
        mechanisms = plan.dataset(dataset)["mechanisms"]
        mapping = {}
        for label, method, tau in table_rows(mechanisms, only):
            grid = mechanisms[method]["grid"]
            # Table XII names every model by its own tau; Tables II-IV by the row label.
            ours = surrogate_label(method, tau, grid) if table == "table12" else label
            mapping[ours] = paper_row_label(label, tau, len(grid))
        rows[plan.dataset_label(dataset)] = mapping
    return json.dumps(rows, sort_keys=True)


def paper_budgets(plan: Plan, table: str) -> str:
    """JSON {dataset label: {our eps label: the paper's}} of one compared table: each data
    set's budgets mapped onto the paper's by position (transferlab.compare.counterparts.budget_map);
    "null" for tables without budgets."""
    if table in ("table7", "table8", "table12"):
        return "null"  # no eps column (Table VIII prints one budget)
    config = plan.config
    if table in config["tables"]:
        datasets = table_datasets(config["tables"][table])
    else:
        datasets = list(config["datasets"])
    return json.dumps(
        {plan.dataset_label(ds): budget_map(table, plan.budgets(ds)) for ds in datasets},
        sort_keys=True,
    )


def paper_csvs(table: str, reference: Path) -> list[str]:
    """The paper's published CSVs of one table: ``<table>_*.csv`` in ``reference`` (the
    workflow's own copy of src/transferlab/compare/reference/paper, so a clone reads its own)."""
    return sorted(str(p) for p in reference.glob(f"{table}_*.csv"))
