"""The paired two-level bootstrap (transferlab.explain.bootstrap, weighted_statistics,
asr_intervals) against hand computations."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from transferlab.explain.asr_intervals import (
    ASR_INTERVAL_KEYS,
    asr_bootstrap_intervals,
    asr_table_samples,
)
from transferlab.explain.bootstrap import (
    draw_weights,
    extremum_interval,
    image_means,
    percentile_interval,
    seed_means,
    verdict,
)
from transferlab.explain.weighted_statistics import weighted_pearson, weighted_r_squared

# ---------------------------------------------------------------- weights


def test_draw_weights_rows_are_multinomial_counts_after_an_observed_row_of_ones():
    w = draw_weights([0, 1, 2], np.arange(50), resamples=40, seed=3)
    assert w.seeds.shape == (41, 3) and w.images.shape == (41, 50)
    np.testing.assert_array_equal(w.seeds[0], 1.0)
    np.testing.assert_array_equal(w.images[0], 1.0)
    np.testing.assert_array_equal(w.seeds.sum(axis=1), 3.0)
    np.testing.assert_array_equal(w.images.sum(axis=1), 50.0)
    assert np.all(w.images == np.round(w.images)) and w.images.min() >= 0
    assert w.resamples == 40


def test_draw_weights_is_reproducible_and_depends_on_seed_and_stream():
    a = draw_weights([0, 1], np.arange(30), resamples=20, seed=7, stream="Digits")
    b = draw_weights([0, 1], np.arange(30), resamples=20, seed=7, stream="Digits")
    np.testing.assert_array_equal(a.images, b.images)
    np.testing.assert_array_equal(a.seeds, b.seeds)
    c = draw_weights([0, 1], np.arange(30), resamples=20, seed=8, stream="Digits")
    d = draw_weights([0, 1], np.arange(30), resamples=20, seed=7, stream="CIFAR-10")
    assert not np.array_equal(a.images, c.images)
    assert not np.array_equal(a.images, d.images)


def test_seed_draws_do_not_depend_on_the_number_of_images():
    a = draw_weights([0, 1, 2], np.arange(30), resamples=25, seed=1)
    b = draw_weights([0, 1, 2], np.arange(300), resamples=25, seed=1)
    np.testing.assert_array_equal(a.seeds, b.seeds)


@pytest.mark.parametrize("bad", [0, -3, 1.5, True])
def test_draw_weights_rejects_bad_resamples(bad):
    with pytest.raises(ValueError, match="resamples"):
        draw_weights([0], np.arange(3), resamples=bad, seed=0)


def test_draw_weights_rejects_negative_seed():
    with pytest.raises(ValueError, match="seed"):
        draw_weights([0], np.arange(3), resamples=5, seed=-1)


# ---------------------------------------------------------------- weighted means


def test_image_means_match_hand_weighted_means_and_skip_missing_images():
    values = np.array([[1.0, 0.0, 1.0, 1.0], [0.5, np.nan, 2.0, 4.0]])
    weights = np.array([[1.0, 1.0, 1.0, 1.0], [0.0, 2.0, 1.0, 1.0], [0.0, 4.0, 0.0, 0.0]])
    out = image_means(values, weights)
    expected = np.array(
        [
            [3 / 4, (0 * 2 + 1 + 1) / 4, 0.0],
            [(0.5 + 2 + 4) / 3, (2 + 4) / 2, math.nan],  # row 1 draws only its missing image
        ]
    )
    np.testing.assert_allclose(out, expected)


def test_seed_means_match_hand_weighted_means():
    # two configurations × three seeds × two replicates; seed 2 of config 1 missing
    values = np.array(
        [[[1.0, 1.0], [2.0, 4.0], [3.0, 9.0]], [[1.0, 1.0], [5.0, 5.0], [np.nan, np.nan]]]
    )
    weights = np.array([[1.0, 1.0, 1.0], [0.0, 1.0, 2.0]])  # (R, S)
    out = seed_means(values, weights)
    np.testing.assert_allclose(out, [[2.0, (4 + 18) / 3], [3.0, 5.0]])


def test_mean_interval_over_iid_images_matches_normal_theory():
    # one seed, 800 Bernoulli(0.3) images: the bootstrap interval of the mean should be
    # close to p̂ ± 1.96 √(p̂(1−p̂)/n)
    rng = np.random.default_rng(0)
    n = 800
    x = (rng.random(n) < 0.3).astype(float)
    w = draw_weights([0], np.arange(n), resamples=2000, seed=5)
    replicates = seed_means(image_means(x[None, None, :], w.images), w.seeds)[0]
    low, high = percentile_interval(replicates)
    p = x.mean()
    half = 1.959964 * math.sqrt(p * (1 - p) / n)
    assert replicates[0] == pytest.approx(p)
    assert low == pytest.approx(p - half, abs=0.006)
    assert high == pytest.approx(p + half, abs=0.006)


def test_seed_level_resampling_widens_the_interval_by_the_seed_spread():
    # three seeds whose per-seed means differ by a lot, images identical within a seed:
    # the interval must span most of the seed means' spread, not the image noise
    n = 200
    per_seed = np.stack([np.full(n, 0.1), np.full(n, 0.5), np.full(n, 0.9)])
    w = draw_weights([0, 1, 2], np.arange(n), resamples=2000, seed=2)
    reps = seed_means(image_means(per_seed[None], w.images), w.seeds)[0]
    low, high = percentile_interval(reps)
    assert reps[0] == pytest.approx(0.5)
    # a replicate draws all three seeds equal to the first with probability 1/27 > 2.5 %,
    # so the percentile ends are the extreme seed means themselves
    assert (low, high) == (pytest.approx(0.1), pytest.approx(0.9))


def test_paired_draw_gives_identical_models_a_zero_width_difference():
    rng = np.random.default_rng(4)
    model = (rng.random((3, 300)) < 0.4).astype(float)  # 3 seeds × 300 images
    other = (rng.random((3, 300)) < 0.4).astype(float)
    w = draw_weights([0, 1, 2], np.arange(300), resamples=500, seed=0)
    cube = np.stack([model, model.copy(), other])  # (configs, seeds, images)
    means = seed_means(image_means(cube, w.images), w.seeds)
    difference = means[0] - means[1]
    np.testing.assert_array_equal(difference, 0.0)
    assert percentile_interval(difference) == (0.0, 0.0)
    assert np.ptp(means[0] - means[2]) > 0  # a different model does vary


# ---------------------------------------------------------------- intervals and verdicts


def test_percentile_interval_uses_replicates_only_and_order_statistics():
    replicates = np.concatenate([[100.0], np.arange(1.0, 201.0)])  # observed 100, then 1..200
    low, high = percentile_interval(replicates, level=0.9)
    # lower end rounded down, upper rounded up: q_0.05 of 1..200 → 10.95 → 10; q_0.95 → 191
    assert (low, high) == (10.0, 191.0)
    assert percentile_interval(np.array([1.0, np.nan, np.nan])) != percentile_interval(
        np.array([1.0, 2.0, 3.0])
    )
    assert all(math.isnan(v) for v in percentile_interval(np.array([1.0, np.nan, np.nan])))


def test_extremum_interval_is_bonferroni_over_members():
    rng = np.random.default_rng(1)
    members = np.column_stack([[0.0, 1.0, 2.0], rng.normal(size=(3, 4000))])
    members[1, 1:] += 1.0
    members[2, 1:] += 2.0
    value, low, high = extremum_interval(members, "max", level=0.95)
    assert value == 2.0
    # the max is member 2 (shifted by 2): Bonferroni ends at α/6 and 1 − α/6
    expected_low = np.quantile(members[2, 1:], 0.05 / 6, method="lower")
    expected_high = np.quantile(members[2, 1:], 1 - 0.05 / 6, method="higher")
    assert (low, high) == (pytest.approx(expected_low), pytest.approx(expected_high))
    # one member: the plain percentile interval
    single = extremum_interval(members[:1], "min")
    assert single == (0.0, *percentile_interval(members[0]))
    with pytest.raises(ValueError, match="kind"):
        extremum_interval(members, "mean")


@pytest.mark.parametrize(
    ("low", "high", "direction", "expected"),
    [
        (0.1, 0.5, "greater", "supported"),
        (-0.5, -0.1, "greater", "contradicted"),
        (-0.1, 0.1, "greater", "inconclusive"),
        (0.0, 0.3, "greater", "inconclusive"),
        (-0.5, -0.1, "less", "supported"),
        (0.1, 0.5, "less", "contradicted"),
        (-0.1, 0.1, "less", "inconclusive"),
        (math.nan, 0.1, "less", "not evaluated"),
    ],
)
def test_verdict_rule(low, high, direction, expected):
    assert verdict(low, high, 0.0, direction) == expected


def test_verdict_rejects_unknown_direction():
    with pytest.raises(ValueError, match="direction"):
        verdict(0.0, 1.0, 0.0, "two-sided")


# ---------------------------------------------------------------- weighted correlation / OLS


def _frequency_weights(rng: np.random.Generator, m: int) -> np.ndarray:
    return rng.multinomial(m, np.full(m, 1 / m)).astype(float)


def test_weighted_pearson_equals_pearson_on_duplicated_rows():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=30), rng.normal(size=30)
    y += 0.7 * x
    w = _frequency_weights(rng, 30)
    expected = stats.pearsonr(np.repeat(x, w.astype(int)), np.repeat(y, w.astype(int)))[0]
    r = weighted_pearson(x[:, None], y[:, None], w[:, None])
    assert r[0] == pytest.approx(expected, rel=1e-10)


def test_weighted_pearson_is_nan_for_constant_or_too_few_rows():
    x = np.array([[1.0], [1.0], [1.0], [2.0]])
    y = np.array([[0.0], [1.0], [2.0], [3.0]])
    assert math.isnan(weighted_pearson(x, y, np.array([[1.0], [1.0], [1.0], [0.0]]))[0])
    assert math.isnan(weighted_pearson(y, y, np.array([[1.0], [1.0], [0.0], [0.0]]))[0])


def test_weighted_r_squared_equals_statsmodels_on_duplicated_rows():
    rng = np.random.default_rng(3)
    m, k = 40, 4
    x = rng.normal(size=(m, k)) * np.array([0.01, 0.3, 2.0, 0.1])  # scales like Acc … GS
    y = x @ np.array([3.0, 1.0, 0.5, -2.0]) + rng.normal(scale=0.5, size=m)
    w = _frequency_weights(rng, m)
    repeat = w.astype(int)
    fit = sm.OLS(np.repeat(y, repeat), sm.add_constant(np.repeat(x, repeat, axis=0))).fit()
    r2 = weighted_r_squared(y[:, None], x[:, :, None], w[:, None])
    assert r2[0] == pytest.approx(fit.rsquared, rel=1e-9)
    sub = sm.OLS(y, sm.add_constant(x[:, 2:])).fit()
    r2_sub = weighted_r_squared(y[:, None], x[:, 2:, None], np.ones((m, 1)))
    assert r2_sub[0] == pytest.approx(sub.rsquared, rel=1e-9)


def test_weighted_r_squared_of_a_collinear_design_is_the_least_squares_fit():
    rng = np.random.default_rng(5)
    a = rng.normal(size=20)
    x = np.column_stack([a, 2 * a])  # rank 1
    y = 3 * a + rng.normal(scale=0.1, size=20)
    expected = stats.pearsonr(a, y)[0] ** 2
    assert weighted_r_squared(y[:, None], x[:, :, None], np.ones((20, 1)))[0] == pytest.approx(
        expected, rel=1e-9
    )


# ---------------------------------------------------------------- ASR table intervals


def _samples(rng: np.random.Generator, p: dict[str, float], seeds=(0, 1, 2), n=300):
    rows = []
    for surrogate, prob in p.items():
        for seed in seeds:
            for target in ("VGG16", "ResNet50"):
                rows.append(
                    pd.DataFrame(
                        {
                            "dataset": "Digits",
                            "surrogate": surrogate,
                            "attack": "PGD",
                            "mode": "untargeted",
                            "eps": 8,
                            "target": target,
                            "seed": seed,
                            "index": np.arange(n),
                            "success_plain": rng.random(n) < prob,
                        }
                    )
                )
    return pd.concat(rows, ignore_index=True)


def test_asr_intervals_bracket_the_table_mean_and_have_the_documented_columns():
    rng = np.random.default_rng(6)
    samples = _samples(rng, {"ST": 0.4, "SAM": 0.8})
    out = asr_bootstrap_intervals(samples, resamples=300, seed=0)
    assert list(out.columns) == [
        "dataset", "surrogate", "attack", "mode", "eps", "target",
        "asr_ci_low", "asr_ci_high", "n_resamples",
    ]  # fmt: skip
    assert len(out) == 4 and (out["n_resamples"] == 300).all()
    per_seed = samples.groupby(["surrogate", "target", "seed"])["success_plain"].mean()
    table = 100 * per_seed.groupby(["surrogate", "target"]).mean()
    for row in out.itertuples():
        mean = table.loc[(row.surrogate, row.target)]
        assert row.asr_ci_low < mean < row.asr_ci_high
        assert row.asr_ci_high - row.asr_ci_low < 15
    sam = out[out["surrogate"] == "SAM"]
    assert (sam["asr_ci_low"] > 70).all()


def test_asr_intervals_are_reproducible_and_paired():
    rng = np.random.default_rng(7)
    samples = _samples(rng, {"ST": 0.4})
    twin = samples.assign(surrogate="ST copy")
    both = pd.concat([samples, twin], ignore_index=True)
    a = asr_bootstrap_intervals(both, resamples=200, seed=11)
    b = asr_bootstrap_intervals(both, resamples=200, seed=11)
    pd.testing.assert_frame_equal(a, b)
    st = a[a["surrogate"] == "ST"][["asr_ci_low", "asr_ci_high"]].to_numpy()
    copy = a[a["surrogate"] == "ST copy"][["asr_ci_low", "asr_ci_high"]].to_numpy()
    np.testing.assert_array_equal(st, copy)  # same draw for every row
    c = asr_bootstrap_intervals(both, resamples=200, seed=12)
    assert not np.array_equal(a["asr_ci_low"].to_numpy(), c["asr_ci_low"].to_numpy())


def test_asr_intervals_reject_missing_columns_and_duplicates():
    rng = np.random.default_rng(8)
    samples = _samples(rng, {"ST": 0.4}, seeds=(0,), n=20)
    with pytest.raises(ValueError, match="seed"):
        asr_bootstrap_intervals(samples.drop(columns="seed"), resamples=5, seed=0)
    with pytest.raises(ValueError, match="share cell, seed and index"):
        asr_bootstrap_intervals(pd.concat([samples, samples]), resamples=5, seed=0)


def test_asr_table_samples_reads_files_keyed_like_the_table_csv(tmp_path):
    from transferlab.tables.asr import aggregate_asr

    rng = np.random.default_rng(9)
    entries, summaries = [], []
    for surrogate, prob in (("ST", 0.3), ("SAM", 0.7)):
        for seed in (0, 1):
            rows = []
            for attack in ("pgd", "mi"):
                for eps in (4, 8):
                    success = rng.random(50) < prob
                    rows.append(
                        pd.DataFrame(
                            {
                                "index": np.arange(50),
                                "y": 0,
                                "attack": attack,
                                "mode": "untargeted",
                                "eps": eps,
                                "target": "VGG16",
                                "success_plain": success,
                            }
                        )
                    )
                    summaries.append(
                        {"dataset": "Digits", "surrogate": surrogate, "attack": attack.upper(),
                         "mode": "untargeted", "eps": eps / 255, "target": "VGG16", "seed": seed,
                         "asr": success.mean(), "asr_def3": np.nan}
                    )  # fmt: skip
            path = tmp_path / f"{surrogate}{seed}.samples.csv.gz"
            pd.concat(rows).to_csv(path, index=False, compression="gzip")
            entries.append({"samples": str(path), "surrogate": surrogate, "seed": seed})
    samples = asr_table_samples(entries, dataset="Digits", attacks=["pgd"], budgets=[8])
    assert set(samples["attack"]) == {"PGD"} and set(samples["eps"]) == {"8/255"}
    intervals = asr_bootstrap_intervals(samples, resamples=100, seed=0)
    table = aggregate_asr(pd.DataFrame(summaries))
    table["eps"] = table["eps"].map(lambda e: f"{round(e * 255)}/255")
    joined = table.merge(intervals, on=list(ASR_INTERVAL_KEYS), validate="one_to_one")
    assert len(joined) == 2  # ST and SAM at PGD 8/255
    assert (joined["asr_ci_low"] <= joined["asr_mean"]).all()
    assert (joined["asr_mean"] <= joined["asr_ci_high"]).all()
