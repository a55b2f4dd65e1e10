"""CIFAR-10 read from torchvision's on-disk format (SPEC §2).

Layout: ``<root>/cifar-10-batches-py/{data_batch_1..5, test_batch, batches.meta}``,
Python pickles; a batch holds ``data`` (uint8, N×3072, each row the 1024 R,
then 1024 G, then 1024 B values of a 32×32 image in row-major order) and
``labels`` (N ints). We read the pickles ourselves rather than through
``torchvision.datasets.CIFAR10``, whose md5 check rejects any file that is not
byte-identical to the official one (e.g. the small files tests write).
"""

from __future__ import annotations

import pickle
import socket
import urllib.error
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from transferlab.data.augment import InMemoryTrainingData, to_unit_float
from transferlab.data.base import (
    DATASETS,
    DatasetFileError,
    DatasetInfo,
    DatasetMissingError,
    DatasetSource,
    check_batch_size,
    check_limit,
    check_split,
)

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"
BATCH_FOLDER = "cifar-10-batches-py"
TRAIN_FILES = tuple(f"data_batch_{k}" for k in range(1, 6))
TEST_FILES = ("test_batch",)
META_FILE = "batches.meta"
CLASS_NAMES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2471, 0.2435, 0.2616)
# Seconds without a byte before a download attempt gives up (no hanging offline).
DOWNLOAD_TIMEOUT = 30.0


# What the official batches (and numpy-written ones) need to rebuild their arrays; a
# batch that names anything else is refused, so reading a batch never runs its code.
NUMPY_GLOBALS = {
    (module, name)
    for module in ("numpy.core.multiarray", "numpy._core.multiarray")
    for name in ("_reconstruct", "scalar")
} | {("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode")}  # encode: protocol-2 bytes


class _BatchUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in NUMPY_GLOBALS:
            raise pickle.UnpicklingError(
                f"refuses {module}.{name}: a CIFAR-10 batch holds only a dict, lists and "
                "numpy arrays"
            )
        return super().find_class(module, name)


def _unpickle(path: Path) -> dict[str, object]:
    """Load one batch file; keys come back as str whichever Python wrote the file."""
    with path.open("rb") as handle:
        try:
            # latin1 decodes the official Python-2 pickles, including their numpy arrays
            content = _BatchUnpickler(handle, encoding="latin1").load()
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as err:
            raise DatasetFileError(
                f"{path}: not a readable CIFAR-10 batch ({err}); re-extract the archive"
            ) from err
    if not isinstance(content, dict):
        raise DatasetFileError(f"{path}: expected a pickled dict, got {type(content).__name__}")
    return {k.decode() if isinstance(k, bytes) else k: v for k, v in content.items()}


def read_cifar_batch(path: Path) -> tuple[Tensor, Tensor]:
    """One batch file -> images uint8 (N,3,32,32) (row r: R=r[:1024], G, B) and labels int64."""
    content = _unpickle(path)
    if "data" not in content or "labels" not in content:
        raise DatasetFileError(f"{path}: not a CIFAR-10 batch (keys {sorted(content)})")
    data = np.asarray(content["data"])
    labels = np.asarray(content["labels"], dtype=np.int64)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise DatasetFileError(
            f"{path}: 'data' must be uint8 (N, 3072), got {data.dtype} {data.shape}"
        )
    if labels.shape != (data.shape[0],) or (
        labels.size and not 0 <= labels.min() <= labels.max() < 10
    ):
        raise DatasetFileError(f"{path}: 'labels' must be {data.shape[0]} ints in 0..9")
    images = torch.from_numpy(data.reshape(-1, 3, 32, 32).copy())
    return images, torch.from_numpy(labels)


@DATASETS.register("cifar10")
class Cifar10(DatasetSource):
    """Options: ``root`` (default ``data/cifar10``), ``download`` (default False).

    ``limit`` takes the first N images in file order (batch files in order).
    Train augmentation: RandomCrop(32, padding 4, zero fill) + horizontal flip,
    batched on the uint8 tensors held in memory (~150 MB for 50,000 images).
    """

    name = "cifar10"
    label = "CIFAR-10"
    option_defaults = {"root": "data/cifar10", "download": False}

    def check_options(self) -> None:
        if not isinstance(self.options["root"], (str, Path)) or not str(self.options["root"]):
            raise self.option_error("root", "a non-empty path")
        if not isinstance(self.options["download"], bool):
            raise self.option_error("download", "true or false")

    @property
    def root(self) -> Path:
        return Path(self.options["root"]).expanduser()  # type: ignore[arg-type]

    def info(self) -> DatasetInfo:
        return DatasetInfo(
            name=self.name,
            label=self.label,
            num_classes=10,
            mean=CIFAR10_MEAN,
            std=CIFAR10_STD,
            image_size=32,
            class_names=CLASS_NAMES,
        )

    def _missing_files(self) -> list[str]:
        folder = self.root / BATCH_FOLDER
        return [f for f in (*TRAIN_FILES, *TEST_FILES) if not (folder / f).is_file()]

    def _missing_error(self, missing: list[str], reason: str) -> DatasetMissingError:
        return DatasetMissingError(
            f"CIFAR-10 not found under root {str(self.root)!r} ({reason}; missing: "
            f"{', '.join(missing)}). Expected torchvision's layout: "
            f"{self.root / BATCH_FOLDER}/{{data_batch_1..data_batch_5, test_batch, "
            f"batches.meta}}. To fetch it, set `download: true` in the dataset options of "
            f"the config and run on a machine with internet, or download {CIFAR10_URL} "
            f"(md5 {CIFAR10_MD5}) and extract it into {self.root} "
            f"(`tar -xzf cifar-10-python.tar.gz -C {self.root}`)."
        )

    def ensure(self) -> None:
        """Raise DatasetMissingError unless all batch files exist (downloading if allowed)."""
        missing = self._missing_files()
        if not missing:
            return
        if not self.options["download"]:
            raise self._missing_error(missing, "download is false")
        from torchvision.datasets.utils import download_and_extract_archive

        previous_timeout = socket.getdefaulttimeout()
        socket.setdefaulttimeout(DOWNLOAD_TIMEOUT)
        try:
            download_and_extract_archive(CIFAR10_URL, str(self.root), md5=CIFAR10_MD5)
        except (urllib.error.URLError, OSError, RuntimeError) as error:
            raise self._missing_error(missing, f"download failed: {error}") from error
        finally:
            socket.setdefaulttimeout(previous_timeout)
        missing = self._missing_files()
        if missing:
            raise self._missing_error(missing, "the downloaded archive lacks these files")

    def split(self, split: str) -> tuple[Tensor, Tensor]:
        """All uint8 images (N,3,32,32) and int64 labels of ``split``, in file order."""
        check_split(split)
        self.ensure()
        files = TRAIN_FILES if split == "train" else TEST_FILES
        parts = [read_cifar_batch(self.root / BATCH_FOLDER / f) for f in files]
        return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])

    def load(self, split: str, limit: int | None) -> tuple[Tensor, Tensor]:
        check_limit(limit)
        images, labels = self.split(split)
        if limit is not None:
            images, labels = images[:limit], labels[:limit].clone()
        return to_unit_float(images), labels

    def iterate(
        self, split: str, batch_size: int, limit: int | None
    ) -> Iterator[tuple[Tensor, Tensor]]:
        check_batch_size(batch_size)
        check_limit(limit)
        images, labels = self.split(split)  # eager: a missing data set raises here
        if limit is not None:
            images, labels = images[:limit], labels[:limit]
        return (
            (to_unit_float(images[s : s + batch_size]), labels[s : s + batch_size].clone())
            for s in range(0, images.shape[0], batch_size)
        )

    def training_data(self) -> InMemoryTrainingData:
        images, labels = self.split("train")
        return InMemoryTrainingData(images, labels, pad=4, flip=True)
