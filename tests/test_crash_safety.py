"""Crash safety of ``lingrad train``: a run killed with SIGKILL at any point resumes to the
same weights, histories and metrics as an uninterrupted run, bit for bit; one process trains a
run folder at a time; the exit statuses of diverged runs and sweeps.

The kills come from the fault-injection hook :mod:`lingrad.train.faults`: a child process
(``os.fork`` of this one, so that it starts in milliseconds with the data already loaded) runs
``lingrad.cli.main(["train", ...])`` with ``LINGRAD_KILL_AT=k`` and sends itself SIGKILL at its
k-th fault point: after ``config.json`` is written, after an epoch, before a checkpoint write,
with the checkpoint's temp file written but not renamed, after the rename, before the final
files. No ``finally`` runs, as in a real crash.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from lingrad import runs
from lingrad.cli import main
from lingrad.cli.train import LOCK, load_data, run_lock
from lingrad.train.faults import KILL_AT, TRACE

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork and SIGKILL")

KILLED = -signal.SIGKILL


def spawn(argv: list[str], kill_at: int | None = None, trace: Path | None = None) -> int:
    """Run ``lingrad`` ``argv`` in a forked child; its exit code (``-9`` when killed)."""
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 99
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            if kill_at is not None:
                os.environ[KILL_AT] = str(kill_at)
            if trace is not None:
                os.environ[TRACE] = str(trace)
            code = main(argv)
        except BaseException:
            code = 98
        finally:
            os._exit(code)
    deadline = time.monotonic() + 120
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail(f"lingrad {' '.join(argv)} ran over 120 s")
        time.sleep(0.005)


@pytest.fixture(autouse=True)
def _warm() -> None:
    """Load the data once here: the forked children find it in load_data's cache."""
    load_data("digits", 0, None)


def files(run_dir: Path) -> set[str]:
    return {p.name for p in run_dir.iterdir()}


def assert_same_run(a: Path, b: Path) -> None:
    """The two run folders hold the same files with the same content (but the timing)."""
    assert (
        files(a)
        == files(b)
        == {
            "config.json",
            "metrics.json",
            "history.json",
            "model.npz",
            "checkpoint.npz",
        }
    )  # no temp file, no lock left
    for name in ("model.npz", "checkpoint.npz"):
        A, B = runs.load_npz(a / name), runs.load_npz(b / name)
        assert sorted(A) == sorted(B)
        for key in A:
            np.testing.assert_array_equal(A[key], B[key], err_msg=f"{name}[{key}]")
    assert "trajectory" in runs.load_npz(a / "model.npz")
    for name in ("config.json", "history.json"):
        assert (a / name).read_text() == (b / name).read_text()
    ma, mb = (runs.read_json(d / "metrics.json") for d in (a, b))
    ma.pop("seconds"), mb.pop("seconds")
    assert ma == mb


def test_a_run_killed_before_it_ends_resumes_from_its_checkpoint(tmp_path):
    """Issue 16, defect 1: ``kill -9`` during training, then ``--resume``: config.json was
    there from the start, and the resumed run keeps the weight trajectory in model.npz."""
    argv = ["train", "-q", "--no-report", "--runs-dir", str(tmp_path), "--epochs", "4"]
    argv += ["--checkpoint-every", "1"]
    assert spawn([*argv, "--name", "whole"]) == 0
    # fault points: config 1, epoch 1: epoch 2, checkpoint start 3, temp 4, done 5; epoch 2: 6
    trace = tmp_path / "trace"
    assert spawn([*argv, "--name", "k"], kill_at=6, trace=trace) == KILLED
    assert trace.read_text() == "epoch\n"
    run_dir = tmp_path / "k"
    assert files(run_dir) == {"config.json", "checkpoint.npz", LOCK}
    assert spawn(["train", "-q", "--no-report", "--resume", str(run_dir)]) == 0
    assert_same_run(tmp_path / "whole", run_dir)


def test_a_run_killed_before_its_first_checkpoint_starts_again(tmp_path):
    argv = ["train", "-q", "--no-report", "--runs-dir", str(tmp_path), "--epochs", "2"]
    assert spawn([*argv, "--name", "whole"]) == 0
    assert spawn([*argv, "--name", "k"], kill_at=1) == KILLED  # right after config.json
    assert files(tmp_path / "k") == {"config.json", LOCK}
    assert spawn(["train", "-q", "--no-report", "--resume", str(tmp_path / "k")]) == 0
    assert_same_run(tmp_path / "whole", tmp_path / "k")


@pytest.mark.slow
def test_sigkill_at_a_seeded_schedule_of_kill_points_changes_nothing(tmp_path):
    """The crash-safety proof: one run killed with SIGKILL 20+ times at seeded fault points
    (after config.json, after epochs, before / during / after checkpoint writes), resumed
    after each kill, ends exactly as the uninterrupted run: weights, trajectory, checkpoint,
    history and metrics bit for bit, and no temp or lock file left behind."""
    argv = ["train", "-q", "--no-report", "--runs-dir", str(tmp_path), "--epochs", "24"]
    argv += ["--optimizer", "adam", "--early-stopping", "--patience", "100"]
    argv += ["--checkpoint-every", "1"]
    assert spawn([*argv, "--name", "whole"]) == 0
    run_dir, trace = tmp_path / "crash", tmp_path / "trace"
    # A resumed process passes 1 + 4 fault points per epoch: up to 10 is 0 to 2 epochs.
    schedule = [1, *np.random.default_rng(16).integers(1, 11, size=100).tolist()]
    kills, finished = 0, False
    for i, k in enumerate(schedule):
        command = (
            [*argv, "--name", "crash"] if i == 0 else ["train", "-q", "--resume", str(run_dir)]
        )
        code = spawn([*command, "--no-report"] if i else command, kill_at=k, trace=trace)
        if code == 0:
            finished = True
            break
        assert code == KILLED, f"kill point {k} of process {i}: exit {code}"
        kills += 1
    print(f"{kills} kills")
    assert finished and kills >= 20, kills
    stages = set(trace.read_text().split())
    assert stages >= {"config", "epoch", "checkpoint:start", "checkpoint:temp", "checkpoint:done"}
    assert_same_run(tmp_path / "whole", run_dir)


def test_a_second_process_on_a_run_folder_is_refused_and_a_stale_lock_is_not(tmp_path, capsys):
    """Issue 16, defect 7: two resumes of one folder; the lock of a killed process is free."""
    argv = ["train", "-q", "--no-report", "--runs-dir", str(tmp_path), "--epochs", "2"]
    assert main([*argv, "--name", "r"]) == 0
    run_dir = tmp_path / "r"
    before = (run_dir / "model.npz").read_bytes()
    with run_lock(run_dir):  # another process training it (flock: per open file)
        assert main(["train", "-q", "--no-report", "--resume", str(run_dir)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lingrad: error: ") and f"locked by process {os.getpid()}" in err
    assert (run_dir / "model.npz").read_bytes() == before
    (run_dir / LOCK).write_text("12345\n")  # a process killed holding it: the file, no lock
    assert main(["train", "-q", "--no-report", "--resume", str(run_dir), "--epochs", "3"]) == 0
    assert files(run_dir) >= {"model.npz"} and LOCK not in files(run_dir)
    assert len(runs.read_json(run_dir / "history.json")["loss"]) == 3


def test_resume_never_shortens_a_run(tmp_path, capsys):
    """Issue 16, defect 7: ``--resume --epochs 2`` on a 3-epoch run is refused, nothing
    rewritten (it used to rewrite config.json to 2 epochs)."""
    argv = ["train", "-q", "--no-report", "--runs-dir", str(tmp_path), "--epochs", "3"]
    assert main([*argv, "--name", "r"]) == 0
    config = (tmp_path / "r" / "config.json").read_text()
    assert main(["train", "-q", "--resume", str(tmp_path / "r"), "--epochs", "2"]) == 2
    err = capsys.readouterr().err
    assert "--epochs: expected at least the 3 epochs of" in err and "not shorten" in err
    assert (tmp_path / "r" / "config.json").read_text() == config
    assert main(["train", "-q", "--no-report", "--resume", str(tmp_path / "r")]) == 0


def test_a_diverged_run_exits_1_and_says_so_in_help(tmp_path, capsys):
    argv = ["train", "-q", "--no-report", "--runs-dir", str(tmp_path), "--epochs", "2"]
    assert main([*argv, "--optimizer", "sgd", "--learning-rate", "1e4", "--name", "hot"]) == 1
    assert "stopped: diverged" in capsys.readouterr().out
    assert runs.load_model(tmp_path / "hot" / "model.npz").shape == (65, 10)  # still saved
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    assert "1 the training diverged" in " ".join(capsys.readouterr().out.split())


def test_a_sweep_whose_every_trial_diverged_exits_1_and_saves_nothing(tmp_path, capsys):
    argv = ["sweep", "--runs-dir", str(tmp_path), "--name", "sw", "--epochs", "2", "--jobs", "1"]
    argv += ["--learning-rate-range", "1e4", "1e5", "--trials", "2", "--search", "random"]
    assert main(argv) == 1
    assert "every trial diverged (2 of 2)" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())
