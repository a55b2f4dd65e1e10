"""Fine-tuning an LGV collection: checkpoints along a constant-learning-rate run
(SPEC §4 "LGV"; Gubri et al., "LGV: Boosting Adversarial Example Transferability
from Large Geometric Vicinity", ECCV 2022; the paper's Sec. 5.2 and Tab. V).

From a trained surrogate θ₀ (its model file is the ``base``), run E epochs of

    θ ← θ − η·d(θ; batch)     with a constant η (LGV and the paper: 0.05),

where d is the SGD-with-momentum direction of one of three "LGV optimizers":
``sgd`` (plain cross-entropy, the ST mechanism), ``sam`` (SAM at ρ) or
``sam_jr`` (SAM around JR at [ρ, λ]) — the registered mechanisms, stepping
``transferlab.training.optimization.SGD``. The model stays in train mode (BatchNorm
statistics follow the run, as in LGV). In every epoch of B batches a copy of
the weights is collected after batches ⌊B·j/P⌋, j = 1 … P (P = ``per_epoch``,
LGV: 4), i.e. after every 1/P of the epoch, so the collection holds K = E·P
members (LGV: 10 × 4 = 40) in the order they were collected.

Determinism and resume follow ``transferlab.training.loop``: each epoch draws all
its randomness from a generator seeded by (seed, epoch); an epoch checkpoint
beside the output holds model, optimizer, RNG states, the next epoch and the
members collected so far, and is resumed only when its fingerprint matches,
so a killed and resumed run writes the same collection, bit for bit on CPU.
The members of each finished epoch go to their own shard file, written once,
which the checkpoint names: one checkpoint holding every member so far would
write an epoch's members again after every later epoch (180 member writes
instead of 36 for LGV's 10 × 4; a CIFAR ResNet-18 member is 45 MB, ~0.2 s to
write on the development machine).

Files (all load with ``torch.load(weights_only=True)``):

- collection (``collection.COLLECTION_FORMAT``): the members and their provenance,
  described in ``collection``.
- epoch checkpoint ``<out>.epoch.pt`` (``CHECKPOINT_FORMAT``): ``fingerprint``,
  ``model``, ``optimizer``, ``next_epoch``, ``rng``, ``member_files`` (names of
  the shards beside it, epoch order); shard ``<out>.epoch.pt.members-e{E}.pt``
  (``MEMBERS_FORMAT``): ``fingerprint``, ``epoch`` (E − 1, 0-based), ``members`` (P
  state dicts). Both are removed once the collection is written.
"""

from __future__ import annotations

import math
import random
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from transferlab.code_digest import command_digest
from transferlab.lgv.collection import COLLECTION_FORMAT
from transferlab.lgv.config import LGV_OPTIMIZERS, lgv_config
from transferlab.training.checkpoints import (
    atomic_torch_save,
    load_file,
    load_model_record,
    package_versions,
    utc_now,
)
from transferlab.training.loop import (
    data_stream,
    epoch_seed,
    restore_rng_states,
    rng_states,
    spec_fingerprint,
)
from transferlab.training.optimization import SGD

CHECKPOINT_FORMAT = "transferlab-lgv-checkpoint/1"
MEMBERS_FORMAT = "transferlab-lgv-members/1"


def collection_points(batches_per_epoch: int, per_epoch: int) -> list[int]:
    """Batch counts after which an epoch's members are collected: ⌊B·j/P⌋, j = 1 … P.

    Strictly increasing and ending at B when 1 ≤ P ≤ B (B/P ≥ 1 between points).
    """
    if per_epoch > batches_per_epoch:
        raise ValueError(
            f"lgv.per_epoch={per_epoch} exceeds the {batches_per_epoch} batches of an epoch: "
            "lower per_epoch or lgv.batch_size"
        )
    return [batches_per_epoch * j // per_epoch for j in range(1, per_epoch + 1)]


def _base_record(path: Path) -> dict[str, Any]:
    try:
        return load_model_record(path)
    except FileNotFoundError as err:
        raise FileNotFoundError(f"lgv spec 'base': {err}") from err
    except ValueError as err:
        raise ValueError(f"lgv spec 'base' must be a trained model file: {err}") from err


def _cpu_copy(state: Mapping[str, Tensor]) -> dict[str, Tensor]:
    # Members live on the CPU (K of them would fill a GPU) in the layout they were trained in.
    return {key: value.detach().to("cpu", copy=True) for key, value in state.items()}


def member_shard_path(checkpoint_path: Path, epoch: int) -> Path:
    """Where the epoch checkpoint keeps the members of 0-based ``epoch``."""
    return checkpoint_path.with_name(f"{checkpoint_path.name}.members-e{epoch + 1}.pt")


def _resume_point(
    checkpoint_path: Path, fingerprint: str, per_epoch: int, log: Callable[[str], None]
) -> tuple[dict[str, Any], list[dict[str, Tensor]]] | None:
    """(checkpoint, members so far) when a complete checkpoint of this spec exists, else None."""
    if not checkpoint_path.exists():
        return None
    try:
        ckpt = load_file(checkpoint_path, CHECKPOINT_FORMAT)
    except ValueError as err:
        log(f"ignoring unreadable LGV checkpoint {checkpoint_path}: {err}")
        return None
    if ckpt["fingerprint"] != fingerprint:
        log(
            f"LGV checkpoint {checkpoint_path} belongs to another spec or was written by "
            "other library code: starting fresh"
        )
        return None
    members: list[dict[str, Tensor]] = []
    for epoch, name in enumerate(ckpt["member_files"]):
        shard_path = checkpoint_path.with_name(name)
        try:
            shard = load_file(shard_path, MEMBERS_FORMAT)
        except (FileNotFoundError, ValueError) as err:
            log(f"LGV checkpoint {checkpoint_path} lacks its members ({err}): starting fresh")
            return None
        if (
            shard["fingerprint"] != fingerprint
            or shard["epoch"] != epoch
            or len(shard["members"]) != per_epoch
        ):
            log(f"{shard_path} does not belong to {checkpoint_path}: starting fresh")
            return None
        members.extend(shard["members"])
    return ckpt, members


def build_collection(
    spec: dict[str, Any],
    out_path: str | Path,
    *,
    checkpoint_path: str | Path | None = None,
    device: str = "cpu",
    log: Callable[[str], None] = print,
    stop_after_epoch: int | None = None,
) -> dict[str, Any]:
    """Fine-tune ``spec["base"]`` and write its LGV collection to ``out_path`` (module docstring).

    ``spec`` keys: ``base`` (path of the trained surrogate's model file),
    ``dataset`` {name, options} (must be the base's), ``lgv`` (``LGVConfig``
    fields), ``seed``. ``stop_after_epoch`` exists for tests of resume.
    Returns the collection's record (without the members).
    """
    from transferlab import data
    from transferlab.mechanisms import build_mechanism
    from transferlab.models import build_model, place_model
    from transferlab.transfer.store import sha256_of_file

    out_path = Path(out_path)
    checkpoint_path = Path(checkpoint_path or out_path.with_name(out_path.name + ".epoch.pt"))
    cfg = lgv_config(spec["lgv"])
    seed = int(spec["seed"])
    base_path = Path(spec["base"])
    base = _base_record(base_path)
    ds_name, ds_options = spec["dataset"]["name"], dict(spec["dataset"].get("options", {}))
    base_dataset = base["dataset"]
    if (base_dataset["name"], dict(base_dataset.get("options", {}))) != (ds_name, ds_options):
        raise ValueError(
            f"lgv spec 'dataset' {ds_name} {ds_options} differs from the base model's "
            f"({base_dataset['name']} {base_dataset.get('options', {})}, {base_path}): "
            "fine-tune on the data set the base was trained on"
        )
    info = data.dataset_info(ds_name, **ds_options)
    mechanism_name = LGV_OPTIMIZERS[cfg.optimizer]
    mechanism = build_mechanism(
        mechanism_name, cfg.tau, num_classes=info.num_classes, **dict(cfg.settings)
    )
    train_data = data.training_data(ds_name, **ds_options)
    batches_per_epoch = math.ceil(len(train_data) / cfg.batch_size)
    points = collection_points(batches_per_epoch, cfg.per_epoch)
    base_sha = sha256_of_file(base_path)
    # The library code decides the members too: a checkpoint written by other code (a fix
    # since the job was killed) must not be resumed (as in training).
    code = command_digest("lgv")
    fingerprint = spec_fingerprint({"spec": spec, "base_sha256": base_sha, "code": code})

    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    random.seed(seed)
    architecture = dict(base["architecture"])
    # The base's weights replace any pretrained ones: never fetch them.
    model = place_model(build_model(**{**architecture, "pretrained": False}), device)
    model.load_state_dict(base["state_dict"])
    optimizer = SGD(
        model.parameters(), lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay
    )

    members: list[dict[str, Tensor]] = []
    start_epoch = 0
    resumed = _resume_point(checkpoint_path, fingerprint, cfg.per_epoch, log)
    if resumed is not None:
        ckpt, members = resumed
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        restore_rng_states(ckpt["rng"])
        start_epoch = int(ckpt["next_epoch"])
        log(
            f"resuming from LGV checkpoint {checkpoint_path}: epochs 1-{start_epoch} "
            f"done ({len(members)} members), continuing at epoch {start_epoch + 1}"
        )

    log(
        f"LGV {cfg.optimizer} (tau={cfg.tau}) from {base_path} on {ds_name}, seed {seed}: "
        f"lr {cfg.lr} for {cfg.epochs} epochs of {batches_per_epoch} batches, "
        f"{cfg.per_epoch} members per epoch (after batches {points}), device {device}"
    )
    collect_after = set(points)
    # Not the base model's own training stream: LGV's draws are its own (SPEC §3).
    stream = f"lgv:{cfg.optimizer}:{data_stream(architecture)}"
    model.train()
    for epoch in range(start_epoch, cfg.epochs):
        t0 = time.perf_counter()
        generator = torch.Generator().manual_seed(epoch_seed(seed, epoch, stream))
        total_loss, n_batches = 0.0, 0
        for x, y in train_data.batches(cfg.batch_size, generator):
            loss = mechanism.train_step(model, optimizer, x.to(device), y.to(device), generator)
            if not math.isfinite(loss):
                raise FloatingPointError(
                    f"LGV fine-tuning diverged at epoch {epoch + 1} (loss {loss}); "
                    "lower lgv.lr or the optimizer's tau"
                )
            total_loss += loss
            n_batches += 1
            if n_batches in collect_after:
                members.append(_cpu_copy(model.state_dict()))
        if n_batches != batches_per_epoch or len(members) != (epoch + 1) * cfg.per_epoch:
            raise RuntimeError(
                f"epoch {epoch + 1} had {n_batches} batches (expected {batches_per_epoch}) and "
                f"left {len(members)} members (expected {(epoch + 1) * cfg.per_epoch})"
            )
        stopping = stop_after_epoch is not None and epoch + 1 >= stop_after_epoch
        # After the last epoch the collection file supersedes the checkpoint at once.
        if epoch + 1 < cfg.epochs or stopping:
            # This epoch's members first: a checkpoint only names shards that exist.
            atomic_torch_save(
                {
                    "format": MEMBERS_FORMAT,
                    "fingerprint": fingerprint,
                    "epoch": epoch,
                    "members": members[-cfg.per_epoch :],
                },
                member_shard_path(checkpoint_path, epoch),
            )
            atomic_torch_save(
                {
                    "format": CHECKPOINT_FORMAT,
                    "fingerprint": fingerprint,
                    "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "next_epoch": epoch + 1,
                    "rng": rng_states(),
                    "member_files": [
                        member_shard_path(checkpoint_path, e).name for e in range(epoch + 1)
                    ],
                },
                checkpoint_path,
            )
        log(
            f"epoch {epoch + 1}/{cfg.epochs} loss {total_loss / n_batches:.4f}, "
            f"{len(members)} members ({time.perf_counter() - t0:.1f}s)"
        )
        sys.stdout.flush()
        if stopping:
            return {}

    record = {
        "format": COLLECTION_FORMAT,
        "architecture": architecture,
        "dataset": {"name": ds_name, "label": info.label, "options": ds_options},
        "base": {
            "path": str(base_path),
            "sha256": base_sha,
            "fingerprint": base.get("fingerprint"),
            "mechanism": base.get("mechanism"),
            "seed": base.get("seed"),
        },
        "lgv": {
            **asdict(cfg),
            "mechanism": mechanism_name,
            "members": cfg.members,
            "batches_per_epoch": batches_per_epoch,
            "collection_points": points,
        },
        "seed": seed,
        "fingerprint": fingerprint,
        "versions": package_versions(),
        "created": utc_now(),
    }
    atomic_torch_save({**record, "members": members}, out_path)
    checkpoint_path.unlink(missing_ok=True)
    for shard in checkpoint_path.parent.glob(f"{checkpoint_path.name}.members-e*.pt"):
        shard.unlink(missing_ok=True)
    log(f"wrote {len(members)} members to {out_path}")
    return record
