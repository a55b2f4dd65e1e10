"""CO: Cutout with an M×M square on every training image (SPEC §4, Table XI)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from transferlab.mechanisms.base import MECHANISMS, Mechanism
from transferlab.mechanisms.boxes import centred_box_mask


@MECHANISMS.register("co")
class Cutout(Mechanism):
    """CO (M): zero a square of side M pixels whose centre is uniform over the pixels.

    The square covers rows [r − ⌊M/2⌋, r − ⌊M/2⌋ + M) (columns alike), clipped
    at the border, so squares near the edge are partly outside the image.
    Zero is black in [0, 1] space because normalization is inside the model.
    """

    label = "CO"
    tau_name = "M"
    tau_min = 1
    tau_is_integer = True

    def prepare_batch(
        self, model: nn.Module, x: Tensor, y: Tensor, generator: torch.Generator
    ) -> tuple[Tensor, Tensor]:
        batch = x.shape[0]
        height, width = x.shape[-2:]
        centre_row = torch.randint(height, (batch,), generator=generator)
        centre_col = torch.randint(width, (batch,), generator=generator)
        side = torch.full((batch,), int(self.tau), dtype=torch.int64)
        mask = centred_box_mask(centre_row, centre_col, side, side, height, width)
        return x.masked_fill(mask.to(x.device), 0.0), y
