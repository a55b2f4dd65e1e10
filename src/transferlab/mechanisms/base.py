"""The interface every surrogate training mechanism implements (SPEC §4).

A mechanism may change the batch (``prepare_batch``: Mixup, CutMix, Cutout,
label smoothing, adversarial training), the loss (``loss``: input-gradient,
Jacobian and weight-gradient regularization) or the optimizer step
(``train_step``: SAM). Because SAM calls the inner mechanism's
``prepare_batch`` and ``loss``, "SAM around IR" is composition, not new code.

All randomness goes through the ``torch.Generator`` the training loop passes
in, which is what makes resumed training bit-identical to an uninterrupted run.
"""

from __future__ import annotations

from typing import ClassVar, Protocol

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from transferlab.mechanisms.magnitude import check_tau
from transferlab.registry import Registry


class Optimizer(Protocol):
    """What a training step needs of an optimizer: transferlab.training.optimization.SGD and every
    torch.optim optimizer qualify."""

    def zero_grad(self, set_to_none: bool = True) -> None: ...

    def step(self) -> None: ...


MECHANISMS: Registry[type[Mechanism]] = Registry("mechanism")


def soft_cross_entropy(logits: Tensor, target: Tensor) -> Tensor:
    """Mean cross-entropy; ``target`` is int labels (B,) or probabilities (B, K).

    For probabilities q: ℓ = −Σ_k q_k log softmax(f(x))_k, averaged over the batch.
    """
    if target.dtype in (torch.int64, torch.int32):
        return F.cross_entropy(logits, target)
    return -(target * F.log_softmax(logits, dim=1)).sum(dim=1).mean()


class Mechanism:
    """Standard training step; subclasses override one of the three hooks.

    Class attributes describe the magnitude parameter τ for config validation:
    ``tau_name`` (None: no τ), ``tau_min``/``tau_max`` (inclusive bounds),
    ``tau_is_integer`` and ``tau_pair`` (τ is a [ρ, λ] pair).
    """

    label: ClassVar[str] = "ST"
    tau_name: ClassVar[str | None] = None
    tau_min: ClassVar[float] = 0.0
    tau_max: ClassVar[float] = float("inf")
    tau_is_integer: ClassVar[bool] = False
    tau_pair: ClassVar[bool] = False
    # Keys a config may set besides the grid, with their defaults.
    settings_defaults: ClassVar[dict[str, object]] = {}
    # True: the loss differentiates through a gradient (second order), which bfloat16
    # would distort; training runs it in float32 whatever training.precision says.
    fp32_only: ClassVar[bool] = False

    def __init__(self, tau: object = None, *, num_classes: int, **settings: object) -> None:
        unknown = set(settings) - set(self.settings_defaults)
        if unknown:
            raise ValueError(
                f"mechanism {self.label}: unknown setting(s) {sorted(unknown)}; "
                f"allowed: {sorted(self.settings_defaults) or 'none'}"
            )
        # One check for every mechanism: bounds, integer-ness and pairs from the class attributes.
        self.tau = tau if self.tau_name is None else check_tau(type(self), tau)
        self.num_classes = num_classes
        self.settings = {**self.settings_defaults, **settings}

    def prepare_batch(
        self, model: nn.Module, x: Tensor, y: Tensor, generator: torch.Generator
    ) -> tuple[Tensor, Tensor]:
        """Return the (images, targets) to train on; targets are labels or soft labels."""
        return x, y

    def loss(self, model: nn.Module, x: Tensor, target: Tensor) -> Tensor:
        """The scalar training loss on a prepared batch (model in train mode)."""
        return soft_cross_entropy(model(x), target)

    def train_step(
        self,
        model: nn.Module,
        optimizer: Optimizer,
        x: Tensor,
        y: Tensor,
        generator: torch.Generator,
    ) -> Tensor:
        """One optimizer step on a batch; returns the batch loss, detached (0-dim, on the
        model's device: the loop sums them there and synchronises once per epoch)."""
        x, target = self.prepare_batch(model, x, y, generator)
        optimizer.zero_grad(set_to_none=True)
        loss = self.loss(model, x, target)
        loss.backward()
        optimizer.step()
        return loss.detach()


class SecondOrderRegularization(Mechanism):
    """A λ-weighted penalty on a derivative of the loss (IR, JR, ER): τ = λ >= 0.

    The loss differentiates through a gradient (second order), so it trains in float32
    whatever training.precision says (``fp32_only``, see transferlab.precision).
    """

    fp32_only = True
    tau_name = "lambda"
    tau_min = 0.0


@MECHANISMS.register("st")
class Standard(Mechanism):
    """ST: plain cross-entropy on the (augmented) batch."""

    label = "ST"


def build_mechanism(name: str, tau: object, *, num_classes: int, **settings: object) -> Mechanism:
    """Instantiate the registered mechanism ``name`` at magnitude ``tau``."""
    return MECHANISMS.get(name)(tau, num_classes=num_classes, **settings)
