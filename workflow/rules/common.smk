# Helpers shared by every stage: config validation, the model grid, paths, params slices.
import json
from pathlib import Path

from snakemake.utils import validate

from transferlab.config import ConfigError, check_config, surrogate_label

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


RESULTS = "results"
LIBRARY = Path(workflow.basedir) / "src" / "transferlab"


def library_sources(*modules):
    """The library files a stage imports: edits to them re-run that stage (Snakemake
    does not follow imports)."""
    paths = []
    for module in ("__init__", "registry", "checkpoints", *modules):
        package = LIBRARY / module
        if package.is_dir():
            paths += sorted(str(p) for p in package.glob("*.py"))
        else:
            paths.append(str(LIBRARY / f"{module}.py"))
    return paths


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


def model_stem(dataset, arch, method, tau, seed):
    return f"{RESULTS}/models/{dataset}/{arch}/{method}/tau{tau}/seed{seed}"


def model_label(dataset, arch, method, tau, role):
    if role == "target":
        return arch
    return surrogate_label(method, int(tau), mechanism_grid(dataset, method))


def all_targets():
    return [f"{RESULTS}/tables/table12.csv"]


# ---- params slices: each job sees only the config it depends on ----------------------


def training_spec(wildcards):
    ds = dataset_config(wildcards.dataset)
    arch = dict(ds["architectures"][wildcards.arch])
    training = {**ds["training"], **arch.pop("training", {})}
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


def dataset_options(wildcards):
    return json.dumps(dataset_config(wildcards.dataset)["options"], sort_keys=True)


def gpu_count(wildcards):
    return 0 if config["device"] == "cpu" else 1
