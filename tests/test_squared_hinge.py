"""Adding a loss: the squared hinge, end to end. Its kernel, spec and loop version are the only
code; the estimators, the CLI, the playground and every gradient method pick it up from the
registry. (The per-loss oracles, loop version, gradcheck, autodiff = analytic = symbolic and
PyTorch, run for it in the tests that iterate over ``losses.NAMES``.)"""

from __future__ import annotations

import json

import numpy as np
import pytest

from lingrad import grad, losses
from lingrad.cli import main
from lingrad.estimators import LinearClassifier
from lingrad.grad import autodiff, symbolic
from lingrad.grad.method import Forms
from lingrad.objective import Objective


def test_a_scikit_learn_fit_on_iris():
    from sklearn.datasets import load_iris
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = load_iris(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
    model = make_pipeline(StandardScaler(), LinearClassifier("squared_hinge", random_state=0))
    model.fit(X_train, y_train)
    assert model.score(X_test, y_test) >= 0.9
    clf = model[-1]
    assert clf.W_.shape == (5, 3) and not hasattr(clf, "predict_proba")


def test_lingrad_train_offers_it(tmp_path, capsys):
    args = ["train", "--runs-dir", str(tmp_path), "-q", "--dataset", "iris", "--name", "sq"]
    assert main([*args, "--loss", "squared_hinge", "--epochs", "20"]) == 0
    config = json.loads((tmp_path / "sq" / "config.json").read_text())
    assert config["loss"] == "squared_hinge"
    assert "squared_hinge" in capsys.readouterr().out


def test_lingrad_gradcheck_and_derive_offer_it(capsys):
    assert main(["gradcheck", "--loss", "squared_hinge"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("squared_hinge + l2") and out.count("pass") == 3
    assert main(["derive", "--loss", "squared_hinge", "--columns", "2"]) == 0
    out = capsys.readouterr().out
    assert "L_i = sum_{j != y_i} max(0, s_j - s_{y_i} + 1)^2" in out
    assert "  L_i = max(0, s_2 - s_1 + 1)^2\n" in out  # SymPy's, for C = 2 and y_i = 1


def test_a_method_without_a_form_is_refused_by_name(monkeypatch):
    J = Objective("squared_hinge", np.eye(3), np.arange(3))
    for module in (autodiff, symbolic):
        empty = Forms(module.FORMS.method)
        monkeypatch.setattr(module, "FORMS", empty)
        method = module.FORMS.method
        with pytest.raises(ValueError, match=f"gradient '{method}': .* got loss 'squared_hinge'"):
            grad.get(method)(J)
    assert grad.get("analytic")(J)(np.zeros((4, 3)))[0] == pytest.approx(2.0)  # C - 1


def test_every_method_has_a_form_of_every_loss():
    for forms in (autodiff.FORMS, symbolic.FORMS):
        assert set(forms.names()) == set(losses.NAMES)
