"""Table VIII: transfer to targets trained on shifted distributions (the paper's Sec. 6).

The paper's D′ argument: a target trained with AT (ε = 0.01, 0.05), CM, CO, LS or
MU is "not trained on D", so surrogates regularized toward D (IR, JR, ER, SAM,
SAM&IR, SAM&JR) may lose their edge, while a surrogate trained like the target
(the ★ "same as target" row) matches its distribution. Each cell is

    ASR(surrogate row, target training, mode) = mean over seeds s of
        (1/N) Σ_i 1[target(x_adv,i) ≠ y_i]          (untargeted; = y_target,i targeted)

at one budget ε, with x_adv the stored 8-bit PGD AEs of that surrogate and seed
(SPEC §8's plain ASR, the quantity of Tables II–IV), and the ★ row's surrogate for
a column is the ResNet18 trained with that column's mechanism and τ.

The AEs are the ones the attack jobs already stored; this module only evaluates
them on the D′ targets, so the whole table is one job.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from transferlab.tables.markdown import pipe_table

SAME_AS_TARGET = "same as target"


def transfer_rows(
    entries: Sequence[dict[str, Any]],
    targets: dict[str, str],
    *,
    dataset: dict[str, Any],
    evaluation: dict[str, Any],
    batch_size: int,
    device: str = "cpu",
    log: Callable[[str], None] = print,
) -> pd.DataFrame:
    """Per-seed ASR of every Table VIII cell.

    ``entries``: one dict per (row, seed, columns) with ``surrogate`` (row label),
    ``seed``, ``model`` (the surrogate's model file: the AEs' provenance),
    ``files`` (its stored AE files at the table's budget, one per mode) and
    ``targets`` (the target-training labels this entry's row covers: every column
    for ordinary rows, one column for a ★ entry). ``targets``: label → model file.
    Returns surrogate, target_training, mode, eps (1/255), seed, asr (fraction).
    """
    from transferlab.data import held_out_set
    from transferlab.transfer.crafting import evaluate_adversarial_sets

    images = held_out_set(dataset, evaluation)
    rows = []
    for entry in entries:
        wanted = {label: targets[label] for label in entry["targets"]}
        summary, _ = evaluate_adversarial_sets(
            entry["files"],
            wanted,
            surrogate=entry["model"],
            dataset=dataset,
            evaluation=evaluation,
            batch_size=batch_size,
            device=device,
            log=log,
            images=images,
        )
        for row in summary.itertuples(index=False):
            rows.append(
                {
                    "surrogate": entry["surrogate"],
                    "target_training": row.target,
                    "mode": row.mode,
                    "eps": int(row.eps),
                    "seed": int(entry["seed"]),
                    "asr": float(row.asr),
                }
            )
    return pd.DataFrame(rows)


def table8(per_seed: pd.DataFrame, dataset: str, columns: Sequence[str]) -> pd.DataFrame:
    """Mean ± std over seeds (percent) of ``transfer_rows``' output, in row order of first
    appearance and column order ``columns``: dataset, surrogate, target_training, mode,
    eps ("k/255"), asr_mean, asr_std, n_seeds."""
    from transferlab.budget_labels import format_eps
    from transferlab.tables.over_seeds import mean_std

    frame = per_seed.assign(asr=100.0 * per_seed["asr"])
    order = {label: i for i, label in enumerate(columns)}
    modes = {"untargeted": 0, "targeted": 1}
    frame = frame.assign(
        _row=frame["surrogate"].map({s: i for i, s in enumerate(pd.unique(frame["surrogate"]))}),
        _col=frame["target_training"].map(order),
        _mode=frame["mode"].map(modes),
    ).sort_values(["_row", "_mode", "_col"], kind="stable")
    out = mean_std(frame, ["surrogate", "mode", "target_training", "eps"], ["asr"])
    out["eps"] = out["eps"].map(lambda e: format_eps(e, unit="step"))
    out.insert(0, "dataset", dataset)
    return out[
        ["dataset", "surrogate", "target_training", "mode", "eps", "asr_mean", "asr_std", "n_seeds"]
    ].round(4)


def render_table8_markdown(table: pd.DataFrame, title: str) -> str:
    """Rows: surrogates; columns: mode × target training; cells mean±std (1 decimal)."""
    short = {"untargeted": "U", "targeted": "T"}
    columns = list(dict.fromkeys(zip(table["mode"], table["target_training"], strict=True)))
    cells = {
        (r.surrogate, r.mode, r.target_training): f"{r.asr_mean:.1f}±{r.asr_std:.1f}"
        for r in table.itertuples(index=False)
    }
    header = ["Surrogate"] + [f"{short.get(m, m)} {t}" for m, t in columns]
    rows = [
        [surrogate, *(cells.get((surrogate, m, t), "") for m, t in columns)]
        for surrogate in pd.unique(table["surrogate"])
    ]
    eps = ", ".join(pd.unique(table["eps"]))
    return (
        f"# {title}\n\nPGD transfer ASR in % at ε = {eps}, mean±std over surrogate seeds; "
        f"U = untargeted, T = targeted. Targets are trained off D (the column's mechanism); "
        f"the {SAME_AS_TARGET!r} row attacks each target with the surrogate trained like it.\n\n"
        + pipe_table(header, rows)
    )
