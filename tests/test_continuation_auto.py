"""``optimizer="auto"`` for a hinge loss on dense data: ``"continuation"`` where the set is
mid-size and weakly regularised (``lingrad.defaults.hinge_condition``), ``"dualcd"`` elsewhere;
the fit it picks ends at a certified duality gap."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from lingrad import defaults, optim
from lingrad.defaults import hinge_condition, resolve_optimizer
from lingrad.estimators import LinearClassifier
from lingrad.objective import Objective
from lingrad.optim.solvers import Status

pytestmark = pytest.mark.timeout(120)


def rows_of_norm(N, D, norm2, seed=0):
    """``(N, D)`` rows of squared norm ``norm2`` at most (the first exactly)."""
    X = np.random.default_rng(seed).standard_normal((N, D))
    X *= np.sqrt(norm2 / (X * X).sum(axis=1).max())
    return X


def test_hinge_condition_is_lam_n_over_the_largest_squared_row_norm():
    X = rows_of_norm(50, 3, 4.0, seed=1)
    naive = 0.1 * 50 / max(sum(v * v for v in row) for row in X.tolist())
    assert hinge_condition(X, 0.1) == pytest.approx(naive, rel=1e-12)
    assert hinge_condition(sp.csr_array(X), 0.1) == pytest.approx(naive, rel=1e-12)


@pytest.mark.parametrize("loss", ["hinge", "one_vs_all_hinge", "crammer_singer"])
def test_the_rule_picks_continuation_at_the_threshold_and_dualcd_beyond(loss):
    N, D = defaults.HINGE_PRIMAL_MIN_ROWS, defaults.HINGE_PRIMAL_MIN_FEATURES
    limit = defaults.HINGE_PRIMAL_MAX_CONDITION
    lam = 1e-4
    X = rows_of_norm(N, D, lam * N / limit)  # the condition exactly at the limit
    assert hinge_condition(X, lam) == pytest.approx(limit, rel=1e-12)
    assert resolve_optimizer("auto", loss, X=X, lam=lam * (1 - 1e-9)) == "continuation"
    assert resolve_optimizer("auto", loss, X=X, lam=lam * 1.01) == "dualcd"  # above it
    assert resolve_optimizer("auto", loss, X=X[: N - 1], lam=lam) == "dualcd"  # too few rows
    assert resolve_optimizer("auto", loss, X=X[:, : D - 1], lam=lam) == "dualcd"  # features
    # sparse data, a cluster, partial_fit, another penalty, no data: the rule does not apply
    assert resolve_optimizer("auto", loss, X=sp.csr_array(X), lam=lam, sparse=True) == "dualcd"
    assert resolve_optimizer("auto", loss, X=X, lam=lam, dask=True) == defaults.DEFAULTS.fallback
    assert resolve_optimizer("auto", loss, X=X, lam=lam, partial_fit=True) == "sgd"
    assert resolve_optimizer("auto", loss, "l1", X=X, lam=lam) == "dualcd"
    assert resolve_optimizer("auto", loss) == "dualcd"
    assert resolve_optimizer("dualcd", loss, X=X, lam=lam) == "dualcd"  # asked for: kept


@pytest.mark.parametrize("loss", ["hinge", "one_vs_all_hinge"])
def test_the_default_fit_in_that_regime_is_continuation_at_a_certified_gap(loss, monkeypatch):
    """A small set in the regime (the thresholds lowered to it): the estimator's default fit
    runs continuation and stops at a relative duality gap <= tol, checked here independently
    (lingrad's certificate recomputed at the fitted weights)."""
    rng = np.random.default_rng(3)
    N, D, C = 300, 6, 3
    y = np.arange(N) % C
    X = rng.standard_normal((N, D)) + 0.7 * rng.standard_normal((C, D))[y]
    monkeypatch.setattr(defaults, "HINGE_PRIMAL_MIN_ROWS", 100)
    monkeypatch.setattr(defaults, "HINGE_PRIMAL_MIN_FEATURES", 4)
    monkeypatch.setattr(defaults, "HINGE_PRIMAL_MAX_CONDITION", 1.0)
    clf = LinearClassifier(loss=loss, lam=1e-3, tol=1e-6).fit(X, y)
    assert clf.optimizer_ == "continuation"
    J = Objective(loss, X, y, lam=1e-3)
    solver = optim.get("dualcd", tol=1e-10)  # the other exact solver: a lower bound on min J
    W, state = J.check_weights(np.zeros((D + 1, C))), None
    state = solver.init(W)
    while state.status == Status.RUNNING:
        step, state = solver.update(None, state, W, objective=J)
        W = W + step
    assert state.status == Status.CONVERGED
    assert state.dual <= J.value(clf.W_) <= state.dual + 1.0001e-6 * J.value(clf.W_)
    assert clf.n_iter_ < defaults.DEFAULTS.max_iter
