"""Gradient optimisers: hand-computed steps, PyTorch's trajectories, convergence, the registry."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
from conftest import require

from lingrad import optim
from lingrad.objective import Objective
from lingrad.optim import (
    SGD,
    Adam,
    GeneticSearch,
    GradientDescent,
    RandomLocalSearch,
    RandomSearch,
    ReduceOnPlateau,
    SearchProgress,
    state_from_arrays,
    state_to_arrays,
)
from lingrad.optim import transforms as T
from lingrad.optim.schedules import as_schedule, exponential
from lingrad.train import fit

RNG = np.random.default_rng
G1 = np.array([[1.0, -2.0], [0.5, 4.0]])
G2 = np.array([[-1.0, 1.0], [2.0, 0.0]])
W0 = np.array([[0.1, 0.2], [-0.3, 0.4]])


def two_steps(opt, grads=(G1, G2)):
    state = opt.init(W0)
    W, steps = W0.copy(), []
    for g in grads:
        step, state = opt.update(g, state, W)
        steps.append(step)
        W = W + step
    return steps, state


def test_sgd_hand_step():
    (s1, s2), state = two_steps(SGD(0.1))
    np.testing.assert_allclose(s1, -0.1 * G1, rtol=0, atol=1e-15)
    np.testing.assert_allclose(s2, -0.1 * G2, rtol=0, atol=1e-15)
    assert state.count == 2 and state.velocity is None


def test_gradient_descent_is_the_sgd_update():
    a, _ = two_steps(GradientDescent(0.3))
    b, _ = two_steps(SGD(0.3))
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)


def test_momentum_hand_steps():
    # v1 = g1, step1 = -a g1; v2 = mu g1 + g2, step2 = -a (mu g1 + g2)
    (s1, s2), state = two_steps(SGD(0.1, momentum=0.9))
    np.testing.assert_allclose(s1, -0.1 * G1, atol=1e-15)
    np.testing.assert_allclose(s2, -0.1 * (0.9 * G1 + G2), atol=1e-15)
    np.testing.assert_allclose(state.velocity, 0.9 * G1 + G2, atol=1e-15)


def test_nesterov_hand_steps():
    # step = -a (g + mu v) with v the updated velocity
    (s1, s2), _ = two_steps(SGD(0.1, momentum=0.5, nesterov=True))
    np.testing.assert_allclose(s1, -0.1 * (G1 + 0.5 * G1), atol=1e-15)
    v2 = 0.5 * G1 + G2
    np.testing.assert_allclose(s2, -0.1 * (G2 + 0.5 * v2), atol=1e-15)


def test_adam_hand_steps():
    b1, b2, eps, a = 0.9, 0.999, 1e-8, 0.01
    (s1, s2), state = two_steps(Adam(a, b1, b2, eps))
    m1, v1 = (1 - b1) * G1, (1 - b2) * G1**2
    m2, v2 = b1 * m1 + (1 - b1) * G2, b2 * v1 + (1 - b2) * G2**2
    np.testing.assert_allclose(s1, -a * (m1 / 0.1) / (np.sqrt(v1 / 0.001) + eps), rtol=1e-12)
    expected2 = -a * (m2 / (1 - b1**2)) / (np.sqrt(v2 / (1 - b2**2)) + eps)
    np.testing.assert_allclose(s2, expected2, rtol=1e-12)
    assert state.count == 2


def test_schedule_is_read_at_the_step_count():
    (s1, s2), _ = two_steps(SGD(exponential(1.0, 0.5)))
    np.testing.assert_allclose(s1, -1.0 * G1)
    np.testing.assert_allclose(s2, -0.5 * G2)


def test_update_leaves_inputs_alone_and_keeps_float32():
    W = W0.astype(np.float32)
    g = G1.astype(np.float32)
    for opt in (SGD(0.1, momentum=0.9, nesterov=True), Adam(0.1)):
        W_before, g_before = W.copy(), g.copy()
        step, _ = opt.update(g, opt.init(W), W)
        assert step.dtype == np.float32
        np.testing.assert_array_equal(W, W_before)
        np.testing.assert_array_equal(g, g_before)


@pytest.mark.parametrize(
    ("name", "torch_opt"),
    [
        ("sgd", lambda t, p: t.optim.SGD(p, lr=0.05)),
        ("momentum", lambda t, p: t.optim.SGD(p, lr=0.05, momentum=0.9)),
        ("nesterov", lambda t, p: t.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True)),
        ("adam", lambda t, p: t.optim.Adam(p, lr=0.05)),
    ],
)
def test_trajectory_matches_pytorch(name, torch_opt):
    """Ten steps on a quadratic ``f(W) = sum(a * (W - c)^2) / 2``: the same iterates."""
    torch = require("torch")
    rng = np.random.default_rng(0)
    a, c = rng.uniform(0.5, 3.0, (4, 3)), rng.standard_normal((4, 3))
    W = rng.standard_normal((4, 3))
    opt = optim.get(name, 0.05)
    state = opt.init(W)
    p = torch.tensor(W.copy(), requires_grad=True, dtype=torch.float64)
    topt = torch_opt(torch, [p])
    for _ in range(10):
        step, state = opt.update(a * (W - c), state, W)
        W = W + step
        topt.zero_grad()
        (0.5 * torch.tensor(a) * (p - torch.tensor(c)) ** 2).sum().backward()
        topt.step()
    np.testing.assert_allclose(W, p.detach().numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", ["sgd", "gd", "momentum", "nesterov", "adam"])
def test_converges_on_a_convex_quadratic(name):
    rng = np.random.default_rng(1)
    a, c = rng.uniform(0.5, 2.0, (5, 2)), rng.standard_normal((5, 2))
    opt = optim.get(name, 0.05 if name == "adam" else 0.3)
    W = np.zeros((5, 2))
    state = opt.init(W)
    for _ in range(1000):
        step, state = opt.update(a * (W - c), state, W)
        W = W + step
    np.testing.assert_allclose(W, c, atol=1e-4)


def separable_toy(seed=0, n=60):
    """Three well-separated blobs in 2-D."""
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 4.0], [4.0, -2.0], [-4.0, -2.0]])
    y = np.repeat(np.arange(3), n // 3)
    return centres[y] + 0.5 * rng.standard_normal((n, 2)), y


@pytest.mark.parametrize("name", ["sgd", "gd", "momentum", "nesterov", "adam"])
def test_softmax_regression_on_a_separable_toy_set(name):
    X, y = separable_toy()
    J = Objective("softmax", X, y)
    batch = None if optim.entry(name).full_batch else 8
    r = fit(
        J, optim.get(name), n_columns=3, epochs=30, batch_size=batch, rng=RNG(0), evaluate_every=30
    )
    assert r.history["train_accuracy"][-1] == 1.0
    assert r.history["loss"][-1] < 0.05 < np.log(3)  # from ln 3 at the start


def test_registry_defaults_and_overrides():
    names = ("sgd", "gd", "momentum", "nesterov", "adam", "random", "local", "genetic", "lbfgs")
    names += ("newton",)
    assert names == optim.NAMES[: len(names)]
    assert {"continuation", "fista"} <= set(optim.NAMES)
    assert optim.get("momentum") == SGD(0.02, momentum=0.9)
    assert optim.get("adam", 0.1, beta1=0.5) == Adam(0.1, beta1=0.5)
    assert optim.get("genetic", 0.3).mutation_scale == 0.3
    assert optim.get("random", 2.0).scale == 2.0
    assert isinstance(optim.get("gd"), GradientDescent)


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: optim.get("bfgs"), ValueError, "optimizer: expected one of"),
        (lambda: optim.get("lbfgs", 0.1), ValueError, "learning_rate: expected None for the"),
        (lambda: optim.get("sgd", 0.0), ValueError, "learning_rate: expected a finite number > 0"),
        (lambda: optim.get("adam", -1e-3), ValueError, "learning_rate: expected"),
        (lambda: optim.get("sgd", "fast"), ValueError, "learning_rate: expected"),
        (lambda: optim.get("sgd", momentum=1.0), ValueError, r"momentum: expected a number in"),
        (lambda: SGD(0.1, nesterov=True), ValueError, "nesterov: expected momentum > 0"),
        (lambda: Adam(0.1, beta2=1.0), ValueError, "beta2: expected"),
        (lambda: optim.get("sgd", betas=(0.9, 0.9)), TypeError, "hyperparameters: expected"),
    ],
)
def test_bad_hyperparameters(make, error, match):
    with pytest.raises(error, match=match):
        make()


@pytest.mark.slow
@pytest.mark.parametrize("name", ["sgd", "gd", "momentum", "nesterov", "adam"])
def test_registry_defaults_train_well_on_standardised_digits(name):
    from lingrad import datasets

    data = datasets.load("digits")
    scaler = datasets.Standardizer().fit(data.X_train)
    J = Objective("softmax", scaler.transform(data.X_train), data.y_train, lam=1e-3)
    entry = optim.entry(name)
    r = fit(
        J,
        optim.get(name),
        n_columns=10,
        epochs=200 if entry.full_batch else 20,
        batch_size=None if entry.full_batch else 32,
        rng=RNG(0),
        validation=(scaler.transform(data.X_val), data.y_val),
    )
    assert r.stop is None
    assert r.history["val_accuracy"][-1] >= 0.93


# ------------------------------------------------------------------------------------------
# Composition: transforms, chains, the old one-line formulas as oracles, plateau, state
# ------------------------------------------------------------------------------------------

GRADS = [G1, G2, -0.5 * G1 + G2, 3.0 * G2]


def old_sgd_steps(rate, mu, nesterov, grads):
    """The pre-chain SGD.update written out: the oracle, bit for bit."""
    steps, velocity = [], np.zeros_like(grads[0])
    for t, g in enumerate(grads):
        r = as_schedule(rate)(t)
        if not mu:
            steps.append(-r * g)
            continue
        velocity = mu * velocity + g
        direction = g + mu * velocity if nesterov else velocity
        steps.append(-r * direction)
    return steps


def old_adam_steps(rate, b1, b2, eps, grads):
    steps, m, v = [], np.zeros_like(grads[0]), np.zeros_like(grads[0])
    for count, g in enumerate(grads):
        r, t = as_schedule(rate)(count), count + 1
        m = b1 * m + (1.0 - b1) * g
        v = b2 * v + (1.0 - b2) * (g * g)
        m_hat, v_hat = m / (1.0 - b1**t), v / (1.0 - b2**t)
        steps.append((-r * m_hat / (np.sqrt(v_hat) + eps)).astype(g.dtype, copy=False))
    return steps


@pytest.mark.parametrize(
    ("rate", "mu", "nesterov"),
    [(0.1, 0.0, False), (0.03, 0.9, False), (0.03, 0.7, True), (exponential(0.3, 0.5), 0.9, True)],
)
def test_sgd_steps_equal_the_old_formula_bit_for_bit(rate, mu, nesterov):
    steps, _ = two_steps(SGD(rate, momentum=mu, nesterov=nesterov), GRADS)
    for got, want in zip(steps, old_sgd_steps(rate, mu, nesterov, GRADS), strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize(
    ("rate", "b1", "b2", "eps", "dtype"),
    [
        (0.01, 0.9, 0.999, 1e-8, np.float64),
        (0.3, 0.5, 0.9, 1e-3, np.float64),
        (exponential(0.1, 0.7), 0.9, 0.999, 1e-8, np.float32),
    ],
)
def test_adam_steps_equal_the_old_formula_bit_for_bit(rate, b1, b2, eps, dtype):
    grads = [g.astype(dtype) for g in GRADS]
    opt, W = Adam(rate, b1, b2, eps), W0.astype(dtype)
    state, steps = opt.init(W), []
    for g in grads:
        step, state = opt.update(g, state, W)
        steps.append(step)
    for got, want in zip(steps, old_adam_steps(rate, b1, b2, eps, grads), strict=True):
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize(("mu", "nesterov"), [(0.9, False), (0.5, True)])
def test_chain_of_trace_and_scale_is_hand_written_momentum(mu, nesterov):
    t = T.chain(T.trace(mu, nesterov), T.scale_by_learning_rate(0.1))
    state, v = t.init(W0), np.zeros_like(W0)
    for g in GRADS:
        step, state = t.update(g, state, W0)
        v = mu * v + g
        np.testing.assert_array_equal(step, -0.1 * (g + mu * v if nesterov else v))
        np.testing.assert_array_equal(state[0].velocity, v)
    assert state[1].count == len(GRADS)


def test_plateau_state_lives_in_the_optimiser_state():
    plateau = ReduceOnPlateau(1.0, factor=0.5, patience=0)
    assert hash(plateau) == hash(ReduceOnPlateau(1.0, factor=0.5, patience=0))
    with pytest.raises(dataclasses.FrozenInstanceError):
        plateau.learning_rate = 2.0
    a, b = SGD(plateau, momentum=0.9), Adam(plateau)
    sa, sb = a.init(W0), b.init(W0)
    for loss in (3.0, 3.0, 3.0):  # a sees no improvement twice: rate 1 -> 0.5 -> 0.25
        sa = a.observe(sa, loss)
    sb = b.observe(sb, 3.0)
    assert (a.rate(sa), b.rate(sb), plateau.learning_rate) == (0.25, 1.0, 1.0)
    assert sa.plateau == T.PlateauState(0.25, 3.0, 0)
    step, _ = a.update(G1, sa, W0)
    np.testing.assert_array_equal(step, -0.25 * G1)


@pytest.mark.parametrize(
    ("kwargs", "losses", "rates"),
    [  # the old ReduceOnPlateau.observe, observation by observation
        ({"factor": 0.5, "patience": 1}, (3.0, 2.0, 2.0, 2.0, 1.0, 1.0), (1, 1, 1, 0.5, 0.5, 0.5)),
        (
            {"factor": 0.1, "patience": 0, "threshold": 0.1, "min_learning_rate": 0.05},
            (1.0, 0.95, 0.5, 0.5),
            (1, 0.1, 0.1, 0.05),
        ),
        ({"factor": 0.5, "patience": 0}, (math.nan, 1.0, math.nan), (1, 0.5, 0.25)),  # nan sticks
    ],
)
def test_observe_semantics(kwargs, losses, rates):
    opt = SGD(ReduceOnPlateau(1.0, **kwargs))
    state = opt.init(W0)
    got = []
    for loss in losses:
        state = opt.observe(state, loss)
        got.append(opt.rate(state))
    assert got == pytest.approx(list(rates), rel=1e-15)


def test_observe_without_a_plateau_is_the_identity():
    for opt in (SGD(0.1, momentum=0.9), Adam(), RandomSearch(), GeneticSearch()):
        state = opt.init(W0)
        assert opt.observe(state, 1.0) is state


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"rng": np.random.default_rng(0)}, "value_fn"), ({"value_fn": lambda W: 0.0}, "rng")],
)
@pytest.mark.parametrize("opt", [RandomSearch(), RandomLocalSearch(), GeneticSearch()])
def test_search_without_value_fn_or_rng_names_it(opt, kwargs, match):
    with pytest.raises(TypeError, match=f"^{match}: expected"):
        opt.update(None, opt.init(W0), W0, **kwargs)


def test_reads_is_declared():
    assert [o.reads for o in (SGD, GradientDescent, Adam)] == ["gradient"] * 3
    assert [o.reads for o in (RandomSearch, RandomLocalSearch, GeneticSearch)] == ["value"] * 3
    assert isinstance(RandomSearch().init(W0), SearchProgress)


def _equal(a, b):
    if isinstance(a, tuple):
        return type(a) is type(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)
    return type(a) is type(b) and (a == b or (a != a and b != b))


def _after(opt, n, losses=()):
    state, W, rng = opt.init(W0), W0, np.random.default_rng(0)
    for _ in range(n):
        if opt.reads == "gradient":
            step, state = opt.update(W - 1.0, state, W)
        else:
            f = lambda V: float(np.sum((V - 1.0) ** 2))  # noqa: E731
            step, state = opt.update(None, state, W, value_fn=f, rng=rng)
        W = W + step
    for loss in losses:
        state = opt.observe(state, loss)
    return opt, state


@pytest.mark.parametrize(
    ("opt", "n", "losses"),
    [
        (SGD(ReduceOnPlateau(0.1, patience=0), momentum=0.9, nesterov=True), 3, (2.0, 2.0)),
        (SGD(ReduceOnPlateau(0.1)), 0, ()),  # best = inf
        (SGD(ReduceOnPlateau(0.1)), 1, (math.nan,)),
        (Adam(ReduceOnPlateau(0.1, patience=1)), 2, (1.0, 1.5)),
        (SGD(0.1), 2, ()),
        (GeneticSearch(population=4), 0, ()),  # population None, value inf
        (GeneticSearch(population=4), 2, ()),
        (RandomLocalSearch(), 2, ()),
        (GeneticSearch(population=4, mutation_scale=ReduceOnPlateau(0.1, patience=0)), 2, (1, 1)),
    ],
)
def test_state_round_trips_through_arrays_and_json(opt, n, losses):
    opt, state = _after(opt, n, losses)
    arrays, scalars = state_to_arrays(state)
    text = json.dumps(scalars, allow_nan=False)  # strict JSON
    back = state_from_arrays(opt.init(W0), dict(arrays), json.loads(text))
    assert _equal(back, state)


@pytest.mark.parametrize("name", ["random", "local", "genetic"])
def test_search_takes_a_plateau_scale_from_the_registry(name):
    opt = optim.get(name, optim.schedules.get("plateau", 0.2, decay=0.5))
    state = opt.init(W0)
    for loss in (1.0, *[1.0] * 6):  # patience 5: the 6th observation without improvement
        assert opt.rate(state) == 0.2
        state = opt.observe(state, loss)
    assert opt.rate(state) == 0.1
    _, state = _after(opt, 1)
    assert state.plateau.learning_rate == 0.2  # carried through the update


def test_an_optimiser_builds_its_chain_once_and_pickles_without_it():
    import pickle

    for opt in (SGD(0.1, momentum=0.9), Adam(0.01), SGD(ReduceOnPlateau(0.2))):
        W, g = np.zeros(3), np.array([1.0, -2.0, 0.5])
        state = opt.init(W)
        state = opt.update(g, state, W)[1]
        assert opt._transform() is opt._transform()  # built once
        copy = pickle.loads(pickle.dumps(opt))
        assert copy == opt
        np.testing.assert_array_equal(copy.update(g, state, W)[0], opt.update(g, state, W)[0])


@pytest.mark.parametrize("rate", [0.25, exponential(0.5, 0.5, 1), ReduceOnPlateau(0.3)])
def test_rate_equals_the_transforms_current_rate(rate):
    opt = SGD(rate)
    state = opt.init(np.zeros(2))
    for _ in range(3):
        expected = T.current_rate(rate, state.count, state.plateau)
        assert opt.rate(state) == expected
        _, state = opt.update(np.ones(2), state, np.zeros(2))
