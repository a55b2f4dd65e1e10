"""AT: L2 PGD adversarial training (SPEC §4, Table XI)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from transferlab.mechanisms.base import MECHANISMS, Mechanism
from transferlab.mechanisms.magnitude import check_positive_float, check_positive_int

# Floor for per-sample norms, so a zero gradient or zero perturbation gives a
# zero step instead of NaN.
_NORM_FLOOR = 1e-12


def _per_sample_norm(t: Tensor) -> Tensor:
    return t.flatten(1).norm(dim=1).clamp_min(_NORM_FLOOR)[:, None, None, None]


def project_l2(x_adv: Tensor, x: Tensor, eps: float) -> Tensor:
    """Project onto {x' : ‖x' − x‖₂ ≤ ε} ∩ [0, 1]^d per sample.

    Scaling δ into the ball and then clipping to [0, 1] stays in the ball
    because clipping (with x in [0, 1]) only moves coordinates towards x.
    """
    delta = x_adv - x
    delta = delta * (eps / _per_sample_norm(delta)).clamp(max=1.0)
    return (x + delta).clamp(0.0, 1.0)


def l2_pgd(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    eps: float,
    steps: int,
    step_size: float,
    generator: torch.Generator,
) -> Tensor:
    """Untargeted L2 PGD with random start (Madry et al.; SPEC §4, AT).

    x⁰ = Π(x + δ₀) with δ₀ uniform in the ε-ball (direction: normalized Gaussian,
    radius ε·U^{1/d}); x^{t+1} = Π(x^t + α·g/‖g‖₂), g = ∇ₓ Σ_i ℓ(f(x_i^t), y_i),
    Π = ``project_l2``. The model is used as it is (callers set eval mode);
    only ∇ₓ is computed, so parameter ``.grad`` fields are untouched.
    """
    x = x.detach()
    if eps == 0:
        return x.clone()
    batch = x.shape[0]
    direction = torch.randn(x.shape, generator=generator).to(x)
    radius = torch.rand(batch, generator=generator).to(x) ** (1.0 / x[0].numel())
    start = direction / _per_sample_norm(direction) * (eps * radius)[:, None, None, None]
    x_adv = project_l2(x + start, x, eps)
    for _ in range(steps):
        x_adv.requires_grad_(True)
        loss = F.cross_entropy(model(x_adv), y, reduction="sum")
        (grad,) = torch.autograd.grad(loss, x_adv)
        with torch.no_grad():
            x_adv = project_l2(x_adv + step_size * grad / _per_sample_norm(grad), x, eps)
    return x_adv.detach()


@MECHANISMS.register("at")
class AdversarialTraining(Mechanism):
    """AT (ε): train on CE(f(x'), y) only, x' = L2 PGD of radius ε (pixel units, [0,1] scale).

    Settings: ``steps`` (default 10; ImageNette 5) and ``step_size`` as a
    multiple of ε (default 0.25; ImageNette 0.4). Crafting runs in eval mode so
    BatchNorm running statistics are not updated by adversarial batches.
    """

    label = "AT"
    tau_name = "eps"
    tau_min = 0.0
    settings_defaults = {"steps": 10, "step_size": 0.25}

    def __init__(self, tau: object, *, num_classes: int, **settings: object) -> None:
        super().__init__(tau, num_classes=num_classes, **settings)
        self.steps = check_positive_int(type(self), "steps", self.settings["steps"])
        self.step_size = check_positive_float(type(self), "step_size", self.settings["step_size"])

    def prepare_batch(
        self, model: nn.Module, x: Tensor, y: Tensor, generator: torch.Generator
    ) -> tuple[Tensor, Tensor]:
        eps = float(self.tau)
        was_training = model.training
        model.eval()
        try:
            x_adv = l2_pgd(model, x, y, eps, self.steps, self.step_size * eps, generator)
        finally:
            model.train(was_training)
        return x_adv, y
