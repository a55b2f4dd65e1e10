"""Surrogate-side factors against transfer ASR: the statistics of Table VI (SPEC §9).

For every (dataset, target, ε) the paper pools all surrogate models (every
mechanism × τ × seed) and reports Pearson r of ASR with four surrogate-side
factors, plus the OLS R² of two linear models:

- Acc: the surrogate's clean test accuracy;
- FP: its fooling probability, the white-box success rate of the AEs on the
  surrogate itself (SPEC §8);
- MS: model smoothness, entered as the "larger is smoother" score −log10 σ of
  the mean dominant input-Hessian eigenvalue σ (Definition 1, SPEC §5);
- GS: the mean input-gradient cosine similarity to that target (Definition 2,
  SPEC §6).

The paper does not say which attack mode Table VI pools (neither the caption
nor Sec. 6 Q1 mentions it). Its theory (Sec. 3) is worked out "for untargeted
attacks as an example", so ``table6`` defaults to ``mode="untargeted"``; pass
``mode="targeted"`` for the other half.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
import statsmodels.api as sm
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from transferlab.budget_labels import format_eps
from transferlab.frames import require_columns, require_unique

__all__ = [
    "MODEL_KEYS",
    "TABLE6_STATISTICS",
    "smoothness_score",
    "surrogate_table",
    "table6",
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

# Statistic names and order as in the paper's tidy table6_correlation.csv.
TABLE6_STATISTICS: tuple[str, ...] = (
    "r_acc_asr",
    "r_fp_asr",
    "r_ms_asr",
    "r_gs_asr",
    "r2_ms_gs",
    "r2_all",
)
_PEARSON_FACTORS = {"r_acc_asr": "acc", "r_fp_asr": "fp", "r_ms_asr": "ms", "r_gs_asr": "gs"}
_OLS_MODELS = {"r2_ms_gs": ("ms", "gs"), "r2_all": ("acc", "fp", "ms", "gs")}


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


def _is_constant(values: NDArray[np.float64]) -> bool:
    return bool(np.ptp(values) == 0.0)


def _pearson(x: NDArray[np.float64], y: NDArray[np.float64]) -> tuple[float, float, str]:
    """Pearson r and its two-sided t-test p-value, or NaN with the reason."""
    if len(x) < 3:
        return math.nan, math.nan, f"r needs at least 3 surrogates; got {len(x)}"
    if _is_constant(x) or _is_constant(y):
        return math.nan, math.nan, "r undefined: a column is constant across surrogates"
    result = stats.pearsonr(x, y)
    return float(result.statistic), float(result.pvalue), ""


def _ols_r2(y: NDArray[np.float64], regressors: NDArray[np.float64]) -> tuple[float, float, str]:
    """R² of y ~ 1 + regressors by OLS and the F-test p-value, or NaN with the reason."""
    n, k = regressors.shape
    if n <= k + 1:
        return math.nan, math.nan, f"R² needs more than {k + 1} surrogates; got {n}"
    if _is_constant(y):
        return math.nan, math.nan, "R² undefined: ASR is constant across surrogates"
    design = sm.add_constant(regressors, has_constant="add")
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        # A perfect fit (R² = 1) makes F infinite and collinear regressors make the
        # design singular; R² of the least-squares (pseudo-inverse) fit is still
        # well defined, and the note below records the rank deficiency.
        warnings.simplefilter("ignore")
        fit = sm.OLS(y, design).fit()
        r2, p_value = float(fit.rsquared), float(fit.f_pvalue)
    rank = int(np.linalg.matrix_rank(design))
    note = ""
    if rank < k + 1:
        note = f"regressors are collinear or constant (design rank {rank} < {k + 1})"
    return r2, p_value, note


def table6(surrogates_df: pd.DataFrame, mode: str = "untargeted") -> pd.DataFrame:
    """Table VI: Pearson r and OLS R² of surrogate-side factors against ASR (SPEC §9).

    For each (dataset, target, eps), over all rows of ``surrogates_df`` (the
    output of ``surrogate_table``) with the given attack ``mode``:

    - r_acc_asr, r_fp_asr, r_ms_asr, r_gs_asr: Pearson
      r = Σ(x−x̄)(y−ȳ) / √(Σ(x−x̄)² Σ(y−ȳ)²) of ASR with Acc, FP, MS
      (= −log10 σ, larger is smoother) and GS; p_value is the two-sided t-test
      of r = 0 with n − 2 degrees of freedom.
    - r2_ms_gs (R²₁): R² = 1 − SS_res/SS_tot of the OLS fit ASR ~ 1 + MS + GS;
      r2_all (R²₂): of ASR ~ 1 + Acc + FP + MS + GS; p_value is the F-test of
      all slopes = 0.

    Returns tidy rows like the paper's ``table6_correlation.csv`` (dataset,
    target, eps, statistic, value) plus p_value, n (number of surrogate rows)
    and note. Undefined statistics (a constant column, too few surrogates) are
    NaN with the reason in ``note`` instead of an error.
    """
    if mode not in ("untargeted", "targeted"):
        raise ValueError(f"mode must be 'untargeted' or 'targeted'; got {mode!r}")
    require_columns(
        surrogates_df,
        ["dataset", "target", "eps", "mode", "acc", "fp", "ms", "gs", "asr"],
        name="surrogates_df",
    )
    selected = surrogates_df[surrogates_df["mode"] == mode]
    if selected.empty:
        available = sorted(surrogates_df["mode"].unique().tolist())
        raise ValueError(
            f"surrogates_df has no rows with mode {mode!r}; modes present: {available}"
        )
    factors = ["acc", "fp", "ms", "gs", "asr"]
    if selected[factors].isna().any().any():
        raise ValueError(f"surrogates_df has NaN values in {factors}; fix them upstream")

    rows: list[dict[str, object]] = []
    for (dataset, target, eps), group in selected.groupby(["dataset", "target", "eps"], sort=False):
        asr = group["asr"].to_numpy(dtype=np.float64)
        results: dict[str, tuple[float, float, str]] = {}
        for statistic, factor in _PEARSON_FACTORS.items():
            results[statistic] = _pearson(group[factor].to_numpy(dtype=np.float64), asr)
        for statistic, regressors in _OLS_MODELS.items():
            results[statistic] = _ols_r2(asr, group[list(regressors)].to_numpy(dtype=np.float64))
        for statistic in TABLE6_STATISTICS:
            value, p_value, note = results[statistic]
            rows.append(
                {
                    "dataset": dataset,
                    "target": target,
                    "eps": eps,
                    "statistic": statistic,
                    "value": value,
                    "p_value": p_value,
                    "n": len(group),
                    "note": note,
                }
            )
    table = pd.DataFrame(rows)
    # Statistic-major order, as in the paper's CSV; groups keep their input order.
    order = {name: i for i, name in enumerate(TABLE6_STATISTICS)}
    return table.sort_values("statistic", key=lambda s: s.map(order), kind="stable").reset_index(
        drop=True
    )


def render_table6_markdown(table: pd.DataFrame, mode: str) -> str:
    """Table VI's Markdown: one row per (data set, target, ε), one column per statistic."""
    wide = table.pivot_table(
        index=["dataset", "target", "eps"],
        columns="statistic",
        values="value",
        sort=False,
        dropna=False,
    )
    text = (
        f"# Table VI: what explains transfer ASR ({mode} PGD)\n\n"
        "r_*: Pearson r over all surrogates (mechanism × τ × seed) of ASR with clean "
        "accuracy (acc), fooling probability (fp), smoothness (ms) and gradient similarity "
        "(gs); r2_ms_gs: OLS R² of ASR ~ MS + GS; r2_all: R² of ASR ~ Acc + FP + MS + GS. "
        "MS = −log10 σ (σ = mean dominant input-Hessian eigenvalue), so larger MS is "
        "smoother.\n\n"
    )
    return text + wide.round(3).reset_index().to_markdown(index=False) + "\n"
