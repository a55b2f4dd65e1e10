"""Which library files a pipeline stage runs, read from their imports, and a digest of them.

Snakemake re-runs a job when its params change but does not follow the imports
of the command it runs. Each rule therefore passes ``command_digest(command)``
as a param: a sha256 over the names and contents of every transferlab module
the command can import. The set is derived, never listed by hand:

- ``command_modules(command)`` starts from the CLI's ``cmd_<command>``
  function in ``cli/commands.py`` (``prepare-data`` → ``cmd_prepare_data``): the
  modules imported in its body and in the bodies of the functions of that module it
  refers to, plus the module's own top-level imports and ``CLI_MODULES`` (``__main__``,
  ``cli``'s ``main`` and ``parser``: ``python -m transferlab``);
- ``module_closure`` then follows every ``import`` statement of each module —
  at module level *and* inside functions, because the library imports heavy
  dependencies lazily — and adds the parent packages whose ``__init__`` an
  import runs.

The closure is conservative (an import inside a function counts even if that
function is never called by the stage), so an edit can re-run a stage that did
not need it, but never miss one that did. Editing a module outside a command's
closure leaves its digest unchanged.
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Iterable
from functools import cache
from pathlib import Path

PACKAGE = "transferlab"


def package_root() -> Path:
    """The directory of the ``transferlab`` package that is imported (its ``__init__.py``)."""
    return Path(__file__).resolve().parent


def module_file(module: str, root: Path) -> Path | None:
    """The file of ``module`` (``transferlab.x.y``) under ``root``, or None if no such module."""
    parts = module.split(".")
    if parts[0] != PACKAGE:
        return None
    base = root.joinpath(*parts[1:])
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    candidate = base.with_suffix(".py")
    return candidate if candidate.is_file() else None


def _is_package(module: str, root: Path) -> bool:
    path = module_file(module, root)
    return path is not None and path.name == "__init__.py"


def _import_nodes(tree: ast.AST, *, executed_on_import: bool) -> list[ast.Import | ast.ImportFrom]:
    """The import statements in ``tree``: all of them, or (``executed_on_import``) only those
    that run when the module is imported (not inside function bodies)."""
    nodes: list[ast.Import | ast.ImportFrom] = []
    pending = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            nodes.append(node)
        skip = executed_on_import and isinstance(
            node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
        )
        if not skip:
            pending.extend(ast.iter_child_nodes(node))
    return nodes


def _imported_modules(
    tree: ast.AST, module: str, root: Path, *, executed_on_import: bool = False
) -> tuple[set[str], set[str]]:
    """transferlab modules named by the import statements inside ``tree``: (used, run only
    at their top level). A module from which only constants are imported is the second
    kind: its constants' values are in its file, so it belongs to the closure, but none
    of its functions run."""
    found: set[str] = set()
    top_level: set[str] = set()
    package = module if _is_package(module, root) else module.rpartition(".")[0]
    for node in _import_nodes(tree, executed_on_import=executed_on_import):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
            continue
        if node.level:
            anchor = package.split(".")
            anchor = anchor[: len(anchor) - (node.level - 1)]
            base = ".".join([*anchor, *([node.module] if node.module else [])])
        else:
            base = node.module or ""
        # ``from transferlab.data import cifar10`` imports a submodule, not a name; and
        # ``from transferlab import __version__`` a constant. Either way the module itself
        # only runs its top level, so the imports inside its functions enter the closure
        # only when one of its functions or classes is imported.
        names = [alias.name for alias in node.names]
        submodules = [f"{base}.{n}" for n in names if module_file(f"{base}.{n}", root)]
        found.update(submodules)
        others = [n for n in names if module_file(f"{base}.{n}", root) is None]
        if others:
            (found if _defines_callable(base, others, root) else top_level).add(base)
    return (
        {name for name in found if module_file(name, root) is not None},
        {name for name in top_level - found if module_file(name, root) is not None},
    )


def _defines_callable(module: str, names: list[str], root: Path) -> bool:
    """Whether ``module`` defines one of ``names`` (or ``*``) as something that may run code
    when used: a function or class, or a name it re-binds from elsewhere."""
    path = module_file(module, root)
    if path is None:
        return False
    if "*" in names:
        return True
    constants = set()
    for node in _parsed(path).body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        constants.update(t.id for t in targets if isinstance(t, ast.Name))
    return any(name not in constants for name in names)


def _parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _parsed(path: Path) -> ast.Module:
    stat = path.stat()
    return _parse(path, stat.st_mtime_ns, stat.st_size)


@cache
def _parse(path: Path, mtime_ns: int, size: int) -> ast.Module:
    # (mtime, size) in the key: an edited file is parsed again.
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def module_closure(
    modules: Iterable[str], root: Path | None = None, top_level: Iterable[str] = ()
) -> set[str]:
    """Every transferlab module that using ``modules`` can import, transitively.

    A module used directly contributes every import it contains (its functions
    may run); a package reached only as the parent of an imported submodule, and a
    module in ``top_level`` (only its constants are imported), contribute only what
    they import when executed.
    """
    root = root or package_root()
    pending = [(name, True) for name in modules] + [(name, False) for name in top_level]
    used: set[str] = set()
    parents_only: set[str] = set()
    while pending:
        name, direct = pending.pop()
        if name in used or (not direct and name in parents_only):
            continue
        path = module_file(name, root)
        if path is None:
            raise ValueError(f"{name}: no such module under {root}")
        (used if direct else parents_only).add(name)
        imported, constants_only = _imported_modules(
            _parsed(path), name, root, executed_on_import=not direct
        )
        pending.extend((child, True) for child in imported)
        pending.extend((child, False) for child in constants_only)
        pending.extend((parent, False) for parent in _parents(name))
    return used | parents_only


def command_function_name(command: str) -> str:
    """The CLI function that runs ``command``: ``prepare-data`` → ``cmd_prepare_data``."""
    return "cmd_" + command.replace("-", "_")


# Every command runs these: the entry point, main, the parser (its defaults are inputs too)
# and the commands module's top level.
CLI_MODULES = (
    f"{PACKAGE}.__main__",
    f"{PACKAGE}.cli",
    f"{PACKAGE}.cli.parser",
    f"{PACKAGE}.cli.commands",
)


def command_modules(command: str, root: Path | None = None) -> set[str]:
    """Every transferlab module ``python -m transferlab <command>`` can import."""
    root = root or package_root()
    commands_module = f"{PACKAGE}.cli.commands"
    commands_path = module_file(commands_module, root)
    if commands_path is None:
        raise ValueError(f"{root} has no cli/commands.py")
    tree = _parsed(commands_path)
    functions = {
        node.name: node
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    }
    entry = command_function_name(command)
    if entry not in functions:
        commands = sorted(n[4:].replace("_", "-") for n in functions if n.startswith("cmd_"))
        raise ValueError(
            f"unknown command {command!r}; cli/commands.py defines: {', '.join(commands)}"
        )
    # The entry function and the module's functions it calls (directly or through each other).
    reached, pending = set(), [entry]
    while pending:
        name = pending.pop()
        if name in reached:
            continue
        reached.add(name)
        referenced = {n.id for n in ast.walk(functions[name]) if isinstance(n, ast.Name)}
        pending.extend(sorted(referenced & set(functions) - reached))
    imported: set[str] = set()
    constants_only: set[str] = set()
    for node, on_import in [(functions[n], False) for n in reached] + [(tree, True)]:
        used, top_level = _imported_modules(
            node, commands_module, root, executed_on_import=on_import
        )
        imported |= used
        constants_only |= top_level
    # The cli modules are part of every command, but their other commands' imports are not.
    own = set(CLI_MODULES)
    closure = module_closure(imported - own, root, top_level=constants_only - own)
    return closure | own | set(_parents(commands_module))


def digest_of_modules(modules: Iterable[str], root: Path | None = None) -> str:
    """``sha256:<16 hex>`` over the relative paths and bytes of ``modules``' files, sorted."""
    root = root or package_root()
    digest = hashlib.sha256()
    for path in sorted(module_file(name, root) for name in modules):  # type: ignore[type-var]
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return f"sha256:{digest.hexdigest()[:16]}"


def command_digest(command: str, root: Path | None = None) -> str:
    """The digest of every module ``command`` can import (a rule's ``params.code``)."""
    root = root or package_root()
    return digest_of_modules(command_modules(command, root), root)
