"""Per-sample input-Hessian top eigenvalue (SPEC §5) checked against dense Hessians."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from transferlab.metrics.smoothness import (
    input_hessian_top_eigenvalue,
    lanczos_top_eigenvalue,
    smoothness_summary,
)

SHAPE = (3, 6, 6)
NUM_CLASSES = 5


def relu_bn_pool_net() -> nn.Module:
    """Piecewise linear in x in eval mode: conv, BN (running stats), ReLU, max/avg pool."""
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(3, 6, 3, padding=1),
        nn.BatchNorm2d(6),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 8, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(8, NUM_CLASSES),
    ).double()
    bn = net[1]
    # Non-trivial running statistics, so eval-mode BN is a real affine map.
    bn.running_mean.uniform_(-0.5, 0.5)
    bn.running_var.uniform_(0.3, 3.0)
    bn.weight.data.uniform_(0.5, 2.0)
    bn.bias.data.uniform_(-0.2, 0.2)
    net.piecewise_linear = True
    return net


def smooth_net(activation: type[nn.Module] = nn.Tanh) -> nn.Module:
    torch.manual_seed(1)
    net = nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1),
        activation(),
        nn.Flatten(),
        nn.Linear(4 * 36, 16),
        activation(),
        nn.Linear(16, NUM_CLASSES),
    ).double()
    net.piecewise_linear = False
    return net


def samples(n: int, seed: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    x = torch.rand(n, *SHAPE, generator=generator, dtype=torch.float64)
    y = torch.randint(0, NUM_CLASSES, (n,), generator=generator)
    return x, y


def dense_dominant_eigenvalue(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Dominant (largest-magnitude) eigenvalue of the full D×D Hessian of one sample's CE."""
    net.eval()

    def loss(flat: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(net(flat.reshape(1, *SHAPE)), y.reshape(1))

    hessian = torch.autograd.functional.hessian(loss, x.reshape(-1))
    eigenvalues = torch.linalg.eigvalsh(0.5 * (hessian + hessian.T))
    return eigenvalues[eigenvalues.abs().argmax()]


def test_exact_matches_dense_hessian_and_restores_train_mode() -> None:
    net = relu_bn_pool_net()
    net.train()  # the estimator must switch to eval (BN running stats) and back
    x, y = samples(4)
    values = input_hessian_top_eigenvalue(net, x, y, method="exact", batch_size=3)
    assert net.training and net[1].training
    assert all(parameter.requires_grad for parameter in net.parameters())
    assert values.dtype == torch.float64 and values.shape == (4,)
    dense = torch.stack([dense_dominant_eigenvalue(net, x[k], y[k]) for k in range(4)])
    assert (dense > 0).all()
    torch.testing.assert_close(values, dense, rtol=1e-4, atol=0.0)


def test_auto_on_piecewise_linear_model_equals_exact_and_iterative_agrees() -> None:
    net = relu_bn_pool_net()
    x, y = samples(3, seed=5)
    exact = input_hessian_top_eigenvalue(net, x, y, method="exact")
    auto = input_hessian_top_eigenvalue(net, x, y)
    iterative = input_hessian_top_eigenvalue(net, x, y, method="iterative", tol=1e-8)
    torch.testing.assert_close(auto, exact, rtol=0.0, atol=0.0)
    torch.testing.assert_close(iterative, exact, rtol=1e-6, atol=0.0)


@pytest.mark.parametrize("activation", [nn.Tanh, nn.GELU])
def test_iterative_matches_dense_hessian_of_smooth_model(activation: type[nn.Module]) -> None:
    """σ = |λ| of the dominant eigenvalue (SPEC §5), also where that eigenvalue is negative."""
    net = smooth_net(activation)
    x, y = samples(4, seed=3)
    values = input_hessian_top_eigenvalue(net, x, y, batch_size=4)  # auto → iterative
    dense = torch.stack([dense_dominant_eigenvalue(net, x[k], y[k]) for k in range(4)])
    assert (dense < 0).any(), "the check needs a sample whose dominant eigenvalue is negative"
    torch.testing.assert_close(values, dense.abs(), rtol=1e-2, atol=0.0)


def test_exact_is_refused_for_a_model_declared_not_piecewise_linear() -> None:
    net = smooth_net()
    x, y = samples(2)
    with pytest.raises(ValueError, match="piecewise_linear is False"):
        input_hessian_top_eigenvalue(net, x, y, method="exact")


@pytest.mark.parametrize("method", ["exact", "iterative"])
def test_value_of_a_sample_does_not_depend_on_its_batch(method: str) -> None:
    net = relu_bn_pool_net()
    x, y = samples(8, seed=7)
    in_batch = input_hessian_top_eigenvalue(net, x, y, method=method, batch_size=8)
    in_small_batches = input_hessian_top_eigenvalue(net, x, y, method=method, batch_size=3)
    k = 5
    alone = input_hessian_top_eigenvalue(net, x[k : k + 1], y[k : k + 1], method=method)
    torch.testing.assert_close(in_small_batches, in_batch, rtol=1e-6, atol=0.0)
    torch.testing.assert_close(alone[0], in_batch[k], rtol=1e-6, atol=0.0)
    # Not the batched-mean-loss quantity max_b λ_b / B: values differ per sample.
    assert in_batch.unique().numel() == 8


def test_lanczos_returns_signed_largest_magnitude_eigenvalue() -> None:
    torch.manual_seed(0)
    dim = 30
    q, _ = torch.linalg.qr(torch.randn(3, dim, dim, dtype=torch.float64))
    spectra = torch.linspace(-1.0, 1.0, dim, dtype=torch.float64).repeat(3, 1)
    spectra[0, 0] = -5.0  # dominant eigenvalue negative
    spectra[1, -1] = 4.0  # dominant positive
    spectra[2, :] = 0.0
    spectra[2, :3] = torch.tensor([2.0, -1.0, 0.5], dtype=torch.float64)  # rank 3: early stop
    matrices = q @ torch.diag_embed(spectra) @ q.transpose(1, 2)

    def hvp(v: torch.Tensor) -> torch.Tensor:
        return torch.einsum("bij,bj->bi", matrices, v)

    start = torch.randn(3, dim, dtype=torch.float64)
    values, converged = lanczos_top_eigenvalue(hvp, start, tol=1e-10, max_iter=dim)
    assert converged.all()
    torch.testing.assert_close(values, torch.tensor([-5.0, 4.0, 2.0], dtype=torch.float64))


def test_bad_arguments_raise_clear_errors() -> None:
    net = relu_bn_pool_net()
    x, y = samples(2)
    with pytest.raises(ValueError, match="int64"):
        input_hessian_top_eigenvalue(net, x, y.to(torch.int32))
    with pytest.raises(ValueError, match="method"):
        input_hessian_top_eigenvalue(net, x, y, method="lanczos")
    with pytest.raises(ValueError, match="batch_size"):
        input_hessian_top_eigenvalue(net, x, y, batch_size=0)


def test_smoothness_summary() -> None:
    summary = smoothness_summary(torch.tensor([1.0, 2.0, 3.0, 10.0]))
    assert summary == {
        "mean": 4.0,
        "std": pytest.approx(math.sqrt((9 + 4 + 1 + 36) / 3)),
        "median": 2.5,
        "n": 4,
    }
    with pytest.raises(ValueError, match="non-finite"):
        smoothness_summary([1.0, float("nan")])
    with pytest.raises(ValueError, match="empty"):
        smoothness_summary([])
