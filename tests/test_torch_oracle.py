"""PyTorch as an independent oracle: same losses, values and gradients via autograd (float64)."""

import numpy as np
import pytest
from conftest import require

from lingrad import losses


@pytest.fixture(scope="module")
def torch():
    return require("torch")


def batch(seed, N=25, C=6):
    rng = np.random.default_rng(seed)
    return rng.normal(scale=3, size=(N, C)), rng.integers(0, C, N)


def torch_value_and_grad(torch, fn, S, *args):
    St = torch.tensor(S, dtype=torch.float64, requires_grad=True)
    value = fn(St, *args)
    value.backward()
    return value.item(), St.grad.numpy()


@pytest.mark.parametrize("smoothing", [0.0, 0.1, 0.5])
def test_cross_entropy(torch, smoothing):
    S, y = batch(1)
    F = torch.nn.functional
    want = torch_value_and_grad(
        torch, lambda St: F.cross_entropy(St, torch.tensor(y), label_smoothing=smoothing), S
    )
    got = losses.softmax_cross_entropy(S, y, label_smoothing=smoothing)
    assert got[0] == pytest.approx(want[0], rel=1e-12)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("margin", [1.0, 0.5])
@pytest.mark.parametrize(("p", "loss"), [(1, losses.hinge), (2, losses.squared_hinge)])
def test_multi_margin_times_C_is_weston_watkins(torch, margin, p, loss):
    # PyTorch sums max(0, margin - s_y + s_j)^p over j != y and divides by C
    S, y = batch(2)
    C = S.shape[1]
    F = torch.nn.functional
    want = torch_value_and_grad(
        torch, lambda St: C * F.multi_margin_loss(St, torch.tensor(y), p=p, margin=margin), S
    )
    got = loss(S, y, margin=margin)
    assert got[0] == pytest.approx(want[0], rel=1e-12)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-10, atol=1e-14)


def test_binary_cross_entropy_with_logits(torch):
    s = np.random.default_rng(3).normal(scale=4, size=30)
    t = (np.random.default_rng(4).random(30) > 0.4).astype(float)
    F = torch.nn.functional
    want = torch_value_and_grad(
        torch, lambda St: F.binary_cross_entropy_with_logits(St, torch.tensor(t)), s
    )
    got = losses.logistic(s, t)
    assert got[0] == pytest.approx(want[0], rel=1e-12)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-10, atol=1e-15)


def test_mse(torch):
    s, Y = np.random.default_rng(5).normal(size=(2, 40))
    F = torch.nn.functional
    want = torch_value_and_grad(torch, lambda St: F.mse_loss(St, torch.tensor(Y)), s)
    got = losses.squared_error(s, Y)  # one output: mean over N equals PyTorch's mean
    assert got[0] == pytest.approx(want[0], rel=1e-12)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-10)


def test_kl_div(torch):
    S, _ = batch(6)
    P = np.random.default_rng(7).dirichlet(np.ones(S.shape[1]), size=S.shape[0])
    F = torch.nn.functional
    want = torch_value_and_grad(
        torch,
        lambda St: F.kl_div(F.log_softmax(St, 1), torch.tensor(P), reduction="batchmean"),
        S,
    )
    got = losses.kl_divergence(S, P)
    assert got[0] == pytest.approx(want[0], rel=1e-12)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-10, atol=1e-15)


def test_sigmoid_squared_error(torch):
    s = np.random.default_rng(8).normal(scale=2, size=30)
    t = (np.random.default_rng(9).random(30) > 0.5).astype(float)
    want = torch_value_and_grad(
        torch, lambda St: ((torch.tensor(t) - torch.sigmoid(St)) ** 2).mean(), s
    )
    got = losses.sigmoid_squared_error(s, t)
    assert got[0] == pytest.approx(want[0], rel=1e-12)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-10)


def test_objective_gradient_through_a_linear_layer(torch):
    """The whole chain: scores through nn.functional.linear, loss, L2 on the weights only."""
    from lingrad.objective import Objective

    rng = np.random.default_rng(10)
    X, y, W = rng.normal(size=(50, 7)), rng.integers(0, 4, 50), rng.normal(size=(8, 4))
    lam = 0.3
    Wt = torch.tensor(W, requires_grad=True)
    S = torch.tensor(X) @ Wt[:-1] + Wt[-1]
    value = torch.nn.functional.cross_entropy(S, torch.tensor(y)) + lam * 0.5 * (Wt[:-1] ** 2).sum()
    value.backward()
    got = Objective("softmax", X, y, lam=lam).value_and_grad(W)
    assert got[0] == pytest.approx(value.item(), rel=1e-12)
    np.testing.assert_allclose(got[1], Wt.grad.numpy(), rtol=1e-10)
