"""Each vectorised loss against its loop-by-loop reference, plus stability, dtypes and errors."""

import inspect

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lingrad import losses, reference

finite = st.floats(-20, 20, allow_nan=False, allow_infinity=False)


@st.composite
def scores_and_labels(draw, min_classes=2):
    N = draw(st.integers(1, 12))
    C = draw(st.integers(min_classes, 6))
    S = draw(hnp.arrays(np.float64, (N, C), elements=finite))
    y = draw(hnp.arrays(np.intp, N, elements=st.integers(0, C - 1)))
    return S, y


def assert_same(fast, slow):
    assert fast[0] == pytest.approx(slow[0], rel=1e-10, abs=1e-10)
    np.testing.assert_allclose(fast[1], slow[1], rtol=1e-10, atol=1e-10)


LABEL_LOSSES = [
    "hinge",
    "squared_hinge",
    "crammer_singer",
    "one_vs_all_hinge",
    "softmax_cross_entropy",
]


@pytest.mark.parametrize("name", LABEL_LOSSES)
@settings(max_examples=60, deadline=None)
@given(data=scores_and_labels(), margin=st.sampled_from([1.0, 0.5, 2.0]))
def test_label_losses_match_reference(name, data, margin):
    S, y = data
    params = {"label_smoothing": margin / 4} if name == "softmax_cross_entropy" else {}
    params = params or {"margin": margin}
    assert_same(losses.get(name)(S, y, **params), getattr(reference, name)(S, y, **params))


@settings(max_examples=80, deadline=None)
@given(data=scores_and_labels(), two=st.booleans())
def test_softmax_without_smoothing_matches_reference(data, two):
    # the kernel's two paths: classes as rows (C >= 3) and one margin per example (C = 2)
    S, y = data
    if two:
        S, y = S[:, :2] * 30, y % 2  # margins up to 1200: exp(-|z|) underflows, no overflow
    assert_same(losses.softmax_cross_entropy(S, y), reference.softmax_cross_entropy(S, y))
    S32 = S.astype(np.float32)
    loss32, dS32 = losses.softmax_cross_entropy(S32, y)
    assert dS32.dtype == np.float32
    expected = reference.softmax_cross_entropy(S32.astype(np.float64), y)
    assert loss32 == pytest.approx(expected[0], rel=1e-6, abs=1e-6)
    np.testing.assert_allclose(dS32, expected[1], rtol=1e-5, atol=1e-6)


@settings(max_examples=60, deadline=None)
@given(data=scores_and_labels(), temperature=st.floats(0.1, 5))
def test_kl_divergence_matches_reference(data, temperature):
    S, y = data
    logits = np.random.default_rng(int(y.sum())).normal(size=S.shape) / temperature
    P = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    P[0] = 0.0
    P[0, y[0]] = 1.0  # a row with exact zeros: 0 log 0 = 0
    assert_same(losses.kl_divergence(S, P), reference.kl_divergence(S, P))


@pytest.mark.parametrize("name", ["logistic", "sigmoid_squared_error"])
@settings(max_examples=60, deadline=None)
@given(s=hnp.arrays(np.float64, st.integers(1, 20), elements=finite), data=st.data())
def test_binary_losses_match_reference(name, s, data):
    y = data.draw(hnp.arrays(np.float64, s.shape, elements=st.sampled_from([0.0, 1.0])))
    assert_same(losses.get(name)(s, y), getattr(reference, name)(s, y))
    column = losses.get(name)(s[:, None], y)
    assert column[1].shape == (s.shape[0], 1)


@settings(max_examples=40, deadline=None)
@given(data=scores_and_labels())
def test_one_vs_all_sigmoid_squared_error_matches_reference(data):
    S, y = data
    assert_same(losses.sigmoid_squared_error(S, y), reference.sigmoid_squared_error(S, y))


@settings(max_examples=60, deadline=None)
@given(S=hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=2), elements=finite))
def test_squared_error_matches_reference(S):
    Y = np.cos(S) * 3
    assert_same(losses.squared_error(S, Y), reference.squared_error(S, Y))


# One-vs-all is left out: each of its columns is a separate binary SVM, not shift invariant.
@pytest.mark.parametrize(
    "name", ["hinge", "squared_hinge", "crammer_singer", "softmax_cross_entropy"]
)
def test_gradients_sum_to_zero_for_shift_invariant_losses(name):
    S = np.random.default_rng(0).normal(size=(9, 5))
    _, dS = losses.get(name)(S, np.arange(9) % 5)
    np.testing.assert_allclose(dS.sum(axis=1), 0.0, atol=1e-15)


ALL = [*LABEL_LOSSES, "kl_divergence", "logistic", "squared_error", "sigmoid_squared_error"]


def targets_for(name, S):
    N, C = S.shape
    if name == "kl_divergence":
        return np.full((N, C), 1.0 / C)
    if name in ("logistic",):
        return np.arange(N) % 2
    if name == "squared_error":
        return np.ones((N, C))
    return np.arange(N) % C


def scores_for(name, scale, dtype):
    C = 1 if name == "logistic" else 4
    S = scale * np.array([[1, -1, 0.5, -0.25], [-1, 1, 0.25, 0.5]] * 2)[:, :C]
    return S.astype(dtype)


@pytest.mark.parametrize("name", ALL)
def test_extreme_scores_are_finite(name):
    S = scores_for(name, 1e4, np.float64)
    loss, dS = losses.get(name)(S, targets_for(name, S))
    assert np.isfinite(loss)
    assert np.isfinite(dS).all()


@pytest.mark.parametrize("name", ALL)
def test_float32_stays_float32(name):
    S = scores_for(name, 3.0, np.float32)
    loss, dS = losses.get(name)(S, targets_for(name, S))
    assert dS.dtype == np.float32
    assert isinstance(loss, float)
    loss64, dS64 = losses.get(name)(S.astype(np.float64), targets_for(name, S))
    assert loss == pytest.approx(loss64, rel=1e-6)
    np.testing.assert_allclose(dS, dS64, rtol=1e-5, atol=1e-6)


def test_softmax_loss_at_1e4_is_the_margin():
    loss, dS = losses.softmax_cross_entropy(np.array([[1e4, -1e4]]), [1])
    assert loss == pytest.approx(2e4)
    np.testing.assert_allclose(dS, [[1.0, -1.0]])


def test_sample_weight_is_a_weighted_mean():
    rng = np.random.default_rng(1)
    S, y = rng.normal(size=(6, 3)), np.array([0, 1, 2, 0, 1, 2])
    w = np.array([1.0, 2.0, 0.0, 1.0, 3.0, 1.0])
    loss, dS = losses.hinge(S, y, sample_weight=w)
    # Weight k equals repeating the example k times.
    rows = np.repeat(np.arange(6), w.astype(int))
    loss_rep, dS_rep = losses.hinge(S[rows], y[rows])
    assert loss == pytest.approx(loss_rep)
    first_copy = np.searchsorted(rows, np.arange(6))
    for i in range(6):
        np.testing.assert_allclose(dS[i], w[i] * dS_rep[first_copy[i]] if w[i] else 0.0)


def test_get_by_name_and_alias():
    assert losses.get("softmax") is losses.softmax_cross_entropy
    assert losses.get("hinge") is losses.hinge
    for name in losses.NAMES:
        assert losses.get(name).__name__ == name
    with pytest.raises(ValueError, match=r"loss: expected one of .*got 'nope'"):
        losses.get("nope")


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: losses.hinge(np.array([[np.nan, 1.0]]), [0]), r"S: expected finite values"),
        (lambda: losses.hinge(np.array([[np.inf, 1.0]]), [0]), r"S: expected finite values"),
        (lambda: losses.hinge(np.ones((2, 3)), [0, 3]), r"y: expected labels in \[0, 3\)"),
        (lambda: losses.hinge(np.ones((2, 3)), [0, -1]), r"y: expected labels in \[0, 3\)"),
        (lambda: losses.hinge(np.ones((2, 3)), [0]), r"y: expected 2 labels"),
        (lambda: losses.hinge(np.ones(3), [0, 1, 2]), r"S: expected a 2-D array"),
        (lambda: losses.hinge(np.ones((0, 3)), []), r"S: expected a non-empty array"),
        (lambda: losses.hinge(np.ones((2, 1)), [0, 0]), r"S: expected at least 2 columns"),
        (lambda: losses.hinge(np.ones((1, 2)), [0], margin=-1), r"margin: expected"),
        (lambda: losses.logistic(np.ones((2, 2)), [0, 1]), r"S: expected one column"),
        (lambda: losses.logistic(np.ones(2), [0, 2]), r"y: expected binary targets"),
        (lambda: losses.squared_error(np.ones((2, 2)), np.ones(3)), r"y: expected targets"),
        (lambda: losses.kl_divergence(np.ones((1, 2)), [[0.5, 0.6]]), r"P: expected rows"),
        (lambda: losses.softmax_cross_entropy(np.ones((1, 2)), [0], 2.0), "label_smoothing"),
        (lambda: losses.hinge(np.ones((2, 2)), [0, 1], sample_weight=[1, -1]), "sample_weight"),
    ],
)
def test_bad_input_names_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_wrong_types():
    with pytest.raises(TypeError, match="S: expected a numeric array"):
        losses.hinge([["a", "b"]], [0])
    with pytest.raises(TypeError, match="y: expected integer labels"):
        losses.hinge(np.ones((1, 2)), [0.5])


# ------------------------------------------------------------------------------------------
# The registry: every fact of a loss is in its spec
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", losses.NAMES)
def test_spec_defaults_are_the_functions_defaults(name):
    spec = losses.spec(name)
    signature = inspect.signature(losses.get(name))
    params = {
        p.name: p.default
        for p in list(signature.parameters.values())[2:]
        if p.kind is p.POSITIONAL_OR_KEYWORD
    }
    assert spec.defaults == params
    assert spec.kernel(*_kernel_inputs(spec))[0].shape == (4,)
    assert spec.label and spec.title and spec.formula.startswith("L_i = ")


def _kernel_inputs(spec):
    S = np.array([[1.0, -1.0, 0.5], [0.0, 2.0, -0.5], [0.3, 0.1, 0.2], [-1.0, 0.0, 1.0]])
    S = S[:, :1] if spec.binary_only else S
    y = {
        losses.Target.DISTRIBUTION: np.full(S.shape, 1.0 / S.shape[1]),
        losses.Target.REAL: np.zeros(S.shape),
        losses.Target.BINARY: np.array([0, 1, 1, 0]),
    }.get(spec.target, np.array([0, 1, 2, 0]))
    return S, spec.prepare(y, *S.shape, S.dtype)


def test_spec_facts_as_a_table():
    facts = {
        name: (s.target.value, s.task, s.probabilistic, s.smooth, s.binary_only, s.n_columns(2))
        for name, s in ((n, losses.spec(n)) for n in losses.NAMES)
    }
    assert facts == {
        "hinge": ("labels", "classification", False, False, False, 2),
        "crammer_singer": ("labels", "classification", False, False, False, 2),
        "one_vs_all_hinge": ("labels", "classification", False, False, False, 2),
        "squared_hinge": ("labels", "classification", False, True, False, 2),
        "softmax_cross_entropy": ("labels", "classification", True, True, False, 2),
        "kl_divergence": ("distribution", "classification", True, True, False, 2),
        "logistic": ("binary", "classification", True, True, True, 1),
        "squared_error": ("real", "regression", False, True, False, 2),
        "sigmoid_squared_error": ("binary_or_one_hot", "classification", True, True, False, 1),
    }
    assert [losses.spec(n).n_columns(5) for n in ("logistic", "sigmoid_squared_error")] == [1, 5]
    assert [losses.spec(n).label for n in ("svm", "softmax")] == ["SVM", "softmax"]


def test_squared_hinge_is_the_lectures_squared_margins():
    S = np.array([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]])
    loss, dS = losses.squared_hinge(S, [0, 1, 2])
    assert loss == pytest.approx((2.9**2 + 0 + 6.3**2 + 6.6**2) / 3)
    np.testing.assert_allclose(3 * dS[0], [-2 * 2.9, 2 * 2.9, 0.0], atol=1e-12)
    assert losses.squared_hinge(np.zeros((4, 5)), np.arange(4))[0] == pytest.approx(4.0)  # C - 1
