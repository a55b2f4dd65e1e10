"""SAM and SAM around IR / JR: sharpness-aware minimization (SPEC §4, Table XI).

SAM wraps an inner mechanism and only replaces the optimizer step; its loss at
θ and at θ + e is the inner mechanism's loss on one prepared batch. So
"SAM&IR" and "SAM&JR" are SAM around IR and JR, with τ = [ρ, λ].
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor, nn

from transferlab.mechanisms.base import MECHANISMS, Mechanism, Optimizer, Standard
from transferlab.mechanisms.input_gradient import InputGradientRegularization
from transferlab.mechanisms.jacobian import JacobianRegularization


def sharpness_aware_step(
    inner: Mechanism,
    rho: float,
    model: nn.Module,
    optimizer: Optimizer,
    x: Tensor,
    y: Tensor,
    generator: torch.Generator,
) -> Tensor:
    """One SAM step (Foret et al.); returns the loss at θ.

    g = ∇_θ L(θ) with L the inner mechanism's loss on its prepared batch;
    e = ρ·g/‖g‖₂ (one norm over all parameters that have a gradient; e = 0 if
    g = 0); the base optimizer then steps from θ with ∇_θ L(θ + e). Both passes
    run in the model's current (train) mode on the same prepared batch; θ is
    restored from a copy, not by subtracting e, so it is bit-exact.
    """
    x, target = inner.prepare_batch(model, x, y, generator)
    params = [p for p in model.parameters() if p.requires_grad]
    loss = inner.loss(model, x, target)
    grads = torch.autograd.grad(loss, params, allow_unused=True)
    perturbed = [(p, g) for p, g in zip(params, grads, strict=True) if g is not None]
    with torch.no_grad():
        saved = [p.detach().clone() for p, _ in perturbed]
        squares = [g.pow(2).sum() for _, g in perturbed]
        norm = torch.stack(squares).sum().sqrt() if squares else torch.zeros(())
        # e = 0 when g = 0, chosen on the device: a Python `if norm > 0` would wait for it.
        scale = torch.where(norm > 0, rho / norm, torch.zeros_like(norm))
        for p, g in perturbed:
            p.add_(g * scale)
    optimizer.zero_grad(set_to_none=True)
    inner.loss(model, x, target).backward()
    with torch.no_grad():
        for (p, _), original in zip(perturbed, saved, strict=True):
            p.copy_(original)
    optimizer.step()
    return loss.detach()


@MECHANISMS.register("sam")
class SharpnessAwareMinimization(Mechanism):
    """SAM (ρ) around an inner mechanism (default ST: plain cross-entropy).

    ``inner`` is a constructed Mechanism (a programmatic argument, not a
    config setting); its ``prepare_batch`` and ``loss`` are used unchanged.
    """

    label = "SAM"
    tau_name = "rho"
    tau_min = 0.0

    def __init__(
        self,
        tau: object,
        *,
        num_classes: int,
        inner: Mechanism | None = None,
        **settings: object,
    ) -> None:
        super().__init__(tau, num_classes=num_classes, **settings)
        self.rho = float(self.tau)
        self.inner = inner if inner is not None else Standard(num_classes=num_classes)

    def prepare_batch(
        self, model: nn.Module, x: Tensor, y: Tensor, generator: torch.Generator
    ) -> tuple[Tensor, Tensor]:
        return self.inner.prepare_batch(model, x, y, generator)

    def loss(self, model: nn.Module, x: Tensor, target: Tensor) -> Tensor:
        return self.inner.loss(model, x, target)

    def train_step(
        self,
        model: nn.Module,
        optimizer: Optimizer,
        x: Tensor,
        y: Tensor,
        generator: torch.Generator,
    ) -> Tensor:
        return sharpness_aware_step(self.inner, self.rho, model, optimizer, x, y, generator)


class _SharpnessAwareAround(SharpnessAwareMinimization):
    """SAM around a fixed inner mechanism; τ = [ρ, λ], settings go to the inner one.

    A subclass names ``inner_class``; its ``settings_defaults`` and ``fp32_only`` are
    the inner mechanism's (a second-order inner loss makes the whole step second order).
    """

    inner_class: ClassVar[type[Mechanism]]
    tau_name = ("rho", "lambda")
    tau_pair = True

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        cls.settings_defaults = cls.inner_class.settings_defaults
        cls.fp32_only = cls.inner_class.fp32_only

    def __init__(self, tau: object, *, num_classes: int, **settings: object) -> None:
        Mechanism.__init__(self, tau, num_classes=num_classes, **settings)
        rho, lam = self.tau  # checked as a pair by the base constructor
        self.rho = rho
        self.inner = self.inner_class(lam, num_classes=num_classes, **settings)


@MECHANISMS.register("sam_ir")
class SharpnessAwareInputGradient(_SharpnessAwareAround):
    """SAM&IR ([ρ, λ]): SAM whose loss is the IR loss; settings as IR (``form``)."""

    label = "SAM&IR"
    inner_class = InputGradientRegularization


@MECHANISMS.register("sam_jr")
class SharpnessAwareJacobian(_SharpnessAwareAround):
    """SAM&JR ([ρ, λ]): SAM whose loss is the JR loss; settings as JR."""

    label = "SAM&JR"
    inner_class = JacobianRegularization
