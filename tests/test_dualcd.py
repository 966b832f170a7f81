"""Dual coordinate descent for the piecewise-linear losses: its optimum against an independent
solve of the primal as a quadratic program (SciPy's SLSQP, from test_continuation) and against
Continuation's certified optimum, with example weights, without a bias, on float32 data; the
certificate; the compiled kernel against the NumPy one; resuming; refusals."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from conftest import converges_and_resumes
from test_continuation import problem, qp_optimum
from test_continuation import solve as continuation_solve

from lingrad import _skinny, optim, regularizers
from lingrad.objective import Objective
from lingrad.optim.solvers import DualCD, Status, auto
from lingrad.optim.solvers.continuation import PIECEWISE
from lingrad.optim.solvers.dualcd import KINDS, epoch

pytestmark = pytest.mark.timeout(120)
RNG = np.random.default_rng


def solve(J, C, tol=1e-10, W0=None, max_iter=20000, **kw):
    solver = DualCD(tol=tol, **kw)
    solver.check_objective(J)
    W = J.check_weights(np.zeros((J.n_features + 1, C)) if W0 is None else W0)
    state, history = solver.init(W), []
    for _ in range(max_iter):
        step, state = solver.update(None, state, W, objective=J)
        W = W + step
        history.append(state)
        if state.status != Status.RUNNING:
            break
    return W, state, history


@pytest.mark.parametrize("loss", PIECEWISE)
@pytest.mark.parametrize("weighted", [False, True])
def test_reaches_the_quadratic_programs_optimum(loss, weighted):
    J = problem(loss, seed=6, weighted=weighted)
    optimum = qp_optimum(J, 3)
    W, state, _ = solve(J, 3, tol=1e-9)
    assert state.status == Status.CONVERGED and state.measure <= 1e-9
    assert J.value(W) == pytest.approx(optimum, rel=1e-6)
    assert state.value == pytest.approx(J.value(W), rel=1e-12)
    assert state.dual <= optimum + 1e-9  # a lower bound on min J
    assert state.gap == pytest.approx(state.value - state.dual, abs=1e-15)


@pytest.mark.parametrize("C", [2, 3, 5, 10])
def test_the_weston_watkins_example_is_solved_exactly(C):
    """The example's box QP ``min_d -g.d + (Q/2)(||d||^2 + (sum d)^2)``, ``beta + d`` in
    ``[0, U]`` (``g_j = m + s_j - s_y``): the new values within the bounds (exactly at them
    where clipped), the KKT conditions to rounding (the gradient ``Q (d_j + sum d) - g_j``
    zero between the bounds, >= 0 at 0, <= 0 at U), and ``d`` SciPy's L-BFGS-B solution."""
    from scipy.optimize import minimize

    from lingrad.optim.solvers import dualcd

    rng = RNG(C)
    for trial in range(200):
        y, U, Q = int(rng.integers(C)), float(rng.uniform(0.5, 5)), float(rng.uniform(0.1, 10))
        s = rng.normal(scale=[0.3, 3.0, 30.0][trial % 3], size=C)
        beta = np.where(rng.random((1, C)) < 0.3, 0.0, rng.uniform(0, U, (1, C)))
        beta[0, rng.random(C) < 0.2] = U
        beta[0, y] = 0.0
        if trial % 4 == 3 and C > 2:  # a class held at its bound: its score at -inf or +inf
            held = (y + 1) % C
            s[held] = -np.inf if beta[0, held] <= 0 else np.inf
            beta[0, held] = 0.0 if s[held] < 0 else U
        before, dA = beta.copy(), np.zeros(C)
        dualcd._solve_example_py(1, s.copy(), beta, 0, y, U, Q, 1.0, dA, np.empty(C))
        d = beta[0] - before[0]
        assert np.all(d[~np.isfinite(s)] == 0.0)
        others = (np.arange(C) != y) & np.isfinite(s)
        g = 1.0 + s - s[y]
        grad = (Q * (d + d[others].sum()) - g)[others]
        new = beta[0, others]
        tol = 1e-9 * max(1.0, np.abs(g).max())
        assert np.all((new >= 0) & (new <= U)) and dA[y] == pytest.approx(-d[others].sum())
        assert np.all(np.abs(grad[(new > 0) & (new < U)]) <= tol)
        assert np.all(grad[new <= 0] >= -tol) and np.all(grad[new >= U] <= tol)
        if trial % 5 == 0:  # and the same point as L-BFGS-B on the box QP
            box = [(-before[0, j], U - before[0, j]) for j in np.flatnonzero(others)]

            def qp(e, g=g[others], Q=Q):
                return -g @ e + Q / 2 * (e @ e + e.sum() ** 2), Q * (e + e.sum()) - g

            ref = minimize(qp, np.zeros(others.sum()), jac=True, method="L-BFGS-B", bounds=box,
                           options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 10_000})  # fmt: skip
            np.testing.assert_allclose(d[others], ref.x, atol=1e-6 * U)


@pytest.mark.parametrize("loss", PIECEWISE)
def test_equals_continuations_certified_optimum(loss):
    rng = RNG(2)
    N, D, C = 200, 5, 4
    y = np.arange(N) % C
    X = rng.standard_normal((N, D)) + 1.0 * rng.standard_normal((C, D))[y]
    J = Objective(loss, X, y, lam=1e-3, sample_weight=rng.uniform(0.2, 3.0, N), margin=0.7)
    W_ref, ref = continuation_solve(J, C, tol=1e-10)
    assert ref.status == Status.CONVERGED
    W, state, _ = solve(J, C, tol=1e-10)
    assert state.status == Status.CONVERGED
    assert state.value == pytest.approx(ref.value, rel=1e-8)
    np.testing.assert_allclose(W, W_ref, atol=1e-4 * np.abs(W_ref).max())


def test_a_regularised_bias_has_no_equality_constraint():
    reg = regularizers.Regularizer("l2", 0.0, include_bias=True)
    for loss in PIECEWISE:
        J = problem(loss, seed=7, regularizer=reg)
        W, state, _ = solve(J, 3, tol=1e-9)
        assert state.status == Status.CONVERGED
        assert J.value(W) == pytest.approx(qp_optimum(J, 3), rel=1e-6)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_binary_one_vs_all_matches_liblinear(fit_intercept):
    from sklearn.svm import LinearSVC

    rng = RNG(8)
    y = np.arange(60) % 2
    X = rng.standard_normal((60, 2)) + 1.5 * y[:, None]
    lam = 0.02
    # liblinear's bias is a feature of value 1 with the weights' penalty
    reg = regularizers.Regularizer("l2", 0.0, include_bias=True)
    J = Objective("one_vs_all_hinge", X, y, lam=lam, regularizer=reg, fit_intercept=fit_intercept)
    W, state, _ = solve(J, 2, tol=1e-11)
    assert state.status == Status.CONVERGED
    svc = LinearSVC(loss="hinge", C=1.0 / (lam * 60), fit_intercept=fit_intercept, tol=1e-12,
                    random_state=0,
                    max_iter=1_000_000).fit(X, y)  # fmt: skip
    v = np.append(svc.coef_[0], svc.intercept_[0] if fit_intercept else 0.0)
    W_svc = np.stack([-v, v], axis=1)  # both columns are the same binary SVM, mirrored
    assert J.value(W) <= J.value(W_svc) + state.gap + 1e-14  # nobody is lower by more
    np.testing.assert_allclose(W, W_svc, atol=1e-5)
    if not fit_intercept:
        np.testing.assert_array_equal(W[-1], 0.0)


@pytest.mark.parametrize("loss", PIECEWISE)
def test_without_a_bias_the_gap_certifies_the_fixed_bias_optimum(loss):
    J = problem(loss, seed=5, fit_intercept=False)
    W, state, _ = solve(J, 3, tol=1e-10)
    assert state.status == Status.CONVERGED and state.measure <= 1e-10
    np.testing.assert_array_equal(W[-1], 0.0)
    # no point with the bias at 0 is lower: random perturbations of the weight rows
    rng = RNG(0)
    for _ in range(50):
        E = np.zeros_like(W)
        E[:-1] = 1e-3 * rng.standard_normal(W[:-1].shape)
        assert J.value(W + E) >= state.value - 1e-12
    # and it is above the optimum with a free bias
    assert state.value >= solve(problem(loss, seed=5), 3, tol=1e-10)[1].value - 1e-12


@pytest.mark.parametrize("loss", PIECEWISE)
def test_float32_data_reaches_the_float64_optimum(loss):
    J64 = problem(loss, N=60, seed=3)
    J32 = Objective(loss, J64.X.astype(np.float32), J64.y, lam=J64.lam,
                    sample_weight=J64.sample_weight)  # fmt: skip
    W, state, _ = solve(J32, 3, tol=1e-5)
    assert W.dtype == np.float32 and state.status == Status.CONVERGED
    optimum = solve(J64, 3, tol=1e-11)[1].value
    assert J64.value(W.astype(np.float64)) == pytest.approx(optimum, rel=1e-5)


@pytest.mark.parametrize("loss", PIECEWISE)
def test_the_certificate_bounds_the_distance_and_the_dual_only_rises(loss, monkeypatch):
    from lingrad.optim.solvers import dualcd

    monkeypatch.setattr(dualcd, "_POLISH_SIZE", 0)  # blocks alone: a history of gaps
    monkeypatch.setattr(dualcd, "_INTERIOR", False)
    J = problem(loss, seed=4)
    optimum = qp_optimum(J, 3)
    history = solve(J, 3, tol=1e-9, check_every=1, eps=0.1)[2]  # a coarse first block
    duals = [s.dual for s in history]
    assert np.all(np.diff(duals) >= 0) and duals[-1] <= optimum + 1e-9
    for s in history:
        assert s.gap >= s.value - optimum - 1e-9  # P - D >= P - min P
    assert history[0].measure > 1e-3 > 1e-9 >= history[-1].measure


def test_a_coarse_block_is_finished_by_the_polish_and_its_own_dual_point():
    # at eps = 0.1 the block's dual value is far from min P; the polished guess is exact, and
    # the dual value of its own dual point certifies it in the first iteration
    J = problem("hinge", seed=4)
    optimum = qp_optimum(J, 3)
    W, state, history = solve(J, 3, tol=1e-9, check_every=1, eps=0.1)
    assert len(history) == 1 and state.status == Status.CONVERGED
    assert state.measure <= 1e-9 and state.dual <= optimum + 1e-9
    assert J.value(W) == pytest.approx(optimum, rel=1e-6)


def test_a_warm_start_from_other_weights_reaches_the_same_optimum():
    J = problem("crammer_singer", seed=2)
    cold = solve(J, 3, tol=1e-10)[1].value
    W0 = RNG(1).standard_normal((4, 3))
    state = solve(J, 3, tol=1e-10, W0=W0)[1]
    assert state.status == Status.CONVERGED
    assert state.value == pytest.approx(cold, rel=1e-8)


@pytest.mark.parametrize("loss", PIECEWISE)
def test_the_compiled_epoch_equals_the_numpy_one(loss):
    if not _skinny.AVAILABLE:
        pytest.skip("numba is not installed")  # the NumPy path is what every other test runs
    rng = RNG(9)
    N, D, C = 80, 6, 5
    X = rng.standard_normal((N, D)).astype(np.float32)
    X[rng.uniform(size=X.shape) < 0.3] = 0.0  # the kernels skip zero features
    y = rng.integers(0, C, N)
    upper = rng.uniform(0.0, 0.5, N)
    upper[:3] = 0.0  # examples of weight 0 are skipped
    runs = []
    for compiled in (True, False):
        beta, V, u = np.zeros((N, C)), np.zeros((D, C)), np.zeros(C)
        center = rng.standard_normal(C) * 0 + 0.1
        for k in range(5):
            order = RNG(k).permutation(N)
            epoch(KINDS[loss], X, y, order, upper, 0.8, 1.0, beta, V, center, u, compiled=compiled)
        runs.append((beta, V, u))
    for a, b in zip(*runs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    assert np.any(runs[0][0] > 0) and np.all(runs[0][0][:3] == 0)
    assert np.all(runs[0][0] <= upper[:, None] * (1 + 1e-12))


@pytest.mark.parametrize("loss", ["crammer_singer", "hinge", "one_vs_all_hinge"])
def test_fit_converges_and_resumes_bit_for_bit(tmp_path, loss, monkeypatch):
    from lingrad.optim.solvers import dualcd

    monkeypatch.setattr(dualcd, "_POLISH_SIZE", 0)  # blocks alone: iterations to resume from
    monkeypatch.setattr(dualcd, "_INTERIOR", False)
    J = problem(loss, N=60, D=4, C=3, seed=9, lam=0.01)
    kw = {"n_columns": 3, "W0": np.zeros((5, 3)), "epochs": 5000}
    full = converges_and_resumes(J, "dualcd", 1e-11, tmp_path, **kw)
    assert full.history["loss"][-1] == pytest.approx(J.value(full.W), rel=1e-12)


@pytest.mark.parametrize(
    ("loss", "kw", "match"),
    [
        ("softmax", {}, "solver 'dualcd'.*the smooth loss 'softmax_cross_entropy'"),
        ("hinge", {"regularizer": "l1"}, "'dualcd'.*the loss 'hinge' with the regularizer 'l1'"),
        ("crammer_singer", {"lam": 0.0}, "'crammer_singer' with the regularizer 'l2' at lam=0"),
        ("hinge", {"regularizer": "none"}, "regularizer='l2' with lam > 0"),
    ],
)
def test_refuses_what_it_cannot_solve_naming_both(loss, kw, match):
    J = problem(loss, **{"lam": 0.1, **kw})
    with pytest.raises(ValueError, match=match):
        DualCD().check_objective(J)


def test_bad_arguments_and_the_registry():
    for name, kw in [("kappa", {"kappa": 0.0}), ("tol", {"tol": -1.0}),
                     ("check_every", {"check_every": 0})]:  # fmt: skip
        with pytest.raises(ValueError, match=f"{name}: expected"):
            DualCD(**kw)
    with pytest.raises(TypeError, match="needs objective="):
        DualCD().update(None, DualCD().init(np.zeros((2, 2))), np.zeros((2, 2)))
    assert isinstance(optim.get("dualcd", tol=1e-6), DualCD)
    line = optim.entry("dualcd")
    assert line.rate_param is None and line.full_batch
    assert auto("squared_hinge") == "lbfgs"
    assert [auto(name) for name in PIECEWISE] == ["dualcd"] * 3
    assert auto("hinge", "l1") == "dualcd"
    J = problem("hinge", regularizer="l1", lam=0.1)  # which refuses, naming both
    with pytest.raises(ValueError, match=r"'dualcd'.*the regularizer 'l1'"):
        optim.get(auto("hinge", "l1")).check_objective(J)


def _standardised(name):
    from sklearn import datasets

    X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    return (X - X.mean(axis=0)) / X.std(axis=0), y


@pytest.mark.parametrize("name", ["iris", "wine"])
@pytest.mark.parametrize("loss", PIECEWISE)
def test_the_shipped_sets_optimum_equals_continuations(name, loss):
    X, y = _standardised(name)
    C = len(np.unique(y))
    J = Objective(loss, X, y, lam=1e-3)
    ref = continuation_solve(J, C, tol=1e-9)[1]
    assert ref.status == Status.CONVERGED
    W, state, history = solve(J, C, tol=1e-9)
    assert state.status == Status.CONVERGED and state.measure <= 1e-9
    assert J.value(W) == pytest.approx(ref.value, rel=1e-6)
    # one iteration is a compiled block of many passes: a handful of iterations in all
    assert len(history) <= 12 < state.epochs


def _noisy(seed=0, N=300, D=20, C=3):
    """Gaussian classes barely apart, a fifth of the labels redrawn at random."""
    rng = RNG(seed)
    y = np.arange(N) % C
    X = rng.standard_normal((N, D)) + 0.5 * rng.standard_normal((C, D))[y]
    return X, np.where(rng.uniform(size=N) < 0.2, rng.integers(0, C, N), y)


@pytest.mark.parametrize("loss", PIECEWISE)
def test_noisy_data_with_weak_regularisation_converges_with_a_certificate(loss):
    X, y = _noisy()
    J = Objective(loss, X, y, lam=1e-4)  # C = 1 / (lam N) = 33: liblinear stops at its cap
    W, state, _ = solve(J, 3, tol=1e-4, max_iter=100)
    assert state.status == Status.CONVERGED and state.measure <= 1e-4
    assert state.gap == pytest.approx(state.value - state.dual, abs=1e-15)
    assert state.value == pytest.approx(J.value(W), rel=1e-12)
    # the certificate is a real bound: a random perturbation of the optimum is not lower
    E = 1e-3 * RNG(1).standard_normal(W.shape)
    assert J.value(W + E) >= state.value - state.gap


@pytest.mark.parametrize("loss", PIECEWISE)
def test_the_python_block_reaches_the_optimum_as_the_compiled_one(loss, monkeypatch):
    """The block of passes is written once in Python (``_block_py``, the source Numba
    compiles); run as Python, with short blocks, it reaches the same certified optimum as the
    compiled solver and the quadratic program."""
    from lingrad.optim.solvers import dualcd

    J = problem(loss, N=12, seed=3, weighted=True)
    optimum = qp_optimum(J, 3)
    compiled_W, compiled, _ = solve(J, 3, tol=1e-9)
    monkeypatch.setattr(_skinny, "AVAILABLE", False)
    monkeypatch.setattr(dualcd, "_solve_example", dualcd._solve_example_py)
    monkeypatch.setattr(dualcd, "_violation", dualcd._violation_py)
    monkeypatch.setattr(dualcd, "_WORK", 500.0)
    W, state, _ = solve(J, 3, tol=1e-9, max_iter=400)
    assert state.status == Status.CONVERGED and compiled.status == Status.CONVERGED
    assert J.value(W) == pytest.approx(optimum, rel=1e-6)
    assert state.value == pytest.approx(compiled.value, rel=1e-8)
    np.testing.assert_allclose(W, compiled_W, atol=1e-3 * np.abs(compiled_W).max())


@pytest.mark.parametrize("loss", PIECEWISE)
def test_a_block_short_of_its_eps_doubles_the_next_budget(loss, monkeypatch):
    """With the floor of work per block removed, each block is ``budget`` passes' worth of
    visits: the budget doubles after every block that ends short of its ``eps`` (up to the
    cap) and the solve still reaches the quadratic program's optimum."""
    from lingrad.optim.solvers import dualcd

    monkeypatch.setattr(dualcd, "_WORK", 0.0)
    monkeypatch.setattr(dualcd, "_INTERIOR", False)  # the blocks alone
    J = problem(loss, seed=6)
    optimum = qp_optimum(J, 3)
    W, state, history = solve(J, 3, tol=1e-9, eps=1e-2)
    assert state.status == Status.CONVERGED
    assert J.value(W) == pytest.approx(optimum, rel=1e-6)
    before = solve(J, 3, tol=1e-9, eps=1e-2, max_iter=0)[1]  # the fresh state (no update)
    doubled = 0
    for prev, s in itertools.pairwise([before, *history]):
        if s.status != Status.RUNNING:
            break
        if s.eps == prev.eps:  # the block ended short of its eps: the budget doubles
            assert s.budget == min(2 * prev.budget, dualcd._MAX_BUDGET)
            doubled += s.budget > prev.budget
        else:  # it met eps (the next eps is finer): the budget is kept
            assert s.eps < prev.eps and s.budget == prev.budget
    assert doubled > 0  # some block ran out of its budget: the test can fail


# -- sparse (CSR) X: the same block source with CSR row functions -----------------------------


def _sparse_set(seed=0, N=150, D=30, C=4, density=0.15):
    """Text-like rows: a few non-zeros each (some rows empty), the classes' words apart."""
    rng = RNG(seed)
    y = np.arange(N) % C
    X = (rng.standard_normal((N, D)) + 1.5 * rng.standard_normal((C, D))[y]) * (
        rng.uniform(size=(N, D)) < density
    )
    X[:3] = 0.0  # empty rows: no entries in their CSR slices
    # multiples of 1/8: the rows' norms exact in any order of the sums (einsum on the dense
    # rows, bincount on the CSR data), so that the two runs' paths are the same to the bit
    return np.round(8.0 * X) / 8.0, y


@pytest.mark.parametrize("loss", PIECEWISE)
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_csr_data_gives_the_dense_rows_iterates(loss, fit_intercept, dtype, monkeypatch):
    """The same visiting order (the same seed) and the same updates: every iterate of dualcd on
    CSR X equals the one on the same data dense (weighted examples, with and without a bias,
    float64 and float32 data), the sums differing only by the dense rows' zero terms. In
    float32 the blocks' ``eps`` follows the measure, from ``P`` in float32 (SciPy's sparse and
    NumPy's dense products round apart): the iterates are compared while the ``eps`` agree
    (in float64 all of them)."""
    import scipy.sparse as sp

    from lingrad.optim.solvers import dualcd

    monkeypatch.setattr(dualcd, "polish", lambda *args: None)  # blocks alone: several iterates

    monkeypatch.setattr(dualcd, "_INTERIOR", False)
    X, y = _sparse_set(seed=1)
    X = X.astype(dtype)
    w = RNG(2).uniform(0.2, 3.0, len(y))
    runs = []
    rel = 1e-12 if dtype == np.float64 else 1e-6  # P: the objective's float32 products
    for data in (X, sp.csr_array(X)):
        J = Objective(loss, data, y, lam=1e-3, sample_weight=w, fit_intercept=fit_intercept)
        assert J.sparse == (data is not X)
        runs.append(solve(J, 4, tol=1e-9, max_iter=12, eps=3e-3))
    (W_dense, dense, hist_dense), (W_csr, csr, hist_csr) = runs
    assert W_csr.dtype == dtype and dense.status == csr.status
    assert len(hist_dense) == len(hist_csr) > 1 and dense.measure < 1e-3
    compared = 0
    for k, (a, b) in enumerate(zip(hist_dense, hist_csr, strict=True)):
        if k > 0 and hist_dense[k - 1].eps != pytest.approx(hist_csr[k - 1].eps, rel=1e-9, abs=0):
            break  # float32: eps follows the measure, from P's float32 products, apart
        compared += 1
        assert a.epochs == b.epochs
        np.testing.assert_allclose(b.beta, a.beta, rtol=0, atol=1e-12 * max(1, a.beta.max()))
        np.testing.assert_allclose(b.V, a.V, rtol=0, atol=1e-12 * max(1, np.abs(a.V).max()))
        np.testing.assert_allclose(b.center, a.center, rtol=0, atol=1e-12)
        assert b.value == pytest.approx(a.value, rel=rel)
        assert b.dual == pytest.approx(a.dual, rel=100 * rel, abs=1e-14)
    assert compared == (len(hist_dense) if dtype == np.float64 else compared) >= 2
    if dtype == np.float64:
        np.testing.assert_allclose(W_csr, W_dense, rtol=0, atol=1e-12 * np.abs(W_dense).max())
    else:  # the same optimum
        assert csr.value == pytest.approx(dense.value, rel=1e-5)


@pytest.mark.parametrize("loss", PIECEWISE)
def test_the_csr_block_run_as_python_equals_the_compiled_one(loss, monkeypatch):
    """Coverage cannot trace compiled code: the CSR instance of the block (``_block_py``'s code
    with the CSR row functions) run as Python gives the compiled one's passes, dual variables,
    weights and counts (and so do one versus all's scalar loops, run as Python and compiled, on
    CSR and on dense rows); and the whole solve without Numba reaches the compiled one's
    optimum."""
    import scipy.sparse as sp

    from lingrad.optim.solvers import dualcd

    if not _skinny.AVAILABLE:
        pytest.skip("numba is not installed")  # the Python instance is what the solver runs
    X, y = _sparse_set(seed=3, N=40, D=12, C=3, density=0.3)
    A = sp.csr_array(X)
    rows = (A.data, A.indices, A.indptr)
    upper = RNG(4).uniform(0.0, 2.0, len(y))
    upper[0] = 0.0  # an example of weight 0 is skipped
    sqnorm = dualcd.row_sqnorms(A)
    np.testing.assert_allclose(sqnorm, np.einsum("ij,ij->i", X, X), rtol=1e-14)
    dualcd._compiled()
    C = 1 if loss == "one_vs_all_hinge" else 3
    labels = (y == 1).astype(np.intp) if C == 1 else y.astype(np.intp)
    blocks = [(dualcd._block_csr_py, rows), (dualcd._block_csr_nb, rows)]
    if loss == "one_vs_all_hinge":  # one versus all's scalar loops: the same iterates
        blocks += [(dualcd._block_binary_csr_py, rows), (dualcd._block_binary_csr_nb, rows)]
        blocks += [(dualcd._block_binary_py, X), (dualcd._block_binary_nb, X)]
    runs = []
    for block, data in blocks:
        beta, V, center, u = np.zeros((40, C)), np.zeros((12, C)), np.full(C, 0.1), np.zeros(C)
        out = np.zeros(5)
        block(KINDS[loss], data, labels, upper, sqnorm, 1.0, 1.0, True, True, beta, V, center,
              u, 1e-6, 40 * 400, 12345, out)  # fmt: skip
        runs.append((beta, V, center, u, out))
    for other in runs[1:]:
        for a, b in zip(runs[0], other, strict=True):
            np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-13)
    assert runs[0][4][1] > 3 and runs[0][4][4] >= 1  # several passes and multiplier steps
    assert np.any(runs[0][0] > 0) and np.all(runs[0][0][0] == 0)
    J = Objective(loss, A, y, lam=1e-2)
    compiled = solve(J, 3, tol=1e-9)[1]
    monkeypatch.setattr(_skinny, "AVAILABLE", False)
    state = solve(J, 3, tol=1e-9, max_iter=400)[1]
    assert state.status == compiled.status == Status.CONVERGED
    assert state.value == pytest.approx(compiled.value, rel=1e-8)


@pytest.mark.parametrize("loss", PIECEWISE)
def test_the_certified_optimum_on_csr_equals_continuations(loss):
    import scipy.sparse as sp

    X, y = _sparse_set(seed=5, N=120, D=25, C=3)
    J = Objective(loss, sp.csr_array(X), y, lam=1e-2, sample_weight=RNG(6).uniform(0.5, 2, 120))
    W_ref, ref = continuation_solve(J, 3, tol=1e-10)
    assert ref.status == Status.CONVERGED
    W, state, _ = solve(J, 3, tol=1e-10)
    assert state.status == Status.CONVERGED and state.measure <= 1e-10
    assert J.value(W) == pytest.approx(J.value(W_ref), rel=1e-6)
    assert state.dual <= J.value(W_ref) + 1e-12  # a lower bound on continuation's value too
    W0 = RNG(7).standard_normal((26, 3))  # a warm start: the dual point from CSR scores
    warm = solve(J, 3, tol=1e-10, W0=W0)[1]
    assert warm.status == Status.CONVERGED
    assert warm.value == pytest.approx(J.value(W_ref), rel=1e-6)


# -- two classes: the multi-class hinges as one binary problem on the scores' difference -------


@pytest.mark.parametrize("loss", ["hinge", "crammer_singer"])
@pytest.mark.parametrize(
    "kw", [{}, {"fit_intercept": False}, {"regularizer": regularizers.l2(include_bias=True)}]
)
def test_two_classes_solved_on_the_difference_reach_the_qp_optimum(loss, kw, monkeypatch):
    """With two classes the Weston-Watkins and Crammer-Singer blocks run one versus all's
    scalar loops on ``s_1 - s_0`` (:func:`difference_block`): the certified optimum is the
    quadratic program's (free and penalised bias, weighted examples; the QP's bias is free, so
    a fixed bias is checked against the general loops only), the weights' two columns stay
    opposite, and the general loops (the reduction switched off) reach the same optimum."""
    from lingrad.optim.solvers import dualcd

    J = problem(loss, N=30, C=2, seed=8, **kw)
    fixed = not J.fit_intercept
    optimum = None if fixed else qp_optimum(J, 2)
    real, calls = dualcd.difference_block, []

    def counted(*args):
        calls.append(args)
        real(*args)

    monkeypatch.setattr(dualcd, "difference_block", counted)
    W, state, _ = solve(J, 2, tol=1e-9)
    assert calls  # the reduction ran
    assert state.status == Status.CONVERGED and state.measure <= 1e-9
    if fixed:
        np.testing.assert_array_equal(W[-1], 0.0)
    else:
        assert J.value(W) == pytest.approx(optimum, rel=1e-6)
        assert state.dual <= optimum + 1e-9
    np.testing.assert_allclose(state.V[:, 0], -state.V[:, 1], rtol=0, atol=1e-15)
    assert np.all(state.beta[np.arange(30), J.targets(2)] == 0)  # no variable for y_i
    import scipy.sparse as sp

    J_csr = Objective(loss, sp.csr_array(J.X), J.y, lam=J.lam, sample_weight=J.sample_weight,
                      **kw)  # fmt: skip
    W_csr = solve(J_csr, 2, tol=1e-9)[0]  # CSR rows: the same iterates
    np.testing.assert_allclose(W_csr, W, rtol=0, atol=1e-12 * np.abs(W).max())
    monkeypatch.setattr(dualcd, "_TWO_CLASSES", False)  # the general loops instead
    n_calls = len(calls)
    W_general, general, _ = solve(J, 2, tol=1e-9)
    assert len(calls) == n_calls and general.status == Status.CONVERGED
    assert general.value == pytest.approx(state.value, rel=1e-8)
    np.testing.assert_allclose(W, W_general, atol=1e-4 * np.abs(W_general).max())


@pytest.mark.parametrize("loss", PIECEWISE)
def test_a_polished_guess_is_taken_only_when_the_dual_certifies_it(loss, monkeypatch):
    """On a separable set (wine, standardised, ``lam = 1e-4``) the dual converges long before
    ``V(beta)``: the kinks' guess (:func:`polish`) after the first block is the optimum,
    certified by a dual value (its own dual point's, or the block's), in fewer passes than the
    blocks without it; the weights returned are the polished ones (``P`` their objective), at
    the optimum that the blocks alone reach (to a relative gap of 1e-9). A wrong guess is not
    taken."""
    from sklearn.datasets import load_wine

    from lingrad.optim.solvers import dualcd

    X, y = load_wine(return_X_y=True)
    J = Objective(loss, (X - X.mean(axis=0)) / X.std(axis=0), y, lam=1e-4)
    W, state, history = solve(J, 3, tol=1e-4)
    assert state.status == Status.CONVERGED and state.measure <= 1e-4 and len(history) == 1
    assert state.value == pytest.approx(J.value(W), rel=1e-12)  # the polished weights' P
    monkeypatch.setattr(dualcd, "polish", lambda *args: None)  # never polished: blocks alone
    monkeypatch.setattr(dualcd, "_INTERIOR", False)
    blocks = solve(J, 3, tol=1e-4)[1]
    assert blocks.status == Status.CONVERGED and blocks.epochs > 1.3 * state.epochs
    W_ref, ref, _ = solve(J, 3, tol=1e-9)
    assert ref.measure <= 1e-9 and state.dual <= J.value(W_ref) * (1 + 1e-9)
    assert J.value(W) <= J.value(W_ref) * (1 + 1e-4)
    guessed = []  # a wrong guess (the optimum's weights scaled): tried, never taken

    def scaled(objective, W, band):
        guessed.append(band)
        return 1.01 * W_ref, np.zeros((J.n_samples, 3))  # its dual point certifies nothing

    monkeypatch.setattr(dualcd, "polish", scaled)
    W_wrong, wrong, _ = solve(J, 3, tol=1e-4)
    assert wrong.status == Status.CONVERGED and wrong.epochs == blocks.epochs and guessed
    assert not np.allclose(W_wrong, 1.01 * W_ref)


# -- liblinear's shrinking of the classes within an example ----------------------------------


def test_shrinking_the_classes_moves_behind_only_those_at_a_bound_pushed_outward():
    """Weston-Watkins (liblinear's shrinking of the classes): a class at a bound pushed outward
    by more than ``thr`` leaves the example's active classes; never the label, never the free
    variables, nothing at ``thr = inf``; the hidden classes' scores at -inf (at 0) or +inf (at
    the upper bound)."""
    from lingrad.optim.solvers import dualcd

    # U = 1: class 1 at U with z = 2.5 > thr, class 2 at 0 with z = -4 < -thr, class 3 at 0
    # with z = -0.2 (not beyond thr = 0.5), class 4 free
    s = np.array([0.0, 1.5, -5.0, -1.2, 0.5])
    beta = np.array([[0.0, 1.0, 0.0, 0.0, 0.4]])
    classes = np.tile(np.arange(5), (1, 1))
    assert dualcd._shrink_classes_py(s, beta, 0, 0, 1.0, 1.0, np.inf, classes.copy(), 5) == 5
    n = dualcd._shrink_classes_py(s, beta, 0, 0, 1.0, 1.0, 0.5, classes, 5)
    assert n == 3 and set(classes[0, :3]) == {0, 3, 4} and set(classes[0, 3:]) == {1, 2}
    dualcd._hidden_py(s, beta, 0, classes, n)
    assert s[1] == np.inf and s[2] == -np.inf and s[4] == 0.5


@pytest.mark.parametrize("loss", ["hinge"])  # Crammer-Singer's classes are not shrunk
def test_shrinking_the_classes_scores_fewer_and_reaches_the_qp_optimum(loss, monkeypatch):
    """Run as Python with the general loops (whose row dot product is counted): with
    shrinking, the visits score fewer classes than ``C`` on average, without it all of them,
    and both reach the quadratic program's optimum."""
    from lingrad.optim.solvers import dualcd

    J = problem(loss, N=30, C=5, seed=4, lam=0.02)
    optimum = qp_optimum(J, 5)
    monkeypatch.setattr(_skinny, "AVAILABLE", False)
    monkeypatch.setattr(dualcd, "_pass", dualcd._epoch_loops_py)
    scored = []

    def counting_dot(X, i, V, s, cols, n_cols):
        scored.append(n_cols)
        dualcd._dense_row_dot(X, i, V, s, cols, n_cols)

    monkeypatch.setattr(dualcd, "_row_dot", counting_dot)
    means = []
    for shrinking in (True, False):
        scored.clear()
        W, state, _ = solve(J, 5, tol=1e-7, max_iter=400, shrinking=shrinking)
        assert state.status == Status.CONVERGED
        assert J.value(W) == pytest.approx(optimum, rel=1e-6)
        means.append(np.mean(scored))
    assert means[0] < 4.5 and means[1] == 5.0


@pytest.mark.parametrize("D", [4, 13, 64, 200])
def test_the_row_dot_product_sums_each_class_in_order_for_every_number_of_classes(D):
    """``_dense_row_dot`` (four classes a loop, then three, a pair above D = 128, then ones),
    run as Python and compiled: for every ``n_cols`` up to 11 and classes in any order, each
    ``s[c]`` is its start plus ``x_i . V[c]`` summed in the order of ``d``, to the last bit; the
    classes not in ``cols[:n_cols]`` are untouched."""
    from lingrad.optim.solvers import dualcd

    rng = RNG(D)
    C = 11
    X, V, start = rng.standard_normal((3, D)), rng.standard_normal((C, D)), rng.standard_normal(C)
    functions = [dualcd._dense_row_dot]
    if _skinny.AVAILABLE:
        import numba

        functions.append(numba.njit(dualcd._dense_row_dot))
    for n_cols, dot in itertools.product(range(C + 1), functions):
        cols = rng.permutation(C)
        s = start.copy()
        dot(X, 1, V, s, cols, n_cols)
        expected = start.copy()
        for c in cols[:n_cols]:
            for d in range(D):
                expected[c] += X[1, d] * V[c, d]
        assert s.tolist() == expected.tolist(), (n_cols, dot)


def test_digits_650_weights_are_polished_to_a_certified_optimum_in_fewer_iterations(monkeypatch):
    """Digits (650 weights, ~300 kinks): the polish's reduced system certifies the
    Weston-Watkins optimum at tol 1e-4 in fewer blocks than the blocks alone (which need the
    finer ``eps`` schedule aimed at the gap), at the same optimum."""
    from sklearn.datasets import load_digits

    from lingrad.optim.solvers import dualcd

    X, y = load_digits(return_X_y=True)
    X = (X - X.mean(axis=0)) / np.maximum(X.std(axis=0), 1e-12)
    J = Objective("hinge", X[:900], y[:900], lam=1e-4)
    runs = []
    for size in (dualcd._POLISH_SIZE, 0):  # polished; the blocks alone
        monkeypatch.setattr(dualcd, "_POLISH_SIZE", size)
        runs.append(solve(J, 10, tol=1e-4, max_iter=100))
    (W_p, polished, hist_p), (W_b, blocks, hist_b) = runs
    assert polished.status == blocks.status == Status.CONVERGED
    assert polished.measure <= 1e-4 and blocks.measure <= 1e-4
    assert len(hist_p) < len(hist_b), (len(hist_p), len(hist_b))
    assert J.value(W_p) == pytest.approx(J.value(W_b), rel=2e-4)
