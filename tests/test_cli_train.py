"""``lingrad train`` and ``lingrad sweep``: run folders, exact reruns, resume, errors."""

from __future__ import annotations

import argparse
import json
import math

import numpy as np
import pytest

from lingrad import datasets, losses, runs
from lingrad.cli import build_parser, main
from lingrad.cli.sweep import DIVERGED, candidates
from lingrad.cli.train import GRADIENTS, KL_SMOOTHING, SCHEDULE_DECAY, load_data, targets
from lingrad.defaults import DEFAULTS
from lingrad.train import StopReason


def train(tmp_path, *args):
    return main(["train", "--runs-dir", str(tmp_path), "-q", *args])


@pytest.mark.slow
def test_make_run_defaults_reach_095(tmp_path, capsys):
    """What ``make run`` runs (the lecture's SGD): train and validation lines, then the test
    accuracy last."""
    args = ("--dataset", "digits", "--loss", "softmax", "--optimizer", "sgd")
    assert train(tmp_path, *args, "--name", "default") == 0
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


@pytest.mark.parametrize("name", ["random", "local", "genetic", "gd", "momentum", "lbfgs"])
def test_every_optimizer_runs_from_the_cli(name, tmp_path, capsys):
    assert train(tmp_path, "--optimizer", name, "--epochs", "5", "--name", name) == 0
    out = capsys.readouterr().out
    assert out.strip().splitlines()[-1].startswith("test accuracy: ")
    config = runs.read_json(tmp_path / name / "config.json")
    batch = runs.read_json(tmp_path / name / "metrics.json")["batch_size"]
    assert config["optimizer"] == name
    assert (batch == 1257) == (name not in ("momentum",))  # full batch for gd and searches


def test_too_high_a_learning_rate_reports_divergence_and_saves_finite_weights(tmp_path, capsys):
    args = ("--optimizer", "sgd", "--learning-rate", "1e4")
    assert train(tmp_path, *args, "--epochs", "3", "--name", "hot") == 1
    out = capsys.readouterr().out
    assert "stopped: diverged" in out and "learning rate" in out
    W = runs.load_model(tmp_path / "hot" / "model.npz")
    assert np.isfinite(W).all()
    metrics = runs.read_json(tmp_path / "hot" / "metrics.json")
    assert metrics["stop_reason"] == "diverged" and metrics["stopped"].startswith("diverged")
    assert metrics["diagnostics"]["diverged"]


def test_early_stopping_and_class_weight_options(tmp_path, capsys):
    args = ("--early-stopping", "--patience", "0", "--class-weight", "balanced", "--epochs", "50")
    args = (*args, "--optimizer", "sgd")
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
        (["--optimizer", "sgd", "--learning-rate", "0"], "learning_rate: expected a finite"),
        (["--optimizer", "adam", "--learning-rate", "-0.1"], "expected a finite number > 0"),
        (["--learning-rate", "0.1"], "--learning-rate: expected no learning_rate for the solver"),
        (["--schedule", "step"], "--schedule: expected no schedule for the solver 'lbfgs'"),
        (["--batch-size", "0"], "batch_size: expected an integer >= 1, got 0"),
        (["--optimizer", "sgd", "--batch-size", "5000"], "batch_size: expected at most the"),
        (["--batch-size", "32"], "no batch size for the full-batch optimiser 'lbfgs'"),
        (["--optimizer", "gd", "--batch-size", "32"], "no batch size for the full-batch"),
        (["--optimizer", "genetic", "--batch-size", "8"], "optimiser 'genetic'"),
        (["--patience", "-1"], "patience: expected an integer >= 0, got -1"),
        (["--epochs", "0"], "epochs: expected an integer >= 1, got 0"),
        (["--loss", "logistic"], "10-class dataset 'digits' ('logistic' needs two classes"),
        (["--loss", "squared_error"], "dataset 'digits' ('squared_error' needs a regression"),
        (["--dataset", "diabetes"], "regression dataset 'diabetes' ('softmax' needs a class"),
        (["--optimizer", "random", "--batch-size", "1257"], None),
        (["--resume", "/nonexistent/run"], "no such file"),
    ],
)
def test_bad_input_is_a_clear_error(args, message, tmp_path, capsys):
    if message is None:  # the full batch, given explicitly, is accepted
        assert train(tmp_path, *args, "--epochs", "1", "--no-report") == 0
        return
    assert train(tmp_path, *args) == 2
    err = capsys.readouterr().err
    assert err.startswith("lingrad: error: ") and message in err
    assert err.count("\n") == 1
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


# ------------------------------------------------------------------------------------------
# every loss and dataset that --help lists
# ------------------------------------------------------------------------------------------


def train_choices(option: str) -> tuple[str, ...]:
    """The choices ``lingrad train --help`` lists for ``option``."""
    parser = build_parser(commands=("train",))
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    (action,) = [a for a in sub.choices["train"]._actions if option in a.option_strings]
    return tuple(action.choices)


#: the listed datasets that are downloaded (california_housing trains through the same path
#: as diabetes, cifar10 as digits: tested in test_cli_evaluate with a local copy)
DOWNLOADED = {"california_housing": "diabetes", "cifar10": "digits"}
LOCAL = [d for d in train_choices("--dataset") if d not in DOWNLOADED]
#: the listed losses, each once (an alias such as "svm" names the same loss as "hinge")
LOSSES = sorted({losses.canonical_name(name) for name in train_choices("--loss")})


def expected_refusal(loss: str, dataset: str) -> str | None:
    """Why ``--loss loss --dataset dataset`` is refused (a phrase of the error), or None."""
    spec = losses.spec(loss)
    data = load_data(dataset, 0)[0]
    if (spec.task == "regression") != (data.task == "regression"):
        return f"dataset {dataset!r} ({loss!r} needs a"
    if spec.binary_only and data.n_classes != 2:
        return f"{data.n_classes}-class dataset {dataset!r} ({loss!r} needs two classes"
    return None


@pytest.mark.timeout(60)
@pytest.mark.parametrize("dataset", LOCAL)
@pytest.mark.parametrize("loss", LOSSES)
def test_every_listed_loss_and_dataset_trains_or_is_refused_naming_both(
    loss, dataset, tmp_path, capsys
):
    code = train(tmp_path, *("--loss", loss, "--dataset", dataset), "--epochs", "1", "--no-report")
    out, err = capsys.readouterr()
    refusal = expected_refusal(loss, dataset)
    if refusal is not None:
        assert code == 2 and err.count("\n") == 1 and refusal in err, err
        assert not any(tmp_path.iterdir())
        return
    assert code in (0, 1), err  # 1: diverged, its weights saved
    metrics = runs.read_json(next(tmp_path.iterdir()) / "metrics.json")
    key = "r2" if load_data(dataset, 0)[0].task == "regression" else "accuracy"
    label = "R^2" if key == "r2" else "accuracy"
    assert out.splitlines()[-1] == f"test {label}: {metrics[f'test_{key}']:.4f}"


def test_the_matrix_covers_every_kind_of_target():
    kinds = {losses.spec(name).target for name in train_choices("--loss")}
    assert kinds == set(losses.Target)
    assert set(DOWNLOADED) <= set(train_choices("--dataset"))
    for name, stand_in in DOWNLOADED.items():  # same task, same path through train
        assert name not in datasets.SHIPPED and stand_in in datasets.SHIPPED


def test_regression_reports_r2_checked_against_a_naive_formula(tmp_path, capsys):
    assert (
        train(
            tmp_path,
            "--dataset",
            "diabetes",
            "--loss",
            "squared_error",
            "--epochs",
            "20",
            "--name",
            "d",
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "report: none" in out and "a real target" in out
    metrics = runs.read_json(tmp_path / "d" / "metrics.json")
    W = runs.load_model(tmp_path / "d" / "model.npz")
    data, (X_train, _, X_test) = load_data("diabetes", 0)
    for split, X, y in (("train", X_train, data.y_train), ("test", X_test, data.y_test)):
        pred = [sum(x[j] * W[j, 0] for j in range(len(x))) + W[-1, 0] for x in X]
        mean = sum(y) / len(y)
        residual = sum((a - b) ** 2 for a, b in zip(y, pred, strict=True))
        r2 = 1 - residual / sum((a - mean) ** 2 for a in y)
        assert metrics[f"{split}_r2"] == pytest.approx(r2, rel=1e-9)
    assert metrics["train_r2"] > 0.3  # it learnt something (R^2 of the mean is 0)
    assert f"test R^2: {metrics['test_r2']:.4f}" in out


def test_kl_divergence_trains_on_label_smoothed_targets(tmp_path, capsys):
    data = datasets.load("iris")
    P, C = targets({"loss": "kl_divergence"}, data, data.y_train)
    assert C == 3 and P.shape == (len(data.y_train), 3)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    for row, label in zip(P, data.y_train, strict=True):
        expected = [KL_SMOOTHING / 3 + (1 - KL_SMOOTHING) * (k == label) for k in range(3)]
        np.testing.assert_allclose(row, expected)
    args = ("--dataset", "iris", "--loss", "kl_divergence", "--lam", "0", "--no-report")
    assert train(tmp_path, *args, "--epochs", "30", "--name", "kl") == 0
    metrics = runs.read_json(tmp_path / "kl" / "metrics.json")
    assert metrics["train_accuracy"] > 0.85
    # the reported loss is the mean KL divergence to the smoothed targets, by a naive loop
    W = runs.load_model(tmp_path / "kl" / "model.npz")
    _, (X_train, _, _) = load_data("iris", 0)
    total = 0.0
    for x, p in zip(X_train, P, strict=True):
        s = [sum(x[j] * W[j, k] for j in range(4)) + W[4, k] for k in range(3)]
        q = [math.exp(v) / sum(math.exp(u) for u in s) for v in s]
        total += sum(pk * math.log(pk / qk) for pk, qk in zip(p, q, strict=True))
    assert metrics["loss"] == pytest.approx(total / len(X_train), rel=1e-9)


def test_binary_losses_train_one_column_on_breast_cancer(tmp_path, capsys):
    for loss in ("logistic", "sigmoid_squared_error"):
        assert (
            train(
                tmp_path,
                "--dataset",
                "breast_cancer",
                "--loss",
                loss,
                "--epochs",
                "10",
                "--no-report",
                "--name",
                loss,
            )
            == 0
        )
        assert runs.load_model(tmp_path / loss / "model.npz").shape == (31, 1)
        assert runs.read_json(tmp_path / loss / "metrics.json")["test_accuracy"] > 0.9


# ------------------------------------------------------------------------------------------
# config.json: resolved values
# ------------------------------------------------------------------------------------------

RESOLVED = (
    "learning_rate",
    "schedule",
    "batch_size",
    "epochs",
    "lam",
    "optimizer",
    "patience",
    "seed",
    "gradient",
    "checkpoint_every",
    "early_stopping",
    "loss",
    "dataset",
)


@pytest.mark.parametrize(
    ("args", "optimizer", "not_applicable"),
    [
        (["--optimizer", "sgd", "--schedule", "step"], "sgd", set()),
        (["--optimizer", "local"], "local", {"decay"}),  # constant: no decay
        ([], "lbfgs", {"learning_rate", "schedule", "decay"}),  # auto: its line search
    ],
)
def test_config_json_holds_resolved_values_and_repeats_the_run(
    args, optimizer, not_applicable, tmp_path, capsys
):
    assert train(tmp_path, *args, "--epochs", "3", "--no-report", "--name", "a") == 0
    config = runs.read_json(tmp_path / "a" / "config.json")
    assert config["optimizer"] == optimizer
    assert {k for k in (*RESOLVED, "decay") if config[k] is None} == not_applicable
    metrics = runs.read_json(tmp_path / "a" / "metrics.json")
    assert config["batch_size"] == metrics["batch_size"]
    assert config["batch_size"] == (DEFAULTS.batch_size if optimizer == "sgd" else 1257)
    assert (
        train(
            tmp_path, "--config", str(tmp_path / "a" / "config.json"), "--no-report", "--name", "b"
        )
        == 0
    )
    Wa, Wb = (runs.load_model(tmp_path / n / "model.npz") for n in "ab")
    np.testing.assert_array_equal(Wa, Wb)
    assert runs.read_json(tmp_path / "b" / "config.json") == config


def test_the_tables_known_without_importing_agree_with_the_library():
    from lingrad import grad
    from lingrad.optim import schedules

    assert grad.methods() == GRADIENTS
    assert set(SCHEDULE_DECAY) == set(schedules.SCHEDULES)
    for name, decay in SCHEDULE_DECAY.items():
        if decay is None:
            continue
        default = schedules.get(name, 0.1, steps_per_epoch=2, epochs=30)
        explicit = schedules.get(name, 0.1, steps_per_epoch=2, epochs=30, decay=decay)
        if name == "plateau":
            assert default.factor == explicit.factor
        else:
            assert [default(t) for t in range(0, 60, 7)] == [explicit(t) for t in range(0, 60, 7)]
    assert StopReason.DIVERGED.value == DIVERGED


def test_resume_says_when_a_run_already_finished_or_would_shorten(tmp_path, capsys):
    assert train(tmp_path, "--epochs", "2", "--no-report", "--name", "r") == 0
    capsys.readouterr()
    before = (tmp_path / "r" / "model.npz").stat().st_mtime_ns
    assert main(["train", "-q", "--resume", str(tmp_path / "r")]) == 0
    err = capsys.readouterr().err
    assert "already finished (2 of its 2 epochs); nothing to train" in err
    assert (tmp_path / "r" / "model.npz").stat().st_mtime_ns == before
    assert main(["train", "-q", "--resume", str(tmp_path / "r"), "--epochs", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lingrad: error: --epochs: expected at least the 2 epochs")


def test_sweep_prints_one_progress_line_per_trial(tmp_path, capsys):
    argv = ["sweep", "--runs-dir", str(tmp_path), "--epochs", "2", "--jobs", "1"]
    assert main([*argv, "--name", "sw", "--trials", "4", "--dataset", "iris"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert [line.split(":")[0] for line in err] == ["sweep"] * 4
    assert [line.split()[2] for line in err] == ["1/4", "2/4", "3/4", "4/4"]
    regression = ["--dataset", "diabetes", "--loss", "squared_error", "--trials", "1"]
    assert main([*argv, "--name", "sq", "-q", *regression]) == 0
    out, err = capsys.readouterr()
    assert err == "" and "ranked by validation R^2" in out and "best test R^2: " in out


def test_sweep_cv_runs_the_cross_validated_path_and_saves_the_refit(tmp_path, capsys):
    """``lingrad sweep --cv K``: the CV curve (strongest lambda first), the chosen lambda =
    the best mean held-out score, the refitted model saved and rerunnable."""
    from lingrad.model_selection import LinearClassifierCV

    argv = ["sweep", "--cv", "3", "--trials", "4", "--lam-range", "1e-5", "1", "--dataset",
            "iris", "--runs-dir", str(tmp_path), "--name", "cv"]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    saved = runs.read_json(tmp_path / "cv" / "cv.json")
    curve = saved["curve"]
    lams = [row["lam"] for row in curve]
    np.testing.assert_allclose(lams, [1.0, 10 ** (-5 / 3), 10 ** (-10 / 3), 1e-5])
    best = max(curve, key=lambda row: row["mean"])  # ties: the first (strongest)
    metrics = runs.read_json(tmp_path / "cv" / "metrics.json")
    assert metrics["lam"] == best["lam"] and f"best: lam={best['lam']:.4g}" in out
    assert sum("<- chosen" in line for line in out.splitlines()) == 1
    config = runs.read_json(tmp_path / "cv" / "config.json")
    assert config["lam"] == best["lam"] and config["optimizer"] == "lbfgs"
    # the same path through the library on the same training split gives the same curve
    _, (X_train, _, _) = load_data("iris", 0, None)
    y_train = datasets.load("iris", seed=0).y_train
    clf = LinearClassifierCV(lams=lams, cv=3, random_state=0).fit(X_train, y_train)
    np.testing.assert_allclose([row["mean"] for row in curve], clf.scores_.mean(axis=0))
    W = runs.load_model(tmp_path / "cv" / "model.npz")
    np.testing.assert_allclose(W, clf.W_)


@pytest.mark.parametrize(
    ("option", "message"),
    [(["--cv", "1"], "--cv: expected an integer >= 2"),
     (["--cv", "3", "--lam-range", "0", "1"], "--lam-range: expected")],
)  # fmt: skip
def test_sweep_cv_refuses_bad_input(tmp_path, capsys, option, message):
    assert main(["sweep", "--dataset", "iris", "--runs-dir", str(tmp_path), *option]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(("regularizer", "solver"), [("l1", "fista"), ("elastic_net", "fista")])
def test_auto_takes_the_regularizer_into_account(regularizer, solver, tmp_path, capsys):
    """``--regularizer l1`` with the default ``--optimizer auto`` trains with the solver that
    takes an L1 part, as the estimators do (it was refused: "use 'fista'")."""
    args = ("--regularizer", regularizer, "--lam", "1e-3", "--no-report", "--name", "r")
    assert train(tmp_path, *args) == 0, capsys.readouterr().err
    config = runs.read_json(tmp_path / "r" / "config.json")
    assert config["optimizer"] == solver
    assert runs.read_json(tmp_path / "r" / runs.METRICS)["test_accuracy"] > 0.8
