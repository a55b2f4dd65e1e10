"""ImageNet-style architectures from torchvision and timm (SPEC §3, ImageNette).

The ImageNette surrogate ResNet50 is fine-tuned from ImageNet weights, and the
targets (VGG16-BN, DenseNet121, MobileNetV2, Xception) come from the same
libraries with fresh ``num_classes`` heads. Pretrained weights are looked up
in the torch hub cache (``$TORCH_HOME/hub/checkpoints``; timm's
``legacy_xception`` weights are URL-hosted and land there too). Missing weights
on an offline machine raise :class:`PretrainedWeightsUnavailable` with the file
to fetch, instead of hanging in a download or failing deep inside a library.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import torch
from torch import nn

from transferlab.models.catalog import register_architecture, reject_unknown_options

OFFLINE_ENVIRONMENT_VARIABLES = ("TRANSFERLAB_OFFLINE", "HF_HUB_OFFLINE")
DOWNLOAD_TIMEOUT_SECONDS = 60.0
TIMM_XCEPTION = "legacy_xception"


class PretrainedWeightsUnavailable(RuntimeError):  # noqa: N818 (name fixed by the API)
    """Pretrained weights are neither cached nor downloadable; says what to fetch where."""


@dataclass(frozen=True)
class PretrainedSource:
    """Where an architecture's ImageNet weights come from."""

    url: str

    @property
    def filename(self) -> str:
        return os.path.basename(urlparse(self.url).path)


def weights_cache_dir() -> Path:
    """``torch.hub.get_dir()/checkpoints``: the cache torchvision and timm URL weights use."""
    return Path(torch.hub.get_dir()) / "checkpoints"


def expected_weights_file(source: PretrainedSource) -> Path:
    """The cached file torch.hub reads instead of downloading ``source.url``."""
    return weights_cache_dir() / source.filename


def offline_requested() -> bool:
    """True when an offline flag (TRANSFERLAB_OFFLINE or HF_HUB_OFFLINE) is set."""
    return any(
        os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}
        for name in OFFLINE_ENVIRONMENT_VARIABLES
    )


def download_weights(url: str, destination: Path) -> None:
    """Download ``url`` to ``destination`` (torch.hub's downloader, hash-checked)."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    # torch.hub's convention: "name-<sha256 prefix>.pth" carries its own checksum.
    match = torch.hub.HASH_REGEX.search(destination.name)
    hash_prefix = match.group(1) if match else None
    # urllib waits forever on a silently dropped connection; bound it.
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_SECONDS)
    try:
        torch.hub.download_url_to_file(url, str(destination), hash_prefix=hash_prefix)
    finally:
        socket.setdefaulttimeout(previous)


def _unavailable(arch: str, source: PretrainedSource, reason: str) -> PretrainedWeightsUnavailable:
    path = expected_weights_file(source)
    torch_home = os.environ.get("TORCH_HOME", "(unset: ~/.cache/torch)")
    return PretrainedWeightsUnavailable(
        f"pretrained ImageNet weights for architecture {arch!r} are not available ({reason}).\n"
        f"Expected file: {path}\n"
        f"  (torch hub cache = $TORCH_HOME/hub/checkpoints; TORCH_HOME={torch_home}; "
        "timm's legacy_xception weights use this cache too, not the Hugging Face cache)\n"
        "To fix: on a machine with internet run\n"
        f"  curl -L --create-dirs -o {source.filename} {source.url}\n"
        f"then copy the file to {path} on this machine (or point TORCH_HOME at a directory "
        f"whose hub/checkpoints/ holds it). Or use pretrained=False."
    )


def ensure_weights_file(arch: str, source: PretrainedSource) -> Path:
    """Return the cached weights file, downloading it first unless offline.

    Raises :class:`PretrainedWeightsUnavailable` when the file is missing and
    either an offline flag is set or the download fails.
    """
    path = expected_weights_file(source)
    if path.is_file():
        return path
    if offline_requested():
        flags = ", ".join(OFFLINE_ENVIRONMENT_VARIABLES)
        raise _unavailable(arch, source, f"not cached and offline mode is set via one of {flags}")
    try:
        download_weights(source.url, path)
    except Exception as error:  # any network/hash/disk failure means "not available"
        raise _unavailable(arch, source, f"not cached and download failed: {error!r}") from error
    return path


def _check_imagenet_width(arch: str, width: float) -> None:
    if isinstance(width, bool) or not isinstance(width, (int, float)) or float(width) != 1.0:
        raise ValueError(
            f"architecture {arch!r} is an ImageNet-style library model and only supports "
            f"width=1.0, got width={width!r}; use a CIFAR-style architecture for width scaling"
        )


def _replace_linear(model: nn.Module, attribute_path: str, num_classes: int) -> None:
    # Fresh head (default nn.Linear init) so fine-tuning starts from ImageNet features.
    *parents, last = attribute_path.split(".")
    owner = model
    for name in parents:
        owner = owner[int(name)] if name.isdigit() else getattr(owner, name)
    old = owner[int(last)] if last.isdigit() else getattr(owner, last)
    if not isinstance(old, nn.Linear):
        raise TypeError(f"expected a Linear head at {attribute_path!r}, found {type(old).__name__}")
    new = nn.Linear(old.in_features, num_classes)
    if last.isdigit():
        owner[int(last)] = new
    else:
        setattr(owner, last, new)


def _torchvision_factory(
    arch: str, builder_name: str, weights_name: str, head: str
) -> Callable[..., nn.Module]:
    # torchvision is imported on first build, not at registration: its import is slow
    # (benchmarks/README.md) and only ImageNette jobs need it.
    def factory(num_classes: int, width: float, pretrained: bool, **options: Any) -> nn.Module:

        import torchvision.models as tvm

        reject_unknown_options(arch, options)
        _check_imagenet_width(arch, width)
        builder = getattr(tvm, builder_name)
        if not pretrained:
            return builder(weights=None, num_classes=num_classes)
        enum_name, member = weights_name.split(".")
        weights = getattr(getattr(tvm, enum_name), member)
        ensure_weights_file(arch, PretrainedSource(weights.url))
        model = builder(weights=weights)
        _replace_linear(model, head, num_classes)
        return model

    factory.__name__ = arch
    factory.__doc__ = (
        f"torchvision {builder_name} ({weights_name}); pretrained=True loads the cached "
        "ImageNet weights and puts a fresh num_classes head on top."
    )
    return factory


# (name, torchvision builder, ImageNet weights, attribute path of the linear head, ImageNette role)
_TORCHVISION_MODELS = (
    ("resnet50_imagenet", "resnet50", "ResNet50_Weights.IMAGENET1K_V1", "fc", "surrogate"),
    ("vgg16_bn_imagenet", "vgg16_bn", "VGG16_BN_Weights.IMAGENET1K_V1", "classifier.6", "target"),
    ("densenet121_imagenet", "densenet121", "DenseNet121_Weights.IMAGENET1K_V1", "classifier",
     "target"),
    ("mobilenetv2_imagenet", "mobilenet_v2", "MobileNet_V2_Weights.IMAGENET1K_V1",
     "classifier.1", "target"),
)  # fmt: skip

for _arch, _builder, _weights, _head, _role in _TORCHVISION_MODELS:
    register_architecture(
        _arch,
        family="imagenet",
        piecewise_linear=True,
        min_size=32,
        description=f"torchvision {_builder}, ImageNet {_weights}; ImageNette {_role}",
    )(_torchvision_factory(_arch, _builder, _weights, _head))


def _xception_source() -> PretrainedSource:
    import timm.models

    url = timm.models.get_pretrained_cfg(TIMM_XCEPTION).url
    if not url:
        raise PretrainedWeightsUnavailable(
            f"this timm version lists no URL for {TIMM_XCEPTION!r} ImageNet weights"
        )
    return PretrainedSource(url)


@register_architecture(
    "xception_imagenet",
    family="imagenet",
    piecewise_linear=True,
    min_size=32,
    description=(
        "timm legacy_xception (Chollet's original Xception, ReLU + separable convs); "
        "ImageNette target; its ImageNet weights were trained with mean=std=0.5"
    ),
)
def xception_imagenet(
    num_classes: int, width: float, pretrained: bool, **options: Any
) -> nn.Module:
    """timm ``legacy_xception``; pretrained=True loads ImageNet weights, fresh head."""
    import timm

    reject_unknown_options("xception_imagenet", options)
    _check_imagenet_width("xception_imagenet", width)
    if not pretrained:
        return timm.create_model(TIMM_XCEPTION, pretrained=False, num_classes=num_classes)
    ensure_weights_file("xception_imagenet", _xception_source())
    model = timm.create_model(TIMM_XCEPTION, pretrained=True)
    model.reset_classifier(num_classes)
    return model
