"""Surrogate and target training (SPEC §4, Table XI) with exact resume.

SGD with momentum; learning rate: linear warm-up, then cosine decay, stepped
once per epoch. Each epoch draws all its randomness (shuffling, augmentation,
the mechanism's draws) from a generator seeded by (seed, epoch, architecture),
and the epoch checkpoint stores model, optimizer, schedule and RNG states
(plus the spec fingerprint and the library's code digest), so a run
killed at any point and resumed ends with the same weights, bit for bit, as
an uninterrupted run on the same device and thread count.

GPU path: an in-memory training set (digits, CIFAR-10) is held on the device and
augmented there (``InMemoryTrainingData.to``); batch losses are summed on the
device and read once per epoch, so the step loop never waits for the GPU.
``training.precision`` (``fp32`` | ``bf16``, transferlab.precision) sets autocast
for the step; ``compile_model`` wraps the model in ``torch.compile`` (an
execution option: it changes rounding, not the function trained, so it is not
part of the spec or its fingerprint).
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from transferlab.code_digest import command_digest
from transferlab.precision import DEFAULT_PRECISION, autocast, check_precision
from transferlab.training.checkpoints import (
    CHECKPOINT_FORMAT,
    MODEL_FORMAT,
    atomic_torch_save,
    load_file,
    package_versions,
    utc_now,
)
from transferlab.training.evaluation import accuracy
from transferlab.training.optimization import SGD


@dataclass(frozen=True)
class TrainingConfig:
    """Table XI hyper-parameters; lr is the peak learning rate."""

    epochs: int
    lr: float
    batch_size: int
    warmup_epochs: int = 0
    momentum: float = 0.9
    weight_decay: float = 1e-4
    nesterov: bool = False

    def __post_init__(self) -> None:
        if self.epochs < 1:
            raise ValueError(f"training.epochs must be >= 1, got {self.epochs}")
        if not 0 <= self.warmup_epochs < self.epochs:
            raise ValueError(
                f"training.warmup_epochs must be in [0, epochs), got {self.warmup_epochs}"
            )
        if self.batch_size < 1 or self.lr <= 0:
            raise ValueError("training.batch_size and training.lr must be positive")


def lr_at_epoch(epoch: int, cfg: TrainingConfig) -> float:
    """Learning rate for 0-based ``epoch``.

    Warm-up: lr·(e+1)/W for e < W; then lr·½(1 + cos(π·(e−W)/(E−W))).
    """
    if epoch < cfg.warmup_epochs:
        return cfg.lr * (epoch + 1) / cfg.warmup_epochs
    span = cfg.epochs - cfg.warmup_epochs
    return cfg.lr * 0.5 * (1.0 + math.cos(math.pi * (epoch - cfg.warmup_epochs) / span))


def epoch_seed(seed: int, epoch: int, stream: str) -> int:
    """A 63-bit seed for one epoch's generator, independent across (seed, epoch, stream).

    ``stream`` names whose data stream it is (``data_stream(architecture)``): models of
    different architectures trained with the same seed draw different shuffles, crops
    and augmentation draws (SPEC §3: a target never replays a surrogate's stream), while
    the mechanisms of one architecture share a seed's stream (a paired comparison).
    """
    digest = hashlib.sha256(f"transferlab:{stream}:{seed}:{epoch}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def data_stream(architecture: dict[str, Any]) -> str:
    """The stream name of an architecture spec (``build_model`` kwargs): its canonical JSON."""
    return json.dumps(architecture, sort_keys=True, separators=(",", ":"))


def spec_fingerprint(spec: dict[str, Any]) -> str:
    """Hash of everything that determines the weights; a checkpoint resumes only on a match."""
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()


def training_precision(spec: dict[str, Any], mechanism: Any) -> str:
    """The precision a spec's steps run in: ``training.precision`` (default fp32), except
    that a second-order mechanism (``fp32_only``) always runs in fp32."""
    precision = check_precision(
        spec["training"].get("precision", DEFAULT_PRECISION), "training.precision"
    )
    return DEFAULT_PRECISION if getattr(mechanism, "fp32_only", False) else precision


def compiled(model: torch.nn.Module, mechanism: Any, log: Callable[[str], None]) -> Any:
    """``torch.compile(model)`` for first-order mechanisms; ``model`` itself otherwise.

    TorchDynamo does not support double backward (``create_graph=True``), which every
    second-order mechanism needs, so those stay eager. The compiled wrapper shares the
    module's parameters; checkpoints keep saving the eager module's state dict.
    """
    if getattr(mechanism, "fp32_only", False):
        log("training.compile: second-order mechanism, running eagerly (no double backward)")
        return model
    return torch.compile(model)


def rng_states() -> dict[str, Any]:
    """The global torch, numpy and Python RNG states, as an epoch checkpoint stores them
    (``restore_rng_states`` puts them back)."""
    # numpy's state holds an ndarray, which weights_only loading refuses: store it as a tensor.
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, gauss],
        "python": random.getstate(),
    }


def restore_rng_states(states: dict[str, Any]) -> None:
    """Set the global torch, numpy and Python RNGs to ``rng_states()``' record ``states``."""
    torch.set_rng_state(states["torch"])
    kind, keys, pos, has_gauss, gauss = states["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, gauss))
    random.setstate(states["python"])


def _recorded_training(cfg: TrainingConfig, spec: dict[str, Any]) -> dict[str, Any]:
    """The record's training keys: Table XI's, plus ``precision`` only where the spec sets it
    (an fp32 record reads as it did before precision existed)."""
    extra = {"precision": spec["training"]["precision"]} if "precision" in spec["training"] else {}
    return {**asdict(cfg), **extra}


def train_model(
    spec: dict[str, Any],
    out_path: str | Path,
    *,
    checkpoint_path: str | Path | None = None,
    device: str = "cpu",
    log: Callable[[str], None] = print,
    stop_after_epoch: int | None = None,
    compile_model: bool = False,
) -> dict[str, Any]:
    """Train one model described by ``spec`` and write its model file to ``out_path``.

    ``spec`` keys: ``dataset`` {name, options}, ``architecture`` (kwargs of
    ``build_model`` without num_classes/mean/std), ``training``
    (``TrainingConfig`` fields), ``mechanism`` {name, label, tau_index, tau,
    settings}, ``seed``; ``training`` may add ``precision`` (absent = fp32).
    ``stop_after_epoch`` exists for tests of resume; ``compile_model``: see
    ``compiled``.
    Returns the model file's record (without the state dict).
    """
    from transferlab import data
    from transferlab.mechanisms import build_mechanism
    from transferlab.models import build_model, place_model

    out_path = Path(out_path)
    checkpoint_path = Path(checkpoint_path or out_path.with_name(out_path.name + ".epoch.pt"))
    cfg = TrainingConfig(**{k: v for k, v in spec["training"].items() if k != "precision"})
    seed = int(spec["seed"])
    ds_name, ds_options = spec["dataset"]["name"], dict(spec["dataset"].get("options", {}))
    info = data.dataset_info(ds_name, **ds_options)
    mech_spec = spec["mechanism"]
    mechanism = build_mechanism(
        mech_spec["name"],
        mech_spec.get("tau"),
        num_classes=info.num_classes,
        **mech_spec.get("settings", {}),
    )
    arch_kwargs = {
        **spec["architecture"],
        "num_classes": info.num_classes,
        "mean": list(info.mean),
        "std": list(info.std),
    }
    fingerprint = spec_fingerprint(spec)
    # The library code is part of what determines the weights: a checkpoint written by
    # other code (a fix since the job was killed) must not be resumed.
    code = command_digest("train")
    stream = data_stream(spec["architecture"])

    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    random.seed(seed)
    model = place_model(build_model(**arch_kwargs), device)
    optimizer = SGD(
        model.parameters(),
        lr=lr_at_epoch(0, cfg),
        momentum=cfg.momentum,
        weight_decay=cfg.weight_decay,
        nesterov=cfg.nesterov,
    )
    train_data = data.training_data(ds_name, **ds_options)
    if torch.device(device).type != "cpu" and hasattr(train_data, "to"):
        train_data = train_data.to(device)
    precision = training_precision(spec, mechanism)
    step_model = compiled(model, mechanism, log) if compile_model else model

    start_epoch = 0
    if checkpoint_path.exists():
        try:
            ckpt = load_file(checkpoint_path, CHECKPOINT_FORMAT)
        except ValueError as err:
            log(f"ignoring unreadable epoch checkpoint {checkpoint_path}: {err}")
        else:
            if ckpt["fingerprint"] != fingerprint:
                log(f"epoch checkpoint {checkpoint_path} belongs to another spec: starting fresh")
            elif ckpt.get("code") != code:
                log(
                    f"epoch checkpoint {checkpoint_path} was written by other library code "
                    f"(code digest {ckpt.get('code')}, now {code}): starting fresh"
                )
            else:
                model.load_state_dict(ckpt["model"])
                optimizer.load_state_dict(ckpt["optimizer"])
                restore_rng_states(ckpt["rng"])
                start_epoch = int(ckpt["schedule"]["next_epoch"])
                log(
                    f"resuming from epoch checkpoint {checkpoint_path}: "
                    f"epochs 1-{start_epoch} done, continuing at epoch {start_epoch + 1}"
                )

    label = mech_spec.get("label", mech_spec["name"])
    log(
        f"training {spec['architecture']['arch']} on {ds_name} with {label} "
        f"(tau={mech_spec.get('tau')}), seed {seed}, {cfg.epochs} epochs, "
        f"{len(train_data)} training images, device {device}, precision {precision}"
    )
    model.train()
    for epoch in range(start_epoch, cfg.epochs):
        t0 = time.perf_counter()
        lr = lr_at_epoch(epoch, cfg)
        for group in optimizer.param_groups:
            group["lr"] = lr
        generator = torch.Generator().manual_seed(epoch_seed(seed, epoch, stream))
        # Summed on the device and read once per epoch: a float() per batch would make
        # the host wait for every step. A non-finite batch loss makes the sum non-finite.
        total_loss = torch.zeros((), dtype=torch.float64, device=device)
        n_batches = 0
        for x, y in train_data.batches(cfg.batch_size, generator):
            with autocast(device, precision):
                loss = mechanism.train_step(
                    step_model, optimizer, x.to(device), y.to(device), generator
                )
            total_loss += loss
            n_batches += 1
        mean_loss = float(total_loss) / n_batches
        if not math.isfinite(mean_loss):
            raise FloatingPointError(
                f"training diverged at epoch {epoch + 1} (mean loss {mean_loss}); "
                "lower training.lr or the mechanism's tau"
            )
        atomic_torch_save(
            {
                "format": CHECKPOINT_FORMAT,
                "fingerprint": fingerprint,
                "code": code,
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "schedule": {"next_epoch": epoch + 1, "lr": lr},
                "rng": rng_states(),
            },
            checkpoint_path,
        )
        log(
            f"epoch {epoch + 1}/{cfg.epochs} lr {lr:.4g} loss {mean_loss:.4f} "
            f"({time.perf_counter() - t0:.1f}s)"
        )
        sys.stdout.flush()
        if stop_after_epoch is not None and epoch + 1 >= stop_after_epoch:
            return {}

    model.eval()
    eval_batch = max(cfg.batch_size, 256)
    metrics = {
        f"{split}_acc": accuracy(
            model,
            data.iterate_dataset(ds_name, split, batch_size=eval_batch, **ds_options),
            device,
        )
        for split in ("train", "test")
    }
    log(f"final accuracy: train {metrics['train_acc']:.4f}, test {metrics['test_acc']:.4f}")
    record = {
        "format": MODEL_FORMAT,
        "architecture": arch_kwargs,
        "dataset": {"name": ds_name, "label": info.label, "options": ds_options},
        "mechanism": dict(mech_spec),
        "seed": seed,
        "training": _recorded_training(cfg, spec),
        "metrics": metrics,
        "fingerprint": fingerprint,
        "code": code,
        "versions": package_versions(),
        "created": utc_now(),
    }
    atomic_torch_save({**record, "state_dict": model.state_dict()}, out_path)
    checkpoint_path.unlink(missing_ok=True)
    return record
