"""Integration: the real Snakefile on a tiny digits configuration."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.workflow_runner import dry_run_outputs, snakemake

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One full build of Table XII, shared by the tests that inspect it."""
    from tests.conftest import TINY_CONFIG

    workdir = tmp_path_factory.mktemp("tiny")
    snakemake(workdir, TINY_CONFIG, "results/tables/table12.csv")
    return workdir


def test_table12_is_built_with_every_model(built) -> None:
    table = pd.read_csv(built / "results/tables/table12.csv")
    assert set(table["dataset"]) == {"Digits"}
    assert list(table["model"]) == ["ST", "LS tau=1", "LS tau=2", "VGG16"]
    assert {"train_acc_mean", "test_acc_mean", "gen_gap_std", "n_seeds"} <= set(table.columns)
    gap = table["train_acc_mean"] - table["test_acc_mean"]
    assert (gap - table["gen_gap_mean"]).abs().max() < 1e-3
    assert (built / "results/tables/table12.md").read_text().startswith("# Table XII")
    log = built / "results/logs/train/digits/ResNet18/st/tau1/seed0.log"
    assert "epoch 2/2" in log.read_text()


def test_second_run_does_nothing(built, tiny_config) -> None:
    proc = snakemake(built, tiny_config, "-n", "results/tables/table12.csv")
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_editing_one_tau_reruns_only_that_model_and_tables(built, tiny_config) -> None:
    tiny_config["datasets"]["digits"]["mechanisms"]["ls"]["grid"][1] = 0.3
    outputs = dry_run_outputs(built, tiny_config, "results/tables/table12.csv")
    trained = sorted(p for p in outputs if p.endswith(".pt"))
    assert trained == ["results/models/digits/ResNet18/ls/tau2/seed0.pt"]
    assert "results/tables/table12.csv" in outputs


def test_editing_a_library_module_reruns_the_stages_using_it(built, tiny_config) -> None:
    import os
    import time

    from tests.conftest import REPO

    tables = REPO / "src/transferlab/tables.py"
    stat = tables.stat()
    try:
        os.utime(tables, (stat.st_atime, time.time() + 5))
        outputs = dry_run_outputs(built, tiny_config, "results/tables/table12.csv")
    finally:
        os.utime(tables, (stat.st_atime, stat.st_mtime))
    assert "results/tables/table12.csv" in outputs
    assert not any(p.endswith(".pt") for p in outputs)
