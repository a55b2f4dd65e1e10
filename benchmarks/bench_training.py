"""One epoch of standard training: transferlab's loop vs a plain PyTorch loop.

Same model (built once, weights copied), same data (digits in memory), same
batch size and the same augmentation semantics (pad + random crop); the plain
loop writes the augmentation and the SGD step inline. Repetitions are
interleaved and the median ratio reported; performance is never asserted.

    PYTHONPATH=src python benchmarks/bench_training.py
"""

from __future__ import annotations

import copy
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from transferlab import data
from transferlab.mechanisms import build_mechanism
from transferlab.models import build_model
from transferlab.training.loop import TrainingConfig, epoch_seed, lr_at_epoch

REPEATS = 5
BATCH = 64
SIZE = 16
ARCH = {"arch": "resnet18", "width": 0.25}


def plain_epoch(model, optimizer, images, labels, generator, pad: int) -> None:
    n = len(labels)
    order = torch.randperm(n, generator=generator)
    offsets = torch.randint(0, 2 * pad + 1, (n, 2), generator=generator)
    rows = torch.arange(SIZE)
    for start in range(0, n, BATCH):
        idx = order[start : start + BATCH]
        x = F.pad(images[idx], (pad, pad, pad, pad))
        off = offsets[start : start + BATCH]
        r = (off[:, 0, None] + rows)[:, None, :, None].expand(-1, 3, -1, SIZE + 2 * pad)
        x = torch.gather(x, 2, r)
        c = (off[:, 1, None] + rows)[:, None, None, :].expand(-1, 3, SIZE, -1)
        x = torch.gather(x, 3, c)
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), labels[idx])
        loss.backward()
        optimizer.step()


def ours_epoch(model, optimizer, train_data, generator, mechanism, cfg, epoch) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr_at_epoch(epoch, cfg)
    for x, y in train_data.batches(BATCH, generator):
        mechanism.train_step(model, optimizer, x, y, generator)


def main() -> None:
    torch.manual_seed(0)
    info = data.dataset_info("digits", size=SIZE)
    base = build_model(
        **ARCH, num_classes=info.num_classes, mean=list(info.mean), std=list(info.std)
    )
    train_data = data.training_data("digits", size=SIZE)
    images, labels = data.load_dataset("digits", "train", size=SIZE)
    pad = 2
    cfg = TrainingConfig(epochs=10, warmup_epochs=1, lr=0.05, batch_size=BATCH)
    mechanism = build_mechanism("st", None, num_classes=info.num_classes)

    def fresh():
        model = copy.deepcopy(base).train()
        return model, torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)

    # Warm-up both paths once (allocator, oneDNN primitive caches).
    m, o = fresh()
    plain_epoch(m, o, images, labels, torch.Generator().manual_seed(1), pad)
    m, o = fresh()
    ours_epoch(m, o, train_data, torch.Generator().manual_seed(1), mechanism, cfg, 0)

    times: dict[str, list[float]] = {"plain": [], "transferlab": []}
    for rep in range(REPEATS):
        for name in ("plain", "transferlab") if rep % 2 == 0 else ("transferlab", "plain"):
            model, opt = fresh()
            gen = torch.Generator().manual_seed(epoch_seed(0, rep, "benchmark"))
            t0 = time.perf_counter()
            if name == "plain":
                plain_epoch(model, opt, images, labels, gen, pad)
            else:
                ours_epoch(model, opt, train_data, gen, mechanism, cfg, rep)
            times[name].append(time.perf_counter() - t0)
    ratios = [o / p for o, p in zip(times["transferlab"], times["plain"], strict=True)]
    plain_s, ours_s = statistics.median(times["plain"]), statistics.median(times["transferlab"])
    table = (
        "| benchmark | plain PyTorch (s) | transferlab (s) | ratio (median of paired) | target |\n"
        "|---|---|---|---|---|\n"
        f"| one epoch ST, {ARCH['arch']} w={ARCH['width']}, digits {SIZE}px, "
        f"{len(labels)} images, batch {BATCH} | {plain_s:.3f} | {ours_s:.3f} | "
        f"{statistics.median(ratios):.3f} | ≤ 1.10 |\n"
    )
    print(table)
    out = Path(__file__).parent / "results" / "bench_training.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(table)


if __name__ == "__main__":
    main()
