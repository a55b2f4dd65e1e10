"""MU: Mixup applied to each sample with probability p (SPEC §4, Table XI)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from transferlab.mechanisms.base import MECHANISMS, Mechanism


@dataclass(frozen=True)
class MixingDraw:
    """Per-sample mixing decisions for one batch.

    ``partner[i]`` is sample i's partner (a random permutation of the batch),
    ``mixed[i]`` says whether sample i is mixed (probability p) and
    ``weight[i]`` is λ_i ~ Beta(1, 1) = Uniform(0, 1), the weight of sample i's
    own image and label (forced to 1 for unmixed samples).
    """

    partner: Tensor
    mixed: Tensor
    weight: Tensor


def draw_mixing(batch_size: int, p: float, generator: torch.Generator) -> MixingDraw:
    """Draw partners, the mixed subset (each sample with probability p) and λ ~ Beta(1, 1).

    Beta(1, 1) is Uniform(0, 1), which ``torch.rand`` samples from the given
    generator (torch's Beta sampler cannot take a generator).
    """
    partner = torch.randperm(batch_size, generator=generator)
    mixed = torch.rand(batch_size, generator=generator) < p
    weight = torch.rand(batch_size, generator=generator)
    weight = torch.where(mixed, weight, torch.ones_like(weight))
    return MixingDraw(partner=partner, mixed=mixed, weight=weight)


def mixed_targets(y: Tensor, partner: Tensor, weight: Tensor, num_classes: int) -> Tensor:
    """Soft labels q_i = λ_i·onehot(y_i) + (1 − λ_i)·onehot(y_partner(i)); rows sum to 1."""
    own = F.one_hot(y, num_classes).to(torch.float32)
    weight = weight.to(own)[:, None]
    return weight * own + (1 - weight) * own[partner]


class PartnerMixing(Mechanism):
    """Mixes each sample, with probability p = τ, with a random partner of its batch (MU, CM).

    ``prepare_batch`` draws the partners π, the mixed subset and λ (``draw_mixing``);
    the subclass's ``mix_images`` combines x_i with x_π(i) and returns each sample's
    own label weight λ_i; the targets are ``mixed_targets`` with that weight.
    """

    tau_name = "p"
    tau_min = 0.0
    tau_max = 1.0

    def prepare_batch(
        self, model: nn.Module, x: Tensor, y: Tensor, generator: torch.Generator
    ) -> tuple[Tensor, Tensor]:
        draw = draw_mixing(x.shape[0], float(self.tau), generator)
        partner = draw.partner.to(x.device)
        images, weight = self.mix_images(x, partner, draw, generator)
        return images, mixed_targets(y, partner, weight, self.num_classes)

    def mix_images(
        self, x: Tensor, partner: Tensor, draw: MixingDraw, generator: torch.Generator
    ) -> tuple[Tensor, Tensor]:
        """(mixed images, λ_i: the weight of sample i's own label), from ``draw``."""
        raise NotImplementedError


@MECHANISMS.register("mu")
class Mixup(PartnerMixing):
    """MU (p): x̃_i = λ_i x_i + (1 − λ_i) x_π(i) for a random subset of probability p.

    Label mixed with the same λ_i; trained with soft-label cross-entropy.
    """

    label = "MU"

    def mix_images(
        self, x: Tensor, partner: Tensor, draw: MixingDraw, generator: torch.Generator
    ) -> tuple[Tensor, Tensor]:
        weight = draw.weight.to(x)
        images = weight[:, None, None, None] * x + (1 - weight[:, None, None, None]) * x[partner]
        return images, weight
