"""The linear model: bias trick, decision rules, probabilities, initialisation."""

import numpy as np
import pytest

from lingrad.model import init_weights, predict, predict_proba, scores, sigmoid, softmax


def test_scores_equal_the_bias_trick_product():
    rng = np.random.default_rng(0)
    X, W = rng.normal(size=(7, 4)), rng.normal(size=(5, 3))
    X1 = np.hstack([X, np.ones((7, 1))])  # "a 1 at the end of the input"
    np.testing.assert_allclose(scores(W, X), X1 @ W, rtol=1e-14)
    # The slide's orientation: f(x, W) = W' x with W' = W.T of shape C x (D + 1).
    np.testing.assert_allclose(scores(W, X)[2], W.T @ X1[2], rtol=1e-14)


def test_the_4_pixel_3_class_example():
    x = np.array([[56.0, 231.0, 24.0, 2.0]])  # the slide's image stretched into a column
    W_slide = np.array([[0.2, -0.5, 0.1, 2.0], [1.5, 1.3, 2.1, 0.0], [0.0, 0.25, 0.2, -0.3]])
    b = np.array([1.1, 3.2, -1.2])
    W = np.vstack([W_slide.T, b])
    np.testing.assert_allclose(scores(W, x)[0], W_slide @ x[0] + b)
    assert predict(W, x)[0] == int(np.argmax(W_slide @ x[0] + b))


def test_binary_rule_is_s_at_least_zero():
    W = np.array([[1.0], [0.0]])
    assert predict(W, np.array([[-1e-9], [0.0], [2.0]])).tolist() == [0, 1, 1]


def test_one_versus_all_columns_use_argmax():
    W = np.array([[1.0, -1.0, 0.0], [0.0, 0.0, 0.5]])
    assert predict(W, np.array([[2.0], [-2.0], [0.1]])).tolist() == [0, 1, 2]


def test_predict_proba_rows_sum_to_one_and_agree_with_predict():
    rng = np.random.default_rng(1)
    X, W = rng.normal(size=(20, 3)), rng.normal(size=(4, 5))
    P = predict_proba(W, X)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    assert (P.argmax(axis=1) == predict(W, X)).all()
    Wb = W[:, :1]
    Pb = predict_proba(Wb, X)
    assert Pb.shape == (20, 2)
    np.testing.assert_allclose(Pb[:, 1], sigmoid(scores(Wb, X)[:, 0]))
    assert ((Pb[:, 1] >= 0.5) == predict(Wb, X).astype(bool)).all()


def test_softmax_and_sigmoid_are_stable_at_1e4():
    P = softmax(np.array([[1e4, 0.0, -1e4], [-1e4, -1e4, -1e4]]))
    assert np.isfinite(P).all()
    np.testing.assert_allclose(P, [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]])
    s = sigmoid(np.array([-1e4, -50.0, 0.0, 50.0, 1e4]))
    assert np.isfinite(s).all()
    np.testing.assert_allclose(
        s, [0.0, np.exp(-50.0) / (1 + np.exp(-50.0)), 0.5, 1 / (1 + np.exp(-50.0)), 1.0]
    )


def test_softmax_is_shift_invariant():
    S = np.random.default_rng(2).normal(size=(4, 6))
    np.testing.assert_allclose(softmax(S), softmax(S + 123.0), rtol=1e-12)


def test_dtypes_are_kept():
    X32 = np.ones((3, 2), np.float32)
    assert scores(np.ones((3, 2)), X32).dtype == np.float32
    assert predict_proba(np.ones((3, 2), np.float32), X32).dtype == np.float32
    assert softmax(np.ones(3, np.float32)).dtype == np.float32
    assert sigmoid(np.ones(3, np.float32)).dtype == np.float32
    assert scores(np.ones((3, 2)), np.ones((3, 2), int)).dtype == np.float64


def test_init_weights():
    W = init_weights(64, 10, rng=np.random.default_rng(0), dtype=np.float32)
    assert W.shape == (65, 10) and W.dtype == np.float32
    assert (W[-1] == 0).all() and 0 < np.abs(W).max() < 1e-2
    again = init_weights(64, 10, rng=np.random.default_rng(0), dtype=np.float32)
    np.testing.assert_array_equal(W, again)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (
            lambda: scores(np.ones((3, 2)), np.ones((4, 3))),
            ValueError,
            r"W: expected shape \(4, C\)",
        ),
        (lambda: scores(np.ones((3, 2)), np.ones(2)), ValueError, "X: expected a 2-D array"),
        (lambda: predict(np.ones((3, 2)), [[1.0, np.inf]]), ValueError, "X: expected finite"),
        (lambda: predict(np.ones((3, 2)), np.ones((0, 2))), ValueError, "X: expected a non-empty"),
        (lambda: scores(np.ones((3, 2)), [["a", "b"]]), TypeError, "X: expected a numeric array"),
        (lambda: init_weights(0, 3, rng=np.random.default_rng()), ValueError, "n_features"),
        (lambda: init_weights(3, 3, rng=0), TypeError, "rng: expected a numpy.random.Generator"),
    ],
)
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()
