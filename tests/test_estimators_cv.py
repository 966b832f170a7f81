"""The cross-validated regularisation path: LinearClassifierCV and LinearRegressorCV."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import lingrad
from lingrad.estimators import LinearClassifier, LinearRegressor, fit_lams
from lingrad.model_selection import LinearClassifierCV, LinearRegressorCV, fit_path, lambda_grid

# scikit-learn marks the same check an expected failure for its own CV estimators
# (LogisticRegressionCV, RidgeCV): k-fold splits of repeated rows are not the splits of
# weighted rows, so the lambda chosen may differ.
_FOLDS_DIFFER = {
    f"check_sample_weight_equivalence_on_{kind}_data": "folds of repeated rows differ from "
    "folds of weighted rows (as for LogisticRegressionCV)"
    for kind in ("dense", "sparse")  # sparse: run since the estimators accept CSR (issue 20)
}


@parametrize_with_checks(
    [LinearClassifierCV(lams=3, cv=3), LinearRegressorCV(lams=3, cv=3)],
    expected_failed_checks=lambda e: _FOLDS_DIFFER if isinstance(e, LinearRegressorCV) else {},
)
def test_sklearn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def test_the_path_picks_the_best_mean_fold_score_and_refits(digits):
    X, y = digits
    lams = [1e-1, 1e-2, 1e-3, 1e-4]
    clf = LinearClassifierCV(lams=lams, cv=3, tol=1e-6).fit(X, y)
    assert clf.lams_.tolist() == lams and clf.scores_.shape == (3, 4)
    assert clf.n_iter_.shape == (3, 4) and (clf.n_iter_ >= 1).all()
    # the held-out scores are those of independent fits at each lambda on the same folds
    folds = StratifiedKFold(3)
    for j, lam in enumerate(lams):
        alone = cross_val_score(LinearClassifier(lam=lam, tol=1e-6), X, y, cv=folds)
        np.testing.assert_allclose(clf.scores_[:, j], alone, atol=0.011)  # 1-3 of ~600 rows
    best = int(np.argmax(clf.scores_.mean(axis=0)))
    assert clf.lam_ == lams[best]
    # the refit: the optimum on all the data at lam_, as a plain estimator finds it
    plain = LinearClassifier(lam=clf.lam_, tol=1e-8).fit(X, y)
    J = lingrad.Objective("softmax", X, y, lam=clf.lam_)
    assert J.value(clf.W_) <= J.value(plain.W_) * (1 + 1e-6)
    np.testing.assert_array_equal(clf.predict(X), clf.model_.predict(X))
    assert clf.coef_.shape == (10, 64) and clf.classes_.tolist() == list(range(10))
    assert clf.predict_proba(X[:3]).shape == (3, 10)


def test_warm_starts_take_fewer_iterations_than_cold_fits(digits):
    X, y = digits
    clf = LinearClassifierCV(lams=6, cv=2).fit(X, y)
    train, _ = next(StratifiedKFold(2).split(X, y))  # the first fold's training rows
    cold = [LinearClassifier(lam=lam).fit(X[train], y[train]).n_iter_ for lam in clf.lams_]
    # the first lambda starts cold on the path too (from the same weights), its bias steps
    # scaled (lbfgs.bias_scaling): a strong penalty leaves the bias the least curved direction
    assert clf.n_iter_[0, 0] <= cold[0]
    # after it every path fit starts near its optimum
    assert clf.n_iter_[0, 1:].sum() < 0.7 * sum(cold[1:])


def test_regressor_cv_on_diabetes():
    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    reg = LinearRegressorCV(cv=4).fit(X, y)
    assert reg.lams_.shape == (10,) and reg.lams_[0] == 1.0 and reg.lams_[-1] == 1e-6
    assert np.all(np.diff(reg.lams_) < 0) and reg.scores_.shape == (4, 10)
    assert reg.lam_ == reg.lams_[int(np.argmax(reg.scores_.mean(axis=0)))]
    plain = LinearRegressor(lam=reg.lam_, tol=1e-8).fit(X, y)
    np.testing.assert_allclose(reg.coef_, plain.coef_, rtol=1e-3, atol=1e-2)
    assert reg.score(X, y) > 0.45


def test_lazy_exports_and_no_partial_fit():
    assert lingrad.LinearClassifierCV is LinearClassifierCV
    assert lingrad.LinearRegressorCV is LinearRegressorCV
    assert not hasattr(LinearClassifierCV(), "partial_fit")


def test_scoring_and_sample_weight_are_passed_on():
    X, y = make_classification(n_samples=200, n_features=5, random_state=0)
    w = np.where(y == 1, 3.0, 1.0)
    clf = LinearClassifierCV(lams=3, cv=3, scoring="neg_log_loss", tol=1e-8)
    clf.fit(X, y, sample_weight=w)
    assert (clf.scores_ < 0).all()
    plain = LinearClassifier(lam=clf.lam_, tol=1e-8).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(clf.coef_, plain.coef_, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("lams", "error", "message"),
    [
        (0, ValueError, "lams: expected an integer >= 1"),
        ([[0.1]], TypeError, "lams: expected an integer >= 1 or a 1-D list"),
        ([0.1, -1.0], ValueError, "lams: expected lambdas that are finite and >= 0"),
        (["a"], TypeError, "lams: expected an integer"),
    ],
)
def test_bad_grids_are_refused(lams, error, message):
    with pytest.raises(error, match=message):
        lambda_grid(lams)
    X, y = make_classification(n_samples=30, n_features=4, random_state=0)
    with pytest.raises(error, match=message):
        LinearClassifierCV(lams=lams).fit(X, y)


def test_the_path_ends_where_independent_fits_end_at_a_tight_tol(digits):
    """Warm starts keep the weights and the L-BFGS memory between lambdas (corrected for the
    change of lam): at tol 1e-9 each fit reaches the optimum an independent fit reaches."""
    X, y = digits
    X, y = X[:600], y[:600]
    lams = lambda_grid([1e-1, 1e-2, 1e-3, 1e-4])
    path = [m.W_.copy() for m in fit_path(LinearClassifier(tol=1e-9), X, y, lams)]
    for lam, W in zip(lams, path, strict=True):
        alone = LinearClassifier(lam=lam, tol=1e-9).fit(X, y).W_
        J = lingrad.Objective("softmax", X, y, lam=lam)
        assert J.value(W) == pytest.approx(J.value(alone), rel=1e-10)
        scale = np.abs(alone).max()
        np.testing.assert_allclose(W[:-1], alone[:-1], atol=1e-5 * scale)
        # the biases: unique up to a common constant (softmax ignores it, R does not see it)
        # and less determined (no lam curvature along them): centred, to 1e-4
        np.testing.assert_allclose(
            W[-1] - W[-1].mean(), alone[-1] - alone[-1].mean(), atol=1e-4 * scale
        )


def test_a_path_validates_its_data_once(digits, monkeypatch):
    """``fit_lams`` checks X and y once for the whole grid, not once per lambda."""
    X, y = digits
    calls = []
    real = lingrad.estimators.plain_fit_arrays  # the first step of every fit's validation

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(lingrad.estimators, "plain_fit_arrays", counting)
    fitted = [m.lam for m in fit_lams(LinearClassifier(), X[:300], y[:300], [1.0, 0.1, 0.01])]
    assert fitted == [1.0, 0.1, 0.01] and len(calls) == 1
    bad = np.array(X[:300])
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        next(fit_lams(LinearClassifier(), bad, y[:300], [1.0]))


def test_the_default_path_takes_under_half_the_iterations_of_independent_fits(digits):
    """Issue 14's path on digits (the default grid of 10 lambdas, L-BFGS at tol 1e-4): warm
    starts extrapolated along the path with the L-BFGS memory kept (92 against 230 measured),
    each optimum as low as the independent fit's up to what tol 1e-4 allows."""
    X, y = digits
    lams = lambda_grid(10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        path = [(m.n_iter_, m.W_.copy()) for m in fit_path(LinearClassifier(), X, y, lams)]
        alone = [LinearClassifier(lam=float(lam)).fit(X, y) for lam in lams]
    assert sum(n for n, _ in path) < 0.5 * sum(m.n_iter_ for m in alone)
    for lam, (_, W), model in zip(lams, path, alone, strict=True):
        J = lingrad.Objective("softmax", X, y, lam=lam)
        assert J.value(W) <= J.value(model.W_) * (1 + 1e-3)


def test_a_path_sets_lam_without_set_params_per_lambda(digits, monkeypatch):
    """``set_params`` reads the constructor's signature per call (5% of a path): ``fit_lams``
    calls it once (``warm_start``), then sets ``lam`` itself; ``get_params`` still sees it."""
    X, y = digits
    calls = []
    real = LinearClassifier.set_params

    def counting(self, **params):
        calls.append(params)
        return real(self, **params)

    monkeypatch.setattr(LinearClassifier, "set_params", counting)
    lams = [m.get_params()["lam"] for m in fit_lams(LinearClassifier(), X, y, [1.0, 0.1, 0.01])]
    assert lams == [1.0, 0.1, 0.01] and calls == [{"warm_start": True}]


class _Passes:
    """Records the weights of every pass over X (``Objective.value_and_grad_unchecked``)."""

    def __init__(self, monkeypatch):
        self.points: list[np.ndarray] = []
        real = lingrad.Objective.value_and_grad_unchecked

        def recording(objective, W, *args, **kwargs):
            self.points.append(np.array(W, copy=True))
            return real(objective, W, *args, **kwargs)

        monkeypatch.setattr(lingrad.Objective, "value_and_grad_unchecked", recording)


PATH_CASES = {  # (estimator, data, sample weights)
    "softmax": (LinearClassifier, "multi", False),
    "no intercept": (lambda **kw: LinearClassifier(fit_intercept=False, **kw), "multi", False),
    "sample weights": (LinearClassifier, "multi", True),
    "two classes": (LinearClassifier, "binary", True),  # logistic on the column difference
    "regressor": (LinearRegressor, "real", True),
}


def _path_data(kind):
    X, y = make_classification(
        n_samples=300, n_features=8, n_informative=5, n_classes=3 if kind == "multi" else 2,
        random_state=0,
    )  # fmt: skip
    if kind == "real":
        y = X @ np.arange(1.0, 9.0) + 0.3 * np.random.default_rng(0).standard_normal(300)
    w = np.random.default_rng(1).uniform(0.5, 2.0, 300)
    return StandardScaler().fit_transform(X), y, w


@pytest.mark.parametrize("case", PATH_CASES)
def test_pass_free_starts_reach_the_optima_of_independent_fits(case, monkeypatch):
    """Each L2 fit after the first starts from the previous optimum with its value and gradient
    shifted to the new lambda (no pass there): every fit ends as low as the independent fit up
    to what its gradient allows (J - J* <= ||g||^2 / (2 lam), g by a real pass at its lambda),
    and never evaluates the objective at the previous optimum."""
    make, kind, weighted = PATH_CASES[case]
    X, y, w = _path_data(kind)
    w = w if weighted else None
    tol, lams = 1e-7, lambda_grid([1.0, 0.3, 0.1, 0.03, 0.01])
    passes = _Passes(monkeypatch)
    path, starts = [], 0
    for model in fit_path(make(tol=tol), X, y, lams, sample_weight=w):
        if path:  # (two classes: the solver's weights are the column difference)
            last = path[-1] if kind != "binary" else path[-1][:, 1:] - path[-1][:, :1]
            starts += sum(np.array_equal(p, last) for p in passes.points)
        path.append(model.W_.copy())
        passes.points.clear()
    assert starts == 0  # the previous optimum is never a pass's weights
    loss = "squared_error" if kind == "real" else "softmax"
    for lam, W in zip(lams, path, strict=True):
        alone = make(lam=lam, tol=tol).fit(X, y, sample_weight=w).W_
        J = lingrad.Objective(loss, X, y, lam=lam, sample_weight=w, fit_intercept=W[-1].any())
        value, g = J.value_and_grad(W)
        # tol or the ftol stop (J changes by 64 eps, the independent fits' stop too: 3e-7)
        assert np.abs(g).max() <= 10 * tol
        assert value <= J.value(alone) + float(np.vdot(g, g)) / (2 * lam)


def test_other_regularisers_start_with_a_real_pass(monkeypatch):
    """Without L2 (here no penalty) the shift is not used: fit 2 starts with a pass at the
    first optimum (two lambdas: no extrapolation, the start is the previous optimum)."""
    X, y, _ = _path_data("multi")
    found = {}
    for regularizer in ("none", "l2"):
        passes, fitted = _Passes(monkeypatch), []
        for model in fit_lams(LinearClassifier(regularizer=regularizer), X, y, [0.1, 0.05]):
            fitted.append((model.W_.copy(), len(passes.points)))
        W1, first = fitted[0]
        found[regularizer] = [np.array_equal(p, W1) for p in passes.points[first:]]
    assert found["none"][0] and not any(found["l2"])


def test_a_path_keeps_its_own_lbfgs_memory_and_plain_fits_scipys(digits):
    """On a path the L-BFGS fits keep ``PATH_MEMORY`` pairs and scale the bias steps (weights
    of at most ``RECURSION_MAX_SIZE`` numbers); a plain fit keeps SciPy's 10 and ``gamma I``."""
    from lingrad.estimators import PATH_MEMORY
    from lingrad.optim.solvers.lbfgs import RECURSION_MAX_SIZE

    X, y = digits
    assert RECURSION_MAX_SIZE >= 65 * 10
    for model in fit_lams(LinearClassifier(), X, y, [1.0, 0.1]):
        state = model._solver_end[0]
        assert state.S.shape == (PATH_MEMORY, 650) and state.scale_bias
    assert state.pairs > 10  # the second fit carries on the first's pairs: more than 10 kept
    plain = LinearClassifier(lam=1.0).fit(X, y)._solver_end[0]
    assert plain.S.shape == (10, 650) and not plain.scale_bias
