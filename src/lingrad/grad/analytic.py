"""The analytic gradient: the chain rule through the linear model, derived by hand.

``dJ/dW = [X, 1]^T dS + lam * dR/dW`` with ``dS = dL/dS`` from the loss (see
:mod:`lingrad.objective`). Fast (two matrix products) and exact; error-prone to derive, which is
why :func:`lingrad.grad.gradcheck` exists.
"""

from __future__ import annotations

from collections.abc import Callable

from lingrad.objective import Objective


def value_and_grad(objective: Objective) -> Callable:
    """``(W, rows=None) -> (J(W), dJ/dW)`` by the analytic chain rule."""

    def analytic(W, rows=None):
        return objective.value_and_grad(W, rows)

    return analytic
