"""Markdown of the comparison: one table's (``render_comparison_markdown``: what was
compared, per-column ρ, every cell) and the summary over every table
(``render_summary_markdown``).
"""

from __future__ import annotations

import math

import pandas as pd

from transferlab.compare.cells import TableComparison
from transferlab.compare.counterparts import paper_counterpart
from transferlab.compare.summary import comparison_summary
from transferlab.tables.markdown import pipe_table

__all__ = ["render_comparison_markdown", "render_summary_markdown"]


def _markdown(frame: pd.DataFrame, digits: int = 3) -> str:
    """A pipe table; NaN/NA as empty cells."""
    shown = frame.astype(object).where(frame.notna(), "")
    rows = (
        [f"{v:.{digits}f}" if isinstance(v, float) else str(v) for v in row]
        for row in shown.itertuples(index=False)
    )
    return pipe_table(list(frame.columns), rows)


def render_comparison_markdown(table: str, comparison: TableComparison) -> str:
    """Markdown of one table's comparison: what was compared, per-column ρ, every cell."""
    spec = paper_counterpart(table)
    summary = comparison_summary(comparison.columns)
    parts = [f"# {spec.title}: ours vs the paper ({spec.paper}.csv)\n"]
    for line in summary.itertuples(index=False):
        if line.comparison.startswith("ordering only"):
            what = (
                f"**{line.comparison}**: values are not comparable across data sets, only "
                "the order of the surrogate rows within each column is (Spearman ρ)."
            )
        else:
            what = (
                f"**{line.comparison}**: share of cells within 2 published std "
                f"{_fmt(line.share_within_2std)}."
            )
        parts.append(
            f"{what} Mean Spearman ρ over {line.n_columns_with_rho} of {line.n_columns} "
            f"columns: {_fmt(line.mean_spearman)}; {line.n_cells} cells; unit: {spec.unit}."
        )
        if not math.isnan(line.share_same_sign):
            parts.append(f"Cells with the paper's sign: {_fmt(line.share_same_sign)}.")
    for dataset, eps_map in (comparison.budget_map or {}).items():
        pairs = ", ".join(f"ours {o} ↔ paper {p}" for o, p in eps_map.items())
        parts.append(
            f"{dataset} budgets are mapped onto the paper's by position, smallest to smallest "
            f"({pairs}); column eps is the paper's budget, ours_eps ours."
        )
    keys = [*spec.row_keys, *spec.column_keys]
    missing = comparison.cells[comparison.cells["paper_mean"].isna()]
    if len(missing):
        shown = sorted({" / ".join(map(str, k)) for k in missing[keys].itertuples(index=False)})
        parts.append(
            f"The paper prints no number for {len(missing)} of our cells (kept, not compared): "
            + ", ".join(shown[:20])
            + (" …" if len(shown) > 20 else "")
            + "."
        )
    parts.append("\n## Per column\n")
    parts.append(
        "An empty spearman_rho: fewer than two rows, or one side constant across the rows "
        "(every surrogate tied). n_judged: cells with a published std (values comparisons).\n"
    )
    shown = comparison.columns.drop(columns=["table", "paper_dataset", "comparison"])
    parts.append(_markdown(shown))
    parts.append("\n## Cells\n")
    cells = comparison.cells.drop(columns=["table", "paper_dataset", "comparison"])
    parts.append(_markdown(cells))
    return "\n".join(parts)


def _fmt(value: float) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:.2f}"


def render_summary_markdown(summary: pd.DataFrame) -> str:
    """Markdown of ``comparison_summary`` over every compared table."""
    text = (
        "# Comparison with the paper\n\n"
        "One line per table and data set. `values`: our mean ± std against the paper's "
        "on the same data set; share_within_2std = share of cells with |ours − paper| ≤ 2 "
        "published std. `ordering only`: a data set the paper did not use (the embedded "
        "digits default), so only the order of the surrogate rows within each printed "
        "column is compared. mean_spearman: Spearman ρ of our row order vs the paper's, "
        "averaged over the columns where it is defined (1 = same order, 0 = unrelated, "
        "−1 = reversed).\n\n"
    )
    return text + _markdown(summary)
