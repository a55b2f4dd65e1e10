"""What every data set provides (SPEC §2): metadata, presence checks, eval images, train epochs.

A data set is a ``DatasetSource`` subclass registered in ``DATASETS`` under its
config key. It is constructed from the config's dataset options, which it
validates (unknown keys and bad values raise ``ValueError`` naming them).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor

from transferlab.registry import Registry

SPLITS = ("train", "test")


class DatasetMissingError(FileNotFoundError):
    """Data set files are absent (and could not or may not be downloaded).

    The message names the root, the expected on-disk layout and how to fetch it.
    """


class DatasetFileError(ValueError):
    """A data set file or folder is present but unusable (corrupt, wrong shape, a class
    folder missing); the message names it and what is wrong."""


@dataclass(frozen=True)
class DatasetInfo:
    """Static description of a data set as configured.

    ``mean``/``std`` are the per-channel statistics the model's first
    (normalization) layer uses (SPEC §1); images themselves stay in [0,1].
    """

    name: str
    label: str
    num_classes: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    image_size: int
    class_names: tuple[str, ...]


class TrainingData:
    """The training split as a source of shuffled, augmented epochs.

    ``batches(batch_size, generator)`` yields one epoch of (images, labels):
    images float32 in [0,1], shape (B,3,H,W); labels int64 (B,). All randomness
    (order and augmentation) is drawn from ``generator`` at the moment
    ``batches`` is called, so the epoch depends only on the generator's state
    then — which is what lets a resumed run reproduce batches bit-for-bit.
    """

    def __len__(self) -> int:
        raise NotImplementedError

    def batches(
        self, batch_size: int, generator: torch.Generator, drop_last: bool = False
    ) -> Iterator[tuple[Tensor, Tensor]]:
        raise NotImplementedError


def check_batch_size(batch_size: int) -> None:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")


def check_limit(limit: int | None) -> None:
    if limit is None:
        return
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(f"limit must be None or a positive int, got {limit!r}")


def check_split(split: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")


def class_balanced_order(labels: Tensor) -> Tensor:
    """A fixed order whose every prefix is as class-balanced as possible.

    Round-robin over classes (ascending class index): the 1st sample of each
    class in the given order, then the 2nd of each, and so on; a class that runs
    out is skipped. Returns indices into ``labels``.
    """
    labels = labels.to(torch.int64)
    if labels.numel() == 0:
        return torch.zeros(0, dtype=torch.int64)
    # rank of each sample within its class, in the given order
    order = torch.argsort(labels, stable=True)
    sorted_labels = labels[order]
    counts = torch.bincount(sorted_labels)
    starts = torch.cumsum(counts, 0) - counts
    rank_sorted = torch.arange(labels.numel()) - starts[sorted_labels]
    rank = torch.empty_like(rank_sorted)
    rank[order] = rank_sorted
    # sort by (rank, class); stable sort on a combined key keeps it exact
    key = rank * (int(labels.max()) + 1) + labels
    return torch.argsort(key, stable=True)


class DatasetSource:
    """One configured data set. Subclasses set the class attributes and hooks.

    ``option_defaults`` lists every option a config may set, with defaults;
    ``check_options`` validates values. Subclasses implement ``info``,
    ``ensure``, ``iterate`` and ``training_data``; ``load`` concatenates
    ``iterate`` unless overridden.
    """

    name: ClassVar[str]
    label: ClassVar[str]
    option_defaults: ClassVar[dict[str, object]] = {}

    def __init__(self, **options: object) -> None:
        unknown = set(options) - set(self.option_defaults)
        if unknown:
            raise ValueError(
                f"dataset {self.name!r}: unknown option(s) {sorted(unknown)}; "
                f"allowed: {sorted(self.option_defaults) or 'none'}"
            )
        self.options: dict[str, object] = {**self.option_defaults, **options}
        self.check_options()

    def check_options(self) -> None:
        """Raise ValueError for a bad option value (name, value, what is allowed)."""

    def option_error(self, key: str, expected: str) -> ValueError:
        return ValueError(
            f"dataset {self.name!r}: option {key!r} must be {expected}, got {self.options[key]!r}"
        )

    def info(self) -> DatasetInfo:
        raise NotImplementedError

    def ensure(self) -> None:
        raise NotImplementedError

    def iterate(
        self, split: str, batch_size: int, limit: int | None
    ) -> Iterator[tuple[Tensor, Tensor]]:
        raise NotImplementedError

    def load(self, split: str, limit: int | None) -> tuple[Tensor, Tensor]:
        parts = list(self.iterate(split, 256, limit))
        if not parts:
            size = self.info().image_size
            return torch.zeros(0, 3, size, size), torch.zeros(0, dtype=torch.int64)
        return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])

    def training_data(self) -> TrainingData:
        raise NotImplementedError


DATASETS: Registry[type[DatasetSource]] = Registry("dataset")
