"""The claims check (transferlab.explain.claims) on synthetic worlds with known answers."""

from __future__ import annotations

import gzip
import json
import math

import numpy as np
import pandas as pd
import pytest

from tests.claims_world import World, build_inputs, paper_world, reversed_world
from transferlab.explain.analysis import surrogate_table
from transferlab.explain.claims import (
    CLAIMS,
    CLAIMS_COLUMNS,
    ClaimsInputs,
    check_claims,
    claims_inputs,
    render_claims_markdown,
)
from transferlab.tables.table6 import table6
from transferlab.tables.table7 import table7

RESAMPLES = 200
IDS = [claim.id for claim in CLAIMS]


def _verdicts(frame: pd.DataFrame) -> dict[str, str]:
    return dict(zip(frame["claim"], frame["verdict"], strict=True))


def _row(frame: pd.DataFrame, claim: str) -> pd.Series:
    return frame.set_index("claim").loc[claim]


@pytest.fixture(scope="module")
def paper_inputs() -> ClaimsInputs:
    return build_inputs(paper_world())


@pytest.fixture(scope="module")
def paper_claims(paper_inputs) -> pd.DataFrame:
    return check_claims(paper_inputs, resamples=RESAMPLES, seed=0)


# ---------------------------------------------------------------- verdicts with known answers


def test_frame_layout_one_row_per_claim(paper_claims):
    assert list(paper_claims.columns) == list(CLAIMS_COLUMNS)
    assert paper_claims["claim"].tolist() == IDS
    assert (paper_claims["dataset"] == "Toy").all()
    assert (paper_claims["n_resamples"] == RESAMPLES).all()
    assert {"C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8"} <= set(IDS)


def test_a_world_built_like_the_paper_supports_every_claim(paper_claims):
    assert _verdicts(paper_claims) == dict.fromkeys(IDS, "supported")
    inside = (paper_claims["ci_low"] <= paper_claims["ci_high"]).all()
    assert inside


def test_reversed_effects_are_contradicted():
    frame = check_claims(build_inputs(reversed_world()), resamples=RESAMPLES, seed=0)
    verdicts = _verdicts(frame)
    for claim in ("C4a", "C4b", "C4", "C5", "C8a", "C8"):
        assert verdicts[claim] == "contradicted", claim
    for claim in ("C1", "C2", "C3", "C8b"):  # untouched by the reversal
        assert verdicts[claim] == "supported", claim


def test_zero_effect_is_inconclusive():
    # strong MU/CM/LS get ST's own per-sample values, permuted over images: equal means
    inputs = build_inputs(paper_world(), copy_of={"MU": "ST~", "CM": "ST~", "LS": "ST~"})
    frame = check_claims(inputs, resamples=RESAMPLES, seed=0)
    for claim in ("C4a", "C4b"):
        row = _row(frame, claim)
        assert row["value"] == pytest.approx(0.0, abs=1e-12)
        assert row["ci_low"] < 0 < row["ci_high"]
        assert row["verdict"] == "inconclusive"
    assert _row(frame, "C4")["verdict"] == "inconclusive"


def test_identical_models_have_a_zero_width_paired_difference():
    inputs = build_inputs(paper_world(), copy_of={"MU": "ST", "CM": "ST", "LS": "ST"})
    frame = check_claims(inputs, resamples=RESAMPLES, seed=0)
    for claim in ("C4a", "C4b"):
        row = _row(frame, claim)
        assert (row["value"], row["ci_low"], row["ci_high"]) == (0.0, 0.0, 0.0)
        assert row["verdict"] == "inconclusive"


def test_intervals_are_reproducible_for_a_seed_and_change_with_it(paper_inputs, paper_claims):
    again = check_claims(paper_inputs, resamples=RESAMPLES, seed=0)
    pd.testing.assert_frame_equal(paper_claims, again)
    other = check_claims(paper_inputs, resamples=RESAMPLES, seed=1)
    single = [claim.id for claim in CLAIMS if not claim.parts]  # combined z's use the se
    pick = paper_claims["claim"].isin(single)
    pd.testing.assert_series_equal(paper_claims["value"][pick], other["value"][pick])
    assert not np.allclose(paper_claims["ci_low"], other["ci_low"], equal_nan=True)


# ---------------------------------------------------------------- not evaluated


def test_a_missing_mechanism_gives_not_evaluated_with_a_reason():
    world = paper_world()
    world.configs = [c for c in world.configs if c.method != "AT"]
    world.table7_offsets.pop("AT")
    frame = check_claims(build_inputs(world), resamples=50, seed=0)
    for claim in ("C1a", "C1b", "C1", "C2", "C3"):
        row = _row(frame, claim)
        assert row["verdict"] == "not evaluated", claim
        assert "AT" in row["note"] or "C1a" in row["note"], row["note"]
        assert math.isnan(row["value"])
    assert _row(frame, "C5")["verdict"] == "supported"


def test_missing_table7_and_table_rows_give_not_evaluated():
    world = paper_world()
    world.table7_offsets = {}
    for config in world.configs:
        config.table_row = None
    frame = check_claims(build_inputs(world), resamples=50, seed=0)
    for claim in ("C8a", "C8b", "C8"):
        assert _row(frame, claim)["verdict"] == "not evaluated"
    assert "Table VII" in _row(frame, "C8a")["note"]
    assert "table_row" in _row(frame, "C6")["note"]


def test_partly_configured_augmentations_are_named_in_the_note():
    world = paper_world()
    world.configs = [c for c in world.configs if c.method not in ("CM", "LS")]
    frame = check_claims(build_inputs(world), resamples=50, seed=0)
    row = _row(frame, "C4b")
    assert row["verdict"] == "supported"
    assert "not configured: CM, LS" in row["note"]


# ---------------------------------------------------------------- statistics by hand


def _per_model(inputs: ClaimsInputs) -> dict[str, pd.DataFrame]:
    keys = ["method", "tau_index", "seed"]
    transfer = inputs.transfer
    asr = transfer.groupby([*keys, "mode", "eps", "target"], as_index=False)["success_plain"].mean()
    fp = (
        transfer[transfer["target"] == transfer["target"].iloc[0]]
        .groupby([*keys, "mode", "eps"], as_index=False)["surrogate_success"]
        .mean()
    )
    sigma = inputs.smoothness.groupby(keys, as_index=False)["sigma"].mean()
    gs = inputs.similarity.groupby([*keys, "target"], as_index=False)["similarity"].mean()
    return {"asr": asr, "fp": fp, "sigma": sigma, "gs": gs}


def test_c1a_equals_the_pooled_asr_difference_computed_by_hand(paper_inputs, paper_claims):
    asr = _per_model(paper_inputs)["asr"]
    mid = asr[(asr["mode"] == "untargeted") & (asr["eps"] == 8)]
    per_config = 100 * mid.groupby(["method", "tau_index", "target"])["success_plain"].mean()
    pooled = per_config.groupby(["method", "tau_index"]).mean()
    expected = max(pooled[("AT", 1)], pooled[("AT", 2)]) - pooled[("ST", 1)]
    assert _row(paper_claims, "C1a")["value"] == pytest.approx(expected, rel=1e-12)
    c1b = pooled[("AT", 4)] - max(pooled[("AT", j)] for j in (1, 2, 3))
    assert _row(paper_claims, "C1b")["value"] == pytest.approx(c1b, rel=1e-12)


def test_c7_equals_table6_statistics_of_the_per_model_means(paper_inputs, paper_claims):
    parts = _per_model(paper_inputs)
    keys = ["dataset", "method", "tau_index", "seed"]
    models = paper_inputs.models.assign(tau=paper_inputs.models["tau"].astype(str))
    transfer = parts["asr"].merge(parts["fp"], on=["method", "tau_index", "seed", "mode", "eps"])
    transfer = transfer.assign(dataset="Toy", eps=transfer["eps"].map(lambda e: f"{e}/255")).rename(
        columns={"success_plain": "asr", "surrogate_success": "fp"}
    )
    joined = surrogate_table(
        models,
        parts["sigma"].assign(dataset="Toy").rename(columns={"sigma": "sigma_mean"}),
        parts["gs"].assign(dataset="Toy").rename(columns={"similarity": "similarity_mean"}),
        transfer[[*keys, "target", "eps", "mode", "asr", "fp"]],
    )
    wide = table6(joined).pivot_table(index=["target", "eps"], columns="statistic", values="value")
    margin = np.minimum(wide["r_ms_asr"], wide["r_gs_asr"]) - np.maximum(
        wide["r_acc_asr"].abs(), wide["r_fp_asr"].abs()
    )
    assert _row(paper_claims, "C7a")["value"] == pytest.approx(margin.mean(), rel=1e-9)
    ratio = (wide["r2_ms_gs"] / wide["r2_all"]).mean()
    assert _row(paper_claims, "C7b")["value"] == pytest.approx(ratio, rel=1e-9)


def test_c8_equals_table7_scores_of_the_pair_means(paper_inputs, paper_claims):
    pairs = (
        paper_inputs.table7.groupby(["source_label", "source_seed", "target_label"])["similarity"]
        .mean()
        .reset_index()
        .rename(
            columns={
                "source_label": "source_method",
                "target_label": "target_method",
                "similarity": "similarity_mean",
            }
        )
    )
    _, scores = table7(pairs)
    scores = scores.set_index("surrogate")["score"]
    assert _row(paper_claims, "C8a")["value"] == scores[["CO", "CM", "MU", "LS"]].max()
    d = ["IR", "JR", "ER", "SAM", "SAM&IR", "SAM&JR"]
    assert _row(paper_claims, "C8b")["value"] == scores[d].min()


# ---------------------------------------------------------------- loader (pipeline file formats)


def _write_pipeline_files(inputs: ClaimsInputs, root) -> tuple[list[dict], dict]:
    entries = []
    for model in inputs.models.itertuples(index=False):
        stem = root / f"{model.method.replace('&', '_')}_tau{model.tau_index}_seed{model.seed}"
        keys = (model.method, model.tau_index, model.seed)

        def select(frame: pd.DataFrame, keys=keys) -> pd.DataFrame:
            mask = (
                (frame["method"] == keys[0])
                & (frame["tau_index"] == keys[1])
                & (frame["seed"] == keys[2])
            )
            return frame[mask]

        record = stem.with_suffix(".json")
        record.write_text(json.dumps({"metrics": {"test_acc": model.test_acc}}))
        transfer = select(inputs.transfer)
        targeted = transfer["mode"] == "targeted"
        samples = pd.DataFrame(
            {
                "index": transfer["index"],
                "y": transfer["y"],
                "success_plain": transfer["success_plain"],
                # the surrogate's own success, spelled as per_sample_outcomes does
                "surrogate_fooled": np.where(targeted, False, transfer["surrogate_success"]),
                "surrogate_hit": np.where(targeted, transfer["surrogate_success"], False),
                "attack": "pgd",
                "mode": transfer["mode"],
                "eps": transfer["eps"],
                "target": transfer["target"],
            }
        )
        samples_path = stem.with_suffix(".samples.csv.gz")
        with gzip.open(samples_path, "wt") as handle:
            samples.to_csv(handle, index=False)
        smoothness = stem.with_suffix(".csv")
        select(inputs.smoothness)[["index", "y", "sigma"]].to_csv(smoothness, index=False)
        entries.append(
            {
                "dataset": model.dataset,
                "surrogate": model.surrogate,
                "method": model.method,
                "tau_index": model.tau_index,
                "tau": model.tau,
                "seed": model.seed,
                "record": str(record),
                "smoothness": str(smoothness),
                "transfer_samples": str(samples_path),
                "table_row": model.table_row,
            }
        )
    # two target seeds whose similarities average to the world's value
    sim = inputs.similarity
    targets = pd.concat(
        [
            pd.DataFrame(
                {
                    "index": sim["index"],
                    "similarity": sim["similarity"] + shift,
                    "source_label": "x",
                    "source_method": sim["method"],
                    "source_tau_index": sim["tau_index"],
                    "source_seed": sim["seed"],
                    "target_label": sim["target"],
                    "target_seed": target_seed,
                }
            )
            for target_seed, shift in ((0, 0.25), (1, -0.25))
        ]
    )
    targets_path = root / "targets.samples.csv.gz"
    targets.to_csv(targets_path, index=False, compression="gzip")
    table7_path = root / "table7.samples.csv.gz"
    inputs.table7.drop(columns="dataset").assign(target_seed=0).to_csv(
        table7_path, index=False, compression="gzip"
    )
    return entries, {"Toy": {"targets": str(targets_path), "table7": str(table7_path)}}


def test_loader_reads_the_pipeline_files_into_the_same_claims(tmp_path):
    world = World(paper_world().configs, seeds=(0, 1), n_images=60, n_metric_images=40)
    world.table7_offsets = paper_world().table7_offsets
    inputs = build_inputs(world)
    entries, similarity = _write_pipeline_files(inputs, tmp_path)
    loaded = claims_inputs(entries, similarity)
    direct = check_claims(inputs, resamples=50, seed=3)
    from_files = check_claims(loaded, resamples=50, seed=3)
    pd.testing.assert_frame_equal(direct, from_files, check_exact=False, rtol=1e-9)


def test_loader_names_a_missing_entry_key_and_a_missing_column(tmp_path):
    with pytest.raises(ValueError, match="smoothness"):
        claims_inputs([{"dataset": "Toy", "method": "ST"}], {})
    bad = tmp_path / "s.csv"
    bad.write_text("index,y\n0,1\n")
    record = tmp_path / "r.json"
    record.write_text(json.dumps({"metrics": {"test_acc": 0.9}}))
    samples = tmp_path / "t.csv"
    pd.DataFrame(
        {
            "index": [0], "y": [1], "mode": ["untargeted"], "eps": [8], "target": ["T"],
            "success_plain": [True], "surrogate_fooled": [True], "surrogate_hit": [False],
        }
    ).to_csv(samples, index=False)  # fmt: skip
    entry = {
        "dataset": "Toy", "surrogate": "ST", "method": "ST", "tau_index": 1, "tau": None,
        "seed": 0, "record": str(record), "smoothness": str(bad), "transfer_samples": str(samples),
    }  # fmt: skip
    with pytest.raises(ValueError, match=r"s\.csv.*sigma"):
        claims_inputs([entry], {})


# ---------------------------------------------------------------- options and rendering


def test_bad_options_raise_clear_errors(paper_inputs):
    with pytest.raises(ValueError, match="budget_position 3 out of range"):
        check_claims(paper_inputs, resamples=10, seed=0, budget_position=3)
    with pytest.raises(ValueError, match="mode"):
        check_claims(paper_inputs, resamples=10, seed=0, mode="both")
    with pytest.raises(ValueError, match="resamples"):
        check_claims(paper_inputs, resamples=0, seed=0)


def test_inputs_name_missing_columns(paper_inputs):
    with pytest.raises(ValueError, match=r"smoothness lacks column\(s\) \['sigma'\]"):
        ClaimsInputs(
            models=paper_inputs.models,
            transfer=paper_inputs.transfer,
            smoothness=paper_inputs.smoothness.drop(columns="sigma"),
            similarity=paper_inputs.similarity,
        )


def test_markdown_lists_every_claim_its_verdict_and_the_definitions(paper_claims):
    text = render_claims_markdown(paper_claims)
    assert text.startswith("# Which of the paper's claims does this run support?")
    table = [line for line in text.splitlines() if line.startswith("| C")]
    assert [line.split(" | ")[0][2:] for line in table] == IDS
    assert all("**supported**" in line for line in table)
    assert all(line.count("|") == 11 for line in table)  # 10 cells: no stray | in a cell
    assert "## Definitions" in text and "Bonferroni" in text
    assert f"{RESAMPLES} resamples" in text
    with pytest.raises(ValueError, match="verdict"):
        render_claims_markdown(paper_claims.drop(columns="verdict"))


def test_each_data_set_is_checked_on_its_own_draws():
    toy = build_inputs(World(paper_world().configs, n_images=120, n_metric_images=60))
    other_world = World(
        [c for c in paper_world().configs if c.method != "AT"],
        n_images=90,
        n_metric_images=60,
        dataset="Other",
        rng_seed=2,
    )
    other = build_inputs(other_world)
    both = ClaimsInputs(
        **{
            name: pd.concat([getattr(toy, name), getattr(other, name)], ignore_index=True)
            for name in ("models", "transfer", "smoothness", "similarity")
        }
    )
    frame = check_claims(both, resamples=50, seed=0)
    assert frame["dataset"].tolist() == ["Toy"] * len(IDS) + ["Other"] * len(IDS)
    alone = check_claims(
        ClaimsInputs(toy.models, toy.transfer, toy.smoothness, toy.similarity),
        resamples=50,
        seed=0,
    )
    pd.testing.assert_frame_equal(frame[frame["dataset"] == "Toy"], alone)
    assert _row(frame[frame["dataset"] == "Other"], "C2")["verdict"] == "not evaluated"


def test_a_model_missing_one_file_is_left_out_not_fatal():
    inputs = build_inputs(World(paper_world().configs, n_images=120, n_metric_images=60))
    lacking = (inputs.smoothness["method"] == "SAM&JR") & (inputs.smoothness["seed"] == 2)
    partial = ClaimsInputs(
        inputs.models, inputs.transfer, inputs.smoothness[~lacking], inputs.similarity
    )
    frame = check_claims(partial, resamples=50, seed=0)
    assert "1 models lack a factor and are left out" in _row(frame, "C7a")["note"]
    assert _row(frame, "C5")["verdict"] != "not evaluated"
    evaluated = frame[~frame["claim"].str.startswith("C8")]  # no Table VII given here
    assert not evaluated["value"].isna().any()
