"""8-bit adversarial examples: quantization, and projection onto the ε-ball (SPEC §7).

AEs are images, so they are stored as 8-bit pixels, q = clamp(⌊255·x + ½⌋, 0, 255)
(round half up, never truncate), and every later stage evaluates exactly q/255.
``quantize_within_budget`` also projects the rounded pixels back onto the L∞ ε-ball of
the clean images on the 8-bit grid; ``L_INF_TOLERANCE`` is the float slack of the exact
L∞ check (here and in ``success``). The files that hold the pixels: ``store``.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

# Float slack of the exact L∞ check: (q − q_clean)/255 in float32 is within ~1e-7 of k/255.
L_INF_TOLERANCE = 1e-6


def quantize_images(x: Tensor | np.ndarray) -> np.ndarray:
    """8-bit pixels q = clamp(⌊255·x + ½⌋, 0, 255) of float images in [0,1] (SPEC §7).

    ``data.augment.quantize_8bit`` on a numpy array or tensor: round half up, never
    truncate (0.5/255 → 1, 0.49/255 → 0), the product taken in float32. uint8
    input is returned unchanged (as a numpy array). Always C order, whatever the
    layout of x (channels-last models give NHWC-strided images).
    """
    from transferlab.data.augment import quantize_8bit

    if isinstance(x, np.ndarray):
        if x.dtype == np.uint8:
            return x
        if not np.issubdtype(x.dtype, np.floating):
            raise ValueError(f"x_adv must be float images in [0,1] or uint8 pixels, got {x.dtype}")
        x = torch.from_numpy(np.asarray(x, dtype=np.float32))
    elif not isinstance(x, Tensor):
        raise ValueError(f"x_adv must be a tensor or numpy array, got {type(x).__name__}")
    elif x.dtype == torch.uint8:
        return np.ascontiguousarray(x.detach().cpu().numpy())
    elif not x.is_floating_point():
        raise ValueError(f"x_adv must be float images in [0,1] or uint8 pixels, got {x.dtype}")
    x = x.detach().cpu()
    if not bool(torch.isfinite(x).all()):
        raise ValueError("x_adv contains NaN or infinite values")
    return np.ascontiguousarray(quantize_8bit(x).numpy())


def dequantize_images(q: np.ndarray) -> Tensor:
    """float32 images q/255 in [0,1] from 8-bit pixels."""
    return torch.from_numpy(np.ascontiguousarray(q)).to(torch.float32).div_(255.0)


def max_linf_distance(q: np.ndarray, x_clean: Tensor) -> float:
    """max_i ‖q_i/255 − x_i‖∞ over a set of 8-bit pixels and its clean float images."""
    if not len(q):
        return 0.0
    return float((dequantize_images(q) - x_clean.detach().cpu().float()).abs().max())


def quantize_within_budget(
    x_adv: Tensor, x_clean: Tensor, eps: float
) -> tuple[np.ndarray, dict[str, int]]:
    """8-bit pixels of float AEs, projected back onto the L∞ ε-ball of x on the 8-bit grid.

    q = ``quantize_images(x_adv)`` (round half up), then per pixel
    q' = min(max(q, lo), hi) with the grid bounds of [x − ε, x + ε] ∩ [0, 1]

        lo = max(⌈255·(x − ε) − δ⌉, 0),   hi = min(⌊255·(x + ε) + δ⌋, 255),

    δ = 255·``L_INF_TOLERANCE``/2 (float64), so every q'/255 is within ε of x up to the
    float tolerance that ``transfer.success.evaluate_transfer`` allows. On grid images
    (every data set here) with ε = k/255 the bounds are q_clean ∓ k exactly, and
    rounding an AE that was inside the ball never leaves it; attacks whose float
    output overshoots the ball (or an off-grid clean image) are what the
    projection catches. Returns (q', {"projected_pixels": entries changed by the
    projection, "projected_images": images with at least one}). Raises ValueError
    when the ball holds no grid point (ε < 1/255 with an off-grid x) or, as a
    last check, when some q'/255 is still more than ε + ``L_INF_TOLERANCE`` from x.
    """
    if not isinstance(x_clean, Tensor) or tuple(x_clean.shape) != tuple(x_adv.shape):
        raise ValueError(
            f"x_clean must be a tensor of x_adv's shape {tuple(x_adv.shape)}, got "
            f"{tuple(x_clean.shape) if isinstance(x_clean, Tensor) else type(x_clean).__name__}"
        )
    pixels = quantize_images(x_adv)
    clean = x_clean.detach().cpu().to(torch.float64).numpy()
    slack = 255.0 * L_INF_TOLERANCE / 2
    lo = np.clip(np.ceil(255.0 * (clean - eps) - slack), 0, 255)
    hi = np.clip(np.floor(255.0 * (clean + eps) + slack), 0, 255)
    if bool((lo > hi).any()):
        raise ValueError(
            f"eps={eps!r}: some clean pixels have no 8-bit value within eps; "
            "clean images must be on the 8-bit grid or eps >= 1/255"
        )
    projected = np.clip(pixels, lo, hi).astype(np.uint8)
    changed = projected != pixels
    distance = max_linf_distance(projected, x_clean)
    if distance > eps + L_INF_TOLERANCE:
        raise ValueError(
            f"8-bit AEs are {distance * 255:.3f}/255 from the clean images after projection "
            f"(budget {eps * 255:.3f}/255)"
        )
    counts = {
        "projected_pixels": int(changed.sum()),
        "projected_images": int(changed.reshape(len(changed), -1).any(axis=1).sum()),
    }
    return np.ascontiguousarray(projected), counts
