"""CIFAR-style Inception-v3 (Szegedy et al., 2016), SPEC §3.

The ImageNet network's modules, unchanged in channel counts: three
Inception-A blocks (35×35 grid in the original), reduction B, four
Inception-C blocks with factorized 7×7 convolutions (17×17), reduction D and
two Inception-E blocks with expanded 3×3 filter banks (8×8). CIFAR variant: the
stem is five stride-1 convolutions (3×3 ×3, 1×1, 3×3) with no max-pools, and
the stride-2 reductions are padded, so a 32×32 input runs its three grids at
32, 16 and 8 (16×16 digits: 16, 8, 4). No auxiliary classifier. Every unit
is conv (no bias) → BN → ReLU, so the network is piecewise linear in eval mode.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from transferlab.models.catalog import register_architecture, reject_unknown_options
from transferlab.models.initialization import initialize_conv_bn_linear, reject_pretrained
from transferlab.models.width import check_width, scaled_channels

# BN epsilon of the original TensorFlow Inception-v3.
BN_EPS = 1e-3


class ConvUnit(nn.Sequential):
    """conv(k, stride, padding; no bias) → BN → ReLU."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel: int | tuple[int, int],
        stride: int = 1,
        padding: int | tuple[int, int] = 0,
    ) -> None:
        super().__init__(
            nn.Conv2d(
                in_channels, out_channels, kernel, stride=stride, padding=padding, bias=False
            ),  # fmt: skip
            nn.BatchNorm2d(out_channels, eps=BN_EPS),
            nn.ReLU(inplace=True),
        )


class Branches(nn.Module):
    """Run parallel branches on the same input and concatenate along channels."""

    def __init__(self, branches: Sequence[nn.Module], out_channels: int) -> None:
        super().__init__()
        self.branches = nn.ModuleList(branches)
        self.out_channels = out_channels

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat([branch(x) for branch in self.branches], dim=1)


class FanOut(nn.Module):
    """The Inception-E split: one input to a 1×3 and a 3×1 conv, concatenated."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.horizontal = ConvUnit(in_channels, out_channels, (1, 3), padding=(0, 1))
        self.vertical = ConvUnit(in_channels, out_channels, (3, 1), padding=(1, 0))

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat([self.horizontal(x), self.vertical(x)], dim=1)


def _avg_pool_3x3() -> nn.AvgPool2d:
    return nn.AvgPool2d(3, stride=1, padding=1)


def inception_a(in_channels: int, pool_features: int, w: float) -> Branches:
    """1×1(64) | 1×1(48)→5×5(64) | 1×1(64)→3×3(96)→3×3(96) | avg-pool→1×1(pool)."""
    c64, c48, c96 = (scaled_channels(c, w) for c in (64, 48, 96))
    pool = scaled_channels(pool_features, w)
    return Branches(
        [
            ConvUnit(in_channels, c64, 1),
            nn.Sequential(ConvUnit(in_channels, c48, 1), ConvUnit(c48, c64, 5, padding=2)),
            nn.Sequential(
                ConvUnit(in_channels, c64, 1),
                ConvUnit(c64, c96, 3, padding=1),
                ConvUnit(c96, c96, 3, padding=1),
            ),
            nn.Sequential(_avg_pool_3x3(), ConvUnit(in_channels, pool, 1)),
        ],
        c64 + c64 + c96 + pool,
    )


def reduction_b(in_channels: int, w: float) -> Branches:
    """Grid reduction ×2: 3×3/2(384) | 1×1(64)→3×3(96)→3×3/2(96) | max-pool 3×3/2."""
    c384, c64, c96 = (scaled_channels(c, w) for c in (384, 64, 96))
    return Branches(
        [
            ConvUnit(in_channels, c384, 3, stride=2, padding=1),
            nn.Sequential(
                ConvUnit(in_channels, c64, 1),
                ConvUnit(c64, c96, 3, padding=1),
                ConvUnit(c96, c96, 3, stride=2, padding=1),
            ),
            nn.MaxPool2d(3, stride=2, padding=1),
        ],
        c384 + c96 + in_channels,
    )


def inception_c(in_channels: int, channels_7x7: int, w: float) -> Branches:
    """1×1(192) | 1×1(c)→1×7(c)→7×1(192) | 1×1(c)→(7×1, 1×7)×2 | avg-pool→1×1(192)."""
    c192 = scaled_channels(192, w)
    c7 = scaled_channels(channels_7x7, w)
    row, col = {"padding": (0, 3)}, {"padding": (3, 0)}
    return Branches(
        [
            ConvUnit(in_channels, c192, 1),
            nn.Sequential(
                ConvUnit(in_channels, c7, 1),
                ConvUnit(c7, c7, (1, 7), **row),
                ConvUnit(c7, c192, (7, 1), **col),
            ),
            nn.Sequential(
                ConvUnit(in_channels, c7, 1),
                ConvUnit(c7, c7, (7, 1), **col),
                ConvUnit(c7, c7, (1, 7), **row),
                ConvUnit(c7, c7, (7, 1), **col),
                ConvUnit(c7, c192, (1, 7), **row),
            ),
            nn.Sequential(_avg_pool_3x3(), ConvUnit(in_channels, c192, 1)),
        ],
        4 * c192,
    )


def reduction_d(in_channels: int, w: float) -> Branches:
    """Grid reduction ×2: 1×1(192)→3×3/2(320) | 1×1→1×7→7×1→3×3/2 (192) | max-pool."""
    c192, c320 = scaled_channels(192, w), scaled_channels(320, w)
    return Branches(
        [
            nn.Sequential(
                ConvUnit(in_channels, c192, 1),
                ConvUnit(c192, c320, 3, stride=2, padding=1),
            ),
            nn.Sequential(
                ConvUnit(in_channels, c192, 1),
                ConvUnit(c192, c192, (1, 7), padding=(0, 3)),
                ConvUnit(c192, c192, (7, 1), padding=(3, 0)),
                ConvUnit(c192, c192, 3, stride=2, padding=1),
            ),
            nn.MaxPool2d(3, stride=2, padding=1),
        ],
        c320 + c192 + in_channels,
    )


def inception_e(in_channels: int, w: float) -> Branches:
    """1×1(320) | 1×1(384)→[1×3, 3×1] | 1×1(448)→3×3(384)→[1×3, 3×1] | pool→1×1(192)."""
    c320, c384, c448, c192 = (scaled_channels(c, w) for c in (320, 384, 448, 192))
    return Branches(
        [
            ConvUnit(in_channels, c320, 1),
            nn.Sequential(ConvUnit(in_channels, c384, 1), FanOut(c384, c384)),
            nn.Sequential(
                ConvUnit(in_channels, c448, 1),
                ConvUnit(c448, c384, 3, padding=1),
                FanOut(c384, c384),
            ),
            nn.Sequential(_avg_pool_3x3(), ConvUnit(in_channels, c192, 1)),
        ],
        c320 + 4 * c384 + c192,
    )


class CifarInceptionV3(nn.Module):
    """Stride-1 stem → A×3 → B → C×4 → D → E×2 → GAP → linear."""

    def __init__(self, num_classes: int, width: float, dropout: float) -> None:
        super().__init__()
        s32, s64, s80, s192 = (scaled_channels(c, width) for c in (32, 64, 80, 192))
        stem = [
            ConvUnit(3, s32, 3, padding=1),
            ConvUnit(s32, s32, 3, padding=1),
            ConvUnit(s32, s64, 3, padding=1),
            ConvUnit(s64, s80, 1),
            ConvUnit(s80, s192, 3, padding=1),
        ]
        blocks: list[Branches] = []
        channels = s192
        for pool_features in (32, 64, 64):
            blocks.append(inception_a(channels, pool_features, width))
            channels = blocks[-1].out_channels
        blocks.append(reduction_b(channels, width))
        channels = blocks[-1].out_channels
        for channels_7x7 in (128, 160, 160, 192):
            blocks.append(inception_c(channels, channels_7x7, width))
            channels = blocks[-1].out_channels
        blocks.append(reduction_d(channels, width))
        channels = blocks[-1].out_channels
        for _ in range(2):
            blocks.append(inception_e(channels, width))
            channels = blocks[-1].out_channels
        self.features = nn.Sequential(*stem, *blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        # Dropout is the identity in eval mode, where all metrics run (SPEC §1).
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(channels, num_classes)
        initialize_conv_bn_linear(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.dropout(self.flatten(self.pool(self.features(x)))))


@register_architecture(
    "inceptionv3",
    family="cifar",
    piecewise_linear=True,
    min_size=8,
    description="CIFAR-style Inception-v3 (stride-1 stem, padded reductions); a CIFAR-10 target",
)
def inceptionv3(
    num_classes: int, width: float, pretrained: bool, *, dropout: float = 0.0, **options: Any
) -> nn.Module:
    """CIFAR-style Inception-v3 (SPEC §3); ``dropout`` before the head (0 = none)."""
    reject_unknown_options("inceptionv3", options)
    reject_pretrained("inceptionv3", pretrained)
    if not 0.0 <= float(dropout) < 1.0:
        raise ValueError(f"architecture 'inceptionv3': dropout must be in [0, 1), got {dropout}")
    return CifarInceptionV3(num_classes, check_width(width, "inceptionv3"), float(dropout))
