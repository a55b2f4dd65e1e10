"""Memory format on the CPU: ``place_model`` (channels-last) vs PyTorch's default layout.

For each digits architecture (width 0.125, 16-px images, 1 thread): one SGD
training step on a batch of 128 and one evaluation forward pass on 200 images
(the transfer job's unit of work), timed for the same weights in PyTorch's
default NCHW layout (the plain baseline) and as ``place_model`` leaves them.
Repetitions are interleaved and the median ratio baseline / ours reported
(> 1 means ours is faster); performance is never asserted.

    PYTHONPATH=src python benchmarks/bench_memory_format.py
"""

from __future__ import annotations

import copy
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F

from transferlab.models import build_model, place_model

REPEATS = 7
ARCHS = ["resnet18", "resnet50", "vgg16", "inceptionv3", "densenet121"]


def seconds(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def training_step(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> Callable[[], None]:
    def step() -> None:
        model.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        with torch.no_grad():
            for p in model.parameters():
                p.add_(p.grad, alpha=-0.01)

    return step


def evaluation_pass(model: torch.nn.Module, x: torch.Tensor) -> Callable[[], torch.Tensor]:
    @torch.no_grad()
    def forward() -> torch.Tensor:
        return model(x).argmax(dim=1)

    return forward


def main() -> None:
    torch.set_num_threads(1)
    rows = []
    for arch in ARCHS:
        torch.manual_seed(0)
        baseline = build_model(arch, num_classes=10, mean=[0.3] * 3, std=[0.3] * 3, width=0.125)
        ours = place_model(copy.deepcopy(baseline), "cpu")
        x_train, y_train = torch.rand(128, 3, 16, 16), torch.randint(0, 10, (128,))
        x_eval = torch.rand(200, 3, 16, 16)
        ratios = {}
        for kind in ("train", "eval"):
            timings: dict[str, list[float]] = {"baseline": [], "ours": []}
            for model in (baseline, ours):
                model.train(kind == "train")
            work = {
                name: training_step(model, x_train, y_train)
                if kind == "train"
                else evaluation_pass(model, x_eval)
                for name, model in (("baseline", baseline), ("ours", ours))
            }
            for job in work.values():
                job()  # warm-up: oneDNN primitive creation
            for _ in range(REPEATS):
                for name, job in work.items():
                    timings[name].append(seconds(job))
            ratios[kind] = (
                statistics.median(timings["baseline"]),
                statistics.median(timings["ours"]),
            )
        rows.append((arch, ratios))
        print(arch, {k: f"{b / o:.2f}x" for k, (b, o) in ratios.items()}, flush=True)

    lines = [
        "| architecture (w=0.125, 16 px) | train step NCHW / ours (ms) | ratio "
        "| eval 200 images NCHW / ours (ms) | ratio |",
        "|---|---|---|---|---|",
    ]
    for arch, r in rows:
        (tb, to), (eb, eo) = r["train"], r["eval"]
        lines.append(
            f"| {arch} | {1000 * tb:.0f} / {1000 * to:.0f} | {tb / to:.2f}× "
            f"| {1000 * eb:.0f} / {1000 * eo:.0f} | {eb / eo:.2f}× |"
        )
    out = Path(__file__).parent / "results" / "memory_format.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
