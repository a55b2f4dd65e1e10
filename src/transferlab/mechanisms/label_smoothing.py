"""LS: label smoothing towards the other classes (SPEC §4, Table XI)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from transferlab.mechanisms.base import MECHANISMS, Mechanism


def smoothed_targets(y: Tensor, p: float, num_classes: int) -> Tensor:
    """q_ik = 1 − p if k = y_i else p/(K − 1).

    Unlike ``F.cross_entropy(label_smoothing=p)`` (1 − p + p/K on the true
    class), no mass stays on the true class from the uniform part.
    """
    target = torch.full((y.shape[0], num_classes), p / (num_classes - 1), device=y.device)
    return target.scatter(1, y[:, None], 1.0 - p)


@MECHANISMS.register("ls")
class LabelSmoothing(Mechanism):
    """LS (p): soft-label cross-entropy with targets 1 − p (true) and p/(K − 1) (others)."""

    label = "LS"
    tau_name = "p"
    tau_min = 0.0
    tau_max = 1.0

    def __init__(self, tau: object, *, num_classes: int, **settings: object) -> None:
        super().__init__(tau, num_classes=num_classes, **settings)
        if num_classes < 2:
            raise ValueError(f"mechanism LS needs num_classes >= 2, got {num_classes}")

    def prepare_batch(
        self, model: nn.Module, x: Tensor, y: Tensor, generator: torch.Generator
    ) -> tuple[Tensor, Tensor]:
        return x, smoothed_targets(y, float(self.tau), self.num_classes)
