# Helpers shared by every stage: config validation, the model grid, paths, params slices.
import json
from pathlib import Path

from snakemake.utils import validate

from transferlab import code_digest

from transferlab.config import (
    ConfigError,
    check_config,
    paper_row_label,
    surrogate_label,
    table7_rows,
    table7_surrogate_taus,
    table_rows,
)
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


RESULTS = "results"
LIBRARY = Path(workflow.basedir) / "src" / "transferlab"


def command_digest(command):
    """params.code for ``python -m transferlab <command>``, a digest of every library module
    the command can import, read from the import statements (transferlab.code_digest)."""
    return code_digest.command_digest(command, LIBRARY)


def dataset_config(dataset):
    return config["datasets"][dataset]


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
    return tables + figures + compare + report_pages()


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
    return f"{model_stem(dataset, arch, method, tau, seed, kind='transfer')}/{attack}"


def asr_table_inputs(table):
    """[{csv, surrogate, seed}] of every surrogate row × seed of an ASR table."""
    tcfg = config["tables"][table]
    dataset = tcfg["dataset"]
    ds = dataset_config(dataset)
    entries = []
    for label, method, tau in table_rows(ds["mechanisms"], tcfg.get("surrogates")):
        for attack in tcfg.get("attacks", ["pgd"]):
            for seed in ds["seeds"]:
                stem = transfer_stem(dataset, ds["surrogate"], method, tau, seed, attack)
                entries.append({"csv": f"{stem}.csv", "surrogate": label, "seed": seed})
    return entries


def asr_table_spec(table):
    tcfg = config["tables"][table]
    ds = dataset_config(tcfg["dataset"])
    titles = {
        "table2": "Table II: PGD transfer ASR",
        "table3": "Table III: PGD transfer ASR",
        "table4": "Table IV: PGD / MI / DIM transfer ASR",
    }
    label = DATASET_LABELS.get(dataset_name(tcfg["dataset"]), tcfg["dataset"])
    return json.dumps(
        {
            "title": f"{titles[table]} ({label})",
            "dataset": label,
            "attacks": tcfg.get("attacks", ["pgd"]),
            "budgets": tcfg.get("budgets", config["budgets"]),
            "targets": ds["targets"],
            "inputs": asr_table_inputs(table),
        },
        sort_keys=True,
    )


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


def evaluation_spec(wildcards):
    ds = dataset_config(wildcards.dataset)
    spec = {
        "dataset": {"name": dataset_name(wildcards.dataset), "options": ds["options"]},
        "evaluation": ds["evaluation"],
        "batch_size": ds["attacks"]["batch_size"],
        "attack": {
            "name": wildcards.attack,
            "settings": ds["attacks"]["methods"][wildcards.attack],
        },
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
    if table in ("table2", "table3", "table4"):
        tcfg = config["tables"][table]
        datasets = {tcfg["dataset"]: tcfg.get("surrogates")}
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


def paper_csvs(wildcards):
    return sorted(
        str(p) for p in (LIBRARY / "reference" / "paper").glob(f"{wildcards.table}_*.csv")
    )
