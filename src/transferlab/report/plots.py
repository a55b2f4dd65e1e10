"""Figures of SPEC §10: metric vs AT ε (Figs. 2–4), metric vs τ (Figs. 5–10), Fig. 11 heatmap.

Every function takes a tidy DataFrame and an output path stem, writes
``<stem>.png`` and ``<stem>.svg`` atomically (``atomic_files.atomic_path``: a
temporary file in the same folder, then ``os.replace``) and returns the two
paths. Figures are built with the
object-oriented matplotlib API on ``matplotlib.figure.Figure`` (rendered by
Agg), never pyplot, so no display or global figure state is involved.
Error bars are mean ± sample std (ddof=1) over seeds; a single seed has none.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from transferlab.atomic_files import atomic_path
from transferlab.frames import require_columns as require_frame_columns
from transferlab.frames import require_unique
from transferlab.tables.over_seeds import mean_std

# What each metric means on an axis, and which direction is "better" to the reader.
METRICS: dict[str, dict[str, object]] = {
    "smoothness": {
        "name": "model smoothness",
        "axis": "σ: top eigenvalue of input Hessian of CE\n(mean over samples, log scale)",
        "sense": "smaller σ = smoother surrogate",
        "log": True,
    },
    "similarity": {
        "name": "gradient similarity to target",
        "axis": "S̃: mean cosine of input gradients\n(surrogate vs target, −1…1)",
        "sense": "larger = gradients better aligned",
        "log": False,
    },
    "asr": {
        "name": "transfer attack success rate",
        "axis": "transfer ASR (%)",
        "sense": "larger = adversarial examples transfer better",
        "log": False,
    },
}


# What to do about two rows for one point (frames.require_unique's advice).
PLOT_REMEDY = "filter it to one value per key (e.g. one attack mode/budget) before plotting"


def check_metric(metric: str) -> dict[str, object]:
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {sorted(METRICS)}, got {metric!r}")
    return METRICS[metric]


def require_columns(df: pd.DataFrame, columns: Sequence[str], *, argument: str) -> None:
    """``frames.require_columns``, and at least one row to draw."""
    require_frame_columns(df, columns, name=argument)
    if df.empty:
        raise ValueError(f"{argument} has no rows; nothing to plot")


def save_figure(fig: Figure, out_stem: str | os.PathLike[str]) -> list[Path]:
    """Write ``<stem>.png`` and ``<stem>.svg`` atomically; return their paths."""
    stem = Path(out_stem)
    written: list[Path] = []
    for suffix in (".png", ".svg"):
        target = stem.with_name(stem.name + suffix)
        with atomic_path(target, suffix=suffix) as temporary:
            fig.savefig(str(temporary), format=suffix[1:], dpi=150, bbox_inches="tight")
        written.append(target)
    return written


def panel_grid(n_rows: int, n_cols: int) -> tuple[Figure, np.ndarray]:
    fig = Figure(figsize=(4.8 * n_cols, 3.8 * n_rows + 0.6), layout="constrained")
    axes = np.atleast_2d(fig.subplots(n_rows, n_cols, squeeze=False))
    return fig, axes


def style_value_axis(ax: Axes, meta: dict[str, object], values: pd.Series) -> None:
    ax.set_ylabel(str(meta["axis"]))
    if meta["log"] and (values > 0).all():
        ax.set_yscale("log")
    ax.grid(True, alpha=0.3)


def wrapped(text: str, width: int = 90) -> str:
    return "\n".join(textwrap.wrap(text, width))


def format_number(value: object) -> str:
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return f"{value:g}" if isinstance(value, float | np.floating) else str(value)


def plot_vs_at_eps(df: pd.DataFrame, metric: str, out_stem: str | os.PathLike[str]) -> list[Path]:
    """Metric of L2-adversarially-trained surrogates vs their AT budget ε (Figs. 2, 3, 4).

    ``df`` columns: ``dataset`` (str), ``eps`` (float, AT training budget; 0 = ST),
    ``seed``, ``value``; optional ``target`` (str) draws one line per target
    (Fig. 2: metric="asr", Fig. 4: metric="similarity"); without it one line
    (Fig. 3: metric="smoothness"). ``metric`` ∈ {"smoothness", "similarity",
    "asr"} sets axis label, scale and title. One panel per dataset; points are
    mean ± std over seeds, x positions equally spaced with the ε values as ticks.
    """
    meta = check_metric(metric)
    require_columns(df, ["dataset", "eps", "seed", "value"], argument="df")
    has_target = "target" in df.columns
    line_key = ["target"] if has_target else []
    # One value per (keys, seed): otherwise seeds would silently average other factors.
    require_unique(df, ["dataset", *line_key, "eps", "seed"], name="df", remedy=PLOT_REMEDY)
    datasets = list(dict.fromkeys(df["dataset"]))
    fig, axes = panel_grid(1, len(datasets))
    palette = sns.color_palette("colorblind", n_colors=df["target"].nunique() if has_target else 1)
    for ax, dataset in zip(axes[0], datasets, strict=True):
        part = df[df["dataset"] == dataset]
        eps_values = sorted(part["eps"].unique())
        position = {eps: i for i, eps in enumerate(eps_values)}
        stats = mean_std(part, [*line_key, "eps"], ["value"], drop_nan_keys=True).sort_values("eps")
        lines = list(dict.fromkeys(stats["target"])) if has_target else [None]
        for colour, line in zip(palette, lines, strict=False):
            rows = stats if line is None else stats[stats["target"] == line]
            ax.errorbar(
                [position[e] for e in rows["eps"]],
                rows["value_mean"],
                yerr=rows["value_std"],
                marker="o",
                capsize=3,
                color=colour,
                label=f"target {line}" if line is not None else "surrogate",
            )
        ax.set_xticks(range(len(eps_values)))
        ax.set_xticklabels(
            [("0\n(ST)" if float(e) == 0.0 else format_number(e)) for e in eps_values]
        )
        ax.set_xlabel("AT budget ε of the surrogate (L2, training-time)")
        ax.set_title(dataset)
        style_value_axis(ax, meta, part["value"])
        if has_target:
            ax.legend(fontsize="small", title="target model")
    fig.suptitle(
        wrapped(
            f"{', '.join(datasets)}: {meta['name']} vs adversarial-training budget ε "
            f"({meta['sense']}); mean ± std over seeds"
        )
    )
    return save_figure(fig, out_stem)


def plot_vs_tau(
    df: pd.DataFrame, metric: str, out_stem: str | os.PathLike[str], *, reference: str = "ST"
) -> list[Path]:
    """Metric vs mechanism magnitude τ index 1..5, one line per mechanism (Figs. 5–10).

    ``df`` columns: ``dataset``, ``method`` (e.g. MU, CM, CO, LS or IR, JR, ER,
    SAM), ``tau_index`` (1..5), ``tau`` (the actual magnitude), ``seed``,
    ``value``; optional ``target`` gives one panel per target (Figs. 5–6,
    metric="similarity"). Rows with ``method == reference`` (tau columns may be
    NaN) are drawn as a horizontal line with a ±std band. The legend lists each
    mechanism's actual τ values. One panel row per dataset.
    """
    meta = check_metric(metric)
    require_columns(df, ["dataset", "method", "tau_index", "tau", "seed", "value"], argument="df")
    has_target = "target" in df.columns
    panel_key = ["target"] if has_target else []
    is_reference = df["method"] == reference
    mechanisms = df[~is_reference]
    if mechanisms.empty:
        raise ValueError(f"df has only {reference!r} rows; plot_vs_tau needs mechanism rows")
    keys = ["dataset", *panel_key, "method", "tau_index", "seed"]
    require_unique(mechanisms, keys, name="df", remedy=PLOT_REMEDY)
    datasets = list(dict.fromkeys(df["dataset"]))
    panels = list(dict.fromkeys(df["target"])) if has_target else [None]
    methods = list(dict.fromkeys(mechanisms["method"]))
    palette = dict(
        zip(methods, sns.color_palette("colorblind", n_colors=len(methods)), strict=True)
    )
    fig, axes = panel_grid(len(datasets), len(panels))
    for i, dataset in enumerate(datasets):
        for j, panel in enumerate(panels):
            ax = axes[i, j]
            part = df[df["dataset"] == dataset]
            if panel is not None:
                part = part[part["target"] == panel]
            ref = part[part["method"] == reference]["value"]
            if not ref.empty:
                centre = ref.mean()
                spread = ref.std() if len(ref) > 1 else 0.0
                ax.axhline(centre, color="black", linestyle="--", label=f"{reference} (reference)")
                ax.axhspan(centre - spread, centre + spread, color="grey", alpha=0.2, lw=0)
            mech = part[part["method"] != reference]
            stats = mean_std(mech, ["method", "tau_index"], ["value"], drop_nan_keys=True)
            stats = stats.sort_values("tau_index")
            for method in methods:
                rows = stats[stats["method"] == method]
                if rows.empty:
                    continue
                taus = (
                    mech[mech["method"] == method]
                    .drop_duplicates("tau_index")
                    .sort_values("tau_index")["tau"]
                )
                ax.errorbar(
                    rows["tau_index"],
                    rows["value_mean"],
                    yerr=rows["value_std"],
                    marker="o",
                    capsize=3,
                    color=palette[method],
                    label=f"{method} (τ = {', '.join(format_number(t) for t in taus)})",
                )
            ax.set_xticks(sorted(int(t) for t in mechanisms["tau_index"].unique()))
            ax.set_xlabel("τ index (mechanism strength, weakest → strongest)")
            ax.set_title(dataset if panel is None else f"{dataset}, target {panel}")
            style_value_axis(ax, meta, part["value"])
            ax.legend(fontsize="x-small")
    fig.suptitle(
        wrapped(
            f"{', '.join(datasets)}: {meta['name']} of surrogates trained with "
            f"{', '.join(methods)} vs strength τ ({meta['sense']}); "
            f"mean ± std over seeds, dashed = {reference}"
        )
    )
    return save_figure(fig, out_stem)


def plot_similarity_heatmap(
    matrix_df: pd.DataFrame,
    out_stem: str | os.PathLike[str],
    *,
    dataset: str = "",
    architecture: str = "",
    note: str = "",
) -> list[Path]:
    """Fig. 11: intra-architecture gradient-similarity matrix as an annotated heatmap.

    ``matrix_df``: the output of ``metrics.similarity.intra_architecture_matrix`` — index
    = surrogate (source) training mechanism, columns = target training
    mechanism, cells = mean S̃ over the seed-shifted pairs (NaN shown blank).
    ``note``: the pairing protocol, printed under the title.
    """
    if not isinstance(matrix_df, pd.DataFrame) or matrix_df.empty:
        raise ValueError("matrix_df must be a non-empty DataFrame (source × target mechanisms)")
    values = matrix_df.astype(float)
    n_rows, n_cols = values.shape
    fig = Figure(figsize=(max(5.5, 1.6 + 0.8 * n_cols), 1.6 + 0.6 * n_rows), layout="constrained")
    ax = fig.subplots()
    sns.heatmap(
        values,
        ax=ax,
        annot=True,
        fmt=".2f",
        cmap="viridis",
        cbar_kws={"label": "S̃: mean cosine of input gradients"},
    )
    ax.set_xlabel("target model's training mechanism")
    ax.set_ylabel("surrogate's training mechanism")
    where = ", ".join(part for part in (dataset, architecture) if part)
    fig.suptitle(
        wrapped(
            f"{where + ': ' if where else ''}gradient similarity between models of one "
            "architecture trained differently (different seeds; larger = more aligned)"
            + (f" — {note}" if note else ""),
            60,
        )
    )
    return save_figure(fig, out_stem)


def plot_message(text: str, out_stem: str | os.PathLike[str]) -> list[Path]:
    """A figure that says why a plot could not be drawn (so the target still exists)."""
    fig = Figure(figsize=(6, 2), layout="constrained")
    ax = fig.subplots()
    ax.axis("off")
    ax.text(0.5, 0.5, wrapped(text, 70), ha="center", va="center", fontsize=10)
    return save_figure(fig, out_stem)
