"""Expected failures of the command line are one ``lingrad: error: ...`` line and exit status 2,
never a traceback (issue 16, defect 5): unwritable outputs, truncated or random files, sizes
that do not fit in memory. Unexpected exceptions (bugs) keep their traceback.
"""

from __future__ import annotations

import io as io_
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lingrad import datasets, io
from lingrad.cli import main
from lingrad.cli.gradcheck import MAX_RANDOM_SIZE
from lingrad.estimators import LinearClassifier


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """An iris model file, an input .npz for it, and a run folder written by ``lingrad train``."""
    root = tmp_path_factory.mktemp("cli_errors")
    data = datasets.load("iris", preprocess="standardize")
    model = LinearClassifier(random_state=0).fit(data.X_train, data.y_train)
    model_path = io.save(model, root / "iris.npz", preprocessing=data.preprocessing)
    inputs = root / "inputs.npz"
    np.savez(inputs, X=data.X_test)
    args = ["train", "--dataset", "iris", "--epochs", "2", "--no-report", "-q"]
    assert main([*args, "--name", "run", "--runs-dir", str(root / "runs")]) == 0
    return {"root": root, "model": model_path, "inputs": inputs, "run": root / "runs" / "run"}


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("lingrad: error: "), err
    return lines[0]


def test_predict_output_that_is_a_directory(files, tmp_path, capsys):
    argv = ["predict", str(files["model"]), str(files["inputs"])]
    assert main([*argv, "-o", str(tmp_path)]) == 2
    line = one_error_line(capsys)
    assert "-o/--output" in line and str(tmp_path) in line and "Is a directory" in line


@pytest.mark.parametrize("under", ["x.csv", "sub/x.csv"])
def test_predict_output_under_a_file(files, tmp_path, capsys, under):
    blocking = tmp_path / "plain"
    blocking.write_text("a file")
    argv = ["predict", str(files["model"]), str(files["inputs"])]
    assert main([*argv, "-o", str(blocking / under)]) == 2
    line = one_error_line(capsys)
    assert f"{blocking} is a file, not a folder" in line
    assert blocking.read_text() == "a file"


def test_train_runs_dir_that_is_a_file(tmp_path, capsys):
    runs_dir = tmp_path / "runs"
    runs_dir.write_text("not a folder")
    argv = ["train", "--dataset", "iris", "--epochs", "1", "--no-report", "-q"]
    assert main([*argv, "--runs-dir", str(runs_dir)]) == 2
    assert str(runs_dir) in one_error_line(capsys)


@pytest.mark.parametrize("command", ["plot", "explain"])
@pytest.mark.parametrize("keep", [0.1, 0.5, 0.95])
def test_truncated_run_model(files, tmp_path, capsys, command, keep):
    run = tmp_path / "run"
    shutil.copytree(files["run"], run)
    data = (run / "model.npz").read_bytes()
    (run / "model.npz").write_bytes(data[: int(len(data) * keep)])
    assert main([command, str(run)]) == 2
    assert f"{run / 'model.npz'}: " in one_error_line(capsys)


def test_run_model_with_a_damaged_member(files, tmp_path, capsys):
    """A zip whose directory is intact but whose member is garbage: not a traceback."""
    run = tmp_path / "run"
    shutil.copytree(files["run"], run)
    with zipfile.ZipFile(run / "model.npz", "w") as z:
        z.writestr("W.npy", b"\x93NUMPY garbage")
    assert main(["explain", str(run)]) == 2
    assert str(run / "model.npz") in one_error_line(capsys)


def test_gradcheck_refuses_sizes_that_do_not_fit_before_allocating(capsys):
    assert main(["gradcheck", "--n", "100000000", "--d", "100000"]) == 2
    line = one_error_line(capsys)
    assert "--n x --d" in line and f"{MAX_RANDOM_SIZE:,}" in line


def test_gradcheck_refuses_too_many_classes(capsys):
    assert main(["gradcheck", "--n", "10", "--d", "2", "--classes", "20000000"]) == 2
    assert "--classes" in one_error_line(capsys)


def test_derive_refuses_too_many_columns(capsys):
    assert main(["derive", "--loss", "softmax", "--columns", "1000"]) == 2
    line = one_error_line(capsys)
    assert "--columns" in line and "1000" in line


def test_memory_error_is_one_line(monkeypatch, capsys):
    import lingrad.cli.explain as explain

    def out_of_memory(args):
        raise MemoryError("Unable to allocate 80.0 GiB")

    monkeypatch.setattr(explain, "run", out_of_memory)
    assert main(["explain"]) == 2
    assert "not enough memory (Unable to allocate 80.0 GiB)" in one_error_line(capsys)


def test_unexpected_exceptions_keep_their_traceback(monkeypatch):
    import lingrad.cli.explain as explain

    def bug(args):
        raise KeyError("a bug, not a file")

    monkeypatch.setattr(explain, "run", bug)
    with pytest.raises(KeyError, match="a bug"):
        main(["explain"])
    monkeypatch.setattr(explain, "run", lambda args: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        main(["explain"])


# --- random bytes where the commands take files ------------------------------------------


def _zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io_.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buffer.getvalue()


def _valid_prefix(path: Path) -> st.SearchStrategy[bytes]:
    data = path.read_bytes()
    return st.integers(0, len(data) - 1).map(lambda k: data[:k])


names = st.sampled_from(["W.npy", "X.npy", "y.npy", "metadata.npy", "classes.npy", "x"])
zips = st.dictionaries(names, st.binary(max_size=200), max_size=3).map(_zip_of)
npy_like = st.binary(max_size=300).map(lambda b: b"\x93NUMPY\x01\x00" + b)
texts = st.text(alphabet="0123456789.,;\"'\n\r-eE label\x00é", max_size=400)
csv_like = st.tuples(st.sampled_from(["", "a,b,c,d,label\n", "x\n"]), texts).map(
    lambda t: (t[0] + t[1]).encode("utf-8")
)


def _garbage(valid: Path) -> st.SearchStrategy[bytes]:
    return st.one_of(st.binary(max_size=500), zips, npy_like, csv_like, _valid_prefix(valid))


def _check_rejected(argv: list[str], capsys) -> None:
    capsys.readouterr()
    assert main(argv) == 2
    one_error_line(capsys)


#: ~30 random files per test (LINGRAD_FUZZ_EXAMPLES=300 for a longer search).
FUZZ = settings(
    max_examples=int(os.environ.get("LINGRAD_FUZZ_EXAMPLES", "30")),
    deadline=5000,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def scratch():
    with tempfile.TemporaryDirectory() as tmp:
        yield Path(tmp)


@pytest.mark.parametrize("suffix", [".npz", ".csv"])
@FUZZ
@given(data=st.data())
def test_predict_random_input_file(files, scratch, capsys, suffix, data):
    path = scratch / f"input{suffix}"
    path.write_bytes(data.draw(_garbage(files["inputs"])))
    out = str(scratch / "o.csv")
    _check_rejected(["predict", str(files["model"]), str(path), "-o", out], capsys)
    assert not (scratch / "o.csv").exists()


@FUZZ
@given(data=st.data())
def test_predict_random_model_file(files, scratch, capsys, data):
    path = scratch / "model.npz"
    path.write_bytes(data.draw(_garbage(files["model"])))
    out = str(scratch / "o.csv")
    _check_rejected(["predict", str(path), str(files["inputs"]), "-o", out], capsys)


@FUZZ
@given(data=st.data())
def test_evaluate_random_model_file(files, scratch, capsys, data):
    path = scratch / "model.npz"
    path.write_bytes(data.draw(_garbage(files["model"])))
    _check_rejected(["evaluate", str(path), "--dataset", "iris"], capsys)


@pytest.mark.parametrize("suffix", [".npz", ".csv"])
@FUZZ
@given(data=st.data())
def test_evaluate_random_dataset_file(files, scratch, capsys, suffix, data):
    path = scratch / f"data{suffix}"
    path.write_bytes(data.draw(_garbage(files["inputs"])))
    _check_rejected(["evaluate", str(files["model"]), "--dataset", str(path)], capsys)


@pytest.mark.parametrize("command", ["plot", "explain"])
@FUZZ
@given(data=st.data())
def test_run_folder_with_random_model(files, scratch, capsys, command, data):
    run = scratch / f"run-{command}"
    if not run.exists():
        shutil.copytree(files["run"], run)
    (run / "model.npz").write_bytes(data.draw(_garbage(files["run"] / "model.npz")))
    extra = ["--landscape-rows", "0"] if command == "plot" else []
    _check_rejected([command, str(run), *extra], capsys)


@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_csv_with_a_stray_quote_names_the_file(files, tmp_path, capsys, command):
    path = tmp_path / "data.csv"
    path.write_text('a,b,c,d,label\n"1,2,3,4,0\n' + "5,6,7,8,1\n" * 20_000)  # field > limit
    if command == "predict":
        argv = ["predict", str(files["model"]), str(path), "-o", str(tmp_path / "o.csv")]
    else:
        argv = ["evaluate", str(files["model"]), "--dataset", str(path)]
    assert main(argv) == 2
    line = one_error_line(capsys)
    assert f"{path}: " in line and "field larger than field limit" in line


@FUZZ
@given(data=st.data())
def test_train_resume_random_checkpoint(files, scratch, capsys, data):
    """``train`` takes no data file today (``--dataset`` is a name): its file is the
    checkpoint of ``--resume``."""
    run = scratch / "resume"
    if not run.exists():
        shutil.copytree(files["run"], run)
        (run / "metrics.json").unlink()  # a run killed before it finished: its checkpoint is read
    (run / "checkpoint.npz").write_bytes(data.draw(_garbage(files["run"] / "checkpoint.npz")))
    _check_rejected(["train", "--resume", str(run), "-q", "--no-report"], capsys)
