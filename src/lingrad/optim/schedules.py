"""Learning-rate schedules: functions ``step -> learning rate``.

A learning rate anywhere in lingrad is a float (constant) or a schedule; :func:`as_schedule`
turns either into a schedule. The step ``t = 0, 1, 2, ...`` is the optimiser's step count (one
per mini-batch); pass ``decay_steps = steps per epoch`` to decay once per epoch.

Gradient descent converges only if the rate is reduced over training (the lecture's condition);
each schedule below is one way of doing it:

======================  =======================================================================
``constant``            ``alpha_t = alpha_0``
``step_decay``          ``alpha_t = alpha_0 * gamma ** floor(t / step_size)``
``exponential``         ``alpha_t = alpha_0 * rate ** (t / decay_steps)`` (floored if staircase)
``inverse_time``        ``alpha_t = alpha_0 / (1 + rate * t / decay_steps)``
``cosine``              ``alpha_t = a_min + (alpha_0 - a_min) (1 + cos(pi min(t, T) / T)) / 2``
``ReduceOnPlateau``     ``alpha_0``, multiplied by ``factor`` when a watched loss stalls
======================  =======================================================================
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from lingrad._validation import check_int, check_positive, fail

Schedule = Callable[[int], float]


def _fraction(name: str, value: float) -> float:
    value = check_positive(name, value)
    if value >= 1.0:
        fail(name, "a factor in (0, 1)", value)
    return value


def constant(learning_rate: float) -> Schedule:
    """``alpha_t = alpha_0`` for every step ``t``.

    Examples:
        >>> constant(0.1)(1000)
        0.1
    """
    learning_rate = check_positive("learning_rate", learning_rate)

    def schedule(step: int) -> float:
        return learning_rate

    return schedule


def step_decay(learning_rate: float, step_size: int, gamma: float = 0.1) -> Schedule:
    """``alpha_t = alpha_0 * gamma ** floor(t / step_size)``: divide by ``1/gamma`` every
    ``step_size`` steps.

    Examples:
        >>> s = step_decay(1.0, step_size=10, gamma=0.5)
        >>> s(0), s(9), s(10), s(25)
        (1.0, 1.0, 0.5, 0.25)
    """
    learning_rate = check_positive("learning_rate", learning_rate)
    step_size = check_int("step_size", step_size)
    gamma = _fraction("gamma", gamma)

    def schedule(step: int) -> float:
        return learning_rate * gamma ** (step // step_size)

    return schedule


def exponential(
    learning_rate: float, decay_rate: float, decay_steps: int = 1, *, staircase: bool = False
) -> Schedule:
    """``alpha_t = alpha_0 * decay_rate ** (t / decay_steps)``; with ``staircase`` the exponent
    is ``floor(t / decay_steps)`` (one decay per ``decay_steps``, e.g. per epoch).

    Examples:
        >>> s = exponential(1.0, 0.5, decay_steps=2)
        >>> s(0), s(1), s(2), s(4)
        (1.0, 0.7071067811865476, 0.5, 0.25)
        >>> exponential(1.0, 0.5, 2, staircase=True)(3)
        0.5
    """
    learning_rate = check_positive("learning_rate", learning_rate)
    decay_rate = check_positive("decay_rate", decay_rate)
    if decay_rate > 1.0:
        fail("decay_rate", "a factor in (0, 1]", decay_rate)
    decay_steps = check_int("decay_steps", decay_steps)

    def schedule(step: int) -> float:
        exponent = step // decay_steps if staircase else step / decay_steps
        return learning_rate * decay_rate**exponent

    return schedule


def inverse_time(learning_rate: float, decay_rate: float = 1.0, decay_steps: int = 1) -> Schedule:
    """``alpha_t = alpha_0 / (1 + decay_rate * t / decay_steps)``: the ``1/t`` decay for which
    SGD provably converges on strongly convex problems (``sum alpha_t = inf``,
    ``sum alpha_t^2 < inf``).

    Examples:
        >>> s = inverse_time(1.0, decay_rate=1.0)
        >>> s(0), s(1), s(3)
        (1.0, 0.5, 0.25)
    """
    learning_rate = check_positive("learning_rate", learning_rate)
    decay_rate = check_positive("decay_rate", decay_rate)
    decay_steps = check_int("decay_steps", decay_steps)

    def schedule(step: int) -> float:
        return learning_rate / (1.0 + decay_rate * step / decay_steps)

    return schedule


def cosine(learning_rate: float, total_steps: int, min_learning_rate: float = 0.0) -> Schedule:
    """``alpha_t = a_min + (alpha_0 - a_min) * (1 + cos(pi * min(t, T) / T)) / 2`` with
    ``T = total_steps``: from ``alpha_0`` down to ``a_min`` along half a cosine, then flat.

    Examples:
        >>> s = cosine(1.0, total_steps=10)
        >>> s(0), s(5), round(s(10), 12), round(s(20), 12)
        (1.0, 0.5, 0.0, 0.0)
    """
    learning_rate = check_positive("learning_rate", learning_rate)
    total_steps = check_int("total_steps", total_steps)
    min_learning_rate = check_positive("min_learning_rate", min_learning_rate, allow_zero=True)
    if min_learning_rate > learning_rate:
        fail("min_learning_rate", f"at most learning_rate ({learning_rate})", min_learning_rate)

    def schedule(step: int) -> float:
        t = min(step, total_steps) / total_steps
        return min_learning_rate + (learning_rate - min_learning_rate) * 0.5 * (
            1.0 + math.cos(math.pi * t)
        )

    return schedule


@dataclass(frozen=True)
class ReduceOnPlateau:
    """A learning rate ``alpha`` multiplied by ``factor`` each time a watched loss has not
    improved for more than ``patience`` observations (Keras' and PyTorch's ReduceLROnPlateau).

    Give it as the ``learning_rate`` of :class:`~lingrad.optim.SGD`,
    :class:`~lingrad.optim.GradientDescent` or :class:`~lingrad.optim.Adam`: the optimiser
    turns it into a :func:`~lingrad.optim.transforms.reduce_on_plateau` transform (through
    :func:`~lingrad.optim.transforms.scale_by_rate`) whose state
    (the current rate, the best loss, the wait) lives in the optimiser state; the search
    optimisers take it as their scale (step size, mutation scale). The object itself
    is an immutable description (hashable; one object may serve many optimisers). A loss
    ``m`` improves when ``m < best - threshold * |best|``; the trainer calls
    ``optimizer.observe(state, loss)`` once per epoch with the validation loss (the training
    loss without a validation set).

    Examples:
        >>> import numpy as np
        >>> from lingrad.optim import SGD
        >>> opt = SGD(ReduceOnPlateau(1.0, factor=0.5, patience=1))
        >>> state = opt.init(np.zeros(1))
        >>> for m in (3.0, 2.0, 2.0, 2.0):      # two observations without improvement
        ...     state = opt.observe(state, m)
        >>> opt.rate(state)
        0.5
    """

    learning_rate: float
    factor: float = 0.1
    patience: int = 10
    threshold: float = 1e-4
    min_learning_rate: float = 0.0

    def __post_init__(self):
        check = object.__setattr__
        check(self, "learning_rate", check_positive("learning_rate", self.learning_rate))
        check(self, "factor", _fraction("factor", self.factor))
        check(self, "patience", check_int("patience", self.patience, minimum=0))
        check(self, "threshold", check_positive("threshold", self.threshold, allow_zero=True))
        check(
            self,
            "min_learning_rate",
            check_positive("min_learning_rate", self.min_learning_rate, allow_zero=True),
        )


def as_schedule(learning_rate: float | Schedule | ReduceOnPlateau) -> Schedule:
    """A schedule from a float (constant) or an existing schedule (returned as is).

    Examples:
        >>> as_schedule(0.1)(1000)
        0.1
        >>> s = step_decay(1.0, step_size=10)
        >>> as_schedule(s) is s, round(s(25), 6)
        (True, 0.01)
    """
    if isinstance(learning_rate, ReduceOnPlateau):
        fail(
            "learning_rate",
            "a number > 0 or a schedule step -> rate (an optimiser takes a ReduceOnPlateau)",
            repr(learning_rate),
        )
    if callable(learning_rate):
        return learning_rate
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, int | float):
        fail("learning_rate", "a number > 0 or a schedule step -> rate", type(learning_rate))
    return constant(learning_rate)


def get(
    name: str,
    learning_rate: float,
    *,
    steps_per_epoch: int = 1,
    epochs: int = 1,
    decay: float | None = None,
) -> Schedule | ReduceOnPlateau:
    """A schedule by its command-line name, its decay counted in epochs.

    ``decay`` is the per-epoch factor of ``step`` (every 10 epochs: default 0.5), ``exponential``
    (default 0.97) and ``plateau`` (default 0.5), and the per-epoch rate of ``inverse_time``
    (default 0.1); ``cosine`` runs down to 0 over all ``epochs``.

    Examples:
        >>> get("exponential", 0.1, steps_per_epoch=10, decay=0.5)(20)
        0.025
        >>> p = get("plateau", 0.1)
        >>> type(p).__name__, p.learning_rate, p.factor, p.patience
        ('ReduceOnPlateau', 0.1, 0.5, 5)
    """
    if name not in SCHEDULES:
        fail("schedule", f"one of {sorted(SCHEDULES)}", repr(name))
    spe = check_int("steps_per_epoch", steps_per_epoch)
    epochs = check_int("epochs", epochs)
    if name == "constant":
        return constant(learning_rate)
    if name == "step":
        return step_decay(learning_rate, 10 * spe, 0.5 if decay is None else decay)
    if name == "exponential":
        return exponential(learning_rate, 0.97 if decay is None else decay, spe, staircase=True)
    if name == "inverse_time":
        return inverse_time(learning_rate, 0.1 if decay is None else decay, spe)
    if name == "cosine":
        return cosine(learning_rate, spe * epochs)
    return ReduceOnPlateau(learning_rate, factor=0.5 if decay is None else decay, patience=5)


SCHEDULES: tuple[str, ...] = (
    "constant",
    "step",
    "exponential",
    "inverse_time",
    "cosine",
    "plateau",
)
