"""``lingrad gradcheck`` and ``lingrad derive``."""

from __future__ import annotations

import pytest

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
