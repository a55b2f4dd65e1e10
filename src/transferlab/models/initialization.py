"""Weight initialization shared by the CIFAR-style families (trained from scratch)."""

from __future__ import annotations

from torch import nn


def initialize_conv_bn_linear(module: nn.Module) -> None:
    """He-normal (fan-out) convolutions, BN γ=1 β=0, zero linear biases.

    He et al. (2015) initialization keeps activation variance constant through
    ReLU layers, which is what lets the deep CIFAR nets train from scratch.
    """
    for layer in module.modules():
        if isinstance(layer, nn.Conv2d):
            nn.init.kaiming_normal_(layer.weight, mode="fan_out", nonlinearity="relu")
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
        elif isinstance(layer, nn.BatchNorm2d):
            nn.init.ones_(layer.weight)
            nn.init.zeros_(layer.bias)
        elif isinstance(layer, nn.Linear) and layer.bias is not None:
            nn.init.zeros_(layer.bias)


def reject_pretrained(arch: str, pretrained: bool) -> None:
    """CIFAR-style networks are trained from scratch (Table XI); no weights exist."""
    if pretrained:
        raise ValueError(
            f"architecture {arch!r} is CIFAR-style and has no pretrained weights; "
            "use pretrained=False or an '*_imagenet' architecture"
        )
