import sys
from collections.abc import Sequence

from transferlab.forkserver import client_main


def run_directly(argv: Sequence[str]) -> int:
    from transferlab.cli import main

    return main(argv)


sys.exit(client_main(sys.argv[1:], run_directly))
