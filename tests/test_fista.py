"""FISTA for a smooth loss with an L1 / elastic-net penalty: the optimum against scikit-learn's
SAGA at the same lambda (both evaluated by lingrad's objective), the sparsity pattern, the
measure, refusals, and the trainer (convergence, bit-for-bit resume)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import converges_and_resumes

from lingrad import optim, regularizers
from lingrad.objective import Objective
from lingrad.optim.solvers import FISTA, LBFGS, Status, auto

pytestmark = pytest.mark.timeout(180)
RNG = np.random.default_rng


def binary(N=200, D=8, seed=0):
    rng = RNG(seed)
    X = rng.standard_normal((N, D))
    truth = np.where(np.arange(D) < 3, 2.0, 0.0)
    y = (X @ truth + 0.5 + rng.standard_normal(N) > 0).astype(int)
    return (X - X.mean(axis=0)) / X.std(axis=0), y


def solve(J, C, tol=1e-10, max_iter=20_000):
    solver, W = FISTA(tol=tol), J.check_weights(np.zeros((J.n_features + 1, C)))
    solver.check_objective(J)
    state = solver.init(W)
    for _ in range(max_iter):
        step, state = solver.update(None, state, W, objective=J)
        W = W + step
        if state.status != Status.RUNNING:
            break
    return W, state


def saga(X, y, lam, **kw):
    from sklearn.linear_model import LogisticRegression

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SAGA's own stopping rule at tol 1e-15
        m = LogisticRegression(C=1.0 / (lam * len(y)), solver="saga", tol=1e-15,
                               max_iter=100_000, **kw).fit(X, y)  # fmt: skip
    return np.vstack([m.coef_.T, m.intercept_[None, :]])


@pytest.mark.parametrize(
    ("regularizer", "sklearn"),
    [
        ("l1", {"penalty": "l1"}),
        (regularizers.elastic_net(0.5), {"penalty": "elasticnet", "l1_ratio": 0.5}),
    ],
)
def test_matches_sklearn_saga_at_the_same_lambda(regularizer, sklearn):
    X, y = binary()
    lam = 0.02
    J = Objective("logistic", X, y, regularizer=regularizer, lam=lam)
    W, state = solve(J, 1)
    assert state.status == Status.CONVERGED and state.measure <= 1e-10
    W_sk = saga(X, y, lam, **sklearn)
    assert J.value(W) == pytest.approx(J.value(W_sk), rel=1e-6)
    assert J.value(W) <= J.value(W_sk) + 1e-12
    np.testing.assert_array_equal(W[:-1] == 0, np.abs(W_sk[:-1]) < 1e-8)  # same zeros
    assert 0 < int((W[:-1] == 0).sum()) < X.shape[1]  # a sparse, non-trivial solution
    assert state.value == pytest.approx(J.value(W), rel=1e-12)


def test_multinomial_l1_matches_saga():
    X, _ = binary(N=150, D=5, seed=1)
    y = np.digitize(X[:, 0] + X[:, 1] + 0.3 * RNG(2).standard_normal(150), [-0.7, 0.7])
    lam = 0.01
    J = Objective("softmax", X, y, regularizer="l1", lam=lam)
    W, state = solve(J, 3)
    assert state.status == Status.CONVERGED
    W_sk = saga(X, y, lam, penalty="l1")
    assert J.value(W) == pytest.approx(J.value(W_sk), rel=1e-6)


def test_the_measure_is_the_minimum_norm_subgradient():
    X, y = binary(N=60, D=4, seed=3)
    # with an L2 penalty alone it is the gradient (max-abs), and the optimum is L-BFGS's
    J = Objective("logistic", X, y, lam=0.1)
    W, state = solve(J, 1)
    _, g = J.value_and_grad(W)
    assert state.measure == pytest.approx(float(np.abs(g).max()), rel=1e-6, abs=1e-13)
    lbfgs, W2 = LBFGS(tol=1e-10), J.check_weights(np.zeros((5, 1)))
    s = lbfgs.init(W2)
    while s.status == Status.RUNNING:
        step, s = lbfgs.update(None, s, W2, objective=J)
        W2 = W2 + step
    np.testing.assert_allclose(W, W2, atol=1e-8)
    # with L1: at zero weights the subgradient's smallest entry is |g| - lam, clipped at 0
    J1 = Objective("logistic", X, y, regularizer="l1", lam=10.0)  # so strong that W = 0
    W1, state1 = solve(J1, 1)
    assert np.all(W1[:-1] == 0) and state1.measure <= 1e-10
    _, g1 = J1.value_and_grad(W1)
    assert np.all(np.abs(g1[:-1]) <= 10.0)  # 0 is in the subdifferential


def test_refusals_and_registry():
    X, y = binary(N=20, D=2)
    with pytest.raises(ValueError, match=r"piecewise-linear loss 'hinge' .*regularizer 'l1'"):
        FISTA().check_objective(Objective("hinge", X, y, regularizer="l1", lam=0.1))
    with pytest.raises(ValueError, match="lipschitz: expected"):
        FISTA(lipschitz=0.0)
    assert isinstance(optim.get("fista", tol=1e-6), FISTA)
    line = optim.entry("fista")
    assert line.rate_param is None and line.full_batch
    assert auto("logistic", "l1") == auto("softmax", "elastic_net") == "fista"
    assert auto("softmax", "l2") == "lbfgs"


def test_fit_converges_and_resumes_bit_for_bit(tmp_path):
    X, y = binary(N=120, D=6, seed=4)
    J = Objective("logistic", X, y, regularizer="l1", lam=0.02)
    kw = {"n_columns": 1, "W0": np.zeros((7, 1)), "epochs": 2000}
    full = converges_and_resumes(J, "fista", 1e-9, tmp_path, **kw)
    assert full.history["loss"][-1] == pytest.approx(J.value(full.W), rel=1e-12)
