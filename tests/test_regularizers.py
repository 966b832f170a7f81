"""Regularisers: values, gradients, the bias row, lookup."""

import numpy as np
import pytest

from lingrad import regularizers
from lingrad.grad import gradcheck

W = np.array([[3.0, -4.0], [0.5, 2.0], [10.0, -10.0]])  # last row is the bias


def test_values_follow_the_documented_formulas():
    V = W[:-1]
    assert regularizers.l2().value(W) == pytest.approx(0.5 * (V**2).sum())
    assert regularizers.l1().value(W) == pytest.approx(np.abs(V).sum())
    en = regularizers.elastic_net(0.3).value(W)
    assert en == pytest.approx(0.3 * np.abs(V).sum() + 0.7 * 0.5 * (V**2).sum())
    assert regularizers.none().value(W) == 0.0
    assert regularizers.l2(include_bias=True).value(W) == pytest.approx(0.5 * (W**2).sum())


@pytest.mark.parametrize("name", ["l2", "l1", "elastic_net"])
@pytest.mark.parametrize("include_bias", [False, True])
def test_gradients_pass_gradcheck(name, include_bias):
    reg = regularizers.Regularizer(name, {"l2": 0, "l1": 1, "elastic_net": 0.4}[name], include_bias)
    result = gradcheck(lambda V: reg.value(V), W, reg.grad(W))
    assert result.passed, str(result)
    assert (reg.grad(W)[-1] != 0).any() == include_bias
    dW = np.ones_like(W)
    reg.add_grad(W, dW, 0.5)
    np.testing.assert_allclose(dW, 1 + 0.5 * reg.grad(W))


def test_l1_subgradient_is_zero_at_zero():
    assert regularizers.l1().grad(np.zeros((2, 2))).tolist() == [[0, 0], [0, 0]]


def test_get():
    assert regularizers.get("l1") == regularizers.l1()
    assert regularizers.get(None) == regularizers.none()
    reg = regularizers.elastic_net(0.2)
    assert regularizers.get(reg) is reg
    with pytest.raises(ValueError, match=r"regularizer: expected one of .*got 'l3'"):
        regularizers.get("l3")
    with pytest.raises(ValueError, match="l1_ratio"):
        regularizers.elastic_net(1.5)
