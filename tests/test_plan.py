"""The plan (transferlab.plan) on the tiny configuration: counts and paths derived by hand
from tests/tiny.yaml, and the params-slice property (a job's spec changes only with the
config it depends on)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from snakemake.utils import validate

from tests.conftest import REPO, TINY_CONFIG
from transferlab.config.checks import ConfigError, check_config
from transferlab.plan import Plan, outputs, specs, tables

SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"


def validated(config: dict[str, Any]) -> dict[str, Any]:
    config = copy.deepcopy(config)
    validate(config, str(SCHEMA), set_default=True)
    check_config(config)
    return config


@pytest.fixture
def plan() -> Plan:
    return Plan(validated(TINY_CONFIG))


def test_model_grid_of_the_tiny_config(plan: Plan) -> None:
    # st 1 + ls 2 + at 2 + sam 1 = 6 tau values, x 2 seeds
    surrogates = plan.surrogate_models("digits")
    assert len(surrogates) == 12
    assert ("ResNet18", "at", 2, 1) in surrogates
    assert plan.target_models("digits") == [("VGG16", "st", 1, 0)]
    assert plan.budgets("digits") == [4, 16]  # the top-level budgets: digits has none
    assert plan.dataset_label("digits") == "Digits"


def test_paths_follow_one_template(plan: Plan) -> None:
    assert plan.model_stem("digits", "ResNet18", "ls", 2, 1) == (
        "results/models/digits/ResNet18/ls/tau2/seed1"
    )
    assert plan.model_stem("digits", "VGG16", "st", "1", "0", kind="metrics/smoothness") == (
        "results/metrics/smoothness/digits/VGG16/st/tau1/seed0"
    )
    stem = "results/adversarial/{dataset}/{arch}/{method}/tau{tau}/seed{seed}"
    assert plan.attack_set_paths("digits") == [
        f"{stem}/{{attack}}/untargeted-eps4.h5",
        f"{stem}/{{attack}}/untargeted-eps16.h5",
        f"{stem}/{{attack}}/targeted-eps4.h5",
        f"{stem}/{{attack}}/targeted-eps16.h5",
    ]
    assert plan.attack_set_paths("digits", ["untargeted"])[0] == (
        f"{stem}/{{attack}}.untargeted/untargeted-eps4.h5"
    )
    assert plan.autoattack_set_paths("digits") == [
        f"{stem}/autoattack/untargeted-eps4.h5",
        f"{stem}/autoattack/untargeted-eps16.h5",
    ]


def test_attack_jobs_craft_every_mode_only_for_table_rows(plan: Plan) -> None:
    # Table II rows: st 1, ls 1 and 2 (an augmentation: first and last tau), at 2
    # (table_tau), sam 1; Table VIII adds at 1.
    for method, tau in [("st", 1), ("ls", 1), ("ls", 2), ("at", 2), ("sam", 1), ("at", 1)]:
        assert plan.attack_name("digits", method, tau, "pgd") == "pgd"
    edited = copy.deepcopy(TINY_CONFIG)
    edited["datasets"]["digits"]["mechanisms"]["ls"]["grid"] = [0.1, 0.2, 0.3]
    wider = Plan(validated(edited))  # LS rows: tau 1 and 3; no table reads tau 2
    assert wider.attack_name("digits", "ls", 2, "pgd") == "pgd.untargeted"
    assert wider.attack_name("digits", "ls", 3, "pgd") == "pgd"
    assert wider.attack_name("digits", "ls", 2, "autoattack") == "autoattack"
    outputs_json = json.loads(plan.attack_outputs("digits", ["a", "b"], ["untargeted"]))
    assert outputs_json == [
        {"path": "a", "mode": "untargeted", "eps": 4},
        {"path": "b", "mode": "untargeted", "eps": 16},
    ]


def test_training_spec_holds_only_its_slice_of_the_config(plan: Plan) -> None:
    spec = json.loads(specs.training_spec(plan, "digits", "ResNet18", "at", "2", "1"))
    assert spec["mechanism"]["tau"] == 0.5 and spec["mechanism"]["tau_index"] == 2
    assert spec["mechanism"]["settings"] == {"steps": 1}
    assert spec["seed"] == 1 and spec["dataset"] == {"name": "digits", "options": {"size": 8}}
    edited = copy.deepcopy(TINY_CONFIG)
    edited["datasets"]["digits"]["mechanisms"]["sam"]["grid"] = [0.1]
    edited["datasets"]["digits"]["attacks"]["methods"]["pgd"]["steps"] = 5
    other = Plan(validated(edited))
    for key in [("ls", 2, 0), ("at", 1, 1), ("st", 1, 0)]:
        method, tau, seed = key
        before = specs.training_spec(plan, "digits", "ResNet18", method, tau, seed)
        assert specs.training_spec(other, "digits", "ResNet18", method, tau, seed) == before
    assert specs.training_spec(other, "digits", "ResNet18", "sam", 1, 0) != (
        specs.training_spec(plan, "digits", "ResNet18", "sam", 1, 0)
    )
    assert specs.evaluation_spec(other, "digits", "pgd") != specs.evaluation_spec(
        plan, "digits", "pgd"
    )


def test_training_spec_names_the_grid_of_a_tau_out_of_range(plan: Plan) -> None:
    with pytest.raises(ConfigError, match=r"datasets\.digits\.mechanisms\.ls\.grid.*1\.\.2"):
        specs.training_spec(plan, "digits", "ResNet18", "ls", 3, 0)


def test_asr_table_inputs(plan: Plan) -> None:
    table2 = tables.asr_table_inputs(plan, "table2")
    assert len(table2) == 5 * 2  # rows ST, LS tau=1, LS tau=2, AT, SAM x 2 seeds
    assert table2[0] == {
        "csv": "results/transfer/digits/ResNet18/st/tau1/seed0/pgd.csv",
        "samples": "results/transfer/digits/ResNet18/st/tau1/seed0/pgd.samples.csv.gz",
        "surrogate": "ST",
        "seed": 0,
    }
    table13 = tables.asr_table_inputs(plan, "table13")
    assert [e["seed"] for e in table13] == [0] * 5  # Table XIII's seed subset
    assert all(e["csv"].endswith("/autoattack.csv") for e in table13)
    assert plan.autoattack_evaluation("digits")["n_samples"] == 8  # min(8, 24)
    spec = json.loads(tables.asr_table_spec(plan, "table13"))
    assert "first 8 test images" in spec["note"]
    # Table V: 1 base (st) x (no LGV + sgd) x 2 seeds
    table5 = tables.asr_table_inputs(plan, "table5")
    assert [e["surrogate"] for e in table5] == ["ST"] * 2 + ["ST + LGV-SGD"] * 2
    assert table5[2]["csv"] == "results/transfer/digits/ResNet18/st/tau1/seed0/lgv_sgd/pgd.csv"


def test_table8_reads_the_middle_budget_and_the_star_row(plan: Plan) -> None:
    table = tables.table8_plan(plan)
    assert table["targets"] == {
        "AT eps=0.1": "results/models/digits/VGG16/at/tau1/seed0.pt",
        "AT eps=0.5": "results/models/digits/VGG16/at/tau2/seed0.pt",
        "LS": "results/models/digits/VGG16/ls/tau1/seed0.pt",
    }
    first = table["entries"][0]
    assert first["files"] == [
        "results/adversarial/digits/ResNet18/st/tau1/seed0/pgd/untargeted-eps16.h5",
        "results/adversarial/digits/ResNet18/st/tau1/seed0/pgd/targeted-eps16.h5",
    ]
    star = [e for e in table["entries"] if e["surrogate"] == "same as target"]
    assert len(star) == 3 * 2 and all(len(e["targets"]) == 1 for e in star)


def test_table12_lists_each_model_once(plan: Plan) -> None:
    records = [e["record"] for e in tables.table12_models(plan)]
    # 12 surrogates + VGG16 ST, then Table VII's VGG16 LS/AT 1 and Table VIII's AT 2
    assert len(records) == len(set(records)) == 16
    assert "results/models/digits/VGG16/at/tau2/seed0.json" in records


def test_all_targets(plan: Plan) -> None:
    targets = outputs.all_targets(plan)
    built = ["table12", "table6", "table2", "table5", "table7", "table13", "table8"]
    assert outputs.built_tables(plan) == built
    for name in built:
        assert f"results/tables/{name}.csv" in targets
        assert f"results/compare/{name}.csv" in targets
        assert f"results/report/compare/{name}.html" in targets
    assert "results/compare/summary.csv" in targets and "results/claims.md" in targets
    assert "results/figures/digits/asr_vs_at_eps.png" in targets
    assert len(targets) == len(set(targets))


def test_paper_csvs_lists_one_tables_files(tmp_path: Path) -> None:
    for name in ["table2_cifar10.csv", "table2_imagenette.csv", "table13_x.csv", "table2.txt"]:
        (tmp_path / name).write_text("")
    assert outputs.paper_csvs("table2", tmp_path) == [
        str(tmp_path / "table2_cifar10.csv"),
        str(tmp_path / "table2_imagenette.csv"),
    ]
