"""Transfer success of stored adversarial examples, and the ASR tables (SPEC §8, §10).

Two success rates are reported for every (surrogate F, target G, attack, ε, mode):

- plain ASR (what the authors' code computed and Tables II–V report):
  untargeted  ASR = mean_i 1[G(x_i') ≠ y_i],
  targeted    ASR = mean_i 1[G(x_i') = t_i],  t_i = (y_i + 1) mod K;
- Definition-3 ASR (what the paper defines, Def. 3): over the n_def3 samples
  with F(x_i) = G(x_i) = y_i only, the fraction with F(x_i') ≠ y_i ∧ G(x_i') ≠ y_i
  (targeted: F(x_i') = G(x_i') = t_i).

The surrogate's fooling probability FP is its white-box success on its own AEs
(untargeted: F(x') ≠ y; targeted: F(x') = t). Rates are fractions in [0,1];
the tables convert to percent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import Tensor, nn

from transferlab.transfer.quantization import L_INF_TOLERANCE, max_linf_distance
from transferlab.transfer.store import AdversarialSet

if TYPE_CHECKING:
    import pandas as pd


def as_labels(values: Any, name: str, length: int | None = None) -> np.ndarray:
    """``values`` (tensor/array/list of ints) as a 1-D int64 array, else ValueError."""
    if isinstance(values, Tensor):
        values = values.detach().cpu().numpy()
    array = np.asarray(values)
    if array.ndim != 1 or not (np.issubdtype(array.dtype, np.integer) or array.size == 0):
        raise ValueError(f"{name} must be a 1-D integer array, got {array.dtype} {array.shape}")
    if length is not None and len(array) != length:
        raise ValueError(f"{name} has {len(array)} entries, expected {length} (one per sample)")
    return array.astype(np.int64)


def fraction(mask: np.ndarray) -> float:
    """Mean of a boolean mask; NaN for an empty one (no denominator, no rate)."""
    return float(mask.mean()) if mask.size else float("nan")


def per_sample_outcomes(
    y: Any,
    pred_target_adv: Any,
    *,
    pred_target_clean: Any,
    pred_surrogate_clean: Any,
    pred_surrogate_adv: Any,
    y_target: Any | None = None,
    index: Any | None = None,
) -> pd.DataFrame:
    """One row per sample, enough to recompute any denominator of SPEC §8.

    Columns: index, y, y_target (−1 when untargeted), the four predictions,
    surrogate_clean_correct = [F(x) = y], target_clean_correct = [G(x) = y],
    surrogate_fooled = [F(x') ≠ y], target_fooled = [G(x') ≠ y],
    surrogate_hit = [F(x') = t], target_hit = [G(x') = t] (False when untargeted),
    success_plain (target_fooled, or target_hit when targeted) and success_def3
    (Definition 3: both fooled — targeted: both hit — with eligible_def3 =
    surrogate_clean_correct ∧ target_clean_correct).
    """
    import pandas as pd  # here, so attack jobs need not import it (~0.7 s)

    y = as_labels(y, "y")
    n = len(y)
    target_adv = as_labels(pred_target_adv, "pred_target_adv", n)
    target_clean = as_labels(pred_target_clean, "pred_target_clean", n)
    surrogate_clean = as_labels(pred_surrogate_clean, "pred_surrogate_clean", n)
    surrogate_adv = as_labels(pred_surrogate_adv, "pred_surrogate_adv", n)
    index = np.arange(n, dtype=np.int64) if index is None else as_labels(index, "index", n)
    targeted = y_target is not None
    t = as_labels(y_target, "y_target", n) if targeted else np.full(n, -1, dtype=np.int64)
    surrogate_hit = (surrogate_adv == t) & targeted
    target_hit = (target_adv == t) & targeted
    surrogate_fooled = surrogate_adv != y
    target_fooled = target_adv != y
    eligible = (surrogate_clean == y) & (target_clean == y)
    if targeted:
        success_plain = target_hit
        success_both = surrogate_hit & target_hit
    else:
        success_plain = target_fooled
        success_both = surrogate_fooled & target_fooled
    return pd.DataFrame(
        {
            "index": index,
            "y": y,
            "y_target": t,
            "pred_surrogate_clean": surrogate_clean,
            "pred_surrogate_adv": surrogate_adv,
            "pred_target_clean": target_clean,
            "pred_target_adv": target_adv,
            "surrogate_clean_correct": surrogate_clean == y,
            "target_clean_correct": target_clean == y,
            "surrogate_fooled": surrogate_fooled,
            "target_fooled": target_fooled,
            "surrogate_hit": surrogate_hit,
            "target_hit": target_hit,
            "eligible_def3": eligible,
            "success_plain": success_plain,
            "success_def3": eligible & success_both,
        }
    )


def summarize_outcomes(outcomes: pd.DataFrame, *, targeted: bool) -> dict[str, Any]:
    """The SPEC §8 rates from a ``per_sample_outcomes`` frame (fractions in [0,1]).

    asr = mean(success_plain); asr_def3 = Σ success_def3 / n_def3 (NaN when
    n_def3 = 0); fp = mean of the surrogate's own success; target_hit_rate =
    mean(target_hit) (NaN untargeted); clean accuracies of F and G.
    """
    eligible = outcomes["eligible_def3"].to_numpy(bool)
    surrogate_success = outcomes["surrogate_hit" if targeted else "surrogate_fooled"]
    return {
        "mode": "targeted" if targeted else "untargeted",
        "n": len(outcomes),
        "n_def3": int(eligible.sum()),
        "asr": fraction(outcomes["success_plain"].to_numpy(bool)),
        "asr_def3": fraction(outcomes["success_def3"].to_numpy(bool)[eligible]),
        "target_hit_rate": (
            fraction(outcomes["target_hit"].to_numpy(bool)) if targeted else float("nan")
        ),
        "fp": fraction(surrogate_success.to_numpy(bool)),
        "surrogate_clean_accuracy": fraction(outcomes["surrogate_clean_correct"].to_numpy(bool)),
        "target_clean_accuracy": fraction(outcomes["target_clean_correct"].to_numpy(bool)),
    }


def transfer_success(
    y: Any,
    pred_target_adv: Any,
    *,
    pred_target_clean: Any,
    pred_surrogate_clean: Any,
    pred_surrogate_adv: Any,
    y_target: Any | None = None,
) -> dict[str, Any]:
    """Plain ASR, Definition-3 ASR, targeted hit rate and FP (SPEC §8, Def. 3).

    Untargeted: asr = mean 1[G(x') ≠ y]; asr_def3 = mean over {F(x)=G(x)=y} of
    1[F(x') ≠ y ∧ G(x') ≠ y]; fp = mean 1[F(x') ≠ y]. Targeted (``y_target``
    given): asr = target_hit_rate = mean 1[G(x') = t]; asr_def3 = mean over
    {F(x)=G(x)=y} of 1[F(x') = G(x') = t]; fp = mean 1[F(x') = t].
    Returns fractions plus n, n_def3 and both clean accuracies.
    """
    outcomes = per_sample_outcomes(
        y,
        pred_target_adv,
        pred_target_clean=pred_target_clean,
        pred_surrogate_clean=pred_surrogate_clean,
        pred_surrogate_adv=pred_surrogate_adv,
        y_target=y_target,
    )
    return summarize_outcomes(outcomes, targeted=y_target is not None)


def fooling_rate(pred_adv: Any, y: Any, y_target: Any | None = None) -> float:
    """The surrogate's white-box success FP (SPEC §8) from its predictions on its AEs.

    Untargeted: FP = mean 1[F(x') ≠ y]; targeted (``y_target`` = t given): mean 1[F(x') = t].
    """
    pred = as_labels(pred_adv, "pred_adv")
    if y_target is not None:
        return fraction(pred == as_labels(y_target, "y_target", len(pred)))
    return fraction(pred != as_labels(y, "y", len(pred)))


@torch.no_grad()
def predict_labels(
    model: nn.Module,
    x: Tensor,
    batch_size: int,
    *,
    device: torch.device | str | None = None,
) -> np.ndarray:
    """argmax_k f(x)_k for every image, in eval mode, batch by batch (int64 array)."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size={batch_size!r} must be a positive integer")
    if device is None:
        first = next(iter(model.parameters()), None)
        device = first.device if first is not None else "cpu"
    was_training = model.training
    model.eval()
    try:
        preds = [
            model(x[start : start + batch_size].to(device)).argmax(dim=1).cpu()
            for start in range(0, len(x), batch_size)
        ]
    finally:
        model.train(was_training)
    if not preds:
        return np.zeros(0, dtype=np.int64)
    return torch.cat(preds).numpy().astype(np.int64)


def evaluate_transfer(
    adv_set: AdversarialSet,
    target_model: nn.Module,
    x_clean: Tensor,
    batch_size: int,
    *,
    device: torch.device | str | None = None,
    pred_target_clean: np.ndarray | None = None,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Evaluate a target model on exactly the stored 8-bit AEs (x_adv/255) and clean images.

    ``x_clean`` must be the clean images in the file's order, i.e.
    ``x_split[adv_set.index]``. Every data set's images are on the 8-bit grid and
    budgets are whole multiples of 1/255, so every stored AE must lie within ε of
    its clean image in L∞ exactly (a float tolerance only); a larger distance means
    an AE over budget or misaligned clean images, and raises.
    Surrogate predictions come from the file. ``pred_target_clean``, when given,
    is the target's prediction on ``x_clean`` (computed once per target and
    reused across a surrogate's files). Returns
    (``transfer_success`` summary, ``per_sample_outcomes`` frame).
    """
    if not isinstance(x_clean, Tensor) or x_clean.ndim != 4:
        raise ValueError("x_clean must be a float tensor (N, C, H, W) of clean images")
    if len(x_clean) != len(adv_set):
        raise ValueError(
            f"x_clean has {len(x_clean)} images but {adv_set.path} holds {len(adv_set)}; "
            "pass x_split[adv_set.index]"
        )
    x_adv = adv_set.x_adv_float()
    if tuple(x_adv.shape) != tuple(x_clean.shape):
        raise ValueError(
            f"x_clean shape {tuple(x_clean.shape)} differs from the stored AEs' "
            f"{tuple(x_adv.shape)} in {adv_set.path}"
        )
    eps = float(adv_set.attrs["eps"])
    if len(x_adv):
        distance = max_linf_distance(adv_set.x_adv, x_clean)
        if distance > eps + L_INF_TOLERANCE:
            raise ValueError(
                f"stored AEs of {adv_set.path} are {distance * 255:.2f}/255 from x_clean "
                f"(budget {eps * 255:.2f}/255): an AE over budget, or x_clean is not "
                "x_split[adv_set.index]"
            )
    pred_target_adv = predict_labels(target_model, x_adv, batch_size, device=device)
    if pred_target_clean is None:
        pred_target_clean = predict_labels(target_model, x_clean, batch_size, device=device)
    elif np.shape(pred_target_clean) != (len(x_clean),):
        raise ValueError(
            f"pred_target_clean has shape {np.shape(pred_target_clean)}; expected ({len(x_clean)},)"
        )
    outcomes = per_sample_outcomes(
        adv_set.y,
        pred_target_adv,
        pred_target_clean=pred_target_clean,
        pred_surrogate_clean=adv_set.pred_clean,
        pred_surrogate_adv=adv_set.pred_adv,
        y_target=adv_set.y_target,
        index=adv_set.index,
    )
    return summarize_outcomes(outcomes, targeted=adv_set.targeted), outcomes
