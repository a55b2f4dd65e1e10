# Helpers shared by every stage: config validation, the model grid, paths, params slices.
import json
from pathlib import Path

from snakemake.utils import validate

from transferlab import code_digest, forkserver
from transferlab.attack_modes import analysis_modes, attack_job_name, attack_modes
from transferlab.attack_modes import every_mode_surrogates

from transferlab.config import (
    ConfigError,
    check_config,
    dataset_budgets,
    paper_row_label,
    surrogate_label,
    table8_rows,
    lgv_row_label,
    table8_targets,
    table7_rows,
    table7_surrogate_taus,
    table_datasets,
    table_rows,
)
from transferlab.compare import budget_map
from transferlab.figures import FIGURES
from transferlab.mechanisms import MECHANISMS

validate(config, workflow.source_path("../schemas/config.schema.yaml"), set_default=True)
try:
    check_config(config)
except ConfigError as err:
    raise WorkflowError(f"invalid configuration: {err}") from None


wildcard_constraints:
    dataset="[a-z0-9]+",
    arch="[A-Za-z0-9]+",
    method="[a-z_]+",
    tau="[0-9]+",
    seed="[0-9]+",
    attack="[a-z]+",
    kind="targets|intra|table7",
    optimizer="sgd|sam|sam_jr",


RESULTS = "results"
WARM_INTERPRETER = []


def start_warm_interpreter(workflow):
    """onstart: with warm_interpreter, local jobs fork from one server (transferlab.forkserver)."""
    if config["warm_interpreter"] and workflow.local_exec:
        log = Path(RESULTS) / "logs" / "warm_interpreter.log"
        WARM_INTERPRETER.append(forkserver.start_for_jobs(log))


def stop_warm_interpreter():
    while WARM_INTERPRETER:
        forkserver.stop_server(WARM_INTERPRETER.pop())


LIBRARY = Path(workflow.basedir) / "src" / "transferlab"


def command_digest(command):
    """params.code for ``python -m transferlab <command>``, a digest of every library module
    the command can import, read from the import statements (transferlab.code_digest)."""
    return code_digest.command_digest(command, LIBRARY)


def dataset_config(dataset):
    return config["datasets"][dataset]


def budgets(dataset):
    """L-inf budgets (1/255) of one data set (transferlab.config.dataset_budgets)."""
    return dataset_budgets(config, dataset)


def attack_set_paths(dataset, modes=None):
    """The HDF5 files of one attack job of ``dataset``: one per mode × budget (every
    configured mode, or the one of a single-mode job, in folder ``<attack>.<mode>``)."""
    modes = modes or config["modes"]
    folder = attack_job_name("{attack}", modes, config["modes"])
    return [
        f"{RESULTS}/adversarial/{{dataset}}/{{arch}}/{{method}}/tau{{tau}}/seed{{seed}}/{folder}/{mode}-eps{eps}.h5"
        for mode in modes
        for eps in budgets(dataset)
    ]


def single_mode_attack_rules():
    """The modes with an attack job type of their own (the analysis modes) when a
    surrogate no table lists needs fewer modes than ``config["modes"]``."""
    modes = analysis_modes(config)
    return [] if modes == list(config["modes"]) or not modes else modes


EVERY_MODE = {ds: every_mode_surrogates(config, ds) for ds in config["datasets"]}


def attack_name(dataset, method, tau, attack):
    """The attack job's name in its paths: ``pgd`` (every mode) or ``pgd.untargeted``
    (transferlab.attack_modes); AutoAttack's job is untargeted by definition."""
    if attack not in crafted_attacks(dataset):
        return attack
    modes = attack_modes(config, dataset, attack, method, int(tau), EVERY_MODE[dataset])
    return attack_job_name(attack, modes, config["modes"])


def lgv_attack_set_paths(dataset):
    """The HDF5 files of one LGV ensemble attack job: one per mode × budget."""
    return [
        f"{RESULTS}/adversarial/{{dataset}}/{{arch}}/{{method}}/tau{{tau}}/seed{{seed}}/lgv_{{optimizer}}/{{attack}}/{mode}-eps{eps}.h5"
        for mode in config["modes"]
        for eps in budgets(dataset)
    ]


def lgv_table_datasets():
    """Data sets an LGV table (Table V) is built from."""
    return [config["tables"]["table5"]["dataset"]] if "table5" in config["tables"] else []


def attack_outputs(dataset, paths, modes=None):
    """--outputs of the attack command: [{path, mode, eps}] in attack_set_paths order."""
    settings = [(mode, eps) for mode in modes or config["modes"] for eps in budgets(dataset)]
    return json.dumps(
        [
            {"path": path, "mode": mode, "eps": eps}
            for path, (mode, eps) in zip(paths, settings, strict=True)
        ]
    )


def dataset_name(dataset):
    return dataset_config(dataset).get("name", dataset)


def mechanism_grid(dataset, method):
    return dataset_config(dataset)["mechanisms"][method]["grid"]


def surrogate_models(dataset):
    """(arch, method, tau, seed) of every surrogate: mechanism × tau grid × seed."""
    ds = dataset_config(dataset)
    return [
        (ds["surrogate"], method, tau, seed)
        for method, mech in ds["mechanisms"].items()
        for tau in range(1, len(mech["grid"]) + 1)
        for seed in ds["seeds"]
    ]


def target_models(dataset):
    ds = dataset_config(dataset)
    return [(arch, "st", 1, seed) for arch in ds["targets"] for seed in ds["target_seeds"]]


def model_stem(dataset, arch, method, tau, seed, kind="models"):
    """Path stem of one model's file under results/<kind> (models, metrics/…, transfer, …)."""
    return f"{RESULTS}/{kind}/{dataset}/{arch}/{method}/tau{tau}/seed{seed}"


def model_label(dataset, arch, method, tau, role):
    if role == "target":
        return arch
    return surrogate_label(method, int(tau), mechanism_grid(dataset, method))


FIGURE_NAMES = list(FIGURES)


# Every table the configuration builds; each has a published counterpart (transferlab.compare).
BUILT_TABLES = ["table12", "table6", *config["tables"]]
COMPARED_TABLES = BUILT_TABLES


def all_targets():
    tables = [f"{RESULTS}/tables/{name}.csv" for name in BUILT_TABLES]
    names = [*FIGURES, "asr_vs_at_eps"]
    figures = [f"{RESULTS}/figures/{ds}/{name}.png" for ds in config["datasets"] for name in names]
    compare = [f"{RESULTS}/compare/{name}.csv" for name in COMPARED_TABLES]
    compare.append(f"{RESULTS}/compare/summary.csv")
    claims = [f"{RESULTS}/claims.csv", f"{RESULTS}/claims.md"]
    return tables + figures + compare + claims + report_pages()


def surrogate_entries():
    """Every surrogate with the files Table VI joins (transfer: PGD)."""
    entries = []
    for dataset in config["datasets"]:
        label = DATASET_LABELS.get(dataset_name(dataset), dataset)
        for entry in surrogate_metric_entries(dataset):
            model = (dataset, entry["arch"], entry["method_key"], entry["tau_index"], entry["seed"])
            entries.append(
                {
                    "dataset": label,
                    "surrogate": entry["label"],
                    "method": entry["method"],
                    "tau_index": entry["tau_index"],
                    "tau": entry["tau"],
                    "seed": entry["seed"],
                    "record": model_stem(*model) + ".json",
                    "summary": entry["summary"],
                    "transfer": transfer_stem(*model, "pgd") + ".csv",
                }
            )
    return entries


def claims_spec():
    """Every surrogate's per-sample files (transferlab.claims.claims_inputs) and the
    per-image similarity files, per data set label."""
    entries, similarity = [], {}
    for dataset in config["datasets"]:
        label = DATASET_LABELS.get(dataset_name(dataset), dataset)
        rows = {
            (method, tau): row
            for row, method, tau in table_rows(dataset_config(dataset)["mechanisms"])
        }
        for entry in surrogate_metric_entries(dataset):
            key = (entry["method_key"], entry["tau_index"])
            model = (dataset, entry["arch"], *key, entry["seed"])
            entries.append(
                {
                    "dataset": label,
                    "surrogate": entry["label"],
                    "method": entry["method"],
                    "tau_index": entry["tau_index"],
                    "tau": entry["tau"],
                    "seed": entry["seed"],
                    "record": model_stem(*model) + ".json",
                    "smoothness": model_stem(*model, kind="metrics/smoothness") + ".csv",
                    "transfer_samples": transfer_stem(*model, "pgd") + ".samples.csv.gz",
                    "table_row": rows.get(key),
                }
            )
        files = {"targets": f"{RESULTS}/metrics/similarity/{dataset}/targets.samples.csv.gz"}
        if config["tables"].get("table7", {}).get("dataset") == dataset:
            files["table7"] = f"{RESULTS}/metrics/similarity/{dataset}/table7.samples.csv.gz"
        similarity[label] = files
    return {"entries": entries, "similarity": similarity}


def claims_input_files():
    spec = claims_spec()
    files = [e[k] for e in spec["entries"] for k in ("record", "smoothness", "transfer_samples")]
    return files + [path for paths in spec["similarity"].values() for path in paths.values()]


def surrogates_spec():
    similarity = {
        DATASET_LABELS.get(dataset_name(ds), ds): f"{RESULTS}/metrics/similarity/{ds}/targets.csv"
        for ds in config["datasets"]
    }
    return json.dumps({"entries": surrogate_entries(), "similarity": similarity}, sort_keys=True)


def metric_paths(dataset, arch, method, tau, seed):
    model = (dataset, arch, method, tau, seed)
    return {
        "summary": model_stem(*model, kind="metrics/smoothness") + ".json",
        "gradients": model_stem(*model, kind="metrics/gradients") + ".pt",
    }


def metric_entry(dataset, arch, method, tau, seed, label):
    grid = (
        mechanism_grid(dataset, method)
        if method in dataset_config(dataset)["mechanisms"]
        else [None]
    )
    return {
        **metric_paths(dataset, arch, method, tau, seed),
        "label": label,
        "method": MECHANISMS.get(method).label,
        "method_key": method,
        "tau_index": int(tau),
        "tau": grid[int(tau) - 1],
        "seed": int(seed),
        "arch": arch,
    }


def surrogate_metric_entries(dataset):
    return [
        metric_entry(
            dataset, arch, method, tau, seed, model_label(dataset, arch, method, tau, "surrogate")
        )
        for arch, method, tau, seed in surrogate_models(dataset)
    ]


def similarity_models(wildcards):
    """(sources, targets) of one similarity table: targets, intra or table7."""
    dataset, kind = wildcards.dataset, wildcards.kind
    ds = dataset_config(dataset)
    if kind == "targets":
        sources = surrogate_metric_entries(dataset)
        targets = [
            metric_entry(dataset, arch, method, tau, seed, arch)
            for arch, method, tau, seed in target_models(dataset)
        ]
        return sources, targets
    if kind == "intra":
        rows = table_rows(ds["mechanisms"])
        entries = [
            metric_entry(dataset, ds["surrogate"], method, tau, seed, label)
            for label, method, tau in rows
            for seed in ds["seeds"]
        ]
        return entries, entries
    tcfg = config["tables"]["table7"]
    rows = table7_rows(ds["mechanisms"], tcfg.get("surrogates"), table7_surrogate_taus(tcfg))
    sources = [
        metric_entry(dataset, ds["surrogate"], method, tau, seed, label)
        for label, method, tau in rows
        for seed in ds["seeds"]
    ]
    targets = [
        metric_entry(
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


def metrics_spec(wildcards):
    ds = dataset_config(wildcards.dataset)
    return json.dumps(
        {
            "dataset": {"name": dataset_name(wildcards.dataset), "options": ds["options"]},
            "metrics": ds["metrics"],
        },
        sort_keys=True,
    )


def figures_spec(wildcards):
    dataset = wildcards.dataset
    return json.dumps(
        {
            "dataset": DATASET_LABELS.get(dataset_name(dataset), dataset),
            "architecture": dataset_config(dataset)["surrogate"],
            "out_dir": f"{RESULTS}/figures/{dataset}",
            "smoothness": [
                {k: e[k] for k in ("summary", "method", "tau_index", "tau", "seed")}
                for e in surrogate_metric_entries(dataset)
            ],
            "similarity": f"{RESULTS}/metrics/similarity/{dataset}/targets.csv",
            "intra": f"{RESULTS}/metrics/similarity/{dataset}/intra.csv",
            "matrix": f"{RESULTS}/figures/{dataset}/similarity_matrix.json",
        },
        sort_keys=True,
    )


def transfer_stem(dataset, arch, method, tau, seed, attack):
    """results/transfer/…/seed{s}/<attack job name> (see attack_name)."""
    name = attack_name(dataset, method, tau, attack)
    return f"{model_stem(dataset, arch, method, tau, seed, kind='transfer')}/{name}"


def lgv_bases(dataset):
    """(row label, mechanism, tau index) of the LGV base surrogates: their Table II rows."""
    ds = dataset_config(dataset)
    return table_rows(ds["mechanisms"], ds["lgv"]["bases"])


def lgv_collections(dataset):
    """(arch, method, tau, seed, optimizer) of every LGV collection of ``dataset``."""
    ds = dataset_config(dataset)
    return [
        (ds["surrogate"], method, tau, seed, optimizer)
        for _, method, tau in lgv_bases(dataset)
        for seed in ds["seeds"]
        for optimizer in ds["lgv"]["optimizers"]
    ]


def lgv_stem(dataset, arch, method, tau, seed, optimizer, kind="lgv"):
    """results/lgv/…/seed{s}/{optimizer} (the collection) or its transfer / AE folder."""
    stem = model_stem(dataset, arch, method, tau, seed, kind=kind)
    return f"{stem}/{optimizer}" if kind == "lgv" else f"{stem}/lgv_{optimizer}"


def lgv_spec(wildcards):
    """build_collection's spec: the base model, its data set, the fine-tuning run, the seed."""
    ds = dataset_config(wildcards.dataset)
    settings = {k: v for k, v in ds["lgv"].items() if k not in ("bases", "optimizers")}
    settings.pop("members_per_step")  # an attack setting: it must not change the collection
    optimizer = wildcards.optimizer
    tau, mech_settings = None, {}
    if optimizer != "sgd":
        mech = ds["mechanisms"][optimizer]
        tau = mech["grid"][int(mech.get("table_tau") or 1) - 1]
        mech_settings = mech["settings"]
    spec = {
        "base": model_stem(
            wildcards.dataset, wildcards.arch, wildcards.method, wildcards.tau, wildcards.seed
        )
        + ".pt",
        "dataset": {"name": dataset_name(wildcards.dataset), "options": ds["options"]},
        "lgv": {"optimizer": optimizer, "tau": tau, "settings": mech_settings, **settings},
        "seed": int(wildcards.seed),
    }
    return json.dumps(spec, sort_keys=True)


def lgv_attack_spec(wildcards):
    ds = dataset_config(wildcards.dataset)
    spec = json.loads(evaluation_spec(wildcards))
    spec["members_per_step"] = ds["lgv"]["members_per_step"]
    return json.dumps(spec, sort_keys=True)


def table5_inputs(table):
    """Table V's [{csv, samples, surrogate, seed}]: each base row without LGV (its PGD
    transfer) and with each LGV optimizer (its collection's)."""
    tcfg = config["tables"][table]
    dataset = tcfg["dataset"]
    ds = dataset_config(dataset)
    entries = []
    for label, method, tau in lgv_bases(dataset):
        for optimizer in [None, *ds["lgv"]["optimizers"]]:
            for seed in ds["seeds"]:
                model = (dataset, ds["surrogate"], method, tau, seed)
                if optimizer is None:
                    stem = transfer_stem(*model, "pgd")
                else:
                    stem = f"{lgv_stem(*model, optimizer, kind='transfer')}/pgd"
                entries.append(
                    {
                        "csv": f"{stem}.csv",
                        "samples": f"{stem}.samples.csv.gz",
                        "surrogate": lgv_row_label(label, optimizer),
                        "seed": seed,
                    }
                )
    return entries


def table_seeds(table, dataset):
    """Surrogate seeds of an ASR table: Table XIII may use a subset (AutoAttack's cost)."""
    return config["tables"][table].get("seeds") or dataset_config(dataset)["seeds"]


def autoattack_evaluation(dataset):
    """The evaluation images AutoAttack runs on: Table XIII's n_samples subset, if any."""
    evaluation = dict(dataset_config(dataset)["evaluation"])
    tcfg = config["tables"].get("table13", {})
    if tcfg and dataset in table_datasets(tcfg) and tcfg.get("n_samples"):
        evaluation["n_samples"] = min(tcfg["n_samples"], evaluation["n_samples"])
    return evaluation


def autoattack_set_paths(dataset):
    """The HDF5 files of one AutoAttack job: untargeted only (the standard version)."""
    return [
        f"{RESULTS}/adversarial/{{dataset}}/{{arch}}/{{method}}/tau{{tau}}/seed{{seed}}/autoattack/untargeted-eps{eps}.h5"
        for eps in budgets(dataset)
    ]


def autoattack_outputs(dataset, paths):
    return attack_outputs(dataset, paths, ["untargeted"])


def autoattack_spec(wildcards):
    spec = json.loads(evaluation_spec(wildcards, "autoattack"))
    spec["evaluation"] = autoattack_evaluation(wildcards.dataset)
    return json.dumps(spec, sort_keys=True)


def crafted_attacks(dataset):
    """The attacks that attack_<dataset> crafts in every mode (all but AutoAttack)."""
    return [m for m in dataset_config(dataset)["attacks"]["methods"] if m != "autoattack"]


def table_attacks(table):
    """The attacks an ASR table shows: ``attacks``, else AutoAttack (XIII) or PGD."""
    return config["tables"][table].get("attacks", ["autoattack"] if table == "table13" else ["pgd"])


def asr_table_inputs(table, dataset=None):
    """[{csv, samples, surrogate, seed}] of every surrogate row × seed of an ASR table (of
    one of its data sets, or of all)."""
    if table == "table5":
        return table5_inputs(table)
    tcfg = config["tables"][table]
    if dataset is None:
        return [e for d in table_datasets(tcfg) for e in asr_table_inputs(table, d)]
    ds = dataset_config(dataset)
    entries = []
    for label, method, tau in table_rows(ds["mechanisms"], tcfg.get("surrogates")):
        for attack in table_attacks(table):
            for seed in table_seeds(table, dataset):
                stem = transfer_stem(dataset, ds["surrogate"], method, tau, seed, attack)
                entries.append(
                    {
                        "csv": f"{stem}.csv",
                        "samples": f"{stem}.samples.csv.gz",
                        "surrogate": label,
                        "seed": seed,
                    }
                )
    return entries


ASR_TABLE_TITLES = {
    "table2": "Table II: PGD transfer ASR",
    "table3": "Table III: PGD transfer ASR",
    "table4": "Table IV: PGD / MI / DIM transfer ASR",
    "table5": "Table V: PGD transfer ASR of LGV ensembles",
    "table13": "Table XIII: AutoAttack transfer ASR",
}


def asr_table_part(table, dataset):
    """One data set's part of an ASR table: its label, budgets, targets, inputs, note."""
    tcfg = config["tables"][table]
    default_budgets = budgets(dataset)
    if table == "table5":
        default_budgets = default_budgets[:2]  # the paper's Table V: 4/255 and 8/255
    note = ""
    if table == "table13":
        evaluation = autoattack_evaluation(dataset)
        note = (
            f"Subset (AutoAttack's cost): the first {evaluation['n_samples']} "
            f"{evaluation['split']} images and surrogate seeds {table_seeds(table, dataset)}. "
            "AutoAttack's float AEs are rounded to 8 bits and projected back onto the ε-ball "
            "where rounding left it; each file records the white-box FP before and after."
        )
    return {
        "dataset": DATASET_LABELS.get(dataset_name(dataset), dataset),
        "budgets": tcfg.get("budgets", default_budgets),
        "targets": dataset_config(dataset)["targets"],
        "inputs": asr_table_inputs(table, dataset),
        "note": note,
    }


def asr_table_spec(table):
    """The asr-table command's spec: one data set's keys at the top level, or (Table XIII
    on several data sets) one part per data set."""
    tcfg = config["tables"][table]
    parts = [asr_table_part(table, dataset) for dataset in table_datasets(tcfg)]
    spec = {
        "title": f"{ASR_TABLE_TITLES[table]} ({', '.join(p['dataset'] for p in parts)})",
        "lgv_rows": table == "table5",
        "attacks": table_attacks(table),
        "intervals": {k: config["claims"][k] for k in ("resamples", "seed")},
    }
    if len(parts) == 1:
        spec.update(parts[0])
    else:
        spec["note"] = ""
        spec["parts"] = parts
    return json.dumps(spec, sort_keys=True)


def table8_plan():
    """Table VIII's job: every surrogate row × seed (and the ★ row per column) with its stored
    PGD AE files at the table's budget, and the D′ target models."""
    tcfg = config["tables"]["table8"]
    dataset = tcfg["dataset"]
    ds = dataset_config(dataset)
    all_budgets = budgets(dataset)
    eps = tcfg.get("budget", all_budgets[len(all_budgets) // 2])
    seed_t = ds["target_seeds"][0]
    columns = table8_targets(ds["mechanisms"], tcfg["target_trainings"])
    targets = {
        label: model_stem(dataset, tcfg["target"], method, tau, seed_t) + ".pt"
        for label, method, tau in columns
    }

    def entry(label, method, tau, seed, wanted):
        model = (dataset, ds["surrogate"], method, tau, seed)
        folder = attack_name(dataset, method, tau, "pgd")
        files = [
            f"{model_stem(*model, kind='adversarial')}/{folder}/{mode}-eps{eps}.h5"
            for mode in config["modes"]
        ]
        return {
            "surrogate": label,
            "seed": seed,
            "model": model_stem(*model) + ".pt",
            "files": files,
            "targets": wanted,
        }

    entries = []
    rows = table8_rows(ds["mechanisms"], tcfg)
    for index, (label, method, tau) in enumerate(rows):
        entries += [entry(label, method, tau, seed, list(targets)) for seed in ds["seeds"]]
        if index == 0:  # the paper prints the ★ row right after ST
            entries += [
                entry("same as target", m, t, seed, [column])
                for column, m, t in columns
                for seed in ds["seeds"]
            ]
    return {
        "dataset": dataset,
        "label": DATASET_LABELS.get(dataset_name(dataset), dataset),
        "entries": entries,
        "targets": targets,
    }


def table8_spec():
    plan = table8_plan()
    ds = dataset_config(plan["dataset"])
    spec = {
        "label": plan["label"],
        "entries": plan["entries"],
        "targets": plan["targets"],
        "dataset": {"name": dataset_name(plan["dataset"]), "options": ds["options"]},
        "evaluation": ds["evaluation"],
        "batch_size": ds["attacks"]["batch_size"],
    }
    return json.dumps(spec, sort_keys=True)


def table8_inputs():
    plan = table8_plan()
    files = [f for e in plan["entries"] for f in (e["model"], *e["files"])]
    return sorted(set(files)) + list(plan["targets"].values())


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
    if "table7" in config["tables"]:
        tcfg = config["tables"]["table7"]
        dataset = tcfg["dataset"]
        for method, tau in tcfg["target_trainings"].items():
            seed = dataset_config(dataset)["target_seeds"][0]
            label = (
                tcfg["target"]
                if method == "st"
                else f"{tcfg['target']} {MECHANISMS.get(method).label}"
            )
            entries.append(
                {
                    "record": model_stem(dataset, tcfg["target"], method, tau, seed) + ".json",
                    "model": label,
                    "role": "target",
                    "arch": tcfg["target"],
                }
            )
    if "table8" in config["tables"]:
        tcfg = config["tables"]["table8"]
        dataset = tcfg["dataset"]
        seed = dataset_config(dataset)["target_seeds"][0]
        mechanisms = dataset_config(dataset)["mechanisms"]
        for label, method, tau in table8_targets(mechanisms, tcfg["target_trainings"]):
            entries.append(
                {
                    "record": model_stem(dataset, tcfg["target"], method, tau, seed) + ".json",
                    "model": f"{tcfg['target']} {label}",
                    "role": "target",
                    "arch": tcfg["target"],
                }
            )
    # A model listed twice (a target that is also a Table VII target) keeps its first entry.
    unique = {}
    for entry in entries:
        unique.setdefault(entry["record"], entry)
    return list(unique.values())


# ---- params slices: each job sees only the config it depends on ----------------------


def training_spec(wildcards):
    ds = dataset_config(wildcards.dataset)
    arch = dict(ds["architectures"][wildcards.arch])
    training = {**ds["training"], **arch.pop("training", {})}
    # compile: an execution option (params.compile), not part of the model's spec;
    # precision: only where it changes the arithmetic, so fp32 specs are as before.
    training.pop("compile", None)
    if training.get("precision") == "fp32" or MECHANISMS.get(wildcards.method).fp32_only:
        training.pop("precision", None)
    mech = ds["mechanisms"][wildcards.method]
    tau_index = int(wildcards.tau)
    if not 1 <= tau_index <= len(mech["grid"]):
        raise WorkflowError(
            f"tau{tau_index}: datasets.{wildcards.dataset}.mechanisms.{wildcards.method}.grid "
            f"has {len(mech['grid'])} value(s); allowed tau: 1..{len(mech['grid'])}"
        )
    spec = {
        "dataset": {"name": dataset_name(wildcards.dataset), "options": ds["options"]},
        "architecture": arch,
        "training": training,
        "mechanism": {
            "name": wildcards.method,
            "tau_index": tau_index,
            "tau": mech["grid"][tau_index - 1],
            "settings": mech["settings"],
        },
        "seed": int(wildcards.seed),
    }
    return json.dumps(spec, sort_keys=True)


DATASET_LABELS = {"digits": "Digits", "cifar10": "CIFAR-10", "imagenette": "ImageNette"}


def evaluation_spec(wildcards, attack=None):
    ds = dataset_config(wildcards.dataset)
    attack = attack or wildcards.attack
    spec = {
        "dataset": {"name": dataset_name(wildcards.dataset), "options": ds["options"]},
        "evaluation": ds["evaluation"],
        "batch_size": ds["attacks"]["batch_size"],
        "attack": {"name": attack, "settings": ds["attacks"]["methods"][attack]},
        "seed": ds["attacks"]["seed"],
    }
    if ds["attacks"].get("precision", "fp32") != "fp32":
        spec["precision"] = ds["attacks"]["precision"]
    return json.dumps(spec, sort_keys=True)


def target_model_paths(wildcards):
    ds = dataset_config(wildcards.dataset)
    seed = ds["target_seeds"][0]
    return {
        arch: model_stem(wildcards.dataset, arch, "st", 1, seed) + ".pt" for arch in ds["targets"]
    }


def dataset_options(wildcards):
    return json.dumps(dataset_config(wildcards.dataset)["options"], sort_keys=True)


def gpu_count(wildcards):
    return 0 if config["device"] == "cpu" else 1


def compile_flag(wildcards):
    ds = dataset_config(wildcards.dataset)
    arch = ds["architectures"][wildcards.arch]
    training = {**ds["training"], **arch.get("training", {})}
    return "--compile" if training.get("compile", False) else ""


# ---- comparison with the paper ------------------------------------------------------


def paper_rows(table):
    """JSON {dataset label: {our row label: the paper's}} of one compared table ("null":
    rows already use the paper's labels)."""
    if table in ("table2", "table3", "table4", "table13"):
        tcfg = config["tables"][table]
        datasets = {dataset: tcfg.get("surrogates") for dataset in table_datasets(tcfg)}
    elif table == "table12":
        datasets = {dataset: None for dataset in config["datasets"]}
    else:
        return "null"
    rows = {}
    for dataset, only in datasets.items():
        mechanisms = dataset_config(dataset)["mechanisms"]
        mapping = {}
        for label, method, tau in table_rows(mechanisms, only):
            grid = mechanisms[method]["grid"]
            # Table XII names every model by its own tau; Tables II-IV by the row label.
            ours = surrogate_label(method, tau, grid) if table == "table12" else label
            mapping[ours] = paper_row_label(label, tau, len(grid))
        rows[DATASET_LABELS.get(dataset_name(dataset), dataset)] = mapping
    return json.dumps(rows, sort_keys=True)


def paper_budgets(table):
    """JSON {dataset label: {our eps label: the paper's}} of one compared table: each data
    set's budgets mapped onto the paper's by position (transferlab.compare.budget_map);
    "null" for tables without budgets."""
    if table in ("table7", "table8", "table12"):
        return "null"  # no eps column (Table VIII prints one budget)
    if table in config["tables"]:
        datasets = table_datasets(config["tables"][table])
    else:
        datasets = list(config["datasets"])
    return json.dumps(
        {
            DATASET_LABELS.get(dataset_name(ds), ds): budget_map(table, budgets(ds))
            for ds in datasets
        },
        sort_keys=True,
    )


def paper_csvs(wildcards):
    return sorted(
        str(p) for p in (LIBRARY / "reference" / "paper").glob(f"{wildcards.table}_*.csv")
    )
