"""What each table is built from: its data sets, each data set's budgets, and the
surrogate rows (mechanism, τ index, label) of Tables II-IV, VII and VIII."""

from __future__ import annotations

from typing import Any

from transferlab.config.labels import surrogate_label


def dataset_budgets(config: dict[str, Any], ds_key: str) -> list[int]:
    """L∞ budgets (1/255 units) of one data set: ``datasets.<key>.budgets``, else the
    top-level ``budgets`` (a 16-px digit needs larger budgets than a CIFAR-10 image)."""
    return list(config["datasets"][ds_key].get("budgets") or config["budgets"])


def table_datasets(tcfg: dict[str, Any]) -> list[str]:
    """The data sets one table is built from: ``datasets`` (Table XIII) or ``dataset``."""
    return list(tcfg["datasets"]) if "datasets" in tcfg else [tcfg["dataset"]]


# The paper's row order of Tables II-IV; mechanisms outside it follow in config order.
PAPER_ROW_ORDER = ("st", "mu", "cm", "co", "ls", "at", "ir", "jr", "er", "sam", "sam_ir", "sam_jr")


def table_rows(
    mechanisms: dict[str, Any], only: list[str] | None = None
) -> list[tuple[str, str, int]]:
    """(row label, mechanism, tau index) of the surrogate rows of Tables II/III/IV.

    Augmentations (τ named p or M) give two rows, τ=1 and τ=last (the paper's
    τ=1 and τ=5); every other mechanism one row at its ``table_tau`` (default 1),
    labelled by the mechanism alone (``AT``, ``SAM&JR``).
    """
    from transferlab.mechanisms import MECHANISMS

    names = [m for m in PAPER_ROW_ORDER if m in mechanisms]
    names += [m for m in mechanisms if m not in PAPER_ROW_ORDER]
    if only is not None:
        names = [m for m in names if m in only]
    rows = []
    for method in names:
        mech = MECHANISMS.get(method)
        grid = mechanisms[method]["grid"]
        if mech.tau_name in ("p", "M") and len(grid) > 1:
            rows += [(f"{mech.label} tau={i}", method, i) for i in (1, len(grid))]
        else:
            rows.append((mech.label, method, int(mechanisms[method].get("table_tau") or 1)))
    return rows


def table7_surrogate_taus(table7: dict[str, Any]) -> dict[str, int]:
    """Tau index of each Table VII surrogate row that does not use its Table II tau.

    ``table7["surrogate_tau"]`` wins; a mechanism without one that is also a target
    training uses the target's tau (the paper's AT row is AT with ε = 0.01, its AT
    target's budget: Sec. 6, text under Tab. VII); the others keep their Table II tau.
    """
    return {**table7.get("target_trainings", {}), **table7.get("surrogate_tau", {})}


def table7_rows(
    mechanisms: dict[str, Any],
    only: list[str] | None = None,
    taus: dict[str, int] | None = None,
) -> list[tuple[str, str, int]]:
    """(label, mechanism, tau index) of Table VII's surrogate rows: one per mechanism,
    labelled by the mechanism alone, at ``taus[mechanism]`` when given (see
    ``table7_surrogate_taus``), else augmentations at τ=1 and others at ``table_tau``."""
    taus = taus or {}
    rows = []
    for label, method, tau in table_rows(mechanisms, only):
        if " tau=" in label:
            if tau != 1:
                continue
            label = label.split(" tau=")[0]
        rows.append((label, method, int(taus.get(method, tau))))
    return rows


# Table VIII's surrogate rows (the paper's), as configured: mechanisms regularizing toward D.
TABLE8_ROWS = ("st", "ir", "jr", "er", "sam", "sam_ir", "sam_jr")


def table8_rows(mechanisms: dict[str, Any], tcfg: dict[str, Any]) -> list[tuple[str, str, int]]:
    """(row label, mechanism, tau index) of Table VIII's surrogate rows: ``surrogates`` or
    the paper's ST/IR/JR/ER/SAM/SAM&IR/SAM&JR present in the grid, at their Table II τ."""
    only = tcfg.get("surrogates") or [m for m in TABLE8_ROWS if m in mechanisms]
    return table_rows(mechanisms, only)


def table8_targets(
    mechanisms: dict[str, Any], target_trainings: list[Any]
) -> list[tuple[str, str, int]]:
    """(column label, mechanism, tau index) of Table VIII's targets: the mechanism's label,
    with its τ (``AT eps=0.01``) where the table lists the mechanism more than once."""
    from transferlab.mechanisms import MECHANISMS

    methods = [method for method, _ in target_trainings]
    columns = []
    for method, tau in target_trainings:
        if methods.count(method) > 1:
            label = surrogate_label(method, int(tau), mechanisms[method]["grid"])
        else:
            label = MECHANISMS.get(method).label
        columns.append((label, method, int(tau)))
    return columns
