"""The interior-point method for the piecewise-linear losses: its optimum against an
independent quadratic programme (SciPy's SLSQP, from test_continuation) and dual coordinate
descent's certified one, its multipliers as a dual point whose value closes the gap, the same
source run as Python and compiled, and its place in dual coordinate descent (after a first
block that ends short: one iteration, certified)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from test_continuation import problem, qp_optimum
from test_dualcd import solve as dualcd_solve

from lingrad import _skinny, regularizers
from lingrad.objective import Objective
from lingrad.optim.solvers import Status, interior
from lingrad.optim.solvers.continuation import PIECEWISE, dual_value

pytestmark = pytest.mark.timeout(300)


def zeros(J, C):
    return np.zeros((J.n_features + 1, C))


@pytest.mark.parametrize("loss", PIECEWISE)
@pytest.mark.parametrize("C", [2, 3, 4])
def test_the_optimum_is_the_quadratic_programmes(loss, C):
    """Weighted examples: ``P`` at the method's weights equals SLSQP's optimum of the epigraph
    form (an upper bound on ``min P``) to 1e-7, and the dual value of its multipliers closes
    the gap to 1e-9 relative (a certificate: ``D <= min P <= P``)."""
    J = problem(loss, N=30, C=C, seed=C)
    out = interior.solve(J, zeros(J, C))
    P, D = J.value(out.W), dual_value(J, out.alpha)
    assert out.gap <= 1e-10 and 5 <= out.steps < interior.MAX_STEPS
    assert pytest.approx(qp_optimum(J, C), rel=1e-7) == P
    assert D <= P * (1 + 1e-12) and (P - D) / P <= 1e-9
    assert np.all(out.alpha >= -1e-12)
    if loss != "one_vs_all_hinge":  # the true class carries no piece
        assert np.all(out.alpha[np.arange(30), J.targets(C)] == 0.0)
    if loss == "crammer_singer":  # alpha on the simplex
        assert np.all(out.alpha.sum(axis=1) <= 1 + 1e-9)
    else:
        assert np.all(out.alpha <= 1 + 1e-9)


@pytest.mark.parametrize("loss", PIECEWISE)
def test_the_variants_of_the_problem(loss):
    """A penalised bias (``include_bias``), a zero-weight example (it carries no cut), a start
    away from zero and CSR rows: each the same optimum as the certified dual coordinate
    descent's (tol 1e-10)."""
    C = 3
    base = problem(loss, N=24, C=C, seed=7)
    w = np.array(base.sample_weight)
    w[[0, 5]] = 0.0
    variants = [
        Objective(loss, base.X, base.y, lam=0.05, regularizer=regularizers.l2(include_bias=True)),
        Objective(loss, base.X, base.y, lam=0.05, sample_weight=w),
        Objective(loss, sp.csr_array(base.X), base.y, lam=0.05, sample_weight=w),
    ]
    starts = [zeros(base, C), np.random.default_rng(1).standard_normal((4, C)), zeros(base, C)]
    for J, W0 in zip(variants, starts, strict=True):
        out = interior.solve(J, W0)
        _, ref, _ = dualcd_solve(J, C, tol=1e-10)
        assert ref.status == Status.CONVERGED
        assert J.value(out.W) == pytest.approx(ref.value, rel=1e-8)
        assert dual_value(J, out.alpha) == pytest.approx(ref.value, rel=1e-8)
    cut = interior.cuts(variants[1], C)
    assert 0 not in cut.rows and 5 not in cut.rows
    assert np.array_equal(np.unique(cut.rows), np.setdiff1d(np.arange(24), [0, 5]))


@pytest.mark.parametrize("loss", ["hinge", "crammer_singer"])
def test_python_and_compiled_sources_agree(loss, monkeypatch):
    """The one source, run by NumPy and compiled by Numba: the same steps and the same
    optimum (summation orders apart)."""
    J = problem(loss, N=20, seed=2)
    compiled = interior.solve(J, zeros(J, 3))
    monkeypatch.setattr(_skinny, "AVAILABLE", False)
    python = interior.solve(J, zeros(J, 3))
    assert abs(python.steps - compiled.steps) <= 1
    assert J.value(python.W) == pytest.approx(J.value(compiled.W), rel=1e-10)


@pytest.mark.parametrize("loss", ["hinge", "crammer_singer"])
def test_a_slow_first_block_is_followed_by_the_interior_point_method(loss, monkeypatch):
    """Iris at ``lam = 1e-4`` (overlapping classes: dual coordinate descent's first block needs
    tens of thousands of visits): the first block stops at its cap, the interior-point method
    finishes in the same iteration, certified; with the method turned off the blocks take
    more passes to the same optimum."""
    from sklearn.datasets import load_iris

    from lingrad.optim.solvers import dualcd

    X, y = load_iris(return_X_y=True)
    J = Objective(loss, (X - X.mean(axis=0)) / X.std(axis=0), y, lam=1e-4)
    cap = dualcd.DualCD()._interior_visits(J, zeros(J, 3))
    assert cap is not None and 1e3 < cap < 1e5
    calls = []
    monkeypatch.setattr(dualcd.DualCD, "_interior", _spy(dualcd.DualCD._interior, calls))
    W, state, history = dualcd_solve(J, 3, tol=1e-6)
    assert len(calls) == 1 and calls[0] > 5  # the method ran, its steps
    assert state.status == Status.CONVERGED and len(history) == 1 and state.measure <= 1e-6
    assert state.value == pytest.approx(J.value(W), rel=1e-12)
    monkeypatch.setattr(dualcd, "_INTERIOR", False)
    _, blocks, _ = dualcd_solve(J, 3, tol=1e-6)
    assert blocks.status == Status.CONVERGED and blocks.epochs > state.epochs
    assert blocks.value == pytest.approx(state.value, rel=2e-6)
    monkeypatch.setattr(dualcd, "_IPM_MAX_SIZE", 300 * 15 - 1)  # iris's pieces' rows: 300 x 15
    assert dualcd.DualCD()._interior_visits(J, zeros(J, 3)) is None
    for binary, C in (
        (Objective("one_vs_all_hinge", J.X, y, lam=1e-4), 3),
        (problem(loss, C=2), 2),
    ):
        assert dualcd.DualCD()._interior_visits(binary, zeros(binary, C)) is None


def _spy(method, calls):
    def spied(self, objective, W):
        out = method(self, objective, W)
        calls.append(out[1])
        return out

    return spied
