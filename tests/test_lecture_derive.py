"""``lingrad derive`` prints the losses as the slides write them, then SymPy's derivation in
the same notation: 1-based indices, ``max``, indicators, no line over 100 characters."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from lingrad import losses
from lingrad.cli import main
from lingrad.grad import symbolic
from lingrad.grad.symbolic import derive, slide_str


def _derive_out(capsys, *args: str) -> str:
    assert main(["derive", *args]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("name", losses.NAMES)
@pytest.mark.parametrize("columns", [None, 6])
def test_no_wall_of_piecewise_and_no_long_line(capsys, name, columns):
    spec = losses.spec(name)
    args = ["--loss", name] + ([] if columns is None or spec.binary_only else ["--columns", "6"])
    out = _derive_out(capsys, *args)
    assert max(len(line) for line in out.splitlines()) <= 100, out
    for word in ("Piecewise", "Heaviside(", "t_0", "t_1", "s_0", "**", "epsilon", "Delta"):
        assert word not in out, (word, out)


def test_hinge_prints_the_slide_then_the_derivative_in_its_notation(capsys):
    out = _derive_out(capsys, "--loss", "hinge")
    lines = out.splitlines()
    assert "  L_i = sum_{j != y_i} max(0, s_j - s_{y_i} + 1)" in lines
    assert "  dL_i/ds_j = 1[s_j - s_{y_i} + 1 > 0]   (j != y_i)" in lines
    assert "  dL_i/ds_{y_i} = -sum_{j != y_i} 1[s_j - s_{y_i} + 1 > 0]" in lines
    assert "SymPy's derivation for C = 3 classes, true class y_i = 1:" in lines
    assert "  L_i = max(0, s_2 - s_1 + 1) + max(0, s_3 - s_1 + 1)" in lines
    assert "  dL_i/ds_1 = -1[s_2 - s_1 + 1 > 0] - 1[s_3 - s_1 + 1 > 0]" in lines
    assert "  dL_i/ds_2 = 1[s_2 - s_1 + 1 > 0]" in lines
    assert "indices 1-based" in out
    # the mean that training uses, next to the per-example derivative
    assert "w_dj <- w_dj - alpha * (1/N) sum_{i=1}^{N} dL_i/ds_j * x_id" in out
    assert "0.5" in _derive_out(capsys, "--loss", "hinge", "--margin", "0.5")


def test_crammer_singer_and_its_tie_rule(capsys):
    out = _derive_out(capsys, "--loss", "crammer_singer")
    assert "  L_i = max(0, max_{j != y_i} s_j - s_{y_i} + 1) = max_j a_j - s_{y_i}," in out
    assert "  L_i = max(s_1, s_2 + 1, s_3 + 1) - s_1" in out
    assert "  dL_i/ds_2 = H(s_2 - max(s_1, s_3 + 1) + 1)" in out
    assert "H(0) = 1/2" in out


def test_softmax_has_no_epsilon_unless_asked(capsys):
    out = _derive_out(capsys, "--loss", "softmax")
    assert "  L_i = -ln P(y_i) = -s_{y_i} + ln sum_j e^s_j,  P(j) = e^s_j / sum_k e^s_k" in out
    assert "  dL_i/ds_1 = e^s_1/(e^s_1 + e^s_2 + e^s_3) - 1" in out
    assert "epsilon" not in out
    out = _derive_out(capsys, "--loss", "softmax", "--label-smoothing", "0.1")
    assert "q_j = (1 - epsilon) 1[j = y_i] + epsilon / C" in out
    assert "label smoothing epsilon = 0.1" in out
    assert main(["derive", "--loss", "hinge", "--label-smoothing", "0.1"]) == 2
    assert "--label-smoothing: expected the softmax loss" in capsys.readouterr().err
    assert main(["derive", "--loss", "hinge", "--margin", "-1"]) == 2
    assert "--margin: expected a number > 0" in capsys.readouterr().err


def test_the_printed_instance_is_sympys_derivative():
    """The printed ``max``/``1[...]`` forms are SymPy's expressions, evaluated: each printed
    line, parsed back, equals the derivation at random points (and the hinge kernel)."""
    d = derive("hinge", 3)
    L, grads = d.instance()
    rng = np.random.default_rng(0)
    for _ in range(20):
        S = rng.normal(scale=2, size=3)
        point = dict(zip(d.scores, S, strict=True))
        for expr in (L, *grads):
            text = slide_str(expr)
            parsed = text.replace("max(0, ", "Max(0, ").replace("^", "**")
            parsed = _indicators(parsed)
            value = sp.sympify(parsed, locals={str(s): s for s in d.scores}).subs(point)
            assert float(value) == pytest.approx(float(expr.subs(point)))
        want, dS = losses.spec("hinge").kernel(S[None], np.array([0]))
        assert float(L.subs(point)) == pytest.approx(want[0])
        assert [float(g.subs(point)) for g in grads] == pytest.approx(dS[0])


def _indicators(text: str) -> str:
    """``1[m > 0]`` -> ``Heaviside(m, 0)``, with a sign before it kept."""
    out, k = "", 0
    while (start := text.find("1[", k)) >= 0:
        end = text.index(" > 0]", start)
        out += text[k:start] + f"Heaviside({text[start + 2 : end]}, 0)"
        k = end + len(" > 0]")
    return out + text[k:]


def test_slide_str_orders_terms_as_the_slides():
    s1, s2, s10 = sp.symbols("s_1 s_2 s_10", real=True)
    assert slide_str(s10 - s1 + 1) == "s_10 - s_1 + 1"
    assert slide_str(1 - s1) == "1 - s_1"
    assert slide_str(sp.exp(s1) + sp.exp(s2) + sp.exp(s10)) == "e^s_1 + e^s_2 + e^s_10"
    assert symbolic.wrap("x = ", "a + b", width=100) == ["x = a + b"]
