"""Which of the paper's qualitative claims does a run support? (issue 13.3; docs/claims.md)

One row per claim and data set: a statistic computed from the per-sample files
the pipeline already writes, its 95 % paired two-level bootstrap interval
(``transferlab.bootstrap``: surrogate seeds and evaluation images resampled),
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
  smoother, ``analysis.smoothness_score``);
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
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

from transferlab.analysis import smoothness_score
from transferlab.bootstrap import (
    ResampleWeights,
    draw_weights,
    extremum_interval,
    image_means,
    percentile_interval,
    seed_means,
    verdict,
    weighted_pearson,
    weighted_r_squared,
)
from transferlab.frames import require_columns

__all__ = [
    "CLAIMS",
    "CLAIMS_COLUMNS",
    "Claim",
    "ClaimsInputs",
    "check_claims",
    "claims_inputs",
    "describe_claims",
    "render_claims_markdown",
]

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
SIGMA_FLOOR = 1e-12


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


def _claim(**kwargs: Any) -> Claim:
    return Claim(**kwargs)


CLAIMS: tuple[Claim, ...] = (
    _claim(
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
    _claim(
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
    _claim(
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
    _claim(
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
    _claim(
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
    _claim(
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
    _claim(
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
    _claim(
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
    _claim(
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
    _claim(
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
    _claim(
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
    _claim(
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
    _claim(
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
    _claim(
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
    _claim(
        id="C8b",
        text="The D surrogates (IR, JR, ER, SAM, SAM&IR, SAM&JR) score non-negative in Table VII.",
        source="Table VII",
        statistic="min_{s ∈ IR,JR,ER,SAM,SAM&IR,SAM&JR} score(s)",
        null=SCORE_NULL,
        direction="greater",
        describe="The smallest D score; > −0.5 means every D score ≥ 0. Bonferroni interval.",
        needs="Table VII per-sample similarities with ST and D rows",
    ),
    _claim(
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
_CLAIMS_BY_ID = {claim.id: claim for claim in CLAIMS}


# ---------------------------------------------------------------- inputs


_MODEL_COLUMNS = ("dataset", "surrogate", "method", "tau_index", "tau", "seed", "test_acc")
_TRANSFER_COLUMNS = (
    "dataset", "method", "tau_index", "seed", "mode", "eps", "target", "index", "y",
    "success_plain", "surrogate_success",
)  # fmt: skip
_SMOOTHNESS_COLUMNS = ("dataset", "method", "tau_index", "seed", "index", "y", "sigma")
_SIMILARITY_COLUMNS = ("dataset", "method", "tau_index", "seed", "target", "index", "similarity")
_TABLE7_COLUMNS = (
    "dataset", "source_label", "source_method", "source_seed", "target_label", "index",
    "similarity",
)  # fmt: skip


@dataclass(frozen=True)
class ClaimsInputs:
    """Tidy per-sample frames the claims are computed from (one ``dataset`` column each).

    - ``models``: one row per surrogate model: dataset, surrogate (row label),
      method (mechanism label: ST, MU, …, SAM&JR), tau_index, tau, seed, test_acc
      (fraction), table_row (its Tables II–IV row label, or None).
    - ``transfer``: one row per model × mode × eps (1/255 units) × target × image
      index: y, success_plain, surrogate_success (the surrogate's own success:
      fooled when untargeted, hit when targeted).
    - ``smoothness``: one row per model × image: index, y, sigma (Definition 1).
    - ``similarity``: one row per model × target (architecture label) × image:
      similarity (Definition 2), already averaged over the target's seeds.
    - ``table7``: one row per Table VII pair × image: source_label,
      source_method, source_seed, target_label (target training), index,
      similarity (averaged over target seeds); may be empty.
    """

    models: pd.DataFrame
    transfer: pd.DataFrame
    smoothness: pd.DataFrame
    similarity: pd.DataFrame
    table7: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=_TABLE7_COLUMNS))

    def __post_init__(self) -> None:
        require_columns(self.models, _MODEL_COLUMNS, name="ClaimsInputs.models")
        require_columns(self.transfer, _TRANSFER_COLUMNS, name="ClaimsInputs.transfer")
        require_columns(self.smoothness, _SMOOTHNESS_COLUMNS, name="ClaimsInputs.smoothness")
        require_columns(self.similarity, _SIMILARITY_COLUMNS, name="ClaimsInputs.similarity")
        require_columns(self.table7, _TABLE7_COLUMNS, name="ClaimsInputs.table7")
        keys = ["dataset", "method", "tau_index", "seed"]
        duplicated = self.models.duplicated(keys, keep=False)
        if duplicated.any():
            example = self.models.loc[duplicated, keys].head(3).to_dict("records")
            raise ValueError(f"ClaimsInputs.models lists a model twice, e.g. {example}")


_ENTRY_KEYS = ("dataset", "surrogate", "method", "tau_index", "tau", "seed", "record",
               "smoothness", "transfer_samples")  # fmt: skip


def _read_csv(path: str | Path, what: str, columns: Sequence[str]) -> pd.DataFrame:
    frame = pd.read_csv(path, usecols=lambda c: c in set(columns))
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{path} ({what}) lacks column(s) {missing}; it needs {list(columns)}")
    return frame


def claims_inputs(
    entries: Sequence[Mapping[str, Any]],
    similarity: Mapping[str, Mapping[str, str | Path]],
) -> ClaimsInputs:
    """Read the per-sample files of every surrogate into ``ClaimsInputs``.

    ``entries``: one dict per surrogate model with dataset (label), surrogate
    (row label), method (mechanism label), tau_index, tau, seed, record (model
    JSON: ``metrics.test_acc``), smoothness (per-sample σ CSV: index, y, sigma),
    transfer_samples (``{attack}.samples.csv.gz`` of PGD: index, y, mode, eps,
    target, success_plain, surrogate_fooled, surrogate_hit) and optionally
    table_row (the model's Tables II–IV row label; absent or null when it is not
    a table row). ``similarity``: data set label → {"targets": targets.samples
    CSV, "table7": table7.samples CSV (optional)}; rows of surrogates not in
    ``entries`` are ignored, a target's seeds are averaged per image.
    """
    models, transfer, smoothness = [], [], []
    for number, entry in enumerate(entries):
        missing = [k for k in _ENTRY_KEYS if k not in entry]
        if missing:
            raise ValueError(
                f"claims entry {number} lacks key(s) {missing}; each needs {list(_ENTRY_KEYS)}"
            )
        keys = {k: entry[k] for k in ("dataset", "method", "tau_index", "seed")}
        record = json.loads(Path(entry["record"]).read_text())
        try:
            test_acc = float(record["metrics"]["test_acc"])
        except (KeyError, TypeError):
            raise ValueError(
                f"{entry['record']}: no metrics.test_acc in the model record"
            ) from None
        models.append(
            {
                **keys,
                "surrogate": entry["surrogate"],
                "tau": entry["tau"],
                "test_acc": test_acc,
                "table_row": entry.get("table_row"),
            }
        )
        samples = _read_csv(
            entry["transfer_samples"],
            "per-sample transfer outcomes",
            ["index", "y", "mode", "eps", "target", "success_plain", "surrogate_fooled",
             "surrogate_hit"],
        )  # fmt: skip
        targeted = samples["mode"].to_numpy() == "targeted"
        samples["surrogate_success"] = np.where(
            targeted,
            samples["surrogate_hit"].astype(bool),
            samples["surrogate_fooled"].astype(bool),
        )
        transfer.append(samples.drop(columns=["surrogate_fooled", "surrogate_hit"]).assign(**keys))
        sigma = _read_csv(entry["smoothness"], "per-sample smoothness", ["index", "y", "sigma"])
        smoothness.append(sigma.assign(**keys))
    similarity_rows, table7_rows = [], []
    for dataset, paths in similarity.items():
        if paths.get("targets"):
            pairs = _read_csv(
                paths["targets"],
                "surrogate→target similarity samples",
                ["index", "similarity", "source_method", "source_tau_index", "source_seed",
                 "target_label"],
            )  # fmt: skip
            similarity_rows.append(
                pairs.rename(
                    columns={
                        "source_method": "method",
                        "source_tau_index": "tau_index",
                        "source_seed": "seed",
                        "target_label": "target",
                    }
                )
                .groupby(["method", "tau_index", "seed", "target", "index"], as_index=False)[
                    "similarity"
                ]
                .mean()
                .assign(dataset=dataset)
            )
        if paths.get("table7"):
            pairs = _read_csv(
                paths["table7"],
                "Table VII similarity samples",
                ["index", "similarity", "source_label", "source_method", "source_seed",
                 "target_label"],
            )  # fmt: skip
            keys = ["source_label", "source_method", "source_seed", "target_label", "index"]
            table7_rows.append(
                pairs.groupby(keys, as_index=False, sort=False)["similarity"]
                .mean()
                .assign(dataset=dataset)
            )
    models_df = pd.DataFrame(models, columns=[*_MODEL_COLUMNS, "table_row"])
    known = models_df[["dataset", "method", "tau_index", "seed"]]
    similarity_df = (
        pd.concat(similarity_rows, ignore_index=True).merge(known, how="inner")
        if similarity_rows
        else pd.DataFrame(columns=_SIMILARITY_COLUMNS)
    )
    return ClaimsInputs(
        models=models_df,
        transfer=pd.concat(transfer, ignore_index=True)
        if transfer
        else pd.DataFrame(columns=_TRANSFER_COLUMNS),
        smoothness=pd.concat(smoothness, ignore_index=True)
        if smoothness
        else pd.DataFrame(columns=_SMOOTHNESS_COLUMNS),
        similarity=similarity_df,
        table7=pd.concat(table7_rows, ignore_index=True)
        if table7_rows
        else pd.DataFrame(columns=_TABLE7_COLUMNS),
    )


# ---------------------------------------------------------------- replicate arrays


class ClaimNotEvaluableError(Exception):
    """A claim cannot be evaluated on this configuration; the message says why."""


@dataclass
class _Estimate:
    value: float
    low: float
    high: float
    replicates: NDArray[np.float64]  # (B+1,) the statistic per replicate (for se)
    note: str = ""


def _ordered(values: pd.Series) -> list[Any]:
    """Distinct values in order of first appearance (without iterating rows in Python)."""
    return pd.unique(values).tolist()


def _tau_order(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


class _Dataset:
    """Replicate means of one data set: every array ends in the replicate axis R = B+1."""

    def __init__(
        self,
        dataset: str,
        inputs: ClaimsInputs,
        *,
        resamples: int,
        seed: int,
        level: float,
        mode: str,
        budget_position: int | None,
    ) -> None:
        self.dataset, self.level, self.mode = dataset, level, mode
        self._table6_cache: tuple[NDArray[np.float64], NDArray[np.float64], str] | None = None

        def pick(frame: pd.DataFrame) -> pd.DataFrame:
            return frame[frame["dataset"] == dataset]

        models = pick(inputs.models).reset_index(drop=True)
        transfer = pick(inputs.transfer)
        smoothness = pick(inputs.smoothness)
        similarity = pick(inputs.similarity)
        table7 = pick(inputs.table7)

        configs = models.drop_duplicates(["method", "tau_index"])[
            ["method", "tau_index", "tau", "surrogate"]
        ]
        self.configs = configs.reset_index(drop=True)
        rows = {}
        for r in models.itertuples(index=False):
            if isinstance(r.table_row, str) and r.table_row:
                rows[(r.method, int(r.tau_index))] = r.table_row
        self.table_rows = rows
        self.seeds = tuple(sorted(int(s) for s in models["seed"].unique()))
        config_index = pd.MultiIndex.from_frame(self.configs[["method", "tau_index"]])
        seed_index = pd.Index(self.seeds)
        images = np.unique(
            np.concatenate(
                [
                    f["index"].to_numpy(dtype=np.int64)
                    for f in (transfer, smoothness, similarity, table7)
                ]
            )
        )
        if images.size == 0:
            raise ValueError(f"{dataset}: no per-sample rows (transfer, smoothness, similarity)")
        self.n_images = {
            "transfer": int(transfer["index"].nunique()),
            "metrics": int(smoothness["index"].nunique()),
        }
        self.image_note = self._image_labels_note(transfer, smoothness)
        image_index = pd.Index(images)
        self.weights: ResampleWeights = draw_weights(
            self.seeds, images, resamples=resamples, seed=seed, stream=dataset
        )
        self.resamples = resamples
        n_c, n_s, n_i = len(self.configs), len(self.seeds), len(images)

        def codes(frame: pd.DataFrame) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray]:
            c = config_index.get_indexer(pd.MultiIndex.from_frame(frame[["method", "tau_index"]]))
            s = seed_index.get_indexer(frame["seed"].astype(np.int64))
            keep = (c >= 0) & (s >= 0)
            return c[keep], s[keep], keep

        self.acc = np.full((n_c, n_s), np.nan)
        c, s, _ = codes(models)
        self.acc[c, s] = models["test_acc"].to_numpy(dtype=np.float64)

        # transfer: (C, S, K, N) 0/1 with NaN where missing
        transfer = transfer.assign(eps=transfer["eps"].astype(np.int64))
        present_modes = set(_ordered(transfer["mode"]))
        modes = [m for m in ("untargeted", "targeted") if m in present_modes]
        self.budgets = sorted(int(e) for e in transfer["eps"].unique())
        if not self.budgets:
            raise ValueError(f"{dataset}: no per-sample transfer outcomes")
        if budget_position is None:
            budget_position = len(self.budgets) // 2
        if not 0 <= budget_position < len(self.budgets):
            raise ValueError(
                f"budget_position {budget_position} out of range for {dataset}'s "
                f"{len(self.budgets)} budgets {self.budgets}; allowed 0..{len(self.budgets) - 1}"
            )
        self.eps = self.budgets[budget_position]
        self.budget_position = budget_position
        targets = _ordered(transfer["target"])
        self.targets = targets
        self.cells = [(m, e, t) for m in modes for e in self.budgets for t in targets]
        cell_index = pd.MultiIndex.from_tuples(self.cells, names=["mode", "eps", "target"])
        fp_cells = [(m, e) for m in modes for e in self.budgets]
        fp_index = pd.MultiIndex.from_tuples(fp_cells, names=["mode", "eps"])
        self.fp_cells = fp_cells
        c, s, keep = codes(transfer)
        kept = transfer[keep]
        k = cell_index.get_indexer(pd.MultiIndex.from_frame(kept[["mode", "eps", "target"]]))
        i = image_index.get_indexer(kept["index"])
        cube = np.full((n_c, n_s, len(self.cells), n_i), np.nan, dtype=np.float32)
        cube[c, s, k, i] = kept["success_plain"].astype(bool).to_numpy(dtype=np.float32)
        self.asr_model = 100.0 * image_means(cube, self.weights.images)  # (C, S, K, R)
        kf = fp_index.get_indexer(pd.MultiIndex.from_frame(kept[["mode", "eps"]]))
        fp = np.full((n_c, n_s, len(fp_cells), n_i), np.nan, dtype=np.float32)
        fp[c, s, kf, i] = kept["surrogate_success"].astype(bool).to_numpy(dtype=np.float32)
        self.fp_model = image_means(fp, self.weights.images)  # (C, S, KF, R)
        del cube, fp
        self.asr = seed_means(np.moveaxis(self.asr_model, 1, 2), self.weights.seeds)  # (C, K, R)

        # smoothness: (C, S, N)
        c, s, keep = codes(smoothness)
        sigma = np.full((n_c, n_s, n_i), np.nan)
        values = smoothness.loc[keep, "sigma"].to_numpy(dtype=np.float64)
        if np.any(~np.isfinite(values)) or np.any(values < 0):
            raise ValueError(f"{dataset}: per-sample sigma must be finite and >= 0")
        sigma[c, s, image_index.get_indexer(smoothness.loc[keep, "index"])] = values
        self.sigma_model = image_means(sigma, self.weights.images)  # (C, S, R)
        self.ms = self._ms(seed_means(self.sigma_model, self.weights.seeds))  # (C, R)

        # similarity to the targets: (C, S, T, N)
        self.gs_targets = _ordered(similarity["target"])
        c, s, keep = codes(similarity)
        gs = np.full((n_c, n_s, len(self.gs_targets), n_i), np.nan)
        kept = similarity[keep]
        t = pd.Index(self.gs_targets).get_indexer(kept["target"])
        gs[c, s, t, image_index.get_indexer(kept["index"])] = kept["similarity"].to_numpy(float)
        self.gs_model = image_means(gs, self.weights.images)  # (C, S, T, R)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a model without similarities
            gs_cfg = seed_means(np.moveaxis(self.gs_model, 1, 2), self.weights.seeds)
            self.gs = np.nanmean(gs_cfg, axis=1)  # (C, R), mean over targets

        # Table VII: (P sources, T7 targets, R) cell means over source seeds
        self.t7_sources = _ordered(table7["source_label"])
        labels = table7.drop_duplicates("source_label")
        self.t7_methods = dict(zip(labels["source_label"], labels["source_method"], strict=True))
        self.t7_targets = _ordered(table7["target_label"])
        t7 = np.full((len(self.t7_sources), n_s, len(self.t7_targets), n_i), np.nan)
        if len(table7):
            p = pd.Index(self.t7_sources).get_indexer(table7["source_label"])
            s7 = seed_index.get_indexer(table7["source_seed"].astype(np.int64))
            t = pd.Index(self.t7_targets).get_indexer(table7["target_label"])
            i = image_index.get_indexer(table7["index"])
            ok = s7 >= 0
            t7[p[ok], s7[ok], t[ok], i[ok]] = table7["similarity"].to_numpy(float)[ok]
        self.t7 = seed_means(
            np.moveaxis(image_means(t7, self.weights.images), 1, 2), self.weights.seeds
        )  # (P, T7, R)

    @staticmethod
    def _image_labels_note(transfer: pd.DataFrame, smoothness: pd.DataFrame) -> str:
        a = transfer.drop_duplicates("index").set_index("index")["y"]
        b = smoothness.drop_duplicates("index").set_index("index")["y"]
        common = a.index.intersection(b.index)
        differ = int((a.loc[common] != b.loc[common]).sum())
        if differ:
            return (
                f"evaluation and metric images disagree on the label at {differ} shared "
                "indices (different splits?); image draws are still tied by index"
            )
        return ""

    @staticmethod
    def _ms(sigma: NDArray[np.float64]) -> NDArray[np.float64]:
        out = np.full(sigma.shape, np.nan)
        finite = np.isfinite(sigma)
        out[finite] = smoothness_score(sigma[finite], floor=SIGMA_FLOOR)
        return out

    # ---- lookups
    def configs_of(self, method: str) -> list[int]:
        """Configuration rows of a mechanism, by increasing τ value (τ index if not numeric)."""
        rows = self.configs.index[self.configs["method"] == method].tolist()
        return sorted(
            rows,
            key=lambda r: (
                _tau_order(self.configs.at[r, "tau"]),
                int(self.configs.at[r, "tau_index"]),
            ),
        )

    def only(self, method: str) -> int:
        rows = self.configs_of(method)
        if not rows:
            raise ClaimNotEvaluableError(f"no {method} surrogate in the configuration")
        return rows[0]

    def pooled_asr(self, config: int) -> NDArray[np.float64]:
        """A(k) = mean over targets of ASR(k, mode, ε*, t), per replicate (R,)."""
        cells = [n for n, (m, e, _) in enumerate(self.cells) if m == self.mode and e == self.eps]
        if not cells:
            raise ClaimNotEvaluableError(f"no {self.mode} transfer outcomes at {self.eps}/255")
        return self.asr[config, cells].mean(axis=0)

    def pooling_note(self) -> str:
        return (
            f"A = {self.mode} PGD ASR at {self.eps}/255 (budget {self.budget_position + 1} of "
            f"{len(self.budgets)}), mean over {len(self.targets)} targets"
        )

    def sample_note(self) -> str:
        seeds = len(self.seeds)
        note = (
            f"{seeds} seed{'s' if seeds != 1 else ''}, {self.n_images['transfer']} attack / "
            f"{self.n_images['metrics']} metric images"
        )
        if seeds == 1:
            note += "; one seed: the interval covers image sampling only"
        return note

    def at_grid(self, minimum: int = 1) -> list[int]:
        rows = self.configs_of("AT")
        if len(rows) < minimum:
            raise ClaimNotEvaluableError(
                f"needs at least {minimum} AT grid value(s); the configuration has {len(rows)}"
            )
        return rows

    def label(self, config: int) -> str:
        """The configuration's surrogate label from the entries (``AT eps=0.5``)."""
        return str(self.configs.at[config, "surrogate"])

    def interval(self, replicates: NDArray[np.float64], note: str = "") -> _Estimate:
        low, high = percentile_interval(replicates, self.level)
        return _Estimate(float(replicates[0]), low, high, replicates, _undefined(replicates, note))

    def extremum(self, members: NDArray[np.float64], kind: str, note: str = "") -> _Estimate:
        value, low, high = extremum_interval(members, kind, self.level)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            series = np.nanmax(members, axis=0) if kind == "max" else np.nanmin(members, axis=0)
        return _Estimate(value, low, high, series, _undefined(series, note))


def _undefined(replicates: NDArray[np.float64], note: str) -> str:
    bad = int(np.isnan(replicates[1:]).sum())
    if bad and not np.isnan(replicates[0]):
        extra = f"{bad} of {len(replicates) - 1} replicates undefined (dropped)"
        return f"{note}; {extra}" if note else extra
    return note


# ---------------------------------------------------------------- the claims


def _c1a(d: _Dataset) -> _Estimate:
    st, at = d.only("ST"), d.at_grid(1)
    small = at[: math.ceil(len(at) / 2)]
    members = np.stack([d.pooled_asr(k) - d.pooled_asr(st) for k in small])
    names = ", ".join(d.label(k) for k in small)
    return d.extremum(members, "max", f"small ε: {names}; {d.pooling_note()}")


def _c1b(d: _Dataset) -> _Estimate:
    at = d.at_grid(2)
    top = at[-1]
    members = np.stack([d.pooled_asr(top) - d.pooled_asr(k) for k in at[:-1]])
    return d.extremum(members, "min", f"largest: {d.label(top)}; {d.pooling_note()}")


def _c2(d: _Dataset) -> _Estimate:
    sequence = [d.only("ST"), *d.at_grid(2)]
    ms = d.ms[sequence]  # (J+1, R)
    finite = np.all(np.isfinite(ms), axis=0)
    ranks = stats.rankdata(np.where(finite, ms, 0.0), axis=0)
    position = np.arange(len(sequence), dtype=np.float64)[:, None]
    rho = weighted_pearson(np.broadcast_to(position, ranks.shape), ranks, np.ones_like(ranks))
    rho = np.where(finite, rho, np.nan)
    return d.interval(rho, "sequence: " + ", ".join(d.label(k) for k in sequence))


def _c3(d: _Dataset) -> _Estimate:
    st, at = d.only("ST"), d.at_grid(1)
    large = at[len(at) - max(len(at) // 2, 1) :]
    if not len(d.gs_targets):
        raise ClaimNotEvaluableError("no surrogate→target similarity samples")
    statistic = np.mean([d.gs[k] for k in large], axis=0) - d.gs[st]
    return d.interval(statistic, "large ε: " + ", ".join(d.label(k) for k in large))


def _strong(d: _Dataset) -> tuple[int, list[int], str]:
    st = d.only("ST")
    present = [m for m in STRONG_AUGMENTATIONS if d.configs_of(m)]
    if not present:
        raise ClaimNotEvaluableError(f"none of {', '.join(STRONG_AUGMENTATIONS)} is configured")
    strongest = [d.configs_of(m)[-1] for m in present]
    absent = [m for m in STRONG_AUGMENTATIONS if m not in present]
    note = "strong: " + ", ".join(d.label(k) for k in strongest)
    if absent:
        note += f"; not configured: {', '.join(absent)}"
    return st, strongest, note


def _c4a(d: _Dataset) -> _Estimate:
    st, strongest, note = _strong(d)
    if not len(d.gs_targets):
        raise ClaimNotEvaluableError("no surrogate→target similarity samples")
    return d.extremum(np.stack([d.gs[k] - d.gs[st] for k in strongest]), "max", note)


def _c4b(d: _Dataset) -> _Estimate:
    st, strongest, note = _strong(d)
    members = np.stack([d.pooled_asr(k) - d.pooled_asr(st) for k in strongest])
    return d.extremum(members, "max", f"{note}; {d.pooling_note()}")


def _c5(d: _Dataset) -> _Estimate:
    st = d.only("ST")
    present = [m for m in REGULARIZERS if d.configs_of(m)]
    if not present:
        raise ClaimNotEvaluableError(f"none of {', '.join(REGULARIZERS)} is configured")
    members = np.stack([d.ms[d.configs_of(m)].mean(axis=0) - d.ms[st] for m in present])
    absent = [m for m in REGULARIZERS if m not in present]
    note = "regularizers: " + ", ".join(present)
    if absent:
        note += f"; not configured: {', '.join(absent)}"
    return d.extremum(members, "min", note)


def _c6(d: _Dataset) -> _Estimate:
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
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        best_combo = np.nanmax(d.asr[combos], axis=0)  # (K, R)
        best_other = np.nanmax(d.asr[others], axis=0)
    wins = np.where(best_combo > best_other, 1.0, np.where(best_combo == best_other, 0.5, 0.0))
    wins = np.where(np.isnan(best_combo) | np.isnan(best_other), np.nan, wins)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        share = np.nanmean(wins, axis=0)
    return d.interval(share, f"{len(d.cells)} columns (mode × budget × target), {len(rows)} rows")


def _table6(d: _Dataset) -> tuple[NDArray[np.float64], NDArray[np.float64], str]:
    """Per (target, budget) cell of the claims' mode: (r (cells, 4, R), R² (cells, 2, R)).

    r: Pearson r of ASR with Acc, FP, MS, GS; R²: of ASR ~ MS + GS and ASR ~ all
    four, over every surrogate model with frequency weight = its seed's count
    (``analysis.table6``'s statistics on the resampled per-model means).
    """
    if d._table6_cache is None:
        d._table6_cache = _table6_statistics(d)
    return d._table6_cache


def _table6_statistics(d: _Dataset) -> tuple[NDArray[np.float64], NDArray[np.float64], str]:
    n_s = len(d.seeds)
    ms_model = _Dataset._ms(d.sigma_model)  # (C, S, R)
    r_rows, r2_rows = [], []
    excluded = 0
    for e in d.budgets:
        f = d.fp_cells.index((d.mode, e)) if (d.mode, e) in d.fp_cells else None
        for t in d.targets:
            if f is None or t not in d.gs_targets:
                continue
            k = d.cells.index((d.mode, e, t))
            asr = d.asr_model[:, :, k]
            fp = d.fp_model[:, :, f]
            gs = d.gs_model[:, :, d.gs_targets.index(t)]
            acc = np.broadcast_to(d.acc[:, :, None], asr.shape)
            factors = np.stack([acc, fp, ms_model, gs, asr])  # (5, C, S, R)
            present = np.all(np.isfinite(factors[..., 0]), axis=0)  # (C, S)
            excluded = max(excluded, int((~present & np.isfinite(d.acc)).sum()))
            flat = factors[:, present]  # (5, M, R)
            seed_of = np.nonzero(present)[1]
            w = d.weights.seeds[:, seed_of].T  # (M, R)
            a, fpv, msv, gsv, y = flat
            r_rows.append(np.stack([weighted_pearson(x, y, w) for x in (a, fpv, msv, gsv)]))
            r2_rows.append(
                np.stack(
                    [
                        weighted_r_squared(y, np.stack([msv, gsv], axis=1), w),
                        weighted_r_squared(y, np.stack([a, fpv, msv, gsv], axis=1), w),
                    ]
                )
            )
    if not r_rows:
        raise ClaimNotEvaluableError(
            f"no (target, budget) cell with {d.mode} outcomes and similarities"
        )
    note = f"{len(r_rows)} (target, budget) cells, {d.mode}; models pooled over {n_s} seeds"
    if excluded:
        note += f"; {excluded} models lack a factor and are left out"
    return np.stack(r_rows), np.stack(r2_rows), note


def _c7a(d: _Dataset) -> _Estimate:
    r, _, note = _table6(d)
    margin = np.minimum(r[:, 2], r[:, 3]) - np.maximum(np.abs(r[:, 0]), np.abs(r[:, 1]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return d.interval(np.nanmean(margin, axis=0), note)


def _c7b(d: _Dataset) -> _Estimate:
    _, r2, note = _table6(d)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ratio = np.nanmean(r2[:, 0] / r2[:, 1], axis=0)
    return d.interval(ratio, note)


def _scores(d: _Dataset, members: Sequence[str]) -> tuple[NDArray[np.float64], str]:
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


def _c8a(d: _Dataset) -> _Estimate:
    scores, note = _scores(d, D_PRIME_SURROGATES)
    return d.extremum(scores, "max", note)


def _c8b(d: _Dataset) -> _Estimate:
    scores, note = _scores(d, D_SURROGATES)
    return d.extremum(scores, "min", note)


_EVALUATORS: dict[str, Callable[[_Dataset], _Estimate]] = {
    "C1a": _c1a,
    "C1b": _c1b,
    "C2": _c2,
    "C3": _c3,
    "C4a": _c4a,
    "C4b": _c4b,
    "C5": _c5,
    "C6": _c6,
    "C7a": _c7a,
    "C7b": _c7b,
    "C8a": _c8a,
    "C8b": _c8b,
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


def _combine(claim: Claim, parts: dict[str, _Estimate | str]) -> tuple[float, float, float, str]:
    """(value, low, high, note) of a combined claim from its parts (module docstring)."""
    values, lows, highs, missing = [], [], [], []
    for part_id in claim.parts:
        part = parts[part_id]
        spec = _CLAIMS_BY_ID[part_id]
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
    datasets = _ordered(inputs.models["dataset"])
    if not datasets:
        raise ValueError("ClaimsInputs.models is empty: no surrogate to check claims on")
    rows: list[dict[str, Any]] = []
    for dataset in datasets:
        d = _Dataset(
            dataset,
            inputs,
            resamples=resamples,
            seed=seed,
            level=level,
            mode=mode,
            budget_position=budget_position,
        )
        results: dict[str, _Estimate | str] = {}
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
                    estimate = _EVALUATORS[claim.id](d)
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


# ---------------------------------------------------------------- rendering


def describe_claims() -> str:
    """Markdown definitions of every claim: statistic, null, direction, data needed."""
    lines = ["## Definitions", ""]
    for claim in CLAIMS:
        side = ">" if claim.direction == "greater" else "<"
        lines.append(
            f"- **{claim.id}** ({claim.source}): {claim.text} Statistic: `{claim.statistic}`; "
            f"claimed: statistic {side} {claim.null:g}. {claim.describe} Needs: {claim.needs}."
        )
    return "\n".join(lines) + "\n"


def _number(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    return f"{value:.3g}"


def render_claims_markdown(frame: pd.DataFrame) -> str:
    """The claims table (one row per claim × data set) and the claims' definitions."""
    missing = [c for c in CLAIMS_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"render_claims_markdown: frame lacks column(s) {missing}")
    resamples = sorted(set(int(n) for n in frame["n_resamples"])) if len(frame) else []
    lines = [
        "# Which of the paper's claims does this run support?",
        "",
        "Verdict: *supported* when the 95 % bootstrap interval (percentile; surrogate seeds and "
        "evaluation images resampled, paired across models; "
        f"{', '.join(map(str, resamples)) or 0} resamples) lies entirely on the claimed side of "
        "the null, *contradicted* when entirely on the other side, *inconclusive* when it "
        "contains the null.",
        "",
        "| claim | data set | claim text | statistic | value | 95 % interval | claimed | verdict "
        "| source | note |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in frame.itertuples(index=False):
        side = ">" if row.direction == "greater" else "<"
        interval = f"[{_number(row.ci_low)}, {_number(row.ci_high)}]"
        cells = [
            str(row.claim),
            str(row.dataset),
            str(row.text),
            f"`{row.statistic}`",
            _number(row.value),
            interval,
            f"{side} {row.null:g}",
            f"**{row.verdict}**",
            str(row.source),
            "" if pd.isna(row.note) else str(row.note),
        ]
        # a literal | would end the cell (report_pages splits rows on every |)
        lines.append("| " + " | ".join(cell.replace("|", "/") for cell in cells) + " |")
    return "\n".join(lines) + "\n\n" + describe_claims()
