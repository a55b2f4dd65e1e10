"""GPU throughput of the paper's shapes and the projected cost of the paper's configuration.

Prints, for CIFAR-10 ResNet18 (batch 128, 32x32) and ImageNette ResNet50 (224x224):
seconds per epoch of a plain PyTorch loop (DataLoader with per-sample
RandomCrop/flip workers, NCHW, fp32, ``loss.item()`` per step) and of ours
(transferlab's device-resident batches, channels-last, per-epoch sync) in fp32
and bf16, the ratio; PGD adversarial examples per second; smoothness samples per
second; each mechanism's step time relative to ST; and the projected GPU-hours of
the configuration from its DAG (the jobs of ``snakemake -n``, parsed per rule and
wildcards). Images are synthetic uint8 tensors of the real shapes (timing does not
depend on pixel values; the ImageNette plain loop skips JPEG decoding).

    python benchmarks/bench_gpu.py --dry-run dry.txt --config config.yaml  # as gpu.sh runs it
    python benchmarks/bench_gpu.py --tiny ...                              # CPU, tiny shapes
    python benchmarks/bench_gpu.py --precision-report                      # bf16 vs fp32
"""

from __future__ import annotations

import argparse
import copy
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from transferlab.attacks import build_attack, run_attack
from transferlab.data.augment import InMemoryTrainingData
from transferlab.mechanisms import build_mechanism
from transferlab.metrics.smoothness import input_hessian_top_eigenvalue
from transferlab.models import build_model, place_model
from transferlab.precision import autocast
from transferlab.training.optimization import SGD

MEAN, STD = [0.49, 0.48, 0.45], [0.25, 0.24, 0.26]


@dataclass(frozen=True)
class Shape:
    """One benchmarked workload: a data set's surrogate at its training shape."""

    dataset: str
    arch: dict[str, Any]
    size: int
    batch: int
    n_train: int  # images per epoch (sets batches per epoch)
    pad: int  # RandomCrop padding (CIFAR) or 0 (ImageNette: crops are resized)
    attack_batch: int
    attack_steps: int


FULL = [
    Shape("cifar10", {"arch": "resnet18"}, 32, 128, 50000, 4, 500, 20),
    Shape("imagenette", {"arch": "resnet50_imagenet"}, 224, 128, 9469, 0, 64, 50),
]
TINY = [
    Shape("cifar10", {"arch": "resnet18", "width": 0.125}, 16, 32, 256, 2, 32, 3),
    Shape("imagenette", {"arch": "resnet50", "width": 0.125}, 32, 16, 64, 0, 16, 2),
]


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn: Callable[[], Any], device: torch.device) -> float:
    sync(device)
    t0 = time.perf_counter()
    fn()
    sync(device)
    return time.perf_counter() - t0


def model_for(shape: Shape, device: torch.device, *, channels_last: bool = True) -> torch.nn.Module:
    torch.manual_seed(0)
    model = build_model(**shape.arch, num_classes=10, mean=MEAN, std=STD)
    if channels_last:
        return place_model(model, device).train()
    return model.to(device).train()


def synthetic_images(
    shape: Shape, n: int, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    size = shape.size + 32 if shape.pad == 0 and shape.size >= 64 else shape.size
    x = torch.randint(0, 256, (n, 3, size, size), generator=g, dtype=torch.uint8)
    y = torch.randint(0, 10, (n,), generator=g)
    return x.to(device), y.to(device)


class _AugmentedDataset(torch.utils.data.Dataset):
    """What a plain training script does: per-sample torchvision transforms in workers."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, shape: Shape) -> None:
        from torchvision.transforms import v2

        self.x, self.y = x, y
        crop = (
            v2.RandomCrop(shape.size, padding=shape.pad)
            if shape.pad
            else v2.RandomResizedCrop(shape.size, antialias=True)
        )
        self.transform = v2.Compose(
            [crop, v2.RandomHorizontalFlip(), v2.ToDtype(torch.float32, scale=True)]
        )

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.transform(self.x[i]), self.y[i]


def plain_epoch_seconds(shape: Shape, device: torch.device, steps: int, workers: int) -> float:
    """Seconds per epoch of the textbook loop, from ``steps`` timed batches after 2 warm-up."""
    n = (steps + 2) * shape.batch
    x, y = synthetic_images(shape, n, torch.device("cpu"))
    loader = torch.utils.data.DataLoader(
        _AugmentedDataset(x, y, shape),
        batch_size=shape.batch,
        shuffle=True,
        num_workers=workers,
        pin_memory=device.type == "cuda",
        drop_last=True,
    )
    model = model_for(shape, device, channels_last=False)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    batches = iter(loader)

    def step() -> float:
        xb, yb = next(batches)
        xb, yb = xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(2):
        step()
    seconds = timed(lambda: [step() for _ in range(steps)], device)
    return seconds / steps * (shape.n_train // shape.batch)


def ours_step_seconds(
    shape: Shape,
    device: torch.device,
    steps: int,
    precision: str,
    method: str = "st",
    tau: object = None,
    settings: dict[str, Any] | None = None,
) -> float:
    """Seconds per training step of transferlab's loop (device-resident data)."""
    n = (steps + 2) * shape.batch
    x, y = synthetic_images(shape, n, device)
    if shape.pad == 0 and x.shape[-1] != shape.size:  # crop to size on the device
        x = x[..., : shape.size, : shape.size].contiguous()
    data = InMemoryTrainingData(x, y, pad=shape.pad, flip=True)
    model = model_for(shape, device)
    mechanism = build_mechanism(method, tau, num_classes=10, **(settings or {}))
    opt = SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    generator = torch.Generator().manual_seed(0)
    batches = data.batches(shape.batch, generator, drop_last=True)
    total = torch.zeros((), device=device, dtype=torch.float64)

    def step() -> None:
        nonlocal total
        xb, yb = next(batches)
        with autocast(device, precision):
            total += mechanism.train_step(model, opt, xb, yb, generator)

    for _ in range(2):
        step()
    seconds = timed(lambda: [step() for _ in range(steps)], device)
    float(total)
    return seconds / steps


def pgd_per_second(shape: Shape, device: torch.device, precision: str, batches: int) -> float:
    model = model_for(shape, device).eval()
    x, y = synthetic_images(shape, shape.attack_batch * batches, device)
    x = x[..., : shape.size, : shape.size].float().div(255)
    attack = build_attack("pgd", eps=8 / 255, steps=shape.attack_steps)
    run_attack(attack, model, x[: shape.attack_batch], y[: shape.attack_batch], 64, 0)  # warm-up
    seconds = timed(
        lambda: run_attack(attack, model, x, y, shape.attack_batch, 0, precision=precision), device
    )
    return len(y) / seconds


def smoothness_per_second(shape: Shape, device: torch.device, n: int) -> float:
    model = model_for(shape, device).eval()
    x, y = synthetic_images(shape, n, device)
    x = x[..., : shape.size, : shape.size].float().div(255)
    input_hessian_top_eigenvalue(model, x[:2], y[:2], batch_size=32)  # warm-up
    seconds = timed(lambda: input_hessian_top_eigenvalue(model, x, y, batch_size=32), device)
    return n / seconds


def device_batches_match(device: torch.device) -> bool:
    """The device-resident path yields the CPU path's batches (same seed), bit for bit."""
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (300, 3, 8, 8), generator=g, dtype=torch.uint8)
    y = torch.randint(0, 10, (300,), generator=g)
    cpu = InMemoryTrainingData(x, y, pad=2, flip=True)
    on_device = cpu.to(device)
    pairs = zip(
        cpu.batches(64, torch.Generator().manual_seed(5)),
        on_device.batches(64, torch.Generator().manual_seed(5)),
        strict=True,
    )
    return all(torch.equal(a.cpu(), c) and torch.equal(b.cpu(), d) for (c, d), (a, b) in pairs)


# ------------------------------------------------------------------------- the DAG's jobs

JOB = re.compile(r"^\s*(?:local)?rule (\w+):$")  # indented inside group jobs
WILDCARDS = re.compile(r"^\s+wildcards: (.*)$")


def dag_jobs(dry_run: str) -> list[tuple[str, dict[str, str]]]:
    """(rule, wildcards) of every job a ``snakemake -n`` output lists."""
    jobs: list[tuple[str, dict[str, str]]] = []
    for line in dry_run.splitlines():
        if m := JOB.match(line):
            # attack_<dataset> and autoattack_<dataset> are the per-data-set attack rules
            rule = m.group(1)
            rule = "attack" if re.fullmatch(r"(auto|lgv_)?attack_\w+", rule) else rule
            jobs.append((rule, {}))
        elif (m := WILDCARDS.match(line)) and jobs:
            jobs[-1][1].update(kv.split("=", 1) for kv in m.group(1).split(", "))
    return jobs


def load_config(path: Path) -> dict[str, Any]:
    import yaml
    from snakemake.utils import validate

    config = yaml.safe_load(path.read_text())
    schema = Path(__file__).resolve().parents[1] / "workflow" / "schemas" / "config.schema.yaml"
    validate(config, str(schema), set_default=True)
    return config


def project(
    jobs: list[tuple[str, dict[str, str]]],
    config: dict[str, Any],
    step_seconds: Callable[[str, str, str, str], float],
    ae_per_second: Callable[[str], float],
    sigma_per_second: Callable[[str], float],
) -> tuple[dict[str, tuple[int, float]], float]:
    """(jobs and GPU-seconds per rule, the longest job's seconds). Per job:
    train = epochs·batches·step(dataset, arch, method, precision);
    attack = AEs (n_eval·modes·budgets) / AE rate, plus one forward per AE and target
    (≈ 1/(3·steps) of an AE); measure = n_metrics / σ rate.
    Aggregating rules run on the CPU and count 0 GPU-seconds."""
    out: dict[str, list[float]] = {}
    longest = 0.0
    for rule, wc in jobs:
        seconds = 0.0
        if rule in ("train", "attack", "measure"):
            ds = config["datasets"][wc["dataset"]]
        if rule == "train":
            arch = ds["architectures"][wc["arch"]]
            training = {**ds["training"], **arch.get("training", {})}
            n_train = 50000 if wc["dataset"] == "cifar10" else 9469
            batches = -(-n_train // training["batch_size"])
            precision = training.get("precision", "fp32")
            seconds = (
                training["epochs"]
                * batches
                * step_seconds(wc["dataset"], wc["arch"], wc["method"], precision)
            )
        elif rule == "attack":
            budgets = ds.get("budgets") or config["budgets"]
            n = ds["evaluation"]["n_samples"] * len(config["modes"]) * len(budgets)
            attack = wc.get("attack", "autoattack")  # autoattack_* rules have no wildcard
            steps = ds["attacks"]["methods"].get(attack, {}).get("steps", 20)
            rate = ae_per_second(wc["dataset"])
            seconds = n / rate * (1 + len(ds["targets"]) / (3 * steps))
        elif rule == "measure":
            seconds = ds["metrics"]["n_samples"] / sigma_per_second(wc["dataset"])
        entry = out.setdefault(rule, [0, 0.0])
        entry[0] += 1
        entry[1] += seconds
        longest = max(longest, seconds)
    return {rule: (int(c), s) for rule, (c, s) in out.items()}, longest


# ------------------------------------------------------------------------- bf16 vs fp32


def precision_report(steps_device: torch.device) -> list[str]:
    """Per mechanism: relative change of the loss and of its regularizer (loss − CE) under
    bf16 autocast, and the cosine between the fp32 and bf16 weight gradients."""
    from transferlab.mechanisms.base import soft_cross_entropy

    torch.manual_seed(0)
    base = place_model(
        build_model(arch="resnet18", width=0.25, num_classes=10, mean=MEAN, std=STD),
        steps_device,
    ).train()
    g = torch.Generator().manual_seed(0)
    x = torch.rand(32, 3, 16, 16, generator=g).to(steps_device)
    y = torch.randint(0, 10, (32,), generator=g).to(steps_device)
    cases = [
        ("st", None, {}),
        ("ls", 0.3, {}),
        ("mu", 0.5, {}),
        ("sam", 0.1, {}),
        ("at", 0.5, {"steps": 2, "step_size": 0.25}),
        ("ir", 1.0, {}),
        ("jr", 0.1, {}),
        ("er", 0.1, {}),
    ]
    lines = [
        "| mechanism | loss rel. change | regularizer rel. change | weight-gradient cosine |",
        "|---|---|---|---|",
    ]
    for name, tau, settings in cases:
        out = {}
        for precision in ("fp32", "bf16"):
            model = copy.deepcopy(base)
            mech = build_mechanism(name, tau, num_classes=10, **settings)
            with autocast(steps_device, precision):
                xb, target = mech.prepare_batch(model, x, y, torch.Generator().manual_seed(1))
                loss = mech.loss(model, xb, target)
                reg = loss - soft_cross_entropy(model(xb), target)
            grads = torch.autograd.grad(loss, list(model.parameters()))
            out[precision] = (
                float(loss.detach()),
                float(reg.detach()),
                torch.cat([gr.flatten() for gr in grads]),
            )
        (l32, r32, g32), (l16, r16, g16) = out["fp32"], out["bf16"]
        reg = f"{abs(r16 - r32) / abs(r32):.1e}" if abs(r32) > 1e-6 else "-"
        cos = float(F.cosine_similarity(g32, g16, dim=0))
        lines.append(f"| {name} | {abs(l16 - l32) / abs(l32):.1e} | {reg} | {cos:.4f} |")
    # The metrics, computed as if autocast reached them (the library disables it there).
    from transferlab.metrics.smoothness import exact_top_eigenvalue

    model = copy.deepcopy(base).eval()
    sigma = {}
    input_grad = {}
    for precision in ("fp32", "bf16"):
        with autocast(steps_device, precision):
            sigma[precision] = exact_top_eigenvalue(model, x, y).double()
            xr = x.clone().requires_grad_(True)
            loss = F.cross_entropy(model(xr), y, reduction="sum")
            input_grad[precision] = torch.autograd.grad(loss, xr)[0].flatten(1)
    rel = ((sigma["bf16"] - sigma["fp32"]).abs() / sigma["fp32"].abs()).median()
    cos = F.cosine_similarity(input_grad["fp32"], input_grad["bf16"], dim=1)
    lines += [
        "",
        f"smoothness sigma (Def. 1, exact): median per-sample rel. change {float(rel):.1e}",
        f"input gradient (Def. 2): per-sample cosine fp32 vs bf16, min {float(cos.min()):.4f}, "
        f"median {float(cos.median()):.4f}",
    ]
    return lines


# ------------------------------------------------------------------------- FLOP plan

# Step cost of each mechanism relative to ST, measured on the CPU
# (benchmarks/results/bench_mechanisms.md, AT at k = 10 steps); augmentations ≈ 1.
CPU_MECHANISM_FACTOR = {
    "sam": 1.83,
    "ir": 2.36,
    "jr": 2.33,
    "er": 3.01,
    "sam_ir": 4.68,
    "sam_jr": 4.94,
    "at": 6.72,
}
N_TRAIN = {"cifar10": 50000, "imagenette": 9469, "digits": 1437}


def train_flops_per_image(arch: dict[str, Any], size: int) -> float:
    """FLOPs of one image's forward + backward (weights and input), counted by
    torch.utils.flop_counter on a batch of 2."""
    from torch.utils.flop_counter import FlopCounterMode

    spec = {k: v for k, v in arch.items() if k not in ("training", "pretrained")}
    model = build_model(**spec, num_classes=10, mean=MEAN, std=STD).train()
    x = torch.rand(2, 3, size, size, requires_grad=True)
    with FlopCounterMode(display=False) as counter:
        F.cross_entropy(model(x), torch.zeros(2, dtype=torch.int64)).backward()
    return counter.get_total_flops() / 2


def flop_plan(jobs: list[tuple[str, dict[str, str]]], config: dict[str, Any]) -> list[str]:
    """PFLOPs per rule of a DAG: train = epochs·N·flops(arch)·factor(method);
    attack = n_eval·modes·budgets·steps·flops(surrogate) (an input-gradient step costs
    about a training step's FLOPs) + one forward (flops/3) per AE and target;
    measure (exact σ) = n·(1 + 2C)·flops/3 with C = 10 classes."""
    sizes = {"cifar10": 32, "imagenette": 224, "digits": 8}
    per_image: dict[tuple[str, str], float] = {}

    def flops(ds_key: str, arch_key: str) -> float:
        if (ds_key, arch_key) not in per_image:
            arch = config["datasets"][ds_key]["architectures"][arch_key]
            size = config["datasets"][ds_key]["options"].get("size", sizes[ds_key])
            per_image[(ds_key, arch_key)] = train_flops_per_image(arch, size)
        return per_image[(ds_key, arch_key)]

    totals: dict[str, list[float]] = {}
    for rule, wc in jobs:
        value = 0.0
        if rule in ("train", "attack", "measure", "lgv"):
            ds = config["datasets"][wc["dataset"]]
            f = flops(wc["dataset"], wc["arch"])
        if rule == "lgv":  # fine-tuning: lgv.epochs with the optimizer's step cost
            factor = {"sgd": 1.0}.get(wc["optimizer"], CPU_MECHANISM_FACTOR.get(wc["optimizer"]))
            value = ds["lgv"]["epochs"] * N_TRAIN[wc["dataset"]] * f * (factor or 1.0)
        if rule == "train":
            arch = ds["architectures"][wc["arch"]]
            epochs = {**ds["training"], **arch.get("training", {})}["epochs"]
            factor = CPU_MECHANISM_FACTOR.get(wc["method"], 1.0)
            value = epochs * N_TRAIN[wc["dataset"]] * f * factor
        elif rule == "attack":
            budgets = ds.get("budgets") or config["budgets"]
            n = ds["evaluation"]["n_samples"] * len(config["modes"]) * len(budgets)
            attack = wc.get("attack", "autoattack")  # autoattack_* rules have no wildcard
            steps = ds["attacks"]["methods"].get(attack, {}).get("steps", 20)
            targets = sum(flops(wc["dataset"], t) for t in ds["targets"])
            value = n * (steps * f + targets / 3)
        elif rule == "measure":
            value = ds["metrics"]["n_samples"] * 21 * f / 3
        key = f"{rule} {wc['dataset']}" if "dataset" in wc else rule
        entry = totals.setdefault(key, [0, 0.0])
        entry[0] += 1
        entry[1] += value
    lines = ["| data set | arch | train GFLOP / image (fwd+bwd) |", "|---|---|---|"]
    lines += [f"| {d} | {a} | {v / 1e9:.2f} |" for (d, a), v in sorted(per_image.items())]
    lines += ["", "| rule | jobs | PFLOP |", "|---|---|---|"]
    for rule, (n, value) in sorted(totals.items(), key=lambda kv: -kv[1][1]):
        lines.append(f"| {rule} | {int(n)} | {value / 1e15:.0f} |")
    total = sum(v for _, v in totals.values())
    lines.append(f"| total | {len(jobs)} | {total / 1e15:.0f} |")
    lines += ["", "| sustained TFLOP/s per GPU (assumed) | 1 GPU, hours | 8 GPUs, hours |"]
    lines.append("|---|---|---|")
    for rate in (25, 50, 100, 200):
        hours = total / (rate * 1e12) / 3600
        lines.append(f"| {rate} | {hours:.0f} | {hours / 8:.1f} |")
    return lines


# ------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiny", action="store_true", help="tiny shapes, seconds on a CPU")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--dry-run", type=Path, help="output of snakemake -n (for the plan)")
    parser.add_argument("--config", type=Path, default=Path("config.yaml"))
    parser.add_argument("--workers", type=int, default=8, help="plain loop's DataLoader workers")
    parser.add_argument("--precision-report", action="store_true")
    parser.add_argument(
        "--flop-plan", action="store_true", help="FLOP-count plan of --dry-run (no timing)"
    )
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: 1 with --tiny)")
    args = parser.parse_args()
    device = torch.device(args.device)
    if args.threads or args.tiny:
        torch.set_num_threads(args.threads or 1)
    if args.precision_report:
        print("\n".join(precision_report(device)))
        return
    if args.flop_plan:
        jobs = dag_jobs(args.dry_run.read_text())
        print("\n".join(flop_plan(jobs, load_config(args.config))))
        return
    tiny = args.tiny
    shapes = TINY if tiny else FULL
    steps = 2 if tiny else 30
    workers = 0 if tiny else args.workers
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(f"# bench_gpu on {name} (torch {torch.__version__}){' --tiny' if tiny else ''}")
    print(f"device-resident batches == CPU batches: {device_batches_match(device)}")

    per_shape: dict[str, dict[str, float]] = {}
    print(
        "\n| data set | arch | plain s/epoch | ours fp32 | ours bf16 | plain/ours fp32 | "
        "plain/ours bf16 | PGD AE/s fp32 | PGD AE/s bf16 | sigma samples/s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for shape in shapes:
        batches = shape.n_train // shape.batch
        plain = plain_epoch_seconds(shape, device, steps, workers)
        ours = {p: ours_step_seconds(shape, device, steps, p) * batches for p in ("fp32", "bf16")}
        ae = {p: pgd_per_second(shape, device, p, 1 if tiny else 2) for p in ("fp32", "bf16")}
        sigma = smoothness_per_second(shape, device, 4 if tiny else 64)
        per_shape[shape.dataset] = {
            "st_fp32": ours["fp32"] / batches,
            "st_bf16": ours["bf16"] / batches,
            "ae_fp32": ae["fp32"],
            "ae_bf16": ae["bf16"],
            "sigma": sigma,
        }
        print(
            f"| {shape.dataset} | {shape.arch['arch']} | {plain:.1f} | {ours['fp32']:.1f} | "
            f"{ours['bf16']:.1f} | {plain / ours['fp32']:.2f} | {plain / ours['bf16']:.2f} | "
            f"{ae['fp32']:.0f} | {ae['bf16']:.0f} | {sigma:.1f} |"
        )

    # Mechanism step time / ST step at the CIFAR-10 shape, in each mechanism's precision.
    config = load_config(args.config) if args.config.exists() else None
    cifar = shapes[0]
    mechanisms = {
        "st": (None, {}),
        "mu": (0.5, {}),
        "cm": (0.5, {}),
        "co": (cifar.size // 2, {}),
        "ls": (0.3, {}),
        "at": (0.5, {"steps": 10 if not tiny else 2, "step_size": 0.25}),
        "ir": (0.1, {}),
        "jr": (0.05, {}),
        "er": (0.01, {}),
        "sam": (0.1, {}),
        "sam_ir": ([0.1, 0.1], {}),
        "sam_jr": ([0.1, 0.05], {}),
    }
    factor: dict[tuple[str, str], float] = {}
    mech_steps = 1 if tiny else 10
    print("\n| mechanism | step / ST step (fp32) | step / ST step (bf16, fp32 if second order) |")
    print("|---|---|---|")
    st = {p: ours_step_seconds(cifar, device, mech_steps, p) for p in ("fp32", "bf16")}
    for method, (tau, settings) in mechanisms.items():
        fp32_only = build_mechanism(method, tau, num_classes=10, **settings).fp32_only
        row = []
        for precision in ("fp32", "bf16"):
            run_precision = "fp32" if fp32_only else precision
            t = (
                st[run_precision]
                if method == "st"
                else ours_step_seconds(
                    cifar, device, mech_steps, run_precision, method, tau, settings
                )
            )
            factor[(method, precision)] = t / st[precision]
            row.append(f"{t / st[precision]:.2f}x")
        print(f"| {method} | {row[0]} | {row[1]} |")

    if args.dry_run is None or config is None:
        print("\n(no --dry-run / --config: no projection)")
        return
    jobs = dag_jobs(args.dry_run.read_text())
    counts = Counter(rule for rule, _ in jobs)
    # Other architectures: their ST step time relative to the surrogate's, measured.
    arch_factor: dict[tuple[str, str], float] = {}
    for ds_key, ds in config["datasets"].items():
        shape = next((s for s in shapes if s.dataset == ds_key), shapes[0])
        for arch_key, arch in ds["architectures"].items():
            spec = {k: v for k, v in arch.items() if k not in ("training", "pretrained")}
            if tiny:  # every architecture stands in as the surrogate: nothing to time
                arch_factor[(ds_key, arch_key)] = 1.0
                continue
            timed_shape = Shape(**{**shape.__dict__, "arch": spec})
            arch_factor[(ds_key, arch_key)] = (
                ours_step_seconds(timed_shape, device, 5, "fp32")
                / (per_shape.get(ds_key, per_shape["cifar10"])["st_fp32"])
            )

    def rates(ds_key: str) -> dict[str, float]:
        return per_shape.get(ds_key, per_shape["cifar10"])

    for precision in ("fp32", "bf16"):

        def step_seconds(ds_key: str, arch: str, method: str, _: str, p: str = precision) -> float:
            base = rates(ds_key)[f"st_{p}"] * arch_factor[(ds_key, arch)]
            return base * factor.get((method, p), 1.0)

        plan, longest = project(
            jobs,
            config,
            step_seconds,
            lambda d, p=precision: rates(d)[f"ae_{p}"],
            lambda d: rates(d)["sigma"],
        )
        total = sum(s for _, s in plan.values())
        print(f"\n## projected GPU time of {args.config} at {precision} ({len(jobs)} jobs)")
        print("| rule | jobs | GPU-hours |")
        print("|---|---|---|")
        for rule, (n, seconds) in sorted(plan.items(), key=lambda kv: -kv[1][1]):
            print(f"| {rule} | {n} | {seconds / 3600:.2f} |")
        print(f"| total | {sum(counts.values())} | {total / 3600:.2f} |")
        print(
            f"1 GPU: {total / 3600:.1f} h; 8 GPUs: {max(total / 8, longest) / 3600:.1f} h "
            f"(max of ideal packing and the longest job, {longest / 3600:.2f} h)"
        )


if __name__ == "__main__":
    main()
