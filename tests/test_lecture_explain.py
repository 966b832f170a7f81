"""``lingrad explain``: the slides' numerical gradient and KL example, arithmetic that checks."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from lingrad import losses
from lingrad.cli import main
from lingrad.cli.explain import CORRECTED_P_HAT, forward_differences
from lingrad.objective import Objective

NEG_LOG = re.compile(r"-ln ([0-9][0-9.e+-]*) = (\S+)")


def _numbers(text: str) -> list[float]:
    return [float(v) for v in text.strip("[]").replace(", ...", "").split(", ")]


def test_the_slides_numerical_gradient_step_by_step(capsys):
    assert main(["explain", "--topic", "numerical-gradient"]) == 0
    out = capsys.readouterr().out
    assert "current W = [0.34, -1.11, 0.78, 0.12, 0.55, 2.81, -3.1, -1.5, 0.33, ...]" in out
    assert "loss 1.25347" in out and "h = 0.0001" in out
    steps = re.findall(r"dW_(\d) = \((\S+) - (\S+)\) / (\S+) = (\S+)", out)
    assert [int(k) for k, *_ in steps] == [1, 2, 3]
    for _, nudged, loss, h, grad in steps:
        assert float(loss) == 1.25347 and float(h) == 1e-4
        # the printed arithmetic checks: (L(W + h e_k) - L(W)) / h, to the digits shown
        assert float(grad) == pytest.approx((float(nudged) - float(loss)) / float(h), abs=1e-9)
    assert [float(s[1]) for s in steps] == [1.25322, 1.25353, 1.25347]  # the slides' losses
    assert [float(s[4]) for s in steps] == [-2.5, 0.6, 0.0]  # the slides' gradient
    assert "W + h e_2 = [0.34, -1.11 + 0.0001, 0.78" in out
    assert re.search(r"gradient dW = \[-2\.5, 0\.6, 0, \.\.\.\]", out)


def test_forward_differences_is_the_numerical_gradient_of_a_real_objective():
    rng = np.random.default_rng(17)
    J = Objective("softmax", rng.normal(size=(20, 2)), rng.integers(0, 3, 20), lam=0.1)
    W, h = rng.normal(size=(3, 3)), 1e-4
    nudged = []
    for k in range(3):
        Wk = W.copy()
        Wk.flat[k] += h
        nudged.append(J.value(Wk))
    from lingrad import numerical_gradient

    want = numerical_gradient(J, W, h=h, difference="forward").ravel()[:3]
    got = forward_differences(round(J.value(W), 8), tuple(round(v, 8) for v in nudged), h)
    # losses rounded to 8 decimals leave 4 decimals of the quotient
    np.testing.assert_allclose(got, want, atol=2e-4)


def test_the_kl_slide_vector_as_printed_and_corrected(capsys):
    assert main(["explain", "--topic", "kl"]) == 0
    out = capsys.readouterr().out
    printed = re.search(r"p_hat = (\[[^]]*\])   as printed", out)
    assert printed
    p_printed = _numbers(printed.group(1))
    assert len(p_printed) == 9 and math.fsum(p_printed) == pytest.approx(1.01)
    assert "9 entries for 10 classes" in out and "summing to 1.01, not 1" in out
    corrected = re.search(r"\n  p_hat = (\[[^]]*\])\n", out)
    assert corrected
    p_hat = np.array(_numbers(corrected.group(1)))
    assert len(p_hat) == 10 and math.fsum(p_hat) == pytest.approx(1.0, abs=1e-12)
    assert tuple(p_hat) == CORRECTED_P_HAT
    p_star = np.eye(10)[[3]]  # one-hot on the 4th class
    kl, _ = losses.kl_divergence(np.log(p_hat)[None, :], p_star)
    assert f"-ln 0.01 = {kl:.5f}" in out and f"{kl:.5f}" == "4.60517"


def _check_neg_logs(out: str) -> int:
    found = NEG_LOG.findall(out)
    for x, y in found:
        decimals = len(y.partition(".")[2])
        want = -math.log(float(x))
        assert abs(float(y) - want) <= 0.5 * 10.0**-decimals, (x, y, want)
    return len(found)


def test_every_minus_ln_line_checks_on_a_calculator(capsys):
    assert main(["explain"]) == 0
    out = capsys.readouterr().out
    assert _check_neg_logs(out) == 3
    assert "-ln 0.1300 = 2.0404" not in out and "-ln 0.0021 = 6.1565" not in out
    rng = np.random.default_rng(0)
    S = np.round(6 * rng.standard_normal((5, 4)), 2)
    text = ";".join(",".join(str(v) for v in row) for row in S)
    args = ["explain", "--scores", text, "--labels", "0,1,2,3,0", "--loss", "softmax"]
    assert main(args) == 0
    assert _check_neg_logs(capsys.readouterr().out) == 5


def test_the_terminal_gets_plain_text_and_singulars(capsys):
    assert main(["explain", "--scores", "1,2,0", "--labels", "1"]) == 0
    out = capsys.readouterr().out
    assert "**" not in out and "|---" not in out
    assert "of 1 example from" in out and "over 1 example:" in out
    assert "1 examples" not in out


def test_topics_refuse_a_run_or_scores(capsys):
    assert main(["explain", "--topic", "kl", "--scores", "1,2"]) == 2
    assert "--topic: expected 'scores' with RUN_DIR or --scores" in capsys.readouterr().err
