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
    snakemake(workdir, TINY_CONFIG, "results/tables/table12.csv", "results/tables/table2.csv")
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


def test_table2_has_every_row_budget_mode_and_target(built) -> None:
    table = pd.read_csv(built / "results/tables/table2.csv")
    expected_columns = [
        "dataset", "surrogate", "attack", "mode", "eps", "target",
        "asr_mean", "asr_std", "asr_def3_mean", "asr_def3_std", "n_seeds",
    ]  # fmt: skip
    assert list(table.columns) == expected_columns
    assert list(pd.unique(table["surrogate"])) == ["ST", "LS tau=1", "LS tau=2"]
    assert len(table) == 3 * 2 * 2 * 1
    assert set(table["eps"]) == {"4/255", "16/255"} and set(table["target"]) == {"VGG16"}
    assert table["asr_mean"].between(0, 100).all()
    sets = sorted(p.name for p in (built / "results/adversarial").rglob("*.h5"))
    assert len(sets) == 3 * 2 * 2
    assert (built / "results/tables/table2.md").read_text().startswith("# Table II")


def test_second_run_does_nothing(built, tiny_config) -> None:
    proc = snakemake(
        built, tiny_config, "-n", "results/tables/table12.csv", "results/tables/table2.csv"
    )
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_editing_one_tau_reruns_only_that_model_and_tables(built, tiny_config) -> None:
    tiny_config["datasets"]["digits"]["mechanisms"]["ls"]["grid"][1] = 0.3
    outputs = dry_run_outputs(
        built, tiny_config, "results/tables/table12.csv", "results/tables/table2.csv"
    )
    trained = sorted(p for p in outputs if p.endswith(".pt"))
    assert trained == ["results/models/digits/ResNet18/ls/tau2/seed0.pt"]
    assert "results/tables/table12.csv" in outputs and "results/tables/table2.csv" in outputs
    downstream = {p.split("/seed0/")[0] for p in outputs if "/seed0/" in p}
    assert downstream == {
        "results/adversarial/digits/ResNet18/ls/tau2",
        "results/transfer/digits/ResNet18/ls/tau2",
    }


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
