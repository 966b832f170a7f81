"""Optimisers: ``init(W) -> state`` and ``update(grad, state, W) -> (step, state)``."""

from lingrad.optim import schedules
from lingrad.optim.gradient import SGD, Adam, AdamState, GradientDescent, SGDState

__all__ = ["SGD", "Adam", "AdamState", "GradientDescent", "SGDState", "schedules"]
