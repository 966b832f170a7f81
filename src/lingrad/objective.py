"""The empirical risk of a linear model: mean loss over the data plus ``lam * R(W)``.

    J(W) = (1/N) sum_i L(S_i, y_i) + lam * R(W),        S = X @ W[:-1] + W[-1]

and its gradient by the chain rule through the linear model,

    dJ/dW[:-1] = X^T dS,    dJ/dW[-1] = sum_i dS_i,    (+ lam * dR/dW)

where ``dS = dJ/dS`` comes from the loss with the ``1/N`` already in it. Together the two rows
are ``[X, 1]^T dS``, computed without building ``[X, 1]``.
"""

from __future__ import annotations

import numpy as np

from lingrad import losses, regularizers
from lingrad._validation import check_positive, check_weights, check_X
from lingrad.model import _scores


class Objective:
    """``J(W)`` over a dataset ``(X, y)`` for one loss and one regulariser.

    Args:
        loss: a loss name or alias (see :func:`lingrad.losses.get`), e.g. ``"softmax"``.
        X: data, shape ``(N, D)``; float32 stays float32, integers become float64.
        y: targets for the loss (integer labels in ``[0, C)``, binary targets, regression
           targets or, for ``kl_divergence``, rows of probabilities). Checked against the
           number of classes ``C = W.shape[1]`` on the first call.
        regularizer: ``"l2"`` (default), ``"l1"``, ``"elastic_net"``, ``"none"`` or a
           :class:`lingrad.regularizers.Regularizer`.
        lam: the regularisation strength ``lam >= 0``.
        sample_weight: optional per-example weights, shape ``(N,)``; the mean becomes the
           weighted mean ``sum_i w_i L_i / sum_i w_i``.
        loss_params: extra keyword arguments of the loss (``margin``, ``label_smoothing``).

    >>> import numpy as np
    >>> X = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> J = Objective("softmax", X, [0, 1], lam=0.0)
    >>> value, dW = J.value_and_grad(np.zeros((3, 2)))     # equal scores: loss ln 2
    >>> round(value, 6), dW.shape
    (0.693147, (3, 2))
    """

    def __init__(
        self,
        loss,
        X,
        y,
        *,
        regularizer="l2",
        lam: float = 0.0,
        sample_weight=None,
        **loss_params,
    ):
        self.loss_spec = losses.spec(loss)
        self.X = check_X(X)
        self.y = y
        self.regularizer = regularizers.get(regularizer)
        self.lam = check_positive("lam", lam, allow_zero=True)
        n = self.X.shape[0]
        self.sample_weight = (
            None if sample_weight is None else losses.check_sample_weight(sample_weight, n)
        )
        self.loss_params = loss_params
        self._targets: dict[int, np.ndarray] = {}

    @property
    def n_samples(self) -> int:
        return self.X.shape[0]

    @property
    def n_features(self) -> int:
        return self.X.shape[1]

    def targets(self, n_classes: int) -> np.ndarray:
        """The validated targets for a model with ``n_classes`` score columns (cached)."""
        if n_classes not in self._targets:
            self._targets[n_classes] = self.loss_spec.prepare(
                self.y, self.n_samples, n_classes, self.X.dtype
            )
        return self._targets[n_classes]

    def _check(self, W) -> np.ndarray:
        W = check_weights(W, self.n_features)
        self.targets(W.shape[1])
        return W.astype(self.X.dtype, copy=False)

    def value(self, W) -> float:
        """``J(W)``: mean loss plus ``lam * R(W)`` as a Python float."""
        W = self._check(W)
        return self._value_and_grad(W, rows=None, need_grad=False)[0]

    def value_and_grad(self, W, rows=None) -> tuple[float, np.ndarray]:
        """``(J(W), dJ/dW)`` with ``dJ/dW`` shaped like ``W`` in X's dtype.

        ``rows`` (a slice or an index array) restricts the mean to a mini-batch of examples.
        """
        W = self._check(W)
        return self._value_and_grad(W, rows)

    def _value_and_grad(self, W, rows=None, need_grad=True):
        """The unchecked hot path: ``W`` must have the right shape and X's dtype."""
        X = self.X if rows is None else self.X[rows]
        T = self._targets[W.shape[1]]
        T = T if rows is None else T[rows]
        w = self.sample_weight
        w = w if w is None or rows is None else w[rows]
        S = _scores(W, X)
        per_example, dS = self.loss_spec.kernel(S, T, **self.loss_params)
        loss, dS = losses._mean(per_example, dS, w)
        value = loss + self.lam * self.regularizer.value(W) if self.lam else loss
        if not need_grad:
            return value, None
        dW = np.empty_like(W)
        np.matmul(X.T, dS, out=dW[:-1])
        dS.sum(axis=0, out=dW[-1])
        self.regularizer.add_grad(W, dW, self.lam)
        return value, dW

    def __call__(self, W) -> float:
        """Same as :meth:`value`, so an ``Objective`` is a plain ``f(W)`` for numerical tools."""
        return self.value(W)
