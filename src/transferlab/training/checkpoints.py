"""Model files and epoch checkpoints: torch files written atomically, loaded checked.

Every file another stage reads is written through ``transferlab.atomic_files``
(a temporary name in the same directory, renamed into place), so a killed job
never leaves a file that looks complete. Everything loads with
``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
from pathlib import Path
from typing import Any

import torch
from torch import nn

from transferlab.atomic_files import atomic_path

MODEL_FORMAT = "transferlab-model/1"
# /2: the optimizer state is transferlab.training.optimization.SGD's, not torch.optim.SGD's
CHECKPOINT_FORMAT = "transferlab-epoch-checkpoint/2"


def atomic_torch_save(obj: Any, path: str | os.PathLike[str]) -> None:
    """``torch.save(obj)`` to ``path`` atomically (``atomic_files.atomic_path``)."""
    # Through a file object: given a path, torch names the zip's root folder after the
    # file, and the temporary name is random, so equal content gave different bytes.
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        torch.save(obj, handle)


def package_versions() -> dict[str, str]:
    from importlib import metadata

    from transferlab import __version__

    try:
        # from the installed metadata, not an import: most jobs never use torchvision and
        # should not pay for loading it (cost: benchmarks/README.md, training/checkpoints.py)
        torchvision_version = metadata.version("torchvision")
    except metadata.PackageNotFoundError:
        torchvision_version = "not installed"
    return {
        "python": platform.python_version(),
        "torch": str(torch.__version__),
        "torchvision": torchvision_version,
        "transferlab": __version__,
    }


def utc_now() -> str:
    """The creation time files record; ``SOURCE_DATE_EPOCH`` (seconds, the
    reproducible-builds convention) fixes it, so two builds can be compared byte for byte."""
    fixed = os.environ.get("SOURCE_DATE_EPOCH")
    if fixed is not None:
        try:
            when = _dt.datetime.fromtimestamp(int(fixed), _dt.timezone.utc)
        except ValueError as err:
            raise ValueError(
                f"SOURCE_DATE_EPOCH={fixed!r}: expected whole seconds since 1970, e.g. 0"
            ) from err
    else:
        when = _dt.datetime.now(_dt.timezone.utc)
    return when.isoformat(timespec="seconds")


class TransferlabFileError(ValueError):
    """A transferlab ``.pt`` file (model, epoch checkpoint, gradients, ...) that is
    truncated, corrupt or of another kind; the message names the file."""


class TransferlabFileMissingError(TransferlabFileError, FileNotFoundError):
    """The file does not exist (build it with snakemake first)."""


def _zip_member_failing_crc(path: Path) -> str | None:
    """The first member of a torch zip file whose bytes fail their CRC-32, else None.

    torch.load reads tensor storages without checking the CRC-32 the writer stored, so a
    flipped bit in the weights would load as different weights without a word. Reading
    every member once costs a fraction of torch.load's own read."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            return archive.testzip()
    except (zipfile.BadZipFile, OSError) as err:
        return f"its zip structure ({err})"


def load_file(path: str | os.PathLike[str], expected_format: str) -> dict[str, Any]:
    """Load a transferlab ``.pt`` file safely and check its format marker."""
    path = Path(path)
    if not path.is_file():
        raise TransferlabFileMissingError(
            f"{path}: no such {expected_format!r} file; build it with snakemake first"
        )
    try:
        record = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises several types for corrupt files
        # The first line of torch's message is enough; its advice on weights_only is not.
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise TransferlabFileError(
            f"{path}: not a readable {expected_format!r} file (truncated, corrupt or not "
            f"written by transferlab: {reason}); delete it and rebuild it"
        ) from err
    damaged = _zip_member_failing_crc(path)
    if damaged is not None:
        raise TransferlabFileError(
            f"{path}: {damaged} fails its CRC-32 check (a flipped bit or a damaged copy); "
            "delete it and rebuild it"
        )
    if not isinstance(record, dict) or record.get("format") != expected_format:
        found = record.get("format") if isinstance(record, dict) else type(record).__name__
        raise TransferlabFileError(f"{path}: expected a {expected_format!r} file, found {found!r}")
    return record


def load_model_record(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The whole model file: weights plus provenance (see ARCHITECTURE.md)."""
    return load_file(path, MODEL_FORMAT)


# where the data lies, not what it is: a moved data set is the same data set
LOCATION_OPTIONS = ("root", "download", "num_workers")


def check_model_dataset(
    record: dict[str, Any], path: str | os.PathLike[str], dataset: dict[str, Any]
) -> None:
    """TransferlabFileError unless the model file was trained on ``dataset`` {name, options}."""

    def identity(spec: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        options = spec.get("options", {})
        return spec.get("name"), {k: v for k, v in options.items() if k not in LOCATION_OPTIONS}

    found, expected = identity(record.get("dataset", {})), identity(dataset)
    if found != expected:
        raise TransferlabFileError(
            f"{path}: a model trained on {found[0]} {found[1]}, this job is on "
            f"{expected[0]} {expected[1]}: a foreign model file; rebuild it"
        )


def load_model(
    path: str | os.PathLike[str],
    device: str | torch.device = "cpu",
    *,
    dataset: dict[str, Any] | None = None,
) -> nn.Module:
    """Rebuild a trained model from its file: eval mode, takes [0,1] images.

    ``dataset`` {name, options}: the data set the caller will feed it; a model file
    trained on another is refused (``check_model_dataset``).
    """
    from transferlab.models import build_model, place_model

    record = load_model_record(path)
    if dataset is not None:
        check_model_dataset(record, path, dataset)
    # The stored weights replace any pretrained ones: never fetch them again.
    model = build_model(**{**record["architecture"], "pretrained": False})
    try:
        model.load_state_dict(record["state_dict"])
    except (RuntimeError, KeyError, TypeError) as err:
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise TransferlabFileError(
            f"{path}: its weights do not fit its architecture "
            f"{record['architecture'].get('arch')!r} ({reason}); corrupt or edited, rebuild it"
        ) from err
    place_model(model, device)
    model.eval()
    return model
