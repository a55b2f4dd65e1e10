"""Comparison with the paper's numbers (SPEC §10) on tables with hand-computed answers."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from transferlab.compare import (
    DIGITS_ORDERING_LABEL,
    compare_orderings,
    compare_with_paper,
    summarize_comparison,
)
from transferlab.reference import paper_table, paper_table_names

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


def test_summarize_comparison_share_and_spearman_by_hand():
    joined = compare_with_paper(_ours(), _paper(), keys=["surrogate", "eps"])
    summary = summarize_comparison(joined, column_keys=["eps"])
    assert summary.n_cells == 6
    assert summary.share_within_2std == pytest.approx(3 / 6)
    per_column = summary.per_column.set_index("eps")
    assert per_column.loc["4/255", "share_within_2std"] == pytest.approx(1 / 3)
    assert per_column.loc["8/255", "share_within_2std"] == pytest.approx(2 / 3)
    # 4/255: ranks ours (1,2,3), paper (2,3,1): Σd² = 6, ρ = 1 − 6·6/(3·8) = −0.5.
    assert per_column.loc["4/255", "spearman_rho"] == pytest.approx(-0.5)
    # 8/255: ranks ours (1,3,2), paper (1,3,2): ρ = 1.
    assert per_column.loc["8/255", "spearman_rho"] == pytest.approx(1.0)
    assert summary.mean_spearman == pytest.approx(0.25)
    assert summary.as_dict()["n_cells"] == 6


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
    with pytest.raises(ValueError, match="paper is missing column.*asr_std"):
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
    summary = summarize_comparison(joined, ["eps"])
    assert math.isnan(summary.share_within_2std)
    assert summary.mean_spearman == pytest.approx(0.25)


# ---------------------------------------------------------------- compare_orderings


def _paper_two_targets():
    means = {"ST": (50, 70), "SAM": (80, 80), "AT": (10, 30), "JR": (65, 75)}
    rows = [
        (s, "untargeted", "8/255", target, float(v))
        for s, values in means.items()
        for target, v in zip(["R", "V"], values, strict=True)
    ]
    return pd.DataFrame(rows, columns=["surrogate", "mode", "eps", "target", "asr_mean"])


def _digits_ours():
    means = {"ST": (1, 3), "SAM": (5, 5), "AT": (4, 4)}
    rows = [
        (s, "untargeted", 8 / 255, target, float(v))
        for s, values in means.items()
        for target, v in zip(["mlp", "cnn"], values, strict=True)
    ]
    return pd.DataFrame(rows, columns=["surrogate", "mode", "eps", "target", "asr_mean"])


def test_compare_orderings_averaging_targets_by_hand():
    result = compare_orderings(
        _digits_ours(), _paper_two_targets(), ["mode", "eps"], average_over=["target"]
    )
    assert len(result) == 1
    row = result.iloc[0]
    # Target means: ours ST 2, SAM 5, AT 4 → ranks (1,3,2); paper ST 60, SAM 80, AT 20
    # → (2,3,1); JR is not trained by us and is skipped. Σd² = 2: ρ = 1 − 12/24 = 0.5.
    assert row.n == 3
    assert row.spearman_rho == pytest.approx(0.5)
    assert row.eps == "8/255"
    assert row.comparison == DIGITS_ORDERING_LABEL == "ordering only (digits vs paper's CIFAR-10)"


def test_compare_orderings_with_renamed_targets():
    result = compare_orderings(
        _digits_ours(),
        _paper_two_targets(),
        ["mode", "eps", "target"],
        rename={"target": {"mlp": "R", "cnn": "V"}},
    )
    assert list(result.target) == ["R", "V"]
    # R: ours (1,5,4) → ranks (1,3,2), paper (50,80,10) → (2,3,1): ρ = 0.5; V likewise.
    assert list(result.spearman_rho) == pytest.approx([0.5, 0.5])


def test_compare_orderings_errors_name_the_problem():
    ours = _digits_ours().replace({"surrogate": {"AT": "AT eps=0.5"}})
    with pytest.raises(ValueError, match="'AT eps=0.5'.*not in the paper"):
        compare_orderings(ours, _paper_two_targets(), ["mode", "eps"], average_over=["target"])
    with pytest.raises(ValueError, match="no column of ours matches"):
        compare_orderings(_digits_ours(), _paper_two_targets(), ["mode", "eps", "target"])
