"""Hessian-vector products (lingrad.curvature, Objective.hessian) against two oracles: a
centred finite difference of the analytic gradient and PyTorch's double backward."""

import numpy as np
import pytest
from conftest import require

from lingrad import curvature, regularizers
from lingrad.objective import Objective

N, D = 37, 5

# (loss, C, loss params): every loss with a curvature, multi-class and one-column forms
CASES = [
    ("softmax_cross_entropy", 4, {}),
    ("softmax_cross_entropy", 3, {"label_smoothing": 0.2}),
    ("kl_divergence", 4, {}),
    ("logistic", 1, {}),
    ("squared_error", 1, {}),
    ("squared_error", 3, {}),
    ("sigmoid_squared_error", 1, {}),
    ("sigmoid_squared_error", 3, {}),
    ("squared_hinge", 4, {}),
    ("squared_hinge", 3, {"margin": 0.5}),
]
IDS = [f"{loss}-C{C}-{''.join(params)}" for loss, C, params in CASES]
CONVEX = [case for case in CASES if case[0] != "sigmoid_squared_error"]


def targets(loss, C, rng, n=N):
    if loss in ("softmax_cross_entropy", "squared_hinge"):
        return rng.integers(0, C, n)
    if loss == "kl_divergence":
        P = rng.random((n, C)) + 0.05
        return P / P.sum(axis=1, keepdims=True)
    if loss == "squared_error":
        return rng.normal(size=(n, C)) if C > 1 else rng.normal(size=n)
    if loss == "sigmoid_squared_error" and C > 1:
        return rng.integers(0, C, n)
    return rng.integers(0, 2, n).astype(float)


def problem(loss, C, params, seed=0, **kwargs):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, D))
    J = Objective(loss, X, targets(loss, C, rng), **params, **kwargs)
    W = rng.normal(scale=0.7, size=(D + 1, C))
    return J, J.check_weights(W), rng


def finite_difference_hv(J, W, V, eps=1e-5):
    plus = J.value_and_grad(W + eps * V)[1]
    minus = J.value_and_grad(W - eps * V)[1]
    return (plus - minus) / (2 * eps)


def rel_error(a, b):
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-300))


@pytest.mark.parametrize(("loss", "C", "params"), CASES, ids=IDS)
@pytest.mark.parametrize("weighted", [False, True])
def test_hv_matches_finite_difference(loss, C, params, weighted):
    rng = np.random.default_rng(5)
    w = rng.random(N) * 2 if weighted else None
    J, W, rng = problem(loss, C, params, lam=0.3, sample_weight=w)
    H = J.hessian(W)
    for _ in range(3):
        V = rng.normal(size=W.shape)
        assert rel_error(H(V), finite_difference_hv(J, W, V)) < 1e-6


# ---- PyTorch's double backward ----------------------------------------------------------------


def torch_losses(torch, loss, S, T, params):
    """Per-example losses L_i (N,) in torch, written from the formulas independently."""
    F = torch.nn.functional
    if loss == "softmax_cross_entropy":
        return F.cross_entropy(
            S, T, reduction="none", label_smoothing=params.get("label_smoothing", 0.0)
        )
    if loss == "kl_divergence":
        return (T * (torch.log(T) - F.log_softmax(S, dim=1))).sum(1)
    if loss == "logistic":
        return F.binary_cross_entropy_with_logits(S, T, reduction="none").sum(1)
    if loss == "squared_error":
        return ((S - T) ** 2).sum(1)
    if loss == "sigmoid_squared_error":
        return ((T - torch.sigmoid(S)) ** 2).sum(1)
    assert loss == "squared_hinge"
    margins = S - S.gather(1, T[:, None]) + params.get("margin", 1.0)
    margins = margins.scatter(1, T[:, None], 0.0)
    return (F.relu(margins) ** 2).sum(1)


def torch_targets(torch, J, C):
    T = J.targets(C)
    if J.loss_spec.name == "sigmoid_squared_error" and T.ndim == 1:
        T = T[:, None]
    return torch.tensor(T)


def torch_objective(torch, J, C, params, weights=None):
    X, T = torch.tensor(J.X), torch_targets(torch, J, C)
    reg = J.regularizer
    lam = J.lam

    def objective(W):
        S = X @ W[:-1] + W[-1]
        L = torch_losses(torch, J.loss_spec.name, S, T, params)
        mean = L.mean() if weights is None else (L * weights).sum() / weights.sum()
        part = W if reg.include_bias else W[:-1]
        penalty = 0.0 if reg.name == "none" else 0.5 * (1 - reg.l1_ratio) * (part**2).sum()
        return mean + lam * penalty

    return objective


@pytest.mark.parametrize(("loss", "C", "params"), CASES, ids=IDS)
@pytest.mark.parametrize(
    ("regularizer", "weighted"),
    [("l2", False), ("none", True), (regularizers.l2(include_bias=True), True)],
    ids=["l2", "none-weighted", "l2-bias-weighted"],
)
def test_hv_matches_torch_double_backward(loss, C, params, regularizer, weighted):
    torch = require("torch")
    rng = np.random.default_rng(11)
    w = rng.random(N) * 3 if weighted else None
    J, W, rng = problem(loss, C, params, lam=0.2, regularizer=regularizer, sample_weight=w)
    fn = torch_objective(torch, J, C, params, None if w is None else torch.tensor(w))
    H = J.hessian(W)
    for _ in range(2):
        V = rng.normal(size=W.shape)
        _, want = torch.autograd.functional.hvp(fn, torch.tensor(W), torch.tensor(V))
        np.testing.assert_allclose(H(V), want.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(("loss", "C", "params"), CASES, ids=IDS)
def test_score_space_hvp_matches_torch_per_example_hessian(loss, C, params):
    torch = require("torch")
    J, W, rng = problem(loss, C, params)
    S = J.X @ W[:-1] + W[-1]
    dS = rng.normal(size=S.shape)
    got = curvature.hvp(loss, S, J.y, dS, **params)
    T = torch_targets(torch, J, C)
    for i in range(0, N, 6):  # the full C x C Hessian of L_i, one example at a time

        def L_i(s, i=i):
            return torch_losses(torch, loss, s[None], T[i : i + 1], params)[0]

        H_i = torch.autograd.functional.hessian(L_i, torch.tensor(S[i])).numpy()
        np.testing.assert_allclose(got[i], H_i @ dS[i], rtol=1e-10, atol=1e-12)


# ---- structure: regulariser, weights, blocks, symmetry, definiteness --------------------------


@pytest.mark.parametrize("include_bias", [False, True])
def test_l2_adds_lam_v_outside_the_bias_row(include_bias):
    J0, W, rng = problem("softmax_cross_entropy", 3, {}, regularizer="none", lam=0.5)
    reg = regularizers.l2(include_bias=include_bias)
    J2, _, _ = problem("softmax_cross_entropy", 3, {}, regularizer=reg, lam=0.5)
    V = rng.normal(size=W.shape)
    diff = J2.hessian(W)(V) - J0.hessian(W)(V)
    want = 0.5 * V
    if not include_bias:
        want[-1] = 0.0
    np.testing.assert_allclose(diff, want, rtol=1e-12, atol=1e-14)


def test_elastic_net_keeps_the_l2_part_only():
    J0, W, rng = problem("logistic", 1, {}, regularizer="none")
    Je, _, _ = problem("logistic", 1, {}, regularizer=regularizers.elastic_net(0.25), lam=0.4)
    V = rng.normal(size=W.shape)
    want = 0.4 * 0.75 * V
    want[-1] = 0.0
    np.testing.assert_allclose(Je.hessian(W)(V) - J0.hessian(W)(V), want, rtol=1e-12)


def test_integer_sample_weights_equal_repeated_rows():
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(N, D)), rng.integers(0, 3, N)
    counts = rng.integers(1, 4, N)
    Jw = Objective("softmax", X, y, lam=0.1, sample_weight=counts)
    Jr = Objective("softmax", np.repeat(X, counts, axis=0), np.repeat(y, counts), lam=0.1)
    W, V = rng.normal(size=(D + 1, 3)), rng.normal(size=(D + 1, 3))
    np.testing.assert_allclose(Jw.hessian(W)(V), Jr.hessian(W)(V), rtol=1e-12)


@pytest.mark.parametrize(("loss", "C", "params"), CASES, ids=IDS)
def test_row_blocks_do_not_change_the_product(loss, C, params):
    J, W, rng = problem(loss, C, params, lam=0.1)
    Jb, _, _ = problem(loss, C, params, lam=0.1, block_rows=8)
    V = rng.normal(size=W.shape)
    Hb = Jb.hessian(W)
    assert len(Hb.caches) == 5  # 37 rows in blocks of 8
    np.testing.assert_allclose(Hb(V), J.hessian(W)(V), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(("loss", "C", "params"), CASES, ids=IDS)
def test_symmetric(loss, C, params):
    J, W, rng = problem(loss, C, params, lam=0.05)
    H = J.hessian(W)
    for _ in range(3):
        u, v = rng.normal(size=W.shape), rng.normal(size=W.shape)
        a, b = float(np.vdot(u, H(v))), float(np.vdot(v, H(u)))
        assert a == pytest.approx(b, rel=1e-12, abs=1e-14)


def dense(H, shape):
    """The full P x P matrix of the operator, one column per unit vector."""
    P = int(np.prod(shape))
    return np.stack([H(np.eye(P)[k].reshape(shape)).ravel() for k in range(P)], axis=1)


@pytest.mark.parametrize(("loss", "C", "params"), CONVEX, ids=[IDS[CASES.index(c)] for c in CONVEX])
def test_positive_semidefinite_for_convex_losses(loss, C, params):
    for seed in range(3):
        J, W, _ = problem(loss, C, params, seed=seed, regularizer="none")
        W = W * 3.0  # large scores: probabilities near 0/1, many active hinge terms
        M = dense(J.hessian(W), W.shape)
        assert np.linalg.eigvalsh(0.5 * (M + M.T)).min() >= -1e-12


def test_sigmoid_squared_error_has_negative_curvature():
    # saturated wrong predictions: sigma(s) ~ 1 with target 0 curves down (the loss flattens)
    X = np.array([[1.0], [2.0], [3.0]])
    J = Objective("sigmoid_squared_error", X, [0.0, 0.0, 0.0], regularizer="none")
    W = np.array([[2.0], [0.0]])
    M = dense(J.hessian(W), W.shape)
    assert np.linalg.eigvalsh(M).min() < -1e-3
    assert not curvature.get("sigmoid_squared_error").convex


def test_float32_stays_float32():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, D)).astype(np.float32)
    J = Objective("softmax", X, rng.integers(0, 3, N), lam=0.1)
    H = J.hessian(np.zeros((D + 1, 3)))
    HV = H(rng.normal(size=(D + 1, 3)))
    assert HV.dtype == np.float32 and H.calls == 1


@pytest.mark.parametrize("loss", ["hinge", "crammer_singer", "one_vs_all_hinge"])
def test_piecewise_linear_losses_are_refused(loss):
    with pytest.raises(ValueError, match=f"got '{loss}'.*piecewise linear"):
        curvature.get(loss)
    J = Objective(loss, np.eye(3), [0, 1, 2])
    with pytest.raises(ValueError, match=f"'{loss}'"):
        J.hessian(np.zeros((4, 3)))


def test_aliases_and_bad_direction():
    assert curvature.get("softmax") is curvature.get("softmax_cross_entropy")
    assert curvature.get("mse").name == "squared_error"
    with pytest.raises(ValueError, match="dS: expected a direction of shape"):
        curvature.hvp("softmax", np.zeros((2, 3)), [0, 1], np.zeros((2, 2)))


def test_compiled_skinny_products_give_the_blas_product():
    from lingrad import _skinny

    rng = np.random.default_rng(3)
    X = rng.normal(size=(2**16, 64)).astype(np.float32)  # 2^22 elements: the compiled path
    y = rng.integers(0, 5, X.shape[0])
    J, blas = Objective("softmax", X, y, lam=0.1), Objective("softmax", X, y, lam=0.1)
    blas._compiled = False
    W, V = rng.normal(size=(65, 5)) * 0.1, rng.normal(size=(65, 5))
    H = J.hessian(W)
    assert H.skinny == _skinny.AVAILABLE and not blas.hessian(W).skinny
    np.testing.assert_allclose(H(V), blas.hessian(W)(V), rtol=2e-4, atol=1e-5)
