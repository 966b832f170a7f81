"""Diagnostics of a finished run: the chance loss, honest verdicts, advice that never
contradicts itself or the data."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest

from lingrad import datasets, optim
from lingrad.objective import Objective
from lingrad.train import Stop, StopReason, diagnose, fit
from lingrad.train.diagnostics import chance_loss

RNG = np.random.default_rng
LN10 = math.log(10)


def text(d):
    return " ".join(d["advice"])


def contradicts(d):
    """Advice that sends the learning rate both ways."""
    advice = text(d)
    return ("too high" in advice or "lower the learning rate" in advice) and (
        "too low" in advice or "raise the learning rate" in advice
    )


@pytest.mark.parametrize(("loss", "K"), [("softmax", 10), ("softmax", 3), ("logistic", 1)])
def test_chance_loss_is_the_loss_of_zero_weights(loss, K):
    """ln K for softmax (every class 1 / K), ln 2 for logistic (sigma(0) = 1/2)."""
    X = RNG(0).standard_normal((30, 4))
    y = np.arange(30) % max(K, 2)
    J = Objective(loss, X, y, lam=0.3)  # the regulariser is 0 at W = 0
    expected = math.log(K) if K > 1 else math.log(2)
    assert chance_loss(J, K) == pytest.approx(expected, rel=1e-12)


def test_random_search_near_chance_is_not_converged():
    """The issue's random search: 2.20 -> 2.15 (20 % accuracy) against ln 10 = 2.303."""
    history = {"loss": [2.20, 2.17, 2.16, 2.155, 2.15, 2.15, 2.15, 2.15, 2.15]}
    assert diagnose(history)["converged"]  # without the chance loss it looks settled ...
    d = diagnose(history, chance_loss=LN10)  # ... with it, it is not
    assert d["near_chance"] and not d["above_chance"] and not d["converged"]
    assert "chance loss 2.303" in text(d) and "converged:" not in text(d)
    json.dumps(d)


def test_a_loss_far_above_chance_is_told_to_lower_the_rate_not_raise_it():
    """``--lr 100``: 86.6 -> 45.7 with chance 2.3 is still falling, but far above chance."""
    history = {"loss": [86.6, 75.3, 66.0, 58.4, 51.5, 45.7]}
    before = diagnose(history)
    assert "raise the learning rate" in text(before)  # what it said without the chance loss
    d = diagnose(history, chance_loss=LN10)
    assert d["above_chance"] and d["still_falling"] and not d["converged"]
    assert "raise" not in text(d) and "lower the learning rate" in text(d)
    assert not contradicts(d)


def test_mini_batch_search_history_gets_one_direction():
    """The issue's mini-batch local search: 2.2152 -> 2.2486 -> 2.2159 was told both "too
    high" and "too low"."""
    history = {"loss": [2.2152, 2.2486, 2.2159]}
    for chance in (None, LN10):
        d = diagnose(history, chance_loss=chance)
        assert d["oscillating"] and d["flat"] and not contradicts(d), d["advice"]


@pytest.mark.parametrize("standardized", [True, False, None])
def test_divergence_advice_respects_what_the_caller_knows_of_the_features(standardized):
    stop = Stop(StopReason.DIVERGED, "diverged at epoch 2")
    d = diagnose({"loss": [1.0, 50.0]}, stop, standardized=standardized)
    advice = text(d)
    assert d["diverged"] and "lower the learning rate" in advice and not contradicts(d)
    assert ("or standardise the features" in advice) == (standardized is False)
    assert ("already standardised" in advice) == (standardized is True)


def test_a_diverging_regressor_on_standardised_data_is_not_told_to_standardise():
    data = datasets.load("iris")
    X = datasets.Standardizer().fit(data.X_train).transform(data.X_train)
    t = RNG(0).standard_normal((X.shape[0], 1))
    J = Objective("squared_error", X, t)
    r = fit(J, optim.get("gd", 50.0), n_columns=1, epochs=20, rng=RNG(0))
    assert r.stop is not None and r.stop.reason is StopReason.DIVERGED
    d = diagnose(r.history, r.stop, standardized=True, chance_loss=chance_loss(J, 1))
    assert "standardise the features" not in text(d) and "lower the learning rate" in text(d)


def test_advice_never_contradicts_itself_on_random_histories():
    """Every combination of shape, chance loss and stop: one direction for the rate at most,
    and "converged" only when nothing else was said and the loss is below chance."""
    rng = RNG(0)
    stops = (None, Stop(StopReason.DIVERGED, "diverged"))
    for _ in range(300):
        n = int(rng.integers(1, 12))
        loss = list(np.exp(rng.normal(0.5, 1.0) + np.cumsum(rng.normal(-0.05, 0.2, n))))
        for chance, stop in itertools.product((None, LN10, 0.5), stops):
            d = diagnose({"loss": loss}, stop, chance_loss=chance)
            assert not contradicts(d), (loss, chance, d["advice"])
            assert d["advice"] or n < 2
            if d["converged"]:
                assert d["advice"] == ["converged: the loss has levelled off"]
                assert chance is None or loss[-1] < 0.9 * chance


def test_random_search_on_digits_is_not_called_converged():
    data = datasets.load("digits")
    X = datasets.Standardizer().fit(data.X_train).transform(data.X_train)
    J = Objective("softmax", X, data.y_train)
    r = fit(J, optim.get("random"), n_columns=10, epochs=60, rng=RNG(0), evaluate_every=60)
    d = diagnose(r.history, r.stop, chance_loss=chance_loss(J, 10))
    assert r.history["train_accuracy"][-1] < 0.5
    assert d["near_chance"] and not d["converged"], (r.history["loss"][-1], d["advice"])


def test_a_converged_solver_gets_no_learning_rate_advice():
    from lingrad.train import Stop, StopReason

    stop = Stop(StopReason.CONVERGED, "converged: convergence measure 7e-05 <= tol 0.0001")
    d = diagnose({"loss": [2.3, 1.0, 0.5, 0.2, 0.1, 0.05, 0.02]}, stop, chance_loss=math.log(10))
    assert d["converged"] and not d["still_falling"]
    assert d["advice"] == ["converged: convergence measure 7e-05 <= tol 0.0001"]
    assert not any("learning rate" in a for a in d["advice"])


def test_a_solver_stopped_by_its_objective_rule_does_not_claim_measure_below_tol():
    """L-BFGS also stops when J no longer decreases in floating point (float32 data reach it
    early); the message then says so instead of a false ``measure <= tol``."""
    rng = RNG(0)
    X = rng.normal(size=(200, 5)).astype(np.float32)
    J = Objective("softmax", X, rng.integers(0, 3, 200), lam=1e-3)
    r = fit(J, optim.get("lbfgs", tol=1e-300), n_columns=3, epochs=500, rng=RNG(1))
    assert r.stop is not None and r.stop.reason is StopReason.CONVERGED
    measure = r.history["grad_norm"][-1]
    assert measure > 1e-300
    assert "stopped decreasing" in str(r.stop) and "<=" not in str(r.stop), str(r.stop)
    assert f"{measure:.3g}" in str(r.stop)


def test_a_search_is_told_about_its_budget_never_a_learning_rate():
    """A search has an evaluation budget and a step size, not a learning rate (issue 17)."""
    falling = {"loss": [2.30, 2.25, 2.20, 2.15, 2.10, 2.05]}
    budget = Stop(StopReason.BUDGET, "400 of 400 evaluations")
    told = diagnose(falling, budget, search=True)["advice"]
    assert any("raise max_evaluations" in a for a in told)
    at_chance = diagnose({"loss": [2.303, 2.302, 2.302]}, chance_loss=2.3026, search=True)
    assert any("gradient method" in a for a in at_chance["advice"])
    assert not at_chance["converged"]
    for advice in (told, at_chance["advice"], diagnose(falling, search=True)["advice"]):
        assert not any("learning rate" in a for a in advice), advice
    # the same histories without search= keep the learning-rate advice of a gradient method
    assert any("learning rate" in a for a in diagnose(falling)["advice"])
