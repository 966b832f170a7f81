"""Trust-region Newton (optim.solvers.newton) through the one trainer: it reaches SciPy's
optimum, keeps float32, refuses what it cannot solve, descends monotonically on a non-convex
loss, and resumes bit for bit."""

import json

import numpy as np
import pytest
from scipy.optimize import minimize

from lingrad import optim, regularizers, runs
from lingrad.objective import Objective
from lingrad.optim.solvers import NewtonState, Status, TrustRegionNewton
from lingrad.optim.solvers.newton import boundary_step, new_radius, truncated_cg
from lingrad.train import StopReason, fit

N, D = 240, 6


def data(seed=0, n=N, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, D)) * np.linspace(0.5, 3.0, D)  # unequal scales: not trivial
    return X.astype(dtype), rng


def make_problem(loss, seed=0, lam=1e-2, dtype=np.float64, **kwargs):
    X, rng = data(seed, dtype=dtype)
    logits = X @ rng.normal(size=(D, 4))
    labels = np.argmax(logits + rng.gumbel(size=logits.shape), axis=1)
    if loss == "softmax":
        return Objective("softmax", X, labels, lam=lam, **kwargs), 4
    if loss == "logistic":
        return Objective("logistic", X, (labels == 0).astype(float), lam=lam, **kwargs), 1
    if loss == "squared_error":
        y = X @ rng.normal(size=(D, 2)) + rng.normal(size=(N, 2))
        return Objective("squared_error", X, y, lam=lam, **kwargs), 2
    if loss == "kl_divergence":
        P = np.exp(logits / 3)
        return Objective("kl", X, P / P.sum(axis=1, keepdims=True), lam=lam, **kwargs), 4
    assert loss == "sigmoid_squared_error"
    return Objective(loss, X, labels, lam=lam, **kwargs), 4


def scipy_optimum(J, C):
    P = (D + 1) * C

    def fun(w):
        value, grad = J.value_and_grad(w.reshape(D + 1, C))
        return value, grad.ravel()

    res = minimize(
        fun,
        np.zeros(P),
        jac=True,
        method="L-BFGS-B",
        options={"gtol": 1e-12, "ftol": 1e-16, "maxiter": 20_000, "maxcor": 30},
    )
    return float(res.fun)


def run_newton(J, C, epochs=100, tol=1e-8, **kwargs):
    return fit(
        J,
        optim.get("newton", tol=tol),
        n_columns=C,
        W0=np.zeros((D + 1, C)),
        epochs=epochs,
        rng=np.random.default_rng(0),
        **kwargs,
    )


@pytest.mark.parametrize(
    ("loss", "regularizer"),
    [
        ("softmax", "l2"),
        ("softmax", "none"),
        ("logistic", "l2"),
        ("logistic", regularizers.l2(include_bias=True)),
        ("squared_error", "l2"),
        ("kl_divergence", "l2"),
    ],
)
def test_reaches_the_scipy_optimum(loss, regularizer):
    J, C = make_problem(loss, regularizer=regularizer)
    r = run_newton(J, C)
    assert r.stop is not None and r.stop.reason is StopReason.CONVERGED
    want = scipy_optimum(J, C)
    assert J.value(r.W) == pytest.approx(want, rel=1e-8)
    assert r.history["loss"][-1] == pytest.approx(J.value(r.W), rel=1e-14)
    assert np.abs(J.value_and_grad(r.W)[1]).max() <= 1e-8
    assert r.n_epochs < 30  # a Newton method: few iterations


def test_sample_weights_and_label_smoothing_reach_the_scipy_optimum():
    X, rng = data(3)
    y = rng.integers(0, 3, N)
    J = Objective("softmax", X, y, lam=1e-3, sample_weight=rng.random(N), label_smoothing=0.1)
    r = run_newton(J, 3)
    assert r.stop.reason is StopReason.CONVERGED
    assert J.value(r.W) == pytest.approx(scipy_optimum(J, 3), rel=1e-8)


def test_measure_is_recorded_per_iteration():
    J, C = make_problem("softmax")
    r = run_newton(J, C)
    norms = r.history["grad_norm"]
    assert len(norms) == r.n_epochs and norms[-1] <= 1e-8 < norms[0]
    # each epoch's grad_norm is max |g| at that epoch's weights
    r3 = run_newton(J, C, epochs=3)
    assert norms[2] == np.abs(J.value_and_grad(r3.W)[1]).max()


def test_float32_data_stays_float32():
    J, C = make_problem("softmax", dtype=np.float32)
    r = run_newton(J, C, tol=1e-4)
    assert r.W.dtype == np.float32
    assert r.stop.reason is StopReason.CONVERGED
    J64, _ = make_problem("softmax")
    assert J64.value(r.W) == pytest.approx(scipy_optimum(J64, C), rel=1e-5)


@pytest.mark.parametrize(
    ("loss", "regularizer", "match"),
    [
        ("hinge", "l2", r"'newton'.*'continuation'.*the loss 'hinge'"),
        ("crammer_singer", "l2", r"'newton'.*'continuation'.*the loss 'crammer_singer'"),
        ("softmax", "l1", r"'newton'.*'fista'.*the regularizer 'l1'"),
        ("softmax", regularizers.elastic_net(0.5), r"the regularizer 'elastic_net'"),
    ],
)
def test_refuses_what_it_cannot_solve(loss, regularizer, match):
    X, rng = data()
    J = Objective(loss, X, rng.integers(0, 3, N), regularizer=regularizer, lam=0.1)
    with pytest.raises(ValueError, match=match):
        fit(J, optim.get("newton"), n_columns=3, epochs=3, rng=np.random.default_rng(0))


def test_nonconvex_sigmoid_squared_error_descends_to_a_stationary_point():
    J, C = make_problem("sigmoid_squared_error", lam=1e-4)
    W0 = np.random.default_rng(4).normal(scale=3.0, size=(D + 1, C))  # saturated: H indefinite
    H = J.hessian(W0)
    P = W0.size
    M = np.stack([H(np.eye(P)[k].reshape(W0.shape)).ravel() for k in range(P)], axis=1)
    assert np.linalg.eigvalsh(0.5 * (M + M.T)).min() < 0  # the start has negative curvature
    r = fit(J, optim.get("newton", tol=1e-7), n_columns=C, W0=W0, epochs=300,
            rng=np.random.default_rng(0))  # fmt: skip
    losses = np.array(r.history["loss"])
    assert (np.diff(losses) <= 0).all() and losses[-1] < J.value(W0)
    assert r.stop.reason is StopReason.CONVERGED
    assert np.abs(J.value_and_grad(r.W)[1]).max() <= 1e-7


def test_resume_is_bit_for_bit(tmp_path):
    J, C = make_problem("softmax", lam=1e-4)
    kw = {"n_columns": C, "W0": np.zeros((D + 1, C)), "epochs": 6}
    solver = lambda: optim.get("newton", tol=1e-12)  # noqa: E731  (runs all 6 epochs)
    full = fit(J, solver(), rng=np.random.default_rng(0), **kw)
    assert full.stop is None
    fit(J, solver(), rng=np.random.default_rng(0), checkpoint_dir=tmp_path, **{**kw, "epochs": 3})
    meta = json.loads(str(runs.load_npz(tmp_path / "checkpoint.npz")["meta"]))
    assert meta["epoch"] == 3
    resumed = fit(J, solver(), rng=np.random.default_rng(9), resume=tmp_path, **kw)
    np.testing.assert_array_equal(resumed.W, full.W)
    assert json.dumps(resumed.history) == json.dumps(full.history)
    assert (resumed.n_iter, resumed.n_evaluations) == (full.n_iter, full.n_evaluations)


# ---- the pieces --------------------------------------------------------------------------------


def test_truncated_cg_solves_inside_the_region_and_stops_at_the_boundary():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(8, 8))
    H = A @ A.T + 0.5 * np.eye(8)
    g = rng.normal(size=8)
    newton = np.linalg.solve(H, -g)
    s, r, steps, edge = truncated_cg(lambda d: H @ d, g, 1e6, 100)
    assert 1 <= steps <= 8  # at most P steps in exact arithmetic
    assert not edge and np.linalg.norm(r) <= 0.1 * np.linalg.norm(g)
    np.testing.assert_allclose(r, -g - H @ s, atol=1e-12)
    assert np.linalg.norm(s - newton) <= np.linalg.norm(newton)  # closer than s = 0
    radius = 0.3 * np.linalg.norm(newton)
    s, r, _, edge = truncated_cg(lambda d: H @ d, g, radius, 100)
    assert edge and np.linalg.norm(s) == pytest.approx(radius, rel=1e-12)
    assert g @ s + 0.5 * s @ H @ s < 0  # the model decreases


def test_truncated_cg_follows_negative_curvature_to_the_boundary():
    H = np.diag([-1.0, 2.0])
    s, _, steps, edge = truncated_cg(lambda d: H @ d, np.array([1.0, 0.0]), 2.0, 10)
    assert edge and steps == 1
    np.testing.assert_allclose(s, [-2.0, 0.0])


def test_boundary_step_lands_on_the_sphere():
    rng = np.random.default_rng(1)
    for _ in range(20):
        s, d = rng.normal(size=5) * 0.2, rng.normal(size=5)
        tau = boundary_step(s, d, 2.0)
        assert tau >= 0 and np.linalg.norm(s + tau * d) == pytest.approx(2.0, rel=1e-12)


def test_radius_rules():
    # a poor step shrinks the region, a good one on the boundary grows it 4 x
    assert new_radius(2.0, -1.0, 1.0, -1.0, 2.0, True) < 2.0
    assert new_radius(2.0, 1.0, 1.0, -1.0, 2.0, True) == 8.0
    assert new_radius(2.0, 1.0, 1.0, -1.0, 0.5, False) == 2.0  # inside: kept


def test_a_rejected_step_leaves_w_and_shrinks_the_radius():
    # negative curvature with a huge region: CG runs to the boundary, far past any descent
    J, C = make_problem("sigmoid_squared_error")
    solver = TrustRegionNewton()
    W = J.check_weights(np.random.default_rng(4).normal(scale=3.0, size=(D + 1, C)))
    state = solver.init(W)._replace(radius=1e6, accepted=1)
    step, state = solver.update(None, state, W, objective=J)
    assert isinstance(state, NewtonState) and state.status == Status.RUNNING
    assert not step.any() and state.radius < 1e6 and state.value == J.value(W)
    assert state.evaluations == 3 + state.cg  # gradient, Hessian set-up, cg H v, trial
    # a good full step (logistic from 0) is taken and keeps the radius
    J, C = make_problem("logistic")
    W = J.check_weights(np.zeros((D + 1, C)))
    step, state = solver.update(None, solver.init(W)._replace(radius=1e6, accepted=1), W,
                                objective=J)  # fmt: skip
    assert step.any() and state.value < J.value(W) and state.radius == 1e6


def test_non_finite_objective_is_reported():
    X, rng = data()
    J = Objective("softmax", X, rng.integers(0, 3, N), lam=0.1)
    J.targets(3)
    solver = TrustRegionNewton()
    W = np.full((D + 1, 3), np.nan)
    _, state = solver.update(None, solver.init(W), W, objective=J)
    assert state.status == Status.NON_FINITE


def test_bad_arguments():
    with pytest.raises(ValueError, match="max_cg"):
        TrustRegionNewton(max_cg=0)
    with pytest.raises(ValueError, match="tol"):
        TrustRegionNewton(tol=-1.0)
    with pytest.raises(TypeError, match="objective="):
        TrustRegionNewton().update(None, TrustRegionNewton().init(np.zeros(2)), np.zeros(2))
    with pytest.raises(ValueError, match="learning_rate: expected None"):
        optim.get("newton", 0.1)


def test_newton_keeps_a_fixed_bias_at_zero():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((80, 4))
    y = rng.integers(0, 3, 80)
    J = Objective("softmax", X, y, lam=1e-2, fit_intercept=False)
    W0 = np.zeros((5, 3))
    r = fit(
        J,
        optim.get("newton", tol=1e-10),
        n_columns=3,
        W0=W0,
        epochs=200,
        rng=np.random.default_rng(0),
    )
    assert not r.W[-1].any()
    lb = fit(
        J,
        optim.get("lbfgs", tol=1e-10),
        n_columns=3,
        W0=W0,
        epochs=500,
        rng=np.random.default_rng(0),
    )
    np.testing.assert_allclose(r.W, lb.W, atol=1e-7)
