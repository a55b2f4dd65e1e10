"""Atomic file writes (torch-free: text-only jobs import it without torch).

Every file another stage reads is written to a temporary name in the same
directory and renamed into place (``os.replace``, atomic on one file system), so
a killed job never leaves a file that looks complete: either the old file or
the whole new one is there. Nothing is fsync'ed: the guarantee is against a
killed job, not a power cut.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], *, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path beside ``path`` (``.<name>.<random><suffix>``); rename it
    onto ``path`` on success.

    The parent folder is created if missing. On an exception the temporary file is
    removed and ``path`` is untouched.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=target.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` atomically (``atomic_path``), in the locale's encoding
    as ``Path.write_text`` does."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def atomic_write_gzip_text(path: str | os.PathLike[str], text: str) -> None:
    """Gzip ``text`` with a fixed header (no file name, mtime 0): the same text gives
    the same bytes, which pandas' ``compression="gzip"`` does not (it stores the
    temporary file's name and the current time)."""
    import gzip

    with (
        atomic_path(path) as tmp,
        open(tmp, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as handle,
    ):
        handle.write(text.encode())
