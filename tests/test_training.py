"""Training loop: schedule math, determinism, and exact resume after kill -9."""

from __future__ import annotations

import copy
import json
import math
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from tests.conftest import subprocess_env
from transferlab.training.checkpoints import MODEL_FORMAT, load_model, load_model_record
from transferlab.training.loop import TrainingConfig, lr_at_epoch, train_model
from transferlab.training.optimization import SGD


def spec(epochs: int = 3, method: str = "st", tau: object = None) -> dict:
    return {
        "dataset": {"name": "digits", "options": {"size": 8}},
        "architecture": {"arch": "resnet18", "width": 0.125},
        "training": {
            "epochs": epochs,
            "warmup_epochs": min(1, epochs - 1),
            "lr": 0.05,
            "batch_size": 128,
        },
        "mechanism": {"name": method, "tau_index": 1, "tau": tau, "settings": {}},
        "seed": 3,
    }


def test_lr_schedule_matches_hand_values() -> None:
    cfg = TrainingConfig(epochs=10, warmup_epochs=2, lr=0.1, batch_size=8)
    # Warm-up: 0.1 * 1/2, 0.1 * 2/2; cosine from epoch 2 over 8 epochs.
    assert lr_at_epoch(0, cfg) == pytest.approx(0.05)
    assert lr_at_epoch(1, cfg) == pytest.approx(0.1)
    assert lr_at_epoch(2, cfg) == pytest.approx(0.1)
    assert lr_at_epoch(6, cfg) == pytest.approx(0.05)  # half way: cos(pi/2) = 0
    assert lr_at_epoch(9, cfg) == pytest.approx(0.05 * (1 + math.cos(math.pi * 7 / 8)))


@pytest.mark.parametrize(
    "bad", [{"epochs": 0}, {"warmup_epochs": 5}, {"lr": 0.0}, {"batch_size": 0}]
)
def test_training_config_rejects_bad_values(bad: dict) -> None:
    kwargs = {"epochs": 5, "warmup_epochs": 1, "lr": 0.1, "batch_size": 8, **bad}
    with pytest.raises(ValueError, match="training"):
        TrainingConfig(**kwargs)


def _state(path) -> dict[str, torch.Tensor]:
    return load_model_record(path)["state_dict"]


def test_resume_in_process_is_bit_identical(tmp_path) -> None:
    full = tmp_path / "full.pt"
    train_model(spec(), full, log=lambda m: None)
    resumed = tmp_path / "resumed.pt"
    assert train_model(spec(), resumed, log=lambda m: None, stop_after_epoch=1) == {}
    assert not resumed.exists() and (tmp_path / "resumed.pt.epoch.pt").exists()
    messages: list[str] = []
    train_model(spec(), resumed, log=messages.append)
    assert any("continuing at epoch 2" in m for m in messages)
    a, b = _state(full), _state(resumed)
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not (tmp_path / "resumed.pt.epoch.pt").exists()


def test_different_seed_or_spec_gives_different_weights(tmp_path) -> None:
    train_model(spec(epochs=1), tmp_path / "a.pt", log=lambda m: None)
    other = spec(epochs=1)
    other["seed"] = 4
    train_model(other, tmp_path / "b.pt", log=lambda m: None)
    a, b = _state(tmp_path / "a.pt"), _state(tmp_path / "b.pt")
    assert any(not torch.equal(a[k], b[k]) for k in a)


def test_checkpoint_of_another_spec_is_not_resumed(tmp_path) -> None:
    out = tmp_path / "m.pt"
    train_model(spec(), out, log=lambda m: None, stop_after_epoch=1)
    messages: list[str] = []
    train_model(spec(method="ls", tau=0.1), out, log=messages.append)
    assert any("belongs to another spec" in m for m in messages)
    assert not any("resuming" in m for m in messages)


def test_model_file_records_provenance(tmp_path) -> None:
    out = tmp_path / "m.pt"
    train_model(spec(epochs=1), out, log=lambda m: None)
    # Safe loading is the only loading: weights_only=True must accept the file.
    record = torch.load(out, weights_only=True)
    assert record["format"] == MODEL_FORMAT
    assert record["architecture"]["arch"] == "resnet18"
    assert record["dataset"]["name"] == "digits"
    assert record["mechanism"]["name"] == "st" and record["seed"] == 3
    assert 0.0 <= record["metrics"]["test_acc"] <= 1.0
    assert {"torch", "torchvision", "python", "transferlab"} <= set(record["versions"])
    model = load_model(out)
    assert not model.training
    x = torch.rand(2, 3, 8, 8)
    assert model(x).shape == (2, 10)


def _train_cmd(spec_json: str, model, log_threads: int = 1) -> list[str]:
    return [
        sys.executable, "-m", "transferlab", "train", "--spec", spec_json,
        "--model", str(model), "--record", str(model) + ".json",
        "--device", "cpu", "--threads", str(log_threads),
    ]  # fmt: skip


@pytest.mark.slow
def test_kill_9_then_rerun_resumes_and_matches_uninterrupted(tmp_path) -> None:
    spec_json = json.dumps(spec(epochs=6))
    env = subprocess_env()
    full = tmp_path / "full.pt"
    subprocess.run(_train_cmd(spec_json, full), env=env, check=True, capture_output=True)

    killed = tmp_path / "killed.pt"
    ckpt = tmp_path / "killed.pt.epoch.pt"
    proc = subprocess.Popen(_train_cmd(spec_json, killed), env=env, stdout=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if ckpt.exists() and torch.load(ckpt, weights_only=True)["schedule"]["next_epoch"] >= 2:
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "training finished before it could be killed"
    assert not killed.exists()
    done = torch.load(ckpt, weights_only=True)["schedule"]["next_epoch"]

    rerun = subprocess.run(
        _train_cmd(spec_json, killed), env=env, check=True, capture_output=True, text=True
    )
    assert f"continuing at epoch {done + 1}" in rerun.stdout
    a, b = _state(full), _state(killed)
    assert all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize(
    "settings",
    [
        {"momentum": 0.9, "weight_decay": 5e-4, "nesterov": False},
        {"momentum": 0.9, "weight_decay": 5e-4, "nesterov": True},
        {"momentum": 0.0, "weight_decay": 0.0, "nesterov": False},
    ],
)
def test_sgd_matches_torch_optim_sgd_step_for_step(settings: dict) -> None:
    torch.manual_seed(0)
    reference = torch.nn.Sequential(
        torch.nn.Linear(5, 4), torch.nn.BatchNorm1d(4), torch.nn.ReLU(), torch.nn.Linear(4, 3)
    )
    ours = copy.deepcopy(reference)
    torch_sgd = torch.optim.SGD(reference.parameters(), lr=0.1, **settings)
    our_sgd = SGD(ours.parameters(), lr=0.1, **settings)
    for step in range(6):
        x, y = torch.randn(8, 5), torch.randint(0, 3, (8,))
        lr = 0.1 / (step + 1)  # the schedule changes lr between steps
        for group in [*torch_sgd.param_groups, *our_sgd.param_groups]:
            group["lr"] = lr
        for model, optimizer in ((reference, torch_sgd), (ours, our_sgd)):
            optimizer.zero_grad(set_to_none=True)
            torch.nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
        for p, q in zip(reference.parameters(), ours.parameters(), strict=True):
            torch.testing.assert_close(q, p, rtol=0, atol=1e-7)


def test_sgd_state_round_trip_continues_identically() -> None:
    torch.manual_seed(1)
    model = torch.nn.Linear(3, 2)
    optimizer = SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-3)

    def step(m: torch.nn.Module, opt: SGD) -> None:
        opt.zero_grad()
        m(torch.ones(4, 3)).pow(2).sum().backward()
        opt.step()

    step(model, optimizer)
    clone = copy.deepcopy(model)
    restored = SGD(clone.parameters(), lr=1.0)
    restored.load_state_dict(optimizer.state_dict())
    step(model, optimizer)
    step(clone, restored)
    assert torch.equal(model.weight, clone.weight) and torch.equal(model.bias, clone.bias)
    with pytest.raises(ValueError, match="transferlab-sgd"):
        restored.load_state_dict(torch.optim.SGD(model.parameters(), lr=0.1).state_dict())


def _recording(base: type) -> type:
    """A mechanism that records the batches the training loop hands it, then trains as base."""

    class Recording(base):  # type: ignore[misc, valid-type]
        seen: list[tuple[list[int], float]] = []

        def train_step(self, model, optimizer, x, y, generator):  # type: ignore[no-untyped-def]
            type(self).seen.append((y.tolist(), float(x.sum())))
            return super().train_step(model, optimizer, x, y, generator)

    return Recording


def test_architectures_get_their_own_data_stream_mechanisms_share_it(tmp_path, monkeypatch):
    """SPEC §3: a target never replays a surrogate's stream (same seed, other architecture),
    while mechanisms of one architecture see the same batches (a paired comparison)."""
    from transferlab.mechanisms import MECHANISMS
    from transferlab.mechanisms.base import Standard
    from transferlab.mechanisms.label_smoothing import LabelSmoothing

    recorders = {}
    for name, base in (("record_st", Standard), ("record_ls", LabelSmoothing)):
        recorders[name] = _recording(base)
        monkeypatch.setitem(MECHANISMS._entries, name, recorders[name])

    def batches(arch: str, method: str, tau: object) -> list:
        recorders[method].seen = []
        run = spec(epochs=1, method=method, tau=tau)
        run["architecture"] = {"arch": arch, "width": 0.125}
        train_model(run, tmp_path / f"{arch}-{method}.pt", log=lambda m: None)
        return recorders[method].seen

    resnet = batches("resnet18", "record_st", None)
    vgg = batches("vgg16", "record_st", None)
    resnet_ls = batches("resnet18", "record_ls", 0.1)
    assert len(resnet) == len(vgg) > 1
    assert resnet != vgg
    assert resnet == resnet_ls


@pytest.mark.slow
def test_killed_job_rerun_after_a_library_edit_starts_over(tmp_path) -> None:
    """The epoch checkpoint of code that has since changed is not resumed: it names why."""
    import shutil

    from tests.conftest import REPO

    library = tmp_path / "src"
    shutil.copytree(REPO / "src" / "transferlab", library / "transferlab")
    env = {**subprocess_env(), "PYTHONPATH": str(library)}
    spec_json = json.dumps(spec(epochs=4))

    def killed_run(model) -> None:
        ckpt = model.with_name(model.name + ".epoch.pt")
        proc = subprocess.Popen(_train_cmd(spec_json, model), env=env, stdout=subprocess.PIPE)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not ckpt.exists():
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL and ckpt.exists() and not model.exists()

    def rerun(model) -> str:
        done = subprocess.run(
            _train_cmd(spec_json, model), env=env, check=True, capture_output=True, text=True
        )
        return done.stdout

    # An edit outside the training job's import closure: the checkpoint is resumed.
    resumed = tmp_path / "resumed.pt"
    killed_run(resumed)
    plots = library / "transferlab" / "report" / "plots.py"
    plots.write_text(plots.read_text() + "\n# an edit outside training's imports\n")
    assert "resuming from epoch checkpoint" in rerun(resumed)

    # An edit inside it (the optimizer): the checkpoint is refused, training starts over.
    restarted = tmp_path / "restarted.pt"
    killed_run(restarted)
    optimizer = library / "transferlab" / "training" / "optimization.py"
    optimizer.write_text(optimizer.read_text() + "\n# a fix since the job was killed\n")
    log = rerun(restarted)
    assert "written by other library code" in log and "starting fresh" in log
    assert "resuming" not in log
    a, b = _state(resumed), _state(restarted)
    assert all(torch.equal(a[k], b[k]) for k in a)  # a comment changes no weight
