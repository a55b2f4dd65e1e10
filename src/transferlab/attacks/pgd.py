"""PGD: projected gradient descent with the L∞ sign step (SPEC §7)."""

from __future__ import annotations

from transferlab.attacks.base import ATTACKS, Attack


@ATTACKS.register("pgd")
class PGD(Attack):
    """L∞ PGD (Madry et al., "Towards Deep Learning Models Resistant to Adversarial
    Attacks", ICLR 2018), on images in [0,1]:

        x_t+1 = Π_{[x−ε, x+ε] ∩ [0,1]}(x_t ± α·sign(∇ₓ CE(f(x_t), label)))

    Arguments (keyword-only):
    - ``eps`` = 8/255: L∞ budget in [0,1] pixel units.
    - ``steps`` = 20: gradient steps (authors: 20 on CIFAR-10, 50 on ImageNette).
    - ``step_size`` = None → ``default_step_size(eps, steps)`` = max(ε/4, ε/steps)
      (authors: 2/255).
    - ``random_start`` = False (the authors start at x).
    - ``targeted`` = False: True descends the CE of class (y+1) mod K.

    ``attack(model, x, y, *, generator)`` returns float images in [0,1].
    """

    name = "pgd"
