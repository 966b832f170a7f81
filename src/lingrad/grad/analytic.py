"""The analytic gradient: the chain rule through the linear model, derived by hand.

``dJ/dW = [X, 1]^T dS + lam * dR/dW`` with ``dS = dL/dS`` from the loss (see
:mod:`lingrad.objective`). Fast (two matrix products) and exact; error-prone to derive, which is
why :func:`lingrad.grad.gradcheck` exists.
"""

from __future__ import annotations

import functools

import numpy as np
import numpy.typing as npt

from lingrad.grad.method import ValueAndGrad, checked
from lingrad.objective import Objective


def value_and_grad(objective: Objective) -> ValueAndGrad:
    """``(W, rows=None) -> (J(W), dJ/dW)`` by the analytic chain rule.

    For ``X`` ``(N, D)`` and ``W`` ``(D + 1, C)``: ``dJ/dW = [X, 1]^T dL/dS + lam dR/dW``
    with ``dL/dS`` of shape ``(N, C)`` from the loss's kernel.

    Examples:
        >>> import numpy as np
        >>> from lingrad.objective import Objective
        >>> obj = Objective("softmax", np.eye(2), np.array([0, 1]))
        >>> J, dW = value_and_grad(obj)(np.zeros((3, 2)))
        >>> round(J, 4), dW.round(2).tolist()
        (0.6931, [[-0.25, 0.25], [0.25, -0.25], [0.0, 0.0]])
    """
    return checked("analytic", objective, objective.value_and_grad_unchecked)


def unchecked(objective: Objective, out: npt.NDArray[np.floating] | None = None) -> ValueAndGrad:
    """The fast form ``(W, rows=None) -> (J(W), dJ/dW)`` for ``W`` already checked: the same
    numbers as :func:`value_and_grad` without the per-call checks of ``W``, gathering a
    mini-batch into ``out`` ``(batch, D)`` when given
    (:meth:`~lingrad.objective.Objective.value_and_grad_unchecked`).

    Examples:
        >>> import numpy as np
        >>> from lingrad.objective import Objective
        >>> obj = Objective("softmax", np.eye(2), np.array([0, 1]))
        >>> T = obj.targets(2)  # the unchecked form needs the targets checked once
        >>> J, dW = unchecked(obj)(np.zeros((3, 2)))
        >>> round(J, 4)
        0.6931
    """
    return functools.partial(objective.value_and_grad_unchecked, out=out)
