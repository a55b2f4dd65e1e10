"""Shared fixtures: the repository root and a tiny digits configuration."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest
import torch
import yaml

REPO = Path(__file__).resolve().parents[1]

# the reliability battery's ledger, which writes docs/reliability.md
pytest_plugins = ["tests.reliability_ledger"]

# Tiny but real: every stage of the pipeline on 8x8 digits in seconds. A YAML file, so a
# person can run it by hand: snakemake --cores 2 --configfile tests/tiny.yaml
TINY_CONFIG: dict[str, Any] = yaml.safe_load((REPO / "tests" / "tiny.yaml").read_text())


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
