"""A Griffe extension for the API reference: Sphinx roles in docstrings become cross-references.

The docstrings say ``:func:`fit```, ``:class:`~lingrad.optim.SGD``` or ``:mod:`lingrad.losses```
(Sphinx's roles, readable in ``help()``); Markdown would print them raw. At build time each role
``:kind:`target``` is resolved the way Sphinx does it, against the scope of the object whose
docstring holds it (its members, then its parents' and its module's names, imports included),
then against ``lingrad``'s own names, and becomes an optional mkdocs-autorefs reference to the
object's canonical path::

    <autoref identifier="lingrad.objective.Objective" optional><code>Objective</code></autoref>

autorefs turns it into a link when that object is rendered on some page, and into plain code
otherwise (a private module, a name from NumPy or the standard library): never a broken link,
never a warning under ``mkdocs build --strict``. ``~`` shows the last component only, and
``:func:`title <target>``` shows ``title``. The docstrings in ``src`` are not changed.
"""

from __future__ import annotations

import contextlib
import html
import logging
import re
from collections.abc import Iterator
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(func|class|mod|meth|attr|data|obj|exc|const):`([^`]+)`")
EXPLICIT_TITLE = re.compile(r"^(.*?)\s*<([^<>]+)>$")
ROOT = "lingrad"

_log = logging.getLogger("mkdocs.plugins.lingrad.docs_roles")


def _lookup(collection: Any, path: str) -> str | None:
    """The canonical path of the object at ``path`` in ``collection``, or None."""
    try:
        obj = collection[path]
        canonical = obj.canonical_path
    except Exception:  # KeyError, AliasResolutionError, CyclicAliasError: not ours to link
        return None
    return canonical if canonical.split(".")[0] == ROOT else None


def resolve(obj: Any, target: str) -> str | None:
    """The canonical path that ``target`` (a role's target) names in ``obj``'s scope, or None."""
    target = target.lstrip(".").removesuffix("()")
    first, _, rest = target.partition(".")
    candidates = []
    with contextlib.suppress(Exception):  # NameResolutionError: not a name in this scope
        candidates.append(obj.resolve(first) + (f".{rest}" if rest else ""))
    candidates += [target, f"{ROOT}.{target}"]
    collection = obj.modules_collection
    for path in candidates:
        if (found := _lookup(collection, path)) is not None:
            return found
    return None


def convert(text: str, obj: Any, unresolved: list[str] | None = None) -> str:
    """``text`` with each Sphinx role replaced by an optional autorefs reference (or code)."""

    def replace(match: re.Match[str]) -> str:
        body = match[2]
        if titled := EXPLICIT_TITLE.match(body):
            title, target = titled[1], titled[2]
        else:
            target = body
            title = body.lstrip("~").lstrip(".")
            if body.startswith("~"):
                title = title.rsplit(".", 1)[-1]
        target = target.lstrip("~")
        code = f"<code>{html.escape(title)}</code>"
        identifier = resolve(obj, target)
        if identifier is None:
            if unresolved is not None:
                unresolved.append(target)
            return code
        return f'<autoref identifier="{html.escape(identifier)}" optional>{code}</autoref>'

    return ROLE.sub(replace, text)


def _objects(obj: Any) -> Iterator[Any]:
    """``obj`` and every object defined in it (aliases, i.e. imports, are skipped)."""
    yield obj
    for member in obj.members.values():
        if not member.is_alias:
            yield from _objects(member)


class SphinxRoles(griffe.Extension):
    """Rewrites the Sphinx roles of every docstring in the ``lingrad`` package (see module)."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        """Once ``pkg`` is fully loaded (every name resolvable), rewrite its docstrings."""
        if pkg.name != ROOT:
            return
        total, unresolved = 0, []
        for obj in _objects(pkg):
            if obj.docstring is not None and ROLE.search(obj.docstring.value):
                total += len(ROLE.findall(obj.docstring.value))
                obj.docstring.value = convert(obj.docstring.value, obj, unresolved)
        _log.info(
            "docs_roles: %d Sphinx roles, %d outside lingrad shown as code: %s",
            total,
            len(unresolved),
            ", ".join(sorted(set(unresolved))),
        )
