"""The LGV fine-tuning run's settings (spec key ``lgv``): ``LGVConfig`` and its optimizers.

Each LGV optimizer (``LGV_OPTIMIZERS``) names the registered mechanism whose step the
fine-tuning in ``finetune`` makes; ``lgv_config`` checks the spec's mapping. The resolved
config is stored in the collection file (``collection``) under ``lgv``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

# LGV optimizer (config key) → the registered mechanism that makes its step.
LGV_OPTIMIZERS: dict[str, str] = {"sgd": "st", "sam": "sam", "sam_jr": "sam_jr"}


@dataclass(frozen=True)
class LGVConfig:
    """The fine-tuning run (spec key ``lgv``); defaults are LGV's (Gubri et al., Sec. 4).

    - ``optimizer``: "sgd" | "sam" | "sam_jr" (``LGV_OPTIMIZERS``).
    - ``tau``: None for sgd, ρ for sam, [ρ, λ] for sam_jr.
    - ``settings``: the mechanism's settings (e.g. JR's ``form``).
    - ``lr``: the constant learning rate η (paper: 0.05).
    - ``epochs`` E and ``per_epoch`` P: K = E·P members.
    - ``momentum``, ``weight_decay``, ``batch_size``: the SGD step (LGV: 0.9, 1e-4).

    The attack's ``members_per_step`` is not a key here: it does not change the
    collection, so it must not change the collection's fingerprint.
    """

    optimizer: str
    tau: Any = None
    settings: dict[str, Any] = field(default_factory=dict)
    lr: float = 0.05
    epochs: int = 10
    per_epoch: int = 4
    momentum: float = 0.9
    weight_decay: float = 1e-4
    batch_size: int = 128

    def __post_init__(self) -> None:
        if self.optimizer not in LGV_OPTIMIZERS:
            raise ValueError(
                f"lgv.optimizer={self.optimizer!r} is unknown; allowed: {sorted(LGV_OPTIMIZERS)}"
            )
        if self.optimizer == "sgd" and self.tau is not None:
            raise ValueError(f"lgv.optimizer 'sgd' takes no tau (got {self.tau!r}); use null")
        for key in ("epochs", "per_epoch", "batch_size"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"lgv.{key} must be an integer, got {value!r}")
        if self.epochs * self.per_epoch < 1 or self.epochs < 1 or self.per_epoch < 1:
            raise ValueError(
                f"lgv: K = epochs × per_epoch = {self.epochs} × {self.per_epoch} members; "
                "both must be >= 1 (LGV: 10 × 4 = 40)"
            )
        if self.batch_size < 1:
            raise ValueError(f"lgv.batch_size must be >= 1, got {self.batch_size}")
        if not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lgv.lr must be a positive number (paper: 0.05), got {self.lr!r}")
        for key in ("momentum", "weight_decay"):
            value = getattr(self, key)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise ValueError(f"lgv.{key} must be a finite number >= 0, got {value!r}")
        if not isinstance(self.settings, Mapping):
            raise ValueError(f"lgv.settings must be a mapping, got {self.settings!r}")

    @property
    def members(self) -> int:
        """K = epochs · per_epoch."""
        return self.epochs * self.per_epoch


def lgv_config(settings: Mapping[str, Any]) -> LGVConfig:
    """``LGVConfig`` from the spec's ``lgv`` mapping; unknown keys raise ValueError naming them."""
    allowed = [f.name for f in fields(LGVConfig)]
    unknown = sorted(set(settings) - set(allowed))
    if unknown:
        raise ValueError(f"lgv: unknown key(s) {unknown}; allowed: {allowed}")
    if "optimizer" not in settings:
        raise ValueError(f"lgv.optimizer is required; allowed: {sorted(LGV_OPTIMIZERS)}")
    return LGVConfig(**settings)
