"""Clean accuracy of a model (Table XII)."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor, nn


@torch.no_grad()
def accuracy(
    model: nn.Module, batches: Iterable[tuple[Tensor, Tensor]], device: torch.device | str = "cpu"
) -> float:
    """Top-1 accuracy (fraction) of ``model`` in eval mode over (x, y) batches."""
    was_training = model.training
    model.eval()
    correct = total = 0
    for x, y in batches:
        pred = model(x.to(device)).argmax(dim=1).cpu()
        correct += int((pred == y).sum())
        total += len(y)
    model.train(was_training)
    if total == 0:
        raise ValueError("accuracy over an empty data set")
    return correct / total
