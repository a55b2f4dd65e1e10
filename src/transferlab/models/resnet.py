"""CIFAR-style residual networks (He et al., 2016), SPEC §3: ResNet18 and ResNet50.

CIFAR-style means a 3×3 stride-1 stem and no stem max-pool, so 32×32 inputs keep
full resolution through the first stage; the four stages then work at strides
1, 2, 2, 2. Global average pooling before the linear head lets any input size
≥ 8 through.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from transferlab.models.catalog import register_architecture, reject_unknown_options
from transferlab.models.initialization import initialize_conv_bn_linear, reject_pretrained
from transferlab.models.width import check_width, scaled_channels

STAGE_CHANNELS = (64, 128, 256, 512)
STAGE_STRIDES = (1, 2, 2, 2)


def _shortcut(in_channels: int, out_channels: int, stride: int) -> nn.Module:
    # A projection only where the residual changes shape, as in the paper's option B.
    if stride == 1 and in_channels == out_channels:
        return nn.Identity()
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
        nn.BatchNorm2d(out_channels),
    )


class BasicBlock(nn.Module):
    """relu(bn(conv3×3(relu(bn(conv3×3(x))))) + shortcut(x)); used by ResNet18/34."""

    expansion = 1

    def __init__(self, in_channels: int, planes: int, stride: int) -> None:
        super().__init__()
        out_channels = planes * self.expansion
        self.conv1 = nn.Conv2d(in_channels, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut = _shortcut(in_channels, out_channels, stride)

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


class Bottleneck(nn.Module):
    """1×1 reduce → 3×3 (carries the stride) → 1×1 expand ×4, plus shortcut; ResNet50+."""

    expansion = 4

    def __init__(self, in_channels: int, planes: int, stride: int) -> None:
        super().__init__()
        out_channels = planes * self.expansion
        self.conv1 = nn.Conv2d(in_channels, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, out_channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut = _shortcut(in_channels, out_channels, stride)

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + self.shortcut(x))


class CifarResNet(nn.Module):
    """Stem conv3×3(64w) → 4 stages of ``blocks_per_stage`` blocks → GAP → linear."""

    def __init__(
        self,
        block: type[BasicBlock] | type[Bottleneck],
        blocks_per_stage: tuple[int, int, int, int],
        num_classes: int,
        width: float,
    ) -> None:
        super().__init__()
        stem_channels = scaled_channels(STAGE_CHANNELS[0], width)
        self.stem = nn.Sequential(
            nn.Conv2d(3, stem_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(stem_channels),
            nn.ReLU(inplace=True),
        )
        stages: list[nn.Module] = []
        in_channels = stem_channels
        for channels, stride, count in zip(
            STAGE_CHANNELS, STAGE_STRIDES, blocks_per_stage, strict=True
        ):
            planes = scaled_channels(channels, width)
            blocks: list[nn.Module] = []
            for index in range(count):
                blocks.append(block(in_channels, planes, stride if index == 0 else 1))
                in_channels = planes * block.expansion
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(in_channels, num_classes)
        initialize_conv_bn_linear(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.flatten(self.pool(self.stages(self.stem(x)))))


@register_architecture(
    "resnet18",
    family="cifar",
    piecewise_linear=True,
    min_size=8,
    description="CIFAR-style ResNet18 (BasicBlock ×[2,2,2,2]); the CIFAR-10 surrogate",
)
def resnet18(num_classes: int, width: float, pretrained: bool, **options: Any) -> nn.Module:
    """CIFAR-style ResNet18: BasicBlock stages [2, 2, 2, 2] (SPEC §3)."""
    reject_unknown_options("resnet18", options)
    reject_pretrained("resnet18", pretrained)
    return CifarResNet(BasicBlock, (2, 2, 2, 2), num_classes, check_width(width, "resnet18"))


@register_architecture(
    "resnet50",
    family="cifar",
    piecewise_linear=True,
    min_size=8,
    description="CIFAR-style ResNet50 (Bottleneck ×[3,4,6,3]); a CIFAR-10 target",
)
def resnet50(num_classes: int, width: float, pretrained: bool, **options: Any) -> nn.Module:
    """CIFAR-style ResNet50: Bottleneck stages [3, 4, 6, 3] (SPEC §3)."""
    reject_unknown_options("resnet50", options)
    reject_pretrained("resnet50", pretrained)
    return CifarResNet(Bottleneck, (3, 4, 6, 3), num_classes, check_width(width, "resnet50"))
