"""A warm interpreter for local runs: jobs fork from a process that has torch imported.

On the embedded default most of the ~600 jobs compute for a few seconds, and each paid
~2 CPU-s importing torch (`python -X importtime -c "import torch"`), a third of the build.
With ``warm_interpreter: true`` the workflow starts one server per Snakemake run
(``onstart``); it imports the heavy third-party packages once and never touches torch's
thread pools or CUDA, so forking it is safe. ``python -m transferlab <command>`` then sends
its arguments, working directory, environment and stdin/stdout/stderr descriptors over a
Unix socket; the server forks a supervisor, which forks the worker that runs the command
and reports its exit status (or the signal that killed it) back. The client exits with
that status, or kills itself with that signal, so Snakemake sees what a direct run gives.

Fidelity: the worker drops every already-imported ``transferlab`` module and imports the
library afresh, so an edit between jobs takes effect as in a direct run; it reseeds
Python's and NumPy's global generators from the OS (a new interpreter would); it refuses a
client of another interpreter (``--sdm conda`` envs), and a client that finds no server
runs the command itself. If the client dies (Snakemake kills a job), the supervisor sees
the socket close and SIGKILLs the worker. Snakemake's ``benchmark:`` files then measure
the client only (wall time right, CPU not): the client writes the worker's CPU seconds and
peak memory to stderr (the job's log) as the last line.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ENV_SOCKET = "TRANSFERLAB_FORKSERVER"
PRELOAD = ("numpy", "pandas", "h5py", "torch")  # torch brings torch.nn.functional
DEFAULT_ENTRY = "transferlab.cli:main"
USAGE_PREFIX = "[warm interpreter]"
_HEADER = struct.Struct("!I")
_MAX_MESSAGE = 64 << 20


def _send_message(conn: socket.socket, payload: dict, fds: Sequence[int] = ()) -> None:
    data = json.dumps(payload).encode()
    message = _HEADER.pack(len(data)) + data
    sent = socket.send_fds(conn, [message], list(fds)) if fds else 0
    conn.sendall(message[sent:])


def _receive_exact(conn: socket.socket, size: int, buffer: bytearray) -> bytes | None:
    while len(buffer) < size:
        chunk = conn.recv(max(size - len(buffer), 65536))
        if not chunk:
            return None
        buffer.extend(chunk)
    return bytes(buffer[:size])


def _receive_message(conn: socket.socket, with_fds: int = 0) -> tuple[dict | None, list[int]]:
    """One length-prefixed JSON message (and up to ``with_fds`` descriptors); None at EOF."""
    fds: list[int] = []
    buffer = bytearray()
    if with_fds:
        data, fds, _flags, _addr = socket.recv_fds(conn, 65536, with_fds)
        if not data:
            return None, fds
        buffer.extend(data)
    header = _receive_exact(conn, _HEADER.size, buffer)
    if header is None:
        return None, fds
    (size,) = _HEADER.unpack(header)
    if size > _MAX_MESSAGE:
        raise ValueError(f"forkserver message of {size} bytes")
    body = _receive_exact(conn, _HEADER.size + size, buffer)
    if body is None:
        return None, fds
    return json.loads(body[_HEADER.size :]), fds


# --- client -------------------------------------------------------------------------------


def run_via_server(argv: Sequence[str], socket_path: str) -> int | None:
    """Run ``argv`` in a worker forked from the server at ``socket_path``; its exit code.

    None when there is no server there or it refuses this interpreter: run directly then.
    A worker killed by a signal kills this process with the same signal.
    """
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(socket_path)
    except OSError:
        conn.close()
        return None
    with conn:
        request = {
            "argv": list(argv),
            "cwd": os.getcwd(),
            "env": dict(os.environ),
            "executable": os.path.realpath(sys.executable),
            "prefix": sys.prefix,
        }
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        _send_message(conn, request, fds=[0, 1, 2])
        reply, _ = _receive_message(conn)
    if reply is None:
        print(f"{USAGE_PREFIX} the server closed the connection", file=sys.stderr, flush=True)
        return 1
    if reply["status"] == "refused":
        return None
    print(
        f"{USAGE_PREFIX} worker CPU user {reply['user_s']:.2f} s, system {reply['system_s']:.2f}"
        f" s, peak RSS {reply['max_rss_mb']:.0f} MB",
        file=sys.stderr,
        flush=True,
    )
    if reply["status"] == "signal":
        if reply["signal"] not in (signal.SIGKILL, signal.SIGSTOP):  # those cannot be caught
            signal.signal(reply["signal"], signal.SIG_DFL)
        os.kill(os.getpid(), reply["signal"])
        time.sleep(1)
    return int(reply.get("code", 1))


def client_main(argv: Sequence[str], entry: Callable[[Sequence[str]], int]) -> int:
    """``python -m transferlab``: through the server named by $TRANSFERLAB_FORKSERVER, if any."""
    socket_path = os.environ.get(ENV_SOCKET)
    if socket_path:
        code = run_via_server(argv, socket_path)
        if code is not None:
            return code
    return entry(argv)


# --- server -------------------------------------------------------------------------------


def _load_entry(entry: str) -> Callable[[Sequence[str]], int]:
    module, _, name = entry.partition(":")
    return getattr(importlib.import_module(module), name)


def _drop_modules(package: str) -> None:
    for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
        del sys.modules[name]


def _worker(request: dict, fds: list[int], entry: str) -> None:
    """In the forked worker: become the client's process, run the entry point, exit."""
    try:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for number in (signal.SIGTERM, signal.SIGCHLD, signal.SIGPIPE):
            signal.signal(number, signal.SIG_DFL)
        for target, fd in enumerate(fds[:3]):
            os.dup2(fd, target)
        for fd in fds:
            if fd > 2:
                os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        _drop_modules(entry.partition(":")[0].split(".")[0])
        import random

        random.seed()
        if "numpy" in sys.modules:
            sys.modules["numpy"].random.seed()
        sys.argv = [sys.argv[0], *request["argv"]]
        code = _load_entry(entry)(request["argv"])
        code = 0 if code is None else int(code)
    except SystemExit as stop:
        # As the interpreter exits: None is 0, an int is itself, anything else is printed, 1.
        if stop.code is None or isinstance(stop.code, int):
            code = stop.code or 0
        else:
            print(stop.code, file=sys.stderr)
            code = 1
    except BaseException:  # noqa: BLE001 - what an uncaught exception does to `python -m`
        sys.excepthook(*sys.exc_info())
        code = 1
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


def _supervise(conn: socket.socket, entry: str) -> None:
    """In the forked supervisor: fork the worker, report how it ended; kill it if the client
    goes away first."""
    request, fds = _receive_message(conn, with_fds=3)
    if request is None:
        return
    if request["executable"] != os.path.realpath(sys.executable) or request["prefix"] != sys.prefix:
        _send_message(conn, {"status": "refused"})
        return
    pid = os.fork()
    if pid == 0:
        conn.close()
        _worker(request, fds, entry)
    for fd in fds:
        os.close(fd)
    pidfd = os.pidfd_open(pid)
    readable, _, _ = select.select([pidfd, conn], [], [])
    if pidfd not in readable:
        # Readable socket before the worker ended: the client is gone (no more data is sent).
        os.kill(pid, signal.SIGKILL)
    _, status, usage = os.wait4(pid, 0)
    reply = {
        "user_s": usage.ru_utime,
        "system_s": usage.ru_stime,
        "max_rss_mb": usage.ru_maxrss / 1024,
    }
    if os.WIFSIGNALED(status):
        reply.update(status="signal", signal=os.WTERMSIG(status))
    else:
        reply.update(status="exit", code=os.WEXITSTATUS(status))
    with contextlib.suppress(OSError):
        _send_message(conn, reply)


def serve(socket_path: str, parent_pid: int | None = None, entry: str = DEFAULT_ENTRY) -> None:
    """Import PRELOAD, then fork a supervisor per connection until ``parent_pid`` is gone."""
    for module in PRELOAD:
        importlib.import_module(module)
    path = Path(socket_path)
    path.unlink(missing_ok=True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(os.fspath(path))
    listener.listen(64)
    # Supervisors are reaped by the kernel; each one resets this before forking its worker.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"ready on {path} (pid {os.getpid()})", flush=True)
    try:
        while parent_pid is None or os.getppid() == parent_pid:
            readable, _, _ = select.select([listener], [], [], 1.0)
            if not readable:
                continue
            conn, _ = listener.accept()
            sys.stdout.flush()
            sys.stderr.flush()
            if os.fork() == 0:
                listener.close()
                code = 0
                try:
                    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                    _supervise(conn, entry)
                except BaseException:  # noqa: BLE001 - a supervisor must not return to the loop
                    sys.excepthook(*sys.exc_info())
                    code = 1
                finally:
                    os._exit(code)
            conn.close()
    finally:
        listener.close()
        path.unlink(missing_ok=True)


def start_server(socket_path: Path, log_path: Path, timeout_s: float = 60.0) -> subprocess.Popen:
    """Start a server for this process (it exits when this process does); wait until ready."""
    socket_path.parent.mkdir(parents=True, exist_ok=True)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    socket_path.unlink(missing_ok=True)
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "transferlab.forkserver", os.fspath(socket_path)]
            + [str(os.getpid())],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + timeout_s
    while not socket_path.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"the warm interpreter did not start; see {log_path}")
        time.sleep(0.05)
    return process


def start_for_jobs(log_path: Path) -> subprocess.Popen:
    """Start a server and point this process's future children (the jobs) at it."""
    # A Unix socket path is limited to ~107 bytes: a short private folder, not the workdir.
    folder = Path(tempfile.mkdtemp(prefix="transferlab-"))
    process = start_server(folder / "server.sock", log_path)
    os.environ[ENV_SOCKET] = os.fspath(folder / "server.sock")
    return process


def stop_server(process: subprocess.Popen | None) -> None:
    """Stop a server started here and forget its socket."""
    socket_path = os.environ.pop(ENV_SOCKET, None)
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
    if socket_path:
        Path(socket_path).unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            Path(socket_path).parent.rmdir()


if __name__ == "__main__":
    serve(
        sys.argv[1],
        parent_pid=int(sys.argv[2]) if len(sys.argv) > 2 else None,
        entry=sys.argv[3] if len(sys.argv) > 3 else DEFAULT_ENTRY,
    )
