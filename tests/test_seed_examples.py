"""The seed lecture's worked examples, reproduced number for number (DESIGN.md's table)."""

import math

import numpy as np
import pytest

from lingrad import losses
from lingrad.model import sigmoid
from lingrad.objective import Objective

# Columns of the slide are the cat, car and frog images; rows here are examples.
SLIDE_SCORES = np.array([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]])
SLIDE_LABELS = np.array([0, 1, 2])  # cat, car, frog


def per_example(loss, S, y, **params):
    spec = losses.spec(loss)
    return spec.kernel(np.asarray(S, float), spec.prepare(y, len(S), S.shape[1], float), **params)[
        0
    ]


def test_1_svm_loss_table():
    assert per_example("hinge", SLIDE_SCORES, SLIDE_LABELS) == pytest.approx([2.9, 0.0, 12.9])
    loss, _ = losses.hinge(SLIDE_SCORES, SLIDE_LABELS)
    assert loss == pytest.approx(15.8 / 3)
    assert round(loss, 2) == 5.27


@pytest.mark.parametrize("C", [2, 3, 10])
def test_2_svm_at_initialisation_is_C_minus_1(C):
    S = np.random.default_rng(C).normal(scale=1e-9, size=(50, C))
    y = np.arange(50) % C
    assert losses.hinge(S, y)[0] == pytest.approx(C - 1, abs=1e-6)


def test_3_svm_summed_over_all_classes_adds_the_margin():
    with_true_class = np.maximum(
        0, SLIDE_SCORES - SLIDE_SCORES[[0, 1, 2], SLIDE_LABELS][:, None] + 1
    )
    assert with_true_class.sum(axis=1) == pytest.approx(
        per_example("hinge", SLIDE_SCORES, SLIDE_LABELS) + 1
    )


def test_4_softmax_example():
    s = np.array([[3.2, 5.1, -1.7]])
    p_cat = math.exp(3.2) / sum(math.exp(v) for v in s[0])
    assert round(p_cat, 2) == 0.13
    loss, _ = losses.softmax_cross_entropy(s, [0])
    assert loss == pytest.approx(-math.log(p_cat))
    assert round(loss, 2) == 2.04


@pytest.mark.parametrize("C", [2, 3, 10])
def test_5_softmax_at_initialisation_is_ln_C(C):
    S = np.full((7, C), 0.3)
    assert losses.softmax_cross_entropy(S, np.arange(7) % C)[0] == pytest.approx(math.log(C))


def test_6_kl_with_one_hot_target_is_cross_entropy():
    rng = np.random.default_rng(6)
    S = rng.normal(size=(20, 10))
    y = rng.integers(0, 10, size=20)
    P = np.eye(10)[y]
    kl, dkl = losses.kl_divergence(S, P)
    ce, dce = losses.softmax_cross_entropy(S, y)
    assert kl == pytest.approx(ce, rel=1e-12)
    np.testing.assert_allclose(dkl, dce, rtol=1e-12, atol=1e-15)


def test_6_kl_of_the_slide_prediction():
    # The slide's p_hat as printed is no distribution: 9 entries for 10 classes, sum 1.01.
    from lingrad.cli.explain import CORRECTED_P_HAT, SLIDE_P_HAT

    assert len(SLIDE_P_HAT) == 9 and math.fsum(SLIDE_P_HAT) == pytest.approx(1.01)
    # Corrected (the missing 0.01 added, 0.3 -> 0.28), for a one-hot p* on class 4 (index 3):
    # KL = -log p_hat[3].
    p_hat = np.array([0.5, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.15, 0.28])
    assert tuple(p_hat) == CORRECTED_P_HAT and math.fsum(p_hat) == pytest.approx(1.0)
    S = np.log(p_hat)[None, :]
    assert losses.kl_divergence(S, np.eye(10)[[3]])[0] == pytest.approx(-math.log(0.01))


def _linear_unit_case(seed=7):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(12, 3))
    y = rng.normal(size=12)
    W = rng.normal(size=(4, 1))
    return X, y, W


def test_7_linear_regression_update_rule():
    X, y, W = _linear_unit_case()
    alpha, N = 0.05, len(y)
    J = Objective("squared_error", X, y, regularizer="none")
    _, dW = J.value_and_grad(W)
    w_new = W - alpha * dW
    # Slide: w_j <- w_j + 2 alpha sum_k delta_k x_kj with delta = y - w^T x; our mean adds 1/N.
    X1 = np.hstack([X, np.ones((N, 1))])
    delta = y - X1 @ W[:, 0]
    slide = W[:, 0] + 2 * (alpha / N) * (delta @ X1)
    np.testing.assert_allclose(w_new[:, 0], slide, rtol=1e-13)


def test_8_sigmoid_unit_update_rule():
    X, _, W = _linear_unit_case(8)
    y = (np.random.default_rng(8).random(12) > 0.5).astype(float)
    alpha, N = 0.3, len(y)
    J = Objective("sigmoid_squared_error", X, y, regularizer="none")
    _, dW = J.value_and_grad(W)
    X1 = np.hstack([X, np.ones((N, 1))])
    sig = sigmoid(X1 @ W[:, 0])
    delta = y - sig
    slide = W[:, 0] + 2 * (alpha / N) * ((delta * sig * (1 - sig)) @ X1)
    np.testing.assert_allclose((W - alpha * dW)[:, 0], slide, rtol=1e-13)
    # sigma' = sigma (1 - sigma), against a centred difference.
    z, h = np.linspace(-5, 5, 11), 1e-6
    np.testing.assert_allclose(
        (sigmoid(z + h) - sigmoid(z - h)) / (2 * h), sigmoid(z) * (1 - sigmoid(z)), rtol=1e-8
    )


def test_9_numerical_gradient_forward_and_centred():
    from lingrad.grad import gradcheck, numerical_gradient

    rng = np.random.default_rng(9)
    J = Objective("softmax", rng.normal(size=(30, 5)), rng.integers(0, 4, 30), lam=0.1)
    W = rng.normal(size=(6, 4))
    _, dW = J.value_and_grad(W)
    forward = numerical_gradient(J, W, h=1e-4, difference="forward")  # the slide's h
    np.testing.assert_allclose(forward, dW, rtol=1e-2, atol=1e-4)
    assert gradcheck(J.value_and_grad, W, difference="centered").max_rel_error < 1e-6


def test_9_the_slides_numerical_gradient():
    """W with loss 1.25347; entries 1, 2, 3 nudged by h = 0.0001 give 1.25322, 1.25353,
    1.25347, so dW = -2.5, 0.6, 0 (the slides' numbers, recomputed)."""
    from lingrad.cli.explain import SLIDE_H, SLIDE_LOSS, SLIDE_NUDGED_LOSSES, forward_differences

    assert (SLIDE_LOSS, SLIDE_H) == (1.25347, 1e-4)
    assert SLIDE_NUDGED_LOSSES == (1.25322, 1.25353, 1.25347)
    assert forward_differences(SLIDE_LOSS, SLIDE_NUDGED_LOSSES, SLIDE_H) == [-2.5, 0.6, 0.0]
    naive = [(lk - SLIDE_LOSS) / SLIDE_H for lk in SLIDE_NUDGED_LOSSES]
    np.testing.assert_allclose(naive, [-2.5, 0.6, 0.0], atol=1e-9)
