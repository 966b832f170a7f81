"""Every loss of :mod:`lingrad.losses`, written with the primitives of the autodiff library.

Each function takes the scores ``S`` as a :class:`~lingrad.autodiff.Tensor` of shape ``(N, C)``
and the targets ``T`` as prepared by ``lingrad.losses.spec(name).prepare`` (constants), and
returns the per-example losses ``L_i`` as a tensor of shape ``(N,)``, summed over the classes in
float64 like the analytic kernels. No gradient is written here: ``backward()`` derives it from
the primitives' VJPs, which is the point (compare with the hand-derived kernels in
:mod:`lingrad.losses`).

Examples:
    >>> import numpy as np
    >>> from lingrad.autodiff import Tensor
    >>> S = Tensor(np.array([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]]))
    >>> np.round(hinge(S, np.array([0, 1, 2])).data, 1)       # the slide's SVM table
    array([ 2.9,  0. , 12.9])
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from lingrad import losses as _losses
from lingrad.autodiff import functions as F
from lingrad.autodiff.tensor import Tensor

_F64 = np.float64


def _one_hot(y, shape) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    np.put_along_axis(mask, y[:, None], True, axis=1)
    return mask


def hinge(S: Tensor, y, margin: float = 1.0) -> Tensor:
    """``L_i = sum_{j != y_i} max(0, S_ij - S_iy_i + margin)``.

    Written as ``sum_j relu(S_ij - S_iy_i + margin) - margin``: the ``j = y_i`` term is exactly
    ``margin`` and its gradient cancels (``+1 - 1``), so no ``N x C`` mask is needed.

    Examples:
        >>> S = Tensor(np.array([[3.2, 5.1, -1.7]]), requires_grad=True)
        >>> L = hinge(S, np.array([0]))
        >>> L.backward()
        >>> np.round(L.data, 1), S.grad
        (array([2.9]), array([[-1.,  1.,  0.]]))
    """
    correct = F.pick(S, y)
    M = F.relu(S - F.reshape(correct, (-1, 1)) + margin)
    return M.sum(axis=1, dtype=_F64) - float(S.dtype.type(margin))  # the margin as S stores it


def crammer_singer(S: Tensor, y, margin: float = 1.0) -> Tensor:
    """``L_i = max(0, max_{j != y_i} S_ij - S_iy_i + margin)``.

    Examples:
        >>> S = Tensor(np.array([[3.2, 5.1, -1.7]]), requires_grad=True)
        >>> L = crammer_singer(S, np.array([0]))
        >>> L.backward()
        >>> np.round(L.data, 1), S.grad
        (array([2.9]), array([[-1.,  1.,  0.]]))
    """
    others = F.where(_one_hot(y, S.shape), -np.inf, S)
    return F.relu(F.max(others, axis=1) - F.pick(S, y) + margin)


def one_vs_all_hinge(S: Tensor, y, margin: float = 1.0) -> Tensor:
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


def softmax_cross_entropy(S: Tensor, y, label_smoothing: float = 0.0) -> Tensor:
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


def kl_divergence(S: Tensor, P) -> Tensor:
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


def logistic(S: Tensor, T) -> Tensor:
    """``L_i = log(1 + e^{s_i}) - t_i s_i``, with the stable ``softplus`` primitive.

    Examples:
        >>> S = Tensor(np.zeros((2, 1)), requires_grad=True)
        >>> L = logistic(S, np.array([[1.0], [0.0]]))
        >>> L.sum().backward()
        >>> np.round(L.data, 4), S.grad.ravel()
        (array([0.6931, 0.6931]), array([-0.5,  0.5]))
    """
    return (F.softplus(S) - S * T).sum(axis=1, dtype=_F64)


def squared_error(S: Tensor, Y) -> Tensor:
    """``L_i = sum_j (S_ij - Y_ij)^2``.

    Examples:
        >>> S = Tensor(np.array([[1.0, 2.0]]), requires_grad=True)
        >>> L = squared_error(S, np.array([[0.0, 4.0]]))
        >>> L.backward()
        >>> L.data, S.grad
        (array([5.]), array([[ 2., -4.]]))
    """
    return ((S - Y) ** 2).sum(axis=1, dtype=_F64)


def sigmoid_squared_error(S: Tensor, T) -> Tensor:
    """``L_i = sum_j (t_ij - sigmoid(S_ij))^2``: the lecture's sigmoid unit.

    Examples:
        >>> S = Tensor(np.zeros((1, 1)), requires_grad=True)
        >>> L = sigmoid_squared_error(S, np.array([[1.0]]))
        >>> L.backward()
        >>> L.data, S.grad
        (array([0.25]), array([[-0.25]]))
    """
    return ((T - F.sigmoid(S)) ** 2).sum(axis=1, dtype=_F64)


#: One entry per loss of :mod:`lingrad.losses`, by its registry name.
LOSSES: dict[str, Callable] = {name: globals()[name] for name in _losses.NAMES}


def get(name: str) -> Callable:
    """The autodiff version of a loss, by name or alias (as :func:`lingrad.losses.get`).

    Examples:
        >>> get("svm").__name__
        'hinge'
    """
    return LOSSES[_losses.canonical_name(name)]
