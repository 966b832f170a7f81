"""SAGA (lingrad.optim.solvers.saga): its optimum is L-BFGS's, its lazy sparse steps are the
dense SAGA steps, its Python kernel source is the compiled one, bad input is refused by name."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from lingrad import optim
from lingrad.objective import Objective
from lingrad.optim.solvers import LBFGS, SAGA, saga
from lingrad.optim.solvers.base import check_array_api
from lingrad.optim.state import state_from_arrays, state_to_arrays


def _solve(solver, J, C, max_iter=3000):
    W = J.check_weights(np.zeros((J.n_features + 1, C)))
    state = solver.init(W)
    for _ in range(max_iter):
        step, state = solver.update(None, state, W, objective=J)
        W = W + step
        if state.status != 0:
            break
    return W, state


def _data(sparse: bool, n: int = 150, d: int = 12, seed: int = 0):
    rng = np.random.default_rng(seed)
    if sparse:
        X = sp.random_array((n, d), density=0.3, format="csr", rng=seed)
        X.data = rng.normal(size=X.nnz)
        return sp.csr_array(X), rng
    return rng.normal(size=(n, d)), rng


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("loss", ["softmax", "logistic"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_the_optimum_is_lbfgs_s(sparse, loss, fit_intercept, weighted):
    """At a tight tol both solvers reach the same ``min J`` (to 1e-8 relative) and weights."""
    X, rng = _data(sparse)
    labels = rng.integers(0, 3, X.shape[0])
    y, C = (labels, 3) if loss == "softmax" else ((labels == 1).astype(float), 1)
    w = rng.random(X.shape[0]) * 2 if weighted else None
    J = Objective(loss, X, y, lam=0.03, fit_intercept=fit_intercept, sample_weight=w)
    W_ref, ref = _solve(LBFGS(tol=1e-11), J, C)
    W, state = _solve(SAGA(tol=1e-10, epochs=3), J, C)
    assert state.status == 1 and state.measure <= 1e-10
    assert abs(state.value - ref.value) <= 1e-8 * abs(ref.value)
    np.testing.assert_allclose(W, W_ref, atol=1e-6)
    if not fit_intercept:
        assert not W[-1].any()  # the fixed bias stays at 0


def test_no_penalty_and_a_penalised_bias_reach_the_optimum():
    """``regularizer='none'`` (lam ignored) and a penalty that includes the bias."""
    from lingrad import regularizers

    X, rng = _data(True, n=200)
    y = rng.integers(0, 2, X.shape[0]).astype(float)
    for reg, lam in [("none", 0.5), (regularizers.l2(include_bias=True), 0.05)]:
        J = Objective("logistic", X, y, regularizer=reg, lam=lam)
        _, ref = _solve(LBFGS(tol=1e-11), J, 1)
        _, state = _solve(SAGA(tol=1e-10), J, 1)
        assert abs(state.value - ref.value) <= 1e-8 * abs(ref.value)


def _dense_saga(kind, X, labels, targets, cw, R, W, G, gb, order, lam, gamma, penalise_bias, decay):
    """The SAGA steps written out on dense vectors: every row of W moved at every step."""
    N = X.shape[0]
    a = 1.0 / (1.0 + gamma * lam)
    V, b = W[:-1], W[-1]
    for i in order:
        s = X[i] @ V + b
        r = saga.score_gradients(kind, s[None, :], labels[i : i + 1], targets[i : i + 1])[0]
        delta = cw[i] * (r - R[i])
        R[i] = r
        V[:] = a * (V - gamma * (G + np.outer(X[i], delta)))
        G += np.outer(X[i], delta) / N
        b[:] = (a if penalise_bias else 1.0) * (b - gamma * (delta + decay * gb))
        gb += delta / N


@pytest.mark.parametrize("kind", [0, 1], ids=["softmax", "logistic"])
@pytest.mark.parametrize("lam", [0.0, 0.1, 40.0], ids=["lam0", "lam", "rescaled"])
@pytest.mark.parametrize("compiled", [False, True], ids=["python", "numba"])
def test_the_lazy_sparse_steps_are_the_dense_steps(kind, lam, compiled, monkeypatch):
    """Two passes in a fixed order on a tiny CSR set: the lazy ("just in time") rows, the
    scale ``sigma`` (rescaled every few steps at lam = 40) and the running sums give the dense
    sequence of weights and table to 1e-12."""
    if not compiled:  # the Python source all the way down (coverage cannot trace Numba)
        for name in ("_step", "_score_grad", "_catch_up_all"):
            monkeypatch.setattr(saga, name, getattr(saga, f"{name}_py"))
    X, rng = _data(True, n=30, d=8, seed=3)
    C = 3 if kind == 0 else 1
    labels = rng.integers(0, 3, 30)
    targets = rng.random(30)
    cw = rng.random(30) * 2
    W0 = rng.normal(size=(9, C)) * 0.3
    R0 = rng.normal(size=(30, C)) * 0.1
    G0, gb0 = rng.normal(size=(8, C)) * 0.1, rng.normal(size=C) * 0.1
    orders = np.stack([rng.permutation(30), rng.permutation(30)])
    gamma = 0.3
    for penalise_bias, decay in [(False, 1.0), (True, 0.5)]:
        W, R, G, gb = W0.copy(), R0.copy(), G0.copy(), gb0.copy()
        saga.passes(kind, X, labels, targets, cw, R, W, G, gb, orders, lam=lam, gamma=gamma,
                    penalise_bias=penalise_bias, decay=decay, compiled=compiled)  # fmt: skip
        Wd, Rd, Gd, gbd = W0.copy(), R0.copy(), G0.copy(), gb0.copy()
        Xd = X.toarray()
        _dense_saga(kind, Xd, labels, targets, cw, Rd, Wd, Gd, gbd, orders.ravel(), lam, gamma,
                    penalise_bias, decay)  # fmt: skip
        for ours, dense in [(W, Wd), (R, Rd), (G, Gd), (gb, gbd)]:
            np.testing.assert_allclose(ours, dense, rtol=0, atol=1e-12)
        # the dense path of the kernel (every row read each step) is the same sequence
        W2, R2, G2, gb2 = W0.copy(), R0.copy(), G0.copy(), gb0.copy()
        saga.passes(kind, Xd, labels, targets, cw, R2, W2, G2, gb2, orders, lam=lam, gamma=gamma,
                    penalise_bias=penalise_bias, decay=decay, compiled=compiled)  # fmt: skip
        np.testing.assert_allclose(W2, Wd, rtol=0, atol=1e-12)


def _badly_scaled(seed: int = 4):
    """CSR data whose rows' norms span 100 x (scaled by 10^U(-1, 1): the largest rows set
    ``L``), labels in 0..2."""
    X, rng = _data(True, n=200, d=10, seed=seed)
    X = sp.csr_array(sp.diags(10.0 ** rng.uniform(-1, 1, X.shape[0])) @ X)
    return X, rng.integers(0, 3, X.shape[0])


@pytest.mark.parametrize("loss", ["softmax", "logistic"])
def test_a_step_that_diverges_is_undone_and_the_safe_step_converges(loss):
    """A step 50 x the safe one on badly scaled rows at a small ``lam``: ``J`` blows up in
    the first iteration; it is undone (a zero step, the table kept) and the solve goes on at
    the safe ``1 / (3 L)`` to L-BFGS's optimum (1e-8 relative), finite."""
    X, labels = _badly_scaled()
    y, C = (labels, 3) if loss == "softmax" else ((labels == 1).astype(float), 1)
    J = Objective(loss, X, y, lam=0.01)
    safe = SAGA().step_size(J, np.ones(X.shape[0]), safe=True)
    solver = SAGA(tol=1e-9, step=50 * safe)
    W = J.check_weights(np.zeros((J.n_features + 1, C)))
    state, first_value = solver.init(W), None
    step, state = solver.update(None, state, W, objective=J)
    assert not step.any() and state.gamma == safe and state.iterations == 1  # undone
    assert state.epochs == 5 and not state.weights.any() and state.status == 0
    first_value = state.value
    for _ in range(5000):
        step, state = solver.update(None, state, W, objective=J)
        W = W + step
        if state.status != 0:
            break
    _, ref = _solve(LBFGS(tol=1e-11), J, C)
    assert state.status == 1 and np.isfinite(W).all() and state.gamma == safe
    assert state.value < first_value
    assert abs(state.value - ref.value) <= 1e-8 * abs(ref.value)


@pytest.mark.parametrize(("loss", "undone"), [("softmax", True), ("logistic", False)])
def test_the_default_step_on_badly_scaled_rows_reaches_the_optimum(loss, undone):
    """scikit-learn's first step (here 3 x the safe one for the softmax, 1.5 x for the logistic
    loss: ``2 N lam < L'``) on badly scaled rows at a small ``lam``: for the softmax ``J`` rises
    (at the 10th iteration, the measure still 0.02) and the step falls back to the safe one;
    either way the solve ends converged, finite, at L-BFGS's ``min J`` to 1e-8 relative."""
    X, labels = _badly_scaled(seed=6)
    y, C = (labels, 3) if loss == "softmax" else ((labels == 1).astype(float), 1)
    J = Objective(loss, X, y, lam=1e-3)
    W, state = _solve(SAGA(tol=1e-9), J, C, max_iter=5000)
    _, ref = _solve(LBFGS(tol=1e-11), J, C)
    assert state.status == 1 and np.isfinite(W).all()
    assert abs(state.value - ref.value) <= 1e-8 * abs(ref.value)
    ones = np.ones(X.shape[0])
    fast, safe = SAGA().step_size(J, ones), SAGA().step_size(J, ones, safe=True)
    assert fast > 1.4 * safe and state.gamma == (safe if undone else fast)


def test_the_python_source_is_the_compiled_kernel(monkeypatch):
    """The whole solve with the kernel's Python source (as coverage sees it) gives the
    compiled solve's weights (Numba: the same operations in the same order)."""
    X, rng = _data(True, n=120, d=10, seed=5)
    y = rng.integers(0, 4, 120)
    J = Objective("softmax", X, y, lam=0.02, sample_weight=rng.random(120) + 0.5)
    W_nb, s_nb = _solve(SAGA(tol=1e-9), J, 4)
    monkeypatch.setattr(saga._skinny, "AVAILABLE", False)
    for name in ("_step", "_score_grad", "_catch_up_all"):
        monkeypatch.setattr(saga, name, getattr(saga, f"{name}_py"))
    W_py, s_py = _solve(SAGA(tol=1e-9), J, 4)
    assert s_py.epochs == s_nb.epochs and s_py.iterations == s_nb.iterations
    np.testing.assert_allclose(W_py, W_nb, rtol=0, atol=1e-12)


def test_float32_data_keeps_float32_weights_at_the_optimum():
    """float32 X: float32 weights from the trainer's view, float64 inside (no rounding drift)."""
    X, rng = _data(True, n=200, d=15, seed=2)
    X32 = X.astype(np.float32)
    y = rng.integers(0, 3, 200)
    J64, J32 = Objective("softmax", X, y, lam=0.05), Objective("softmax", X32, y, lam=0.05)
    _, ref = _solve(LBFGS(tol=1e-10), J64, 3)
    W, state = _solve(SAGA(tol=1e-6), J32, 3)
    assert W.dtype == np.float32 and state.weights.dtype == np.float64
    assert abs(J64.value(W.astype(np.float64)) - ref.value) <= 1e-6 * ref.value


def test_the_step_size_and_the_convergence_fields():
    """The first step is scikit-learn's ``1 / (2 L' + min(2 N lam, L'))``, the safe one
    ``1 / (3 L)``, from the largest ``N c_i k (||x_i||^2 + 1) + lam`` (``k = 1/4`` in ``L'``,
    the loss's own in ``L``: twice for the softmax); each update reports J, the passes made
    and scikit-learn's change measure."""
    X = np.array([[3.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    J = Objective("logistic", X, [1.0, 0.0, 1.0], lam=0.1, sample_weight=[1.0, 2.0, 3.0])
    cw = np.array([0.5, 1.0, 1.5])
    L = 0.25 * max(cw * (np.einsum("ij,ij->i", X, X) + 1)) + 0.1
    assert SAGA().step_size(J, cw, safe=True) == pytest.approx(1 / (3 * L), rel=1e-15)
    assert SAGA().step_size(J, cw) == pytest.approx(1 / (2 * L + min(2 * 3 * 0.1, L)), rel=1e-15)
    Js = Objective("softmax", X, [1, 0, 1], lam=0.1, sample_weight=[1.0, 2.0, 3.0])
    Ls = 0.5 * max(cw * (np.einsum("ij,ij->i", X, X) + 1)) + 0.1
    assert SAGA().step_size(Js, cw, safe=True) == pytest.approx(1 / (3 * Ls), rel=1e-15)
    assert SAGA().step_size(Js, cw) == SAGA().step_size(J, cw)  # k = 1/4 for both
    W = J.check_weights(np.zeros((3, 1)))
    state = SAGA(epochs=2).init(W)
    step, state = SAGA(epochs=2).update(None, state, W, objective=J)
    assert state.value == pytest.approx(J.value(W + step), rel=1e-12)
    assert state.epochs == 2 and state.evaluations == 4 and 0 < state.change < np.inf
    assert state.measure >= state.change


def test_the_state_round_trips_through_a_checkpoint():
    """A checkpoint of the state (arrays and numbers) resumes bit for bit."""
    X, rng = _data(True, n=60, d=6)
    J = Objective("softmax", X, rng.integers(0, 3, 60), lam=0.05)
    solver = SAGA(epochs=1)
    W = J.check_weights(np.zeros((7, 3)))
    step, state = solver.update(None, solver.init(W), W, objective=J)
    W = W + step
    arrays, meta = state_to_arrays(state)
    again = state_from_arrays(solver.init(W), arrays, meta)
    a, s1 = solver.update(None, state, W, objective=J)
    b, s2 = solver.update(None, again, W, objective=J)
    np.testing.assert_array_equal(a, b)
    assert s1.value == s2.value


def test_the_registry_builds_it():
    """``optimizer="saga"`` by name, with a tolerance."""
    solver = optim.get("saga", tol=1e-6)
    assert isinstance(solver, SAGA) and solver.tol == 1e-6 and optim.entry("saga").full_batch


@pytest.mark.parametrize(
    ("loss", "kwargs", "words"),
    [
        ("hinge", {}, ["saga", "hinge"]),
        ("softmax", {"regularizer": "l1", "lam": 0.1}, ["saga", "l1"]),
        ("squared_error", {}, ["saga", "squared_error"]),
        ("softmax", {"label_smoothing": 0.1}, ["saga", "label_smoothing"]),
    ],
)
def test_what_it_cannot_solve_is_refused_by_name(loss, kwargs, words):
    y = [0, 1, 0, 1] if loss != "squared_error" else [0.0, 1.0, 2.0, 3.0]
    J = Objective(loss, np.eye(4), y, **kwargs)
    with pytest.raises(ValueError, match="optimizer") as info:
        SAGA().check_objective(J)
    for word in words:
        assert word in str(info.value)


def test_bad_parameters_and_other_arrays_are_refused_by_name():
    for kwargs, name in [({"tol": -1.0}, "tol"), ({"epochs": 0}, "epochs"),
                         ({"decay": 0.0}, "decay"), ({"step": -1.0}, "step")]:  # fmt: skip
        with pytest.raises(ValueError, match=name):
            SAGA(**kwargs)
    with pytest.raises(TypeError, match="objective="):
        SAGA().update(None, SAGA().init(np.zeros((2, 2))), np.zeros((2, 2)))
    J = Objective("softmax", np.eye(2), [0, 1])
    with pytest.raises(ValueError, match="W: expected 3 rows"):
        SAGA().update(None, SAGA().init(np.zeros((4, 2))), np.zeros((4, 2)), objective=J)
    import array_api_strict as xs

    with pytest.raises(TypeError, match="optimizer"):
        check_array_api(SAGA(), xs.zeros((2, 2)))
