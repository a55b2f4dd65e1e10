"""Our tables next to the paper's published numbers (SPEC §10).

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
from scipy import stats

from transferlab.budget_labels import format_eps
from transferlab.frames import require_columns, require_unique
from transferlab.tables.markdown import pipe_table

__all__ = [
    "PAPER_COUNTERPARTS",
    "PaperCounterpart",
    "TableComparison",
    "compare_table",
    "compare_with_paper",
    "comparison_summary",
    "paper_frame",
    "our_frame",
    "render_comparison_markdown",
    "render_summary_markdown",
]


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


def _spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman ρ (Pearson r of average ranks), NaN when undefined."""
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return math.nan
    return float(stats.spearmanr(x, y).statistic)


# ---------------------------------------------------------------- whole tables (the DAG)


@dataclass(frozen=True)
class PaperCounterpart:
    """How one table we build lines up with the paper's published CSV.

    ``row_keys`` name the rows a Spearman ρ ranks (the surrogates), and
    ``column_keys`` one column of the printed table (e.g. mode × ε × target).
    ``datasets`` are the paper data sets the CSV covers; the first one is the
    reference for a table built on another data set (digits → CIFAR-10, whose
    architectures the embedded default shrinks). ``signs`` adds a same-sign
    check per cell (correlations, whose sign is the paper's claim).
    """

    title: str
    paper: str
    datasets: tuple[str, ...]
    row_keys: tuple[str, ...]
    column_keys: tuple[str, ...]
    unit: str
    signs: bool = False


PAPER_COUNTERPARTS: dict[str, PaperCounterpart] = {
    "table2": PaperCounterpart(
        "Table II",
        "table2_cifar10_pgd",
        ("CIFAR-10",),
        ("surrogate",),
        ("mode", "eps", "target"),
        "ASR %",
    ),
    "table3": PaperCounterpart(
        "Table III",
        "table3_imagenette_pgd",
        ("ImageNette",),
        ("surrogate",),
        ("mode", "eps", "target"),
        "ASR %",
    ),
    "table4": PaperCounterpart(
        "Table IV",
        "table4_cifar10_mi_dim",
        ("CIFAR-10",),
        ("surrogate", "attack"),
        ("mode", "eps", "target"),
        "ASR %",
    ),
    "table5": PaperCounterpart(
        "Table V",
        "table5_cifar10_lgv",
        ("CIFAR-10",),
        ("surrogate", "lgv"),
        ("mode", "eps", "target"),
        "ASR %",
    ),
    "table13": PaperCounterpart(
        "Table XIII",
        "table13_autoattack",
        ("CIFAR-10", "ImageNette"),
        ("surrogate",),
        ("eps", "target"),
        "ASR %",
    ),
    "table7": PaperCounterpart(
        "Table VII",
        "table7_cifar10_similarity",
        ("CIFAR-10",),
        ("surrogate",),
        ("target_training",),
        "cosine similarity (ST row + increment)",
    ),
    "table8": PaperCounterpart(
        "Table VIII",
        "table8_cifar10_dprime_targets",
        ("CIFAR-10",),
        ("surrogate",),
        ("target_training", "mode"),
        "ASR %",
    ),
    "table12": PaperCounterpart(
        "Table XII", "table12_accuracy", ("CIFAR-10", "ImageNette"), ("model",), ("statistic",), "%"
    ),
    "table6": PaperCounterpart(
        "Table VI",
        "table6_correlation",
        ("CIFAR-10", "ImageNette"),
        ("target", "eps"),
        ("statistic",),
        "r or R²",
        signs=True,
    ),
}

TIDY_COLUMNS = ("dataset", "mean", "std")
ALL_TARGETS = "mean over targets"
_TABLE12_STATISTICS = ("train_acc", "test_acc", "gen_gap")


def _counterpart(table: str) -> PaperCounterpart:
    try:
        return PAPER_COUNTERPARTS[table]
    except KeyError:
        raise ValueError(
            f"no paper counterpart for {table!r}; "
            f"comparable tables: {', '.join(PAPER_COUNTERPARTS)}"
        ) from None


def _absolute_similarity(frame: pd.DataFrame, value: str) -> pd.Series:
    """Table VII cells as absolute similarities: the reference row (is_increment false)
    as printed, every other cell = reference value of its column + printed increment.
    Ranking these per column ranks the increments with the reference at 0."""
    increment = frame["is_increment"].astype(str).str.lower() == "true"
    keys = ["dataset", "target_training"]
    reference = frame.loc[~increment, [*keys, value]].rename(columns={value: "_reference"})
    if reference.duplicated(keys).any() or reference.empty:
        raise ValueError(
            "Table VII needs exactly one reference row (is_increment false) per column"
        )
    merged = frame[keys].merge(reference, on=keys, how="left")
    if merged["_reference"].isna().any():
        raise ValueError("Table VII has increments in a column without a reference value")
    base = merged["_reference"].to_numpy(float)
    values = frame[value].to_numpy(float)
    return pd.Series(np.where(increment.to_numpy(), base + values, values), index=frame.index)


def _at_columns_by_position(frame: pd.DataFrame) -> dict[str, str]:
    """Table VIII's AT targets → the paper's labels by position, smallest ε first (its AT
    columns are ε = 0.01 and 0.05; a data set's own AT grid need not hold those values)."""
    from transferlab.compare.reference import paper_table

    def eps_of(label: str) -> float:
        return float(label.split("eps=")[1])

    at = "AT eps="
    paper = paper_table(_counterpart("table8").paper)["target_training"]
    theirs = sorted({t for t in paper if str(t).startswith(at)}, key=eps_of)
    ours = sorted({t for t in frame["target_training"] if str(t).startswith(at)}, key=eps_of)
    return dict(zip(ours, theirs, strict=False))


def paper_frame(table: str) -> pd.DataFrame:
    """The paper's numbers for ``table`` as tidy rows: dataset, row and column keys, mean, std
    (std NaN where the paper prints none)."""
    from transferlab.compare.reference import paper_table

    spec = _counterpart(table)
    frame = paper_table(spec.paper)
    if "dataset" not in frame.columns:
        frame.insert(0, "dataset", spec.datasets[0])
    if table == "table12":
        frame = frame.melt(
            id_vars=["dataset", "model"],
            value_vars=list(_TABLE12_STATISTICS),
            var_name="statistic",
            value_name="mean",
        )
    elif table == "table7":
        frame = frame.assign(mean=_absolute_similarity(frame, "value"))
    elif "asr_mean" in frame.columns:
        frame = frame.rename(columns={"asr_mean": "mean", "asr_std": "std"})
    elif table == "table8":
        frame = frame.rename(columns={"asr": "mean"})
    else:
        frame = frame.rename(columns={"value": "mean"})
    if "std" not in frame.columns:
        frame["std"] = math.nan
    return frame[["dataset", *spec.row_keys, *spec.column_keys, "mean", "std"]]


def our_frame(table: str, ours: pd.DataFrame) -> pd.DataFrame:
    """Our table (the CSV a rule wrote) in the tidy layout of ``paper_frame``."""
    spec = _counterpart(table)
    frame = ours.copy()
    if table == "table12":
        if "role" in frame.columns:
            frame = frame[frame["role"] == "surrogate"]
        require_columns(frame, ["dataset", "model", "train_acc_mean"], name="table12")
        parts = [
            frame[["dataset", "model"]].assign(
                statistic=name, mean=frame[f"{name}_mean"], std=frame[f"{name}_std"]
            )
            for name in _TABLE12_STATISTICS
        ]
        frame = pd.concat(parts, ignore_index=True)
    elif table == "table7":
        require_columns(
            frame, ["dataset", "target_training", "value", "is_increment"], name="table7"
        )
        frame = frame.assign(mean=_absolute_similarity(frame, "value"), std=math.nan)
    elif "asr_mean" in frame.columns:
        frame = frame.rename(columns={"asr_mean": "mean", "asr_std": "std"})
    else:
        frame = frame.rename(columns={"value": "mean"})
        frame["std"] = math.nan
    if table in ("table2", "table3") and "attack" in frame.columns:
        frame = frame[frame["attack"].astype(str).str.upper() == "PGD"]  # the paper's attack
    if table == "table4":
        frame["attack"] = frame["attack"].str.upper()
    if table == "table8":
        frame["target_training"] = frame["target_training"].replace(_at_columns_by_position(frame))
    columns = ["dataset", *spec.row_keys, *spec.column_keys, "mean", "std"]
    require_columns(frame, columns, name=table)
    return frame[columns].reset_index(drop=True)


@dataclass(frozen=True)
class TableComparison:
    """``cells``: one row per compared cell; ``columns``: one row per column of the
    printed table with its Spearman ρ over the surrogate rows and the 2-std count."""

    cells: pd.DataFrame
    columns: pd.DataFrame
    budget_map: dict[str, dict[str, str]] | None = None


def _eps_value(label: str) -> float:
    numerator, _, denominator = str(label).partition("/")
    return float(numerator) / float(denominator or 1)


def budget_map(table: str, budgets: Sequence[int]) -> dict[str, str]:
    """Our ε labels → the paper's, by position: the smallest of ours is compared with the
    paper's smallest, and so on (a data set's budgets need not be the paper's: a 16-px
    digit needs larger ones than a 32-px CIFAR-10 image). Budgets beyond the paper's
    count map to nothing (kept, not compared)."""
    from transferlab.compare.reference import paper_table

    paper = sorted({str(e) for e in paper_table(_counterpart(table).paper)["eps"]}, key=_eps_value)
    ours = [format_eps(b, unit="step") for b in sorted(budgets)]
    return dict(zip(ours, paper, strict=False))


def comparison_label(dataset: str, paper_dataset: str) -> str:
    """What a comparison can say: values on the paper's data set, else the ordering only."""
    if dataset == paper_dataset:
        return f"values ({dataset} vs paper's {paper_dataset})"
    return f"ordering only ({dataset} vs paper's {paper_dataset})"


def _ranks(cells: pd.DataFrame, column_keys: list[str], value: str) -> pd.Series:
    usable = cells["ours_mean"].notna() & cells["paper_mean"].notna()
    ranks = cells[value].where(usable).groupby([cells[k] for k in column_keys], sort=False)
    return ranks.rank(method="average")


def _column_agreement(cells: pd.DataFrame, column_keys: list[str]) -> pd.DataFrame:
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
    spec = _counterpart(table)
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
        columns = _column_agreement(cells, column_keys)
        cell_parts.append(cells.assign(**header)[[*header, *cells.columns]])
        column_parts.append(columns.assign(**header)[[*header, *columns.columns]])
    return TableComparison(
        pd.concat(cell_parts, ignore_index=True),
        pd.concat(column_parts, ignore_index=True),
        used_maps or None,
    )


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
    spec = _counterpart(table)
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
