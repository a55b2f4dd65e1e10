"""Gather every surrogate's accuracy, fooling probability, smoothness, similarity and
transfer ASR into the joined table Table VI and Fig. 2 are computed from (SPEC §9).

Inputs are the per-model files the pipeline already wrote: the model record
(test accuracy), the smoothness summary (mean σ), the surrogate→target
similarity table and the transfer summary of one attack.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from transferlab.budget_labels import format_eps
from transferlab.explain.analysis import surrogate_table


def gather_surrogates(
    entries: Sequence[dict[str, Any]], similarity: dict[str, str]
) -> pd.DataFrame:
    """The joined per-surrogate table (``explain.analysis.surrogate_table``) over every data set.

    ``entries``: one per surrogate model with dataset (label), surrogate (row
    label), method (mechanism label), tau_index, tau, seed, record (model JSON),
    summary (smoothness JSON), transfer (summary CSV of one attack).
    ``similarity``: data set label -> surrogate→target similarity CSV.
    """
    accuracy, smoothness, transfer = [], [], []
    for e in entries:
        keys = {k: e[k] for k in ("dataset", "method", "tau_index", "seed")}
        record = json.loads(Path(e["record"]).read_text())
        accuracy.append(
            {
                **keys,
                "surrogate": e["surrogate"],
                "tau": e["tau"],
                "test_acc": record["metrics"]["test_acc"],
            }
        )
        summary = json.loads(Path(e["summary"]).read_text())
        smoothness.append({**keys, "sigma_mean": summary["mean"]})
        frame = pd.read_csv(e["transfer"])
        transfer.append(
            frame.assign(**keys, eps=frame["eps"].map(lambda k: format_eps(k, unit="step")))
        )
    similarity_rows = []
    for dataset, path in similarity.items():
        pairs = pd.read_csv(path)
        similarity_rows.append(
            pd.DataFrame(
                {
                    "dataset": dataset,
                    "method": pairs["source_method"],
                    "tau_index": pairs["source_tau_index"],
                    "seed": pairs["source_seed"],
                    "target": pairs["target_label"],
                    "similarity_mean": pairs["similarity_mean"],
                }
            )
        )
    keys = ["dataset", "method", "tau_index", "seed", "target"]
    # Several target seeds: similarity to a target architecture is their mean.
    similarity_df = (
        pd.concat(similarity_rows, ignore_index=True).groupby(keys, as_index=False).mean()
    )
    return surrogate_table(
        pd.DataFrame(accuracy),
        pd.DataFrame(smoothness),
        similarity_df,
        pd.concat(transfer, ignore_index=True),
    )
