"""Every public function and class of lingrad documents itself, with a runnable example.

A name is public when it does not start with ``_`` and is defined in the module that holds it
(re-exports are checked where they are defined). Every such name needs a docstring; outside
the command line (``lingrad.cli``) and the private validation helpers (``lingrad._validation``)
the docstring must also carry a ``>>>`` example, which pytest runs as a doctest
(``--doctest-modules`` over ``src/lingrad``).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import lingrad

#: Modules whose docstrings need no ``>>>`` example (a docstring is still required).
NO_EXAMPLE_NEEDED = ("lingrad.cli", "lingrad._validation")


def module_names() -> list[str]:
    """Every importable module of the package (the playground's static files are not
    modules; ``__main__`` would run the command line)."""
    names = ["lingrad"]
    for info in pkgutil.walk_packages(lingrad.__path__, "lingrad."):
        if info.name.rsplit(".", 1)[-1] == "__main__":
            continue
        names.append(info.name)
    return names


def public_objects(module) -> list[tuple[str, object]]:
    """The public functions and classes defined in ``module`` (not imported into it)."""
    found = []
    for name, obj in vars(module).items():
        if name.startswith("_"):
            continue
        if not (inspect.isfunction(obj) or inspect.isclass(obj)):
            continue
        if getattr(obj, "__module__", None) != module.__name__:
            continue
        found.append((name, obj))
    return found


def needs_example(module_name: str) -> bool:
    return not any(
        module_name == prefix or module_name.startswith(prefix + ".")
        for prefix in NO_EXAMPLE_NEEDED
    )


MODULES = module_names()


def test_the_walk_finds_the_package():
    # a broken walk (e.g. a renamed package) would make every other test vacuous
    assert {"lingrad.model", "lingrad.losses", "lingrad.cli.train"} <= set(MODULES)
    assert "lingrad.playground.compute" in MODULES
    assert not any(name.endswith("__main__") for name in MODULES)
    assert sum(len(public_objects(importlib.import_module(m))) for m in MODULES) > 150


@pytest.mark.parametrize("module_name", MODULES)
def test_public_names_have_docstrings_and_examples(module_name):
    module = importlib.import_module(module_name)
    no_doc, no_example = [], []
    for name, obj in public_objects(module):
        doc = inspect.getdoc(obj) or ""
        if not doc.strip():
            no_doc.append(name)
        elif needs_example(module_name) and ">>>" not in doc:
            no_example.append(name)
    assert not no_doc, f"{module_name}: public names without a docstring: {no_doc}"
    assert not no_example, f"{module_name}: docstrings without a '>>>' example: {no_example}"


def test_the_checks_catch_a_missing_docstring_and_example():
    # the predicates above, applied to a module built here, flag what they should
    import types

    module = types.ModuleType("lingrad.fake")

    def documented():
        """Has an example.

        >>> 1 + 1
        2
        """

    def bare():
        pass

    def prose_only():
        """No example here."""

    for f in (documented, bare, prose_only):
        f.__module__ = module.__name__
        setattr(module, f.__name__, f)
    module._private = bare  # private names are not checked
    found = dict(public_objects(module))
    assert set(found) == {"documented", "bare", "prose_only"}
    assert not inspect.getdoc(found["bare"])
    assert ">>>" not in inspect.getdoc(found["prose_only"])
    assert needs_example("lingrad.fake")
    assert not needs_example("lingrad.cli.train") and not needs_example("lingrad._validation")
    assert needs_example("lingrad.client_side")  # a prefix match is by whole module names
