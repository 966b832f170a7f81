"""The estimators on data of another array library (PyTorch tensors, CuPy arrays, ...).

``LinearClassifier().fit(X, y)`` (and ``partial_fit``, and ``LinearRegressor``'s, whose real
targets :func:`check_regression_data` checks) with a dense ``X`` of another library keeps X
there, for every optimiser that runs on it (L-BFGS, Newton, SGD, Adam, gradient descent): the
labels are encoded on the host (``y`` is small; a ``y`` of X's library is copied to the host
once) and the encoded targets and sample weights move to X's device once, inside the
:class:`~lingrad.objective.Objective`. The fitted ``W_``, ``coef_`` and ``intercept_`` stay on
X's library and device (``lingrad.to_numpy(clf.coef_)`` gives a NumPy copy), and
``decision_function``, ``predict_proba`` and ``predict`` return arrays of the library of the
``X`` they are given (``predict``: class labels of a numeric ``classes_`` on that library, a
NumPy array of labels otherwise). Data of another library or device than the fitted weights is
refused, naming both.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lingrad._array_api import Array, as_float, device, namespace, numpy_dtype, to_numpy
from lingrad._validation import fail, is_sparse
from lingrad.model import proba_from_scores, scores_unchecked, sigmoid


def is_array_api_data(X: object) -> bool:
    """Whether ``X`` is a dense array of a library other than NumPy (not a list, not
    ``scipy.sparse``, not a Dask array).

    Examples:
        >>> import array_api_strict as xs
        >>> is_array_api_data(np.eye(2)), is_array_api_data(xs.eye(2)), is_array_api_data([[1]])
        (False, True, False)
    """
    if is_sparse(X) or type(X).__module__.startswith("dask"):
        return False
    return namespace(X) is not np


def check_fit_data(X: Any, y: Any, n_features: int | None = None) -> tuple[Array, np.ndarray]:
    """``(X, y)`` for a fit: ``X`` ``(N, D)`` checked on its library (float32 kept, other
    dtypes float64), ``y`` ``(N,)`` on the host; ``y`` of another array library than ``X`` or on
    another device is refused naming both; ``n_features``: the ``D`` a previous fit saw.

    Examples:
        >>> import array_api_strict as xs
        >>> X, y = check_fit_data(xs.eye(2), xs.asarray([0, 1]))
        >>> X.dtype, y.tolist()
        (array_api_strict.float64, [0, 1])
    """
    X = as_float("X", X, ndim=2)
    if not isinstance(y, np.ndarray | list | tuple):
        namespace(X, y, names=("X", "y"))
    y = to_numpy(y)
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        fail("y", f"{X.shape[0]} labels of shape ({X.shape[0]},)", f"shape {y.shape}")
    if n_features is not None and X.shape[1] != n_features:
        fail("X", f"{n_features} features (as in the first fit)", f"{X.shape[1]}")
    return X, y


def check_regression_data(
    X: Any, y: Any, n_features: int | None = None
) -> tuple[Array, np.ndarray]:
    """``(X, y)`` for a regressor's fit: :func:`check_fit_data`, then ``y`` ``(N,)`` real
    targets on the host in X's float dtype, finite (``ValueError`` naming ``y`` otherwise).

    Examples:
        >>> import array_api_strict as xs
        >>> X, y = check_regression_data(xs.eye(2), [0.5, 2])
        >>> y.dtype, y.tolist()
        (dtype('float64'), [0.5, 2.0])
    """
    X, y = check_fit_data(X, y, n_features)
    if y.dtype.kind not in "biuf":
        fail("y", "real numbers", f"dtype {y.dtype}")
    y = y.astype(numpy_dtype(X.dtype), copy=False)
    if not np.isfinite(y).all():
        fail("y", "finite targets", "NaN or inf")
    return X, y


def split_coef(W: Array) -> tuple[Array, Array]:
    """``(coef_, intercept_)`` = ``(W[:-1]^T, W[-1])`` ``(C, D)`` and ``(C,)``, copies on W's
    library and device.

    Examples:
        >>> import array_api_strict as xs
        >>> coef, intercept = split_coef(xs.asarray([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]))
        >>> coef.shape, intercept.shape
        ((2, 2), (2,))
    """
    xp = namespace(W)
    return xp.asarray(W[:-1, ...].T, copy=True), xp.asarray(W[-1, ...], copy=True)


def scores_for(W: Array, X: Any) -> Array:
    """Scores ``X @ W[:-1] + W[-1]`` ``(N, C)`` for fitted weights ``W`` of another array
    library: ``X`` must come from W's library and device (refused naming both otherwise) and
    have ``D = W.shape[0] - 1`` features.

    Examples:
        >>> import array_api_strict as xs
        >>> scores_for(xs.asarray([[2.0], [1.0]]), xs.asarray([[3.0]]))
        Array([[7.]], dtype=array_api_strict.float64)
    """
    namespace(W, X, names=("the fitted weights", "X"))
    X = as_float("X", X, ndim=2)
    if X.shape[1] != W.shape[0] - 1:
        fail("X", f"{W.shape[0] - 1} features (as in fit)", f"{X.shape[1]}")
    return scores_unchecked(W, namespace(X).astype(X, W.dtype, copy=False))


def labels_for(classes: np.ndarray, index: Array) -> Any:
    """``classes[index]``: on index's library for numeric classes, NumPy labels otherwise.

    Examples:
        >>> import array_api_strict as xs
        >>> labels_for(np.array([3, 7]), xs.asarray([1, 0]))
        Array([7, 3], dtype=array_api_strict.int64)
    """
    if classes.dtype.kind not in "biuf":
        return classes[to_numpy(index)]
    xp = namespace(index)
    return xp.take(xp.asarray(classes, device=device(index)), index, axis=0)


def probabilities(S: Array, link: str | None) -> Array:
    """``(N, K)`` probabilities from scores ``S`` of any library: the softmax, the sigmoid of one
    column (``[1 - p, p]``), or per-column sigmoids normalised to sum to 1 (``link`` ``"sigmoid"``).

    Examples:
        >>> import array_api_strict as xs
        >>> probabilities(xs.asarray([[0.0], [0.0]]), "sigmoid")[0, ...]
        Array([0.5, 0.5], dtype=array_api_strict.float64)
    """
    if S.shape[1] > 1 and link == "sigmoid":
        P = sigmoid(S)
        return P / namespace(P).sum(P, axis=1, keepdims=True)
    return proba_from_scores(S)
