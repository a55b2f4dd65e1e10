"""Comparison with the paper's numbers (SPEC §10) on tables with hand-computed answers."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from transferlab.compare.cells import compare_table, compare_with_paper
from transferlab.compare.markdown import render_comparison_markdown
from transferlab.compare.reference import paper_table, paper_table_names
from transferlab.compare.summary import comparison_summary
from transferlab.config.labels import paper_row_label

# ---------------------------------------------------------------- reference loader


def test_paper_table2_has_384_rows_with_text_budgets():
    table = paper_table("table2_cifar10_pgd")
    assert len(table) == 384
    assert list(table.columns) == ["surrogate", "mode", "eps", "target", "asr_mean", "asr_std"]
    assert set(table.eps) == {"4/255", "8/255", "16/255"}
    assert len(set(table.surrogate)) == 16
    assert {"ST", "MU tau=1", "SAM&JR"} <= set(table.surrogate)
    first = table.iloc[0]
    assert (first.surrogate, first.target, first.asr_mean, first.asr_std) == (
        "ST", "ResNet50", 54.3, 2.9,
    )  # fmt: skip


def test_paper_table_accepts_prefix_and_rejects_ambiguous_or_unknown_names():
    assert len(paper_table("table2")) == 384
    assert len(paper_table("table6_correlation.csv")) == 144
    assert len(paper_table_names()) == 13
    with pytest.raises(ValueError, match="ambiguous.*table7_cifar10_similarity"):
        paper_table("table7")
    with pytest.raises(ValueError, match="unknown"):
        paper_table("table99")


# ---------------------------------------------------------------- compare_with_paper


def _paper():
    rows = [
        ("ST", "4/255", 50.0, 2.0),
        ("SAM", "4/255", 60.0, 1.0),
        ("JR", "4/255", 40.0, 1.0),
        ("ST", "8/255", 70.0, 0.5),
        ("SAM", "8/255", 80.0, 3.0),
        ("JR", "8/255", 75.0, 1.0),
    ]
    return pd.DataFrame(rows, columns=["surrogate", "eps", "asr_mean", "asr_std"])


def _ours():
    # eps as numbers on purpose: the join must normalize them to "k/255".
    rows = [
        ("ST", 4 / 255, 54.0, 1.0),  # diff 4 = exactly 2 std: within
        ("SAM", 4 / 255, 57.0, 1.0),  # diff -3 > 2: outside
        ("JR", 4 / 255, 60.0, 1.0),  # diff 20: outside
        ("ST", 8 / 255, 70.5, 1.0),  # diff 0.5 <= 1: within
        ("SAM", 8 / 255, 90.0, 1.0),  # diff 10 > 6: outside
        ("JR", 8 / 255, 75.5, 1.0),  # diff 0.5 <= 2: within
    ]
    return pd.DataFrame(rows, columns=["surrogate", "eps", "asr_mean", "asr_std"])


def test_compare_with_paper_differences_and_within_2std():
    joined = compare_with_paper(_ours(), _paper(), keys=["surrogate", "eps"])
    assert list(joined.columns) == [
        "surrogate", "eps", "ours_mean", "ours_std", "paper_mean", "paper_std", "diff",
        "within_2std",
    ]  # fmt: skip
    assert list(joined.eps) == ["4/255"] * 3 + ["8/255"] * 3
    assert list(joined["diff"]) == pytest.approx([4.0, -3.0, 20.0, 0.5, 10.0, 0.5])
    assert list(joined.within_2std) == [True, False, False, True, False, True]


def test_compare_with_paper_reports_unmatched_keys():
    ours = _ours()
    ours.loc[1, "surrogate"] = "SAM & JR"
    with pytest.raises(ValueError, match="have no paper row.*SAM & JR"):
        compare_with_paper(ours, _paper(), keys=["surrogate", "eps"])
    subset = _ours().iloc[:4]
    with pytest.raises(ValueError, match="paper row.*no row of ours.*'SAM'.*complete=False"):
        compare_with_paper(subset, _paper(), keys=["surrogate", "eps"])
    assert len(compare_with_paper(subset, _paper(), keys=["surrogate", "eps"], complete=False)) == 4


def test_compare_with_paper_rejects_duplicates_and_missing_columns():
    with pytest.raises(ValueError, match="ours has 2 rows sharing"):
        compare_with_paper(
            pd.concat([_ours(), _ours().iloc[:1]]), _paper(), keys=["surrogate", "eps"]
        )
    with pytest.raises(ValueError, match="paper lacks column.*asr_std"):
        compare_with_paper(_ours(), _paper().drop(columns="asr_std"), keys=["surrogate", "eps"])


def test_compare_without_std_leaves_within_2std_undefined():
    joined = compare_with_paper(
        _ours().drop(columns="asr_std"),
        _paper().drop(columns="asr_std"),
        keys=["surrogate", "eps"],
        std=None,
    )
    assert joined.within_2std.isna().all()
    assert joined.ours_std.isna().all()


# ---------------------------------------------------------------- whole tables (compare rule)


def _table2(dataset, means, stds=None, targets=("ResNet50", "VGG16")):
    """A tidy Table II like results/tables/table2.csv: untargeted PGD at 4/255."""
    rows = []
    for surrogate, values in means.items():
        for target, value in zip(targets, values, strict=True):
            std = (stds or {}).get(surrogate, 1.0)
            rows.append((dataset, surrogate, "PGD", "untargeted", "4/255", target, value, std))
    columns = ["dataset", "surrogate", "attack", "mode", "eps", "target", "asr_mean", "asr_std"]
    return pd.DataFrame(rows, columns=columns)


def test_compare_table_on_the_papers_dataset_judges_values():
    # Paper, untargeted 4/255: ResNet50 ST 54.3±2.9, AT 59.0±3.0, SAM 76.1±1.5;
    # VGG16 ST 42.3±1.9, AT 50.3±4.4, SAM 64.3±2.1.
    ours = _table2("CIFAR-10", {"ST": (54.3, 46.0), "AT": (53.0, 50.0), "SAM": (70.0, 64.3)})
    result = compare_table("table2", ours)
    cells = result.cells.set_index(["surrogate", "target"])
    assert set(cells["comparison"]) == {"values (CIFAR-10 vs paper's CIFAR-10)"}
    assert cells.loc[("ST", "VGG16"), "diff"] == pytest.approx(3.7)  # 2·1.9 = 3.8: within
    assert cells.loc[("AT", "ResNet50"), "diff"] == pytest.approx(-6.0)  # 2·3.0: within
    assert cells.loc[("SAM", "ResNet50"), "diff"] == pytest.approx(-6.1)  # > 2·1.5: outside
    within = cells["within_2std"].to_dict()
    assert within == {
        ("ST", "ResNet50"): True, ("ST", "VGG16"): True, ("AT", "ResNet50"): True,
        ("AT", "VGG16"): True, ("SAM", "ResNet50"): False, ("SAM", "VGG16"): True,
    }  # fmt: skip
    columns = result.columns.set_index("target")
    # ResNet50: ours ST 54.3 > AT 53.0 → ranks (2,1,3); paper (1,2,3): ρ = 1 − 6·2/24 = 0.5.
    assert columns.loc["ResNet50", "spearman_rho"] == pytest.approx(0.5)
    # VGG16: ours (1,2,3), paper (1,2,3): ρ = 1.
    assert columns.loc["VGG16", "spearman_rho"] == pytest.approx(1.0)
    assert list(cells.loc[("ST", "ResNet50"), ["ours_rank", "paper_rank"]]) == [2.0, 1.0]
    summary = comparison_summary(result.columns).iloc[0]
    assert summary.n_cells == 6 and summary.share_within_2std == pytest.approx(5 / 6)
    assert summary.mean_spearman == pytest.approx(0.75)
    assert summary.min_spearman == pytest.approx(0.5) and summary.max_spearman == 1.0


def test_compare_table_on_digits_compares_orderings_only_with_paper_labels():
    ours = _table2("Digits", {"ST": (5.0, 5.0), "LS tau=2": (1.0, 2.0), "SAM": (9.0, 8.0)})
    rows = {"Digits": {"ST": "ST", "LS tau=2": "LS tau=5", "SAM": "SAM"}}
    result = compare_table("table2", ours, rows)
    cells = result.cells
    assert set(cells["comparison"]) == {"ordering only (Digits vs paper's CIFAR-10)"}
    assert set(cells["paper_dataset"]) == {"CIFAR-10"}
    assert cells["diff"].isna().all() and cells["within_2std"].isna().all()
    assert "LS tau=5" in set(cells["surrogate"])
    # Paper ResNet50: LS tau=5 32.8 < ST 54.3 < SAM 76.1, ours 1 < 5 < 9: ρ = 1 on both columns.
    assert list(result.columns["spearman_rho"]) == pytest.approx([1.0, 1.0])
    summary = comparison_summary(result.columns).iloc[0]
    assert math.isnan(summary.share_within_2std)
    assert summary.comparison.startswith("ordering only")


def test_compare_table_averages_targets_the_paper_does_not_have():
    ours = _table2(
        "Digits", {"ST": (2.0, 4.0), "AT": (1.0, 1.0), "SAM": (9.0, 1.0)}, targets=("mlp", "cnn")
    )
    result = compare_table("table2", ours)
    assert set(result.cells["target"]) == {"mean over targets"}
    cells = result.cells.set_index("surrogate")
    # Paper means over its 4 targets at 4/255 untargeted: ST (54.3+42.3+53.6+70.7)/4.
    assert cells.loc["ST", "paper_mean"] == pytest.approx((54.3 + 42.3 + 53.6 + 70.7) / 4)
    assert cells.loc["SAM", "ours_mean"] == pytest.approx(5.0)
    # Ours ST 3 < SAM 5, AT 1 lowest → (2,1,3); paper ST 55.2 < AT 57.0 < SAM 75.9 → (1,2,3).
    assert result.columns["spearman_rho"].iloc[0] == pytest.approx(0.5)


def test_compare_table_keeps_rows_the_paper_does_not_print_uncompared():
    ours = _table2("CIFAR-10", {"ST": (1.0, 2.0), "SAM": (3.0, 1.0), "LS tau=2": (5.0, 0.0)})
    result = compare_table("table2", ours)
    extra = result.cells[result.cells["surrogate"] == "LS tau=2"]
    assert len(extra) == 2 and extra["paper_mean"].isna().all()
    assert extra["diff"].isna().all() and extra["ours_rank"].isna().all()
    assert list(result.columns["n_cells"]) == [3, 3] and list(result.columns["n_ranked"]) == [2, 2]
    # ResNet50: ours ST 1 < SAM 3, paper 54.3 < 76.1 → ρ = 1; VGG16: reversed → ρ = −1.
    assert list(result.columns["spearman_rho"]) == pytest.approx([1.0, -1.0])
    text = render_comparison_markdown("table2", result)
    assert "no number for 2 of our cells" in text and "LS tau=2 / untargeted" in text
    with pytest.raises(ValueError, match="no paper counterpart for 'table9'"):
        compare_table("table9", ours)


def test_table7_is_compared_as_absolute_similarity():
    rows = [
        ("Digits", "ST", "ST", 0.2, False),
        ("Digits", "ST", "CO", 0.1, False),
        ("Digits", "CO", "ST", -0.05, True),
        ("Digits", "CO", "CO", 0.03, True),
        ("Digits", "SAM", "ST", 0.01, True),
        ("Digits", "SAM", "CO", -0.02, True),
    ]
    ours = pd.DataFrame(
        rows, columns=["dataset", "surrogate", "target_training", "value", "is_increment"]
    )
    cells = compare_table("table7", ours).cells.set_index(["surrogate", "target_training"])
    assert cells.loc[("CO", "ST"), "ours_mean"] == pytest.approx(0.15)  # 0.2 − 0.05
    assert cells.loc[("SAM", "CO"), "ours_mean"] == pytest.approx(0.08)  # 0.1 − 0.02
    assert cells.loc[("CO", "ST"), "paper_mean"] == pytest.approx(0.141 - 0.038)
    assert cells.loc[("ST", "CO"), "paper_mean"] == pytest.approx(0.135)


def test_table12_compares_table_rows_and_drops_targets():
    ours = pd.DataFrame(
        {
            "dataset": ["CIFAR-10"] * 3,
            "model": ["ST", "AT eps=0.5", "VGG16"],
            "role": ["surrogate", "surrogate", "target"],
            "train_acc_mean": [90.0, 80.0, 99.0],
            "train_acc_std": [1.0, 1.0, 0.0],
            "test_acc_mean": [85.0, 75.0, 98.0],
            "test_acc_std": [1.0, 1.0, 0.0],
            "gen_gap_mean": [5.0, 5.0, 1.0],
            "gen_gap_std": [0.5, 0.5, 0.0],
        }
    )
    result = compare_table("table12", ours, {"CIFAR-10": {"ST": "ST", "AT eps=0.5": "AT"}})
    cells = result.cells
    assert set(cells["model"]) == {"ST", "AT"} and len(cells) == 6
    test_acc = cells[cells["statistic"] == "test_acc"].set_index("model")
    assert test_acc.loc["AT", "paper_mean"] == pytest.approx(94.3)  # paper Table XII
    assert test_acc.loc["AT", "diff"] == pytest.approx(75.0 - 94.3)
    assert set(result.columns["statistic"]) == {"train_acc", "test_acc", "gen_gap"}


def test_table6_counts_cells_with_the_papers_sign():
    # Paper CIFAR-10 VGG16 4/255: r_acc_asr 0.032, r_ms_asr 0.614.
    ours = pd.DataFrame(
        {
            "dataset": ["CIFAR-10"] * 2,
            "target": ["VGG16"] * 2,
            "eps": ["4/255"] * 2,
            "statistic": ["r_acc_asr", "r_ms_asr"],
            "value": [-0.2, 0.5],
        }
    )
    result = compare_table("table6", ours)
    cells = result.cells.set_index("statistic")
    assert list(cells["same_sign"]) == [False, True]
    assert cells.loc["r_ms_asr", "diff"] == pytest.approx(0.5 - 0.614)
    assert comparison_summary(result.columns).iloc[0].share_same_sign == pytest.approx(0.5)


def test_paper_row_label_maps_the_last_tau_to_five():
    assert paper_row_label("LS tau=2", 2, 2) == "LS tau=5"
    assert paper_row_label("LS tau=1", 1, 2) == "LS tau=1"
    assert paper_row_label("MU tau=5", 5, 5) == "MU tau=5"
    assert paper_row_label("AT", 4, 7) == "AT"


def test_compare_cli_writes_cells_columns_markdown_and_page(tmp_path):
    from transferlab.cli import main

    ours = tmp_path / "table2.csv"
    _table2("Digits", {"ST": (5.0, 5.0), "SAM": (9.0, 8.0)}).to_csv(ours, index=False)
    out = {name: tmp_path / f"out.{name}" for name in ("csv", "columns.csv", "md", "html")}
    argv = ["compare", "--table", "table2", "--ours", str(ours), "--rows", "null"]
    argv += ["--out", str(out["csv"]), "--columns", str(out["columns.csv"])]
    argv += ["--markdown", str(out["md"]), "--html", str(out["html"])]
    assert main(argv) == 0
    cells = pd.read_csv(out["csv"])
    assert len(cells) == 4 and set(cells["comparison"]) == {
        "ordering only (Digits vs paper's CIFAR-10)"
    }
    assert "ordering only" in out["md"].read_text()
    page = out["html"].read_text()
    assert page.count("<table>") == 2 and "data:text/csv;base64," in page
    summary = tmp_path / "summary.csv"
    argv = ["compare-summary", "--columns", str(out["columns.csv"]), "--out", str(summary)]
    assert main(argv) == 0
    assert pd.read_csv(summary)["n_cells"].tolist() == [4]
    bad = tmp_path / "bad.csv"
    _table2("CIFAR-10", {"ST": (1.0, 2.0)}).drop(columns="target").to_csv(bad, index=False)
    argv = ["compare", "--table", "table2", "--ours", str(bad), "--out", str(out["csv"])]
    with pytest.raises(SystemExit, match=r"bad.csv with the paper.*lacks column.*'target'"):
        main([*argv, "--columns", str(out["columns.csv"])])
