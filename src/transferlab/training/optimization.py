"""Stochastic gradient descent with momentum and weight decay (SPEC §4, Table XI).

The update is torch.optim.SGD's with dampening 0: with g = ∇θL + wd·θ,

    b ← g                    (first step)          b ← μ·b + g   (later steps)
    d = g + μ·b  (Nesterov)  or  d = b
    θ ← θ − lr·d

``torch.optim.SGD`` computes exactly this, but constructing any ``torch.optim``
optimizer imports ``torch._dynamo``, whose import time dominated short training
jobs on the embedded default (benchmarks/README.md). This class has the
subset of the optimizer interface training and the mechanisms use:
``param_groups[i]["lr"]``, ``zero_grad``, ``step``, ``state_dict`` and
``load_state_dict``. tests/test_training.py checks it step for step against
``torch.optim.SGD``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import Tensor

STATE_FORMAT = "transferlab-sgd/1"


class SGD:
    """SGD over ``params`` (one parameter group) with momentum μ, weight decay and Nesterov."""

    def __init__(
        self,
        params: Iterable[Tensor],
        *,
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        params = [p for p in params if p.requires_grad]
        if not params:
            raise ValueError("SGD got no parameters that require gradients")
        if lr < 0 or momentum < 0 or weight_decay < 0:
            raise ValueError(
                f"SGD needs lr, momentum, weight_decay >= 0 (got {lr}, {momentum}, {weight_decay})"
            )
        if nesterov and momentum <= 0:
            raise ValueError("Nesterov momentum needs momentum > 0")
        self.params = params
        self.param_groups: list[dict[str, Any]] = [
            {"lr": lr, "momentum": momentum, "weight_decay": weight_decay, "nesterov": nesterov}
        ]
        # one buffer per parameter, None until that parameter's first step
        self.momentum_buffers: list[Tensor | None] = [None] * len(params)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.params:
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.zero_()

    @torch.no_grad()
    def step(self) -> None:
        """One update of every parameter that has a gradient (see the module docstring)."""
        group = self.param_groups[0]
        lr, momentum = float(group["lr"]), float(group["momentum"])
        weight_decay, nesterov = float(group["weight_decay"]), bool(group["nesterov"])
        with_grad = [i for i, p in enumerate(self.params) if p.grad is not None]
        if not with_grad:
            return
        params = [self.params[i] for i in with_grad]
        grads = [self.params[i].grad for i in with_grad]
        if weight_decay != 0:
            grads = torch._foreach_add(grads, params, alpha=weight_decay)
        if momentum != 0:
            buffers = []
            for i, g in zip(with_grad, grads, strict=True):
                buffer = self.momentum_buffers[i]
                if buffer is None:
                    buffer = self.momentum_buffers[i] = g.detach().clone()
                else:
                    buffer.mul_(momentum).add_(g)
                buffers.append(buffer)
            grads = torch._foreach_add(grads, buffers, alpha=momentum) if nesterov else buffers
        torch._foreach_add_(params, grads, alpha=-lr)

    def state_dict(self) -> dict[str, Any]:
        return {
            "format": STATE_FORMAT,
            "param_groups": [dict(group) for group in self.param_groups],
            "momentum_buffers": [
                None if b is None else b.detach().clone() for b in self.momentum_buffers
            ],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
            raise ValueError(f"not a {STATE_FORMAT} optimizer state")
        buffers = state["momentum_buffers"]
        if len(buffers) != len(self.params):
            raise ValueError(
                f"optimizer state holds {len(buffers)} momentum buffers for "
                f"{len(self.params)} parameters"
            )
        self.param_groups = [dict(group) for group in state["param_groups"]]
        self.momentum_buffers = [
            None if b is None else b.to(p.device) for b, p in zip(buffers, self.params, strict=True)
        ]
