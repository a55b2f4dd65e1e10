"""The paper's published numbers (SPEC §10), shipped as package data.

``paper/`` holds the tidy CSV files of every table of "Why Does Little
Robustness Help?" (IEEE S&P 2024), copied unchanged from the project's shared
reference folder; ``paper/README.md`` documents each file, its columns and the
suspicious cells kept as printed.
"""

from __future__ import annotations

from importlib import resources

import pandas as pd

__all__ = ["paper_table", "paper_table_names"]


def paper_table_names() -> list[str]:
    """Names (file stems, e.g. ``table2_cifar10_pgd``) of all published tables."""
    folder = resources.files(__name__).joinpath("paper")
    return sorted(
        entry.name.removesuffix(".csv") for entry in folder.iterdir() if entry.name.endswith(".csv")
    )


def paper_table(name: str) -> pd.DataFrame:
    """Load one published table as a DataFrame.

    ``name`` is a file stem (``"table2_cifar10_pgd"``), optionally with ``.csv``,
    or an unambiguous prefix ending at a word boundary (``"table2"``). Budgets stay
    fraction strings (``"4/255"``) so they join with our tidy tables; ASR values
    are percent, exactly as printed.
    """
    stem = name.removesuffix(".csv")
    names = paper_table_names()
    if stem in names:
        match = stem
    else:
        candidates = [n for n in names if n.startswith(stem + "_")]
        if len(candidates) != 1:
            problem = "is ambiguous" if candidates else "is unknown"
            shown = candidates or names
            raise ValueError(f"paper table {name!r} {problem}; use one of: {', '.join(shown)}")
        match = candidates[0]
    path = resources.files(__name__).joinpath("paper", f"{match}.csv")
    with resources.as_file(path) as csv_path:
        # Keep every label column (eps "4/255", tau labels, dataset names) as text.
        return pd.read_csv(csv_path, keep_default_na=False, na_values=[""])
