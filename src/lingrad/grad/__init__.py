"""The ways to get dJ/dW behind one interface, and the gradient check.

``get(method)(objective)`` returns a function ``(W, rows=None) -> (J(W), dJ/dW)``; the trainer
and the estimators only ever see that function, never how the gradient was made.
"""

from __future__ import annotations

from collections.abc import Callable

from lingrad._validation import fail
from lingrad.grad import analytic, autodiff, numerical, symbolic
from lingrad.grad.numerical import (
    GradcheckResult,
    default_step,
    gradcheck,
    numerical_gradient,
    relative_error,
)

_METHODS: dict[str, Callable] = {
    "analytic": analytic.value_and_grad,
    "autodiff": autodiff.value_and_grad,
    "numerical": numerical.value_and_grad,
    "symbolic": symbolic.value_and_grad,
}


def methods() -> tuple[str, ...]:
    """The names :func:`get` accepts.

    Examples:
        >>> methods()
        ('analytic', 'autodiff', 'numerical', 'symbolic')
    """
    return tuple(_METHODS)


def get(method: str) -> Callable:
    """The gradient method ``objective -> ((W, rows=None) -> (value, dW))`` by name.

    Examples:
        >>> get("analytic").__module__
        'lingrad.grad.analytic'
    """
    if method not in _METHODS:
        fail("gradient", f"one of {sorted(_METHODS)}", repr(method))
    return _METHODS[method]


__all__ = [
    "GradcheckResult",
    "default_step",
    "get",
    "gradcheck",
    "methods",
    "numerical_gradient",
    "relative_error",
]
