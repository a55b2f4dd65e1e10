"""Reliability battery, items 2 and 6: corrupt and foreign inputs, and files that are
data only.

Each bad input goes to the CLI command a rule runs (its exact arguments from Snakemake's
dry run, one file swapped for the bad one), in this process: the command must exit
non-zero with ONE line on stderr naming the file, and write none of its outputs. An
unreadable epoch checkpoint is a cache, not a result: training names it in one log line,
starts fresh and must still write the reference bytes.
"""

from __future__ import annotations

import json
import pickle
import re
import shlex
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from tests.conftest import REPO
from tests.reliability_builds import (
    AE_DIR,
    FIXED_TIME,
    GRADIENTS,
    MODEL,
    TARGET,
    TARGET_GRADIENTS,
    mini_build,
)
from transferlab import cli

__all__ = ["mini_build"]  # the session fixture, imported for pytest
AE = f"{AE_DIR}/untargeted-eps4.h5"


@pytest.fixture
def work(mini_build, tmp_path, monkeypatch) -> Path:
    """A copy of the shared build, as the working directory (the commands use its paths)."""
    path = tmp_path / "work"
    shutil.copytree(mini_build["workdir"] / "results", path / "results", symlinks=True)
    monkeypatch.chdir(path)
    for key, value in FIXED_TIME.items():
        monkeypatch.setenv(key, value)
    return path


def job_argv(mini_build: dict, rule: str, arch: str = "ResNet18") -> tuple[list[str], list[str]]:
    """(argv for transferlab.cli.main, outputs) of the rule's job for ``arch``."""
    job = next(
        j for j in mini_build["jobs"] if j["rule"] == rule and f"/{arch}/" in j["outputs"][0]
    )
    words = shlex.split(job["command"].split(" >")[0])
    assert words[:3] == ["python", "-m", "transferlab"], words
    return words[3:], job["outputs"]


def set_arg(argv: list[str], flag: str, *values: str) -> list[str]:
    i = argv.index(flag)
    end = i + 1
    while end < len(argv) and not argv[end].startswith("--"):
        end += 1
    return [*argv[: i + 1], *values, *argv[end:]]


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def flip_bit(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x10
    path.write_bytes(bytes(data))


def expect_one_line_error(capsys, fault, argv: list[str], outputs: list[str], bad: Path) -> str:
    for out in outputs:
        Path(out).unlink(missing_ok=True)
    capsys.readouterr()
    try:
        code = cli.main(argv)
    except SystemExit as exit_:  # argparse-level refusals
        code = exit_.code
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code not in (0, None), f"accepted {bad}"
    assert len(lines) == 1, f"not one line:\n{err}"
    assert str(bad) in lines[0], f"does not name {bad}: {lines[0]}"
    written = [out for out in outputs if Path(out).exists()]
    assert not written, f"outputs written despite the bad input: {written}"
    leftovers = [p.name for out in outputs for p in Path(out).parent.glob(".*.tmp")]
    assert not leftovers, leftovers
    fault.detail = f"exit {code}: `{lines[0]}`"
    fault.survived = True
    return lines[0]


# ------------------------------------------------------------------------ model files


def _swap_state_dict(path: Path, work: Path) -> None:
    record = torch.load(path, weights_only=True)
    record["state_dict"] = torch.load(work / TARGET, weights_only=True)["state_dict"]
    torch.save(record, path)


def _other_dataset(path: Path, work: Path) -> None:
    record = torch.load(path, weights_only=True)
    record["dataset"] = {**record["dataset"], "options": {"size": 16}}
    torch.save(record, path)


MODEL_FAULTS = {
    "truncated model file": (lambda p, w: truncate(p), "not a readable"),
    "bit-flipped model file": (lambda p, w: flip_bit(p), "CRC-32"),
    "model file of another architecture (VGG16 weights, ResNet18 record)": (
        _swap_state_dict,
        "do not fit its architecture",
    ),
    "model file of another data set (digits at 16 px)": (_other_dataset, "foreign model"),
}


@pytest.mark.parametrize("name", list(MODEL_FAULTS))
def test_bad_model_file_fails_in_one_line(mini_build, work, capsys, fault, name) -> None:
    fault.name("bad input", f"measure: {name}")
    damage, phrase = MODEL_FAULTS[name]
    damage(work / f"{MODEL}.pt", work)
    argv, outputs = job_argv(mini_build, "measure")
    line = expect_one_line_error(capsys, fault, argv, outputs, Path(f"{MODEL}.pt"))
    assert phrase in line


def test_bad_target_model_fails_the_attack_in_one_line(mini_build, work, capsys, fault) -> None:
    fault.name("bad input", "attack: truncated target model file")
    truncate(work / TARGET)
    argv, outputs = job_argv(mini_build, "attack")
    expect_one_line_error(capsys, fault, argv, outputs, Path(TARGET))


class Payload:
    """An arbitrary object: unpickling it would run code of the file's choosing."""

    def __reduce__(self):
        return (print, ("code ran while loading a model file",))


def test_model_file_with_a_pickled_object_is_refused(mini_build, work, capsys, fault) -> None:
    fault.name("data only", "model file holding a pickled arbitrary object")
    path = work / f"{MODEL}.pt"
    record = torch.load(path, weights_only=True)
    torch.save({**record, "payload": Payload()}, path)
    argv, outputs = job_argv(mini_build, "measure")
    expect_one_line_error(capsys, fault, argv, outputs, Path(f"{MODEL}.pt"))
    assert "code ran" not in capsys.readouterr().out


# ------------------------------------------------------------------------ AE files


def _set_attribute(path: Path, key: str, value: str) -> None:
    with h5py.File(path, "r+") as handle:
        attrs = json.loads(handle.attrs["attributes_json"])
        attrs[key] = value
        handle.attrs["attributes_json"] = json.dumps(attrs, sort_keys=True)
        handle.attrs[key] = value


AE_FAULTS = {
    "truncated AE file": (lambda p: truncate(p), "unreadable HDF5"),
    "bit-flipped AE file": (lambda p: flip_bit(p), ""),
    "AE file of another data set": (lambda p: _set_attribute(p, "dataset", "cifar10"), "dataset"),
    "AE file of another split": (lambda p: _set_attribute(p, "split", "train"), "split"),
}


def transfer_argv(mini_build: dict, surrogate: str) -> tuple[list[str], list[str]]:
    """The attack job's transfer half as ``transferlab transfer`` on its stored files."""
    argv, outputs = job_argv(mini_build, "attack")
    files = [o for o in outputs if o.endswith(".h5")]
    args = dict(zip(argv[1::2], argv[2::2], strict=False))
    transfer = [
        "transfer", "--adversarial", *files, "--surrogate", surrogate,
        "--targets", args["--targets"], "--spec", args["--spec"], "--out", args["--out"],
        "--samples", args["--samples"], "--device", "cpu",
    ]  # fmt: skip
    return transfer, [args["--out"], args["--samples"]]


@pytest.mark.parametrize("name", list(AE_FAULTS))
def test_bad_ae_file_fails_in_one_line(mini_build, work, capsys, fault, name) -> None:
    fault.name("bad input", f"transfer: {name}")
    damage, phrase = AE_FAULTS[name]
    damage(work / AE)
    argv, outputs = transfer_argv(mini_build, f"{MODEL}.pt")
    line = expect_one_line_error(capsys, fault, argv, outputs, Path(AE))
    assert phrase in line


def test_ae_file_of_another_surrogate_fails_in_one_line(mini_build, work, capsys, fault) -> None:
    fault.name("bad input", "transfer: AE file of another surrogate")
    argv, outputs = transfer_argv(mini_build, TARGET)
    line = expect_one_line_error(capsys, fault, argv, outputs, Path(AE_DIR))
    assert "another surrogate" in line


# ------------------------------------------------------------------------ gradients


def test_gradient_file_of_the_wrong_length_fails_in_one_line(
    mini_build, work, capsys, fault
) -> None:
    fault.name("bad input", "similarity: stored gradient file one sample short")
    path = work / TARGET_GRADIENTS
    record = torch.load(path, weights_only=True)
    torch.save({**record, "gradients": record["gradients"][:-1], "y": record["y"][:-1]}, path)
    argv, outputs = job_argv(mini_build, "similarity", arch="digits")
    assert GRADIENTS in " ".join(argv) and TARGET_GRADIENTS in " ".join(argv)
    line = expect_one_line_error(capsys, fault, argv, outputs, Path(TARGET_GRADIENTS))
    assert "shape" in line


# ------------------------------------------------------------------------ epoch checkpoint


@pytest.mark.parametrize("damage", ["truncated", "bit-flipped"])
def test_bad_epoch_checkpoint_is_named_and_training_starts_fresh(
    mini_build, work, capsys, fault, damage
) -> None:
    fault.name("bad input", f"train: {damage} epoch checkpoint")
    argv, outputs = job_argv(mini_build, "train")
    for out in outputs:
        Path(out).unlink()
    assert cli.main([*argv, "--stop-after-epoch", "1"]) == 0
    checkpoint = Path(f"{MODEL}.pt.epoch.pt")
    (truncate if damage == "truncated" else flip_bit)(checkpoint)
    capsys.readouterr()
    assert cli.main(argv) == 0
    named = [line for line in capsys.readouterr().out.splitlines() if str(checkpoint) in line]
    assert len(named) == 1 and "ignoring unreadable epoch checkpoint" in named[0], named
    for out in outputs:
        assert Path(out).read_bytes() == mini_build["files"][out], out
    assert not checkpoint.exists()
    fault.detail = f"one log line `{named[0][:120]}…`; retrained: reference bytes"
    fault.survived = True


# ------------------------------------------------------------------------ LGV collection


@pytest.mark.parametrize("damage", ["truncated", "bit-flipped"])
def test_bad_lgv_collection_fails_in_one_line(work, fault, damage) -> None:
    from transferlab.lgv.collection import load_collection
    from transferlab.lgv.finetune import build_collection
    from transferlab.training.checkpoints import TransferlabFileError

    fault.name("bad input", f"LGV collection: {damage} file (library; no CLI command yet)")
    path = work / "results/lgv/collection.pt"
    spec = {
        "base": f"{MODEL}.pt",
        "dataset": {"name": "digits", "options": {"size": 8}},
        "lgv": {"optimizer": "sgd", "epochs": 1, "per_epoch": 1},
        "seed": 0,
    }
    build_collection(spec, path, log=lambda _: None)
    assert len(load_collection(path)) == 1
    (truncate if damage == "truncated" else flip_bit)(path)
    with pytest.raises(TransferlabFileError) as err:
        load_collection(path)
    message = str(err.value)
    assert len(message.splitlines()) == 1 and str(path) in message, message
    fault.detail = f"`{message.replace(str(work) + '/', '')}`"
    fault.survived = True


# ------------------------------------------------------------------------ data sets


def train_argv_on(mini_build: dict, dataset: dict) -> tuple[list[str], list[str]]:
    argv, outputs = job_argv(mini_build, "train")
    spec = json.loads(argv[argv.index("--spec") + 1])
    spec["dataset"] = dataset
    return set_arg(argv, "--spec", json.dumps(spec)), outputs


def test_cifar_batch_of_the_wrong_shape_fails_in_one_line(mini_build, work, capsys, fault) -> None:
    fault.name("bad input", "train on CIFAR-10: data_batch_3 of shape (N, 3000)")
    folder = work / "cifar/cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in [*(f"data_batch_{k}" for k in range(1, 6)), "test_batch"]:
        width = 3000 if name == "data_batch_3" else 3072
        content = {
            "batch_label": name,
            "labels": rng.integers(0, 10, 4).tolist(),
            "data": rng.integers(0, 256, (4, width), dtype=np.uint8),
            "filenames": [f"{k}.png" for k in range(4)],
        }
        (folder / name).write_bytes(pickle.dumps(content, protocol=2))
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": ["x"] * 10}, protocol=2))
    argv, outputs = train_argv_on(mini_build, {"name": "cifar10", "options": {"root": "cifar"}})
    line = expect_one_line_error(
        capsys, fault, argv, outputs, Path("cifar/cifar-10-batches-py/data_batch_3")
    )
    assert "(4, 3000)" in line


def test_imagenette_split_missing_a_class_fails_in_one_line(
    mini_build, work, capsys, fault
) -> None:
    from PIL import Image

    from transferlab.data.imagenette import IMAGENETTE_CLASSES

    fault.name("bad input", "train on ImageNette: val/ lacks one class folder")
    root = work / "nette/imagenette2"
    wnids = list(IMAGENETTE_CLASSES)
    for split in ("train", "val"):
        for wnid in wnids[:-1] if split == "val" else wnids:
            (root / split / wnid).mkdir(parents=True)
            Image.new("RGB", (8, 8), (10, 200, 30)).save(root / split / wnid / "a.JPEG")
    dataset = {"name": "imagenette", "options": {"root": "nette", "size": 8, "resize": 8}}
    argv, outputs = train_argv_on(mini_build, dataset)
    line = expect_one_line_error(capsys, fault, argv, outputs, Path("nette/imagenette2/val"))
    assert wnids[-1] in line


# ------------------------------------------------------------------------ data only


def test_every_torch_load_passes_weights_only_true(fault) -> None:
    fault.name("data only", "every torch.load in src/ passes weights_only=True")
    calls = []
    for path in sorted((REPO / "src").rglob("*.py")):
        text = path.read_text()
        for match in re.finditer(r"torch\.load\(", text):
            depth, end = 1, match.end()
            while depth:
                depth += {"(": 1, ")": -1}.get(text[end], 0)
                end += 1
            calls.append((path.relative_to(REPO), text[match.start() : end]))
    assert calls, "no torch.load found: the search is broken"
    unsafe = [(str(p), c) for p, c in calls if "weights_only=True" not in c]
    assert not unsafe, unsafe
    fault.detail = f"{len(calls)} call(s), all weights_only=True"
    fault.survived = True


def test_no_code_is_evaluated_from_configs_or_files(fault) -> None:
    fault.name("data only", "no eval/exec/pickle.load/yaml.load/unsafe loaders in src/")
    pattern = re.compile(
        r"(?<![.\w])eval\(|(?<![.\w])exec\(|pickle\.loads?\(|yaml\.load\(|yaml\.unsafe_load|"
        r"numpy\.load\([^)]*allow_pickle=True|np\.load\([^)]*allow_pickle=True"
    )
    hits = [
        f"{p.relative_to(REPO)}:{n}: {line.strip()}"
        for p in sorted((REPO / "src").rglob("*.py"))
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert not hits, hits
    store = (REPO / "src/transferlab/transfer/store.py").read_text()
    assert "json.loads(encoded)" in store  # AE attributes: one JSON attribute, parsed as JSON
    fault.detail = "none found; AE attributes parsed with json.loads, job specs as JSON"
    fault.survived = True


def test_cifar_batch_naming_a_callable_is_refused(mini_build, work, capsys, fault) -> None:
    fault.name("data only", "CIFAR-10 batch whose pickle calls a function")
    folder = work / "cifar/cifar-10-batches-py"
    folder.mkdir(parents=True)
    for name in [*(f"data_batch_{k}" for k in range(1, 6)), "test_batch", "batches.meta"]:
        (folder / name).write_bytes(pickle.dumps(Payload(), protocol=2))
    argv, outputs = train_argv_on(mini_build, {"name": "cifar10", "options": {"root": "cifar"}})
    line = expect_one_line_error(
        capsys, fault, argv, outputs, Path("cifar/cifar-10-batches-py/data_batch_1")
    )
    assert "refuses __builtin__.print" in line  # protocol 2 names builtins so
    assert "code ran" not in capsys.readouterr().out
