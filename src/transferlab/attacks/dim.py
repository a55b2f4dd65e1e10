"""DIM: diverse inputs plus momentum, i.e. DI-MI-FGSM (SPEC §7)."""

from __future__ import annotations

from transferlab.attacks.base import ATTACKS
from transferlab.attacks.di import DI
from transferlab.attacks.mi import MI, check_decay


@ATTACKS.register("dim")
class DIM(DI, MI):
    """L∞ DIM (Xie et al., "Improving Transferability of Adversarial Examples with
    Input Diversity", CVPR 2019: DI combined with Dong et al.'s MI-FGSM), on
    images in [0,1]:

        g_t+1 = μ·g_t + ∇ / mean|∇|,  ∇ = ∇ₓ CE(f(T(x_t)), label),
        x_t+1 = Π_{[x−ε, x+ε] ∩ [0,1]}(x_t ± α·sign(g_t+1))

    T is ``diverse_input`` (see ``transferlab.attacks.di``). Composed: DI's ``model_input``,
    MI's ``ascent_direction``; ``settings`` lists MI's decay, then DI's keys.

    Arguments (keyword-only): ``Attack``'s, MI's ``decay`` and DI's ``diversity_prob``,
    ``resize_rate`` and ``resize_mode``, with their meanings and defaults. The
    constructor lists them all because ``build_attack`` reads the accepted settings
    from its signature.

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
        # DI's constructor reaches MI's through the MRO, which sets MI's default decay.
        super().__init__(
            eps=eps,
            steps=steps,
            step_size=step_size,
            diversity_prob=diversity_prob,
            resize_rate=resize_rate,
            resize_mode=resize_mode,
            random_start=random_start,
            targeted=targeted,
        )
        self.decay = check_decay(decay)
