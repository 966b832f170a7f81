"""SymPy derivations: the slides' update rules, and derivatives equal to the analytic kernels."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from lingrad import losses
from lingrad.grad import symbolic
from lingrad.grad.symbolic import derive, sigma, update_rule


@pytest.mark.parametrize("unit", ["linear", "sigmoid"])
@pytest.mark.parametrize(("n_examples", "n_features", "j"), [(3, 2, 0), (2, 3, 2)])
def test_the_slides_update_rules(unit, n_examples, n_features, j):
    rule = update_rule(unit, n_examples=n_examples, n_features=n_features, j=j)
    assert rule.difference == 0 and rule.agrees
    assert sp.simplify(rule.derived - rule.slide) == 0
    # and the check can fail: a rule without the factor 2 is not the gradient step
    alpha = sp.Symbol("alpha", positive=True)
    half = rule.weight + (rule.slide - rule.weight) / 2
    wrong = rule.weight - alpha * rule.derivative - half
    point = {s: sp.Rational(k + 1, 3) for k, s in enumerate(sorted(wrong.free_symbols, key=str))}
    assert wrong.subs(point).evalf() != 0
    text = rule.text()
    assert "w_j <- w_j + 2*alpha*sum_{i=1}^{N} " in text and "x_ij" in text
    assert ("sigma_i" in text) == (unit == "sigmoid")
    assert f"j = {j + 1}): simplify((w_{j + 1} - alpha*dL/dw_{j + 1}) - rule) = 0" in text
    assert f"N = {n_examples} examples" in text
    # the slides' sum against training's mean, said where the rule is printed
    assert "no 1/N" in text and "N times" in text
    assert all(len(line) <= symbolic.WIDTH for line in text.splitlines())
    assert "\\sum_{i=1}^{N}" in rule.latex()


def test_sigmoid_derivative_is_sigma_times_one_minus_sigma():
    assert symbolic.sigmoid_derivative_check() == 0
    x = sp.Symbol("x", real=True)
    assert sp.diff(sigma(x), x) == sigma(x) * (1 - sigma(x))


def test_softmax_cross_entropy_derivative_is_p_minus_q():
    d = derive("softmax", 3)
    s = d.scores
    eps = d.params["label_smoothing"]
    p = [sp.exp(sk) / sum(sp.exp(sj) for sj in s) for sk in s]
    for k in range(3):
        q = (1 - eps) * d.targets[k] + eps / 3
        assert sp.simplify(d.gradient[k] - (p[k] - q)) == 0


def targets_for(name, N, C, rng):
    if name == "kl_divergence":
        return rng.dirichlet(np.ones(C), N)
    if name == "logistic":
        return rng.integers(0, 2, N)
    if name == "squared_error":
        return rng.standard_normal((N, C))
    return rng.integers(0, C, N)


@pytest.mark.parametrize("C", [None, 4])
@pytest.mark.parametrize("name", losses.NAMES)
def test_sympy_derivatives_equal_the_analytic_kernels(name, C):
    spec = losses.spec(name)
    if C is not None and (spec.binary_only or spec.task == "regression"):
        C = 2 if spec.task == "regression" else None
    d = derive(name, C)
    C = d.n_columns
    rng = np.random.default_rng(C)
    S = 3 * rng.standard_normal((40, C))
    T = spec.prepare(targets_for(name, 40, C, rng), 40, C, S.dtype)
    params = {"margin": 0.8, "label_smoothing": 0.15}
    used = {k: v for k, v in params.items() if k in d.params}
    want_losses, want_dS = spec.kernel(S, T, **used)
    got_losses, got_dS = d.evaluate(S, T, **used)
    np.testing.assert_allclose(got_losses, want_losses, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got_dS, want_dS, rtol=1e-12, atol=1e-12)


def test_the_generated_code_is_stable_for_large_scores():
    S = np.array([[1e3, 1e3 - 1.0, -1e3], [-800.0, 0.0, 800.0]])
    y = np.array([0, 2])
    for name in ("softmax_cross_entropy", "kl_divergence", "sigmoid_squared_error"):
        spec = losses.spec(name)
        T = spec.prepare(np.eye(3)[y] if name == "kl_divergence" else y, 2, 3, S.dtype)
        got, dS = derive(name, 3).evaluate(S, T)
        want, want_dS = spec.kernel(S, T)
        np.testing.assert_allclose(got, want, rtol=1e-12)
        np.testing.assert_allclose(dS, want_dS, rtol=1e-12, atol=1e-300)
    z = np.array([[-1e3], [1e3]])
    got, dS = derive("logistic", 1).evaluate(z, np.array([[1.0], [0.0]]))
    np.testing.assert_allclose(dS, [[-1.0], [1.0]])
    np.testing.assert_allclose(got, [1e3, 1e3])


def test_hinge_kinks_get_the_analytic_subgradient():
    S = np.array([[1.0, 0.0, -5.0]])  # margin of class 1 against label 0 is exactly 0
    T = np.array([0])
    _, dS = derive("hinge", 3).evaluate(S, T)
    np.testing.assert_array_equal(dS, losses.spec("hinge").kernel(S, T)[1])


@pytest.mark.parametrize("name", ["sigmoid_squared_error", "softmax", "squared_error"])
def test_weight_gradient_is_the_chain_rule_through_the_linear_model(name):
    d = derive(name, 1 if name != "softmax" else 3)
    direct, chain = d.weight_gradient(n_features=2)
    assert direct.shape == (3, d.n_columns)
    assert (direct - chain).applyfunc(sp.simplify) == sp.zeros(*direct.shape)


def test_weight_gradient_of_the_hinge_at_random_points():
    d = derive("hinge", 3)
    direct, chain = d.weight_gradient(n_features=2)
    rng = np.random.default_rng(0)
    symbols = sorted(direct.free_symbols | chain.free_symbols, key=str)
    for _ in range(5):
        values = {s: sp.Rational(int(rng.integers(-50, 50)), 7) for s in symbols}
        values.update({t: int(k == 1) for k, t in enumerate(d.targets)})
        values[d.params["margin"]] = 1
        assert (direct - chain).subs(values) == sp.zeros(3, 3)


def test_latex_and_text():
    d = derive("sigmoid_squared_error", 1)
    assert "\\frac{\\partial L_i}{\\partial s_{i}}" in d.latex()
    assert "\\sigma" in d.latex() or "sigma" in d.latex()
    lines = d.text().splitlines()
    assert lines[1] == "  L_i = (y_i - sigma(s_i))^2   (C columns: the sum of C such terms)"
    assert "  L_i = (y_i - sigma(s_i))^2" in lines


def test_derive_bad_input():
    with pytest.raises(ValueError, match="n_columns: expected 1 for the binary loss logistic"):
        derive("logistic", 3)
    with pytest.raises(ValueError, match="n_columns: expected at least 2"):
        derive("hinge", 1)
    with pytest.raises(ValueError, match="loss: expected one of"):
        derive("cubic")
    with pytest.raises(ValueError, match="unit: expected 'linear' or 'sigmoid', got 'relu'"):
        update_rule("relu")
