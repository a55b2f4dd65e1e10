"""AutoAttack: the standard L∞ ensemble of Croce & Hein, untargeted (paper Sec. 6, Table XIII).

Croce & Hein, "Reliable evaluation of adversarial robustness with an ensemble
of diverse parameter-free attacks", ICML 2020. The standard version runs, on
the images the model still classifies correctly after each stage,

    APGD-CE (100 iterations) → APGD-T (DLR, 9 target classes × 100) →
    FAB-T (9 target classes × 100) → Square (5,000 queries),

and keeps, per image, the first AE that fools the model (x itself where none
does, or where the model misclassifies x already). Every stage stays in
[x − ε, x + ε] ∩ [0,1] in floating point; the outputs are off the 8-bit grid,
so crafting stores them through ``quantization.quantize_within_budget``.

The implementation is the authors' code as packaged on PyPI (``pyautoattack``,
pinned in pyproject.toml); this module only adapts it to the ``Attack`` call:
its seed is drawn from the batch's generator (so a crafting run is a function
of its seed), and the package's global-RNG seeding is confined with
``torch.random.fork_rng`` so it does not leak into the caller.
An ``EnsembleSurrogate`` is attacked through its ``forward`` (mean logits).
"""

from __future__ import annotations

import sys
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from transferlab.attacks.base import ATTACKS, Attack, check_budget

PACKAGE = "pyautoattack"
VERSION = "standard"
# The standard version's number of target classes for APGD-T and FAB-T (all others of 10).
TARGET_CLASSES = 9


def package_version() -> str:
    """The installed pyautoattack version (ImportError with the fix when it is missing)."""
    try:
        import pyautoattack
    except ImportError as err:
        raise ImportError(
            f"attack 'autoattack' needs the {PACKAGE} package: pip install -e . "
            "(pyproject.toml pins it)"
        ) from err
    return str(pyautoattack.__version__)


@ATTACKS.register("autoattack")
class AutoAttack(Attack):
    """Standard L∞ AutoAttack (see the module docstring), untargeted only.

    Arguments (keyword-only):
    - ``eps`` = 8/255: L∞ budget in [0,1] pixel units.
    - ``targeted`` = False: True raises ValueError (the standard version is an
      untargeted evaluation; its APGD-T/FAB-T stages pick their own targets).

    ``attack(model, x, y, *, generator)`` returns float images in [0,1] with
    ‖x_adv − x‖∞ ≤ ε; x_adv = x where AutoAttack found no AE or F(x) ≠ y.
    Models with fewer than 10 classes get K − 1 target classes instead of 9.
    """

    name = "autoattack"
    supports_targeted: ClassVar[bool] = False

    def __init__(self, *, eps: float = 8 / 255, targeted: bool = False) -> None:
        check_budget(eps)
        if targeted:
            raise ValueError(
                "attack 'autoattack' has no targeted mode: the standard AutoAttack is "
                "untargeted; run it with mode 'untargeted' only"
            )
        self.eps = float(eps)
        self.targeted = False

    def settings(self) -> dict[str, Any]:
        return {
            "eps": self.eps,
            "targeted": False,
            "version": VERSION,
            "package": f"{PACKAGE}=={package_version()}",
        }

    def _iterate(
        self,
        model: nn.Module,
        x: Tensor,
        y: Tensor,
        generator: torch.Generator,
        y_target: Tensor | None,
    ) -> Tensor:
        from pyautoattack import AutoAttack as PackageAutoAttack

        if len(x) == 0:
            return x.clone()
        seed = int(torch.randint(0, 2**31 - 1, (), generator=generator, device=generator.device))
        with torch.no_grad():
            num_classes = int(model(x[:1]).shape[1])
        devices = [x.device] if x.device.type == "cuda" else []
        # The package seeds torch's global generators before every stage, and its
        # dynamic-defense check ends with sys.settrace(None) (a caller's tracer, e.g.
        # coverage, would stop): both are put back afterwards.
        trace = sys.gettrace()
        try:
            with torch.random.fork_rng(devices=devices):
                adversary = PackageAutoAttack(
                    model, norm="Linf", eps=self.eps, version=VERSION, seed=seed, device=x.device
                )
                adversary.apgd_targeted.n_target_classes = min(TARGET_CLASSES, num_classes - 1)
                adversary.fab.n_target_classes = min(TARGET_CLASSES, num_classes - 1)
                x_adv, _ = adversary.run_standard_evaluation(x, y, batch_size=len(x))
        finally:
            sys.settrace(trace)
        return x_adv.detach()
