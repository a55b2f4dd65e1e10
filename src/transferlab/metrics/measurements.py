"""Per-model measurements on held-out images: smoothness (Definition 1) and the
input gradients that gradient similarity (Definition 2) compares.

One call measures one model and writes small tidy files: per-sample σ (CSV),
its summary (JSON) and the flattened raw-pixel input gradients (a ``.pt``
tensor file). Similarities are cosines between stored gradients, so every
pair — surrogate→target, across mechanisms (Fig. 11), across architectures
(Table VII) — costs one dot product instead of two more backward passes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from transferlab import data
from transferlab.atomic_files import atomic_write_gzip_text, atomic_write_text
from transferlab.metrics.similarity import (
    cosine_rows,
    input_gradients,
    shifted_seed_pairs,
    similarity_summary,
)
from transferlab.metrics.smoothness import input_hessian_top_eigenvalue, smoothness_summary
from transferlab.training.checkpoints import (
    TransferlabFileError,
    atomic_torch_save,
    load_file,
    load_model,
)

GRADIENTS_FORMAT = "transferlab-input-gradients/1"


def measure_model(
    model_path: str | Path,
    *,
    dataset: dict[str, Any],
    metrics: dict[str, Any],
    smoothness_csv: str | Path,
    smoothness_json: str | Path,
    gradients_path: str | Path,
    device: str = "cpu",
    log: Callable[[str], None] = print,
) -> dict[str, float]:
    """σ per sample (CSV: index, y, sigma), its summary (JSON) and ∇ₓℓ per sample (.pt)."""
    model = load_model(model_path, device=device, dataset=dataset)
    x, y = data.held_out_set(dataset, metrics)
    x, y = x.to(device), y.to(device)
    log(f"measuring {model_path} on {len(y)} {metrics['split']} images: σ, then input gradients")
    sigma = input_hessian_top_eigenvalue(
        model,
        x,
        y,
        method=metrics["smoothness_method"],
        batch_size=metrics["batch_size"],
        tol=metrics["tol"],
        max_iter=metrics["max_iter"],
    )
    summary = smoothness_summary(sigma)
    frame = pd.DataFrame({"index": range(len(y)), "y": y.cpu().numpy(), "sigma": sigma.numpy()})
    atomic_write_text(smoothness_csv, frame.to_csv(index=False))
    atomic_write_text(
        smoothness_json,
        json.dumps({"model": str(model_path), "split": metrics["split"], **summary}, indent=2)
        + "\n",
    )
    log(f"smoothness of {model_path}: mean {summary['mean']:.4g}, median {summary['median']:.4g}")
    grads = input_gradients(model, x, y, batch_size=metrics["batch_size"]).cpu()
    atomic_torch_save(
        {
            "format": GRADIENTS_FORMAT,
            "model": str(model_path),
            "split": metrics["split"],
            "y": y.cpu(),
            "gradients": grads,
        },
        gradients_path,
    )
    return summary


def load_gradients(path: str | Path) -> torch.Tensor:
    return load_file(path, GRADIENTS_FORMAT)["gradients"]


# Entry keys that are file paths, not model identity (kept out of the pair table's columns).
PATH_KEYS = ("gradients", "summary")


def similarity_pairs(
    sources: Sequence[dict[str, Any]], targets: Sequence[dict[str, Any]], *, seed_pairs: str
) -> list[dict[str, Any]]:
    """The (source, target) model pairs of a similarity job, in source-major order, each as
    ``{source, target}`` gradient files plus ``source_<key>`` / ``target_<key>`` identity.

    ``seed_pairs="all"``: every source × target; ``"shifted"`` (Fig. 11): source seed s
    against target seed s+1 mod n only (``metrics.similarity.shifted_seed_pairs``).
    """
    if seed_pairs not in ("all", "shifted"):
        raise ValueError(f"seed_pairs={seed_pairs!r}; allowed: 'all', 'shifted'")
    allowed = None
    if seed_pairs == "shifted":
        allowed = set(shifted_seed_pairs([m["seed"] for m in [*sources, *targets]]))
    pairs = []
    for src in sources:
        for tgt in targets:
            if allowed is not None and (src["seed"], tgt["seed"]) not in allowed:
                continue
            pairs.append(
                {
                    "source": src["gradients"],
                    "target": tgt["gradients"],
                    **{f"source_{k}": v for k, v in src.items() if k not in PATH_KEYS},
                    **{f"target_{k}": v for k, v in tgt.items() if k not in PATH_KEYS},
                }
            )
    return pairs


def pairwise_similarities(
    pairs: Sequence[dict[str, Any]],
    *,
    summary_csv: str | Path,
    samples_csv: str | Path,
) -> pd.DataFrame:
    """Per-sample cosine of stored gradients for each pair; tidy summary and samples files.

    ``pairs``: dicts with ``source`` and ``target`` gradient paths plus any
    identity columns (copied into both outputs). Summary columns add
    similarity_mean (S̃), similarity_min (S̲), similarity_std, similarity_median, n.
    """
    cache: dict[str, torch.Tensor] = {}

    def grads(path: str) -> torch.Tensor:
        if path not in cache:
            cache[path] = load_gradients(path)
        return cache[path]

    summaries, samples = [], []
    for pair in pairs:
        identity = {k: v for k, v in pair.items() if k not in ("source", "target")}
        source, target = grads(pair["source"]), grads(pair["target"])
        if source.shape != target.shape:
            raise TransferlabFileError(
                f"{pair['target']}: gradients of shape {tuple(target.shape)}, but "
                f"{pair['source']} has {tuple(source.shape)}: measured on other images "
                "(metrics.n_samples or the data set changed); rebuild both"
            )
        values = cosine_rows(source, target)
        stats = similarity_summary(values)
        summaries.append({**identity, **{f"similarity_{k}": v for k, v in stats.items()}})
        frame = pd.DataFrame({"index": range(len(values)), "similarity": values.numpy()})
        for key, value in identity.items():
            # one value per row: a list-valued identity (SAM&IR's tau = [rho, lambda])
            # must not be spread over the rows as assign() would
            frame[key] = [value] * len(frame)
        samples.append(frame)
    summary = pd.DataFrame(summaries).rename(columns={"similarity_n": "n"})
    atomic_write_text(summary_csv, summary.to_csv(index=False))
    # No pairs (e.g. one seed and only different-seed pairs wanted): empty, but present.
    frame = pd.concat(samples, ignore_index=True) if samples else pd.DataFrame()
    atomic_write_gzip_text(samples_csv, frame.to_csv(index=False))
    return summary
