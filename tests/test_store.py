"""HDF5 adversarial-example files (SPEC §7): exact 8-bit round trip and every rejection."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
import torch

from transferlab.transfer.quantization import dequantize_images, quantize_images
from transferlab.transfer.store import (
    AdversarialFileError,
    load_adversarial,
    sha256_of_file,
    write_adversarial,
)

SHA = "ab" * 32


def base_attrs(**extra: Any) -> dict[str, Any]:
    return {
        "attack": "pgd",
        "attack_params": {"eps": 8 / 255, "steps": 20, "step_size": None, "targeted": False},
        "eps": 8 / 255,
        "dataset": "digits",
        "split": "test",
        "surrogate_checkpoint": "models/st_seed0.pt",
        "surrogate_sha256": SHA,
        **extra,
    }


def write_example(path: Path, *, n: int = 5, targeted: bool = False, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    arrays = {
        "x_adv": rng.integers(0, 256, size=(n, 3, 4, 4), dtype=np.uint8),
        "index": rng.permutation(100)[:n].astype(np.int64),
        "y": rng.integers(0, 10, n),
        "y_target": rng.integers(0, 10, n) if targeted else None,
        "pred_clean": rng.integers(0, 10, n),
        "pred_adv": rng.integers(0, 10, n),
    }
    attrs = base_attrs()
    attrs["attack_params"]["targeted"] = targeted
    write_adversarial(path, attrs=attrs, **arrays)
    return arrays


@pytest.mark.parametrize("targeted", [False, True])
def test_round_trip_is_exact(tmp_path: Path, targeted: bool) -> None:
    path = tmp_path / "aes.h5"
    arrays = write_example(path, targeted=targeted)
    loaded = load_adversarial(path, expected_surrogate_sha256=SHA)
    assert loaded.x_adv.dtype == np.uint8
    assert np.array_equal(loaded.x_adv, arrays["x_adv"])
    for name in ("index", "y", "pred_clean", "pred_adv"):
        assert loaded.__dict__[name].dtype == np.int64
        assert np.array_equal(loaded.__dict__[name], arrays[name])
    if targeted:
        assert np.array_equal(loaded.y_target, arrays["y_target"])
    else:
        assert loaded.y_target is None
    assert loaded.mode == ("targeted" if targeted else "untargeted")
    assert loaded.attrs["attack_params"]["step_size"] is None  # JSON keeps Python types
    assert loaded.attrs["eps"] == 8 / 255
    assert loaded.attrs["norm"] == "Linf"
    assert loaded.attrs["format"] == "transferlab-adversarial"
    assert loaded.attrs["created"].endswith("+00:00")
    assert loaded.attrs["transferlab_version"]
    # x_adv_float is exactly q / 255 in float32.
    expected = torch.from_numpy(arrays["x_adv"].astype(np.float32) / np.float32(255))
    assert torch.equal(loaded.x_adv_float(), expected)
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_storage_layout(tmp_path: Path) -> None:
    path = tmp_path / "aes.h5"
    write_example(path, n=6)
    with h5py.File(path, "r") as handle:
        dataset = handle["x_adv"]
        assert dataset.chunks == (1, 3, 4, 4)
        assert dataset.compression == "gzip"
        assert dataset.nbytes == 6 * 3 * 4 * 4  # one byte per pixel
        assert handle.attrs["attack_params.steps"] == 20  # flat copy for h5dump
        assert handle.attrs["mode"] == "untargeted"


def test_quantization_rounds_half_up_and_clamps() -> None:
    values = [0.5 / 255, 0.49 / 255, 0.51 / 255, 1.5 / 255, 254.5 / 255, 254.49 / 255]
    extremes = [0.0, 1.0, -0.2, 1.3]
    x = torch.tensor(values + extremes, dtype=torch.float32).view(1, 1, 1, -1)
    assert quantize_images(x).ravel().tolist() == [1, 0, 1, 2, 255, 254, 0, 255, 0, 255]
    # float64 input gives the same pixels (images are float32 by contract).
    assert np.array_equal(quantize_images(x.double()), quantize_images(x))
    grid = np.arange(256, dtype=np.uint8).reshape(1, 1, 16, 16)
    assert np.array_equal(quantize_images(dequantize_images(grid)), grid)
    # channels-last models return NHWC-strided images; the pixels come out in C order
    nhwc = dequantize_images(grid.reshape(1, 4, 8, 8)).contiguous(memory_format=torch.channels_last)
    pixels = quantize_images(nhwc)
    assert pixels.flags.c_contiguous
    assert np.array_equal(pixels, grid.reshape(1, 4, 8, 8))
    with pytest.raises(ValueError, match="NaN"):
        quantize_images(torch.full((1, 1, 2, 2), float("nan")))


def test_float_images_are_stored_rounded(tmp_path: Path) -> None:
    x = torch.tensor([0.5 / 255, 0.49 / 255, 100.6 / 255, 1.0]).view(1, 1, 2, 2)
    path = tmp_path / "aes.h5"
    write_adversarial(
        path,
        x_adv=x,
        index=[3],
        y=[1],
        y_target=None,
        pred_clean=[1],
        pred_adv=[2],
        attrs=base_attrs(),
    )
    assert load_adversarial(path).x_adv.ravel().tolist() == [1, 0, 101, 255]


def test_truncated_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "cut.h5"
    write_example(path, n=50)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(AdversarialFileError, match="cut.h5"):
        load_adversarial(path)


def test_non_hdf5_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "text.h5"
    path.write_text("not hdf5")
    with pytest.raises(AdversarialFileError, match="text.h5"):
        load_adversarial(path)


def test_foreign_hdf5_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "foreign.h5"
    with h5py.File(path, "w") as handle:
        handle.create_dataset("images", data=np.zeros((2, 3, 4, 4), dtype=np.uint8))
    with pytest.raises(AdversarialFileError, match="foreign.h5.*format marker"):
        load_adversarial(path)


def test_missing_dataset_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "missing.h5"
    write_example(path, targeted=True)
    with h5py.File(path, "a") as handle:
        del handle["y_target"]
    with pytest.raises(AdversarialFileError, match=r"missing.h5.*y_target"):
        load_adversarial(path)


@pytest.mark.parametrize(
    ("name", "bad"),
    [
        ("x_adv", np.zeros((5, 3, 4, 4), dtype=np.float32)),
        ("y", np.zeros(5, dtype=np.int32)),
        ("pred_adv", np.zeros(4, dtype=np.int64)),
    ],
)
def test_wrong_dtype_or_shape_is_rejected(tmp_path: Path, name: str, bad: np.ndarray) -> None:
    path = tmp_path / "dtype.h5"
    write_example(path)
    with h5py.File(path, "a") as handle:
        del handle[name]
        handle.create_dataset(name, data=bad)
    with pytest.raises(AdversarialFileError, match=f"dtype.h5.*{name}"):
        load_adversarial(path)


def test_stale_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "stale.h5"
    write_example(path)
    assert load_adversarial(path, expected_surrogate_sha256=SHA).attrs["surrogate_sha256"] == SHA
    with pytest.raises(AdversarialFileError, match="stale.h5.*stale"):
        load_adversarial(path, expected_surrogate_sha256="cd" * 32)


def test_missing_file_is_a_file_not_found_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="absent.h5"):
        load_adversarial(tmp_path / "absent.h5")


def test_writer_rejects_bad_input_and_leaves_nothing(tmp_path: Path) -> None:
    path = tmp_path / "bad.h5"
    common = {
        "x_adv": np.zeros((2, 3, 4, 4), dtype=np.uint8),
        "index": [0, 1],
        "y": [0, 1],
        "y_target": None,
        "pred_clean": [0, 1],
        "pred_adv": [0, 1],
    }
    attrs = base_attrs()
    del attrs["surrogate_sha256"]
    with pytest.raises(ValueError, match="surrogate_sha256"):
        write_adversarial(path, attrs=attrs, **common)
    with pytest.raises(ValueError, match="y must have shape"):
        write_adversarial(path, attrs=base_attrs(), **{**common, "y": [0, 1, 2]})
    with pytest.raises(ValueError, match="targeted"):
        write_adversarial(path, attrs=base_attrs(), **{**common, "y_target": [1, 2]})
    with pytest.raises(ValueError, match="JSON"):
        write_adversarial(path, attrs=base_attrs(model=object()), **common)
    assert list(tmp_path.iterdir()) == []


def test_sha256_of_file(tmp_path: Path) -> None:
    path = tmp_path / "abc.bin"
    path.write_bytes(b"abc")
    # FIPS 180-2 test vector for "abc".
    assert sha256_of_file(path) == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )
    big = tmp_path / "big.bin"
    payload = bytes(range(256)) * 9000  # spans several read blocks
    big.write_bytes(payload)
    assert sha256_of_file(big) == hashlib.sha256(payload).hexdigest()
