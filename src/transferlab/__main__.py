import os
import sys
from collections.abc import Sequence


def run_directly(argv: Sequence[str]) -> int:
    from transferlab.cli import main

    return main(argv)


# Imported only when a warm interpreter is announced (forkserver.ENV_SOCKET), so a direct run
# imports nothing outside its command's digest (transferlab.code_digest).
if os.environ.get("TRANSFERLAB_FORKSERVER"):
    from transferlab.forkserver import client_main

    sys.exit(client_main(sys.argv[1:], run_directly))
sys.exit(run_directly(sys.argv[1:]))
