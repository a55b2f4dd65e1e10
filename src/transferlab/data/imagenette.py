"""ImageNette (10 ImageNet classes) from JPEG folders, decoded per sample (SPEC §2).

Accepted layouts under ``root`` (first match wins, in this order):
(a) torchvision's ``Imagenette`` layout ``<root>/imagenette2/{train,val}/<wnid>/*.JPEG``
    or its ``imagenette2-320`` / ``imagenette2-160`` variants;
(b) a plain ImageFolder root ``<root>/{train,val}/<class>/*``.
The ``variant`` option ("full", "320px", "160px") restricts (a) to one folder and
chooses what ``download: true`` fetches (through ``torchvision.datasets.Imagenette``,
official URL and md5); without it the first existing layout is used and
downloads fetch "full". Classes are the train folder's sub-folders, sorted by
name. Split "test" is the ``val`` folder.
"""

from __future__ import annotations

import socket
import urllib.error
from collections.abc import Iterator
from pathlib import Path

import torch
from PIL import Image
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from transferlab.data.augment import sample_resized_crop_box, to_unit_float
from transferlab.data.base import (
    DATASETS,
    DatasetFileError,
    DatasetInfo,
    DatasetMissingError,
    DatasetSource,
    TrainingData,
    check_batch_size,
    check_limit,
    check_split,
    class_balanced_order,
)

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
VARIANT_FOLDERS = {"full": "imagenette2", "320px": "imagenette2-320", "160px": "imagenette2-160"}
VARIANT_URLS = {
    "full": "https://s3.amazonaws.com/fast-ai-imageclas/imagenette2.tgz",
    "320px": "https://s3.amazonaws.com/fast-ai-imageclas/imagenette2-320.tgz",
    "160px": "https://s3.amazonaws.com/fast-ai-imageclas/imagenette2-160.tgz",
}
# The 10 ImageNette classes (WordNet id -> readable name), in sorted-wnid order.
IMAGENETTE_CLASSES = {
    "n01440764": "tench",
    "n02102040": "English springer",
    "n02979186": "cassette player",
    "n03000684": "chain saw",
    "n03028079": "church",
    "n03394916": "French horn",
    "n03417042": "garbage truck",
    "n03425413": "gas pump",
    "n03445777": "golf ball",
    "n03888257": "parachute",
}
SPLIT_FOLDERS = {"train": "train", "test": "val"}
DOWNLOAD_TIMEOUT = 30.0
# torchvision.datasets.folder.IMG_EXTENSIONS, spelled out: importing torchvision is slow
# (benchmarks/README.md), and digits/CIFAR-10 jobs never need it.
IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")
_EXTENSIONS = tuple(e.lower() for e in IMG_EXTENSIONS)


def _has_split_folders(folder: Path) -> bool:
    """True if ``folder`` holds both ``train/`` and ``val/``."""
    return (folder / "train").is_dir() and (folder / "val").is_dir()


def list_classes(split_folder: Path) -> list[str]:
    """Sub-folder names of ``split_folder``, sorted (the class order)."""
    return sorted(p.name for p in split_folder.iterdir() if p.is_dir())


def list_samples(split_folder: Path, classes: list[str]) -> list[tuple[Path, int]]:
    """(path, class index) for every image file, classes in order, files sorted by name."""
    samples: list[tuple[Path, int]] = []
    for index, name in enumerate(classes):
        folder = split_folder / name
        if not folder.is_dir():
            continue
        files = sorted(
            p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in _EXTENSIONS
        )
        samples.extend((p, index) for p in files)
    return samples


def open_rgb(path: Path) -> Image.Image:
    """Decode an image file fully into an RGB PIL image (grayscale/CMYK JPEGs included)."""
    with Image.open(path) as image:
        return image.convert("RGB")


class EvalImages(Dataset):
    """Resize(shorter side → ``resize``) + CenterCrop(``size``), float [0,1] CHW."""

    def __init__(self, samples: list[tuple[Path, int]], size: int, resize: int) -> None:
        self.samples = samples
        self.size = size
        self.resize = resize

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[Tensor, int]:
        import torchvision.transforms.functional as TF
        from torchvision.transforms import InterpolationMode

        path, label = self.samples[index]
        image = TF.resize(
            open_rgb(path), self.resize, interpolation=InterpolationMode.BILINEAR, antialias=True
        )
        image = TF.center_crop(image, [self.size, self.size])
        return to_unit_float(TF.pil_to_tensor(image)), label


class AugmentedImages(Dataset):
    """RandomResizedCrop(``size``) + horizontal flip; indexed by (sample index, seed).

    Each sample's augmentation comes from its own generator seeded with the
    seed drawn for it at epoch start, so an epoch does not depend on the number
    of workers or on which worker decodes which sample.
    """

    def __init__(self, samples: list[tuple[Path, int]], size: int) -> None:
        self.samples = samples
        self.size = size

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, key: tuple[int, int]) -> tuple[Tensor, int]:
        import torchvision.transforms.functional as TF
        from torchvision.transforms import InterpolationMode

        index, seed = key
        path, label = self.samples[index]
        generator = torch.Generator().manual_seed(seed)
        image = open_rgb(path)
        top, left, h, w = sample_resized_crop_box(image.height, image.width, generator)
        image = TF.resized_crop(
            image,
            top,
            left,
            h,
            w,
            [self.size, self.size],
            interpolation=InterpolationMode.BILINEAR,
            antialias=True,
        )
        if int(torch.randint(0, 2, (1,), generator=generator)):
            image = TF.hflip(image)
        return to_unit_float(TF.pil_to_tensor(image)), label


def _loader_generator() -> torch.Generator:
    # DataLoader draws a worker base seed from its generator; a private one
    # keeps that draw from advancing the global RNG (our transforms ignore it).
    return torch.Generator().manual_seed(0)


class FolderTrainingData(TrainingData):
    """Training split decoded from disk per epoch by a DataLoader with ``num_workers``.

    Per epoch, drawn from the generator when ``batches`` is called: the
    permutation (randperm N), then N per-sample seeds (ints in [0, 2^62)).
    """

    def __init__(self, samples: list[tuple[Path, int]], size: int, num_workers: int) -> None:
        self.dataset = AugmentedImages(samples, size)
        self.num_workers = num_workers

    def __len__(self) -> int:
        return len(self.dataset)

    def batches(
        self, batch_size: int, generator: torch.Generator, drop_last: bool = False
    ) -> Iterator[tuple[Tensor, Tensor]]:
        check_batch_size(batch_size)
        n = len(self)
        order = torch.randperm(n, generator=generator).tolist()
        seeds = torch.randint(0, 2**62, (n,), generator=generator).tolist()
        loader = DataLoader(
            self.dataset,
            batch_size=batch_size,
            sampler=list(zip(order, seeds, strict=True)),
            num_workers=self.num_workers,
            drop_last=drop_last,
            generator=_loader_generator(),
        )
        return iter(loader)


@DATASETS.register("imagenette")
class Imagenette(DatasetSource):
    """Options: ``root`` (default ``data/imagenette``), ``download`` (False), ``size``
    (crop, 224), ``resize`` (eval shorter side, 256), ``variant`` (None, "full",
    "320px", "160px"), ``num_workers`` (DataLoader processes, 0).

    ``limit`` order: class-balanced round-robin over file order (classes sorted,
    files sorted by name within a class; see ``class_balanced_order``).
    """

    name = "imagenette"
    label = "ImageNette"
    option_defaults = {
        "root": "data/imagenette",
        "download": False,
        "size": 224,
        "resize": 256,
        "variant": None,
        "num_workers": 0,
    }

    def check_options(self) -> None:
        if not isinstance(self.options["root"], (str, Path)) or not str(self.options["root"]):
            raise self.option_error("root", "a non-empty path")
        if not isinstance(self.options["download"], bool):
            raise self.option_error("download", "true or false")
        for key, minimum in (("size", 8), ("resize", 8), ("num_workers", 0)):
            value = self.options[key]
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise self.option_error(key, f"an int >= {minimum}")
        if self.options["resize"] < self.options["size"]:  # type: ignore[operator]
            raise self.option_error("resize", f"an int >= size ({self.options['size']})")
        if self.options["variant"] is not None and self.options["variant"] not in VARIANT_FOLDERS:
            raise self.option_error("variant", f"null or one of {sorted(VARIANT_FOLDERS)}")

    @property
    def root(self) -> Path:
        return Path(self.options["root"]).expanduser()  # type: ignore[arg-type]

    def _candidates(self) -> list[Path]:
        variant = self.options["variant"]
        if variant is not None:
            return [self.root / VARIANT_FOLDERS[variant]]  # type: ignore[index]
        return [self.root / folder for folder in VARIANT_FOLDERS.values()] + [self.root]

    def locate(self) -> Path | None:
        """The folder holding ``train/`` and ``val/``, or None if no layout is present."""
        for folder in self._candidates():
            if _has_split_folders(folder) and list_classes(folder / "train"):
                return folder
        return None

    def _missing_error(self, reason: str) -> DatasetMissingError:
        variant = self.options["variant"] or "full"
        return DatasetMissingError(
            f"ImageNette not found under root {str(self.root)!r} ({reason}). Expected "
            f"torchvision's Imagenette layout {self.root}/imagenette2/{{train,val}}/<wnid>/*.JPEG "
            f"(or imagenette2-320 / imagenette2-160), or an ImageFolder layout "
            f"{self.root}/{{train,val}}/<class>/<image>. To fetch it, set `download: true` in "
            f"the dataset options of the config and run on a machine with internet, or download "
            f"{VARIANT_URLS[variant]} and extract it into {self.root} "  # type: ignore[index]
            f"(`tar -xzf {VARIANT_URLS[variant].rsplit('/', 1)[1]} -C {self.root}`)."  # type: ignore[index]
        )

    def ensure(self) -> None:
        """Raise DatasetMissingError unless a layout is present (downloading if allowed)."""
        if self.locate() is not None:
            return
        if not self.options["download"]:
            raise self._missing_error("no train/ and val/ class folders; download is false")
        from torchvision.datasets import Imagenette as TorchvisionImagenette

        previous_timeout = socket.getdefaulttimeout()
        socket.setdefaulttimeout(DOWNLOAD_TIMEOUT)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            TorchvisionImagenette(
                str(self.root), split="train", size=self.options["variant"] or "full", download=True
            )
        except (urllib.error.URLError, OSError, RuntimeError) as error:
            raise self._missing_error(f"download failed: {error}") from error
        finally:
            socket.setdefaulttimeout(previous_timeout)
        if self.locate() is None:
            raise self._missing_error("the download did not produce train/ and val/ folders")

    def _classes(self, folder: Path) -> list[str]:
        return list_classes(folder / "train")

    def info(self) -> DatasetInfo:
        """Class list from the data when present, else the standard 10 ImageNette wnids."""
        folder = self.locate()
        wnids = self._classes(folder) if folder is not None else list(IMAGENETTE_CLASSES)
        return DatasetInfo(
            name=self.name,
            label=self.label,
            num_classes=len(wnids),
            mean=IMAGENET_MEAN,
            std=IMAGENET_STD,
            image_size=int(self.options["size"]),  # type: ignore[call-overload]
            class_names=tuple(IMAGENETTE_CLASSES.get(w, w) for w in wnids),
        )

    def samples(self, split: str) -> list[tuple[Path, int]]:
        """(path, label) of ``split`` in file order; raises DatasetMissingError if absent."""
        check_split(split)
        self.ensure()
        folder = self.locate()
        if folder is None:  # only if files vanished between the two checks
            raise self._missing_error("the data disappeared while reading")
        classes = self._classes(folder)
        split_folder = folder / SPLIT_FOLDERS[split]
        # both splits, whichever is read: training on a split missing a class would
        # only fail (or worse, not) at evaluation
        val_folder = folder / SPLIT_FOLDERS["test"]
        present = set(list_classes(val_folder))
        extra, missing = sorted(present - set(classes)), sorted(set(classes) - present)
        if extra or missing:
            # a class missing from one split would shift or drop labels without a word
            problem = f"lacks class folder(s) {missing}" if missing else ""
            problem += "; " if missing and extra else ""
            problem += f"has class folder(s) {extra} not in train/" if extra else ""
            raise DatasetFileError(
                f"{val_folder}: {problem}; both splits need the same classes as {folder / 'train'}"
            )
        found = list_samples(split_folder, classes)
        if not found:
            raise DatasetMissingError(
                f"no image files ({', '.join(IMG_EXTENSIONS)}) under {split_folder}/<class>/"
            )
        return found

    def iterate(
        self, split: str, batch_size: int, limit: int | None
    ) -> Iterator[tuple[Tensor, Tensor]]:
        check_batch_size(batch_size)
        check_limit(limit)
        found = self.samples(split)
        order = class_balanced_order(torch.tensor([label for _, label in found]))
        if limit is not None:
            order = order[:limit]
        dataset = EvalImages(
            [found[i] for i in order.tolist()],
            int(self.options["size"]),  # type: ignore[call-overload]
            int(self.options["resize"]),  # type: ignore[call-overload]
        )
        loader = DataLoader(
            dataset,
            batch_size=batch_size,
            shuffle=False,
            num_workers=int(self.options["num_workers"]),  # type: ignore[call-overload]
            generator=_loader_generator(),
        )
        return iter(loader)

    def training_data(self) -> FolderTrainingData:
        return FolderTrainingData(
            self.samples("train"),
            int(self.options["size"]),  # type: ignore[call-overload]
            int(self.options["num_workers"]),  # type: ignore[call-overload]
        )
