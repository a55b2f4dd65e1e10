"""Claim C8: Table VII's scores: D′ surrogates negative, D surrogates non-negative.

score(s) = Σ_t sign(m(s, t) − m(ST, t)) over Table VII's target trainings t, per
replicate, from the Table VII similarity samples (``tables.table7.table7``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from transferlab.explain.claims.catalogue import D_PRIME_SURROGATES, D_SURROGATES
from transferlab.explain.claims.replicates import ClaimEvaluator, DatasetReplicates
from transferlab.explain.claims.statistics import ClaimNotEvaluableError, Estimate


def _scores(d: DatasetReplicates, members: Sequence[str]) -> tuple[NDArray[np.float64], str]:
    """score(s) (P, R) of the Table VII rows whose mechanism is one of ``members``, and a note."""
    if not d.t7_sources:
        raise ClaimNotEvaluableError(
            "no Table VII similarity samples for this data set (tables.table7)"
        )
    reference = [p for p, s in enumerate(d.t7_sources) if d.t7_methods[s] == "ST"]
    if not reference:
        raise ClaimNotEvaluableError("Table VII has no ST surrogate row (the reference)")
    rows = [p for p, s in enumerate(d.t7_sources) if d.t7_methods[s] in members]
    if not rows:
        raise ClaimNotEvaluableError(f"Table VII has none of the surrogates {', '.join(members)}")
    increments = d.t7[rows] - d.t7[reference[0]]  # (P, T7, R)
    scores = np.nansum(np.sign(increments), axis=1)
    scores = np.where(np.all(np.isnan(increments), axis=1), np.nan, scores)
    present = [d.t7_sources[p] for p in rows]
    absent = [m for m in members if m not in {d.t7_methods[s] for s in present}]
    note = f"rows: {', '.join(present)}; {len(d.t7_targets)} target trainings"
    if absent:
        note += f"; not in Table VII: {', '.join(absent)}"
    return scores, note


def _c8a(d: DatasetReplicates) -> Estimate:
    """C8a: max score over the D′ surrogates (CO, CM, MU, LS); claimed < −0.5."""
    scores, note = _scores(d, D_PRIME_SURROGATES)
    return d.extremum(scores, "max", note)


def _c8b(d: DatasetReplicates) -> Estimate:
    """C8b: min score over the D surrogates (IR, JR, ER, SAM, SAM&IR, SAM&JR); claimed > −0.5."""
    scores, note = _scores(d, D_SURROGATES)
    return d.extremum(scores, "min", note)


EVALUATORS: dict[str, ClaimEvaluator] = {"C8a": _c8a, "C8b": _c8b}
