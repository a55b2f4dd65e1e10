"""Bad configurations stop Snakemake before any job, naming the key and allowed values."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.workflow_runner import snakemake

pytestmark = pytest.mark.integration


def ds(cfg: dict[str, Any]) -> dict[str, Any]:
    return cfg["datasets"]["digits"]


CASES: list[tuple[str, Callable[[dict[str, Any]], None], list[str]]] = [
    ("unknown top-level key", lambda c: c.update(epochz=3), ["epochz"]),
    ("unknown nested key", lambda c: ds(c)["training"].update(lr_max=1), ["lr_max"]),
    ("wrong type", lambda c: ds(c)["training"].update(epochs="ten"), ["epochs", "ten"]),
    ("non-positive epochs", lambda c: ds(c)["training"].update(epochs=0), ["epochs", "0"]),
    (
        "unknown architecture",
        lambda c: ds(c)["architectures"]["VGG16"].update(arch="vgg17"),
        ["architectures.VGG16.arch", "vgg17", "vgg16"],
    ),
    (
        "unknown mechanism",
        lambda c: ds(c)["mechanisms"].update(mixupp={"grid": [0.1]}),
        ["mechanisms.mixupp", "allowed", "st"],
    ),
    (
        "unknown data set",
        lambda c: ds(c).update(name="mnist"),
        ["datasets.digits.name", "mnist", "cifar10"],
    ),
    (
        "tau value out of range",
        lambda c: ds(c)["mechanisms"]["ls"].update(grid=[0.1, 1.5]),
        ["mechanisms.ls.grid[1]", "1.5", "allowed"],
    ),
    (
        "tau index out of range",
        lambda c: ds(c)["mechanisms"]["ls"].update(table_tau=3),
        ["mechanisms.ls.table_tau", "1..2"],
    ),
    (
        "target not an architecture",
        lambda c: ds(c).update(targets=["VGG19"]),
        ["datasets.digits.targets", "VGG19", "ResNet18"],
    ),
    (
        "per-architecture training override that cannot work",
        lambda c: ds(c)["architectures"]["VGG16"].update(training={"epochs": 1}),
        ["datasets.digits.architectures.VGG16.training", "warmup_epochs (1)", "epochs (1)"],
    ),
    (
        "attack with zero steps",
        lambda c: ds(c)["attacks"]["methods"]["pgd"].update(steps=0),
        ["datasets.digits.attacks.methods.pgd.steps", ">= 1"],
    ),
    (
        "unknown training precision",
        lambda c: ds(c)["training"].update(precision="fp16"),
        ["precision", "fp16", "bf16"],
    ),
    (
        "unknown attack precision",
        lambda c: ds(c)["attacks"].update(precision="half"),
        ["precision", "half", "fp32"],
    ),
    ("duplicate budgets", lambda c: c.update(budgets=[4, 16, 4]), ["budgets", "[4]", "once"]),
    (
        "table7 surrogate tau out of range",
        lambda c: c["tables"]["table7"].update(surrogate_tau={"at": 3}),
        ["tables.table7.surrogate_tau.at", "1..2"],
    ),
    (
        "Table XIII given one and several data sets",
        lambda c: c["tables"]["table13"].update(datasets=["digits"]),
        ["tables.table13", "either dataset", "datasets", "both"],
    ),
    (
        "Table XIII on an unknown data set",
        lambda c: c["tables"].update(table13={"datasets": ["digits", "cifar"], "n_samples": 8}),
        ["tables.table13.datasets", "'cifar'", "allowed: digits"],
    ),
]


@pytest.mark.parametrize(("name", "edit", "expected"), CASES, ids=[c[0] for c in CASES])
def test_bad_config_stops_before_any_job(tmp_path, tiny_config, name, edit, expected) -> None:
    edit(tiny_config)
    proc = snakemake(tmp_path, tiny_config, "results/tables/table12.csv", check=False)
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0, text
    for fragment in expected:
        assert fragment in text, f"{fragment!r} missing from:\n{text}"
    assert not (tmp_path / "results").exists(), "a job ran despite the bad config"
