"""Data sets (SPEC §2): digits (embedded default), cifar10 and imagenette (paper).

Every function takes the data set's config key and its options (the config's
dataset options, validated: unknown keys raise ValueError). Images are float32
in [0,1], shape (N,3,H,W); labels int64. Eval images use the eval transform
(none for digits/CIFAR-10; Resize + CenterCrop for ImageNette).

``limit`` keeps the first N samples of a fixed order that depends on no seed:
file order for cifar10; a class-balanced round-robin over file order for
digits and imagenette (``class_balanced_order``).
"""

from __future__ import annotations

from collections.abc import Iterator

from torch import Tensor

from transferlab.data import cifar10, digits, imagenette  # noqa: F401  (registers DATASETS)
from transferlab.data.base import (
    DATASETS,
    SPLITS,
    DatasetFileError,
    DatasetInfo,
    DatasetMissingError,
    DatasetSource,
    TrainingData,
    class_balanced_order,
)


def build_dataset(name: str, **options: object) -> DatasetSource:
    """The configured data set ``name`` (SPEC §2); UnknownNameError lists the allowed names."""
    return DATASETS.get(name)(**options)


def dataset_info(name: str, **options: object) -> DatasetInfo:
    """Label, class count/names, normalization mean/std (SPEC §1) and image size of ``name``."""
    return build_dataset(name, **options).info()


def ensure_dataset(name: str, **options: object) -> None:
    """Check the files are present, downloading if ``download`` allows; else DatasetMissingError."""
    build_dataset(name, **options).ensure()


def load_dataset(
    name: str, split: str, *, limit: int | None = None, **options: object
) -> tuple[Tensor, Tensor]:
    """Eval-transformed (SPEC §2) images (N,3,H,W) float32 in [0,1], int64 labels of ``split``.

    ``split`` is "train" or "test" (ImageNette: its ``val`` folder); ``limit``
    keeps the first N samples of the fixed order described in the module docstring.
    """
    return build_dataset(name, **options).load(split, limit)


def held_out_set(dataset: dict, selection: dict) -> tuple[Tensor, Tensor]:
    """The held-out images a stage uses: the first ``selection["n_samples"]`` (None: all) of
    ``selection["split"]`` of the configured ``dataset`` ({"name", "options"}). Attacks pass
    the data set's ``evaluation`` block, measurements its ``metrics`` block (paper: 100)."""
    return load_dataset(
        dataset["name"],
        selection["split"],
        limit=selection.get("n_samples"),
        **dataset.get("options", {}),
    )


def iterate_dataset(
    name: str, split: str, *, batch_size: int, limit: int | None = None, **options: object
) -> Iterator[tuple[Tensor, Tensor]]:
    """The images and labels of ``load_dataset`` in batches of ``batch_size``, same order,
    without holding the whole split in memory (for ImageNette). Missing data raises here."""
    return build_dataset(name, **options).iterate(split, batch_size, limit)


def training_data(name: str, **options: object) -> TrainingData:
    """The train split as ``TrainingData``: ``len(td)`` samples; ``td.batches(batch_size,
    generator, drop_last=False)`` one shuffled, augmented epoch, determined by the generator."""
    return build_dataset(name, **options).training_data()


__all__ = [
    "DATASETS",
    "SPLITS",
    "DatasetInfo",
    "DatasetFileError",
    "DatasetMissingError",
    "DatasetSource",
    "TrainingData",
    "build_dataset",
    "class_balanced_order",
    "dataset_info",
    "ensure_dataset",
    "iterate_dataset",
    "load_dataset",
    "training_data",
]
