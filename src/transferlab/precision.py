"""Arithmetic precision of training and attacks: ``fp32`` (default) or ``bf16`` autocast.

``bf16`` runs the forward pass (and hence its backward) of convolutions and
matrix products in bfloat16 under ``torch.autocast``; weights, optimizer state,
losses (autocast keeps cross-entropy and softmax in float32) and the attack's
iterate x_t stay float32. bfloat16 has float32's exponent range, so no loss
scaling is needed (unlike float16).

What stays float32 whatever the setting (measured in docs/scale.md with
benchmarks/bench_gpu.py --precision-report):
- mechanisms whose loss differentiates through a gradient (IR, JR, ER, SAM&IR,
  SAM&JR: ``Mechanism.fp32_only``): a bfloat16 input gradient has ~3 significant
  digits, and their penalty is that gradient's norm;
- model smoothness σ (Def. 1) and gradient similarity (Def. 2): measured, never
  trained, so ``smoothness`` disables autocast explicitly.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

PRECISIONS: tuple[str, ...] = ("fp32", "bf16")
DEFAULT_PRECISION = "fp32"


def check_precision(precision: object, key: str = "precision") -> str:
    """Return ``precision`` if it is one of ``PRECISIONS``; else a ValueError naming ``key``."""
    if precision not in PRECISIONS:
        raise ValueError(f"{key}: {precision!r} is not one of {list(PRECISIONS)} (default fp32)")
    return str(precision)


@contextlib.contextmanager
def autocast(device: torch.device | str, precision: str) -> Iterator[None]:
    """``torch.autocast`` to bfloat16 on ``device``'s type for ``bf16``; nothing for ``fp32``.

    ``fp32`` enters no context at all, so the default path runs exactly the
    operations it ran before precision existed (bit-identical results).
    """
    check_precision(precision)
    if precision == "fp32":
        yield
        return
    with torch.autocast(device_type=torch.device(device).type, dtype=torch.bfloat16):
        yield


@contextlib.contextmanager
def full_precision(device: torch.device | str) -> Iterator[None]:
    """Disable any enclosing autocast: what runs inside computes in float32."""
    with torch.autocast(device_type=torch.device(device).type, enabled=False):
        yield
