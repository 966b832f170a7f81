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

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from lingrad._array_api import device, namespace, numpy_dtype, to_numpy
from lingrad._validation import as_float_array, check_choice, check_int, check_positive, fail
from lingrad.grad.method import ValueAndGrad, checked
from lingrad.objective import ObjectiveProtocol

#: A function to differentiate: ``W -> float`` or ``W -> (float, anything)``, called with ``W``
#: alone (``...``: a lambda may bind more with defaults).
ScalarFunction = Callable[..., float | tuple[float, Any]]

_TINY = 1e-300


def _scalar(f: ScalarFunction, W: npt.NDArray[np.floating]) -> float:
    out = f(W)
    return float(out[0] if isinstance(out, tuple) else out)


def default_step(dtype: npt.DTypeLike = np.float64, difference: str = "centered") -> float:
    """The finite-difference step for a function computed in ``dtype``.

    Truncation error ``O(h^2)`` (centred) or ``O(h)`` (forward) against rounding error
    ``eps / h`` balance at ``h = eps^(1/3)`` and ``h = eps^(1/2)``: about ``6e-6`` and ``1.5e-8``
    in float64, ``4.9e-3`` and ``3.5e-4`` in float32.

    Examples:
        >>> round(default_step(np.float32), 4), f"{default_step(np.float64):.1e}"
        (0.0049, '6.1e-06')
    """
    eps = float(np.finfo(np.dtype(dtype)).eps)
    return eps ** (1.0 / 3.0) if difference == "centered" else eps**0.5


def _shifted(f, W, index, step):
    """``f(W + step e_index)`` and the step actually taken (W's rounding included)."""
    old = W[index]
    W[index] = old + step
    taken = float(W[index]) - float(old)
    value = _scalar(f, W)
    W[index] = old
    return value, taken


def _partial(f, W, index, h, difference, f0):
    f_plus, h_plus = _shifted(f, W, index, h)
    if difference == "forward":
        return (f_plus - f0) / h_plus
    f_minus, h_minus = _shifted(f, W, index, -h)
    return (f_plus - f_minus) / (h_plus - h_minus)


def numerical_gradient(
    f: ScalarFunction,
    W: npt.ArrayLike,
    *,
    h: float | None = 1e-5,
    difference: str = "centered",
    indices: Iterable[tuple[int, ...]] | None = None,
) -> npt.NDArray[np.float64]:
    """Finite-difference gradient of a scalar function ``f`` at ``W`` (same shape as ``W``).

    Args:
        f: ``W -> float`` (or ``W -> (float, anything)``; the first element is used).
        W: the point, any shape; it is perturbed one coordinate at a time and restored.
        h: the step; ``None`` picks it from W's dtype (:func:`default_step`).
        difference: ``"centered"`` (``2 * W.size`` evaluations) or ``"forward"`` (``W.size + 1``).
        indices: optional iterable of index tuples; only those coordinates are computed and the
            rest of the result is NaN.

    Examples:
        >>> g = numerical_gradient(lambda w: float((w ** 2).sum()), np.array([1.0, -2.0]))
        >>> np.round(g, 6)
        array([ 2., -4.])
    """
    check_choice("difference", difference, ("centered", "forward"))
    W = as_float_array("W", W, ndim=tuple(range(0, 8))).copy()
    h = default_step(W.dtype, difference) if h is None else check_positive("h", h)
    f0 = _scalar(f, W) if difference == "forward" else None
    if indices is None:
        G = np.empty_like(W, dtype=np.float64)
        indices = np.ndindex(W.shape)
    else:
        G = np.full(W.shape, np.nan)
    for index in indices:
        G[index] = _partial(f, W, tuple(index), h, difference, f0)
    return G


def relative_error(
    a: npt.ArrayLike, n: npt.ArrayLike, floor: float = _TINY
) -> npt.NDArray[np.float64]:
    """``|a - n| / max(|a| + |n|, floor)``: 0 when both are 0, at most 1 otherwise.

    ``floor`` turns the relative error into an absolute one for values below it (the gradient
    check sets it from the rounding noise of the finite differences).

    Examples:
        >>> relative_error(np.array([1.0, 0.0, 1.0]), np.array([1.0, 0.0, -1.0]))
        array([0., 0., 1.])
    """
    a, n = np.asarray(a, dtype=np.float64), np.asarray(n, dtype=np.float64)
    return np.abs(a - n) / np.maximum(np.abs(a) + np.abs(n), floor)


@dataclass(frozen=True)
class GradcheckResult:
    """The outcome of :func:`gradcheck`.

    Attributes:
        max_rel_error: the largest relative error over the checked coordinates (or directions)
            that are not at a kink; ``nan`` when every one sits at a kink (nothing smooth was
            compared, see :attr:`compared`).
        index: the coordinate where it occurs (``(k,)``, the direction's number, in the
            ``"direction"`` mode).
        analytic: the analytic gradient's value there (``<grad, v>`` for a direction).
        numerical: the numerical gradient's value there.
        checked: how many coordinates (or directions) were compared.
        tolerance: the threshold used for :attr:`passed`.
        mode: ``"full"``, ``"sparse"`` or ``"direction"``.
        h: the finite-difference step used.
        kinks: the checks whose mismatch is explained by a kink (a point where ``f`` is not
            differentiable, e.g. a hinge margin crossing 0 within ``h``): there the one-sided
            slopes differ and the analytic value is one of them. They are reported here and left
            out of :attr:`max_rel_error`.
        kink_max_rel_error: the largest relative error among the kinks (0 if none).

    :attr:`compared` is ``checked - len(kinks)``, the smooth checks behind
    :attr:`max_rel_error`; :attr:`verdict` is ``"pass"``, ``"FAIL"`` or, when ``compared`` is
    0, ``"nothing smooth compared"`` (no check contradicts the gradient, none confirms it;
    :attr:`passed` is then ``True``).

    Examples:
        >>> r = gradcheck(lambda w: (float((w ** 2).sum()), 2 * w), np.array([1.0, -1.0]))
        >>> r.passed, r.checked, r.mode, r.compared, r.verdict
        (True, 2, 'full', 2, 'pass')
        >>> step = lambda w: (float(np.abs(w).sum()), np.where(w >= 0, 1.0, -1.0))
        >>> r = gradcheck(step, np.zeros(2))  # |w| at 0: both coordinates sit at the kink
        >>> r.compared, r.verdict, r.max_rel_error
        (0, 'nothing smooth compared', nan)
    """

    max_rel_error: float
    index: tuple[int, ...]
    analytic: float
    numerical: float
    checked: int
    tolerance: float
    mode: str = "full"
    h: float = 1e-5
    kinks: tuple[tuple[int, ...], ...] = ()
    kink_max_rel_error: float = 0.0

    @property
    def compared(self) -> int:
        return self.checked - len(self.kinks)

    @property
    def passed(self) -> bool:
        return self.compared == 0 or self.max_rel_error < self.tolerance

    @property
    def verdict(self) -> str:
        if self.compared == 0:
            return "nothing smooth compared"
        return "pass" if self.passed else "FAIL"

    def __str__(self) -> str:
        what = "directions" if self.mode == "direction" else "coordinates"
        if self.compared == 0:
            text = (
                f"gradcheck: nothing smooth was compared: all {self.checked} {what} sit at a "
                f"kink ({self.mode} mode, h {self.h:.2g}); move W off the kinks to check"
            )
        else:
            text = (
                f"gradcheck {self.verdict}: max relative error {self.max_rel_error:.3e} at "
                f"{self.index} (analytic {self.analytic:.6g}, numerical {self.numerical:.6g}; "
                f"{self.compared} smooth of {self.checked} {what}, {self.mode} mode, "
                f"h {self.h:.2g}, tolerance {self.tolerance:g})"
            )
        if self.kinks:
            text += (
                f"; {len(self.kinks)} at a kink (one-sided slopes differ, the analytic value is "
                f"one of them; relative error up to {self.kink_max_rel_error:.3e}): "
                f"{', '.join(map(str, self.kinks[:5]))}{' ...' if len(self.kinks) > 5 else ''}"
            )
        return text


_MODES = ("full", "sparse", "direction")
_DEFAULT_TOLERANCE = {np.dtype(np.float64): 1e-6, np.dtype(np.float32): 1e-3}


def _is_kink(a, f0, f_plus, f_minus, h, scale) -> bool:
    """Whether ``f`` has a kink within ``h``: its one-sided slopes differ by more than smooth
    curvature allows and the analytic value ``a`` is (close to) one of them."""
    forward, backward = (f_plus - f0) / h, (f0 - f_minus) / h
    lo, hi = min(forward, backward), max(forward, backward)
    jump = hi - lo
    return jump > 1e-4 * scale and lo - 0.1 * jump <= a <= hi + 0.1 * jump


def gradcheck(
    f: ScalarFunction,
    W: npt.ArrayLike,
    grad: npt.ArrayLike | None = None,
    *,
    samples: int | None = None,
    rng: np.random.Generator | None = None,
    h: float | None = None,
    difference: str = "centered",
    tolerance: float | None = None,
    mode: str | None = None,
    dtype: npt.DTypeLike | None = None,
) -> GradcheckResult:
    """Compare an analytic gradient with the numerical one and report the worst disagreement.

    Three modes, as in PyTorch's and JAX's gradient checks:

    * ``"full"``: every coordinate (``2 * W.size`` evaluations of ``f``);
    * ``"sparse"``: ``samples`` random coordinates (the CS231n ``grad_check_sparse``);
    * ``"direction"``: ``samples`` random unit directions ``v``: the directional derivative
      ``(f(W + h v) - f(W - h v)) / 2h`` against ``<grad, v>``; two evaluations per direction
      whatever the size of ``W``.

    A check that fails is examined for a kink: the one-sided slopes ``(f(W + h) - f(W)) / h``
    and ``(f(W) - f(W - h)) / h`` are compared; if they differ and the analytic value is one of
    them, ``f`` is not differentiable within ``h`` (a hinge margin at 0), which is reported in
    :attr:`GradcheckResult.kinks` instead of failing silently or passing a wrong gradient.

    Args:
        f: ``W -> float`` or ``W -> (float, dW)`` (e.g. ``Objective.value_and_grad``).
        W: the point to check at (float64 recommended).
        grad: the analytic gradient at ``W``; if omitted, ``f(W)`` must return ``(value, dW)``.
        samples: coordinates (sparse) or directions (direction) to check; giving it without a
            ``mode`` selects ``"sparse"``. Defaults: 10 coordinates, 3 directions.
        rng: the generator for the sampled coordinates or directions (default: seed 0).
        h: the step; by default chosen from the dtype (:func:`default_step`).
        difference: ``"centered"`` or ``"forward"`` (coordinates only).
        tolerance: :attr:`GradcheckResult.passed` is ``max_rel_error < tolerance``; by default
            1e-6 in float64 and 1e-3 in float32.
        mode: ``"full"``, ``"sparse"`` or ``"direction"`` (default: full, or sparse if
            ``samples`` is given).
        dtype: the precision ``f`` computes in, for the defaults of ``h`` and ``tolerance``;
            float32 if ``W`` or the gradient is float32, else float64.

    Returns:
        A :class:`GradcheckResult`; nothing is printed.

    Examples:
        >>> f = lambda w: (float((w ** 3).sum()), 3 * w ** 2)
        >>> gradcheck(f, np.array([1.0, 2.0])).passed
        True
        >>> g = lambda w: (float(np.sin(w).sum()), np.cos(w))
        >>> gradcheck(g, np.linspace(-3, 3, 10_000), mode="direction").passed  # 6 calls, not 20,000
        True
    """
    mode = ("sparse" if samples is not None else "full") if mode is None else mode
    check_choice("mode", mode, _MODES)
    check_choice("difference", difference, ("centered", "forward"))
    W = as_float_array("W", W, ndim=tuple(range(0, 8))).copy()
    if grad is None:
        out = f(W)
        if not isinstance(out, tuple) or len(out) != 2:
            fail("grad", "an analytic gradient, or f returning (value, grad)", "neither")
        grad = out[1]
    grad = np.asarray(grad)
    if grad.shape != W.shape:
        fail("grad", f"shape {W.shape} like W", f"shape {grad.shape}")
    if dtype is None:
        single = np.float32 in (W.dtype.type, grad.dtype.type)
        dtype = np.dtype(np.float32 if single else np.float64)
    dtype = np.dtype(dtype)
    if dtype.type not in (np.float32, np.float64):
        fail("dtype", "float32 or float64", dtype, TypeError)
    grad = grad.astype(np.float64)
    h = default_step(dtype, difference) if h is None else check_positive("h", h)
    tolerance = _DEFAULT_TOLERANCE[dtype] if tolerance is None else float(tolerance)
    rng = np.random.default_rng(0) if rng is None else rng
    count = None if samples is None else check_int("samples", samples)
    if mode == "direction":
        checks = _directions(f, W, grad, h, count or 3, rng)
    else:
        if mode == "full":
            indices = list(np.ndindex(W.shape))
        else:
            flat = rng.choice(W.size, size=min(count or 10, W.size), replace=False)
            indices = [tuple(int(i) for i in np.unravel_index(k, W.shape)) for k in flat]
        checks = _coordinates(f, W, grad, h, difference, indices)
    f0 = _scalar(f, W)
    # Differences within ~10x the rounding noise of a finite difference count as agreement
    # (near-zero entries), but never more than the gradient's own scale: a step so small that
    # the noise swamps the gradient makes the check fail rather than pass vacuously.
    scale = float(np.abs(grad).max())
    noise = 10 * float(np.finfo(dtype).eps) * max(abs(f0), 1.0) / h
    floor = max(min(noise / tolerance, scale), _TINY)
    return _report(W, checks, f0, floor, mode, h, tolerance, scale)


def _coordinates(f, W, grad, h, difference, indices):
    """``(index, analytic, numerical, f_plus, f_minus, step)`` per coordinate."""
    f0 = _scalar(f, W) if difference == "forward" else None
    checks = []
    for index in indices:
        f_plus, h_plus = _shifted(f, W, index, h)
        if difference == "forward":
            numeric, f_minus, step = (f_plus - f0) / h_plus, None, h_plus
        else:
            f_minus, h_minus = _shifted(f, W, index, -h)
            numeric, step = (f_plus - f_minus) / (h_plus - h_minus), h
        checks.append((index, float(grad[index]), numeric, f_plus, f_minus, step, None))
    return checks


def _directions(f, W, grad, h, count, rng):
    checks = []
    for k in range(count):
        v = rng.standard_normal(W.shape)
        v /= np.linalg.norm(v)
        f_plus = _scalar(f, (W + h * v).astype(W.dtype))
        f_minus = _scalar(f, (W - h * v).astype(W.dtype))
        analytic = float(np.vdot(grad, v))
        checks.append(((k,), analytic, (f_plus - f_minus) / (2 * h), f_plus, f_minus, h, v))
    return checks


def _report(W, checks, f0, floor, mode, h, tolerance, scale):
    errors = relative_error([c[1] for c in checks], [c[2] for c in checks], floor)
    kinks = []
    for c, err in zip(checks, errors, strict=True):
        index, analytic, _, f_plus, f_minus, step, _ = c
        if err < tolerance or f_minus is None:
            continue
        if _is_kink(analytic, f0, f_plus, f_minus, step, scale):
            kinks.append(index)
    at_kink = np.array([c[0] in kinks for c in checks])
    smooth = np.where(at_kink, -1.0, errors)
    worst = int(np.argmax(smooth if (~at_kink).any() else errors))
    index, analytic, numeric = checks[worst][:3]
    return GradcheckResult(
        max_rel_error=float(errors[worst]) if (~at_kink).any() else math.nan,
        index=tuple(index),
        analytic=float(analytic),
        numerical=float(numeric),
        checked=len(checks),
        tolerance=float(tolerance),
        mode=mode,
        h=float(h),
        kinks=tuple(kinks),
        kink_max_rel_error=float(errors[at_kink].max()) if at_kink.any() else 0.0,
    )


def value_and_grad(objective: ObjectiveProtocol, *, h: float | None = None) -> ValueAndGrad:
    """``(W, rows=None) -> (J(W), dJ/dW)`` with the gradient by centred differences.

    Slow by nature: ``2 * W.size`` evaluations of the objective per gradient (61,460 full
    passes over the data for a CIFAR-10 model); meant for checking, not for training. The step
    is chosen from X's dtype unless ``h`` is given; in float32 expect ~1e-3 relative error.

    Each coordinate: ``dJ/dW_k ~ (J(W + h e_k) - J(W - h e_k)) / (2 h)``.

    Examples:
        >>> from lingrad.objective import Objective
        >>> obj = Objective("mse", np.array([[1.0], [2.0]]), np.array([1.0, 2.0]))
        >>> J, dW = value_and_grad(obj)(np.zeros((2, 1)))   # dJ/dW = -2 mean_i [x_i, 1] y_i
        >>> J, dW.round(4).ravel().tolist()
        (2.5, [-5.0, -3.0])
    """

    def numerical(W, rows):
        def f(V):
            return objective.value_and_grad_unchecked(V, rows, need_grad=False)[0]

        # perturbed on the host (W is small); the gradient goes back to W's array library
        G = numerical_gradient(f, to_numpy(W), h=h).astype(numpy_dtype(W.dtype), copy=False)
        return f(W), G if isinstance(W, np.ndarray) else namespace(W).asarray(G, device=device(W))

    return checked("numerical", objective, numerical)
