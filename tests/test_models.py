"""Tests for the architecture registry and build_model (SPEC §1, §3, §5)."""

from __future__ import annotations

import json
import urllib.error
from pathlib import Path

import pytest
import torch
from torch import nn

import transferlab.models.imagenet as imagenet_module
from transferlab.models import (
    ARCHITECTURES,
    Normalize,
    NormalizedClassifier,
    PretrainedWeightsUnavailable,
    architecture_info,
    architecture_names,
    build_model,
    place_model,
)
from transferlab.registry import UnknownNameError

CIFAR_ARCHS = ["resnet18", "resnet50", "vgg16", "densenet121", "inceptionv3", "mobilenetv2"]
IMAGENET_ARCHS = [
    "resnet50_imagenet",
    "vgg16_bn_imagenet",
    "densenet121_imagenet",
    "mobilenetv2_imagenet",
    "xception_imagenet",
]
MEAN = (0.4914, 0.4822, 0.4465)
STD = (0.2471, 0.2435, 0.2616)
NUM_CLASSES = 7
TINY_WIDTH = 0.125

# Leaf modules whose eval-mode maps are piecewise linear (SPEC §5).
PIECEWISE_LINEAR_LEAVES = (
    nn.Conv2d,
    nn.BatchNorm2d,
    nn.Linear,
    nn.ReLU,
    nn.ReLU6,
    nn.MaxPool2d,
    nn.AvgPool2d,
    nn.AdaptiveAvgPool2d,
    nn.Flatten,
    nn.Identity,
    nn.Dropout,
    Normalize,
)

_IMAGENET_MODELS: dict[str, NormalizedClassifier] = {}


def imagenet_model(arch: str) -> NormalizedClassifier:
    """Build each ImageNet-style model once per session: VGG16-BN alone is 138M parameters."""
    if arch not in _IMAGENET_MODELS:
        torch.manual_seed(0)
        _IMAGENET_MODELS[arch] = build_model(arch, num_classes=NUM_CLASSES, mean=MEAN, std=STD)
    return _IMAGENET_MODELS[arch]


def tiny_cifar_model(arch: str, seed: int = 0) -> NormalizedClassifier:
    torch.manual_seed(seed)
    return build_model(arch, num_classes=NUM_CLASSES, mean=MEAN, std=STD, width=TINY_WIDTH)


def logits_hessian_vector_product(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """∇ₓ(vᵀ∇ₓ(uᵀf(x))) for random u, v: zero a.e. iff f is piecewise linear."""
    generator = torch.Generator().manual_seed(1)
    x = x.clone().requires_grad_(True)
    logits = model(x)
    u = torch.randn(logits.shape, generator=generator, dtype=logits.dtype)
    (gradient,) = torch.autograd.grad((logits * u).sum(), x, create_graph=True)
    v = torch.randn(x.shape, generator=generator, dtype=x.dtype)
    if not gradient.requires_grad:  # the gradient does not depend on x at all
        return torch.zeros_like(x)
    (hvp,) = torch.autograd.grad((gradient * v).sum(), x, allow_unused=True)
    return torch.zeros_like(x) if hvp is None else hvp


def replace_activations(module: nn.Module, make: type[nn.Module]) -> None:
    for child_name, child in module.named_children():
        if isinstance(child, (nn.ReLU, nn.ReLU6)):
            setattr(module, child_name, make())
        else:
            replace_activations(child, make)


# --- registry -----------------------------------------------------------------------------


def test_registry_holds_exactly_the_spec_architectures() -> None:
    assert architecture_names() == sorted(CIFAR_ARCHS + IMAGENET_ARCHS)
    for arch in CIFAR_ARCHS:
        info = architecture_info(arch)
        assert (info.family, info.native_size) == ("cifar", 32)
    for arch in IMAGENET_ARCHS:
        info = architecture_info(arch)
        assert (info.family, info.native_size) == ("imagenet", 224)
    assert all(ARCHITECTURES.get(arch).name == arch for arch in ARCHITECTURES)


def test_unknown_architecture_lists_allowed_names() -> None:
    with pytest.raises(UnknownNameError, match="resnet18.*vgg16") as error:
        build_model("resnet19", num_classes=10, mean=MEAN, std=STD)
    assert "'resnet19'" in str(error.value)
    with pytest.raises(UnknownNameError):
        architecture_info("ResNet18")


# --- CIFAR-style forward/backward -----------------------------------------------------------


@pytest.mark.parametrize("arch", CIFAR_ARCHS)
def test_cifar_forward_backward_at_native_and_tiny_sizes(arch: str) -> None:
    model = tiny_cifar_model(arch)
    info = architecture_info(arch)
    generator = torch.Generator().manual_seed(0)
    model.eval()
    with torch.no_grad():
        for size in (info.native_size, 16, info.min_size):
            logits = model(torch.rand(2, 3, size, size, generator=generator))
            assert logits.shape == (2, NUM_CLASSES)
            assert torch.isfinite(logits).all()
    model.train()
    x = torch.rand(2, 3, 16, 16, generator=generator)
    y = torch.tensor([0, NUM_CLASSES - 1])
    nn.functional.cross_entropy(model(x), y).backward()
    missing = [name for name, p in model.named_parameters() if p.grad is None]
    assert not missing, f"parameters outside the graph: {missing[:5]}"
    assert all(torch.isfinite(p.grad).all() for p in model.parameters())
    assert not list(model.normalize.parameters()), "normalization must not be trainable"


def test_cifar_width_scales_channels() -> None:
    # ResNet18's stem has 64·w channels and its head sees 512·w features.
    for width, stem, features in ((1.0, 64, 512), (0.25, 16, 128), (0.001, 1, 1)):
        torch.manual_seed(0)
        model = build_model("resnet18", num_classes=NUM_CLASSES, mean=MEAN, std=STD, width=width)
        assert model.net.stem[0].out_channels == stem
        assert model.net.fc.in_features == features
    torch.manual_seed(0)
    densenet = build_model("densenet121", num_classes=NUM_CLASSES, mean=MEAN, std=STD, width=0.25)
    # Growth round(32·0.25) = 8: stem 2k = 16 channels, each dense layer adds 8.
    assert densenet.net.features[0].out_channels == 16
    assert densenet.net.features[1].conv2.out_channels == 8


def test_cifar_vgg16_has_thirteen_convs_and_one_linear_head() -> None:
    model = tiny_cifar_model("vgg16")
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    batch_norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert (len(convs), len(batch_norms), len(linears)) == (13, 13, 1)
    assert all(conv.stride == (1, 1) for conv in convs)


def final_feature_grid(model: NormalizedClassifier, size: int) -> tuple[int, int]:
    """Spatial size of the map entering the global average pool for a size×size input."""
    seen: list[tuple[int, int]] = []
    handle = model.net.pool.register_forward_pre_hook(
        lambda module, inputs: seen.append(tuple(inputs[0].shape[-2:]))
    )
    with torch.no_grad():
        model.eval()(torch.rand(1, 3, size, size))
    handle.remove()
    return seen[0]


# Final grid for 32×32 inputs with a stride-1 stem and no stem max-pool: ResNet and
# DenseNet reduce ×8, MobileNetV2 (CIFAR strides) ×8, VGG16 ×32, Inception-v3 ×4.
CIFAR_FINAL_GRID = {
    "resnet18": 4,
    "resnet50": 4,
    "vgg16": 1,
    "densenet121": 4,
    "inceptionv3": 8,
    "mobilenetv2": 4,
}


@pytest.mark.parametrize("arch", CIFAR_ARCHS)
def test_cifar_stem_is_stride_one_without_max_pool(arch: str) -> None:
    model = tiny_cifar_model(arch)
    first_conv = next(m for m in model.modules() if isinstance(m, nn.Conv2d))
    assert first_conv.kernel_size == (3, 3) and first_conv.stride == (1, 1)
    grid = CIFAR_FINAL_GRID[arch]
    assert final_feature_grid(model, 32) == (grid, grid)
    # Small digits still end on a non-empty grid thanks to ceil-mode / padded reductions.
    assert min(final_feature_grid(model, 8)) >= 1


def test_cifar_densenet_has_121_weighted_layers() -> None:
    # 1 stem conv + 2·(6+12+24+16) dense-layer convs + 3 transition convs + 1 linear = 121.
    model = tiny_cifar_model("densenet121")
    weighted = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert len(weighted) == 121


def _parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_cifar_parameter_counts_match_reference_architectures() -> None:
    import torchvision

    with torch.device("meta"):  # layout only: no weight initialization cost
        ours = {
            arch: _parameter_count(build_model(arch, num_classes=10, mean=MEAN, std=STD))
            for arch in CIFAR_ARCHS
        }
        # torchvision's ImageNet versions differ only in stem/strides, which hold no
        # parameters, except VGG (4096-wide FC head, conv biases) and Inception (aux head).
        reference_mobilenet = _parameter_count(torchvision.models.mobilenet_v2(num_classes=10))
        reference_inception = _parameter_count(
            torchvision.models.inception_v3(num_classes=10, aux_logits=False, init_weights=False)
        )
        vgg_features = torchvision.models.vgg16_bn().features
    conv_biases = sum(m.bias.numel() for m in vgg_features if isinstance(m, nn.Conv2d))
    reference_vgg = _parameter_count(vgg_features) - conv_biases + 512 * 10 + 10
    assert ours == {
        # Published CIFAR-10 counts of ResNet18/50 and DenseNet121-BC (k=32) at 10 classes.
        "resnet18": 11_173_962,
        "resnet50": 23_520_842,
        "densenet121": 6_956_298,
        "vgg16": reference_vgg,
        "mobilenetv2": reference_mobilenet,
        "inceptionv3": reference_inception,
    }


# --- ImageNet-style --------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("arch", IMAGENET_ARCHS)
def test_imagenet_forward_at_native_size(arch: str) -> None:
    model = imagenet_model(arch).eval()
    with torch.no_grad():
        logits = model(torch.rand(1, 3, 224, 224, generator=torch.Generator().manual_seed(0)))
    assert logits.shape == (1, NUM_CLASSES)
    assert torch.isfinite(logits).all()


@pytest.mark.parametrize("arch", IMAGENET_ARCHS)
def test_imagenet_forward_backward_at_min_size(arch: str) -> None:
    model = imagenet_model(arch)
    size = architecture_info(arch).min_size
    x = torch.rand(2, 3, size, size, generator=torch.Generator().manual_seed(0))
    model.train()
    try:
        logits = model(x)
        assert logits.shape == (2, NUM_CLASSES)
        model.zero_grad(set_to_none=True)
        nn.functional.cross_entropy(logits, torch.tensor([0, 1])).backward()
    finally:
        model.eval()
    head = list(model.modules())[-1]
    assert isinstance(head, nn.Linear) and head.out_features == NUM_CLASSES
    assert head.weight.grad is not None and torch.isfinite(head.weight.grad).all()
    first_conv = next(m for m in model.modules() if isinstance(m, nn.Conv2d))
    assert first_conv.weight.grad is not None and first_conv.weight.grad.abs().sum() > 0
    model.zero_grad(set_to_none=True)


@pytest.mark.parametrize("arch", IMAGENET_ARCHS)
def test_imagenet_width_other_than_one_is_rejected(arch: str) -> None:
    with pytest.raises(ValueError, match="width=1.0"):
        build_model(arch, num_classes=10, mean=MEAN, std=STD, width=0.5)


# --- normalization -------------------------------------------------------------------------


def test_normalize_matches_hand_computation() -> None:
    mean, std = (0.1, 0.5, 0.9), (0.2, 0.25, 4.0)
    x = torch.rand(2, 3, 4, 5, generator=torch.Generator().manual_seed(0))
    expected = torch.empty_like(x)
    for n in range(2):
        for c in range(3):
            for i in range(4):
                for j in range(5):
                    expected[n, c, i, j] = (float(x[n, c, i, j]) - mean[c]) / std[c]
    normalize = Normalize(mean, std)
    torch.testing.assert_close(normalize(x), expected)
    assert set(normalize.state_dict()) == {"mean", "std"}
    assert not list(normalize.parameters())


def test_normalized_classifier_composes_normalization_then_net() -> None:
    model = tiny_cifar_model("resnet18").eval()
    x = torch.rand(3, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    with torch.no_grad():
        torch.testing.assert_close(model(x), model.net((x - mean) / std))


@pytest.mark.parametrize(
    ("mean", "std", "match"),
    [
        ((0.5, 0.5), (0.2, 0.2, 0.2), "one entry per channel"),
        ((0.5, 0.5, 0.5), (0.2, 0.0, 0.2), "positive"),
        ((0.5, float("nan"), 0.5), (0.2, 0.2, 0.2), "finite"),
        ((), (), "empty"),
        ((0.5,), (0.2,), "3 entries"),
    ],
)
def test_bad_normalization_statistics_are_rejected(
    mean: tuple[float, ...], std: tuple[float, ...], match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        build_model("resnet18", num_classes=10, mean=mean, std=std, width=TINY_WIDTH)


def test_normalize_rejects_wrong_channel_count() -> None:
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        Normalize(MEAN, STD)(torch.rand(2, 1, 8, 8))


# --- arch_spec, determinism, bad arguments --------------------------------------------------


@pytest.mark.parametrize("arch", CIFAR_ARCHS)
def test_arch_spec_round_trips_through_json(arch: str) -> None:
    model = tiny_cifar_model(arch)
    spec = json.loads(json.dumps(model.arch_spec))
    assert spec == {
        "arch": arch,
        "num_classes": NUM_CLASSES,
        "mean": list(MEAN),
        "std": list(STD),
        "width": TINY_WIDTH,
        "pretrained": False,
    }
    torch.manual_seed(0)
    rebuilt = build_model(**spec)
    original_state, rebuilt_state = model.state_dict(), rebuilt.state_dict()
    assert list(original_state) == list(rebuilt_state)
    for key, value in original_state.items():
        # Same seed, same spec: the same initial weights, not just the same shapes.
        torch.testing.assert_close(rebuilt_state[key], value, rtol=0, atol=0, msg=key)
    assert rebuilt.piecewise_linear is model.piecewise_linear is True


@pytest.mark.parametrize("arch", IMAGENET_ARCHS)
def test_imagenet_arch_spec_rebuilds_same_state_dict_layout(arch: str) -> None:
    model = imagenet_model(arch)
    spec = json.loads(json.dumps(model.arch_spec))
    assert spec["arch"] == arch and spec["pretrained"] is False and spec["width"] == 1.0
    # Building on the meta device skips weight initialization; only layout is compared.
    with torch.device("meta"):
        rebuilt = build_model(**spec)
    expected = {key: tuple(value.shape) for key, value in model.state_dict().items()}
    actual = {key: tuple(value.shape) for key, value in rebuilt.state_dict().items()}
    assert actual == expected


def test_build_is_deterministic_given_the_seed() -> None:
    first = tiny_cifar_model("mobilenetv2", seed=3)
    second = tiny_cifar_model("mobilenetv2", seed=3)
    other = tiny_cifar_model("mobilenetv2", seed=4)
    for key, value in first.state_dict().items():
        torch.testing.assert_close(second.state_dict()[key], value, rtol=0, atol=0)
    assert not torch.equal(first.net.classifier.weight, other.net.classifier.weight)


def test_architecture_options_pass_through_and_unknown_ones_are_rejected() -> None:
    torch.manual_seed(0)
    model = build_model(
        "inceptionv3", num_classes=3, mean=MEAN, std=STD, width=TINY_WIDTH, dropout=0.2
    )
    assert model.arch_spec["dropout"] == 0.2
    assert model.net.dropout.p == 0.2
    with pytest.raises(ValueError, match=r"unknown option.*'depth'"):
        build_model("resnet18", num_classes=3, mean=MEAN, std=STD, depth=34)
    with pytest.raises(ValueError, match="JSON-serializable"):
        build_model("inceptionv3", num_classes=3, mean=MEAN, std=STD, dropout=object())


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"width": 0.0}, "positive finite"),
        ({"width": -0.5}, "positive finite"),
        ({"width": float("inf")}, "positive finite"),
        ({"width": "wide"}, "must be a number"),
        ({"num_classes": 0}, "num_classes"),
        ({"num_classes": 2.0}, "num_classes"),
        ({"pretrained": True}, "no pretrained weights"),
        ({"pretrained": "yes"}, "pretrained must be"),
    ],
)
def test_bad_build_arguments_are_rejected(kwargs: dict[str, object], match: str) -> None:
    arguments: dict[str, object] = {"num_classes": 10, "mean": MEAN, "std": STD, **kwargs}
    with pytest.raises(ValueError, match=match):
        build_model("resnet18", **arguments)  # type: ignore[arg-type]


# --- pretrained weights ------------------------------------------------------------------


@pytest.fixture
def empty_caches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("TRANSFERLAB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    return tmp_path


@pytest.mark.parametrize("arch", IMAGENET_ARCHS)
def test_pretrained_unavailable_offline_names_arch_file_and_fix(
    arch: str, empty_caches: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

    def no_network(url: str, destination: Path) -> None:
        raise AssertionError("offline mode must not try to download")

    monkeypatch.setattr(imagenet_module, "download_weights", no_network)
    with pytest.raises(PretrainedWeightsUnavailable) as error:
        build_model(arch, num_classes=10, mean=MEAN, std=STD, pretrained=True)
    message = str(error.value)
    checkpoints = empty_caches / "torch" / "hub" / "checkpoints"
    assert repr(arch) in message
    assert str(checkpoints) in message and ".pth" in message
    assert "https://" in message and "internet" in message
    assert isinstance(error.value, RuntimeError)


def test_pretrained_download_failure_is_wrapped(
    empty_caches: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    def unreachable(url: str, destination: Path) -> None:
        calls.append(url)
        raise urllib.error.URLError("no route to host")

    monkeypatch.setattr(imagenet_module, "download_weights", unreachable)
    with pytest.raises(PretrainedWeightsUnavailable, match="download failed") as error:
        build_model("resnet50_imagenet", num_classes=10, mean=MEAN, std=STD, pretrained=True)
    assert calls and calls[0].endswith(".pth")
    assert isinstance(error.value.__cause__, urllib.error.URLError)


def test_pretrained_loads_cached_weights_and_replaces_head(
    empty_caches: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torchvision

    monkeypatch.setenv("TRANSFERLAB_OFFLINE", "1")
    weights = torchvision.models.MobileNet_V2_Weights.IMAGENET1K_V1
    torch.manual_seed(123)
    reference = torchvision.models.mobilenet_v2(num_classes=1000)
    cached = empty_caches / "torch" / "hub" / "checkpoints" / Path(weights.url).name
    cached.parent.mkdir(parents=True)
    torch.save(reference.state_dict(), cached)

    torch.manual_seed(0)
    model = build_model("mobilenetv2_imagenet", num_classes=10, mean=MEAN, std=STD, pretrained=True)
    assert model.arch_spec["pretrained"] is True
    state = model.net.state_dict()
    for key, value in reference.state_dict().items():
        if key.startswith("classifier.1."):
            continue
        torch.testing.assert_close(state[key], value, rtol=0, atol=0, msg=key)
    assert state["classifier.1.weight"].shape == (10, 1280)


# --- piecewise linearity (SPEC §5) --------------------------------------------------------


@pytest.mark.parametrize("arch", CIFAR_ARCHS + IMAGENET_ARCHS)
def test_piecewise_linear_flag_matches_module_types(arch: str) -> None:
    with torch.device("meta"):
        model = build_model(arch, num_classes=NUM_CLASSES, mean=MEAN, std=STD)
    leaves = [m for m in model.modules() if not list(m.children())]
    others = {type(m).__name__ for m in leaves if not isinstance(m, PIECEWISE_LINEAR_LEAVES)}
    assert model.piecewise_linear is architecture_info(arch).piecewise_linear
    assert model.piecewise_linear == (not others), f"non-piecewise-linear leaves: {others}"


@pytest.mark.parametrize("arch", CIFAR_ARCHS)
def test_cifar_logits_have_zero_input_hessian_in_eval_mode(arch: str) -> None:
    model = tiny_cifar_model(arch).double()
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():  # a few train-mode passes so the BN running statistics are not trivial
        model.train()
        for _ in range(2):
            model(torch.rand(8, 3, 16, 16, generator=generator, dtype=torch.float64))
    model.eval()
    x = torch.rand(2, 3, 16, 16, generator=generator, dtype=torch.float64)
    assert logits_hessian_vector_product(model, x).abs().max() == 0
    # The check can fail: the same network with a smooth activation has curvature.
    replace_activations(model.net, nn.Softplus)
    assert logits_hessian_vector_product(model, x).abs().max() > 1e-8


def test_imagenet_logits_have_zero_input_hessian_in_eval_mode() -> None:
    # torchvision's DenseNet applies ReLU functionally, invisible to the module-type check.
    model = imagenet_model("densenet121_imagenet").eval()
    x = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    assert logits_hessian_vector_product(model, x).abs().max() == 0


@pytest.mark.parametrize("arch", ["resnet18", "inceptionv3", "densenet121"])
def test_cpu_placement_is_channels_last_and_computes_the_same_function(arch: str) -> None:
    torch.manual_seed(0)
    reference = build_model(
        arch, num_classes=10, mean=[0.5] * 3, std=[0.25] * 3, width=0.125
    ).eval()
    placed = build_model(**reference.arch_spec).eval()
    placed.load_state_dict(reference.state_dict())
    assert place_model(placed, "cpu") is placed
    conv_weights = [p for p in placed.parameters() if p.dim() == 4]
    assert conv_weights
    assert all(w.is_contiguous(memory_format=torch.channels_last) for w in conv_weights)
    assert not all(
        w.is_contiguous(memory_format=torch.channels_last)
        for w in reference.parameters()
        if w.dim() == 4 and w.shape[-1] > 1
    )
    x = torch.rand(4, 3, 16, 16, requires_grad=True)
    x_ref = x.detach().clone().requires_grad_(True)
    out, out_ref = placed(x), reference(x_ref)
    torch.testing.assert_close(out, out_ref, rtol=1e-4, atol=1e-5)
    (grad,) = torch.autograd.grad(out[:, 0].sum(), x)
    (grad_ref,) = torch.autograd.grad(out_ref[:, 0].sum(), x_ref)
    # Rounding may flip a ReLU whose input is ~0, changing a few gradient entries slightly.
    assert float((grad - grad_ref).norm() / grad_ref.norm()) < 1e-3
