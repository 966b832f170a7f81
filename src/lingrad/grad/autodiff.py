"""The gradient by automatic differentiation: the whole objective runs through the engine.

``J(W) = mean_i L(S_i, y_i) + lam * R(W)`` with ``S = X @ W[:-1] + W[-1]`` is built from the
primitives of :mod:`lingrad.autodiff` (the scores, the loss of :mod:`lingrad.autodiff.losses`
with its options and sample weights, the regulariser with its bias-row rule) and
``backward()`` returns ``dJ/dW``. Nothing here is derived by hand; the result equals the
analytic gradient to rounding. Lean on purpose: ``X`` is a constant (never copied, its ``N x D``
gradient never computed), float32 stays float32, and the graph has a fixed number of nodes
whatever ``N``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from lingrad.autodiff import Tensor
from lingrad.autodiff import losses as ad_losses
from lingrad.grad._batch import batch
from lingrad.objective import Objective
from lingrad.regularizers import Regularizer


def penalty(regularizer: Regularizer, W: Tensor) -> Tensor | float:
    """``R(W) = l1_ratio * sum|V| + (1 - l1_ratio) * 0.5 * sum V^2`` over ``V = W[:-1]`` (or
    all of ``W`` with ``include_bias``), as a graph; ``0.0`` for no penalty."""
    if regularizer.name == "none":
        return 0.0
    V = W if regularizer.include_bias else W[:-1]
    total = 0.0
    if regularizer.l1_ratio > 0:
        total = regularizer.l1_ratio * abs(V).sum(dtype=np.float64)
    if regularizer.l1_ratio < 1:
        total = total + (1.0 - regularizer.l1_ratio) * 0.5 * (V * V).sum(dtype=np.float64)
    return total


def objective_graph(objective: Objective, W: Tensor, rows=None) -> Tensor:
    """``J(W)`` over the examples ``rows`` (all by default) as a scalar float64 tensor.

    ``W`` is a tensor of shape ``(D + 1, C)`` in X's dtype whose targets the objective has
    already validated (:meth:`Objective._check`).
    """
    X, T, w = batch(objective, W.shape[1], rows)
    S = X @ W[:-1] + W[-1]
    per_example = ad_losses.get(objective.loss_spec.name)(S, T, **objective.loss_params)
    if w is None:
        J = per_example.sum(dtype=np.float64) * (1.0 / X.shape[0])
    else:
        J = (per_example * (w / w.sum(dtype=np.float64))).sum(dtype=np.float64)
    if objective.lam:
        J = J + objective.lam * penalty(objective.regularizer, W)
    return J


def value_and_grad(objective: Objective) -> Callable:
    """``(W, rows=None) -> (J(W), dJ/dW)`` by reverse-mode automatic differentiation."""

    def autodiff(W, rows=None):
        W = Tensor(objective._check(W), requires_grad=True)
        J = objective_graph(objective, W, rows)
        J.backward()
        return float(J.data), W.grad

    return autodiff
