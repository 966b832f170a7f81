"""Reading a user's own data file: ``.csv``, ``.npz`` (dense or sparse) and svmlight / libsvm.

:func:`load_file` returns a :class:`DataFile` ``(X, y, class_names, feature_names)``;
:func:`lingrad.datasets.load` splits it into train / validation / test as it does the shipped
sets, so the CLI treats both alike. The format is the file's suffix (:data:`SUFFIXES`); an
existing file with another suffix is recognised by its first bytes (a zip archive is an
``.npz``, a first line ``label index:value ...`` is svmlight, anything else CSV).

* **CSV**: one example a line. The first line is a header unless all of its cells are numbers
  (the label column's cell aside: it may be text). ``label`` names the label column or gives
  its index (``-1``: the last); by default the column named ``label``, else the last one.
  A malformed line is a ``ValueError`` with its line number.
* **npz**, dense: arrays ``X`` ``(N, D)`` and ``y`` ``(N,)``. Sparse: the arrays that
  :func:`scipy.sparse.save_npz` writes for a CSR (or CSC) matrix, ``data``, ``indices``,
  ``indptr``, ``shape`` and ``format``, plus ``y`` in the same file (:func:`save_npz` writes
  either layout). Read with ``allow_pickle=False``.
* **svmlight / libsvm** (``.svm``, ``.libsvm``, ``.svmlight``): ``label index:value ...``
  per line, read by scikit-learn's :func:`~sklearn.datasets.load_svmlight_file`; ``X`` stays
  a CSR matrix. ``zero_based``: ``True`` (indices from 0), ``False`` (from 1, as libsvm
  writes them) or ``"auto"`` (from 1 unless an index 0 appears). A malformed line is a
  ``ValueError`` with its line number (scikit-learn does not give one: the file is scanned
  for it after a failure).

Sparse ``X`` is never densified. It is checked as it is read: values finite, indices within
the width (negative or out-of-range indices refused). Duplicate or unsorted indices: in a
sparse ``.npz`` the duplicate entries of a row are summed and the indices sorted (SciPy's
canonical form, as SciPy itself does); in an svmlight line they are refused, naming the line
(each line must list increasing indices, as scikit-learn's reader requires).
``n_features`` widens sparse data to a model's width (a later file that uses fewer columns);
an index beyond it is refused, naming the index and the width. A dense file's width is its
own (the caller compares it with a model's).

Labels of any kind (strings, ``-1``/``+1``, ``1..K``) become ``0..K-1`` indices into the sorted
``class_names`` (numbers sorted as numbers, written ``"-1"``, ``"1"``, ``"2.5"``).
SciPy and scikit-learn are imported on use only.
"""

from __future__ import annotations

import array
import csv
import os
import re
from pathlib import Path
from typing import Any, NamedTuple, TextIO

import numpy as np
import numpy.typing as npt
from numpy.typing import NDArray

from lingrad import runs
from lingrad._validation import check_sparse, check_X, fail, is_sparse

#: the suffixes read, and the svmlight ones among them
SUFFIXES: tuple[str, ...] = (".csv", ".npz", ".svm", ".libsvm", ".svmlight")
SVMLIGHT: tuple[str, ...] = (".svm", ".libsvm", ".svmlight")
#: the arrays of a sparse ``.npz`` (those of :func:`scipy.sparse.save_npz`) besides ``y``
SPARSE_KEYS: tuple[str, ...] = ("data", "indices", "indptr", "shape", "format")

#: The most characters one CSV row may span (its values are held as strings while it is
#: parsed, some 50 bytes each): 4 MiB, some 1.4 million values.
MAX_CSV_ROW = 2**22

Label = str | int | None


class DataFile(NamedTuple):
    """A user file's contents: ``X`` ``(N, D)`` (an ndarray, or a CSR matrix for sparse
    formats), ``y`` ``(N,)`` (class indices ``0..K-1``, real targets, or ``None`` when the file
    has no labels), ``class_names`` (``K`` names; empty for regression) and ``feature_names``
    (a CSV header's, else ``None``).

    Examples:
        >>> f = DataFile(np.zeros((2, 1)), np.array([0, 1]), ("no", "yes"), None)
        >>> f.X.shape, f.class_names
        ((2, 1), ('no', 'yes'))
    """

    X: Any
    y: NDArray[Any] | None
    class_names: tuple[str, ...]
    feature_names: tuple[str, ...] | None


def is_data_file(name: str | os.PathLike[str]) -> bool:
    """Whether ``name`` is a path :func:`load_file` reads: it ends in one of :data:`SUFFIXES`
    or is an existing file.

    Examples:
        >>> is_data_file("news.svm"), is_data_file("train.CSV"), is_data_file("digits")
        (True, True, False)
    """
    return Path(name).suffix.lower() in SUFFIXES or Path(name).is_file()


def holds_sparse(path: str | os.PathLike[str]) -> bool:
    """Whether :func:`load_file` gives a sparse (CSR) ``X`` for ``path``: an svmlight file, or
    an ``.npz`` holding :data:`SPARSE_KEYS` (its directory is read, not its arrays).

    Examples:
        >>> holds_sparse("news.svm"), holds_sparse("table.csv")
        (True, False)
    """
    path = Path(path)
    if not is_data_file(path):
        return False
    kind = file_kind(path)
    if kind == "svmlight":
        return True
    if kind != "npz" or not path.is_file():
        return False
    with np.load(path, allow_pickle=False) as arrays:
        return set(SPARSE_KEYS) <= set(arrays.files)


def file_kind(path: str | os.PathLike[str]) -> str:
    """``"csv"``, ``"npz"`` or ``"svmlight"``: by the suffix, else by the file's first bytes.

    Examples:
        >>> file_kind("a.libsvm"), file_kind("b.npz"), file_kind("c.csv")
        ('svmlight', 'npz', 'csv')
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in SVMLIGHT:
        return "svmlight"
    if suffix in (".csv", ".npz"):
        return suffix[1:]
    with open(path, "rb") as f:
        head = f.read(1 << 16)
    if head.startswith(b"PK"):
        return "npz"
    first = next((s for s in head.split(b"\n") if s.strip() and not s.startswith(b"#")), b"")
    tokens = first.split(b"#")[0].split()
    if len(tokens) > 1 and all(b":" in t for t in tokens[1:]) and b"," not in first:
        return "svmlight"
    return "csv"


def _check_path(path: str | os.PathLike[str]) -> Path:
    path = Path(path)
    if not path.is_file():
        if path.suffix.lower() not in SUFFIXES:
            fail("file", f"a {', '.join(SUFFIXES[:-1])} or {SUFFIXES[-1]} file", repr(str(path)))
        raise FileNotFoundError(f"{path}: expected an existing file, got no such file")
    return path


# ------------------------------------------------------------------------------------------
# Labels
# ------------------------------------------------------------------------------------------


def _label_name(value: object) -> str:
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def label_index(y: npt.ArrayLike) -> tuple[NDArray[np.intp], tuple[str, ...]]:
    """``(index (N,), class_names (K,))``: each label of ``y`` ``(N,)`` as its position in the
    sorted distinct labels. Text that reads as numbers is sorted as numbers.

    Examples:
        >>> label_index(["spam", "ham", "spam"])
        (array([1, 0, 1]), ('ham', 'spam'))
        >>> label_index(np.array([1.0, -1.0, 1.0]))
        (array([1, 0, 1]), ('-1', '1'))
        >>> label_index(["10", "2", "10"])
        (array([1, 0, 1]), ('2', '10'))
    """
    values = np.asarray(y)
    if values.dtype.kind in "USO":
        try:
            numbers = values.astype(np.float64)
        except (TypeError, ValueError):
            numbers = None
        if numbers is not None and np.isfinite(numbers).all():
            values = numbers
    classes, index = np.unique(values, return_inverse=True)
    return index.reshape(-1).astype(np.intp), tuple(_label_name(c) for c in classes)


def _targets(
    path: Path, y: npt.ArrayLike, n: int, task: str
) -> tuple[NDArray[Any], tuple[str, ...]]:
    """``(y, class_names)`` of the file's labels: indices for classification, real targets
    (and no names) for regression."""
    values = np.asarray(y)
    if values.shape != (n,):
        fail(f"{path}: y", f"one target per row of X, shape ({n},)", f"{values.shape}")
    if task == "regression":
        try:
            targets = values.astype(np.float64)
        except (TypeError, ValueError) as exc:
            fail(f"{path}: y", "numbers for a regression target", str(exc))
        if not np.isfinite(targets).all():
            fail(f"{path}: y", "finite regression targets", "NaN or infinity")
        return targets, ()
    if values.dtype.kind == "f" and not np.isfinite(values).all():
        fail(f"{path}: y", "finite labels", "NaN or infinity")
    return label_index(values)


# ------------------------------------------------------------------------------------------
# CSV
# ------------------------------------------------------------------------------------------


class _Lines:
    """A text file's lines for :mod:`csv`, none read beyond :data:`MAX_CSV_ROW` characters per
    row (``start_row`` resets the count), so that one endless line cannot fill the memory."""

    def __init__(self, f: TextIO, path: Path) -> None:
        self.f, self.path, self.count, self.line = f, path, 0, 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self.f.readline(MAX_CSV_ROW + 1)
        if not line:
            raise StopIteration
        self.count += len(line)
        self.line += 1
        if self.count > MAX_CSV_ROW:
            fail(
                f"{self.path}: line {self.line}",
                f"rows of at most {MAX_CSV_ROW:,} characters (a stray quote?)",
                "a longer one",
            )
        return line

    def start_row(self) -> None:
        self.count = 0


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _as_index(label: Label, width: int) -> int | None:
    """``label`` as a column index in ``[0, width)`` if it is an integer (or its text)."""
    if isinstance(label, bool) or label is None:
        return None
    if isinstance(label, str):
        try:
            label = int(label)
        except ValueError:
            return None
    if not -width <= label < width:
        fail("label", f"a column index in [{-width}, {width})", label)
    return label % width


def _label_column(
    path: Path, first: list[str], label: Label, required: bool
) -> tuple[list[str] | None, int | None]:
    """``(header or None, label column or None)`` from the file's first row ``first``."""
    width = len(first)
    if isinstance(label, str) and label in first:  # a name in the header
        return first, first.index(label)
    index = _as_index(label, width)
    # the column whose first cell may be text in a file without a header
    candidate = index if index is not None else (width - 1 if label is None else None)
    numbers = all(_is_number(c) for j, c in enumerate(first) if j != candidate)
    header = None if numbers else first
    if index is not None:
        return header, index
    if label is None:
        if header is not None and "label" in header:
            return header, header.index("label")
        return header, (width - 1 if required else None)
    if required:
        columns = f"one of the header's columns {header}" if header else "a header naming it"
        fail(f"{path}: label column", columns, repr(label))
    return header, None


def _read_csv(
    path: Path, label: Label, *, required: bool
) -> tuple[NDArray[np.float64], list[str] | None, tuple[str, ...] | None]:
    """``(X, labels or None, feature names or None)``; the label column may be absent unless
    ``required``. Read a row at a time into a flat float buffer (8 bytes a value); a malformed
    file is one ValueError naming the file and the line."""
    with open(path, newline="") as f:
        lines = _Lines(f, path)
        reader = csv.reader(lines)
        try:
            first = next(reader, None)
            if first is None:
                fail(str(path), "a header line and at least one row", "0 lines")
            if not first:  # a blank first line (csv gives no cells): no column to read
                fail(f"{path}: line 1", "at least one value", "an empty line")
            header, k = _label_column(path, first, label, required)
            width = len(first)
            values, labels, n = array.array("d"), [], 0
            seen: dict[str, str] = {}
            start = reader.line_num + 1  # where the next row starts
            rows = reader if header is not None else _chain(first, reader)
            lines.start_row()
            for row in rows:
                i = reader.line_num
                if len(row) != width:
                    like = "like the header" if header is not None else "like the first line"
                    fail(f"{path}: line {i}", f"{width} values {like}", len(row))
                try:
                    values.extend([float(v) for j, v in enumerate(row) if j != k])
                except ValueError as exc:
                    fail(f"{path}: line {i}", "numbers in every column but the label", str(exc))
                if k is not None:
                    labels.append(seen.setdefault(row[k], row[k]))
                n += 1
                lines.start_row()
                start = i + 1
        except csv.Error as exc:
            got = f"{exc} (by line {reader.line_num})"
            fail(f"{path}: line {start}", "well-formed CSV (a stray quote?)", got)
        except UnicodeDecodeError as exc:
            fail(str(path), "a UTF-8 text file", f"{type(exc).__name__}: {exc}")
    if n == 0:
        fail(str(path), "a header line and at least one row", "1 lines")
    d = width - (k is not None)
    features = None if header is None else tuple(c for j, c in enumerate(header) if j != k)
    X = np.frombuffer(values, dtype=np.float64) if len(values) else np.zeros(0)
    return X.reshape(n, d), (None if k is None else labels), features


def _chain(first: list[str], rest: Any) -> Any:
    yield first
    yield from rest


# ------------------------------------------------------------------------------------------
# npz (dense or sparse)
# ------------------------------------------------------------------------------------------


def _read_npz(path: Path, *, required: bool) -> tuple[Any, NDArray[Any] | None]:
    what = "an .npz with numeric X and y (no pickled objects)"
    names = set(runs.npz_members(path, what=what))
    dense, sparse = "X" in names, set(SPARSE_KEYS) <= names
    if dense == sparse or (required and "y" not in names):
        fail(
            str(path),
            "arrays named X and y" if required else "an array X",
            f"{sorted(names)} (a sparse X: the arrays {', '.join(SPARSE_KEYS)} of "
            "scipy.sparse.save_npz, plus y)",
        )
    arrays = runs.load_npz(path, only={"X", "y", *SPARSE_KEYS}, what=what)
    X = arrays["X"] if dense else _sparse_from(path, arrays)
    return X, arrays.get("y")


def _sparse_from(path: Path, arrays: dict[str, NDArray[Any]]) -> Any:
    """The CSR matrix of a sparse ``.npz``'s arrays, checked
    (:func:`lingrad._validation.check_sparse`)."""
    import scipy.sparse as sp

    fmt = arrays["format"]
    kind = fmt.item().decode() if fmt.dtype.kind == "S" else str(fmt.item())
    if kind not in ("csr", "csc"):
        fail(f"{path}: format", "'csr' or 'csc'", repr(kind))
    shape = arrays["shape"]
    if shape.shape != (2,) or shape.dtype.kind not in "iu" or (shape < 0).any():
        fail(f"{path}: shape", "two non-negative integers", f"{shape.dtype} {shape.tolist()}")
    for key in ("indices", "indptr"):
        if arrays[key].ndim != 1 or arrays[key].dtype.kind not in "iu":
            fail(
                f"{path}: {key}", "a 1-D integer array", f"{arrays[key].dtype} {arrays[key].shape}"
            )
    data = arrays["data"]
    if data.ndim != 1 or data.dtype.kind not in "fiub":
        fail(f"{path}: data", "a 1-D numeric array", f"{data.dtype} {data.shape}")
    matrix = sp.csr_matrix if kind == "csr" else sp.csc_matrix
    try:
        X = matrix((data, arrays["indices"], arrays["indptr"]), shape=tuple(int(s) for s in shape))
        X.check_format(full_check=True)
    except ValueError as exc:
        fail(f"{path}: X", f"a valid {kind.upper()} matrix", str(exc))
    return check_sparse(X, f"{path}: X")


def _widen(path: Path, X: Any, n_features: int | None) -> Any:
    """A CSR ``X`` with ``n_features`` columns (more than its own: the same entries)."""
    if n_features is None or X.shape[1] == n_features:
        return X
    import scipy.sparse as sp

    if X.nnz and int(X.indices.max()) >= n_features:
        col = int(X.indices.max())
        fail(
            f"{path}: X",
            f"feature indices below the model's width {n_features}",
            f"feature index {col}",
        )
    return sp.csr_matrix((X.data, X.indices, X.indptr), shape=(X.shape[0], n_features))


# ------------------------------------------------------------------------------------------
# svmlight / libsvm
# ------------------------------------------------------------------------------------------


def _read_svmlight(
    path: Path, *, n_features: int | None, zero_based: bool | str, dtype: npt.DTypeLike
) -> tuple[Any, NDArray[np.float64]]:
    from sklearn.datasets import load_svmlight_file

    if zero_based not in (True, False, "auto"):
        fail("zero_based", "True, False or 'auto'", repr(zero_based))
    try:
        X, y = load_svmlight_file(
            str(path), n_features=n_features, dtype=dtype, zero_based=zero_based
        )
    except (ValueError, UnicodeDecodeError) as exc:
        _locate(path, n_features, zero_based)  # raises with the line number where it can
        raise ValueError(f"{path}: expected svmlight/libsvm lines, got {exc}") from exc
    if X.shape[0] == 0:
        fail(str(path), "at least one line 'label index:value ...'", "none")
    return check_sparse(X, f"{path}: X", dtype=X.dtype), y


def _locate(path: Path, n_features: int | None, zero_based: bool | str) -> None:
    """Scan an svmlight file that failed to load and raise a ``ValueError`` naming the first
    bad line: a label or an ``index:value`` pair that is not a number, indices not increasing,
    an index 0 in a one-based file, an index beyond ``n_features``. Returns if none is found."""
    has_zero = False
    beyond: dict[int, tuple[int, int] | None] = {0: None, 1: None}  # (line, index) >= width
    with open(path, "rb") as f:
        for i, raw in enumerate(f, 1):
            tokens = raw.split(b"#", 1)[0].split()
            if not tokens:
                continue
            if not _is_number(tokens[0].decode(errors="replace")):
                fail(f"{path}: line {i}", "a numeric label first", _shown(tokens[0]))
            previous = -1
            for token in tokens[1:]:
                if token.startswith(b"qid:"):
                    continue
                index, _, value = token.partition(b":")
                if not index.isdigit() or not _is_number(value.decode(errors="replace")):
                    expected = "index:value pairs (a non-negative integer index, a number)"
                    fail(f"{path}: line {i}", expected, _shown(token))
                col = int(index)
                if col <= previous:
                    fail(f"{path}: line {i}", "feature indices in increasing order", _shown(raw))
                previous = col
                has_zero |= col == 0
                if zero_based is False and col == 0:
                    fail(f"{path}: line {i}", "indices from 1 (zero_based=False)", "index 0")
                for offset in (0, 1):
                    if n_features is not None and col >= n_features + offset:
                        beyond[offset] = beyond[offset] or (i, col)
    offset = 0 if zero_based is True or (zero_based == "auto" and has_zero) else 1
    found = beyond[offset]
    if found is not None:
        line, col = found
        fail(
            f"{path}: line {line}",
            f"feature indices within the model's width {n_features} "
            f"({'zero' if offset == 0 else 'one'}-based)",
            f"feature index {col}",
        )


_ZERO_INDEX = re.compile(rb"(?:^|\s)0+:")


def svmlight_zero_based(path: str | os.PathLike[str]) -> bool:
    """Whether an svmlight file uses the feature index 0 (outside comments), which is how
    ``zero_based="auto"`` decides that its indices start at 0. Record the answer with a model,
    so that a later file (which may not use index 0) is read with the same base.

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     _ = (Path(tmp) / "a.svm").write_text("1 0:1 4:2  # 0:9\\n")
        ...     _ = (Path(tmp) / "b.svm").write_text("1 1:1 qid:0 10:2\\n")
        ...     svmlight_zero_based(Path(tmp) / "a.svm"), svmlight_zero_based(Path(tmp) / "b.svm")
        (True, False)
    """
    with open(path, "rb") as f:
        return any(_ZERO_INDEX.search(line.split(b"#", 1)[0]) for line in f)


def _shown(token: bytes) -> str:
    text = token.decode(errors="replace").strip()
    return repr(text if len(text) <= 60 else text[:57] + "...")


# ------------------------------------------------------------------------------------------
# The public readers
# ------------------------------------------------------------------------------------------


def _read(
    path: Path,
    label: Label,
    n_features: int | None,
    zero_based: bool | str,
    dtype: npt.DTypeLike,
    required: bool,
) -> tuple[Any, Any, tuple[str, ...] | None]:
    """``(X, raw labels or None, feature names)`` of any supported file."""
    if n_features is not None and (isinstance(n_features, bool) or int(n_features) < 1):
        fail("n_features", "a positive integer or None", repr(n_features))
    kind = file_kind(path)
    if kind == "svmlight":
        X, y = _read_svmlight(path, n_features=n_features, zero_based=zero_based, dtype=dtype)
        return X, y, None
    if kind == "csv":
        values, labels, features = _read_csv(path, label, required=required)
        return check_X(values, f"{path}: X", dtype=dtype), labels, features
    data, targets = _read_npz(path, required=required)
    if is_sparse(data):
        return (
            _widen(path, check_sparse(data, f"{path}: X", dtype=dtype), n_features),
            targets,
            None,
        )
    return check_X(data, f"{path}: X", dtype=dtype), targets, None


def load_file(
    path: str | os.PathLike[str],
    *,
    label: Label = None,
    n_features: int | None = None,
    zero_based: bool | str = "auto",
    dtype: npt.DTypeLike = np.float64,
    task: str = "classification",
) -> DataFile:
    """Read a user's data file (see the module docstring for the formats).

    Args:
        path: a ``.csv``, ``.npz``, ``.svm``, ``.libsvm`` or ``.svmlight`` file (or an
            existing file of one of these kinds under another name).
        label: CSV only: the label column's name or index (default: ``label``, else the last).
        n_features: sparse formats: the width ``D`` of ``X`` (a model's), at least the file's.
        zero_based: svmlight only: whether indices start at 0 (``"auto"``: unless none is 0).
        dtype: ``X``'s dtype, float64 or float32.
        task: ``"classification"`` (labels to ``0..K-1``) or ``"regression"`` (real ``y``).

    Returns:
        :class:`DataFile` with ``X`` ``(N, D)`` (CSR for svmlight and sparse ``.npz``) and
        ``y`` ``(N,)``.

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     _ = (Path(tmp) / "d.svm").write_text("+1 1:0.5 3:2\\n-1 2:1\\n")
        ...     f = load_file(Path(tmp) / "d.svm")
        >>> f.X.format, f.X.toarray(), f.y, f.class_names
        ('csr', array([[0.5, 0. , 2. ],
               [0. , 1. , 0. ]]), array([1, 0]), ('-1', '1'))
    """
    if task not in ("classification", "regression"):
        fail("task", "'classification' or 'regression'", repr(task))
    path = _check_path(path)
    X, y, features = _read(path, label, n_features, zero_based, dtype, required=True)
    targets, class_names = _targets(path, y, X.shape[0], task)
    return DataFile(X, targets, class_names, features)


def read_features(
    path: str | os.PathLike[str],
    *,
    label: Label = None,
    n_features: int | None = None,
    zero_based: bool | str = "auto",
    dtype: npt.DTypeLike = np.float64,
) -> tuple[Any, tuple[str, ...] | None]:
    """``(X (N, D), feature_names)`` of a file of inputs to predict on: as :func:`load_file`,
    but the labels may be absent (a CSV's ``label`` column, by default ``label``, is left out
    where present; svmlight labels are read and dropped; an ``.npz`` needs only ``X``).

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:  # a model 4 features wide
        ...     _ = (Path(tmp) / "x.svm").write_text("0 1:0.5\\n1 2:1.5\\n")
        ...     X, names = read_features(Path(tmp) / "x.svm", n_features=4, zero_based=False)
        >>> X.shape, X.toarray()[1], names
        ((2, 4), array([0. , 1.5, 0. , 0. ]), None)
    """
    path = _check_path(path)
    X, _, features = _read(path, label, n_features, zero_based, dtype, required=False)
    return X, features


def save_npz(path: str | os.PathLike[str], X: Any, y: npt.ArrayLike | None = None) -> Path:
    """Write ``X`` ``(N, D)`` (and ``y`` ``(N,)``) as an ``.npz`` that :func:`load_file` reads:
    arrays ``X``, ``y`` for a dense ``X``; for a sparse one the CSR arrays ``data``,
    ``indices``, ``indptr``, ``shape``, ``format`` (:func:`scipy.sparse.save_npz`'s) and ``y``.

    Examples:
        >>> import tempfile, scipy.sparse as sp
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     p = save_npz(Path(tmp) / "s.npz", sp.csr_matrix(np.eye(3)), [0, 1, 1])
        ...     f = load_file(p)
        >>> f.X.nnz, f.y.tolist()
        (3, [0, 1, 1])
    """
    arrays: dict[str, Any]
    if is_sparse(X):
        X = check_sparse(X)
        arrays = {
            "data": X.data,
            "indices": X.indices,
            "indptr": X.indptr,
            "shape": np.asarray(X.shape, dtype=np.int64),
            "format": np.asarray(b"csr"),
        }
    else:
        arrays = {"X": check_X(X)}
    if y is not None:
        arrays["y"] = np.asarray(y)
    return runs.save_npz(path, arrays)


__all__ = [
    "SUFFIXES",
    "DataFile",
    "file_kind",
    "holds_sparse",
    "is_data_file",
    "label_index",
    "load_file",
    "read_features",
    "save_npz",
    "svmlight_zero_based",
]
