"""CM: CutMix applied to each sample with probability p (SPEC §4, Table XI)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from transferlab.mechanisms.base import MECHANISMS, Mechanism
from transferlab.mechanisms.boxes import centred_box_mask
from transferlab.mechanisms.mixup import draw_mixing, mixed_targets


def cutmix_boxes(
    weight: Tensor, mixed: Tensor, height: int, width: int, generator: torch.Generator
) -> Tensor:
    """Masks (B, 1, H, W) of the region pasted from each sample's partner.

    Box sides ⌊H√(1−λ)⌋ × ⌊W√(1−λ)⌋ (area fraction 1 − λ before clipping),
    centre uniform over the pixels, clipped at the border; empty if not mixed.
    """
    ratio = torch.sqrt(1 - weight)
    box_height = (height * ratio).floor().to(torch.int64)
    box_width = (width * ratio).floor().to(torch.int64)
    batch = weight.shape[0]
    centre_row = torch.randint(height, (batch,), generator=generator)
    centre_col = torch.randint(width, (batch,), generator=generator)
    mask = centred_box_mask(centre_row, centre_col, box_height, box_width, height, width)
    return mask & mixed[:, None, None, None]


@MECHANISMS.register("cm")
class CutMix(Mechanism):
    """CM (p): paste a box of area fraction (1 − λ), λ ~ Beta(1, 1), from a partner.

    Applied to each sample with probability p; the label weight is recomputed
    from the clipped box: λ_i = 1 − |box_i| / (H·W).
    """

    label = "CM"
    tau_name = "p"
    tau_min = 0.0
    tau_max = 1.0

    def prepare_batch(
        self, model: nn.Module, x: Tensor, y: Tensor, generator: torch.Generator
    ) -> tuple[Tensor, Tensor]:
        height, width = x.shape[-2:]
        draw = draw_mixing(x.shape[0], float(self.tau), generator)
        mask = cutmix_boxes(draw.weight, draw.mixed, height, width, generator).to(x.device)
        partner = draw.partner.to(x.device)
        images = torch.where(mask, x[partner], x)
        weight = 1 - mask.flatten(1).sum(dim=1).to(x) / (height * width)
        return images, mixed_targets(y, partner, weight, self.num_classes)
