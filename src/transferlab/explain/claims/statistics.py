"""A claim's statistic per bootstrap replicate and its interval (``transferlab.explain.bootstrap``).

Every statistic is an array over the replicate axis R = B+1: replicate 0 is the
point estimate (the data as observed), replicates 1..B are the bootstrap draws.
``interval_estimate`` gives the percentile interval of one statistic,
``extremum_estimate`` the Bonferroni interval of a maximum or minimum over
several members (``explain.bootstrap.extremum_interval``).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from transferlab.explain.analysis import smoothness_score
from transferlab.explain.bootstrap import extremum_interval, percentile_interval

# σ in [0, SIGMA_FLOOR) is raised to it: a model saturated on every image (σ = 0) still
# gets a finite MS.
SIGMA_FLOOR = 1e-12


class ClaimNotEvaluableError(Exception):
    """A claim cannot be evaluated on this configuration; the message says why."""


@dataclass
class Estimate:
    """A claim's statistic: point value, interval [low, high], replicates and a note."""

    value: float
    low: float
    high: float
    replicates: NDArray[np.float64]  # (B+1,) the statistic per replicate (for se)
    note: str = ""


@contextmanager
def quiet_all_nan_reductions() -> Iterator[None]:
    """Ignore RuntimeWarnings inside: NumPy warns when a NaN-aware mean, max or min meets a
    slice that is all NaN (a model, cell or replicate without data), and the claims want
    exactly that NaN (it becomes "undefined" or "not evaluated")."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def interval_estimate(replicates: NDArray[np.float64], level: float, note: str = "") -> Estimate:
    """The statistic ``replicates`` (R,) with its ``level`` percentile interval."""
    low, high = percentile_interval(replicates, level)
    return Estimate(float(replicates[0]), low, high, replicates, undefined_note(replicates, note))


def extremum_estimate(
    members: NDArray[np.float64], kind: str, level: float, note: str = ""
) -> Estimate:
    """max (``kind`` "max") or min over the members (M, R), with its Bonferroni interval."""
    value, low, high = extremum_interval(members, kind, level)
    with quiet_all_nan_reductions():
        series = np.nanmax(members, axis=0) if kind == "max" else np.nanmin(members, axis=0)
    return Estimate(value, low, high, series, undefined_note(series, note))


def undefined_note(replicates: NDArray[np.float64], note: str) -> str:
    """``note``, plus how many bootstrap replicates are NaN when the point value is not."""
    bad = int(np.isnan(replicates[1:]).sum())
    if bad and not np.isnan(replicates[0]):
        extra = f"{bad} of {len(replicates) - 1} replicates undefined (dropped)"
        return f"{note}; {extra}" if note else extra
    return note


def smoothness_scores(sigma: NDArray[np.float64]) -> NDArray[np.float64]:
    """MS = −log10 max(σ, SIGMA_FLOOR) elementwise (``explain.analysis.smoothness_score``);
    NaN stays."""
    out = np.full(sigma.shape, np.nan)
    finite = np.isfinite(sigma)
    out[finite] = smoothness_score(sigma[finite], floor=SIGMA_FLOOR)
    return out
