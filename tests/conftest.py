"""Shared fixtures: the repository root and a tiny digits configuration."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]

# the reliability battery's ledger, which writes docs/reliability.md
pytest_plugins = ["tests.reliability_ledger"]

# Tiny but real: every stage of the pipeline on 8x8 digits in seconds.
TINY_CONFIG: dict[str, Any] = {
    "device": "cpu",
    "threads": 1,
    "datasets": {
        "digits": {
            "options": {"size": 8},
            "seeds": [0, 1],
            "target_seeds": [0],
            "architectures": {
                "ResNet18": {"arch": "resnet18", "width": 0.125},
                "VGG16": {"arch": "vgg16", "width": 0.125},
            },
            "surrogate": "ResNet18",
            "targets": ["VGG16"],
            "training": {"epochs": 2, "warmup_epochs": 1, "lr": 0.05, "batch_size": 128},
            "mechanisms": {
                "st": {"grid": [None]},
                "ls": {"grid": [0.1, 0.2]},
                "at": {"grid": [0.1, 0.5], "table_tau": 2, "settings": {"steps": 1}},
                "sam": {"grid": [0.05]},
            },
            "metrics": {"n_samples": 16, "batch_size": 16},
            "evaluation": {"split": "test", "n_samples": 24},
            "attacks": {"batch_size": 24, "methods": {"pgd": {"steps": 3}, "autoattack": {}}},
            "lgv": {"bases": ["st"], "optimizers": ["sgd"], "epochs": 1, "per_epoch": 2},
        }
    },
    "budgets": [4, 16],
    "modes": ["untargeted", "targeted"],
    "tables": {
        "table2": {"dataset": "digits"},
        "table5": {"dataset": "digits"},
        "table7": {
            "dataset": "digits",
            "target": "VGG16",
            "target_trainings": {"st": 1, "ls": 1, "at": 1},
        },
        "table13": {"dataset": "digits", "seeds": [0], "n_samples": 8},
        "table8": {
            "dataset": "digits",
            "target": "VGG16",
            "target_trainings": [["at", 1], ["at", 2], ["ls", 1]],
        },
    },
}


@pytest.fixture
def tiny_config() -> dict[str, Any]:
    return copy.deepcopy(TINY_CONFIG)


@pytest.fixture(scope="session")
def tiny_workflow_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One full build of rule all (every table, figure, comparison and report page) on
    TINY_CONFIG, shared by the integration tests that only read it or dry-run on it."""
    from tests.workflow_runner import snakemake

    workdir = tmp_path_factory.mktemp("tiny")
    # Every job appends the transferlab modules it imported (tests/test_code_digest.py).
    # SOURCE_DATE_EPOCH: fixed creation times, so tests/test_reliability_determinism.py can
    # compare a second build byte for byte.
    env = {"TRANSFERLAB_IMPORT_LOG": str(workdir / "imports.jsonl"), "SOURCE_DATE_EPOCH": "0"}
    snakemake(workdir, TINY_CONFIG, env=env)
    return workdir


@pytest.fixture(autouse=True)
def _single_thread() -> None:
    # Two noisy cores: keep each test process on one thread so tests don't fight.
    torch.set_num_threads(1)


def subprocess_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO / "src") + os.pathsep + env.get("PYTHONPATH", "")
    env["OMP_NUM_THREADS"] = "1"
    return env
