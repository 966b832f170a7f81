"""The slow versions: every loss and its gradient written loop by loop, as the slides write them.

These are the oracle for the vectorised :mod:`lingrad.losses` (tests hold one against the other)
and the "naive" side of the naive-versus-vectorised benchmark. Plain Python loops over examples
and classes, ``math`` for the scalar functions, float64 throughout; no validation (call them
with what :mod:`lingrad.losses` would accept). Each returns ``(mean loss, dL/dS)`` with the mean
over the ``N`` examples already in ``dS``, exactly like the fast versions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

#: What the loops index one example at a time: a list or an array.
_Targets: TypeAlias = Sequence[float] | npt.NDArray[Any]
_Result: TypeAlias = tuple[float, npt.NDArray[np.float64]]


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


def _log_softmax_row(s) -> list[float]:
    top = max(s)
    log_norm = top + math.log(sum(math.exp(v - top) for v in s))
    return [v - log_norm for v in s]


def _mean_over_examples(S, y, example):
    """``(mean_i L_i, dS / N)`` where ``example(s, y_i, ds) -> L_i`` reads one row of scores
    ``s`` and adds ``dL_i/ds`` into the zero row ``ds``; ``S`` is ``(N, C)``."""
    S = np.asarray(S, dtype=np.float64)
    N = S.shape[0]
    total, dS = 0.0, np.zeros_like(S)
    for i in range(N):
        total += example(S[i], y[i], dS[i])
    return total / N, dS / N


def _weston_watkins(S, y, margin, power):
    """``L_i = sum_{j != y_i} max(0, s_j - s_{y_i} + margin)^power`` (power 1 or 2)."""

    def example(s, y_i, ds):
        L_i = 0.0
        for j in range(len(s)):
            if j == y_i:
                continue
            m = s[j] - s[y_i] + margin
            if m > 0:
                L_i += m**power
                ds[j] += power * m ** (power - 1)
                ds[y_i] -= power * m ** (power - 1)
        return L_i

    return _mean_over_examples(S, y, example)


def hinge(S: npt.ArrayLike, y: _Targets, margin: float = 1.0) -> _Result:
    """``L_i = sum_{j != y_i} max(0, s_j - s_{y_i} + margin)``, loop by loop.

    Shapes: ``S`` ``(N, C)``, ``y`` ``(N,)`` -> ``(mean loss, dS (N, C))``.

    Examples:
        >>> S = [[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]]
        >>> loss, dS = hinge(S, [0, 1, 2])
        >>> round(float(loss), 2), dS.shape
        (5.27, (3, 3))
    """
    return _weston_watkins(S, y, margin, 1)


def squared_hinge(S: npt.ArrayLike, y: _Targets, margin: float = 1.0) -> _Result:
    """``L_i = sum_{j != y_i} max(0, s_j - s_{y_i} + margin)^2``, loop by loop: each active
    term adds ``2 m`` to ``dL_i/ds_j`` and takes it from ``dL_i/ds_{y_i}``.

    Shapes: ``S`` ``(N, C)``, ``y`` ``(N,)`` -> ``(mean loss, dS (N, C))``.

    Examples:
        >>> loss, dS = squared_hinge([[0.0, 0.5, -2.0]], [0])
        >>> float(loss), dS.tolist()
        (2.25, [[-3.0, 3.0, 0.0]])
    """
    return _weston_watkins(S, y, margin, 2)


def crammer_singer(S: npt.ArrayLike, y: _Targets, margin: float = 1.0) -> _Result:
    """``L_i = max(0, max_{j != y_i} s_j - s_{y_i} + margin)``, loop by loop.

    Shapes: ``S`` ``(N, C)``, ``y`` ``(N,)`` -> ``(mean loss, dS (N, C))``.

    Examples:
        >>> loss, dS = crammer_singer([[3.2, 5.1, -1.7]], [0])
        >>> round(float(loss), 2), dS.tolist()
        (2.9, [[-1.0, 1.0, 0.0]])
    """

    def example(s, y_i, ds):
        worst = None
        for j in range(len(s)):
            if j != y_i and (worst is None or s[j] > s[worst]):
                worst = j
        m = s[worst] - s[y_i] + margin
        if m <= 0:
            return 0.0
        ds[worst] += 1.0
        ds[y_i] -= 1.0
        return m

    return _mean_over_examples(S, y, example)


def one_vs_all_hinge(S: npt.ArrayLike, y: _Targets, margin: float = 1.0) -> _Result:
    """``L_i = sum_j max(0, margin - t_ij s_j)``, ``t_ij = +1`` for the true class else ``-1``.

    Shapes: ``S`` ``(N, C)``, ``y`` ``(N,)`` -> ``(mean loss, dS (N, C))``.

    Examples:
        >>> loss, dS = one_vs_all_hinge([[0.5, -2.0]], [0])
        >>> float(loss), dS.tolist()
        (0.5, [[-1.0, 0.0]])
    """
    S = np.asarray(S, dtype=np.float64)
    N, C = S.shape
    total, dS = 0.0, np.zeros_like(S)
    for i in range(N):
        for j in range(C):
            t = 1.0 if j == y[i] else -1.0
            m = margin - t * S[i, j]
            if m > 0:
                total += m
                dS[i, j] -= t
    return total / N, dS / N


def softmax_cross_entropy(S: npt.ArrayLike, y: _Targets, label_smoothing: float = 0.0) -> _Result:
    """``L_i = -sum_j q_j log p_j`` with ``p = softmax(s)``, ``q = (1-eps) onehot + eps/C``.

    Shapes: ``S`` ``(N, C)``, ``y`` ``(N,)`` -> ``(mean loss, dS (N, C))``.

    Examples:
        >>> loss, dS = softmax_cross_entropy([[3.2, 5.1, -1.7]], [0])
        >>> round(float(loss), 2), dS.round(3).tolist()
        (2.04, [[-0.87, 0.869, 0.001]])
    """
    S = np.asarray(S, dtype=np.float64)
    N, C = S.shape
    total, dS = 0.0, np.zeros_like(S)
    for i in range(N):
        log_p = _log_softmax_row(S[i])
        for j in range(C):
            q = label_smoothing / C + (1.0 - label_smoothing) * (j == y[i])
            total -= q * log_p[j]
            dS[i, j] = math.exp(log_p[j]) - q
    return total / N, dS / N


def kl_divergence(S: npt.ArrayLike, P: npt.ArrayLike) -> _Result:
    """``L_i = sum_j P_ij log(P_ij / p_ij)`` with ``p = softmax(s)`` and ``0 log 0 = 0``.

    Shapes: ``S`` ``(N, C)``, ``P`` ``(N, C)`` rows summing to 1 -> ``(mean loss, dS (N, C))``.

    Examples:
        >>> loss, dS = kl_divergence([[0.0, 0.0]], [[0.5, 0.5]])
        >>> float(loss), dS.tolist()
        (0.0, [[0.0, 0.0]])
    """
    S, P = np.asarray(S, dtype=np.float64), np.asarray(P, dtype=np.float64)
    N, C = S.shape
    total, dS = 0.0, np.zeros_like(S)
    for i in range(N):
        log_p = _log_softmax_row(S[i])
        for j in range(C):
            if P[i, j] > 0:
                total += P[i, j] * (math.log(P[i, j]) - log_p[j])
            dS[i, j] = math.exp(log_p[j]) - P[i, j]
    return total / N, dS / N


def logistic(S: npt.ArrayLike, y: _Targets) -> _Result:
    """``L_i = -y log sigma(s) - (1 - y) log(1 - sigma(s))``, one score per example.

    Shapes: ``S`` ``(N, 1)``, ``y`` ``(N,)`` in {0, 1} -> ``(mean loss, dS (N, 1))``.

    Examples:
        >>> loss, dS = logistic([[0.0]], [1])
        >>> round(float(loss), 4), dS.tolist()
        (0.6931, [[-0.5]])
    """
    s = np.asarray(S, dtype=np.float64).reshape(-1)
    N = s.shape[0]
    total, ds = 0.0, np.zeros(N)
    for i in range(N):
        # log sigma(s) = -log(1 + e^-s), log(1 - sigma(s)) = -log(1 + e^s), written stably.
        log1pexp = max(s[i], 0.0) + math.log1p(math.exp(-abs(s[i])))
        total += log1pexp - y[i] * s[i]
        ds[i] = _sigmoid(s[i]) - y[i]
    return total / N, (ds / N).reshape(np.shape(S))


def squared_error(S: npt.ArrayLike, Y: npt.ArrayLike) -> _Result:
    """``L_i = sum_j (y_ij - s_ij)^2``; the gradient is ``-2 delta`` with ``delta = y - s``.

    Shapes: ``S`` ``(N, C)``, ``Y`` ``(N, C)`` -> ``(mean loss, dS (N, C))``.

    Examples:
        >>> loss, dS = squared_error([[1.0, 2.0]], [[0.0, 4.0]])
        >>> float(loss), dS.tolist()
        (5.0, [[2.0, -4.0]])
    """
    S = np.asarray(S, dtype=np.float64)
    S2 = S.reshape(S.shape[0], -1)
    Y2 = np.asarray(Y, dtype=np.float64).reshape(S2.shape)
    N, C = S2.shape
    total, dS = 0.0, np.zeros_like(S2)
    for i in range(N):
        for j in range(C):
            delta = Y2[i, j] - S2[i, j]
            total += delta**2
            dS[i, j] = -2.0 * delta
    return total / N, (dS / N).reshape(S.shape)


def sigmoid_squared_error(S: npt.ArrayLike, y: _Targets) -> _Result:
    """``L_i = (y_i - sigma_i)^2``, gradient ``-2 delta_i sigma_i (1 - sigma_i)``.

    One column: binary targets. Several columns: integer labels, one-hot targets per column.

    Shapes: ``S`` ``(N, C)``, ``y`` ``(N,)`` -> ``(mean loss, dS (N, C))``.

    Examples:
        >>> loss, dS = sigmoid_squared_error([[0.0]], [1])
        >>> float(loss), dS.tolist()
        (0.25, [[-0.25]])
    """
    S = np.asarray(S, dtype=np.float64)
    S2 = S.reshape(S.shape[0], -1)
    N, C = S2.shape
    total, dS = 0.0, np.zeros_like(S2)
    for i in range(N):
        for j in range(C):
            t = float(y[i]) if C == 1 else float(j == y[i])
            sig = _sigmoid(S2[i, j])
            delta = t - sig
            total += delta**2
            dS[i, j] = -2.0 * delta * sig * (1.0 - sig)
    return total / N, (dS / N).reshape(S.shape)
