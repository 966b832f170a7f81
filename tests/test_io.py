"""Model files: round trips, and a clear error for each kind of damage."""

from __future__ import annotations

import json
import os
import pickle
import zipfile

import numpy as np
import pytest
from conftest import require
from sklearn.datasets import load_iris

from lingrad import datasets, io
from lingrad.estimators import LinearClassifier, LinearRegressor


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return X, y


@pytest.fixture(scope="module")
def model(iris):
    X, y = iris
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    return LinearClassifier("softmax", lam=1e-3, random_state=0).fit(X, names)


@pytest.fixture
def saved(model, tmp_path):
    return io.save(model, tmp_path / "model.npz")


def _rewrite(path, arrays, meta=None):
    """Write ``arrays`` (and ``meta`` as the metadata) back to ``path`` without checksums."""
    if meta is not None:
        arrays = {**arrays, "metadata": np.array(json.dumps(meta))}
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def _contents(path):
    with np.load(path, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    meta = json.loads(str(arrays.pop("metadata")[()]))
    return arrays, meta


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    ("loss", "labels"),
    [
        ("softmax", ["setosa", "versicolor", "virginica"]),
        ("hinge", [10, 20, 30]),
        ("logistic", [-1, 1]),
        ("crammer_singer", np.array(["x", "y", "z"], dtype=object)),
    ],
)
def test_save_then_load_gives_identical_predictions(iris, tmp_path, loss, labels, dtype):
    X, y = iris
    if len(labels) == 2:
        y = (y > 0).astype(int)
    y = np.asarray(labels)[y]
    model = LinearClassifier(loss, random_state=0, max_iter=20).fit(X.astype(dtype), y)
    back = io.load(io.save(model, tmp_path / "m.npz"))
    assert type(back) is LinearClassifier and back.get_params() == model.get_params()
    np.testing.assert_array_equal(back.predict(X), model.predict(X))
    np.testing.assert_array_equal(back.decision_function(X), model.decision_function(X))
    np.testing.assert_array_equal(back.W_, model.W_)
    np.testing.assert_array_equal(back.classes_, model.classes_)
    assert back.W_.dtype == dtype and back.classes_.dtype == model.classes_.dtype
    assert back.n_iter_ == model.n_iter_ and back.loss_curve_ == model.loss_curve_
    np.testing.assert_array_equal(back.coef_, model.coef_)
    if hasattr(model, "predict_proba"):
        np.testing.assert_array_equal(back.predict_proba(X), model.predict_proba(X))


def test_regressor_and_preprocessing_round_trip(tmp_path):
    data = datasets.load("diabetes", preprocess="standardize")
    model = LinearRegressor(random_state=0).fit(data.X_train, data.y_train)
    io.save(model, tmp_path / "r.npz", preprocessing=data.preprocessing)
    back = io.load(tmp_path / "r.npz")
    np.testing.assert_array_equal(back.predict(data.X_test), model.predict(data.X_test))
    assert back.preprocessing_.kind == "standardize"
    raw = datasets.load("diabetes")
    np.testing.assert_allclose(back.preprocessing_.transform(raw.X_test), data.X_test)
    # the weights are stored under W in lingrad's (D + 1, C) orientation
    arrays, meta = _contents(tmp_path / "r.npz")
    assert arrays["W"].shape == (11, 1) and meta["n_features"] == 10
    assert meta["loss"] == "squared_error" and meta["dtype"] == "float64"


def test_feature_names_and_class_weight_survive(tmp_path):
    pd = require("pandas")
    X, y = load_iris(return_X_y=True, as_frame=True)
    model = LinearClassifier(class_weight={0: 2.0, 1: 1.0, 2: 1.0}, max_iter=5).fit(X, y)
    back = io.load(io.save(model, tmp_path / "m.npz"))
    assert back.feature_names_in_.tolist() == list(X.columns)
    assert back.class_weight == {0: 2.0, 1: 1.0, 2: 1.0}
    assert isinstance(X, pd.DataFrame)
    np.testing.assert_array_equal(back.predict(X), model.predict(X))


def test_load_from_a_folder(model, saved, iris):
    X, _ = iris
    np.testing.assert_array_equal(io.load(saved.parent).predict(X), model.predict(X))


def test_loaded_model_keeps_training(model, saved, iris):
    X, _ = iris
    back = io.load(saved)
    back.partial_fit(X, model.predict(X))
    assert back.n_iter_ == model.n_iter_ + 1


def test_write_is_atomic(model, saved, monkeypatch):
    before = saved.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(OSError, match="disk full"):
        io.save(model, saved)
    assert saved.read_bytes() == before  # the old file is intact
    assert sorted(os.listdir(saved.parent)) == ["model.npz"]  # no temporary file left


# ------------------------------------------------------------------------------------------
# Damaged files
# ------------------------------------------------------------------------------------------


def test_truncated_file(saved):
    data = saved.read_bytes()
    saved.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"expected a lingrad model file .* corrupt or truncated"):
        io.load(saved)


def test_garbage_file(tmp_path):
    path = tmp_path / "x.npz"
    path.write_bytes(b"this is not a zip file at all")
    with pytest.raises(ValueError, match="corrupt or truncated"):
        io.load(path)


def test_flipped_bytes_inside_an_array(saved):
    # Flip bytes in the stored W (uncompressed): the zip CRC or the checksum catches it.
    data = bytearray(saved.read_bytes())
    with zipfile.ZipFile(saved) as z:
        info = z.getinfo("W.npy")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra) + 200
    data[start : start + 8] = b"\xff" * 8
    saved.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"corrupt or truncated|modified after saving"):
        io.load(saved)


def test_tampered_weights(saved):
    arrays, meta = _contents(saved)
    arrays["W"] = arrays["W"] * 2
    _rewrite(saved, arrays, meta)
    with pytest.raises(ValueError, match=r"got a changed 'W' \(the file was modified after"):
        io.load(saved)


def test_tampered_classes(saved):
    arrays, meta = _contents(saved)
    arrays["classes"] = arrays["classes"][::-1].copy()
    _rewrite(saved, arrays, meta)
    with pytest.raises(ValueError, match="changed 'classes'"):
        io.load(saved)


def test_wrong_version(saved):
    arrays, meta = _contents(saved)
    meta["version"] = 99
    _rewrite(saved, arrays, meta)
    with pytest.raises(ValueError, match=r"version: expected 1 \(the model-file version"):
        io.load(saved)


def test_not_a_lingrad_file(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, a=np.zeros(3))
    with pytest.raises(ValueError, match="expected a lingrad model file with metadata"):
        io.load(path)
    _rewrite(path, {"a": np.zeros(3)}, {"format": "something-else"})
    with pytest.raises(ValueError, match="expected a 'lingrad-model' file, got 'something-else'"):
        io.load(path)
    _rewrite(path, {"metadata": np.array("{not json")})
    with pytest.raises(ValueError, match="expected JSON metadata"):
        io.load(path)


def test_inconsistent_metadata(saved):
    arrays, meta = _contents(saved)
    meta["n_features"] = 7  # checksums still match: the arrays were not touched
    _rewrite(saved, arrays, meta)
    with pytest.raises(ValueError, match=r"W: expected float64 weights of shape \(8, 3\), got"):
        io.load(saved)
    meta["n_features"], meta["estimator"] = 4, "os.system"
    _rewrite(saved, arrays, meta)
    with pytest.raises(ValueError, match="expected consistent metadata"):
        io.load(saved)


def test_pickled_objects_are_never_loaded(saved, tmp_path):
    arrays, meta = _contents(saved)
    path = tmp_path / "evil.npz"
    evil = np.array([os.system], dtype=object)
    with open(path, "wb") as f:
        np.savez(f, **arrays, W_obj=evil, metadata=np.array(json.dumps(meta)))
    with pytest.raises(ValueError, match=r"corrupt or truncated.*allow_pickle=False"):
        io.load(path)
    # a pickle renamed .npz is not unpickled either
    path.write_bytes(pickle.dumps({"W": np.zeros((5, 3))}))
    with pytest.raises(ValueError, match="expected a lingrad model file"):
        io.load(path)


def test_bad_arguments(model, tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        io.load(tmp_path / "missing.npz")
    with pytest.raises(ValueError, match=r"path: expected a file name ending in \.npz"):
        io.save(model, tmp_path / "model.pkl")
    with pytest.raises(ValueError, match="expected a fitted model"):
        io.save(LinearClassifier(), tmp_path / "m.npz")
    with pytest.raises(TypeError, match="model: expected a LinearClassifier or LinearRegressor"):
        io.save(object(), tmp_path / "m.npz")
