"""The paper's claims C1–C8 as data: text, source, statistic, null and claimed side.

The mechanism groups the claims compare (the strong augmentations of C4, the
regularizers of C5, Table VII's D′ and D surrogates of C8) and the nulls that are
not 0 live here with the claims that use them.
"""

from __future__ import annotations

from dataclasses import dataclass

STRONG_AUGMENTATIONS = ("MU", "CM", "LS")
REGULARIZERS = ("IR", "JR", "ER", "SAM")
SAM_COMBINATIONS = ("SAM&IR", "SAM&JR")
D_PRIME_SURROGATES = ("CO", "CM", "MU", "LS")
D_SURROGATES = ("IR", "JR", "ER", "SAM", "SAM&IR", "SAM&JR")
# C7b: R²₁ "comes close to" R²₂ when it is at least this share of it (the paper's
# 24 Table VI cells have R²₁/R²₂ between 0.939 and 0.999).
R2_RATIO_NULL = 0.9
# Scores are integers: −0.5 separates "negative" (≤ −1) from "non-negative" (≥ 0).
SCORE_NULL = -0.5


@dataclass(frozen=True)
class Claim:
    """One qualitative claim of the paper and the statistic that tests it."""

    id: str
    text: str
    source: str
    statistic: str
    null: float
    direction: str
    describe: str
    needs: str
    parts: tuple[str, ...] = ()


CLAIMS: tuple[Claim, ...] = (
    Claim(
        id="C1a",
        text="Some small-ε AT surrogate transfers better than ST.",
        source="Fig. 2",
        statistic="max_{j small} [A(AT ε_j) − A(ST)]",
        null=0.0,
        direction="greater",
        describe=(
            "Largest gain in pooled ASR A (percentage points) of an AT surrogate with a small "
            "budget (the first ⌈J/2⌉ of the J configured AT ε, by value) over ST. Interval of "
            "the maximum: Bonferroni over the compared ε (see docs/claims.md)."
        ),
        needs="ST and AT surrogates; per-sample PGD transfer outcomes",
    ),
    Claim(
        id="C1b",
        text="The ASR falls again at the largest AT ε.",
        source="Fig. 2",
        statistic="A(AT ε_J) − max_{j<J} A(AT ε_j)",
        null=0.0,
        direction="less",
        describe=(
            "Pooled ASR of the largest-ε AT surrogate minus the best smaller-ε AT surrogate "
            "(negative: the curve has turned down). Interval of the minimum over j < J of "
            "A(AT ε_J) − A(AT ε_j): Bonferroni."
        ),
        needs="at least two AT grid values; per-sample PGD transfer outcomes",
    ),
    Claim(
        id="C1",
        text=(
            "Little robustness: some small-ε AT surrogate beats ST, and the ASR falls again "
            "at the largest ε."
        ),
        source="Fig. 2",
        statistic="min-z(C1a, C1b)",
        null=0.0,
        direction="greater",
        describe="Both parts: supported iff C1a and C1b are, contradicted iff either is.",
        needs="as C1a and C1b",
        parts=("C1a", "C1b"),
    ),
    Claim(
        id="C2",
        text="Adversarial training makes surrogates smoother as ε grows.",
        source="Fig. 3",
        statistic="Spearman ρ(position, MS) over ST, AT ε_1..ε_J",
        null=0.0,
        direction="greater",
        describe=(
            "Spearman rank correlation between the position in the sequence ST (ε = 0), "
            "AT ε_1 < … < ε_J and MS = −log10 σ of each (seed-mean σ): +1 when every larger ε "
            "is smoother."
        ),
        needs="ST and at least two AT grid values; per-sample smoothness",
    ),
    Claim(
        id="C3",
        text="Large-ε adversarial training lowers the gradient similarity to the targets.",
        source="Fig. 4",
        statistic="mean_{j large} GS(AT ε_j) − GS(ST)",
        null=0.0,
        direction="less",
        describe=(
            "Mean over the large-ε AT surrogates (the last ⌊J/2⌋ grid values; the largest "
            "alone when J = 1) of GS minus GS of ST; GS = mean cosine similarity of input "
            "gradients to the targets, averaged over targets."
        ),
        needs="ST and AT surrogates; per-sample surrogate→target similarities",
    ),
    Claim(
        id="C4a",
        text="Strong MU, CM and LS lower the gradient similarity versus ST.",
        source="Figs. 5-6",
        statistic="max_{m ∈ MU,CM,LS} [GS(m τ_max) − GS(ST)]",
        null=0.0,
        direction="less",
        describe=(
            "The weakest reduction of GS among MU, CM and LS at their largest τ (a maximum: "
            "negative means every one lowers GS). Bonferroni interval."
        ),
        needs="ST and at least one of MU, CM, LS; per-sample similarities",
    ),
    Claim(
        id="C4b",
        text="Strong MU, CM and LS lower the transfer ASR versus ST.",
        source="Table II",
        statistic="max_{m ∈ MU,CM,LS} [A(m τ_max) − A(ST)]",
        null=0.0,
        direction="less",
        describe=(
            "The weakest reduction of pooled ASR A among MU, CM and LS at their largest τ "
            "(percentage points). Bonferroni interval."
        ),
        needs="ST and at least one of MU, CM, LS; per-sample PGD transfer outcomes",
    ),
    Claim(
        id="C4",
        text="Strong MU, CM and LS lower both gradient similarity and ASR versus ST.",
        source="Figs. 5-6, Table II",
        statistic="min-z(C4a, C4b)",
        null=0.0,
        direction="greater",
        describe="Both parts: supported iff C4a and C4b are, contradicted iff either is.",
        needs="as C4a and C4b",
        parts=("C4a", "C4b"),
    ),
    Claim(
        id="C5",
        text="IR, JR, ER and SAM make surrogates smoother than ST.",
        source="Figs. 9-10",
        statistic="min_{m ∈ IR,JR,ER,SAM} [mean_τ MS(m τ) − MS(ST)]",
        null=0.0,
        direction="greater",
        describe=(
            "For each regularizer, the mean over its τ grid of MS − MS(ST) = log10(σ_ST/σ_m) "
            "(orders of magnitude smoother); the statistic is the smallest of them. "
            "Bonferroni interval."
        ),
        needs="ST and at least one of IR, JR, ER, SAM; per-sample smoothness",
    ),
    Claim(
        id="C6",
        text="SAM&IR or SAM&JR is the best surrogate row in most Table II columns.",
        source="Table II",
        statistic="share of Table II columns won by SAM&IR or SAM&JR",
        null=0.5,
        direction="greater",
        describe=(
            "Over every Table II column (mode × budget × target), 1 when the better of SAM&IR "
            "and SAM&JR has a higher ASR than every other table row, ½ on a tie, 0 otherwise; "
            "the statistic is the mean over columns ('most' = more than half)."
        ),
        needs="Table II rows (entries' table_row) including SAM&IR or SAM&JR",
    ),
    Claim(
        id="C7a",
        text="Smoothness and similarity correlate with ASR more strongly than accuracy and FP.",
        source="Table VI",
        statistic="mean_cells [min(r_MS, r_GS) − max(abs r_Acc, abs r_FP)]",
        null=0.0,
        direction="greater",
        describe=(
            "Table VI over all surrogate models (mechanism × τ × seed), per (target, budget) "
            "cell of the claims' mode: Pearson r of ASR with MS and GS (signed: the paper's "
            "are positive) against |r| of ASR with Acc and FP; the mean over cells of the "
            "weaker of MS, GS minus the stronger of Acc, FP."
        ),
        needs="all surrogate models: record (test accuracy), smoothness, similarity, transfer",
    ),
    Claim(
        id="C7b",
        text="The joint effect of MS and GS (R²₁) comes close to that of all four factors (R²₂).",
        source="Table VI",
        statistic="mean_cells R²₁ / R²₂",
        null=R2_RATIO_NULL,
        direction="greater",
        describe=(
            "OLS R² of ASR ~ 1 + MS + GS (R²₁) over R² of ASR ~ 1 + Acc + FP + MS + GS (R²₂), "
            f"mean over (target, budget) cells; 'close' = at least {R2_RATIO_NULL:g} (the "
            "paper's cells: 0.939–0.999)."
        ),
        needs="as C7a",
    ),
    Claim(
        id="C7",
        text=(
            "MS and GS correlate with ASR more strongly than Acc and FP, and R²₁ comes close "
            "to R²₂."
        ),
        source="Table VI",
        statistic="min-z(C7a, C7b)",
        null=0.0,
        direction="greater",
        describe="Both parts: supported iff C7a and C7b are, contradicted iff either is.",
        needs="as C7a",
        parts=("C7a", "C7b"),
    ),
    Claim(
        id="C8a",
        text="The D′ surrogates (CO, CM, MU, LS) score negative in Table VII.",
        source="Table VII",
        statistic="max_{s ∈ CO,CM,MU,LS} score(s)",
        null=SCORE_NULL,
        direction="less",
        describe=(
            "score(s) = Σ_t sign(m(s, t) − m(ST, t)) over Table VII's target trainings t, "
            "m = mean gradient similarity of surrogate s to the target trained with t. The "
            "largest D′ score; integer, so < −0.5 means every D′ score ≤ −1. Bonferroni "
            "interval."
        ),
        needs="Table VII per-sample similarities (tables.table7) with ST and D′ rows",
    ),
    Claim(
        id="C8b",
        text="The D surrogates (IR, JR, ER, SAM, SAM&IR, SAM&JR) score non-negative in Table VII.",
        source="Table VII",
        statistic="min_{s ∈ IR,JR,ER,SAM,SAM&IR,SAM&JR} score(s)",
        null=SCORE_NULL,
        direction="greater",
        describe="The smallest D score; > −0.5 means every D score ≥ 0. Bonferroni interval.",
        needs="Table VII per-sample similarities with ST and D rows",
    ),
    Claim(
        id="C8",
        text="In Table VII the D′ surrogates score negative and the D surrogates non-negative.",
        source="Table VII",
        statistic="min-z(C8a, C8b)",
        null=0.0,
        direction="greater",
        describe="Both parts: supported iff C8a and C8b are, contradicted iff either is.",
        needs="as C8a and C8b",
        parts=("C8a", "C8b"),
    ),
)
CLAIMS_BY_ID: dict[str, Claim] = {claim.id: claim for claim in CLAIMS}
