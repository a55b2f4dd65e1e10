"""DIM: diverse inputs plus momentum, i.e. DI-MI-FGSM (SPEC §7)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from transferlab.attacks.base import ATTACKS, Attack
from transferlab.attacks.di import check_diversity, diverse_input
from transferlab.attacks.mi import check_decay, momentum_update


@ATTACKS.register("dim")
class DIM(Attack):
    """L∞ DIM (Xie et al., "Improving Transferability of Adversarial Examples with
    Input Diversity", CVPR 2019: DI combined with Dong et al.'s MI-FGSM), on
    images in [0,1]:

        g_t+1 = μ·g_t + ∇ / mean|∇|,  ∇ = ∇ₓ CE(f(T(x_t)), label),
        x_t+1 = Π_{[x−ε, x+ε] ∩ [0,1]}(x_t ± α·sign(g_t+1))

    T is ``diverse_input`` (see ``transferlab.attacks.di``).

    Arguments (keyword-only):
    - ``eps`` = 8/255: L∞ budget in [0,1] pixel units.
    - ``steps`` = 20: gradient steps.
    - ``step_size`` = None → ``default_step_size(eps, steps)`` = max(ε/4, ε/steps).
    - ``decay`` = 1.0: momentum μ (the authors used 0.9).
    - ``diversity_prob`` = 0.5: probability p of transforming at a step.
    - ``resize_rate`` = 1/0.875: padded side R = round(W·resize_rate).
    - ``resize_mode`` = "bilinear" (or "nearest").
    - ``random_start`` = False.
    - ``targeted`` = False: True descends the CE of class (y+1) mod K.

    ``attack(model, x, y, *, generator)`` returns float images in [0,1].
    """

    name = "dim"

    def __init__(
        self,
        *,
        eps: float = 8 / 255,
        steps: int = 20,
        step_size: float | None = None,
        decay: float = 1.0,
        diversity_prob: float = 0.5,
        resize_rate: float = 1 / 0.875,
        resize_mode: str = "bilinear",
        random_start: bool = False,
        targeted: bool = False,
    ) -> None:
        super().__init__(
            eps=eps, steps=steps, step_size=step_size, random_start=random_start, targeted=targeted
        )
        self.decay = check_decay(decay)
        check_diversity(diversity_prob, resize_rate, resize_mode)
        self.diversity_prob = float(diversity_prob)
        self.resize_rate = float(resize_rate)
        self.resize_mode = resize_mode

    def settings(self) -> dict[str, Any]:
        return {
            **super().settings(),
            "decay": self.decay,
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

    def ascent_direction(self, grad: Tensor, state: Tensor | None) -> tuple[Tensor, Tensor]:
        momentum = momentum_update(grad, state, self.decay)
        return momentum, momentum
