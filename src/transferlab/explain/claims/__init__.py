"""Which of the paper's qualitative claims does a run support? (issue 13.3; docs/claims.md)

One row per claim and data set: a statistic computed from the per-sample files
the pipeline already writes, its 95 % paired two-level bootstrap interval
(``transferlab.explain.bootstrap``: surrogate seeds and evaluation images resampled),
the null value, the side the paper claims, and the verdict

- ``supported``: the interval lies entirely on the claimed side of the null;
- ``contradicted``: it lies entirely on the other side;
- ``inconclusive``: it contains the null;
- ``not evaluated``: the configuration lacks what the claim needs (the note says what).

Notation (per data set; every mean is over the resampled seeds and images):

- configuration k = (mechanism, τ index); its seeds s share a seed's data stream
  with the other mechanisms' seed s;
- ASR(k, mode, ε, t) = 100 · mean_s mean_i success_plain (SPEC §8, plain ASR, %);
- A(k) = mean_t ASR(k, mode, ε*, t): the pooled ASR of the claims, with mode
  ``untargeted`` and ε* the middle configured budget (position ⌊K/2⌋ of the K
  budgets in increasing order, the budget Fig. 2 is drawn at), both options of
  ``check_claims``: budgets are chosen by position, so the same definition
  applies to every data set;
- σ(k) = mean_s mean_i σ_i (Definition 1) and MS(k) = −log10 σ(k) (larger is
  smoother, ``explain.analysis.smoothness_score``);
- GS(k) = mean_t mean_s mean_i S_i(k, t) (Definition 2; a target's several seeds
  are averaged per image first);
- AT ε_1 < … < ε_J: the configured AT grid by value; "small ε" = the first ⌈J/2⌉,
  "large ε" = the last ⌊J/2⌋ (the largest alone when J = 1); "strong" τ of an
  augmentation = its largest grid value (Tables II/III's τ = 5 row).

Multi-part claims (C1, C4, C7, C8) have one row per part (C1a, C1b, …) and a
combined row (C1) whose statistic is the smallest standardized margin
z = min_k d_k (T_k − θ_k)/se_k over the parts k (d_k = +1 for ``greater``, −1 for
``less``; se_k the bootstrap standard error of part k), with interval
[min_k z_k(low end), min_k z_k(high end)] from the parts' own interval ends. With
null 0 and direction ``greater`` this makes the combined verdict exactly:
supported iff every part is supported (an intersection–union test, valid at the
parts' level), contradicted iff some part is contradicted.

Modules: ``catalogue`` (the claims as data), ``inputs`` (reading and checking
the per-sample files), ``statistics`` and ``replicates`` (bootstrap estimates;
one data set's replicate means), the claim families ``adversarial_training``
(C1–C3), ``training_mechanisms`` (C4–C6), ``factors`` (C7, Table VI) and
``table7_scores`` (C8), ``verdicts`` (claims.csv) and ``markdown`` (claims.md).
"""

from __future__ import annotations

from transferlab.explain.claims.catalogue import (
    CLAIMS,
    D_PRIME_SURROGATES,
    D_SURROGATES,
    R2_RATIO_NULL,
    REGULARIZERS,
    SAM_COMBINATIONS,
    SCORE_NULL,
    STRONG_AUGMENTATIONS,
    Claim,
)
from transferlab.explain.claims.inputs import ClaimsInputs, claims_inputs
from transferlab.explain.claims.markdown import describe_claims, render_claims_markdown
from transferlab.explain.claims.statistics import SIGMA_FLOOR, ClaimNotEvaluableError
from transferlab.explain.claims.verdicts import CLAIMS_COLUMNS, check_claims

__all__ = [
    "CLAIMS",
    "CLAIMS_COLUMNS",
    "D_PRIME_SURROGATES",
    "D_SURROGATES",
    "R2_RATIO_NULL",
    "REGULARIZERS",
    "SAM_COMBINATIONS",
    "SCORE_NULL",
    "SIGMA_FLOOR",
    "STRONG_AUGMENTATIONS",
    "Claim",
    "ClaimNotEvaluableError",
    "ClaimsInputs",
    "check_claims",
    "claims_inputs",
    "describe_claims",
    "render_claims_markdown",
]
