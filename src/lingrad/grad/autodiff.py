"""The gradient by automatic differentiation: the whole objective runs through the engine.

``J(W) = mean_i L(S_i, y_i) + lam * R(W)`` with ``S = X @ W[:-1] + W[-1]`` is built from the
primitives of :mod:`lingrad.autodiff` (the scores, the loss's form in :data:`FORMS` with its
options and sample weights, the regulariser with its bias-row rule) and ``backward()`` returns
``dJ/dW``. Nothing here is derived by hand; the result equals the
analytic gradient to rounding. Lean on purpose: ``X`` is a constant (never copied, its ``N x D``
gradient never computed), float32 stays float32, and the graph has a fixed number of nodes
whatever ``N``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from lingrad.autodiff import Tensor
from lingrad.autodiff import functions as F
from lingrad.grad.method import Forms, ValueAndGrad, batch, checked
from lingrad.objective import Objective, Rows
from lingrad.regularizers import Regularizer

# ------------------------------------------------------------------------------------------
# The losses, written with the engine's primitives
# ------------------------------------------------------------------------------------------
#
# Each form takes the scores ``S`` as a Tensor of shape ``(N, C)`` and the targets ``T`` as
# ``lingrad.losses.spec(name).prepare`` gives them (constants), and returns the per-example
# losses ``L_i`` as a tensor of shape ``(N,)``, summed over the classes in float64 like the
# analytic kernels. No gradient is written here: ``backward()`` derives it from the
# primitives' VJPs (compare with the hand-derived kernels in :mod:`lingrad.losses`).

#: The autodiff form of each loss, by its registry name.
FORMS = Forms("autodiff")
_F64 = np.float64


def _one_hot(y: npt.NDArray[np.intp], shape: tuple[int, ...]) -> npt.NDArray[np.bool_]:
    mask = np.zeros(shape, dtype=bool)
    np.put_along_axis(mask, y[:, None], True, axis=1)
    return mask


def _margins(S: Tensor, y: npt.NDArray[np.intp], margin: float) -> Tensor:
    """``relu(S_ij - S_iy_i + margin)`` for every ``j``, the ``j = y_i`` term included: it is
    exactly ``margin`` and its gradient cancels (``+1 - 1``), so no ``N x C`` mask is needed."""
    return F.relu(S - F.reshape(F.pick(S, y), (-1, 1)) + margin)


@FORMS.register("hinge")
def hinge(S: Tensor, y: npt.NDArray[np.intp], margin: float = 1.0) -> Tensor:
    """``L_i = sum_{j != y_i} max(0, S_ij - S_iy_i + margin)``, as ``sum_j relu(..) - margin``.

    Examples:
        >>> S = Tensor(np.array([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]]))
        >>> np.round(hinge(S, np.array([0, 1, 2])).data, 1)       # the slide's SVM table
        array([ 2.9,  0. , 12.9])
    """
    M = _margins(S, y, margin)
    return M.sum(axis=1, dtype=_F64) - float(S.dtype.type(margin))  # the margin as S stores it


@FORMS.register("squared_hinge")
def squared_hinge(S: Tensor, y: npt.NDArray[np.intp], margin: float = 1.0) -> Tensor:
    """``L_i = sum_{j != y_i} max(0, S_ij - S_iy_i + margin)^2``, as ``sum_j relu(..)^2 -
    margin^2``.

    Examples:
        >>> S = Tensor(np.array([[0.0, 0.5]]), requires_grad=True)
        >>> L = squared_hinge(S, np.array([0]))
        >>> L.backward()
        >>> L.data, S.grad                                 # m = 1.5: L = 2.25, 2 m = 3
        (array([2.25]), array([[-3.,  3.]]))
    """
    M = _margins(S, y, margin)
    m = S.dtype.type(margin)
    return (M * M).sum(axis=1, dtype=_F64) - float(m * m)


@FORMS.register("crammer_singer")
def crammer_singer(S: Tensor, y: npt.NDArray[np.intp], margin: float = 1.0) -> Tensor:
    """``L_i = max(0, max_{j != y_i} S_ij - S_iy_i + margin)``.

    Examples:
        >>> S = Tensor(np.array([[3.2, 5.1, 4.0]]), requires_grad=True)
        >>> L = crammer_singer(S, np.array([0]))            # only the worst wrong class counts
        >>> L.backward()
        >>> np.round(L.data, 1), S.grad
        (array([2.9]), array([[-1.,  1.,  0.]]))
    """
    others = F.where(_one_hot(y, S.shape), -np.inf, S)
    return F.relu(F.max(others, axis=1) - F.pick(S, y) + margin)


@FORMS.register("one_vs_all_hinge")
def one_vs_all_hinge(S: Tensor, y: npt.NDArray[np.intp], margin: float = 1.0) -> Tensor:
    """``L_i = sum_j max(0, margin - t_ij S_ij)`` with ``t_ij = +1`` if ``j == y_i`` else ``-1``.

    Examples:
        >>> S = Tensor(np.array([[0.5, -2.0]]), requires_grad=True)
        >>> L = one_vs_all_hinge(S, np.array([0]))
        >>> L.backward()
        >>> L.data, S.grad
        (array([0.5]), array([[-1.,  0.]]))
    """
    T = np.where(_one_hot(y, S.shape), 1, -1).astype(S.dtype)
    return F.relu(margin - S * T).sum(axis=1, dtype=_F64)


@FORMS.register("softmax_cross_entropy")
def softmax_cross_entropy(
    S: Tensor, y: npt.NDArray[np.intp], label_smoothing: float = 0.0
) -> Tensor:
    """``L_i = -sum_j q_ij log softmax(S_i)_j`` with ``q = (1 - eps) onehot(y_i) + eps / C``.

    Examples:
        >>> S = Tensor(np.array([[3.2, 5.1, -1.7]]), requires_grad=True)
        >>> L = softmax_cross_entropy(S, np.array([0]))
        >>> L.backward()
        >>> np.round(L.data, 2), np.round(S.grad, 3)
        (array([2.04]), array([[-0.87 ,  0.869,  0.001]]))
    """
    log_p = F.log_softmax(S, axis=1)
    if label_smoothing == 0:
        return -F.pick(log_p, y)
    Q = np.full(S.shape, label_smoothing / S.shape[1], dtype=S.dtype)
    Q[np.arange(S.shape[0]), y] += 1.0 - label_smoothing
    return -(log_p * Q).sum(axis=1, dtype=_F64)


@FORMS.register("kl_divergence")
def kl_divergence(S: Tensor, P: npt.NDArray[np.floating]) -> Tensor:
    """``L_i = sum_j P_ij log P_ij - sum_j P_ij log softmax(S_i)_j`` (``0 log 0 = 0``).

    Examples:
        >>> S = Tensor(np.zeros((1, 2)), requires_grad=True)
        >>> L = kl_divergence(S, np.array([[0.9, 0.1]]))
        >>> L.backward()
        >>> np.round(L.data, 4), np.round(S.grad, 2)
        (array([0.3681]), array([[-0.4,  0.4]]))
    """
    entropy = (P * np.log(np.where(P > 0, P, 1))).sum(axis=1, dtype=_F64)
    return entropy - (F.log_softmax(S, axis=1) * P).sum(axis=1, dtype=_F64)


@FORMS.register("logistic")
def logistic(S: Tensor, T: npt.NDArray[np.floating]) -> Tensor:
    """``L_i = log(1 + e^{s_i}) - t_i s_i``, with the stable ``softplus`` primitive.

    Examples:
        >>> S = Tensor(np.zeros((2, 1)), requires_grad=True)
        >>> L = logistic(S, np.array([[1.0], [0.0]]))
        >>> L.sum().backward()
        >>> np.round(L.data, 4), S.grad.ravel()
        (array([0.6931, 0.6931]), array([-0.5,  0.5]))
    """
    return (F.softplus(S) - S * T).sum(axis=1, dtype=_F64)


@FORMS.register("squared_error")
def squared_error(S: Tensor, Y: npt.NDArray[np.floating]) -> Tensor:
    """``L_i = sum_j (S_ij - Y_ij)^2``.

    Examples:
        >>> S = Tensor(np.array([[1.0, 2.0]]), requires_grad=True)
        >>> L = squared_error(S, np.array([[0.0, 4.0]]))
        >>> L.backward()
        >>> L.data, S.grad
        (array([5.]), array([[ 2., -4.]]))
    """
    return ((S - Y) ** 2).sum(axis=1, dtype=_F64)


@FORMS.register("sigmoid_squared_error")
def sigmoid_squared_error(S: Tensor, T: npt.NDArray[np.floating]) -> Tensor:
    """``L_i = sum_j (t_ij - sigmoid(S_ij))^2``: the lecture's sigmoid unit.

    Examples:
        >>> S = Tensor(np.zeros((1, 1)), requires_grad=True)
        >>> L = sigmoid_squared_error(S, np.array([[1.0]]))
        >>> L.backward()
        >>> L.data, S.grad
        (array([0.25]), array([[-0.25]]))
    """
    return ((T - F.sigmoid(S)) ** 2).sum(axis=1, dtype=_F64)


# ------------------------------------------------------------------------------------------
# The objective as a graph
# ------------------------------------------------------------------------------------------


def penalty(
    regularizer: Regularizer, W: Tensor, lam: float = 1.0, V: Tensor | None = None
) -> Tensor | None:
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


def _loss_of(objective: Objective) -> Callable[..., Tensor]:
    """The objective's loss as a graph builder ``(S, T) -> L_i``, its options bound."""
    form = FORMS.get(objective.loss_spec.name)
    return functools.partial(form, **objective.loss_params)


def _data_term(loss: Callable, W: Tensor, weights: Tensor, X, T, w, total_weight):
    """``sum_i s_i L(S_i, y_i)`` over the rows of ``X`` with ``s_i = w_i / total_weight`` (or
    ``1 / total_weight``): the mean loss's share of these rows, as a graph."""
    S = X @ weights + W[-1]
    per_example = loss(S, T)
    if w is None:
        return per_example.sum(dtype=np.float64) * (1.0 / total_weight)
    return (per_example * (w / total_weight)).sum(dtype=np.float64)


def objective_graph(objective: Objective, W: Tensor, rows: Rows = None) -> Tensor:
    """``J(W)`` over the examples ``rows`` (all by default) as one scalar float64 tensor.

    ``W`` is a tensor of shape ``(D + 1, C)`` in X's dtype whose targets the objective has
    already validated (``objective.check_weights``).

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
    J = _data_term(_loss_of(objective), W, weights, X, T, w, total_weight)
    R = penalty(objective.regularizer, W, objective.lam, weights)
    return J if R is None else J + R


def value_and_grad(objective: Objective) -> ValueAndGrad:
    """``(W, rows=None) -> (J(W), dJ/dW)`` by reverse-mode automatic differentiation.

    A mini-batch is one graph and one ``backward()``. A full pass goes over the objective's row
    blocks (as the analytic pass does, so that each block of ``X`` is still in cache for its
    gradient product): one graph per block, whose ``backward(accumulate=True)`` adds its share
    of ``dJ/dW``, then the regulariser's graph. The sum is the gradient of the whole ``J``.

    Examples:
        >>> from lingrad.objective import Objective
        >>> obj = Objective("logistic", np.array([[1.0], [-1.0]]), np.array([1, 0]))
        >>> J, dW = value_and_grad(obj)(np.zeros((2, 1)))   # sigma(0) - y = -1/2, +1/2
        >>> round(J, 4), dW.ravel().tolist()
        (0.6931, [-0.5, 0.0])
    """

    loss = _loss_of(objective)  # a loss with no autodiff form is refused here

    def autodiff(W, rows=None):
        W = Tensor(W, requires_grad=True)
        N, block = objective.n_samples, objective.rows_per_block()
        if rows is not None or block >= N:
            J = objective_graph(objective, W, rows)
            J.backward()
            return float(J.data), W.grad
        X, T, w = batch(objective, W.shape[1])
        total_weight = N if w is None else w.sum(dtype=np.float64)
        weights, value = W[:-1], 0.0
        for start in range(0, N, block):
            part = slice(start, start + block)
            w_part = None if w is None else w[part]
            J = _data_term(loss, W, weights, X[part], T[part], w_part, total_weight)
            J.backward(accumulate=start > 0)
            value += float(J.data)
        R = penalty(objective.regularizer, W, objective.lam, weights)
        if R is not None:
            R.backward(accumulate=True)
            value += float(R.data)
        return value, W.grad

    return checked("autodiff", objective, autodiff)
