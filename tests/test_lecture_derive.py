"""``lingrad derive`` prints the losses as the slides write them, then SymPy's derivation in
the same notation: 1-based indices, ``max``, indicators, no line over 100 characters."""

from __future__ import annotations

import re

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


#: The slides' forms each loss's ``--latex`` prints (translated from the same table as the
#: plain text, :data:`lingrad.grad.symbolic.SLIDE_FORMS`).
SLIDE_LATEX = {
    "hinge": (
        r"L_i &= \sum_{j \ne y_i} \max(0, s_j - s_{y_i} + 1)",
        r"\frac{\partial L_i}{\partial s_j} &= \mathbb{1}[s_j - s_{y_i} + 1 > 0] \quad (j \ne y_i)",
        r"\frac{\partial L_i}{\partial s_{y_i}} &= "
        r"-\sum_{j \ne y_i} \mathbb{1}[s_j - s_{y_i} + 1 > 0]",
    ),
    "squared_hinge": (r"L_i &= \sum_{j \ne y_i} \max(0, s_j - s_{y_i} + 1)^2",),
    "crammer_singer": (
        r"L_i &= \max(0, \max_{j \ne y_i} s_j - s_{y_i} + 1) = \max_j a_j - s_{y_i},",
        r"\mathbb{1}[j = m] - \mathbb{1}[j = y_i],\quad m = \operatorname{argmax}_j a_j",
    ),
    "one_vs_all_hinge": (r"L_i &= \max(0, 1 - s_{y_i}) + \sum_{j \ne y_i} \max(0, s_j + 1)",),
    "softmax_cross_entropy": (
        r"L_i &= -\ln P(y_i) = -s_{y_i} + \ln \sum_j e^{s_j},\quad P(j) = e^{s_j} / \sum_k e^{s_k}",
        r"\frac{\partial L_i}{\partial s_j} &= P(j) - \mathbb{1}[j = y_i]",
    ),
    "kl_divergence": (
        r"L_i &= \mathrm{KL}(p \,\|\, P) = \sum_j p_j \ln(p_j / P(j))",
        r"\frac{\partial L_i}{\partial s_j} &= P(j) - p_j",
    ),
    "logistic": (
        r"\operatorname{softplus}(s_i) - y_i s_i",
        r"\frac{\partial L_i}{\partial s_i} &= \sigma(s_i) - y_i",
    ),
    "squared_error": (
        r"L_i &= (s_i - y_i)^2",
        r"\frac{\partial L_i}{\partial s_i} &= 2 (s_i - y_i)",
    ),
    "sigmoid_squared_error": (
        r"L_i &= (y_i - \sigma(s_i))^2",
        r"&= -2 (y_i - \sigma(s_i)) \sigma(s_i) (1 - \sigma(s_i))",
    ),
}


def _formulas(out: str) -> list[str]:
    """The formula lines of ``--latex`` output: ``%`` comments and the ``aligned`` markers
    left out, each row without its ``&`` and trailing ``\\``."""
    rows = []
    for line in out.splitlines():
        if not line or line.startswith("%") or line in (r"\begin{aligned}", r"\end{aligned}"):
            continue
        rows.append(line.removesuffix(r" \\").replace("&", ""))
    return rows


@pytest.mark.parametrize("name", losses.NAMES)
@pytest.mark.parametrize("columns", [None, 8])
def test_latex_prints_the_slides_notation_as_valid_tex(capsys, name, columns):
    from matplotlib.mathtext import MathTextParser

    spec = losses.spec(name)
    args = ["--loss", name, "--latex"]
    args += [] if columns is None or spec.binary_only else ["--columns", str(columns)]
    out = _derive_out(capsys, *args)
    lines = out.splitlines()
    for form in SLIDE_LATEX[name]:
        assert any(form in line for line in lines), (form, out)
    assert max(len(line) for line in lines) <= symbolic.LATEX_WIDTH
    tex = "\n".join(_formulas(out))  # the comments may name SymPy's Heaviside
    for word in ("Piecewise", "Heaviside", r"\begin{cases}", r"\theta", "s_{0}", "epsilon"):
        assert word not in tex, (word, out)
    assert out.count(r"\begin{aligned}") == out.count(r"\end{aligned}") >= 2
    assert len(re.findall(r"\\left(?![a-z])", out)) == len(re.findall(r"\\right(?![a-z])", out))
    parser = MathTextParser("path")
    for row in _formulas(out):
        depth = 0
        for ch in row.replace(r"\{", "").replace(r"\}", ""):
            depth += {"{": 1, "}": -1}.get(ch, 0)
            assert depth >= 0, row
        assert depth == 0, row
        parser.parse(f"${row}$")  # valid TeX for Matplotlib's mathtext (raises otherwise)


def test_latex_rows_are_the_plain_derivation_in_latex(capsys):
    """The LaTeX rows come from the same SymPy expressions as the plain lines: hinge's, row by
    row, and a long sum continued on ``&\\quad`` rows."""
    out = _derive_out(capsys, "--loss", "hinge", "--latex")
    assert r"L_i &= \max(0, s_{2} - s_{1} + 1) + \max(0, s_{3} - s_{1} + 1) \\" in out
    assert (
        r"\frac{\partial L_i}{\partial s_{1}} &= -\mathbb{1}[s_{2} - s_{1} + 1 > 0] "
        r"- \mathbb{1}[s_{3} - s_{1} + 1 > 0] \\"
    ) in out
    assert r"\frac{\partial L_i}{\partial s_{3}} &= \mathbb{1}[s_{3} - s_{1} + 1 > 0]" in out
    out = _derive_out(capsys, "--loss", "hinge", "--latex", "--columns", "20")
    assert r"&\quad + \max(0, s_{" in out
    d = derive("crammer_singer", 3)
    L, grads = d.instance()
    assert symbolic.slide_latex(L) == r"\max(s_{1}, s_{2} + 1, s_{3} + 1) - s_{1}"
    assert symbolic.slide_latex(grads[1]) == r"H(s_{2} - \max(s_{1}, s_{3} + 1) + 1)"
    assert "H(0) = 1/2" in _derive_out(capsys, "--loss", "crammer_singer", "--latex")
    out = _derive_out(capsys, "--loss", "softmax", "--latex", "--label-smoothing", "0.1")
    assert r"q_j = (1 - \epsilon) \mathbb{1}[j = y_i] + \epsilon / C" in out
