"""The joined surrogate table (SPEC §9): one row per surrogate model × target × ε × mode.

Acc, FP, MS (−log10 σ, Definition 1) and GS (Definition 2) next to the model's transfer
ASR, the frame Table VI's statistics (``transferlab.tables.table6``), Fig. 2 and the
claims read.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from transferlab.budget_labels import format_eps
from transferlab.frames import require_columns, require_unique

__all__ = [
    "MODEL_KEYS",
    "smoothness_score",
    "surrogate_table",
]

# One trained surrogate model is identified by these columns in every tidy file.
MODEL_KEYS: tuple[str, ...] = ("dataset", "method", "tau_index", "seed")

SURROGATE_COLUMNS: tuple[str, ...] = (
    "dataset",
    "surrogate",
    "method",
    "tau_index",
    "tau",
    "seed",
    "target",
    "eps",
    "mode",
    "acc",
    "fp",
    "ms_sigma",
    "ms",
    "gs",
    "asr",
)


def smoothness_score(sigma: ArrayLike, *, floor: float | None = None) -> NDArray[np.float64]:
    """The "larger is smoother" model-smoothness score MS = −log10 σ (SPEC §9).

    σ is the (mean) dominant eigenvalue of the input Hessian ∇²ₓℓ (Definition 1,
    SPEC §5); smaller σ means smoother. The paper's Table VI reports positive
    r(MS, ASR) while its figures show smoother surrogates transfer better, so MS
    must enter as a decreasing function of σ. The logarithm is used because σ
    spans orders of magnitude across mechanisms
    and budgets; on a raw −σ scale the roughest surrogate would dominate r.

    σ < 0 raises a ValueError: for cross-entropy on a network that is piecewise
    linear in x the Hessian is PSD, and the estimators report |λ_max|, so a
    negative value is a sign-convention bug upstream. σ = 0 (a model saturated on
    every sample) has no logarithm: it raises unless ``floor`` > 0 is given, in
    which case σ values in [0, floor) are raised to ``floor`` before the log.
    """
    values = np.asarray(sigma, dtype=np.float64)
    if not np.all(np.isfinite(values)):
        raise ValueError(f"sigma must be finite; got {values[~np.isfinite(values)][:5]}")
    if np.any(values < 0):
        raise ValueError(
            f"sigma must be >= 0 (dominant eigenvalue magnitude); got {values[values < 0][:5]}"
        )
    if floor is not None:
        if not floor > 0:
            raise ValueError(f"floor must be > 0; got {floor}")
        values = np.maximum(values, floor)
    elif np.any(values == 0):
        raise ValueError(
            "sigma contains 0, whose log is undefined; pass floor=<tiny positive value> "
            "(e.g. 1e-12) to clip it"
        )
    return -np.log10(values)


def _attach(
    left: pd.DataFrame, right: pd.DataFrame, name: str, keys: Sequence[str]
) -> pd.DataFrame:
    merged = left.merge(right, on=list(keys), how="left", validate="many_to_one", indicator=True)
    unmatched = merged["_merge"] == "left_only"
    if unmatched.any():
        example = merged.loc[unmatched, list(keys)].drop_duplicates().head(5).to_dict("records")
        raise ValueError(
            f"{int(unmatched.sum())} transfer row(s) have no matching row in {name}, e.g. {example}"
        )
    return merged.drop(columns="_merge")


def surrogate_table(
    accuracy_df: pd.DataFrame,
    smoothness_df: pd.DataFrame,
    similarity_df: pd.DataFrame,
    transfer_df: pd.DataFrame,
    *,
    asr_column: str = "asr",
    sigma_floor: float | None = None,
) -> pd.DataFrame:
    """Join the per-model tidy files into one row per surrogate × target × ε × mode (SPEC §9).

    A surrogate model is identified by ``MODEL_KEYS`` = (dataset, method,
    tau_index, seed). Expected inputs (extra columns are ignored):

    - ``accuracy_df``: one row per model; dataset, surrogate (the paper's row
      label, e.g. ``"MU tau=1"``), method, tau_index, tau, seed, test_acc.
    - ``smoothness_df``: one row per model; dataset, method, tau_index, seed,
      sigma_mean (mean dominant input-Hessian eigenvalue σ, Definition 1).
    - ``similarity_df``: one row per model × target; dataset, method,
      tau_index, seed, target, similarity_mean (mean input-gradient cosine to
      that target, Definition 2).
    - ``transfer_df``: one row per model × target × eps × mode; dataset, method,
      tau_index, seed, target, eps (``"8/255"`` or 8/255), mode
      (untargeted|targeted), asr (plain transfer ASR, SPEC §8; ``asr_column``
      picks another, e.g. the Definition-3 one), fp (white-box fooling
      probability on the surrogate at that eps and mode).

    Returns the columns dataset, surrogate, method, tau_index, tau, seed,
    target, eps (fraction string), mode, acc, fp, ms_sigma (raw σ), ms
    (= −log10 σ, ``smoothness_score``), gs and asr, one row per transfer row.
    Missing columns, duplicate keys, transfer rows without a matching model or
    target, and NaN factor values raise a ValueError naming them.
    """
    keys = list(MODEL_KEYS)
    require_columns(accuracy_df, [*keys, "surrogate", "tau", "test_acc"], name="accuracy_df")
    require_columns(smoothness_df, [*keys, "sigma_mean"], name="smoothness_df")
    require_columns(similarity_df, [*keys, "target", "similarity_mean"], name="similarity_df")
    require_columns(
        transfer_df, [*keys, "target", "eps", "mode", asr_column, "fp"], name="transfer_df"
    )

    accuracy = accuracy_df[[*keys, "surrogate", "tau", "test_acc"]].rename(
        columns={"test_acc": "acc"}
    )
    smoothness = smoothness_df[[*keys, "sigma_mean"]].rename(columns={"sigma_mean": "ms_sigma"})
    similarity = similarity_df[[*keys, "target", "similarity_mean"]].rename(
        columns={"similarity_mean": "gs"}
    )
    transfer = transfer_df[[*keys, "target", "eps", "mode", asr_column, "fp"]].rename(
        columns={asr_column: "asr"}
    )
    transfer["eps"] = transfer["eps"].map(format_eps)

    remedy = "filter it to one row per key (one attack, one target model)"
    require_unique(accuracy, keys, name="accuracy_df", remedy=remedy)
    require_unique(smoothness, keys, name="smoothness_df", remedy=remedy)
    require_unique(similarity, [*keys, "target"], name="similarity_df", remedy=remedy)
    require_unique(transfer, [*keys, "target", "eps", "mode"], name="transfer_df", remedy=remedy)

    table = _attach(transfer, accuracy, "accuracy_df", keys)
    table = _attach(table, smoothness, "smoothness_df", keys)
    table = _attach(table, similarity, "similarity_df", [*keys, "target"])

    factors = ["acc", "fp", "ms_sigma", "gs", "asr"]
    nan_rows = table[factors].isna().any(axis=1)
    if nan_rows.any():
        example = table.loc[nan_rows, [*keys, "target", *factors]].head(3).to_dict("records")
        raise ValueError(f"{int(nan_rows.sum())} joined row(s) have NaN factors, e.g. {example}")
    table["ms"] = smoothness_score(table["ms_sigma"].to_numpy(), floor=sigma_floor)
    return table[list(SURROGATE_COLUMNS)].reset_index(drop=True)
