"""Transfer success (SPEC §8): both ASR definitions, stored-image evaluation, tables."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from transferlab.attacks import build_attack, run_attack
from transferlab.tables.asr import aggregate_asr, render_part_markdown
from transferlab.transfer.quantization import quantize_images
from transferlab.transfer.store import load_adversarial, write_adversarial
from transferlab.transfer.success import (
    evaluate_transfer,
    per_sample_outcomes,
    predict_labels,
    transfer_success,
)

# Six samples, K = 10. Sample 3: the target misclassifies the clean image;
# sample 4: the surrogate does. Both are outside Definition 3's denominator.
Y = [0, 1, 2, 3, 4, 5]
SURROGATE_CLEAN = [0, 1, 2, 3, 9, 5]
TARGET_CLEAN = [0, 1, 2, 9, 4, 5]


def test_untargeted_rates_by_hand() -> None:
    summary = transfer_success(
        Y,
        [7, 7, 2, 7, 7, 5],  # G(x'): fooled on 0, 1, 3, 4
        pred_target_clean=TARGET_CLEAN,
        pred_surrogate_clean=SURROGATE_CLEAN,
        pred_surrogate_adv=[7, 1, 7, 7, 7, 7],  # F(x'): fooled on all but 1
    )
    assert summary["n"] == 6
    assert summary["asr"] == pytest.approx(4 / 6)
    # Eligible {0, 1, 2, 5}; both fooled only on 0.
    assert summary["n_def3"] == 4
    assert summary["asr_def3"] == pytest.approx(1 / 4)
    assert summary["fp"] == pytest.approx(5 / 6)
    assert math.isnan(summary["target_hit_rate"])
    assert summary["surrogate_clean_accuracy"] == pytest.approx(5 / 6)
    assert summary["target_clean_accuracy"] == pytest.approx(5 / 6)


def test_targeted_rates_by_hand() -> None:
    y_target = [1, 2, 3, 4, 5, 6]  # (y + 1) mod 10
    summary = transfer_success(
        Y,
        [1, 0, 3, 4, 5, 6],  # G hits all but sample 1 (fooled, wrong class)
        pred_target_clean=TARGET_CLEAN,
        pred_surrogate_clean=SURROGATE_CLEAN,
        pred_surrogate_adv=[1, 2, 3, 0, 5, 6],  # F hits all but sample 3
        y_target=y_target,
    )
    assert summary["mode"] == "targeted"
    assert summary["asr"] == pytest.approx(5 / 6)
    assert summary["target_hit_rate"] == pytest.approx(5 / 6)
    # Eligible {0, 1, 2, 5}; both hit on 0, 2, 5.
    assert summary["n_def3"] == 4
    assert summary["asr_def3"] == pytest.approx(3 / 4)
    assert summary["fp"] == pytest.approx(5 / 6)


def test_plain_asr_floor_is_the_targets_clean_error() -> None:
    """A useless attack (x' = x) still scores the target's clean error in plain ASR, 0 in Def. 3."""
    summary = transfer_success(
        Y,
        TARGET_CLEAN,
        pred_target_clean=TARGET_CLEAN,
        pred_surrogate_clean=SURROGATE_CLEAN,
        pred_surrogate_adv=SURROGATE_CLEAN,
    )
    assert summary["asr"] == pytest.approx(1 / 6)
    assert summary["asr_def3"] == 0.0


def test_empty_definition3_denominator_is_nan() -> None:
    summary = transfer_success(
        [0, 1],
        [5, 5],
        pred_target_clean=[0, 9],
        pred_surrogate_clean=[9, 1],
        pred_surrogate_adv=[5, 5],
    )
    assert summary["n_def3"] == 0 and math.isnan(summary["asr_def3"])


def test_per_sample_outcomes_columns() -> None:
    frame = per_sample_outcomes(
        Y,
        [7, 7, 2, 7, 7, 5],
        pred_target_clean=TARGET_CLEAN,
        pred_surrogate_clean=SURROGATE_CLEAN,
        pred_surrogate_adv=[7, 1, 7, 7, 7, 7],
        index=[10, 11, 12, 13, 14, 15],
    )
    required = {
        "index",
        "y",
        "y_target",
        "surrogate_clean_correct",
        "target_clean_correct",
        "surrogate_fooled",
        "target_fooled",
        "target_hit",
    }
    assert required <= set(frame.columns)
    assert frame["index"].tolist() == [10, 11, 12, 13, 14, 15]
    assert frame["target_fooled"].tolist() == [True, True, False, True, True, False]
    assert frame["surrogate_fooled"].tolist() == [True, False, True, True, True, True]
    assert frame["eligible_def3"].tolist() == [True, True, True, False, False, True]
    assert frame["success_def3"].tolist() == [True, False, False, False, False, False]
    assert not frame["target_hit"].any()
    with pytest.raises(ValueError, match="pred_target_clean has 5 entries"):
        per_sample_outcomes(
            Y,
            Y,
            pred_target_clean=Y[:5],
            pred_surrogate_clean=Y,
            pred_surrogate_adv=Y,
        )


class TinyNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv2d(3, 6, 3, padding=1)
        self.head = nn.Linear(6, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.relu(self.conv(x)).mean(dim=(2, 3)))


class OffGridProbe(nn.Module):
    """Predicts class 1 iff some pixel is off the 1/255 grid, else class 0."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scaled = x * 255
        off = ((scaled - scaled.round()).abs() > 1e-3).flatten(1).any(dim=1).float()
        return torch.stack([1 - off, off], dim=1)


def grid_images(n: int, seed: int = 1) -> torch.Tensor:
    """Random images on the 8-bit grid k/255, as every data set's (SPEC §7)."""
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, 3, 8, 8), generator=g).float() / 255


def stored_attack(
    tmp_path: Path, targeted: bool, **attrs: object
) -> tuple[Path, torch.Tensor, torch.Tensor]:
    model = TinyNet().eval()
    x = grid_images(16)
    y = torch.randint(0, 10, (16,), generator=torch.Generator().manual_seed(2))
    attack = build_attack("pgd", eps=8 / 255, steps=3, step_size=3.3 / 255, targeted=targeted)
    x_float = run_attack(attack, model, x, y, batch_size=8, seed=0)
    pixels = quantize_images(x_float)
    pred_adv = predict_labels(model, torch.from_numpy(pixels).float() / 255, batch_size=5)
    path = tmp_path / "aes.h5"
    write_adversarial(
        path,
        x_adv=pixels,
        index=np.arange(16),
        y=y,
        y_target=(y + 1) % 10 if targeted else None,
        pred_clean=predict_labels(model, x, batch_size=5),
        pred_adv=pred_adv,
        attrs={
            "attack": "pgd",
            "attack_params": attack.settings(),
            "eps": attack.eps,
            "dataset": "synthetic",
            "split": "test",
            "surrogate_checkpoint": "none",
            "surrogate_sha256": "0" * 64,
            **attrs,
        },
    )
    return path, x, y


@pytest.mark.parametrize("targeted", [False, True])
def test_surrogate_as_target_reproduces_recorded_predictions(
    tmp_path: Path, targeted: bool
) -> None:
    path, x, _ = stored_attack(tmp_path, targeted)
    adv_set = load_adversarial(path)
    summary, outcomes = evaluate_transfer(adv_set, TinyNet(), x, batch_size=7)
    assert outcomes["pred_target_adv"].tolist() == adv_set.pred_adv.tolist()
    assert outcomes["pred_target_clean"].tolist() == adv_set.pred_clean.tolist()
    assert summary["asr"] == pytest.approx(summary["fp"])


def test_evaluation_sees_the_stored_8bit_images(tmp_path: Path) -> None:
    # Step 3.3/255 leaves the float AEs off the 1/255 grid; only q/255 is on it.
    path, x, y = stored_attack(tmp_path, targeted=False)
    attack = build_attack("pgd", eps=8 / 255, steps=3, step_size=3.3 / 255)
    x_float = run_attack(attack, TinyNet().eval(), x, y, batch_size=8, seed=0)
    assert (predict_labels(OffGridProbe(), x_float, batch_size=16) == 1).any()
    adv_set = load_adversarial(path)
    _, outcomes = evaluate_transfer(adv_set, OffGridProbe(), x, batch_size=16)
    assert (outcomes["pred_target_adv"] == 0).all()
    assert (outcomes["pred_target_clean"] == 0).all()  # clean images are on the grid too


def test_transfer_check_is_exactly_the_budget(tmp_path: Path) -> None:
    """Stored AEs may be at most ε from their 8-bit clean images: not ε + ½/255."""
    path, x, _ = stored_attack(tmp_path, targeted=False)
    adv_set = load_adversarial(path)
    q_clean = quantize_images(x)
    assert int(np.abs(adv_set.x_adv.astype(int) - q_clean.astype(int)).max()) == 8
    evaluate_transfer(adv_set, TinyNet(), x, batch_size=16)  # exactly ε: accepted
    # one pixel moved to ε + 1/255 from its clean value
    over = adv_set.x_adv.copy()
    flat_clean, flat = q_clean.reshape(-1).astype(int), over.reshape(-1)
    k = int(np.argmax(flat_clean < 200))
    flat[k] = flat_clean[k] + 9
    adv_set.x_adv = over
    with pytest.raises(ValueError, match="9.00/255 from x_clean"):
        evaluate_transfer(adv_set, TinyNet(), x, batch_size=16)


def test_misaligned_clean_images_are_rejected(tmp_path: Path) -> None:
    path, x, _ = stored_attack(tmp_path, targeted=False)
    adv_set = load_adversarial(path)
    with pytest.raises(ValueError, match="x_split\\[adv_set.index\\]"):
        evaluate_transfer(adv_set, TinyNet(), x.flip(0), batch_size=16)
    with pytest.raises(ValueError, match="holds 16"):
        evaluate_transfer(adv_set, TinyNet(), x[:5], batch_size=16)


def test_given_clean_predictions_are_used_and_checked(tmp_path: Path) -> None:
    path, x, _ = stored_attack(tmp_path, targeted=False)
    adv_set = load_adversarial(path)
    _, computed = evaluate_transfer(adv_set, OffGridProbe(), x, batch_size=16)
    given = np.full(len(x), 7, dtype=np.int64)
    _, reused = evaluate_transfer(
        adv_set, OffGridProbe(), x, batch_size=16, pred_target_clean=given
    )
    assert (computed["pred_target_clean"] == 0).all()
    assert (reused["pred_target_clean"] == 7).all()
    assert reused["pred_target_adv"].tolist() == computed["pred_target_adv"].tolist()
    with pytest.raises(ValueError, match="pred_target_clean has shape"):
        evaluate_transfer(adv_set, OffGridProbe(), x, batch_size=16, pred_target_clean=given[:3])


def seed_frame() -> pd.DataFrame:
    rows = []
    for seed, (u, t) in enumerate([(0.50, 0.10), (0.60, 0.20), (0.70, 0.30)]):
        for surrogate, shift in (("ST", 0.0), ("SAM", 0.1)):
            rows.append(
                ("digits", surrogate, "pgd", "untargeted", 4 / 255, "VGG16", seed, u + shift)
            )
            rows.append(("digits", surrogate, "pgd", "targeted", 4 / 255, "VGG16", seed, t + shift))
    frame = pd.DataFrame(
        rows, columns=["dataset", "surrogate", "attack", "mode", "eps", "target", "seed", "asr"]
    )
    frame["asr_def3"] = frame["asr"] / 2
    return frame


def test_aggregate_asr_mean_and_sample_std() -> None:
    table = aggregate_asr(seed_frame())
    assert len(table) == 4
    st_u = table[(table.surrogate == "ST") & (table["mode"] == "untargeted")].iloc[0]
    # 50, 60, 70 %: mean 60, sample std sqrt(((−10)² + 0 + 10²) / 2) = 10.
    assert st_u.asr_mean == pytest.approx(60.0)
    assert st_u.asr_std == pytest.approx(10.0)
    assert st_u.asr_def3_mean == pytest.approx(30.0)
    assert st_u.asr_def3_std == pytest.approx(5.0)
    assert st_u.n_seeds == 3
    single = aggregate_asr(seed_frame().query("seed == 0"))
    assert (single.asr_std == 0).all() and (single.n_seeds == 1).all()
    with pytest.raises(ValueError, match="asr_def3"):
        aggregate_asr(seed_frame().drop(columns="asr_def3"))


def test_render_markdown_layout() -> None:
    text = render_part_markdown(aggregate_asr(seed_frame()), surrogate_order=["SAM", "ST"])
    assert text == (
        "| Surrogate | U 4/255 VGG16 | T 4/255 VGG16 |\n"
        "|---|---|---|\n"
        "| SAM | 70.0±10.0 | 30.0±10.0 |\n"
        "| ST | 60.0±10.0 | 20.0±10.0 |\n"
    )
    with_mi = pd.concat([seed_frame(), seed_frame().assign(attack="mi", asr=0.9)])
    lines = render_part_markdown(aggregate_asr(with_mi)).splitlines()
    assert [line.split(" | ")[0] for line in lines[2:]] == ["| ST", "| ST+MI", "| SAM", "| SAM+MI"]
    assert lines[3] == "| ST+MI | 90.0±0.0 | 90.0±0.0 |"


def test_attack_command_needs_all_three_transfer_outputs_or_none() -> None:
    from transferlab.cli import main

    with pytest.raises(SystemExit, match="--targets, --out and --samples together"):
        main(["attack", "--model", "m.pt", "--spec", "{}", "--outputs", "[]", "--targets", "{}"])


@pytest.fixture(scope="module")
def two_surrogates(tmp_path_factory) -> tuple[Path, Path]:
    """Two tiny trained digits models (size 8): the surrogate and a stranger."""
    from transferlab.training.loop import train_model

    root = tmp_path_factory.mktemp("surrogates")
    paths = []
    for seed in (0, 1):
        spec = {
            "dataset": {"name": "digits", "options": {"size": 8}},
            "architecture": {"arch": "resnet18", "width": 0.125},
            "training": {"epochs": 1, "lr": 0.05, "batch_size": 128},
            "mechanism": {"name": "st", "tau_index": 1, "tau": None, "settings": {}},
            "seed": seed,
        }
        path = root / f"m{seed}.pt"
        train_model(spec, path, log=lambda m: None)
        paths.append(path)
    return paths[0], paths[1]


DIGITS = {"name": "digits", "options": {"size": 8}}
EVALUATION = {"split": "test", "n_samples": 16}


def _crafted(tmp_path: Path, surrogate: Path) -> Path:
    from transferlab.transfer.crafting import craft_adversarial_sets

    out = tmp_path / "untargeted-eps8.h5"
    craft_adversarial_sets(
        surrogate,
        [{"path": str(out), "mode": "untargeted", "eps": 8}],
        dataset=DIGITS,
        evaluation=EVALUATION,
        attack={"name": "pgd", "settings": {"steps": 2}},
        batch_size=16,
        seed=0,
        log=lambda m: None,
    )
    return out


def _rewritten(path: Path, out: Path, **attrs: object) -> Path:
    adv = load_adversarial(path)
    keep = {k: v for k, v in adv.attrs.items() if k in (
        "attack", "attack_params", "eps", "dataset", "split", "seed",
        "surrogate_checkpoint", "surrogate_sha256",
    )}  # fmt: skip
    write_adversarial(
        out,
        x_adv=adv.x_adv,
        index=attrs.pop("index", adv.index),
        y=adv.y,
        y_target=None,
        pred_clean=adv.pred_clean,
        pred_adv=adv.pred_adv,
        attrs={**keep, **attrs},
    )
    return out


def test_transfer_refuses_files_from_another_surrogate_data_set_or_split(
    tmp_path: Path, two_surrogates
) -> None:
    from transferlab.transfer.crafting import evaluate_adversarial_sets
    from transferlab.transfer.store import AdversarialFileError

    surrogate, stranger = two_surrogates
    good = _crafted(tmp_path, surrogate)

    def evaluate(path: Path, model: Path = surrogate, evaluation: dict = EVALUATION) -> None:
        evaluate_adversarial_sets(
            [path],
            {"VGG": stranger},
            surrogate=model,
            dataset=DIGITS,
            evaluation=evaluation,
            batch_size=16,
            log=lambda m: None,
        )

    evaluate(good)  # the file's own surrogate, data set and split: accepted
    cases = [
        (good, {"model": stranger}, "another surrogate"),
        (_rewritten(good, tmp_path / "c.h5", dataset="cifar10"), {}, "dataset 'cifar10'"),
        (_rewritten(good, tmp_path / "t.h5", split="train"), {}, "split 'train'"),
        (good, {"evaluation": {"split": "test", "n_samples": 8}}, "outside the 8 evaluation"),
    ]
    for path, kwargs, message in cases:
        with pytest.raises(AdversarialFileError, match=message) as info:
            evaluate(path, **kwargs)
        assert str(path) in str(info.value)


def test_cli_reports_a_foreign_ae_file_and_a_truncated_model_in_one_line(
    tmp_path: Path, two_surrogates, capsys
) -> None:
    import json

    from transferlab.cli import main

    surrogate, stranger = two_surrogates
    good = _crafted(tmp_path, surrogate)
    spec = json.dumps({"dataset": DIGITS, "evaluation": EVALUATION, "batch_size": 16})
    code = main(
        [
            "transfer", "--adversarial", str(good), "--surrogate", str(stranger),
            "--targets", json.dumps({"VGG": str(stranger)}), "--spec", spec,
            "--out", str(tmp_path / "t.csv"), "--samples", str(tmp_path / "t.csv.gz"),
        ]
    )  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and str(good) in err[0] and "another surrogate" in err[0]
    assert not (tmp_path / "t.csv").exists()

    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(surrogate.read_bytes()[:5000])
    metrics = {"split": "test", "n_samples": 4, "batch_size": 4, "smoothness_method": "auto",
               "tol": 1e-4, "max_iter": 10}  # fmt: skip
    code = main(
        [
            "measure", "--model", str(truncated), "--spec",
            json.dumps({"dataset": DIGITS, "metrics": metrics}),
            "--smoothness", str(tmp_path / "s.csv"), "--summary", str(tmp_path / "s.json"),
            "--gradients", str(tmp_path / "g.pt"),
        ]
    )  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert str(truncated) in err[0] and "not a readable" in err[0]
