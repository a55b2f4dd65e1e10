"""The one mean ± std over seeds of the tidy tables and figures (ddof = 1, 0 for one seed)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from transferlab.tables.markdown import pipe_table


def mean_std(
    df: pd.DataFrame,
    keys: Sequence[str],
    values: Sequence[str],
    *,
    drop_nan_keys: bool = False,
) -> pd.DataFrame:
    """Per group: ``<v>_mean`` and sample standard deviation ``<v>_std`` (ddof=1; 0 for one
    seed, where it is undefined; ``n_seeds`` says how many rows), in the groups' first-seen
    order. Rows with a NaN key form groups of their own, or with ``drop_nan_keys`` are
    left out (pandas' default, which the figures use)."""
    grouped = df.groupby(list(keys), sort=False, dropna=drop_nan_keys)
    out = grouped[list(values)].agg(["mean", "std"])
    out.columns = [f"{v}_{stat}" for v, stat in out.columns]
    out = out.fillna({f"{v}_std": 0.0 for v in values})
    out["n_seeds"] = grouped.size()
    return out.reset_index()


def render_mean_std_markdown(
    df: pd.DataFrame, row_keys: Sequence[str], values: Sequence[str], digits: int = 2
) -> str:
    """A Markdown table with one ``mean±std`` cell per value column."""
    rows = []
    for _, row in df.iterrows():
        cells = [str(row[k]) for k in row_keys]
        cells += [f"{row[f'{v}_mean']:.{digits}f}±{row[f'{v}_std']:.{digits}f}" for v in values]
        rows.append(cells)
    return pipe_table([*row_keys, *values], rows)
