"""float32 stays float32 end to end: objective, gradient methods, every optimiser, fit, predict.

A float32 X multiplied with a float64 W silently upcasts (and runs ~4 x slower), so every
array that meets X must stay in X's dtype, whatever the caller passes in.
"""

import numpy as np
import pytest

from lingrad import grad, model, optim
from lingrad.objective import Objective
from lingrad.optim.schedules import cosine
from lingrad.train import StopReason, fit

F32 = np.float32


def data(n=60, d=5, c=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(F32)
    y = rng.integers(0, c, n)
    return X, y


@pytest.mark.parametrize("loss", ["softmax", "hinge", "squared_error", "logistic"])
def test_objective_value_and_grad_stay_float32_even_with_a_float64_W(loss):
    X, y = data()
    C = 1 if loss == "logistic" else 3
    yy = (y > 0).astype(int) if loss == "logistic" else y
    yy = np.eye(3)[y] if loss == "squared_error" else yy
    J = Objective(loss, X, yy, lam=0.1)
    W64 = np.random.default_rng(1).standard_normal((6, C))  # float64 on purpose
    for rows in (None, slice(0, 20), np.arange(5, 45, 3)):
        value, dW = J.value_and_grad(W64, rows)
        assert dW.dtype == F32 and isinstance(value, float)
    value, S = J.evaluate(W64.astype(F32))
    assert S.dtype == F32 and S.shape == (60, C)


@pytest.mark.parametrize("method", grad.methods())
def test_every_gradient_method_returns_float32(method):
    X, y = data(n=20, d=3)
    J = Objective("softmax", X, y, lam=0.1)
    W = np.random.default_rng(1).standard_normal((4, 3)).astype(F32)
    fn = grad.get(method)(J)
    for rows in (None, np.arange(0, 20, 2)):
        value, dW = fn(W, rows)
        assert dW.dtype == F32, method
        assert np.isfinite(value)


@pytest.mark.parametrize("name", optim.NAMES)
def test_fit_keeps_float32_with_every_optimiser(name):
    X, y = data()
    # each exact solver on a problem it solves: the hinge for continuation and dualcd, L1 for fista
    loss = "hinge" if name in ("continuation", "dualcd") else "softmax"
    J = Objective(loss, X, y, lam=1e-3, regularizer="l1" if name == "fista" else "l2")
    opt = optim.get(name)
    batch = None if optim.entry(name).full_batch else 16
    r = fit(J, opt, n_columns=3, epochs=2, batch_size=batch, rng=np.random.default_rng(0))
    assert r.W.dtype == F32
    # no failure stop: the budget, or an exact solver done within it (dualcd on this set)
    assert r.stop is None or r.stop.reason in (StopReason.BUDGET, StopReason.CONVERGED)
    assert all(np.isfinite(v) for v in r.history["loss"])


@pytest.mark.parametrize("name", ["sgd", "momentum", "nesterov", "adam", "gd"])
def test_gradient_optimiser_steps_stay_float32_with_numpy_float64_rates(name):
    # NumPy scalars are "strong" under NEP 50: np.float64(0.1) * float32 array is float64.
    opt = optim.get(name, np.float64(0.05))
    W = np.ones((4, 3), dtype=F32)
    state = opt.init(W)
    for _ in range(3):
        step, state = opt.update(np.full_like(W, 0.5), state, W)
        assert step.dtype == F32, name
        W = W + step
    assert W.dtype == F32


def test_fit_keeps_float32_with_a_schedule_and_a_float64_W0():
    X, y = data()
    J = Objective("softmax", X, y)
    W0 = np.zeros((6, 3))  # float64
    opt = optim.SGD(cosine(0.1, 20), momentum=0.9)
    r = fit(J, opt, n_columns=3, W0=W0, epochs=3, batch_size=8, rng=np.random.default_rng(0))
    assert r.W.dtype == F32
    assert r.history["loss"][-1] < r.history["loss"][0]


def test_fit_refuses_an_optimiser_whose_step_upcasts():
    class Upcasting(optim.SGD):
        def update(self, grad, state, W=None):
            step, state = super().update(grad, state, W)
            return step.astype(np.float64), state

    X, y = data()
    J = Objective("softmax", X, y)
    with pytest.raises(TypeError, match="optimizer: expected steps in W's dtype float32"):
        fit(J, Upcasting(0.1), n_columns=3, epochs=1, rng=np.random.default_rng(0))


def test_predict_scores_and_proba_stay_float32():
    X, _ = data()
    W64 = np.random.default_rng(1).standard_normal((6, 3))
    assert model.scores(W64, X).dtype == F32
    assert model.predict_proba(W64, X).dtype == F32
    assert model.predict_proba(W64[:, :1], X).dtype == F32
    assert model.predict(W64, X).shape == (60,)
    np.testing.assert_array_equal(
        model.predict(W64, X), np.argmax(X @ W64[:-1].astype(F32) + W64[-1].astype(F32), 1)
    )
