"""The estimators' scikit-learn conventions: optimizer="auto" reaches the optimum, tol / max_iter
/ n_iter_no_change, ConvergenceWarning, warm_start, fit_intercept, verbose, no copy of X."""

from __future__ import annotations

import tracemalloc
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_digits, make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from lingrad.defaults import DEFAULTS
from lingrad.estimators import LinearClassifier, LinearRegressor, NoImprovement
from lingrad.objective import Objective


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _sklearn_W(model: LogisticRegression) -> np.ndarray:
    """scikit-learn's coef_ / intercept_ in lingrad's orientation (D + 1, C)."""
    return np.vstack([model.coef_.T, model.intercept_])


def test_the_default_fit_reaches_logistic_regressions_objective(digits):
    X, y = digits
    ours = LinearClassifier().fit(X, y)
    assert ours.optimizer_ == "lbfgs" and ours.lam == DEFAULTS.lam
    theirs = LogisticRegression(C=1.0 / (DEFAULTS.lam * len(X)), max_iter=1000).fit(X, y)
    J = Objective("softmax", X, y, lam=DEFAULTS.lam)  # both weights on lingrad's objective
    J_ours, J_theirs = J.value(ours.W_), J.value(_sklearn_W(theirs))
    assert J_ours <= J_theirs * (1 + 1e-6)
    # the solver's own measure reached tol; the curve is the objective after each iteration
    assert ours.n_iter_ == len(ours.loss_curve_) < DEFAULTS.max_iter
    assert ours.loss_curve_[-1] == pytest.approx(J_ours, rel=1e-12)


def test_max_iter_before_tol_warns_with_the_measure_reached(digits):
    X, y = digits
    with pytest.warns(ConvergenceWarning, match=r"max_iter=2 reached .*measure is [0-9.e+-]+ >"):
        clf = LinearClassifier(max_iter=2).fit(X, y)
    assert clf.n_iter_ == 2 and len(clf.loss_curve_) == 2
    with pytest.warns(ConvergenceWarning, match=r"the epoch loss still fell by"):
        LinearClassifier(optimizer="sgd", max_iter=2, n_iter_no_change=1).fit(X, y)


def test_warm_start_continues_from_the_previous_fit(digits):
    X, y = digits
    clf = LinearClassifier(max_iter=10)
    with pytest.warns(ConvergenceWarning):
        clf.fit(X, y)
    J = Objective("softmax", X, y, lam=clf.lam)
    first, J_first = clf.W_.copy(), J.value(clf.W_)
    cold = LinearClassifier().fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # it reaches tol this time
        clf.set_params(warm_start=True, max_iter=DEFAULTS.max_iter).fit(X, y)
    assert clf.n_iter_ < cold.n_iter_  # fewer iterations than from W = 0
    assert clf.loss_curve_[0] < J_first  # its first iteration started where the last ended
    again = clf.n_iter_
    clf.fit(X, y)  # from the optimum: converged at once
    assert clf.n_iter_ < again and clf.n_iter_ <= 2
    # without warm_start the same call starts over from W = 0
    clf.set_params(warm_start=False, max_iter=10)
    with pytest.warns(ConvergenceWarning):
        clf.fit(X, y)
    np.testing.assert_allclose(clf.W_, first)


def test_fit_intercept_false_is_f_equals_Wx_and_matches_logistic_regression(digits):
    X, y = digits
    lam = 1e-3
    ours = LinearClassifier(lam=lam, fit_intercept=False, tol=1e-6).fit(X, y)
    assert np.all(ours.intercept_ == 0) and np.all(ours.W_[-1] == 0)
    np.testing.assert_allclose(ours.decision_function(X), X @ ours.coef_.T, rtol=1e-12)
    theirs = LogisticRegression(C=1.0 / (lam * len(X)), fit_intercept=False, tol=1e-8)
    theirs.fit(X, y)
    J = Objective("softmax", X, y, lam=lam)
    W_theirs = np.vstack([theirs.coef_.T, np.zeros((1, 10))])
    assert J.value(ours.W_) <= J.value(W_theirs) * (1 + 1e-6)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=2e-3)
    # binary, one column: the logistic loss against LogisticRegression's
    Xb, yb = load_breast_cancer(return_X_y=True)
    Xb = StandardScaler().fit_transform(Xb)
    ours = LinearClassifier("logistic", lam=lam, fit_intercept=False, tol=1e-8).fit(Xb, yb)
    theirs = LogisticRegression(C=1.0 / (lam * len(Xb)), fit_intercept=False, tol=1e-10)
    theirs.fit(Xb, yb)
    assert ours.intercept_.tolist() == [0.0]
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-4, atol=1e-5)


def test_fit_intercept_false_for_the_regressor_and_sgd():
    X, y = make_blobs(n_samples=120, centers=3, random_state=0)
    X = StandardScaler().fit_transform(X)
    reg = LinearRegressor(lam=0.0, fit_intercept=False).fit(X, X @ [1.5, -2.0] + 3.0)
    assert reg.intercept_ == 0.0
    np.testing.assert_allclose(reg.coef_, np.linalg.lstsq(X, X @ [1.5, -2.0] + 3.0)[0], rtol=1e-4)
    clf = LinearClassifier(optimizer="adam", fit_intercept=False, random_state=0).fit(X, y)
    assert np.all(clf.intercept_ == 0)
    with pytest.raises(ValueError, match="fit_intercept: expected True for the search optimizer"):
        LinearClassifier(optimizer="local", fit_intercept=False).fit(X, y)
    with pytest.raises(ValueError, match="fit_intercept: expected True with gradient='numerical'"):
        LinearClassifier(optimizer="gd", gradient="numerical", fit_intercept=False).fit(X, y)


def test_sgd_stops_after_n_iter_no_change_epochs_without_a_tol_improvement():
    X, y = make_blobs(n_samples=300, centers=3, random_state=0)
    X = StandardScaler().fit_transform(X)
    tol, n = 1e-3, 4
    clf = LinearClassifier(optimizer="sgd", tol=tol, n_iter_no_change=n, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # it stopped on its own
        clf.fit(X, y)
    curve = clf.loss_curve_
    assert n < clf.n_iter_ < DEFAULTS.max_iter and len(curve) == clf.n_iter_
    # each of the last n epochs failed to beat the best loss before it by tol
    assert all(curve[i] >= min(curve[:i]) - tol for i in range(len(curve) - n, len(curve)))
    # the rule itself, epoch by epoch (scikit-learn's SGD: loss > best - tol counts)
    rule = NoImprovement(tol, n)
    stops = [rule(e, {"loss": v}, None) for e, v in enumerate(curve)]
    assert stops.index(True) == len(curve) - 1


def test_learning_rate_is_ignored_by_a_solver(digits):
    X, y = digits
    a = LinearClassifier(max_iter=30, tol=1e-3).fit(X, y)
    b = LinearClassifier(max_iter=30, tol=1e-3, learning_rate=7.0, batch_size=3).fit(X, y)
    np.testing.assert_array_equal(a.W_, b.W_)


def test_verbose_prints_one_line_per_iteration_when_stderr_is_no_terminal(digits, capsys):
    X, y = digits
    clf = LinearClassifier(verbose=1, tol=1e-3).fit(X, y)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == clf.n_iter_
    assert lines[0].startswith("iteration 1: loss ") and "measure" in lines[-1]
    loss = float(lines[-1].split("loss ")[1].split(",")[0])
    assert loss == pytest.approx(clf.loss_curve_[-1], rel=1e-5)


def test_a_solver_failure_keeps_the_last_good_weights_and_warns():
    X, y = make_blobs(n_samples=60, centers=2, random_state=0)
    X = X * 1e200  # the scores overflow at the first step
    with pytest.warns(ConvergenceWarning, match="solver stopped early, keeping the last good"):
        clf = LinearClassifier(lam=0.0).fit(X, y)
    assert np.isfinite(clf.W_).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fit_makes_no_copy_of_X(dtype):
    X, y = make_blobs(n_samples=40_000, n_features=200, centers=3, random_state=0)
    X = StandardScaler().fit_transform(X).astype(dtype)
    LinearClassifier(max_iter=3).fit(X[:100], y[:100])  # imports and caches warmed up
    tracemalloc.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf = LinearClassifier(max_iter=3).fit(X, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert clf.W_.dtype == dtype
    # under one byte per element of X: no second X, not even an N x D finiteness mask
    assert peak < 0.8 * X.size


def test_auto_on_dask_arrays_is_scipys_lbfgs_and_reaches_the_same_optimum(digits):
    import dask.array as da

    import lingrad.distributed as ld

    X, y = digits
    with ld.connect("local:1") as client:
        client.wait_for_workers(1, timeout=180)
        on_dask = LinearClassifier().fit(da.from_array(X, chunks=600), da.from_array(y, 600))
    in_memory = LinearClassifier().fit(X, y)
    assert on_dask.optimizer_ == in_memory.optimizer_ == "lbfgs"
    J = Objective("softmax", X, y, lam=DEFAULTS.lam)
    # both stop at max |dJ/dW| <= tol: the same objective to a few 1e-3 (a flat optimum)
    assert J.value(on_dask.W_) == pytest.approx(J.value(in_memory.W_), rel=5e-3)
    assert np.mean(on_dask.predict(X) == in_memory.predict(X)) > 0.99
    with pytest.raises(ValueError, match=r"fit_intercept: expected True for dask arrays"):
        LinearClassifier(fit_intercept=False).fit(da.from_array(X, chunks=600), y)


def test_a_model_file_with_the_old_parameter_names_still_loads(tmp_path):
    import json

    from lingrad import io

    X = np.array([[0.0, 0.0], [0.1, 0.3], [2.0, 2.0], [2.2, 1.8]])
    model = LinearClassifier().fit(X, [0, 0, 1, 1])
    path = io.save(model, tmp_path / "m.npz")
    arrays = dict(np.load(path, allow_pickle=False))
    meta = json.loads(str(arrays["metadata"]))
    for name in ("max_iter", "n_iter_no_change", "tol", "warm_start", "fit_intercept"):
        del meta["params"][name]
    meta["params"].update(epochs=7, patience=4)  # as lingrad 0.1.0 wrote them
    arrays["metadata"] = np.array(json.dumps(meta))
    np.savez(path, **arrays)
    back = io.load(path)
    assert back.max_iter == 7 and back.n_iter_no_change == 5  # patience p: p + 1 bad epochs
    np.testing.assert_array_equal(back.predict(X), model.predict(X))
