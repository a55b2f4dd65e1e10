"""CM: CutMix applied to each sample with probability p (SPEC §4, Table XI)."""

from __future__ import annotations

import torch
from torch import Tensor

from transferlab.mechanisms.base import MECHANISMS
from transferlab.mechanisms.boxes import centred_box_mask
from transferlab.mechanisms.mixup import MixingDraw, PartnerMixing


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
class CutMix(PartnerMixing):
    """CM (p): paste a box of area fraction (1 − λ), λ ~ Beta(1, 1), from a partner.

    Applied to each sample with probability p; the label weight is recomputed
    from the clipped box: λ_i = 1 − |box_i| / (H·W).
    """

    label = "CM"

    def mix_images(
        self, x: Tensor, partner: Tensor, draw: MixingDraw, generator: torch.Generator
    ) -> tuple[Tensor, Tensor]:
        height, width = x.shape[-2:]
        mask = cutmix_boxes(draw.weight, draw.mixed, height, width, generator).to(x.device)
        images = torch.where(mask, x[partner], x)
        weight = 1 - mask.flatten(1).sum(dim=1).to(x) / (height * width)
        return images, weight
