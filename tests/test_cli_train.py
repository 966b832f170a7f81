"""``lingrad train`` and ``lingrad sweep``: run folders, exact reruns, resume, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lingrad import runs
from lingrad.cli import main
from lingrad.cli.sweep import candidates


def train(tmp_path, *args):
    return main(["train", "--runs-dir", str(tmp_path), "-q", *args])


@pytest.mark.slow
def test_make_run_defaults_reach_095(tmp_path, capsys):
    """What ``make run`` runs: train and validation lines, then the test accuracy last."""
    assert train(tmp_path, "--dataset", "digits", "--loss", "softmax", "--name", "default") == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-3].startswith("train accuracy: ")
    assert lines[-2].startswith("validation accuracy: ")
    assert lines[-1].startswith("test accuracy: ")
    assert float(lines[-1].split(": ")[1]) >= 0.95
    run = tmp_path / "default"
    assert {p.name for p in run.iterdir()} >= {
        "config.json",
        "metrics.json",
        "history.json",
        "model.npz",
        "checkpoint.npz",
    }
    metrics = runs.read_json(run / "metrics.json")
    assert (
        metrics["test_accuracy"] == float(lines[-1].split(": ")[1])
        or abs(metrics["test_accuracy"] - float(lines[-1].split(": ")[1])) < 5e-5
    )
    history = runs.read_json(run / "history.json")
    assert len(history["loss"]) == 100 and set(history) >= {"val_accuracy", "learning_rate"}
    W = runs.load_model(run / "model.npz")
    assert W.shape == (65, 10)


def test_config_json_reproduces_the_run_exactly(tmp_path, capsys):
    args = ("--optimizer", "nesterov", "--epochs", "4", "--schedule", "cosine", "--lam", "1e-4")
    assert train(tmp_path, *args, "--name", "a") == 0
    config = runs.read_json(tmp_path / "a" / "config.json")
    assert config["optimizer"] == "nesterov" and config["schedule"] == "cosine"
    assert config["learning_rate"] == 0.02 and config["epochs"] == 4 and config["seed"] == 0
    assert train(tmp_path, "--config", str(tmp_path / "a" / "config.json"), "--name", "b") == 0
    Wa, Wb = (runs.load_model(tmp_path / n / "model.npz") for n in "ab")
    np.testing.assert_array_equal(Wa, Wb)
    assert (tmp_path / "a" / "history.json").read_text() == (
        tmp_path / "b" / "history.json"
    ).read_text()


def test_resume_extends_a_run_as_if_never_stopped(tmp_path, capsys):
    common = ("--optimizer", "adam", "--checkpoint-every", "2")
    assert train(tmp_path, *common, "--epochs", "6", "--name", "whole") == 0
    assert train(tmp_path, *common, "--epochs", "3", "--name", "part") == 0
    assert main(["train", "-q", "--resume", str(tmp_path / "part"), "--epochs", "6"]) == 0
    out = capsys.readouterr().out
    assert f"run folder: {tmp_path / 'part'}" in out
    Wa, Wb = (runs.load_model(tmp_path / n / "model.npz") for n in ("whole", "part"))
    np.testing.assert_array_equal(Wa, Wb)
    ha, hb = (runs.read_json(tmp_path / n / "history.json") for n in ("whole", "part"))
    assert ha == hb


@pytest.mark.parametrize("name", ["random", "local", "genetic", "gd", "momentum"])
def test_every_optimizer_runs_from_the_cli(name, tmp_path, capsys):
    assert train(tmp_path, "--optimizer", name, "--epochs", "5", "--name", name) == 0
    out = capsys.readouterr().out
    assert out.strip().splitlines()[-1].startswith("test accuracy: ")
    config = runs.read_json(tmp_path / name / "config.json")
    batch = runs.read_json(tmp_path / name / "metrics.json")["batch_size"]
    assert config["optimizer"] == name
    assert (batch == 1257) == (name not in ("momentum",))  # full batch for gd and searches


def test_too_high_a_learning_rate_reports_divergence_and_saves_finite_weights(tmp_path, capsys):
    assert train(tmp_path, "--learning-rate", "1e4", "--epochs", "3", "--name", "hot") == 1
    out = capsys.readouterr().out
    assert "stopped: diverged" in out and "learning rate" in out
    W = runs.load_model(tmp_path / "hot" / "model.npz")
    assert np.isfinite(W).all()
    metrics = runs.read_json(tmp_path / "hot" / "metrics.json")
    assert metrics["stop_reason"] == "diverged" and metrics["stopped"].startswith("diverged")
    assert metrics["diagnostics"]["diverged"]


def test_early_stopping_and_class_weight_options(tmp_path, capsys):
    args = ("--early-stopping", "--patience", "0", "--class-weight", "balanced", "--epochs", "50")
    assert (
        train(tmp_path, *args, "--learning-rate", "1.0", "--schedule", "constant", "--name", "es")
        == 0
    )
    metrics = runs.read_json(tmp_path / "es" / "metrics.json")
    config = runs.read_json(tmp_path / "es" / "config.json")
    assert config["early_stopping"] is True and config["class_weight"] == "balanced"
    assert metrics["stop_reason"] == "early stopping"
    assert metrics["stopped"].startswith("early stopping")
    assert metrics["best_epoch"] == metrics["n_epochs"] - 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--learning-rate", "0"], "learning_rate: expected a finite number > 0, got 0.0"),
        (["--learning-rate", "-0.1"], "learning_rate: expected a finite number > 0, got -0.1"),
        (["--batch-size", "0"], "batch_size: expected an integer >= 1, got 0"),
        (["--batch-size", "5000"], "batch_size: expected at most the number of training"),
        (["--optimizer", "gd", "--batch-size", "32"], "no batch size for the full-batch"),
        (["--optimizer", "genetic", "--batch-size", "8"], "optimiser 'genetic'"),
        (["--patience", "-1"], "patience: expected an integer >= 0, got -1"),
        (["--epochs", "0"], "epochs: expected an integer >= 1, got 0"),
        (["--loss", "logistic"], "--loss: expected a multi-class classification loss"),
        (["--resume", "/nonexistent/run"], "no such file"),
    ],
)
def test_bad_input_is_a_clear_error(args, message, tmp_path, capsys):
    assert train(tmp_path, *args) == 2
    err = capsys.readouterr().err
    assert err.startswith("lingrad: error: ") and message in err
    assert not any(tmp_path.iterdir())  # no run folder for a refused run


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--optimizer", "bfgs"], "invalid choice: 'bfgs'"),
        (["--schedule", "warmup"], "invalid choice: 'warmup'"),
    ],
)
def test_unknown_names_are_refused_by_the_parser(args, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        train(tmp_path, *args)
    assert exc.value.code == 2 and message in capsys.readouterr().err


def test_sweep_candidates():
    grid = candidates((1e-3, 1e-1), (1e-4, 1e-2), search="grid", trials=9)
    assert len(grid) == 9
    np.testing.assert_allclose(sorted({g[0] for g in grid}), [1e-3, 1e-2, 1e-1])
    rand = candidates(
        (1e-3, 1e-1), (1e-4, 1e-2), search="random", trials=20, rng=np.random.default_rng(0)
    )
    lrs = np.log10([r[0] for r in rand])
    assert len(rand) == 20 and lrs.min() >= -3 and lrs.max() <= -1 and len(set(lrs)) == 20
    with pytest.raises(ValueError, match="--learning-rate-range: expected LOW <= HIGH"):
        candidates((1.0, 0.1), (1e-4, 1e-2), search="grid", trials=4)
    with pytest.raises(ValueError, match="--lam-range: expected a finite number > 0"):
        candidates((0.1, 1.0), (0.0, 1e-2), search="grid", trials=4)


@pytest.mark.slow
def test_sweep_on_digits_finds_096_and_saves_the_best(tmp_path, capsys):
    options = "--epochs 30 --learning-rate-range 0.03 1 --lam-range 1e-6 1e-3 --trials 4 --jobs 2"
    argv = ["sweep", "--runs-dir", str(tmp_path), "--name", "sw", *options.split()]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "ranked by validation accuracy" in out
    best_val = float(out.split("best validation accuracy: ")[1].split()[0])
    assert best_val >= 0.96
    sweep = runs.read_json(tmp_path / "sw" / "sweep.json")
    vals = [t["metrics"]["val_accuracy"] for t in sweep["trials"]]
    assert (
        len(vals) == 4
        and vals == sorted(vals, reverse=True)
        and vals[0] == pytest.approx(best_val, abs=5e-5)
    )
    # the saved best model is the best trial: retrain its config with `lingrad train --config`
    config_path = tmp_path / "sw" / "config.json"
    assert (
        main(
            [
                "train",
                "-q",
                "--runs-dir",
                str(tmp_path),
                "--name",
                "again",
                "--config",
                str(config_path),
            ]
        )
        == 0
    )
    np.testing.assert_array_equal(
        runs.load_model(tmp_path / "sw" / "model.npz"),
        runs.load_model(tmp_path / "again" / "model.npz"),
    )
    best = sweep["trials"][0]["config"]["learning_rate"]
    assert json.loads(config_path.read_text())["learning_rate"] == best
