"""The architecture registry (SPEC §3): one entry per surrogate/target network.

Each family module registers its builders here with :func:`register_architecture`;
the package ``__init__`` imports every family module so the registry is always full.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from torch import nn

from transferlab.registry import Registry

Family = Literal["cifar", "imagenet"]

# (num_classes, width, pretrained, **kwargs) -> network on *normalized* images.
ArchitectureFactory = Callable[..., nn.Module]


@dataclass(frozen=True)
class ArchitectureInfo:
    """What the pipeline needs to know about an architecture besides its weights.

    ``native_size`` is the input side length the architecture was designed for
    (32 for CIFAR-style, 224 for ImageNet-style); ``min_size`` is the smallest
    square input side the forward pass is guaranteed (and tested) to accept.
    ``piecewise_linear`` is True when, in eval mode, the logits are a
    piecewise-linear function of the input (only ReLU/ReLU6, max/avg pooling,
    affine BN, linear layers, addition and concatenation),
    which selects the exact Hessian estimator of SPEC §5.
    """

    name: str
    factory: ArchitectureFactory
    family: Family
    native_size: int
    min_size: int
    piecewise_linear: bool
    description: str


ARCHITECTURES: Registry[ArchitectureInfo] = Registry("architecture")

NATIVE_SIZE: dict[str, int] = {"cifar": 32, "imagenet": 224}


def register_architecture(
    name: str,
    *,
    family: Family,
    piecewise_linear: bool,
    min_size: int,
    description: str,
) -> Callable[[ArchitectureFactory], ArchitectureFactory]:
    """Decorator registering ``factory`` in :data:`ARCHITECTURES` under ``name``."""

    def decorator(factory: ArchitectureFactory) -> ArchitectureFactory:
        info = ArchitectureInfo(
            name=name,
            factory=factory,
            family=family,
            native_size=NATIVE_SIZE[family],
            min_size=min_size,
            piecewise_linear=piecewise_linear,
            description=description,
        )
        ARCHITECTURES.register(name)(info)
        return factory

    return decorator


def reject_unknown_options(arch: str, options: dict[str, Any]) -> None:
    """Raise a ValueError naming options an architecture factory does not accept."""
    if options:
        raise ValueError(
            f"architecture {arch!r}: unknown option(s) {sorted(options)}; "
            "remove them from the architecture config"
        )
