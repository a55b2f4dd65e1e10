"""Craft and store the adversarial examples of one surrogate (SPEC §7), and
evaluate stored sets against target models (SPEC §8).

One crafting call covers one (surrogate model, attack): every budget × mode
becomes its own HDF5 file. The surrogate is a model file or (``collection=True``) an
LGV collection attacked as an ensemble.
Evaluation reads exactly the stored uint8 images.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from transferlab import data
from transferlab.attacks import build_attack, run_attack, target_labels
from transferlab.precision import DEFAULT_PRECISION, check_precision
from transferlab.training.checkpoints import load_model, load_model_record
from transferlab.transfer.quantization import dequantize_images, quantize_within_budget
from transferlab.transfer.store import load_adversarial, sha256_of_file, write_adversarial
from transferlab.transfer.success import evaluate_transfer, fooling_rate, predict_labels

if TYPE_CHECKING:
    import pandas as pd


def craft_adversarial_sets(
    surrogate_path: str | Path,
    outputs: Sequence[dict[str, Any]],
    *,
    dataset: dict[str, Any],
    evaluation: dict[str, Any],
    attack: dict[str, Any],
    batch_size: int,
    seed: int,
    collection: bool = False,
    members_per_step: int = 1,
    device: str = "cpu",
    log: Callable[[str], None] = print,
    images: tuple[torch.Tensor, torch.Tensor] | None = None,
    precision: str = DEFAULT_PRECISION,
) -> None:
    """Attack the evaluation set with one surrogate; write one file per output.

    ``outputs``: dicts {path, mode ('untargeted'|'targeted'), eps (in 1/255 units)}.
    ``attack``: {name, settings}. Targeted attacks aim at (y+1) mod K.
    ``images``: ``data.held_out_set(dataset, evaluation)`` when the caller already has it.
    ``precision``: see ``run_attack``; a non-fp32 precision is stored as a file attribute.

    ``collection``: ``surrogate_path`` is an LGV collection file, attacked as an ensemble
    (SPEC §7 "LGV"). The attack's gradient at step t comes from the members S_t of
    ``attacks.ensemble.collection_surrogate`` (order π shuffled from ``seed``;
    ``members_per_step`` = n members, mean CE); its clean and adversarial
    predictions are argmax of the members' mean logits. Files are the same
    HDF5 format with surrogate_sha256 / surrogate_checkpoint = the collection
    file's, plus attributes surrogate_kind = "lgv-collection", members = K,
    members_per_step = n and member_order = π.
    """
    if collection:
        from transferlab.attacks import collection_surrogate
        from transferlab.lgv.collection import collection_models, load_collection_record

        record = load_collection_record(surrogate_path)
        surrogate = collection_surrogate(
            collection_models(record, device), seed=seed, members_per_step=members_per_step
        )
        identity = {
            "surrogate_kind": "lgv-collection",
            "members": len(surrogate),
            "members_per_step": members_per_step,
            "member_order": surrogate.order,
        }
    else:
        surrogate = load_model(surrogate_path, device=device, dataset=dataset)
        record = load_model_record(surrogate_path)
        identity = {}
    num_classes = record["architecture"]["num_classes"]
    sha = sha256_of_file(surrogate_path)
    x, y = images if images is not None else data.held_out_set(dataset, evaluation)
    index = torch.arange(len(y))
    pred_clean = predict_labels(surrogate, x, batch_size, device=device)
    log(
        f"crafting {len(outputs)} {attack['name']} AE file(s) from {surrogate_path} "
        f"on {len(y)} {evaluation['split']} images"
    )
    for out in outputs:
        targeted = out["mode"] == "targeted"
        eps = float(out["eps"]) / 255
        attacker = build_attack(attack["name"], eps=eps, targeted=targeted, **attack["settings"])
        y_target = target_labels(y, num_classes) if targeted else None
        x_adv = run_attack(
            attacker,
            surrogate,
            x,
            y,
            batch_size,
            seed,
            device=device,
            y_target=y_target,
            precision=check_precision(precision, "attacks.precision"),
        )
        # Stored AEs are 8-bit; rounding can leave the ε-ball only by float overshoot, and
        # projecting back keeps every stored AE within budget (counts go into the file).
        pixels, projection = quantize_within_budget(x_adv, x, eps)
        # The surrogate's own predictions must be on what is stored, not on the float AEs;
        # FP on the float AEs documents what rounding costs the white-box attack.
        pred_float = predict_labels(surrogate, x_adv, batch_size, device=device)
        pred_adv = predict_labels(surrogate, dequantize_images(pixels), batch_size, device=device)
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
                "surrogate_checkpoint": str(surrogate_path),
                "surrogate_sha256": sha,
                "fp_before_rounding": fooling_rate(pred_float, y, y_target),
                "fp_after_rounding": fooling_rate(pred_adv, y, y_target),
                **projection,
                **identity,
                # only where it differs from the default, so fp32 files read as before
                **({} if precision == DEFAULT_PRECISION else {"precision": precision}),
            },
        )
        log(
            f"{attack['name']} {out['mode']} eps={out['eps']}/255: {len(y)} AEs, white-box "
            f"success {100 * fooling_rate(pred_adv, y, y_target):.1f}% (float AEs "
            f"{100 * fooling_rate(pred_float, y, y_target):.1f}%, "
            f"{projection['projected_pixels']} pixels projected) -> {out['path']}"
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
    same keys to ``transfer.success.per_sample_outcomes``. ``images``: as for
    ``craft_adversarial_sets``. Every file must come from ``surrogate`` (its
    sha256), ``dataset``'s name and ``evaluation``'s split, with indices into the
    evaluation images; otherwise ``AdversarialFileError`` names the file.
    """
    import pandas as pd

    x, _ = images if images is not None else data.held_out_set(dataset, evaluation)
    models = {
        label: load_model(path, device=device, dataset=dataset) for label, path in targets.items()
    }
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
