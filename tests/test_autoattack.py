"""AutoAttack as a registered attack: 8-bit AEs within ε, stronger than PGD, untargeted only."""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
import torch

from tests.conftest import TINY_CONFIG
from transferlab.attacks import ATTACKS, attack_settings_names, build_attack, run_attack
from transferlab.config.checks import ConfigError, check_config
from transferlab.models import build_model
from transferlab.training.checkpoints import MODEL_FORMAT, atomic_torch_save, load_model
from transferlab.transfer.crafting import craft_adversarial_sets
from transferlab.transfer.quantization import quantize_within_budget
from transferlab.transfer.store import load_adversarial

EPS = 2  # 1/255 units: here PGD fools 7 of the 8 images and AutoAttack all of them
N, SIZE = 8, 16
ARCHITECTURE = {
    "arch": "vgg16",
    "width": 0.0625,
    "num_classes": 10,
    "mean": [0.5, 0.5, 0.5],
    "std": [0.25, 0.25, 0.25],
}


def grid_images(n: int = N, seed: int = 1) -> torch.Tensor:
    """Digits-like clean images: 8-bit pixels p/255, with saturated 0 and 1 regions."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 256, (n, 3, SIZE, SIZE), generator=g).float() / 255
    x[0, :, :4] = 0.0
    x[1, :, :4] = 1.0
    return x


@pytest.fixture(scope="module")
def crafted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """An untrained tiny VGG16 from the registry, attacked by PGD and AutoAttack through
    crafting; labels are the model's own clean predictions, so every image counts."""
    # Module fixtures run before conftest's per-test single-thread setting.
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("autoattack")
    torch.manual_seed(0)
    model = build_model(**ARCHITECTURE).eval()
    model_path = root / "model.pt"
    record = {
        "format": MODEL_FORMAT,
        "state_dict": model.state_dict(),
        # crafting checks the model file was trained on the data set it attacks
        "dataset": {"name": "digits", "options": {"size": SIZE}},
    }
    atomic_torch_save({**record, "architecture": ARCHITECTURE}, model_path)
    surrogate = load_model(model_path)
    x = grid_images()
    with torch.no_grad():
        y = surrogate(x).argmax(1)
    files = {}
    for name, settings in (("pgd", {"steps": 10}), ("autoattack", {})):
        files[name] = root / f"{name}-untargeted-eps{EPS}.h5"
        craft_adversarial_sets(
            model_path,
            [{"path": str(files[name]), "mode": "untargeted", "eps": EPS}],
            dataset={"name": "digits", "options": {"size": SIZE}},
            evaluation={"split": "test"},
            attack={"name": name, "settings": settings},
            batch_size=N,
            seed=0,
            log=lambda message: None,
            images=(x, y),
        )
    return {
        "files": files,
        "model": surrogate,
        "x": x,
        "y": y,
        "root": root,
        "model_path": model_path,
    }


def stored_pixels(path: Path) -> torch.Tensor:
    with h5py.File(path, "r") as handle:
        return torch.from_numpy(handle["x_adv"][...])


def white_box_success(model: torch.nn.Module, x_adv: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        return float((model(x_adv).argmax(1) != y).float().mean())


def test_every_stored_autoattack_example_is_within_eps_and_in_unit_box(crafted) -> None:
    pixels = stored_pixels(crafted["files"]["autoattack"])
    assert pixels.dtype == torch.uint8 and pixels.shape == crafted["x"].shape
    x_adv = pixels.double() / 255
    distance = (x_adv - crafted["x"].double()).abs().flatten(1).amax(1)
    assert bool((distance <= EPS / 255 + 1e-6).all()), distance * 255
    assert float(x_adv.min()) >= 0.0 and float(x_adv.max()) <= 1.0
    # the budget is used: some pixel of some AE sits on the boundary of the ball
    assert float(distance.max()) == pytest.approx(EPS / 255, abs=1e-6)


def test_autoattack_is_at_least_as_strong_as_pgd_white_box(crafted) -> None:
    model, y = crafted["model"], crafted["y"]
    success = {
        name: white_box_success(model, stored_pixels(path).float() / 255, y)
        for name, path in crafted["files"].items()
    }
    assert success["pgd"] < 1.0  # otherwise the comparison says nothing
    assert success["autoattack"] >= success["pgd"]


def test_file_records_fooling_rate_before_and_after_rounding(crafted) -> None:
    model, x, y = crafted["model"], crafted["x"], crafted["y"]
    adv = load_adversarial(crafted["files"]["autoattack"])
    attrs = adv.attrs
    assert attrs["attack"] == "autoattack" and adv.mode == "untargeted"
    assert attrs["attack_params"]["version"] == "standard"
    assert attrs["attack_params"]["package"].startswith("pyautoattack==")
    assert attrs["fp_after_rounding"] == pytest.approx(
        white_box_success(model, torch.from_numpy(adv.x_adv).float() / 255, y)
    )
    assert 0.0 <= attrs["fp_before_rounding"] <= 1.0
    # AutoAttack's float AEs stay in the ball, so rounding to the grid never leaves it.
    assert attrs["projected_pixels"] == 0 and attrs["projected_images"] == 0
    with h5py.File(crafted["files"]["autoattack"], "r") as handle:
        for key in ("fp_before_rounding", "fp_after_rounding", "projected_pixels"):
            assert key in handle.attrs
    assert torch.equal(torch.from_numpy(adv.pred_clean), y)
    assert len(adv) == len(x)


def test_autoattack_is_seeded_by_its_generator_and_leaves_global_state_alone(crafted) -> None:
    """The package seeds torch's global generator before each stage and clears the trace
    function: the seed comes from the batch's generator, and both are restored."""
    model, x, y = crafted["model"], crafted["x"], crafted["y"]
    attack = build_attack("autoattack", eps=EPS / 255)
    stored = stored_pixels(crafted["files"]["autoattack"])
    before = torch.get_rng_state()
    previous_trace = sys.gettrace()

    def tracer(frame: Any, event: str, arg: Any) -> None:  # a caller's tracer (coverage)
        return None

    sys.settrace(tracer)
    try:
        x_adv = run_attack(attack, model, x, y, N, 0)
        trace_after = sys.gettrace()
    finally:
        sys.settrace(previous_trace)
    assert trace_after is tracer
    assert torch.equal(torch.get_rng_state(), before)
    # run_attack's batch-0 generator with seed 0 is what crafting used
    assert torch.equal(torch.floor(x_adv * 255 + 0.5).to(torch.uint8), stored)


def test_targeted_autoattack_is_refused(crafted, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="autoattack.*no targeted mode"):
        build_attack("autoattack", eps=8 / 255, targeted=True)
    with pytest.raises(ValueError, match="no targeted mode"):
        craft_adversarial_sets(
            crafted["model_path"],
            [{"path": str(tmp_path / "t.h5"), "mode": "targeted", "eps": EPS}],
            dataset={"name": "digits", "options": {"size": SIZE}},
            evaluation={"split": "test"},
            attack={"name": "autoattack", "settings": {}},
            batch_size=N,
            seed=0,
            log=lambda message: None,
            images=(crafted["x"], crafted["y"]),
        )
    assert not (tmp_path / "t.h5").exists()


def test_registry_lists_autoattack_with_no_settings_to_tune() -> None:
    assert "autoattack" in ATTACKS.names()
    assert attack_settings_names("autoattack") == ["eps", "targeted"]
    assert ATTACKS.get("autoattack").supports_targeted is False
    assert ATTACKS.get("pgd").supports_targeted is True


def config_with_autoattack(modes: list[str]) -> dict[str, Any]:
    config = copy.deepcopy(TINY_CONFIG)
    config["datasets"]["digits"]["attacks"]["methods"]["autoattack"] = {}
    config["tables"]["table2"]["attacks"] = ["pgd", "autoattack"]
    config["modes"] = modes
    return config


def test_config_rejects_autoattack_in_a_table_that_crafts_targeted_sets() -> None:
    message = r"tables\.table2\.attacks: 'autoattack' has no targeted mode, but modes includes"
    with pytest.raises(ConfigError, match=message):
        check_config(config_with_autoattack(["untargeted", "targeted"]))
    check_config(config_with_autoattack(["untargeted"]))


def test_projection_puts_overshooting_pixels_back_on_the_ball() -> None:
    """Float AEs past the ball round to a grid value outside it; the projection clips them
    to the nearest grid value inside, checked against pixel arithmetic on the clean q."""
    eps = 3 / 255
    x = grid_images(n=4, seed=5)
    q_clean = torch.round(x * 255).long()
    sign = torch.where(torch.rand(x.shape, generator=torch.Generator().manual_seed(2)) < 0.5, -1, 1)
    # 0.7/255 past the ball rounds to q ± (k + 1); 0.3/255 past it rounds back inside.
    overshoot = torch.where(q_clean % 2 == 0, 0.7, 0.3) / 255
    x_adv = (x + sign * (eps + overshoot)).clamp(0, 1)
    pixels, counts = quantize_within_budget(x_adv, x, eps)
    expected = (q_clean + sign * 3).clamp(0, 255)
    assert torch.equal(torch.from_numpy(pixels).long(), expected)
    rounded = torch.floor(x_adv * 255 + 0.5).long()
    outside = (rounded - q_clean).abs() > 3
    assert counts["projected_pixels"] == int(outside.sum()) > 0
    assert counts["projected_images"] == int(outside.flatten(1).any(1).sum())


def test_projection_refuses_a_ball_without_grid_points() -> None:
    x = torch.full((1, 3, 2, 2), 0.5 / 255)  # halfway between two 8-bit values
    with pytest.raises(ValueError, match="no 8-bit value within eps"):
        quantize_within_budget(x.clone(), x, 0.0)
    pixels, counts = quantize_within_budget(x.clone(), x, 1 / 255)
    assert np.array_equal(pixels, np.ones((1, 3, 2, 2), np.uint8))
    assert counts == {"projected_pixels": 0, "projected_images": 0}
