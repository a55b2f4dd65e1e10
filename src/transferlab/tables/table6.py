"""Table VI: Surrogate-side factors against transfer ASR: the statistics of Table VI (SPEC §9).

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

import numpy as np
import pandas as pd
import statsmodels.api as sm
from numpy.typing import NDArray
from scipy import stats

from transferlab.frames import require_columns

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
