"""The continuation solver for the piecewise-linear losses: its smoothing, the dual point's
balancing, the duality-gap certificate, and the optimum against an independent solve of the
primal as a quadratic program (SciPy's SLSQP on the epigraph form)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import converges_and_resumes
from scipy.optimize import minimize

from lingrad import optim, regularizers
from lingrad.objective import Objective
from lingrad.optim.solvers import Continuation, Status, auto, continuation
from lingrad.optim.solvers.continuation import (
    PIECEWISE,
    SmoothedObjective,
    balance_columns,
    balance_flows,
    certificate,
    dual_value,
    polish,
    smoothed_loss,
)

pytestmark = pytest.mark.timeout(120)
RNG = np.random.default_rng


def problem(loss, N=24, D=3, C=3, seed=0, lam=0.05, weighted=True, **kw):
    rng = RNG(seed)
    y = np.arange(N) % C
    X = rng.standard_normal((N, D)) + 0.8 * rng.standard_normal((C, D))[y]
    w = rng.uniform(0.5, 2.0, N) if weighted else None
    return Objective(loss, X, y, lam=lam, sample_weight=w, **kw)


def pieces(loss, y, C, margin):
    """``(example, slack, coefficients on s_i (C,))``: slack >= margin + c . s_i, slack >= 0."""
    rows, slack = [], 0
    for i, yi in enumerate(y):
        for j in range(C):
            if loss == "one_vs_all_hinge":
                c = np.zeros(C)
                c[j] = -1.0 if j == yi else 1.0
                rows.append((i, slack, c))
                slack += 1
            elif j != yi:
                c = np.zeros(C)
                c[j], c[yi] = 1.0, -1.0
                rows.append((i, slack, c))
                slack += loss == "hinge"
        slack += loss == "crammer_singer"
    return rows, slack


def qp_optimum(J, C):
    """``min_W J(W)`` by SLSQP on ``min (1/W_t) sum w_i xi + lam/2 ||V||^2`` subject to the
    hinge pieces, independent of lingrad's losses; returns ``J`` at its solution."""
    X, y, lam = J.X, np.asarray(J.y), J.lam
    N, D = X.shape
    w = np.ones(N) if J.sample_weight is None else J.sample_weight
    w = w / w.sum()
    rows, K = pieces(J.loss_spec.name, y, C, 1.0)
    example = np.array([i for i, _, _ in rows])
    nW = (D + 1) * C
    G = np.zeros((len(rows) + K, nW + K))
    for r, (i, k, c) in enumerate(rows):  # xi_k - c . ([x_i, 1] W) >= 1
        G[r, :nW] = -np.outer(np.append(X[i], 1.0), c).ravel()
        G[r, nW + k] = 1.0
    G[len(rows) :, nW:] = np.eye(K)
    h = np.concatenate([np.ones(len(rows)), np.zeros(K)])
    weight = np.zeros(K)
    weight[[k for _, k, _ in rows]] = w[example] * N  # scaled by N: SLSQP likes O(1) terms
    mask = np.zeros(nW)
    mask[: nW if J.regularizer.include_bias else D * C] = N * lam

    def f(z):
        return weight @ z[nW:] + 0.5 * np.sum(mask * z[:nW] ** 2)

    def grad(z):
        return np.concatenate([mask * z[:nW], weight])

    cons = {"type": "ineq", "fun": lambda z: G @ z - h, "jac": lambda z: G}
    z0 = np.concatenate([np.zeros(nW), np.full(K, 2.0)])
    res = minimize(f, z0, jac=grad, constraints=[cons], method="SLSQP",
                   options={"ftol": 1e-13, "maxiter": 3000})  # fmt: skip
    # J of the QP's W (by lingrad's objective, whatever SLSQP's own verdict at this ftol): an
    # upper bound on min J, which the tests compare with
    return J.value(res.x[:nW].reshape(D + 1, C))


def solve(J, C, tol=1e-10, **kw):
    solver, W = Continuation(tol=tol, **kw), J.check_weights(np.zeros((J.n_features + 1, C)))
    solver.check_objective(J)
    state = solver.init(W)
    for _ in range(3000):
        step, state = solver.update(None, state, W, objective=J)
        W = W + step
        if state.status != Status.RUNNING:
            break
    return W, state


# ------------------------------------------------------------------------------------------
# The smoothing and the dual point
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("loss", PIECEWISE)
def test_the_smoothing_is_within_its_bound_and_its_gradient_is_alpha(loss):
    rng = RNG(1)
    S, y, C, mu = 2.0 * rng.standard_normal((40, 4)), rng.integers(0, 4, 40), 4, 0.3
    exact = Objective(loss, np.zeros((40, 1)), y).loss_spec.kernel(S, y, margin=1.0)[0]
    smooth, alpha = smoothed_loss(loss, S, y, 1.0, mu)
    if loss == "crammer_singer":  # mu logsumexp: above, by at most mu log C
        assert np.all(smooth >= exact - 1e-12) and np.all(smooth <= exact + mu * np.log(C))
        assert np.all(alpha.sum(axis=1) <= 1 + 1e-12)
    else:  # Huber: below, by at most mu/2 per term
        terms = C - (loss == "hinge")
        assert np.all(smooth <= exact + 1e-12) and np.all(
            smooth >= exact - 0.5 * mu * terms - 1e-12
        )
        assert np.all((alpha >= 0) & (alpha <= 1))
    assert np.allclose(smoothed_loss(loss, S, y, 1.0, 1e-12)[0], exact, atol=1e-10)
    # the smoothed objective's gradient, by central differences
    X = rng.standard_normal((40, 2))
    J = Objective(loss, X, y, lam=0.1, sample_weight=rng.uniform(0.5, 2, 40))
    W = J.check_weights(rng.standard_normal((3, C)))
    Js = SmoothedObjective(J, mu)
    grad = Js.value_and_grad_unchecked(W)[1]
    numeric = np.zeros_like(W)
    for index in np.ndindex(W.shape):
        E = np.zeros_like(W)
        E[index] = 1e-6
        up = Js.value_and_grad_unchecked(W + E)[0]
        numeric[index] = (up - Js.value_and_grad_unchecked(W - E)[0]) / 2e-6
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("loss", PIECEWISE)
@pytest.mark.parametrize("include_bias", [False, True])
def test_the_hessian_is_the_derivative_of_the_smoothed_gradient(loss, include_bias):
    rng = RNG(11)
    N, D, C, mu = 50, 3, 4, 0.7
    reg = regularizers.Regularizer("l2", 0.0, include_bias=include_bias)
    y = rng.integers(0, C, N)
    J = Objective(loss, rng.standard_normal((N, D)), y, lam=0.3, regularizer=reg,
                  sample_weight=rng.uniform(0.5, 2, N))  # fmt: skip
    W = J.check_weights(rng.standard_normal((D + 1, C)))
    Js = SmoothedObjective(J, mu)
    H = Js.hessian(W)
    active = 0
    for _ in range(3):
        V = rng.standard_normal(W.shape)
        eps = 1e-6  # the Huber gradients are piecewise linear: exact unless a piece is crossed
        up = Js.value_and_grad_unchecked(W + eps * V)[1]
        numeric = (up - Js.value_and_grad_unchecked(W - eps * V)[1]) / (2 * eps)
        HV = H(V)
        np.testing.assert_allclose(HV, numeric, rtol=1e-6, atol=1e-8)
        # symmetric and positive semi-definite: V.H V >= lam ||V_R||^2
        U = rng.standard_normal(W.shape)
        assert np.vdot(U, HV) == pytest.approx(np.vdot(H(U), V), rel=1e-10)
        VR = V.copy() if include_bias else V[:-1]
        assert np.vdot(V, HV) >= J.lam * np.vdot(VR, VR) - 1e-12
        active += np.vdot(V, HV) > 1.001 * J.lam * np.vdot(VR, VR)
    assert active == 3  # the loss's curvature is there, not only the penalty's
    # the flattened direction that the Newton solver passes
    np.testing.assert_array_equal(H(V.ravel()), HV)


def test_balance_flows_keeps_the_factors_in_the_box_and_balances_the_flow():
    rng = RNG(2)
    for C in (2, 3, 5, 10):
        G = rng.uniform(0, 1, (C, C)) * (rng.uniform(size=(C, C)) < 0.7)
        np.fill_diagonal(G, 0.0)
        f = balance_flows(G)
        F = f * G
        assert np.all((f >= 0) & (f <= 1))
        np.testing.assert_allclose(F.sum(axis=0), F.sum(axis=1), atol=1e-13)
        imbalance = np.abs(G.sum(axis=0) - G.sum(axis=1)).sum()
        assert (G - F).sum() <= C * imbalance + 1e-12  # removes paths only
    cycle = np.roll(np.eye(4), 1, axis=1)  # already balanced: kept whole
    np.testing.assert_array_equal(balance_flows(cycle), np.ones((4, 4)))


def test_balance_columns_equalises_each_columns_two_sides():
    G = RNG(3).uniform(0, 1, (4, 4))
    F = balance_columns(G) * G
    positive = np.diag(F)
    np.testing.assert_allclose(positive, F.sum(axis=0) - positive, rtol=1e-14)


@pytest.mark.parametrize("loss", PIECEWISE)
def test_the_gap_bounds_the_distance_to_the_optimum_anywhere(loss):
    J = problem(loss, seed=4)
    optimum = qp_optimum(J, 3)
    rng = RNG(5)
    for mu in (1.0, 0.01):
        W = J.check_weights(0.5 * rng.standard_normal((4, 3)))
        c = certificate(J, W, mu)
        assert c.primal == pytest.approx(J.value(W), rel=1e-12)
        assert c.dual <= optimum + 1e-9  # weak duality: a lower bound on min J
        assert c.gap >= c.primal - optimum - 1e-9


# ------------------------------------------------------------------------------------------
# The optimum
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("loss", PIECEWISE)
@pytest.mark.parametrize("weighted", [False, True])
def test_reaches_the_quadratic_programs_optimum(loss, weighted):
    J = problem(loss, seed=6, weighted=weighted)
    optimum = qp_optimum(J, 3)
    W, state = solve(J, 3, tol=1e-9)
    assert state.status == Status.CONVERGED
    assert J.value(W) == pytest.approx(optimum, rel=1e-6)
    assert state.value == pytest.approx(J.value(W), rel=1e-12)
    assert state.dual <= optimum + 1e-9 and state.measure <= 1e-9
    assert state.gap == pytest.approx(state.value - state.dual, abs=1e-15)
    assert 0 <= state.bias_gradient < 1  # the smoothed bias row's gradient, reported


@pytest.mark.parametrize("loss", PIECEWISE)
@pytest.mark.parametrize("inner", ["newton", "lbfgs"])
def test_both_inner_solvers_reach_the_optimum(loss, inner):
    J = problem(loss, seed=3, weighted=True)
    W, state = solve(J, 3, tol=1e-9, inner=inner)
    assert state.status == Status.CONVERGED and state.measure <= 1e-9
    assert J.value(W) == pytest.approx(qp_optimum(J, 3), rel=1e-6)
    idle = state.inner if inner == "newton" else state.newton  # the other one: never moved
    assert idle.evaluations == 0 and idle.grad is None


def test_auto_inner_is_newton_for_crammer_singer_only():
    # the other inner solver is never used (the one used may have finished its stage already,
    # its state then fresh for the next)
    for loss, unused in [("crammer_singer", "inner"), ("hinge", "newton")]:
        J = problem(loss, seed=4)
        solver = Continuation()
        W = J.check_weights(np.zeros((4, 3)))
        state = solver.update(None, solver.init(W), W, objective=J)[1]
        assert state.evaluations > 0 and getattr(state, unused).evaluations == 0
    with pytest.raises(ValueError, match="inner: expected 'auto', 'newton' or 'lbfgs'"):
        Continuation(inner="cg")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_active_set_rounds_of_polish_reach_the_optimum(seed, monkeypatch):
    # well-separated classes: few support vectors; W from the smoothed problem at mu = 0.1
    rng = RNG(seed)
    N, D, C, mu = 150, 6, 4, 0.1
    y = np.arange(N) % C
    X = rng.standard_normal((N, D)) + 2.0 * rng.standard_normal((C, D))[y]
    J = Objective("hinge", X, y, lam=1e-3)
    optimum = solve(J, C, tol=1e-11)[1].value
    smoothed, inner = SmoothedObjective(J, mu), optim.get("lbfgs", tol=1e-12)
    W = J.check_weights(np.zeros((D + 1, C)))
    state = inner.init(W)
    for _ in range(3000):
        step, state = inner.update(None, state, W, objective=smoothed)
        W = W + step
        if state.status != Status.RUNNING:
            break
    W_star, alpha = polish(J, W, mu)
    assert J.value(W_star) == pytest.approx(optimum, rel=1e-9)
    assert dual_value(J, alpha) == pytest.approx(optimum, rel=1e-9)  # its own certificate
    monkeypatch.setattr(continuation, "_ACTIVE_SET_ROUNDS", 1)  # the first guess alone: off
    assert J.value(polish(J, W, mu)[0]) > optimum * (1 + 1e-4)


def test_a_regularised_bias_has_no_equality_constraint():
    reg = regularizers.Regularizer("l2", 0.0, include_bias=True)
    J = problem("hinge", seed=7, regularizer=reg)
    W, state = solve(J, 3, tol=1e-9)
    assert state.status == Status.CONVERGED
    assert J.value(W) == pytest.approx(qp_optimum(J, 3), rel=1e-6)


def test_binary_one_vs_all_matches_liblinear():
    from sklearn.svm import LinearSVC

    rng = RNG(8)
    y = np.arange(60) % 2
    X = rng.standard_normal((60, 2)) + 1.5 * y[:, None]
    lam = 0.02
    # liblinear's bias is a feature of value intercept_scaling = 1 with the weights' penalty:
    # lingrad's L2 with include_bias=True
    reg = regularizers.Regularizer("l2", 0.0, include_bias=True)
    J = Objective("one_vs_all_hinge", X, y, lam=lam, regularizer=reg)
    W, state = solve(J, 2, tol=1e-10)
    assert state.status == Status.CONVERGED
    # both columns are the same binary SVM, mirrored: J = 2 (mean hinge + lam/2 ||v||^2)
    svc = LinearSVC(loss="hinge", C=1.0 / (lam * 60), intercept_scaling=1.0, tol=1e-12,
                    random_state=0, max_iter=1_000_000).fit(X, y)  # fmt: skip
    v = np.append(svc.coef_[0], svc.intercept_[0])
    W_svc = np.stack([-v, v], axis=1)
    assert J.value(W) <= J.value(W_svc) + 1e-12  # ours is at least as low
    assert J.value(W) == pytest.approx(J.value(W_svc), rel=1e-6)
    np.testing.assert_allclose(W, W_svc, atol=1e-4)


# ------------------------------------------------------------------------------------------
# Refusals, the registry, the trainer
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("loss", "kw", "match"),
    [
        ("softmax", {}, "the smooth loss 'softmax_cross_entropy'"),
        ("hinge", {"regularizer": "l1"}, "the loss 'hinge' with the regularizer 'l1'"),
        ("crammer_singer", {"lam": 0.0}, "'crammer_singer' with the regularizer 'l2' at lam=0"),
        ("hinge", {"regularizer": "none"}, "regularizer='l2' with lam > 0"),
    ],
)
def test_refuses_what_it_cannot_solve_naming_both(loss, kw, match):
    J = problem(loss, **{"lam": 0.1, **kw})
    with pytest.raises(ValueError, match=match):
        Continuation().check_objective(J)


def test_registry_and_auto():
    assert isinstance(optim.get("continuation", tol=1e-6), Continuation)
    line = optim.entry("continuation")
    assert line.rate_param is None and line.full_batch
    # auto picks dualcd for the hinge family (faster: benchmarks/piecewise_solvers.py)
    assert [auto(name) for name in ("hinge", "crammer_singer", "one_vs_all_hinge")] == [
        "dualcd"
    ] * 3
    assert auto("hinge", "l1") == "dualcd"  # which then refuses, naming both
    assert auto("squared_hinge") == "lbfgs"
    with pytest.raises(ValueError, match="mu: expected"):
        Continuation(mu=0.0)
    with pytest.raises(ValueError, match="shrink: expected"):
        Continuation(shrink=1.0)


@pytest.mark.parametrize("loss", ["crammer_singer", "hinge"])  # Newton and L-BFGS inside
def test_fit_converges_and_resumes_bit_for_bit(tmp_path, loss):
    J = problem(loss, N=60, D=4, C=3, seed=9, lam=0.01)
    kw = {"n_columns": 3, "W0": np.zeros((5, 3)), "epochs": 500}
    full = converges_and_resumes(J, "continuation", 1e-8, tmp_path, **kw)
    assert full.history["loss"][-1] == pytest.approx(J.value(full.W), rel=1e-12)


def test_polish_never_builds_a_system_too_large_to_solve_densely():
    """CIFAR-wide weights (3,073 x 10): polish's full dense system would need (P + K)^2 floats
    (68 GB at K = 2P); polish solves the reduced one (K + C unknowns) instead, within a small
    memory (before the reduced system it declined: None)."""
    import tracemalloc

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 3072)), np.arange(60) % 10
    J = Objective("hinge", X, y, lam=1e-2)
    W = J.check_weights(rng.normal(scale=1e-3, size=(3073, 10)))
    tracemalloc.start()
    try:
        polished = polish(J, W, 0.5)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert polished is not None and polished[0].shape == W.shape
    assert ((polished[1] >= 0) & (polished[1] <= 1)).all()
    assert dual_value(J, polished[1]) <= J.value(polished[0]) + 1e-12  # weak duality
    assert peak < 64 * 2**20, f"peak {peak / 2**20:.0f} MiB"


@pytest.mark.parametrize("loss", PIECEWISE)
@pytest.mark.parametrize("include_bias", [False, True])
def test_the_reduced_polish_system_solves_the_same_kinks_as_the_full_one(
    loss, include_bias, monkeypatch
):
    """Where the weights are too many for the full ``P + K`` system (digits: P = 650), polish
    solves the reduced ``K + C`` one (weights eliminated): the same point, the optimum, with its
    own certificate."""
    reg = regularizers.Regularizer("l2", 0.0, include_bias=include_bias)
    J = problem(loss, N=60, D=6, C=3, seed=4, lam=0.02, regularizer=reg)
    optimum = qp_optimum(J, 3)
    W = solve(J, 3, tol=1e-10)[0]
    full = polish(J, W, 1e-6)
    P = W.size
    monkeypatch.setattr(continuation, "FULL_MAX_WEIGHTS", P - 1)  # the full system too large
    monkeypatch.setattr(continuation, "REDUCED_MAX_SIZE", 60)
    monkeypatch.setattr(continuation, "_full_system", None)  # (and never called)
    reduced = polish(J, W, 1e-6)
    assert full is not None and reduced is not None
    np.testing.assert_allclose(reduced[0], full[0], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(reduced[1], full[1], rtol=1e-6, atol=1e-8)
    assert J.value(reduced[0]) == pytest.approx(optimum, rel=1e-9)
    assert dual_value(J, reduced[1]) == pytest.approx(optimum, rel=1e-9)
    monkeypatch.setattr(continuation, "REDUCED_MAX_SIZE", 3)  # neither fits: refused
    assert polish(J, W, 1e-6) is None


@pytest.mark.parametrize("loss", PIECEWISE)
@pytest.mark.parametrize("include_bias", [False, True])
def test_the_full_polish_system_by_lu_is_the_least_squares_one(loss, include_bias, monkeypatch):
    """The full system is solved by LU: the same point as least squares (LAPACK's SVD, as
    before), the optimum; for the multi-class hinges with a free bias ``sum(b) = 0`` (the
    least-norm solution's: ``b + c 1`` is as good as ``b``), where LU alone would meet a
    singular system."""
    reg = regularizers.Regularizer("l2", 0.0, include_bias=include_bias)
    J = problem(loss, N=60, D=6, C=3, seed=4, lam=0.02, regularizer=reg)
    optimum = qp_optimum(J, 3)
    W = solve(J, 3, tol=1e-10)[0]
    calls = []
    least = continuation._least_squares
    monkeypatch.setattr(continuation, "_least_squares", lambda *a: calls.append(1) or least(*a))
    by_lu = polish(J, W, 1e-6)
    assert by_lu is not None and calls == []  # regular: LU's answer taken
    monkeypatch.setattr(continuation, "_PIVOT", 2.0)  # every pivot "too small": least squares
    by_svd = polish(J, W, 1e-6)
    assert by_svd is not None and len(calls) == 1
    np.testing.assert_allclose(by_lu[0], by_svd[0], rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(by_lu[1], by_svd[1], rtol=1e-9, atol=1e-10)
    assert J.value(by_lu[0]) == pytest.approx(optimum, rel=1e-9)
    assert dual_value(J, by_lu[1]) == pytest.approx(optimum, rel=1e-9)
    if loss != "one_vs_all_hinge" and not include_bias:
        assert abs(by_lu[0][-1].sum()) <= 1e-12 * np.abs(by_lu[0][-1]).max()


@pytest.mark.parametrize("loss", PIECEWISE)
def test_redundant_kinks_make_the_system_singular_and_least_squares_solves_it(loss, monkeypatch):
    """Each example twice: two identical kink rows for every kink, a singular system (LU's
    pivot at rounding level); least squares (the least-norm split of ``alpha``, equal between
    the twins) gives the optimum and its dual point."""
    J0 = problem(loss, N=30, D=3, C=3, seed=6, lam=0.05, weighted=False)
    X, y = J0.X, np.asarray(J0.y)
    J = Objective(loss, np.vstack([X, X]), np.concatenate([y, y]), lam=0.05)
    optimum = qp_optimum(J0, 3)
    W = solve(J0, 3, tol=1e-10)[0]
    calls = []
    least = continuation._least_squares
    monkeypatch.setattr(continuation, "_least_squares", lambda *a: calls.append(1) or least(*a))
    W_star, alpha = polish(J, W, 1e-6)
    assert len(calls) >= 1
    assert J.value(W_star) == pytest.approx(optimum, rel=1e-9)
    assert dual_value(J, alpha) == pytest.approx(optimum, rel=1e-9)
    np.testing.assert_allclose(alpha[:30], alpha[30:], atol=1e-9)  # the twins alike


def test_solve_dense_takes_lu_where_regular_and_least_squares_where_singular():
    rng = RNG(8)
    A, b = rng.standard_normal((6, 6)), rng.standard_normal(6)
    np.testing.assert_allclose(continuation._solve_dense(A, b), np.linalg.solve(A, b), rtol=1e-12)
    S = A.copy()
    S[5] = S[0] + S[1]  # rank 5, consistent right-hand side: the least-norm solution
    c = b.copy()
    c[5] = c[0] + c[1]
    expected = np.linalg.lstsq(S, c, rcond=None)[0]
    for fallback in (None, continuation._least_squares):
        x = continuation._solve_dense(S, c, fallback)
        np.testing.assert_allclose(x, expected, rtol=1e-9, atol=1e-12)
