"""Table XII: clean train/test accuracy and generalization gap of every trained model.

Every table carries a ``dataset`` column holding the data set's label
(``Digits``, ``CIFAR-10``, ``ImageNette``) so a digits table is never mistaken
for the paper's.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from transferlab.tables.over_seeds import mean_std, render_mean_std_markdown


def table12(rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """Table XII: clean train/test accuracy and generalization gap, in percent.

    ``rows``: one dict per trained model with keys dataset, model (row label),
    role (surrogate|target), arch, method, tau_index, tau, seed, train_acc and
    test_acc (fractions). gen_gap = train_acc − test_acc per model, then
    mean ± std over seeds.
    """
    df = pd.DataFrame(list(rows))
    if df.empty:
        raise ValueError("table12: no trained models given")
    df["tau"] = df["tau"].map(lambda t: "" if t is None else str(t))
    for col in ("train_acc", "test_acc"):
        df[col] = 100.0 * df[col]
    df["gen_gap"] = df["train_acc"] - df["test_acc"]
    keys = ["dataset", "model", "role", "arch", "method", "tau_index", "tau"]
    return mean_std(df, keys, ["train_acc", "test_acc", "gen_gap"]).round(4)


def read_table12_rows(entries: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """``table12``'s rows from model records: each entry {record (JSON path), model (row
    label), role, arch} with the record's data set label, mechanism, seed and accuracies."""
    rows = []
    for entry in entries:
        record = json.loads(Path(entry["record"]).read_text())
        rows.append(
            {
                "dataset": record["dataset"]["label"],
                "model": entry["model"],
                "role": entry["role"],
                "arch": entry["arch"],
                "method": record["mechanism"]["name"],
                "tau_index": record["mechanism"]["tau_index"],
                "tau": record["mechanism"].get("tau"),
                "seed": record["seed"],
                "train_acc": record["metrics"]["train_acc"],
                "test_acc": record["metrics"]["test_acc"],
            }
        )
    return rows


def render_table12_markdown(table: pd.DataFrame) -> str:
    text = "# Table XII: clean accuracy (%) and generalization gap, mean±std over seeds\n\n"
    return text + render_mean_std_markdown(
        table, ["dataset", "model"], ["train_acc", "test_acc", "gen_gap"]
    )
