"""The warm interpreter (transferlab.forkserver): a job forked from the server must behave
as the same command run directly: cwd, environment, exit codes, signals, fresh code, and
byte-identical results of a real build; a killed client takes its worker with it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, subprocess_env
from tests.reliability_builds import (
    FIXED_TIME,
    TARGETS,
    mini_build,
    mini_config,
    results_snapshot,
)
from tests.workflow_runner import snakemake
from transferlab import forkserver

__all__ = ["mini_build"]  # the session fixture, imported for pytest

PROBE = """
import json, os, sys, time
VERSION = {version}

def main(argv):
    command = argv[0]
    if command == "info":
        print(json.dumps({{"cwd": os.getcwd(), "probe": os.environ.get("PROBE"),
                          "version": VERSION, "pid": os.getpid(), "argv": sys.argv[1:]}}))
        return 0
    if command == "exit":
        return int(argv[1])
    if command == "raise":
        raise ValueError("boom")
    if command == "sysexit":
        raise SystemExit(int(argv[1]) if argv[1].isdigit() else argv[1])
    if command == "kill":
        os.kill(os.getpid(), 9)
    if command == "sleep":
        with open(argv[1], "w") as handle:
            handle.write(str(os.getpid()))
        time.sleep(60)
    if command == "torch":
        import torch
        torch.set_num_threads(2)
        print(float((torch.ones(300, 300) @ torch.ones(300, 300)).sum()))
        return 0
"""

CLIENT = (
    "import sys; from transferlab.forkserver import client_main; "
    "from probe_pkg.entry import main; sys.exit(client_main(sys.argv[1:], main))"
)


def write_probe(root: Path, version: int) -> None:
    package = root / "probe_pkg"
    package.mkdir(exist_ok=True)
    (package / "__init__.py").write_text("")
    (package / "entry.py").write_text(textwrap.dedent(PROBE.format(version=version)))


@pytest.fixture
def server(tmp_path):
    code = tmp_path / "code"
    code.mkdir()
    write_probe(code, version=1)
    env = {**subprocess_env(), "PYTHONPATH": f"{code}{os.pathsep}{REPO / 'src'}"}
    sock = tmp_path / "s.sock"
    process = subprocess.Popen(
        [sys.executable, "-m", "transferlab.forkserver", str(sock), str(os.getpid()),
         "probe_pkg.entry:main"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not sock.exists():
        assert process.poll() is None, process.stdout.read()
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield {"sock": sock, "env": env, "code": code, "pid": process.pid}
    process.terminate()
    process.wait(timeout=10)


def client(server, *argv, socket_path=None, cwd=None, extra_env=None, wait=True):
    env = {**server["env"], forkserver.ENV_SOCKET: str(socket_path or server["sock"])}
    env.update(extra_env or {})
    command = [sys.executable, "-c", CLIENT, *argv]
    if not wait:
        return subprocess.Popen(command, env=env, cwd=cwd)
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=60)


def test_a_forked_job_runs_in_the_clients_directory_and_environment(server, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = client(server, "info", "x", cwd=elsewhere, extra_env={"PROBE": "hello"})
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert info["cwd"] == str(elsewhere)
    assert info["probe"] == "hello"
    assert info["argv"] == ["info", "x"]
    assert info["pid"] != server["pid"]
    # It ran in a worker, not in the client: the client reports the worker's usage.
    assert forkserver.USAGE_PREFIX in proc.stderr


def test_exit_codes_and_uncaught_exceptions_are_the_direct_runs(server):
    assert client(server, "exit", "0").returncode == 0
    assert client(server, "exit", "3").returncode == 3
    proc = client(server, "raise")
    assert proc.returncode == 1
    assert "ValueError: boom" in proc.stderr


def test_system_exit_ends_a_worker_as_it_ends_the_interpreter(server, tmp_path):
    absent = tmp_path / "absent.sock"
    for argument in ("4", "bye"):
        warm, direct = (
            client(server, "sysexit", argument),
            client(server, "sysexit", argument, socket_path=absent),
        )
        assert warm.returncode == direct.returncode == (4 if argument == "4" else 1)
        assert ("bye" in warm.stderr) == ("bye" in direct.stderr) == (argument == "bye")


def test_a_worker_killed_by_a_signal_kills_the_client_with_it(server):
    assert client(server, "kill").returncode == -signal.SIGKILL


def test_killing_the_client_kills_its_worker(server, tmp_path):
    pid_file = tmp_path / "worker.pid"
    proc = client(server, "sleep", str(pid_file), wait=False)
    deadline = time.monotonic() + 30
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    worker = int(pid_file.read_text())
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 10
    while Path(f"/proc/{worker}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not Path(f"/proc/{worker}").exists(), "the worker outlived its killed client"


def test_each_job_imports_the_library_afresh(server):
    assert json.loads(client(server, "info").stdout)["version"] == 1
    write_probe(server["code"], version=2)
    assert json.loads(client(server, "info").stdout)["version"] == 2


def test_torch_runs_multithreaded_in_a_worker(server):
    proc = client(server, "torch")
    assert proc.returncode == 0, proc.stderr
    assert float(proc.stdout) == 300.0**3


def test_without_a_server_the_client_runs_the_command_itself(server, tmp_path):
    proc = client(server, "info", socket_path=tmp_path / "absent.sock")
    assert proc.returncode == 0
    assert forkserver.USAGE_PREFIX not in proc.stderr
    assert json.loads(proc.stdout)["version"] == 1


def test_the_client_module_and_the_env_name_agree():
    # __main__ reads the variable without importing forkserver (code_digest closures).
    main = (REPO / "src/transferlab/__main__.py").read_text()
    assert f'os.environ.get("{forkserver.ENV_SOCKET}")' in main


def test_a_client_of_another_interpreter_is_refused(server, monkeypatch):
    monkeypatch.setattr(sys, "prefix", "/elsewhere/env")
    assert forkserver.run_via_server(["info"], str(server["sock"])) is None


def test_a_build_through_the_warm_interpreter_gives_the_same_bytes(mini_build, tmp_path):
    config = {**mini_config(), "warm_interpreter": True}
    snakemake(tmp_path, config, *TARGETS, env=FIXED_TIME)
    assert results_snapshot(tmp_path) == mini_build["files"]
    logs = list((tmp_path / "results/logs/train").rglob("*.log"))
    assert logs and all(forkserver.USAGE_PREFIX in p.read_text() for p in logs)
    ready = (tmp_path / "results/logs/warm_interpreter.log").read_text()
    server_pid = int(ready.rsplit("(pid ", 1)[1].split(")")[0])
    assert not Path(f"/proc/{server_pid}").exists(), "the server outlived the build"
