"""ONNX export (:mod:`lingrad.onnx_export`, ``lingrad.io.to_onnx``, ``lingrad export --onnx``
and the skl2onnx converter): every graph runs in onnxruntime and gives the estimator's own
``predict`` exactly and its ``predict_proba`` / ``decision_function`` / regression output to
1e-6, on every shipped dataset and every loss that applies, for float32 and float64 input.

The oracle is lingrad's NumPy prediction of the same fitted model; onnxruntime is an
independent implementation of the graph's operators."""

from __future__ import annotations

import csv
import sys
import tarfile
import warnings

import numpy as np
import pytest
from conftest import require
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from test_datasets import make_mini_cifar
from test_import_time import imported

import lingrad
from lingrad import datasets, io
from lingrad.cli import main
from lingrad.estimators import LinearClassifier, LinearRegressor, from_weights

ort = require("onnxruntime")
require("onnx")
onnx_export = require("lingrad.onnx_export")
TOL = {"rtol": 1e-6, "atol": 1e-6}
DTYPES = [np.float32, np.float64]


def run(proto, X):
    """The outputs of the ONNX model ``proto`` on ``X``, by name."""
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, {session.get_inputs()[0].name: X}), strict=True))


def fit(estimator, X, y):
    with warnings.catch_warnings():  # few iterations on purpose: fast, not converged
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


def check_classifier(model, X):
    """The exported graph of ``model`` against its own predictions on ``X``, both dtypes."""
    for dtype in DTYPES:
        Xd = X.astype(dtype)
        out = run(io.to_onnx(model, dtype=dtype), Xd)
        np.testing.assert_array_equal(out["label"], model.predict(Xd))
        assert out["scores"].dtype == dtype
        np.testing.assert_allclose(out["scores"], model.decision_function(Xd), **TOL)
        if hasattr(model, "predict_proba"):
            assert set(out) == {"label", "probabilities", "scores"}
            np.testing.assert_allclose(out["probabilities"], model.predict_proba(Xd), **TOL)
        else:  # the hinge losses: no probabilities
            assert set(out) == {"label", "scores"}


# the losses a classifier can fit, on every shipped classification set (digits subsampled)
MULTI = ["softmax", "hinge", "crammer_singer", "one_vs_all_hinge", "squared_hinge"]
MULTI += ["sigmoid_squared_error"]
BINARY = ["logistic", "sigmoid_squared_error", "softmax", "hinge"]
CASES = [(name, loss) for name in ("iris", "wine", "digits") for loss in MULTI]
CASES += [("breast_cancer", loss) for loss in BINARY]
CASES += [("blobs", "softmax"), ("xor", "hinge")]


@pytest.fixture(scope="module")
def data():
    """Each dataset's train/test split, standardised (digits: 400 training examples)."""
    cache = {}

    def load(name):
        if name not in cache:
            d = datasets.load(name, preprocess="standardize")
            n = 400 if name == "digits" else None
            cache[name] = (d.X_train[:n], d.y_train[:n], d.X_test)
        return cache[name]

    return load


@pytest.mark.parametrize(("name", "loss"), CASES)
def test_classifier_graph_matches_predict(data, name, loss):
    X, y, X_test = data(name)
    model = fit(LinearClassifier(loss, max_iter=30, random_state=0), X, y)
    check_classifier(model, X_test)


def test_string_labels_float32_weights_and_the_zero_score_tie():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3)).astype(np.float32)
    y = np.where(X[:, 0] + 0.3 * rng.normal(size=60) > 0, "yes", "no")
    for loss in ("softmax", "logistic", "hinge"):
        model = fit(LinearClassifier(loss, random_state=0), X, y)
        assert model.W_.dtype == np.float32  # the graph computes in float32 here
        check_classifier(model, X)
        assert run(io.to_onnx(model), X)["label"].dtype == object  # strings
    # a score of exactly 0: classes_[1] (the slides' y = 1 if f >= 0), as predict decides
    tie = from_weights(np.zeros((2, 1)), loss="logistic", classes=[3, 7])
    X0 = np.zeros((2, 1))
    assert run(io.to_onnx(tie), X0.astype(np.float32))["label"].tolist() == [7, 7]
    assert tie.predict(X0).tolist() == [7, 7]


def test_regressor_graph_matches_predict():
    d = datasets.load("diabetes", preprocess="standardize")
    model = fit(LinearRegressor(random_state=0), d.X_train, d.y_train)
    for dtype in DTYPES:
        out = run(io.to_onnx(model, dtype=dtype), d.X_test.astype(dtype))
        assert list(out) == ["prediction"] and out["prediction"].shape == (len(d.X_test),)
        np.testing.assert_allclose(out["prediction"], model.predict(d.X_test.astype(dtype)), **TOL)


def test_a_saved_models_preprocessing_is_in_the_graph(tmp_path):
    d = datasets.load("wine", preprocess="standardize")
    model = fit(LinearClassifier(random_state=0), d.X_train, d.y_train)
    path = io.save(model, tmp_path / "wine.npz", preprocessing=d.preprocessing)
    raw = datasets.load("wine").X_test  # the graph standardises
    out = run(io.to_onnx(path, dtype=np.float64), raw)
    np.testing.assert_array_equal(out["label"], model.predict(d.preprocessing.transform(raw)))
    expected = model.predict_proba(d.preprocessing.transform(raw))
    np.testing.assert_allclose(out["probabilities"], expected, **TOL)
    ops = {n.op_type for n in io.to_onnx(path).graph.node}
    assert {"Sub", "Div", "MatMul", "Softmax", "ArgMax", "Gather"} <= ops
    assert "Sub" not in {n.op_type for n in io.to_onnx(model).graph.node}  # no preprocessing


# ------------------------------------------------------------------------------------------
# lingrad export --onnx RUN_DIR against lingrad predict
# ------------------------------------------------------------------------------------------


def _predict_csv(run_dir, X, tmp_path):
    np.savez(tmp_path / "X.npz", X=X)
    args = ["predict", str(run_dir), str(tmp_path / "X.npz"), "-o", str(tmp_path / "p.csv")]
    assert main([*args, "--digits", "17"]) == 0
    with open(tmp_path / "p.csv", newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


@pytest.mark.parametrize(
    ("dataset", "loss"),
    [
        ("iris", "softmax"),
        ("breast_cancer", "logistic"),
        ("diabetes", "squared_error"),
        ("cifar10", "hinge"),
    ],
)
def test_cli_export_of_a_run_matches_lingrad_predict(tmp_path, capsys, dataset, loss):
    onnx = require("onnx")
    extra = []
    if dataset == "cifar10":  # a miniature archive in the official format (8 images a batch)
        archive, _, _ = make_mini_cifar(tmp_path / "cifar", n=8)
        with tarfile.open(archive) as tar:
            tar.extractall(tmp_path / "cifar", filter="data")
        archive.unlink()
        extra = ["--data-dir", str(tmp_path / "cifar"), "--optimizer", "sgd", "--batch-size", "4"]
    args = ["train", "--dataset", dataset, "--loss", loss, "--epochs", "15", *extra]
    assert main([*args, "--runs-dir", str(tmp_path), "--name", "r", "-q", "--no-report"]) == 0
    assert main(["export", "--onnx", str(tmp_path / "r"), "--dtype", "float64"]) == 0
    assert "model.onnx" in capsys.readouterr().out
    proto = onnx.load(tmp_path / "r" / "model.onnx")
    X = datasets.load(dataset, data_dir=extra[1] if extra else None).X_test  # raw features
    out = run(proto, X)
    _, rows = _predict_csv(tmp_path / "r", X, tmp_path)
    if loss == "squared_error":
        np.testing.assert_allclose(out["prediction"], [float(r[0]) for r in rows], **TOL)
        return
    table = np.array([[float(v) for v in row[1:]] for row in rows])
    assert [str(v) for v in out["label"]] == [r[0] for r in rows]
    if loss == "hinge":
        np.testing.assert_allclose(out["scores"], table, **TOL)
    else:
        np.testing.assert_allclose(out["probabilities"], table, **TOL)
    # float32 input: the same labels
    main(["export", "--onnx", str(tmp_path / "r"), "-o", str(tmp_path / "f32.onnx")])
    out32 = run(onnx.load(tmp_path / "f32.onnx"), X.astype(np.float32))
    np.testing.assert_array_equal(out32["label"], out["label"])


def test_cli_export_errors(tmp_path, capsys, monkeypatch):
    def error(*args):
        assert main(["export", *args]) == 2
        return capsys.readouterr().err

    assert "lingrad: error:" in error("--onnx", str(tmp_path / "no_run"))
    assert "no such file" in error("--onnx", str(tmp_path / "no_run"))
    (tmp_path / "bad.npz").write_bytes(b"not a zip file")
    assert "corrupt or truncated" in error("--onnx", str(tmp_path / "bad.npz"))
    model = fit(LinearClassifier(random_state=0), np.array([[0.0], [1.0]]), [0, 1])
    good = io.save(model, tmp_path / "m.npz")
    assert "target_opset" in error("--onnx", str(good), "--opset", "5")
    monkeypatch.setitem(sys.modules, "onnx", None)  # as if not installed
    monkeypatch.delitem(sys.modules, "lingrad.onnx_export", raising=False)
    monkeypatch.delattr(lingrad, "onnx_export", raising=False)
    err = error("--onnx", str(good))
    assert "'onnx'" in err and "pip install 'lingrad[onnx]'" in err
    assert err.count("\n") == 1 and not (tmp_path / "m.onnx").exists()
    with pytest.raises(ModuleNotFoundError, match=r"lingrad\[onnx\]"):
        io.to_onnx(model)


def test_export_help_and_import_lingrad_load_no_onnx():
    for args in (("-c", "import lingrad"), ("-m", "lingrad", "export", "--help")):
        names, _ = imported(*args)
        assert "lingrad" in names
        assert not names & {"onnx", "onnxruntime", "skl2onnx", "sklearn"}, args
    names, _ = imported("-c", "import lingrad.io, lingrad.onnx_export")
    assert "onnx" in names  # the check sees the import


# ------------------------------------------------------------------------------------------
# skl2onnx: a Pipeline holding a lingrad estimator
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("loss", "labels"), [("softmax", None), ("hinge", None), ("logistic", "str")]
)
def test_skl2onnx_converts_a_pipeline(loss, labels):
    skl2onnx = require("skl2onnx")
    onnx_export.register_skl2onnx()
    name = "breast_cancer" if loss == "logistic" else "wine"
    d = datasets.load(name)
    y = d.y_train if labels is None else np.array([f"c{v}" for v in d.y_train])
    pipe = fit(
        make_pipeline(StandardScaler(), LinearClassifier(loss, random_state=0)), d.X_train, y
    )
    for dtype in DTYPES:
        X = d.X_test.astype(dtype)
        out = run(skl2onnx.to_onnx(pipe, X[:1], options={"zipmap": False}), X)
        np.testing.assert_array_equal(out["label"], pipe.predict(X))
        # skl2onnx's convention for a hinge model: the decision scores
        expected = pipe.decision_function(X) if loss == "hinge" else pipe.predict_proba(X)
        tol = TOL if dtype == np.float64 else {"rtol": 1e-5, "atol": 1e-5}
        np.testing.assert_allclose(out["probabilities"], expected, **tol)
    zipped = run(
        skl2onnx.to_onnx(pipe, d.X_test[:1].astype(np.float32)), d.X_test.astype(np.float32)
    )
    np.testing.assert_array_equal(zipped["output_label"], pipe.predict(d.X_test))


def test_skl2onnx_converts_a_regression_pipeline():
    skl2onnx = require("skl2onnx")
    onnx_export.register_skl2onnx()
    d = datasets.load("diabetes")
    pipe = fit(
        make_pipeline(StandardScaler(), LinearRegressor(random_state=0)), d.X_train, d.y_train
    )
    out = run(skl2onnx.to_onnx(pipe, d.X_test[:1]), d.X_test)
    (prediction,) = out.values()
    np.testing.assert_allclose(prediction[:, 0], pipe.predict(d.X_test), **TOL)


# ------------------------------------------------------------------------------------------
# bad input
# ------------------------------------------------------------------------------------------


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match=r"model: expected a fitted model \(call fit first\)"):
        io.to_onnx(LinearClassifier())
    with pytest.raises(TypeError, match="model: expected a LinearClassifier or LinearRegressor"):
        io.to_onnx(StandardScaler())
    model = fit(LinearClassifier(random_state=0), np.array([[0.0], [1.0]]), [0, 1])
    with pytest.raises(TypeError, match="dtype: expected float32 or float64, got float16"):
        io.to_onnx(model, dtype=np.float16)
    with pytest.raises(ValueError, match=r"target_opset: expected an integer in \[13, "):
        io.to_onnx(model, target_opset=12)
    assert io.to_onnx(model, target_opset=13).opset_import[0].version == 13
