"""Learning-rate schedules: functions ``step -> learning rate``.

A learning rate anywhere in lingrad is a float (constant) or a schedule; :func:`as_schedule`
turns either into a schedule.
"""

from __future__ import annotations

from collections.abc import Callable

from lingrad._validation import check_positive, fail

Schedule = Callable[[int], float]


def constant(learning_rate: float) -> Schedule:
    """``alpha_t = alpha_0`` for every step ``t``.

    >>> constant(0.1)(1000)
    0.1
    """
    learning_rate = check_positive("learning_rate", learning_rate)

    def schedule(step: int) -> float:
        return learning_rate

    return schedule


def as_schedule(learning_rate: float | Schedule) -> Schedule:
    """A schedule from a float (constant) or an existing schedule (returned as is)."""
    if callable(learning_rate):
        return learning_rate
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, int | float):
        fail("learning_rate", "a number > 0 or a schedule step -> rate", type(learning_rate))
    return constant(learning_rate)
