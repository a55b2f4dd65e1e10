"""HDF5 files of adversarial examples: one per (surrogate, attack, ε, mode) (SPEC §7).

AEs are images, so they are stored as 8-bit pixels, q = clamp(⌊255·x + ½⌋, 0, 255)
(round half up, never truncate; ``quantization``), and every later stage evaluates
exactly q/255. A file holds

- ``x_adv``       uint8 (N, C, H, W), one gzip-compressed chunk per image;
- ``index``       int64 (N,), positions of the images in the evaluation split;
- ``y``           int64 (N,), true labels;
- ``y_target``    int64 (N,), targeted files only: the attacked class;
- ``pred_clean``  int64 (N,), the surrogate's predictions on the clean images;
- ``pred_adv``    int64 (N,), the surrogate's predictions on q/255;

and attributes: the caller's provenance (attack name and parameters, ε,
dataset, split, surrogate checkpoint and its sha256, ...), plus the norm,
mode, package version, creation time and a format marker. The attribute
dictionary is also stored whole as JSON (``attributes_json``) so that it reads
back with its Python types; the individual HDF5 attributes are for h5dump.

Files are written to a temporary name in the destination directory and
renamed into place, so a killed job never leaves a file that looks complete.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np
from torch import Tensor

from transferlab.atomic_files import atomic_path
from transferlab.training.checkpoints import utc_now
from transferlab.transfer.quantization import dequantize_images, quantize_images

FORMAT_MARKER = "transferlab-adversarial"
FORMAT_VERSION = 1
NORM = "Linf"
REQUIRED_ATTRIBUTES = (
    "attack",
    "eps",
    "dataset",
    "split",
    "surrogate_checkpoint",
    "surrogate_sha256",
)
LABEL_DATASETS = ("index", "y", "pred_clean", "pred_adv")
GZIP_LEVEL = 4


class AdversarialFileError(ValueError):
    """A stored adversarial-example file that is truncated, foreign, malformed or stale."""


@dataclass
class AdversarialSet:
    """The contents of one adversarial-example file (arrays in file order)."""

    path: Path
    x_adv: np.ndarray  # uint8 (N, C, H, W)
    index: np.ndarray  # int64 (N,)
    y: np.ndarray  # int64 (N,)
    y_target: np.ndarray | None  # int64 (N,) for targeted files
    pred_clean: np.ndarray  # int64 (N,)
    pred_adv: np.ndarray  # int64 (N,)
    attrs: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.index)

    @property
    def targeted(self) -> bool:
        return self.y_target is not None

    @property
    def mode(self) -> str:
        return "targeted" if self.targeted else "untargeted"

    def x_adv_float(self) -> Tensor:
        """The stored images as float32 in [0,1]: exactly q/255."""
        return dequantize_images(self.x_adv)


def sha256_of_file(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 digest of a file's bytes (read in 1 MiB blocks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def package_version() -> str:
    """transferlab's version: the package attribute, else the installed metadata."""
    try:
        from transferlab import __version__

        return str(__version__)
    except ImportError:
        pass
    try:
        from importlib.metadata import version

        return version("transferlab")
    except Exception:  # not installed: PackageNotFoundError, or a broken install
        return "unknown"


def as_label_array(values: Any, name: str, length: int) -> np.ndarray:
    """``values`` as a 1-D int64 array of ``length`` entries, else ValueError."""
    if isinstance(values, Tensor):
        values = values.detach().cpu().numpy()
    array = np.asarray(values)
    if not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"{name} must hold integers, got dtype {array.dtype}")
    if array.shape != (length,):
        raise ValueError(f"{name} must have shape ({length},), got {array.shape}")
    return array.astype(np.int64)


def flat_attributes(attrs: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dict → {"a.b": scalar}; None becomes the string "None" (HDF5 has no null)."""
    flat: dict[str, Any] = {}
    for key, value in attrs.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flat_attributes(value, prefix=f"{name}."))
        elif value is None:
            flat[name] = "None"
        elif isinstance(value, (list, tuple)):
            flat[name] = json.dumps(list(value))
        else:
            flat[name] = value
    return flat


def write_adversarial(
    path: str | os.PathLike[str],
    *,
    x_adv: Tensor | np.ndarray,
    index: Any,
    y: Any,
    y_target: Any | None,
    pred_clean: Any,
    pred_adv: Any,
    attrs: dict[str, Any],
) -> Path:
    """Write one adversarial-example file atomically; returns its path.

    ``x_adv`` is float images in [0,1] (quantized with ``quantize_images``) or
    uint8 pixels. ``y_target`` is None for untargeted attacks. ``pred_adv``
    must be the surrogate's predictions on the *quantized* images. ``attrs``
    must contain ``REQUIRED_ATTRIBUTES`` and be JSON-serializable; an optional
    ``attack_params`` dict (e.g. ``Attack.settings()``) whose ``targeted`` flag
    must agree with ``y_target``. The writer adds norm, mode, n, package
    version, creation time and the format marker.
    """
    pixels = quantize_images(x_adv)
    if pixels.ndim != 4:
        raise ValueError(f"x_adv must have shape (N, C, H, W), got {pixels.shape}")
    n = pixels.shape[0]
    labels = {
        "index": as_label_array(index, "index", n),
        "y": as_label_array(y, "y", n),
        "pred_clean": as_label_array(pred_clean, "pred_clean", n),
        "pred_adv": as_label_array(pred_adv, "pred_adv", n),
    }
    if y_target is not None:
        labels["y_target"] = as_label_array(y_target, "y_target", n)
    missing = [key for key in REQUIRED_ATTRIBUTES if key not in attrs]
    if missing:
        raise ValueError(f"attrs lacks {missing}; required: {list(REQUIRED_ATTRIBUTES)}")
    if attrs.get("norm", NORM) != NORM:
        raise ValueError(f"attrs norm={attrs['norm']!r}: only {NORM!r} attacks are stored")
    targeted = y_target is not None
    params = attrs.get("attack_params", {})
    if isinstance(params, dict) and "targeted" in params and bool(params["targeted"]) != targeted:
        raise ValueError(
            f"attack_params targeted={params['targeted']} but y_target is "
            f"{'given' if targeted else 'None'}; pass y_target exactly for targeted attacks"
        )
    full = {
        **attrs,
        "norm": NORM,
        "mode": "targeted" if targeted else "untargeted",
        "n": n,
        "transferlab_version": package_version(),
        "created": utc_now(),
        "format": FORMAT_MARKER,
        "format_version": FORMAT_VERSION,
    }
    try:
        encoded = json.dumps(full, sort_keys=True)
    except TypeError as err:
        raise ValueError(f"attrs must be JSON-serializable: {err}") from err
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as handle:
        handle.create_dataset(
            "x_adv",
            data=pixels,
            chunks=(1, *pixels.shape[1:]) if n else None,
            compression="gzip" if n else None,
            compression_opts=GZIP_LEVEL if n else None,
        )
        for name, values in labels.items():
            handle.create_dataset(name, data=values)
        for key, value in flat_attributes(full).items():
            handle.attrs[key] = value
        handle.attrs["attributes_json"] = encoded
    return Path(path)


def load_adversarial(
    path: str | os.PathLike[str],
    *,
    expected_surrogate_sha256: str | None = None,
    expected_dataset: str | None = None,
    expected_split: str | None = None,
    n_images: int | None = None,
) -> AdversarialSet:
    """Read and check one adversarial-example file.

    Raises ``AdversarialFileError`` (naming the file) when it is truncated or
    not HDF5, lacks the format marker or a dataset (foreign file), has a
    wrong dtype/shape or missing attribute, or does not come from where the
    caller expects: another surrogate checkpoint than ``expected_surrogate_sha256``
    (stale file: rebuild it), another data set or split than ``expected_dataset``
    / ``expected_split``, or an ``index`` outside ``[0, n_images)`` of the
    evaluation images.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such adversarial-example file")
    try:
        with h5py.File(path, "r") as handle:
            marker = handle.attrs.get("format")
            if isinstance(marker, bytes):
                marker = marker.decode()
            if marker != FORMAT_MARKER:
                raise AdversarialFileError(
                    f"{path}: not a transferlab adversarial-example file "
                    f"(format marker {marker!r}, expected {FORMAT_MARKER!r})"
                )
            attrs = read_attributes(handle, path)
            arrays = read_arrays(handle, path, targeted=attrs.get("mode") == "targeted")
    except OSError as err:
        raise AdversarialFileError(
            f"{path}: unreadable HDF5 file (truncated or corrupt; rebuild it): {err}"
        ) from err
    if expected_surrogate_sha256 is not None and (
        attrs["surrogate_sha256"] != expected_surrogate_sha256
    ):
        raise AdversarialFileError(
            f"{path}: made from another surrogate (sha256 {attrs['surrogate_sha256']}, "
            f"expected {expected_surrogate_sha256}): a stale or foreign file; rebuild it"
        )
    for key, expected in (("dataset", expected_dataset), ("split", expected_split)):
        if expected is not None and attrs[key] != expected:
            raise AdversarialFileError(
                f"{path}: made on {key} {attrs[key]!r}, expected {expected!r}: "
                "a foreign file; rebuild it"
            )
    index = arrays["index"]
    if n_images is not None and len(index) and (index.min() < 0 or index.max() >= n_images):
        raise AdversarialFileError(
            f"{path}: image index range [{index.min()}, {index.max()}] lies outside the "
            f"{n_images} evaluation images: made on another evaluation set; rebuild it"
        )
    return AdversarialSet(path=path, attrs=attrs, **arrays)


def read_attributes(handle: h5py.File, path: Path) -> dict[str, Any]:
    version = handle.attrs.get("format_version")
    if version != FORMAT_VERSION:
        raise AdversarialFileError(
            f"{path}: format version {version!r}, this reader understands {FORMAT_VERSION}"
        )
    encoded = handle.attrs.get("attributes_json")
    try:
        attrs = json.loads(encoded)
    except (TypeError, ValueError) as err:
        raise AdversarialFileError(f"{path}: attribute 'attributes_json' unreadable") from err
    missing = [key for key in (*REQUIRED_ATTRIBUTES, "mode", "norm") if key not in attrs]
    if missing:
        raise AdversarialFileError(f"{path}: missing attribute(s) {missing}")
    if attrs["mode"] not in ("targeted", "untargeted") or attrs["norm"] != NORM:
        raise AdversarialFileError(
            f"{path}: unexpected mode {attrs['mode']!r} / norm {attrs['norm']!r}"
        )
    return attrs


def read_arrays(handle: h5py.File, path: Path, *, targeted: bool) -> dict[str, Any]:
    names = ("x_adv", *LABEL_DATASETS, *(("y_target",) if targeted else ()))
    missing = [name for name in names if not isinstance(handle.get(name), h5py.Dataset)]
    if missing:
        raise AdversarialFileError(f"{path}: missing dataset(s) {missing}")
    x_dataset = handle["x_adv"]
    if x_dataset.dtype != np.uint8 or x_dataset.ndim != 4:
        raise AdversarialFileError(
            f"{path}: x_adv must be uint8 (N, C, H, W), found {x_dataset.dtype} "
            f"with shape {x_dataset.shape}"
        )
    n = x_dataset.shape[0]
    arrays: dict[str, Any] = {"x_adv": x_dataset[...], "y_target": None}
    for name in names[1:]:
        dataset = handle[name]
        if dataset.dtype != np.int64 or dataset.shape != (n,):
            raise AdversarialFileError(
                f"{path}: {name} must be int64 of shape ({n},), found {dataset.dtype} "
                f"with shape {dataset.shape}"
            )
        arrays[name] = dataset[...]
    return arrays
