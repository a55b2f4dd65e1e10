"""Bootstrap intervals of the ASR tables' cells (issue 13.4) and the samples behind them.

``asr_table_samples`` reads the per-sample transfer outcomes of one ASR table keyed like
its CSV; ``asr_bootstrap_intervals`` gives each cell's percentile interval of the
mean-over-seeds plain ASR from the paired seed × image draws of ``bootstrap``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from transferlab.budget_labels import format_eps
from transferlab.explain.bootstrap import (
    check_level,
    check_resamples,
    draw_weights,
    image_means,
    order_statistic_quantiles,
    seed_means,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ASR_INTERVAL_KEYS", "asr_bootstrap_intervals", "asr_table_samples"]

# Keys of one ASR-table cell: its interval here, its mean ± std over seeds in tables.asr.
ASR_INTERVAL_KEYS: tuple[str, ...] = ("dataset", "surrogate", "attack", "mode", "eps", "target")


def asr_bootstrap_intervals(
    samples: pd.DataFrame,
    *,
    resamples: int,
    seed: int,
    level: float = 0.95,
    keys: Sequence[str] = ASR_INTERVAL_KEYS,
    value: str = "success_plain",
) -> pd.DataFrame:
    """95 % bootstrap interval of each ASR-table cell's mean-over-seeds plain ASR (issue 13.4).

    ``samples``: one row per (cell keys, seed, index) with ``value`` (0/1 or bool,
    ``success_plain`` of ``transfer.success.per_sample_outcomes``); the cell keys are
    ``keys`` (default dataset, surrogate, attack, mode, eps, target; a missing
    ``dataset`` column is one data set). Per data set, one seed draw and one image
    draw (``draw_weights``, stream = the data set) are shared by every cell, and

        ASR^(b)(cell) = 100 · Σ_s c_s^(b) [Σ_i d_i^(b) x_{cell,s,i} / Σ_i d_i^(b)] / Σ_s c_s^(b),

    the same mean over seeds of the per-seed ASR that ``tables.asr.aggregate_asr``
    reports (at b = 0). Returns one row per cell (order of first appearance):
    the key columns, ``asr_ci_low``, ``asr_ci_high`` (percent, percentile
    interval at ``level``) and ``n_resamples``, to join beside asr_mean/asr_std.
    """
    import pandas as pd

    check_level(level)
    check_resamples(resamples, seed)
    keys = list(keys)
    frame = samples
    if "dataset" in keys and "dataset" not in frame.columns:
        keys = [k for k in keys if k != "dataset"]
    needed = [*keys, "seed", "index", value]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ValueError(
            f"asr_bootstrap_intervals: samples lack column(s) {missing}; need {needed} "
            "(per-sample transfer outcomes with the surrogate row label and seed added)"
        )
    if frame.empty:
        return pd.DataFrame(columns=[*keys, "asr_ci_low", "asr_ci_high", "n_resamples"])
    values = frame[value]
    if values.isna().any():
        raise ValueError(f"asr_bootstrap_intervals: column {value!r} has NaN values")
    datasets = frame["dataset"] if "dataset" in keys else pd.Series("", index=frame.index)
    out = []
    for dataset, part in frame.groupby(datasets, sort=False):
        cells, cell_codes = _codes(part, keys)
        seed_codes, seed_values = pd.factorize(part["seed"], sort=True)
        image_codes, image_values = pd.factorize(part["index"], sort=True)
        cube = np.full((len(cells), len(seed_values), len(image_values)), np.nan)
        flat = cell_codes * len(seed_values) + seed_codes
        duplicated = pd.Series(flat * len(image_values) + image_codes).duplicated()
        if duplicated.any():
            example = part.loc[duplicated.to_numpy(), [*keys, "seed", "index"]].head(3)
            raise ValueError(
                "asr_bootstrap_intervals: several rows share cell, seed and index, e.g. "
                f"{example.to_dict('records')}; pass one attack file per surrogate and seed"
            )
        cube[cell_codes, seed_codes, image_codes] = part[value].to_numpy(dtype=np.float64)
        weights = draw_weights(
            seed_values.tolist(),
            image_values,
            resamples=resamples,
            seed=seed,
            stream=str(dataset),
        )
        replicates = 100.0 * seed_means(image_means(cube, weights.images), weights.seeds)
        alpha = 1.0 - level
        low, high = order_statistic_quantiles(replicates[:, 1:], alpha / 2, 1 - alpha / 2)
        out.append(cells.assign(asr_ci_low=low, asr_ci_high=high, n_resamples=int(resamples)))
    return pd.concat(out, ignore_index=True)


def _codes(frame: pd.DataFrame, keys: list[str]) -> tuple[pd.DataFrame, NDArray[np.int64]]:
    """Unique key rows (order of first appearance) and each row's code into them."""
    grouped = frame.groupby(keys, sort=False, dropna=False)
    codes = grouped.ngroup().to_numpy()
    cells = grouped.size().reset_index()[keys]
    return cells, codes


def asr_table_samples(
    entries: Sequence[dict[str, object]],
    *,
    dataset: str,
    attacks: Sequence[str] | None = None,
    budgets: Sequence[int] | None = None,
) -> pd.DataFrame:
    """The per-sample outcomes behind one ASR table, keyed like its CSV.

    ``entries``: one dict per surrogate row × attack × seed with ``samples`` (the
    ``{attack}.samples.csv.gz`` path), ``surrogate`` (row label) and ``seed`` —
    the workflow's ``asr_table_inputs`` with the samples path beside each CSV.
    Rows are kept for ``attacks`` (lower-case names, as in the files) and
    ``budgets`` (1/255 units) when given. Returns dataset, surrogate, attack
    (upper case), mode, eps (``"k/255"``), target, seed, index, success_plain:
    the keys of ``results/tables/table{2,3,4}.csv``, so
    ``asr_bootstrap_intervals(asr_table_samples(...))`` joins on them.
    """
    import pandas as pd

    frames = []
    columns = ["index", "attack", "mode", "eps", "target", "success_plain"]
    for number, entry in enumerate(entries):
        missing = [k for k in ("samples", "surrogate", "seed") if k not in entry]
        if missing:
            raise ValueError(f"ASR table entry {number} lacks key(s) {missing}")
        frame = pd.read_csv(entry["samples"], usecols=lambda c: c in set(columns))
        absent = [c for c in columns if c not in frame.columns]
        if absent:
            raise ValueError(f"{entry['samples']} lacks column(s) {absent}; needs {columns}")
        if attacks is not None:
            frame = frame[frame["attack"].isin(list(attacks))]
        if budgets is not None:
            frame = frame[frame["eps"].isin([int(b) for b in budgets])]
        frames.append(frame.assign(surrogate=entry["surrogate"], seed=int(entry["seed"])))
    if not frames:
        raise ValueError("asr_table_samples: no entries")
    out = pd.concat(frames, ignore_index=True)
    out = out.assign(
        dataset=dataset,
        attack=out["attack"].str.upper(),
        eps=out["eps"].map(lambda k: format_eps(k, unit="step")),
    )
    return out[[*ASR_INTERVAL_KEYS, "seed", "index", "success_plain"]]
