"""One data set's per-sample inputs as bootstrap replicate means (``DatasetReplicates``).

Every array ends in the replicate axis R = B+1 (replicate 0: the data as
observed). The seed and image weights of ``explain.bootstrap.draw_weights`` are drawn
once per data set and shared by every model, so differences between models are
paired (the same resampled seeds and images on both sides).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from transferlab.explain.bootstrap import ResampleWeights, draw_weights, image_means, seed_means
from transferlab.explain.claims.inputs import ClaimsInputs
from transferlab.explain.claims.statistics import (
    ClaimNotEvaluableError,
    Estimate,
    extremum_estimate,
    interval_estimate,
    quiet_all_nan_reductions,
    smoothness_scores,
)

T = TypeVar("T")


def ordered(values: pd.Series) -> list[Any]:
    """Distinct values in order of first appearance (without iterating rows in Python)."""
    return pd.unique(values).tolist()


def _tau_order(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


class DatasetReplicates:
    """Replicate means of one data set: every array ends in the replicate axis R = B+1.

    C configurations (``configs``: method, tau_index, tau, surrogate; k = row),
    S seeds (``seeds``), K transfer cells (``cells``: mode, eps, target), KF
    surrogate-success cells (``fp_cells``: mode, eps), T similarity targets
    (``gs_targets``), P Table VII sources × T7 target trainings (``t7_sources``,
    ``t7_targets``). Per model: ``acc`` (C, S) test accuracy, ``asr_model``
    (C, S, K, R) ASR in %, ``fp_model`` (C, S, KF, R), ``sigma_model`` (C, S, R),
    ``gs_model`` (C, S, T, R). Per configuration (seed means): ``asr`` (C, K, R),
    ``ms`` (C, R) = MS, ``gs`` (C, R) = GS (mean over targets), ``t7`` (P, T7, R).
    ``eps`` is the budget ε* of the pooled ASR A, ``mode`` its mode.
    """

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
        self._shared: dict[str, Any] = {}

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
        present_modes = set(ordered(transfer["mode"]))
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
        targets = ordered(transfer["target"])
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
        self.asr = self._over_seeds(self.asr_model)  # (C, K, R)

        # smoothness: (C, S, N)
        c, s, keep = codes(smoothness)
        sigma = np.full((n_c, n_s, n_i), np.nan)
        values = smoothness.loc[keep, "sigma"].to_numpy(dtype=np.float64)
        if np.any(~np.isfinite(values)) or np.any(values < 0):
            raise ValueError(f"{dataset}: per-sample sigma must be finite and >= 0")
        sigma[c, s, image_index.get_indexer(smoothness.loc[keep, "index"])] = values
        self.sigma_model = image_means(sigma, self.weights.images)  # (C, S, R)
        self.ms = smoothness_scores(seed_means(self.sigma_model, self.weights.seeds))  # (C, R)

        # similarity to the targets: (C, S, T, N)
        self.gs_targets = ordered(similarity["target"])
        c, s, keep = codes(similarity)
        gs = np.full((n_c, n_s, len(self.gs_targets), n_i), np.nan)
        kept = similarity[keep]
        t = pd.Index(self.gs_targets).get_indexer(kept["target"])
        gs[c, s, t, image_index.get_indexer(kept["index"])] = kept["similarity"].to_numpy(float)
        self.gs_model = image_means(gs, self.weights.images)  # (C, S, T, R)
        with quiet_all_nan_reductions():  # a model without similarities
            gs_cfg = self._over_seeds(self.gs_model)
            self.gs = np.nanmean(gs_cfg, axis=1)  # (C, R), mean over targets

        # Table VII: (P sources, T7 targets, R) cell means over source seeds
        self.t7_sources = ordered(table7["source_label"])
        labels = table7.drop_duplicates("source_label")
        self.t7_methods = dict(zip(labels["source_label"], labels["source_method"], strict=True))
        self.t7_targets = ordered(table7["target_label"])
        t7 = np.full((len(self.t7_sources), n_s, len(self.t7_targets), n_i), np.nan)
        if len(table7):
            p = pd.Index(self.t7_sources).get_indexer(table7["source_label"])
            s7 = seed_index.get_indexer(table7["source_seed"].astype(np.int64))
            t = pd.Index(self.t7_targets).get_indexer(table7["target_label"])
            i = image_index.get_indexer(table7["index"])
            ok = s7 >= 0
            t7[p[ok], s7[ok], t[ok], i[ok]] = table7["similarity"].to_numpy(float)[ok]
        self.t7 = self._over_seeds(image_means(t7, self.weights.images))  # (P, T7, R)

    def _over_seeds(self, per_model: NDArray[np.float64]) -> NDArray[np.float64]:
        """(C, S, X, R) replicate means per model → (C, X, R): the seed means (seed axis 1)."""
        return seed_means(np.moveaxis(per_model, 1, 2), self.weights.seeds)

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
        """The configuration row of a mechanism with one τ (ST); its smallest τ otherwise."""
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
        """What A is on this data set (mode, budget, number of targets), for a claim's note."""
        return (
            f"A = {self.mode} PGD ASR at {self.eps}/255 (budget {self.budget_position + 1} of "
            f"{len(self.budgets)}), mean over {len(self.targets)} targets"
        )

    def sample_note(self) -> str:
        """How many seeds and images the intervals resample, for a claim's note."""
        seeds = len(self.seeds)
        note = (
            f"{seeds} seed{'s' if seeds != 1 else ''}, {self.n_images['transfer']} attack / "
            f"{self.n_images['metrics']} metric images"
        )
        if seeds == 1:
            note += "; one seed: the interval covers image sampling only"
        return note

    def require_similarities(self) -> None:
        """Not evaluable without surrogate→target similarity samples (GS: C3, C4a)."""
        if not len(self.gs_targets):
            raise ClaimNotEvaluableError("no surrogate→target similarity samples")

    def at_grid(self, minimum: int = 1) -> list[int]:
        """The AT configurations by increasing ε; not evaluable with fewer than ``minimum``."""
        rows = self.configs_of("AT")
        if len(rows) < minimum:
            raise ClaimNotEvaluableError(
                f"needs at least {minimum} AT grid value(s); the configuration has {len(rows)}"
            )
        return rows

    def label(self, config: int) -> str:
        """The configuration's surrogate label from the entries (``AT eps=0.5``)."""
        return str(self.configs.at[config, "surrogate"])

    def interval(self, replicates: NDArray[np.float64], note: str = "") -> Estimate:
        """``statistics.interval_estimate`` at this check's level."""
        return interval_estimate(replicates, self.level, note)

    def extremum(self, members: NDArray[np.float64], kind: str, note: str = "") -> Estimate:
        """``statistics.extremum_estimate`` at this check's level."""
        return extremum_estimate(members, kind, self.level, note)

    def shared(self, key: str, compute: Callable[[DatasetReplicates], T]) -> T:
        """``compute(self)``, computed once per data set for the claims that share it (C7a and
        C7b: the Table VI statistics)."""
        if key not in self._shared:
            self._shared[key] = compute(self)
        return self._shared[key]


# A claim's statistic on one data set (a family module's EVALUATORS maps claim ids to these).
ClaimEvaluator = Callable[[DatasetReplicates], Estimate]
