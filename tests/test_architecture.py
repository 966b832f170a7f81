"""The shape of the source tree: no module reaches into another's private names, no import cycles,
and the autodiff engine stands on its own.

These walk the AST of ``src/lingrad`` (nothing is imported), so a violation names the file and line.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "lingrad"
MODULES = sorted(SRC.rglob("*.py"))


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


#: The public methods of ``typing.NamedTuple`` (an underscore keeps them apart from the fields).
NAMEDTUPLE_API = {"_fields", "_asdict", "_replace", "_make", "_field_defaults"}


GRAPH_NODES = {module_name(p) for p in MODULES}


def is_private(name: str) -> bool:
    dunder = name.startswith("__") and name.endswith("__")
    return name.startswith("_") and not dunder and name not in NAMEDTUPLE_API


def defined_names(tree: ast.AST) -> set[str]:
    """Every name a module defines: functions, classes, assignments, attributes set on ``self``
    (or any object) and parameters, so that a module may use its own private names freely."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def private_uses(path: Path) -> list[str]:
    """``from lingrad.x import _y`` and ``something._y`` where ``_y`` is not this module's own."""
    tree = ast.parse(path.read_text(), filename=str(path))
    own = defined_names(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("lingrad"):
            found += [
                f"{path.name}:{node.lineno} imports {node.module}.{a.name}"
                for a in node.names
                # a private module (lingrad._validation) is shared by design; its names are not
                if is_private(a.name) and f"{node.module}.{a.name}" not in GRAPH_NODES
            ]
        elif isinstance(node, ast.Attribute) and is_private(node.attr) and node.attr not in own:
            found.append(f"{path.name}:{node.lineno} uses .{node.attr}")
    return found


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_no_module_uses_another_modules_private_names(path):
    assert private_uses(path) == []


def test_the_private_name_check_can_fail(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from lingrad.model import _x\nimport lingrad\nlingrad.objective._check(1)\n")
    assert private_uses(bad) == ["bad.py:1 imports lingrad.model._x", "bad.py:3 uses ._check"]


def imports_of(path: Path) -> set[str]:
    """The lingrad modules that ``path`` imports at module level or inside functions."""
    tree = ast.parse(path.read_text(), filename=str(path))
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("lingrad")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            if not base.startswith("lingrad"):
                continue
            for a in node.names:
                sub = f"{base}.{a.name}"
                out.add(sub if sub in GRAPH_NODES else base)
    return {m for m in out if m != me}


def import_graph() -> dict[str, set[str]]:
    graph = {}
    for path in MODULES:
        # a package's __init__ re-exports its modules: an edge into the package is an edge into
        # whichever submodule it names, so resolve ``lingrad.x`` to itself only
        graph[module_name(path)] = {m for m in imports_of(path) if m in GRAPH_NODES}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle between modules (ignoring a package's imports of its own submodules and
    a submodule's import of its parent package's name), or ``None``."""
    colour, stack = {}, []

    def visit(node):
        colour[node] = "grey"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt.startswith(node + ".") or node.startswith(nxt + "."):
                continue
            if colour.get(nxt) == "grey":
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in colour and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        colour[node] = "black"
        return None

    for node in sorted(graph):
        if node not in colour and (cycle := visit(node)):
            return cycle
    return None


def test_no_import_cycle_in_src():
    assert find_cycle(import_graph()) is None


def test_the_cycle_check_can_fail():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_autodiff_imports_only_itself_and_the_input_checks():
    allowed = {"lingrad._validation"}
    for path in sorted((SRC / "autodiff").rglob("*.py")):
        outside = {
            m for m in imports_of(path) if not m.startswith("lingrad.autodiff") and m != "lingrad"
        }
        assert outside <= allowed, f"{path.name} imports {sorted(outside - allowed)}"
