"""The engine on other array libraries: Objective, gradient methods, L-BFGS, Newton, the trainer
and the estimator on array-api-strict and PyTorch CPU tensors.

array-api-strict refuses anything outside the standard and any mixing with NumPy, so a NumPy
leak in a pass fails here. Every number is compared with the NumPy path (the oracle, itself
checked against PyTorch's autograd and the slides elsewhere) to 1e-12 in float64, and every
result must be an array of X's library.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import require
from test_array_api import array_type, assert_same, raw_targets, to_lib

from lingrad import grad, losses, optim
from lingrad._array_api import to_numpy
from lingrad.estimators import LinearClassifier
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


@pytest.mark.parametrize("name", ["sgd", "adam", "gd", "fista", "continuation", "dualcd"])
def test_other_optimizers_are_refused_naming_the_library(name):
    J = Objective("softmax", torch.eye(3, dtype=torch.float64), [0, 1, 2])
    with pytest.raises(TypeError, match=re.escape("'lbfgs' or 'newton' for X of torch.Tensor")):
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
