"""Per-rule parameter slices: each job's JSON spec holds only the config it depends on.

Snakemake re-runs a job when its params change, so a spec must hold exactly what the
job's output depends on: editing one mechanism's grid re-runs that mechanism's jobs only.
Every function returns the JSON text the rule passes (keys sorted), from the model key
of the job (Snakemake wildcard values: strings or ints alike).
"""

from __future__ import annotations

import json
from typing import Any

from transferlab.config.checks import ConfigError
from transferlab.config.rows import table7_rows, table7_surrogate_taus, table_rows
from transferlab.mechanisms import MECHANISMS
from transferlab.plan.grid import Plan


def training_spec(plan: Plan, dataset: str, arch: str, method: str, tau: Any, seed: Any) -> str:
    """The train command's spec: data set, architecture, training recipe, mechanism at τ."""
    ds = plan.dataset(dataset)
    architecture = dict(ds["architectures"][arch])
    training = {**ds["training"], **architecture.pop("training", {})}
    # compile: an execution option (params.compile), not part of the model's spec;
    # precision: only where it changes the arithmetic, so fp32 specs are as before.
    training.pop("compile", None)
    if training.get("precision") == "fp32" or MECHANISMS.get(method).fp32_only:
        training.pop("precision", None)
    mech = ds["mechanisms"][method]
    tau_index = int(tau)
    if not 1 <= tau_index <= len(mech["grid"]):
        raise ConfigError(
            f"tau{tau_index}: datasets.{dataset}.mechanisms.{method}.grid "
            f"has {len(mech['grid'])} value(s); allowed tau: 1..{len(mech['grid'])}"
        )
    spec = {
        "dataset": plan.dataset_spec(dataset),
        "architecture": architecture,
        "training": training,
        "mechanism": {
            "name": method,
            "tau_index": tau_index,
            "tau": mech["grid"][tau_index - 1],
            "settings": mech["settings"],
        },
        "seed": int(seed),
    }
    return json.dumps(spec, sort_keys=True)


def compile_flag(plan: Plan, dataset: str, arch: str) -> str:
    """``--compile`` where the architecture's training recipe asks for torch.compile."""
    ds = plan.dataset(dataset)
    training = {**ds["training"], **ds["architectures"][arch].get("training", {})}
    return "--compile" if training.get("compile", False) else ""


def evaluation_dict(plan: Plan, dataset: str, attack: str) -> dict[str, Any]:
    """The attack command's spec: images, batch size, attack settings, attack seed."""
    ds = plan.dataset(dataset)
    spec = {
        "dataset": plan.dataset_spec(dataset),
        "evaluation": ds["evaluation"],
        "batch_size": ds["attacks"]["batch_size"],
        "attack": {"name": attack, "settings": ds["attacks"]["methods"][attack]},
        "seed": ds["attacks"]["seed"],
    }
    if ds["attacks"].get("precision", "fp32") != "fp32":
        spec["precision"] = ds["attacks"]["precision"]
    return spec


def evaluation_spec(plan: Plan, dataset: str, attack: str) -> str:
    return json.dumps(evaluation_dict(plan, dataset, attack), sort_keys=True)


def autoattack_spec(plan: Plan, dataset: str) -> str:
    """``evaluation_spec`` of AutoAttack on Table XIII's subset of the evaluation images."""
    spec = evaluation_dict(plan, dataset, "autoattack")
    spec["evaluation"] = plan.autoattack_evaluation(dataset)
    return json.dumps(spec, sort_keys=True)


def lgv_spec(
    plan: Plan, dataset: str, arch: str, method: str, tau: Any, seed: Any, optimizer: str
) -> str:
    """build_collection's spec: the base model, its data set, the fine-tuning run, the seed."""
    ds = plan.dataset(dataset)
    settings = {k: v for k, v in ds["lgv"].items() if k not in ("bases", "optimizers")}
    settings.pop("members_per_step")  # an attack setting: it must not change the collection
    lgv_tau, mech_settings = None, {}
    if optimizer != "sgd":
        mech = ds["mechanisms"][optimizer]
        lgv_tau = mech["grid"][int(mech.get("table_tau") or 1) - 1]
        mech_settings = mech["settings"]
    spec = {
        "base": plan.model_stem(dataset, arch, method, tau, seed) + ".pt",
        "dataset": plan.dataset_spec(dataset),
        "lgv": {"optimizer": optimizer, "tau": lgv_tau, "settings": mech_settings, **settings},
        "seed": int(seed),
    }
    return json.dumps(spec, sort_keys=True)


def lgv_attack_spec(plan: Plan, dataset: str, attack: str) -> str:
    spec = evaluation_dict(plan, dataset, attack)
    spec["members_per_step"] = plan.dataset(dataset)["lgv"]["members_per_step"]
    return json.dumps(spec, sort_keys=True)


def metrics_spec(plan: Plan, dataset: str) -> str:
    """The measure command's spec: the data set and its metrics settings."""
    spec = {"dataset": plan.dataset_spec(dataset), "metrics": plan.dataset(dataset)["metrics"]}
    return json.dumps(spec, sort_keys=True)


def similarity_models(
    plan: Plan, dataset: str, kind: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(sources, targets) metric entries of one similarity table: targets, intra or table7."""
    ds = plan.dataset(dataset)
    if kind == "targets":
        targets = [
            plan.metric_entry(dataset, arch, method, tau, seed, arch)
            for arch, method, tau, seed in plan.target_models(dataset)
        ]
        return plan.surrogate_metric_entries(dataset), targets
    if kind == "intra":
        entries = [
            plan.metric_entry(dataset, ds["surrogate"], method, tau, seed, label)
            for label, method, tau in table_rows(ds["mechanisms"])
            for seed in ds["seeds"]
        ]
        return entries, entries
    tcfg = plan.config["tables"]["table7"]
    rows = table7_rows(ds["mechanisms"], tcfg.get("surrogates"), table7_surrogate_taus(tcfg))
    sources = [
        plan.metric_entry(dataset, ds["surrogate"], method, tau, seed, label)
        for label, method, tau in rows
        for seed in ds["seeds"]
    ]
    targets = [
        plan.metric_entry(
            dataset,
            tcfg["target"],
            method,
            tau,
            ds["target_seeds"][0],
            MECHANISMS.get(method).label,
        )
        for method, tau in tcfg["target_trainings"].items()
    ]
    return sources, targets


def figures_spec(plan: Plan, dataset: str) -> str:
    """The figures command's spec: every surrogate's smoothness summary, the similarity
    tables and where the figures go."""
    results = plan.results
    spec = {
        "dataset": plan.dataset_label(dataset),
        "architecture": plan.dataset(dataset)["surrogate"],
        "out_dir": f"{results}/figures/{dataset}",
        "smoothness": [
            {k: e[k] for k in ("summary", "method", "tau_index", "tau", "seed")}
            for e in plan.surrogate_metric_entries(dataset)
        ],
        "similarity": f"{results}/metrics/similarity/{dataset}/targets.csv",
        "intra": f"{results}/metrics/similarity/{dataset}/intra.csv",
        "matrix": f"{results}/figures/{dataset}/similarity_matrix.json",
    }
    return json.dumps(spec, sort_keys=True)
