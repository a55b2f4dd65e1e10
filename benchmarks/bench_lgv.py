"""LGV (SPEC §4/§7 "LGV"): the ensemble attack and the fine-tuning run against their
single-model counterparts, in the same process.

Run: ``PYTHONPATH=src python benchmarks/bench_lgv.py [--repeats 5]`` (about a minute).

1. Ensemble PGD: ``run_attack`` with an ``EnsembleSurrogate`` of K members
   (cycling, one member per step) vs ``run_attack`` with one of those members,
   the same number of steps (target ≤ 1.05: members are held in memory once and
   nothing is copied or reloaded per step).
2. Fine-tuning: ``build_collection`` (E epochs, P members per epoch, the whole
   job: base loading, member copies, epoch checkpoints with the members, the
   collection file) vs ``train_model``'s loop for the same epochs written out
   here (per epoch: the ST mechanism's step over the same batches, then the epoch
   checkpoint), from the same base weights (target ≤ 1.05); and, for scale, vs a
   whole ``train_model`` job of the same epochs (which adds a train + test
   accuracy pass and writes one model instead of K). Two more rows split the
   job's excess over the bare loop: writing the members (resume shards and the
   collection file) and the job's setup (base record, hash, model, data).

Repetitions are interleaved (the side that runs first alternates) and the
reported ratios are medians of per-pair ratios; process CPU time is the main
measure (one thread, so it is insensitive to other jobs on the cores).
"""

from __future__ import annotations

import argparse
import copy
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from transferlab import data
from transferlab.attacks import EnsembleSurrogate, build_attack, member_order, run_attack
from transferlab.lgv.finetune import build_collection
from transferlab.mechanisms import build_mechanism
from transferlab.models import build_model, place_model
from transferlab.training.checkpoints import CHECKPOINT_FORMAT, atomic_torch_save, load_model_record
from transferlab.training.loop import epoch_seed, rng_states, train_model
from transferlab.training.optimization import SGD

RESULTS = Path(__file__).resolve().parent / "results" / "lgv.md"
DIGITS_MEAN, DIGITS_STD = [0.5] * 3, [0.25] * 3


def timed(fn: Callable[[], Any]) -> tuple[float, float]:
    """(wall seconds, process CPU seconds) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def interleaved(
    ours: Callable[[], Any], baseline: Callable[[], Any], repeats: int
) -> dict[str, list[float]]:
    ours()  # warm-up (allocator, thread pool, oneDNN kernels)
    baseline()
    out: dict[str, list[float]] = {
        k: [] for k in ("wall_ours", "wall_base", "cpu_ours", "cpu_base")
    }
    for repeat in range(repeats):
        first, second = (ours, baseline) if repeat % 2 == 0 else (baseline, ours)
        a, b = timed(first), timed(second)
        (w_o, c_o), (w_b, c_b) = (a, b) if repeat % 2 == 0 else (b, a)
        out["wall_ours"].append(w_o)
        out["wall_base"].append(w_b)
        out["cpu_ours"].append(c_o)
        out["cpu_base"].append(c_b)
    return out


def ratios(times: dict[str, list[float]], kind: str) -> list[float]:
    return [o / b for o, b in zip(times[f"{kind}_ours"], times[f"{kind}_base"], strict=True)]


def ensemble_attack_case(args: argparse.Namespace) -> dict[str, Any]:
    members = []
    for i in range(args.members):
        torch.manual_seed(i)
        model = build_model(
            "resnet18", width=0.25, num_classes=10, mean=DIGITS_MEAN, std=DIGITS_STD
        )
        members.append(place_model(model, "cpu").eval())
    surrogate = EnsembleSurrogate(members, order=member_order(args.members, seed=0))
    g = torch.Generator().manual_seed(0)
    x = torch.rand(args.images, 3, 16, 16, generator=g)
    y = torch.randint(0, 10, (args.images,), generator=g)
    attack = build_attack("pgd", eps=8 / 255, steps=args.steps, step_size=2 / 255)
    times = interleaved(
        lambda: run_attack(attack, surrogate, x, y, batch_size=args.images, seed=0),
        lambda: run_attack(attack, members[0], x, y, batch_size=args.images, seed=0),
        args.repeats,
    )
    return {
        "name": (
            f"ensemble PGD, {args.members} members cycling vs 1 model, {args.steps} steps, "
            f"ResNet18 w=0.25, {args.images} images 16 px"
        ),
        "times": times,
    }


def fine_tuning_cases(args: argparse.Namespace, workdir: Path) -> list[dict[str, Any]]:
    dataset = {"name": "digits", "options": {"size": 16}}
    base_path = workdir / "base.pt"
    train_model(
        {
            "dataset": dataset,
            "architecture": {"arch": "resnet18", "width": 0.125},
            "training": {"epochs": 1, "warmup_epochs": 0, "lr": 0.05, "batch_size": 128},
            "mechanism": {"name": "st", "tau_index": 1, "tau": None, "settings": {}},
            "seed": 0,
        },
        base_path,
        log=lambda m: None,
    )
    lgv = {"optimizer": "sgd", "tau": None, "epochs": args.epochs, "per_epoch": 4}
    spec = {"base": str(base_path), "dataset": dataset, "lgv": lgv, "seed": 1}

    def ours() -> None:
        build_collection(spec, workdir / "collection.pt", log=lambda m: None)

    base = load_model_record(base_path)
    template = place_model(build_model(**{**base["architecture"], "pretrained": False}), "cpu")
    template.load_state_dict(base["state_dict"])
    train_data = data.training_data("digits", size=16)
    mechanism = build_mechanism("st", None, num_classes=10)

    def training_loop() -> None:
        # train_model's per-epoch work (training.py), at LGV's constant lr
        model = copy.deepcopy(template).train()
        optimizer = SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
        for epoch in range(args.epochs):
            generator = torch.Generator().manual_seed(epoch_seed(1, epoch))
            for x, y in train_data.batches(128, generator):
                mechanism.train_step(model, optimizer, x, y, generator)
            atomic_torch_save(
                {
                    "format": CHECKPOINT_FORMAT,
                    "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "schedule": {"next_epoch": epoch + 1, "lr": 0.05},
                    "rng": rng_states(),
                },
                workdir / "train.pt.epoch.pt",
            )

    def training_job() -> None:
        train_model(
            {
                "dataset": dataset,
                "architecture": {"arch": "resnet18", "width": 0.125},
                "training": {
                    "epochs": args.epochs, "warmup_epochs": 0, "lr": 0.05, "batch_size": 128
                },
                "mechanism": {"name": "st", "tau_index": 1, "tau": None, "settings": {}},
                "seed": 1,
            },
            workdir / "trained.pt",
            log=lambda m: None,
        )  # fmt: skip

    setting = f"sgd, {args.epochs} epochs × 4 members, ResNet18 w=0.125, digits 16 px, batch 128"
    cases = [
        {
            "name": f"LGV fine-tuning job vs train_model's loop ({setting})",
            "times": interleaved(ours, training_loop, args.repeats),
        },
        {
            "name": (
                f"LGV fine-tuning job vs a whole train_model job (with accuracy pass; {setting})"
            ),
            "times": interleaved(ours, training_job, args.repeats),
        },
    ]
    members = torch.load(workdir / "collection.pt", weights_only=True)["members"]

    def member_writes() -> None:
        # build_collection's own serialization: a shard per non-final epoch, then the file
        for epoch in range(args.epochs - 1):
            atomic_torch_save({"members": members[4 * epoch : 4 * epoch + 4]}, workdir / "s.pt")
        atomic_torch_save({"members": members}, workdir / "c.pt")

    def job_setup() -> None:
        # build_collection's work before its first batch: base record and hash, model, data
        from transferlab.transfer.store import sha256_of_file

        record = load_model_record(base_path)
        sha256_of_file(base_path)
        model = build_model(**{**record["architecture"], "pretrained": False})
        place_model(model, "cpu").load_state_dict(record["state_dict"])
        data.dataset_info("digits", size=16)
        data.training_data("digits", size=16)

    cases += [
        {
            "name": f"(member serialization alone vs train_model's loop; {setting})",
            "times": interleaved(member_writes, training_loop, args.repeats),
        },
        {
            "name": f"(job setup alone vs train_model's loop; {setting})",
            "times": interleaved(job_setup, training_loop, args.repeats),
        },
    ]
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--members", type=int, default=10)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--images", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    with tempfile.TemporaryDirectory() as tmp:
        cases = [ensemble_attack_case(args), *fine_tuning_cases(args, Path(tmp))]

    lines = [
        "# bench_lgv",
        "",
        f"{args.repeats} interleaved repetitions, {args.threads} thread(s);",
        "ratio = ours / baseline,",
        "median of the per-pair ratios (target ≤ 1.05 for both).",
        "",
        "| case | median CPU s ours / baseline | **median CPU ratio** | per-pair CPU ratios "
        "| median wall ratio |",
        "|---|---|---|---|---|",
    ]
    for case in cases:
        t = case["times"]
        cpu, wall = ratios(t, "cpu"), ratios(t, "wall")
        lines.append(
            f"| {case['name']} | {statistics.median(t['cpu_ours']):.3f} / "
            f"{statistics.median(t['cpu_base']):.3f} | **{statistics.median(cpu):.3f}** | "
            f"{', '.join(f'{r:.3f}' for r in cpu)} | {statistics.median(wall):.3f} |"
        )
    text = "\n".join(lines) + "\n"
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
