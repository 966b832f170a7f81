"""Gradient optimisers: hand-computed steps, PyTorch's trajectories, convergence, the registry."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import require

from lingrad import optim
from lingrad.objective import Objective
from lingrad.optim import SGD, Adam, GradientDescent
from lingrad.optim.schedules import exponential
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
    r = fit(J, optim.get(name), n_classes=3, epochs=30, batch_size=batch, rng=RNG(0))
    assert r.history["train_accuracy"][-1] == 1.0
    assert r.history["loss"][-1] < 0.05 < np.log(3)  # from ln 3 at the start


def test_registry_defaults_and_overrides():
    names = ("sgd", "gd", "momentum", "nesterov", "adam", "random", "local", "genetic")
    assert names == optim.NAMES
    assert optim.get("momentum") == SGD(0.02, momentum=0.9)
    assert optim.get("adam", 0.1, beta1=0.5) == Adam(0.1, beta1=0.5)
    assert optim.get("genetic", 0.3).mutation_scale == 0.3
    assert optim.get("random", 2.0).scale == 2.0
    assert isinstance(optim.get("gd"), GradientDescent)


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: optim.get("lbfgs"), ValueError, "optimizer: expected one of"),
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
        n_classes=10,
        epochs=200 if entry.full_batch else 20,
        batch_size=None if entry.full_batch else 32,
        rng=RNG(0),
        validation=(scaler.transform(data.X_val), data.y_val),
    )
    assert r.stop is None
    assert r.history["val_accuracy"][-1] >= 0.93
