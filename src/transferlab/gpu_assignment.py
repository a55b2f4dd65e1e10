"""Which GPU a job runs on when one node runs several jobs per GPU (docs/scale.md).

Snakemake never sets ``CUDA_VISIBLE_DEVICES`` and ``--resources gpu_slots=N`` only
caps how many GPU jobs run at once, so on a node with G visible GPUs each job
picks one itself: it takes the first free slot file in the order
(gpu 0, slot 0), (gpu 1, slot 0), …, (gpu G−1, slot 0), (gpu 0, slot 1), …,
holding an exclusive ``flock`` on it for the life of the process (the kernel
releases it when the process exits, also on a crash). Jobs started this way are
spread evenly: with k·G jobs admitted, every GPU runs k. Under Slurm each job
sees only its own GPU (G = 1) and this is a no-op.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from pathlib import Path
from typing import IO

# The open slot file of this process: closing it would release the claim.
_HELD: list[IO[bytes]] = []
MAX_SLOTS_PER_GPU = 256


def lock_directory() -> Path:
    """``$TRANSFERLAB_GPU_LOCKS``, else a per-user folder in the system temp directory."""
    env = os.environ.get("TRANSFERLAB_GPU_LOCKS")
    return Path(env) if env else Path(tempfile.gettempdir()) / f"transferlab-gpu-{os.getuid()}"


def claim_gpu(count: int, directory: Path | None = None) -> int:
    """Index of the least-loaded of ``count`` GPUs among processes that claimed one here.

    The claim is held until the process exits (or ``release_claims``).
    """
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    directory = directory or lock_directory()
    directory.mkdir(parents=True, exist_ok=True)
    for slot in range(MAX_SLOTS_PER_GPU):
        for gpu in range(count):
            handle = open(directory / f"gpu{gpu}-slot{slot}.lock", "ab")  # noqa: SIM115
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                continue
            _HELD.append(handle)
            return gpu
    raise RuntimeError(
        f"more than {MAX_SLOTS_PER_GPU} jobs per GPU hold slots in {directory}; "
        "lower --resources gpu_slots"
    )


def release_claims() -> None:
    """Release this process's claims (for tests; a job simply exits)."""
    while _HELD:
        _HELD.pop().close()


def assigned_device(name: str) -> str:
    """``cuda:<i>`` chosen by ``claim_gpu`` for a bare ``cuda`` on a multi-GPU node;
    any other device name (``cpu``, ``cuda:1``, one GPU) unchanged."""
    import torch

    if name != "cuda":
        return name
    count = torch.cuda.device_count()
    return f"cuda:{claim_gpu(count)}" if count > 1 else name
