"""Gradient transforms in the shape of optax: small pure pieces that a chain composes.

A transform is a pair of pure functions over its own small named-tuple state (plus, for the
plateau transform, a third that watches a loss once per epoch):

    state = t.init(W)
    updates, state = t.update(updates, state, W)     # the gradient goes in, a step comes out
    state = t.observe(state, loss)                    # identity unless the transform watches

:func:`chain` runs transforms one after the other; :class:`~lingrad.optim.SGD` is
``chain(trace(mu), scale_by_learning_rate(alpha))`` and :class:`~lingrad.optim.Adam` is
``chain(scale_by_adam(b1, b2, eps), scale_by_learning_rate(alpha))``.

Adam's direction leaves :func:`scale_by_adam` as a :class:`Quotient` ``m_hat / (sqrt(v_hat) +
eps)`` that the learning-rate transforms scale through its numerator, so that the step is
computed as ``(-alpha m_hat) / (sqrt(v_hat) + eps)``, the same floating-point operations in
the same order as Adam written out in one line; :func:`resolve` (which :func:`chain` applies at
its end) divides.

The buffers follow ``W``: ``init`` makes them on W's array library and device (NumPy, PyTorch,
CuPy, any array-API library), and ``update`` uses only operators and, for Adam's square root,
NumPy's ``sqrt`` for a NumPy array (one type check, no namespace lookup per step) or the
array's namespace otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from lingrad._array_api import namespace, zeros_like
from lingrad._validation import check_positive, fail
from lingrad.optim.schedules import ReduceOnPlateau, Schedule, as_schedule


class Transform(NamedTuple):
    """A gradient transform: ``init(W) -> state``, ``update(updates, state, W) -> (updates,
    state)`` and ``observe(state, loss) -> state`` (identity for most transforms).

    Examples:
        >>> t = scale_by_learning_rate(0.5)
        >>> t.update(np.array([2.0]), t.init(np.zeros(1)), np.zeros(1))
        (array([-1.]), ScaleByScheduleState(count=1))
        >>> t.observe(t.init(None), 1.0)
        ScaleByScheduleState(count=0)
    """

    init: Callable[[np.ndarray | None], Any]
    update: Callable[[Any, Any, np.ndarray | None], tuple[Any, Any]]
    observe: Callable[[Any, float], Any] = lambda state, loss: state


class Quotient(NamedTuple):
    """An update ``numerator / denominator`` not divided yet (Adam's direction), so that a
    later scale multiplies the numerator first; :func:`resolve` divides.

    Examples:
        >>> resolve(Quotient(np.array([3.0]), np.array([2.0])))
        array([1.5])
    """

    numerator: np.ndarray
    denominator: np.ndarray


def resolve(updates: np.ndarray | Quotient) -> np.ndarray:
    """The update as an array: a :class:`Quotient` divided, anything else as is.

    Examples:
        >>> resolve(np.array([1.0]))
        array([1.])
    """
    if isinstance(updates, Quotient):
        return updates.numerator / updates.denominator
    return updates


def _sqrt(a: Any) -> Any:
    """``sqrt(a)`` elementwise: NumPy's for a NumPy array, else a's namespace's."""
    if isinstance(a, np.ndarray):
        return np.sqrt(a)
    return namespace(a).sqrt(a)


def _scale(factor: float, updates: np.ndarray | Quotient) -> np.ndarray | Quotient:
    """``factor * updates`` (the numerator of a :class:`Quotient`)."""
    if isinstance(updates, Quotient):
        return Quotient(factor * updates.numerator, updates.denominator)
    return factor * updates


class TraceState(NamedTuple):
    """``velocity``: the momentum buffer ``v``.

    Examples:
        >>> trace(0.9).init(np.zeros(2))
        TraceState(velocity=array([0., 0.]))
    """

    velocity: np.ndarray


def trace(momentum: float, nesterov: bool = False) -> Transform:
    """Momentum, PyTorch's formulation: ``v <- mu v + g``; the direction is ``v``, or with
    Nesterov ``g + mu v`` (with the updated ``v``).

    Examples:
        >>> t = trace(0.5, nesterov=True)
        >>> d, state = t.update(np.array([2.0]), t.init(np.zeros(1)), np.zeros(1))
        >>> d, state.velocity                 # v = 2, direction = 2 + 0.5 * 2
        (array([3.]), array([2.]))
    """
    if not 0.0 <= momentum < 1.0:
        fail("momentum", "a number in [0, 1)", momentum)

    def init(W):
        return TraceState(zeros_like(W))

    def update(updates, state, W=None):
        grad = resolve(updates)
        velocity = momentum * state.velocity + grad
        direction = grad + momentum * velocity if nesterov else velocity
        return direction, TraceState(velocity)

    return Transform(init, update)


class ScaleByAdamState(NamedTuple):
    """``count``: steps taken; ``m``, ``v``: running first and second moments of the gradient.

    Examples:
        >>> scale_by_adam().init(np.zeros(2))
        ScaleByAdamState(count=0, m=array([0., 0.]), v=array([0., 0.]))
    """

    count: int  # type: ignore[assignment]  # the field shadows tuple.count (a public name)
    m: np.ndarray
    v: np.ndarray


def scale_by_adam(beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> Transform:
    """Adam's direction: ``m <- b1 m + (1 - b1) g``, ``v <- b2 v + (1 - b2) g^2``,
    ``m_hat = m / (1 - b1^t)``, ``v_hat = v / (1 - b2^t)`` (``t`` counted from 1), direction
    ``m_hat / (sqrt(v_hat) + eps)`` (as a :class:`Quotient`).

    Examples:
        >>> t = scale_by_adam()
        >>> d, state = t.update(np.array([3.0]), t.init(np.zeros(1)), np.zeros(1))
        >>> np.round(resolve(d), 6), state.count     # the first direction has size 1
        (array([1.]), 1)
    """
    for name, value in (("beta1", beta1), ("beta2", beta2)):
        if not 0.0 <= value < 1.0:
            fail(name, "a number in [0, 1)", value)
    check_positive("eps", eps)

    def init(W):
        return ScaleByAdamState(0, zeros_like(W), zeros_like(W))

    def update(updates, state, W=None):
        grad = resolve(updates)
        t = state.count + 1
        m = beta1 * state.m + (1.0 - beta1) * grad
        v = beta2 * state.v + (1.0 - beta2) * (grad * grad)
        m_hat = m / (1.0 - beta1**t)
        v_hat = v / (1.0 - beta2**t)
        return Quotient(m_hat, _sqrt(v_hat) + eps), ScaleByAdamState(t, m, v)

    return Transform(init, update)


class ScaleByScheduleState(NamedTuple):
    """``count``: steps taken, the ``t`` at which the schedule is read.

    Examples:
        >>> scale_by_learning_rate(0.1).init(np.zeros(2))
        ScaleByScheduleState(count=0)
    """

    count: int  # type: ignore[assignment]  # the field shadows tuple.count (a public name)


def scale_by_learning_rate(learning_rate: float | Schedule) -> Transform:
    """``updates <- -alpha_t updates`` with ``alpha_t`` a float or a schedule read at the step
    count ``t = 0, 1, 2, ...``.

    Examples:
        >>> from lingrad.optim.schedules import step_decay
        >>> t = scale_by_learning_rate(step_decay(1.0, step_size=1, gamma=0.5))
        >>> s1, state = t.update(np.array([1.0]), t.init(None), None)
        >>> s2, state = t.update(np.array([1.0]), state, None)
        >>> s1, s2
        (array([-1.]), array([-0.5]))
    """
    schedule = as_schedule(learning_rate)

    def init(W):
        return ScaleByScheduleState(0)

    def update(updates, state, W=None):
        return _scale(-schedule(state.count), updates), ScaleByScheduleState(state.count + 1)

    return Transform(init, update)


class PlateauState(NamedTuple):
    """``learning_rate``: the current (reduced) rate; ``best``: the lowest watched loss so far
    (``inf`` before the first); ``wait``: observations since it last improved.

    Examples:
        >>> reduce_on_plateau(0.1).init(None)
        PlateauState(learning_rate=0.1, best=inf, wait=0)
    """

    learning_rate: float
    best: float
    wait: int


def reduce_on_plateau(
    learning_rate: float,
    factor: float = 0.1,
    patience: int = 10,
    threshold: float = 1e-4,
    min_learning_rate: float = 0.0,
) -> Transform:
    """``updates <- -alpha updates`` with ``alpha`` kept in the state and multiplied by
    ``factor`` (not below ``min_learning_rate``) when the watched loss has not improved for
    more than ``patience`` observations (Keras' and PyTorch's ReduceLROnPlateau).

    ``observe(state, loss)``: the loss improves when ``loss < best - threshold * |best|``
    (the first one always does); then ``best <- loss``, ``wait <- 0``; else ``wait += 1``, and
    if ``wait > patience``: ``alpha <- max(alpha * factor, min_learning_rate)``, ``wait <- 0``.
    Parameters are checked by :class:`~lingrad.optim.schedules.ReduceOnPlateau`.

    Examples:
        >>> t = reduce_on_plateau(1.0, factor=0.5, patience=1)
        >>> state = t.init(None)
        >>> for loss in (3.0, 2.0, 2.0, 2.0):      # two observations without improvement
        ...     state = t.observe(state, loss)
        >>> state
        PlateauState(learning_rate=0.5, best=2.0, wait=0)
        >>> t.update(np.array([1.0]), state, None)[0]
        array([-0.5])
    """
    learning_rate = float(learning_rate)

    def init(W):
        return PlateauState(learning_rate, math.inf, 0)

    def update(updates, state, W=None):
        return _scale(-state.learning_rate, updates), state

    def observe(state, loss):
        loss, best = float(loss), state.best
        if math.isinf(best) or loss < best - threshold * abs(best):
            return PlateauState(state.learning_rate, loss, 0)
        if state.wait + 1 > patience:
            return PlateauState(max(state.learning_rate * factor, min_learning_rate), best, 0)
        return PlateauState(state.learning_rate, best, state.wait + 1)

    return Transform(init, update, observe)


def scale_by_rate(rate: float | Schedule | ReduceOnPlateau) -> Transform:
    """``updates <- -alpha updates`` for any rate an optimiser takes: a
    :class:`~lingrad.optim.schedules.ReduceOnPlateau` becomes :func:`reduce_on_plateau` with its
    fields, a float or a schedule :func:`scale_by_learning_rate` (which checks it).

    Examples:
        >>> from lingrad.optim.schedules import ReduceOnPlateau
        >>> scale_by_rate(ReduceOnPlateau(0.1)).init(None)
        PlateauState(learning_rate=0.1, best=inf, wait=0)
        >>> scale_by_rate(0.1).init(None)
        ScaleByScheduleState(count=0)
    """
    if isinstance(rate, ReduceOnPlateau):
        return reduce_on_plateau(
            rate.learning_rate, rate.factor, rate.patience, rate.threshold, rate.min_learning_rate
        )
    return scale_by_learning_rate(rate)


def current_rate(
    rate: float | Schedule | ReduceOnPlateau, count: int, plateau: PlateauState | None
) -> float:
    """The ``alpha`` that :func:`scale_by_rate` (``rate``) uses next: the plateau state's rate
    when there is one, else the float or schedule read at the step count ``count``.

    Examples:
        >>> from lingrad.optim.schedules import step_decay
        >>> current_rate(step_decay(1.0, step_size=2), 2, None)
        0.1
        >>> current_rate(None, 7, PlateauState(0.25, 1.0, 0))
        0.25
    """
    if plateau is not None:
        return plateau.learning_rate
    return as_schedule(rate)(count)


def chain(*transforms: Transform) -> Transform:
    """The transforms one after the other; the state is the tuple of their states, and the
    update comes out :func:`resolve`\\ d to an array.

    Examples:
        >>> sgd_momentum = chain(trace(0.9), scale_by_learning_rate(0.1))
        >>> state = sgd_momentum.init(np.zeros(2))
        >>> step, state = sgd_momentum.update(np.array([1.0, -2.0]), state, np.zeros(2))
        >>> step, state[0].velocity
        (array([-0.1,  0.2]), array([ 1., -2.]))
    """

    def init(W):
        return tuple(t.init(W) for t in transforms)

    def update(updates, state, W=None):
        new = []
        for t, s in zip(transforms, state, strict=True):
            updates, s = t.update(updates, s, W)
            new.append(s)
        return resolve(updates), tuple(new)

    def observe(state, loss):
        return tuple(t.observe(s, loss) for t, s in zip(transforms, state, strict=True))

    return Transform(init, update, observe)
