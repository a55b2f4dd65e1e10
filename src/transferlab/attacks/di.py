"""DI: diverse-inputs attack, random resize-and-pad inside every step (SPEC §7)."""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from transferlab.attacks.base import ATTACKS, Attack

RESIZE_MODES = ("bilinear", "nearest")


def padded_size(width: int, resize_rate: float) -> int:
    """R = max(round(W·resize_rate), W + 1): the side of DI's padded canvas.

    With the standard rate 1/0.875 this is 37 for W = 32 and 256 for W = 224.
    The W + 1 floor keeps the resize range [W, R) non-empty for tiny images
    (W = 8 gives R = 9).
    """
    return max(round(width * resize_rate), width + 1)


def diverse_input(
    x: Tensor,
    *,
    diversity_prob: float,
    resize_rate: float,
    resize_mode: str,
    generator: torch.Generator,
) -> Tensor:
    """Xie et al.'s input diversity T(x), one draw for the whole batch.

    With probability ``diversity_prob``: draw an integer side r uniformly from
    [W, R) (R = ``padded_size(W, resize_rate)``), resize x to r×r
    (``resize_mode`` interpolation), and zero-pad it to R×R with r_top, r_left
    drawn uniformly from {0, …, R − r}. Otherwise return x unchanged (W×W).
    The model therefore sees either W×W or R×R images (every architecture here
    pools adaptively); the operation is differentiable in x, so the attack's
    gradient flows through it. Square images only.
    """
    height, width = x.shape[-2:]
    if height != width:
        raise ValueError(f"diverse inputs need square images, got {height}×{width}")
    coin = torch.rand((), generator=generator, device=generator.device)
    if float(coin) >= diversity_prob:
        return x
    canvas = padded_size(width, resize_rate)
    side = int(torch.randint(width, canvas, (), generator=generator, device=generator.device))
    margin = canvas - side
    top = int(torch.randint(0, margin + 1, (), generator=generator, device=generator.device))
    left = int(torch.randint(0, margin + 1, (), generator=generator, device=generator.device))
    if side != width:
        align = False if resize_mode == "bilinear" else None
        x = F.interpolate(x, size=(side, side), mode=resize_mode, align_corners=align)
    return F.pad(x, (left, margin - left, top, margin - top), value=0.0)


def check_diversity(diversity_prob: float, resize_rate: float, resize_mode: str) -> None:
    if not isinstance(diversity_prob, (int, float)) or not 0 <= diversity_prob <= 1:
        raise ValueError(f"diversity_prob={diversity_prob!r} must be in [0, 1] (standard: 0.5)")
    if (
        not isinstance(resize_rate, (int, float))
        or not math.isfinite(resize_rate)
        or resize_rate <= 1
    ):
        raise ValueError(
            f"resize_rate={resize_rate!r} must be > 1: the padded side is W·resize_rate "
            "(standard: 1/0.875)"
        )
    if resize_mode not in RESIZE_MODES:
        raise ValueError(f"resize_mode={resize_mode!r}; allowed: {', '.join(RESIZE_MODES)}")


@ATTACKS.register("di")
class DI(Attack):
    """L∞ DI-FGSM (Xie et al., "Improving Transferability of Adversarial Examples
    with Input Diversity", CVPR 2019) as a PGD variant, on images in [0,1]:

        x_t+1 = Π_{[x−ε, x+ε] ∩ [0,1]}(x_t ± α·sign(∇ₓ CE(f(T(x_t)), label)))

    T is ``diverse_input``: with probability p, resize to r ∈ [W, R) and
    zero-pad to R = round(W·resize_rate) at a random offset.

    Arguments (keyword-only): ``Attack``'s ``eps``, ``steps``, ``step_size``,
    ``random_start`` and ``targeted`` (same defaults), and
    - ``diversity_prob`` = 0.5: probability p of transforming at a step.
    - ``resize_rate`` = 1/0.875: R/W (the original 330/299 ≈ 1.10 on ImageNet).
    - ``resize_mode`` = "bilinear" ("nearest" is Xie et al.'s original choice).

    ``attack(model, x, y, *, generator)`` returns float images in [0,1].
    """

    name = "di"

    def __init__(
        self,
        *,
        eps: float = 8 / 255,
        steps: int = 20,
        step_size: float | None = None,
        diversity_prob: float = 0.5,
        resize_rate: float = 1 / 0.875,
        resize_mode: str = "bilinear",
        random_start: bool = False,
        targeted: bool = False,
    ) -> None:
        super().__init__(
            eps=eps, steps=steps, step_size=step_size, random_start=random_start, targeted=targeted
        )
        check_diversity(diversity_prob, resize_rate, resize_mode)
        self.diversity_prob = float(diversity_prob)
        self.resize_rate = float(resize_rate)
        self.resize_mode = resize_mode

    def settings(self) -> dict[str, Any]:
        return {
            **super().settings(),
            "diversity_prob": self.diversity_prob,
            "resize_rate": self.resize_rate,
            "resize_mode": self.resize_mode,
        }

    def model_input(self, x_adv: Tensor, generator: torch.Generator) -> Tensor:
        return diverse_input(
            x_adv,
            diversity_prob=self.diversity_prob,
            resize_rate=self.resize_rate,
            resize_mode=self.resize_mode,
            generator=generator,
        )
