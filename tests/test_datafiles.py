"""Reading a user's data file (lingrad.datafiles): every format against a naive reader written
here, the label mapping, the index base, the width of a model, and every malformed file as one
ValueError naming the file (and the line, for the text formats). Reading needs no sparse
engine: every test here passes without the sparse fits."""

from __future__ import annotations

import re

import numpy as np
import pytest
import scipy.sparse as sp

from lingrad import datafiles, datasets

# ------------------------------------------------------------------------------------------
# A naive svmlight reader (the oracle) and a random file
# ------------------------------------------------------------------------------------------


def naive_svmlight(text: str, width: int, offset: int) -> tuple[np.ndarray, list[float]]:
    """Dense ``X`` and the labels of svmlight ``text``, a loop over its tokens."""
    rows, labels = [], []
    for line in text.splitlines():
        tokens = line.split("#")[0].split()
        if not tokens:
            continue
        labels.append(float(tokens[0]))
        row = np.zeros(width)
        for token in tokens[1:]:
            index, value = token.split(":")
            row[int(index) - offset] += float(value)
        rows.append(row)
    return np.array(rows), labels


def random_svmlight(rng: np.random.Generator, n: int, d: int, *, one_based: bool) -> str:
    lines = []
    for i in range(n):
        cols = np.sort(rng.choice(d, size=rng.integers(1, 5), replace=False))
        pairs = " ".join(f"{c + one_based}:{rng.normal():.6g}" for c in cols)
        lines.append(f"{rng.choice([-1, 1]):+d} {pairs}" + ("  # a comment" if i == 2 else ""))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("one_based", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_svmlight_matches_the_naive_reader_and_stays_sparse(tmp_path, one_based, dtype):
    rng = np.random.default_rng(3)
    text = random_svmlight(rng, 30, 12, one_based=one_based)
    (tmp_path / "d.svm").write_text(text)
    f = datafiles.load_file(tmp_path / "d.svm", zero_based=not one_based, dtype=dtype)
    assert sp.issparse(f.X) and f.X.format == "csr" and f.X.dtype == dtype
    width = f.X.shape[1]
    X, labels = naive_svmlight(text, width, offset=int(one_based))
    np.testing.assert_allclose(f.X.toarray(), X, rtol=1e-6)
    assert f.class_names == ("-1", "1")
    np.testing.assert_array_equal(f.y, (np.array(labels) > 0).astype(int))


def test_auto_index_base_follows_index_zero(tmp_path):
    (tmp_path / "one.svm").write_text("1 1:5 3:1\n2 2:1\n")
    (tmp_path / "zero.svm").write_text("1 0:5 3:1\n2 2:1\n")
    one = datafiles.load_file(tmp_path / "one.svm").X.toarray()
    zero = datafiles.load_file(tmp_path / "zero.svm").X.toarray()
    np.testing.assert_array_equal(one, [[5, 0, 1], [0, 1, 0]])
    np.testing.assert_array_equal(zero, [[5, 0, 0, 1], [0, 0, 1, 0]])
    assert datafiles.svmlight_zero_based(tmp_path / "zero.svm")
    assert not datafiles.svmlight_zero_based(tmp_path / "one.svm")
    # the base recorded with a model reads a later file alike, whatever indices it uses
    later = tmp_path / "later.svm"
    later.write_text("1 2:7\n")
    X = datafiles.load_file(later, zero_based=True, n_features=4).X.toarray()
    np.testing.assert_array_equal(X, [[0, 0, 7, 0]])


def test_n_features_widens_a_narrower_file_and_refuses_a_wider_one(tmp_path):
    path = tmp_path / "d.svm"
    path.write_text("1 1:1\n-1 2:2\n1 3:3 5:1\n")
    f = datafiles.load_file(path, n_features=8, zero_based=False)
    assert f.X.shape == (3, 8) and f.X.nnz == 4
    X, _ = datafiles.read_features(path, n_features=8, zero_based=False)
    np.testing.assert_array_equal(X.toarray(), f.X.toarray())
    message = r"line 3: expected feature indices within the model's width 4 \(one-based\)"
    with pytest.raises(
        ValueError, match=rf"{re.escape(str(path))}: {message}, got feature index 5"
    ):
        datafiles.load_file(path, n_features=4, zero_based=False)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("1 1:2 3:4\n-1 2:x\n", 2, r"index:value pairs .*, got '2:x'"),
        ("1 1:2\nspam 2:1\n", 2, "a numeric label first, got 'spam'"),
        ("1 1:2\n1 1:1\n\n1 3:1 2:1\n", 4, "feature indices in increasing order"),
        ("1 1:2 1:3\n", 1, "feature indices in increasing order"),
        ("1 -3:1\n", 1, r"index:value pairs .*, got '-3:1'"),
        ("1 2:1\n1 0:1\n", 2, r"indices from 1 \(zero_based=False\), got index 0"),
    ],
)
def test_malformed_svmlight_lines_name_their_line(tmp_path, text, line, message):
    path = tmp_path / "bad.libsvm"
    path.write_text(text)
    zero_based = False if "index 0" in message else "auto"
    with pytest.raises(ValueError, match=rf"bad\.libsvm: line {line}: expected {message}"):
        datafiles.load_file(path, zero_based=zero_based)


def test_corrupt_empty_and_missing_files(tmp_path):
    (tmp_path / "junk.svm").write_bytes(bytes(range(256)) * 8)
    with pytest.raises(ValueError, match=r"junk\.svm"):
        datafiles.load_file(tmp_path / "junk.svm")
    (tmp_path / "junk.npz").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(ValueError, match=r"junk\.npz"):
        datafiles.load_file(tmp_path / "junk.npz")
    for name, message in (("e.svm", "at least one line"), ("e.csv", "0 lines")):
        (tmp_path / name).write_text("")
        with pytest.raises(ValueError, match=rf"{name}: expected .*{message}"):
            datafiles.load_file(tmp_path / name)
    with pytest.raises(FileNotFoundError, match="no such file"):
        datafiles.load_file(tmp_path / "missing.svm")
    with pytest.raises(ValueError, match=r"file: expected a \.csv, \.npz, .*\.svmlight file"):
        datafiles.load_file(tmp_path / "missing.txt")


def test_non_finite_values_are_refused_naming_the_row(tmp_path):
    (tmp_path / "nan.svm").write_text("1 1:2\n2 1:nan\n")
    with pytest.raises(
        ValueError,
        match=r"nan\.svm: X: expected finite values, got 1 NaN or inf .*\(nan in row 1\)",
    ):
        datafiles.load_file(tmp_path / "nan.svm")
    (tmp_path / "inf.svm").write_text("inf 1:2\n")
    with pytest.raises(ValueError, match=r"y: expected finite labels"):
        datafiles.load_file(tmp_path / "inf.svm")


# ------------------------------------------------------------------------------------------
# CSV
# ------------------------------------------------------------------------------------------


def test_csv_label_by_name_index_or_default(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,kind,b\n1,x,2\n3,y,4\n5,x,6\n")
    by_name = datafiles.load_file(path, label="kind")
    by_index = datafiles.load_file(path, label=1)
    by_text = datafiles.load_file(path, label="1")
    for f in (by_name, by_index, by_text):
        np.testing.assert_array_equal(f.X, [[1, 2], [3, 4], [5, 6]])
        assert f.y.tolist() == [0, 1, 0] and f.class_names == ("x", "y")
        assert f.feature_names == ("a", "b")
    with pytest.raises(ValueError, match="line 2: expected numbers in every column"):
        datafiles.load_file(path, label="b")  # 'kind' is then a feature, and text
    path.write_text("a,b,c\n1,2,7\n3,4,8\n")
    last = datafiles.load_file(path)  # no column 'label': the last one
    assert last.class_names == ("7", "8") and last.feature_names == ("a", "b")


def test_csv_without_a_header(tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("1,2,spam\n3,4,ham\n5,6,spam\n")
    f = datafiles.load_file(path)  # the first line is data: the label is the last column
    np.testing.assert_array_equal(f.X, [[1, 2], [3, 4], [5, 6]])
    assert f.y.tolist() == [1, 0, 1] and f.feature_names is None
    numbers = tmp_path / "numbers.csv"
    numbers.write_text("3,0.5,1\n1,1.5,2\n10,2.5,1\n")
    f = datafiles.load_file(numbers, label=0)
    assert f.class_names == ("1", "3", "10") and f.y.tolist() == [1, 0, 2]  # sorted as numbers
    np.testing.assert_array_equal(f.X, [[0.5, 1], [1.5, 2], [2.5, 1]])
    with pytest.raises(ValueError, match=r"label column: expected a header naming it, got 'y'"):
        datafiles.load_file(numbers, label="y")
    with pytest.raises(ValueError, match=r"label: expected a column index in \[-3, 3\), got 3"):
        datafiles.load_file(numbers, label=3)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("a,b,label\n1,2,x\n3,x\n", r"line 3: expected 3 values like the header, got 2"),
        ("1,2,x\n3,4,y\n5,6\n", r"line 3: expected 3 values like the first line, got 2"),
        ("a,label\n1,x\n2,y\nzz,x\n", r"line 4: expected numbers in every column but the label"),
        ("a,b\n1,2\n", r"label column: expected one of the header's columns \['a', 'b'\]"),
        ("1,x\n2,y\n3,z\n4e,y\n", r"line 4: expected numbers in every column but the label"),
        ("\r", r"line 1: expected at least one value, got an empty line"),  # found by Hypothesis
        ("\n1,2\n", r"line 1: expected at least one value, got an empty line"),
    ],
)
def test_bad_csv_lines_name_their_line(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    label = "label" if content.startswith("a,b\n") else None
    with pytest.raises(ValueError, match=rf"bad\.csv: {message}"):
        datafiles.load_file(path, label=label)


def test_predict_inputs_drop_the_label_column_when_present(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b,label\n1,2,cat\n")
    X, names = datafiles.read_features(path)
    np.testing.assert_array_equal(X, [[1, 2]])
    assert names == ("a", "b")
    path.write_text("a,b\n1,2\n")
    X, names = datafiles.read_features(path)
    assert X.shape == (1, 2) and names == ("a", "b")


# ------------------------------------------------------------------------------------------
# npz, dense and sparse
# ------------------------------------------------------------------------------------------


def test_dense_npz_float32_and_regression(tmp_path):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(10, 3)), rng.choice(["a", "b"], 10)
    np.savez(tmp_path / "d.npz", X=X, y=y)
    f = datafiles.load_file(tmp_path / "d.npz", dtype=np.float32)
    assert f.X.dtype == np.float32 and f.class_names == ("a", "b")
    np.testing.assert_array_equal(np.array(f.class_names)[f.y], y)
    np.savez(tmp_path / "r.npz", X=X, y=np.arange(10.0))
    r = datafiles.load_file(tmp_path / "r.npz", task="regression")
    assert r.class_names == () and r.y.dtype == np.float64


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_npz_written_by_scipy_plus_y(tmp_path, fmt):
    X = sp.random(20, 7, density=0.3, format=fmt, random_state=1, dtype=np.float32)
    path = tmp_path / "s.npz"
    sp.save_npz(path, X, compressed=True)
    arrays = dict(np.load(path))
    np.savez(path, **arrays, y=np.arange(20) % 3 + 1)  # the documented layout: scipy's + y
    f = datafiles.load_file(path, n_features=9, dtype=np.float32)
    assert f.X.format == "csr" and f.X.dtype == np.float32 and f.X.shape == (20, 9)
    assert datafiles.load_file(path).X.dtype == np.float64  # the dtype asked for
    np.testing.assert_array_equal(f.X.toarray()[:, :7], X.toarray())
    assert f.class_names == ("1", "2", "3") and f.y.tolist() == (np.arange(20) % 3).tolist()


def test_sparse_npz_round_trip_sums_duplicates_and_refuses_bad_indices(tmp_path):
    X = sp.csr_matrix((np.array([1.0, 2.0, 4.0]), np.array([2, 2, 0]), np.array([0, 2, 3])),
                      shape=(2, 3))  # fmt: skip
    path = datafiles.save_npz(tmp_path / "dup.npz", X, ["a", "b"])
    f = datafiles.load_file(path)
    np.testing.assert_array_equal(f.X.toarray(), [[0, 0, 3], [4, 0, 0]])  # summed, as SciPy
    assert f.X.has_canonical_format
    bad = {"data": np.ones(2), "indices": np.array([0, 5]), "indptr": np.array([0, 1, 2]),
           "shape": np.array([2, 3]), "format": np.array(b"csr"), "y": np.zeros(2)}  # fmt: skip
    np.savez(tmp_path / "range.npz", **bad)
    with pytest.raises(ValueError, match=r"range\.npz: X: expected a valid CSR matrix"):
        datafiles.load_file(tmp_path / "range.npz")
    np.savez(tmp_path / "neg.npz", **{**bad, "indices": np.array([0, -1])})
    with pytest.raises(ValueError, match=r"neg\.npz: X: expected a valid CSR matrix"):
        datafiles.load_file(tmp_path / "neg.npz")
    np.savez(tmp_path / "nan.npz", **{**bad, "indices": np.array([0, 1]),
                                      "data": np.array([1.0, np.inf])})  # fmt: skip
    with pytest.raises(
        ValueError,
        match=r"nan\.npz: X: expected finite values, got 1 NaN or inf .*\(inf in row 1\)",
    ):
        datafiles.load_file(tmp_path / "nan.npz")
    wide = datafiles.save_npz(tmp_path / "wide.npz", sp.csr_matrix(np.eye(4)), [0, 1, 0, 1])
    with pytest.raises(ValueError, match=r"below the model's width 3, got feature index 3"):
        datafiles.load_file(wide, n_features=3)
    sp.save_npz(tmp_path / "noy.npz", X)
    with pytest.raises(ValueError, match=r"noy\.npz: expected arrays named X and y"):
        datafiles.load_file(tmp_path / "noy.npz")


# ------------------------------------------------------------------------------------------
# Labels, kinds, and the split datasets.load makes of a file
# ------------------------------------------------------------------------------------------


def test_label_index_against_a_loop():
    rng = np.random.default_rng(0)
    for labels in (rng.choice([-1, 1], 50), rng.integers(1, 6, 50), rng.choice(["b", "a"], 50)):
        index, names = datafiles.label_index(labels)
        distinct = sorted(set(labels.tolist()))
        assert names == tuple(str(v) for v in distinct)
        assert index.tolist() == [distinct.index(v) for v in labels.tolist()]


def test_file_kind_by_suffix_or_content(tmp_path):
    (tmp_path / "a9a").write_text("-1 3:1 11:1\n+1 5:1\n")
    (tmp_path / "table").write_text("a,b\n1,2\n")
    np.savez(tmp_path / "arrays", X=np.eye(2), y=[0, 1])
    assert datafiles.file_kind(tmp_path / "a9a") == "svmlight"
    assert datafiles.file_kind(tmp_path / "table") == "csv"
    assert datafiles.file_kind(tmp_path / "arrays.npz") == "npz"
    assert datafiles.is_data_file(tmp_path / "a9a") and not datafiles.is_data_file("iris")
    assert datafiles.load_file(tmp_path / "a9a").X.shape == (2, 11)


def test_datasets_load_splits_a_sparse_file_without_densifying(tmp_path):
    rng = np.random.default_rng(5)
    text = random_svmlight(rng, 200, 40, one_based=True)
    (tmp_path / "d.svmlight").write_text(text)
    data = datasets.load(tmp_path / "d.svmlight", validation=0.2, test=0.2, dtype=np.float32)
    parts = (data.X_train, data.X_val, data.X_test)
    assert all(sp.issparse(X) and X.dtype == np.float32 for X in parts)
    assert [X.shape[0] for X in parts] == [120, 40, 40] and data.class_names == ("-1", "1")
    X, labels = naive_svmlight(text, data.n_features, offset=1)
    rows = sp.vstack(parts).toarray()
    order, expected = np.lexsort(rows.T), np.lexsort(X.T)
    np.testing.assert_allclose(rows[order], X[expected], rtol=1e-6)
    ys = np.concatenate([data.y_train, data.y_val, data.y_test])
    np.testing.assert_array_equal(ys[order], (np.array(labels)[expected] > 0).astype(int))
