"""Our tables next to the paper's published numbers (SPEC §10).

Two kinds of comparison:

- ``compare_with_paper`` + ``summarize_comparison``: same dataset and setup
  (CIFAR-10, ImageNette), so values are comparable. A cell "agrees" when our
  mean is within two published standard deviations of the paper's mean
  (|ours − paper| ≤ 2·paper_std), and per column (e.g. one mode × ε × target)
  the Spearman rank correlation of the surrogate rows says whether the
  mechanisms are ordered the same way.
- ``compare_orderings``: the embedded default (scikit-learn digits, tiny
  models) cannot reproduce CIFAR-10 numbers, only their ordering. It reports
  the Spearman correlation of surrogate rows per column and nothing else, and
  every row says so in its ``comparison`` column.

Surrogate labels and budgets use the paper CSV conventions (``ST``,
``MU tau=1``, ``SAM&JR``; ``"4/255"``), see ``reference/paper/README.md``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from transferlab.analysis import format_eps

__all__ = [
    "ComparisonSummary",
    "DIGITS_ORDERING_LABEL",
    "compare_orderings",
    "compare_with_paper",
    "summarize_comparison",
]

DIGITS_ORDERING_LABEL = "ordering only (digits vs paper's CIFAR-10)"


def _require_columns(frame: pd.DataFrame, name: str, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} is missing column(s) {missing}; it has {list(frame.columns)}")


def _normalized_keys(frame: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """A copy whose ``eps`` key (if any) is the paper's fraction string."""
    frame = frame.copy()
    if "eps" in keys:
        frame["eps"] = frame["eps"].map(format_eps)
    return frame


def _require_unique(frame: pd.DataFrame, name: str, keys: Sequence[str]) -> None:
    duplicated = frame.duplicated(list(keys), keep=False)
    if duplicated.any():
        example = frame.loc[duplicated, list(keys)].head(3).to_dict("records")
        raise ValueError(
            f"{name} has {int(duplicated.sum())} rows sharing the keys {list(keys)}, "
            f"e.g. {example}; aggregate or filter it to one row per key"
        )


def _key_records(frame: pd.DataFrame, keys: Sequence[str], limit: int = 5) -> list[dict]:
    return frame[list(keys)].head(limit).to_dict("records")


def compare_with_paper(
    ours: pd.DataFrame,
    paper: pd.DataFrame,
    keys: list[str],
    value: str = "asr_mean",
    std: str | None = "asr_std",
    *,
    complete: bool = True,
) -> pd.DataFrame:
    """Join our mean ± std with the paper's on ``keys`` (SPEC §10).

    Both frames hold one row per key combination (e.g. surrogate, mode, eps,
    target for Table II) with columns ``value`` and ``std``; an ``eps`` key may
    be a number or ``"k/255"`` and is normalized to the fraction string. If
    ``ours`` lacks the ``std`` column (a single seed) ours_std is NaN;
    ``std=None`` compares means only (tables printed without error bars).

    Returns ``keys`` + ours_mean, ours_std, paper_mean, paper_std,
    diff = ours_mean − paper_mean and within_2std = |diff| ≤ 2·paper_std
    (nullable boolean, NA where the paper has no std), in the paper's row order.
    Key columns come back as text (the paper's labels are text).

    Every row of ``ours`` must match a paper row; with ``complete=True``
    (default) every paper row must also be matched. Otherwise a ValueError lists
    the unmatched keys (a misspelt surrogate label or target name shows up here).
    """
    if not keys:
        raise ValueError("keys must name at least one column, e.g. ['surrogate', 'eps']")
    paper_columns = [*keys, value] + ([std] if std is not None else [])
    _require_columns(ours, "ours", [*keys, value])
    _require_columns(paper, "paper", paper_columns)
    ours_norm = _normalized_keys(ours, keys)
    paper_norm = _normalized_keys(paper, keys)
    _require_unique(ours_norm, "ours", keys)
    _require_unique(paper_norm, "paper", keys)

    ours_part = pd.DataFrame({k: ours_norm[k] for k in keys})
    ours_part["ours_mean"] = ours_norm[value].astype(float)
    has_std = std is not None and std in ours_norm.columns
    ours_part["ours_std"] = ours_norm[std].astype(float) if has_std else math.nan
    paper_part = pd.DataFrame({k: paper_norm[k] for k in keys})
    paper_part["paper_mean"] = paper_norm[value].astype(float)
    paper_part["paper_std"] = paper_norm[std].astype(float) if std is not None else math.nan

    # Compare keys as text so 1 and "1" or int/str dtypes cannot silently miss.
    for part in (ours_part, paper_part):
        for k in keys:
            part[k] = part[k].astype(str)
    # Left joins keep the paper's row order (an outer join would sort the keys).
    joined = paper_part.merge(ours_part, on=keys, how="left", indicator=True)
    paper_only = joined[joined["_merge"] == "left_only"]
    ours_check = ours_part[keys].merge(paper_part[keys], on=keys, how="left", indicator=True)
    ours_only = ours_check[ours_check["_merge"] == "left_only"]
    problems = []
    if len(ours_only):
        problems.append(
            f"{len(ours_only)} of our row(s) have no paper row, e.g. "
            f"{_key_records(ours_only, keys)}"
        )
    if complete and len(paper_only):
        problems.append(
            f"{len(paper_only)} paper row(s) have no row of ours, e.g. "
            f"{_key_records(paper_only, keys)} (pass complete=False to compare a subset)"
        )
    if problems:
        raise ValueError("key mismatch between ours and paper: " + "; ".join(problems))

    joined = joined[joined["_merge"] == "both"].drop(columns="_merge").reset_index(drop=True)
    joined["diff"] = joined["ours_mean"] - joined["paper_mean"]
    within = joined["diff"].abs() <= 2.0 * joined["paper_std"]
    joined["within_2std"] = within.astype("boolean").mask(joined["paper_std"].isna())
    return joined[
        [*keys, "ours_mean", "ours_std", "paper_mean", "paper_std", "diff", "within_2std"]
    ]


def _spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman ρ (Pearson r of average ranks), NaN when undefined."""
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return math.nan
    return float(stats.spearmanr(x, y).statistic)


@dataclass(frozen=True)
class ComparisonSummary:
    """Agreement of a ``compare_with_paper`` join with the paper.

    ``per_column`` has one row per column (``column_keys``) with n_cells,
    share_within_2std and spearman_rho over the surrogate rows of that column.
    """

    n_cells: int
    share_within_2std: float
    mean_spearman: float
    per_column: pd.DataFrame

    def as_dict(self) -> dict[str, object]:
        return {
            "n_cells": self.n_cells,
            "share_within_2std": self.share_within_2std,
            "mean_spearman": self.mean_spearman,
            "per_column": self.per_column.to_dict("records"),
        }


def summarize_comparison(joined: pd.DataFrame, column_keys: Sequence[str]) -> ComparisonSummary:
    """Share of cells within 2 published std, and per-column Spearman ρ (SPEC §10).

    ``joined`` is the output of ``compare_with_paper``. A column is one value of
    ``column_keys`` (e.g. mode, eps, target); its rows are the surrogates.

    - share_within_2std = #{|diff| ≤ 2·paper_std} / #{cells with a paper std}.
    - spearman_rho per column: ρ = 1 − 6 Σ d² / (n(n² − 1)) without ties (d:
      rank differences of ours_mean and paper_mean), the Pearson r of average
      ranks with ties; NaN when a column has < 2 rows or is constant.
    - mean_spearman: mean ρ over the columns where it is defined.
    """
    column_keys = list(column_keys)
    _require_columns(joined, "joined", [*column_keys, "ours_mean", "paper_mean", "within_2std"])
    if joined.empty:
        raise ValueError("joined is empty; nothing to summarize")
    rows = []
    for column, group in joined.groupby(column_keys, sort=False):
        column = column if isinstance(column, tuple) else (column,)
        within = group["within_2std"].dropna()
        rows.append(
            {
                **dict(zip(column_keys, column, strict=True)),
                "n_cells": len(group),
                "share_within_2std": float(within.mean()) if len(within) else math.nan,
                "spearman_rho": _spearman(
                    group["ours_mean"].to_numpy(float), group["paper_mean"].to_numpy(float)
                ),
            }
        )
    per_column = pd.DataFrame(rows)
    within_all = joined["within_2std"].dropna()
    rho = per_column["spearman_rho"]
    return ComparisonSummary(
        n_cells=len(joined),
        share_within_2std=float(within_all.mean()) if len(within_all) else math.nan,
        mean_spearman=float(rho.mean()) if rho.notna().any() else math.nan,
        per_column=per_column,
    )


def compare_orderings(
    ours: pd.DataFrame,
    paper: pd.DataFrame,
    column_keys: Sequence[str],
    *,
    row_key: str = "surrogate",
    value: str = "asr_mean",
    rename: Mapping[str, Mapping[object, object]] | None = None,
    average_over: Sequence[str] = (),
    label: str = DIGITS_ORDERING_LABEL,
) -> pd.DataFrame:
    """Spearman ρ of surrogate rows against the paper's, per column only (SPEC §10).

    For setups whose values are not comparable with the paper (the embedded
    digits default against CIFAR-10) only the ordering of the mechanisms is.
    Per column (one value of ``column_keys``), over the ``row_key`` labels
    present in both frames: ρ = Spearman correlation of ``value`` (average ranks
    for ties), with its two-sided p-value.

    ``rename`` maps our key values onto the paper's, per key column (e.g.
    ``{"target": {"mlp": "VGG16"}}``). ``average_over`` lists key columns
    averaged away on both sides first (e.g. ``["target"]`` when our targets are
    not the paper's architectures); they must not be in ``column_keys``.

    Our row labels must all exist in the paper (ValueError listing the unknown
    ones); paper rows we did not train are skipped, and n says how many rows
    each ρ used. Every output row carries ``comparison=label``.
    """
    column_keys = list(column_keys)
    average_over = list(average_over)
    overlap = set(column_keys) & set(average_over) | {row_key} & set(average_over)
    if overlap:
        raise ValueError(f"average_over {sorted(overlap)} must not be a column or row key")
    needed = [row_key, *column_keys, *average_over, value]
    _require_columns(ours, "ours", needed)
    _require_columns(paper, "paper", needed)

    frames = []
    for name, frame in (("ours", ours), ("paper", paper)):
        frame = _normalized_keys(frame[needed], [*column_keys, *average_over])
        if name == "ours" and rename:
            unknown = [k for k in rename if k not in needed[:-1]]
            if unknown:
                raise ValueError(f"rename names column(s) {unknown} that are not keys")
            for column, mapping in rename.items():
                frame[column] = frame[column].map(lambda v, m=mapping: m.get(v, v))
        for k in needed[:-1]:
            frame[k] = frame[k].astype(str)
        if average_over:
            frame = frame.groupby([row_key, *column_keys], sort=False, as_index=False)[value].mean()
        _require_unique(frame, name, [row_key, *column_keys])
        frames.append(frame)
    ours_frame, paper_frame = frames

    unknown_rows = sorted(set(ours_frame[row_key]) - set(paper_frame[row_key]))
    if unknown_rows:
        raise ValueError(
            f"our {row_key} label(s) {unknown_rows} are not in the paper table; "
            f"paper labels: {sorted(set(paper_frame[row_key]))}"
        )
    joined = paper_frame.merge(
        ours_frame, on=[row_key, *column_keys], suffixes=("_paper", "_ours"), sort=False
    )
    if joined.empty:
        raise ValueError(
            f"no column of ours matches the paper on {column_keys}; "
            "map our names with rename= or average them away with average_over="
        )
    rows = []
    for column, group in joined.groupby(column_keys, sort=False):
        column = column if isinstance(column, tuple) else (column,)
        x = group[f"{value}_ours"].to_numpy(float)
        y = group[f"{value}_paper"].to_numpy(float)
        rho = _spearman(x, y)
        p_value = math.nan if math.isnan(rho) else float(stats.spearmanr(x, y).pvalue)
        rows.append(
            {
                **dict(zip(column_keys, column, strict=True)),
                "n": len(group),
                "spearman_rho": rho,
                "p_value": p_value,
                "comparison": label,
            }
        )
    return pd.DataFrame(rows)
