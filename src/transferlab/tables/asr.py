"""Tables II–V and XIII: transfer ASR of surrogate rows × attack × mode × ε × target.

``build_asr_table(spec)`` joins each row's transfer summaries (mean ± std over seeds, the
cell's bootstrap interval), ``render_asr_markdown`` writes the table with its title and
caption; ``spec`` is the asr-table command's (``transferlab.plan.tables.asr_table_spec``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from transferlab.budget_labels import format_eps
from transferlab.explain.asr_intervals import (
    ASR_INTERVAL_KEYS,
    asr_bootstrap_intervals,
    asr_table_samples,
)
from transferlab.tables.markdown import pipe_table


def asr_table_part(spec: dict[str, Any], part: dict[str, Any]) -> tuple[pd.DataFrame, list[str]]:
    """One data set's rows of an ASR table (mean ± std over seeds, bootstrap interval; eps
    as a float plus ``eps_label``) and its surrogate row order."""
    frames = [
        pd.read_csv(e["csv"]).assign(surrogate=e["surrogate"], seed=e["seed"])
        for e in part["inputs"]
    ]
    df = pd.concat(frames, ignore_index=True)
    df = df[df["attack"].isin(spec["attacks"]) & df["eps"].isin(part["budgets"])]
    surrogates = list(dict.fromkeys(e["surrogate"] for e in part["inputs"]))
    # Row order of the paper's tables: surrogate, attack, mode (U before T), eps, target.
    ranks = {
        "surrogate": surrogates,
        "attack": spec["attacks"],
        "mode": ["untargeted", "targeted"],
        "target": part["targets"],
    }
    df = df.sort_values(
        ["surrogate", "attack", "mode", "eps", "target"],
        key=lambda c: c.map({v: i for i, v in enumerate(ranks[c.name])}) if c.name in ranks else c,
        kind="stable",
    )
    df = df.assign(dataset=part["dataset"], eps=df["eps"] / 255, attack=df["attack"].str.upper())
    table = aggregate_asr(df)
    table["eps_label"] = table["eps"].map(format_eps)
    intervals = spec.get("intervals")
    if intervals:
        samples = asr_table_samples(
            part["inputs"],
            dataset=part["dataset"],
            attacks=spec["attacks"],
            budgets=part["budgets"],
        )
        ci = asr_bootstrap_intervals(
            samples, resamples=intervals["resamples"], seed=intervals["seed"]
        )
        keys = ["dataset", "surrogate", "attack", "mode", "eps_label", "target"]
        ci = ci.rename(columns={"eps": "eps_label"})
        table = table.merge(ci, on=keys, how="left", validate="one_to_one")
    return table, surrogates


def asr_table_parts(spec: dict[str, Any]) -> list[tuple[pd.DataFrame, list[str]]]:
    """Each data set's part (Table XIII's CIFAR-10 and ImageNette halves), or the one."""
    return [asr_table_part(spec, part) for part in spec.get("parts") or [spec]]


def render_asr_markdown(spec: dict[str, Any], built: list[tuple[pd.DataFrame, list[str]]]) -> str:
    """The table's Markdown: title, caption (note, intervals), one section per data set."""
    parts = spec.get("parts") or [spec]
    rendered = [
        render_part_markdown(t.drop(columns="eps_label"), surrogate_order=order)
        for t, order in built
    ]
    intervals = spec.get("intervals")
    text = f"# {spec['title']}\n\nASR in %, mean±std over seeds; U = untargeted, T = targeted."
    if spec.get("note"):
        text += " " + spec["note"]
    if intervals:
        text += (
            f" The CSV adds each cell's 95 % bootstrap interval (asr_ci_low, asr_ci_high; "
            f"{intervals['resamples']} resamples of seeds and evaluation images)."
        )
    if len(parts) == 1:
        text += "\n\n" + rendered[0]
    else:
        for part, markdown in zip(parts, rendered, strict=True):
            note = f"{part['note']}\n\n" if part.get("note") else ""
            text += f"\n\n## {part['dataset']}\n\n{note}{markdown}"
    return text


def build_asr_table(
    spec: dict[str, Any], built: list[tuple[pd.DataFrame, list[str]]]
) -> pd.DataFrame:
    """The tidy table of every part: eps as its label, LGV rows split into surrogate + lgv."""
    table = pd.concat([t for t, _ in built], ignore_index=True)
    table = table.assign(eps=table["eps_label"]).drop(columns="eps_label")
    if spec.get("lgv_rows"):
        from transferlab.config.labels import split_lgv_label

        rows = table["surrogate"].map(split_lgv_label)
        table["surrogate"] = rows.str[0]
        table.insert(table.columns.get_loc("surrogate") + 1, "lgv", rows.str[1])
    return table


def aggregate_asr(df: pd.DataFrame) -> pd.DataFrame:
    """Mean ± sample std over seeds of plain and Definition-3 ASR, in percent.

    Input: one row per (dataset, surrogate, attack, mode, eps, target, seed)
    with ``asr`` and ``asr_def3`` as fractions in [0,1]. Output: one row per
    group (in order of first appearance) with asr_mean, asr_std, asr_def3_mean,
    asr_def3_std (std with ddof = 1, 0 for a single seed; NaN def-3 values are
    skipped) and n_seeds.
    """
    needed = [*ASR_INTERVAL_KEYS, "asr", "asr_def3"]
    missing = [column for column in needed if column not in df.columns]
    if missing:
        raise ValueError(f"aggregate_asr: input lacks column(s) {missing}; needs {needed}")
    percent = df.assign(asr=df["asr"] * 100.0, asr_def3=df["asr_def3"] * 100.0)
    grouped = percent.groupby(list(ASR_INTERVAL_KEYS), sort=False, dropna=False)
    table = grouped.agg(
        asr_mean=("asr", "mean"),
        asr_std=("asr", "std"),
        asr_def3_mean=("asr_def3", "mean"),
        asr_def3_std=("asr_def3", "std"),
        n_seeds=("asr", "size"),
    ).reset_index()
    single = table["n_seeds"] == 1
    table.loc[single, "asr_std"] = 0.0
    table.loc[single & table["asr_def3_mean"].notna(), "asr_def3_std"] = 0.0
    return table


def render_part_markdown(
    table_df: pd.DataFrame,
    *,
    value: str = "asr",
    surrogate_order: Sequence[str] | None = None,
) -> str:
    """A Markdown table laid out like Tables II/III/IV: ``mean±std`` cells, 1 decimal.

    Rows are surrogates (× attack when several attacks are present, labelled
    like Table IV: "SAM" for PGD, "SAM+MI", "SAM+DIM") in ``surrogate_order``
    or order of first appearance; columns are mode × ε × target in order of
    appearance. ``value`` selects ``asr`` or
    ``asr_def3``. One dataset per table.
    """
    if value not in ("asr", "asr_def3"):
        raise ValueError(f"value={value!r}; allowed: 'asr', 'asr_def3'")
    datasets = table_df["dataset"].unique()
    if len(datasets) > 1:
        raise ValueError(f"render_part_markdown renders one dataset; got {list(datasets)}")
    surrogates = list(surrogate_order or pd.unique(table_df["surrogate"]))
    unknown = set(table_df["surrogate"]) - set(surrogates)
    if unknown:
        raise ValueError(f"surrogate_order lacks {sorted(unknown)}")
    attacks = list(pd.unique(table_df["attack"]))
    keys = zip(table_df["mode"], table_df["eps"], table_df["target"], strict=True)
    columns = list(dict.fromkeys(keys))
    cells: dict[tuple[str, str, tuple[Any, Any, Any]], str] = {}
    for row in table_df.itertuples(index=False):
        mean, std = getattr(row, f"{value}_mean"), getattr(row, f"{value}_std")
        text = "–" if pd.isna(mean) else f"{mean:.1f}±{std:.1f}"
        cells[(row.surrogate, row.attack, (row.mode, row.eps, row.target))] = text
    mode_short = {"untargeted": "U", "targeted": "T"}
    header = ["Surrogate"] + [
        f"{mode_short.get(mode, mode)} {format_eps(eps, off_grid='general')} {target}"
        for mode, eps, target in columns
    ]
    rows = []
    for surrogate in surrogates:
        for attack in attacks:
            if not any((surrogate, attack, column) in cells for column in columns):
                continue
            plain = len(attacks) == 1 or str(attack).lower() == "pgd"
            label = surrogate if plain else f"{surrogate}+{str(attack).upper()}"
            row_cells = [cells.get((surrogate, attack, column), "") for column in columns]
            rows.append([label, *row_cells])
    return pipe_table(header, rows)
