"""Our tables next to the paper's published numbers, cell by cell (SPEC §10):
``compare_with_paper`` joins two frames on their keys, ``compare_table`` a whole table of ours
with its counterpart (``TableComparison``: the cells and the per-column agreement).

Two kinds of comparison:

- On the paper's data set (CIFAR-10, ImageNette) values are comparable: a cell "agrees"
  when our mean is within two published standard deviations of the paper's mean
  (|ours − paper| ≤ 2·paper_std; ``compare_with_paper`` joins the cells), and per column
  (e.g. one mode × ε × target) the Spearman rank correlation of the surrogate rows says
  whether the mechanisms are ordered the same way.
- On another data set (the embedded default: scikit-learn digits, tiny models) only the
  ordering is compared: the Spearman correlation per column, and every row says so in its
  ``comparison`` column (``comparison_label``).

Surrogate labels and budgets use the paper CSV conventions (``ST``,
``MU tau=1``, ``SAM&JR``; ``"4/255"``), see ``reference/paper/README.md``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from transferlab.budget_labels import format_eps
from transferlab.compare.columns import column_agreement
from transferlab.compare.counterparts import our_frame, paper_counterpart, paper_frame
from transferlab.frames import require_columns, require_unique

__all__ = [
    "TableComparison",
    "compare_table",
    "compare_with_paper",
    "comparison_label",
]

ALL_TARGETS = "mean over targets"


def _normalized_keys(frame: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """A copy whose ``eps`` key (if any) is the paper's fraction string."""
    frame = frame.copy()
    if "eps" in keys:
        frame["eps"] = frame["eps"].map(format_eps)
    return frame


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
    require_columns(ours, [*keys, value], name="ours")
    require_columns(paper, paper_columns, name="paper")
    ours_norm = _normalized_keys(ours, keys)
    paper_norm = _normalized_keys(paper, keys)
    remedy = "aggregate or filter it to one row per key"
    require_unique(ours_norm, keys, name="ours", remedy=remedy)
    require_unique(paper_norm, keys, name="paper", remedy=remedy)

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


@dataclass(frozen=True)
class TableComparison:
    """``cells``: one row per compared cell; ``columns``: one row per column of the
    printed table with its Spearman ρ over the surrogate rows and the 2-std count."""

    cells: pd.DataFrame
    columns: pd.DataFrame
    budget_map: dict[str, dict[str, str]] | None = None


def comparison_label(dataset: str, paper_dataset: str) -> str:
    """What a comparison can say: values on the paper's data set, else the ordering only."""
    if dataset == paper_dataset:
        return f"values ({dataset} vs paper's {paper_dataset})"
    return f"ordering only ({dataset} vs paper's {paper_dataset})"


def _ranks(cells: pd.DataFrame, column_keys: list[str], value: str) -> pd.Series:
    usable = cells["ours_mean"].notna() & cells["paper_mean"].notna()
    ranks = cells[value].where(usable).groupby([cells[k] for k in column_keys], sort=False)
    return ranks.rank(method="average")


def _split_unmatched(
    mine: pd.DataFrame, theirs: pd.DataFrame, keys: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows of ours the paper prints, rows it does not): a configuration may build rows
    or columns the paper has no numbers for (e.g. Table IV with JR)."""
    ours_keys = _normalized_keys(mine, keys)[keys].astype(str)
    paper_keys = _normalized_keys(theirs, keys)[keys].astype(str).drop_duplicates()
    found = ours_keys.merge(paper_keys, on=keys, how="left", indicator=True)["_merge"]
    in_paper = (found == "both").to_numpy()
    return mine[in_paper], mine[~in_paper]


def compare_table(
    table: str,
    ours: pd.DataFrame,
    rows: Mapping[str, Mapping[str, str]] | None = None,
    budgets: Mapping[str, Mapping[str, str]] | None = None,
) -> TableComparison:
    """Compare one of our tables (``table2`` … ``table12``) with the paper's (SPEC §10).

    ``ours`` is the tidy CSV the workflow wrote. ``rows`` maps, per data-set label,
    our row labels onto the paper's (e.g. the last τ of a shorter grid → ``tau=5``);
    our rows it does not list are left out (Table XII's targets and off-table τ).
    ``budgets`` maps, per data-set label, our ε labels onto the paper's
    (``budget_map``: by position); the cells keep ours in ``ours_eps``.

    Per data set of ours: on a paper data set, values are compared — diff =
    ours − paper and within_2std = |diff| ≤ 2·paper_std (NA without a published
    std). On any other data set only orderings are: diff and within_2std stay
    empty and every row says "ordering only" in ``comparison``; targets the paper
    does not have are averaged away on both sides (target = "mean over targets").
    Both ways, ours_rank/paper_rank are the average ranks of the rows within their
    column and ``columns`` holds Spearman ρ = Pearson r of those ranks. Cells the
    paper does not print (a configured surrogate or target training it lacks) are
    kept with empty paper values: ``n_cells`` counts them, ``n_ranked`` does not.
    """
    spec = paper_counterpart(table)
    row_keys, column_keys = list(spec.row_keys), list(spec.column_keys)
    tidy, paper = our_frame(table, ours), paper_frame(table)
    cell_parts, column_parts = [], []
    used_maps: dict[str, dict[str, str]] = {}
    for dataset, mine in tidy.groupby("dataset", sort=False):
        same = dataset in spec.datasets
        paper_dataset = dataset if same else spec.datasets[0]
        theirs = paper[paper["dataset"] == paper_dataset].drop(columns="dataset")
        mine = mine.drop(columns="dataset")
        if rows is not None and dataset in rows:
            mapping = rows[dataset]
            mine = mine[mine[row_keys[0]].isin(list(mapping))]
            mine = mine.assign(**{row_keys[0]: mine[row_keys[0]].map(mapping)})
        if mine.empty:
            raise ValueError(
                f"{table}: no rows of {dataset} left to compare; check the row mapping"
            )
        eps_map = dict((budgets or {}).get(dataset) or {})
        eps_map = {o: p for o, p in eps_map.items() if o != p}
        if eps_map and "eps" in mine.columns:
            mine = mine.assign(eps=mine["eps"].astype(str).replace(eps_map))
            used_maps[dataset] = eps_map
        target_keys = [k for k in (*row_keys, *column_keys) if k == "target"]
        if not same and target_keys and not set(mine["target"]) <= set(theirs["target"]):
            keys = [k for k in (*row_keys, *column_keys) if k != "target"]
            mine, theirs = (
                f.groupby(keys, sort=False, as_index=False)[["mean", "std"]]
                .mean()
                .assign(target=ALL_TARGETS, std=math.nan)
                for f in (mine, theirs)
            )
        keys = [*row_keys, *column_keys]
        mine, unmatched = _split_unmatched(mine, theirs, keys)
        cells = compare_with_paper(mine, theirs, keys, value="mean", std="std", complete=False)
        if len(unmatched):
            extra = (
                unmatched[keys]
                .astype(str)
                .assign(
                    ours_mean=unmatched["mean"].astype(float),
                    ours_std=unmatched["std"].astype(float),
                    paper_mean=math.nan,
                    paper_std=math.nan,
                    diff=math.nan,
                )
            )
            cells = pd.concat([cells, extra], ignore_index=True)
        cells = cells.assign(
            within_2std=cells["within_2std"].astype("boolean").mask(cells["ours_mean"].isna())
        )
        if not same:
            cells = cells.assign(diff=math.nan, within_2std=pd.NA).astype(
                {"within_2std": "boolean"}
            )
        cells["ours_rank"] = _ranks(cells, column_keys, "ours_mean")
        cells["paper_rank"] = _ranks(cells, column_keys, "paper_mean")
        if spec.signs:
            defined = cells["ours_mean"].notna() & cells["paper_mean"].notna()
            same_sign = np.sign(cells["ours_mean"]) == np.sign(cells["paper_mean"])
            cells["same_sign"] = same_sign.astype("boolean").mask(~defined)
        if dataset in used_maps:
            inverse = {p: o for o, p in used_maps[dataset].items()}
            ours_eps = cells["eps"].map(inverse).fillna(cells["eps"])
            cells.insert(cells.columns.get_loc("eps") + 1, "ours_eps", ours_eps)
        label = comparison_label(dataset, paper_dataset)
        header = {"table": table, "dataset": dataset, "paper_dataset": paper_dataset}
        header["comparison"] = label
        columns = column_agreement(cells, column_keys)
        cell_parts.append(cells.assign(**header)[[*header, *cells.columns]])
        column_parts.append(columns.assign(**header)[[*header, *columns.columns]])
    return TableComparison(
        pd.concat(cell_parts, ignore_index=True),
        pd.concat(column_parts, ignore_index=True),
        used_maps or None,
    )
