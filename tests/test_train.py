"""The training loop: the GD/SGD contracts, histories, early stopping, divergence, checkpoints
and bit-for-bit resume, weights, callbacks, progress, diagnostics and bad input."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from lingrad import datasets, optim, runs
from lingrad.objective import Objective
from lingrad.optim import SGD, Adam, GeneticSearch, GradientDescent, RandomLocalSearch
from lingrad.optim.schedules import ReduceOnPlateau, exponential, inverse_time
from lingrad.train import EPOCH_KEYS, STEP_KEYS, Stop, StopReason, diagnose, fit

RNG = np.random.default_rng


def blobs(n=90, d=4, c=3, seed=0, dtype=np.float64):
    rng = RNG(seed)
    y = np.arange(n) % c
    centres = 2.0 * rng.standard_normal((c, d))
    return (centres[y] + rng.standard_normal((n, d))).astype(dtype), y


@pytest.fixture(scope="module")
def digits():
    data = datasets.load("digits")
    scaler = datasets.Standardizer().fit(data.X_train)
    return data, scaler.transform(data.X_train), scaler.transform(data.X_val)


# ------------------------------------------------------------------------------------------
# GD and SGD
# ------------------------------------------------------------------------------------------


def test_gd_with_decaying_step_reaches_the_ridge_closed_form():
    """Strongly convex: mean squared error + lam/2 ||w||^2 (bias free). Setting the gradient
    2/N A^T (A theta - y) + lam P theta to zero (A = [X, 1], P = diag(1, .., 1, 0)) gives
    (2/N A^T A + lam P) theta = 2/N A^T y."""
    rng = RNG(3)
    X = rng.standard_normal((50, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.7 + 0.1 * rng.standard_normal(50)
    lam = 0.1
    A = np.hstack([X, np.ones((50, 1))])
    P = np.diag([1.0, 1.0, 1.0, 0.0])
    theta = np.linalg.solve(2 / 50 * A.T @ A + lam * P, 2 / 50 * A.T @ y)
    J = Objective("squared_error", X, y, lam=lam)
    opt = GradientDescent(inverse_time(0.2, decay_rate=1e-3))
    r = fit(J, opt, n_columns=1, epochs=1500, rng=RNG(0))
    assert r.history["learning_rate"][-1] < 0.2  # the step did decay
    np.testing.assert_allclose(r.W[:, 0], theta, atol=1e-8)


def test_sgd_with_batch_n_equals_gradient_descent():
    X, y = blobs()
    J = Objective("softmax", X, y, lam=0.01)
    W0 = 0.01 * RNG(1).standard_normal((5, 3))
    r = fit(J, SGD(0.3), n_columns=3, W0=W0, epochs=25, batch_size=90, rng=RNG(0))
    W = W0.copy()
    for _ in range(25):  # the textbook loop
        W = W - 0.3 * J.value_and_grad(W)[1]
    np.testing.assert_array_equal(r.W, W)
    assert r.n_iter == 25


def test_mini_batches_are_contiguous_slices_of_one_permutation_per_epoch():
    X, y = blobs()
    J = Objective("hinge", X, y, lam=1e-3)
    W0 = np.zeros((5, 3))
    r = fit(J, SGD(0.05), n_columns=3, W0=W0, epochs=3, batch_size=32, rng=RNG(5))
    rng, W = RNG(5), W0.copy()
    for _ in range(3):
        order = rng.permutation(90)
        for start in range(0, 90, 32):
            W = W - 0.05 * J.value_and_grad(W, order[start : start + 32])[1]
    np.testing.assert_array_equal(r.W, W)
    assert r.n_iter == 9 and len(r.step_history["loss"]) == 9


def test_histories_have_their_keys_and_lengths():
    X, y = blobs()
    r = fit(
        Objective("softmax", X[:60], y[:60]),
        Adam(0.05),
        n_columns=3,
        epochs=4,
        batch_size=16,
        rng=RNG(0),
        validation=(X[60:], y[60:]),
    )
    assert tuple(r.history) == EPOCH_KEYS and tuple(r.step_history) == STEP_KEYS
    assert all(len(v) == 4 for v in r.history.values())
    assert all(len(v) == r.n_iter == 16 for v in r.step_history.values())
    assert r.step_history["evaluations"] == list(range(1, 17))
    # the per-epoch figures are recomputed from the weights
    J_val = Objective("softmax", X[60:], y[60:])
    assert r.history["val_loss"][-1] == pytest.approx(J_val.value(r.W), rel=1e-12)
    acc = np.mean(np.argmax(X[60:] @ r.W[:-1] + r.W[-1], axis=1) == y[60:])
    assert r.history["val_accuracy"][-1] == acc
    assert r.stop is None and r.best_epoch is None


def test_float32_stays_float32():
    X, y = blobs(dtype=np.float32)
    for opt in (SGD(0.1, momentum=0.9), Adam(0.01), RandomLocalSearch(0.1)):
        batch = None if opt.reads == "value" else 30  # search: full batch only (issue 17)
        r = fit(
            Objective("softmax", X, y), opt, n_columns=3, epochs=2, batch_size=batch, rng=RNG(0)
        )
        assert r.W.dtype == np.float32


def test_numerical_gradient_method_follows_the_analytic_one():
    X, y = blobs(n=12, d=2)
    J = Objective("softmax", X, y)
    W0 = np.zeros((3, 3))
    a = fit(J, SGD(0.1), n_columns=3, W0=W0, epochs=3, rng=RNG(0))
    b = fit(J, SGD(0.1), n_columns=3, W0=W0, epochs=3, rng=RNG(0), gradient="numerical")
    np.testing.assert_allclose(a.W, b.W, rtol=1e-6, atol=1e-9)


# ------------------------------------------------------------------------------------------
# Weights
# ------------------------------------------------------------------------------------------


def test_sample_weight_equals_duplicating_rows():
    X, y = blobs(n=30)
    w = np.ones(30)
    w[:5] = 2.0
    Xd, yd = np.vstack([X, X[:5]]), np.concatenate([y, y[:5]])
    kw = {"n_columns": 3, "W0": np.zeros((5, 3)), "epochs": 10, "rng": RNG(0)}
    a = fit(Objective("softmax", X, y), SGD(0.5), sample_weight=w, **kw)
    b = fit(Objective("softmax", Xd, yd), SGD(0.5), **kw)
    np.testing.assert_allclose(a.W, b.W, rtol=1e-12, atol=1e-14)


def test_class_weight_balanced_is_n_over_c_count():
    X, y = blobs(n=40)
    y = np.where(np.arange(40) < 25, 0, y)  # unbalanced
    counts = np.bincount(y, minlength=3)
    w = (40 / (3 * counts))[y]
    kw = {"n_columns": 3, "W0": np.zeros((5, 3)), "epochs": 5, "rng": RNG(0)}
    a = fit(Objective("softmax", X, y), SGD(0.5), class_weight="balanced", **kw)
    b = fit(Objective("softmax", X, y, sample_weight=w), SGD(0.5), **kw)
    np.testing.assert_array_equal(a.W, b.W)
    c = fit(Objective("softmax", X, y), SGD(0.5), class_weight={0: 0.5}, sample_weight=w, **kw)
    d = fit(
        Objective("softmax", X, y, sample_weight=w * np.where(y == 0, 0.5, 1.0)), SGD(0.5), **kw
    )
    np.testing.assert_allclose(c.W, d.W, rtol=1e-12, atol=1e-15)


# ------------------------------------------------------------------------------------------
# Early stopping, divergence, callbacks, budget
# ------------------------------------------------------------------------------------------


def test_early_stopping_restores_the_best_weights():
    X, y = blobs()
    J = Objective("softmax", X, y)
    flipped = (y + 1) % 3  # a validation set the training makes worse every epoch
    kw = {"n_columns": 3, "epochs": 50, "batch_size": 30, "validation": (X, flipped)}
    r = fit(J, SGD(0.1), rng=RNG(0), early_stopping=True, patience=2, **kw)
    assert r.stop.reason is StopReason.EARLY_STOPPING
    assert r.stop.message.startswith("early stopping")
    assert r.n_epochs == 4 and r.best_epoch == 0  # epoch 0 best, then 3 worse (> patience)
    first = fit(J, SGD(0.1), rng=RNG(0), **{**kw, "epochs": 1})
    np.testing.assert_array_equal(r.W, first.W)
    v = r.history["val_loss"]
    assert v[0] < v[1] < v[2] < v[3]


def test_too_high_a_learning_rate_stops_with_the_divergence_message(digits):
    data, X_train, _ = digits
    J = Objective("softmax", X_train, data.y_train)
    r = fit(J, SGD(1e4), n_columns=10, epochs=5, batch_size=64, rng=RNG(0))
    assert r.stop.reason is StopReason.DIVERGED
    assert "learning rate (10000) is probably too high" in r.stop.message
    assert "standardise X" in r.stop.message
    assert np.isfinite(r.W).all() and np.isfinite(J.value(r.W))
    assert r.diagnostics["diverged"] and "lower the learning rate" in r.diagnostics["advice"][0]


def test_nan_loss_keeps_the_last_good_weights():
    X, y = blobs()
    J = Objective("squared_error", X, np.eye(3)[y])
    r = fit(J, GradientDescent(50.0), n_columns=3, epochs=500, rng=RNG(0), divergence_factor=1e300)
    assert r.stop.reason is StopReason.DIVERGED and "too high" in r.stop.message
    assert np.isfinite(r.W).all() and np.isfinite(J.value(r.W))


def test_callbacks_see_each_epoch_and_can_stop():
    X, y = blobs()
    seen = []

    def stop_at_two(epoch, logs, W):
        seen.append((epoch, logs["loss"], W.shape))
        return epoch == 2

    r = fit(
        Objective("softmax", X, y),
        SGD(0.1),
        n_columns=3,
        epochs=10,
        rng=RNG(0),
        callbacks=[stop_at_two],
    )
    assert [s[0] for s in seen] == [0, 1, 2] and seen[0][2] == (5, 3)
    assert r.n_epochs == 3
    assert r.stop == Stop(StopReason.CALLBACK, "stopped by callback stop_at_two")


def test_max_evaluations_is_an_equal_budget():
    X, y = blobs()
    J = Objective("softmax", X, y)
    a = fit(J, SGD(0.1), n_columns=3, epochs=100, batch_size=10, rng=RNG(0), max_evaluations=25)
    b = fit(
        J, GeneticSearch(population=10), n_columns=3, epochs=100, rng=RNG(0), max_evaluations=25
    )
    assert a.n_evaluations == 25 and a.n_iter == 25
    assert b.n_evaluations == 25  # the last generation truncated to the budget
    assert a.stop.reason is StopReason.BUDGET and b.stop.reason is StopReason.BUDGET
    assert "budget" in a.stop.message and "budget" in b.stop.message


# ------------------------------------------------------------------------------------------
# Checkpoints and resume
# ------------------------------------------------------------------------------------------


class Interrupt(Exception):
    pass


def interrupt_after(n):
    def callback(epoch, logs, W):
        if epoch + 1 == n:
            raise Interrupt

    return callback


OPTIMIZERS = {
    "nesterov": lambda: SGD(exponential(0.2, 0.9, 3), momentum=0.9, nesterov=True),
    "adam": lambda: Adam(0.05),
    "plateau": lambda: SGD(ReduceOnPlateau(0.5, factor=0.5, patience=0)),
    "genetic": lambda: GeneticSearch(population=6),
    "local": lambda: RandomLocalSearch(0.1),
    "local_plateau": lambda: RandomLocalSearch(ReduceOnPlateau(0.1, factor=0.5, patience=0)),
    "lbfgs": lambda: optim.LBFGS(tol=1e-12),
}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_resume_equals_an_uninterrupted_run_bit_for_bit(name, tmp_path):
    X, y = blobs()
    J = Objective("softmax", X[:70], y[:70], lam=1e-3)
    full_batch = optim.__dict__[type(OPTIMIZERS[name]()).__name__].reads != "gradient"
    kw = {
        "n_columns": 3,
        "epochs": 8,
        "batch_size": None if full_batch else 20,
        "validation": (X[70:], y[70:]),
        "early_stopping": True,
        "patience": 20,
    }
    full = fit(J, OPTIMIZERS[name](), rng=RNG(0), **kw)
    with pytest.raises(Interrupt):  # killed during epoch 6; last checkpoint after epoch 4
        fit(
            J,
            OPTIMIZERS[name](),
            rng=RNG(0),
            checkpoint_dir=tmp_path,
            checkpoint_every=2,
            callbacks=[interrupt_after(6)],
            **kw,
        )
    meta = json.loads(str(runs.load_npz(tmp_path / "checkpoint.npz")["meta"]))
    assert meta["epoch"] == 4
    resumed = fit(J, OPTIMIZERS[name](), rng=RNG(123), resume=tmp_path, **kw)
    np.testing.assert_array_equal(resumed.W, full.W)
    # (through JSON: exact float reprs, and nan compares equal to nan)
    assert json.dumps(resumed.history) == json.dumps(full.history)
    assert json.dumps(resumed.step_history) == json.dumps(full.step_history)
    assert (resumed.n_iter, resumed.n_evaluations) == (full.n_iter, full.n_evaluations)


def test_checkpoints_have_no_pickle(tmp_path):
    X, y = blobs()
    fit(
        Objective("softmax", X, y),
        Adam(0.1),
        n_columns=3,
        epochs=2,
        rng=RNG(0),
        checkpoint_dir=tmp_path,
    )
    with np.load(tmp_path / "checkpoint.npz", allow_pickle=False) as f:
        assert {"W", "opt.m", "opt.v", "meta"} <= set(f.files)
        assert all(f[k].dtype != object for k in f.files)
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.npz"]  # no temp file left


def test_the_checkpoints_json_does_not_grow_with_the_run(tmp_path):
    """Issue 16, defect 8: every checkpoint rewrote the whole step history as JSON (quadratic
    cost); the histories are float64 arrays of the .npz now, read back exactly."""
    X, y = blobs()
    J = Objective("softmax", X, y)
    sizes = {}
    for epochs in (2, 40):
        folder = tmp_path / str(epochs)
        r = fit(J, SGD(0.1), n_columns=3, epochs=epochs, batch_size=9, rng=RNG(0),
                checkpoint_dir=folder, trajectory_every=10)  # fmt: skip
        arrays = runs.load_npz(folder / "checkpoint.npz")
        sizes[epochs] = len(str(arrays["meta"]))
        assert arrays["steps.loss"].dtype == np.float64 and len(arrays["steps.loss"]) == 10 * epochs
        assert arrays["history.loss"].tolist() == r.history["loss"]
    assert sizes[40] - sizes[2] < 50, sizes  # was 2 epochs: ~3 KB, 40 epochs: ~50 KB
    resumed = fit(J, SGD(0.1), n_columns=3, epochs=40, batch_size=9, rng=RNG(5),
                  resume=tmp_path / "40", trajectory_every=10)  # fmt: skip
    assert json.dumps(resumed.step_history) == json.dumps(r.step_history)
    assert json.dumps(resumed.history) == json.dumps(r.history)
    assert r.trajectory is not None and r.trajectory.shape == (5, 5, 3)
    np.testing.assert_array_equal(resumed.trajectory, r.trajectory)


def test_a_failed_checkpoint_write_leaves_the_previous_one(tmp_path, monkeypatch):
    X, y = blobs()
    J = Objective("softmax", X, y)
    fit(J, SGD(0.1), n_columns=3, epochs=1, rng=RNG(0), checkpoint_dir=tmp_path)
    before = (tmp_path / "checkpoint.npz").read_bytes()

    def half_then_die(file, **arrays):
        file.write(b"PK\x03\x04 half a zip")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", half_then_die)
    with pytest.raises(KeyboardInterrupt):
        fit(J, SGD(0.1), n_columns=3, epochs=3, rng=RNG(0), checkpoint_dir=tmp_path)
    assert (tmp_path / "checkpoint.npz").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.npz"]
    monkeypatch.undo()
    r = fit(J, SGD(0.1), n_columns=3, epochs=3, rng=RNG(0), resume=tmp_path)
    assert r.n_epochs == 3


def test_a_process_killed_while_writing_leaves_a_readable_checkpoint(tmp_path):
    """SIGKILL a process that rewrites an 8 MB checkpoint in a loop: the file on disk is
    always one complete version."""
    script = textwrap.dedent(
        f"""
        import numpy as np
        from lingrad import runs
        i = 0
        while True:
            runs.save_npz({str(tmp_path / "c.npz")!r}, {{"W": np.full(1_000_000, float(i))}})
            i += 1
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "c.npz").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    W = runs.load_npz(tmp_path / "c.npz")["W"]
    assert W.shape == (1_000_000,) and np.all(W[0] == W)


def test_resume_refuses_a_checkpoint_of_another_shape(tmp_path):
    X, y = blobs()
    fit(
        Objective("softmax", X, y),
        SGD(0.1),
        n_columns=3,
        epochs=1,
        rng=RNG(0),
        checkpoint_dir=tmp_path,
    )
    with pytest.raises(ValueError, match="resume: expected a checkpoint with W"):
        fit(
            Objective("softmax", X[:, :2], y),
            SGD(0.1),
            n_columns=3,
            epochs=2,
            rng=RNG(0),
            resume=tmp_path,
        )
    with pytest.raises(ValueError, match="resume: expected a checkpoint of Adam, got SGD"):
        fit(
            Objective("softmax", X, y),
            Adam(0.1),
            n_columns=3,
            epochs=2,
            rng=RNG(0),
            resume=tmp_path,
        )
    with pytest.raises(FileNotFoundError, match="resume: no checkpoint"):
        fit(
            Objective("softmax", X, y),
            SGD(0.1),
            n_columns=3,
            epochs=2,
            rng=RNG(0),
            resume=tmp_path / "nothing",
        )


# ------------------------------------------------------------------------------------------
# Progress and diagnostics
# ------------------------------------------------------------------------------------------


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize(
    ("verbose", "tty", "shown"), [(1, True, True), (0, True, False), (1, False, False)]
)
def test_progress_bar_only_on_a_terminal_with_verbose(verbose, tty, shown, monkeypatch, capsys):
    stream = FakeTerminal() if tty else io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    X, y = blobs()
    fit(Objective("softmax", X, y), SGD(0.1), n_columns=3, epochs=3, rng=RNG(0), verbose=verbose)
    assert ("loss" in stream.getvalue()) == shown
    assert capsys.readouterr().out == ""  # never on stdout


def test_diagnose_rules():
    falling = diagnose({"loss": [2.0, 1.5, 1.2, 1.0, 0.9, 0.8, 0.7]})
    assert falling["still_falling"] and not falling["oscillating"] and not falling["flat"]
    wobbly = diagnose({"loss": [2.0, 1.0, 1.5, 0.9, 1.4, 0.8, 1.3]})
    assert wobbly["oscillating"] and "too high" in " ".join(wobbly["advice"])
    flat = diagnose({"loss": [2.3026, 2.3025, 2.3024, 2.3023]})
    assert flat["flat"] and "too low" in " ".join(flat["advice"])
    done = diagnose({"loss": [2.0, 0.5, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3]})
    assert done["advice"] == ["converged: the loss has levelled off"]
    json.dumps(done)


def test_diagnostics_of_real_runs(digits):
    data, X_train, _ = digits
    J = Objective("softmax", X_train, data.y_train, lam=1e-3)
    slow = fit(J, SGD(1e-5), n_columns=10, epochs=5, batch_size=64, rng=RNG(0))
    assert slow.diagnostics["flat"]
    short = fit(J, SGD(0.01), n_columns=10, epochs=6, batch_size=64, rng=RNG(0))
    assert short.diagnostics["still_falling"]
    wild = fit(J, SGD(8.0), n_columns=10, epochs=12, batch_size=64, rng=RNG(0))
    assert wild.diagnostics["oscillating"] or wild.diagnostics["diverged"]


# ------------------------------------------------------------------------------------------
# Bad input
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"batch_size": 0}, ValueError, "batch_size: expected an integer >= 1, got 0"),
        ({"batch_size": 91}, ValueError, r"batch_size: expected at most the number of examples"),
        ({"batch_size": 2.5}, TypeError, "batch_size: expected an integer"),
        ({"epochs": 0}, ValueError, "epochs: expected an integer >= 1"),
        ({"patience": -1}, ValueError, "patience: expected an integer >= 0, got -1"),
        ({"early_stopping": True}, ValueError, "validation: expected .* when early_stopping"),
        ({"rng": 0}, TypeError, r"rng: expected a numpy\.random\.Generator"),
        ({"gradient": "magic"}, ValueError, "gradient: expected one of"),
        ({"validation": np.zeros(3)}, TypeError, r"validation: expected a pair"),
        ({"validation": (np.zeros((3, 2)), [0, 1, 2])}, ValueError, "validation: expected X_val"),
        ({"class_weight": "even"}, ValueError, "class_weight: expected 'balanced'"),
        ({"class_weight": {7: 1.0}}, ValueError, r"class_weight: expected labels in \[0, 3\)"),
        ({"sample_weight": np.ones(5)}, ValueError, "sample_weight"),
        ({"checkpoint_every": 0}, ValueError, "checkpoint_every: expected"),
        ({"callbacks": [1]}, TypeError, "callbacks: expected"),
        ({"W0": np.zeros((5, 2))}, ValueError, r"W0: expected shape \(5, 3\)"),
        ({"n_columns": 0}, ValueError, "n_columns: expected"),
    ],
)
def test_bad_input(kwargs, error, match):
    X, y = blobs()
    args = {"n_columns": 3, "epochs": 2, "rng": RNG(0), **kwargs}
    with pytest.raises(error, match=match):
        fit(Objective("softmax", X, y), SGD(0.1), **args)


def test_bad_objective_and_optimizer():
    X, y = blobs()
    with pytest.raises(TypeError, match=r"objective: expected a lingrad\.Objective"):
        fit((X, y), SGD(0.1), n_columns=3, epochs=1, rng=RNG(0))
    with pytest.raises(TypeError, match="optimizer: expected an optimiser"):
        fit(Objective("softmax", X, y), "sgd", n_columns=3, epochs=1, rng=RNG(0))
    with pytest.raises(ValueError, match="learning_rate: expected a finite number > 0"):
        fit(Objective("softmax", X, y), SGD(-0.1), n_columns=3, epochs=1, rng=RNG(0))


# ------------------------------------------------------------------------------------------
# The engine's parts: the state is the checkpoint, the stop enum, one batch rule, one weight rule
# ------------------------------------------------------------------------------------------


def test_train_state_save_load_round_trip(tmp_path):
    from lingrad.train import Best, TrainState

    W = np.arange(6, dtype=np.float32).reshape(3, 2)
    opt = Adam(0.1)
    _, opt_state = opt.update(np.ones_like(W), opt.init(W), W)
    rng = RNG(5)
    rng.random(3)
    state = TrainState(
        W,
        opt_state,
        rng,
        epoch=4,
        iteration=17,
        evaluations=17,
        history={"loss": [1.0, float("nan")]},
        steps={"loss": [2.0]},
        best=Best(0.5, W * 2, 2, 1),
        first_loss=2.5,
        previous_W=W - 1,
        stop=Stop(StopReason.BUDGET, "evaluation budget reached (17 evaluations)"),
    )
    path = state.save(tmp_path / "checkpoint.npz", opt)
    fresh = TrainState(np.zeros_like(W), opt.init(W), RNG(0))
    back = TrainState.load(tmp_path, fresh, opt)
    assert back.rng is fresh.rng and back.rng.bit_generator.state == rng.bit_generator.state
    np.testing.assert_array_equal(back.W, W)
    assert back.W.dtype == np.float32
    np.testing.assert_array_equal(back.optimizer_state.m, opt_state.m)
    np.testing.assert_array_equal(back.best.W, W * 2)
    np.testing.assert_array_equal(back.previous_W, W - 1)
    assert (back.epoch, back.iteration, back.evaluations) == (4, 17, 17)
    assert (back.best.loss, back.best.epoch, back.best.wait) == (0.5, 2, 1)
    assert back.first_loss == 2.5 and back.stop == state.stop
    assert json.dumps(back.history) == json.dumps(state.history) and back.steps == state.steps
    assert path == tmp_path / "checkpoint.npz"


def test_a_diverged_run_stops_with_the_diverged_reason():
    X, y = blobs()
    r = fit(Objective("softmax", X * 1e3, y), SGD(1e4), n_columns=3, epochs=5, rng=RNG(0))
    assert isinstance(r.stop, Stop) and r.stop.reason is StopReason.DIVERGED
    assert str(r.stop) == r.stop.message and r.stop.message.startswith("diverged at epoch")
    assert r.diagnostics["diverged"] and np.isfinite(r.W).all()


@pytest.mark.parametrize(
    ("name", "expected"),
    [("gd", 90), ("random", 90), ("local", 90), ("genetic", 90), ("sgd", 32), ("adam", 32)],
)
def test_one_rule_says_which_optimisers_see_the_whole_batch(name, expected):
    from lingrad.train import batch_size_for

    assert batch_size_for(name, 90, 32) == expected
    assert batch_size_for(name, 90, 32) == (90 if optim.entry(name).full_batch else 32)


@pytest.mark.parametrize("counts", [[25, 10, 5], [1, 1, 8], [3, 0, 7]])
def test_balanced_class_weights_equal_scikit_learns(counts):
    compute_class_weight = pytest.importorskip("sklearn.utils.class_weight").compute_class_weight
    from lingrad.train import balanced_class_weights

    y = np.repeat(np.arange(len(counts)), counts)
    present = np.unique(y)
    theirs = compute_class_weight("balanced", classes=present, y=y)
    ours = balanced_class_weights(np.bincount(y, minlength=len(counts)))
    np.testing.assert_array_equal(ours[present], theirs)
    assert np.all(ours[np.bincount(y, minlength=len(counts)) == 0] == 0)


@pytest.mark.parametrize("name", ["random", "local", "genetic"])
def test_fit_never_spends_past_the_evaluation_budget(name):
    X, y = blobs()
    J = Objective("softmax", X, y)
    r = fit(J, optim.get(name), n_columns=3, epochs=1000, rng=RNG(0), max_evaluations=400)
    assert r.n_evaluations == 400
    assert r.stop is not None and r.stop.reason is StopReason.BUDGET


def test_the_diagnosis_compares_the_final_loss_with_the_chance_loss():
    X, y = blobs()
    J = Objective("softmax", X, y)
    # one tiny step: the loss stays at ln 3, the chance loss; never called converged
    r = fit(J, SGD(1e-9), n_columns=3, epochs=3, rng=RNG(0), W0=np.zeros((5, 3)))
    assert r.diagnostics["near_chance"] and not r.diagnostics["converged"]


# -- the epoch at the loop's floor: the NaN/inf check fused into the batch losses -------------


@pytest.fixture
def deferred(monkeypatch):
    """Every dense X counts as large: its NaN/inf check is left to first use."""
    import lingrad._validation
    import lingrad.objective

    monkeypatch.setattr(lingrad.objective, "DEFER_FINITE_ELEMENTS", 1)
    monkeypatch.setattr(lingrad._validation, "DEFER_FINITE_ELEMENTS", 1)


def _with_bad(value, row=37, column=2, n=120, d=5):
    X, y = blobs(n=n, d=d)
    X[row, column] = value
    return X, y


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_fit_refuses_a_non_finite_X_at_the_batch_that_holds_it(deferred, value):
    X, y = _with_bad(value)
    J = Objective("softmax", X, y)
    assert not J.finite_checked  # no pass over X at construction
    with pytest.raises(ValueError, match=r"^X: expected finite values, got .* \(row 37\)$"):
        fit(J, SGD(0.1), n_columns=3, epochs=1, batch_size=16, rng=RNG(0))


def test_the_bad_batch_leaves_the_weights_unchanged(deferred):
    from lingrad.train.callbacks import DivergenceGuard
    from lingrad.train.loop import initial_state
    from lingrad.train.runners import MiniBatch

    X, y = _with_bad(np.nan, row=5)
    J = Objective("softmax", X, y)
    J.targets(3)
    guard = DivergenceGuard(100.0, 1e8)
    runner = MiniBatch(J, SGD(0.1), batch_size=4, gradient="analytic", guard=guard)
    state = initial_state(J, SGD(0.1), 3, None, RNG(0))
    assert runner.step(state, np.array([0, 1, 2, 3]), [])  # a good batch: one step
    W = state.W.copy()
    with pytest.raises(ValueError, match=r"got nan at index \(5, 2\) \(row 5\)"):
        runner.step(state, np.array([9, 5, 7, 8]), [])
    np.testing.assert_array_equal(state.W, W)
    assert state.iteration == 1 and state.stop is None


def test_a_finite_hinge_loss_over_inf_still_refuses_X(deferred):
    # scores +inf for the true class and -inf for the others: the hinge loss of the row is 0
    # (finite), its gradient inf * 0 = nan: the gradient triggers the check.
    X = np.array([[1.0, 0.0], [0.0, 1.0], [np.inf, 0.0], [0.0, -1.0]])
    y = np.array([0, 1, 0, 1])
    W = np.array([[1.0, -1.0], [0.0, 0.0], [0.0, 0.0]])
    J = Objective("hinge", X, y)
    J.targets(2)
    rows = np.array([2, 3])
    per_row = J.loss_spec.kernel(np.array([[np.inf, -np.inf]]), y[[2]])[0]
    assert np.isfinite(per_row).all()  # the premise: a finite loss for the row of inf
    with pytest.raises(ValueError, match=r"got inf at index \(2, 0\) \(row 2\)"):
        J.value_and_grad_unchecked(W, rows)


def test_whole_data_uses_check_X_up_front(deferred):
    X, y = _with_bad(np.inf, row=3, column=1)
    W = np.zeros((6, 3))
    for use in (
        lambda J: J.value(W),
        lambda J: J.value_and_grad(W),
        lambda J: J.evaluate(J.check_weights(W)),
        lambda J: J.X,
        lambda J: fit(J, SGD(0.1), n_columns=3, epochs=1, rng=RNG(0)),  # full batch
    ):
        with pytest.raises(ValueError, match=r"^X: expected finite values, got inf at index \(3,"):
            use(Objective("softmax", X, y))


def test_a_finite_large_X_is_checked_by_no_pass_of_fit(deferred, monkeypatch):
    import lingrad._validation
    import lingrad.objective

    cut = Objective("softmax", *blobs(n=120, d=5))
    stopped = fit(cut, SGD(1e30), n_columns=3, epochs=1, batch_size=16, rng=RNG(0))
    assert stopped.stop is not None and not cut.finite_checked  # an epoch cut short vouches not

    real = lingrad._validation.check_finite

    def no_pass(name, a, *args):
        assert name != "X", "a pass over X to check it"
        return real(name, a, *args)

    X, y = blobs(n=120, d=5)
    J = Objective("softmax", X, y)
    monkeypatch.setattr(lingrad._validation, "check_finite", no_pass)
    monkeypatch.setattr(lingrad.objective, "check_finite", no_pass)
    r = fit(J, SGD(0.1), n_columns=3, epochs=2, batch_size=16, rng=RNG(0))
    assert r.n_iter == 16 and J.finite_checked  # a whole epoch of finite steps vouches for X
    assert np.isfinite(J.value(r.W))  # no pass to check X before this one
    plain = fit(Objective("softmax", X, y), SGD(0.1), n_columns=3, epochs=2, batch_size=16,
                rng=RNG(0))  # fmt: skip
    np.testing.assert_array_equal(r.W, plain.W)


def test_the_estimator_leaves_a_large_X_to_the_fused_check(deferred):
    from lingrad.estimators import LinearClassifier

    X, y = _with_bad(np.nan, row=11, column=0)
    clf = LinearClassifier(optimizer="sgd", batch_size=16, max_iter=1, random_state=0)
    with pytest.raises(ValueError, match=r"^X: expected finite values, got nan .*\(row 11\)$"):
        clf.fit(X, y)


def test_small_X_is_still_refused_at_construction():
    X, y = _with_bad(np.nan)
    with pytest.raises(ValueError, match=r"^X: expected finite values, got nan at index \(37, 2\)"):
        Objective("softmax", X, y)


def test_compiled_mini_batch_products_match_float64_numpy(monkeypatch):
    import lingrad.objective
    from lingrad import _skinny

    if not _skinny.AVAILABLE:
        pytest.fail("Numba is not installed: the compiled path cannot be checked")
    monkeypatch.setattr(lingrad.objective, "SKINNY_MIN_ELEMENTS", 1)
    rng = RNG(3)
    X = rng.standard_normal((300, 37)).astype(np.float32)
    y = rng.integers(0, 6, 300)
    W = (0.1 * rng.standard_normal((38, 6))).astype(np.float32)
    J = Objective("softmax", X, y)
    J.targets(6)
    assert J.compiled(6)
    rows = rng.permutation(300)[:50]
    buffer = np.empty((64, 37), dtype=np.float32)
    value, dW = J.value_and_grad_unchecked(W, rows, out=buffer)
    # the oracle: the softmax gradient of the batch in float64, written out
    Xb, W64 = X[rows].astype(np.float64), W.astype(np.float64)
    S = Xb @ W64[:-1] + W64[-1]
    P = np.exp(S - S.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    expected = -np.mean(np.log(P[np.arange(50), y[rows]]))
    P[np.arange(50), y[rows]] -= 1.0
    P /= 50
    assert value == pytest.approx(expected, rel=1e-5)
    np.testing.assert_allclose(dW[:-1], Xb.T @ P, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(dW[-1], P.sum(axis=0), rtol=1e-4, atol=1e-6)


def test_fit_runs_compiled_steps_on_one_thread_and_restores_the_count(monkeypatch):
    import lingrad.objective
    from lingrad import _skinny

    monkeypatch.setattr(lingrad.objective, "SKINNY_MIN_ELEMENTS", 1)
    _skinny.threads()
    import numba

    seen = []
    real = _skinny.accumulate

    def spy(X, G, outT, rows=None):
        seen.append(numba.get_num_threads())
        assert rows is not None and X is J.X  # the batch read in place, not gathered
        return real(X, G, outT, rows=rows)

    monkeypatch.setattr(_skinny, "accumulate", spy)
    before = numba.get_num_threads()
    X, y = blobs(n=120, d=6, c=4, dtype=np.float32)
    J = Objective("softmax", X, y)
    r = fit(J, SGD(0.1), n_columns=4, epochs=1, batch_size=16, rng=RNG(0))
    assert seen == [1] * r.n_iter and r.n_iter == 8
    assert numba.get_num_threads() == before


def test_a_diverging_run_over_finite_deferred_X_still_stops_as_diverged(deferred):
    X, y = blobs(n=120, d=5)
    J = Objective("softmax", 1e30 * X, y)  # finite, but the scores overflow to inf
    r = fit(J, SGD(1e10), n_columns=3, epochs=3, batch_size=16, rng=RNG(0))
    assert r.stop is not None and r.stop.reason is StopReason.DIVERGED
    assert np.isfinite(r.W).all()


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_compiled_mini_batches_equal_the_blas_ones(monkeypatch, weighted, fit_intercept):
    import lingrad.objective

    rng = RNG(5)
    X = rng.standard_normal((203, 29)).astype(np.float32)
    y = rng.integers(0, 5, 203)
    w = rng.uniform(0.5, 2.0, 203) if weighted else None
    W = (0.1 * rng.standard_normal((30, 5))).astype(np.float32)
    if not fit_intercept:
        W[-1] = 0.0
    rows = rng.permutation(203)[:61]
    results = []
    for threshold in (1, 2**62):  # compiled, then BLAS
        monkeypatch.setattr(lingrad.objective, "SKINNY_MIN_ELEMENTS", threshold)
        J = Objective("softmax", X, y, lam=0.01, sample_weight=w, fit_intercept=fit_intercept)
        J.targets(5)
        assert J.compiled(5) == (threshold == 1)
        results.append(J.value_and_grad_unchecked(W, rows, out=np.empty((64, 29), np.float32)))
    (v1, g1), (v2, g2) = results
    assert v1 == pytest.approx(v2, rel=1e-5)
    np.testing.assert_allclose(g1, g2, rtol=1e-4, atol=1e-6)
    assert fit_intercept or not g1[-1].any()


@pytest.mark.parametrize(
    ("loss", "C", "weighted"),
    [("softmax", 3, False), ("softmax", 3, True), ("multiclass_hinge", 3, True),
     ("logistic", 1, False), ("crammer_singer", 3, False), ("squared_error", 1, True)],
)  # fmt: skip
def test_chance_loss_is_the_mean_loss_of_zero_scores(loss, C, weighted):
    from lingrad.train.diagnostics import chance_loss

    X, y = blobs(n=90, d=4, c=3)
    if C == 1:
        y = (y == 1).astype(int)
    w = RNG(1).uniform(0.1, 3.0, 90) if weighted else None
    J = Objective(loss, X, y, sample_weight=w, lam=0.3)
    W0 = np.zeros((5, C))
    # the oracle: J(0) from a full pass (R(0) = 0)
    assert chance_loss(J, C) == pytest.approx(J.value(W0), rel=1e-12)


def test_blas_threads_hold_one_thread_and_restore_each_librarys_count():
    """The small-problem BLAS limit: one thread inside (threadpoolctl's own report; the BLAS
    libraries loaded at the first limit are the ones held), each library's count before it
    back after, also when the block raises."""
    from threadpoolctl import threadpool_info, threadpool_limits

    from lingrad.train.runners import blas_threads

    def counts():
        return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]

    with threadpool_limits(2, user_api="blas"):
        before = counts()
        with blas_threads(10, 10):
            inside = counts()
        assert 1 in inside and (inside != before or set(before) == {1})  # 1 CPU: 2 is 1
        assert counts() == before
        with pytest.raises(RuntimeError), blas_threads(10, 10):
            raise RuntimeError("inside")
        assert counts() == before


def test_solver_epochs_record_one_step_each_and_no_callback_changes_nothing():
    """A solver's epochs (one iteration each, no batches): the epoch and step histories agree
    with the solver's own figures; a user callback that never stops leaves the run as it was."""
    from lingrad.optim.solvers import LBFGS

    data = datasets.load("iris")
    X = datasets.Standardizer().fit(data.X_train).transform(data.X_train)
    J = Objective("softmax", X, data.y_train, lam=1e-3)
    W0 = np.zeros((X.shape[1] + 1, 3))
    seen: list[int] = []
    quiet, watched = (
        fit(J, LBFGS(tol=1e-6), n_columns=3, W0=W0, epochs=100, rng=np.random.default_rng(0),
            callbacks=cbs)
        for cbs in ((), [lambda epoch, logs, W: seen.append(epoch)])
    )  # fmt: skip
    assert quiet.stop is not None and quiet.stop.reason is StopReason.CONVERGED
    assert quiet.n_epochs == quiet.n_iter == len(quiet.history["loss"]) == len(seen)
    assert quiet.history["loss"] == quiet.step_history["loss"]
    assert quiet.history["grad_norm"] == quiet.step_history["grad_norm"]
    assert quiet.history["grad_norm"][-1] <= 1e-6 < quiet.history["grad_norm"][-2]
    np.testing.assert_array_equal(quiet.W, watched.W)
    assert quiet.history == watched.history


def test_blas_limit_leaves_a_library_already_on_one_thread_alone():
    """A library the caller holds to one thread is neither set on entry nor on exit (no
    threadpoolctl call: a small fit's fixed cost); one on more threads is set to one and back."""
    from lingrad.train.runners import _OneBlasThread

    class Library:
        def __init__(self, threads: int) -> None:
            self.num_threads, self.calls = threads, []

        def set_num_threads(self, n: int) -> None:
            self.calls.append(n)
            self.num_threads = n

    one, four = Library(1), Library(4)
    with _OneBlasThread([one, four]):
        assert (one.num_threads, four.num_threads) == (1, 1)
    assert (one.calls, four.calls) == ([], [1, 4])
    assert (one.num_threads, four.num_threads) == (1, 4)


def test_fit_without_diagnosis_returns_the_same_run():
    """``diagnose=False`` skips the diagnosis (and the chance loss) and nothing else: the same
    weights, histories and stop as the diagnosed run, ``diagnostics`` left empty."""
    from lingrad.optim.solvers import LBFGS

    data = datasets.load("iris")
    J = Objective("softmax", data.X_train, data.y_train, lam=1e-2)
    runs = [
        fit(J, LBFGS(tol=1e-6), n_columns=3, epochs=30, rng=RNG(0), diagnose=d)
        for d in (True, False)
    ]
    full, bare = runs
    np.testing.assert_array_equal(full.W, bare.W)
    assert full.history == bare.history and full.step_history == bare.step_history
    assert full.stop == bare.stop and full.n_iter == bare.n_iter
    assert full.diagnostics["advice"] and bare.diagnostics == {}
