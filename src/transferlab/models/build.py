"""``build_model``: a registered architecture behind its normalization layer (SPEC §1, §3)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from transferlab.models.catalog import ARCHITECTURES, ArchitectureInfo
from transferlab.models.normalization import Normalize, NormalizedClassifier


def architecture_names() -> list[str]:
    """Sorted names of every registered architecture."""
    return ARCHITECTURES.names()


def architecture_info(arch: str) -> ArchitectureInfo:
    """The registry entry of ``arch``; UnknownNameError lists the allowed names."""
    return ARCHITECTURES.get(arch)


def build_model(
    arch: str,
    *,
    num_classes: int,
    mean: Sequence[float],
    std: Sequence[float],
    width: float = 1.0,
    pretrained: bool = False,
    **kwargs: Any,
) -> NormalizedClassifier:
    """f(x) = net(normalize(x)) for images x ∈ [0,1]^{N×3×H×W}, returning logits (SPEC §1, §3).

    ``width`` scales CIFAR-style channel counts (ImageNet-style models accept
    only 1.0); ``pretrained`` loads ImageNet weights (ImageNet-style only) and
    raises ``PretrainedWeightsUnavailable`` when they cannot be found offline;
    ``kwargs`` are architecture-specific options. Parameters are initialized
    from torch's global RNG, so ``torch.manual_seed`` makes the result
    deterministic. The returned model's ``arch_spec`` is exactly this call's
    keyword arguments, so ``build_model(**model.arch_spec)`` rebuilds it.
    """
    info = ARCHITECTURES.get(arch)
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive integer, got {num_classes!r}")
    if not isinstance(pretrained, bool):
        raise ValueError(f"pretrained must be True or False, got {pretrained!r}")
    normalize = Normalize(mean, std)
    if normalize.mean.shape[1] != 3:
        raise ValueError(
            f"mean/std must have 3 entries (RGB images), got {normalize.mean.shape[1]}"
        )
    arch_spec: dict[str, Any] = {
        "arch": arch,
        "num_classes": num_classes,
        # The caller's float64 values, not the float32 buffers, so specs compare equal.
        "mean": [float(v) for v in mean],
        "std": [float(v) for v in std],
        "width": width,
        "pretrained": pretrained,
        **kwargs,
    }
    try:
        json.dumps(arch_spec)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"architecture options must be JSON-serializable (they are stored in model "
            f"files), got {kwargs!r}: {error}"
        ) from None
    net = info.factory(num_classes, width, pretrained, **kwargs)
    return NormalizedClassifier(
        normalize, net, piecewise_linear=info.piecewise_linear, arch_spec=arch_spec
    )
