"""CIFAR-style MobileNetV2 (Sandler et al., 2018).

Inverted residual blocks: 1×1 expansion (×t) → ReLU6 → 3×3 depthwise (carries
the stride) → ReLU6 → 1×1 linear projection, with an identity shortcut when the
block keeps shape. CIFAR-style: stride-1 3×3 stem and the second stage at
stride 1 instead of 2, so 32×32 inputs end at 4×4 rather than 1×1.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from transferlab.models.catalog import register_architecture, reject_unknown_options
from transferlab.models.initialization import initialize_conv_bn_linear, reject_pretrained
from transferlab.models.width import check_width, scaled_channels

# (expansion t, output channels c, repeats n, first stride s) per stage; table 2
# of the paper with stage 2's stride set to 1 for 32×32 inputs.
MOBILENETV2_STAGES = (
    (1, 16, 1, 1),
    (6, 24, 2, 1),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)
STEM_CHANNELS = 32
HEAD_CHANNELS = 1280


def _conv_bn_relu6(in_channels: int, out_channels: int, kernel: int, stride: int = 1,
                   groups: int = 1) -> nn.Sequential:  # fmt: skip
    return nn.Sequential(
        nn.Conv2d(
            in_channels,
            out_channels,
            kernel,
            stride=stride,
            padding=kernel // 2,
            groups=groups,
            bias=False,
        ),  # fmt: skip
        nn.BatchNorm2d(out_channels),
        nn.ReLU6(inplace=True),
    )


class InvertedResidual(nn.Module):
    """x + project(depthwise(expand(x))) when shapes agree, else without the x term."""

    def __init__(self, in_channels: int, out_channels: int, stride: int, expansion: int) -> None:
        super().__init__()
        hidden = in_channels * expansion
        layers: list[nn.Module] = []
        if expansion != 1:
            layers.append(_conv_bn_relu6(in_channels, hidden, 1))
        layers += [
            _conv_bn_relu6(hidden, hidden, 3, stride=stride, groups=hidden),
            # Linear bottleneck: no activation after the projection (section 3.2).
            nn.Conv2d(hidden, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
        ]
        self.block = nn.Sequential(*layers)
        self.use_residual = stride == 1 and in_channels == out_channels

    def forward(self, x: Tensor) -> Tensor:
        out = self.block(x)
        return x + out if self.use_residual else out


class CifarMobileNetV2(nn.Module):
    """Stem → 17 inverted residual blocks → conv1×1(1280w) → GAP → linear."""

    def __init__(self, num_classes: int, width: float) -> None:
        super().__init__()
        channels = scaled_channels(STEM_CHANNELS, width)
        layers: list[nn.Module] = [_conv_bn_relu6(3, channels, 3)]
        for expansion, out, repeats, stride in MOBILENETV2_STAGES:
            out_channels = scaled_channels(out, width)
            for index in range(repeats):
                layers.append(
                    InvertedResidual(channels, out_channels, stride if index == 0 else 1, expansion)
                )
                channels = out_channels
        head_channels = scaled_channels(HEAD_CHANNELS, width)
        layers.append(_conv_bn_relu6(channels, head_channels, 1))
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.classifier = nn.Linear(head_channels, num_classes)
        initialize_conv_bn_linear(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.flatten(self.pool(self.features(x))))


@register_architecture(
    "mobilenetv2",
    family="cifar",
    piecewise_linear=True,
    min_size=8,
    description="CIFAR-style MobileNetV2 (ReLU6, stride-1 stem and stage 2)",
)
def mobilenetv2(num_classes: int, width: float, pretrained: bool, **options: Any) -> nn.Module:
    """CIFAR-style MobileNetV2 (SPEC §3 target family), width-scaled channels."""
    reject_unknown_options("mobilenetv2", options)
    reject_pretrained("mobilenetv2", pretrained)
    return CifarMobileNetV2(num_classes, check_width(width, "mobilenetv2"))
