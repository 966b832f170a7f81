"""Second derivatives of the losses with respect to the scores: Hessian-vector products.

For one example ``i`` with scores ``s = S[i]`` ``(C,)`` the loss ``L_i(s)`` has the Hessian
``H_i = d^2 L_i / ds^2`` ``(C, C)``. A Newton method never forms it: it needs ``H_i v`` for a
direction ``v = dS[i]``. Each loss here gives two functions,

* ``prepare(S, T, **params) -> cache``: what ``H_i`` depends on at the scores ``S`` ``(N, C)``
  (at most ``N x C`` numbers), computed once per point;
* ``apply(cache, dS) -> HdS``: the per-example products ``HdS[i] = H_i dS[i]`` ``(N, C)``,
  cheap elementwise work, called once per conjugate-gradient step.

The formulas (``p = softmax(s)``, ``sigma`` the logistic function, ``t`` the targets):

* softmax cross-entropy (any label smoothing) and KL divergence: ``H = diag(p) - p p^T``, so
  ``H v = p * v - p (p . v)``;
* logistic: ``H = diag(sigma (1 - sigma))``;
* squared error ``sum_j (s_j - t_j)^2``: ``H = 2 I``;
* sigmoid + squared error ``sum_j (t_j - sigma_j)^2``: diagonal,
  ``2 sigma' (sigma' - (t - sigma)(1 - 2 sigma))`` with ``sigma' = sigma (1 - sigma)``; it can
  be negative (the loss is not convex);
* squared hinge ``sum_{j != y} max(0, s_j - s_y + m)^2``: the generalised Hessian of the
  active set ``A = {j : s_j - s_y + m > 0}``, ``H = 2 sum_{j in A} (e_j - e_y)(e_j - e_y)^T``.

The piecewise-linear losses (hinge, Crammer-Singer, one-vs-all hinge) have no second derivative
(zero almost everywhere, undefined at the kinks) and no entry: :func:`get` refuses them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from lingrad import losses
from lingrad._array_api import Array, Picks, as_float, device, namespace
from lingrad._validation import fail
from lingrad.model import sigmoid, softmax

_Float = npt.NDArray[np.floating]
#: What ``H_i`` depends on at the scores: a tuple of arrays with at most ``N x C`` numbers each.
Cache = tuple[Any, ...]


def _softmax_prepare(S: _Float, T: Any, **params: float) -> Cache:
    return (softmax(S),)


def _softmax_apply(cache: Cache, V: _Float) -> _Float:
    (P,) = cache
    PV = P * V
    if not isinstance(PV, np.ndarray):
        return PV - P * namespace(PV).sum(PV, axis=1, keepdims=True)
    PV -= P * PV.sum(axis=1, keepdims=True)
    return PV


def _logistic_prepare(S: _Float, T: Any, **params: float) -> Cache:
    p = sigmoid(S)
    return (p * (1.0 - p),)


def _diagonal_apply(cache: Cache, V: _Float) -> _Float:
    (d,) = cache
    return d * V


def _squared_error_prepare(S: _Float, T: Any, **params: float) -> Cache:
    return ()


def _squared_error_apply(cache: Cache, V: _Float) -> _Float:
    return 2.0 * V


def _sigmoid_squared_error_prepare(S: _Float, T: Any, **params: float) -> Cache:
    sig = sigmoid(S)
    slope = sig * (1.0 - sig)
    return (2.0 * slope * (slope - (T - sig) * (1.0 - 2.0 * sig)),)


def _squared_hinge_prepare(S: _Float, y: Any, margin: float = 1.0, **params: float) -> Cache:
    if not isinstance(S, np.ndarray):  # any array-API library: the picks carry a one-hot mask
        xp = namespace(S)
        at = Picks(xp, y, S.shape[1])
        active = at.put((S - at.take(S)[:, None] + margin) > 0, False)
        return xp.astype(active, S.dtype), at
    rows = np.arange(S.shape[0])
    active = (S - S[rows, y][:, None] + margin) > 0
    active[rows, y] = False
    return active.astype(S.dtype), y


def _squared_hinge_apply(cache: Cache, V: _Float) -> _Float:
    active, y = cache
    if isinstance(y, Picks):
        D = 2.0 * (active * (V - y.take(V)[:, None]))
        return y.put(D, -y.xp.sum(D, axis=1))
    rows = np.arange(V.shape[0])
    D = active * (V - V[rows, y][:, None])
    D *= 2.0
    D[rows, y] = -D.sum(axis=1)
    return D


@dataclass(frozen=True)
class Curvature:
    """The score-space curvature of one loss: ``prepare(S, T, **params) -> cache`` at the
    scores ``S`` ``(N, C)`` and targets ``T`` (as :meth:`lingrad.losses.LossSpec.prepare` makes
    them), then ``apply(cache, dS) -> HdS`` with ``HdS[i] = H_i dS[i]`` ``(N, C)`` (no ``1/N``:
    per example). ``convex``: every ``H_i`` is positive semi-definite.

    Examples:
        >>> c = get("logistic")
        >>> c.apply(c.prepare(np.zeros((1, 1)), None), np.ones((1, 1)))   # sigma'(0) = 1/4
        array([[0.25]])
    """

    name: str
    prepare: Callable[..., Cache]
    apply: Callable[[Cache, _Float], _Float]
    convex: bool = True


CURVATURES: dict[str, Curvature] = {
    c.name: c
    for c in [
        Curvature("softmax_cross_entropy", _softmax_prepare, _softmax_apply),
        Curvature("kl_divergence", _softmax_prepare, _softmax_apply),
        Curvature("logistic", _logistic_prepare, _diagonal_apply),
        Curvature("squared_error", _squared_error_prepare, _squared_error_apply),
        Curvature(
            "sigmoid_squared_error", _sigmoid_squared_error_prepare, _diagonal_apply, convex=False
        ),
        Curvature("squared_hinge", _squared_hinge_prepare, _squared_hinge_apply),
    ]
}
NAMES: tuple[str, ...] = tuple(CURVATURES)


def get(loss: str) -> Curvature:
    """The :class:`Curvature` of a loss given by name or alias; a loss without a second
    derivative (the piecewise-linear hinge losses) is refused with a ``ValueError`` naming it.

    Examples:
        >>> get("softmax").name
        'softmax_cross_entropy'
        >>> get("hinge")
        Traceback (most recent call last):
        ...
        ValueError: loss: expected a loss with a second derivative (one of ...), got 'hinge' ...
    """
    name = losses.canonical_name(loss)
    if name not in CURVATURES:
        fail(
            "loss",
            f"a loss with a second derivative (one of {list(NAMES)})",
            f"{name!r} (piecewise linear: no curvature)",
        )
    return CURVATURES[name]


def hvp(
    loss: str, S: npt.ArrayLike, y: npt.ArrayLike, dS: npt.ArrayLike, **params: float
) -> _Float:
    """Per-example Hessian-vector products in score space, ``out[i] = H_i dS[i]`` ``(N, C)``,
    for the scores ``S`` ``(N, C)``, the loss's targets ``y`` (checked as the loss checks them)
    and a direction ``dS`` ``(N, C)``; ``params`` are the loss's (``margin``,
    ``label_smoothing``). ``H_i`` is the Hessian of the per-example loss ``L_i`` (no ``1/N``).

    Examples:
        >>> S = np.array([[0.0, 0.0]])
        >>> hvp("softmax", S, [0], [[1.0, 0.0]])       # p = (1/2, 1/2): H = [[1, -1], [-1, 1]] / 4
        array([[ 0.25, -0.25]])
    """
    curvature = get(loss)
    xp = namespace(S, y, dS, names=("S", "y", "dS"))
    scores: Array = as_float("S", S, ndim=2)
    V: Array = as_float("dS", dS, ndim=2, dtype=scores.dtype)
    shape = tuple(scores.shape)
    if tuple(V.shape) != shape:
        fail("dS", f"a direction of shape {shape} like the scores", f"shape {tuple(V.shape)}")
    T = losses.spec(loss).prepare(y, shape[0], shape[1], scores.dtype)
    if xp is not np:  # labels given as a list follow the scores
        T = xp.asarray(T, device=device(scores))
    return curvature.apply(curvature.prepare(scores, T, **params), V)
