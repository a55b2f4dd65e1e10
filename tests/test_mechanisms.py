"""Surrogate training mechanisms (SPEC §4) against hand-derived formulas.

Expected values come from closed forms for linear models f(x) = W·vec(x) + b
(∇ₓℓ_i = Wᵀ(softmax_i − onehot_i), J_i = W, ∇_W L = (P − Y)ᵀX / B), from
recomputing the augmentation from the images it produced, or from a
hand-written SAM step — never from the code under test.
"""

from __future__ import annotations

import copy
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from transferlab.mechanisms import MECHANISMS, build_mechanism
from transferlab.mechanisms.jacobian import draw_projections, jacobian_frobenius_estimate
from transferlab.mechanisms.second_order_batchnorm import second_order_batchnorm

SHAPE = (3, 4, 4)
DIM = 48
K = 5


def linear_model(num_classes: int = K, dtype: torch.dtype = torch.float32) -> nn.Sequential:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(DIM, num_classes)).to(dtype)
    with torch.no_grad():
        model[1].weight.mul_(3.0)
    return model


def small_mlp() -> nn.Sequential:
    torch.manual_seed(1)
    return nn.Sequential(nn.Flatten(), nn.Linear(DIM, 16), nn.Tanh(), nn.Linear(16, K))


def bn_conv_net() -> nn.Sequential:
    torch.manual_seed(2)
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(2),
        nn.Flatten(),
        nn.Linear(16, K),
    )


def batch(size: int = 8, seed: int = 3, dtype: torch.dtype = torch.float32):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand((size, *SHAPE), generator=g, dtype=dtype)
    y = torch.randint(K, (size,), generator=g)
    return x, y


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def linear_parts(model: nn.Sequential, x: torch.Tensor, y: torch.Tensor):
    """Per-sample CE, softmax − onehot residuals and the weight matrix of a linear model."""
    W, b = model[1].weight, model[1].bias
    logits = x.flatten(1) @ W.T + b
    losses = F.cross_entropy(logits, y, reduction="none")
    residual = logits.softmax(1) - F.one_hot(y, W.shape[0]).to(logits)
    return losses, residual, W


# ---------------------------------------------------------------- registry / validation


def test_every_config_key_is_registered_with_its_label() -> None:
    labels = {
        "st": "ST", "mu": "MU", "cm": "CM", "co": "CO", "ls": "LS", "at": "AT", "ir": "IR",
        "jr": "JR", "er": "ER", "sam": "SAM", "sam_ir": "SAM&IR", "sam_jr": "SAM&JR",
    }  # fmt: skip
    assert set(MECHANISMS.names()) == set(labels)
    for key, label in labels.items():
        assert MECHANISMS.get(key).label == label


@pytest.mark.parametrize(
    ("name", "tau", "match"),
    [
        ("mu", 1.5, "outside"),
        ("cm", -0.1, "outside"),
        ("ls", "0.1", "number"),
        ("co", 2.5, "integer"),
        ("co", 0, "outside"),
        ("at", float("nan"), "finite"),
        ("ir", -1.0, "outside"),
        ("jr", True, "number"),
        ("sam", -0.05, "outside"),
        ("sam_ir", 0.1, "pair"),
        ("sam_jr", [0.1, 0.2, 0.3], "pair"),
        ("sam_jr", [0.1, -0.2], "lambda"),
    ],
)
def test_invalid_tau_raises_clear_error(name: str, tau: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        build_mechanism(name, tau, num_classes=K)


@pytest.mark.parametrize(
    ("name", "tau", "settings", "match"),
    [
        ("mu", 0.5, {"alpha": 1.0}, "unknown setting"),
        ("ir", 0.1, {"form": "exact"}, "official, paper"),
        ("jr", 0.1, {"n_projections": 0}, "n_projections"),
        ("at", 0.5, {"steps": 2.5}, "steps"),
        ("at", 0.5, {"step_size": 0}, "step_size"),
        ("sam_ir", [0.1, 0.1], {"n_projections": 2}, "unknown setting"),
    ],
)
def test_invalid_settings_raise_clear_error(
    name: str, tau: object, settings: dict, match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        build_mechanism(name, tau, num_classes=K, **settings)


def test_valid_tau_is_normalized() -> None:
    assert build_mechanism("co", 8.0, num_classes=K).tau == 8
    assert isinstance(build_mechanism("co", 8.0, num_classes=K).tau, int)
    assert build_mechanism("sam_jr", [0.1, 0.05], num_classes=K).tau == (0.1, 0.05)


# ---------------------------------------------------------------- MU / CM / CO / LS

BIG = 1000  # batch size = number of classes, so y_i = i identifies each partner


def identity_labelled_batch(height: int = 8):
    g = torch.Generator().manual_seed(7)
    return torch.rand(BIG, 3, height, height, generator=g), torch.arange(BIG)


def other_class(row: torch.Tensor, own: int) -> int:
    """The partner's label: the largest soft-label entry besides the sample's own."""
    row = row.clone()
    row[own] = -1
    return int(row.argmax())


def test_mixup_mixes_a_fraction_p_with_consistent_images_and_labels() -> None:
    p = 0.3
    x, y = identity_labelled_batch()
    xm, q = build_mechanism("mu", p, num_classes=BIG).prepare_batch(None, x, y, gen())
    assert torch.allclose(q.sum(1), torch.ones(BIG), atol=1e-6)
    assert (q >= 0).all()
    own = q[torch.arange(BIG), y]
    mixed = own < 1 - 1e-6
    assert abs(mixed.float().mean().item() - p) < 0.05
    # Beta(1, 1): the own-label weight of mixed samples is uniform on (0, 1).
    assert abs(own[mixed].mean().item() - 0.5) < 0.06
    for i in torch.nonzero(mixed).flatten().tolist():
        partner = other_class(q[i], i)
        expected = own[i] * x[i] + (1 - own[i]) * x[partner]
        assert torch.allclose(xm[i], expected, atol=1e-5)
        assert abs(q[i, i].item() + q[i, partner].item() - 1) < 1e-5
    assert torch.equal(xm[~mixed], x[~mixed])


def test_cutmix_pastes_a_box_whose_area_gives_lambda() -> None:
    p, H = 0.6, 16
    x, y = identity_labelled_batch(H)
    xc, q = build_mechanism("cm", p, num_classes=BIG).prepare_batch(None, x, y, gen(1))
    assert torch.allclose(q.sum(1), torch.ones(BIG), atol=1e-6)
    changed = (xc != x).any(dim=1)  # (B, H, W) pixels taken from the partner
    has_box = changed.flatten(1).any(1)
    assert abs(has_box.float().mean().item() - p) < 0.05
    for i in torch.nonzero(has_box).flatten().tolist():
        rows = torch.nonzero(changed[i].any(1)).flatten()
        cols = torch.nonzero(changed[i].any(0)).flatten()
        r0, r1, c0, c1 = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
        # The changed pixels form one full rectangle (random images: no ties).
        assert changed[i].sum() == (r1 - r0) * (c1 - c0)
        area = float((r1 - r0) * (c1 - c0)) / (H * H)
        assert abs(q[i, i].item() - (1 - area)) < 1e-6
        partner = other_class(q[i], i)
        assert abs(q[i, partner].item() - area) < 1e-6
        assert torch.equal(xc[i][:, r0:r1, c0:c1], x[partner][:, r0:r1, c0:c1])
    assert torch.equal(xc[~has_box], x[~has_box])


def clipped_side(centre: int, side: int, size: int) -> int:
    start = centre - side // 2
    return min(start + side, size) - max(start, 0)


@pytest.mark.parametrize("side", [1, 4, 5, 11])
def test_cutout_zeroes_exactly_the_clipped_square(side: int) -> None:
    H = 8
    x = torch.rand(BIG, 3, H, H, generator=gen(5)) * 0.9 + 0.1  # no zero pixels
    y = torch.zeros(BIG, dtype=torch.int64)
    xo, target = build_mechanism("co", side, num_classes=K).prepare_batch(None, x, y, gen(2))
    assert torch.equal(target, y)
    zero = xo == 0
    assert torch.equal(zero, zero[:, :1].expand_as(zero))  # all channels alike
    zero = zero[:, 0]
    assert torch.equal(xo[~zero[:, None].expand_as(xo)], x[~zero[:, None].expand_as(x)])
    heights = []
    for i in range(BIG):
        rows = torch.nonzero(zero[i].any(1)).flatten()
        cols = torch.nonzero(zero[i].any(0)).flatten()
        h, w = len(rows), len(cols)
        assert zero[i].sum() == h * w  # one rectangle
        assert 1 <= h <= side and 1 <= w <= side
        # A side shorter than M must touch the border (it was clipped there).
        for lo, n in ((rows, h), (cols, w)):
            if n < side:
                assert lo.min() == 0 or lo.max() == H - 1
        heights.append(h)
    # Uniform centre over the H rows: the mean clipped height over all centres.
    expected = sum(clipped_side(c, side, H) for c in range(H)) / H
    assert abs(sum(heights) / BIG - expected) < 0.15


def test_cutout_larger_than_image_blanks_it() -> None:
    x, y = batch()
    xo, _ = build_mechanism("co", 9, num_classes=K).prepare_batch(None, x, y, gen())
    assert (xo == 0).all()


def test_label_smoothing_targets() -> None:
    p = 0.2
    _, y = batch()
    _, q = build_mechanism("ls", p, num_classes=K).prepare_batch(None, None, y, gen())
    for i, label in enumerate(y.tolist()):
        for k in range(K):
            assert q[i, k].item() == pytest.approx(1 - p if k == label else p / (K - 1))


# ---------------------------------------------------------------- AT


def test_adversarial_batch_is_in_ball_and_box_raises_loss_and_spares_bn() -> None:
    eps = 0.5
    model = bn_conv_net()
    x, y = batch(16)
    model.train()
    model(x)  # non-trivial running statistics
    stats = {k: v.clone() for k, v in model.state_dict().items()}
    at = build_mechanism("at", eps, num_classes=K, steps=10, step_size=0.25)
    x_adv, target = at.prepare_batch(model, x, y, gen())
    assert model.training
    assert torch.equal(target, y)
    for k, v in model.state_dict().items():
        assert torch.equal(v, stats[k]), f"{k} changed while crafting"
    assert all(p.grad is None for p in model.parameters())
    assert (x_adv.flatten(1) - x.flatten(1)).norm(dim=1).max() <= eps + 1e-5
    assert x_adv.min() >= 0 and x_adv.max() <= 1
    model.eval()
    with torch.no_grad():
        clean = F.cross_entropy(model(x), y, reduction="none")
        adv = F.cross_entropy(model(x_adv), y, reduction="none")
    assert (adv > clean).float().mean() > 0.9


def test_adversarial_training_trains_on_the_crafted_batch_only() -> None:
    model = bn_conv_net()
    x, y = batch(16)
    at = build_mechanism("at", 0.3, num_classes=K, steps=3, step_size=0.4)
    x_adv, _ = at.prepare_batch(model, x, y, gen(4))
    reference = copy.deepcopy(model).train()
    expected = F.cross_entropy(reference(x_adv), y)
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    loss = at.train_step(model.train(), opt, x, y, gen(4))
    assert float(loss) == pytest.approx(expected.item())


# ---------------------------------------------------------------- IR


@pytest.mark.parametrize("form", ["official", "paper"])
def test_input_gradient_penalty_matches_linear_closed_form(form: str) -> None:
    lam = 0.7
    model = linear_model(dtype=torch.float64)
    x, y = batch(6, dtype=torch.float64)
    ir = build_mechanism("ir", lam, num_classes=K, form=form)

    def expected_loss() -> torch.Tensor:
        losses, residual, W = linear_parts(model, x, y)
        grads = residual @ W  # row i = Wᵀ(softmax_i − onehot_i)
        if form == "official":
            return (losses.sum() + lam * grads.norm()) / len(y)
        return (losses + lam * grads.norm(dim=1)).mean()

    got = ir.loss(model, x, y)
    assert got.item() == pytest.approx(expected_loss().item(), rel=1e-10)
    # Double backprop: the penalty's parameter gradient matches finite differences.
    got.backward()
    W = model[1].weight
    h = 1e-6
    for idx in [(0, 0), (2, 17), (4, 47)]:
        with torch.no_grad():
            W[idx] += h
            up = expected_loss().item()
            W[idx] -= 2 * h
            down = expected_loss().item()
            W[idx] += h
        assert W.grad[idx].item() == pytest.approx((up - down) / (2 * h), rel=1e-5, abs=1e-9)


def test_input_gradient_forms_differ() -> None:
    model = linear_model()
    x, y = batch()
    official = build_mechanism("ir", 1.0, num_classes=K).loss(model, x, y)
    paper = build_mechanism("ir", 1.0, num_classes=K, form="paper").loss(model, x, y)
    # ‖G‖_F ≤ Σ_i‖g_i‖, so the official (one batch norm) penalty is smaller.
    assert official < paper


# ---------------------------------------------------------------- JR


def test_jacobian_estimate_converges_to_frobenius_norm() -> None:
    model = linear_model()
    x = torch.rand(1, *SHAPE).expand(4000, *SHAPE)
    exact = model[1].weight.pow(2).sum().item()  # J = W for every input
    directions = draw_projections(1, 4000, K, gen())
    assert torch.allclose(directions.norm(dim=-1), torch.ones(1, 4000))
    _, estimate = jacobian_frobenius_estimate(model, x, directions)
    assert estimate.std() > 0.1 * exact  # genuinely random per sample
    assert estimate.mean().item() == pytest.approx(exact, rel=0.05)
    # C orthonormal projections per sample recover ‖J‖²_F exactly.
    _, full = jacobian_frobenius_estimate(model, x[:5], draw_projections(K, 5, K, gen()))
    assert torch.allclose(full, torch.full((5,), exact), rtol=1e-4)


@pytest.mark.parametrize("n_projections", [1, 3])
def test_jacobian_forms_match_spec_for_isotropic_linear_model(n_projections: int) -> None:
    # W with orthogonal rows of norm s: ‖Wᵀv‖² = s² for every unit v, so the
    # projection estimate C‖u‖² equals ‖W‖²_F = C s² whatever v is drawn.
    lam, s = 0.3, 2.0
    model = linear_model()
    q, _ = torch.linalg.qr(torch.randn(DIM, K, generator=gen(9)))
    with torch.no_grad():
        model[1].weight.copy_(s * q.T)
    x, y = batch()
    losses, _, _ = linear_parts(model, x, y)
    frob_sq = K * s**2
    expected = {
        "official": losses.mean() + lam / len(y) * 0.5 * frob_sq,
        "paper": losses.mean() + lam * math.sqrt(frob_sq),
    }
    for form, value in expected.items():
        jr = build_mechanism("jr", lam, num_classes=K, form=form, n_projections=n_projections)
        xp, target = jr.prepare_batch(model, x, y, gen())
        assert jr.loss(model, xp, target).item() == pytest.approx(value.item(), rel=1e-5)


def test_jacobian_loss_requires_prepared_batch() -> None:
    x, y = batch()
    with pytest.raises(RuntimeError, match="prepare_batch"):
        build_mechanism("jr", 0.1, num_classes=K).loss(linear_model(), x, y)


# ---------------------------------------------------------------- ER


def test_weight_gradient_penalty_matches_linear_closed_form() -> None:
    lam = 0.4
    model = linear_model(dtype=torch.float64)
    x, y = batch(6, dtype=torch.float64)
    losses, residual, _ = linear_parts(model, x, y)
    grad_W = residual.T @ x.flatten(1) / len(y)
    grad_b = residual.mean(0)
    expected = losses.mean() + lam / 2 * (grad_W.pow(2).sum() + grad_b.pow(2).sum())
    got = build_mechanism("er", lam, num_classes=K).loss(model, x, y)
    assert got.item() == pytest.approx(expected.item(), rel=1e-10)


def test_weight_gradient_step_through_batchnorm_matches_generic_double_backprop() -> None:
    # Reference: PyTorch's own BatchNorm double backward, written out by hand.
    lam = 0.3
    model = bn_conv_net().to(torch.float64).train()
    reference = copy.deepcopy(model)
    x, y = batch(8, dtype=torch.float64)
    got = build_mechanism("er", lam, num_classes=K).loss(model, x, y)
    got.backward()
    loss = F.cross_entropy(reference(x), y)
    grads = torch.autograd.grad(loss, list(reference.parameters()), create_graph=True)
    expected = loss + lam / 2 * sum(g.pow(2).sum() for g in grads)
    expected.backward()
    assert got.item() == pytest.approx(expected.item(), rel=1e-12)
    for p, q in zip(model.parameters(), reference.parameters(), strict=True):
        assert torch.allclose(p.grad, q.grad, rtol=1e-9, atol=1e-12)
    for b, c in zip(model.buffers(), reference.buffers(), strict=True):
        assert torch.equal(b, c)  # running statistics updated exactly once, identically


@pytest.mark.parametrize("shape", [(6, 3, 4, 4), (7, 3), (5, 2, 6)])
def test_second_order_batchnorm_derivatives_match_finite_differences(shape) -> None:
    g = gen()
    x, weight, bias = (
        torch.randn(size, generator=g, dtype=torch.float64, requires_grad=True)
        for size in (shape, shape[1:2], shape[1:2])
    )

    def batch_norm(x, weight, bias):
        with second_order_batchnorm():
            return F.batch_norm(x, None, None, weight, bias, training=True)

    out = batch_norm(x, weight, bias)
    assert type(out.grad_fn).__name__ == "_BatchNormTrainBackward"  # the closed form is in use
    assert torch.allclose(out, F.batch_norm(x, None, None, weight, bias, training=True))
    assert torch.autograd.gradcheck(batch_norm, (x, weight, bias), atol=1e-7, rtol=1e-5)
    assert torch.autograd.gradgradcheck(batch_norm, (x, weight, bias), atol=1e-7, rtol=1e-5)


# ---------------------------------------------------------------- SAM


def record_parameters(model: nn.Module) -> list[list[torch.Tensor]]:
    seen: list[list[torch.Tensor]] = []
    model.register_forward_pre_hook(
        lambda m, _: seen.append([p.detach().clone() for p in m.parameters()])
    )
    return seen


def hand_sam_step(model, x, y, rho, loss_fn, lr=0.1) -> None:
    params = list(model.parameters())
    grads = torch.autograd.grad(loss_fn(model, x, y), params)
    norm = torch.sqrt(sum((g**2).sum() for g in grads))
    with torch.no_grad():
        for p, g in zip(params, grads, strict=True):
            p += rho * g / norm
    grads2 = torch.autograd.grad(loss_fn(model, x, y), params)
    with torch.no_grad():
        for p, g, g2 in zip(params, grads, grads2, strict=True):
            p -= rho * g / norm
            p.grad = g2
    opt = torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=5e-4)
    opt.step()


def ce(model, x, y):
    return F.cross_entropy(model(x), y)


def test_sam_perturbation_has_norm_rho_and_step_matches_two_pass() -> None:
    rho = 0.05
    model = small_mlp()
    reference = copy.deepcopy(model)
    x, y = batch()
    seen = record_parameters(model)
    sam = build_mechanism("sam", rho, num_classes=K)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    sam.train_step(model, opt, x, y, gen())
    assert len(seen) == 2
    e = torch.cat([(b - a).flatten() for a, b in zip(seen[0], seen[1], strict=True)])
    assert e.norm().item() == pytest.approx(rho, rel=1e-4)
    hand_sam_step(reference, x, y, rho, ce)
    for p, q in zip(model.parameters(), reference.parameters(), strict=True):
        assert torch.allclose(p, q, atol=1e-6)


def test_sam_around_ir_matches_two_pass_on_closed_form_ir_loss() -> None:
    rho, lam = 0.1, 0.5
    model = linear_model(dtype=torch.float64)
    reference = copy.deepcopy(model)
    x, y = batch(dtype=torch.float64)

    def ir_official(m, x, y):
        losses, residual, W = linear_parts(m, x, y)
        return (losses.sum() + lam * (residual @ W).norm()) / len(y)

    mech = build_mechanism("sam_ir", [rho, lam], num_classes=K)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    mech.train_step(model, opt, x, y, gen())
    hand_sam_step(reference, x, y, rho, ir_official)
    for p, q in zip(model.parameters(), reference.parameters(), strict=True):
        assert torch.allclose(p, q, atol=1e-10)


def test_sam_around_jr_passes_settings_to_jr() -> None:
    mech = build_mechanism("sam_jr", [0.1, 0.05], num_classes=K, form="paper", n_projections=2)
    assert mech.inner.label == "JR" and mech.inner.form == "paper"
    assert mech.inner.n_projections == 2 and mech.inner.tau == 0.05 and mech.rho == 0.1


# ---------------------------------------------------------------- determinism

TAUS = {
    "st": None, "mu": 0.5, "cm": 0.5, "co": 2, "ls": 0.2, "at": 0.3, "ir": 0.5,
    "jr": 0.1, "er": 0.1, "sam": 0.05, "sam_ir": [0.05, 0.5], "sam_jr": [0.05, 0.1],
}  # fmt: skip
RANDOMIZED = {"mu", "cm", "co", "at", "jr", "sam_jr"}


def two_steps(name: str, seed: int) -> list[torch.Tensor]:
    model = bn_conv_net().train()
    settings = {"steps": 2} if name == "at" else {}
    mech = build_mechanism(name, TAUS[name], num_classes=K, **settings)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    g = gen(seed)
    for step in range(2):
        x, y = batch(8, seed=10 + step)
        loss = mech.train_step(model, opt, x, y, g)
        assert math.isfinite(loss)
    return [t.clone() for t in model.state_dict().values()]


@pytest.mark.parametrize("name", sorted(TAUS))
def test_same_generator_seed_gives_identical_parameters(name: str) -> None:
    first, second = two_steps(name, 0), two_steps(name, 0)
    assert all(torch.equal(a, b) for a, b in zip(first, second, strict=True))
    if name in RANDOMIZED:
        other = two_steps(name, 1)
        assert not all(torch.equal(a, b) for a, b in zip(first, other, strict=True))


def test_l2_projection_keeps_inside_points_and_scales_outside_ones() -> None:
    from transferlab.mechanisms.adversarial_training import project_l2

    x = torch.full((2, *SHAPE), 0.5)
    direction = torch.zeros(2, *SHAPE)
    direction[:, 0, 0, 0] = 1.0
    direction[:, 1, 2, 3] = 1.0  # ‖direction‖ = √2 per sample
    step = direction * torch.tensor([0.1, 0.3])[:, None, None, None]
    projected = project_l2(x + step, x, eps=0.2)
    assert torch.allclose(projected[0], x[0] + step[0])  # inside (0.141 < 0.2): unchanged
    assert torch.allclose(projected[1], x[1] + direction[1] * 0.2 / math.sqrt(2))


def test_at_l2_pgd_reaches_the_known_maximizer_of_a_linear_model() -> None:
    """Two-class linear model: ∇ₓCE ∝ (w₁ − w₀) everywhere, so the loss maximizer on the L2
    ball is x + ε·d, d = ±(w₁ − w₀)/‖w₁ − w₀‖ (Madry et al.'s L2 step: α·g/‖g‖₂). A
    sign-gradient step (the L∞ step) converges to another point and must fail this check."""
    from transferlab.mechanisms.adversarial_training import l2_pgd, project_l2

    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(48, 2)).double()
    x = torch.full((3, 3, 4, 4), 0.5, dtype=torch.float64)  # the [0,1] box does not bind
    y = torch.tensor([0, 1, 0])
    eps = 0.1
    w = model[1].weight.detach()
    # ascending CE of class y moves away from it: towards w_(1-y) − w_y
    d = torch.stack([w[1 - int(c)] - w[int(c)] for c in y])
    d = (d / d.norm(dim=1, keepdim=True)).reshape(x.shape)
    expected = x + eps * d
    generator = torch.Generator().manual_seed(1)
    x_adv = l2_pgd(model, x, y, eps, steps=50, step_size=eps, generator=generator)
    torch.testing.assert_close(x_adv, expected, atol=1e-9, rtol=0)

    # The same iteration with a sign step instead of the normalized gradient.
    x_sign = x.clone()
    for _ in range(50):
        x_sign.requires_grad_(True)
        loss = F.cross_entropy(model(x_sign), y, reduction="sum")
        (grad,) = torch.autograd.grad(loss, x_sign)
        x_sign = project_l2(x_sign.detach() + eps * grad.sign(), x, eps)
    assert (x_sign - expected).flatten(1).norm(dim=1).min() > 1e-2
