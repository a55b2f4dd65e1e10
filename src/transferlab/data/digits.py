"""scikit-learn's bundled 8×8 handwritten digits, the embedded default (SPEC §2).

1,797 real images, 10 classes, pixel values 0..16 mapped to [0,1] by /16.
A fixed stratified train/test split (split seed 0, independent of every
training seed), bilinearly resized to ``size``×``size`` (antialias off, clamped
to [0,1]), quantized to the 8-bit grid k/255 (round half up, as every stored
image; SPEC §7: a rounded AE then stays within ε of its clean image exactly) and
repeated to 3 channels. Needs no files and no network.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from transferlab.data.augment import InMemoryTrainingData, quantize_8bit, to_unit_float
from transferlab.data.base import (
    DATASETS,
    DatasetInfo,
    DatasetMissingError,
    DatasetSource,
    check_batch_size,
    check_limit,
    check_split,
    class_balanced_order,
)

SPLIT_SEED = 0
# Per-channel mean and population std over every pixel of the train split at
# the default options (size 16, test_fraction 0.25; 8-bit pixels); the channels are copies.
# Computed once from the data (tests/test_data.py recomputes them).
DIGITS_MEAN = (0.3057, 0.3057, 0.3057)
DIGITS_STD = (0.3189, 0.3189, 0.3189)


def _bundled_digits_file() -> Path:
    # Located without importing scikit-learn: every digits job would pay for that slow import
    # (benchmarks/README.md).
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise DatasetMissingError(
            "the digits data set ships with scikit-learn, which is not installed: "
            "run `pip install scikit-learn` (or `pip install -e .` in the repository)"
        )
    path = Path(spec.submodule_search_locations[0]) / "datasets" / "data" / "digits.csv.gz"
    if not path.is_file():
        raise DatasetMissingError(f"scikit-learn's bundled digits file {path} is missing")
    return path


@lru_cache(maxsize=1)
def _raw_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 images (N,8,8) in [0,1] (pixel/16) and labels, in file order
    (what ``sklearn.datasets.load_digits`` returns)."""
    table = np.loadtxt(_bundled_digits_file(), delimiter=",", dtype=np.float32)
    return table[:, :-1].reshape(-1, 8, 8) / 16.0, table[:, -1].astype(np.int64)


def stratified_split(labels: np.ndarray, test_fraction: float, seed: int) -> dict[str, np.ndarray]:
    """A stratified train/test partition of ``range(len(labels))``, each split sorted.

    n_test = ceil(test_fraction · N) (as scikit-learn's ``train_test_split``),
    allocated to classes by largest remainder: class c gets floor(f·n_c) and the
    leftover places go to the largest fractional parts f·n_c − floor(f·n_c) (ties:
    lower class first), so |n_test,c − f·n_c| < 1. Within each class, the test
    samples are the first n_test,c of a permutation drawn from
    ``numpy.random.default_rng(seed)``, classes in increasing label order.
    """
    classes, counts = np.unique(labels, return_counts=True)
    quota = test_fraction * counts
    per_class = np.floor(quota).astype(np.int64)
    leftover = math.ceil(test_fraction * labels.shape[0]) - int(per_class.sum())
    by_remainder = np.argsort(-(quota - per_class), kind="stable")
    per_class[by_remainder[:leftover]] += 1
    rng = np.random.default_rng(seed)
    test: list[np.ndarray] = []
    for label, n_test in zip(classes, per_class, strict=True):
        members = np.flatnonzero(labels == label)
        test.append(members[rng.permutation(members.shape[0])[:n_test]])
    test_index = np.sort(np.concatenate(test))
    train_index = np.setdiff1d(np.arange(labels.shape[0]), test_index)
    return {"train": train_index, "test": test_index}


def digits_split_indices(test_fraction: float) -> dict[str, np.ndarray]:
    """Indices of the fixed stratified split (split seed 0), each split sorted in file order."""
    _, labels = _raw_digits()
    return stratified_split(labels, test_fraction, SPLIT_SEED)


def resize_square(images: Tensor, size: int) -> Tensor:
    """Bilinear resize (align_corners=False, no antialias) to size×size, clamped to [0,1]."""
    if images.shape[-1] == size and images.shape[-2] == size:
        return images.clone()
    resized = F.interpolate(
        images, size=(size, size), mode="bilinear", align_corners=False, antialias=False
    )
    return resized.clamp_(0.0, 1.0)


@DATASETS.register("digits")
class Digits(DatasetSource):
    """Options: ``size`` (square side, default 16), ``test_fraction`` (default 0.25).

    ``limit`` order: class-balanced round-robin over the split's file order
    (see ``class_balanced_order``). Train augmentation: zero-pad by
    max(1, round(size/8)) (2 at size 16) and random-crop back; no flip, because
    mirrored digits are different (or no) digits.
    """

    name = "digits"
    label = "Digits"
    option_defaults = {"size": 16, "test_fraction": 0.25}

    def check_options(self) -> None:
        size = self.options["size"]
        if isinstance(size, bool) or not isinstance(size, int) or size < 4:
            raise self.option_error("size", "an int >= 4")
        fraction = self.options["test_fraction"]
        # stratification needs at least one sample per class (10) on each side
        if (
            isinstance(fraction, bool)
            or not isinstance(fraction, (int, float))
            or not 0.01 <= fraction <= 0.99
        ):
            raise self.option_error("test_fraction", "a number in [0.01, 0.99]")

    @property
    def size(self) -> int:
        return int(self.options["size"])  # type: ignore[call-overload]

    def info(self) -> DatasetInfo:
        return DatasetInfo(
            name=self.name,
            label=self.label,
            num_classes=10,
            mean=DIGITS_MEAN,
            std=DIGITS_STD,
            image_size=self.size,
            class_names=tuple(str(k) for k in range(10)),
        )

    def ensure(self) -> None:
        """Bundled with scikit-learn: always present."""

    def pixels(self, split: str) -> tuple[Tensor, Tensor]:
        """All images (N,3,size,size) as uint8 pixels and labels of ``split``, balanced order."""
        check_split(split)
        images, labels = _raw_digits()
        index = digits_split_indices(float(self.options["test_fraction"]))[split]  # type: ignore[arg-type]
        x = torch.from_numpy(images[index]).unsqueeze(1)
        y = torch.from_numpy(labels[index])
        order = class_balanced_order(y)
        q = quantize_8bit(resize_square(x[order], self.size))
        return q.expand(-1, 3, -1, -1).contiguous(), y[order].clone()

    def split(self, split: str) -> tuple[Tensor, Tensor]:
        """All images (N,3,size,size) float32 k/255 in [0,1] and labels of ``split``."""
        q, y = self.pixels(split)
        return to_unit_float(q), y

    def load(self, split: str, limit: int | None) -> tuple[Tensor, Tensor]:
        check_limit(limit)
        x, y = self.split(split)
        if limit is not None:
            x, y = x[:limit].clone(), y[:limit].clone()
        return x, y

    def iterate(
        self, split: str, batch_size: int, limit: int | None
    ) -> Iterator[tuple[Tensor, Tensor]]:
        check_batch_size(batch_size)
        x, y = self.load(split, limit)
        return (
            (x[s : s + batch_size], y[s : s + batch_size]) for s in range(0, x.shape[0], batch_size)
        )

    def training_data(self) -> InMemoryTrainingData:
        x, y = self.pixels("train")
        return InMemoryTrainingData(x, y, pad=max(1, round(self.size / 8)), flip=False)
