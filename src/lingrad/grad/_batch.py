"""The rows of an objective's data that one gradient evaluation uses."""

from __future__ import annotations

from lingrad.objective import Objective


def batch(objective: Objective, n_classes: int, rows=None):
    """``(X, T, sample_weight)`` restricted to ``rows`` (a slice or index array; all if None).

    ``T`` are the validated targets for ``n_classes`` score columns; ``sample_weight`` may be
    ``None``. Assumes :meth:`Objective._check` has already run (the targets are cached).
    """
    X = objective.X if rows is None else objective.X[rows]
    T = objective._targets[n_classes]
    w = objective.sample_weight
    if rows is not None:
        T = T[rows]
        w = None if w is None else w[rows]
    return X, T, w


__all__ = ["batch"]
