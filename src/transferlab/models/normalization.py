"""Per-channel normalization as the first layer of every model (SPEC §1).

Keeping normalization inside the model means every budget, gradient, Jacobian
and Hessian is taken with respect to raw [0,1] pixels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn


def _channel_statistic(values: Sequence[float], name: str) -> list[float]:
    try:
        floats = [float(v) for v in values]
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a sequence of numbers, got {values!r}") from None
    if not floats:
        raise ValueError(f"{name} must have one entry per channel, got an empty sequence")
    if not all(math.isfinite(v) for v in floats):
        raise ValueError(f"{name} must be finite, got {floats}")
    return floats


class Normalize(nn.Module):
    """x ↦ (x − μ_c) / σ_c per channel c (SPEC §1), with μ, σ stored as buffers.

    Buffers (not parameters) so they move with ``.to(device)``, are saved in the
    state_dict, and never receive gradient updates.
    """

    mean: Tensor
    std: Tensor

    def __init__(self, mean: Sequence[float], std: Sequence[float]) -> None:
        super().__init__()
        mean_values = _channel_statistic(mean, "mean")
        std_values = _channel_statistic(std, "std")
        if len(mean_values) != len(std_values):
            raise ValueError(
                f"mean and std need one entry per channel each; got {len(mean_values)} "
                f"means and {len(std_values)} stds"
            )
        if any(s <= 0 for s in std_values):
            raise ValueError(f"std entries must be positive, got {std_values}")
        self.register_buffer("mean", torch.tensor(mean_values).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std_values).view(1, -1, 1, 1))

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 4 or x.shape[1] != self.mean.shape[1]:
            raise ValueError(
                f"Normalize expects images of shape (N, {self.mean.shape[1]}, H, W), "
                f"got {tuple(x.shape)}"
            )
        return (x - self.mean) / self.std

    def extra_repr(self) -> str:
        return f"mean={self.mean.flatten().tolist()}, std={self.std.flatten().tolist()}"


class NormalizedClassifier(nn.Module):
    """f(x) = net(normalize(x)): a classifier on [0,1] images returning logits.

    ``piecewise_linear`` is True when ``net`` is piecewise linear in its input in
    eval mode (SPEC §5 picks the exact Hessian estimator from it); ``arch_spec``
    holds the JSON-serializable keyword arguments of ``build_model`` that
    rebuild this model (weights aside).
    """

    def __init__(
        self,
        normalize: Normalize,
        net: nn.Module,
        *,
        piecewise_linear: bool,
        arch_spec: dict[str, Any],
    ) -> None:
        super().__init__()
        self.normalize = normalize
        self.net = net
        self.piecewise_linear = bool(piecewise_linear)
        self.arch_spec = dict(arch_spec)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(self.normalize(x))
