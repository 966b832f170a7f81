"""The full-pass kernel: blocking changes nothing but summation order, and allocates little;
the compiled skinny products equal NumPy's, and the objective falls back to BLAS without them."""

import tracemalloc

import numpy as np
import pytest
from conftest import require
from test_objective import LOSSES, problem

from lingrad import _skinny
from lingrad import objective as objective_module
from lingrad.objective import Objective


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("block_rows", [1, 7, 64, 1000])
@pytest.mark.parametrize("weighted", [False, True])
def test_blocked_equals_single_block(loss, block_rows, weighted):
    X, y, W = problem(loss, seed=11, N=101)  # 101 is not a multiple of any block size here
    w = np.random.default_rng(0).random(101) if weighted else None
    plain = Objective(loss, X, y, lam=0.2, sample_weight=w, block_rows=101).value_and_grad(W)
    blocked = Objective(loss, X, y, lam=0.2, sample_weight=w, block_rows=block_rows)
    value, dW = blocked.value_and_grad(W)
    assert value == pytest.approx(plain[0], rel=1e-12)
    np.testing.assert_allclose(dW, plain[1], rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("skinny", [True, False])
def test_full_pass_allocates_no_N_by_D_temporary(dtype, skinny, monkeypatch):
    if skinny:
        require("numba")
    else:
        monkeypatch.setattr(_skinny, "AVAILABLE", False)
    rng = np.random.default_rng(0)
    N, D, C = 20_000, 400, 10
    X = rng.standard_normal((N, D)).astype(dtype)
    J = Objective("softmax", X, rng.integers(0, C, N), lam=1e-3)
    W = (0.01 * rng.standard_normal((D + 1, C))).astype(dtype)
    J.value_and_grad(W)  # warm: targets cached
    tracemalloc.start()
    tracemalloc.reset_peak()
    _, dW = J.value_and_grad(W)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert dW.dtype == dtype
    assert J.compiled(C) is skinny
    itemsize = np.dtype(dtype).itemsize
    block_buffers = 8 * J.rows_per_block(skinny) * C * 8
    bound = 4 * N * C * itemsize + 2 * W.nbytes + block_buffers
    assert peak < bound, f"peak {peak} bytes, bound {bound}"
    assert peak < X.nbytes / 10


def test_block_rows_is_validated():
    with pytest.raises(ValueError, match="block_rows: expected an integer >= 1"):
        Objective("hinge", np.ones((2, 2)), [0, 1], block_rows=0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 3, 1), (3, 5, 2), (7, 9, 3), (8, 17, 10), (103, 33, 5)])
def test_skinny_products_equal_numpy(dtype, shape):
    require("numba")
    assert _skinny.AVAILABLE
    N, D, C = shape  # N below, at and above the four-row groups; C odd and even
    rng = np.random.default_rng(N * D * C)
    X, W, G = (rng.standard_normal(s).astype(dtype) for s in ((N, D), (D, C), (N, C)))
    tol = {"rtol": 1e-5, "atol": 1e-5} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-12}
    S = _skinny.scores(X, W)
    assert S.dtype == dtype
    np.testing.assert_allclose(S, X @ W, **tol)
    out = np.ones((C, D), dtype=dtype)
    _skinny.accumulate(X, G, out)
    np.testing.assert_allclose(out, 1 + (X.T @ G).T, **tol)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("block_rows", [None, 4, 7, 64])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("compiled", [True, False])
def test_skinny_pass_equals_the_blas_pass(loss, block_rows, weighted, compiled, monkeypatch):
    if compiled:
        require("numba")
    else:
        monkeypatch.setattr(_skinny, "AVAILABLE", False)
    monkeypatch.setattr(objective_module, "SKINNY_MIN_ELEMENTS", 0)
    X, y, W = problem(loss, seed=5, N=101, D=9, C=5)  # C odd: the two-class loops' remainder
    w = np.random.default_rng(1).random(101) if weighted else None
    plain = Objective(loss, X, y, lam=0.2, sample_weight=w, block_rows=101)
    J = Objective(loss, X, y, lam=0.2, sample_weight=w, block_rows=block_rows)
    value, dW = J.value_and_grad(W)
    assert J.compiled(W.shape[1]) is (compiled and W.shape[1] >= _skinny.MIN_COLUMNS)
    T = plain.targets(W.shape[1])
    ref_value, ref = plain._pass(W, X, T, plain.sample_weight, True, 101)
    assert value == pytest.approx(ref_value, rel=1e-12)
    np.testing.assert_allclose(dW, ref, rtol=1e-10, atol=1e-12)
    value_only, S = J.evaluate(W)
    assert value_only == pytest.approx(ref_value, rel=1e-12)
    np.testing.assert_allclose(S, X @ W[:-1] + W[-1], rtol=1e-12, atol=1e-12)


def test_skinny_pass_in_float32_matches_float64():
    require("numba")
    rng = np.random.default_rng(3)
    X = rng.standard_normal((3000, 1500)).astype(np.float32)  # above SKINNY_MIN_ELEMENTS
    y = rng.integers(0, 10, 3000)
    W = (0.01 * rng.standard_normal((1501, 10))).astype(np.float32)
    J = Objective("softmax", X, y, lam=1e-3)
    assert J.compiled(10)
    value, dW = J.value_and_grad(W)
    ref_value, ref = Objective("softmax", X.astype(np.float64), y, lam=1e-3).value_and_grad(W)
    assert dW.dtype == np.float32
    assert value == pytest.approx(ref_value, rel=1e-5)
    np.testing.assert_allclose(dW, ref, rtol=1e-3, atol=1e-6)
