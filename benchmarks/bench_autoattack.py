"""AutoAttack through transferlab's attack API vs pyautoattack called directly; its cost.

Run: ``PYTHONPATH=src python benchmarks/bench_autoattack.py [--images 32] [--repeats 3]``.

The model is the embedded default's surrogate (ResNet18, width 0.125, digits
16×16×3, ST, configs/digits.yaml's training recipe), trained here in a few
seconds unless ``--model`` gives a model file. Part 1: the same images and seed
through ``run_attack(build_attack("autoattack"))`` and through
``pyautoattack.AutoAttack(...).run_standard_evaluation`` directly, repetitions
interleaved; the overhead is the median of the per-pair time ratios (target ≤
1.05) and the two outputs must be identical. Part 2: seconds per call and per
image at each budget (standard AutoAttack spends most of its time on the
images APGD-CE does not break: APGD-T, FAB-T and Square run on those only),
and the fixed per-call cost, measured on a batch the model already
misclassifies (wrong labels), where no attack stage runs.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch
from torch import Tensor, nn

from transferlab.attacks import build_attack, run_attack
from transferlab.attacks.base import batch_seed
from transferlab.training.checkpoints import load_model
from transferlab.transfer.quantization import dequantize_images, quantize_within_budget
from transferlab.transfer.success import fooling_rate, predict_labels

RESULTS = Path(__file__).resolve().parent / "results" / "bench_autoattack.md"
SPEC = {  # configs/digits.yaml: the ResNet18 surrogate, ST
    "dataset": {"name": "digits", "options": {"size": 16, "test_fraction": 0.25}},
    "architecture": {"arch": "resnet18", "width": 0.125},
    "training": {
        "epochs": 6,
        "warmup_epochs": 1,
        "lr": 0.1,
        "batch_size": 128,
        "momentum": 0.9,
        "weight_decay": 0.0005,
    },
    "mechanism": {"name": "st", "tau_index": 1, "tau": None, "settings": {}},
    "seed": 0,
}


def surrogate(model_path: str | None, workdir: Path) -> nn.Module:
    if model_path is None:
        from transferlab.training.loop import train_model

        model_path = str(workdir / "resnet18_st.pt")
        train_model(SPEC, model_path, log=lambda message: None)
    return load_model(model_path)


def direct(model: nn.Module, x: Tensor, y: Tensor, eps: float, seed: int) -> Tensor:
    """pyautoattack as its README calls it, with the seed our wrapper draws for batch 0."""
    from pyautoattack import AutoAttack

    generator = torch.Generator().manual_seed(batch_seed(seed, 0))
    package_seed = int(torch.randint(0, 2**31 - 1, (), generator=generator))
    adversary = AutoAttack(model, norm="Linf", eps=eps, version="standard", seed=package_seed)
    x_adv, _ = adversary.run_standard_evaluation(x, y, batch_size=len(x))
    return x_adv


def ours(model: nn.Module, x: Tensor, y: Tensor, eps: float, seed: int) -> Tensor:
    return run_attack(build_attack("autoattack", eps=eps), model, x, y, len(x), seed)


def timed(fn, *args) -> tuple[float, float, Tensor]:
    cpu, wall = time.process_time(), time.perf_counter()
    out = fn(*args)
    return time.process_time() - cpu, time.perf_counter() - wall, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--ratio-eps", type=int, default=16, help="budget of part 1 (1/255)")
    parser.add_argument("--budgets", type=int, nargs="+", default=[4, 8, 16])
    parser.add_argument("--model", default=None, help="a model file (default: train one)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    from transferlab import data

    with tempfile.TemporaryDirectory() as tmp:
        model = surrogate(args.model, Path(tmp))
    x, y = data.load_dataset("digits", "test", limit=args.images, size=16, test_fraction=0.25)
    clean_accuracy = float((predict_labels(model, x, len(x)) == y.numpy()).mean())
    eps = args.ratio_eps / 255

    ratios_cpu, ratios_wall, times_ours, times_direct, max_diff = [], [], [], [], 0.0
    for repeat in range(args.repeats):
        order = (ours, direct) if repeat % 2 == 0 else (direct, ours)
        results = {fn.__name__: timed(fn, model, x, y, eps, 0) for fn in order}
        (cpu_o, wall_o, adv_o), (cpu_d, wall_d, adv_d) = results["ours"], results["direct"]
        ratios_cpu.append(cpu_o / cpu_d)
        ratios_wall.append(wall_o / wall_d)
        times_ours.append(cpu_o)
        times_direct.append(cpu_d)
        max_diff = max(max_diff, float((adv_o - adv_d).abs().max()))
        print(f"pair {repeat}: ours {cpu_o:.2f} s, direct {cpu_d:.2f} s CPU", flush=True)

    overhead = [timed(ours, model, x, torch.remainder(y + 1, 10), eps, 0)[:2] for _ in range(3)]
    costs = []
    for budget in args.budgets:
        cpu, wall, adv = timed(ours, model, x, y, budget / 255, 0)
        pgd = run_attack(build_attack("pgd", eps=budget / 255, steps=10), model, x, y, len(x), 0)
        pixels, projection = quantize_within_budget(adv, x, budget / 255)
        costs.append(
            (
                budget,
                cpu,
                wall,
                fooling_rate(predict_labels(model, adv, len(x)), y),
                fooling_rate(predict_labels(model, dequantize_images(pixels), len(x)), y),
                projection["projected_pixels"],
                fooling_rate(predict_labels(model, pgd, len(x)), y),
            )
        )
        print(f"eps {budget}/255: {wall:.1f} s", flush=True)

    fixed_cpu = statistics.median(cpu for cpu, _ in overhead)
    fixed_wall = statistics.median(wall for _, wall in overhead)
    lines = [
        "# bench_autoattack",
        "",
        "| quantity | value |",
        "|---|---|",
        "| model | ResNet18 width 0.125, digits 16×16×3, ST (embedded-default surrogate) |",
        f"| images | {len(x)} test images (clean accuracy {100 * clean_accuracy:.1f}%) |",
        "| attack | AutoAttack standard, L∞, untargeted (pyautoattack) |",
        "| threads | 1 |",
        f"| part 1 budget | {args.ratio_eps}/255 |",
        f"| repetitions (interleaved) | {args.repeats} |",
        f"| median CPU time, transferlab run_attack (s) | {statistics.median(times_ours):.2f} |",
        f"| median CPU time, pyautoattack directly (s) | {statistics.median(times_direct):.2f} |",
        f"| **median CPU-time ratio (target ≤ 1.05)** | **{statistics.median(ratios_cpu):.3f}** |",
        f"| per-pair CPU-time ratios | {', '.join(f'{r:.3f}' for r in ratios_cpu)} |",
        f"| median wall-time ratio | {statistics.median(ratios_wall):.3f} |",
        f"| max abs difference of the two AEs | {max_diff:g} |",
        f"| per-call fixed cost, no image attacked (median of 3, CPU / wall s) | "
        f"{fixed_cpu:.3f} / {fixed_wall:.3f} |",
        "",
        "Cost per budget (one call on all images; s / image excludes the fixed cost), and",
        "white-box success (FP) on the float AEs, on the stored 8-bit AEs",
        "(`quantize_within_budget`: rounded, projected onto the ε-ball) and of PGD (10 steps):",
        "",
        "| ε | CPU (s) | wall (s) | CPU s / image | wall s / image | FP float | FP 8-bit "
        "| projected pixels | PGD-10 FP |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for budget, cpu, wall, fp_float, fp_stored, projected, fp_pgd in costs:
        lines.append(
            f"| {budget}/255 | {cpu:.1f} | {wall:.1f} | {(cpu - fixed_cpu) / len(x):.2f} | "
            f"{(wall - fixed_wall) / len(x):.2f} | {100 * fp_float:.1f}% | "
            f"{100 * fp_stored:.1f}% | {projected} | {100 * fp_pgd:.1f}% |"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
