"""ER: explicit weight-gradient-norm regularization (SPEC §4, Table XI)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from transferlab.mechanisms.base import MECHANISMS, SecondOrderRegularization, soft_cross_entropy
from transferlab.mechanisms.second_order_batchnorm import second_order_batchnorm


def weight_gradient_regularized_loss(
    model: nn.Module, x: Tensor, target: Tensor, lam: float
) -> Tensor:
    """L + (λ/2)‖∇_θ L‖², θ = every parameter that requires grad (double backprop).

    BatchNorm layers run with a closed-form double backward (same derivatives,
    a third of the kernels; see ``second_order_batchnorm``).
    """
    if lam == 0:
        return soft_cross_entropy(model(x), target)
    with second_order_batchnorm():
        logits = model(x)
    loss = soft_cross_entropy(logits, target)
    params = [p for p in model.parameters() if p.requires_grad]
    grads = torch.autograd.grad(loss, params, create_graph=True, allow_unused=True)
    # One flat vector: one dot product (and one backward node) instead of one per tensor.
    flat = torch.cat([g.reshape(-1) for g in grads if g is not None])
    return loss + 0.5 * lam * torch.dot(flat, flat)


@MECHANISMS.register("er")
class WeightGradientRegularization(SecondOrderRegularization):
    """ER (λ): cross-entropy plus (λ/2) times the squared weight-gradient norm."""

    label = "ER"

    def loss(self, model: nn.Module, x: Tensor, target: Tensor) -> Tensor:
        return weight_gradient_regularized_loss(model, x, target, float(self.tau))
