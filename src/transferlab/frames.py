"""Checks on the tidy frames stages pass each other, and their row order (torch-free:
aggregation jobs import it)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd


def require_columns(frame: object, columns: Sequence[str], *, name: str) -> None:
    """Raise ValueError naming ``name``, the missing columns and the ones it has, unless
    ``frame`` is a DataFrame holding every one of ``columns``."""
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"{name} must be a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{name} lacks column(s) {missing}; it needs {list(columns)} "
            f"(has {list(frame.columns)})"
        )


def require_unique(frame: pd.DataFrame, keys: Sequence[str], *, name: str, remedy: str) -> None:
    """Raise ValueError unless every row of ``frame`` has its own combination of ``keys``:
    "``name`` has n rows sharing the keys [...], e.g. [first 3 of them]; ``remedy``"."""
    duplicated = frame.duplicated(list(keys), keep=False)
    if duplicated.any():
        example = frame.loc[duplicated, list(keys)].head(3).to_dict("records")
        raise ValueError(
            f"{name} has {int(duplicated.sum())} rows sharing the keys {list(keys)}, "
            f"e.g. {example}; {remedy}"
        )


def ordered_unique(values: pd.Series) -> list:
    """The distinct values of a column in order of first appearance."""
    return list(dict.fromkeys(values.tolist()))
