"""``lingrad plot RUN_DIR`` and ``lingrad explain``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from test_report import FIGURES, assert_resolves, parse

from lingrad import datasets, plots
from lingrad.cli import main
from lingrad.model import init_weights, scores
from lingrad.objective import Objective
from lingrad.train import sgd

CONFIG = {"dataset": "digits", "loss": "softmax", "regularizer": "l2", "lam": 1e-3, "seed": 1}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A run folder as `lingrad train` writes it: a few SGD epochs on standardised digits."""
    folder = tmp_path_factory.mktemp("runs") / "digits-softmax"
    folder.mkdir()
    data = datasets.load("digits", seed=CONFIG["seed"])
    scaler = datasets.Standardizer().fit(data.X_train)
    X_train = scaler.transform(data.X_train)
    objective = Objective("softmax", X_train, data.y_train, lam=CONFIG["lam"])
    rng = np.random.default_rng(CONFIG["seed"])
    W = init_weights(64, 10, rng=rng)
    path, history = [W], {"loss": [], "learning_rate": []}
    for epoch in range(4):
        result = sgd(objective, 10, W0=W, learning_rate=0.1 * 0.9**epoch, epochs=1, rng=rng)
        W = result.W
        path.append(W)
        for key in history:
            history[key] += result.history[key]
    (folder / "config.json").write_text(json.dumps(CONFIG))
    (folder / "metrics.json").write_text(json.dumps({"val_accuracy": 0.9}))
    (folder / "history.json").write_text(json.dumps(history))
    np.savez(folder / "model.npz", W=W, trajectory=np.stack(path))
    return folder


def _standardised_split(split: str):
    """The run's split standardised by scikit-learn (an independent check of the reload)."""
    from sklearn.preprocessing import StandardScaler

    data = datasets.load("digits", seed=CONFIG["seed"])
    scaler = StandardScaler().fit(data.X_train)
    X, y = {"val": (data.X_val, data.y_val), "test": (data.X_test, data.y_test)}[split]
    return scaler.transform(X), y, data.class_names


def test_plot_rebuilds_the_report_from_the_run_folder(run_dir, capsys):
    assert main(["plot", str(run_dir), "--format", "png"]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {run_dir / 'index.html'}"
    page = parse(run_dir / "index.html")
    assert {Path(src).stem for src in page.images} == FIGURES
    for src in page.images:
        assert_resolves(run_dir, src)
    W = np.load(run_dir / "model.npz")["W"]
    X, y, names = _standardised_split("val")
    view = plots.algebraic_view(scores(W, X[:6]), y[:6], loss="softmax", class_names=names)
    assert (run_dir / "scores_table.md").read_text() == view.markdown() + "\n"
    assert "trajectory directions" in (run_dir / "index.html").read_text()


def test_plot_split_examples_and_svg(run_dir):
    for stem in FIGURES:  # PNG only by default
        (run_dir / f"{stem}.svg").unlink(missing_ok=True)
    assert main(["plot", str(run_dir), "--split", "test", "--examples", "2"]) == 0
    assert not any((run_dir / f"{stem}.svg").exists() for stem in FIGURES)
    args = ["plot", str(run_dir), "--split", "test", "--examples", "2", "--format", "svg"]
    assert main(args) == 0
    W = np.load(run_dir / "model.npz")["W"]
    X, y, names = _standardised_split("test")
    view = plots.algebraic_view(scores(W, X[:2]), y[:2], loss="softmax", class_names=names)
    assert (run_dir / "scores_table.md").read_text() == view.markdown() + "\n"
    for stem in FIGURES:
        assert (run_dir / f"{stem}.svg").read_bytes().find(b"<svg") >= 0


def test_plot_bad_run_folders(tmp_path, capsys):
    assert main(["plot", str(tmp_path / "nope")]) == 2
    assert "lingrad: error: RUN_DIR: expected a run folder" in capsys.readouterr().err
    (tmp_path / "config.json").write_text(json.dumps({"seed": 0}))
    np.savez(tmp_path / "model.npz", W=np.ones((65, 10)))
    assert main(["plot", str(tmp_path)]) == 2
    assert 'expected a "dataset" entry' in capsys.readouterr().err
    (tmp_path / "config.json").write_text(json.dumps(CONFIG))
    np.savez(tmp_path / "model.npz", W=np.ones((10, 10)))
    assert main(["plot", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "model.npz: expected W of shape (65, C) for the 64 features" in err


def test_explain_the_lecture_example(capsys):
    assert main(["explain"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"\nSVM loss +2\.90 +0\.00 +12\.90\n", out)  # plain text, no Markdown
    assert "**" not in out and "|" not in out
    assert "L = 5.27" in out
    assert "max(0, 5.10 - 3.20 + 1) + max(0, -1.70 - 3.20 + 1)" in out
    assert "= 2.90 + 0.00 = 2.90" in out
    assert "max(0, 2.20 - (-3.10) + 1) + max(0, 2.50 - (-3.10) + 1)" in out
    assert "-ln P(cat) = -ln 0.129983 = 2.04035" in out  # checks on a calculator


def test_explain_given_scores(capsys):
    args = ["explain", "--scores", "1,2;0,0", "--labels", "1,0", "--class-names", "a,b"]
    assert main([*args, "--loss", "softmax"]) == 0
    out = capsys.readouterr().out
    # example 1: equal scores, P = 1/2, loss ln 2; example 0: P(b) = e^2 / (e + e^2)
    assert f"-ln 0.5 = {np.log(2):.5f}" in out
    assert f"-ln {np.exp(2) / (np.e + np.exp(2)):.6g}" in out
    assert "\nsoftmax loss " in out


def test_explain_a_run(run_dir, capsys):
    assert main(["explain", str(run_dir), "--examples", "2", "--split", "test"]) == 0
    out = capsys.readouterr().out
    W = np.load(run_dir / "model.npz")["W"]
    X, y, _ = _standardised_split("test")
    S = scores(W, X[:2])
    assert out.count("example #") == 2
    assert f"true class '{y[1]}'" in out
    assert f"{S[0, y[0]]:.2f}" in out


def test_explain_bad_input(run_dir, capsys):
    assert main(["explain", "--scores", "1,x"]) == 2
    assert "--scores: expected numbers" in capsys.readouterr().err
    assert main(["explain", "--scores", "1,2;3"]) == 2
    assert "rows of equal length" in capsys.readouterr().err
    assert main(["explain", "--scores", "1,2"]) == 2
    assert "--labels: expected 1 true classes" in capsys.readouterr().err
    assert main(["explain", "--scores", "1,2", "--labels", "5"]) == 2
    assert "y: expected labels in [0, 2)" in capsys.readouterr().err
    assert main(["explain", str(run_dir), "--scores", "1,2"]) == 2
    assert main(["explain", "--examples", "0"]) == 2
