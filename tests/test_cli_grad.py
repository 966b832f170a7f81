"""``lingrad gradcheck`` and ``lingrad derive``."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lingrad import grad
from lingrad.cli import main


def table(capsys):
    out = capsys.readouterr().out
    rows = {}
    for line in out.splitlines():
        parts = line.split()
        if parts and parts[0] in ("analytic", "autodiff", "symbolic"):
            rows[parts[0]] = parts
    return out, rows


def test_gradcheck_table_for_one_method(capsys):
    assert (
        main(["gradcheck", "--loss", "hinge", "--regularizer", "l2", "--gradient", "autodiff"]) == 0
    )
    out, rows = table(capsys)
    assert "hinge + l2" in out and list(rows) == ["autodiff"]
    assert float(rows["autodiff"][1]) < 1e-6 and rows["autodiff"][4] == "pass"


@pytest.mark.parametrize(
    "extra",
    [
        ["--loss", "softmax", "--regularizer", "elastic_net"],
        ["--loss", "logistic", "--regularizer", "l1", "--mode", "direction", "--samples", "4"],
        ["--loss", "sigmoid_squared_error", "--dtype", "float32", "--mode", "sparse"],
        ["--loss", "kl", "--dataset", "digits", "--mode", "sparse", "--samples", "5"],
    ],
    ids=["softmax", "logistic-direction", "float32-sparse", "kl-digits"],
)
def test_gradcheck_table_for_every_method(capsys, extra):
    assert main(["gradcheck", *extra]) == 0
    out, rows = table(capsys)
    assert set(rows) == {"analytic", "autodiff", "symbolic"}
    for parts in rows.values():
        assert parts[4] == "pass", out


def kink_everywhere(w):
    """|w| with the subgradient that picks the right-hand slope: at w = 0 every coordinate
    sits at the kink (one-sided slopes -1 and 1, central difference 0, analytic 1)."""
    return float(np.abs(w).sum()), np.where(w >= 0, 1.0, -1.0)


def test_gradcheck_with_every_coordinate_at_a_kink_says_nothing_was_compared():
    result = grad.gradcheck(kink_everywhere, np.zeros(3))
    assert result.checked == 3 and len(result.kinks) == 3 and result.compared == 0
    assert math.isnan(result.max_rel_error) and result.verdict == "nothing smooth compared"
    text = str(result)
    assert "nothing smooth was compared" in text and "0.000e+00" not in text
    assert "pass" not in text.split(";")[0]
    smooth = grad.gradcheck(kink_everywhere, np.array([0.0, 1.0, -2.0]))  # two smooth ones
    assert smooth.compared == 2 and smooth.verdict == "pass" and smooth.max_rel_error < 1e-9
    assert "2 smooth of 3 coordinates" in str(smooth)


def test_gradcheck_cli_prints_nothing_compared_for_an_all_kink_result(capsys, monkeypatch):
    at_kinks = grad.gradcheck(kink_everywhere, np.zeros(3))
    monkeypatch.setattr(grad, "gradcheck", lambda *a, **k: at_kinks)
    assert main(["gradcheck", "--gradient", "analytic"]) == 0
    out, rows = table(capsys)
    assert rows["analytic"][1] == "n/a" and "nothing smooth compared: all 3 at a kink" in out
    assert "pass" not in out and "0.000e+00" not in out


def test_gradcheck_bad_input(capsys):
    assert main(["gradcheck", "--loss", "cubic"]) == 2
    assert "lingrad: error: loss: expected one of" in capsys.readouterr().err
    assert main(["gradcheck", "--loss", "hinge", "--classes", "1"]) == 2
    assert "--classes: expected at least 2 for hinge, got 1" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["gradcheck", "--gradient", "numerical"])  # the reference is not a candidate


def test_derive_sigmoid_unit_prints_the_slide_rule(capsys):
    assert main(["derive", "--loss", "sigmoid_squared_error"]) == 0
    out = capsys.readouterr().out
    assert "L_i = (y_i - sigma(s_i))^2" in out
    assert "dL_i/ds_i = -2*(1 - sigma(s_i))*(y_i - sigma(s_i))*sigma(s_i)" in out
    assert "w_j <- w_j + 2*alpha*sum_{i=1}^{N} (1 - sigma_i)*delta_i*sigma_i*x_ij" in out
    assert "simplify((w_1 - alpha*dL/dw_1) - rule) = 0" in out


def test_derive_latex(capsys):
    assert main(["derive", "--loss", "squared_error", "--latex"]) == 0
    out = capsys.readouterr().out
    assert "\\frac{\\partial L_i}{\\partial s_{i}} &= 2 s_{i} - 2 y_{i}" in out
    assert "w_j &\\leftarrow 2 \\alpha \\sum_{i=1}^{N} {\\delta}_{i} {x}_{i,j} + w_{j}" in out


def test_derive_a_multiclass_loss(capsys):
    assert main(["derive", "--loss", "softmax", "--columns", "2"]) == 0
    out = capsys.readouterr().out
    assert "L_i = " in out and "dL_i/ds_1 = " in out and "w_dj <- w_dj - alpha" in out
    assert main(["derive", "--loss", "logistic", "--columns", "2"]) == 2
    assert "n_columns: expected 1" in capsys.readouterr().err
