"""The command line: `make run`'s job end to end, and bad input as clear errors."""

import re
import subprocess
import sys

import pytest

from lingrad.cli import main


@pytest.mark.slow
def test_make_run_job_reaches_095_on_digits(tmp_path):
    out = subprocess.run(
        # what `make run` runs: the lecture's mini-batch SGD
        [
            sys.executable,
            "-m",
            "lingrad",
            "train",
            "--dataset",
            "digits",
            "--loss",
            "softmax",
            "--optimizer",
            "sgd",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    ).stdout
    for split in ("train", "validation"):
        assert re.search(rf"^{split} accuracy: [01]\.\d{{4}}$", out, re.M), out
    last = out.strip().splitlines()[-1]
    match = re.fullmatch(r"test accuracy: (0\.\d{4})", last)
    assert match, out
    assert float(match.group(1)) >= 0.95


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--loss", "squared_error"], "'squared_error' needs a regression dataset"),
        (
            ["train", "--optimizer", "sgd", "--learning-rate", "-1", "--epochs", "1"],
            "learning_rate: expected a finite number > 0",
        ),
        (["train", "--batch-size", "0", "--epochs", "1"], "batch_size: expected an integer >= 1"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("option", ["--dataset", "--loss"])
def test_unknown_dataset_or_loss_is_an_argparse_error(option, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["train", option, "nope"])
    assert exc.value.code == 2
    assert "invalid choice: 'nope'" in capsys.readouterr().err


def test_a_closed_pipe_ends_quietly(monkeypatch, capsys):
    import os

    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone, as after `lingrad explain | head -1`
    with os.fdopen(write_end, "w", buffering=1) as closed_pipe:
        monkeypatch.setattr(sys, "stdout", closed_pipe)
        assert main(["explain"]) == 141
    assert "Traceback" not in capsys.readouterr().err
