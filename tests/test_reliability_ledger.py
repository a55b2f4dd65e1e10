"""docs/reliability.md is rewritten only by a run of the whole suite."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.reliability_ledger import REPO, whole_suite_requested


def invocation(args: list[str], cwd: Path = REPO, **filters: object) -> SimpleNamespace:
    options = {"keyword": "", "markexpr": "", "deselect": None, **filters}
    return SimpleNamespace(
        args=args, invocation_params=SimpleNamespace(dir=cwd), getoption=options.__getitem__
    )


@pytest.mark.parametrize(
    ("args", "cwd"),
    [([], REPO), (["tests"], REPO), ([str(REPO / "tests")], Path("/")), (["."], REPO)],
)
def test_the_whole_suite_writes_the_ledger(args: list[str], cwd: Path) -> None:
    assert whole_suite_requested(invocation(args, cwd))


@pytest.mark.parametrize(
    ("args", "filters"),
    [
        (["tests/test_reliability_disk.py"], {}),
        (["tests/test_reliability_kill.py::test_kill"], {}),
        (["tests"], {"keyword": "disk"}),
        (["tests"], {"markexpr": "not slow"}),
        (["tests"], {"deselect": ["tests/test_reliability_disk.py"]}),
    ],
)
def test_a_partial_run_leaves_the_ledger_alone(args: list[str], filters: dict) -> None:
    assert not whole_suite_requested(invocation(args, **filters))
