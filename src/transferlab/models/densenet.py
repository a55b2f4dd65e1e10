"""CIFAR-style DenseNet121 (Huang et al., 2017), growth rate 32, SPEC §3.

DenseNet-BC: four dense blocks of [6, 12, 24, 16] bottleneck layers
(BN-ReLU-conv1×1(4k)-BN-ReLU-conv3×3(k), output concatenated to the input),
separated by transitions (BN-ReLU-conv1×1 halving channels, 2×2 average pool).
CIFAR-style: a single 3×3 stride-1 stem conv with 2k channels, no max-pool.
The width multiplier scales the growth rate k, and with it every channel count.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from transferlab.models.catalog import register_architecture, reject_unknown_options
from transferlab.models.initialization import initialize_conv_bn_linear, reject_pretrained
from transferlab.models.width import check_width, scaled_channels

DENSENET121_BLOCKS = (6, 12, 24, 16)
GROWTH_RATE = 32
BOTTLENECK_FACTOR = 4
COMPRESSION = 0.5


class DenseLayer(nn.Module):
    """concat(x, conv3×3(relu(bn(conv1×1(relu(bn(x))))))) — adds ``growth`` channels."""

    def __init__(self, in_channels: int, growth: int) -> None:
        super().__init__()
        inner = BOTTLENECK_FACTOR * growth
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.conv1 = nn.Conv2d(in_channels, inner, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(inner)
        self.conv2 = nn.Conv2d(inner, growth, 3, padding=1, bias=False)
        self.relu = nn.ReLU()

    def forward(self, x: Tensor) -> Tensor:
        new = self.conv1(self.relu(self.bn1(x)))
        new = self.conv2(self.relu(self.bn2(new)))
        return torch.cat([x, new], dim=1)


class Transition(nn.Sequential):
    """BN-ReLU-conv1×1 (compress channels) then 2×2 average pool (halve resolution)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(
            nn.BatchNorm2d(in_channels),
            nn.ReLU(),
            nn.Conv2d(in_channels, out_channels, 1, bias=False),
            # ceil_mode keeps 1×1 maps alive for tiny inputs; equal to floor on even sizes.
            nn.AvgPool2d(2, stride=2, ceil_mode=True),
        )


class CifarDenseNet(nn.Module):
    """Stem conv3×3(2k) → dense blocks with transitions → BN-ReLU → GAP → linear."""

    def __init__(self, blocks: tuple[int, ...], growth: int, num_classes: int) -> None:
        super().__init__()
        channels = 2 * growth
        layers: list[nn.Module] = [nn.Conv2d(3, channels, 3, padding=1, bias=False)]
        for index, count in enumerate(blocks):
            for _ in range(count):
                layers.append(DenseLayer(channels, growth))
                channels += growth
            if index < len(blocks) - 1:
                compressed = max(1, math.floor(channels * COMPRESSION))
                layers.append(Transition(channels, compressed))
                channels = compressed
        layers += [nn.BatchNorm2d(channels), nn.ReLU()]
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.classifier = nn.Linear(channels, num_classes)
        initialize_conv_bn_linear(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.flatten(self.pool(self.features(x))))


@register_architecture(
    "densenet121",
    family="cifar",
    piecewise_linear=True,
    min_size=8,
    description="CIFAR-style DenseNet121-BC (growth 32 × width); a CIFAR-10 target",
)
def densenet121(num_classes: int, width: float, pretrained: bool, **options: Any) -> nn.Module:
    """CIFAR-style DenseNet121: blocks [6, 12, 24, 16], growth 32·width (SPEC §3)."""
    reject_unknown_options("densenet121", options)
    reject_pretrained("densenet121", pretrained)
    growth = scaled_channels(GROWTH_RATE, check_width(width, "densenet121"))
    return CifarDenseNet(DENSENET121_BLOCKS, growth, num_classes)
