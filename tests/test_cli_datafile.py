"""``lingrad train --dataset FILE``, then ``predict`` and ``evaluate`` on the user's own files.

Two parts:

* dense files (``.csv``, ``.npz``): pass on their own;
* sparse files (svmlight, sparse ``.npz``): the tests named ``test_sparse_*`` fit on a CSR
  matrix, so they need the sparse engine (the ``sparse`` branch: ``Objective``, the solvers,
  ``predict`` and the estimators accepting CSR). Run them alone with ``-k sparse``. The one
  that only reads a sparse file and refuses it (``test_a_centring_model_refuses_sparse_input``)
  passes without it.
"""

from __future__ import annotations

import csv
import re
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import dump_svmlight_file, load_iris

from lingrad import io, runs
from lingrad.cli import main
from lingrad.estimators import LinearClassifier


def train(tmp_path: Path, *args: str) -> int:
    return main(["train", "--runs-dir", str(tmp_path / "runs"), "-q", "--no-report", *args])


def only_run(tmp_path: Path) -> Path:
    (run,) = (tmp_path / "runs").iterdir()
    return run


def read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="") as f:
        header, *rows = list(csv.reader(f))
    return header, rows


def accuracy_line(text: str) -> float:
    return float(re.search(r"^accuracy: ([0-9.]+)$", text, re.M).group(1))


@pytest.fixture(scope="module")
def iris_csv(tmp_path_factory) -> Path:
    """Iris as a user's CSV: a header, the species by name in the middle column."""
    bunch = load_iris()
    path = tmp_path_factory.mktemp("csv") / "iris.csv"
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["sepal_length", "sepal_width", "species", "petal_length", "petal_width"])
        for x, k in zip(bunch.data, bunch.target, strict=True):
            w.writerow([*x[:2], bunch.target_names[k], *x[2:]])
    return path


# ------------------------------------------------------------------------------------------
# Dense files: pass today
# ------------------------------------------------------------------------------------------


def test_train_predict_evaluate_on_a_csv(iris_csv, tmp_path, capsys):
    assert train(tmp_path, "--dataset", str(iris_csv), "--label", "species") == 0
    out = capsys.readouterr().out
    assert "iris.csv: 105 train / 15 validation / 30 test examples, 4 features, 3 classes" in out
    run = only_run(tmp_path)
    config = runs.read_json(run / runs.CONFIG)
    assert config["label"] == "species" and config["n_features"] == 4
    assert config["class_names"] == ["setosa", "versicolor", "virginica"]
    metrics = runs.read_json(run / runs.METRICS)
    # evaluate: the run's dataset, split and label column by default: the test accuracy again
    assert main(["evaluate", str(run)]) == 0
    assert accuracy_line(capsys.readouterr().out) == pytest.approx(metrics["test_accuracy"], 1e-4)
    # predict: the label column of the run's CSV is left out; one row per input row
    out_csv = tmp_path / "pred.csv"
    assert main(["predict", str(run), str(iris_csv), "-o", str(out_csv)]) == 0
    header, rows = read_rows(out_csv)
    assert header[0] == "predicted_label" and len(rows) == 150
    truth = [r[2] for r in read_rows(iris_csv)[1]]
    names = config["class_names"]
    hits = np.mean([names[int(r[0])] == t for r, t in zip(rows, truth, strict=True)])
    assert hits > 0.9  # all 150 flowers, the training ones included


def test_csv_without_a_header_and_a_label_index(tmp_path, capsys):
    bunch = load_iris()
    path = tmp_path / "plain.csv"
    lines = [
        ",".join([str(k + 1), *map(str, x)]) for x, k in zip(bunch.data, bunch.target, strict=True)
    ]
    path.write_text("\n".join(lines) + "\n")
    assert train(tmp_path, "--dataset", str(path), "--label", "0") == 0
    run = only_run(tmp_path)
    assert runs.read_json(run / runs.CONFIG)["class_names"] == ["1", "2", "3"]
    capsys.readouterr()
    assert main(["evaluate", str(run), "--split", "all"]) == 0
    assert accuracy_line(capsys.readouterr().out) > 0.9


def test_train_on_a_dense_npz_then_predict(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5))
    y = np.where(X[:, 0] + X[:, 1] > 0, "yes", "no")
    np.savez(tmp_path / "d.npz", X=X, y=y)
    assert train(tmp_path, "--dataset", str(tmp_path / "d.npz")) == 0
    run = only_run(tmp_path)
    assert runs.read_json(run / runs.METRICS)["test_accuracy"] > 0.9
    np.savez(tmp_path / "new.npz", X=X[:10])
    assert (
        main(["predict", str(run), str(tmp_path / "new.npz"), "-o", str(tmp_path / "p.csv")]) == 0
    )
    _, rows = read_rows(tmp_path / "p.csv")
    names = runs.read_json(run / runs.CONFIG)["class_names"]
    assert np.mean([names[int(r[0])] == t for r, t in zip(rows, y[:10], strict=True)]) >= 0.8


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("a,b,label\n1,2,x\n3,4\n", r"bad\.csv: line 3: expected 3 values like the header, got 2"),
        ("a,b,label\n1,2,x\n3,oops,y\n", r"bad\.csv: line 3: expected numbers in every column"),
        ("a,b\n1,2\n", r"bad\.csv: label column: expected one of the header's columns"),
    ],
)
def test_a_bad_file_is_one_error_line(tmp_path, capsys, content, message):
    (tmp_path / "bad.csv").write_text(content)
    label = ("--label", "label") if content.startswith("a,b\n") else ()
    assert train(tmp_path, "--dataset", str(tmp_path / "bad.csv"), *label) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("lingrad: error: ") and re.search(message, err)
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_missing_file_and_unknown_name(tmp_path, capsys):
    assert train(tmp_path, "--dataset", str(tmp_path / "none.svm")) == 2
    assert "none.svm" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        train(tmp_path, "--dataset", "nope")
    assert "invalid choice: 'nope'" in capsys.readouterr().err


def test_help_says_files_are_read(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert ".svm/.libsvm/.svmlight" in text and "--label" in text and "--zero-based" in text


def sparse_set(rng: np.random.Generator, n: int, d: int, k: int = 3, nnz: int = 6):
    """A sparse classification set: ``nnz`` columns a row, labels ``1..k`` from a planted
    linear model."""
    rows = np.repeat(np.arange(n), nnz)
    cols = rng.integers(0, d, n * nnz)
    X = sp.csr_matrix((rng.random(n * nnz) + 0.5, (rows, cols)), shape=(n, d))
    X.sum_duplicates()
    W = rng.normal(size=(d, k))
    return X, np.asarray(np.argmax(X @ W, axis=1)).ravel() + 1


def test_a_centring_model_refuses_sparse_input(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X, y = sparse_set(rng, 60, 8)
    model = LinearClassifier(random_state=0).fit(X.toarray(), y)
    path = io.save(model, tmp_path / "m.npz", preprocessing=_standardizer(X.toarray()))
    dump_svmlight_file(X, y, str(tmp_path / "in.svm"), zero_based=False)
    out = str(tmp_path / "o.csv")
    assert main(["predict", str(path), str(tmp_path / "in.svm"), "-o", out]) == 2
    err = capsys.readouterr().err
    assert "expected dense data for this model (it centres its features), got a sparse" in err


def _standardizer(X):
    from lingrad.datasets import Preprocessing

    return Preprocessing("standardize").fit(X)


# ------------------------------------------------------------------------------------------
# Sparse files: need the sparse engine (branch `sparse`)
# ------------------------------------------------------------------------------------------


@pytest.fixture
def svm_run(tmp_path, capsys):
    """A run trained on a one-based svmlight file (labels 1..3): the run folder, X, y."""
    rng = np.random.default_rng(1)
    X, y = sparse_set(rng, 600, 40)
    dump_svmlight_file(X, y, str(tmp_path / "train.svm"), zero_based=False)
    argv = ["train", "--runs-dir", str(tmp_path / "runs"), "-q", "--dataset"]
    assert main([*argv, str(tmp_path / "train.svm")]) == 0, capsys.readouterr()  # with report
    return only_run(tmp_path), X, y


def test_sparse_train_records_width_base_and_folds_the_scale(svm_run, capsys):
    run, X, y = svm_run
    out = capsys.readouterr().out
    assert "report: none (sparse data" in out
    config = runs.read_json(run / runs.CONFIG)
    assert config["standardize"] is False and config["zero_based"] is False
    assert config["n_features"] == X.shape[1] and config["class_names"] == ["1", "2", "3"]
    W = runs.load_model(run / runs.MODEL)
    assert W.shape == (X.shape[1] + 1, 3)
    # the saved W takes raw features: its accuracy on all rows, computed by hand
    predicted = np.argmax(X.toarray() @ W[:-1] + W[-1], axis=1) + 1
    assert np.mean(predicted == y) > 0.8
    assert not (run / "index.html").exists()


def test_sparse_predict_on_a_narrower_file_and_refuse_a_wider_one(svm_run, tmp_path, capsys):
    run, X, y = svm_run
    W = runs.load_model(run / runs.MODEL)
    narrow = X[:20, :10]  # uses 10 of the 40 columns
    dump_svmlight_file(narrow, y[:20], str(tmp_path / "narrow.svm"), zero_based=False)
    out = tmp_path / "p.csv"
    assert main(["predict", str(run), str(tmp_path / "narrow.svm"), "-o", str(out)]) == 0
    _, rows = read_rows(out)
    padded = np.hstack([narrow.toarray(), np.zeros((20, 30))])
    expected = np.argmax(padded @ W[:-1] + W[-1], axis=1)
    assert [int(r[0]) for r in rows] == expected.tolist()
    (tmp_path / "wide.svm").write_text("1 3:1\n2 45:1\n")
    capsys.readouterr()
    assert main(["predict", str(run), str(tmp_path / "wide.svm"), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "wide.svm: line 2: expected feature indices within the model's width 40" in err
    assert "got feature index 45" in err


def test_sparse_evaluate_repeats_the_test_accuracy(svm_run, capsys):
    run, _, _ = svm_run
    metrics = runs.read_json(run / runs.METRICS)
    capsys.readouterr()
    assert main(["evaluate", str(run)]) == 0
    assert accuracy_line(capsys.readouterr().out) == pytest.approx(metrics["test_accuracy"], 1e-4)


def test_sparse_training_never_densifies(tmp_path, capsys):
    """2,000 rows x 400,000 columns: 6.4 GB dense, under 1 MB as CSR. The whole command
    (read, split, scale, fit, metrics, save) stays within a small bound."""
    rng = np.random.default_rng(2)
    X, y = sparse_set(rng, 2_000, 400_000, k=2, nnz=10)
    datafiles_path = tmp_path / "wide.npz"
    from lingrad.datafiles import save_npz

    save_npz(datafiles_path, X, y)
    tracemalloc.start()
    try:
        code = train(tmp_path, "--dataset", str(datafiles_path), "--epochs", "5")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert code == 0, capsys.readouterr().err
    # W (400,001 x 2 float64) is 6.4 MB. L-BFGS keeps 2 m = 20 weight-sized float64 vectors
    # (as scikit-learn's L-BFGS-B does); the line search, the gradient, the checkpoint and
    # the saved model a few more: the bound is that, plus a small multiple of the CSR arrays.
    # A dense X would be 6.4 GB.
    W_bytes, csr_bytes = 400_001 * 2 * 8, X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    bound = (2 * 10 + 24) * W_bytes + 4 * csr_bytes
    assert peak < bound, f"peak {peak / 2**20:.0f} MiB > {bound / 2**20:.0f} MiB"


def test_a_hinge_on_an_svmlight_file_trains_with_a_solver_that_reads_sparse_data(tmp_path, capsys):
    """auto's choice for the hinges (dualcd) reads CSR rows: a sparse file gets it too,
    recorded in the run's config."""
    rng = np.random.default_rng(4)
    X, y = sparse_set(rng, 200, 30)
    dump_svmlight_file(X, y, str(tmp_path / "h.svm"), zero_based=False)
    argv = ["train", "--runs-dir", str(tmp_path / "runs"), "-q", "--no-report", "--loss", "hinge"]
    assert main([*argv, "--lam", "0.01", "--dataset", str(tmp_path / "h.svm")]) == 0, (
        capsys.readouterr().err
    )
    assert runs.read_json(only_run(tmp_path) / "config.json")["optimizer"] == "dualcd"


def test_auto_on_a_large_sparse_file_resolves_as_the_estimator_does(tmp_path, capsys):
    """``--optimizer auto`` (the default) on sparse data is resolved once the rows are read:
    SAGA where it pays (enough rows and non-zeros, ``lam N / L`` large), as
    ``LinearClassifier`` resolves it, recorded in the run's config; a small file keeps L-BFGS."""
    rng = np.random.default_rng(5)
    X, y = sparse_set(rng, 5_000, 300, nnz=10)
    dump_svmlight_file(X, y, str(tmp_path / "big.svm"), zero_based=False)
    dump_svmlight_file(X[:300], y[:300], str(tmp_path / "small.svm"), zero_based=False)
    for name, expected in (("big", "saga"), ("small", "lbfgs")):
        runs_dir = tmp_path / name
        argv = ["train", "--runs-dir", str(runs_dir), "-q", "--no-report", "--lam", "0.05"]
        assert main([*argv, "--dataset", str(tmp_path / f"{name}.svm")]) == 0, (
            capsys.readouterr().err
        )
        (run,) = runs_dir.iterdir()
        config = runs.read_json(run / "config.json")
        assert config["optimizer"] == expected
        assert runs.read_json(run / runs.METRICS)["test_accuracy"] > 0.5


def test_auto_on_a_dense_hinge_file_resolves_as_the_estimator_does(tmp_path):
    """A hinge loss on dense data: ``auto`` is resolved from the training rows and ``lam`` as
    ``LinearClassifier`` resolves it (``continuation`` on a mid-size weakly regularised set,
    ``dualcd`` on a small one), before any training."""
    from lingrad import defaults
    from lingrad.cli.train import build, resolve

    rng = np.random.default_rng(6)
    X = rng.standard_normal((5_000, 128))
    y = (X[:, 0] + 0.5 * rng.standard_normal(5_000) > 0).astype(int)
    np.savez(tmp_path / "big.npz", X=X, y=y)
    np.savez(tmp_path / "small.npz", X=X[:400], y=y[:400])
    for name, expected in (("big", "continuation"), ("small", "dualcd")):
        config = resolve({"dataset": str(tmp_path / f"{name}.npz"), "loss": "hinge", "lam": 1e-5})
        assert config["optimizer"] == "auto"  # left for build(), which reads the rows
        _, (X_train, *_), *_ = build(config)
        assert config["optimizer"] == expected
        assert defaults.resolve_optimizer("auto", "hinge", X=X_train, lam=1e-5) == expected
