"""The verdict of every claim on every data set: the rows of claims.csv (``check_claims``).

A claim with parts (C1, C4, C7, C8) is combined from its parts' estimates by the
smallest standardized margin (the min-z rule of the ``transferlab.explain.claims``
docstring); every other claim is evaluated by its family module.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from transferlab.explain.bootstrap import verdict
from transferlab.explain.claims import (
    adversarial_training,
    factors,
    table7_scores,
    training_mechanisms,
)
from transferlab.explain.claims.catalogue import CLAIMS, CLAIMS_BY_ID, Claim
from transferlab.explain.claims.inputs import ClaimsInputs
from transferlab.explain.claims.replicates import ClaimEvaluator, DatasetReplicates, ordered
from transferlab.explain.claims.statistics import ClaimNotEvaluableError, Estimate

# claims.csv's columns, in this order.
CLAIMS_COLUMNS: tuple[str, ...] = (
    "claim",
    "text",
    "dataset",
    "statistic",
    "value",
    "ci_low",
    "ci_high",
    "null",
    "direction",
    "verdict",
    "source",
    "n_resamples",
    "note",
)

# Claim id -> its statistic, for every claim without parts.
EVALUATORS: dict[str, ClaimEvaluator] = {
    **adversarial_training.EVALUATORS,
    **training_mechanisms.EVALUATORS,
    **factors.EVALUATORS,
    **table7_scores.EVALUATORS,
}


def _standardized(value: float, claim: Claim, se: float) -> float:
    """z = d (T − θ) / se; ±inf for se = 0 (a margin the bootstrap never moves)."""
    sign = 1.0 if claim.direction == "greater" else -1.0
    margin = sign * (value - claim.null)
    if math.isnan(margin):
        return math.nan
    if not se > 0:
        return 0.0 if margin == 0 else math.copysign(math.inf, margin)
    return margin / se


def _combine(claim: Claim, parts: dict[str, Estimate | str]) -> tuple[float, float, float, str]:
    """(value, low, high, note) of a combined claim from its parts (min-z, package docstring)."""
    values, lows, highs, missing = [], [], [], []
    for part_id in claim.parts:
        part = parts[part_id]
        spec = CLAIMS_BY_ID[part_id]
        if isinstance(part, str) or verdict(part.low, part.high, 0.0, "greater") == (
            "not evaluated"
        ):
            missing.append(part_id)
            continue
        se = float(np.nanstd(part.replicates[1:], ddof=1)) if part.replicates.size > 2 else 0.0
        # the claimed-side end maps to the low z end for 'greater', the high end for 'less'
        low_end, high_end = (
            (part.low, part.high) if spec.direction == "greater" else (part.high, part.low)
        )
        values.append(_standardized(part.value, spec, se))
        lows.append(_standardized(low_end, spec, se))
        highs.append(_standardized(high_end, spec, se))
    if missing:
        if highs and min(highs) < 0:
            return (
                min(values),
                min(lows),
                min(highs),
                f"contradicted by a part although {', '.join(missing)} could not be evaluated",
            )
        raise ClaimNotEvaluableError(f"part(s) {', '.join(missing)} not evaluated")
    weakest = claim.parts[int(np.argmin(values))]
    note = (
        f"z = min over parts of d·(T − null)/se (weakest: {weakest}); interval from the "
        "parts' interval ends"
    )
    return min(values), min(lows), min(highs), note


def check_claims(
    inputs: ClaimsInputs,
    *,
    resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    mode: str = "untargeted",
    budget_position: int | None = None,
) -> pd.DataFrame:
    """One row per claim (``CLAIMS``) and data set: statistic, bootstrap interval, verdict.

    ``resamples`` and ``seed``: the bootstrap's B and RNG seed (config
    ``claims: {resamples, seed}``); ``level``: the interval's coverage;
    ``mode`` and ``budget_position`` (0-based position in the data set's
    budgets in increasing order; default the middle one, ⌊K/2⌋) select the
    pooled ASR A of C1 and C4 and Table VI's mode (C7). Columns:
    ``CLAIMS_COLUMNS`` (claim, text, dataset, statistic, value, ci_low,
    ci_high, null, direction, verdict, source, n_resamples, note). A claim the
    configuration cannot evaluate (a mechanism or table not configured) gets
    verdict ``not evaluated`` and the reason in ``note``.
    """
    if mode not in ("untargeted", "targeted"):
        raise ValueError(f"mode must be 'untargeted' or 'targeted'; got {mode!r}")
    datasets = ordered(inputs.models["dataset"])
    if not datasets:
        raise ValueError("ClaimsInputs.models is empty: no surrogate to check claims on")
    rows: list[dict[str, Any]] = []
    for dataset in datasets:
        d = DatasetReplicates(
            dataset,
            inputs,
            resamples=resamples,
            seed=seed,
            level=level,
            mode=mode,
            budget_position=budget_position,
        )
        results: dict[str, Estimate | str] = {}
        for claim in CLAIMS:
            row: dict[str, Any] = {
                "claim": claim.id,
                "text": claim.text,
                "dataset": dataset,
                "statistic": claim.statistic,
                "null": claim.null,
                "direction": claim.direction,
                "source": claim.source,
                "n_resamples": int(resamples),
            }
            try:
                if claim.parts:
                    value, low, high, note = _combine(claim, results)
                else:
                    estimate = EVALUATORS[claim.id](d)
                    results[claim.id] = estimate
                    value, low, high = estimate.value, estimate.low, estimate.high
                    note = estimate.note
            except ClaimNotEvaluableError as reason:
                results[claim.id] = str(reason)
                nan = math.nan
                row.update(value=nan, ci_low=nan, ci_high=nan, verdict="not evaluated")
                rows.append({**row, "note": str(reason)})
                continue
            outcome = verdict(low, high, claim.null, claim.direction)
            if outcome == "not evaluated":
                note = f"statistic undefined (e.g. a constant factor); {note}".rstrip("; ")
            if not claim.parts:
                note = "; ".join(n for n in (note, d.sample_note(), d.image_note) if n)
            row.update(value=value, ci_low=low, ci_high=high, verdict=outcome, note=note)
            rows.append(row)
    return pd.DataFrame(rows, columns=list(CLAIMS_COLUMNS))
