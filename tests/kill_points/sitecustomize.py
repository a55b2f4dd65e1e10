"""Test-only: a job SIGKILLs itself at one named point (tests/test_reliability_kill.py).

On PYTHONPATH only for the killed run. ``TRANSFERLAB_KILL_AT`` is JSON:
``kind`` ``log`` (right after the ``nth`` stdout line containing ``match``; with
``delay`` seconds, that long after it), ``rename`` (at the ``nth`` rename onto a
path ending in ``match``: the temporary file is complete, not yet renamed) or
``hdf5`` (at the ``nth`` creation of the HDF5 dataset named ``match``: an AE
file half written).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading

_SPEC = json.loads(os.environ.get("TRANSFERLAB_KILL_AT", "null"))


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _install(spec: dict) -> None:
    seen = [0]

    def hit() -> None:
        seen[0] += 1
        if seen[0] != spec.get("nth", 1):
            return
        if spec.get("delay"):
            timer = threading.Timer(spec["delay"], _die)
            timer.daemon = True
            timer.start()
        else:
            _die()

    match = spec["match"]
    if spec["kind"] == "log":

        class Tee:
            def __init__(self, stream):
                self._stream = stream

            def write(self, text: str) -> int:
                written = self._stream.write(text)
                if match in text:
                    self._stream.flush()
                    hit()
                return written

            def __getattr__(self, name: str):
                return getattr(self._stream, name)

        sys.stdout = Tee(sys.stdout)
    elif spec["kind"] == "rename":

        def audit(event: str, args: tuple) -> None:
            if event == "os.rename" and os.fspath(args[1]).endswith(match):
                hit()

        sys.addaudithook(audit)
    elif spec["kind"] == "hdf5":
        from h5py._hl.group import Group

        create = Group.create_dataset

        def create_dataset(self, name, *args, **kwargs):
            if name == match:
                hit()
            return create(self, name, *args, **kwargs)

        Group.create_dataset = create_dataset
    else:
        raise ValueError(f"TRANSFERLAB_KILL_AT kind {spec['kind']!r}: use log, rename or hdf5")


if _SPEC:
    _install(_SPEC)
