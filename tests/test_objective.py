"""The objective J(W) = mean loss + lam * R(W) and its analytic gradient."""

import numpy as np
import pytest
from conftest import random_targets

from lingrad import losses, regularizers
from lingrad.grad import gradcheck
from lingrad.model import scores
from lingrad.objective import Objective

LOSSES = [
    "hinge",
    "crammer_singer",
    "one_vs_all_hinge",
    "softmax_cross_entropy",
    "kl_divergence",
    "logistic",
    "squared_error",
    "sigmoid_squared_error",
]
REGULARIZERS = ["none", "l2", "l1", "elastic_net"]


def problem(loss, seed=0, N=40, D=5, C=4, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, D)).astype(dtype)
    C = 1 if loss == "logistic" else C
    y = random_targets(loss, rng, N, C)
    W = rng.normal(size=(D + 1, C)).astype(dtype)
    return X, y, W


def kink_distance(loss, X, y, W):
    """The smallest |margin| of a hinge term: how close W is to a point of non-differentiability."""
    S = scores(W, X)
    if loss not in ("hinge", "crammer_singer", "one_vs_all_hinge"):
        return np.inf
    rows = np.arange(len(y))
    if loss == "one_vs_all_hinge":
        T = -np.ones_like(S)
        T[rows, y] = 1
        return np.abs(1 - T * S).min()
    M = S - S[rows, y][:, None] + 1
    M[rows, y] = np.inf
    return np.abs(M).min()


@pytest.mark.parametrize("reg", REGULARIZERS)
@pytest.mark.parametrize("loss", LOSSES)
def test_gradcheck_every_loss_and_regularizer(loss, reg):
    X, y, W = problem(loss)
    assert kink_distance(loss, X, y, W) > 1e-3, "test data sits on a hinge kink; change the seed"
    J = Objective(loss, X, y, regularizer=reg, lam=0.3)
    result = gradcheck(J.value_and_grad, W)
    assert result.max_rel_error < 1e-6, str(result)


@pytest.mark.parametrize("reg", REGULARIZERS)
def test_value_is_mean_loss_plus_lam_times_R(reg):
    X, y, W = problem("hinge", seed=1)
    lam = 0.7
    value = Objective("hinge", X, y, regularizer=reg, lam=lam).value(W)
    data_loss = losses.hinge(scores(W, X), y)[0]
    assert value == pytest.approx(data_loss + lam * regularizers.get(reg).value(W), rel=1e-14)


def test_bias_row_is_not_regularised_by_default():
    X, y, W = problem("softmax_cross_entropy", seed=2)
    J = Objective("softmax", X, y, lam=10.0)
    W2 = W.copy()
    W2[-1] += 5.0  # shifting every class's bias by the same amount changes nothing
    assert J.value(W2) == pytest.approx(J.value(W), rel=1e-12)
    J_bias = Objective("softmax", X, y, regularizer=regularizers.l2(include_bias=True), lam=10.0)
    assert J_bias.value(W2) > J_bias.value(W)


def test_rows_restricts_to_a_minibatch():
    X, y, W = problem("softmax_cross_entropy", seed=3)
    rows = np.array([5, 1, 17, 30])
    J = Objective("softmax", X, y, lam=0.1)
    value, dW = J.value_and_grad(W, rows=rows)
    value_sub, dW_sub = Objective("softmax", X[rows], y[rows], lam=0.1).value_and_grad(W)
    assert value == value_sub
    np.testing.assert_array_equal(dW, dW_sub)


def test_sample_weight_equals_repetition():
    X, y, W = problem("hinge", seed=4, N=6)
    w = np.array([1, 2, 0, 1, 3, 1])
    rows = np.repeat(np.arange(6), w)
    got = Objective("hinge", X, y, lam=0.2, sample_weight=w).value_and_grad(W)
    want = Objective("hinge", X[rows], y[rows], lam=0.2).value_and_grad(W)
    assert got[0] == pytest.approx(want[0])
    np.testing.assert_allclose(got[1], want[1], rtol=1e-12)


@pytest.mark.parametrize("loss", LOSSES)
def test_float32_end_to_end(loss):
    X, y, W = problem(loss, dtype=np.float32)
    value, dW = Objective(loss, X, y, lam=0.1).value_and_grad(W)
    assert dW.dtype == np.float32
    value64, dW64 = Objective(loss, X.astype(np.float64), y, lam=0.1).value_and_grad(
        W.astype(np.float64)
    )
    assert value == pytest.approx(value64, rel=1e-5)
    np.testing.assert_allclose(dW, dW64, rtol=1e-4, atol=1e-5)


def test_integer_data_becomes_float64():
    J = Objective("hinge", np.arange(6).reshape(3, 2), [0, 1, 0])
    assert J.X.dtype == np.float64


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Objective("nope", np.ones((2, 2)), [0, 1]), r"loss: expected one of"),
        (lambda: Objective("hinge", np.ones(2), [0, 1]), r"X: expected a 2-D array"),
        (lambda: Objective("hinge", [[1.0, np.nan]], [0]), r"X: expected finite values"),
        (lambda: Objective("hinge", np.ones((0, 2)), []), r"X: expected a non-empty"),
        (lambda: Objective("hinge", np.ones((2, 2)), [0, 1], lam=-1), r"lam: expected"),
        (lambda: Objective("hinge", np.ones((2, 2)), [0, 1], regularizer="l3"), "regularizer"),
    ],
)
def test_bad_construction(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_weights_and_labels_at_first_call():
    J = Objective("hinge", np.ones((2, 3)), [0, 2])
    with pytest.raises(ValueError, match=r"W: expected shape \(4, C\) for 3 features"):
        J.value(np.zeros((3, 3)))
    with pytest.raises(ValueError, match=r"y: expected labels in \[0, 2\), got label 2"):
        J.value(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="W: expected finite values"):
        J.value(np.full((4, 3), np.inf))


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [  # issue 16, defect 11: refused at construction, not at the first evaluation
        (
            lambda: Objective("hinge", np.ones((3, 2)), [0, 1]),
            ValueError,
            r"y: expected 3 labels \(one per row of the scores\), got 2",
        ),
        (
            lambda: Objective("softmax", np.ones((2, 2)), [0.5, 1]),
            TypeError,
            r"y: expected integer labels, got non-integer values",
        ),
        (
            lambda: Objective("softmax", np.ones((2, 2)), [0, -1]),
            ValueError,
            r"y: expected labels >= 0, got label -1",
        ),
        (
            lambda: Objective("softmax", np.ones((2, 2)), [[0, 1], [1, 0]]),
            ValueError,
            r"y: expected integer labels of shape \(2,\)",
        ),
        (
            lambda: Objective("logistic", np.ones((3, 2)), [0, 1]),
            ValueError,
            r"y: expected 3 targets \(one per row of X\), got shape \(2,\)",
        ),
        (
            lambda: Objective("squared_error", np.ones((3, 2)), 1.0),
            ValueError,
            r"y: expected 3 targets \(one per row of X\), got shape \(\)",
        ),
        (
            lambda: Objective("kl_divergence", np.ones((3, 2)), np.full((2, 2), 0.5)),
            ValueError,
            r"y: expected 3 targets",
        ),
    ],
)
def test_targets_checked_at_construction(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_construction_with_y_one_short_fails_before_any_evaluation():
    X = np.ones((5, 2))
    y = np.array([0, 1, 2, 0, 1])
    with pytest.raises(ValueError, match="y: expected 5 labels"):
        Objective("hinge", X, y[:-1])
    J = Objective("hinge", X, y)  # the whole y is fine, and evaluates
    assert np.isfinite(J.value(np.zeros((3, 3))))
