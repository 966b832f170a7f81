"""Search optimisers: their documented updates, evaluation counts, convergence, and the
lecture's ordering random search < random local search < gradient descent on digits."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from lingrad import datasets, optim
from lingrad.objective import Objective
from lingrad.optim import GeneticSearch, RandomLocalSearch, RandomSearch
from lingrad.train import fit

RNG = np.random.default_rng


def quadratic(c):
    return lambda W: float(np.sum((W - c) ** 2))


def test_random_search_keeps_a_draw_only_if_better():
    W = np.ones((3, 2))
    opt = RandomSearch(scale=0.5, n_candidates=2)
    expected = 0.5 * np.random.default_rng(7).standard_normal((2, 3, 2))
    f = quadratic(expected[1])  # the second draw is the minimiser
    step, state = opt.update(None, opt.init(W), W, value_fn=f, rng=np.random.default_rng(7))
    np.testing.assert_allclose(W + step, expected[1], rtol=1e-14, atol=1e-15)
    assert state.evaluations == 3 and state.value == 0.0  # W itself, then two draws
    # nothing beats the minimiser: the next step is zero and costs two more evaluations
    step, state = opt.update(None, state, W + step, value_fn=f, rng=np.random.default_rng(8))
    np.testing.assert_array_equal(step, 0.0)
    assert state.evaluations == 5 and state.count == 2


def test_random_local_search_perturbs_and_keeps_if_better():
    W = np.full((2, 2), 2.0)
    opt = RandomLocalSearch(step_size=0.1)
    delta = 0.1 * np.random.default_rng(3).standard_normal((2, 2))
    better = quadratic(W + delta)  # the perturbation lands on the minimiser
    step, state = opt.update(None, opt.init(W), W, value_fn=better, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(step, delta)
    assert state.value == 0.0 and state.evaluations == 2
    worse = quadratic(W - 10.0)
    step, state = opt.update(None, opt.init(W), W, value_fn=worse, rng=np.random.default_rng(3))
    f_W = worse(W)
    if worse(W + delta) >= f_W:
        np.testing.assert_array_equal(step, 0.0)
        assert state.value == f_W


def test_genetic_generation_zero_elitism_and_counts():
    W = np.zeros((3, 2))
    f = quadratic(np.full((3, 2), 1.0))
    opt = GeneticSearch(population=10, elite=2, tournament=3, mutation_rate=0.5)
    rng = np.random.default_rng(0)
    step, state = opt.update(None, opt.init(W), W, value_fn=f, rng=rng)
    np.testing.assert_array_equal(state.population[0], W)  # generation 0 contains W
    assert state.evaluations == 10 and state.population.shape == (10, 3, 2)
    np.testing.assert_array_equal(W + step, state.population[np.argmin(state.fitness)])
    values = [state.value]
    for _ in range(30):
        elite_before = state.population[np.argsort(state.fitness, kind="stable")[:2]]
        W = W + step
        step, state = opt.update(None, state, W, value_fn=f, rng=rng)
        values.append(state.value)
        np.testing.assert_array_equal(state.population[:2], elite_before)  # passed unchanged
        np.testing.assert_allclose(state.fitness, [f(w) for w in state.population])
    assert state.evaluations == 10 + 30 * 8
    assert all(b <= a for a, b in itertools.pairwise(values))  # elitism: monotone
    assert values[-1] < 0.1 * values[0]


def test_genetic_selection_is_a_tournament():
    opt = GeneticSearch(population=6, tournament=3)
    fitness = np.array([5.0, 3.0, 9.0, 1.0, 7.0, 2.0])
    # each winner is the lowest value among `tournament` entrants drawn with replacement
    chosen = opt._select(fitness, np.random.default_rng(0), 50)
    entrants = np.random.default_rng(0).integers(0, 6, size=(50, 3))
    assert all(fitness[c] == fitness[e].min() for c, e in zip(chosen, entrants, strict=True))
    # so the best wins with probability 1 - (5/6)^3, the worst only against itself: (1/6)^3
    many = opt._select(fitness, np.random.default_rng(1), 6000)
    assert np.mean(many == 3) == pytest.approx(1 - (5 / 6) ** 3, abs=0.03)
    assert np.mean(many == 2) == pytest.approx((1 / 6) ** 3, abs=0.004)
    opt1 = GeneticSearch(population=6, tournament=1)
    chosen = opt1._select(fitness, np.random.default_rng(0), 600)
    assert len(set(chosen.tolist())) == 6  # a tournament of one is uniform sampling


def test_genetic_crossover_children_mix_parents():
    W = np.zeros((4, 3))
    opt = GeneticSearch(population=4, elite=0, mutation_rate=1e-12, mutation_scale=1.0)
    rng = np.random.default_rng(1)
    _, state = opt.update(None, opt.init(W), W, value_fn=quadratic(W), rng=rng)
    parents = state.population.copy()
    _, state = opt.update(None, state, W, value_fn=quadratic(W), rng=rng)
    for child in state.population:  # no mutation: every weight comes from some parent
        assert all(np.any(np.isclose(parents[:, i, j], child[i, j])) for i, j in np.ndindex(4, 3))


@pytest.mark.parametrize(
    "opt", [RandomLocalSearch(step_size=0.05), GeneticSearch(mutation_scale=0.05)]
)
def test_search_converges_on_a_convex_quadratic(opt):
    c = np.random.default_rng(2).standard_normal((3, 2))
    f = quadratic(c)
    W, rng = np.zeros((3, 2)), np.random.default_rng(0)
    state = opt.init(W)
    for _ in range(600):
        step, state = opt.update(None, state, W, value_fn=f, rng=rng)
        W = W + step
    assert f(W) < 0.01 * f(np.zeros((3, 2)))


def test_random_search_improves_on_a_quadratic():
    c = np.full((2, 2), 0.3)
    f = quadratic(c)
    W, rng, opt = np.full((2, 2), 5.0), np.random.default_rng(0), RandomSearch(scale=0.5)
    state = opt.init(W)
    for _ in range(300):
        step, state = opt.update(None, state, W, value_fn=f, rng=rng)
        W = W + step
    assert f(W) < 0.2 < f(np.zeros((2, 2)))


def test_float32_stays_float32():
    W = np.zeros((3, 2), dtype=np.float32)
    for opt in (RandomSearch(), RandomLocalSearch(), GeneticSearch(population=4)):
        step, _ = opt.update(
            None, opt.init(W), W, value_fn=quadratic(1.0), rng=np.random.default_rng(0)
        )
        assert step.dtype == np.float32


def test_bad_input():
    W = np.zeros((2, 2))
    with pytest.raises(TypeError, match=r"rng: expected a numpy\.random\.Generator"):
        RandomSearch().update(None, RandomSearch().init(W), W, value_fn=quadratic(0.0), rng=0)
    with pytest.raises(ValueError, match="elite: expected fewer than the population"):
        GeneticSearch(population=4, elite=4)
    with pytest.raises(ValueError, match="mutation_rate: expected a probability"):
        GeneticSearch(mutation_rate=2.0)
    with pytest.raises(ValueError, match="learning_rate: expected a finite number > 0"):
        RandomLocalSearch(step_size=-0.1)
    with pytest.raises(ValueError, match="n_candidates: expected an integer >= 1"):
        RandomSearch(n_candidates=0)


@pytest.fixture(scope="module")
def digits():
    data = datasets.load("digits")
    scaler = datasets.Standardizer().fit(data.X_train)
    return data, scaler.transform(data.X_train), scaler.transform(data.X_val)


BUDGET = 400


@pytest.mark.slow
def test_random_lt_local_lt_gradient_descent_on_digits(digits):
    """The lecture's ordering at an equal budget of objective evaluations, on two seeds."""
    data, X_train, X_val = digits
    J = Objective("softmax", X_train, data.y_train, lam=1e-3)
    accuracy = {}
    for seed in (0, 1):
        for name in ("random", "local", "gd"):
            r = fit(
                J,
                optim.get(name),
                n_columns=10,
                epochs=BUDGET,
                rng=np.random.default_rng(seed),
                validation=(X_val, data.y_val),
                max_evaluations=BUDGET,
            )
            assert r.n_evaluations == BUDGET
            accuracy[name, seed] = r.history["val_accuracy"][-1]
    print(f"\nvalidation accuracy on digits after {BUDGET} objective evaluations:")
    for name in ("random", "local", "gd"):
        print(f"  {name:7s} " + "  ".join(f"seed {s}: {accuracy[name, s]:.4f}" for s in (0, 1)))
    for seed in (0, 1):
        assert accuracy["random", seed] + 0.2 < accuracy["local", seed]
        assert accuracy["local", seed] + 0.03 < accuracy["gd", seed]
        assert accuracy["random", seed] > 0.1 - 0.05  # better than nothing, not by much
        assert accuracy["gd", seed] > 0.93 and math.isfinite(accuracy["local", seed])


@pytest.mark.parametrize(("name", "rate"), [("random", 1.0), ("local", 0.3), ("genetic", 0.3)])
def test_search_separates_a_separable_toy_set(name, rate):
    rng = RNG(0)
    centres = np.array([[0.0, 4.0], [4.0, -2.0], [-4.0, -2.0]])
    y = np.repeat(np.arange(3), 20)
    X = centres[y] + 0.5 * rng.standard_normal((60, 2))
    J = Objective("softmax", X, y)
    r = fit(J, optim.get(name, rate), n_columns=3, epochs=100, rng=RNG(1), evaluate_every=100)
    assert r.history["train_accuracy"][-1] == 1.0
    assert r.history["loss"][-1] < 0.05 < np.log(3)
    assert r.step_history["loss"] == sorted(r.step_history["loss"], reverse=True)  # monotone


@pytest.mark.parametrize(
    "opt",
    [
        GeneticSearch(population=20, elite=2),
        RandomSearch(n_candidates=3),
        RandomLocalSearch(0.1, n_candidates=7),
    ],
    ids=["genetic", "random", "local"],
)
def test_an_update_never_spends_past_max_evaluations(opt):
    """Genetic search at P = 20, elite 2 spends 20 + 18 k: without the budget the 23rd
    generation ends at 416 of 400; with it the last generation is truncated at exactly 400."""
    W, f, rng = np.ones((3, 2)), quadratic(0.0), RNG(0)
    state = opt.init(W)
    counts = []
    for _ in range(200):
        step, state = opt.update(None, state, W, value_fn=f, rng=rng, max_evaluations=BUDGET)
        W = W + step
        counts.append(state.evaluations)
        if counts[-1] == BUDGET:
            break
    assert max(counts) == BUDGET == counts[-1]
    step, after = opt.update(None, state, W, value_fn=f, rng=rng, max_evaluations=BUDGET)
    assert after.evaluations == BUDGET and after.value == state.value and not step.any()
    assert math.isfinite(state.value) and state.value <= f(np.ones((3, 2)))
    if isinstance(opt, GeneticSearch):  # the unbudgeted run overshoots: the test can fail
        free = opt.init(np.ones((3, 2)))
        for _ in range(23):
            _, free = opt.update(None, free, np.ones((3, 2)), value_fn=f, rng=RNG(0))
        assert free.evaluations == 416
        assert np.isinf(state.fitness).sum() == 18 - (BUDGET - 398)  # 2 of 18 children ran


def test_fit_refuses_mini_batches_for_search():
    """Keep-the-best compares values, which must come from one fixed batch."""
    X = RNG(0).standard_normal((40, 2))
    J = Objective("softmax", X, np.arange(40) % 2)
    with pytest.raises(ValueError, match=r"batch_size: expected the full batch \(40\).*got 32"):
        fit(J, RandomLocalSearch(0.1), n_columns=2, epochs=1, batch_size=32, rng=RNG(0))
    r = fit(J, RandomLocalSearch(0.1), n_columns=2, epochs=1, batch_size=40, rng=RNG(0))
    assert r.n_epochs == 1
    fit(J, optim.get("sgd", 0.1), n_columns=2, epochs=1, batch_size=32, rng=RNG(0))  # gradient: ok
