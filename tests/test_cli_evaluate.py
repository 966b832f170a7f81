"""``lingrad evaluate``, ``lingrad predict`` and ``lingrad train --data-dir`` end to end."""

from __future__ import annotations

import csv
import json
import tarfile

import numpy as np
import pytest
from conftest import require
from sklearn.metrics import confusion_matrix
from test_datasets import make_mini_cifar

from lingrad import datasets, io
from lingrad.cli import main
from lingrad.estimators import LinearClassifier, LinearRegressor


@pytest.fixture(scope="module")
def digits_model(tmp_path_factory):
    """A softmax model trained on digits' standardised train split, saved with its scaler."""
    data = datasets.load("digits", preprocess="standardize")
    model = LinearClassifier(random_state=0).fit(data.X_train, data.y_train)
    path = io.save(
        model, tmp_path_factory.mktemp("m") / "digits.npz", preprocessing=data.preprocessing
    )
    return path, model, data


def _read_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def test_evaluate_prints_accuracy_table_and_confusion(digits_model, capsys):
    path, model, data = digits_model
    assert main(["evaluate", str(path), "--dataset", "digits"]) == 0
    out = capsys.readouterr().out
    pred = model.predict(data.X_test)
    accuracy = np.mean(pred == data.y_test)
    assert f"accuracy: {accuracy:.4f}" in out
    assert "dataset: digits, test split, 360 examples" in out
    lines = out.splitlines()
    header = lines.index("class  precision  recall  support")
    row_3 = lines[header + 4].split()
    tp = np.sum((pred == 3) & (data.y_test == 3))
    assert row_3[0] == "3"
    assert float(row_3[1]) == pytest.approx(tp / np.sum(pred == 3), abs=1e-4)
    assert float(row_3[2]) == pytest.approx(tp / np.sum(data.y_test == 3), abs=1e-4)
    assert int(row_3[3]) == np.sum(data.y_test == 3)
    start = lines.index("confusion matrix (rows: true class, columns: predicted class)")
    table = np.array([[int(v) for v in line.split()[1:]] for line in lines[start + 2 :]])
    np.testing.assert_array_equal(table, confusion_matrix(data.y_test, pred))


def test_evaluate_uses_class_names_for_string_labelled_models(tmp_path, capsys):
    data = datasets.load("iris", preprocess="standardize")
    names = np.array(data.class_names)
    model = LinearClassifier("hinge", random_state=0).fit(data.X_train, names[data.y_train])
    io.save(model, tmp_path / "iris.npz", preprocessing=data.preprocessing)
    assert main(["evaluate", str(tmp_path / "iris.npz"), "--dataset", "iris"]) == 0
    out = capsys.readouterr().out
    expected = np.mean(model.predict(data.X_test) == names[data.y_test])
    assert f"accuracy: {expected:.4f}" in out and "versicolor" in out


def test_evaluate_regression(tmp_path, capsys):
    data = datasets.load("diabetes", preprocess="standardize")
    model = LinearRegressor(random_state=0).fit(data.X_train, data.y_train)
    io.save(model, tmp_path / "r.npz", preprocessing=data.preprocessing)
    assert main(["evaluate", str(tmp_path / "r.npz"), "--dataset", "diabetes"]) == 0
    out = capsys.readouterr().out
    assert f"R^2: {model.score(data.X_test, data.y_test):.4f}" in out


def test_evaluate_on_a_user_csv_file(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    y = np.where(X[:, 0] + X[:, 1] > 0, "yes", "no")
    path = tmp_path / "points.csv"
    path.write_text(
        "x1,x2,label\n" + "".join(f"{a},{b},{c}\n" for (a, b), c in zip(X, y, strict=True))
    )
    model = LinearClassifier(random_state=0).fit(X, y)
    io.save(model, tmp_path / "m.npz")
    assert (
        main(["evaluate", str(tmp_path / "m.npz"), "--dataset", str(path), "--split", "all"]) == 0
    )
    out = capsys.readouterr().out
    assert "60 examples" in out and f"accuracy: {model.score(X, y):.4f}" in out


def test_predict_writes_labels_and_probabilities(digits_model, tmp_path, capsys):
    path, model, data = digits_model
    raw = datasets.load("digits")
    np.savez(tmp_path / "in.npz", X=raw.X_test[:7])
    out = tmp_path / "out" / "pred.csv"
    assert main(["predict", str(path), str(tmp_path / "in.npz"), "-o", str(out)]) == 0
    assert "wrote 7 predictions" in capsys.readouterr().out
    header, rows = _read_csv(out)
    assert header == ["predicted_label"] + [f"p_{c}" for c in range(10)]
    P = np.array([[float(v) for v in r[1:]] for r in rows])
    # 6 significant digits: each printed number is within half a unit of its 6th digit
    np.testing.assert_allclose(P, model.predict_proba(data.X_test[:7]), rtol=5e-6, atol=0)
    assert all(len(v.split("e")[0].replace(".", "").lstrip("0")) <= 6 for r in rows for v in r)
    assert [int(r[0]) for r in rows] == model.predict(data.X_test[:7]).tolist()


def test_predict_csv_by_column_name_and_hinge_scores(tmp_path):
    pd = require("pandas")
    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.normal(size=(40, 3)), columns=["a", "b", "c"])
    y = np.where(X["a"] > 0, "pos", "neg")
    model = LinearClassifier("hinge", random_state=0).fit(X, y)
    io.save(model, tmp_path / "m.npz")
    # columns in another order, plus a label column that is ignored
    text = "c,label,a,b\n" + "".join(f"{r.c},?,{r.a},{r.b}\n" for r in X[:5].itertuples())
    (tmp_path / "in.csv").write_text(text)
    args = ["predict", str(tmp_path / "m.npz"), str(tmp_path / "in.csv")]
    assert main([*args, "-o", str(tmp_path / "o.csv")]) == 0
    header, rows = _read_csv(tmp_path / "o.csv")
    assert header == ["predicted_label", "score_neg", "score_pos"]
    assert [r[0] for r in rows] == model.predict(X[:5]).tolist()
    np.testing.assert_allclose(
        [float(r[2]) for r in rows], model.decision_function(X[:5]), rtol=5e-6
    )


def test_cli_errors_are_one_line(digits_model, tmp_path, capsys):
    path, _, _ = digits_model
    np.savez(tmp_path / "bad.npz", X=np.ones((2, 3)))
    code = main(["predict", str(path), str(tmp_path / "bad.npz"), "-o", str(tmp_path / "o.csv")])
    err = capsys.readouterr().err
    assert code == 2 and "expected 64 feature columns for this model, got 3" in err
    assert main(["evaluate", str(path), "--dataset", "iris"]) == 2
    assert (
        "expected data with 64 features for this model, got iris with 4" in capsys.readouterr().err
    )
    assert main(["evaluate", str(path), "--dataset", "mnist"]) == 2
    assert "dataset: expected one of" in capsys.readouterr().err
    assert main(["evaluate", str(path)]) == 2
    assert "--dataset: expected a dataset name or file (MODEL is not a run folder)" in (
        capsys.readouterr().err
    )
    assert main(["evaluate", str(tmp_path / "none.npz"), "--dataset", "digits"]) == 2
    assert "no such file" in capsys.readouterr().err
    (tmp_path / "junk.npz").write_bytes(b"junk")
    assert main(["evaluate", str(tmp_path / "junk.npz"), "--dataset", "digits"]) == 2
    assert "corrupt or truncated" in capsys.readouterr().err
    assert not (tmp_path / "o.csv").exists()


def test_train_reads_cifar10_from_data_dir(tmp_path, capsys):
    archive, _, _ = make_mini_cifar(tmp_path / "cifar", n=8)
    with tarfile.open(archive) as tar:  # the extracted official layout
        tar.extractall(tmp_path / "cifar", filter="data")
    archive.unlink()
    args = ["train", "--dataset", "cifar10", "--data-dir", str(tmp_path / "cifar")]
    args += ["--optimizer", "sgd", "--epochs", "2", "--batch-size", "4"]
    code = main([*args, "--runs-dir", str(tmp_path), "--name", "c", "-q", "--no-report"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "3072 features, 10 classes" in out and "8 test examples" in out
    # the run folder remembers where the data lives: evaluate finds it again
    args = ["evaluate", str(tmp_path / "c"), "--dataset", "cifar10", "--data-dir"]
    assert main([*args, str(tmp_path / "cifar")]) == 0
    assert "test split, 8 examples" in capsys.readouterr().out


def test_train_then_evaluate_and_predict_a_run_folder(tmp_path, capsys):
    args = ["train", "--dataset", "iris", "--epochs", "20", "--runs-dir", str(tmp_path)]
    assert main([*args, "--name", "r", "-q", "--no-report"]) == 0
    capsys.readouterr()
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert main(["evaluate", str(tmp_path / "r"), "--dataset", "iris"]) == 0
    out = capsys.readouterr().out
    assert f"accuracy: {metrics['test_accuracy']:.4f}" in out and "setosa" in out
    assert main(["evaluate", str(tmp_path / "r")]) == 0  # the run's own dataset and seed
    assert capsys.readouterr().out == out
    np.savez(tmp_path / "in.npz", X=datasets.load("iris").X_test)
    args = ["predict", str(tmp_path / "r"), str(tmp_path / "in.npz"), "-o", str(tmp_path / "p.csv")]
    assert main(args) == 0
    header, rows = _read_csv(tmp_path / "p.csv")
    assert header == ["predicted_label", "p_0", "p_1", "p_2"]
    labels = np.array([int(r[0]) for r in rows])
    assert np.mean(labels == datasets.load("iris").y_test) == pytest.approx(
        metrics["test_accuracy"]
    )


def test_predict_regression_writes_one_column(tmp_path):
    data = datasets.load("diabetes", preprocess="standardize")
    model = LinearRegressor(random_state=0).fit(data.X_train, data.y_train)
    io.save(model, tmp_path / "r.npz", preprocessing=data.preprocessing)
    np.savez(tmp_path / "in.npz", X=datasets.load("diabetes").X_test[:4])
    args = ["predict", str(tmp_path / "r.npz"), str(tmp_path / "in.npz")]
    assert main([*args, "-o", str(tmp_path / "o.csv")]) == 0
    header, rows = _read_csv(tmp_path / "o.csv")
    assert header == ["prediction"]
    np.testing.assert_allclose(
        [float(r[0]) for r in rows], model.predict(data.X_test[:4]), rtol=5e-6
    )


def test_predict_to_stdout_with_the_digits_asked(digits_model, tmp_path, capsys):
    path, model, data = digits_model
    np.savez(tmp_path / "in.npz", X=datasets.load("digits").X_test[:3])
    args = ["predict", str(path), str(tmp_path / "in.npz"), "-o", "-", "--digits", "3"]
    assert main(args) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("predicted_label,p_0,") and len(lines) == 4  # no "wrote" line
    assert not (tmp_path / "-").exists()
    P = np.array([[float(v) for v in line.split(",")[1:]] for line in lines[1:]])
    np.testing.assert_allclose(P, model.predict_proba(data.X_test[:3]), rtol=5e-3, atol=0)
    assert P.tolist() != model.predict_proba(data.X_test[:3]).tolist()  # really rounded
    assert main([*args[:-1], "18"]) == 2
    assert "--digits: expected an integer in [1, 17], got 18" in capsys.readouterr().err
