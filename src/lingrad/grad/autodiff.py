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

    Examples:
        >>> from lingrad.regularizers import l2
        >>> W = Tensor(np.array([[3.0], [4.0], [10.0]]), requires_grad=True)   # bias row last
        >>> R = penalty(l2(), W, lam=2.0)
        >>> R.backward()
        >>> R.item(), W.grad.ravel()
        (25.0, array([6., 8., 0.]))
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


def _data_term(objective: Objective, W: Tensor, weights: Tensor, X, T, w, total_weight):
    """``sum_i s_i L(S_i, y_i)`` over the rows of ``X`` with ``s_i = w_i / total_weight`` (or
    ``1 / total_weight``): the mean loss's share of these rows, as a graph."""
    S = X @ weights + W[-1]
    per_example = ad_losses.get(objective.loss_spec.name)(S, T, **objective.loss_params)
    if w is None:
        return per_example.sum(dtype=np.float64) * (1.0 / total_weight)
    return (per_example * (w / total_weight)).sum(dtype=np.float64)


def objective_graph(objective: Objective, W: Tensor, rows=None) -> Tensor:
    """``J(W)`` over the examples ``rows`` (all by default) as one scalar float64 tensor.

    ``W`` is a tensor of shape ``(D + 1, C)`` in X's dtype whose targets the objective has
    already validated (:meth:`Objective._check`).

    Examples:
        >>> from lingrad.objective import Objective
        >>> obj = Objective("softmax", np.eye(2), np.array([0, 1]))
        >>> W = np.zeros((3, 2))
        >>> _ = obj.value(W)                   # validates and caches the targets
        >>> J = objective_graph(obj, Tensor(W, requires_grad=True))
        >>> round(J.item(), 4)                 # ln 2 at zero weights
        0.6931
    """
    X, T, w = batch(objective, W.shape[1], rows)
    total_weight = X.shape[0] if w is None else w.sum(dtype=np.float64)
    weights = W[:-1]
    J = _data_term(objective, W, weights, X, T, w, total_weight)
    R = penalty(objective.regularizer, W, objective.lam, weights)
    return J if R is None else J + R


def value_and_grad(objective: Objective) -> Callable:
    """``(W, rows=None) -> (J(W), dJ/dW)`` by reverse-mode automatic differentiation.

    A mini-batch is one graph and one ``backward()``. A full pass goes over the objective's row
    blocks (as the analytic pass does, so that each block of ``X`` is still in cache for its
    gradient product): one graph per block, whose ``backward(accumulate=True)`` adds its share
    of ``dJ/dW``, then the regulariser's graph. The sum is the gradient of the whole ``J``.

    Examples:
        >>> from lingrad.objective import Objective
        >>> obj = Objective("softmax", np.eye(2), np.array([0, 1]))
        >>> J, dW = value_and_grad(obj)(np.zeros((3, 2)))
        >>> round(J, 4), dW.round(2).tolist()
        (0.6931, [[-0.25, 0.25], [0.25, -0.25], [0.0, 0.0]])
    """

    def autodiff(W, rows=None):
        W = Tensor(objective.check_weights(W), requires_grad=True)
        N = objective.n_samples if rows is None else None
        block = objective.rows_per_block() if rows is None else None
        if rows is not None or block >= N:
            J = objective_graph(objective, W, rows)
            J.backward()
            return float(J.data), W.grad
        X, T, w = batch(objective, W.shape[1])
        total_weight = N if w is None else w.sum(dtype=np.float64)
        weights, value = W[:-1], 0.0
        for start in range(0, N, block):
            part = slice(start, start + block)
            J = _data_term(
                objective,
                W,
                weights,
                X[part],
                T[part],
                None if w is None else w[part],
                total_weight,
            )
            J.backward(accumulate=start > 0)
            value += float(J.data)
        R = penalty(objective.regularizer, W, objective.lam, weights)
        if R is not None:
            R.backward(accumulate=True)
            value += float(R.data)
        return value, W.grad

    return autodiff
