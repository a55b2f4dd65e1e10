"""Paired two-level bootstrap over surrogate seeds and evaluation images (issue 13).

Every number the pipeline reports about surrogates is a mean over two random
samples: the surrogate *seeds* (one trained model per seed and configuration)
and the evaluation *images*. The seeds and images are crossed, not nested:
every model is evaluated on the same images, and the mechanisms of one
architecture share a seed's data stream. A replicate therefore resamples both
factors independently and *pairs* every comparison (Owen's pigeonhole
bootstrap for crossed designs, Ann. Appl. Stat. 1(1), 2007):

- seeds: counts c = (c_1..c_S) ~ Multinomial(S; 1/S, …, 1/S), one draw shared by
  every mechanism, τ and target (a seed drawn twice counts twice everywhere);
- images: counts d = (d_1..d_N) ~ Multinomial(N; 1/N, …, 1/N), one draw shared by
  every model, target, budget and mode (image i weighs d_i everywhere).

A per-(model, image) value v[m, i] then becomes, in replicate b,

    image mean    v̄[m]^(b)   = Σ_i d_i^(b) v[m, i] / Σ_i d_i^(b)        (``image_means``)
    seed mean     V[k]^(b)   = Σ_s c_s^(b) v̄[k, s]^(b) / Σ_s c_s^(b)    (``seed_means``)

where k is a configuration (mechanism × τ) and s its seeds; missing values (NaN)
drop out of both sums. Statistics are recomputed from these replicate means, so
differences between mechanisms see the same seeds and images (paired) and their
intervals are as narrow as the pairing allows: two identical models differ by
exactly 0 in every replicate.

Replicate arrays carry the observed data as column 0 (all counts 1), then the B
resamples; ``percentile_interval`` uses columns 1..B. The interval is the
*percentile* interval [q_{α/2}, q_{1−α/2}] of the B replicates (Efron & Tibshirani
1993, §13.3), taken as order statistics (lower end rounded down, upper end up, so a
discrete statistic such as a sign count never gets an interpolated end). BCa is not
used: its acceleration needs a jackknife over both crossed factors, which the
two-level design does not define uniquely, and the statistics here are means,
differences and correlations of means over ≥ 100 images, where the percentile
interval is adequate. Resampling both crossed factors is mildly conservative (the
seed × image interaction enters twice; Owen 2007); with very few seeds (2–3)
the seed level is, as any bootstrap with n that small, somewhat anti-conservative.

Randomness: one ``numpy.random.Generator`` (PCG64) seeded from
``SeedSequence([seed, crc32(stream)])`` per independent stream (a data set), so a
data set's intervals do not change when another data set is configured, and the
same (seed, resamples, inputs) reproduce the draws bit for bit. Means of 0/1 outcomes are
exact (float32 sums of integer counts); means of real values (σ, cosines) go through a
float64 BLAS product, whose last bits can depend on the BLAS thread count.

The statistics recomputed per replicate live beside this module: frequency-weighted
Pearson r and OLS R² in ``weighted_statistics``, the ASR tables' cell intervals in
``asr_intervals``.
"""

from __future__ import annotations

import math
import warnings
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "ResampleWeights",
    "check_level",
    "check_resamples",
    "draw_weights",
    "extremum_interval",
    "image_means",
    "order_statistic_quantiles",
    "percentile_interval",
    "seed_means",
    "verdict",
]

DIRECTIONS = ("greater", "less")


@dataclass(frozen=True)
class ResampleWeights:
    """Seed and image counts of the observed data (row 0, all ones) and B replicates.

    ``seeds``: (B+1, S) counts over ``seed_values``; ``images``: (B+1, N) counts over
    ``image_index``. Each replicate row sums to S (resp. N).
    """

    seeds: NDArray[np.float64]
    images: NDArray[np.float64]
    seed_values: tuple[int, ...]
    image_index: NDArray[np.int64]

    @property
    def resamples(self) -> int:
        return self.seeds.shape[0] - 1


def check_resamples(resamples: int, seed: int) -> None:
    """ValueError unless ``resamples`` B is an integer >= 1 and ``seed`` one >= 0."""
    if isinstance(resamples, bool) or not isinstance(resamples, (int, np.integer)):
        raise ValueError(f"resamples must be an integer >= 1; got {resamples!r}")
    if resamples < 1:
        raise ValueError(f"resamples must be >= 1 (the config's claims.resamples); got {resamples}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer (claims.seed); got {seed!r}")


def check_level(level: float) -> None:
    """ValueError unless the interval level is in (0, 1)."""
    if not 0.0 < float(level) < 1.0:
        raise ValueError(f"level must be in (0, 1), e.g. 0.95; got {level!r}")


def draw_weights(
    seed_values: Sequence[int],
    image_index: ArrayLike,
    *,
    resamples: int,
    seed: int,
    stream: str = "",
) -> ResampleWeights:
    """Seed counts c^(b) ~ Mult(S; 1/S) and image counts d^(b) ~ Mult(N; 1/N), b = 1..B.

    Row 0 of both arrays is all ones (the observed data). The generator is
    PCG64 seeded with ``SeedSequence([seed, crc32(stream)])``; seeds are drawn
    before images, so the seed draws do not depend on the number of images.
    """
    check_resamples(resamples, seed)
    seeds = tuple(int(s) for s in seed_values)
    index = np.asarray(image_index, dtype=np.int64)
    if not seeds:
        raise ValueError("draw_weights needs at least one seed")
    if index.ndim != 1 or index.size == 0:
        raise ValueError("draw_weights needs a non-empty 1-D array of image indices")
    rng = np.random.Generator(
        np.random.PCG64(np.random.SeedSequence([int(seed), zlib.crc32(stream.encode())]))
    )
    n_seeds, n_images = len(seeds), len(index)
    seed_counts = rng.multinomial(n_seeds, np.full(n_seeds, 1.0 / n_seeds), size=resamples)
    image_counts = rng.multinomial(n_images, np.full(n_images, 1.0 / n_images), size=resamples)
    return ResampleWeights(
        seeds=np.vstack([np.ones(n_seeds), seed_counts]).astype(np.float64),
        images=np.vstack([np.ones(n_images), image_counts]).astype(np.float64),
        seed_values=seeds,
        image_index=index,
    )


def image_means(values: ArrayLike, weights: NDArray[np.float64]) -> NDArray[np.float64]:
    """Weighted image means v̄^(b) = Σ_i d_i^(b) v_i / Σ_i d_i^(b) for every leading cell.

    ``values``: (..., N) with NaN where a cell lacks image i; ``weights``: (R, N)
    image counts (``ResampleWeights.images``). Returns (..., R); a cell whose drawn
    images are all missing is NaN. Boolean / 0-1 values are summed in float32,
    which is exact for integer counts below 2**24; other values in float64.
    """
    array = np.asarray(values)
    if array.shape[-1] != weights.shape[1]:
        raise ValueError(f"values have {array.shape[-1]} images but the weights {weights.shape[1]}")
    lead = array.shape[:-1]
    flat = array.reshape(-1, array.shape[-1])
    exact = flat.dtype == bool or (
        np.issubdtype(flat.dtype, np.floating)
        and np.all(np.isnan(flat) | (flat == 0.0) | (flat == 1.0))
    )
    dtype = np.float32 if exact else np.float64
    flat = flat.astype(dtype, copy=False)
    present = ~np.isnan(flat)
    w = weights.T.astype(dtype, copy=False)
    numerator = np.where(present, flat, 0).astype(dtype) @ w
    if present.all():
        denominator = np.broadcast_to(weights.sum(axis=1), numerator.shape)
    else:
        denominator = present.astype(dtype) @ w
    with np.errstate(invalid="ignore", divide="ignore"):
        out = numerator.astype(np.float64) / denominator
    return out.reshape(*lead, weights.shape[0])


def seed_means(values: ArrayLike, weights: NDArray[np.float64]) -> NDArray[np.float64]:
    """Weighted seed means V^(b) = Σ_s c_s^(b) v̄_s^(b) / Σ_s c_s^(b) over axis −2.

    ``values``: (..., S, R) replicate image means of each seed (NaN = no model for
    that seed); ``weights``: (R, S) seed counts (``ResampleWeights.seeds``).
    Returns (..., R); NaN where no drawn seed has a model.
    """
    array = np.asarray(values, dtype=np.float64)
    if array.shape[-2:] != (weights.shape[1], weights.shape[0]):
        raise ValueError(
            f"values end in {array.shape[-2:]}; expected (seeds, replicates) = "
            f"({weights.shape[1]}, {weights.shape[0]})"
        )
    present = ~np.isnan(array)
    w = weights.T  # (S, R)
    numerator = np.where(present, array, 0.0) * w
    denominator = present * w
    with np.errstate(invalid="ignore", divide="ignore"):
        return numerator.sum(axis=-2) / denominator.sum(axis=-2)


def order_statistic_quantiles(
    replicates: NDArray[np.float64], low_q: float, high_q: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """NaN-ignoring quantiles ``low_q`` and ``high_q`` over the last axis as order
    statistics (``method="lower"`` / ``"higher"``); NaN for an all-NaN row."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN row gives NaN
        low = np.nanquantile(replicates, low_q, axis=-1, method="lower")
        high = np.nanquantile(replicates, high_q, axis=-1, method="higher")
    return np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)


def percentile_interval(replicates: ArrayLike, level: float = 0.95) -> tuple[float, float]:
    """Percentile interval [q_{α/2}, q_{1−α/2}], α = 1 − level, of replicates 1..B.

    ``replicates``: (B+1,) with the observed statistic in column 0 (ignored here).
    NaN replicates (an undefined statistic) are dropped; all NaN gives (NaN, NaN).
    Ends are order statistics (``method="lower"`` / ``"higher"``).
    """
    check_level(level)
    values = np.asarray(replicates, dtype=np.float64)[1:]
    alpha = 1.0 - level
    low, high = order_statistic_quantiles(values, alpha / 2, 1 - alpha / 2)
    return float(low), float(high)


def extremum_interval(
    members: ArrayLike, kind: str, level: float = 0.95
) -> tuple[float, float, float]:
    """(value, low, high) for T = max_j θ_j (``kind="max"``) or min_j θ_j over m members.

    ``members``: (m, B+1) replicates, column 0 observed. Each member gets a
    Bonferroni percentile interval [L_j, U_j] at level 1 − α/m; with probability
    ≥ 1 − α all θ_j lie in theirs at once, so max_j θ_j ∈ [max_j L_j, max_j U_j]
    (min likewise). This avoids the upward bias of the naive bootstrap of a
    maximum of noisy estimates (a max over m equal effects is positive by
    selection alone). m = 1 is the plain percentile interval. Members whose
    observed value is NaN are skipped.
    """
    check_level(level)
    if kind not in ("max", "min"):
        raise ValueError(f"kind must be 'max' or 'min'; got {kind!r}")
    array = np.atleast_2d(np.asarray(members, dtype=np.float64))
    array = array[~np.isnan(array[:, 0])]
    if array.shape[0] == 0:
        return math.nan, math.nan, math.nan
    alpha = (1.0 - level) / array.shape[0]
    low, high = order_statistic_quantiles(array[:, 1:], alpha / 2, 1 - alpha / 2)
    reduce = np.nanmax if kind == "max" else np.nanmin
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN ends give NaN
        return float(reduce(array[:, 0])), float(reduce(low)), float(reduce(high))


def verdict(low: float, high: float, null: float, direction: str) -> str:
    """``supported`` when [low, high] lies entirely on the claimed side of ``null``,
    ``contradicted`` when entirely on the other side, ``inconclusive`` when it
    contains ``null`` (an end equal to it counts as containing); ``not evaluated``
    for a NaN end. ``direction``: ``greater`` (claim: statistic > null) or ``less``.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}; got {direction!r}")
    if math.isnan(low) or math.isnan(high):
        return "not evaluated"
    above, below = low > null, high < null
    if direction == "greater":
        return "supported" if above else "contradicted" if below else "inconclusive"
    return "supported" if below else "contradicted" if above else "inconclusive"
