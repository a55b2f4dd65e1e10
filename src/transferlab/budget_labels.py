"""L∞ budget labels: the paper's fraction strings ``"k/255"`` (torch-free).

A budget is a whole number k of 8-bit steps, ε = k/255 in [0,1] pixel units;
every table, file key and comparison with the paper's CSVs spells it ``"k/255"``.
"""

from __future__ import annotations

import math
import re
from typing import Literal

__all__ = ["format_eps"]

_EPS_FRACTION = re.compile(r"^\s*(\d+)\s*/\s*255\s*$")
# How far 255·ε may lie from a whole number k and still be read as k steps.
_GRID_TOLERANCE = 1e-6


def format_eps(
    eps: object,
    *,
    unit: Literal["pixel", "step"] = "pixel",
    off_grid: Literal["raise", "general"] = "raise",
) -> str:
    """The L∞ budget as the paper's fraction string ``"k/255"``.

    ``unit="pixel"``: ``eps`` is ε in [0,1] pixel units and k = 255·ε (8/255 or
    0.0314… → ``"8/255"``); ``unit="step"``: ``eps`` is k itself, in 1/255 steps
    (8 → ``"8/255"``). Strings already of the form ``"k/255"`` are normalized
    (spaces removed); numeric strings are read as numbers.

    k must be whole to within 1e-6. Otherwise ``off_grid="raise"`` (|k − round(k)|
    > 1e-6, or k not finite) raises a ValueError saying so (the paper's budgets are
    all k/255), while ``off_grid="general"`` (|k − round(k)| ≥ 1e-6) returns
    ``f"{eps:g}"``: table headers label whatever budget a table holds.
    """
    if isinstance(eps, str):
        match = _EPS_FRACTION.match(eps)
        if match:
            return f"{int(match.group(1))}/255"
        try:
            value = float(eps)
        except ValueError:
            raise ValueError(f"eps {eps!r} is neither a fraction 'k/255' nor a number") from None
    else:
        value = float(eps)  # type: ignore[arg-type]
    steps = value * 255.0 if unit == "pixel" else value
    if off_grid == "general":
        # NaN and ±inf raise in round(), as they did where table headers were labelled.
        on_grid = abs(steps - round(steps)) < _GRID_TOLERANCE
        return f"{round(steps)}/255" if on_grid else f"{value:g}"
    if not math.isfinite(steps) or abs(steps - round(steps)) > _GRID_TOLERANCE:
        what = "a multiple of 1/255" if unit == "pixel" else "a whole number of 1/255 steps"
        raise ValueError(f"eps {eps!r} is not {what}; pass budgets as 'k/255' or k/255")
    return f"{round(steps)}/255"
