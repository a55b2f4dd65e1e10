"""Train-mode BatchNorm whose backward pass is differentiated by a closed form.

Double backpropagation through train-mode BatchNorm (ER's ‖∇_θL‖²)
differentiates BN's backward pass once more. PyTorch's generic
``batchnorm_double_backward`` launches about 40 full-size kernels per layer for
it; the closed form below needs 14 (what that saves in ER's step:
benchmarks/README.md). The derivatives are the same (the tests
compare both paths in float64 and check against finite differences); only the
kernels differ. Forward values, running-statistics updates and first
derivatives are ``native_batch_norm``'s, as in ``F.batch_norm``.

Per channel, with Σ over the M = N·H·W positions, batch mean μ,
r = (σ² + ε)^(−1/2) and x̂ = (x − μ)·r, BN's backward maps the output
gradient g to
    g_β = Σ g,   g_γ = Σ g·x̂,   g_x = γ·r·(g − g_β/M − x̂·g_γ/M).
For the adjoints A = ∂S/∂g_x, a_γ = ∂S/∂g_γ, a_β = ∂S/∂g_β of a scalar S, with
s_A = Σ A, P = Σ A·x̂ and K = Σ A·g − (s_A·g_β + P·g_γ)/M,
    ∂S/∂g = γ·r·A + (a_β − γ·r·s_A/M) + c_g·x̂,    c_g = a_γ − γ·r·P/M
    ∂S/∂γ = r·K
    ∂S/∂x = r·(G − mean G − x̂·mean(G·x̂)) − γ·K·r²·x̂/M,
where G = ∂S/∂x̂ = c_A·A + c_g·g with c_A = −γ·r·g_γ/M; its means are
per-channel sums already at hand: mean G = (c_A·s_A + c_g·g_β)/M and
mean(G·x̂) = (c_A·P + c_g·g_γ)/M. The last term is S's dependence on x through
r (∂r/∂x = −r²·x̂/M); the bracket is the usual BN backward of G.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.autograd.function import once_differentiable
from torch.overrides import TorchFunctionMode


def _per_channel(values: Tensor, like: Tensor) -> Tensor:
    """A (C,) vector shaped (1, C, 1, …) to broadcast against ``like`` (N, C, …)."""
    return values.reshape(1, -1, *([1] * (like.dim() - 2)))


def _native_backward(
    grad_out: Tensor, x: Tensor, weight: Tensor, mean: Tensor, invstd: Tensor, eps: float
) -> tuple[Tensor, Tensor, Tensor]:
    return torch.ops.aten.native_batch_norm_backward(
        grad_out, x, weight, None, None, mean, invstd, True, eps, [True, True, True]
    )


class _BatchNormBackward(torch.autograd.Function):
    """(g, x, γ) ↦ (g_x, g_γ, g_β) of train-mode BN; its own backward is the closed form."""

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any,
        grad_out: Tensor,
        x: Tensor,
        weight: Tensor,
        mean: Tensor,
        invstd: Tensor,
        eps: float,
    ) -> tuple[Tensor, Tensor, Tensor]:
        grad_x, grad_weight, grad_bias = _native_backward(grad_out, x, weight, mean, invstd, eps)
        ctx.save_for_backward(grad_out, x, weight, mean, invstd, grad_weight, grad_bias)
        return grad_x, grad_weight, grad_bias

    @staticmethod
    @once_differentiable
    def backward(  # type: ignore[override]
        ctx: Any, adj_x: Tensor | None, adj_weight: Tensor | None, adj_bias: Tensor | None
    ) -> tuple[Tensor | None, ...]:
        grad_out, x, weight, mean, invstd, grad_weight, grad_bias = ctx.saved_tensors
        needs_grad_out, needs_x, needs_weight = ctx.needs_input_grad[:3]
        dims = [0, *range(2, x.dim())]
        count = x.numel() // x.shape[1]
        r, gamma = invstd, weight
        gamma_r = gamma * r
        if adj_x is None:
            adj_x = torch.zeros_like(x)
        # x − μ first: folding μ into a constant would cancel badly when |μ| ≫ σ.
        xhat = (x - _per_channel(mean, x)).mul_(_per_channel(r, x))
        s_a = adj_x.sum(dims)
        p = (adj_x * xhat).sum(dims)
        k = (adj_x * grad_out).sum(dims) - (s_a * grad_bias + p * grad_weight) / count
        c_g = -gamma_r * p / count
        if adj_weight is not None:
            c_g = c_g + adj_weight

        d_grad_out = d_x = d_weight = None
        if needs_grad_out:
            shift = -gamma_r * s_a / count
            if adj_bias is not None:
                shift = shift + adj_bias
            d_grad_out = (xhat * _per_channel(c_g, x)).add_(_per_channel(shift, x))
            d_grad_out.addcmul_(adj_x, _per_channel(gamma_r, x))
        if needs_weight:
            d_weight = r * k
        if needs_x:
            c_a = -gamma_r * grad_weight / count
            mean_g = (c_a * s_a + c_g * grad_bias) / count
            mean_gx = (c_a * p + c_g * grad_weight) / count
            xhat_coefficient = -r * mean_gx - gamma * k * r * r / count
            d_x = (xhat * _per_channel(xhat_coefficient, x)).add_(_per_channel(-r * mean_g, x))
            d_x.addcmul_(adj_x, _per_channel(r * c_a, x))
            d_x.addcmul_(grad_out, _per_channel(r * c_g, x))
        return d_grad_out, d_x, d_weight, None, None, None


class _BatchNormTrain(torch.autograd.Function):
    """Train-mode affine BN whose backward is ``_BatchNormBackward`` (twice differentiable)."""

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any,
        x: Tensor,
        weight: Tensor,
        bias: Tensor,
        running_mean: Tensor | None,
        running_var: Tensor | None,
        momentum: float,
        eps: float,
    ) -> Tensor:
        out, mean, invstd = torch.ops.aten.native_batch_norm(
            x, weight, bias, running_mean, running_var, True, momentum, eps
        )
        ctx.save_for_backward(x, weight, mean, invstd)
        ctx.eps = eps
        return out

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> tuple[Tensor | None, ...]:  # type: ignore[override]
        x, weight, mean, invstd = ctx.saved_tensors
        args = (grad_out, x, weight, mean, invstd, ctx.eps)
        # Grad mode is on only under create_graph=True; otherwise skip the Function's overhead.
        if torch.is_grad_enabled():
            grads = _BatchNormBackward.apply(*args)
        else:
            grads = _native_backward(*args)
        return *grads, None, None, None, None


def _batch_norm_arguments(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> tuple[Tensor, Tensor | None, Tensor | None, Tensor | None, Tensor | None, bool, float, float]:
    """``F.batch_norm``'s parameters, bound as it binds them."""
    return input, running_mean, running_var, weight, bias, training, momentum, eps


class _SecondOrderBatchNormMode(TorchFunctionMode):
    """Routes affine train-mode ``F.batch_norm`` calls to ``_BatchNormTrain``."""

    def __torch_function__(
        self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None
    ) -> Any:
        kwargs = kwargs or {}
        if func is F.batch_norm:
            x, running_mean, running_var, weight, bias, training, momentum, eps = (
                _batch_norm_arguments(*args, **kwargs)
            )
            if training and weight is not None and bias is not None:
                F._verify_batch_size(x.size())  # F.batch_norm's one-value-per-channel error
                return _BatchNormTrain.apply(
                    x, weight, bias, running_mean, running_var, momentum, eps
                )
        return func(*args, **kwargs)


@contextmanager
def second_order_batchnorm() -> Iterator[None]:
    """Inside the block, affine train-mode BatchNorm layers get the closed-form double backward.

    Enclose the forward pass whose graph will be differentiated twice; other
    operations are untouched.
    """
    with _SecondOrderBatchNormMode():
        yield
