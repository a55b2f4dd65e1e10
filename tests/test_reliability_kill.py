"""Reliability battery, item 1: kill -9 a real job at five points each in training, the
attack job (crafting + transfer) and the measure job; re-run it.

Every point is named by what the job itself reports (a log line) or does (renaming a
finished temporary file, creating a dataset of an HDF5 file); the job SIGKILLs itself
there (tests/kill_points/sitecustomize.py). While it runs, the test polls every output
path: whatever appears under a final name must be the reference bytes. After the kill,
the same command line (as Snakemake runs it again) re-runs the job, and every output
must equal, byte for byte, the output of one uninterrupted Snakemake build (creation
times fixed by SOURCE_DATE_EPOCH).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time

import pytest

from tests.conftest import REPO, subprocess_env
from tests.reliability_builds import FIXED_TIME, GRADIENTS, MODEL, mini_build, results_snapshot

__all__ = ["mini_build"]  # the session fixture, imported for pytest

FIXED = {**FIXED_TIME, "PYTHONPATH": str(REPO / "src")}


@pytest.fixture(scope="module")
def reference(mini_build) -> dict:
    return mini_build


# (job, kill point, what the point is)
POINTS = [
    (
        "train",
        {"kind": "log", "match": "training resnet18", "delay": 0.1},
        "mid-epoch 1, no checkpoint yet",
    ),
    ("train", {"kind": "log", "match": "epoch 1/3"}, "right after the epoch-1 checkpoint write"),
    (
        "train",
        {"kind": "rename", "match": ".epoch.pt", "nth": 2},
        "epoch-2 checkpoint written to its temporary name, not renamed",
    ),
    (
        "train",
        {"kind": "log", "match": "final accuracy"},
        "after the last epoch, before the model file",
    ),
    (
        "train",
        {"kind": "rename", "match": "seed0.pt"},
        "model file written to its temporary name, not renamed",
    ),
    ("attack", {"kind": "log", "match": "crafting 4 pgd"}, "crafting started, no AE file yet"),
    (
        "attack",
        {"kind": "hdf5", "match": "pred_clean", "nth": 2},
        "mid-HDF5 write of the second AE file",
    ),
    (
        "attack",
        {"kind": "log", "match": "pgd targeted eps=16/255"},
        "all AE files written, transfer not started",
    ),
    (
        "attack",
        {"kind": "log", "match": "-> VGG16", "nth": 2},
        "mid-transfer (2 of 4 files evaluated)",
    ),
    (
        "attack",
        {"kind": "rename", "match": "pgd.samples.csv.gz"},
        "transfer summary written, per-sample file not renamed",
    ),
    ("measure", {"kind": "log", "match": "measuring "}, "measuring started, σ being computed"),
    (
        "measure",
        {"kind": "rename", "match": "seed0.csv"},
        "per-sample σ CSV written to its temporary name",
    ),
    ("measure", {"kind": "rename", "match": "seed0.json"}, "σ CSV renamed, summary JSON not"),
    (
        "measure",
        {"kind": "log", "match": "smoothness of"},
        "σ files done, input gradients being computed",
    ),
    (
        "measure",
        {"kind": "rename", "match": GRADIENTS.rsplit("/", 1)[1]},
        "gradient file written to its temporary name, not renamed",
    ),
]


def _job(reference: dict, name: str) -> dict:
    """The surrogate's job of rule ``name`` (train, attack or measure)."""
    return next(
        j for j in reference["jobs"] if j["rule"] == name and "/ResNet18/" in j["outputs"][0]
    )


@pytest.mark.parametrize(
    ("job_name", "point", "where"), POINTS, ids=[f"{j}-{w}" for j, _, w in POINTS]
)
def test_kill_and_rerun_gives_the_reference_bytes(
    reference, tmp_path, fault, job_name: str, point: dict, where: str
) -> None:
    fault.name("kill", f"{job_name}: {where}")
    job = _job(reference, job_name)
    work = tmp_path / "work"
    shutil.copytree(reference["workdir"], work, symlinks=True)
    outputs = list(job["outputs"])
    for out in outputs:
        (work / out).unlink()
    before = results_snapshot(work)
    expected = reference["files"]

    env = {
        **subprocess_env(),
        **FIXED_TIME,
        "TRANSFERLAB_KILL_AT": json.dumps(point),
        "PYTHONPATH": os.pathsep.join([str(REPO / "tests/kill_points"), str(REPO / "src")]),
    }
    proc = subprocess.Popen(
        ["bash", "-c", job["command"]], cwd=work, env=env, start_new_session=True
    )
    partial = set()
    seen: set[str] = set()
    try:
        while True:
            running = proc.poll() is None
            for out in outputs:
                try:
                    data = (work / out).read_bytes()
                except FileNotFoundError:
                    continue
                seen.add(out)
                if data != expected[out]:
                    partial.add(out)
            if not running:
                break
            time.sleep(0.002)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    log_path = job["command"].rsplit(" ", 2)[-2]  # the command ends "> {log} 2>&1"
    log = (work / log_path).read_text()
    assert proc.returncode in (-signal.SIGKILL, 128 + signal.SIGKILL), (
        f"the job was not killed at {point} (exit {proc.returncode}):\n{log}"
    )
    assert not partial, f"incomplete file(s) under their final name: {sorted(partial)}"
    after_kill = results_snapshot(work)
    lost = [p for p, data in before.items() if after_kill.get(p) != data]
    fault.lost = len(lost)
    assert not lost, f"finished results changed by the kill: {lost}"
    stale = sorted(p.name for p in work.rglob(".*.tmp"))
    checkpoint = (work / f"{MODEL}.pt.epoch.pt").exists()

    # the re-run: the same command line, as Snakemake would run the job again
    rerun = subprocess.run(
        ["bash", "-c", job["command"]], cwd=work, env={**subprocess_env(), **FIXED}
    )
    assert rerun.returncode == 0, (work / log_path).read_text()
    rebuilt = results_snapshot(work)
    differ = [p for p in expected if rebuilt.get(p) != expected[p]]
    assert not differ, f"after the re-run, not the reference bytes: {differ}"
    assert not (work / f"{MODEL}.pt.epoch.pt").exists(), "epoch checkpoint left after training"
    fault.detail = (
        f"killed (exit {proc.returncode}); {len(seen)}/{len(outputs)} outputs under final names "
        f"at the kill, all complete; epoch checkpoint {'present' if checkpoint else 'absent'}; "
        f"{len(stale)} hidden temporary file(s) left; re-run: all {len(expected)} result "
        "files byte-identical"
    )
    fault.survived = True
