"""The inputs and specs of the paper-table jobs (Tables II–V, VIII, XII, XIII).

An ASR table (II, III, IV, V, XIII) reads one transfer summary and per-sample file per
surrogate row × attack × seed; Table VIII reads stored PGD AE files and D′ target models;
Table XII reads every model's record. Each function is a pure function of the plan.
"""

from __future__ import annotations

import json
from typing import Any

from transferlab.config.labels import lgv_row_label
from transferlab.config.rows import table8_rows, table8_targets, table_datasets, table_rows
from transferlab.mechanisms import MECHANISMS
from transferlab.plan.grid import Plan, ae_file

ASR_TABLE_TITLES = {
    "table2": "Table II: PGD transfer ASR",
    "table3": "Table III: PGD transfer ASR",
    "table4": "Table IV: PGD / MI / DIM transfer ASR",
    "table5": "Table V: PGD transfer ASR of LGV ensembles",
    "table13": "Table XIII: AutoAttack transfer ASR",
}
ASR_TABLES = tuple(ASR_TABLE_TITLES)


def table_attacks(plan: Plan, table: str) -> list[str]:
    """The attacks an ASR table shows: ``attacks``, else AutoAttack (XIII) or PGD."""
    default = ["autoattack"] if table == "table13" else ["pgd"]
    return plan.config["tables"][table].get("attacks", default)


def _transfer_entry(stem: str, surrogate: str, seed: int) -> dict[str, Any]:
    return {
        "csv": f"{stem}.csv",
        "samples": f"{stem}.samples.csv.gz",
        "surrogate": surrogate,
        "seed": seed,
    }


def table5_inputs(plan: Plan, table: str) -> list[dict[str, Any]]:
    """Table V's [{csv, samples, surrogate, seed}]: each base row without LGV (its PGD
    transfer) and with each LGV optimizer (its collection's)."""
    dataset = plan.config["tables"][table]["dataset"]
    ds = plan.dataset(dataset)
    entries = []
    for label, method, tau in plan.lgv_bases(dataset):
        for optimizer in [None, *ds["lgv"]["optimizers"]]:
            for seed in ds["seeds"]:
                model = (dataset, ds["surrogate"], method, tau, seed)
                if optimizer is None:
                    stem = plan.transfer_stem(*model, "pgd")
                else:
                    stem = f"{plan.lgv_stem(*model, optimizer, kind='transfer')}/pgd"
                entries.append(_transfer_entry(stem, lgv_row_label(label, optimizer), seed))
    return entries


def asr_table_inputs(plan: Plan, table: str, dataset: str | None = None) -> list[dict[str, Any]]:
    """[{csv, samples, surrogate, seed}] of every surrogate row × seed of an ASR table (of
    one of its data sets, or of all)."""
    if table == "table5":
        return table5_inputs(plan, table)
    tcfg = plan.config["tables"][table]
    if dataset is None:
        return [e for d in table_datasets(tcfg) for e in asr_table_inputs(plan, table, d)]
    ds = plan.dataset(dataset)
    entries = []
    for label, method, tau in table_rows(ds["mechanisms"], tcfg.get("surrogates")):
        for attack in table_attacks(plan, table):
            for seed in plan.table_seeds(table, dataset):
                stem = plan.transfer_stem(dataset, ds["surrogate"], method, tau, seed, attack)
                entries.append(_transfer_entry(stem, label, seed))
    return entries


def asr_table_part(plan: Plan, table: str, dataset: str) -> dict[str, Any]:
    """One data set's part of an ASR table: its label, budgets, targets, inputs, note."""
    tcfg = plan.config["tables"][table]
    default_budgets = plan.budgets(dataset)
    if table == "table5":
        default_budgets = default_budgets[:2]  # the paper's Table V: 4/255 and 8/255
    note = ""
    if table == "table13":
        evaluation = plan.autoattack_evaluation(dataset)
        note = (
            f"Subset (AutoAttack's cost): the first {evaluation['n_samples']} "
            f"{evaluation['split']} images and surrogate seeds {plan.table_seeds(table, dataset)}. "
            "AutoAttack's float AEs are rounded to 8 bits and projected back onto the ε-ball "
            "where rounding left it; each file records the white-box FP before and after."
        )
    return {
        "dataset": plan.dataset_label(dataset),
        "budgets": tcfg.get("budgets", default_budgets),
        "targets": plan.dataset(dataset)["targets"],
        "inputs": asr_table_inputs(plan, table, dataset),
        "note": note,
    }


def asr_table_spec(plan: Plan, table: str) -> str:
    """The asr-table command's spec: one data set's keys at the top level, or (Table XIII
    on several data sets) one part per data set."""
    tcfg = plan.config["tables"][table]
    parts = [asr_table_part(plan, table, dataset) for dataset in table_datasets(tcfg)]
    spec = {
        "title": f"{ASR_TABLE_TITLES[table]} ({', '.join(p['dataset'] for p in parts)})",
        "lgv_rows": table == "table5",
        "attacks": table_attacks(plan, table),
        "intervals": {k: plan.config["claims"][k] for k in ("resamples", "seed")},
    }
    if len(parts) == 1:
        spec.update(parts[0])
    else:
        spec["note"] = ""
        spec["parts"] = parts
    return json.dumps(spec, sort_keys=True)


def table8_plan(plan: Plan) -> dict[str, Any]:
    """Table VIII's job: every surrogate row × seed (and the ★ row per column) with its stored
    PGD AE files at the table's budget, and the D′ target models."""
    tcfg = plan.config["tables"]["table8"]
    dataset = tcfg["dataset"]
    ds = plan.dataset(dataset)
    all_budgets = plan.budgets(dataset)
    eps = tcfg.get("budget", all_budgets[len(all_budgets) // 2])
    seed_t = ds["target_seeds"][0]
    columns = table8_targets(ds["mechanisms"], tcfg["target_trainings"])
    targets = {
        label: plan.model_stem(dataset, tcfg["target"], method, tau, seed_t) + ".pt"
        for label, method, tau in columns
    }

    def entry(label: str, method: str, tau: int, seed: int, wanted: list[str]) -> dict[str, Any]:
        model = (dataset, ds["surrogate"], method, tau, seed)
        folder = plan.attack_name(dataset, method, tau, "pgd")
        stem = plan.model_stem(*model, kind="adversarial")
        return {
            "surrogate": label,
            "seed": seed,
            "model": plan.model_stem(*model) + ".pt",
            "files": [ae_file(stem, folder, mode, eps) for mode in plan.config["modes"]],
            "targets": wanted,
        }

    entries = []
    for index, (label, method, tau) in enumerate(table8_rows(ds["mechanisms"], tcfg)):
        entries += [entry(label, method, tau, seed, list(targets)) for seed in ds["seeds"]]
        if index == 0:  # the paper prints the ★ row right after ST
            entries += [
                entry("same as target", m, t, seed, [column])
                for column, m, t in columns
                for seed in ds["seeds"]
            ]
    return {
        "dataset": dataset,
        "label": plan.dataset_label(dataset),
        "entries": entries,
        "targets": targets,
    }


def table8_spec(plan: Plan) -> str:
    table = table8_plan(plan)
    ds = plan.dataset(table["dataset"])
    spec = {
        "label": table["label"],
        "entries": table["entries"],
        "targets": table["targets"],
        "dataset": plan.dataset_spec(table["dataset"]),
        "evaluation": ds["evaluation"],
        "batch_size": ds["attacks"]["batch_size"],
    }
    return json.dumps(spec, sort_keys=True)


def table8_inputs(plan: Plan) -> list[str]:
    table = table8_plan(plan)
    files = [f for e in table["entries"] for f in (e["model"], *e["files"])]
    return sorted(set(files)) + list(table["targets"].values())


def table12_models(plan: Plan) -> list[dict[str, str]]:
    """Table XII's models: every surrogate and target, then Table VII's and VIII's targets;
    a model listed twice (a target of two tables) keeps its first entry."""

    def entry(dataset: str, model: tuple[Any, ...], label: str, role: str) -> dict[str, str]:
        record = plan.model_stem(dataset, *model) + ".json"
        return {"record": record, "model": label, "role": role, "arch": model[0]}

    entries = []
    for dataset in plan.config["datasets"]:
        for role, models in (
            ("surrogate", plan.surrogate_models(dataset)),
            ("target", plan.target_models(dataset)),
        ):
            for model in models:
                entries.append(
                    entry(dataset, model, plan.model_label(dataset, *model[:3], role), role)
                )
    tables = plan.config["tables"]
    if "table7" in tables:
        tcfg = tables["table7"]
        seed = plan.dataset(tcfg["dataset"])["target_seeds"][0]
        for method, tau in tcfg["target_trainings"].items():
            label = tcfg["target"]
            if method != "st":
                label = f"{tcfg['target']} {MECHANISMS.get(method).label}"
            entries.append(
                entry(tcfg["dataset"], (tcfg["target"], method, tau, seed), label, "target")
            )
    if "table8" in tables:
        tcfg = tables["table8"]
        ds = plan.dataset(tcfg["dataset"])
        seed = ds["target_seeds"][0]
        for label, method, tau in table8_targets(ds["mechanisms"], tcfg["target_trainings"]):
            model = (tcfg["target"], method, tau, seed)
            entries.append(entry(tcfg["dataset"], model, f"{tcfg['target']} {label}", "target"))
    unique: dict[str, dict[str, str]] = {}
    for item in entries:
        unique.setdefault(item["record"], item)
    return list(unique.values())
