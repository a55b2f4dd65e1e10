"""Tests for transferlab.data (SPEC §2).

Expected values come from the raw sources (scikit-learn's digits arrays, the
bytes the tests pickle / paint into JPEGs) and from hand-derived geometry,
never from the code under test.
"""

from __future__ import annotations

import collections
import json
import pickle
import subprocess
import sys
import urllib.error
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import transferlab.data as data
from transferlab.data import (
    DatasetMissingError,
    class_balanced_order,
    dataset_info,
    ensure_dataset,
    iterate_dataset,
    load_dataset,
    training_data,
)
from transferlab.data.augment import sample_resized_crop_box, shift_crop
from transferlab.registry import UnknownNameError


def raw_digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return bunch.images / 16.0, bunch.target


def bilinear_upsample_reference(image: np.ndarray, size: int) -> np.ndarray:
    """Separable bilinear resize, half-pixel centres, edge clamp (hand-written)."""
    n = image.shape[0]

    def weights(out: int) -> np.ndarray:
        matrix = np.zeros((out, n))
        for i in range(out):
            src = max((i + 0.5) * n / out - 0.5, 0.0)
            i0 = min(int(np.floor(src)), n - 1)
            i1 = min(i0 + 1, n - 1)
            frac = src - i0
            matrix[i, i0] += 1 - frac
            matrix[i, i1] += frac
        return matrix

    m = weights(size)
    return m @ image @ m.T


def batches_equal(a: list, b: list) -> bool:
    return len(a) == len(b) and all(
        torch.equal(x1, x2) and torch.equal(y1, y2) for (x1, y1), (x2, y2) in zip(a, b, strict=True)
    )


# ---------------------------------------------------------------- registry / options


def test_unknown_dataset_lists_allowed_names():
    with pytest.raises(UnknownNameError, match="cifar10, digits, imagenette"):
        dataset_info("mnist")


def test_bad_options_and_split_raise_value_error():
    with pytest.raises(ValueError, match="unknown option.*'colour'"):
        dataset_info("digits", colour=True)
    with pytest.raises(ValueError, match="'size'"):
        dataset_info("digits", size=0)
    with pytest.raises(ValueError, match="'test_fraction'"):
        dataset_info("digits", test_fraction=1.5)
    with pytest.raises(ValueError, match="'download'"):
        dataset_info("cifar10", download="yes")
    with pytest.raises(ValueError, match="'resize'"):
        dataset_info("imagenette", size=224, resize=200)
    with pytest.raises(ValueError, match="split"):
        load_dataset("digits", "validation")
    with pytest.raises(ValueError, match="limit"):
        load_dataset("digits", "test", limit=0)


def test_info_fields():
    cifar = dataset_info("cifar10")
    assert (cifar.label, cifar.num_classes, cifar.image_size) == ("CIFAR-10", 10, 32)
    assert cifar.mean == (0.4914, 0.4822, 0.4465)
    assert cifar.std == (0.2471, 0.2435, 0.2616)
    assert cifar.class_names[0] == "airplane" and cifar.class_names[9] == "truck"
    nette = dataset_info("imagenette", root="/nonexistent/for/info")
    assert (nette.label, nette.num_classes, nette.image_size) == ("ImageNette", 10, 224)
    assert nette.mean == (0.485, 0.456, 0.406) and nette.std == (0.229, 0.224, 0.225)
    assert nette.class_names[0] == "tench"
    digits = dataset_info("digits", size=12)
    assert (digits.label, digits.num_classes, digits.image_size) == ("Digits", 10, 12)


def test_class_balanced_order_hand_example():
    labels = torch.tensor([2, 0, 0, 1, 2, 0])
    # round 1: class 0 -> 1, class 1 -> 3, class 2 -> 0; round 2: 2, 4; round 3: 5
    assert class_balanced_order(labels).tolist() == [1, 3, 0, 2, 4, 5]


# ---------------------------------------------------------------- digits


def test_digits_shapes_range_channels():
    x_train, y_train = load_dataset("digits", "train")
    x_test, y_test = load_dataset("digits", "test")
    assert x_train.shape == (1347, 3, 16, 16) and x_test.shape == (450, 3, 16, 16)
    assert x_train.dtype == torch.float32 and y_train.dtype == torch.int64
    for x in (x_train, x_test):
        assert x.min() >= 0.0 and x.max() <= 1.0 and x.max() > 0.99
        assert torch.equal(x[:, 0], x[:, 1]) and torch.equal(x[:, 0], x[:, 2])
    assert set(y_test.tolist()) == set(range(10))


def test_digits_split_is_fixed_stratified_and_partitions_the_data():
    images, targets = raw_digits()
    torch.manual_seed(123)
    x_train, y_train = load_dataset("digits", "train", size=8)
    torch.manual_seed(999)
    x_test, y_test = load_dataset("digits", "test", size=8)
    x_again, y_again = load_dataset("digits", "test", size=8)
    assert torch.equal(x_test, x_again) and torch.equal(y_test, y_again)

    # at size 8 the images are the raw ones /16: train ∪ test is the raw multiset
    def keys(x: np.ndarray, y: np.ndarray) -> collections.Counter:
        return collections.Counter(
            (np.round(img * 16).astype(np.int8).tobytes(), int(lab))
            for img, lab in zip(x, y, strict=True)
        )

    loaded = keys(x_train[:, 0].numpy(), y_train.numpy()) + keys(
        x_test[:, 0].numpy(), y_test.numpy()
    )
    assert loaded == keys(images, targets)
    # stratified: each class's test share is the class count x 0.25, up to rounding
    total = np.bincount(targets, minlength=10)
    test_counts = np.bincount(y_test.numpy(), minlength=10)
    assert np.all(np.abs(test_counts - 0.25 * total) <= 1.0)
    assert len(y_test) == 450


def test_digits_raw_arrays_are_scikit_learns():
    from transferlab.data.digits import _raw_digits

    images, targets = raw_digits()
    ours, labels = _raw_digits()
    np.testing.assert_array_equal(ours, images.astype(np.float32))
    np.testing.assert_array_equal(labels, targets)


def test_digits_jobs_import_neither_sklearn_torchvision_nor_dynamo(tmp_path: Path):
    # each Snakemake job is a fresh process: these imports cost ~2-3 s each per digits job
    spec = {
        "architecture": {"arch": "vgg16", "pretrained": False, "width": 0.0625},
        "dataset": {"name": "digits", "options": {"size": 8}},
        "mechanism": {"name": "st", "settings": {}, "tau": None, "tau_index": 1},
        "seed": 0,
        "training": {"batch_size": 256, "epochs": 1, "lr": 0.1, "warmup_epochs": 0},
    }
    code = (
        "import sys, json, transferlab.cli, transferlab.transfer.crafting;"
        "from transferlab.training.loop import train_model;"
        f"train_model(json.loads({json.dumps(json.dumps(spec))}), {str(tmp_path / 'm.pt')!r},"
        " log=lambda m: None);"
        "print(sorted(m for m in ('sklearn', 'torchvision', 'torch._dynamo') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_imagenette_extensions_match_torchvision():
    from torchvision.datasets import folder

    from transferlab.data import imagenette

    assert imagenette.IMG_EXTENSIONS == folder.IMG_EXTENSIONS


def test_digits_test_fraction_option():
    _, y_test = load_dataset("digits", "test", test_fraction=0.5)
    assert abs(len(y_test) - 1797 * 0.5) <= 1


def test_digits_resize_matches_hand_bilinear():
    images, targets = raw_digits()
    x8, _ = load_dataset("digits", "test", size=8)
    x16, _ = load_dataset("digits", "test", size=16)
    x12, _ = load_dataset("digits", "test", size=12)
    x4, _ = load_dataset("digits", "test", size=4)
    assert x12.shape == (450, 3, 12, 12) and x4.shape == (450, 3, 4, 4)

    def on_8bit_grid(values: np.ndarray) -> np.ndarray:
        """Round half up to k/255, as every data set's images (SPEC §7)."""
        return np.floor(values * 255 + 0.5) / 255

    def assert_on_grid_of(actual: torch.Tensor, reference: np.ndarray) -> None:
        """actual = the reference rounded to the 8-bit grid; at an exact tie (k + ½)/255,
        which float32 interpolation may put on either side, either neighbour is right."""
        q = np.round(actual.double().numpy() * 255)
        scaled = reference * 255
        tie = np.abs(scaled - np.floor(scaled) - 0.5) < 1e-4
        expected = np.floor(scaled + 0.5)
        assert np.array_equal(q[~tie], expected[~tie])
        assert np.all(np.abs(q[tie] - scaled[tie]) < 0.5 + 1e-4)

    for k in (0, 7, 300):
        # size 8 is the native resolution: pixel/16 on the 8-bit grid, and pixel/16 is
        # recovered exactly (255/16 > 1 grid step per digits level)
        pixel = np.round(x8[k, 0].double().numpy() * 16)
        assert_on_grid_of(x8[k, 0], pixel / 16)
        source = pixel / 16
        assert_on_grid_of(x16[k, 0], bilinear_upsample_reference(source, 16))
        assert_on_grid_of(x12[k, 0], bilinear_upsample_reference(source, 12))
        # downsampling without antialias: each output is the mean of a 2×2 block
        assert_on_grid_of(x4[k, 0], source.reshape(4, 2, 4, 2).mean(axis=(1, 3)))


def test_digits_limit_is_class_balanced_prefix():
    x, y = load_dataset("digits", "test", limit=20)
    assert x.shape == (20, 3, 16, 16)
    assert sorted(y.tolist()) == sorted(list(range(10)) * 2)
    full_x, full_y = load_dataset("digits", "test")
    assert torch.equal(x, full_x[:20]) and torch.equal(y, full_y[:20])


def test_digits_mean_std_constants_match_train_split():
    x, _ = load_dataset("digits", "train")
    info = dataset_info("digits")
    for c in range(3):
        assert abs(x[:, c].double().mean().item() - info.mean[c]) < 5e-4
        assert abs(x[:, c].double().std(unbiased=False).item() - info.std[c]) < 5e-4


def test_digits_iterate_matches_load():
    x, y = load_dataset("digits", "test", limit=100)
    parts = list(iterate_dataset("digits", "test", batch_size=32, limit=100))
    assert [p[0].shape[0] for p in parts] == [32, 32, 32, 4]
    assert torch.equal(torch.cat([p[0] for p in parts]), x)
    assert torch.equal(torch.cat([p[1] for p in parts]), y)


def window_index(originals: np.ndarray, pad: int, flips: bool) -> dict[bytes, tuple]:
    """Every crop of every zero-padded original -> (index, dy, dx, flipped)."""
    n, c, h, w = originals.shape
    padded = np.zeros((n, c, h + 2 * pad, w + 2 * pad), dtype=originals.dtype)
    padded[:, :, pad : pad + h, pad : pad + w] = originals
    table = {}
    for dy in range(2 * pad + 1):
        for dx in range(2 * pad + 1):
            window = padded[:, :, dy : dy + h, dx : dx + w]
            for flipped in (False, True) if flips else (False,):
                crop = window[..., ::-1] if flipped else window
                for i in range(n):
                    table.setdefault(np.ascontiguousarray(crop[i]).tobytes(), (i, dy, dx, flipped))
    return table


def test_digits_training_epoch_is_shifted_crops_and_deterministic():
    td = training_data("digits", size=8)
    assert len(td) == 1347
    epoch = list(td.batches(500, torch.Generator().manual_seed(5)))
    assert [b[0].shape for b in epoch] == [(500, 3, 8, 8), (500, 3, 8, 8), (347, 3, 8, 8)]
    again = list(td.batches(500, torch.Generator().manual_seed(5)))
    other = list(td.batches(500, torch.Generator().manual_seed(6)))
    assert batches_equal(epoch, again) and not batches_equal(epoch, other)
    dropped = list(td.batches(500, torch.Generator().manual_seed(5), drop_last=True))
    assert len(dropped) == 2 and batches_equal(dropped, epoch[:2])

    originals, labels = load_dataset("digits", "train", size=8)
    table = window_index(originals[:, :1].numpy(), pad=1, flips=False)
    sources, shifts = [], set()
    for x, y in epoch:
        assert x.dtype == torch.float32 and x.min() >= 0 and x.max() <= 1
        for img, lab in zip(x, y, strict=True):
            i, dy, dx, _ = table[img[:1].numpy().tobytes()]  # KeyError: not a valid crop
            assert labels[i] == lab
            sources.append(i)
            shifts.add((dy, dx))
    # the epoch is a permutation of the split, with varied shifts (pad 1 at size 8)
    assert len(set(sources)) == 1347 and len(sources) == 1347
    assert shifts == {(dy, dx) for dy in range(3) for dx in range(3)}


# ---------------------------------------------------------------- augmentation primitives


def test_shift_crop_hand_example():
    image = torch.arange(1.0, 10.0).view(1, 1, 3, 3)
    crop = shift_crop(image.expand(3, 1, 3, 3), 1, torch.tensor([[0, 0], [2, 2], [1, 1]]))
    assert crop[0, 0].tolist() == [[0, 0, 0], [0, 1, 2], [0, 4, 5]]
    assert crop[1, 0].tolist() == [[5, 6, 0], [8, 9, 0], [0, 0, 0]]
    assert torch.equal(crop[2, 0], image[0, 0])
    flipped = shift_crop(
        image.expand(2, 1, 3, 3), 1, torch.tensor([[1, 1], [0, 2]]), torch.tensor([True, True])
    )
    assert flipped[0, 0].tolist() == [[3, 2, 1], [6, 5, 4], [9, 8, 7]]
    # crop at (0, 2) is [[0,0,0],[2,3,0],[5,6,0]], then mirrored
    assert flipped[1, 0].tolist() == [[0, 0, 0], [0, 3, 2], [0, 6, 5]]


def test_resized_crop_boxes_follow_the_distribution_bounds():
    generator = torch.Generator().manual_seed(0)
    boxes = [sample_resized_crop_box(260, 300, generator) for _ in range(300)]
    fractions = []
    for top, left, h, w in boxes:
        assert top >= 0 and left >= 0 and top + h <= 260 and left + w <= 300
        fractions.append(h * w / (260 * 300))
        assert 0.7 <= w / h <= 1.4  # ratio range (3/4, 4/3) up to rounding
    assert min(fractions) >= 0.07 and max(fractions) <= 1.0
    # area fraction ~ U(0.08, 1) (truncated by fit): mean near 0.5
    assert 0.4 < np.mean(fractions) < 0.6
    same = [sample_resized_crop_box(260, 300, torch.Generator().manual_seed(0)) for _ in range(2)]
    assert same[0] == same[1] == boxes[0]


# ---------------------------------------------------------------- CIFAR-10 on disk


def write_cifar(root: Path, per_batch: int = 20, bytes_keys: bool = False) -> dict:
    """Tiny CIFAR-10 in torchvision's on-disk format; returns what was written."""
    rng = np.random.default_rng(0)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    written = {}

    def key(name: str):
        return name.encode() if bytes_keys else name

    for name in [f"data_batch_{k}" for k in range(1, 6)] + ["test_batch"]:
        images = rng.integers(0, 256, size=(per_batch, 3072), dtype=np.uint8)
        labels = rng.integers(0, 10, size=per_batch).tolist()
        content = {
            key("batch_label"): f"{name} of 5",
            key("labels"): labels,
            key("data"): images,
            key("filenames"): [f"img_{i}.png" for i in range(per_batch)],
        }
        with (folder / name).open("wb") as handle:
            pickle.dump(content, handle, protocol=2)
        written[name] = (images, labels)
    meta = {"num_cases_per_batch": per_batch, "label_names": ["a"] * 10, "num_vis": 3072}
    with (folder / "batches.meta").open("wb") as handle:
        pickle.dump(meta, handle, protocol=2)
    return written


@pytest.mark.parametrize("bytes_keys", [False, True])
def test_cifar_reader_layout_and_labels(tmp_path, bytes_keys):
    written = write_cifar(tmp_path, bytes_keys=bytes_keys)
    x, y = load_dataset("cifar10", "train", root=str(tmp_path))
    assert x.shape == (100, 3, 32, 32) and x.dtype == torch.float32 and y.dtype == torch.int64
    rows = np.concatenate([written[f"data_batch_{k}"][0] for k in range(1, 6)])
    labels = sum((written[f"data_batch_{k}"][1] for k in range(1, 6)), [])
    assert y.tolist() == labels
    # pixel (c, i, j) of image n is row n's entry c*1024 + i*32 + j, divided by 255
    for n, c, i, j in [(0, 0, 0, 0), (3, 1, 5, 7), (99, 2, 31, 31), (42, 0, 31, 0)]:
        assert x[n, c, i, j].item() == pytest.approx(rows[n, c * 1024 + i * 32 + j] / 255, abs=1e-7)
    expected = rows.reshape(100, 3, 32, 32).astype(np.float32) / 255
    np.testing.assert_allclose(x.numpy(), expected, atol=1e-7)

    x_test, y_test = load_dataset("cifar10", "test", root=str(tmp_path), limit=7)
    assert y_test.tolist() == written["test_batch"][1][:7]
    np.testing.assert_array_equal(
        np.round(x_test.numpy() * 255).astype(np.uint8).reshape(7, 3072),
        written["test_batch"][0][:7],
    )
    parts = list(iterate_dataset("cifar10", "train", batch_size=32, root=str(tmp_path)))
    assert torch.equal(torch.cat([p[0] for p in parts]), x)
    assert torch.equal(torch.cat([p[1] for p in parts]), y)


def test_cifar_training_epoch_is_crop_flip_and_deterministic(tmp_path):
    write_cifar(tmp_path)
    td = training_data("cifar10", root=str(tmp_path))
    assert len(td) == 100
    epoch = list(td.batches(32, torch.Generator().manual_seed(1)))
    assert [b[0].shape[0] for b in epoch] == [32, 32, 32, 4]
    assert batches_equal(epoch, list(td.batches(32, torch.Generator().manual_seed(1))))
    assert not batches_equal(epoch, list(td.batches(32, torch.Generator().manual_seed(2))))

    originals, labels = load_dataset("cifar10", "train", root=str(tmp_path))
    as_bytes = np.round(originals.numpy() * 255).astype(np.uint8)
    table = window_index(as_bytes, pad=4, flips=True)
    sources, flips = [], set()
    for x, y in epoch:
        assert x.shape[1:] == (3, 32, 32) and x.min() >= 0 and x.max() <= 1
        pixels = np.round(x.numpy() * 255).astype(np.uint8)
        for img, lab in zip(pixels, y, strict=True):
            i, _, _, flipped = table[img.tobytes()]
            assert labels[i] == lab
            sources.append(i)
            flips.add(flipped)
    assert sorted(sources) == list(range(100)) and flips == {False, True}


def test_cifar_missing_message(tmp_path):
    with pytest.raises(DatasetMissingError) as caught:
        ensure_dataset("cifar10", root=str(tmp_path), download=False)
    message = str(caught.value)
    assert isinstance(caught.value, FileNotFoundError)
    assert str(tmp_path) in message and "cifar-10-batches-py" in message
    assert "data_batch_1" in message and "test_batch" in message
    assert "download: true" in message and "cifar-10-python.tar.gz" in message
    for call in (
        lambda: load_dataset("cifar10", "test", root=str(tmp_path)),
        lambda: iterate_dataset("cifar10", "test", batch_size=4, root=str(tmp_path)),
        lambda: training_data("cifar10", root=str(tmp_path)),
    ):
        with pytest.raises(DatasetMissingError):
            call()


def test_cifar_download_uses_official_archive_and_offline_failure(tmp_path, monkeypatch):
    import torchvision.datasets.utils as tv_utils

    calls = []

    def fake_download(url, download_root, md5=None, **kwargs):
        calls.append((url, md5))
        write_cifar(Path(download_root), per_batch=2)

    monkeypatch.setattr(tv_utils, "download_and_extract_archive", fake_download)
    ensure_dataset("cifar10", root=str(tmp_path / "ok"), download=True)
    assert calls == [
        (
            "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
            "c58f30108f718f92721af3b95e74349a",
        )
    ]
    ensure_dataset("cifar10", root=str(tmp_path / "ok"), download=True)  # present: no download
    assert len(calls) == 1

    def offline(*args, **kwargs):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(tv_utils, "download_and_extract_archive", offline)
    with pytest.raises(DatasetMissingError, match="download failed.*Name or service"):
        ensure_dataset("cifar10", root=str(tmp_path / "offline"), download=True)


# ---------------------------------------------------------------- ImageNette on disk

TENCH, PARACHUTE = "n01440764", "n03888257"


def paint(path: Path, colour: tuple[int, int, int], brightness: int) -> None:
    """300×260 JPEG: black where x < 50 or y < 40, else ``colour`` with green = brightness."""
    pixels = np.zeros((260, 300, 3), dtype=np.uint8)
    pixels[40:, 50:] = (colour[0], brightness, colour[2])
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path, quality=95)


def write_tree(base: Path, classes: list[str], extension: str) -> None:
    """2 classes × 3 images per split; class k red (k=0) or blue (k=1) in sorted order."""
    colours = {sorted(classes)[0]: (220, 0, 20), sorted(classes)[1]: (20, 0, 220)}
    for split in ("train", "val"):
        for name in classes:  # written in the given (unsorted) order
            for k in range(3):
                paint(base / split / name / f"img_{k}{extension}", colours[name], 40 + 60 * k)


@pytest.fixture(scope="module")
def nette_trees(tmp_path_factory) -> dict[str, Path]:
    torchvision_root = tmp_path_factory.mktemp("nette_tv")
    write_tree(torchvision_root / "imagenette2-320", [PARACHUTE, TENCH], ".JPEG")
    folder_root = tmp_path_factory.mktemp("nette_folder")
    write_tree(folder_root, ["zebra", "apple"], ".jpg")
    return {"torchvision": torchvision_root, "folder": folder_root}


@pytest.mark.parametrize("layout", ["torchvision", "folder"])
def test_imagenette_labels_order_and_eval_geometry(nette_trees, layout, monkeypatch):
    root = str(nette_trees[layout])
    # list directories in reverse name order, so the class and file order must
    # come from sorting rather than from the file system's listing order
    listing = Path.iterdir
    monkeypatch.setattr(Path, "iterdir", lambda self: iter(sorted(listing(self), reverse=True)))
    info = dataset_info("imagenette", root=root)
    expected_names = ("tench", "parachute") if layout == "torchvision" else ("apple", "zebra")
    assert info.class_names == expected_names and info.num_classes == 2
    ensure_dataset("imagenette", root=root)

    x, y = load_dataset("imagenette", "test", root=root)
    assert x.shape == (6, 3, 224, 224) and x.dtype == torch.float32
    assert x.min() >= 0 and x.max() <= 1
    # class-balanced order over sorted classes, files sorted within a class
    assert y.tolist() == [0, 1, 0, 1, 0, 1]
    middle = x[:, :, 100:200, 100:200].mean(dim=(2, 3))
    for n in range(6):
        red, green, blue = middle[n].tolist()
        assert (red > blue) == (y[n].item() == 0)  # class 0 painted red
        assert green == pytest.approx((40 + 60 * (n // 2)) / 255, abs=0.03)
    # Resize(256): 300×260 -> 295×256; CenterCrop(224): left 36, top 16. The
    # black band x < 50 ends at column 50·295/300 − 36 ≈ 13.2, y < 40 at row
    # 40·256/260 − 16 ≈ 23.4 (a square 256 resize would put them at 26.7 / 23.4).
    brightness = x.sum(dim=1)[0]
    assert brightness[100, 8] < 0.1 and brightness[100, 20] > 0.5
    assert brightness[18, 100] < 0.1 and brightness[29, 100] > 0.5

    small, small_y = load_dataset("imagenette", "train", root=root, size=32, resize=40, limit=3)
    assert small.shape == (3, 3, 32, 32) and small_y.tolist() == [0, 1, 0]
    parts = list(iterate_dataset("imagenette", "test", batch_size=4, root=root))
    assert [p[0].shape[0] for p in parts] == [4, 2]
    assert torch.equal(torch.cat([p[0] for p in parts]), x)


def test_imagenette_training_is_deterministic_across_workers(nette_trees):
    root = str(nette_trees["torchvision"])
    td = training_data("imagenette", root=root, size=48, resize=56)
    assert len(td) == 6
    epoch = list(td.batches(4, torch.Generator().manual_seed(3)))
    assert [b[0].shape for b in epoch] == [(4, 3, 48, 48), (2, 3, 48, 48)]
    for x, _ in epoch:
        assert x.dtype == torch.float32 and x.min() >= 0 and x.max() <= 1
    assert sorted(torch.cat([b[1] for b in epoch]).tolist()) == [0, 0, 0, 1, 1, 1]
    assert batches_equal(epoch, list(td.batches(4, torch.Generator().manual_seed(3))))
    assert not batches_equal(epoch, list(td.batches(4, torch.Generator().manual_seed(4))))
    assert len(list(td.batches(4, torch.Generator().manual_seed(3), drop_last=True))) == 1
    with_worker = training_data("imagenette", root=root, size=48, resize=56, num_workers=1)
    assert batches_equal(epoch, list(with_worker.batches(4, torch.Generator().manual_seed(3))))


def test_imagenette_missing_message(tmp_path, monkeypatch):
    with pytest.raises(DatasetMissingError) as caught:
        ensure_dataset("imagenette", root=str(tmp_path), download=False)
    message = str(caught.value)
    assert str(tmp_path) in message and "imagenette2" in message
    assert "{train,val}" in message and "download: true" in message
    assert "imagenette2.tgz" in message
    with pytest.raises(DatasetMissingError):
        load_dataset("imagenette", "test", root=str(tmp_path))

    import torchvision.datasets.imagenette as tv_imagenette

    def offline(*args, **kwargs):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(tv_imagenette, "download_and_extract_archive", offline)
    with pytest.raises(DatasetMissingError, match="download failed"):
        ensure_dataset("imagenette", root=str(tmp_path), download=True, variant="160px")


def test_digits_needs_no_files():
    ensure_dataset("digits")
    assert "digits" in data.DATASETS


def test_cli_reports_a_missing_data_set_as_an_input_error(tmp_path, capsys) -> None:
    from transferlab.cli import main

    options = json.dumps({"root": str(tmp_path / "absent")})
    out = tmp_path / "cifar10.json"
    code = main(["prepare-data", "--dataset", "cifar10", "--options", options, "--out", str(out)])
    assert code == 2
    message = capsys.readouterr().err
    assert message.startswith("error: ") and "download: true" in message
    assert not out.exists()


def test_cli_aggregation_commands_do_not_import_torch() -> None:
    code = (
        "import sys\n"
        "from transferlab.cli import main\n"
        "try:\n"
        "    main(['compare-summary', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
