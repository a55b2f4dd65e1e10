"""Axis-aligned boxes on image grids, shared by Cutout and CutMix (SPEC §4)."""

from __future__ import annotations

import torch
from torch import Tensor


def centred_box_mask(
    centre_row: Tensor,
    centre_col: Tensor,
    box_height: Tensor,
    box_width: Tensor,
    height: int,
    width: int,
) -> Tensor:
    """Boolean masks (B, 1, H, W) of boxes clipped to the image.

    Box b covers rows [r_b − ⌊h_b/2⌋, r_b − ⌊h_b/2⌋ + h_b) ∩ [0, H) and the
    analogous columns, so an unclipped box has exactly h_b × w_b pixels; all
    arguments are integer tensors of shape (B,).
    """
    top = centre_row - box_height // 2
    left = centre_col - box_width // 2
    rows = torch.arange(height, device=centre_row.device)
    cols = torch.arange(width, device=centre_col.device)
    in_rows = (rows[None, :] >= top[:, None]) & (rows[None, :] < (top + box_height)[:, None])
    in_cols = (cols[None, :] >= left[:, None]) & (cols[None, :] < (left + box_width)[:, None])
    return (in_rows[:, :, None] & in_cols[:, None, :])[:, None, :, :]
