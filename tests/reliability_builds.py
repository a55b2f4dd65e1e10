"""The reliability battery's shared build: one uninterrupted Snakemake build on a
one-seed, ST-only digits configuration (a surrogate, its target, their attack, measure
and similarity jobs, Tables II and XII), creation times fixed by SOURCE_DATE_EPOCH.
The kill points take it as the reference bytes, the determinism test builds it again,
the bad-input tests corrupt copies of its files."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest

from tests.conftest import TINY_CONFIG
from tests.workflow_runner import snakemake

MODEL = "results/models/digits/ResNet18/st/tau1/seed0"
TARGET = "results/models/digits/VGG16/st/tau1/seed0.pt"
ATTACK = "results/transfer/digits/ResNet18/st/tau1/seed0/pgd"
AE_DIR = "results/adversarial/digits/ResNet18/st/tau1/seed0/pgd"
GRADIENTS = "results/metrics/gradients/digits/ResNet18/st/tau1/seed0.pt"
TARGET_GRADIENTS = "results/metrics/gradients/digits/VGG16/st/tau1/seed0.pt"
FIXED_TIME = {"SOURCE_DATE_EPOCH": "0"}
# every job kind the battery needs (Figs. 3-11 need mechanism rows, so not rule all)
TARGETS = (
    f"{ATTACK}.csv",
    GRADIENTS,
    TARGET_GRADIENTS,
    "results/metrics/similarity/digits/targets.csv",
    "results/tables/table2.csv",
    "results/tables/table12.csv",
)


def mini_config() -> dict:
    config = copy.deepcopy(TINY_CONFIG)
    digits = config["datasets"]["digits"]
    digits["seeds"] = [0]
    digits["mechanisms"] = {"st": {"grid": [None]}}
    digits["training"]["epochs"] = 3
    config["tables"] = {"table2": {"dataset": "digits"}}
    return config


def shell_commands(workdir: Path, config: dict) -> list[dict]:
    """{rule, outputs, command} of every job of a forced dry run: the command lines
    Snakemake runs."""
    proc = snakemake(workdir, config, "-n", "-p", "--forceall", *TARGETS)
    jobs, rule, outputs = [], None, []
    for line in (proc.stdout + proc.stderr).splitlines():
        text = line.strip()
        if text.startswith("rule ") and text.endswith(":"):
            # the attack rule is generated per data set (attack_<dataset>): name the stage
            rule = re.sub(r"^attack_[a-z0-9]+(_untargeted|_targeted)?$", "attack", text[5:-1])
        elif text.startswith("output:"):
            outputs = [p.strip() for p in text[len("output:") :].split(",")]
        elif text.startswith("Shell command:"):
            jobs.append({"rule": rule, "outputs": outputs, "command": text[14:].strip()})
    return jobs


def results_snapshot(workdir: Path) -> dict[str, bytes]:
    """Every result file's bytes (logs and benchmarks hold times, not results)."""
    skip = ("results/logs/", "results/benchmarks/")
    return {
        str(p.relative_to(workdir)): p.read_bytes()
        for p in sorted((workdir / "results").rglob("*"))
        if p.is_file() and not str(p.relative_to(workdir)).startswith(skip)
    }


def build(workdir: Path) -> dict:
    workdir.mkdir(parents=True, exist_ok=True)
    config = mini_config()
    snakemake(workdir, config, *TARGETS, env=FIXED_TIME)
    return {"workdir": workdir, "config": config, "files": results_snapshot(workdir)}


@pytest.fixture(scope="session")
def mini_build(tmp_path_factory: pytest.TempPathFactory) -> dict:
    built = build(tmp_path_factory.mktemp("mini-build"))
    built["jobs"] = shell_commands(built["workdir"], built["config"])
    return built
