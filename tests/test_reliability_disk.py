"""Reliability battery, items 3-5: a full disk, concurrent runs, and determinism.

Full disk: a small tmpfs is mounted over the job's output directory (root in CI; the
tests skip, saying why, where mounting is not permitted), the previous outputs are put
back into it and the rest is filled; the job (its exact command line, in this process)
must fail with ENOSPC, remove its temporary file and leave the previous outputs as they
were.
"""

from __future__ import annotations

import errno
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import h5py
import pytest

from tests.conftest import REPO, subprocess_env
from tests.reliability_builds import AE_DIR, FIXED_TIME, MODEL, TARGET, TARGETS, build, mini_build
from tests.workflow_runner import write_config
from transferlab import cli
from transferlab.atomic_files import atomic_path

__all__ = ["mini_build"]  # the session fixture, imported for pytest


@pytest.fixture
def work(mini_build, tmp_path, monkeypatch) -> Path:
    path = tmp_path / "work"
    shutil.copytree(mini_build["workdir"], path, symlinks=True)
    monkeypatch.chdir(path)
    for key, value in FIXED_TIME.items():
        monkeypatch.setenv(key, value)
    return path


def _mount_tmpfs(folder: Path, size: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        reason = (proc.stderr or proc.stdout).strip() or f"exit {proc.returncode}"
        pytest.skip(f"full-disk tests need `mount -t tmpfs` (root): {reason}")


@pytest.fixture
def full_output_dir(work: Path) -> Iterator:
    """full(folder): a tmpfs over ``folder`` holding its previous files, then filled."""
    mounted: list[Path] = []

    def full(folder: str, size: str = "4m") -> dict[str, bytes]:
        path = work / folder
        previous = {p.name: p.read_bytes() for p in path.iterdir() if p.is_file()}
        _mount_tmpfs(path, size)
        mounted.append(path)
        for name, data in previous.items():
            (path / name).write_bytes(data)
        fd = os.open(path / "filler", os.O_WRONLY | os.O_CREAT)
        try:
            while True:
                os.write(fd, b"\0" * 4096)
        except OSError as err:
            assert err.errno == errno.ENOSPC, err
        finally:
            os.close(fd)
        return previous

    yield full
    for path in reversed(mounted):
        subprocess.run(["umount", str(path)], check=False)


def job_argv(mini_build: dict, rule: str) -> tuple[list[str], list[str]]:
    job = next(
        j
        for j in mini_build["jobs"]
        if j["rule"] == rule
        and ("/ResNet18/" in j["outputs"][0] or j["outputs"][0] == "results/tables/table2.csv")
    )
    return shlex.split(job["command"].split(" >")[0])[3:], job["outputs"]


FULL_DISK = {
    "training (epoch checkpoint and model file)": ("train", str(Path(MODEL).parent)),
    "HDF5 writing (AE files)": ("attack", AE_DIR),
    "table writing (Table II)": ("asr_table", "results/tables"),
}


@pytest.mark.parametrize("name", list(FULL_DISK))
def test_full_disk_fails_cleanly_and_keeps_previous_outputs(
    mini_build, work, full_output_dir, fault, name
) -> None:
    fault.name("full disk", name)
    rule, folder = FULL_DISK[name]
    argv, _ = job_argv(mini_build, rule)
    previous = full_output_dir(folder)
    assert previous, f"no previous outputs in {folder}"
    with pytest.raises(OSError) as failure:
        cli.main(argv)
    assert failure.value.errno == errno.ENOSPC or "No space left" in str(failure.value), (
        failure.value
    )
    left = sorted(p.name for p in (work / folder).iterdir() if p.name.endswith(".tmp"))
    assert not left, f"temporary files left on the full disk: {left}"
    now = {p.name: p.read_bytes() for p in (work / folder).iterdir() if p.name != "filler"}
    changed = sorted(n for n in previous if now.get(n) != previous[n])
    new = sorted(set(now) - set(previous))
    fault.lost = len(changed)
    assert not changed, f"previous outputs changed: {changed}"
    assert not new, f"new files on the full disk: {new}"
    if rule == "attack":  # every previous AE file still opens
        for n in previous:
            with h5py.File(work / folder / n) as handle:
                assert "x_adv" in handle
    reason = str(failure.value).splitlines()[0][:90]
    fault.detail = (
        f"failed: {type(failure.value).__name__} `{reason}`; no temporary file left; "
        f"{len(previous)} previous output(s) byte-identical"
    )
    fault.survived = True


# ------------------------------------------------------------------------ concurrency


def test_second_snakemake_on_one_directory_refuses_with_the_lock_message(
    mini_build, work, fault
) -> None:
    fault.name("concurrency", "two `snakemake` runs on one working directory")
    shutil.rmtree(work / "results/models/digits/VGG16")  # the first run retrains the target
    started = work / "results/logs/train/digits/VGG16/st/tau1/seed0.log"
    started.unlink(missing_ok=True)
    config = write_config(work, mini_build["config"])
    cmd = [
        sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(work),
        "--configfile", str(config), "--cores", "1", *TARGETS,
    ]  # fmt: skip
    env = {**subprocess_env(), **FIXED_TIME}
    # forced: Snakemake does not rebuild a missing intermediate file of up-to-date targets
    first = subprocess.Popen(
        [*cmd, "--forcerun", TARGET],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    # Snakemake takes its lock before it starts a job (where it keeps the lock depends on
    # its persistence backend: files or a database), so a job's fresh log means it holds it.
    while first.poll() is None and not started.exists():
        time.sleep(0.01)
    assert first.poll() is None, "the first run ended before it started the training job"
    # table2 forced: the second run has work to do, so it must take the lock
    # --rerun-incomplete as in profiles/digits: without it Snakemake already refuses at the
    # first run's in-progress files (IncompleteFilesException), before it checks the lock
    second = subprocess.run(
        [*cmd, "--forcerun", "results/tables/table2.csv", "--rerun-incomplete"],
        env=env,
        capture_output=True,
        text=True,
    )
    out, _ = first.communicate()
    assert first.returncode == 0, out
    text = second.stdout + second.stderr
    assert second.returncode != 0 and "cannot be locked" in text, text
    rebuilt = {p: (work / p).read_bytes() for p in mini_build["files"]}
    differ = [p for p, data in rebuilt.items() if data != mini_build["files"][p]]
    assert not differ, f"the first run's results differ from the reference: {differ}"
    line = next(line for line in text.splitlines() if "cannot be locked" in line)
    fault.detail = (
        f"second run: exit {second.returncode}, `{line.strip()}`; first run finished, "
        "results byte-identical to the reference"
    )
    fault.survived = True


def test_writers_of_one_stage_never_share_a_temporary_name(tmp_path, fault) -> None:
    fault.name("concurrency", "two writers of one stage's files at the same time")
    folder = tmp_path / "results/tables"
    # two different files of one stage and two writers of the same file, all open at once
    targets = [folder / "table2.csv", folder / "table2.md", folder / "table2.csv"]
    with (
        atomic_path(targets[0]) as a,
        atomic_path(targets[1]) as b,
        atomic_path(targets[2]) as c,
    ):
        names = [a, b, c]
        assert len(set(names)) == 3, names
        assert all(p.parent == folder and p.exists() for p in names)  # same directory: rename
        for path, target in zip(names, targets, strict=True):
            assert path.name.startswith(f".{target.name}.") and path.name.endswith(".tmp")
            path.write_text(str(path))
    # the last rename wins, whole (the outermost context exits last)
    assert (folder / "table2.csv").read_text() == str(a)
    assert sorted(p.name for p in folder.iterdir()) == ["table2.csv", "table2.md"]
    # across processes: mkstemp's O_EXCL in the target's directory
    code = (
        "import sys; from transferlab.atomic_files import atomic_path\n"
        "with atomic_path(sys.argv[1]) as t: print(t)"
    )
    env = subprocess_env()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(folder / "x.csv")],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    printed = [p.communicate()[0].strip() for p in procs]
    assert len(set(printed)) == 4, printed
    fault.detail = (
        "temporary names `.<file>.<random>.tmp` from mkstemp (O_EXCL) in the target's "
        "directory: 3 open at once in one process and 4 processes all distinct"
    )
    fault.survived = True


# ------------------------------------------------------------------------ determinism


def test_building_twice_from_nothing_gives_identical_bytes(mini_build, tmp_path, fault) -> None:
    fault.name(
        "determinism",
        "the one-seed digits configuration built twice from nothing",
    )
    second = build(tmp_path / "second")
    first = mini_build["files"]
    assert sorted(second["files"]) == sorted(first)
    differ = [p for p in first if second["files"][p] != first[p]]
    assert not differ, f"not byte-identical: {differ}"
    kinds = {}
    for p in first:
        kinds[Path(p).suffix] = kinds.get(Path(p).suffix, 0) + 1
    fault.detail = (
        f"{len(first)} result files byte-identical ("
        + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
        + "; creation times fixed by SOURCE_DATE_EPOCH)"
    )
    fault.survived = True
