"""One summary line per compared (table, data set) from the per-column agreement frames."""

from __future__ import annotations

import math

import pandas as pd

from transferlab.frames import require_columns

__all__ = ["comparison_summary"]


def comparison_summary(columns: pd.DataFrame) -> pd.DataFrame:
    """One summary line per (table, dataset) from ``TableComparison.columns`` frames.

    share_within_2std = Σ n_within_2std / Σ n_judged (NaN where nothing could be
    judged: no published std, or an ordering-only comparison); mean_spearman =
    mean ρ over the columns where ρ is defined (≥ 2 rows, neither side constant);
    share_same_sign likewise from the sign counts where a table has them.
    """
    require_columns(columns, ["table", "dataset", "n_cells", "spearman_rho"], name="columns")
    lines = []
    for (table, dataset), group in columns.groupby(["table", "dataset"], sort=False):
        rho = group["spearman_rho"].dropna()
        judged = int(group["n_judged"].sum())
        line = {
            "table": table,
            "dataset": dataset,
            "paper_dataset": group["paper_dataset"].iloc[0],
            "comparison": group["comparison"].iloc[0],
            "n_cells": int(group["n_cells"].sum()),
            "n_columns": len(group),
            "n_columns_with_rho": len(rho),
            "share_within_2std": (
                int(group["n_within_2std"].sum()) / judged if judged else math.nan
            ),
            "mean_spearman": float(rho.mean()) if len(rho) else math.nan,
            "min_spearman": float(rho.min()) if len(rho) else math.nan,
            "max_spearman": float(rho.max()) if len(rho) else math.nan,
            "share_same_sign": math.nan,
        }
        if "n_signed" in group.columns and group["n_signed"].notna().any():
            signed = int(group["n_signed"].sum())
            if signed:
                line["share_same_sign"] = int(group["n_same_sign"].sum()) / signed
        lines.append(line)
    return pd.DataFrame(lines)
