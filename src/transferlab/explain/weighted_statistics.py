"""Frequency-weighted Pearson r and OLS R² per bootstrap replicate (issue 13).

In a replicate of the paired two-level bootstrap (``bootstrap``) a model whose seed is
drawn twice counts twice: the statistics here take (M, R) arrays, models × replicates,
with those counts as weights, and equal the unweighted statistic on duplicated rows.
Undefined values are NaN, as in ``tables.table6``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["weighted_pearson", "weighted_r_squared"]


def _weighted_moments(
    values: NDArray[np.float64], weights: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    total = weights.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (weights * values).sum(axis=0) / total
    return mean, total


def _constant(values: NDArray[np.float64], weights: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Per replicate: every row with positive weight has the same value (ptp = 0)."""
    used = weights > 0
    high = np.where(used, values, -np.inf).max(axis=0)
    low = np.where(used, values, np.inf).min(axis=0)
    return ~(high > low)


def weighted_pearson(x: ArrayLike, y: ArrayLike, weights: ArrayLike) -> NDArray[np.float64]:
    """Frequency-weighted Pearson r per replicate (columns), as on duplicated rows.

    r = Σ w (x − x̄_w)(y − ȳ_w) / √(Σ w (x − x̄_w)² · Σ w (y − ȳ_w)²), x̄_w = Σ w x / Σ w,
    over the rows (models) of (M, R) arrays; a model drawn twice (its seed drawn
    twice) has w = 2. NaN where fewer than 3 models have w > 0 or x or y is
    constant over them (``tables.table6``'s conventions).
    """
    xa, ya, wa = (np.asarray(a, dtype=np.float64) for a in (x, y, weights))
    mx, _ = _weighted_moments(xa, wa)
    my, _ = _weighted_moments(ya, wa)
    dx, dy = xa - mx, ya - my
    cov = (wa * dx * dy).sum(axis=0)
    var = (wa * dx * dx).sum(axis=0) * (wa * dy * dy).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.clip(cov / np.sqrt(var), -1.0, 1.0)
    undefined = ((wa > 0).sum(axis=0) < 3) | _constant(xa, wa) | _constant(ya, wa)
    return np.where(undefined, np.nan, r)


def weighted_r_squared(
    y: ArrayLike, regressors: ArrayLike, weights: ArrayLike
) -> NDArray[np.float64]:
    """Frequency-weighted OLS R² of y ~ 1 + x_1 + … + x_k per replicate (columns).

    With centred weighted cross-products S_xx = Σ w (x − x̄)(x − x̄)ᵀ, S_xy = Σ w (x − x̄)(y − ȳ)
    and S_yy = Σ w (y − ȳ)²: R² = 1 − SS_res/SS_tot = S_xyᵀ S_xx⁺ S_xy / S_yy, the
    pseudo-inverse (after scaling each regressor to unit S_xx diagonal) giving the
    least-squares fit of a collinear design, as statsmodels' default does.
    ``y``: (M, R); ``regressors``: (M, k, R); ``weights``: (M, R). NaN where at most
    k + 1 models have w > 0 or y is constant (``tables.table6``'s conventions).
    """
    ya = np.asarray(y, dtype=np.float64)
    xa = np.asarray(regressors, dtype=np.float64)
    wa = np.asarray(weights, dtype=np.float64)
    k = xa.shape[1]
    my, total = _weighted_moments(ya, wa)
    with np.errstate(invalid="ignore", divide="ignore"):
        mx = (wa[:, None, :] * xa).sum(axis=0) / total
    dy, dx = ya - my, xa - mx
    sxx = np.einsum("mr,mir,mjr->rij", wa, dx, dx)
    sxy = np.einsum("mr,mir,mr->ri", wa, dx, dy)
    syy = (wa * dy * dy).sum(axis=0)
    scale = np.sqrt(np.einsum("rii->ri", sxx))
    scale = np.where(scale > 0, scale, 1.0)
    sxx = sxx / (scale[:, :, None] * scale[:, None, :])
    sxy = sxy / scale
    beta = np.einsum("rij,rj->ri", np.linalg.pinv(sxx), sxy)
    with np.errstate(invalid="ignore", divide="ignore"):
        r2 = np.clip((sxy * beta).sum(axis=1) / syy, 0.0, 1.0)
    undefined = ((wa > 0).sum(axis=0) <= k + 1) | _constant(ya, wa)
    return np.where(undefined, np.nan, r2)
