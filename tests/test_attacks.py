"""L∞ attacks (SPEC §7): box constraints, loss direction, exact update rules, DI."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from transferlab.attacks import (
    ATTACKS,
    build_attack,
    default_step_size,
    diverse_input,
    padded_size,
    run_attack,
    target_labels,
)
from transferlab.registry import UnknownNameError

K = 10


class TinyConvNet(nn.Module):
    """Conv → ReLU → adaptive pool → linear: accepts any image size (needed by DI)."""

    def __init__(self, dropout: float = 0.0) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(2)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(32, K)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.drop(self.pool(torch.relu(self.conv(x))).flatten(1)))


def tiny_model(seed: int = 0, dropout: float = 0.0) -> nn.Module:
    torch.manual_seed(seed)
    return TinyConvNet(dropout).eval()


def batch(seed: int = 1, n: int = 12, size: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 3, size, size, generator=g)
    x[0] = 0.0  # saturated pixels exercise the [0,1] clipping
    x[1] = 1.0
    y = torch.randint(0, K, (n,), generator=g)
    return x, y


def per_sample_ce(model: nn.Module, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return F.cross_entropy(model(x), labels, reduction="none")


ALL_ATTACKS = ["pgd", "mi", "di", "dim"]


def test_registry_names() -> None:
    assert ATTACKS.names() == ["autoattack", "di", "dim", "mi", "pgd"]


@pytest.mark.parametrize("name", ALL_ATTACKS)
@pytest.mark.parametrize("targeted", [False, True])
@pytest.mark.parametrize("random_start", [False, True])
def test_box_constraints(name: str, targeted: bool, random_start: bool) -> None:
    model = tiny_model()
    x, y = batch()
    eps = 8 / 255
    attack = build_attack(
        name, eps=eps, steps=5, step_size=3 / 255, targeted=targeted, random_start=random_start
    )
    x_adv = attack(model, x, y, generator=torch.Generator().manual_seed(0))
    assert x_adv.shape == x.shape and x_adv.dtype == x.dtype
    assert float((x_adv - x).abs().max()) <= eps + 1e-6
    assert float(x_adv.min()) >= 0.0 and float(x_adv.max()) <= 1.0
    # The budget is used: 5 steps of 3/255 reach the boundary somewhere.
    assert float((x_adv - x).abs().max()) > eps - 1e-6


@pytest.mark.parametrize("name", ALL_ATTACKS)
def test_zero_budget_changes_nothing(name: str) -> None:
    model = tiny_model()
    x, y = batch()
    attack = build_attack(name, eps=0.0, steps=4, step_size=1 / 255, random_start=True)
    x_adv = attack(model, x, y, generator=torch.Generator().manual_seed(0))
    assert torch.equal(x_adv, x)


@pytest.mark.parametrize("name", ["pgd", "mi"])
def test_untargeted_attack_raises_true_label_loss(name: str) -> None:
    model = tiny_model()
    x, y = batch(n=32)
    x_adv = build_attack(name, eps=8 / 255, steps=10, step_size=1 / 255)(
        model, x, y, generator=torch.Generator().manual_seed(0)
    )
    before, after = per_sample_ce(model, x, y), per_sample_ce(model, x_adv, y)
    assert bool((after > before).all())


@pytest.mark.parametrize("name", ["pgd", "mi"])
def test_targeted_attack_lowers_target_class_loss(name: str) -> None:
    model = tiny_model()
    x, y = batch(n=32)
    target = (y + 1) % K
    x_adv = build_attack(name, eps=8 / 255, steps=10, step_size=1 / 255, targeted=True)(
        model, x, y, generator=torch.Generator().manual_seed(0)
    )
    before, after = per_sample_ce(model, x, target), per_sample_ce(model, x_adv, target)
    assert bool((after < before).all())


def linear_reference_attack(
    weight: torch.Tensor,
    bias: torch.Tensor,
    x: torch.Tensor,
    labels: torch.Tensor,
    *,
    eps: float,
    alpha: float,
    steps: int,
    decay: float | None,
    ascend: bool,
) -> torch.Tensor:
    """Hand-derived PGD / MI-FGSM for f(x) = W·vec(x) + b in float64.

    ∇ₓ CE(f(x), c) = Wᵀ(softmax(f(x)) − e_c), computed analytically (no autograd).
    """
    flat_x = x.flatten(1)
    current = flat_x.clone()
    momentum = torch.zeros_like(flat_x)
    onehot = F.one_hot(labels, K).to(flat_x.dtype)
    for _ in range(steps):
        probs = torch.softmax(current @ weight.T + bias, dim=1)
        grad = (probs - onehot) @ weight
        if decay is not None:
            momentum = decay * momentum + grad / grad.abs().mean(dim=1, keepdim=True)
            grad = momentum
        step = alpha * torch.sign(grad) * (1 if ascend else -1)
        current = current + step
        current = torch.minimum(torch.maximum(current, flat_x - eps), flat_x + eps).clamp(0, 1)
    return current.view_as(x)


@pytest.mark.parametrize("name", ["pgd", "mi"])
@pytest.mark.parametrize("targeted", [False, True])
def test_update_rule_matches_hand_derived_linear_case(name: str, targeted: bool) -> None:
    torch.manual_seed(3)
    linear = nn.Linear(3 * 4 * 4, K).double()
    model = nn.Sequential(nn.Flatten(), linear).eval()
    x = torch.rand(6, 3, 4, 4, dtype=torch.float64)
    y = torch.randint(0, K, (6,))
    eps, alpha, steps = 6 / 255, 1 / 255, 9
    settings = {"decay": 0.7} if name == "mi" else {}
    attack = build_attack(
        name, eps=eps, steps=steps, step_size=alpha, targeted=targeted, **settings
    )
    x_adv = attack(model, x, y, generator=torch.Generator().manual_seed(0))
    labels = (y + 1) % K if targeted else y
    expected = linear_reference_attack(
        linear.weight.detach(),
        linear.bias.detach(),
        x,
        labels,
        eps=eps,
        alpha=alpha,
        steps=steps,
        decay=settings.get("decay"),
        ascend=not targeted,
    )
    assert torch.allclose(x_adv, expected, rtol=0, atol=1e-12)


def test_mi_momentum_changes_the_path() -> None:
    """With μ > 0 MI differs from PGD; with μ = 0 sign(∇/mean|∇|) = sign(∇) gives PGD."""
    model = tiny_model()
    x, y = batch()
    g = torch.Generator()
    pgd = build_attack("pgd", eps=8 / 255, steps=6, step_size=1 / 255)(model, x, y, generator=g)
    mi0 = build_attack("mi", eps=8 / 255, steps=6, step_size=1 / 255, decay=0.0)
    mi1 = build_attack("mi", eps=8 / 255, steps=6, step_size=1 / 255, decay=1.0)
    assert torch.equal(mi0(model, x, y, generator=g), pgd)
    assert not torch.equal(mi1(model, x, y, generator=g), pgd)


def test_di_without_diversity_is_pgd_and_dim_is_mi() -> None:
    model = tiny_model()
    x, y = batch()
    common = {"eps": 8 / 255, "steps": 5, "step_size": 2 / 255}
    g = torch.Generator()
    pgd = build_attack("pgd", **common)(model, x, y, generator=g.manual_seed(0))
    di0 = build_attack("di", diversity_prob=0.0, **common)(model, x, y, generator=g.manual_seed(0))
    mi = build_attack("mi", **common)(model, x, y, generator=g.manual_seed(0))
    dim0 = build_attack("dim", diversity_prob=0.0, **common)
    assert torch.equal(di0, pgd)
    assert torch.equal(dim0(model, x, y, generator=g.manual_seed(0)), mi)
    di1 = build_attack("di", diversity_prob=1.0, **common)(model, x, y, generator=g.manual_seed(0))
    assert not torch.equal(di1, pgd)


def test_padded_size() -> None:
    assert padded_size(32, 1 / 0.875) == 37  # 36.57 rounded
    assert padded_size(224, 1 / 0.875) == 256
    assert padded_size(8, 1 / 0.875) == 9
    assert padded_size(4, 1.01) == 5  # never an empty resize range


def test_diverse_input_is_a_zero_padded_copy_when_no_resize_is_possible() -> None:
    # W = 8: R = 9 and r ∈ [8, 9) = {8}, so T(x) is x placed at a random offset.
    x = torch.rand(2, 3, 8, 8)
    offsets = set()
    for seed in range(20):
        g = torch.Generator().manual_seed(seed)
        out = diverse_input(
            x, diversity_prob=1.0, resize_rate=1 / 0.875, resize_mode="bilinear", generator=g
        )
        assert out.shape == (2, 3, 9, 9)
        matches = [
            (top, left)
            for top in (0, 1)
            for left in (0, 1)
            if torch.equal(out[..., top : top + 8, left : left + 8], x)
        ]
        assert len(matches) == 1
        top, left = matches[0]
        mask = torch.ones(9, 9, dtype=torch.bool)
        mask[top : top + 8, left : left + 8] = False
        assert torch.all(out[..., mask] == 0)
        offsets.add((top, left))
    assert len(offsets) == 4  # every offset in {0, 1}² occurs


def test_diverse_input_sizes_probability_and_gradient() -> None:
    x = torch.rand(2, 3, 32, 32, requires_grad=True)
    g = torch.Generator().manual_seed(0)
    transformed = 0
    for _ in range(400):
        out = diverse_input(
            x, diversity_prob=0.5, resize_rate=1 / 0.875, resize_mode="bilinear", generator=g
        )
        if out.shape[-1] == 37:
            transformed += 1
        else:
            assert out is x
    assert 160 <= transformed <= 240  # Binomial(400, 0.5): ±4 standard deviations
    out = diverse_input(
        x, diversity_prob=1.0, resize_rate=1 / 0.875, resize_mode="nearest", generator=g
    )
    (grad,) = torch.autograd.grad(out.sum(), x)
    assert float(grad.abs().sum()) > 0


@pytest.mark.parametrize("name", ALL_ATTACKS)
def test_deterministic_given_seed(name: str) -> None:
    model = tiny_model()
    x, y = batch(n=10)
    settings = {"diversity_prob": 1.0} if name in ("di", "dim") else {}
    attack = build_attack(name, eps=8 / 255, steps=4, random_start=True, **settings)
    first = run_attack(attack, model, x, y, batch_size=4, seed=7)
    again = run_attack(attack, model, x, y, batch_size=4, seed=7)
    other = run_attack(attack, model, x, y, batch_size=4, seed=8)
    assert torch.equal(first, again)
    assert not torch.equal(first, other)


def test_run_attack_batches_do_not_matter_without_randomness() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 4 * 4, K)).double().eval()
    x = torch.rand(10, 3, 4, 4, dtype=torch.float64)
    y = torch.randint(0, K, (10,))
    attack = build_attack("pgd", eps=8 / 255, steps=5)
    whole = run_attack(attack, model, x, y, batch_size=10, seed=0)
    pieces = run_attack(attack, model, x, y, batch_size=3, seed=0)
    assert torch.allclose(whole, pieces, rtol=0, atol=1e-12)


def test_model_runs_in_eval_mode_and_mode_is_restored() -> None:
    model = tiny_model(dropout=0.5)
    x, y = batch()
    attack = build_attack("pgd", eps=8 / 255, steps=3)
    expected = attack(model.eval(), x, y, generator=torch.Generator())
    model.train()
    got = attack(model, x, y, generator=torch.Generator())
    assert model.training
    assert torch.equal(got, expected)  # dropout active would change the gradients


def test_targeted_default_target_is_next_class() -> None:
    y = torch.tensor([0, 3, 9])
    assert torch.equal(target_labels(y, 10), torch.tensor([1, 4, 0]))
    model = tiny_model()
    x, y = batch()
    attack = build_attack("pgd", eps=8 / 255, steps=3, targeted=True)
    g = torch.Generator()
    default = attack(model, x, y, generator=g)
    explicit = attack(model, x, y, generator=g, y_target=(y + 1) % K)
    shifted = attack(model, x, y, generator=g, y_target=(y + 2) % K)
    assert torch.equal(default, explicit)
    assert not torch.equal(default, shifted)


def test_default_step_size_rule() -> None:
    assert default_step_size(8 / 255, 20) == pytest.approx(2 / 255)  # the authors' setting
    assert default_step_size(4 / 255, 20) == pytest.approx(1 / 255)
    assert default_step_size(16 / 255, 50) == pytest.approx(4 / 255)
    assert default_step_size(8 / 255, 1) == pytest.approx(8 / 255)  # FGSM
    assert default_step_size(8 / 255, 2) == pytest.approx(4 / 255)
    assert build_attack("pgd", eps=8 / 255, steps=20).step_size == pytest.approx(2 / 255)


def test_bad_arguments_are_rejected() -> None:
    with pytest.raises(UnknownNameError, match="allowed: autoattack, di, dim, mi, pgd"):
        build_attack("fgsm")
    with pytest.raises(ValueError, match="unknown setting.*decay"):
        build_attack("pgd", decay=1.0)
    with pytest.raises(ValueError, match="8/255"):
        build_attack("pgd", eps=8)
    with pytest.raises(ValueError, match="resize_rate"):
        build_attack("di", resize_rate=0.9)
    with pytest.raises(ValueError, match="diversity_prob"):
        build_attack("dim", diversity_prob=1.5)
    with pytest.raises(ValueError, match="decay"):
        build_attack("mi", decay=-1.0)
    with pytest.raises(ValueError, match="steps=0 must be an integer >= 1"):
        build_attack("pgd", steps=0)  # would store the clean images as AEs
    attack = build_attack("pgd", steps=1)
    model = tiny_model()
    x, y = batch()
    with pytest.raises(ValueError, match="int64"):
        attack(model, x, y.float(), generator=torch.Generator())
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        attack(model, x * 2 - 0.5, y, generator=torch.Generator())
