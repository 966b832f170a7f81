"""Datasets: shipped sets, CIFAR-10 in its real format, user files, preprocessing."""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import tarfile
import urllib.error

import numpy as np
import pytest

from lingrad import datasets

# ------------------------------------------------------------------------------------------
# Shipped sets
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "n", "D", "classes", "image_shape"),
    [
        ("digits", 1797, 64, 10, (8, 8)),
        ("iris", 150, 4, 3, None),
        ("wine", 178, 13, 3, None),
        ("breast_cancer", 569, 30, 2, None),
    ],
)
def test_shipped_classification_sets(name, n, D, classes, image_shape):
    data = datasets.load(name, seed=1)
    sizes = [len(data.y_train), len(data.y_val), len(data.y_test)]
    assert sum(sizes) == n and data.n_features == D and data.n_classes == classes
    assert data.image_shape == image_shape and data.task == "classification"
    assert abs(sizes[2] - 0.2 * n) <= 1 and abs(sizes[1] - 0.1 * n) <= 1
    # stratified: every class appears in every split in about its overall proportion
    overall = np.bincount(np.concatenate([data.y_train, data.y_val, data.y_test])) / n
    for y in (data.y_train, data.y_test):
        np.testing.assert_allclose(np.bincount(y, minlength=classes) / len(y), overall, atol=0.05)
    again = datasets.load(name, seed=1)
    np.testing.assert_array_equal(data.X_test, again.X_test)


def test_class_names_are_readable():
    assert datasets.load("breast_cancer").class_names == ("malignant", "benign")
    assert datasets.load("iris").class_names == ("setosa", "versicolor", "virginica")
    assert datasets.load("digits").class_names == tuple("0123456789")


def test_diabetes_is_regression():
    data = datasets.load("diabetes")
    assert data.task == "regression" and data.class_names == () and data.n_features == 10
    assert data.y_train.dtype == np.float64 and len(np.unique(data.y_train)) > 50


def test_preprocessing_is_fitted_on_train_only():
    raw = datasets.load("wine")
    data = datasets.load("wine", preprocess="standardize")
    np.testing.assert_allclose(data.X_train.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(data.X_train.std(axis=0), 1.0)
    np.testing.assert_allclose(data.preprocessing.mean, raw.X_train.mean(axis=0))
    np.testing.assert_allclose(
        data.X_test, (raw.X_test - raw.X_train.mean(axis=0)) / raw.X_train.std(axis=0)
    )
    assert abs(data.X_test.mean()) > 1e-6  # the test split was not re-centred on itself
    image = datasets.load("digits", preprocess="mean_image", dtype=np.float32)
    assert image.X_train.dtype == np.float32 and image.preprocessing.kind == "mean_image"
    np.testing.assert_allclose(image.X_train.mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_array_equal(image.preprocessing.scale, 1.0)


def test_constant_feature_is_not_nan():
    prep = datasets.Standardizer().fit(np.array([[1.0, 5.0], [3.0, 5.0]]))
    np.testing.assert_array_equal(prep.transform(np.array([[2.0, 5.0]])), [[0.0, 0.0]])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "mnist"}, r"dataset: expected one of \[.*'breast_cancer'.*got 'mnist'"),
        ({"name": "iris", "test": 1.5}, r"test: expected a fraction in \(0, 1\), got 1.5"),
        ({"name": "iris", "validation": 0.5, "test": 0.5}, r"validation \+ test"),
        ({"name": "iris", "preprocess": "whiten"}, r"preprocess: expected None or one of"),
        ({"name": "iris", "task": "ranking"}, r"task: expected 'classification'"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        datasets.load(**kwargs)


def test_california_housing_offline_is_a_clear_error(monkeypatch, tmp_path):
    # scikit-learn's real fetcher runs (argument checks, cache lookup); only the network fails
    from sklearn.datasets import _california_housing

    def offline(*args, **kwargs):
        raise urllib.error.URLError("Temporary failure in name resolution")

    monkeypatch.setattr(_california_housing, "_fetch_remote", offline)
    with pytest.raises(datasets.DatasetUnavailable, match="california_housing: expected a cached"):
        datasets.load("california_housing", data_dir=tmp_path)


# ------------------------------------------------------------------------------------------
# CIFAR-10: a miniature archive in the official format
# ------------------------------------------------------------------------------------------

LABEL_NAMES = [b"airplane", b"automobile", b"bird", b"cat", b"deer"]
LABEL_NAMES += [b"dog", b"frog", b"horse", b"ship", b"truck"]


def _batch(rng, n, label):
    # The official files are Python 2 pickles (protocol 2) of a dict with bytes keys.
    data = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
    labels = [int(v) for v in rng.integers(0, 10, size=n)]
    batch = {
        b"batch_label": label.encode(),
        b"labels": labels,
        b"data": data,
        b"filenames": [f"img_{i}.png".encode() for i in range(n)],
    }
    return pickle.dumps(batch, protocol=2), data, labels


def make_mini_cifar(folder, n=4):
    """Write a cifar-10-python.tar.gz with ``n`` images per batch file into ``folder``.

    Returns the archive's path, its SHA-256 and the raw (X_train, y_train, X_test, y_test).
    """
    rng = np.random.default_rng(0)
    members, train = {}, []
    for i in range(1, 6):
        raw, X, y = _batch(rng, n, f"training batch {i} of 5")
        members[f"data_batch_{i}"] = raw
        train.append((X, y))
    members["test_batch"], X_test, y_test = _batch(rng, n, "testing batch 1 of 1")
    members["batches.meta"] = pickle.dumps(
        {b"num_cases_per_batch": n, b"label_names": LABEL_NAMES, b"num_vis": 3072}, protocol=2
    )
    members["readme.html"] = b"<html></html>"
    archive = folder / "cifar-10-python.tar.gz"
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "w:gz") as tar:
        for name, raw in members.items():
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    sha = hashlib.sha256(archive.read_bytes()).hexdigest()
    X_train = np.concatenate([x for x, _ in train])
    y_train = np.concatenate([y for _, y in train])
    return archive, sha, (X_train, y_train, X_test, np.array(y_test))


@pytest.fixture
def mini_cifar(tmp_path):
    return make_mini_cifar(tmp_path / "src")


def _images(X):
    return X.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).reshape(-1, 3072)


def test_cifar10_round_trips_through_download(mini_cifar, tmp_path, capsys):
    archive, sha, (X_train, y_train, X_test, y_test) = mini_cifar
    cache = tmp_path / "cache"
    X, y, names, shape, _, _, n_test = datasets._cifar10(cache, url=archive.as_uri(), sha256=sha)
    assert "downloading CIFAR-10" in capsys.readouterr().err
    assert (cache / "cifar-10-python.tar.gz").is_file()
    assert names[3] == "cat" and names[8] == "ship" and shape == (32, 32, 3)
    assert n_test == 4 and X.dtype == np.uint8
    np.testing.assert_array_equal(X[:-4], _images(X_train))
    np.testing.assert_array_equal(X[-4:], _images(X_test))
    np.testing.assert_array_equal(y, np.concatenate([y_train, y_test]))
    # pixel (row 0, col 1) of image 0 holds its red, green and blue values in that order
    np.testing.assert_array_equal(X[0].reshape(32, 32, 3)[0, 1], X_train[0, [1, 1025, 2049]])


def test_cifar10_local_copy_through_load(mini_cifar, monkeypatch):
    archive, sha, (_, _, X_test, y_test) = mini_cifar
    monkeypatch.setattr(datasets, "CIFAR10_SHA256", sha)
    monkeypatch.setattr(datasets._cifar10, "__kwdefaults__", {"url": "", "sha256": sha})
    data = datasets.load("cifar10", data_dir=archive.parent, validation=0.2, test=0.2)
    assert data.image_shape == (32, 32, 3) and data.n_classes == 10
    np.testing.assert_array_equal(data.X_test, _images(X_test))
    np.testing.assert_array_equal(data.y_test, y_test)
    assert len(data.y_train) + len(data.y_val) == 20
    # the extracted folder works as well
    with tarfile.open(archive) as tar:
        tar.extractall(archive.parent / "x", filter="data")
    again = datasets.load("cifar10", data_dir=archive.parent / "x", validation=0.2, test=0.2)
    np.testing.assert_array_equal(again.X_train, data.X_train)


def test_cifar10_bad_checksum_is_refused(mini_cifar, tmp_path):
    archive, _, _ = mini_cifar
    cache = tmp_path / "cache"
    with pytest.raises(ValueError, match="SHA-256"):
        datasets._cifar10(cache, url=archive.as_uri(), sha256="0" * 64)
    assert not any(cache.iterdir())  # nothing half-downloaded is left behind
    with pytest.raises(ValueError, match=r"expected SHA-256 0+ \(the official archive\)"):
        datasets._cifar10(archive.parent, url="", sha256="0" * 64)


def test_cifar10_offline_is_a_clear_error(tmp_path):
    with pytest.raises(datasets.DatasetUnavailable, match="expected a download into"):
        datasets._cifar10(tmp_path, url=(tmp_path / "nowhere.tar.gz").as_uri(), sha256="0")


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_pickle_calling_os_system_is_refused(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    evil = pickle.dumps({b"data": _Evil(), b"labels": [0]}, protocol=2)
    for name in (*datasets.CIFAR10_TRAIN, "test_batch", "batches.meta"):
        (folder / name).write_bytes(evil)
    with pytest.raises(ValueError, match=r"refused: it could run code") as info:
        datasets.load("cifar10", data_dir=tmp_path)
    assert "system" in str(info.value)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"not a pickle at all", "unreadable file"),
        (pickle.dumps([1, 2], protocol=2), "expected a dict, got list"),
        (pickle.dumps({b"data": np.zeros((2, 5), np.uint8), b"labels": [0, 1]}), r"\(n, 3072\)"),
        (pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0]}), "2 labels"),
    ],
)
def test_damaged_cifar_batches(payload, message):
    with pytest.raises(ValueError, match=message):
        datasets._cifar_batch(payload, "data_batch_1")


# ------------------------------------------------------------------------------------------
# User files
# ------------------------------------------------------------------------------------------


def test_csv_with_string_labels(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    labels = np.where(X[:, 0] > 0, "spam", "ham")
    path = tmp_path / "mail.csv"
    lines = ["a,b,label,c"] + [
        f"{x[0]},{x[1]},{lab},{x[2]}" for x, lab in zip(X, labels, strict=True)
    ]
    path.write_text("\n".join(lines) + "\n")
    data = datasets.load(str(path), validation=0.25, test=0.25)
    assert data.name == "mail.csv" and data.class_names == ("ham", "spam")
    assert data.feature_names == ("a", "b", "c") and data.n_features == 3
    rows = np.concatenate([data.X_train, data.X_val, data.X_test])
    ys = np.concatenate([data.y_train, data.y_val, data.y_test])
    order = np.lexsort(rows.T)
    np.testing.assert_allclose(rows[order], X[np.lexsort(X.T)])
    np.testing.assert_array_equal(ys[order] == 1, (X[np.lexsort(X.T)][:, 0] > 0))


def test_npz_file(tmp_path):
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(30, 4)), rng.integers(0, 3, 30)
    np.savez(tmp_path / "d.npz", X=X, y=y)
    data = datasets.load(tmp_path / "d.npz", validation=0.2, test=0.2)
    assert data.n_classes == 3 and data.n_features == 4
    reg = datasets.load(tmp_path / "d.npz", task="regression", validation=0.2, test=0.2)
    assert reg.task == "regression" and reg.y_train.dtype == np.float64


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("a,b\n1,2\n", r"label column: expected one of the header's columns \['a', 'b'\]"),
        ("a,label\n1,x\n2\n", r"line 3: expected 2 values like the header, got 1"),
        ("a,label\nfoo,x\n", "expected numbers in every column but the label"),
        ("a,label\nnan,x\n2,y\n", "expected finite values"),
        ("a,label\n", "expected a header line and at least one row"),
    ],
)
def test_bad_csv_files(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        datasets.read_file(path)


def test_bad_npz_files(tmp_path):
    np.savez(tmp_path / "wrong.npz", A=np.zeros(3))
    with pytest.raises(ValueError, match=r"expected arrays named X and y, got \['A'\]"):
        datasets.read_file(tmp_path / "wrong.npz")
    np.savez(tmp_path / "obj.npz", X=np.array([[1, None]], dtype=object), y=np.zeros(1))
    with pytest.raises(ValueError, match="no pickled objects"):
        datasets.read_file(tmp_path / "obj.npz")
    (tmp_path / "trunc.npz").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(ValueError, match=r"trunc\.npz"):
        datasets.read_file(tmp_path / "trunc.npz")
    with pytest.raises(FileNotFoundError, match="no such file"):
        datasets.read_file(tmp_path / "missing.csv")
    with pytest.raises(ValueError, match=r"file: expected a \.csv or \.npz file"):
        datasets.read_file(tmp_path / "data.txt")


@pytest.mark.parametrize(("name", "n_classes"), [("blobs", 3), ("spiral", 3), ("xor", 2)])
def test_toy_sets_load_as_datasets(name, n_classes):
    from lingrad import toy

    data = datasets.load(name, seed=1)
    assert data.n_classes == n_classes and data.n_features == 2 and data.image_shape is None
    _, y = toy.make(name, 100, n_classes, rng=np.random.default_rng(0))
    n = len(data.y_train) + len(data.y_val) + len(data.y_test)
    assert n == len(y)
    # The splits partition the fixed draw (before preprocessing, compare the labels' counts).
    counts = np.bincount(np.concatenate([data.y_train, data.y_val, data.y_test]))
    np.testing.assert_array_equal(counts, np.bincount(y))
