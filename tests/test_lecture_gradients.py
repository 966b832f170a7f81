"""What the README says about the four gradient methods: < 1e-7 apart where the loss is
differentiable; at a kink each gives a valid subgradient, not always the same one."""

from __future__ import annotations

import numpy as np
import pytest

import lingrad
from lingrad import losses
from lingrad.objective import Objective

METHODS = ("analytic", "autodiff", "symbolic", "numerical")


def _gradients(loss: str, S: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """dL/dS of the mean loss at scores ``S`` through each method: X = I, W = [S; 0]."""
    N, C = S.shape
    J = Objective(loss, np.eye(N), y, regularizer="none")
    W = np.vstack([S, np.zeros((1, C))])
    return {m: lingrad.grad.get(m)(J)(W)[1][:N] * N for m in METHODS}


def _is_subgradient(loss: str, s: np.ndarray, y: int, g: np.ndarray, rng) -> bool:
    """L(s') >= L(s) + g . (s' - s) for many s' near and far (L is convex in s)."""
    spec = losses.spec(loss)

    def L(v):
        return spec.kernel(v[None, :], spec.prepare(np.array([y]), 1, len(v), float))[0][0]

    for scale in (1e-3, 1e-1, 3.0):
        for _ in range(200):
            t = s + scale * rng.standard_normal(s.shape)
            if L(t) < L(s) + g @ (t - s) - 1e-12:
                return False
    return True


@pytest.mark.parametrize("loss", ["hinge", "crammer_singer", "softmax", "squared_hinge"])
def test_away_from_kinks_the_methods_agree(loss):
    rng = np.random.default_rng(7)
    S, y = 3 * rng.standard_normal((12, 4)), rng.integers(0, 4, 12)
    grads = _gradients(loss, S, y)
    a = grads["analytic"]
    for m, bound in (("autodiff", 1e-7), ("symbolic", 1e-7), ("numerical", 1e-6)):
        err = np.max(lingrad.grad.relative_error(grads[m], a, floor=1e-9 * np.abs(a).max()))
        assert err < bound, (m, err)


def test_at_a_hinge_kink_centred_differences_average_the_slopes():
    S, y = np.array([[1.0, 0.0, -5.0]]), np.array([0])  # class 2's margin is exactly 0
    g = _gradients("hinge", S, y)
    for m in ("analytic", "autodiff", "symbolic"):
        np.testing.assert_allclose(g[m][0], [0.0, 0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(g["numerical"][0], [-0.5, 0.5, 0.0], atol=1e-6)
    rng = np.random.default_rng(0)
    assert all(_is_subgradient("hinge", S[0], 0, g[m][0], rng) for m in METHODS)


def test_at_a_crammer_singer_tie_sympy_splits_where_the_analytic_gradient_picks_one():
    S, y = np.array([[0.0, 2.0, 2.0]]), np.array([0])  # classes 2 and 3 tie for the max
    g = _gradients("crammer_singer", S, y)
    np.testing.assert_allclose(g["analytic"][0], [-1.0, 1.0, 0.0])
    np.testing.assert_allclose(g["autodiff"][0], [-1.0, 1.0, 0.0])
    np.testing.assert_allclose(g["symbolic"][0], [-1.0, 0.5, 0.5])  # Heaviside(0) = 1/2
    np.testing.assert_allclose(g["numerical"][0], [-1.0, 0.5, 0.5], atol=1e-6)
    rng = np.random.default_rng(1)
    assert all(_is_subgradient("crammer_singer", S[0], 0, g[m][0], rng) for m in METHODS)
    # and the check can fail: a vector that is no subgradient is refused
    assert not _is_subgradient("crammer_singer", S[0], 0, np.array([-1.0, 1.0, 1.0]), rng)
