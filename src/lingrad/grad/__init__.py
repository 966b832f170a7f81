"""The ways to get dJ/dW behind one interface, and the gradient check.

``get(method)(objective)`` returns a function ``(W, rows=None) -> (J(W), dJ/dW)``; the trainer
and the estimators only ever see that function, never how the gradient was made.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from lingrad._validation import fail
from lingrad.grad import analytic, autodiff, numerical
from lingrad.grad.method import (
    ARRAY_API_METHODS,
    SPARSE_METHODS,
    GradientMethod,
    ValueAndGrad,
    refuse_array_api,
    refuse_sparse,
)
from lingrad.grad.numerical import (
    GradcheckResult,
    default_step,
    gradcheck,
    numerical_gradient,
    relative_error,
)
from lingrad.objective import Objective


def _symbolic(objective: Objective) -> ValueAndGrad:
    """The symbolic method, SymPy imported on first use (the trainer and the estimators import
    this package; SymPy takes about a second to import)."""
    from lingrad.grad import symbolic

    return symbolic.value_and_grad(objective)


_METHODS: dict[str, GradientMethod] = {
    "analytic": analytic.value_and_grad,
    "autodiff": autodiff.value_and_grad,
    "numerical": numerical.value_and_grad,
    "symbolic": _symbolic,
}


def methods() -> tuple[str, ...]:
    """The names :func:`get` accepts.

    Examples:
        >>> methods()
        ('analytic', 'autodiff', 'numerical', 'symbolic')
    """
    return tuple(_METHODS)


def get(method: str) -> GradientMethod:
    """The gradient method ``objective -> ((W, rows=None) -> (value, dW))`` by name.

    Examples:
        >>> get("analytic").__module__
        'lingrad.grad.analytic'
    """
    if method not in _METHODS:
        fail("gradient", f"one of {sorted(_METHODS)}", repr(method))
    return _METHODS[method]


#: The fast forms ``(objective, out) -> ((W, rows=None) -> (value, dW))`` of the methods that
#: have one (no per-call checks of ``W``; ``out``: a reusable mini-batch gather buffer).
_FAST: dict[
    GradientMethod, Callable[[Objective, npt.NDArray[np.floating] | None], ValueAndGrad]
] = {analytic.value_and_grad: analytic.unchecked}


def fast(
    method: GradientMethod, objective: Objective, out: npt.NDArray[np.floating] | None = None
) -> ValueAndGrad:
    """The fastest ``(W, rows=None) -> (value, dW)`` of ``method`` (a :func:`get` result) on
    ``objective`` for a trainer whose ``W`` is already checked: the method's fast form where it
    has one (the same numbers), else ``method(objective)``.

    Examples:
        >>> import numpy as np
        >>> from lingrad.objective import Objective
        >>> obj = Objective("softmax", np.eye(2), np.array([0, 1]))
        >>> T = obj.targets(2)  # the unchecked form needs the targets checked once
        >>> value, dW = fast(get("analytic"), obj)(np.zeros((3, 2)))
        >>> round(value, 4), dW.shape
        (0.6931, (3, 2))
    """
    form = _FAST.get(method)
    return method(objective) if form is None else form(objective, out)


__all__ = [
    "ARRAY_API_METHODS",
    "SPARSE_METHODS",
    "GradcheckResult",
    "default_step",
    "fast",
    "get",
    "gradcheck",
    "methods",
    "numerical_gradient",
    "refuse_array_api",
    "refuse_sparse",
    "relative_error",
]
