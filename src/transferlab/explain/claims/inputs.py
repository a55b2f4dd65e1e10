"""The claims' inputs: the per-sample files of every surrogate, read and column-checked.

``claims_inputs`` reads what the pipeline wrote (model records, per-sample
transfer outcomes, σ and similarities) into ``ClaimsInputs``, whose frames are
checked for their columns when it is built.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from transferlab.frames import require_columns

_MODEL_COLUMNS = ("dataset", "surrogate", "method", "tau_index", "tau", "seed", "test_acc")
_TRANSFER_COLUMNS = (
    "dataset", "method", "tau_index", "seed", "mode", "eps", "target", "index", "y",
    "success_plain", "surrogate_success",
)  # fmt: skip
_SMOOTHNESS_COLUMNS = ("dataset", "method", "tau_index", "seed", "index", "y", "sigma")
_SIMILARITY_COLUMNS = ("dataset", "method", "tau_index", "seed", "target", "index", "similarity")
_TABLE7_COLUMNS = (
    "dataset", "source_label", "source_method", "source_seed", "target_label", "index",
    "similarity",
)  # fmt: skip


@dataclass(frozen=True)
class ClaimsInputs:
    """Tidy per-sample frames the claims are computed from (one ``dataset`` column each).

    - ``models``: one row per surrogate model: dataset, surrogate (row label),
      method (mechanism label: ST, MU, …, SAM&JR), tau_index, tau, seed, test_acc
      (fraction), table_row (its Tables II–IV row label, or None).
    - ``transfer``: one row per model × mode × eps (1/255 units) × target × image
      index: y, success_plain, surrogate_success (the surrogate's own success:
      fooled when untargeted, hit when targeted).
    - ``smoothness``: one row per model × image: index, y, sigma (Definition 1).
    - ``similarity``: one row per model × target (architecture label) × image:
      similarity (Definition 2), already averaged over the target's seeds.
    - ``table7``: one row per Table VII pair × image: source_label,
      source_method, source_seed, target_label (target training), index,
      similarity (averaged over target seeds); may be empty.
    """

    models: pd.DataFrame
    transfer: pd.DataFrame
    smoothness: pd.DataFrame
    similarity: pd.DataFrame
    table7: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=_TABLE7_COLUMNS))

    def __post_init__(self) -> None:
        require_columns(self.models, _MODEL_COLUMNS, name="ClaimsInputs.models")
        require_columns(self.transfer, _TRANSFER_COLUMNS, name="ClaimsInputs.transfer")
        require_columns(self.smoothness, _SMOOTHNESS_COLUMNS, name="ClaimsInputs.smoothness")
        require_columns(self.similarity, _SIMILARITY_COLUMNS, name="ClaimsInputs.similarity")
        require_columns(self.table7, _TABLE7_COLUMNS, name="ClaimsInputs.table7")
        keys = ["dataset", "method", "tau_index", "seed"]
        duplicated = self.models.duplicated(keys, keep=False)
        if duplicated.any():
            example = self.models.loc[duplicated, keys].head(3).to_dict("records")
            raise ValueError(f"ClaimsInputs.models lists a model twice, e.g. {example}")


_ENTRY_KEYS = ("dataset", "surrogate", "method", "tau_index", "tau", "seed", "record",
               "smoothness", "transfer_samples")  # fmt: skip


def _read_csv(path: str | Path, what: str, columns: Sequence[str]) -> pd.DataFrame:
    """``columns`` of the CSV at ``path``; a ValueError naming ``what`` when one is missing."""
    frame = pd.read_csv(path, usecols=lambda c: c in set(columns))
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{path} ({what}) lacks column(s) {missing}; it needs {list(columns)}")
    return frame


def _stacked(frames: Sequence[pd.DataFrame], columns: Sequence[str]) -> pd.DataFrame:
    """The frames one below the other (a fresh index), or an empty frame with ``columns``."""
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def claims_inputs(
    entries: Sequence[Mapping[str, Any]],
    similarity: Mapping[str, Mapping[str, str | Path]],
) -> ClaimsInputs:
    """Read the per-sample files of every surrogate into ``ClaimsInputs``.

    ``entries``: one dict per surrogate model with dataset (label), surrogate
    (row label), method (mechanism label), tau_index, tau, seed, record (model
    JSON: ``metrics.test_acc``), smoothness (per-sample σ CSV: index, y, sigma),
    transfer_samples (``{attack}.samples.csv.gz`` of PGD: index, y, mode, eps,
    target, success_plain, surrogate_fooled, surrogate_hit) and optionally
    table_row (the model's Tables II–IV row label; absent or null when it is not
    a table row). ``similarity``: data set label → {"targets": targets.samples
    CSV, "table7": table7.samples CSV (optional)}; rows of surrogates not in
    ``entries`` are ignored, a target's seeds are averaged per image.
    """
    models, transfer, smoothness = [], [], []
    for number, entry in enumerate(entries):
        missing = [k for k in _ENTRY_KEYS if k not in entry]
        if missing:
            raise ValueError(
                f"claims entry {number} lacks key(s) {missing}; each needs {list(_ENTRY_KEYS)}"
            )
        keys = {k: entry[k] for k in ("dataset", "method", "tau_index", "seed")}
        record = json.loads(Path(entry["record"]).read_text())
        try:
            test_acc = float(record["metrics"]["test_acc"])
        except (KeyError, TypeError):
            raise ValueError(
                f"{entry['record']}: no metrics.test_acc in the model record"
            ) from None
        models.append(
            {
                **keys,
                "surrogate": entry["surrogate"],
                "tau": entry["tau"],
                "test_acc": test_acc,
                "table_row": entry.get("table_row"),
            }
        )
        samples = _read_csv(
            entry["transfer_samples"],
            "per-sample transfer outcomes",
            ["index", "y", "mode", "eps", "target", "success_plain", "surrogate_fooled",
             "surrogate_hit"],
        )  # fmt: skip
        targeted = samples["mode"].to_numpy() == "targeted"
        samples["surrogate_success"] = np.where(
            targeted,
            samples["surrogate_hit"].astype(bool),
            samples["surrogate_fooled"].astype(bool),
        )
        transfer.append(samples.drop(columns=["surrogate_fooled", "surrogate_hit"]).assign(**keys))
        sigma = _read_csv(entry["smoothness"], "per-sample smoothness", ["index", "y", "sigma"])
        smoothness.append(sigma.assign(**keys))
    similarity_rows, table7_rows = [], []
    for dataset, paths in similarity.items():
        if paths.get("targets"):
            pairs = _read_csv(
                paths["targets"],
                "surrogate→target similarity samples",
                ["index", "similarity", "source_method", "source_tau_index", "source_seed",
                 "target_label"],
            )  # fmt: skip
            similarity_rows.append(
                pairs.rename(
                    columns={
                        "source_method": "method",
                        "source_tau_index": "tau_index",
                        "source_seed": "seed",
                        "target_label": "target",
                    }
                )
                .groupby(["method", "tau_index", "seed", "target", "index"], as_index=False)[
                    "similarity"
                ]
                .mean()
                .assign(dataset=dataset)
            )
        if paths.get("table7"):
            pairs = _read_csv(
                paths["table7"],
                "Table VII similarity samples",
                ["index", "similarity", "source_label", "source_method", "source_seed",
                 "target_label"],
            )  # fmt: skip
            keys = ["source_label", "source_method", "source_seed", "target_label", "index"]
            table7_rows.append(
                pairs.groupby(keys, as_index=False, sort=False)["similarity"]
                .mean()
                .assign(dataset=dataset)
            )
    models_df = pd.DataFrame(models, columns=[*_MODEL_COLUMNS, "table_row"])
    known = models_df[["dataset", "method", "tau_index", "seed"]]
    similarity_df = (
        pd.concat(similarity_rows, ignore_index=True).merge(known, how="inner")
        if similarity_rows
        else pd.DataFrame(columns=_SIMILARITY_COLUMNS)
    )
    return ClaimsInputs(
        models=models_df,
        transfer=_stacked(transfer, _TRANSFER_COLUMNS),
        smoothness=_stacked(smoothness, _SMOOTHNESS_COLUMNS),
        similarity=similarity_df,
        table7=_stacked(table7_rows, _TABLE7_COLUMNS),
    )
