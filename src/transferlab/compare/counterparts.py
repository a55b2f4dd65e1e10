"""Which paper table each of ours lines up with (``PAPER_COUNTERPARTS``), and both sides in
one tidy layout: ``paper_frame`` (the published CSV) and ``our_frame`` (the CSV a rule wrote),
with columns dataset, row keys, column keys, mean, std. ``budget_map`` pairs our ε labels
with the paper's by position.

Surrogate labels and budgets use the paper CSV conventions (``ST``,
``MU tau=1``, ``SAM&JR``; ``"4/255"``), see ``reference/paper/README.md``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from transferlab.budget_labels import format_eps
from transferlab.frames import require_columns

__all__ = [
    "PAPER_COUNTERPARTS",
    "PaperCounterpart",
    "budget_map",
    "our_frame",
    "paper_counterpart",
    "paper_frame",
]


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

_TABLE12_STATISTICS = ("train_acc", "test_acc", "gen_gap")


def paper_counterpart(table: str) -> PaperCounterpart:
    """The ``PAPER_COUNTERPARTS`` entry of ``table``; a ValueError lists the comparable tables."""
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
    paper = paper_table(paper_counterpart("table8").paper)["target_training"]
    theirs = sorted({t for t in paper if str(t).startswith(at)}, key=eps_of)
    ours = sorted({t for t in frame["target_training"] if str(t).startswith(at)}, key=eps_of)
    return dict(zip(ours, theirs, strict=False))


def paper_frame(table: str) -> pd.DataFrame:
    """The paper's numbers for ``table`` as tidy rows: dataset, row and column keys, mean, std
    (std NaN where the paper prints none)."""
    from transferlab.compare.reference import paper_table

    spec = paper_counterpart(table)
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
    spec = paper_counterpart(table)
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


def _eps_value(label: str) -> float:
    numerator, _, denominator = str(label).partition("/")
    return float(numerator) / float(denominator or 1)


def budget_map(table: str, budgets: Sequence[int]) -> dict[str, str]:
    """Our ε labels → the paper's, by position: the smallest of ours is compared with the
    paper's smallest, and so on (a data set's budgets need not be the paper's: a 16-px
    digit needs larger ones than a 32-px CIFAR-10 image). Budgets beyond the paper's
    count map to nothing (kept, not compared)."""
    from transferlab.compare.reference import paper_table

    paper = sorted(
        {str(e) for e in paper_table(paper_counterpart(table).paper)["eps"]}, key=_eps_value
    )
    ours = [format_eps(b, unit="step") for b in sorted(budgets)]
    return dict(zip(ours, paper, strict=False))
