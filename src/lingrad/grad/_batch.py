"""The rows of an objective's data that one gradient evaluation uses."""

from __future__ import annotations

from lingrad.objective import Objective


def batch(objective: Objective, n_classes: int, rows=None):
    """``(X, T, sample_weight)`` restricted to ``rows`` (a slice or index array; all if None).

    ``T`` are the validated targets for ``n_classes`` score columns; ``sample_weight`` may be
    ``None``. Assumes :meth:`Objective._check` has already run (the targets are cached).

    Examples:
        >>> import numpy as np
        >>> from lingrad.objective import Objective
        >>> obj = Objective("svm", np.eye(3), np.array([0, 1, 2]))
        >>> _ = obj.value(np.zeros((4, 3)))          # validates and caches the targets
        >>> X, T, w = batch(obj, 3, rows=slice(0, 2))
        >>> X.shape, T.tolist(), w
        ((2, 3), [0, 1], None)
    """
    X = objective.X if rows is None else objective.X[rows]
    T = objective.targets(n_classes)
    w = objective.sample_weight
    if rows is not None:
        T = T[rows]
        w = None if w is None else w[rows]
    return X, T, w


__all__ = ["batch"]
