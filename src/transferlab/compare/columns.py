"""Per-column agreement of our rows with the paper's: Spearman ρ (average ranks) of ours vs
the paper's over the rows of one printed column, with its 2-std and same-sign counts.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["column_agreement"]


def _spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman ρ (Pearson r of average ranks), NaN when undefined."""
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return math.nan
    return float(stats.spearmanr(x, y).statistic)


def column_agreement(cells: pd.DataFrame, column_keys: list[str]) -> pd.DataFrame:
    """Per column: cells, cells judged against 2 published std, cells within, Spearman ρ
    (average ranks) of ours vs paper over the rows where both are defined, its p-value."""
    rows = []
    for column, group in cells.groupby(column_keys, sort=False):
        column = column if isinstance(column, tuple) else (column,)
        usable = group.dropna(subset=["ours_mean", "paper_mean"])
        x, y = usable["ours_mean"].to_numpy(float), usable["paper_mean"].to_numpy(float)
        rho = _spearman(x, y)
        within = group["within_2std"].dropna()
        row = {
            **dict(zip(column_keys, column, strict=True)),
            "n_cells": len(group),
            "n_ranked": len(usable),
            "spearman_rho": rho,
            "p_value": math.nan if math.isnan(rho) else float(stats.spearmanr(x, y).pvalue),
            "n_judged": len(within),
            "n_within_2std": int(within.sum()),
        }
        if "same_sign" in group.columns:
            signs = group["same_sign"].dropna()
            row["n_signed"], row["n_same_sign"] = len(signs), int(signs.sum())
        rows.append(row)
    return pd.DataFrame(rows)
