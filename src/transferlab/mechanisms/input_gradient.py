"""IR: input-gradient regularization (SPEC §4, Table XI)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from transferlab.mechanisms.base import MECHANISMS, SecondOrderRegularization
from transferlab.mechanisms.magnitude import check_choice

REGULARIZER_FORMS = ("official", "paper")


def per_sample_cross_entropy(logits: Tensor, target: Tensor) -> Tensor:
    """ℓ_i = −Σ_k q_ik log softmax(f(x_i))_k, shape (B,); ``target`` labels or probabilities."""
    if target.dtype in (torch.int64, torch.int32):
        return F.cross_entropy(logits, target, reduction="none")
    return -(target * F.log_softmax(logits, dim=1)).sum(dim=1)


def input_gradient_regularized_loss(
    model: nn.Module, x: Tensor, target: Tensor, lam: float, form: str
) -> Tensor:
    """IR loss by double backpropagation (create_graph=True).

    official (authors' code): L = (Σ_i ℓ_i + λ‖vec(∇ₓ Σ_i ℓ_i)‖₂)/B — one
    unsquared norm over the whole batch's input gradient.
    paper: L = mean_i[ℓ_i + λ‖∇ₓℓ_i‖₂], with ∇ₓℓ_i taken as row i of ∇ₓ Σ_j ℓ_j
    (exact without BatchNorm; in train-mode BN the batch statistics couple the
    samples and row i also carries the other samples' terms).
    """
    x = x.detach().requires_grad_(True)
    losses = per_sample_cross_entropy(model(x), target)
    total = losses.sum()
    batch = x.shape[0]
    if lam == 0:
        return total / batch
    (grad,) = torch.autograd.grad(total, x, create_graph=True)
    if form == "official":
        return (total + lam * torch.linalg.vector_norm(grad)) / batch
    return (losses + lam * torch.linalg.vector_norm(grad.flatten(1), dim=1)).mean()


@MECHANISMS.register("ir")
class InputGradientRegularization(SecondOrderRegularization):
    """IR (λ): cross-entropy plus λ times the input-gradient L2 norm; setting ``form``."""

    label = "IR"
    settings_defaults = {"form": "official"}

    def __init__(self, tau: object, *, num_classes: int, **settings: object) -> None:
        super().__init__(tau, num_classes=num_classes, **settings)
        self.form = check_choice(type(self), "form", self.settings["form"], REGULARIZER_FORMS)

    def loss(self, model: nn.Module, x: Tensor, target: Tensor) -> Tensor:
        return input_gradient_regularized_loss(model, x, target, float(self.tau), self.form)
