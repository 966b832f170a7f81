"""Numerical gradients by finite differences, and the gradient check.

The lecture's definition ``f'(a) = lim_{h -> 0} (f(a + h) - f(a)) / h`` turned into code:

* forward difference: ``(f(W + h e_k) - f(W)) / h``, error ``O(h)``; the slide's ``h = 1e-4``;
* centred difference: ``(f(W + h e_k) - f(W - h e_k)) / (2h)``, error ``O(h^2)``.

Both cost one or two evaluations of ``f`` *per coordinate* of ``W`` (``2 * W.size`` for
centred): slow, approximate, easy to write. That is why they are used to *check* an analytic
gradient (the gradient check), not to train. Meant for float64: in float32 the rounding error
of ``f`` (~1e-7 relative) divided by ``h`` swamps the result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lingrad._validation import as_float_array, check_choice, check_int, check_positive, fail

_TINY = 1e-300


def _scalar(f: Callable, W: np.ndarray) -> float:
    out = f(W)
    return float(out[0] if isinstance(out, tuple) else out)


def _partial(f, W, index, h, method, f0):
    old = W[index]
    W[index] = old + h
    f_plus = _scalar(f, W)
    if method == "forward":
        W[index] = old
        return (f_plus - f0) / h
    W[index] = old - h
    f_minus = _scalar(f, W)
    W[index] = old
    return (f_plus - f_minus) / (2.0 * h)


def numerical_gradient(
    f: Callable, W, *, h: float = 1e-5, method: str = "centered", indices=None
) -> np.ndarray:
    """Finite-difference gradient of a scalar function ``f`` at ``W`` (same shape as ``W``).

    Args:
        f: ``W -> float`` (or ``W -> (float, anything)``; the first element is used).
        W: the point, any shape; it is perturbed one coordinate at a time and restored.
        h: the step.
        method: ``"centered"`` (``2 * W.size`` evaluations) or ``"forward"`` (``W.size + 1``).
        indices: optional iterable of index tuples; only those coordinates are computed and the
            rest of the result is NaN.

    >>> g = numerical_gradient(lambda w: float((w ** 2).sum()), np.array([1.0, -2.0]))
    >>> np.round(g, 6)
    array([ 2., -4.])
    """
    h = check_positive("h", h)
    check_choice("method", method, ("centered", "forward"))
    W = as_float_array("W", W, ndim=tuple(range(0, 8))).copy()
    f0 = _scalar(f, W) if method == "forward" else None
    if indices is None:
        G = np.empty_like(W, dtype=np.float64)
        indices = np.ndindex(W.shape)
    else:
        G = np.full(W.shape, np.nan)
    for index in indices:
        G[index] = _partial(f, W, tuple(index), h, method, f0)
    return G


def relative_error(a, n) -> np.ndarray:
    """``|a - n| / max(|a| + |n|, tiny)``: 0 when both are 0, at most 1 otherwise."""
    a, n = np.asarray(a, dtype=np.float64), np.asarray(n, dtype=np.float64)
    return np.abs(a - n) / np.maximum(np.abs(a) + np.abs(n), _TINY)


@dataclass(frozen=True)
class GradcheckResult:
    """The outcome of :func:`gradcheck`.

    Attributes:
        max_rel_error: the largest relative error over the checked coordinates.
        index: the coordinate where it occurs.
        analytic: the analytic gradient's value there.
        numerical: the numerical gradient's value there.
        checked: how many coordinates were compared.
        tolerance: the threshold used for :attr:`passed`.
    """

    max_rel_error: float
    index: tuple
    analytic: float
    numerical: float
    checked: int
    tolerance: float

    @property
    def passed(self) -> bool:
        return self.max_rel_error < self.tolerance

    def __str__(self) -> str:
        verdict = "pass" if self.passed else "FAIL"
        return (
            f"gradcheck {verdict}: max relative error {self.max_rel_error:.3e} at {self.index} "
            f"(analytic {self.analytic:.6g}, numerical {self.numerical:.6g}; "
            f"{self.checked} coordinates, tolerance {self.tolerance:g})"
        )


def gradcheck(
    f: Callable,
    W,
    grad=None,
    *,
    samples: int | None = None,
    rng: np.random.Generator | None = None,
    h: float = 1e-5,
    method: str = "centered",
    tolerance: float = 1e-6,
) -> GradcheckResult:
    """Compare an analytic gradient with the numerical one and report the worst coordinate.

    Args:
        f: ``W -> float`` or ``W -> (float, dW)`` (e.g. ``Objective.value_and_grad``).
        W: the point to check at (float64 recommended).
        grad: the analytic gradient at ``W``; if omitted, ``f(W)`` must return ``(value, dW)``.
        samples: check only this many random coordinates (the CS231n ``grad_check_sparse``);
            all coordinates by default.
        rng: the generator that picks the sampled coordinates (default: seed 0).
        h: the finite-difference step, as in :func:`numerical_gradient`.
        method: ``"centered"`` or ``"forward"``, as in :func:`numerical_gradient`.
        tolerance: :attr:`GradcheckResult.passed` is ``max_rel_error < tolerance``.

    Returns:
        A :class:`GradcheckResult`; nothing is printed.

    >>> f = lambda w: (float((w ** 3).sum()), 3 * w ** 2)
    >>> gradcheck(f, np.array([1.0, 2.0])).passed
    True
    """
    W = as_float_array("W", W, ndim=tuple(range(0, 8))).copy()
    if grad is None:
        out = f(W)
        if not isinstance(out, tuple) or len(out) != 2:
            fail("grad", "an analytic gradient, or f returning (value, grad)", "neither")
        grad = out[1]
    grad = np.asarray(grad, dtype=np.float64)
    if grad.shape != W.shape:
        fail("grad", f"shape {W.shape} like W", f"shape {grad.shape}")
    if samples is None:
        indices = list(np.ndindex(W.shape))
    else:
        samples = check_int("samples", samples)
        rng = np.random.default_rng(0) if rng is None else rng
        flat = rng.choice(W.size, size=min(samples, W.size), replace=False)
        indices = [tuple(int(i) for i in np.unravel_index(k, W.shape)) for k in flat]
    numeric = numerical_gradient(f, W, h=h, method=method, indices=indices)
    rows = tuple(np.array(axis) for axis in zip(*indices, strict=True)) if W.ndim else ()
    errors = relative_error(grad[rows], numeric[rows])
    worst = int(np.argmax(errors))
    index = indices[worst]
    return GradcheckResult(
        max_rel_error=float(errors.flat[worst]),
        index=index,
        analytic=float(grad[index]),
        numerical=float(numeric[index]),
        checked=len(indices),
        tolerance=float(tolerance),
    )


def value_and_grad(objective, *, h: float = 1e-5) -> Callable:
    """``(W, rows=None) -> (J(W), dJ/dW)`` with the gradient by centred differences.

    Slow by nature: ``2 * W.size`` evaluations of the objective per gradient (61,460 full
    passes over the data for a CIFAR-10 model); meant for checking, not for training.
    """

    def numerical(W, rows=None):
        W = objective._check(W)

        def f(V):
            return objective._value_and_grad(V, rows, need_grad=False)[0]

        return f(W), numerical_gradient(f, W, h=h).astype(W.dtype, copy=False)

    return numerical
