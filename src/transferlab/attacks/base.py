"""The shared L∞ sign-gradient attack loop (SPEC §7) and its batch driver.

Every attack here is the iteration

    x_0   = x                       (or x + U(−ε, ε)ⁿ with a random start)
    g_t   = ∇ₓ ℓ(f(T(x_t)), label)  (T: the identity, or DI's input diversity)
    d_t   = g_t                     (or MI's momentum accumulation of g_t)
    x_t+1 = Π_{[x−ε, x+ε] ∩ [0,1]}(x_t + s·α·sign(d_t))

with s = +1 (untargeted: ascend the cross-entropy of the true label) or
s = −1 (targeted: descend the cross-entropy of the target class (y+1) mod K).
Subclasses change only ``model_input`` (T) and ``ascent_direction`` (d_t), so
the loop is written once and stays lean: one forward and one input-gradient
backward per step, no weight gradients, no host synchronisation.

The surrogate f may be a ``StepwiseSurrogate`` (an ensemble, SPEC §7 "LGV"):
then ℓ at step t is the mean of CE over the members it schedules for step t,
g_t = ∇ₓ (1/n) Σ_{j ∈ S_t} CE(f_j(T(x_t)), label); one model is S_t = {f}.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from transferlab.precision import DEFAULT_PRECISION, autocast
from transferlab.registry import Registry

ATTACKS: Registry[type[Attack]] = Registry("attack")

NORM = "Linf"


def default_step_size(eps: float, steps: int) -> float:
    """Step size α for a budget the authors did not publish: α = max(ε/4, ε/steps).

    The authors' published setting (SPEC §7) is α = 2/255 at ε = 8/255 with 20
    steps on CIFAR-10, i.e. α = ε/4, which this rule reproduces exactly; it gives
    1/255 at ε = 4/255 and 4/255 at ε = 16/255. The ε/steps term only matters
    for fewer than 4 steps: it keeps steps·α ≥ ε so the boundary of the ε-ball
    stays reachable (1 step is FGSM with α = ε). ``steps = 0`` or ``eps = 0``
    gives α = ε/4.
    """
    check_budget(eps)
    if steps < 0:
        raise ValueError(f"steps={steps} must be a non-negative integer")
    return max(eps / 4.0, eps / steps) if steps > 0 else eps / 4.0


def check_budget(eps: float) -> None:
    """Raise ValueError unless ``eps`` is a finite L∞ budget in [0, 1] pixel units."""
    if not isinstance(eps, (int, float)) or not math.isfinite(eps) or eps < 0:
        raise ValueError(f"eps={eps!r} must be a finite number >= 0 (e.g. 8/255)")
    if eps > 1:
        raise ValueError(
            f"eps={eps!r} exceeds 1: give the budget in [0,1] pixel units, e.g. 8/255, not 8"
        )


def target_labels(y: Tensor, num_classes: int) -> Tensor:
    """The targeted-attack class of each sample: (y + 1) mod K (SPEC §7)."""
    return torch.remainder(y + 1, num_classes)


class Attack:
    """PGD-style iterative L∞ attack on [0,1] images; subclasses add MI / DI.

    Arguments (keyword-only, shared by every attack):
    - ``eps`` (default 8/255): L∞ budget in [0,1] pixel units.
    - ``steps`` (default 20): number of gradient steps, at least 1 (0 would return
      the clean images and call them adversarial).
    - ``step_size`` (default None → ``default_step_size(eps, steps)``): α.
    - ``random_start`` (default False): start from x + U(−ε, ε), clipped to [0,1].
    - ``targeted`` (default False): descend the CE of class (y+1) mod K instead
      of ascending the CE of y.

    Call: ``attack(model, x, y, *, generator) -> x_adv`` with x float in [0,1]
    (N, C, H, W), y int64 (N,); x_adv is float in [0,1] with ‖x_adv − x‖∞ ≤ ε.
    The model runs in eval mode (its previous mode is restored afterwards) and
    all randomness comes from ``generator``.
    """

    name: ClassVar[str] = "base"
    # False for attacks with no targeted mode (AutoAttack); the config check reads it.
    supports_targeted: ClassVar[bool] = True

    def __init__(
        self,
        *,
        eps: float = 8 / 255,
        steps: int = 20,
        step_size: float | None = None,
        random_start: bool = False,
        targeted: bool = False,
    ) -> None:
        check_budget(eps)
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
            raise ValueError(
                f"steps={steps!r} must be an integer >= 1 (0 steps would store the clean "
                "images as adversarial examples)"
            )
        if step_size is None:
            step_size = default_step_size(eps, steps)
        elif not math.isfinite(step_size) or step_size < 0:
            raise ValueError(f"step_size={step_size!r} must be a finite number >= 0")
        self.eps = float(eps)
        self.steps = steps
        self.step_size = float(step_size)
        self.random_start = bool(random_start)
        self.targeted = bool(targeted)

    @property
    def mode(self) -> str:
        return "targeted" if self.targeted else "untargeted"

    def settings(self) -> dict[str, Any]:
        """Every constructor argument with its resolved value (for file attributes)."""
        return {
            "eps": self.eps,
            "steps": self.steps,
            "step_size": self.step_size,
            "random_start": self.random_start,
            "targeted": self.targeted,
        }

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.settings().items())
        return f"{type(self).__name__}({args})"

    # Hooks: identity input transform and raw-gradient direction (plain PGD).
    def model_input(self, x_adv: Tensor, generator: torch.Generator) -> Tensor:
        """T(x): what the model sees at one step (differentiable in x)."""
        return x_adv

    def ascent_direction(self, grad: Tensor, state: Tensor | None) -> tuple[Tensor, Tensor | None]:
        """(d_t, new state) from the step's input gradient; only sign(d_t) is used."""
        return grad, None

    def __call__(
        self,
        model: nn.Module,
        x: Tensor,
        y: Tensor,
        *,
        generator: torch.Generator,
        y_target: Tensor | None = None,
    ) -> Tensor:
        """Adversarial examples for the batch (x, y); see the class docstring.

        ``y_target`` overrides the targeted class (default (y+1) mod K).
        """
        check_images(x, "x")
        if y.shape != (x.shape[0],) or y.dtype != torch.int64:
            raise ValueError(
                f"y must be int64 labels of shape ({x.shape[0]},), "
                f"got dtype {y.dtype} shape {tuple(y.shape)}"
            )
        if not isinstance(generator, torch.Generator):
            raise ValueError(
                "generator must be a torch.Generator, e.g. torch.Generator().manual_seed(0)"
            )
        was_training = model.training
        model.eval()
        try:
            return self._iterate(model, x.detach(), y, generator, y_target)
        finally:
            model.train(was_training)

    def _iterate(
        self,
        model: nn.Module,
        x: Tensor,
        y: Tensor,
        generator: torch.Generator,
        y_target: Tensor | None,
    ) -> Tensor:
        lower = (x - self.eps).clamp_(min=0.0)
        upper = (x + self.eps).clamp_(max=1.0)
        if self.random_start and self.eps > 0:
            noise = torch.rand(x.shape, generator=generator, device=generator.device, dtype=x.dtype)
            x_adv = torch.clamp(x + (2 * noise.to(x.device) - 1) * self.eps, lower, upper)
        else:
            x_adv = x.clone()
        # Targeted: the same ascent step with a negative sign descends the target's CE.
        signed_step = -self.step_size if self.targeted else self.step_size
        labels = y if not self.targeted else y_target
        state: Tensor | None = None
        for step in range(self.steps):
            x_adv.requires_grad_(True)
            logits = step_logits(model, step, self.model_input(x_adv, generator))
            if labels is None:
                labels = target_labels(y, logits[0].shape[1])
            # Sum, not mean: per-sample gradients must not scale with the batch size.
            loss = F.cross_entropy(logits[0], labels, reduction="sum")
            if len(logits) > 1:  # an ensemble step: the mean of its members' losses
                for member_logits in logits[1:]:
                    loss = loss + F.cross_entropy(member_logits, labels, reduction="sum")
                loss = loss / len(logits)
            (grad,) = torch.autograd.grad(loss, x_adv)
            direction, state = self.ascent_direction(grad, state)
            x_adv = torch.clamp(x_adv.detach() + signed_step * direction.sign(), lower, upper)
        return x_adv.detach()


class StepwiseSurrogate(nn.Module):
    """A surrogate whose loss at attack step t comes from some of its members.

    ``Attack`` calls ``step_logits(t, T(x_t))`` instead of ``model(T(x_t))``
    and ascends the mean over the returned logits of CE(logits, label); a
    plain ``nn.Module`` is the one-member case. ``forward`` is the surrogate's
    prediction (what its clean predictions and fooling probability use).
    ``transferlab.attacks.ensemble.EnsembleSurrogate`` is the LGV ensemble.
    """

    def step_logits(self, step: int, x: Tensor) -> list[Tensor]:
        raise NotImplementedError


def step_logits(model: nn.Module, step: int, x: Tensor) -> list[Tensor]:
    """The logits whose mean cross-entropy is step ``step``'s loss: [f(x)] for one model."""
    if isinstance(model, StepwiseSurrogate):
        return model.step_logits(step, x)
    return [model(x)]


def check_images(x: Tensor, name: str) -> None:
    """Raise ValueError unless ``x`` is a floating (N, C, H, W) tensor in [0, 1]."""
    if not isinstance(x, Tensor) or x.ndim != 4 or not x.is_floating_point():
        shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise ValueError(f"{name} must be a float tensor (N, C, H, W), got {shape}")
    if x.numel() and (bool(x.min() < 0) or bool(x.max() > 1)):
        raise ValueError(f"{name} must lie in [0, 1]; normalization belongs inside the model")


def batch_seed(seed: int, batch_number: int) -> int:
    """An independent 63-bit seed for one batch, derived from (seed, batch_number)."""
    state = np.random.SeedSequence([seed, batch_number]).generate_state(2, dtype=np.uint32)
    return (int(state[0]) << 31) ^ int(state[1])


def run_attack(
    attack: Attack,
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    batch_size: int,
    seed: int,
    *,
    device: torch.device | str | None = None,
    y_target: Tensor | None = None,
    precision: str = DEFAULT_PRECISION,
) -> Tensor:
    """Attack (x, y) batch by batch in order; returns x_adv on x's device.

    Batch b (rows b·batch_size … ) uses its own CPU generator seeded from
    (seed, b) via ``numpy.random.SeedSequence``, so the result is a function of
    (seed, batch_size) alone and any batch can be recomputed on its own.
    ``device`` defaults to the device of the model's first parameter.
    ``precision`` (transferlab.precision): ``bf16`` runs the model's forward and
    backward under bfloat16 autocast; the iterate x_t, its projection and the
    cross-entropy stay float32. The batches' results stay on ``device`` and come
    back in one copy at the end (a copy per batch would wait for each batch).
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size={batch_size!r} must be a positive integer")
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} images but y has {len(y)} labels")
    if y_target is not None and len(y_target) != len(y):
        raise ValueError(f"y_target has {len(y_target)} labels, expected {len(y)}")
    if device is None:
        first = next(iter(model.parameters()), None)
        device = first.device if first is not None else x.device
    out = []
    for number, start in enumerate(range(0, len(x), batch_size)):
        rows = slice(start, start + batch_size)
        generator = torch.Generator().manual_seed(batch_seed(seed, number))
        target = None if y_target is None else y_target[rows].to(device)
        with autocast(device, precision):
            x_adv = attack(
                model, x[rows].to(device), y[rows].to(device), generator=generator, y_target=target
            )
        out.append(x_adv)
    if not out:
        return x.clone()
    return torch.cat(out).to(x.device)
