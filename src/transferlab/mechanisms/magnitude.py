"""Validation of a mechanism's magnitude τ and of its settings (SPEC §4).

The base constructor checks τ (``check_tau``), each mechanism its settings, so a bad
config fails at construction with a message naming the mechanism, the value and the
allowed range, instead of training a meaningless model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Real
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from transferlab.mechanisms.base import Mechanism


def _check_scalar(mechanism: type[Mechanism], name: str, value: object) -> float | int:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"mechanism {mechanism.label}: {name} must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"mechanism {mechanism.label}: {name} must be finite, got {value!r}")
    if not mechanism.tau_min <= number <= mechanism.tau_max:
        raise ValueError(
            f"mechanism {mechanism.label}: {name}={value!r} is outside "
            f"[{mechanism.tau_min}, {mechanism.tau_max}]"
        )
    if mechanism.tau_is_integer:
        if not number.is_integer():
            raise ValueError(
                f"mechanism {mechanism.label}: {name} must be an integer, got {value!r}"
            )
        return int(number)
    return number


def check_tau(mechanism: type[Mechanism], tau: object) -> float | int | tuple[float, float]:
    """Return τ as a number (or a (ρ, λ) pair) after checking it against the class bounds.

    Bounds are the class attributes ``tau_min``/``tau_max`` (inclusive, applied
    to both members of a pair), ``tau_is_integer`` and ``tau_pair``.
    """
    names = mechanism.tau_name
    if mechanism.tau_pair:
        if isinstance(tau, str) or not isinstance(tau, Sequence) or len(tau) != 2:
            raise ValueError(
                f"mechanism {mechanism.label}: tau must be a pair {list(names or ())}, "
                f"e.g. [0.1, 0.05]; got {tau!r}"
            )
        first, second = names if isinstance(names, tuple) else ("tau[0]", "tau[1]")
        return (
            float(_check_scalar(mechanism, first, tau[0])),
            float(_check_scalar(mechanism, second, tau[1])),
        )
    return _check_scalar(mechanism, str(names or "tau"), tau)


def check_choice(
    mechanism: type[Mechanism], name: str, value: object, allowed: Sequence[str]
) -> str:
    """Return ``value`` if it is one of ``allowed``; otherwise raise a ValueError naming them."""
    if value not in allowed:
        raise ValueError(
            f"mechanism {mechanism.label}: setting {name}={value!r}; allowed: {', '.join(allowed)}"
        )
    return str(value)


def check_positive_int(mechanism: type[Mechanism], name: str, value: object) -> int:
    """Return ``value`` if it is an integer ≥ 1; otherwise raise a ValueError."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(
            f"mechanism {mechanism.label}: setting {name} must be an integer >= 1, got {value!r}"
        )
    return value


def check_positive_float(mechanism: type[Mechanism], name: str, value: object) -> float:
    """Return ``value`` as a float if it is a finite number > 0; otherwise raise a ValueError."""
    if (
        isinstance(value, bool)
        or not isinstance(value, Real)
        or not math.isfinite(float(value))
        or value <= 0
    ):
        raise ValueError(
            f"mechanism {mechanism.label}: setting {name} must be a number > 0, got {value!r}"
        )
    return float(value)
