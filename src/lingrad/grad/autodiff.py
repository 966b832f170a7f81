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


def penalty(regularizer: Regularizer, W: Tensor, lam: float = 1.0, V: Tensor | None = None):
    """``lam * R(W)`` as a graph: ``lam * (l1_ratio * sum|V| + (1 - l1_ratio) * 0.5 * sum V^2)``
    over ``V = W[:-1]`` (or all of ``W`` with ``include_bias``); ``None`` for no penalty.

    ``V`` may pass in an existing ``W[:-1]`` node to share it with the scores. The constant
    factors are multiplied out in Python, so each term costs three nodes.
    """
    if regularizer.name == "none" or lam == 0:
        return None
    if regularizer.include_bias:
        V = W
    elif V is None:
        V = W[:-1]
    terms = []
    if regularizer.l1_ratio > 0:
        terms.append((lam * regularizer.l1_ratio) * abs(V).sum(dtype=np.float64))
    if regularizer.l1_ratio < 1:
        terms.append((lam * (1.0 - regularizer.l1_ratio) * 0.5) * (V * V).sum(dtype=np.float64))
    return terms[0] if len(terms) == 1 else terms[0] + terms[1]


def objective_graph(objective: Objective, W: Tensor, rows=None) -> Tensor:
    """``J(W)`` over the examples ``rows`` (all by default) as a scalar float64 tensor.

    ``W`` is a tensor of shape ``(D + 1, C)`` in X's dtype whose targets the objective has
    already validated (:meth:`Objective._check`).
    """
    X, T, w = batch(objective, W.shape[1], rows)
    weights = W[:-1]
    S = X @ weights + W[-1]
    per_example = ad_losses.get(objective.loss_spec.name)(S, T, **objective.loss_params)
    if w is None:
        J = per_example.sum(dtype=np.float64) * (1.0 / X.shape[0])
    else:
        J = (per_example * (w / w.sum(dtype=np.float64))).sum(dtype=np.float64)
    R = penalty(objective.regularizer, W, objective.lam, weights)
    return J if R is None else J + R


def value_and_grad(objective: Objective) -> Callable:
    """``(W, rows=None) -> (J(W), dJ/dW)`` by reverse-mode automatic differentiation."""

    def autodiff(W, rows=None):
        W = Tensor(objective._check(W), requires_grad=True)
        J = objective_graph(objective, W, rows)
        J.backward()
        return float(J.data), W.grad

    return autodiff
