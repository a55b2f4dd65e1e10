"""Surrogate training mechanisms (SPEC §4), one module each, in a registry.

Importing this package imports every mechanism module, so all keys (st, mu,
cm, co, ls, at, ir, jr, er, sam, sam_ir, sam_jr) are always registered.
"""

from transferlab.mechanisms import (  # noqa: F401  (imported for registration)
    adversarial_training,
    cutmix,
    cutout,
    input_gradient,
    jacobian,
    label_smoothing,
    mixup,
    sam,
    weight_gradient,
)
from transferlab.mechanisms.base import MECHANISMS, Mechanism, build_mechanism, soft_cross_entropy

__all__ = ["MECHANISMS", "Mechanism", "build_mechanism", "soft_cross_entropy"]
