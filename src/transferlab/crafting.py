"""Craft and store the adversarial examples of one surrogate (SPEC §7), and
evaluate stored sets against target models (SPEC §8).

One crafting call covers one (surrogate model, attack): every budget × mode
becomes its own HDF5 file. Evaluation reads exactly the stored uint8 images.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from transferlab import data
from transferlab.attacks import build_attack, run_attack, target_labels
from transferlab.checkpoints import load_model, load_model_record
from transferlab.store import (
    dequantize_images,
    load_adversarial,
    quantize_images,
    sha256_of_file,
    write_adversarial,
)
from transferlab.transfer import evaluate_transfer, predict_labels

if TYPE_CHECKING:
    import pandas as pd


def evaluation_set(dataset: dict[str, Any], evaluation: dict[str, Any]) -> tuple:
    """The (x, y) that attacks and metrics use: the first ``n_samples`` of ``split``."""
    return data.load_dataset(
        dataset["name"],
        evaluation["split"],
        limit=evaluation.get("n_samples"),
        **dataset.get("options", {}),
    )


def craft_adversarial_sets(
    model_path: str | Path,
    outputs: Sequence[dict[str, Any]],
    *,
    dataset: dict[str, Any],
    evaluation: dict[str, Any],
    attack: dict[str, Any],
    batch_size: int,
    seed: int,
    device: str = "cpu",
    log: Callable[[str], None] = print,
    images: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> None:
    """Attack the evaluation set with one surrogate; write one file per output.

    ``outputs``: dicts {path, mode ('untargeted'|'targeted'), eps (in 1/255 units)}.
    ``attack``: {name, settings}. Targeted attacks aim at (y+1) mod K.
    ``images``: ``evaluation_set(dataset, evaluation)`` when the caller already has it.
    """
    model = load_model(model_path, device=device)
    record = load_model_record(model_path)
    num_classes = record["architecture"]["num_classes"]
    sha = sha256_of_file(model_path)
    x, y = images if images is not None else evaluation_set(dataset, evaluation)
    index = torch.arange(len(y))
    pred_clean = predict_labels(model, x, batch_size, device=device)
    for out in outputs:
        targeted = out["mode"] == "targeted"
        eps = float(out["eps"]) / 255
        attacker = build_attack(attack["name"], eps=eps, targeted=targeted, **attack["settings"])
        y_target = target_labels(y, num_classes) if targeted else None
        x_adv = run_attack(
            attacker, model, x, y, batch_size, seed, device=device, y_target=y_target
        )
        pixels = quantize_images(x_adv)
        # The surrogate's own predictions must be on what is stored, not on the float AEs.
        pred_adv = predict_labels(model, dequantize_images(pixels), batch_size, device=device)
        write_adversarial(
            out["path"],
            x_adv=pixels,
            index=index,
            y=y,
            y_target=y_target,
            pred_clean=pred_clean,
            pred_adv=pred_adv,
            attrs={
                "attack": attack["name"],
                "attack_params": attacker.settings(),
                "eps": eps,
                "dataset": dataset["name"],
                "dataset_options": dataset.get("options", {}),
                "split": evaluation["split"],
                "seed": seed,
                "surrogate_checkpoint": str(model_path),
                "surrogate_sha256": sha,
            },
        )
        hit = pred_adv == (y_target if targeted else y)
        success = float(hit.float().mean()) if targeted else float((~hit).float().mean())
        log(
            f"{attack['name']} {out['mode']} eps={out['eps']}/255: {len(y)} AEs, "
            f"white-box success {100 * success:.1f}% -> {out['path']}"
        )


def evaluate_adversarial_sets(
    files: Sequence[str | Path],
    targets: dict[str, str | Path],
    *,
    surrogate: str | Path,
    dataset: dict[str, Any],
    evaluation: dict[str, Any],
    batch_size: int,
    device: str = "cpu",
    log: Callable[[str], None] = print,
    images: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every stored set against every target: (summary rows, per-sample outcomes).

    Summary columns: attack, mode, eps (1/255 units), target, asr, asr_def3,
    target_hit_rate, fp, n, n_def3 (fractions). The per-sample frame adds the
    same keys to ``transfer.per_sample_outcomes``. ``images``: as for
    ``craft_adversarial_sets``. Every file must come from ``surrogate`` (its
    sha256), ``dataset``'s name and ``evaluation``'s split, with indices into the
    evaluation images; otherwise ``AdversarialFileError`` names the file.
    """
    import pandas as pd

    x, _ = images if images is not None else evaluation_set(dataset, evaluation)
    models = {label: load_model(path, device=device) for label, path in targets.items()}
    summaries, samples = [], []
    # every file of a surrogate usually holds the same images: predict them once per target
    clean_predictions: dict[tuple[str, bytes], np.ndarray] = {}
    surrogate_sha = sha256_of_file(surrogate)
    for file in files:
        adv = load_adversarial(
            file,
            expected_surrogate_sha256=surrogate_sha,
            expected_dataset=dataset["name"],
            expected_split=evaluation["split"],
            n_images=len(x),
        )
        keys = {
            "attack": adv.attrs["attack"],
            "mode": adv.mode,
            "eps": round(float(adv.attrs["eps"]) * 255),
        }
        x_clean = x[torch.as_tensor(adv.index)]
        for label, model in models.items():
            key = (label, np.asarray(adv.index).tobytes())
            if key not in clean_predictions:
                clean_predictions[key] = predict_labels(model, x_clean, batch_size, device=device)
            summary, outcomes = evaluate_transfer(
                adv,
                model,
                x_clean,
                batch_size,
                device=device,
                pred_target_clean=clean_predictions[key],
            )
            summaries.append({**keys, "target": label, **summary})
            samples.append(outcomes.assign(**keys, target=label))
            log(f"{Path(file).name} -> {label}: ASR {100 * summary['asr']:.1f}%")
    return pd.DataFrame(summaries), pd.concat(samples, ignore_index=True)
