"""The package's three floors, read from the source (an AST walk, imports inside functions
included): depmeta.stats (the engine) imports nothing from depmeta.review or depmeta.report,
depmeta.review nothing from depmeta.report, no module imports the workflow's scripts, and no
two modules import each other, directly or through others."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conftest import ROOT

PACKAGE = ROOT / "src" / "depmeta"
#: depmeta.cli, the command (init, validate), sits on top: it reads and writes files, nothing imports it.
FLOORS = {"stats": 0, "review": 1, "report": 2, "cli": 3}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """depmeta modules a file imports (``from depmeta.x import y`` counts as depmeta.x, or as
    depmeta.x.y where that is a module)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        out |= {n for n in names if n.split(".")[0] == "depmeta" and n in MODULES}
    return out


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
GRAPH = {m: _imports(p) - {m} for m, p in MODULES.items()}


def _floor(module: str) -> int | None:
    parts = module.split(".")
    return FLOORS.get(parts[1]) if len(parts) > 1 else None


def test_every_module_lives_on_a_floor():
    loose = sorted(m for m in MODULES if _floor(m) is None and m != "depmeta")
    assert not loose, f"modules outside depmeta.stats, depmeta.review and depmeta.report: {loose}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_go_only_downward(module):
    mine = _floor(module)
    if mine is None:  # the package's front door re-exports the engine
        assert all(_floor(m) == 0 for m in GRAPH[module] if m != "depmeta"), GRAPH[module]
        return
    up = sorted(m for m in GRAPH[module] if m == "depmeta" or (_floor(m) or 0) > mine)
    assert not up, f"{module} (floor {mine}) imports from a higher floor: {up}"


def test_no_import_cycles():
    state, stack, cycles = {}, [], []

    def visit(m):
        state[m] = "open"
        stack.append(m)
        for n in sorted(GRAPH[m]):
            if n == "depmeta":
                continue
            if state.get(n) == "open":
                cycles.append(stack[stack.index(n):] + [n])
            elif n not in state:
                visit(n)
        stack.pop()
        state[m] = "done"

    for m in sorted(MODULES):
        if m not in state:
            visit(m)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_the_engine_uses_no_pandas_io_or_plotting():
    """The engine takes arrays: no file I/O, no matplotlib, no review vocabulary in it."""
    for m, path in MODULES.items():
        if _floor(m) != 0:
            continue
        tree = ast.parse(path.read_text())
        names = {a.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names}
        names |= {node.module.split(".")[0] for node in ast.walk(tree)
                  if isinstance(node, ast.ImportFrom) and node.module}
        assert not names & {"matplotlib", "yaml", "json", "openpyxl", "pathlib"}, (m, names)
