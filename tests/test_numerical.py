"""Finite differences and the gradient check."""

import numpy as np
import pytest

from lingrad.grad import gradcheck, numerical_gradient, relative_error


def cubic(w):
    return float((w**3).sum() + w[0] * w[-1])


def cubic_grad(w):
    g = 3 * w**2
    g[0] += w[-1]
    g[-1] += w[0]
    return g


def test_centred_is_second_order_forward_first_order():
    w = np.array([0.3, -1.2, 2.0])
    exact = cubic_grad(w)
    err_fwd = [
        np.abs(numerical_gradient(cubic, w, h=h, difference="forward") - exact).max()
        for h in (1e-2, 1e-3)
    ]
    err_ctr = [np.abs(numerical_gradient(cubic, w, h=h) - exact).max() for h in (1e-2, 1e-3)]
    assert 5 < err_fwd[0] / err_fwd[1] < 20  # O(h)
    assert 50 < err_ctr[0] / err_ctr[1] < 200  # O(h^2)


def test_w_is_left_unchanged():
    w = np.array([1.0, 2.0])
    numerical_gradient(cubic, w)
    assert w.tolist() == [1.0, 2.0]


def test_gradcheck_passes_a_right_gradient_and_catches_a_wrong_one():
    w = np.array([0.3, -1.2, 2.0, 0.7])
    good = gradcheck(cubic, w, cubic_grad(w))
    assert good.passed and good.checked == 4 and good.max_rel_error < 1e-8
    wrong = cubic_grad(w)
    wrong[2] *= 1.01
    bad = gradcheck(cubic, w, wrong)
    assert not bad.passed
    assert bad.index == (2,)
    assert bad.analytic == pytest.approx(wrong[2])
    assert bad.numerical == pytest.approx(cubic_grad(w)[2], rel=1e-8)
    assert "FAIL" in str(bad)


def test_gradcheck_sparse_samples():
    w = np.random.default_rng(0).normal(size=100)
    result = gradcheck(cubic, w, cubic_grad(w), samples=7, rng=np.random.default_rng(1))
    assert result.checked == 7 and result.passed


def test_gradcheck_takes_value_and_grad():
    w = np.array([1.0, 2.0])
    assert gradcheck(lambda v: (cubic(v), cubic_grad(v)), w).passed


def test_relative_error():
    np.testing.assert_allclose(relative_error([0.0, 1.0, 1.0], [0.0, 1.0, -1.0]), [0, 0, 1])


def test_bad_input():
    with pytest.raises(ValueError, match="difference: expected one of"):
        numerical_gradient(cubic, np.ones(2), difference="backward")
    with pytest.raises(ValueError, match="h: expected a finite number > 0"):
        numerical_gradient(cubic, np.ones(2), h=0)
    with pytest.raises(ValueError, match=r"grad: expected shape \(2,\)"):
        gradcheck(cubic, np.ones(2), np.ones(3))
    with pytest.raises(ValueError, match="grad: expected an analytic gradient"):
        gradcheck(cubic, np.ones(2))
