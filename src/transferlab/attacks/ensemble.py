"""Attacking an LGV collection as an ensemble (SPEC §7 "LGV"; Gubri et al., ECCV 2022).

Every registered attack (PGD, MI, DI, DIM) accepts an ``EnsembleSurrogate`` in
place of a model: ``Attack._iterate`` asks it for the logits of the members
scheduled at each step (``StepwiseSurrogate.step_logits``) and ascends the
mean of their cross-entropies, so the attack loop is the single-model one.

Schedule, as in LGV's reference code (``attack_csgld_pgd_torch.py --shuffle``
with ``utils/attacks.py``'s ``ExtendedProjectedGradientDescentPyTorch``): the
K members are shuffled **once per crafting run** (permutation π, drawn from
the run's seed by ``member_order``; the same π for every batch and every
budget/mode), and attack step t of **every batch** uses members

    S_t = {π[(t·n + j) mod K] : j = 0 … n−1},    n = ``members_per_step``,

so each batch restarts the cycle at π[0] (the reference indexes its models by
the iteration number, ``estimators[i % len(estimators)]``). n = 1 is LGV's
default cycling: one forward and one backward through one member per step,
the cost of a single-model step. With steps < K only the first ``steps``
members of π are used, as in the reference (which does not even load the
others). Two deliberate differences for n > 1: the reference fuses the n
members' *logits* into one CE, here the step loss is the *mean of the n
members' CEs* (SPEC §7 / issue 14); and the reference chunks π into fixed
groups (the last one shorter when n ∤ K), here groups wrap around π, so every
member is used equally often. DI/DIM draw one input transform per step, shared
by that step's members (the reference gives each member its own draw).

The ensemble's prediction (``forward``; used for its clean predictions and
fooling probability) is argmax_k of the members' mean logits,
(1/K) Σ_i f_i(x) — the reference's ``LightNestedEnsemble`` fusion.
Members are held as given (references, never copied or reloaded).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from transferlab.attacks.base import StepwiseSurrogate


def member_order(num_members: int, seed: int) -> list[int]:
    """π: the shuffled cycling order of a K-member collection for crafting seed ``seed``.

    π = torch.randperm(K) from a CPU generator seeded by sha256("lgv-order:{seed}"),
    a stream independent of the attack's per-batch generators.
    """
    if isinstance(num_members, bool) or not isinstance(num_members, int) or num_members < 1:
        raise ValueError(f"num_members={num_members!r} must be a positive integer")
    digest = hashlib.sha256(f"transferlab:lgv-order:{int(seed)}".encode()).digest()
    generator = torch.Generator().manual_seed(int.from_bytes(digest[:8], "little") >> 1)
    return torch.randperm(num_members, generator=generator).tolist()


class EnsembleSurrogate(StepwiseSurrogate):
    """K member models attacked as one surrogate (see the module docstring).

    - ``members``: the K models (eval mode is set by the attack, on all of them).
    - ``order``: π, a permutation of range(K); default the identity (use
      ``member_order(K, seed)`` for LGV's shuffled order).
    - ``members_per_step`` = n in 1 … K: members whose mean CE is each step's loss.

    The surrogate starts in eval mode (all members switched to it) unless every
    member is in train mode.
    """

    def __init__(
        self,
        members: Sequence[nn.Module],
        *,
        order: Sequence[int] | None = None,
        members_per_step: int = 1,
    ) -> None:
        super().__init__()
        if len(members) < 1:
            raise ValueError("an ensemble surrogate needs at least one member model")
        count = len(members)
        if (
            isinstance(members_per_step, bool)
            or not isinstance(members_per_step, int)
            or not 1 <= members_per_step <= count
        ):
            raise ValueError(
                f"members_per_step={members_per_step!r} must be an integer in 1..{count} "
                f"(the collection has {count} members; 1 is LGV's cycling)"
            )
        order = list(range(count)) if order is None else [int(i) for i in order]
        if sorted(order) != list(range(count)):
            raise ValueError(f"order={order} must be a permutation of 0..{count - 1}")
        # ModuleList registers the given modules themselves: nothing is copied.
        self.members = nn.ModuleList(members)
        self.order = order
        self.members_per_step = members_per_step
        # A new Module is in train mode; attacks restore the mode they found, which would
        # then switch eval-mode members to train mode. Start in the members' mode instead.
        self.train(all(member.training for member in self.members))

    def __len__(self) -> int:
        return len(self.members)

    def schedule(self, step: int) -> list[int]:
        """S_t: indices of the members whose mean CE is the loss of attack step ``step``."""
        count, n = len(self.members), self.members_per_step
        return [self.order[(step * n + j) % count] for j in range(n)]

    def step_logits(self, step: int, x: Tensor) -> list[Tensor]:
        return [self.members[i](x) for i in self.schedule(step)]

    def forward(self, x: Tensor) -> Tensor:
        """The ensemble's logits: the mean of every member's logits, (1/K) Σ_i f_i(x)."""
        total = self.members[0](x)
        for member in self.members[1:]:
            total = total + member(x)
        return total / len(self.members)


def collection_surrogate(
    members: Sequence[nn.Module], *, seed: int, members_per_step: int = 1
) -> EnsembleSurrogate:
    """LGV's attack surrogate: ``members`` cycled in the order π = member_order(K, seed)."""
    return EnsembleSurrogate(
        members, order=member_order(len(members), seed), members_per_step=members_per_step
    )
