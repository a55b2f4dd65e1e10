"""Per-step cost of each training mechanism relative to standard training (SPEC §4).

Baseline: the ST mechanism's step (forward, backward, SGD step) on the same
model and batch. Every mechanism's step is timed in the same interleaved
rounds as the baseline and reported as median(step) / median(ST step).

Run: PYTHONPATH=src python benchmarks/bench_mechanisms.py
"""

from __future__ import annotations

import copy
import statistics
import time
from pathlib import Path

import torch
from torch import nn

from transferlab.mechanisms import build_mechanism

# ---------------------------------------------------------------- settings
BATCH = 128  # Table XI batch size
SIZE = 16  # image side (digits default); CIFAR is 32
ROUNDS = 12  # interleaved timing rounds after one warm-up round
AT_STEPS = 10  # CIFAR-10 AT inner steps (Table XI)
# One thread, timed in process CPU seconds: on a shared machine, oversubscribed
# threads made wall-clock steps ~10× slower and the ratios noise-dominated.
THREADS = 1
CASES = {  # label: (key, tau, settings, target ratio)
    "SAM": ("sam", 0.1, {}, 2.1),
    "IR": ("ir", 0.5, {}, 3.2),
    "JR": ("jr", 0.05, {}, 3.2),
    "ER": ("er", 0.01, {}, 3.2),
    "SAM&IR": ("sam_ir", [0.1, 0.5], {}, 6.5),
    "SAM&JR": ("sam_jr", [0.1, 0.05], {}, 6.5),
    f"AT(k={AT_STEPS})": ("at", 0.5, {"steps": AT_STEPS}, 1.1 * (AT_STEPS + 1)),
}
OUT = Path(__file__).parent / "results" / "bench_mechanisms.md"


def surrogate() -> tuple[nn.Module, str]:
    """The CIFAR-style ResNet18 at 1/8 width (BN), or a small BN conv net as a fallback."""
    torch.manual_seed(0)
    try:
        from transferlab.models import build_model

        model = build_model(
            "resnet18", num_classes=10, mean=(0.5,) * 3, std=(0.25,) * 3, width=0.125
        )
        return model, "ResNet18 (CIFAR-style, width 0.125)"
    except (ImportError, ValueError, TypeError):
        model = nn.Sequential(
            *[
                layer
                for c_in, c_out in ((3, 16), (16, 32), (32, 64))
                for layer in (
                    nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
                    nn.BatchNorm2d(c_out),
                    nn.ReLU(),
                    nn.MaxPool2d(2),
                )
            ],
            nn.Flatten(),
            nn.Linear(64 * (SIZE // 8) ** 2, 10),
        )
        return model, "3-layer BN conv net"


def main() -> None:
    torch.set_num_threads(THREADS)
    torch.manual_seed(0)
    x = torch.rand(BATCH, 3, SIZE, SIZE)
    y = torch.randint(10, (BATCH,))
    base_model, model_name = surrogate()
    mechanisms = {"ST": build_mechanism("st", None, num_classes=10)}
    for label, (key, tau, settings, _) in CASES.items():
        mechanisms[label] = build_mechanism(key, tau, num_classes=10, **settings)
    states = {}
    for label in mechanisms:
        model = copy.deepcopy(base_model).train()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        states[label] = (model, optimizer, torch.Generator().manual_seed(0))
    times: dict[str, list[float]] = {label: [] for label in mechanisms}
    for round_index in range(ROUNDS + 1):
        for label, mech in mechanisms.items():
            model, optimizer, generator = states[label]
            start = time.process_time()
            mech.train_step(model, optimizer, x, y, generator)
            elapsed = time.process_time() - start
            if round_index > 0:  # round 0 warms up allocators and kernels
                times[label].append(elapsed)
    base = statistics.median(times["ST"])
    lines = [
        f"Model: {model_name}; batch {BATCH}×3×{SIZE}×{SIZE}; torch {torch.__version__}, "
        f"{torch.get_num_threads()} thread, CPU time; median of {ROUNDS} interleaved rounds; "
        f"ST step {base * 1e3:.1f} ms.",
        "",
        "| mechanism | step / ST step | target | ok |",
        "|---|---|---|---|",
    ]
    for label, (_, _, _, target) in CASES.items():
        ratio = statistics.median(times[label]) / base
        lines.append(
            f"| {label} | {ratio:.2f}× | ≤ {target:.1f}× | {'yes' if ratio <= target else 'NO'} |"
        )
    table = "\n".join(lines)
    print(table)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("# bench_mechanisms\n\n" + table + "\n")


if __name__ == "__main__":
    main()
