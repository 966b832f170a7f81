"""The four gradient methods behind ``lingrad.grad.get`` agree, on every loss x regulariser x
dtype; training with autodiff follows analytic; and the gradient check's modes."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
from conftest import random_targets

from lingrad import grad, losses, regularizers
from lingrad.grad import default_step, gradcheck, relative_error
from lingrad.model import init_weights
from lingrad.objective import Objective
from lingrad.optim import SGD
from lingrad.train import fit

METHODS = ("analytic", "autodiff", "numerical", "symbolic")
REGULARIZERS = {
    "none": "none",
    "l2": "l2",
    "l1": "l1",
    "elastic_net": regularizers.elastic_net(0.3),
    "l2_with_bias": regularizers.l2(include_bias=True),
}
OPTIONS = {  # a loss option and per-example weights, so the whole objective is exercised
    "hinge": {"margin": 0.5},
    "crammer_singer": {"margin": 2.0},
    "one_vs_all_hinge": {"margin": 0.7},
    "softmax_cross_entropy": {"label_smoothing": 0.2},
}


def kink_distance(name, S, y, margin=1.0):
    """How far the scores are from a hinge kink (inf for a smooth loss)."""
    rows = np.arange(S.shape[0])
    if name == "hinge":
        M = S - S[rows, y][:, None] + margin
        M[rows, y] = np.inf
        return np.abs(M).min()
    if name == "crammer_singer":
        others = S.copy()
        others[rows, y] = -np.inf
        top = np.sort(others, axis=1)[:, -2:]  # ties between wrong classes are kinks too
        return min(np.abs(top[:, 1] - S[rows, y] + margin).min(), (top[:, 1] - top[:, 0]).min())
    if name == "one_vs_all_hinge":
        T = -np.ones_like(S)
        T[rows, y] = 1
        return np.abs(margin - T * S).min()
    return np.inf


def problem(name, dtype, rng, N=12, D=3, C=3):
    """Data, targets and a point W for the loss ``name``, in ``dtype``.

    For the hinge losses, W is redrawn until no margin is within 0.1 of its kink, so that
    finite differences with float32's step (4.9e-3) never straddle one.
    """
    spec = losses.spec(name)
    C = 1 if spec.binary_only else C
    X = rng.standard_normal((N, D)).astype(dtype)
    y = random_targets(name, rng, N, C)
    margin = OPTIONS.get(name, {}).get("margin", 1.0)
    while True:
        W = rng.standard_normal((D + 1, C)).astype(dtype)
        if kink_distance(name, X @ W[:-1] + W[-1], y, margin) > 0.1:
            return X, y, W


def rel(a, b):
    """Elementwise relative error, with a floor far below the gradient's scale."""
    return float(relative_error(a, b, floor=1e-9 * float(np.abs(a).max())).max())


# float64: the exact methods agree to < 1e-7 and numerical to < 1e-6 (the bar);
# float32: rounding of the scores (~1e-7 relative) bounds the exact ones, h = 4.9e-3 numerical.
TOLERANCE = {
    np.float64: {"analytic": 0.0, "autodiff": 1e-7, "symbolic": 1e-7, "numerical": 1e-6},
    np.float32: {"analytic": 0.0, "autodiff": 1e-4, "symbolic": 1e-4, "numerical": 1e-2},
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("reg", list(REGULARIZERS))
@pytest.mark.parametrize("name", losses.NAMES)
def test_all_methods_agree(name, reg, dtype):
    rng = np.random.default_rng(zlib.crc32(f"{name} {reg}".encode()))
    X, y, W = problem(name, dtype, rng)
    J = Objective(
        name,
        X,
        y,
        regularizer=REGULARIZERS[reg],
        lam=0.3,
        sample_weight=rng.uniform(0.5, 2.0, X.shape[0]),
        **OPTIONS.get(name, {}),
    )
    reference_value, reference = grad.get("analytic")(J)(W)
    for method in METHODS:
        value, dW = grad.get(method)(J)(W)
        assert dW.shape == W.shape and dW.dtype == np.dtype(dtype), method
        assert abs(value - reference_value) <= 1e-6 * max(1.0, abs(reference_value)), method
        assert rel(reference, dW) <= TOLERANCE[dtype][method], method


@pytest.mark.parametrize("method", METHODS)
def test_methods_take_a_mini_batch(method):
    rng = np.random.default_rng(1)
    X, y, W = problem("softmax_cross_entropy", np.float64, rng, N=20)
    J = Objective("softmax", X, y, lam=0.1)
    rows = np.array([3, 7, 1, 19])
    value, dW = grad.get(method)(J)(W, rows)
    sub = Objective("softmax", X[rows], y[rows], lam=0.1)
    want_value, want = sub.value_and_grad(W)
    assert value == pytest.approx(want_value, rel=1e-12)
    assert rel(want, dW) < 1e-6


@pytest.mark.parametrize("sample_weight", [False, True])
def test_autodiff_full_pass_in_row_blocks(sample_weight):
    """A full pass goes block by block with accumulate=True; the sum is the whole gradient."""
    rng = np.random.default_rng(4)
    X, y, W = problem("crammer_singer", np.float64, rng, N=50)
    w = rng.uniform(0.1, 3.0, 50) if sample_weight else None
    blocked = Objective("crammer_singer", X, y, lam=0.2, block_rows=7, sample_weight=w)
    whole = Objective("crammer_singer", X, y, lam=0.2, block_rows=50, sample_weight=w)
    value, dW = grad.get("autodiff")(blocked)(W)
    want_value, want = grad.get("analytic")(whole)(W)
    assert value == pytest.approx(want_value, rel=1e-13)
    assert rel(want, dW) < 1e-13
    assert np.array_equal(grad.get("autodiff")(blocked)(W)[1], dW)  # no accumulation across calls


def test_methods_are_listed_and_unknown_names_are_refused():
    assert set(grad.methods()) == set(METHODS)
    with pytest.raises(
        ValueError, match=r"gradient: expected one of \[.*'symbolic'\], got 'magic'"
    ):
        grad.get("magic")


def test_numerical_docstring_states_its_cost():
    doc = grad.get("numerical").__doc__
    assert "slow" in doc.lower() and "2 * W.size" in doc


def test_training_with_autodiff_reaches_the_analytic_weights():
    """Mini-batch SGD with momentum over shuffled batches, the same rng for both methods."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 5))
    y = rng.integers(0, 4, 120)
    J = Objective("softmax", X, y, regularizer="l2", lam=1e-2, label_smoothing=0.1)

    def train(method):
        gen = np.random.default_rng(42)
        W = init_weights(5, 4, rng=gen)
        opt = SGD(0.5, momentum=0.9)
        state = opt.init(W)
        value_and_grad = grad.get(method)(J)
        for _epoch in range(5):
            order = gen.permutation(120)
            for start in range(0, 120, 16):
                _, dW = value_and_grad(W, order[start : start + 16])
                step, state = opt.update(dW, state, W)
                W = W + step
        return W

    W_analytic, W_autodiff = train("analytic"), train("autodiff")
    assert np.abs(W_analytic - init_weights(5, 4, rng=np.random.default_rng(42))).max() > 0.1
    np.testing.assert_allclose(W_autodiff, W_analytic, rtol=0, atol=1e-10)


@pytest.mark.parametrize("loss", ["hinge", "softmax_cross_entropy", "logistic"])
def test_fit_with_gradient_autodiff_reaches_the_analytic_weights(loss):
    """``lingrad.train.fit(..., gradient=...)``, same seed: the same weights to 1e-10."""
    rng = np.random.default_rng(1)
    X, y, _ = problem(loss, np.float64, rng, N=90, D=4)
    C = 1 if loss == "logistic" else 3
    J = Objective(loss, X, y, regularizer="l2", lam=1e-2)

    def run(gradient):
        opt = SGD(0.3, momentum=0.9)
        result = fit(
            J,
            opt,
            n_columns=C,
            epochs=4,
            batch_size=10,
            rng=np.random.default_rng(7),
            gradient=gradient,
        )
        return result.W

    W_analytic, W_autodiff = run("analytic"), run("autodiff")
    assert np.abs(W_analytic).max() > 0.05  # it trained
    np.testing.assert_allclose(W_autodiff, W_analytic, rtol=0, atol=1e-10)


# ------------------------------------------------------------------------------------------
# The gradient check
# ------------------------------------------------------------------------------------------


def smooth_objective(dtype=np.float64):
    rng = np.random.default_rng(5)
    X, y, W = problem("softmax_cross_entropy", dtype, rng, N=30, D=4)
    return Objective("softmax", X, y, lam=0.1), W


@pytest.mark.parametrize(
    ("mode", "samples", "checked"), [("full", None, 15), ("sparse", 6, 6), ("direction", 4, 4)]
)
def test_gradcheck_modes_pass_a_right_gradient_and_fail_a_wrong_one(mode, samples, checked):
    J, W = smooth_objective()
    good = gradcheck(J.value_and_grad, W, mode=mode, samples=samples)
    assert good.passed and good.mode == mode and good.checked == checked
    assert good.max_rel_error < 1e-7 and good.kinks == ()

    def wrong(V):  # off by 0.1 %: a relative error of 5e-4 in every coordinate and direction
        value, dW = J.value_and_grad(V)
        return value, 1.001 * dW

    bad = gradcheck(wrong, W, mode=mode, samples=samples)
    assert not bad.passed and bad.max_rel_error == pytest.approx(5e-4, rel=1e-2)


def test_gradcheck_sparse_is_the_default_with_samples_and_keeps_its_old_fields():
    J, W = smooth_objective()
    result = gradcheck(J.value_and_grad, W, samples=5, rng=np.random.default_rng(0))
    assert result.mode == "sparse" and result.checked == 5
    assert result.tolerance == 1e-6 and result.h == pytest.approx(default_step(np.float64))
    assert result.analytic == pytest.approx(result.numerical, rel=1e-6)
    assert "pass" in str(result) and "sparse mode" in str(result)


def test_step_and_tolerance_follow_the_dtype():
    assert default_step(np.float64) == pytest.approx(np.finfo(np.float64).eps ** (1 / 3))
    assert default_step(np.float32) == pytest.approx(np.finfo(np.float32).eps ** (1 / 3))
    assert default_step(np.float64, "forward") == pytest.approx(1.49e-8, rel=1e-2)
    J, W = smooth_objective(np.float32)
    result = gradcheck(J.value_and_grad, W)
    assert result.h == pytest.approx(4.92e-3, rel=1e-2) and result.tolerance == 1e-3
    assert result.passed, str(result)
    # a float64 step is far too small for a float32 objective: the check would fail
    assert not gradcheck(J.value_and_grad, W, h=1e-7).passed


def test_gradcheck_reports_hinge_kinks():
    # example 0 has scores (1, 0) for label 0: its margin for class 1 is exactly 0, a kink
    X = np.array([[1.0, 0.0], [0.0, 1.0]])
    J = Objective("hinge", X, [0, 1], lam=0.0)
    W = np.zeros((3, 2))
    W[0, 0] = 1.0
    result = gradcheck(J.value_and_grad, W)
    assert result.passed and result.kinks  # reported, not silently failing
    assert set(result.kinks) <= {(0, 0), (0, 1), (2, 0), (2, 1)}
    assert result.kink_max_rel_error > 0.1 and "at a kink" in str(result)
    # away from the kink every coordinate is smooth again
    W[0, 0] = 1.3
    clean = gradcheck(J.value_and_grad, W)
    assert clean.passed and clean.kinks == ()


def test_gradcheck_does_not_excuse_a_wrong_gradient_at_a_kink():
    X = np.array([[1.0, 0.0], [0.0, 1.0]])
    J = Objective("hinge", X, [0, 1], lam=0.0)
    W = np.zeros((3, 2))
    W[0, 0] = 1.0

    def wrong(V):
        value, dW = J.value_and_grad(V)
        return value, dW + 3.0  # outside both one-sided slopes everywhere

    result = gradcheck(wrong, W)
    assert not result.passed and result.kinks == ()


def test_gradcheck_bad_input():
    J, W = smooth_objective()
    with pytest.raises(ValueError, match="mode: expected one of"):
        gradcheck(J.value_and_grad, W, mode="diagonal")
    with pytest.raises(ValueError, match=r"grad: expected shape \(5, 3\) like W, got shape \(3,\)"):
        gradcheck(J.value, W, np.zeros(3))
    with pytest.raises(ValueError, match="grad: expected an analytic gradient"):
        gradcheck(J.value, W)
