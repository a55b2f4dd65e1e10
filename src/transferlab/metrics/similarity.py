"""Gradient similarity between surrogate and target (SPEC §6; Definition 2, Fig. 11, Table VII).

S(F, G, x, y) = cos(∇ₓℓ_F(x, y), ∇ₓℓ_G(x, y)) on flattened raw-pixel
cross-entropy gradients, per sample; S̃ = mean over samples, S̲ = min.
Both models run in eval mode.

The aggregation helpers for Fig. 11 (intra-architecture matrix) and Table VII
(cross-architecture increments and scores) are pure pandas functions on tidy
frames of per-model-pair similarity means.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from transferlab.frames import ordered_unique, require_columns
from transferlab.metrics.smoothness import (
    check_batch_size,
    check_samples,
    describe_values,
    eval_mode,
)
from transferlab.precision import full_precision


def input_gradients(model: nn.Module, x: Tensor, y: Tensor, *, batch_size: int = 128) -> Tensor:
    """Per-sample raw-pixel gradients ∇ₓ CE(f(x_n), y_n), flattened: shape (N, D) (SPEC §6).

    The batch loss is sum-reduced, so row n is exactly sample n's own gradient
    (in eval mode sample n's logits depend on x_n only). The model runs in eval
    mode; its train/eval flags are restored afterwards.
    """
    check_samples(x, y)
    check_batch_size(batch_size)
    rows: list[Tensor] = []
    # a measurement (Def. 2): float32 even inside a bf16 autocast region
    with eval_mode(model), full_precision(x.device):
        for start in range(0, x.shape[0], batch_size):
            xb = x[start : start + batch_size].detach().requires_grad_(True)
            loss = F.cross_entropy(model(xb), y[start : start + batch_size], reduction="sum")
            (grad,) = torch.autograd.grad(loss, xb)
            rows.append(grad.reshape(xb.shape[0], -1).detach())
    return torch.cat(rows)


def cosine_rows(a: Tensor, b: Tensor) -> Tensor:
    """Row-wise cosine in float64; a row whose gradient is exactly zero gets cosine 0.

    Each row is divided by max(‖row‖, tiny) before the dot product, so a zero
    gradient (e.g. softmax saturated to the one-hot label in floating point)
    yields 0 — "no direction, no alignment" — instead of NaN, while any
    non-zero gradient, however small, keeps its exact direction.
    """
    tiny = torch.finfo(torch.float64).tiny
    a = a.to(torch.float64)
    b = b.to(torch.float64)
    a = a / a.norm(dim=1, keepdim=True).clamp_min(tiny)
    b = b / b.norm(dim=1, keepdim=True).clamp_min(tiny)
    return (a * b).sum(dim=1).clamp(-1.0, 1.0)


def gradient_similarity(
    model_f: nn.Module, model_g: nn.Module, x: Tensor, y: Tensor, *, batch_size: int = 128
) -> Tensor:
    """Per-sample S(F, G, x_n, y_n) = cos(∇ₓℓ_F, ∇ₓℓ_G) (Definition 2, SPEC §6): (N,) float64.

    Gradients are taken w.r.t. raw [0,1] pixels with both models in eval mode;
    a sample where either gradient is exactly zero gets 0 (see ``cosine_rows``).
    """
    check_samples(x, y)
    check_batch_size(batch_size)
    out: list[Tensor] = []
    for start in range(0, x.shape[0], batch_size):
        xb, yb = x[start : start + batch_size], y[start : start + batch_size]
        grad_f = input_gradients(model_f, xb, yb, batch_size=batch_size)
        grad_g = input_gradients(model_g, xb, yb, batch_size=batch_size)
        out.append(cosine_rows(grad_f, grad_g))
    return torch.cat(out).cpu()


def similarity_summary(values: Tensor | Sequence[float]) -> dict[str, float]:
    """S̃ (``mean``), S̲ (``min``), sample ``std`` (ddof=1), ``median`` and ``n`` (SPEC §6)."""
    return describe_values(values, name="similarity values")


def shifted_seed_pairs(seeds: Sequence[int]) -> list[tuple[int, int]]:
    """Fig. 11's (source seed, target seed) pairs: (s_i, s_(i+1) mod n) over the sorted seeds.

    Each seed is a source once and a target once, never paired with itself, so a
    cell averages n unique source → target pairs (the paper's 3). Fewer than two
    seeds give no pair.
    """
    ordered = sorted(dict.fromkeys(int(s) for s in seeds))
    if len(ordered) < 2:
        return []
    return [(s, ordered[(i + 1) % len(ordered)]) for i, s in enumerate(ordered)]


def symmetric_by_design(n_seeds: int) -> bool:
    """Whether Fig. 11's matrix is symmetric whatever the models: with 2 seeds cell (a, b)
    averages S(a₀, b₁) and S(a₁, b₀), which are the pairs of cell (b, a) too."""
    return n_seeds == 2


def intra_architecture_matrix(df: pd.DataFrame) -> pd.DataFrame:
    """Fig. 11: mean similarity between training mechanisms of one architecture (SPEC §6).

    ``df`` has one row per (source model, target model) pair with columns
    ``source_method, target_method, source_seed, target_seed, similarity_mean``
    (``similarity_mean`` = S̃ of that pair). With s_1 < … < s_n the seeds,
    cell (a, b) = (1/n) Σ_i S̃(a seed s_i, b seed s_(i+1) mod n): n unique
    source → target pairs of different seeds, so the matrix is asymmetric for
    n ≥ 3 (with n = 2 it is symmetric by construction: ``symmetric_by_design``).
    Rows of other seed pairs are ignored; a cell with none of its pairs is NaN,
    one with only some of them raises. Rows/columns keep the order of first
    appearance.
    """
    columns = ["source_method", "target_method", "source_seed", "target_seed", "similarity_mean"]
    require_columns(df, columns, name="df")
    if "dataset" in df.columns and df["dataset"].nunique() > 1:
        raise ValueError(
            f"df mixes datasets {sorted(df['dataset'].unique())}; pass one dataset at a time"
        )
    seeds = sorted(set(df["source_seed"]) | set(df["target_seed"]))
    protocol = shifted_seed_pairs(seeds)
    if not protocol:
        raise ValueError(f"Fig. 11 pairs models of different seeds; df has seeds {seeds}")
    keys = pd.Series(list(zip(df["source_seed"], df["target_seed"], strict=True)), index=df.index)
    pairs = df[keys.isin(protocol)]
    sources = ordered_unique(df["source_method"])
    targets = ordered_unique(df["target_method"])
    counts = pairs.groupby(["source_method", "target_method"], sort=False).size()
    incomplete = counts[counts != len(protocol)]
    if len(incomplete):
        raise ValueError(
            f"every cell needs the {len(protocol)} seed pairs {protocol}; cells "
            f"{incomplete.index.tolist()[:5]} have {incomplete.tolist()[:5]} of them"
        )
    matrix = (
        pairs.groupby(["source_method", "target_method"], sort=False)["similarity_mean"]
        .mean()
        .unstack("target_method")
        .reindex(index=sources, columns=targets)
    )
    matrix.index.name = "source_method"
    matrix.columns.name = "target_method"
    return matrix
