"""Learning-rate schedules give their documented values, and bad parameters are refused."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lingrad.optim import SGD, state_from_arrays, state_to_arrays
from lingrad.optim import schedules as S

# (schedule, step, value computed by hand from the docstring's formula)
TABLE = [
    (S.constant(0.3), 0, 0.3),
    (S.constant(0.3), 10**6, 0.3),
    (S.step_decay(1.0, step_size=3, gamma=0.5), 0, 1.0),
    (S.step_decay(1.0, step_size=3, gamma=0.5), 2, 1.0),
    (S.step_decay(1.0, step_size=3, gamma=0.5), 3, 0.5),
    (S.step_decay(1.0, step_size=3, gamma=0.5), 7, 0.25),
    (S.exponential(2.0, 0.9), 0, 2.0),
    (S.exponential(2.0, 0.9), 3, 2.0 * 0.729),
    (S.exponential(2.0, 0.81, decay_steps=2), 1, 2.0 * 0.9),
    (S.exponential(2.0, 0.5, decay_steps=4, staircase=True), 7, 1.0),
    (S.exponential(2.0, 0.5, decay_steps=4, staircase=True), 8, 0.5),
    (S.inverse_time(1.0, decay_rate=0.5), 0, 1.0),
    (S.inverse_time(1.0, decay_rate=0.5), 2, 0.5),
    (S.inverse_time(1.0, decay_rate=0.5, decay_steps=10), 20, 0.5),
    (S.inverse_time(3.0, decay_rate=1.0), 5, 0.5),
    (S.cosine(1.0, total_steps=4), 0, 1.0),
    (S.cosine(1.0, total_steps=4), 1, (1 + math.sqrt(0.5)) / 2),
    (S.cosine(1.0, total_steps=4), 2, 0.5),
    (S.cosine(1.0, total_steps=4), 4, 0.0),
    (S.cosine(1.0, total_steps=4), 9, 0.0),
    (S.cosine(1.0, total_steps=2, min_learning_rate=0.2), 1, 0.6),
]


@pytest.mark.parametrize(("schedule", "step", "expected"), TABLE)
def test_documented_values(schedule, step, expected):
    assert schedule(step) == pytest.approx(expected, rel=1e-12, abs=1e-15)


class Plateau:
    """An SGD with a ReduceOnPlateau rate and its state, observed the way the trainer does."""

    def __init__(self, *args, **kwargs):
        given = args and isinstance(args[0], S.ReduceOnPlateau)
        self.opt = SGD(args[0] if given else S.ReduceOnPlateau(*args, **kwargs))
        self.state = self.opt.init(np.zeros(1))

    def observe(self, metric):
        self.state = self.opt.observe(self.state, metric)

    def __call__(self, step):
        return self.opt.rate(self.state)


def test_reduce_on_plateau_waits_patience_then_multiplies():
    s = Plateau(1.0, factor=0.5, patience=2, threshold=0.0)
    rates = []
    for metric in (5.0, 4.0, 4.0, 4.0, 4.0, 3.0, 3.0, 3.0, 3.0):
        s.observe(metric)
        rates.append(s(0))
    # improvement resets the count; the 3rd observation without improvement halves the rate
    assert rates == [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.25]


def test_reduce_on_plateau_threshold_and_floor():
    s = Plateau(1.0, factor=0.1, patience=0, threshold=0.1, min_learning_rate=0.05)
    s.observe(1.0)
    s.observe(0.95)  # not 10 % better than 1.0: no improvement
    assert s(0) == pytest.approx(0.1)
    s.observe(0.5)  # better
    assert s(0) == pytest.approx(0.1)
    s.observe(0.5)
    assert s(0) == 0.05  # floored at min_learning_rate


def test_reduce_on_plateau_state_round_trip():
    a = Plateau(1.0, factor=0.5, patience=1)
    for m in (3.0, 2.0, 2.0, 2.0):
        a.observe(m)
    b = Plateau(1.0, factor=0.5, patience=1)
    b.state = state_from_arrays(b.state, *state_to_arrays(a.state))
    for m in (2.0, 1.0, 1.0):
        a.observe(m)
        b.observe(m)
        assert a(0) == b(0)


def test_as_schedule():
    assert S.as_schedule(0.25)(99) == 0.25
    f = S.cosine(1.0, 10)
    assert S.as_schedule(f) is f
    with pytest.raises(ValueError, match="learning_rate: expected"):
        S.as_schedule("fast")


@pytest.mark.parametrize("name", S.SCHEDULES)
def test_get_by_name_decays_per_epoch(name):
    s = S.get(name, 0.1, steps_per_epoch=10, epochs=20)
    s = Plateau(s) if name == "plateau" else s
    assert s(0) == pytest.approx(0.1)
    if name not in ("constant", "plateau"):
        assert s(10 * 19) < 0.1  # has decayed by the last epoch
    if name == "exponential":  # staircase: constant within an epoch, decay 0.97 per epoch
        assert s(9) == 0.1
        assert s(10) == pytest.approx(0.097)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: S.constant(0.0), "learning_rate: expected a finite number > 0, got 0.0"),
        (lambda: S.constant(-0.1), "learning_rate: expected a finite number > 0"),
        (lambda: S.step_decay(0.1, 0), "step_size: expected an integer >= 1"),
        (lambda: S.step_decay(0.1, 5, gamma=1.5), "gamma: expected a factor in"),
        (lambda: S.exponential(0.1, 1.5), "decay_rate: expected a factor in"),
        (lambda: S.exponential(0.1, 0.5, decay_steps=0), "decay_steps: expected"),
        (lambda: S.inverse_time(0.1, decay_rate=-1.0), "decay_rate: expected"),
        (lambda: S.cosine(0.1, 0), "total_steps: expected"),
        (lambda: S.cosine(0.1, 10, min_learning_rate=0.5), "min_learning_rate: expected"),
        (lambda: S.ReduceOnPlateau(0.1, patience=-1), "patience: expected an integer >= 0"),
        (lambda: S.ReduceOnPlateau(0.1, factor=1.0), "factor: expected a factor in"),
        (lambda: S.get("warmup", 0.1), "schedule: expected one of"),
    ],
)
def test_bad_parameters(make, match):
    with pytest.raises(ValueError, match=match):
        make()
