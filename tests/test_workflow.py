"""Integration: the real Snakefile on a tiny digits configuration."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.workflow_runner import dry_run_outputs, snakemake

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def built(tiny_workflow_run):
    """The session's one full build of rule all (tests/conftest.py), shared with
    tests/test_report.py."""
    return tiny_workflow_run


def test_table12_is_built_with_every_model(built) -> None:
    table = pd.read_csv(built / "results/tables/table12.csv")
    assert set(table["dataset"]) == {"Digits"}
    assert list(table["model"]) == [
        "ST", "LS tau=1", "LS tau=2", "AT eps=0.1", "AT eps=0.5", "SAM",
        "VGG16", "VGG16 LS", "VGG16 AT", "VGG16 AT eps=0.5",
    ]  # fmt: skip
    assert list(table["n_seeds"]) == [2] * 6 + [1] * 4
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
        "asr_ci_low", "asr_ci_high", "n_resamples",
    ]  # fmt: skip
    assert list(table.columns) == expected_columns
    assert list(pd.unique(table["surrogate"])) == ["ST", "LS tau=1", "LS tau=2", "AT", "SAM"]
    assert len(table) == 5 * 2 * 2 * 1
    assert (table["n_seeds"] == 2).all()
    assert set(table["eps"]) == {"4/255", "16/255"} and set(table["target"]) == {"VGG16"}
    assert table["asr_mean"].between(0, 100).all()
    # the interval brackets the mean over seeds (ties at 0 or 100 % included)
    assert (table["asr_ci_low"] <= table["asr_mean"] + 1e-9).all()
    assert (table["asr_mean"] <= table["asr_ci_high"] + 1e-9).all()
    sets = sorted(p.name for p in (built / "results/adversarial").rglob("*.h5"))
    # every surrogate × seed (Table VI) × modes × budgets, plus the LGV collections' sets
    # and AutoAttack's (Table XIII: 5 rows × seed 0 × untargeted × budgets)
    assert len(sets) == 6 * 2 * 2 * 2 + 2 * 2 * 2 + 5 * 2
    assert (built / "results/tables/table2.md").read_text().startswith("# Table II")


def test_metrics_tables_and_figures_are_built(built) -> None:
    table7 = pd.read_csv(built / "results/tables/table7.csv")
    assert list(pd.unique(table7["surrogate"])) == ["ST", "LS", "AT", "SAM"]
    assert set(table7["target_training"]) == {"ST", "LS", "AT"}
    assert not table7.loc[table7["surrogate"] == "ST", "is_increment"].any()
    surrogates = pd.read_csv(built / "results/tables/surrogates.csv")
    # 2 seeds × (ST + LS×2 + AT×2 + SAM) surrogates × 1 target × 2 budgets × 2 modes
    assert len(surrogates) == 2 * 6 * 2 * 2
    assert {"acc", "fp", "ms", "ms_sigma", "gs", "asr"} <= set(surrogates.columns)
    assert (surrogates["ms_sigma"] > 0).all() and surrogates["gs"].between(-1, 1).all()
    table6 = pd.read_csv(built / "results/tables/table6.csv")
    assert set(table6["statistic"]) == {
        "r_acc_asr", "r_fp_asr", "r_ms_asr", "r_gs_asr", "r2_ms_gs", "r2_all",
    }  # fmt: skip
    assert (table6["n"] == 12).all()
    figures = built / "results/figures/digits"
    for name in (
        "smoothness_vs_at_eps", "similarity_vs_at_eps", "similarity_vs_tau_augmentations",
        "smoothness_vs_tau_augmentations", "smoothness_vs_tau_regularizers",
        "similarity_matrix", "asr_vs_at_eps",
    ):  # fmt: skip
        for ext in ("png", "svg"):
            assert (figures / f"{name}.{ext}").stat().st_size > 1000, name
    sigma = pd.read_csv(built / "results/metrics/smoothness/digits/ResNet18/st/tau1/seed0.csv")
    assert len(sigma) == 16 and (sigma["sigma"] > 0).all()
    # two seeds: Fig. 11's seed-shifted pairs make the matrix symmetric, and it says so
    matrix = json.loads((figures / "similarity_matrix.json").read_text())
    assert matrix["seeds"] == [0, 1] and matrix["symmetric_by_design"] is True
    assert "symmetric by design" in matrix["note"]


def test_every_stored_ae_is_within_budget_of_its_8bit_clean_image(built) -> None:
    """Digits images live on the 8-bit grid, so a rounded AE is within ε exactly (SPEC §7)."""
    import numpy as np

    from transferlab.data import build_dataset
    from transferlab.transfer.quantization import quantize_images
    from transferlab.transfer.store import load_adversarial

    x, _ = build_dataset("digits", size=8).split("test")
    assert np.array_equal(quantize_images(x).astype(np.float32) / 255, x.numpy())
    files = sorted((built / "results/adversarial").rglob("*.h5"))
    assert files
    for path in files:
        adv = load_adversarial(path)
        clean = quantize_images(x[adv.index]).astype(int)
        budget = round(float(adv.attrs["eps"]) * 255)
        assert int(np.abs(adv.x_adv.astype(int) - clean).max()) <= budget, path


def test_second_run_does_nothing(built, tiny_config) -> None:
    proc = snakemake(built, tiny_config, "-n")
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_editing_one_tau_reruns_only_that_model_and_tables(built, tiny_config) -> None:
    tiny_config["datasets"]["digits"]["mechanisms"]["ls"]["grid"][1] = 0.3
    outputs = dry_run_outputs(built, tiny_config)
    trained = sorted(p for p in outputs if p.startswith("results/models/"))
    assert trained == [
        f"results/models/digits/ResNet18/ls/tau2/seed{seed}.{ext}"
        for seed in (0, 1)
        for ext in ("json", "pt")
    ]
    assert "results/tables/table12.csv" in outputs and "results/tables/table2.csv" in outputs
    per_model = {p.split("/seed")[0] for p in outputs if "/seed" in p}
    assert per_model == {
        f"results/{stage}/digits/ResNet18/ls/tau2"
        for stage in (
            "models",
            "adversarial",
            "transfer",
            "metrics/smoothness",
            "metrics/gradients",
        )
    }


def _dry_run_after_editing(built, tiny_config, module: str) -> list[str]:
    import os

    from tests.conftest import REPO

    # A real edit: Snakemake ignores a newer mtime when the content checksum is unchanged.
    path = REPO / "src/transferlab" / module
    original, stat = path.read_bytes(), path.stat()
    try:
        path.write_bytes(original + b"\n# edited by test_workflow\n")
        return dry_run_outputs(built, tiny_config)
    finally:
        path.write_bytes(original)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def test_editing_a_library_module_reruns_the_stages_using_it(built, tiny_config) -> None:
    outputs = _dry_run_after_editing(built, tiny_config, "tables/table12.py")
    assert "results/tables/table12.csv" in outputs
    assert not any(p.startswith("results/models/") for p in outputs)
    assert not any(p.startswith("results/metrics/") for p in outputs)
    # smoothness is imported by measure and (through similarity) by the similarity rule
    outputs = _dry_run_after_editing(built, tiny_config, "metrics/smoothness.py")
    assert "results/metrics/similarity/digits/targets.csv" in outputs
    assert "results/metrics/smoothness/digits/ResNet18/st/tau1/seed0.csv" in outputs
    assert not any(p.startswith(("results/models/", "results/adversarial/")) for p in outputs)


def test_table5_rows_and_columns_use_the_papers_labels(built) -> None:
    from transferlab.compare.reference import paper_table

    table = pd.read_csv(built / "results/tables/table5.csv")
    paper = paper_table("table5")
    assert list(pd.unique(table["surrogate"])) == ["ST"]
    assert list(pd.unique(table["lgv"])) == ["none", "SGD"]
    assert set(table["lgv"]) <= set(paper["lgv"]) and set(table["surrogate"]) <= set(
        paper["surrogate"]
    )
    assert set(table["mode"]) == set(paper["mode"]) and (table["n_seeds"] == 2).all()
    assert set(table["eps"]) == {"4/255", "16/255"}  # the data set's first two budgets
    # the row without LGV is Table II's ST row: the same transfer files
    table2 = pd.read_csv(built / "results/tables/table2.csv")
    keys = ["mode", "eps", "target"]
    plain = table[table["lgv"] == "none"].set_index(keys)["asr_mean"]
    st = table2[table2["surrogate"] == "ST"].set_index(keys)["asr_mean"]
    pd.testing.assert_series_equal(plain.sort_index(), st.sort_index())
    collection = built / "results/lgv/digits/ResNet18/st/tau1/seed0/sgd.pt"
    from transferlab import load_collection

    assert len(load_collection(collection)) == 2  # 1 epoch × 2 per epoch
    compare = pd.read_csv(built / "results/compare/table5.csv")
    assert compare["paper_mean"].notna().any()


def test_table8_targets_are_shared_with_table7_and_labelled_like_the_paper(
    built, tiny_config
) -> None:
    from transferlab.compare.reference import paper_table

    table = pd.read_csv(built / "results/tables/table8.csv")
    assert list(pd.unique(table["surrogate"])) == ["ST", "same as target", "SAM"]
    assert list(pd.unique(table["target_training"])) == ["AT eps=0.1", "AT eps=0.5", "LS"]
    assert set(table["eps"]) == {"16/255"}  # the middle (here: second) of two budgets
    assert (table["n_seeds"] == 2).all() and table["asr_mean"].between(0, 100).all()
    # the comparison maps our AT columns onto the paper's by position, and the rest by name
    compare = pd.read_csv(built / "results/compare/table8.csv")
    paper = paper_table("table8")
    assert set(compare["target_training"]) <= set(paper["target_training"])
    assert set(compare["surrogate"]) <= set(paper["surrogate"])
    assert compare["paper_mean"].notna().all()
    # one model per (architecture, mechanism, tau, seed): Table VII's VGG16 AT/LS targets are
    # Table VIII's, so a dry run from nothing trains each once
    proc = snakemake(built, tiny_config, "-n", "--forceall", "results/tables/table8.csv")
    text = proc.stdout + proc.stderr
    for target in ("at/tau1", "at/tau2", "ls/tau1"):
        assert text.count(f"output: results/models/digits/VGG16/{target}/seed0.pt") == 1


def test_table13_is_autoattack_on_its_stated_subset(built) -> None:
    from transferlab.transfer.store import load_adversarial

    table = pd.read_csv(built / "results/tables/table13.csv")
    assert list(pd.unique(table["surrogate"])) == ["ST", "LS tau=1", "LS tau=2", "AT", "SAM"]
    assert set(table["attack"]) == {"AUTOATTACK"} and set(table["mode"]) == {"untargeted"}
    assert (table["n_seeds"] == 1).all() and set(table["eps"]) == {"4/255", "16/255"}
    text = (built / "results/tables/table13.md").read_text()
    assert "the first 8 test images and surrogate seeds [0]" in text
    adv = load_adversarial(
        built / "results/adversarial/digits/ResNet18/st/tau1/seed0/autoattack/untargeted-eps16.h5"
    )
    assert len(adv.index) == 8
    assert {"fp_before_rounding", "fp_after_rounding", "projected_pixels"} <= set(adv.attrs)
    compare = pd.read_csv(built / "results/compare/table13.csv")
    assert compare["paper_mean"].notna().any()


def test_claims_have_a_verdict_for_every_claim(built) -> None:
    claims = pd.read_csv(built / "results/claims.csv")
    expected = {"C1", "C1a", "C1b", "C2", "C3", "C4", "C4a", "C4b", "C5", "C6", "C7", "C7a"}
    assert expected | {"C7b", "C8", "C8a", "C8b"} == set(claims["claim"])
    assert set(claims["verdict"]) <= {"supported", "contradicted", "inconclusive", "not evaluated"}
    assert (claims.loc[claims["verdict"] != "not evaluated", "ci_low"].notna()).all()
    assert (built / "results/report/claims.html").stat().st_size > 1000


def test_budgets_per_data_set_flow_into_every_stage(tmp_path, tiny_config) -> None:
    """Two data sets with their own budgets: each one's attacks, table and comparison use
    its budgets, and the comparison maps them onto the paper's by position."""
    digits = tiny_config["datasets"]["digits"]
    digits["mechanisms"] = {"st": {"grid": [None]}}
    digits["seeds"] = [0]
    digits["training"]["epochs"] = 2
    digits.pop("lgv")
    other = json.loads(json.dumps(digits))
    other.update(name="digits", budgets=[8, 32])
    digits["budgets"] = [4, 16]
    tiny_config["datasets"] = {"digits": digits, "digitsb": other}
    tiny_config["budgets"] = [2, 6]  # the default: used by neither data set
    tiny_config["tables"] = {
        "table2": {"dataset": "digits"},
        "table3": {"dataset": "digitsb"},
        # Table XIII on both data sets (the paper's CIFAR-10 and ImageNette halves)
        "table13": {"datasets": ["digits", "digitsb"], "n_samples": 8},
    }
    snakemake(
        tmp_path,
        tiny_config,
        "results/compare/table2.csv",
        "results/compare/table3.csv",
        "results/tables/table13.csv",
    )
    table13 = pd.read_csv(tmp_path / "results/tables/table13.csv")
    assert list(table13["eps"]) == ["4/255", "16/255", "8/255", "32/255"]  # digits, then digitsb
    assert set(table13["surrogate"]) == {"ST"} and set(table13["mode"]) == {"untargeted"}
    text = (tmp_path / "results/tables/table13.md").read_text()
    assert text.count("## Digits") == 2 and text.count("Subset (AutoAttack's cost)") == 2
    for table, dataset, eps in (("table2", "digits", {4, 16}), ("table3", "digitsb", {8, 32})):
        built = pd.read_csv(tmp_path / f"results/tables/{table}.csv")
        assert set(built["eps"]) == {f"{e}/255" for e in eps}, table
        sets = (tmp_path / f"results/adversarial/{dataset}").rglob("*.h5")
        assert {int(p.stem.split("-eps")[1]) for p in sets} == eps
        compare = pd.read_csv(tmp_path / f"results/compare/{table}.csv")
        ours = sorted(eps)
        assert dict(zip(compare["ours_eps"], compare["eps"], strict=True)) == {
            f"{ours[0]}/255": "4/255",
            f"{ours[1]}/255": "8/255",
        }
        text = (tmp_path / f"results/compare/{table}.md").read_text()
        assert "mapped onto the paper's by position" in text


def test_grid_surrogates_no_table_lists_are_attacked_in_the_analysis_mode_only(
    tmp_path, tiny_config
) -> None:
    """LS τ=2 is no table's row (Table II shows τ=1 and τ=last): its attack job crafts the
    untargeted sets Table VI reads and no targeted ones; the table rows craft both."""
    digits = tiny_config["datasets"]["digits"]
    digits["mechanisms"] = {"st": {"grid": [None]}, "ls": {"grid": [0.1, 0.2, 0.3]}}
    digits["seeds"] = [0]
    digits.pop("lgv")
    tiny_config["tables"] = {"table2": {"dataset": "digits"}}
    snakemake(tmp_path, tiny_config, "results/tables/table2.csv", "results/tables/table6.csv")
    adversarial = tmp_path / "results/adversarial/digits/ResNet18"
    transfer = tmp_path / "results/transfer/digits/ResNet18"
    grid_only = sorted(p.name for p in (adversarial / "ls/tau2/seed0").rglob("*.h5"))
    assert grid_only == ["untargeted-eps16.h5", "untargeted-eps4.h5"]
    assert not (adversarial / "ls/tau2/seed0/pgd").exists()
    modes = pd.read_csv(transfer / "ls/tau2/seed0/pgd.untargeted.csv")["mode"]
    assert set(modes) == {"untargeted"}
    for row in ("st/tau1", "ls/tau1", "ls/tau3"):
        summary = pd.read_csv(transfer / f"{row}/seed0/pgd.csv")
        assert set(summary["mode"]) == {"untargeted", "targeted"}, row
    surrogates = pd.read_csv(tmp_path / "results/tables/surrogates.csv")
    per_model = surrogates.groupby("tau_index")["mode"].agg(lambda m: sorted(set(m)))
    assert per_model.to_dict() == {
        1: ["targeted", "untargeted"],
        2: ["untargeted"],
        3: ["targeted", "untargeted"],
    }
    assert (pd.read_csv(tmp_path / "results/tables/table6.csv")["n"] == 4).all()
