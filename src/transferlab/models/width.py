"""Channel-width multiplier shared by the CIFAR-style families.

The digits default trains ~100 tiny networks on two CPU cores, so every
CIFAR-style family scales its channel counts (and DenseNet its growth rate) by
one float; width 1.0 is the architecture as published.
"""

from __future__ import annotations

import math


def check_width(width: float, arch: str) -> float:
    """Return ``width`` as a float after checking it is finite and positive."""
    if isinstance(width, bool) or not isinstance(width, (int, float)):
        raise ValueError(f"architecture {arch!r}: width must be a number, got {width!r}")
    if not math.isfinite(width) or width <= 0:
        raise ValueError(
            f"architecture {arch!r}: width must be a positive finite multiplier "
            f"(e.g. 1.0, 0.25), got {width!r}"
        )
    return float(width)


def scaled_channels(channels: int, width: float) -> int:
    """Channels at a width multiplier: max(1, round(channels · width))."""
    return max(1, round(channels * width))
