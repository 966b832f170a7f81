"""The score-space layer on other array libraries: array-api-strict and PyTorch CPU tensors.

array-api-strict refuses anything outside the standard and any mixing with NumPy, so a NumPy
leak anywhere in a path fails here. Every loss (public function and kernel), the targets,
every regulariser, the curvature and the model must give the NumPy path's numbers (1e-12 in
float64), on the input's library and dtype; PyTorch's autograd cross-checks the analytic
score gradients and Hessian-vector products of the array-API kernels.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import require

from lingrad import curvature, losses, model, regularizers
from lingrad._array_api import Picks, as_float, float_dtype, namespace, numpy_dtype, to_numpy

torch = require("torch")
xs = require("array_api_strict")
compat = require("array_api_compat")

LIBRARIES = ["strict", "torch"]
ATOL = 1e-12


def to_lib(lib: str, a, dtype=None):
    """A copy of the NumPy array ``a`` on ``lib`` (never sharing memory with ``a``)."""
    a = np.array(a, dtype=dtype, copy=True)
    return xs.asarray(a, copy=True) if lib == "strict" else torch.tensor(a)


def array_type(lib: str) -> type:
    return type(xs.asarray(0.0)) if lib == "strict" else torch.Tensor


def dtype_of(lib: str, name: str):
    return getattr(xs if lib == "strict" else torch, name)


def assert_same(got, want, lib: str, atol: float = ATOL) -> None:
    """``got`` is an array of ``lib`` with ``want``'s values (to ``atol``) and shape."""
    assert isinstance(got, array_type(lib)), type(got)
    got = to_numpy(got)
    assert got.shape == np.shape(want)
    np.testing.assert_allclose(got, want, rtol=0, atol=atol)


def raw_targets(spec, rng, N, C):
    """``y`` for scores ``(N, C)`` of ``spec``'s loss (labels, binary, real or a distribution)."""
    if spec.target == "distribution":
        return rng.dirichlet(np.ones(C), size=N)
    if spec.target == "real":
        return rng.standard_normal((N, C)) if C > 1 else rng.standard_normal(N)
    if C == 1:
        return (rng.random(N) < 0.5).astype(np.float64)
    return rng.integers(0, C, N)


def problem(name: str, seed: int = 0, N: int = 13, K: int = 4):
    spec = losses.spec(name)
    rng = np.random.default_rng(seed)
    C = spec.n_columns(K)
    return spec, rng.normal(scale=2.0, size=(N, C)), raw_targets(spec, rng, N, C)


# ------------------------------------------------------------------------------------------
# namespace, device, dtype rule, to_numpy, as_float
# ------------------------------------------------------------------------------------------


def test_numpy_and_plain_inputs_get_numpy_itself():
    assert namespace(np.zeros(2), [1, 2], 3.0, None, np.float64(1.0)) is np
    assert namespace() is np


def test_objects_of_no_array_library_go_to_numpy():
    assert namespace(range(3), np.zeros(2)) is np


def test_the_numpy_path_does_not_import_array_api_compat():
    code = (
        "import sys, numpy as np\n"
        "from lingrad import curvature, losses, model, regularizers\n"
        "S = np.array([[0.5, -1.0], [2.0, 0.0]])\n"
        "losses.softmax_cross_entropy(S, [0, 1]); losses.hinge(S, np.array([1, 0]))\n"
        "model.predict_proba(np.zeros((3, 2)), S); regularizers.l1().grad(S)\n"
        "curvature.hvp('squared_hinge', S, [0, 1], S)\n"
        "assert 'array_api_compat' not in sys.modules, 'imported on the NumPy path'\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env
    )
    assert result.returncode == 0, result.stderr[-2000:]


def test_other_libraries_get_their_namespace():
    assert namespace(xs.zeros(2), [1.0, 2.0], None) is xs
    assert namespace(torch.zeros(2), torch.zeros(3)) is compat.array_namespace(torch.zeros(1))


@pytest.mark.parametrize(
    ("first", "second", "message"),
    [
        (np.zeros(2), torch.zeros(2), "W is a numpy.ndarray but X is a torch.Tensor: convert"),
        (torch.zeros(2), np.zeros(2), "W is a torch.Tensor but X is a numpy.ndarray: convert"),
        (xs.zeros(2), torch.zeros(2), "W is an array_api_strict.Array but X is a torch.Tensor"),
    ],
)
def test_mixed_libraries_are_refused_naming_both(first, second, message):
    with pytest.raises(TypeError, match=re.escape(message)):
        namespace(first, second, names=("W", "X"))


def test_device_mismatch_names_both_devices():
    a, b = xs.zeros(2), xs.zeros(2, device=xs.Device("device1"))
    with pytest.raises(ValueError, match=r"S is on device .*CPU_DEVICE.* but y is on device"):
        namespace(a, b, names=("S", "y"))
    with pytest.raises(ValueError, match="X is on device cpu but W is on device meta"):
        namespace(torch.zeros(2), torch.zeros(2, device="meta"), names=("X", "W"))


def test_public_functions_refuse_mixed_libraries():
    S, y = np.zeros((3, 2)), np.array([0, 1, 0])
    with pytest.raises(TypeError, match=re.escape("S is a torch.Tensor but y is a numpy.ndarray")):
        losses.hinge(torch.tensor(S), y)
    with pytest.raises(
        TypeError, match=re.escape("S is an array_api_strict.Array but sample_weight")
    ):
        losses.softmax_cross_entropy(xs.asarray(S), xs.asarray(y), sample_weight=np.ones(3))
    with pytest.raises(TypeError, match=re.escape("W is a numpy.ndarray but X is a torch.Tensor")):
        model.scores(np.zeros((3, 2)), torch.zeros((4, 2), dtype=torch.float64))
    with pytest.raises(TypeError, match=re.escape("W is a torch.Tensor but dW is a numpy.ndarray")):
        regularizers.l2().add_grad(torch.zeros((3, 2)), np.zeros((3, 2)), 0.1)
    with pytest.raises(TypeError, match=re.escape("S is a torch.Tensor but dS is a numpy.ndarray")):
        curvature.hvp("softmax", torch.tensor(S), [0, 1, 0], S)


@pytest.mark.parametrize("lib", LIBRARIES)
def test_dtype_rule(lib):
    xp = namespace(to_lib(lib, [1.0]))
    f32, f64 = dtype_of(lib, "float32"), dtype_of(lib, "float64")
    assert float_dtype(xp, f32) == f32 and float_dtype(xp, f64) == f64
    others = ("int64", "int32", "bool", "uint8")
    for name in others + (("float16", "bfloat16") if lib == "torch" else ()):
        assert float_dtype(xp, dtype_of(lib, name)) == f64, name
    with pytest.raises(TypeError, match="dtype: expected real numbers"):
        float_dtype(xp, dtype_of(lib, "complex128"))
    # NumPy follows the same rule: float16 and integers become float64
    assert float_dtype(np, np.dtype(np.float16)) == np.float64
    assert numpy_dtype(f32) == np.float32 and numpy_dtype(f64) == np.float64


def test_float16_scores_are_upcast_to_float64():
    S16 = torch.tensor([[0.5, -1.0], [2.0, 0.25]], dtype=torch.float16)
    loss, dS = losses.softmax_cross_entropy(S16, torch.tensor([0, 1]))
    want = losses.softmax_cross_entropy(S16.numpy(), [0, 1])
    assert dS.dtype == torch.float64 and want[1].dtype == np.float64
    assert loss == pytest.approx(want[0], abs=1e-15)
    assert_same(dS, want[1], "torch")


def test_to_numpy():
    a = np.arange(3.0)
    assert to_numpy(a) is a
    t = torch.arange(3.0, dtype=torch.float64, requires_grad=True)
    np.testing.assert_array_equal(to_numpy(t * 2), [0.0, 2.0, 4.0])
    np.testing.assert_array_equal(to_numpy(xs.asarray([[1, 2]])), [[1, 2]])
    np.testing.assert_array_equal(to_numpy([1.0, 2.0]), [1.0, 2.0])


@pytest.mark.parametrize("lib", LIBRARIES)
@pytest.mark.parametrize(
    "bad", [np.zeros(3), np.zeros((0, 2)), np.array([[1.0, np.nan]]), np.array([[np.inf, 1.0]])]
)
def test_as_float_refuses_like_numpy(lib, bad):
    with pytest.raises(ValueError) as want:
        as_float("S", bad, ndim=2)
    with pytest.raises(ValueError) as got:
        as_float("S", to_lib(lib, bad), ndim=2)
    assert str(got.value) == str(want.value)


@pytest.mark.parametrize("lib", LIBRARIES)
def test_as_float_keeps_library_and_float_dtype(lib):
    a = as_float("X", to_lib(lib, [[1, 2]], dtype=np.int64), ndim=2)
    assert isinstance(a, array_type(lib)) and a.dtype == dtype_of(lib, "float64")
    b = as_float("X", to_lib(lib, [[1.0, 2.0]], dtype=np.float32), ndim=2)
    assert b.dtype == dtype_of(lib, "float32")


@pytest.mark.parametrize("lib", LIBRARIES)
def test_picks_read_and_write_one_entry_per_row(lib):
    A, idx = np.arange(12.0).reshape(4, 3), np.array([2, 0, 1, 2])
    at = Picks(namespace(to_lib(lib, A)), to_lib(lib, idx), 3)
    rows = np.arange(4)
    assert_same(at.take(to_lib(lib, A)), A[rows, idx], lib)
    put, add = A.copy(), A.copy()
    put[rows, idx] = -1.0
    add[rows, idx] += np.array([1.0, 2.0, 3.0, 4.0])
    assert_same(at.put(to_lib(lib, A), -1.0), put, lib)
    assert_same(at.add(to_lib(lib, A), to_lib(lib, [1.0, 2.0, 3.0, 4.0])), add, lib)


# ------------------------------------------------------------------------------------------
# Losses: public functions, kernels and targets
# ------------------------------------------------------------------------------------------


def loss_params(name: str) -> list[dict[str, float]]:
    if name == "softmax_cross_entropy":
        return [{}, {"label_smoothing": 0.2}]
    if "margin" in losses.spec(name).defaults:
        return [{}, {"margin": 0.5}]
    return [{}]


CASES = [(name, p) for name in losses.NAMES for p in loss_params(name)]


@pytest.mark.parametrize("lib", LIBRARIES)
@pytest.mark.parametrize(("name", "params"), CASES)
@pytest.mark.parametrize("weighted", [False, True])
def test_loss_equals_numpy(lib, name, params, weighted):
    _, S, y = problem(name)
    w = np.random.default_rng(1).uniform(0.5, 2.0, S.shape[0]) if weighted else None
    f = losses.get(name)
    want = f(S, y, **params, sample_weight=w)
    got = f(
        to_lib(lib, S),
        to_lib(lib, y),
        **params,
        sample_weight=None if w is None else to_lib(lib, w),
    )
    assert isinstance(got[0], float)
    assert got[0] == pytest.approx(want[0], rel=ATOL, abs=ATOL)
    assert_same(got[1], want[1], lib)
    assert got[1].dtype == dtype_of(lib, "float64")


@pytest.mark.parametrize("lib", LIBRARIES)
@pytest.mark.parametrize("name", ["logistic", "squared_error", "sigmoid_squared_error"])
def test_one_column_losses_take_1d_scores_and_list_targets(lib, name):
    _, S, y = problem(name, K=2)
    s, t = S[:, 0], (y[:, 0] if y.ndim == 2 else y).tolist()
    want = losses.get(name)(s, t)
    got = losses.get(name)(to_lib(lib, s), t)
    assert got[0] == pytest.approx(want[0], rel=ATOL)
    assert_same(got[1], want[1], lib)


@pytest.mark.parametrize("lib", LIBRARIES)
@pytest.mark.parametrize(("name", "params"), CASES)
def test_kernel_and_targets_equal_numpy(lib, name, params):
    spec, S, y = problem(name, seed=3, N=17, K=5)
    N, C = S.shape
    T = spec.prepare(y, N, C, np.float64)
    T_lib = spec.prepare(to_lib(lib, y), N, C, dtype_of(lib, "float64"))
    assert_same(T_lib, T, lib, atol=0)
    want = spec.kernel(S.copy(), T, **params)
    got = spec.kernel(to_lib(lib, S), T_lib, **params)
    assert got[0].dtype == dtype_of(lib, "float64")
    assert_same(got[0], want[0], lib)
    assert_same(got[1], want[1], lib)


@pytest.mark.parametrize("lib", LIBRARIES)
@pytest.mark.parametrize("name", losses.NAMES)
def test_float32_stays_float32(lib, name):
    spec, S, y = problem(name, seed=4)
    S32 = S.astype(np.float32)
    want = losses.get(name)(S32, y)
    loss, dS = losses.get(name)(to_lib(lib, S32), to_lib(lib, y))
    assert dS.dtype == dtype_of(lib, "float32")
    assert loss == pytest.approx(want[0], rel=1e-5)
    np.testing.assert_allclose(to_numpy(dS), want[1], rtol=1e-4, atol=1e-6)
    per_example, _ = spec.kernel(
        to_lib(lib, S32), spec.prepare(to_lib(lib, y), *S.shape, S32.dtype)
    )
    assert per_example.dtype == dtype_of(lib, "float64")  # losses are summed in float64


@pytest.mark.parametrize("lib", LIBRARIES)
def test_bad_targets_on_another_library_are_refused_as_on_numpy(lib):
    S = np.zeros((3, 2))
    with pytest.raises(ValueError, match=r"y: expected labels in \[0, 2\), got label 5"):
        losses.hinge(to_lib(lib, S), to_lib(lib, [0, 1, 5]))
    with pytest.raises(ValueError, match="P: expected rows that sum to 1"):
        losses.kl_divergence(to_lib(lib, S), to_lib(lib, np.full((3, 2), 0.3)))
    with pytest.raises(ValueError, match="S: expected finite values, got nan"):
        losses.logistic(to_lib(lib, [np.nan, 0.0]), to_lib(lib, [0.0, 1.0]))


@pytest.mark.parametrize(("name", "params"), CASES)
def test_torch_autograd_agrees_with_the_analytic_score_gradient(name, params):
    # Random scores are almost surely away from the hinge kinks, where the losses are smooth.
    spec, S, y = problem(name, seed=5, N=11, K=4)
    T = spec.prepare(torch.tensor(y), *S.shape, torch.float64)
    St = torch.tensor(S, requires_grad=True)
    per_example, dS = spec.kernel(St, T, **params)
    per_example.sum().backward()
    np.testing.assert_allclose(St.grad.numpy(), to_numpy(dS), rtol=0, atol=ATOL)
    np.testing.assert_allclose(
        per_example.detach().numpy(),
        spec.kernel(S, spec.prepare(y, *S.shape, np.float64), **params)[0],
        rtol=0,
        atol=ATOL,
    )


# ------------------------------------------------------------------------------------------
# Curvature
# ------------------------------------------------------------------------------------------


def curvature_params(name: str) -> dict[str, float]:
    return {"label_smoothing": 0.1} if name == "softmax_cross_entropy" else {}


@pytest.mark.parametrize("lib", LIBRARIES)
@pytest.mark.parametrize("name", curvature.NAMES)
def test_curvature_equals_numpy(lib, name):
    spec, S, y = problem(name, seed=6)
    V = np.random.default_rng(7).standard_normal(S.shape)
    params = curvature_params(name)
    want = curvature.hvp(name, S, y, V, **params)
    assert_same(
        curvature.hvp(name, to_lib(lib, S), to_lib(lib, y), to_lib(lib, V), **params), want, lib
    )
    c = curvature.get(name)
    T = spec.prepare(to_lib(lib, y), *S.shape, dtype_of(lib, "float64"))
    assert_same(c.apply(c.prepare(to_lib(lib, S), T, **params), to_lib(lib, V)), want, lib)


@pytest.mark.parametrize("name", curvature.NAMES)
def test_curvature_equals_torch_autograd_hessian_vector_product(name):
    spec, S, y = problem(name, seed=8, N=9, K=4)
    V = torch.tensor(np.random.default_rng(9).standard_normal(S.shape))
    T = spec.prepare(torch.tensor(y), *S.shape, torch.float64)
    params = curvature_params(name)

    def total(St):
        return spec.kernel(St, T, **params)[0].sum()

    _, want = torch.autograd.functional.hvp(total, torch.tensor(S), V)
    c = curvature.get(name)
    got = c.apply(c.prepare(torch.tensor(S), T, **params), V)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=0, atol=1e-10)


# ------------------------------------------------------------------------------------------
# Regularisers
# ------------------------------------------------------------------------------------------

REGULARIZERS = [
    regularizers.l2(),
    regularizers.l1(),
    regularizers.elastic_net(0.3),
    regularizers.none(),
    regularizers.l2(include_bias=True),
    regularizers.elastic_net(0.7, include_bias=True),
]


@pytest.mark.parametrize("lib", LIBRARIES)
@pytest.mark.parametrize("reg", REGULARIZERS, ids=lambda r: f"{r.name}-{r.include_bias}")
def test_regularizer_equals_numpy(lib, reg):
    rng = np.random.default_rng(10)
    W, dW = rng.standard_normal((6, 3)), rng.standard_normal((6, 3))
    W[1, 2] = 0.0  # sign(0) = 0 on every library
    assert reg.value(to_lib(lib, W)) == pytest.approx(reg.value(W), rel=ATOL, abs=ATOL)
    assert_same(reg.grad(to_lib(lib, W)), reg.grad(W), lib)
    got = to_lib(lib, dW)
    reg.add_grad(to_lib(lib, W), got, 0.25)  # in place
    want = dW.copy()
    reg.add_grad(W, want, 0.25)
    assert_same(got, want, lib)


def test_l2_value_gradient_matches_torch_autograd():
    W = torch.tensor(np.random.default_rng(11).standard_normal((5, 2)), requires_grad=True)
    (0.5 * (W[:-1] ** 2).sum()).backward()
    assert_same(regularizers.l2().grad(W.detach()), W.grad.numpy(), "torch")


# ------------------------------------------------------------------------------------------
# The linear model
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lib", LIBRARIES)
@pytest.mark.parametrize("C", [1, 3])
def test_model_equals_numpy(lib, C):
    rng = np.random.default_rng(12)
    W, X = rng.standard_normal((5, C)), rng.standard_normal((8, 4))
    Wl, Xl = to_lib(lib, W), to_lib(lib, X)
    assert_same(model.scores(Wl, Xl), model.scores(W, X), lib)
    assert_same(model.scores_unchecked(Wl, Xl), model.scores_unchecked(W, X), lib)
    assert_same(model.predict_proba(Wl, Xl), model.predict_proba(W, X), lib)
    predicted = model.predict(Wl, Xl)
    assert_same(predicted, model.predict(W, X), lib, atol=0)
    assert predicted.dtype == dtype_of(lib, "int64")
    S = model.scores(W, X)
    assert_same(model.predict_from_scores(to_lib(lib, S)), model.predict_from_scores(S), lib)
    assert_same(model.proba_from_scores(to_lib(lib, S)), model.proba_from_scores(S), lib)
    assert_same(model.softmax(to_lib(lib, S)), model.softmax(S), lib)
    assert_same(model.sigmoid(to_lib(lib, S)), model.sigmoid(S), lib)


@pytest.mark.parametrize("lib", LIBRARIES)
def test_model_keeps_float32_and_takes_weights_as_a_list(lib):
    rng = np.random.default_rng(13)
    W, X = rng.standard_normal((3, 2)), rng.standard_normal((5, 2)).astype(np.float32)
    S = model.scores(W.tolist(), to_lib(lib, X))
    assert S.dtype == dtype_of(lib, "float32")
    np.testing.assert_allclose(to_numpy(S), model.scores(W, X), rtol=1e-6)
    assert model.softmax(S).dtype == dtype_of(lib, "float32")
    assert model.sigmoid(S).dtype == dtype_of(lib, "float32")


@pytest.mark.parametrize("lib", LIBRARIES)
def test_model_checks_on_another_library_name_the_argument(lib):
    X = to_lib(lib, np.ones((4, 2)))
    with pytest.raises(ValueError, match=r"W: expected shape \(3, C\) for 2 features"):
        model.scores(to_lib(lib, np.zeros((4, 2))), X)
    with pytest.raises(ValueError, match="X: expected a 2-D array"):
        model.predict(to_lib(lib, np.zeros((3, 1))), to_lib(lib, np.ones(4)))


def test_sigmoid_and_softmax_stay_finite_at_extreme_scores_on_torch():
    S = torch.tensor([[1e4, -1e4], [-1e4, 1e4]], dtype=torch.float64)
    np.testing.assert_array_equal(model.softmax(S).numpy(), [[1.0, 0.0], [0.0, 1.0]])
    np.testing.assert_array_equal(model.sigmoid(S).numpy(), [[1.0, 0.0], [0.0, 1.0]])
    loss, dS = losses.softmax_cross_entropy(S, torch.tensor([1, 0]))
    assert loss == pytest.approx(2e4) and bool(torch.isfinite(dS).all())
