"""The full-pass kernel: blocking changes nothing but summation order, and allocates little."""

import tracemalloc

import numpy as np
import pytest
from test_objective import LOSSES, problem

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
def test_full_pass_allocates_no_N_by_D_temporary(dtype):
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
    itemsize = np.dtype(dtype).itemsize
    block_buffers = 8 * J._block_rows() * C * 8
    bound = 4 * N * C * itemsize + 2 * W.nbytes + block_buffers
    assert peak < bound, f"peak {peak} bytes, bound {bound}"
    assert peak < X.nbytes / 10


def test_block_rows_is_validated():
    with pytest.raises(ValueError, match="block_rows: expected an integer >= 1"):
        Objective("hinge", np.ones((2, 2)), [0, 1], block_rows=0)
