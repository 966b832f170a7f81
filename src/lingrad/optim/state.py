"""Optimiser states to arrays and JSON scalars and back, for checkpoints (no pickle).

A state is a named tuple (or plain tuple) whose fields are arrays, ``None``, booleans, ints,
floats or nested tuples. :func:`state_to_arrays` splits it into arrays keyed by the dotted
path of their field (``"velocity"``, ``"plateau.best"``, ``"0.m"`` in a plain tuple) and a
nested dict of the rest, ready for :func:`json.dumps` (non-finite floats as the strings
``"inf"``, ``"-inf"``, ``"nan"``, which strict JSON can store); :func:`state_from_arrays`
rebuilds the state exactly, the types of its tuples taken from a template (``opt.init(W)``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, TypeVar

import numpy as np

from lingrad._validation import fail

#: an optimiser state: a (named) tuple
_StateT = TypeVar("_StateT", bound=tuple[Any, ...])

_NON_FINITE = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}


def _names(state: tuple[Any, ...]) -> list[str]:
    return list(getattr(state, "_fields", None) or map(str, range(len(state))))


def _scalar(path: str, value: object) -> bool | int | float | str | None:
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    fail(f"optimizer state {path}", "arrays, numbers, None or tuples", type(value).__name__)


def state_to_arrays(state: tuple[Any, ...]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """``(arrays, scalars)``: the state's arrays by dotted field path and the rest as a
    JSON-ready nested dict.

    Examples:
        >>> from lingrad.optim import SGD, ReduceOnPlateau
        >>> opt = SGD(ReduceOnPlateau(0.1), momentum=0.9)
        >>> arrays, scalars = state_to_arrays(opt.init(np.zeros(2)))
        >>> arrays
        {'velocity': array([0., 0.])}
        >>> scalars
        {'count': 0, 'plateau': {'learning_rate': 0.1, 'best': 'inf', 'wait': 0}}
    """
    arrays: dict[str, np.ndarray] = {}

    def walk(node: tuple[Any, ...], prefix: str) -> dict[str, Any]:
        scalars: dict[str, Any] = {}
        for name, value in zip(_names(node), node, strict=True):
            path = prefix + name
            if isinstance(value, np.ndarray):
                arrays[path] = value
            elif isinstance(value, tuple):
                scalars[name] = walk(value, path + ".")
            else:
                scalars[name] = _scalar(path, value)
        return scalars

    if not isinstance(state, tuple):
        fail("optimizer state", "a named tuple", type(state).__name__, TypeError)
    return arrays, walk(state, "")


def state_from_arrays(
    template: _StateT, arrays: Mapping[str, np.ndarray], scalars: Mapping[str, Any]
) -> _StateT:
    """The state :func:`state_to_arrays` split, its tuple types those of ``template``.

    A field that is ``None`` in the template may come back as an array (e.g. a genetic search's
    population, created by its first update).

    Examples:
        >>> from lingrad.optim import Adam
        >>> opt = Adam(0.1)
        >>> W = np.zeros(2)
        >>> _, state = opt.update(np.array([1.0, -2.0]), opt.init(W), W)
        >>> back = state_from_arrays(opt.init(W), *state_to_arrays(state))
        >>> back.count, bool((back.m == state.m).all() and (back.v == state.v).all())
        (1, True)
    """

    def build(node: Any, saved: Mapping[str, Any], prefix: str) -> Any:
        values: list[Any] = []
        for name, value in zip(_names(node), node, strict=True):
            path = prefix + name
            if path in arrays:
                values.append(np.asarray(arrays[path]))
            elif isinstance(value, tuple):
                values.append(build(value, saved[name], path + "."))
            else:
                stored = saved[name]
                values.append(_NON_FINITE[stored] if isinstance(stored, str) else stored)
        return type(node)(*values) if hasattr(node, "_fields") else tuple(values)

    return build(template, scalars, "")
