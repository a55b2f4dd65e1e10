# Shared by every stage: config validation, wildcard constraints, and thin get_* wrappers
# over the plan (transferlab.plan: the model grid, paths and params slices, unit-tested).
import json
from pathlib import Path

from snakemake.utils import validate

from transferlab import code_digest, forkserver
from transferlab.transfer.modes import attack_job_name
from transferlab.config.checks import ConfigError, check_config
from transferlab.config.rows import table_datasets
from transferlab.report.figures import FIGURES
from transferlab.plan import Plan, outputs, specs, tables

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


PLAN = Plan(config, RESULTS)


def stem(kind):
    """One model's path stem under results/<kind>, with the model's wildcards."""
    return PLAN.wildcard_stem(kind)


def get_dataset_label(wildcards):
    return PLAN.dataset_label(wildcards.dataset)


def get_training_spec(wildcards):
    try:
        return specs.training_spec(PLAN, *model_of(wildcards))
    except ConfigError as err:
        raise WorkflowError(str(err)) from None


def model_of(wc):
    return wc.dataset, wc.arch, wc.method, wc.tau, wc.seed


def get_compile_flag(wildcards):
    return specs.compile_flag(PLAN, wildcards.dataset, wildcards.arch)


def get_evaluation_spec(wildcards):
    return specs.evaluation_spec(PLAN, wildcards.dataset, wildcards.attack)


def get_autoattack_spec(wildcards):
    return specs.autoattack_spec(PLAN, wildcards.dataset)


def get_lgv_spec(wildcards):
    return specs.lgv_spec(PLAN, *model_of(wildcards), wildcards.optimizer)


def get_lgv_attack_spec(wildcards):
    return specs.lgv_attack_spec(PLAN, wildcards.dataset, wildcards.attack)


def get_metrics_spec(wildcards):
    return specs.metrics_spec(PLAN, wildcards.dataset)


def get_figures_spec(wildcards):
    return specs.figures_spec(PLAN, wildcards.dataset)


def get_similarity_models(wildcards):
    return specs.similarity_models(PLAN, wildcards.dataset, wildcards.kind)


def get_target_models(wildcards):
    return PLAN.target_model_paths(wildcards.dataset)


def get_dataset_options(wildcards):
    return json.dumps(PLAN.dataset(wildcards.dataset)["options"], sort_keys=True)


def get_paper_csvs(wildcards):
    return outputs.paper_csvs(wildcards.table, LIBRARY / "compare" / "reference" / "paper")


def gpu_count(wildcards):
    return 0 if config["device"] == "cpu" else 1


BUILT_TABLES = outputs.built_tables(PLAN)
ASR_TABLES = [t for t in tables.ASR_TABLES if t in config["tables"]]
