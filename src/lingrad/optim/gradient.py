"""Gradient-based optimisers in the ``init`` / ``update`` shape of optax.

An optimiser is a pair of pure functions over a small named-tuple state:

    state = opt.init(W)
    step, state = opt.update(grad, state, W)
    W = W + step

``update`` never changes ``W`` or ``grad``; the step comes back in ``W``'s dtype. The learning
rate is a float or a schedule ``t -> alpha_t`` (see :mod:`lingrad.optim.schedules`), read at the
step count ``t = 0, 1, 2, ...`` kept in the state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from lingrad._validation import check_positive, fail
from lingrad.optim.schedules import Schedule, as_schedule


class SGDState(NamedTuple):
    """``count``: steps taken; ``velocity``: the momentum buffer (``None`` without momentum).

    Examples:
        >>> import numpy as np
        >>> opt = SGD(0.1, momentum=0.9)
        >>> state = opt.init(np.zeros(2))
        >>> step, state = opt.update(np.array([1.0, -2.0]), state, np.zeros(2))
        >>> state.count, state.velocity
        (1, array([ 1., -2.]))
    """

    count: int
    velocity: np.ndarray | None


class AdamState(NamedTuple):
    """``count``: steps taken; ``m``, ``v``: running first and second moments of the gradient.

    Examples:
        >>> import numpy as np
        >>> opt = Adam(0.1)
        >>> state = opt.init(np.zeros(2))
        >>> step, state = opt.update(np.array([1.0, -2.0]), state, np.zeros(2))
        >>> state.count, state.m.round(3), step.round(3)
        (1, array([ 0.1, -0.2]), array([-0.1,  0.1]))
    """

    count: int
    m: np.ndarray
    v: np.ndarray


@dataclass(frozen=True)
class SGD:
    """Stochastic gradient descent with optional (Nesterov) momentum, PyTorch's formulation.

    Without momentum: ``step = -alpha_t g``. With momentum ``mu``:
    ``v <- mu v + g``; ``step = -alpha_t v``, or with Nesterov ``step = -alpha_t (g + mu v)``.

    Examples:
        >>> opt = SGD(0.1, momentum=0.9)
        >>> state = opt.init(np.zeros(2))
        >>> step, state = opt.update(np.array([1.0, -2.0]), state, np.zeros(2))
        >>> step
        array([-0.1,  0.2])
    """

    learning_rate: float | Schedule = 0.01
    momentum: float = 0.0
    nesterov: bool = False

    uses = "gradient"  # what ``update`` reads: the gradient (search optimisers read values)

    def __post_init__(self):
        as_schedule(self.learning_rate)
        if not 0.0 <= self.momentum < 1.0:
            fail("momentum", "a number in [0, 1)", self.momentum)
        if self.nesterov and self.momentum == 0:
            fail("nesterov", "momentum > 0 with Nesterov", f"momentum {self.momentum}")

    def init(self, W: np.ndarray) -> SGDState:
        return SGDState(0, np.zeros_like(W) if self.momentum else None)

    def rate(self, state: SGDState) -> float:
        """The learning rate the next :meth:`update` uses."""
        return as_schedule(self.learning_rate)(state.count)

    def update(self, grad: np.ndarray, state: SGDState, W: np.ndarray | None = None):
        rate = as_schedule(self.learning_rate)(state.count)
        if not self.momentum:
            return -rate * grad, SGDState(state.count + 1, None)
        velocity = self.momentum * state.velocity + grad
        direction = grad + self.momentum * velocity if self.nesterov else velocity
        return -rate * direction, SGDState(state.count + 1, velocity)


@dataclass(frozen=True)
class GradientDescent(SGD):
    """Full-batch gradient descent, ``W <- W - alpha_t dJ/dW``: SGD over the whole dataset.

    The same update as :class:`SGD`; the name says the trainer uses one batch of all N rows.

    Shapes: ``grad``, ``W`` and the returned step all have ``W``'s shape (e.g. ``(D + 1, C)``).

    Examples:
        >>> import numpy as np
        >>> opt = GradientDescent(0.5)
        >>> W = np.array([1.0, -1.0])
        >>> step, state = opt.update(2 * W, opt.init(W), W)        # J = ||W||^2
        >>> W + step
        array([0., 0.])
    """


@dataclass(frozen=True)
class Adam:
    """Adam (Kingma & Ba, 2015).

    ``m <- b1 m + (1 - b1) g``, ``v <- b2 v + (1 - b2) g^2``,
    ``m_hat = m / (1 - b1^t)``, ``v_hat = v / (1 - b2^t)`` (``t`` counted from 1),
    ``step = -alpha_t m_hat / (sqrt(v_hat) + eps)``.

    Examples:
        >>> opt = Adam(0.1)
        >>> step, _ = opt.update(np.array([3.0]), opt.init(np.zeros(1)), np.zeros(1))
        >>> np.round(step, 6)        # the first step has size alpha whatever the gradient's scale
        array([-0.1])
    """

    learning_rate: float | Schedule = 1e-3
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8

    uses = "gradient"

    def __post_init__(self):
        as_schedule(self.learning_rate)
        for name in ("beta1", "beta2"):
            if not 0.0 <= getattr(self, name) < 1.0:
                fail(name, "a number in [0, 1)", getattr(self, name))
        check_positive("eps", self.eps)

    def init(self, W: np.ndarray) -> AdamState:
        return AdamState(0, np.zeros_like(W), np.zeros_like(W))

    def rate(self, state: AdamState) -> float:
        """The learning rate the next :meth:`update` uses."""
        return as_schedule(self.learning_rate)(state.count)

    def update(self, grad: np.ndarray, state: AdamState, W: np.ndarray | None = None):
        rate = as_schedule(self.learning_rate)(state.count)
        t = state.count + 1
        m = self.beta1 * state.m + (1.0 - self.beta1) * grad
        v = self.beta2 * state.v + (1.0 - self.beta2) * (grad * grad)
        m_hat = m / (1.0 - self.beta1**t)
        v_hat = v / (1.0 - self.beta2**t)
        step = (-rate * m_hat / (np.sqrt(v_hat) + self.eps)).astype(grad.dtype, copy=False)
        return step, AdamState(t, m, v)
