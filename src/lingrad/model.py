"""The linear model ``f(x, W) = Wx + b`` with the bias folded into ``W``.

The lecture writes ``W`` as ``C x (D+1)`` with "a 1 at the end of the input". Rows here are
examples, so lingrad stores the transpose: ``W`` has shape ``(D + 1, C)``, rows ``0..D-1`` are
the weights and row ``D`` is the bias. The scores of a batch ``X`` of shape ``(N, D)`` are

    S = [X, 1] @ W = X @ W[:-1] + W[-1]        shape (N, C)

computed without ever building the ``[X, 1]`` copy (that would cost a full pass over the data).

Decision rules:
  * multi-class (``C >= 2``): ``y = argmax_k S[:, k]``;
  * binary (``C == 1``): ``y = 1 if s >= 0 else 0``; one-versus-all is ``C`` binary columns
    read with the argmax rule.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from lingrad._array_api import Array, as_float, device, namespace, to_numpy
from lingrad._array_api import float_dtype as working_dtype
from lingrad._validation import check_int, check_weights, check_X, fail, float_dtype


def scores_unchecked(
    W: npt.NDArray[np.floating], X: npt.NDArray[np.floating]
) -> npt.NDArray[np.floating]:
    """Scores ``(N, C)`` without checks: ``X @ W[:-1] + W[-1]`` for ``X`` ``(N, D)`` and ``W``
    ``(D + 1, C)``; ``W`` must already be in X's dtype and library, on X's device.

    Examples:
        >>> scores_unchecked(np.array([[1.0, 0.0], [0.0, 2.0], [0.5, -0.5]]), np.eye(2))
        array([[ 1.5, -0.5],
               [ 0.5,  1.5]])
    """
    if isinstance(X, np.ndarray):
        S = X @ W[:-1]
        S += W[-1]
        return S
    return X @ W[:-1, ...] + W[-1, ...]


def _checked(
    W: npt.ArrayLike, X: npt.ArrayLike
) -> tuple[npt.NDArray[np.floating], npt.NDArray[np.floating]]:
    xp = namespace(W, X, names=("W", "X"))
    if xp is np:
        X = check_X(X)
        W = check_weights(W, X.shape[1])
        return W.astype(X.dtype, copy=False), X
    data: Array = as_float("X", X, ndim=2)
    check_weights(to_numpy(W), data.shape[1])  # W is small: shape and values checked on the host
    return xp.astype(xp.asarray(W, device=device(data)), data.dtype, copy=False), data


def scores(W: npt.ArrayLike, X: npt.ArrayLike) -> npt.NDArray[np.floating]:
    """Class scores ``S = X @ W[:-1] + W[-1]``.

    Args:
        W: parameters, shape ``(D + 1, C)``, bias in the last row.
        X: data, shape ``(N, D)``.

    Returns:
        ``S`` of shape ``(N, C)`` in X's dtype (float32 stays float32), on X's array library
        and device (``W`` from the same library: mixing is refused, naming both).

    Examples:
        >>> W = np.array([[1.0, -1.0], [2.0, 0.0], [0.5, 0.5]])   # D = 2, C = 2
        >>> scores(W, np.array([[1.0, 1.0]]))
        array([[ 3.5, -0.5]])
    """
    W, X = _checked(W, X)
    return scores_unchecked(W, X)


def predict_from_scores(S: npt.NDArray[np.floating]) -> npt.NDArray[np.intp]:
    """Predicted class indices ``(N,)`` from scores ``S`` ``(N, C)`` (unchecked): ``argmax_k``
    for ``C >= 2``, ``s >= 0`` for ``C == 1``.

    Examples:
        >>> predict_from_scores(np.array([[0.2, 0.9], [3.0, -1.0]])), predict_from_scores(
        ...     np.array([[-0.5], [0.0]]))
        (array([1, 0]), array([0, 1]))
    """
    if isinstance(S, np.ndarray):
        return (S[:, 0] >= 0).astype(np.intp) if S.shape[1] == 1 else np.argmax(S, axis=1)
    xp = namespace(S)
    if S.shape[1] == 1:
        return xp.astype(S[:, 0] >= 0, xp.int64)
    return xp.argmax(S, axis=1)


def predict(W: npt.ArrayLike, X: npt.ArrayLike) -> npt.NDArray[np.intp]:
    """Predicted class indices, shape ``(N,)``.

    ``argmax_k S[:, k]`` for ``C >= 2``; for ``C == 1`` the binary rule ``1 if s >= 0 else 0``.

    Examples:
        >>> predict(np.array([[1.0], [0.0]]), np.array([[-2.0], [0.0], [3.0]]))
        array([0, 1, 1])
    """
    W, X = _checked(W, X)
    return predict_from_scores(scores_unchecked(W, X))


def softmax(S: npt.ArrayLike) -> npt.NDArray[np.floating]:
    """Row-wise softmax ``P[i, k] = exp(S[i, k]) / sum_j exp(S[i, j])`` over the last axis.

    Stable for any finite scores: each row is shifted by its maximum first, which leaves the
    result unchanged and keeps ``exp`` <= 1 (scores of +-1e4 give exact 0/1, never NaN).

    Examples:
        >>> softmax(np.array([0.0, 0.0]))
        array([0.5, 0.5])
    """
    if isinstance(S, np.ndarray) or namespace(S) is np:
        S = np.asarray(S)
        S = S.astype(float_dtype(S.dtype), copy=False)
        E = np.exp(S - S.max(axis=-1, keepdims=True))
        E /= E.sum(axis=-1, keepdims=True)
        return E
    xp = namespace(S)
    A: Array = xp.astype(S, working_dtype(xp, S.dtype), copy=False)  # type: ignore[union-attr]
    E = xp.exp(A - xp.max(A, axis=-1, keepdims=True))
    return E / xp.sum(E, axis=-1, keepdims=True)


def sigmoid(z: npt.ArrayLike) -> npt.NDArray[np.floating]:
    """The logistic function ``1 / (1 + exp(-z))``, elementwise; ``sigma' = sigma (1 - sigma)``.

    Computed as ``exp(min(z, 0)) / (1 + exp(-|z|))``, which equals ``1 / (1 + e^-z)`` for
    ``z >= 0`` and ``e^z / (1 + e^z)`` for ``z < 0``: neither branch can overflow.

    Examples:
        >>> sigmoid(np.array([0.0, 1e4, -1e4]))
        array([0.5, 1. , 0. ])
    """
    if isinstance(z, np.ndarray) or namespace(z) is np:
        z = np.asarray(z)
        z = z.astype(float_dtype(z.dtype), copy=False)
        e = np.exp(-np.abs(z))
        return np.where(z >= 0, 1.0, e) / (1.0 + e)
    xp = namespace(z)
    a: Array = xp.astype(z, working_dtype(xp, z.dtype), copy=False)  # type: ignore[union-attr]
    e = xp.exp(-xp.abs(a))
    return xp.where(a >= 0, 1.0, e) / (1.0 + e)


def proba_from_scores(S: npt.NDArray[np.floating]) -> npt.NDArray[np.floating]:
    """Class probabilities ``(N, K)`` from scores ``S`` ``(N, C)`` (unchecked): ``softmax(S)``,
    or ``[1 - sigma(s), sigma(s)]`` for ``C == 1``.

    Examples:
        >>> proba_from_scores(np.array([[0.0, 0.0], [0.0, np.log(3.0)]]))
        array([[0.5 , 0.5 ],
               [0.25, 0.75]])
    """
    if S.shape[1] == 1:
        p = sigmoid(S[:, 0])
        return namespace(p).stack([1.0 - p, p], axis=1)
    return softmax(S)


def predict_proba(W: npt.ArrayLike, X: npt.ArrayLike) -> npt.NDArray[np.floating]:
    """Class probabilities, shape ``(N, C)``: the softmax of the scores.

    For a binary model (``C == 1``) the two columns ``[1 - sigma(s), sigma(s)]``, so that column
    ``k`` is always ``P(y = k | x)``.

    Examples:
        >>> predict_proba(np.zeros((3, 4)), np.ones((1, 2)))
        array([[0.25, 0.25, 0.25, 0.25]])
    """
    W, X = _checked(W, X)
    return proba_from_scores(scores_unchecked(W, X))


def init_weights(
    n_features: int,
    n_columns: int,
    *,
    rng: np.random.Generator,
    scale: float = 1e-3,
    dtype: npt.DTypeLike = np.float64,
) -> npt.NDArray[np.floating]:
    """Small random weights ``scale * N(0, 1)`` and a zero bias, shape ``(n_features + 1, C)``.

    Small weights make all scores ~0 at initialisation, where the SVM loss is ``C - 1`` and the
    softmax loss is ``ln C`` (the lecture's sanity checks).

    Examples:
        >>> init_weights(4, 3, rng=np.random.default_rng(0)).shape
        (5, 3)
    """
    n_features = check_int("n_features", n_features)
    n_columns = check_int("n_columns", n_columns)
    if not isinstance(rng, np.random.Generator):
        fail("rng", "a numpy.random.Generator", type(rng).__name__, TypeError)
    dtype = np.dtype(dtype)
    if dtype.type not in (np.float32, np.float64):
        fail("dtype", "float32 or float64", dtype, TypeError)
    W = np.zeros((n_features + 1, n_columns), dtype=dtype)
    W[:-1] = scale * rng.standard_normal((n_features, n_columns))
    return W
