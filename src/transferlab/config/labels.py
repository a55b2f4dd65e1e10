"""The labels of table rows: a surrogate's (``SAM``, ``AT eps=0.5``), τ values,
Table V's LGV rows (``SAM + LGV-SGD``) and the paper's spelling of a row label."""

from __future__ import annotations

from typing import Any


def format_tau(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def surrogate_label(method: str, tau_index: int, grid: list[Any]) -> str:
    """The paper's row label for a surrogate: ``ST``, ``MU tau=1``, ``AT eps=0.5``, ``SAM&JR``.

    Augmentations (τ named p or M) use the paper's 1-based index τ=1..5 (Sec. 5.2);
    the others name the value, unless the grid has a single entry.
    """
    from transferlab.mechanisms import MECHANISMS

    mech = MECHANISMS.get(method)
    if mech.tau_name is None or len(grid) == 1:
        return mech.label
    if mech.tau_name in ("p", "M"):
        return f"{mech.label} tau={tau_index}"
    value = grid[tau_index - 1]
    if mech.tau_pair:
        parts = ",".join(f"{n}={format_tau(v)}" for n, v in zip(mech.tau_name, value, strict=True))
        return f"{mech.label} {parts}"
    return f"{mech.label} {mech.tau_name}={format_tau(value)}"


# LGV optimizer (config key) → its label in Table V; the paper's rows without LGV are "none".
LGV_LABELS = {"sgd": "SGD", "sam": "SAM", "sam_jr": "SAM&JR"}
LGV_NONE = "none"
_LGV_SEPARATOR = " + LGV-"


def lgv_row_label(surrogate: str, optimizer: str | None) -> str:
    """One label for a Table V row while it is aggregated: ``SAM`` or ``SAM + LGV-SGD``."""
    return surrogate if optimizer is None else f"{surrogate}{_LGV_SEPARATOR}{LGV_LABELS[optimizer]}"


def split_lgv_label(label: str) -> tuple[str, str]:
    """(surrogate, lgv) of an ``lgv_row_label``: Table V's two row columns."""
    surrogate, _, lgv = label.partition(_LGV_SEPARATOR)
    return surrogate, lgv or LGV_NONE


# The paper's augmentation grids have five values: its "τ=5" is the strongest one.
PAPER_GRID_SIZE = 5


def paper_row_label(label: str, tau_index: int, grid_size: int) -> str:
    """The paper's spelling of a table row label from ``table_rows``.

    Tables II-IV show augmentations at the first and the last τ of the grid;
    the paper's grids have five values, so its last row is ``tau=5``. A grid
    of another length keeps ``tau=1`` and maps its last index to ``tau=5``
    (``LS tau=2`` of a two-value grid → ``LS tau=5``); other labels are
    unchanged.
    """
    if " tau=" in label and grid_size > 1 and tau_index == grid_size:
        return f"{label.split(' tau=')[0]} tau={PAPER_GRID_SIZE}"
    return label
