"""Markdown pipe tables, the layout of every ``.md`` table the pipeline writes
(stdlib only: attack jobs and aggregation jobs alike import it)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = ["pipe_table"]


def pipe_table(header: Sequence[object], rows: Iterable[Sequence[object]]) -> str:
    """``| h1 | h2 |``, then ``|---|---|``, then one ``| c1 | c2 |`` line per row; every
    line ends in a newline. Cells are written with ``str`` and not escaped: the caller
    formats numbers and keeps ``|`` out of them."""
    lines = ["| " + " | ".join(str(c) for c in header) + " |", "|" + "---|" * len(header)]
    lines.extend("| " + " | ".join(str(c) for c in row) + " |" for row in rows)
    return "\n".join(lines) + "\n"
