"""Claims C1–C3: adversarial training (AT) as surrogate training (Figs. 2–4).

C1a/C1b: small-ε AT transfers better than ST and the ASR falls again at the
largest ε (pooled ASR A); C2: MS rises with ε (Spearman ρ); C3: large-ε AT
lowers the gradient similarity GS to the targets.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from transferlab.explain.claims.replicates import ClaimEvaluator, DatasetReplicates
from transferlab.explain.claims.statistics import Estimate
from transferlab.explain.weighted_statistics import weighted_pearson


def _c1a(d: DatasetReplicates) -> Estimate:
    """C1a (Fig. 2): max_{j small} [A(AT ε_j) − A(ST)], small = the first ⌈J/2⌉ AT ε."""
    st, at = d.only("ST"), d.at_grid(1)
    small = at[: math.ceil(len(at) / 2)]
    members = np.stack([d.pooled_asr(k) - d.pooled_asr(st) for k in small])
    names = ", ".join(d.label(k) for k in small)
    return d.extremum(members, "max", f"small ε: {names}; {d.pooling_note()}")


def _c1b(d: DatasetReplicates) -> Estimate:
    """C1b (Fig. 2): min_{j<J} [A(AT ε_J) − A(AT ε_j)] (negative: the ASR falls at ε_J)."""
    at = d.at_grid(2)
    top = at[-1]
    members = np.stack([d.pooled_asr(top) - d.pooled_asr(k) for k in at[:-1]])
    return d.extremum(members, "min", f"largest: {d.label(top)}; {d.pooling_note()}")


def _c2(d: DatasetReplicates) -> Estimate:
    """C2 (Fig. 3): Spearman ρ(position, MS) over ST, AT ε_1 < … < ε_J, per replicate."""
    sequence = [d.only("ST"), *d.at_grid(2)]
    ms = d.ms[sequence]  # (J+1, R)
    finite = np.all(np.isfinite(ms), axis=0)
    ranks = stats.rankdata(np.where(finite, ms, 0.0), axis=0)
    position = np.arange(len(sequence), dtype=np.float64)[:, None]
    rho = weighted_pearson(np.broadcast_to(position, ranks.shape), ranks, np.ones_like(ranks))
    rho = np.where(finite, rho, np.nan)
    return d.interval(rho, "sequence: " + ", ".join(d.label(k) for k in sequence))


def _c3(d: DatasetReplicates) -> Estimate:
    """C3 (Fig. 4): mean_{j large} GS(AT ε_j) − GS(ST), large = the last max(⌊J/2⌋, 1)."""
    st, at = d.only("ST"), d.at_grid(1)
    large = at[len(at) - max(len(at) // 2, 1) :]
    d.require_similarities()
    statistic = np.mean([d.gs[k] for k in large], axis=0) - d.gs[st]
    return d.interval(statistic, "large ε: " + ", ".join(d.label(k) for k in large))


EVALUATORS: dict[str, ClaimEvaluator] = {"C1a": _c1a, "C1b": _c1b, "C2": _c2, "C3": _c3}
