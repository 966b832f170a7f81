"""The scikit-learn estimators: the full estimator checks, accuracy parity, the API surface."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_digits,
    load_iris,
    load_wine,
    make_blobs,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from sklearn.utils.estimator_checks import parametrize_with_checks

from lingrad import losses
from lingrad.estimators import LinearClassifier, LinearRegressor, from_weights

# Every check of scikit-learn's suite, with the default parameters (no expected failures).
# check_array_api_input (NumPy input with array-API dispatch on) needs SCIPY_ARRAY_API=1 set
# before SciPy is imported: `make test` (and so CI) sets it; a bare `pytest` run skips that one.


@parametrize_with_checks([LinearClassifier(), LinearRegressor()])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


# ------------------------------------------------------------------------------------------
# Accuracy parity on the shipped datasets (stratified 80/20 split, random_state=0, scaled)
# ------------------------------------------------------------------------------------------

LOADERS = {
    "digits": load_digits,
    "iris": load_iris,
    "wine": load_wine,
    "breast_cancer": load_breast_cancer,
}


def _split(loader, stratify=True):
    X, y = loader(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, stratify=y if stratify else None, random_state=0
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def _full_batch(N):
    # scikit-learn's C = 1 is lam = 1 / N for our mean-loss objective; full-batch gradient
    # descent (our optimiser) to convergence.
    # (n_iter_no_change=max_iter: all 1000 epochs, whatever the loss does)
    return dict(
        lam=1.0 / N,
        optimizer="gd",
        learning_rate=1.0,
        schedule="constant",
        max_iter=1000,
        n_iter_no_change=1000,
    )


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # all epochs run
@pytest.mark.parametrize("name", LOADERS)
@pytest.mark.parametrize(
    ("loss", "reference"),
    [("softmax", lambda: LogisticRegression(max_iter=5000)), ("hinge", lambda: LinearSVC())],
)
def test_accuracy_parity_with_scikit_learn(name, loss, reference):
    X_train, X_test, y_train, y_test = _split(LOADERS[name])
    ours = LinearClassifier(loss, random_state=0, **_full_batch(len(X_train)))
    ours.fit(X_train, y_train)
    theirs = reference().fit(X_train, y_train)
    assert ours.score(X_test, y_test) >= theirs.score(X_test, y_test) - 0.01


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # all epochs run
def test_regression_parity_with_ridge():
    X_train, X_test, y_train, y_test = _split(load_diabetes, stratify=False)
    N = len(X_train)
    # Ridge(alpha) sums squared errors: lam = 2 alpha / N for our mean.
    ours = LinearRegressor(
        lam=2.0 / N,
        optimizer="gd",
        learning_rate=0.2,
        schedule="constant",
        max_iter=2000,
        n_iter_no_change=2000,
    ).fit(X_train, y_train)
    ridge = Ridge(alpha=1.0).fit(X_train, y_train)
    assert abs(ours.score(X_test, y_test) - ridge.score(X_test, y_test)) < 0.01
    np.testing.assert_allclose(ours.coef_, ridge.coef_, rtol=1e-3, atol=1e-2)


# ------------------------------------------------------------------------------------------
# API surface
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n_samples=150, centers=3, random_state=0)
    return StandardScaler().fit_transform(X), y


def test_string_labels_and_learned_attributes(blobs):
    X, y = blobs
    labels = np.array(["cat", "dog", "ship"])[y]
    clf = LinearClassifier(random_state=0).fit(X, labels)
    assert clf.classes_.tolist() == ["cat", "dog", "ship"]
    assert set(clf.predict(X)) <= {"cat", "dog", "ship"}
    assert clf.score(X, labels) > 0.9
    assert clf.coef_.shape == (3, 2) and clf.intercept_.shape == (3,)
    assert clf.W_.shape == (3, 3)
    np.testing.assert_array_equal(clf.coef_, clf.W_[:-1].T)
    np.testing.assert_allclose(clf.decision_function(X), X @ clf.coef_.T + clf.intercept_)
    assert clf.optimizer_ == "lbfgs" and 1 <= clf.n_iter_ == len(clf.loss_curve_) < 1000
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]
    P = clf.predict_proba(X)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    np.testing.assert_array_equal(clf.classes_[P.argmax(axis=1)], clf.predict(X))


def test_binary_scores_have_one_column_view(blobs):
    X, y = blobs
    keep = y < 2
    for loss, columns in [("softmax", 2), ("logistic", 1), ("sigmoid_squared_error", 1)]:
        clf = LinearClassifier(loss, random_state=0).fit(X[keep], y[keep])
        assert clf.W_.shape == (3, columns)
        d = clf.decision_function(X)
        assert d.shape == (len(X),) and clf.coef_.shape == (1, 2)
        np.testing.assert_allclose(d, X @ clf.coef_[0] + clf.intercept_[0], rtol=1e-6)
        np.testing.assert_array_equal(clf.predict(X), (d > 0).astype(int))
        np.testing.assert_allclose(clf.predict_proba(X)[:, 1] > 0.5, d > 0)


@pytest.mark.parametrize("loss", ["hinge", "crammer_singer", "one_vs_all_hinge", "svm"])
def test_hinge_losses_have_no_predict_proba(blobs, loss):
    X, y = blobs
    clf = LinearClassifier(loss, random_state=0).fit(X, y)
    assert not hasattr(clf, "predict_proba")
    assert clf.score(X, y) > 0.85


@pytest.mark.parametrize(
    ("optimizer", "minimum"),
    [
        ("sgd", 0.85),
        ("gd", 0.85),
        ("momentum", 0.85),
        ("nesterov", 0.85),
        ("adam", 0.85),
        ("local", 0.85),
        ("genetic", 0.85),
        ("random", 0.5),  # blind random guessing: better than chance (1/3), no more
    ],
)
def test_every_optimizer_trains(blobs, optimizer, minimum):
    X, y = blobs
    clf = LinearClassifier(optimizer=optimizer, random_state=0).fit(X, y)
    assert clf.score(X, y) > minimum


def test_float32_stays_float32(blobs):
    X, y = blobs
    clf = LinearClassifier(random_state=0).fit(X.astype(np.float32), y)
    assert clf.W_.dtype == np.float32 and clf.coef_.dtype == np.float32
    assert clf.decision_function(X.astype(np.float32)).dtype == np.float32
    reg = LinearRegressor(random_state=0).fit(X.astype(np.float32), X[:, 0] + 1.0)
    assert reg.predict(X.astype(np.float32)).dtype == np.float32


def test_same_seed_same_model(blobs):
    X, y = blobs
    a = LinearClassifier(optimizer="sgd", batch_size=16, random_state=3).fit(X, y)
    b = LinearClassifier(optimizer="sgd", batch_size=16, random_state=3).fit(X, y)
    np.testing.assert_array_equal(a.W_, b.W_)


def test_partial_fit_continues_training(blobs):
    X, y = blobs
    clf = LinearClassifier(optimizer="sgd", random_state=0)
    clf.partial_fit(X[:50], y[:50], classes=[0, 1, 2])
    first = clf.W_.copy()
    for _ in range(20):
        clf.partial_fit(X, y)
    assert clf.n_iter_ == 21 and not np.array_equal(first, clf.W_)
    assert clf.score(X, y) > 0.85
    with pytest.raises(ValueError, match="classes: expected all class labels"):
        LinearClassifier().partial_fit(X, y)


def test_sample_weight_and_class_weight_agree(blobs):
    X, y = blobs
    weights = {0: 5.0, 1: 1.0, 2: 1.0}
    kw = dict(optimizer="gd", max_iter=50, random_state=0)
    by_class = LinearClassifier(class_weight=weights, **kw).fit(X, y)
    by_sample = LinearClassifier(**kw).fit(X, y, sample_weight=np.where(y == 0, 5.0, 1.0))
    np.testing.assert_allclose(by_class.W_, by_sample.W_, rtol=1e-10)


def test_early_stopping_keeps_the_best_epoch(blobs):
    X, y = blobs
    clf = LinearClassifier(
        optimizer="adam", early_stopping=True, n_iter_no_change=3, max_iter=500, random_state=0
    )
    clf.fit(X, y)
    history = clf.validation_loss_history_
    assert clf.n_iter_ < 500 and len(history) == clf.n_iter_
    # the last `n_iter_no_change` epochs did not beat the best earlier one by tol (1e-4)
    assert min(history[-3:]) >= min(history[:-3]) - 1e-4
    assert min(history) < history[0]


def test_numerical_gradient_trains_like_analytic():
    X, y = make_blobs(n_samples=30, n_features=2, centers=3, random_state=1)
    kw = dict(optimizer="gd", max_iter=5, random_state=0)
    a = LinearClassifier(gradient="analytic", **kw).fit(X, y)
    n = LinearClassifier(gradient="numerical", **kw).fit(X, y)
    np.testing.assert_allclose(a.W_, n.W_, rtol=1e-5, atol=1e-8)


def test_full_loss_names_are_accepted(blobs):
    X, y = blobs
    for name in ["softmax_cross_entropy", "hinge", "crammer_singer", "one_vs_all_hinge"]:
        assert LinearClassifier(name).fit(X, y).W_.shape == (3, 3)
    assert losses.canonical_name("mse") == "squared_error"
    LinearRegressor("mse").fit(X, y.astype(float))


def test_pipeline_and_grid_search():
    X, y = load_iris(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), LinearClassifier(random_state=0))
    search = GridSearchCV(
        pipe,
        {"linearclassifier__loss": ["softmax", "hinge"], "linearclassifier__lam": [1e-4]},
        cv=3,
    )
    search.fit(X, y)
    assert search.best_score_ > 0.9
    assert search.best_estimator_.predict(X[:5]).shape == (5,)


# ------------------------------------------------------------------------------------------
# Bad input: clear errors
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "error", "message"),
    [
        ({"lam": -1.0}, ValueError, r"LinearClassifier.lam: expected a number >= 0, got -1.0"),
        ({"loss": "squared_error"}, ValueError, r"LinearClassifier.loss: expected one of"),
        ({"loss": "nope"}, ValueError, r"LinearClassifier.loss: expected one of .*'nope'"),
        (
            {"max_iter": 0},
            ValueError,
            r"LinearClassifier.max_iter: expected an integer >= 1, got 0",
        ),
        ({"max_iter": 2.5}, TypeError, r"LinearClassifier.max_iter: expected an integer >= 1"),
        ({"tol": -1e-3}, ValueError, r"LinearClassifier.tol: expected a number >= 0"),
        ({"n_iter_no_change": 0}, ValueError, r"n_iter_no_change: expected an integer >= 1"),
        ({"warm_start": 1}, TypeError, r"LinearClassifier.warm_start: expected a bool"),
        ({"fit_intercept": "no"}, TypeError, r"LinearClassifier.fit_intercept: expected a bool"),
        ({"optimizer": "bfgs"}, ValueError, r"LinearClassifier.optimizer: expected one of"),
        ({"learning_rate": 0}, ValueError, r"LinearClassifier.learning_rate: expected a number"),
        ({"batch_size": True}, TypeError, r"LinearClassifier.batch_size: expected an integer"),
        ({"random_state": -2}, ValueError, r"LinearClassifier.random_state: expected None"),
        ({"validation_fraction": 1.0}, ValueError, r"validation_fraction: expected a number > 0"),
        ({"class_weight": "even"}, ValueError, r"class_weight: expected None, 'balanced' or a"),
    ],
)
def test_bad_parameters_use_one_template(blobs, params, error, message):
    X, y = blobs
    with pytest.raises(error, match=message):
        LinearClassifier(**params).fit(X, y)


def test_bad_regressor_parameter(blobs):
    X, _ = blobs
    with pytest.raises(ValueError, match=r"LinearRegressor.loss: expected one of \['mse'"):
        LinearRegressor("softmax").fit(X, X[:, 0])


def test_bad_data_gives_clear_errors():
    X, y = load_digits(return_X_y=True)
    with pytest.warns(ConvergenceWarning):
        clf = LinearClassifier(max_iter=2).fit(X, y)
    with pytest.raises(
        ValueError, match="X has 3 features, but LinearClassifier is expecting 64 features"
    ):
        clf.predict(X[:, :3])
    bad = X[:10].copy()
    bad[2, 5] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        LinearClassifier().fit(bad, y[:10])
    bad[2, 5] = np.inf
    with pytest.raises(ValueError, match="Input X contains infinity"):
        clf.predict(bad)
    with pytest.raises(ValueError, match=r"y: expected at least 2 classes.*got 1 class"):
        LinearClassifier().fit(X[:10], np.zeros(10))
    with pytest.raises(ValueError, match="0 sample"):
        LinearClassifier().fit(X[:0], y[:0])
    with pytest.raises(ValueError, match="'logistic' with 10 classes"):
        LinearClassifier("logistic").fit(X, y)
    with pytest.raises(ValueError, match="Unknown label type"):
        LinearClassifier().fit(X, y + 0.5)


def test_divergence_is_reported():
    X, y = make_blobs(n_samples=60, centers=2, random_state=0)
    with pytest.raises(ValueError, match="learning_rate: expected a rate small enough"):
        LinearRegressor(optimizer="gd", learning_rate=10.0).fit(X * 1e3, y.astype(float))


def test_from_weights_wraps_a_trainer_result(blobs):
    from lingrad import Objective
    from lingrad.model import predict, predict_proba
    from lingrad.train import sgd

    X, y = blobs
    result = sgd(
        Objective("softmax", X, y), 3, epochs=5, batch_size=50, rng=np.random.default_rng(0)
    )
    clf = from_weights(result.W, loss="softmax", classes=["a", "b", "c"])
    np.testing.assert_array_equal(clf.predict(X), np.array(["a", "b", "c"])[predict(result.W, X)])
    np.testing.assert_allclose(clf.predict_proba(X), predict_proba(result.W, X))
    assert clf.n_features_in_ == 2 and clf.coef_.shape == (3, 2)
    reg = from_weights(np.array([[2.0], [1.0]]), loss="squared_error")
    np.testing.assert_allclose(reg.predict([[1.0], [3.0]]), [3.0, 7.0])


@pytest.mark.parametrize(
    ("W", "kwargs", "message"),
    [
        (np.zeros((3, 3)), {"classes": [0, 1]}, r"classes: expected one label per score column"),
        (np.zeros((3, 1)), {"loss": "softmax"}, r"one label per score column of W \(1\)"),
        (np.zeros((3, 2)), {"loss": "logistic"}, r"for loss 'logistic'"),
        (np.zeros((3, 2)), {"classes": [1, 1]}, "classes: expected distinct labels"),
        (np.zeros((3, 2)), {"classes": ["b", "a"]}, "classes: expected sorted labels"),
        (np.zeros((3, 2)), {"loss": "squared_error"}, "W: expected one score column"),
        (np.zeros((3, 2)), {"loss": "kl_divergence"}, r"loss: expected one of \['crammer"),
        (np.full((3, 2), np.nan), {}, "W: expected finite values"),
    ],
)
def test_from_weights_rejects_inconsistent_input(W, kwargs, message):
    with pytest.raises(ValueError, match=message):
        from_weights(W, **kwargs)


# ------------------------------------------------------------------------------------------
# The two-class softmax solved as logistic regression on W_1 - W_0 at lam / 2
# ------------------------------------------------------------------------------------------


def _binary_problem():
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X[:200, :8])
    return X, y[:200]


def test_two_class_softmax_reaches_the_two_column_optimum():
    """The fit solves the logistic problem at lam / 2 and returns ``[-w/2, w/2]``: the weights
    minimise the two-column softmax objective itself (SciPy's L-BFGS-B on lingrad's two-column
    ``Objective``, the oracle), with sample weights, and ``loss_curve_`` holds that objective."""
    from scipy.optimize import minimize

    from lingrad.objective import Objective

    X, y = _binary_problem()
    w = np.random.default_rng(0).uniform(0.5, 2.0, len(y))
    lam = 1e-2
    model = LinearClassifier(lam=lam, tol=1e-10, max_iter=1000).fit(X, y, sample_weight=w)
    assert model.W_.shape == (X.shape[1] + 1, 2)
    np.testing.assert_array_equal(model.W_[:, 0], -model.W_[:, 1])
    J = Objective("softmax", X, y, lam=lam, sample_weight=w)
    shape = model.W_.shape
    J.targets(2)

    def f(v):
        value, g = J.value_and_grad_unchecked(v.reshape(shape))
        return value, g.ravel()

    options = {"gtol": 1e-12, "ftol": 1e-16, "maxiter": 10_000}
    best = minimize(f, np.zeros(np.prod(shape)), jac=True, method="L-BFGS-B", options=options)
    assert J.value(model.W_) == pytest.approx(best.fun, rel=1e-12)
    np.testing.assert_allclose(model.W_, best.x.reshape(shape), atol=1e-6)
    assert model.loss_curve_[-1] == pytest.approx(J.value(model.W_), rel=1e-12)


def test_two_class_softmax_iterates_are_binary_logistic_regressions():
    """scikit-learn's binary LogisticRegression at ``C = 2 / (lam N)`` solves the same problem
    with the same L-BFGS steps: the same iterations and coefficients at the default tol."""
    X, y = _binary_problem()
    lam = 1e-3
    ours = LinearClassifier(lam=lam).fit(X, y)
    theirs = LogisticRegression(C=2.0 / (lam * len(y)), max_iter=1000).fit(X, y)
    assert ours.n_iter_ == theirs.n_iter_[0]
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=1e-6, atol=1e-8)


def test_two_class_softmax_warm_start_continues_and_other_solvers_keep_two_columns():
    X, y = _binary_problem()
    model = LinearClassifier(lam=1e-2, tol=1e-8, warm_start=True).fit(X, y)
    cold = LinearClassifier(lam=1e-3, tol=1e-8).fit(X, y)
    model.set_params(lam=1e-3).fit(X, y)  # from the previous optimum and its memory
    assert model.n_iter_ < cold.n_iter_
    np.testing.assert_allclose(model.coef_, cold.coef_, atol=1e-5)
    with pytest.warns(ConvergenceWarning):
        sgd = LinearClassifier(optimizer="sgd", max_iter=5, random_state=0).fit(X, y)
    assert not np.array_equal(sgd.W_[:, 0], -sgd.W_[:, 1])  # two columns trained as such


# ------------------------------------------------------------------------------------------
# The plain-array path: NumPy X and 1-D y checked without scikit-learn's validate_data,
# with scikit-learn's results, warnings and errors
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("loss", ["softmax", "hinge", "logistic"])
def test_plain_arrays_fit_as_scikit_learns_validation_does(loss):
    """An ndarray fit (the plain path) equals the fit of the same data as nested lists (which
    scikit-learn's validate_data converts): same classes, same weights, bit for bit."""
    X, y = make_blobs(60, 3, centers=2 if loss == "logistic" else 3, random_state=1)
    labels = np.array(["ant", "bee", "cat"])[y]
    plain = LinearClassifier(loss, random_state=0).fit(X, labels)
    converted = LinearClassifier(loss, random_state=0).fit(X.tolist(), labels.tolist())
    assert plain.classes_.tolist() == converted.classes_.tolist() == sorted(set(labels))
    np.testing.assert_array_equal(plain.W_, converted.W_)
    assert plain.n_features_in_ == converted.n_features_in_ == 3
    # float labels with integer values are classes too (scikit-learn's "multiclass")
    as_float = LinearClassifier(loss, random_state=0).fit(X, y.astype(np.float64))
    np.testing.assert_array_equal(as_float.W_, plain.W_)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_plain_arrays_keep_scikit_learns_errors_and_warnings():
    X, y = make_blobs(40, 2, centers=2, random_state=0)
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        LinearClassifier().fit(X, y + 0.5)
    with pytest.raises(ValueError, match="Input y contains NaN"):
        LinearRegressor().fit(X, np.where(y == 0, np.nan, 1.0))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        LinearClassifier().fit(X, y[:-1])
    with pytest.raises(ValueError, match="Input X contains NaN"):
        LinearClassifier().fit(np.where(X > 1, np.nan, X), y)
    # over half the labels unique: scikit-learn's warning that y may be a regression target
    many = np.arange(40) % 30
    with pytest.warns(UserWarning, match="unique classes is greater than 50%"):
        LinearClassifier(max_iter=2).fit(X, many)
    clf = LinearClassifier(optimizer="sgd", max_iter=1).partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match="X has 3 features"):
        clf.partial_fit(np.hstack([X, X[:, :1]]), y)


def test_plain_arrays_drop_stale_feature_names():
    """A refit on an ndarray forgets the column names of a DataFrame fit (scikit-learn's
    rule), and predicting a DataFrame then warns as scikit-learn does."""
    pd = pytest.importorskip("pandas")
    X, y = make_blobs(30, 2, centers=2, random_state=0)
    clf = LinearClassifier().fit(pd.DataFrame(X, columns=["a", "b"]), y)
    assert clf.feature_names_in_.tolist() == ["a", "b"]
    clf.fit(X, y)
    assert not hasattr(clf, "feature_names_in_") and clf.n_features_in_ == 2
    reg = LinearRegressor().fit(pd.DataFrame(X, columns=["a", "b"]), y * 1.0)
    reg.fit(X, y * 1.0)
    assert not hasattr(reg, "feature_names_in_")


@pytest.mark.parametrize("Model", [LinearClassifier, LinearRegressor])
def test_no_sample_weight_is_unit_weights(Model):
    """Without weights the objective is the plain mean: the same fit as weights of ones."""
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    target = y if Model is LinearClassifier else y * 1.0
    plain = Model(random_state=0).fit(X, target)
    ones = Model(random_state=0).fit(X, target, sample_weight=np.ones(len(y)))
    np.testing.assert_allclose(plain.W_, ones.W_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(plain.loss_curve_, ones.loss_curve_, rtol=1e-12)


def test_a_seeded_solver_fit_reuses_only_an_undrawn_generator(blobs):
    """A seeded solver fit draws nothing, so the next fit may take its generator instead of a
    new one (the same stream); once ``partial_fit`` has drawn from it, a new fit starts a fresh
    stream: every fit + partial_fit pair equals a fresh estimator's."""
    X, y = blobs
    fresh = LinearClassifier(random_state=5).fit(X, y)
    fresh.partial_fit(X, y)
    expected = fresh.W_.copy()
    clf = LinearClassifier(random_state=5)
    for _ in range(3):
        clf.fit(X, y)
        assert clf.optimizer_ == "lbfgs"
        clf.partial_fit(X, y)  # SGD: draws a permutation from the fit's generator
        np.testing.assert_array_equal(clf.W_, expected)
    reused = LinearClassifier(random_state=5).fit(X, y)
    generator = reused._rng_state
    assert reused.fit(X, y)._rng_state is generator  # undrawn: kept
    reused.set_params(random_state=6).fit(X, y)
    assert reused._rng_state is not generator  # another seed: a new generator


@pytest.mark.parametrize(
    "y",
    [
        np.array([3, -1, 3, 2, -1]),
        np.array([2, 0, 1, 0], dtype=np.uint8),
        np.array([True, False, True]),
        np.array([2.0, -0.0, 0.0, 1.0]),
        np.array(["b", "a", "c", "a"]),
        np.array([10**12, 5, 10**12]),
        np.array(["x", "y", "x"], dtype=object),
    ],
)
def test_labels_are_encoded_as_np_unique_encodes_them(y):
    """The fit's label encoding (np.unique, then a binary search for numbers and strings) is
    np.unique's ``return_inverse`` exactly: values, dtypes and shapes; and the fit keeps it."""
    from lingrad.estimators import _encode

    classes, index = _encode(y)
    oracle, inverse = np.unique(y, return_inverse=True)
    assert classes.dtype == oracle.dtype and index.dtype == inverse.dtype
    np.testing.assert_array_equal(classes, oracle)
    np.testing.assert_array_equal(index, inverse)
    X = np.random.default_rng(0).normal(size=(len(y), 2))
    clf = LinearClassifier(lam=0.1).fit(X, y)
    np.testing.assert_array_equal(clf.classes_, oracle)
