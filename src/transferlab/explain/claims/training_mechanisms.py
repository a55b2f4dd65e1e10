"""Claims C4–C6: the other training mechanisms versus ST (Figs. 5–6, 9–10, Table II).

C4a/C4b: strong MU, CM and LS lower GS and the pooled ASR A; C5: IR, JR, ER and
SAM make surrogates smoother (MS); C6: SAM&IR or SAM&JR wins most Table II columns.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from transferlab.explain.claims.catalogue import (
    REGULARIZERS,
    SAM_COMBINATIONS,
    STRONG_AUGMENTATIONS,
)
from transferlab.explain.claims.replicates import ClaimEvaluator, DatasetReplicates
from transferlab.explain.claims.statistics import (
    ClaimNotEvaluableError,
    Estimate,
    quiet_all_nan_reductions,
)


def _configured(d: DatasetReplicates, methods: Sequence[str]) -> tuple[list[str], str]:
    """The mechanisms of ``methods`` the configuration has (in that order) and a note suffix
    naming those it lacks ("" when none); not evaluable when it has none of them."""
    present = [m for m in methods if d.configs_of(m)]
    if not present:
        raise ClaimNotEvaluableError(f"none of {', '.join(methods)} is configured")
    absent = [m for m in methods if m not in present]
    return present, f"; not configured: {', '.join(absent)}" if absent else ""


def _strong(d: DatasetReplicates) -> tuple[int, list[int], str]:
    """(ST, each configured strong augmentation at its largest τ, note)."""
    st = d.only("ST")
    present, lacking = _configured(d, STRONG_AUGMENTATIONS)
    strongest = [d.configs_of(m)[-1] for m in present]
    return st, strongest, "strong: " + ", ".join(d.label(k) for k in strongest) + lacking


def _c4a(d: DatasetReplicates) -> Estimate:
    """C4a (Figs. 5-6): max_{m ∈ MU,CM,LS} [GS(m τ_max) − GS(ST)]."""
    st, strongest, note = _strong(d)
    d.require_similarities()
    return d.extremum(np.stack([d.gs[k] - d.gs[st] for k in strongest]), "max", note)


def _c4b(d: DatasetReplicates) -> Estimate:
    """C4b (Table II): max_{m ∈ MU,CM,LS} [A(m τ_max) − A(ST)]."""
    st, strongest, note = _strong(d)
    members = np.stack([d.pooled_asr(k) - d.pooled_asr(st) for k in strongest])
    return d.extremum(members, "max", f"{note}; {d.pooling_note()}")


def _c5(d: DatasetReplicates) -> Estimate:
    """C5 (Figs. 9-10): min_{m ∈ IR,JR,ER,SAM} [mean_τ MS(m τ) − MS(ST)]."""
    st = d.only("ST")
    present, lacking = _configured(d, REGULARIZERS)
    members = np.stack([d.ms[d.configs_of(m)].mean(axis=0) - d.ms[st] for m in present])
    return d.extremum(members, "min", "regularizers: " + ", ".join(present) + lacking)


def _c6(d: DatasetReplicates) -> Estimate:
    """C6 (Table II): share of columns where the better of SAM&IR, SAM&JR beats every other row
    (a tie counts ½)."""
    keys = zip(d.configs["method"], d.configs["tau_index"].astype(int), strict=True)
    rows = [k for k, key in enumerate(keys) if key in d.table_rows]
    if not rows:
        raise ClaimNotEvaluableError("no entry names its Table II row (entries need 'table_row')")
    combos = [k for k in rows if d.configs.at[k, "method"] in SAM_COMBINATIONS]
    others = [k for k in rows if k not in combos]
    if not combos:
        raise ClaimNotEvaluableError(
            "neither SAM&IR nor SAM&JR is a Table II row of the configuration"
        )
    if not others:
        raise ClaimNotEvaluableError("Table II has no row besides SAM&IR / SAM&JR")
    with quiet_all_nan_reductions():
        best_combo = np.nanmax(d.asr[combos], axis=0)  # (K, R)
        best_other = np.nanmax(d.asr[others], axis=0)
    wins = np.where(best_combo > best_other, 1.0, np.where(best_combo == best_other, 0.5, 0.0))
    wins = np.where(np.isnan(best_combo) | np.isnan(best_other), np.nan, wins)
    with quiet_all_nan_reductions():
        share = np.nanmean(wins, axis=0)
    return d.interval(share, f"{len(d.cells)} columns (mode × budget × target), {len(rows)} rows")


EVALUATORS: dict[str, ClaimEvaluator] = {"C4a": _c4a, "C4b": _c4b, "C5": _c5, "C6": _c6}
