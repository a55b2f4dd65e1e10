"""CIFAR-style VGG16 with batch normalization (Simonyan & Zisserman, 2015), SPEC §3.

Thirteen 3×3 conv-BN-ReLU layers in five groups separated by 2×2 max-pools, then
a single linear head (the CIFAR variant drops the two 4096-wide FC layers).
Pools use ``ceil_mode`` so inputs smaller than 32 (digits at 16 or 8 pixels)
still pass all five pools; on even sizes such as 32 this equals floor mode.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from transferlab.models.catalog import register_architecture, reject_unknown_options
from transferlab.models.initialization import initialize_conv_bn_linear, reject_pretrained
from transferlab.models.width import check_width, scaled_channels

# Configuration "D" of the VGG paper: conv widths, "M" = 2×2 max-pool.
VGG16_LAYOUT: tuple[int | str, ...] = (
    64, 64, "M",
    128, 128, "M",
    256, 256, 256, "M",
    512, 512, 512, "M",
    512, 512, 512, "M",
)  # fmt: skip


class CifarVGG(nn.Module):
    """conv-BN-ReLU stacks with max-pools per ``layout`` → GAP → linear."""

    def __init__(self, layout: tuple[int | str, ...], num_classes: int, width: float) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        in_channels = 3
        for item in layout:
            if item == "M":
                layers.append(nn.MaxPool2d(2, stride=2, ceil_mode=True))
                continue
            out_channels = scaled_channels(int(item), width)
            layers += [
                nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
                nn.BatchNorm2d(out_channels),
                nn.ReLU(inplace=True),
            ]
            in_channels = out_channels
        self.features = nn.Sequential(*layers)
        # At 32×32 the map is already 1×1 here; the pool only matters for larger inputs.
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.classifier = nn.Linear(in_channels, num_classes)
        initialize_conv_bn_linear(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.flatten(self.pool(self.features(x))))


@register_architecture(
    "vgg16",
    family="cifar",
    piecewise_linear=True,
    min_size=8,
    description="CIFAR-style VGG16 with BN and a single linear head; a CIFAR-10 target",
)
def vgg16(num_classes: int, width: float, pretrained: bool, **options: Any) -> nn.Module:
    """CIFAR-style VGG16-BN, configuration D, single linear head (SPEC §3)."""
    reject_unknown_options("vgg16", options)
    reject_pretrained("vgg16", pretrained)
    return CifarVGG(VGG16_LAYOUT, num_classes, check_width(width, "vgg16"))
