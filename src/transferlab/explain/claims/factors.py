"""Claim C7: smoothness and similarity explain the ASR better than accuracy and FP (Table VI).

The Table VI statistics (``tables.table6``'s Pearson r and OLS R²) on the
resampled per-model means, per (target, budget) cell of the claims' mode;
C7a compares the correlations, C7b the R² of MS + GS with that of all four factors.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from transferlab.explain.claims.replicates import ClaimEvaluator, DatasetReplicates
from transferlab.explain.claims.statistics import (
    ClaimNotEvaluableError,
    Estimate,
    quiet_all_nan_reductions,
    smoothness_scores,
)
from transferlab.explain.weighted_statistics import weighted_pearson, weighted_r_squared

# (r (cells, 4, R), R² (cells, 2, R), note): see _table6
Table6Statistics = tuple[NDArray[np.float64], NDArray[np.float64], str]


def _table6(d: DatasetReplicates) -> Table6Statistics:
    """Per (target, budget) cell of the claims' mode: (r (cells, 4, R), R² (cells, 2, R)).

    r: Pearson r of ASR with Acc, FP, MS, GS; R²: of ASR ~ MS + GS and ASR ~ all
    four, over every surrogate model with frequency weight = its seed's count
    (``tables.table6``'s statistics on the resampled per-model means).
    """
    return d.shared("table6", _table6_statistics)


def _table6_statistics(d: DatasetReplicates) -> Table6Statistics:
    """The Table VI statistics of ``_table6``, computed (once per data set: ``d.shared``)."""
    n_s = len(d.seeds)
    ms_model = smoothness_scores(d.sigma_model)  # (C, S, R)
    r_rows, r2_rows = [], []
    excluded = 0
    for e in d.budgets:
        f = d.fp_cells.index((d.mode, e)) if (d.mode, e) in d.fp_cells else None
        for t in d.targets:
            if f is None or t not in d.gs_targets:
                continue
            k = d.cells.index((d.mode, e, t))
            asr = d.asr_model[:, :, k]
            fp = d.fp_model[:, :, f]
            gs = d.gs_model[:, :, d.gs_targets.index(t)]
            acc = np.broadcast_to(d.acc[:, :, None], asr.shape)
            factors = np.stack([acc, fp, ms_model, gs, asr])  # (5, C, S, R)
            present = np.all(np.isfinite(factors[..., 0]), axis=0)  # (C, S)
            excluded = max(excluded, int((~present & np.isfinite(d.acc)).sum()))
            flat = factors[:, present]  # (5, M, R)
            seed_of = np.nonzero(present)[1]
            w = d.weights.seeds[:, seed_of].T  # (M, R)
            a, fpv, msv, gsv, y = flat
            r_rows.append(np.stack([weighted_pearson(x, y, w) for x in (a, fpv, msv, gsv)]))
            r2_rows.append(
                np.stack(
                    [
                        weighted_r_squared(y, np.stack([msv, gsv], axis=1), w),
                        weighted_r_squared(y, np.stack([a, fpv, msv, gsv], axis=1), w),
                    ]
                )
            )
    if not r_rows:
        raise ClaimNotEvaluableError(
            f"no (target, budget) cell with {d.mode} outcomes and similarities"
        )
    note = f"{len(r_rows)} (target, budget) cells, {d.mode}; models pooled over {n_s} seeds"
    if excluded:
        note += f"; {excluded} models lack a factor and are left out"
    return np.stack(r_rows), np.stack(r2_rows), note


def _c7a(d: DatasetReplicates) -> Estimate:
    """C7a: mean over cells of min(r_MS, r_GS) − max(|r_Acc|, |r_FP|)."""
    r, _, note = _table6(d)
    margin = np.minimum(r[:, 2], r[:, 3]) - np.maximum(np.abs(r[:, 0]), np.abs(r[:, 1]))
    with quiet_all_nan_reductions():
        return d.interval(np.nanmean(margin, axis=0), note)


def _c7b(d: DatasetReplicates) -> Estimate:
    """C7b: mean over cells of R²₁ / R²₂ (ASR ~ MS + GS against ASR ~ Acc + FP + MS + GS)."""
    _, r2, note = _table6(d)
    with np.errstate(invalid="ignore", divide="ignore"), quiet_all_nan_reductions():
        ratio = np.nanmean(r2[:, 0] / r2[:, 1], axis=0)
    return d.interval(ratio, note)


EVALUATORS: dict[str, ClaimEvaluator] = {"C7a": _c7a, "C7b": _c7b}
