"""``python -m transferlab <command>``: the thin entry points Snakemake rules call.

``parser`` maps each subcommand to its ``commands.cmd_*`` function, which parses
nothing itself: it reads, calls one library function, writes. ``main`` turns the
input errors a user must fix into one line on stderr and exit code 2.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence

from transferlab.cli.parser import build_parser

# Errors about inputs the user must fix (module, class): the message says how.
INPUT_ERRORS = (
    ("transferlab.training.checkpoints", "TransferlabFileError"),
    ("transferlab.data", "DatasetMissingError"),
    ("transferlab.data", "DatasetFileError"),
    ("transferlab.models", "PretrainedWeightsUnavailable"),
    ("transferlab.transfer.store", "AdversarialFileError"),
)


def input_error_types() -> tuple[type[BaseException], ...]:
    """The INPUT_ERRORS classes of the modules already imported.

    Only an imported module can have raised one, and importing the others just
    to catch their errors would cost each aggregation job torch's import (~3 s).
    """
    loaded = (
        getattr(sys.modules[module], name, None)
        for module, name in INPUT_ERRORS
        if module in sys.modules
    )
    return tuple(cls for cls in loaded if isinstance(cls, type))


def record_imports(command: str) -> None:
    """Append the transferlab modules this process imported to $TRANSFERLAB_IMPORT_LOG (one
    JSON line), so tests can check them against the command's digest (code_digest)."""
    path = os.environ.get("TRANSFERLAB_IMPORT_LOG")
    if not path:
        return
    modules = sorted(m for m in sys.modules if m == "transferlab" or m.startswith("transferlab."))
    line = json.dumps({"command": command, "modules": modules}) + "\n"
    # One write on an O_APPEND descriptor: concurrent jobs do not interleave lines.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except Exception as err:
        if not isinstance(err, input_error_types()):
            raise
        # A traceback would bury the message that says how to fix the input.
        print(f"error: {err}", file=sys.stderr, flush=True)
        return 2
    record_imports(args.command)
    return 0
