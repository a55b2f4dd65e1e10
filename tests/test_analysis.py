"""Table VI statistics (SPEC §9) against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from transferlab.budget_labels import format_eps
from transferlab.compare.reference import paper_table
from transferlab.explain.analysis import smoothness_score, surrogate_table
from transferlab.tables.table6 import TABLE6_STATISTICS, table6

# ---------------------------------------------------------------- smoothness score


def test_smoothness_score_is_minus_log10_sigma():
    np.testing.assert_allclose(smoothness_score([1.0, 10.0, 0.01, 1e-5]), [0.0, -1.0, 2.0, 5.0])


def test_smoothness_score_rejects_negative_and_zero_without_floor():
    with pytest.raises(ValueError, match=">= 0"):
        smoothness_score([0.5, -1.0])
    with pytest.raises(ValueError, match="floor"):
        smoothness_score([0.5, 0.0])
    with pytest.raises(ValueError, match="finite"):
        smoothness_score([np.nan])


def test_smoothness_score_floor_clips_zero_only_below_floor():
    np.testing.assert_allclose(smoothness_score([0.0, 1e-3], floor=1e-12), [12.0, 3.0])
    with pytest.raises(ValueError, match="floor must be > 0"):
        smoothness_score([1.0], floor=0.0)


@pytest.mark.parametrize(
    ("eps", "expected"),
    [(8 / 255, "8/255"), ("4/255", "4/255"), (" 16 / 255", "16/255"), (str(4 / 255), "4/255")],
)
def test_format_eps(eps, expected):
    assert format_eps(eps) == expected


def test_format_eps_rejects_non_multiples():
    with pytest.raises(ValueError, match="multiple of 1/255"):
        format_eps(0.01)
    with pytest.raises(ValueError, match="fraction"):
        format_eps("eight")


# ---------------------------------------------------------------- surrogate table


def _model_frames():
    models = pd.DataFrame(
        {
            "dataset": ["digits"] * 3,
            "surrogate": ["ST", "MU tau=1", "MU tau=1"],
            "method": ["st", "mu", "mu"],
            "tau_index": [0, 1, 1],
            "tau": [math.nan, 0.1, 0.1],
            "seed": [0, 0, 1],
        }
    )
    accuracy = models.assign(test_acc=[90.0, 85.0, 86.0], arch="cnn")
    smoothness = models.drop(columns=["surrogate", "tau"]).assign(sigma_mean=[1.0, 0.1, 0.01])
    similarity_rows = []
    transfer_rows = []
    for m, model in models.iterrows():
        for t, target in enumerate(["T1", "T2"]):
            key = model[["dataset", "method", "tau_index", "seed"]].to_dict()
            similarity_rows.append({**key, "target": target, "similarity_mean": 0.1 * m + t})
            for mode in ["untargeted", "targeted"]:
                transfer_rows.append(
                    {
                        **key,
                        "target": target,
                        "eps": 8 / 255,
                        "mode": mode,
                        "asr": 10.0 * m + t + (mode == "targeted") * 0.5,
                        "fp": 99.0 - m,
                    }
                )
    return accuracy, smoothness, pd.DataFrame(similarity_rows), pd.DataFrame(transfer_rows)


def test_surrogate_table_joins_each_factor_to_its_model_and_target():
    table = surrogate_table(*_model_frames())
    assert list(table.columns) == [
        "dataset", "surrogate", "method", "tau_index", "tau", "seed", "target",
        "eps", "mode", "acc", "fp", "ms_sigma", "ms", "gs", "asr",
    ]  # fmt: skip
    assert len(table) == 3 * 2 * 2
    row = table[(table.seed == 1) & (table.target == "T2") & (table["mode"] == "targeted")]
    assert len(row) == 1
    row = row.iloc[0]
    assert row.surrogate == "MU tau=1"
    assert row.eps == "8/255"
    assert row.acc == 86.0
    assert row.ms_sigma == 0.01
    assert row.ms == pytest.approx(2.0)
    assert row.gs == pytest.approx(0.2 + 1.0)
    assert row.asr == pytest.approx(21.5)
    assert row.fp == 97.0


def test_surrogate_table_names_missing_columns():
    accuracy, smoothness, similarity, transfer = _model_frames()
    with pytest.raises(ValueError, match="smoothness_df lacks column.*sigma_mean"):
        surrogate_table(accuracy, smoothness.drop(columns="sigma_mean"), similarity, transfer)
    with pytest.raises(ValueError, match="transfer_df lacks column.*'fp'"):
        surrogate_table(accuracy, smoothness, similarity, transfer.drop(columns="fp"))


def test_surrogate_table_reports_unmatched_and_duplicate_rows():
    accuracy, smoothness, similarity, transfer = _model_frames()
    with pytest.raises(ValueError, match="no matching row in similarity_df"):
        surrogate_table(accuracy, smoothness, similarity[similarity.target == "T1"], transfer)
    with pytest.raises(ValueError, match="accuracy_df has 2 rows sharing"):
        surrogate_table(pd.concat([accuracy, accuracy.iloc[:1]]), smoothness, similarity, transfer)


# ---------------------------------------------------------------- Table VI


def _pearson_textbook(x, y):
    dx, dy = x - x.mean(), y - y.mean()
    return float((dx * dy).sum() / np.sqrt((dx**2).sum() * (dy**2).sum()))


def _r2_lstsq(y, columns):
    design = np.column_stack([np.ones_like(y), *columns])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    residual = y - design @ coef
    return float(1.0 - (residual**2).sum() / ((y - y.mean()) ** 2).sum())


def _group(target, n, rng, exact):
    gs = rng.uniform(0.0, 0.5, n)
    ms = rng.uniform(-1.0, 3.0, n)
    acc = rng.uniform(80.0, 95.0, n)
    asr = 1.0 + 2.0 * gs + 3.0 * ms if exact else rng.uniform(10.0, 90.0, n)
    fp = 3.0 - 2.0 * asr if exact else rng.uniform(90.0, 100.0, n)
    return pd.DataFrame(
        {
            "dataset": "digits", "target": target, "eps": "8/255", "mode": "untargeted",
            "acc": acc, "fp": fp, "ms": ms, "gs": gs, "asr": asr,
        }
    )  # fmt: skip


def _value(result, target, statistic, column="value"):
    cell = result[(result.target == target) & (result.statistic == statistic)]
    assert len(cell) == 1
    return cell.iloc[0][column]


def test_table6_exact_linear_relation_gives_r2_one_and_r_minus_one():
    rng = np.random.default_rng(0)
    group = _group("A", 8, rng, exact=True)
    result = table6(group)
    assert _value(result, "A", "r2_ms_gs") == pytest.approx(1.0, abs=1e-12)
    assert _value(result, "A", "r2_all") == pytest.approx(1.0, abs=1e-12)
    assert _value(result, "A", "r_fp_asr") == pytest.approx(-1.0, abs=1e-12)
    assert _value(result, "A", "r_acc_asr") == pytest.approx(
        _pearson_textbook(group.acc.to_numpy(), group.asr.to_numpy())
    )


def test_table6_matches_textbook_r_lstsq_r2_and_their_p_values():
    rng = np.random.default_rng(1)
    n = 10
    group = _group("B", n, rng, exact=False)
    result = table6(group)
    y = group.asr.to_numpy()
    for statistic, factor in [
        ("r_acc_asr", "acc"), ("r_fp_asr", "fp"), ("r_ms_asr", "ms"), ("r_gs_asr", "gs"),
    ]:  # fmt: skip
        r = _pearson_textbook(group[factor].to_numpy(), y)
        assert _value(result, "B", statistic) == pytest.approx(r, abs=1e-12)
        t = r * math.sqrt((n - 2) / (1 - r**2))
        p = 2 * stats.t.sf(abs(t), n - 2)
        assert _value(result, "B", statistic, "p_value") == pytest.approx(p, rel=1e-8)
    for statistic, factors in [("r2_ms_gs", ["ms", "gs"]), ("r2_all", ["acc", "fp", "ms", "gs"])]:
        r2 = _r2_lstsq(y, [group[f].to_numpy() for f in factors])
        assert _value(result, "B", statistic) == pytest.approx(r2, abs=1e-12)
        k = len(factors)
        f_stat = (r2 / k) / ((1 - r2) / (n - k - 1))
        assert _value(result, "B", statistic, "p_value") == pytest.approx(
            stats.f.sf(f_stat, k, n - k - 1), rel=1e-8
        )
    assert (result.n == n).all()


def test_table6_layout_matches_paper_table6():
    rng = np.random.default_rng(2)
    surrogates = pd.concat([_group("A", 6, rng, True), _group("B", 6, rng, False)])
    result = table6(surrogates)
    paper = paper_table("table6_correlation")
    assert list(result.columns[: len(paper.columns)]) == list(paper.columns)
    assert set(paper.statistic) == set(TABLE6_STATISTICS)
    assert len(result) == 2 * len(TABLE6_STATISTICS)
    # Statistic-major, groups in input order, as in the paper's CSV.
    assert list(result.statistic[:2]) == ["r_acc_asr", "r_acc_asr"]
    assert list(result.target[:2]) == ["A", "B"]


def test_table6_constant_columns_give_nan_with_note_not_a_crash():
    rng = np.random.default_rng(3)
    group = _group("C", 7, rng, exact=False).assign(acc=90.0)
    result = table6(group)
    assert math.isnan(_value(result, "C", "r_acc_asr"))
    assert "constant" in _value(result, "C", "r_acc_asr", "note")
    assert not math.isnan(_value(result, "C", "r_gs_asr"))
    # A constant regressor is harmless for R² (it duplicates the intercept): noted only.
    assert not math.isnan(_value(result, "C", "r2_all"))
    assert "constant" in _value(result, "C", "r2_all", "note")
    assert _value(result, "C", "r2_all") == pytest.approx(
        _r2_lstsq(group.asr.to_numpy(), [group[f].to_numpy() for f in ["fp", "ms", "gs"]])
    )

    flat = table6(group.assign(asr=50.0))
    assert flat.value.isna().all()
    assert (flat.note != "").all()


def test_table6_too_few_surrogates_for_regression():
    rng = np.random.default_rng(4)
    result = table6(_group("D", 5, rng, exact=False))
    assert not math.isnan(_value(result, "D", "r2_ms_gs"))  # n=5 > 3 parameters
    assert math.isnan(_value(result, "D", "r2_all"))  # n=5 ≤ 5 parameters
    assert "more than 5" in _value(result, "D", "r2_all", "note")


def test_table6_two_surrogates_give_no_correlation():
    # With n = 2 any r is ±1 by construction; the table reports NaN instead.
    rng = np.random.default_rng(6)
    result = table6(_group("E", 2, rng, exact=False))
    assert result.value.isna().all()
    assert "at least 3" in _value(result, "E", "r_gs_asr", "note")


def test_table6_uses_only_the_requested_mode():
    rng = np.random.default_rng(5)
    untargeted = _group("A", 6, rng, exact=True)
    targeted = _group("A", 4, rng, exact=False).assign(mode="targeted")
    both = pd.concat([untargeted, targeted])
    default = table6(both)
    assert (default.n == 6).all()
    assert _value(default, "A", "r2_ms_gs") == pytest.approx(1.0)
    assert (table6(both, mode="targeted").n == 4).all()
    with pytest.raises(ValueError, match="mode must be"):
        table6(both, mode="both")
    with pytest.raises(ValueError, match="no rows with mode 'targeted'"):
        table6(untargeted, mode="targeted")


def test_table6_end_to_end_from_tidy_files():
    result = table6(surrogate_table(*_model_frames()))
    assert set(result.target) == {"T1", "T2"}
    assert (result.n == 3).all()
    # ms = [0, 1, 2], asr = 10·m + t: exactly linear, so r(MS, ASR) = 1.
    assert _value(result, "T1", "r_ms_asr") == pytest.approx(1.0)
