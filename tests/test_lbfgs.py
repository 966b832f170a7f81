"""L-BFGS (lingrad.optim.solvers.lbfgs): the optimum of every smooth objective, checked against
SciPy's L-BFGS-B run to a tight tolerance; its line search; its stops through the trainer."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lingrad import optim, regularizers
from lingrad.objective import Objective
from lingrad.optim.solvers import LBFGS, Status, explain
from lingrad.optim.solvers.lbfgs import bias_scaling, more_thuente, shift_lambda, two_loop
from lingrad.train import StopReason, fit

pytestmark = pytest.mark.timeout(120)


def problem(loss, n=120, d=5, c=3, seed=0, dtype=np.float64, **kw):
    """A small standardised problem whose targets suit ``loss``; returns (J, C)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(dtype)
    y = rng.integers(0, c, n)
    C = c
    if loss in ("logistic", "sigmoid_squared_error"):
        y, C = (X[:, 0] + 0.5 * rng.standard_normal(n) > 0).astype(int), 1
    elif loss == "squared_error":
        y, C = X @ rng.standard_normal(d) + 0.1 * rng.standard_normal(n), 1
    elif loss == "kl_divergence":
        P = rng.dirichlet(np.ones(c), n)
        y = P
    return Objective(loss, X, y, **kw), C


def scipy_optimum(J, C):
    """``min J`` by SciPy's L-BFGS-B at a tight tolerance (the oracle)."""
    from scipy.optimize import minimize

    shape = (J.n_features + 1, C)
    J.check_weights(np.zeros(shape))

    def f(w):
        value, g = J.value_and_grad_unchecked(w.reshape(shape).astype(J.X.dtype))
        return value, g.ravel().astype(np.float64)

    options = {"gtol": 1e-12, "ftol": 1e-16, "maxiter": 10_000}
    return minimize(f, np.zeros(math.prod(shape)), jac=True, method="L-BFGS-B", options=options)


def solve(J, C, **kw):
    W0 = np.zeros((J.n_features + 1, C), dtype=J.X.dtype)
    return fit(
        J, optim.get("lbfgs", **kw), n_columns=C, W0=W0, epochs=500, rng=np.random.default_rng(0)
    )


@pytest.mark.parametrize(
    ("loss", "lam"),
    [
        ("softmax", 1e-2),
        ("softmax", 1e-4),
        ("logistic", 1e-3),
        ("squared_error", 1e-3),
        ("kl_divergence", 1e-2),
        ("squared_hinge", 1e-2),
        ("softmax_cross_entropy", 0.0),  # overlapping classes: a minimum exists without lam
    ],
)
def test_reaches_scipys_optimum(loss, lam):
    J, C = problem(loss, lam=lam)
    r = solve(J, C, tol=1e-9)
    assert r.stop is not None and r.stop.reason is StopReason.CONVERGED, r.stop
    best = scipy_optimum(J, C).fun
    ours = J.value(r.W)
    assert ours <= best + 1e-10 * max(1.0, abs(best))
    assert r.history["loss"][-1] == pytest.approx(ours, rel=1e-12)


def test_sample_weights_and_regularizer_none():
    J, C = problem("softmax", regularizer="none", sample_weight=np.linspace(0.1, 2.0, 120))
    r = solve(J, C, tol=1e-9)
    assert J.value(r.W) <= scipy_optimum(J, C).fun + 1e-10


def test_non_convex_sigmoid_squared_error_decreases_to_a_stationary_point():
    J, C = problem("sigmoid_squared_error", lam=1e-3)
    r = solve(J, C, tol=1e-7)
    losses = r.step_history["loss"]
    assert all(b <= a for a, b in itertools.pairwise(losses))
    assert np.abs(J.value_and_grad(r.W)[1]).max() <= 1e-7


def test_float32_stays_float32_and_converges_to_its_precision():
    J, C = problem("softmax", lam=1e-3, dtype=np.float32)
    r = solve(J, C)
    assert r.W.dtype == np.float32
    assert r.stop.reason is StopReason.CONVERGED
    J64, _ = problem("softmax", lam=1e-3)
    assert J64.value(r.W.astype(np.float64)) <= scipy_optimum(J64, C).fun * (1 + 1e-6)


def test_each_iteration_records_its_measure_and_passes():
    J, C = problem("softmax", lam=1e-3)
    r = solve(J, C, tol=1e-8)
    measures = r.step_history["grad_norm"]
    assert len(measures) == r.n_iter == r.n_epochs
    assert measures[-1] <= 1e-8 < measures[0]
    assert r.n_evaluations >= r.n_iter + 1  # one pass per trial step, plus the start
    assert math.isnan(r.history["learning_rate"][0])


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"loss": "hinge"}, "the loss 'hinge' .piecewise linear"),
        ({"loss": "crammer_singer"}, "use 'continuation'"),
        ({"loss": "softmax", "regularizer": "l1", "lam": 0.1}, "regularizer 'l1'"),
        ({"loss": "softmax", "regularizer": "elastic_net", "lam": 0.1}, "use 'fista'"),
    ],
)
def test_refuses_a_problem_it_cannot_solve_naming_both(kw, match):
    loss = kw.pop("loss")
    J = Objective(loss, np.eye(3), [0, 1, 2], **kw)
    with pytest.raises(ValueError, match=f"solver 'lbfgs'.*{match}"):
        fit(J, LBFGS(), n_columns=3, epochs=5, rng=np.random.default_rng(0))


def test_refuses_another_gradient_method_and_a_learning_rate():
    J = Objective("softmax", np.eye(3), [0, 1, 2])
    with pytest.raises(ValueError, match="gradient: expected 'analytic' for the solver"):
        fit(J, LBFGS(), n_columns=3, epochs=5, rng=np.random.default_rng(0), gradient="numerical")
    with pytest.raises(ValueError, match="learning_rate: expected None for the solver 'lbfgs'"):
        optim.get("lbfgs", 0.1)


class Broken:
    """An objective whose value turns NaN after ``good`` passes (a solver-level oracle)."""

    def __init__(self, good):
        self.good, self.calls = good, 0

    def value_and_grad_unchecked(self, W):
        self.calls += 1
        value = float(0.5 * np.vdot(W - 1, W - 1))
        return (value if self.calls <= self.good else math.nan), W - 1


def test_a_failed_line_search_keeps_the_weights_and_explains():
    solver, W = LBFGS(), np.zeros((2, 1))
    state = solver.init(W)
    step, state = solver.update(None, state, W, objective=Broken(good=1))
    assert not step.any()
    assert state.status == Status.LINE_SEARCH_FAILED
    assert "standardise the features" in explain(state.status, state.measure)


def test_a_non_finite_start_is_reported():
    solver, W = LBFGS(), np.zeros((2, 1))
    _, state = solver.update(None, solver.init(W), W, objective=Broken(good=0))
    assert state.status == Status.NON_FINITE
    assert "non-finite" in explain(state.status, state.measure)


def test_update_without_the_objective_is_a_type_error():
    with pytest.raises(TypeError, match="needs objective="):
        LBFGS().update(None, LBFGS().init(np.zeros(2)), np.zeros(2))


@settings(max_examples=30, deadline=None)
@given(
    curvature=st.floats(0.1, 100.0),
    minimum=st.floats(0.05, 50.0),
    start=st.floats(1e-3, 10.0),
)
def test_line_search_steps_meet_both_conditions(curvature, minimum, start):
    def phi(a):  # a quadratic along the line with its minimum at ``minimum``
        return 0.5 * curvature * (a - minimum) ** 2, curvature * (a - minimum)

    f0, g0 = phi(0.0)
    alpha = more_thuente(phi, f0, g0, start)
    assert alpha is not None
    f, g = phi(alpha)
    assert f <= f0 + 1e-4 * alpha * g0
    assert abs(g) <= 0.9 * abs(g0)


def test_two_loop_meets_the_secant_equation_of_the_newest_pair():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((4, 4))
    H = A @ A.T + 4 * np.eye(4)  # a quadratic's Hessian: y = H s for every pair
    S = rng.standard_normal((3, 4))
    Y = S @ H
    # pairs stored in a ring of 3: 5 pairs in all, the newest at index (5 - 1) % 3 = 1
    np.testing.assert_allclose(two_loop(Y[1], S, Y, 5), S[1], rtol=1e-10)
    # and the estimate is symmetric positive definite: v.Hv > 0
    v = rng.standard_normal(4)
    assert v @ two_loop(v, S, Y, 5) > 0


def _textbook_two_loop(g, S, Y, count, h0=None):
    """Nocedal & Wright's Algorithm 7.4, pair by pair (the oracle of the compact form);
    ``H_0 = diag(h0)`` where given, else ``gamma I``."""
    m = S.shape[0]
    newest_first = [(count - 1 - i) % m for i in range(min(count, m))]
    q, alphas = g.copy(), []
    for j in newest_first:
        rho = 1.0 / (Y[j] @ S[j])
        a = rho * (S[j] @ q)
        q -= a * Y[j]
        alphas.append((j, rho, a))
    n = newest_first[0]
    q *= (S[n] @ Y[n]) / (Y[n] @ Y[n]) if h0 is None else h0
    for j, rho, a in reversed(alphas):
        q += (a - rho * (Y[j] @ q)) * S[j]
    return q


@pytest.mark.parametrize("scaled", [False, True])
@pytest.mark.parametrize("form", ["compiled recursion", "compact"])
@pytest.mark.parametrize("count", [1, 2, 5, 9, 10, 11, 23])
def test_two_loop_compact_form_equals_the_textbook_recursion(count, form, scaled, monkeypatch):
    """Every fill of the ring (fewer pairs than slots, full, wrapped around), for both ways
    ``two_loop`` computes it: the compiled recursion (small P, Numba installed) and the compact
    form (large P, or without Numba; with a diagonal ``H_0``: ``_diagonal_recursion``)."""
    from lingrad import _skinny
    from lingrad.optim.solvers import lbfgs

    if form == "compact":
        monkeypatch.setattr(lbfgs, "RECURSION_MAX_SIZE", 0)
    else:
        assert _skinny.AVAILABLE and lbfgs._recursion(np.zeros(37))
    rng = np.random.default_rng(count)
    m, P = 10, 37
    S = rng.standard_normal((m, P))
    Y = S + 0.3 * rng.standard_normal((m, P))  # s.y > 0 for every pair
    if count < m:
        S[count:], Y[count:] = 0.0, 0.0  # slots never written stay zero, as in init()
    g = rng.standard_normal(P)
    h0 = rng.uniform(0.5, 2.0, P) if scaled else None
    expected = _textbook_two_loop(g, S, Y, count, h0)
    got = two_loop(g, S, Y, count, h0=h0)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)
    if form == "compiled recursion":  # and the Python source Numba compiles, run as Python
        got = lbfgs._recursion_py(g, S, Y, count, np.empty(0) if h0 is None else h0)
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("tol", [1e-3, 1e-5, 1e-7])
def test_stops_at_the_first_iteration_whose_measure_is_at_most_tol(tol):
    """The convergence measure max|dJ/dW| (recomputed here from the weights) is <= tol at the
    stop and > tol at every earlier iteration: it stops where it says, not later."""
    J, C = problem("softmax", lam=1e-3)
    r = solve(J, C, tol=tol)
    assert r.stop.reason is StopReason.CONVERGED
    measures = r.step_history["grad_norm"]
    assert measures[-1] <= tol and all(m > tol for m in measures[:-1])
    _, g = J.value_and_grad(r.W)
    assert np.max(np.abs(g)) == pytest.approx(measures[-1], rel=1e-12)


def test_the_first_trial_step_has_length_one():
    """The first iteration's first trial point is ``W0 - g / ||g||_2`` (L-BFGS-B's first
    step), not ``g / ||g||_1`` (3-4 extra passes at P = 650 before)."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = (X - X.mean(0)) / np.maximum(X.std(0), 1e-12)
    J, C = Objective("softmax", X, y, lam=1e-4), 10
    W0 = J.check_weights(np.zeros((J.n_features + 1, C)))
    J.targets(C)
    seen = []

    class Recording:
        def value_and_grad_unchecked(self, W, *args, **kwargs):
            seen.append(W.copy())
            return J.value_and_grad_unchecked(W, *args, **kwargs)

    solver = LBFGS(tol=1e-10)
    solver.update(None, solver.init(W0), W0, objective=Recording())
    _, g = J.value_and_grad(W0)
    np.testing.assert_array_equal(seen[0], W0)
    alpha = 1.0 / np.linalg.norm(g)
    assert 1.0 / np.abs(g).sum() < alpha < 1.0  # the rule that matters here
    np.testing.assert_allclose(seen[1], W0 - alpha * g, rtol=1e-12)


def test_iterates_are_scipys_where_the_first_gradient_is_short():
    """Where ``||g_0||_2 < 1`` (iris, lam = 1e-4) the first step still has length 1, as
    L-BFGS-B's (a step ``-g`` took another path, ending 5e-5 above scikit-learn's J): the
    iterates are SciPy's until a line search first interpolates (14 here; 10 checked)."""
    from scipy.optimize import minimize
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)
    J, C = Objective("softmax", X, y, lam=1e-4), 3
    shape = (J.n_features + 1, C)
    W = J.check_weights(np.zeros(shape))
    assert np.linalg.norm(J.value_and_grad(W)[1]) < 1.0  # the case the rule is about
    theirs: list[float] = []

    def f(w):
        value, g = J.value_and_grad_unchecked(w.reshape(shape))
        return value, g.ravel()

    options = {"gtol": 1e-10, "maxiter": 10}
    minimize(f, W.ravel(), jac=True, method="L-BFGS-B", options=options,
             callback=lambda w: theirs.append(J.value(w.reshape(shape))))  # fmt: skip
    solver, state, ours = LBFGS(tol=1e-10), None, []
    state = solver.init(W)
    for _ in range(10):
        step, state = solver.update(None, state, W, objective=J)
        W = W + step
        ours.append(state.value)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


# Moré & Thuente (1994), section 5: the test functions, their (ftol, gtol), the starts 1e-3..1e3
def _mt1(a, b=2.0):
    return -a / (a * a + b), (a * a - b) / (a * a + b) ** 2


def _mt2(a, b=0.004):
    return (a + b) ** 5 - 2 * (a + b) ** 4, 5 * (a + b) ** 4 - 8 * (a + b) ** 3


def _mt3(a, b=0.01, n=39):
    if a <= 1 - b:
        p, dp = 1 - a, -1.0
    elif a >= 1 + b:
        p, dp = a - 1, 1.0
    else:
        p, dp = (a - 1) ** 2 / (2 * b) + b / 2, (a - 1) / b
    wave = 2 * (1 - b) / (n * math.pi) * math.sin(n * math.pi * a / 2)
    return p + wave, dp + (1 - b) * math.cos(n * math.pi * a / 2)


def _yanai(b1, b2):
    def f(a):
        g1, g2 = math.sqrt(1 + b1 * b1) - b1, math.sqrt(1 + b2 * b2) - b2
        r1, r2 = math.sqrt((1 - a) ** 2 + b2**2), math.sqrt(a * a + b1**2)
        return g1 * r1 + g2 * r2, -g1 * (1 - a) / r1 + g2 * a / r2

    return f


PAPER = [
    (_mt1, 1e-3, 0.1),
    (_mt2, 0.1, 0.1),
    (_mt3, 0.1, 0.1),
    (_yanai(1e-3, 1e-3), 1e-3, 1e-3),
    (_yanai(1e-2, 1e-3), 1e-3, 1e-3),
    (_yanai(1e-3, 1e-2), 1e-3, 1e-3),
]


@pytest.mark.parametrize("start", [1e-3, 1e-1, 1e1, 1e3])
@pytest.mark.parametrize("case", range(len(PAPER)), ids=lambda k: f"function{k + 1}")
def test_more_thuente_tries_the_steps_of_scipys_dcsrch(case, start):
    """The same trial steps as SciPy's port of MINPACK-2's ``dcsrch`` (to 1e-12), the same
    number of them, and the last one accepted (SciPy's answer where it converged; where it
    stops with an ``xtol`` warning SciPy returns None, L-BFGS-B takes that last step)."""
    from scipy.optimize._dcsrch import DCSRCH

    f, ftol, gtol = PAPER[case]
    theirs: list[float] = []
    ours: list[float] = []

    def value(a):
        theirs.append(a)
        return f(a)[0]

    def phi(a):
        ours.append(a)
        return f(a)

    f0, g0 = f(0.0)
    search = DCSRCH(value, lambda a: f(a)[1], ftol, gtol, 0.1, 0.0, 1e10)
    answer, _, _, task = search(start, f0, g0, maxiter=100)
    alpha = more_thuente(phi, f0, g0, start, ftol=ftol, gtol=gtol, max_evaluations=100)
    assert len(ours) == len(theirs) <= 12
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    assert alpha == ours[-1]
    if task.startswith(b"CONV"):
        assert alpha == pytest.approx(answer, rel=1e-12)
        fa, ga = f(alpha)
        assert fa <= f0 + ftol * alpha * g0 and abs(ga) <= gtol * abs(g0)
    else:
        assert task.startswith(b"WARNING: XTOL")


def test_more_thuente_refuses_after_max_evaluations_and_backs_off_from_nan():
    def phi(a):  # finite only below 0.25, decreasing all the way: never accepted
        return (-a, -1.0) if a < 0.25 else (math.nan, math.nan)

    seen = []
    assert more_thuente(lambda a: (seen.append(a), phi(a))[1], 0.0, -1.0, 1.0) is None
    assert len(seen) == 20 and max(seen[1:]) < 1.0 and seen[1] == 0.5


def _iris(lam):
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    return Objective("softmax", (X - X.mean(0)) / X.std(0), y, lam=lam), 3


@pytest.mark.parametrize(("lam", "tol"), [(1e-4, 1e-4), (1e-4, 1e-6), (1e-2, 1e-6)])
def test_iterates_are_scipy_l_bfgs_bs_for_the_whole_run(lam, tol):
    """Every iterate equals SciPy's L-BFGS-B (unbounded, m = 10, the same ftol and gtol) to
    1e-10, with the same number of iterations and passes: the same line search (iris, where
    the strong-Wolfe search of earlier versions chose another step at iteration 15)."""
    from scipy.optimize import minimize

    J, C = _iris(lam)
    shape = (J.n_features + 1, C)
    W = J.check_weights(np.zeros(shape))
    theirs: list[np.ndarray] = []

    def f(w):
        value, g = J.value_and_grad_unchecked(w.reshape(shape))
        return value, g.ravel()

    options = {"gtol": tol, "maxcor": 10, "ftol": 64 * np.finfo(float).eps, "maxiter": 1000}
    r = minimize(f, W.ravel(), jac=True, method="L-BFGS-B", options=options,
                 callback=lambda w: theirs.append(w.copy()))  # fmt: skip
    solver, ours = LBFGS(tol=tol), []
    state = solver.init(W)
    while state.status == Status.RUNNING and len(ours) < 1000:
        step, state = solver.update(None, state, W, objective=J)
        W = W + step
        ours.append(W.ravel().copy())
    assert state.status == Status.CONVERGED and r.success
    assert len(ours) == len(theirs) == r.nit and state.evaluations == r.nfev
    for k, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10 * np.abs(b).max(), err_msg=k)


@pytest.mark.parametrize("name", ["iris", "wine", "breast_cancer", "digits"])
def test_objective_is_logistic_regressions_at_the_same_lam(name):
    """benchmarks/solvers.py's comparison as a correctness check: the default softmax fit's J
    is within 1e-6 (relative) of scikit-learn's LogisticRegression(lbfgs) at C = 1 / (lam N)
    (2 / (lam N) on two classes: two-column softmax at lam is the logistic loss at lam / 2),
    both evaluated by lingrad's Objective; lower is fine."""
    from sklearn import datasets
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    from lingrad.estimators import LinearClassifier

    X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    X, _, y, _ = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    X, lam, C = StandardScaler().fit_transform(X), 1e-4, len(np.unique(y))
    ours = LinearClassifier(lam=lam, random_state=0).fit(X, y).W_
    sk = LogisticRegression(C=(2 if C == 2 else 1) / (lam * len(X)), max_iter=1000).fit(X, y)
    coef, intercept = sk.coef_, sk.intercept_
    if C == 2:  # one score column: lingrad's softmax uses two, (-w / 2, w / 2)
        coef, intercept = np.vstack([-coef / 2, coef / 2]), np.r_[-intercept / 2, intercept / 2]
    J = Objective("softmax", X, np.searchsorted(np.unique(y), y), lam=lam)
    theirs = J.value(np.vstack([coef.T, intercept[None]]))
    assert J.value(ours) <= theirs * (1 + 1e-6)


class Blackout:
    """``0.5 sum_i c_i (w_i - 1)^2`` (``c = 1..6``) whose next ``dark`` passes return NaN."""

    def __init__(self):
        self.c, self.dark = np.arange(1.0, 7.0).reshape(6, 1), 0

    def value_and_grad_unchecked(self, W):
        g = self.c * (W - 1)
        value = float(0.5 * np.vdot(W - 1, g))
        if self.dark > 0:
            self.dark -= 1
            value = math.nan
        return value, g


def test_a_failed_search_with_pairs_restarts_from_minus_g_with_the_memory_emptied():
    """As L-BFGS-B: after 20 failed trials along the L-BFGS direction the memory is emptied
    and the iteration restarts from ``-g`` at ``alpha = 1`` (then the pair of that step alone)."""
    J, solver, W = Blackout(), LBFGS(tol=1e-12), np.zeros((6, 1))
    state = solver.init(W)
    for _ in range(3):
        step, state = solver.update(None, state, W, objective=J)
        W = W + step
    assert state.pairs == 3 and state.status == Status.RUNNING
    J.dark, before, g = 20, state.evaluations, state.grad
    step, state = solver.update(None, state, W, objective=J)
    assert state.status == Status.RUNNING and state.pairs == 1
    assert state.evaluations > before + 20  # the 20 dark trials, then the restart's
    alpha = -(step.ravel() @ g.ravel()) / (g.ravel() @ g.ravel())
    np.testing.assert_allclose(step, -alpha * g, rtol=1e-12)  # along -g
    assert 0 < alpha <= 1 and state.value < J.value_and_grad_unchecked(W)[0]


class Recording:
    """An objective that records the weights of each pass (copies) and delegates to ``J``."""

    def __init__(self, J):
        self.J, self.points = J, []

    def value_and_grad_unchecked(self, W, *args, **kwargs):
        self.points.append(np.array(W, copy=True))
        return self.J.value_and_grad_unchecked(W, *args, **kwargs)


SHIFT_CASES = [  # (loss, include_bias, fit_intercept, weighted)
    ("softmax", False, True, False),
    ("softmax", True, True, False),
    ("softmax", False, False, False),
    ("softmax", True, False, True),
    ("logistic", False, True, True),
    ("squared_error", True, True, False),
]


@pytest.mark.parametrize(("loss", "include_bias", "fit_intercept", "weighted"), SHIFT_CASES)
@pytest.mark.parametrize(("lam", "new_lam"), [(0.3, 0.01), (1e-3, 0.0), (0.0, 0.2)])
def test_shift_lambda_gives_the_value_and_gradient_of_a_real_pass(
    loss, include_bias, fit_intercept, weighted, lam, new_lam
):
    """J + dlam R(W), g + dlam R'(W) (bias row 0 without fit_intercept) against a real pass at
    the new lam, to 1e-12, for L2 with and without the bias, with and without sample weights."""
    rng = np.random.default_rng(3)
    w = rng.uniform(0.2, 3.0, 120) if weighted else None
    kw = {"regularizer": regularizers.l2(include_bias), "fit_intercept": fit_intercept}
    J, C = problem(loss, lam=lam, sample_weight=w, **kw)
    J_new, _ = problem(loss, lam=new_lam, sample_weight=w, **kw)
    W = rng.standard_normal((6, C))  # a bias row != 0: fixed, not zero, without fit_intercept
    value, g = J.value_and_grad(W)
    state = LBFGS().init(W)._replace(grad=g, value=value)
    new = shift_lambda(state, W, J.regularizer, new_lam - lam, fit_intercept=fit_intercept)
    real_value, real_g = J_new.value_and_grad(W)
    assert abs(new.value - real_value) <= 1e-12 and new.value != value
    np.testing.assert_allclose(new.grad, real_g, rtol=0, atol=1e-12)
    assert new.measure == pytest.approx(np.abs(real_g).max(), abs=1e-12)
    assert new.point is W and new.trial is None and state.grad is g  # the input state kept


@pytest.mark.parametrize("regularizer", ["l1", "elastic_net", "none"])
def test_shift_lambda_falls_back_to_a_real_pass_for_other_regularisers(regularizer):
    J, C = problem("softmax", regularizer=regularizer, lam=0.1)
    W = np.random.default_rng(0).standard_normal((6, C))
    value, g = J.value_and_grad(W)
    state = LBFGS().init(W)._replace(grad=g, value=value)
    new = shift_lambda(state, W, J.regularizer, -0.05, trial=W * 0.9)
    assert new.grad is None and new.point is None and new.trial is None
    recorded = Recording(J)
    LBFGS().update(None, new, W, objective=recorded)
    np.testing.assert_array_equal(recorded.points[0], W)  # the first pass: at the start


def test_a_supplied_gradient_and_trial_serve_their_own_weights_only():
    """From the supplied point: no pass there, the trial tried first at alpha = 1 (when it
    descends; else the L-BFGS direction); from other weights: a real pass, as a fresh state."""
    J, C = problem("softmax", lam=0.1)
    rng = np.random.default_rng(1)
    W = rng.standard_normal((6, C))
    value, g = J.value_and_grad(W)
    known = LBFGS().init(W)._replace(grad=g, value=value)
    descent = shift_lambda(known, W, J.regularizer, 0.0, trial=W - 0.01 * g)
    recorded = Recording(J)
    step, after = LBFGS().update(None, descent, W.copy(), objective=recorded)
    np.testing.assert_array_equal(recorded.points[0], W - 0.01 * g)
    assert after.point is None and after.trial is None and after.pairs == 1
    uphill = shift_lambda(known, W, J.regularizer, 0.0, trial=W + 0.01 * g)
    recorded = Recording(J)
    LBFGS().update(None, uphill, W, objective=recorded)
    assert not np.allclose(recorded.points[0], W + 0.01 * g)  # -H g = -g/||g|| here instead
    assert np.all(recorded.points[0] != W)  # and no pass at W
    # other weights than the point: the supplied (here wrong) gradient is not used
    wrong = shift_lambda(known._replace(grad=g * 7.0), W, J.regularizer, 0.0, trial=W - g)
    elsewhere = W + 0.5
    recorded, fresh = Recording(J), Recording(J)
    step, after = LBFGS().update(None, wrong, elsewhere, objective=recorded)
    fresh_step, fresh_after = LBFGS().update(None, LBFGS().init(W), elsewhere, objective=fresh)
    np.testing.assert_array_equal(recorded.points[0], elsewhere)
    np.testing.assert_array_equal(step, fresh_step)
    assert after.evaluations == fresh_after.evaluations and after.value == fresh_after.value


def test_a_converged_supplied_point_still_tries_a_descending_trial():
    """At a supplied point already within tol the trial (a path's prediction, nearer the new
    optimum) is still tried (the first pass at it, a step taken); without a trial (or with an
    uphill one) the iteration stops there, no pass."""
    J, C = problem("softmax", lam=0.1)
    W = np.random.default_rng(2).standard_normal((6, C))
    value, g = J.value_and_grad(W)
    known = LBFGS().init(W)._replace(grad=g, value=value)
    tol = float(np.abs(g).max()) * 2  # the point counts as converged
    recorded = Recording(J)
    state = shift_lambda(known, W, J.regularizer, 0.0, trial=W - 0.01 * g)
    step, after = LBFGS(tol=tol).update(None, state, W, objective=recorded)
    np.testing.assert_array_equal(recorded.points[0], W - 0.01 * g)
    assert after.value < value and np.any(step != 0)
    assert after.evaluations == len(recorded.points) and after.pairs == 1
    for trial in (W + 0.01 * g, None):
        recorded = Recording(J)
        state = shift_lambda(known, W, J.regularizer, 0.0, trial=trial)
        step, after = LBFGS(tol=tol).update(None, state, W, objective=recorded)
        assert recorded.points == [] and after.evaluations == 0 and not np.any(step)
        assert after.status == Status.CONVERGED and after.value == value


@pytest.mark.parametrize("lam", [1.0, 1e-2])
def test_bias_scaling_uses_the_losss_own_curvature_along_the_newest_pair(lam):
    """``bias_scaling``'s ``c`` is the loss's curvature ``y_L.y_L / s.y_L`` along the newest
    pair, ``y_L`` recomputed here from the objective without its penalty (lam = 0): the bias
    entries of ``H_0`` are ``gamma (c + lam) / c``, the penalised ones ``gamma``."""
    J, C = problem("softmax", lam=lam)
    J0, _ = problem("softmax", lam=0.0)
    rng = np.random.default_rng(0)
    W = rng.normal(size=(J.n_features + 1, C))
    s = 0.1 * rng.normal(size=W.shape)
    y = J.value_and_grad(W + s)[1] - J.value_and_grad(W)[1]
    yL = (J0.value_and_grad(W + s)[1] - J0.value_and_grad(W)[1]).ravel()
    state = LBFGS(memory=3).init(W)._replace(pairs=4)  # wrapped: the newest in slot 0
    state.S[0], state.Y[0] = s.ravel(), y.ravel()
    h0 = bias_scaling(J, state).reshape(W.shape)
    gamma, c = (s.ravel() @ y.ravel()) / (y.ravel() @ y.ravel()), (yL @ yL) / (s.ravel() @ yL)
    np.testing.assert_allclose(h0[:-1], gamma, rtol=1e-12)
    np.testing.assert_allclose(h0[-1], gamma * (c + lam) / c, rtol=1e-9)
    assert h0[-1, 0] > h0[0, 0]  # the bias, less curved, takes the longer step
    # no scaling: another penalty, no penalty, no pair yet
    assert bias_scaling(J0, state) is None and bias_scaling(J, state._replace(pairs=0)) is None


@pytest.mark.parametrize("include_bias", [False, True])
def test_continued_pairs_equal_gradient_differences_at_the_new_lambda(include_bias):
    """``continue_state``'s exact shift of the memory for a change of lam (L2: ``y + dlam M s``,
    one operation on NumPy) equals the pairs recomputed from the objective's gradients at the
    new lambda, ``y' = g'(w + s) - g'(w)``, to 1e-12, the ring wrapped (pairs > m)."""
    from lingrad.estimators import continue_state

    penalty = regularizers.l2(include_bias)
    X = np.random.default_rng(1).standard_normal((80, 4))
    y = np.arange(80) % 3
    J1, J2 = (Objective("softmax", X, y, regularizer=penalty, lam=lam) for lam in (0.3, 0.02))
    rng, m = np.random.default_rng(2), 4
    state = LBFGS(memory=m).init(np.zeros((5, 3)))._replace(pairs=m + 2)
    points = [(rng.normal(size=(5, 3)), 0.1 * rng.normal(size=(5, 3))) for _ in range(m)]
    for j, (W, s) in enumerate(points):
        state.S[j] = s.ravel()
        state.Y[j] = (J1.value_and_grad(W + s)[1] - J1.value_and_grad(W)[1]).ravel()
    new = continue_state(state, penalty, 0.02 - 0.3, (5, 3))
    for j, (W, s) in enumerate(points):
        expected = (J2.value_and_grad(W + s)[1] - J2.value_and_grad(W)[1]).ravel()
        np.testing.assert_allclose(new.Y[j], expected, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(new.S, state.S)
    assert new.grad is None and new.pairs == m + 2
