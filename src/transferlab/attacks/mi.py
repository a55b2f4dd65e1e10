"""MI-FGSM: momentum iterative attack (SPEC §7)."""

from __future__ import annotations

import math
from typing import Any

from torch import Tensor

from transferlab.attacks.base import ATTACKS, Attack

# Guards the per-sample normalisation when a gradient is exactly zero
# (saturated softmax); such a sample then keeps its momentum direction.
GRADIENT_FLOOR = 1e-12


def momentum_update(grad: Tensor, momentum: Tensor | None, decay: float) -> Tensor:
    """MI-FGSM accumulation g_t+1 = μ·g_t + ∇ / mean|∇| (per sample; g_0 = 0).

    mean|∇| is the mean absolute gradient over each sample's C·H·W entries: the
    L1 normalisation of Dong et al. 2018 (Eq. 6) divided by the constant C·H·W,
    which scales every term of g equally and so leaves sign(g) unchanged.
    """
    scale = grad.abs().mean(dim=tuple(range(1, grad.ndim)), keepdim=True)
    normalised = grad / scale.clamp_min(GRADIENT_FLOOR)
    if momentum is None:
        return normalised
    return normalised.add_(momentum, alpha=decay)


def check_decay(decay: float) -> float:
    if isinstance(decay, bool) or not isinstance(decay, (int, float)) or not math.isfinite(decay):
        raise ValueError(f"decay={decay!r} must be a finite number >= 0 (MI uses 1.0)")
    if decay < 0:
        raise ValueError(f"decay={decay!r} must be >= 0 (MI uses 1.0; the authors 0.9)")
    return float(decay)


@ATTACKS.register("mi")
class MI(Attack):
    """L∞ MI-FGSM (Dong et al., "Boosting Adversarial Attacks with Momentum",
    CVPR 2018), on images in [0,1]:

        g_t+1 = μ·g_t + ∇ₓ CE / mean|∇ₓ CE|  (per sample),
        x_t+1 = Π_{[x−ε, x+ε] ∩ [0,1]}(x_t ± α·sign(g_t+1))

    Arguments (keyword-only): ``Attack``'s ``eps``, ``steps``, ``step_size``,
    ``random_start`` and ``targeted`` (same defaults), and
    - ``decay`` = 1.0: momentum μ (the standard value; the authors used 0.9).

    ``attack(model, x, y, *, generator)`` returns float images in [0,1].
    """

    name = "mi"

    def __init__(
        self,
        *,
        eps: float = 8 / 255,
        steps: int = 20,
        step_size: float | None = None,
        decay: float = 1.0,
        random_start: bool = False,
        targeted: bool = False,
    ) -> None:
        super().__init__(
            eps=eps, steps=steps, step_size=step_size, random_start=random_start, targeted=targeted
        )
        self.decay = check_decay(decay)

    def settings(self) -> dict[str, Any]:
        return {**super().settings(), "decay": self.decay}

    def ascent_direction(self, grad: Tensor, state: Tensor | None) -> tuple[Tensor, Tensor]:
        momentum = momentum_update(grad, state, self.decay)
        return momentum, momentum
