"""L∞ attacks (SPEC §7): PGD, MI, DI, DIM, AutoAttack, one module each, in a registry.

``build_attack(name, **settings)`` constructs a registered attack; every
attack is called as ``attack(model, x, y, *, generator) -> x_adv`` and
``run_attack`` drives it over a data set in deterministic batches. An
``EnsembleSurrogate`` (``attacks.ensemble``: LGV collections) can stand in for
the model in every attack.
"""

from __future__ import annotations

import inspect
from typing import Any

from transferlab.attacks import autoattack, di, dim, mi, pgd
from transferlab.attacks.autoattack import AutoAttack
from transferlab.attacks.base import (
    ATTACKS,
    NORM,
    Attack,
    StepwiseSurrogate,
    default_step_size,
    run_attack,
    step_logits,
    target_labels,
)
from transferlab.attacks.di import DI, diverse_input, padded_size
from transferlab.attacks.dim import DIM
from transferlab.attacks.ensemble import EnsembleSurrogate, collection_surrogate, member_order
from transferlab.attacks.mi import MI, momentum_update
from transferlab.attacks.pgd import PGD

# The modules are imported for their registration side effect.
_REGISTERED_MODULES = (pgd, mi, di, dim, autoattack)


def attack_settings_names(name: str) -> list[str]:
    """The keyword arguments the registered attack ``name`` accepts."""
    parameters = inspect.signature(ATTACKS.get(name).__init__).parameters
    return [p for p, spec in parameters.items() if spec.kind is inspect.Parameter.KEYWORD_ONLY]


def build_attack(name: str, **settings: Any) -> Attack:
    """Instantiate the registered attack ``name`` (``ATTACKS.names()``) with ``settings``."""
    allowed = attack_settings_names(name)
    unknown = sorted(set(settings) - set(allowed))
    if unknown:
        raise ValueError(f"attack {name!r}: unknown setting(s) {unknown}; allowed: {allowed}")
    return ATTACKS.get(name)(**settings)


__all__ = [
    "ATTACKS",
    "AutoAttack",
    "DI",
    "DIM",
    "MI",
    "NORM",
    "PGD",
    "Attack",
    "EnsembleSurrogate",
    "StepwiseSurrogate",
    "attack_settings_names",
    "build_attack",
    "collection_surrogate",
    "default_step_size",
    "diverse_input",
    "member_order",
    "momentum_update",
    "padded_size",
    "run_attack",
    "step_logits",
    "target_labels",
]
