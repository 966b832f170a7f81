"""Every public function and method of ``src/lingrad`` is fully annotated, so that the type
check (mypy, in ``make test``) checks what callers pass and get back.

Walks the AST (nothing is imported): a missing annotation names the file, line and argument.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "lingrad"
MODULES = sorted(SRC.rglob("*.py"))


def is_public(name: str) -> bool:
    return not name.startswith("_") or name == "__init__"


def unannotated(node: ast.FunctionDef | ast.AsyncFunctionDef, method: bool) -> list[str]:
    """The parameters (and ``return``) of ``node`` without an annotation."""
    args = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
    if method and args and args[0].arg in ("self", "cls"):
        args = args[1:]
    if node.args.vararg:
        args.append(node.args.vararg)
    if node.args.kwarg:
        args.append(node.args.kwarg)
    missing = [a.arg for a in args if a.annotation is None]
    if node.returns is None and node.name != "__init__":
        missing.append("return")
    return missing


def public_functions(tree: ast.Module):
    """``(node, is_method)`` for the module's public functions and its public classes' public
    methods (nested functions are implementation details)."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and is_public(node.name):
            yield node, False
        elif isinstance(node, ast.ClassDef) and is_public(node.name):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and is_public(
                    item.name
                ):
                    yield item, True


def missing_annotations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return [
        f"{path.name}:{node.lineno} {node.name}({', '.join(missing)})"
        for node, method in public_functions(tree)
        if (missing := unannotated(node, method))
    ]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_public_functions_are_fully_annotated(path):
    assert missing_annotations(path) == []


def test_the_annotation_check_can_fail(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "def f(x, y: int):\n    return x\n\n"
        "class A:\n    def g(self, z: int) -> int:\n        return z\n"
        "    def h(self, w):\n        pass\n\n"
        "def _private(x):\n    return x\n"
    )
    assert missing_annotations(bad) == ["bad.py:1 f(x, return)", "bad.py:7 h(w, return)"]
