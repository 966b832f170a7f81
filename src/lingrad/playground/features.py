"""The playground's feature maps: the model stays linear, in mapped features of ``(x1, x2)``.

``expand(X, names)`` appends the columns named in ``names`` (in the order of :data:`FEATURES`)
to the two input coordinates, so ``W`` has ``2 + len(names) + 1`` rows (the bias last). A
linear classifier on ``[x1, x2, x1*x2]`` separates XOR; its regions, drawn in the input plane,
are curved (the lecture's "linear in what space?").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from lingrad._validation import fail

#: name -> the map of the input columns ``(x1, x2)`` to the new column, shape ``(N,)``.
FEATURES: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "x1^2": lambda x1, x2: x1 * x1,
    "x2^2": lambda x1, x2: x2 * x2,
    "x1*x2": lambda x1, x2: x1 * x2,
    "sin x1": lambda x1, x2: np.sin(x1),
    "sin x2": lambda x1, x2: np.sin(x2),
}


def ordered(names: Sequence[str]) -> list[str]:
    """``names`` in the order of :data:`FEATURES`; an unknown or repeated name is refused.

    Examples:
        >>> ordered(["x1*x2", "x1^2"])
        ['x1^2', 'x1*x2']
    """
    for name in names:
        if name not in FEATURES:
            fail("features", f"names among {list(FEATURES)}", repr(name))
    if len(set(names)) != len(names):
        fail("features", "each name at most once", list(names))
    return [name for name in FEATURES if name in names]


def expand(X: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """``[x1, x2, f(x1, x2) for f in names]``: shape ``(N, 2)`` -> ``(N, 2 + len(names))``.

    Examples:
        >>> expand(np.array([[2.0, 3.0]]), ["x1*x2", "x2^2"]).tolist()
        [[2.0, 3.0, 9.0, 6.0]]
    """
    x1, x2 = X[:, 0], X[:, 1]
    columns = [FEATURES[name](x1, x2) for name in ordered(names)]
    return np.column_stack([X, *columns]) if columns else X
