"""The objective's passes over a dense X of another array library (PyTorch, CuPy, ...).

:class:`lingrad.objective.Objective` hands every pass over a non-NumPy X to an
:class:`ArrayAPIPass`: X stays on its library and device, the targets and the sample weights
are moved there once (NumPy inputs and lists follow X; an array of another library is refused
naming both, one on another device naming both devices), and one pass is, in one piece,

    S = X @ W[:-1] + W[-1]                    (N, C)
    J = sum_i w_i L(S_i, y_i) / sum_i w_i + lam R(W)
    dJ/dW[:-1] = X^T dS,   dJ/dW[-1] = sum_i dS_i   (+ lam dR/dW)

with the loss kernels of :mod:`lingrad.losses` and the regularisers, which follow their inputs.
``J`` comes back as a Python float (one device sync per pass); ``W`` and ``dJ/dW`` stay on X's
library. NumPy X never comes here: its row-blocked, compiled path in ``objective.py`` is
unchanged. :class:`ArrayAPIHessian` is ``V -> H V`` on the same library.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lingrad import curvature, regularizers
from lingrad._array_api import Array, as_float, device, namespace, to_numpy
from lingrad._validation import check_weights, is_sparse
from lingrad.model import scores_unchecked


def engine_for(X: object) -> ArrayAPIPass | None:
    """An :class:`ArrayAPIPass` for a dense ``X`` of a library other than NumPy, else ``None``
    (NumPy arrays, lists and ``scipy.sparse`` keep the NumPy path).

    Examples:
        >>> engine_for(np.eye(2)) is None
        True
        >>> import array_api_strict as xs
        >>> engine_for(xs.eye(2)).xp.__name__
        'array_api_strict'
    """
    if is_sparse(X):
        return None
    xp = namespace(X)
    return None if xp is np else ArrayAPIPass(xp, device(X))


def _follows(X: Array, a: Any, name: str) -> bool:
    """Whether ``a`` is NumPy or plain Python (it follows X, copied there); ``False`` for an
    array of X's library on X's device; another library or device raises, naming both."""
    if isinstance(a, np.ndarray | np.generic | list | tuple | int | float | str | bytes):
        return True
    if a is None:
        return True
    namespace(X, a, names=("X", name))
    return False


class ArrayAPIPass:
    """The passes of an objective over ``X`` ``(N, D)`` on the namespace ``xp`` and ``device``.

    The methods take the objective ``J`` (its ``X``, ``loss_spec``, ``loss_params``,
    ``regularizer``, ``lam``, ``fit_intercept``, ``sample_weight`` and ``targets``) and return
    what the NumPy path returns, on ``xp``.

    Examples:
        >>> import array_api_strict as xs
        >>> from lingrad.objective import Objective
        >>> J = Objective("softmax", xs.asarray([[1.0, 0.0], [0.0, 1.0]]), [0, 1])
        >>> value, dW = J.value_and_grad(np.zeros((3, 2)))
        >>> round(value, 6), type(dW).__module__.split(".")[0], dW.shape
        (0.693147, 'array_api_strict', (3, 2))
    """

    def __init__(self, xp: Any, where: Any) -> None:
        self.xp, self.device = xp, where

    def data(self, X: Any) -> Array:
        """``X`` checked (2-D, non-empty, finite), float32 kept, other dtypes float64."""
        return as_float("X", X, ndim=2)

    def host(self, name: str, X: Array, a: Any) -> Any:
        """``a`` for checks on the host: refused naming both if it is from another library
        than ``X`` or on another device; a NumPy copy otherwise (lists as they are)."""
        if _follows(X, a, name):
            return a
        return to_numpy(a)

    def move(self, name: str, X: Array, a: Any, dtype: Any = None) -> Array:
        """``a`` on X's library and device (NumPy and lists are copied there once; ``dtype``:
        cast to it); another library or device is refused naming both."""
        if _follows(X, a, name):
            a = self.xp.asarray(np.asarray(a), device=self.device)
        return a if dtype is None else self.xp.astype(a, dtype, copy=False)

    def check_weights(self, J: Any, W: Any) -> Array:
        """``W`` ``(D + 1, C)`` checked on the host (it is small), on X's library in X's dtype."""
        check_weights(self.host("W", J.X, W), J.n_features)
        J.targets(W.shape[1])
        return self.move("W", J.X, W, J.X.dtype)

    def rows(self, J: Any, T: Array, rows: Any) -> tuple[Array, Array, Array | None]:
        """``(X, T, w)`` of the mini-batch ``rows`` (a slice, or indices gathered by ``take``)."""
        xp, w = self.xp, J.sample_weight
        if isinstance(rows, slice):
            return J.X[rows, ...], T[rows, ...], None if w is None else w[rows]
        idx = self.move("rows", J.X, rows)
        T = xp.take(T, idx, axis=0)
        return xp.take(J.X, idx, axis=0), T, None if w is None else xp.take(w, idx, axis=0)

    def value_and_grad(
        self, J: Any, W: Array, rows: Any = None, need_grad: bool = True, scores: bool = False
    ) -> tuple[float, Array | None]:
        """``(J(W), dJ/dW)`` over all rows or the mini-batch ``rows``; ``dJ/dW`` is ``None``
        without ``need_grad``, and with ``scores`` the second item is ``S`` ``(N, C)``."""
        xp = self.xp
        if isinstance(W, np.ndarray):  # a host W (a numerical gradient's probe) follows X
            W = self.move("W", J.X, W, J.X.dtype)
        X, T, w = J.X, J.targets(W.shape[1]), J.sample_weight
        if rows is not None:
            X, T, w = self.rows(J, T, rows)
        S = scores_unchecked(W, X)
        per_example, dS = J.loss_spec.kernel(S, T, **J.loss_params)
        value, dS = self._mean(per_example, dS, w)
        if J.lam:
            value += J.lam * J.regularizer.value(W)
        if scores or not need_grad:
            return value, S if scores else None
        bias = xp.sum(dS, axis=0) if J.fit_intercept else xp.zeros_like(W[-1, ...])
        dW = xp.concat([X.T @ dS, bias[None, ...]], axis=0)
        if J.lam:
            J.regularizer.add_grad(W, dW, J.lam)
            if not J.fit_intercept:
                dW[-1, ...] = 0.0
        return value, dW

    def _mean(self, per_example: Array, dS: Array, w: Array | None) -> tuple[float, Array]:
        """The (weighted) mean loss as a float and ``dS`` scaled to match."""
        xp = self.xp
        if w is None:
            N = per_example.shape[0]
            return float(xp.sum(per_example)) / N, dS * (1.0 / N)
        wb = w / float(xp.sum(w))
        loss = float(xp.sum(per_example * xp.astype(wb, per_example.dtype)))
        return loss, dS * xp.astype(wb, dS.dtype)[:, None]

    def value_at_scores(self, J: Any, S: Array, W: Array) -> float:
        """``J(W)`` from known scores ``S = [X, 1] W`` (no pass over X)."""
        T = J.targets(W.shape[1])
        per_example, dS = J.loss_spec.kernel(S, T, **J.loss_params)
        loss = self._mean(per_example, dS, J.sample_weight)[0]
        return loss + J.lam * J.regularizer.value(W) if J.lam else loss

    def hessian(self, J: Any, W: Array) -> ArrayAPIHessian:
        """``V -> H V`` at ``W`` (see :class:`ArrayAPIHessian`)."""
        return ArrayAPIHessian(self, J, W)


class ArrayAPIHessian:
    """``V -> H V`` at ``W`` on X's library (the formula of :class:`lingrad.objective.Hessian`):

        H V = [X, 1]^T (c * H_S([X, 1] V)) + lam (1 - l1_ratio) V_R

    one pass to cache the loss's score-space curvature at ``S = [X, 1] W``, then two products
    with X per call; ``V`` of any library that follows X (NumPy is moved), shaped like ``W``.

    Examples:
        >>> import array_api_strict as xs
        >>> from lingrad.objective import Objective
        >>> J = Objective("squared_error", xs.asarray([[1.0], [2.0]]), [0.0, 0.0], lam=0.5)
        >>> H = J.hessian(np.zeros((2, 1)))  # (2/N) [X, 1]^T [X, 1] + diag(0.5, 0)
        >>> np.asarray(H(np.array([[1.0], [0.0]]))).ravel().tolist()
        [5.5, 3.0]
    """

    def __init__(self, engine: ArrayAPIPass, J: Any, W: Array) -> None:
        self.engine, self.objective, self.shape = engine, J, tuple(W.shape)
        self.curvature = curvature.get(J.loss_spec.name)
        S = scores_unchecked(W, J.X)
        self.cache = self.curvature.prepare(S, J.targets(W.shape[1]), **J.loss_params)
        xp, w = engine.xp, J.sample_weight
        self.coef: Any = 1.0 / J.n_samples
        if w is not None:
            self.coef = xp.astype(w / float(xp.sum(w)), W.dtype)[:, None]
        #: products ``H V`` computed so far (each one pass over X)
        self.calls = 0

    def __call__(self, V: Any) -> Array:
        """``H V`` for ``V`` shaped like ``W``, in X's dtype on X's library."""
        J, xp = self.objective, self.engine.xp
        V = xp.reshape(self.engine.move("V", J.X, V, J.X.dtype), self.shape)
        if not J.fit_intercept:  # the bias row is fixed: H acts on the weight rows only
            V = xp.concat([V[:-1, ...], xp.zeros_like(V[-1:, ...])], axis=0)
        D = self.curvature.apply(self.cache, scores_unchecked(V, J.X)) * self.coef
        out = xp.concat([J.X.T @ D, xp.sum(D, axis=0)[None, ...]], axis=0)
        reg = J.regularizer
        if J.lam and reg.name != "none" and reg.l1_ratio < 1:
            regularizers.l2(reg.include_bias).add_grad(V, out, J.lam * (1.0 - reg.l1_ratio))
        if not J.fit_intercept:
            out[-1, ...] = 0.0
        self.calls += 1
        return out
