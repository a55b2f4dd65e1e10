"""Each rule's params.code covers exactly the library modules its command can import."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from tests.conftest import REPO
from transferlab.code_digest import (
    command_digest,
    command_modules,
    digest_of_modules,
    module_closure,
    module_file,
)

RULES = REPO / "workflow" / "rules"


def rule_commands() -> dict[str, str]:
    """rule name -> the transferlab command its digest is taken for, checked against the
    command its shell runs (a rule must never digest another command's imports)."""
    commands = {}
    for path in sorted(RULES.glob("*.smk")):
        text = path.read_text()
        for block in re.split(r"(?m)^\s*rule\b", text)[1:]:
            name = block.split(":", 1)[0].strip() or re.search(r'f"([\w{}]+)"', block).group(1)
            digested = re.findall(r'command_digest\("([a-z0-9-]+)"\)', block)
            runs = re.findall(r"python -m transferlab ([a-z0-9-]+)", block)
            if not runs:
                continue
            assert digested == runs[:1], f"{path.name}: rule {name} digests {digested}, runs {runs}"
            commands[name] = runs[0]
    return commands


def test_every_rule_running_library_code_digests_its_own_command() -> None:
    commands = rule_commands()
    assert {"train", "attack", "measure", "similarity", "table7", "figures"} <= set(
        commands.values()
    )
    assert len(commands) >= 15


def all_modules(root) -> list[str]:
    names = []
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def test_a_package_re_exporting_its_modules_names_brings_every_module_it_imports() -> None:
    """cli imports check_claims from the claims package, whose __init__ re-exports it from
    claims.verdicts: the closure follows the package's imports into its submodules."""
    root = REPO / "src" / "transferlab"
    closure = command_modules("claims", root)
    submodules = {
        f"transferlab.explain.claims.{p.stem}"
        for p in (root / "explain" / "claims").glob("[!_]*.py")
    }
    assert len(submodules) >= 8
    assert submodules | {"transferlab.explain.claims"} <= closure
    assert "transferlab.explain.claims.verdicts" not in command_modules("train", root)


@pytest.mark.slow
def test_a_content_edit_changes_exactly_the_digests_of_commands_importing_it(tmp_path) -> None:
    root = tmp_path / "transferlab"
    shutil.copytree(REPO / "src" / "transferlab", root, ignore=shutil.ignore_patterns("*.pyc"))
    commands = sorted(set(rule_commands().values()))
    before = {c: command_digest(c, root) for c in commands}
    closures = {c: command_modules(c, root) for c in commands}
    for module in all_modules(root):
        path = module_file(module, root)
        original = path.read_bytes()
        path.write_bytes(original + b"\n# a real content change\n")
        try:
            for command in commands:
                changed = command_digest(command, root) != before[command]
                assert changed == (module in closures[command]), (module, command)
        finally:
            path.write_bytes(original)
    # similarity uses smoothness; asr-figure's plots use the shared frame checks
    assert "transferlab.metrics.smoothness" in closures["similarity"]
    assert "transferlab.frames" in closures["asr-figure"]
    assert "transferlab.report.plots" not in closures["train"]


@pytest.mark.integration
def test_every_job_imported_only_modules_of_its_digest(tiny_workflow_run) -> None:
    """Independent of the static reading: what each real job of the tiny run imported."""
    lines = (tiny_workflow_run / "imports.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert {r["command"] for r in records} >= {"train", "attack", "measure", "similarity"}
    for record in records:
        closure = command_modules(record["command"])
        outside = sorted(set(record["modules"]) - closure)
        assert not outside, f"{record['command']} imported {outside}, missing from its digest"


def test_a_module_whose_constants_are_imported_is_in_the_closure(tmp_path) -> None:
    """``from transferlab.limits import LIMIT`` inside a function: LIMIT's value is in
    limits.py, so editing it must change the digest (limits' own functions do not run)."""
    root = tmp_path / "transferlab"
    root.mkdir()
    (root / "__init__.py").write_text("")
    (root / "limits.py").write_text("LIMIT = 3\n\n\ndef helper():\n    import transferlab.heavy\n")
    (root / "heavy.py").write_text("")
    (root / "user.py").write_text("def f():\n    from transferlab.limits import LIMIT\n")
    closure = module_closure(["transferlab.user"], root)
    assert "transferlab.limits" in closure
    assert "transferlab.heavy" not in closure  # only limits' top level runs
    before = digest_of_modules(closure, root)
    (root / "limits.py").write_text("LIMIT = 4\n\n\ndef helper():\n    import transferlab.heavy\n")
    assert digest_of_modules(closure, root) != before
