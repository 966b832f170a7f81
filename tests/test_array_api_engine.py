"""The engine on other array libraries: Objective, gradient methods, L-BFGS, Newton, the trainer
and the estimator on array-api-strict and PyTorch CPU tensors.

array-api-strict refuses anything outside the standard and any mixing with NumPy, so a NumPy
leak in a pass fails here. Every number is compared with the NumPy path (the oracle, itself
checked against PyTorch's autograd and the slides elsewhere) to 1e-12 in float64, and every
result must be an array of X's library.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from conftest import require
from sklearn.exceptions import ConvergenceWarning
from test_array_api import array_type, assert_same, raw_targets, to_lib

from lingrad import grad, losses, optim
from lingrad._array_api import to_numpy
from lingrad.estimators import LinearClassifier, LinearRegressor
from lingrad.objective import Objective
from lingrad.optim.solvers import LBFGS, TrustRegionNewton
from lingrad.optim.solvers.base import vector_dtype
from lingrad.train import fit

torch = require("torch")
xs = require("array_api_strict")

LIBRARIES = ["strict", "torch"]
ATOL = 1e-12  # as test_array_api's helpers (to_lib, assert_same), which this file shares
N, D, K = 17, 4, 3


def pair(name: str, lib: str, seed: int = 0, **options):
    """``(J_numpy, J_lib, W)``: the same objective on NumPy and on ``lib``, and weights."""
    rng = np.random.default_rng(seed)
    C = losses.spec(name).n_columns(K)
    X, y = rng.normal(size=(N, D)), raw_targets(losses.spec(name), rng, N, C)
    W = rng.normal(scale=0.5, size=(D + 1, C))
    return Objective(name, X, y, **options), Objective(name, to_lib(lib, X), y, **options), W


OPTIONS = [
    {"lam": 0.1},
    {"lam": 0.3, "regularizer": "elastic_net", "sample_weight": np.linspace(0.5, 2.0, N)},
    {"lam": 0.2, "fit_intercept": False, "regularizer": "l1"},
]


@pytest.mark.parametrize("lib", LIBRARIES)
@pytest.mark.parametrize("name", losses.NAMES)
@pytest.mark.parametrize("options", OPTIONS, ids=["l2", "elastic_weighted", "l1_no_bias"])
def test_value_and_grad_full_and_mini_batch(lib, name, options):
    J, Jx, W = pair(name, lib, **options)
    for rows in (None, slice(3, 11), np.array([5, 0, 16, 5, 2])):
        value, dW = J.value_and_grad(W, rows)
        got_value, got_dW = Jx.value_and_grad(W, rows)
        assert isinstance(got_value, float)
        assert got_value == pytest.approx(value, abs=ATOL)
        assert_same(got_dW, dW, lib)


@pytest.mark.parametrize("lib", LIBRARIES)
@pytest.mark.parametrize("name", ["softmax_cross_entropy", "logistic", "squared_hinge"])
def test_evaluate_and_value_at_scores(lib, name):
    J, Jx, W = pair(name, lib, lam=0.2, sample_weight=np.arange(1.0, N + 1))
    value, S = J.evaluate(J.check_weights(W))
    Wx = Jx.check_weights(W)
    assert isinstance(Wx, array_type(lib))
    got_value, got_S = Jx.evaluate(Wx)
    assert got_value == pytest.approx(value, abs=ATOL)
    assert_same(got_S, S, lib)
    assert Jx.value_at_scores(got_S, Wx) == pytest.approx(J.value(W), abs=ATOL)


@pytest.mark.parametrize("lib", LIBRARIES)
@pytest.mark.parametrize(
    "name",
    [
        "softmax_cross_entropy",
        "kl_divergence",
        "logistic",
        "squared_error",
        "sigmoid_squared_error",
        "squared_hinge",
    ],
)
@pytest.mark.parametrize("options", [*OPTIONS[:2], {"lam": 0.2, "fit_intercept": False}])
def test_hessian_vector_products(lib, name, options):
    J, Jx, W = pair(name, lib, **options)
    V = np.random.default_rng(5).normal(size=W.shape)
    H, Hx = J.hessian(W), Jx.hessian(W)
    assert_same(Hx(V), H(V), lib)
    assert_same(Hx(to_lib(lib, V)), H(V), lib)
    assert Hx.calls == 2


@pytest.mark.parametrize("lib", LIBRARIES)
def test_gradient_methods(lib):
    J, Jx, W = pair("softmax_cross_entropy", lib, lam=0.1)
    want = grad.get("analytic")(J)(W)
    value, G = grad.get("analytic")(Jx)(W)
    assert value == pytest.approx(want[0], abs=ATOL)
    assert_same(G, want[1], lib)
    # centred differences divide J's last-bit differences by 2h ~ 1e-5: 1e-9, not 1e-12
    num = grad.get("numerical")(J)(W)
    value, G = grad.get("numerical")(Jx)(W)
    assert value == pytest.approx(num[0], abs=ATOL)
    assert_same(G, num[1], lib, atol=1e-9)
    assert_same(G, want[1], lib, atol=1e-7)  # and the analytic gradient


@pytest.mark.parametrize("lib", LIBRARIES)
@pytest.mark.parametrize("solver", ["lbfgs", "newton"])
@pytest.mark.parametrize("name", ["softmax_cross_entropy", "logistic", "squared_hinge"])
def test_solvers_take_the_numpy_iterates(lib, solver, name):
    J, Jx, _ = pair(name, lib, lam=0.05, sample_weight=np.linspace(1.0, 2.0, N))
    C = losses.spec(name).n_columns(K)
    runs = [
        fit(obj, optim.get(solver, tol=1e-9), n_columns=C, epochs=60, rng=np.random.default_rng(1))
        for obj in (J, Jx)
    ]
    want, got = runs
    assert got.n_epochs == want.n_epochs and got.stop.reason == want.stop.reason
    # J agrees to 1e-12 at every iteration; the final W within what tol guarantees of both
    # (|W - W*| <= max|g| sqrt(P) / lam, J being lam-strongly convex): PyTorch sums in another
    # order, and a conjugate-gradient stop can flip on the last bit at the optimum
    assert_same(got.W, want.W, lib, atol=2 * 1e-9 * np.sqrt(want.W.size) / 0.05)
    assert all(isinstance(v, float) for v in got.history["loss"])
    np.testing.assert_allclose(got.history["loss"], want.history["loss"], rtol=0, atol=ATOL)


@pytest.mark.parametrize("lib", LIBRARIES)
@pytest.mark.parametrize("solver", [LBFGS(tol=1e-10, memory=3), TrustRegionNewton(tol=1e-10)])
def test_solver_updates_match_step_by_step(lib, solver):
    J, Jx, _ = pair("softmax_cross_entropy", lib, lam=0.05)
    Ws = [J.check_weights(np.zeros((D + 1, K))), Jx.check_weights(np.zeros((D + 1, K)))]
    states = [solver.init(W) for W in Ws]
    for _ in range(30):
        for k, obj in enumerate((J, Jx)):
            step, states[k] = solver.update(None, states[k], Ws[k], objective=obj)
            Ws[k] = Ws[k] + step
        assert_same(Ws[1], Ws[0], lib, atol=1e-11)
        assert states[1].value == pytest.approx(states[0].value, abs=ATOL)
        assert states[1].evaluations == states[0].evaluations
        if states[0].status:
            break
    assert states[1].status == states[0].status == 1


def test_vector_dtype_rule():
    assert vector_dtype(np.zeros(2, dtype=np.float32)) == np.float64
    assert vector_dtype(torch.zeros(2, dtype=torch.float32)) == torch.float64  # CPU: float64
    assert vector_dtype(xs.zeros(2, dtype=xs.float32)) == xs.float64
    state = LBFGS().init(torch.zeros((3, 2), dtype=torch.float32))
    assert isinstance(state.S, torch.Tensor) and state.S.dtype == torch.float64


def test_float32_data_keeps_float32_weights():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(N, D)).astype(np.float32), rng.integers(0, K, N)
    got = fit(
        Objective("softmax", torch.tensor(X), y, lam=0.1),
        LBFGS(),
        n_columns=K,
        epochs=20,
        rng=np.random.default_rng(0),
    )
    want = fit(
        Objective("softmax", X, y, lam=0.1),
        LBFGS(),
        n_columns=K,
        epochs=20,
        rng=np.random.default_rng(0),
    )
    assert got.W.dtype == torch.float32
    np.testing.assert_allclose(got.W.numpy(), want.W, rtol=0, atol=1e-5)


@pytest.mark.parametrize("optimizer", ["lbfgs", "newton", "auto"])
@pytest.mark.parametrize("binary", [False, True])
def test_estimator_on_torch(optimizer, binary):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(60, D))
    y = np.array(["a", "b", "c"])[rng.integers(0, 2 if binary else 3, 60)]
    codes = rng.integers(0, 2 if binary else 3, 60) * 10
    loss = "logistic" if binary else "softmax"
    for labels in (y, codes, torch.tensor(codes)):
        want = LinearClassifier(loss=loss, optimizer=optimizer, lam=0.01).fit(X, to_numpy(labels))
        got = LinearClassifier(loss=loss, optimizer=optimizer, lam=0.01)
        got.fit(torch.tensor(X), labels)
        assert got.optimizer_ == want.optimizer_ and got.n_iter_ == want.n_iter_
        assert_same(got.coef_, want.coef_, "torch", atol=1e-10)
        assert_same(got.intercept_, want.intercept_, "torch", atol=1e-10)
        Xt = torch.tensor(X)
        assert_same(got.decision_function(Xt), want.decision_function(X), "torch", atol=1e-10)
        assert_same(got.predict_proba(Xt), want.predict_proba(X), "torch", atol=1e-10)
        predicted = got.predict(Xt)
        if isinstance(labels, np.ndarray) and labels.dtype.kind == "U":
            assert isinstance(predicted, np.ndarray)  # string labels stay on the host
        else:
            assert isinstance(predicted, torch.Tensor)
        np.testing.assert_array_equal(to_numpy(predicted), want.predict(X))


# ------------------------------------------------------------------------------------------
# Bad input: mixed libraries, devices, dtypes, optimisers
# ------------------------------------------------------------------------------------------


def test_numpy_targets_and_weights_follow_x():
    X = xs.asarray(np.eye(3))
    J = Objective("softmax", X, np.array([0, 1, 2]), sample_weight=np.ones(3))
    assert isinstance(J.y, type(X)) and isinstance(J.sample_weight, type(X))
    assert J.xp is xs and Objective("softmax", np.eye(3), [0, 1, 2]).xp is np


def test_mixed_libraries_are_refused_naming_both():
    X = torch.eye(3, dtype=torch.float64)
    with pytest.raises(TypeError, match=re.escape("X is a torch.Tensor but y is an array_api_str")):
        Objective("softmax", X, xs.asarray([0, 1, 2]))
    with pytest.raises(
        TypeError, match=re.escape("X is a torch.Tensor but sample_weight is an array_api")
    ):
        Objective("softmax", X, [0, 1, 2], sample_weight=xs.ones(3))
    J = Objective("softmax", X, [0, 1, 2])
    with pytest.raises(
        TypeError, match=re.escape("X is a torch.Tensor but W is an array_api_strict")
    ):
        J.check_weights(xs.zeros((4, 3)))
    with pytest.raises(
        TypeError, match=re.escape("X is a torch.Tensor but W is an array_api_strict")
    ):
        fit(J, LBFGS(), n_columns=3, W0=xs.zeros((4, 3)), epochs=1, rng=np.random.default_rng(0))
    clf = LinearClassifier(optimizer="lbfgs").fit(X, [0, 1, 2])
    with pytest.raises(
        TypeError, match=re.escape("the fitted weights is a torch.Tensor but X is a numpy")
    ):
        clf.predict(np.eye(3))


def test_device_mismatch_names_both_devices():
    X = xs.asarray(np.eye(3))
    y = xs.asarray([0, 1, 2], device=xs.Device("device1"))
    with pytest.raises(ValueError, match=r"X is on device .*CPU_DEVICE.* but y is on device"):
        Objective("softmax", X, y)
    J = Objective("softmax", X, [0, 1, 2])
    with pytest.raises(ValueError, match=r"X is on device .* but W is on device .*device1"):
        J.check_weights(xs.zeros((4, 3), device=xs.Device("device1")))


def test_float16_and_integer_data_are_upcast_to_float64():
    J = Objective("softmax", torch.eye(3, dtype=torch.float16), [0, 1, 2])
    assert J.X.dtype == torch.float64
    J = Objective("softmax", torch.eye(3, dtype=torch.int32), [0, 1, 2])
    assert J.X.dtype == torch.float64
    with pytest.raises(ValueError, match="X: expected"):
        Objective("softmax", torch.tensor([[1.0, float("nan")]]), [0])


@pytest.mark.parametrize("name", ["fista", "continuation", "dualcd", "random", "local", "genetic"])
def test_other_optimizers_are_refused_naming_the_library(name):
    # the gradient optimisers (sgd, momentum, nesterov, adam, gd) now run: see below
    J = Objective("softmax", torch.eye(3, dtype=torch.float64), [0, 1, 2])
    expected = "'lbfgs', 'newton' or a gradient optimiser (sgd, momentum, nesterov, adam, gd) "
    with pytest.raises(TypeError, match=re.escape(expected + "for X of torch.Tensor")):
        fit(J, optim.get(name), n_columns=3, epochs=1, rng=np.random.default_rng(0))


@pytest.mark.parametrize("lib", LIBRARIES)
def test_fit_options_on_another_library(lib):
    """Class weights, a validation set with early stopping and evaluation passes: the same
    history as NumPy's, W on X's library."""
    rng = np.random.default_rng(4)
    X, y = rng.normal(size=(40, D)), rng.integers(0, K, 40)
    X_val, y_val = rng.normal(size=(12, D)), rng.integers(0, K, 12)
    runs = [
        fit(
            Objective("softmax", data, y, lam=0.05),
            LBFGS(tol=1e-8),
            n_columns=K,
            epochs=30,
            rng=np.random.default_rng(0),
            class_weight="balanced",
            validation=(val, y_val),
            early_stopping=True,
            patience=3,
            evaluate_every=1,
            trajectory_every=2,
        )
        for data, val in ((X, X_val), (to_lib(lib, X), to_lib(lib, X_val)))
    ]
    want, got = runs
    assert isinstance(got.W, array_type(lib)) and got.n_epochs == want.n_epochs
    np.testing.assert_allclose(got.trajectory, want.trajectory, rtol=0, atol=1e-10)
    for key in ("loss", "val_loss", "train_accuracy", "val_accuracy"):
        np.testing.assert_allclose(got.history[key], want.history[key], rtol=0, atol=1e-10)


@pytest.mark.parametrize("lib", LIBRARIES)
def test_mini_batch_rows_of_the_library(lib):
    J, Jx, W = pair("softmax_cross_entropy", lib, lam=0.1)
    rows = np.array([4, 4, 0, 9])
    value, dW = J.value_and_grad(W, rows)
    got_value, got_dW = Jx.value_and_grad(Jx.check_weights(W), to_lib(lib, rows))
    assert got_value == pytest.approx(value, abs=ATOL)
    assert_same(got_dW, dW, lib)


# ------------------------------------------------------------------------------------------
# The gradient optimisers, the mini-batch runner and the estimators with them
# ------------------------------------------------------------------------------------------

GRADIENT_OPTIMIZERS = {
    "sgd": {"learning_rate": 0.2},
    "momentum": {"learning_rate": 0.1, "momentum": 0.9},
    "nesterov": {"learning_rate": 0.1, "momentum": 0.8},
    "adam": {"learning_rate": 0.05},
    "gd": {"learning_rate": 0.1},
}


@pytest.mark.parametrize("lib", LIBRARIES)
@pytest.mark.parametrize("name", list(GRADIENT_OPTIMIZERS))
@pytest.mark.parametrize("loss", ["softmax_cross_entropy", "logistic", "squared_hinge"])
def test_gradient_optimizers_take_the_numpy_iterates(lib, name, loss):
    """The same seed gives the same shuffles (the permutation is drawn on the host), so W after
    a few epochs of mini-batches equals NumPy's to 1e-12, on X's library."""
    J, Jx, _ = pair(loss, lib, lam=0.05, sample_weight=np.linspace(0.5, 2.0, N))
    C = losses.spec(loss).n_columns(K)
    runs = [
        fit(
            obj,
            optim.get(name, **GRADIENT_OPTIMIZERS[name]),
            n_columns=C,
            epochs=4,
            batch_size=5,  # 17 rows: batches of 5, 5, 5 and 2
            rng=np.random.default_rng(7),
        )
        for obj in (J, Jx)
    ]
    want, got = runs
    assert isinstance(got.W, array_type(lib)) and got.W.dtype == Jx.X.dtype
    assert got.n_epochs == want.n_epochs == 4 and got.n_iter == want.n_iter
    assert_same(got.W, want.W, lib)
    assert not np.array_equal(want.W, J.check_weights(np.zeros_like(want.W)))  # it moved
    for key in ("loss", "grad_norm"):
        np.testing.assert_allclose(got.history[key], want.history[key], rtol=0, atol=ATOL)


@pytest.mark.parametrize("lib", LIBRARIES)
@pytest.mark.parametrize(
    "opt", [optim.SGD(0.1, momentum=0.9, nesterov=True), optim.Adam(0.1)], ids=["nag", "adam"]
)
def test_optimizer_buffers_follow_w(lib, opt):
    """``init`` makes the buffers on W's library; ``update`` steps there, equal to NumPy's."""
    rng = np.random.default_rng(2)
    W, grads = rng.normal(size=(3, 2)), rng.normal(size=(4, 3, 2))
    states = [opt.init(W), opt.init(to_lib(lib, W))]
    buffer = states[1].velocity if isinstance(opt, optim.SGD) else states[1].m
    assert isinstance(buffer, array_type(lib))
    for g in grads:
        want, states[0] = opt.update(g, states[0], W)
        got, states[1] = opt.update(to_lib(lib, g), states[1], to_lib(lib, W))
        assert_same(got, want, lib)


def test_float32_tensor_keeps_float32_weights_with_adam():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(N, D)).astype(np.float32), rng.integers(0, K, N)
    runs = [
        fit(
            Objective("softmax", data, y, lam=0.1),
            optim.Adam(0.05),
            n_columns=K,
            epochs=3,
            batch_size=4,
            rng=np.random.default_rng(0),
        )
        for data in (X, torch.tensor(X))
    ]
    assert runs[1].W.dtype == torch.float32
    np.testing.assert_allclose(runs[1].W.numpy(), runs[0].W, rtol=0, atol=1e-5)


def _data(seed: int = 3, n: int = 60):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, D)), rng.integers(0, K, n) * 10


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "momentum"])
def test_estimator_with_gradient_optimizers_on_torch(optimizer):
    X, y = _data()
    options = {"optimizer": optimizer, "lam": 0.01, "random_state": 0, "batch_size": 16}
    with pytest.warns(ConvergenceWarning):
        want = LinearClassifier(max_iter=5, **options).fit(X, y)
    with pytest.warns(ConvergenceWarning):
        got = LinearClassifier(max_iter=5, **options).fit(torch.tensor(X), torch.tensor(y))
    assert isinstance(got.coef_, torch.Tensor) and isinstance(got.intercept_, torch.Tensor)
    assert got.n_iter_ == want.n_iter_ == 5
    assert_same(got.coef_, want.coef_, "torch")
    assert_same(got.intercept_, want.intercept_, "torch")
    assert_same(got.predict_proba(torch.tensor(X)), want.predict_proba(X), "torch")


@pytest.mark.parametrize("lib", LIBRARIES)
def test_partial_fit_on_another_library(lib):
    X, y = _data(4)
    want, got = LinearClassifier(random_state=0), LinearClassifier(random_state=0)
    classes = np.unique(y)
    for k, half in enumerate((slice(0, 30), slice(30, 60))):
        extra = {"classes": classes} if k == 0 else {}
        want.partial_fit(X[half], y[half], **extra)
        got.partial_fit(to_lib(lib, X[half]), y[half], **extra)
        assert want.optimizer_ == got.optimizer_ == "sgd"
        assert isinstance(got.coef_, array_type(lib))
        assert_same(got.coef_, want.coef_, lib)
    np.testing.assert_array_equal(to_numpy(got.predict(to_lib(lib, X))), want.predict(X))


@pytest.mark.parametrize("lib", LIBRARIES)
@pytest.mark.parametrize("optimizer", ["lbfgs", "sgd", "auto"])
def test_regressor_on_another_library(lib, optimizer):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(50, D))
    y = X @ np.arange(1.0, D + 1) + rng.normal(scale=0.1, size=50)
    options = {"optimizer": optimizer, "random_state": 0, "batch_size": 10, "max_iter": 30}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # sgd in 30 epochs: not to tol
        want = LinearRegressor(**options).fit(X, y)
        got = LinearRegressor(**options).fit(to_lib(lib, X), y)
    assert isinstance(got.coef_, array_type(lib)) and isinstance(got.intercept_, float)
    assert got.n_iter_ == want.n_iter_
    assert_same(got.coef_, want.coef_, lib, atol=1e-10)
    assert got.intercept_ == pytest.approx(want.intercept_, abs=1e-10)
    predicted = got.predict(to_lib(lib, X))
    assert isinstance(predicted, array_type(lib))
    assert_same(predicted, want.predict(X), lib, atol=1e-10)
    with pytest.raises(ValueError, match="y: expected finite targets"):
        LinearRegressor().fit(to_lib(lib, X), np.where(np.arange(50) == 3, np.nan, y))


@pytest.mark.parametrize("lib", LIBRARIES)
@pytest.mark.parametrize("method", ["autodiff", "symbolic"])
def test_numpy_only_gradient_methods_are_refused_naming_the_library(lib, method):
    X = to_lib(lib, np.eye(3))
    J = Objective("softmax", X, [0, 1, 2])
    library = type(X).__module__.split(".")[0]
    expected = re.escape(f"gradient: expected one of ['analytic', 'numerical'] for X of {library}")
    with pytest.raises(TypeError, match=expected):
        grad.get(method)(J)
    with pytest.raises(TypeError, match=expected):
        fit(J, optim.SGD(0.1), n_columns=3, epochs=1, gradient=method, rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match=expected):
        LinearClassifier(optimizer="sgd", gradient=method).fit(X, [0, 1, 2])
    grad.get("autodiff")(Objective("softmax", np.eye(3), [0, 1, 2]))  # NumPy X: taken


def test_ten_classes_on_torch_take_the_array_api_pass():
    """4 <= C <= 32 is where NumPy passes may take the compiled skinny products; on another
    library ``compiled`` is False (it read a tensor's ``size`` method before) and a fit runs."""
    rng = np.random.default_rng(0)
    X = torch.tensor(rng.standard_normal((60, 3)))
    J = Objective("softmax", X, torch.tensor(rng.integers(0, 10, 60)), lam=1e-2)
    assert not J.compiled(10)
    result = fit(J, LBFGS(tol=1e-6), n_columns=10, epochs=50, rng=np.random.default_rng(0))
    assert isinstance(result.W, torch.Tensor) and result.W.shape == (4, 10)
    expected = fit(
        Objective("softmax", X.numpy(), J.y.numpy(), lam=1e-2),
        LBFGS(tol=1e-6), n_columns=10, epochs=50, rng=np.random.default_rng(0),
    )  # fmt: skip
    # the same optimum to the solver's tol (the two libraries round the direction differently)
    np.testing.assert_allclose(to_numpy(result.W), expected.W, atol=1e-6)
    assert result.history["loss"][-1] == pytest.approx(expected.history["loss"][-1], rel=1e-12)


@pytest.mark.parametrize("lib", ["strict", "torch"])
def test_a_warm_start_continues_the_lbfgs_memory_on_the_library(lib):
    """A warm start at a new lambda corrects the carried pairs on X's library (it called NumPy's
    ``copy`` on a tensor before) and ends at the optimum NumPy's warm start reaches."""
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((80, 3)), rng.integers(0, 3, 80)
    fits = []
    for data in (to_lib(lib, X), X):
        model = LinearClassifier(warm_start=True, lam=1e-2, tol=1e-8).fit(data, y)
        fits.append(model.set_params(lam=1e-3).fit(data, y))
    got, expected = fits
    assert array_type(lib) is type(got.coef_)
    np.testing.assert_allclose(to_numpy(got.coef_), expected.coef_, atol=1e-6)
