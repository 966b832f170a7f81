"""Datasets as train / validation / test splits, and the preprocessing fitted on train only.

``load(name)`` returns a :class:`Dataset`:

* scikit-learn's shipped sets, no download: ``digits`` (8 x 8 images), ``iris``, ``wine``,
  ``breast_cancer`` and, for regression, ``diabetes``;
* ``california_housing`` (regression) through scikit-learn's own fetcher and cache;
* ``cifar10`` in its official python-pickle format: downloaded once with progress and a
  SHA-256 check into a cache directory, or read from a local copy (``data_dir``); the pickles
  are read by a restricted unpickler that cannot run code;
* user files, read by :mod:`lingrad.datafiles`: ``.csv``, ``.npz`` (dense or sparse) and
  svmlight / libsvm (``.svm``, ``.libsvm``, ``.svmlight``; ``X`` stays a CSR matrix).

Classification splits are stratified (each class in the same proportion in every split);
every split is reproducible from ``seed``. With ``preprocess="standardize"`` (or
``"mean_image"``) the :class:`Preprocessing` is fitted on the training split only and applied
to all three; it travels with the dataset (``Dataset.preprocessing``) and with saved models.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import sys
import tarfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Self, TextIO

import numpy as np
import numpy.typing as npt
from numpy.typing import NDArray

from lingrad import datafiles, runs
from lingrad._validation import check_sparse, check_X, fail, is_sparse


class DatasetUnavailable(FileNotFoundError):
    """A dataset is neither on disk nor downloadable (offline, or the download failed).

    Examples:
        >>> issubclass(DatasetUnavailable, FileNotFoundError)
        True
    """


@dataclass(frozen=True)
class Dataset:
    """Three splits of ``(X, y)``: ``X_*`` of shape ``(n, D)``, ``y_*`` of shape ``(n,)``.

    Attributes:
        class_names: one name per label value ``0..C-1`` (empty for regression).
        image_shape: the shape one row reshapes to for image data (``(8, 8)`` for digits,
            ``(32, 32, 3)`` for CIFAR-10), ``None`` otherwise.
        task: ``"classification"`` (integer labels ``y``) or ``"regression"`` (real ``y``).
        preprocessing: the :class:`Preprocessing` fitted on ``X_train`` and already applied,
            or ``None``.
        feature_names: one name per column where the source has them.

    Examples:
        >>> data = load("iris", validation=0.2, test=0.2)
        >>> data.X_train.shape, data.X_val.shape, data.X_test.shape, data.class_names
        ((90, 4), (30, 4), (30, 4), ('setosa', 'versicolor', 'virginica'))
    """

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    image_shape: tuple[int, ...] | None = None
    task: str = "classification"
    preprocessing: Preprocessing | None = None
    feature_names: tuple[str, ...] | None = None

    @property
    def n_features(self) -> int:
        return self.X_train.shape[1]

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    def split(self, which: str) -> tuple[np.ndarray, np.ndarray]:
        """``(X, y)`` of ``"train"``, ``"val"`` or ``"test"``."""
        if which not in ("train", "val", "test"):
            fail("split", "one of ['test', 'train', 'val']", repr(which))
        return getattr(self, f"X_{which}"), getattr(self, f"y_{which}")


# ------------------------------------------------------------------------------------------
# Preprocessing, fitted on the training split only
# ------------------------------------------------------------------------------------------

PREPROCESSING = ("none", "mean_image", "standardize")


@dataclass
class Preprocessing:
    """``x -> (x - mean) / scale`` per feature, fitted on training data only.

    ``kind``: ``"standardize"`` (mean and standard deviation of each feature; a constant
    feature gets ``scale = 1`` and becomes 0, not NaN), ``"mean_image"`` (subtract the mean
    training image, ``scale = 1``: the CS231n preprocessing) or ``"none"``.

    Examples:
        >>> p = Preprocessing("mean_image").fit(np.array([[1.0, 2.0], [3.0, 6.0]]))
        >>> p.transform(np.array([[2.0, 4.0]]))
        array([[0., 0.]])
    """

    kind: str = "standardize"
    mean: np.ndarray | None = field(default=None)
    scale: np.ndarray | None = field(default=None)

    def __post_init__(self):
        if self.kind not in PREPROCESSING:
            fail("preprocess", f"one of {list(PREPROCESSING)}", repr(self.kind))

    def fit(self, X: npt.ArrayLike) -> Self:
        X = check_X(X)
        D = X.shape[1]
        if self.kind == "none":
            self.mean, self.scale = np.zeros(D, X.dtype), np.ones(D, X.dtype)
            return self
        self.mean = X.mean(axis=0, dtype=np.float64).astype(X.dtype)
        if self.kind == "standardize":
            std = X.std(axis=0, dtype=np.float64)
            self.scale = np.where(std > 0, std, 1.0).astype(X.dtype)
        else:
            self.scale = np.ones(D, X.dtype)
        return self

    def transform(self, X: npt.ArrayLike) -> NDArray[np.floating]:
        if self.mean is None:
            fail(type(self).__name__, "fit() to be called before transform()", "an unfitted one")
        X = check_X(X)
        if X.shape[1] != self.mean.shape[0]:
            fail("X", f"{self.mean.shape[0]} features", f"{X.shape[1]}")
        return ((X - self.mean) / self.scale).astype(X.dtype, copy=False)

    def fit_transform(self, X: npt.ArrayLike) -> NDArray[np.floating]:
        return self.fit(X).transform(X)


class Standardizer(Preprocessing):
    """:class:`Preprocessing` with ``kind="standardize"`` (per-feature mean and std).

    ``fit(X (N, D))`` learns ``mean`` and ``scale`` ``(D,)``; ``transform(X)`` gives
    ``(X - mean) / scale``, of X's shape.

    Sparse X (``scipy.sparse``, see :func:`lingrad._validation.check_sparse`) is **scaled
    only, never centred** (centring would make every zero non-zero, i.e. densify): ``fit``
    learns ``mean = 0`` and ``scale`` = each column's standard deviation (the same figure as
    for the dense X, zeros included; 1 for a constant column), and ``transform`` returns the
    CSR matrix ``X / scale`` with the same sparsity pattern (scikit-learn's
    ``StandardScaler(with_mean=False)``). A Standardizer fitted with a non-zero mean refuses
    sparse X (a ``ValueError``).

    Examples:
        >>> s = Standardizer().fit(np.array([[1.0, 10.0], [3.0, 30.0]]))
        >>> s.transform(np.array([[2.0, 40.0]]))
        array([[0., 2.]])
        >>> import scipy.sparse as sp
        >>> t = Standardizer().fit(sp.csr_array([[2.0, 0.0], [0.0, 0.0]]))   # std 1 and 0
        >>> t.mean.tolist(), t.scale.tolist(), t.transform(sp.csr_array([[4.0, 5.0]])).toarray()
        ([0.0, 0.0], [1.0, 1.0], array([[4., 5.]]))
    """

    def __init__(
        self, mean: NDArray[np.floating] | None = None, scale: NDArray[np.floating] | None = None
    ) -> None:
        super().__init__("standardize", mean, scale)

    def fit(self, X: npt.ArrayLike) -> Self:
        """Learn ``mean`` and ``scale`` ``(D,)`` from ``X`` ``(N, D)`` (sparse: mean 0)."""
        if not is_sparse(X):
            return super().fit(X)
        A = check_sparse(X)
        N = A.shape[0]
        mean = np.asarray(A.sum(axis=0, dtype=np.float64)).ravel() / N
        square = np.asarray(A.multiply(A).sum(axis=0, dtype=np.float64)).ravel() / N
        std = np.sqrt(np.maximum(square - mean**2, 0.0))
        self.mean = np.zeros(A.shape[1], A.dtype)
        self.scale = np.where(std > 0, std, 1.0).astype(A.dtype)
        return self

    def transform(self, X: npt.ArrayLike) -> NDArray[np.floating]:
        """``(X - mean) / scale``; for sparse ``X`` the CSR matrix ``X / scale`` (mean 0)."""
        if not is_sparse(X) or self.mean is None or self.scale is None:
            return super().transform(X)
        A = check_sparse(X)
        if A.shape[1] != self.mean.shape[0]:
            fail("X", f"{self.mean.shape[0]} features", f"{A.shape[1]}")
        if np.any(self.mean != 0):
            fail("X", "dense data for a Standardizer fitted with a non-zero mean", "sparse X")
        source: Any = X
        out = A.copy() if np.may_share_memory(A.data, source.data) else A  # X stays unchanged
        out.data /= self.scale[out.indices]  # each stored x_ij divided by scale[j]
        return out


# ------------------------------------------------------------------------------------------
# Sources: each returns (X, y, class_names, image_shape, task, feature_names)
# ------------------------------------------------------------------------------------------


def _sklearn(loader_name: str, image_shape=None, task="classification"):
    def load(**_):
        from sklearn import datasets as sk

        bunch = getattr(sk, loader_name)()
        names = () if task == "regression" else tuple(str(c) for c in bunch.target_names)
        features = tuple(str(f) for f in bunch.feature_names)
        return bunch.data, bunch.target, names, image_shape, task, features

    return load


def _toy(name: str, n_per_class: int = 100):
    """A fixed draw (seed 0) of a 2-D toy set from :mod:`lingrad.toy`: 3 classes, xor 2."""

    def load(**_):
        from lingrad import toy

        n_classes = 2 if name == "xor" else 3
        X, y = toy.make(name, n_per_class, n_classes, rng=np.random.default_rng(0))
        names = tuple(str(c) for c in range(n_classes))
        return X, y, names, None, "classification", ("x1", "x2")

    return load


def _california_housing(data_dir=None, **_):
    from sklearn.datasets import fetch_california_housing

    try:
        bunch = fetch_california_housing(data_home=data_dir, n_retries=1, delay=0.1)
    except (OSError, urllib.error.URLError) as exc:
        raise DatasetUnavailable(
            "california_housing: expected a cached copy (scikit-learn's data home"
            f"{'' if data_dir is None else ' ' + str(data_dir)}) or network access to "
            f"download it, got {type(exc).__name__}: {exc}"
        ) from exc
    features = tuple(bunch.feature_names)
    return bunch.data, bunch.target, (), None, "regression", features


# -- CIFAR-10 ----------------------------------------------------------------------------------

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
CIFAR10_ARCHIVE = "cifar-10-python.tar.gz"
CIFAR10_DIR = "cifar-10-batches-py"
CIFAR10_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_TEST = "test_batch"


class _Refused(pickle.UnpicklingError):
    """A pickle asked for a global outside the allowed list."""


class _RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that resolves only the globals a CIFAR-10 batch needs.

    A batch is a dict of bytes keys holding lists, ints, bytes and one uint8 NumPy array, so
    the only globals are NumPy's array reconstructor, ``ndarray`` and ``dtype`` (plus
    ``_codecs.encode``, a pure str -> bytes conversion that protocol-2 pickles written by
    Python 3 use for bytes). Anything else (``os.system``, ``builtins.eval``,
    ``subprocess.Popen``...) is refused before it can run.
    """

    ALLOWED = frozenset(
        {
            ("numpy.core.multiarray", "_reconstruct"),
            ("numpy._core.multiarray", "_reconstruct"),
            ("numpy", "ndarray"),
            ("numpy", "dtype"),
            ("_codecs", "encode"),
        }
    )

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise _Refused(
                f"CIFAR-10 batch: expected only NumPy arrays, lists, dicts and bytes, got a "
                f"reference to {module}.{name} (refused: it could run code)"
            )
        return super().find_class(module, name)


def _unpickle(data: bytes, what: str) -> dict:
    try:
        obj = _RestrictedUnpickler(io.BytesIO(data), encoding="bytes").load()
    except _Refused as exc:
        raise ValueError(f"{what}: {exc}") from None
    except Exception as exc:  # truncated or garbled bytes raise many kinds of errors
        fail(what, "a CIFAR-10 python-pickle batch", f"an unreadable file ({exc!r})")
    if not isinstance(obj, dict):
        fail(what, "a dict", type(obj).__name__)
    return obj


def _cifar_batch(data: bytes, what: str) -> tuple[np.ndarray, np.ndarray]:
    batch = _unpickle(data, what)
    X, y = batch.get(b"data"), batch.get(b"labels")
    if not isinstance(X, np.ndarray) or X.dtype != np.uint8 or X.ndim != 2 or X.shape[1] != 3072:
        got = type(X).__name__ if not isinstance(X, np.ndarray) else f"{X.dtype} {X.shape}"
        fail(what, "b'data': a uint8 array of shape (n, 3072)", got)
    if not isinstance(y, list) or len(y) != X.shape[0]:
        fail(what, f"b'labels': a list of {X.shape[0]} labels", type(y).__name__)
    # A flat list of ints, checked before NumPy sees it: a pickle can share one nested list
    # many times over, and converting that would expand it to gigabytes.
    bad = next((v for v in y if type(v) is not int), None)
    if bad is not None:
        fail(
            what, "b'labels': a flat list of integer labels", f"a list holding {type(bad).__name__}"
        )
    labels = np.asarray(y, dtype=np.intp)
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        fail(what, "labels in [0, 10)", f"labels in [{labels.min()}, {labels.max()}]")
    return X, labels


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _progress(done: int, total: int, out: TextIO | None = None) -> None:
    stream = sys.stderr if out is None else out
    if total > 0:
        stream.write(f"\rdownloading CIFAR-10: {done / total:6.1%} of {total / 1e6:.1f} MB")
    else:
        stream.write(f"\rdownloading CIFAR-10: {done / 1e6:.1f} MB")
    stream.flush()


def download(
    url: str,
    path: str | os.PathLike[str],
    *,
    sha256: str,
    progress: Callable[[int, int], None] | None = _progress,
) -> Path:
    """Download ``url`` to ``path`` atomically, checking its SHA-256; return ``path``.

    The bytes go to a temporary file next to ``path`` and are renamed into place only after
    the checksum matches, so an interrupted or corrupted download never looks complete.

    Examples:
        >>> import tempfile, hashlib
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     src = Path(tmp) / "src.bin"
        ...     _ = src.write_bytes(b"lingrad")
        ...     digest = hashlib.sha256(b"lingrad").hexdigest()
        ...     out = download(src.as_uri(), Path(tmp) / "copy.bin", sha256=digest, progress=None)
        ...     out.read_bytes()
        b'lingrad'
    """
    digest = hashlib.sha256()

    def write(out) -> None:  # the checksum is checked before runs.atomic_write renames
        with urllib.request.urlopen(url, timeout=60) as response:
            total = int(response.headers.get("Content-Length") or 0)
            done = 0
            while block := response.read(1 << 20):
                out.write(block)
                digest.update(block)
                done += len(block)
                if progress is not None:
                    progress(done, total)
        if progress is not None:
            sys.stderr.write("\n")
        if digest.hexdigest() != sha256:
            fail(f"download of {url}", f"SHA-256 {sha256}", digest.hexdigest())

    try:
        return runs.atomic_write(path, write)
    except (OSError, urllib.error.URLError) as exc:
        raise DatasetUnavailable(
            f"{url}: expected a download into {Path(path).parent}, got {type(exc).__name__}: {exc}"
        ) from exc


def default_data_dir() -> Path:
    """``$LINGRAD_DATA_DIR``, else ``~/.cache/lingrad``.

    Examples:
        >>> import os
        >>> from unittest import mock
        >>> with mock.patch.dict(os.environ, {"LINGRAD_DATA_DIR": "/data/lingrad"}):
        ...     default_data_dir()
        PosixPath('/data/lingrad')
    """
    return Path(os.environ.get("LINGRAD_DATA_DIR") or Path.home() / ".cache" / "lingrad")


def _cifar_files(data_dir: Path, *, url: str, sha256: str) -> tuple[dict[str, bytes], str]:
    """The batch files' bytes, from an extracted folder, the archive, or a fresh download,
    and where they came from (the folder, or the archive's folder inside the archive)."""
    names = (*CIFAR10_TRAIN, CIFAR10_TEST, "batches.meta")
    for folder in (data_dir / CIFAR10_DIR, data_dir):
        if all((folder / n).is_file() for n in names):
            return {n: (folder / n).read_bytes() for n in names}, str(folder)
    archive = data_dir / CIFAR10_ARCHIVE
    if not archive.is_file():
        download(url, archive, sha256=sha256)
    elif _sha256(archive) != sha256:
        fail(str(archive), f"SHA-256 {sha256} (the official archive)", _sha256(archive))
    files: dict[str, bytes] = {}
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar.getmembers():
                base = member.name.rsplit("/", 1)[-1]
                if member.name == f"{CIFAR10_DIR}/{base}" and base in names:
                    extracted = tar.extractfile(member) if member.isfile() else None
                    if extracted is not None:
                        files[base] = extracted.read()
    except (tarfile.TarError, OSError, EOFError) as exc:
        fail(str(archive), "a readable tar.gz archive", f"{type(exc).__name__}: {exc}")
    missing = [n for n in names if n not in files]
    if missing:
        fail(str(archive), f"the files {CIFAR10_DIR}/{{{', '.join(names)}}}", f"none of {missing}")
    return files, f"{archive}:{CIFAR10_DIR}"


def _cifar10(data_dir=None, *, url=CIFAR10_URL, sha256=CIFAR10_SHA256, **_):
    data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
    files, where = _cifar_files(data_dir, url=url, sha256=sha256)
    parts = [_cifar_batch(files[n], f"{where}/{n}") for n in (*CIFAR10_TRAIN, CIFAR10_TEST)]
    meta = _unpickle(files["batches.meta"], f"{where}/batches.meta")
    names = meta.get(b"label_names")
    if not isinstance(names, list) or len(names) != 10:
        fail(f"{where}/batches.meta", "b'label_names': a list of 10 names", repr(names)[:80])
    class_names = tuple(n.decode() if isinstance(n, bytes) else str(n) for n in names)
    # Rows are 1024 red, 1024 green, 1024 blue values; reorder to (32, 32, 3) images.
    X = np.concatenate([p[0] for p in parts])
    X = X.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).reshape(-1, 3072)
    y = np.concatenate([p[1] for p in parts])
    n_test = parts[-1][0].shape[0]
    return X, y, class_names, (32, 32, 3), "classification", None, n_test


# -- user files --------------------------------------------------------------------------------


def _check_path(path) -> Path:
    path = Path(path)
    if path.suffix not in (".csv", ".npz"):
        fail("file", "a .csv or .npz file", repr(str(path)))
    return path


def read_features(
    path: str | os.PathLike[str], *, label: str = "label"
) -> tuple[NDArray[np.floating], tuple[str, ...] | None]:
    """``(X, feature_names)`` of a ``.csv`` (header; a ``label`` column, if present, is left
    out) or ``.npz`` (array ``X``) file of inputs to predict on.

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     _ = (Path(tmp) / "x.csv").write_text("a,b,label\\n1,2,cat\\n3,4,dog\\n")
        ...     X, names = read_features(Path(tmp) / "x.csv")
        >>> X, names
        (array([[1., 2.],
               [3., 4.]]), ('a', 'b'))
    """
    return datafiles.read_features(_check_path(path), label=label)


def read_file(
    path: str | os.PathLike[str], *, label: str = "label", task: str = "classification"
) -> tuple[NDArray[np.floating], NDArray[Any], tuple[str, ...], tuple[str, ...] | None]:
    """``(X, y, class_names, feature_names)`` of a user ``.csv`` or ``.npz`` file.

    A ``.csv`` has a header; the column named ``label`` holds the targets and every other
    column is a numeric feature. An ``.npz`` holds arrays ``X`` ``(N, D)`` and ``y`` ``(N,)``
    (loaded with ``allow_pickle=False``). Labels of any type become indices into the sorted
    ``class_names``; for ``task="regression"`` ``y`` stays real and ``class_names`` is empty.

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     _ = (Path(tmp) / "d.csv").write_text("a,b,label\\n1,2,dog\\n3,4,cat\\n")
        ...     X, y, classes, names = read_file(Path(tmp) / "d.csv")
        >>> X.shape, y, classes, names
        ((2, 2), array([1, 0]), ('cat', 'dog'), ('a', 'b'))
    """
    f = datafiles.load_file(_check_path(path), label=label, task=task)
    return f.X, np.asarray(f.y), f.class_names, f.feature_names


# ------------------------------------------------------------------------------------------
# The registry and load()
# ------------------------------------------------------------------------------------------

_LOADERS: dict[str, Callable] = {
    "digits": _sklearn("load_digits", image_shape=(8, 8)),
    "iris": _sklearn("load_iris"),
    "wine": _sklearn("load_wine"),
    "breast_cancer": _sklearn("load_breast_cancer"),
    "diabetes": _sklearn("load_diabetes", task="regression"),
    "california_housing": _california_housing,
    "cifar10": _cifar10,
    "blobs": _toy("blobs"),
    "spiral": _toy("spiral"),
    "xor": _toy("xor"),
}
NAMES: tuple[str, ...] = tuple(_LOADERS)
#: The datasets that need no download.
SHIPPED: tuple[str, ...] = ("digits", "iris", "wine", "breast_cancer", "diabetes")


def _stratify(y, fraction, stratify):
    """``y`` when a stratified split of ``fraction`` is possible (every class twice, and
    room for every class on both sides), else ``None`` (a plain random split)."""
    if not stratify:
        return None
    counts = np.unique(y, return_counts=True)[1]
    held = int(np.ceil(fraction * len(y)))
    if counts.min() < 2 or held < len(counts) or len(y) - held < len(counts):
        return None
    return y


def _split(
    X: np.ndarray,
    y: np.ndarray,
    validation: float,
    test: float,
    seed: int,
    stratify: bool = True,
    n_test: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.model_selection import train_test_split

    if n_test is not None:  # a fixed test set (CIFAR-10's test_batch)
        X_rest, y_rest, X_test, y_test = X[:-n_test], y[:-n_test], X[-n_test:], y[-n_test:]
    else:
        X_rest, X_test, y_rest, y_test = train_test_split(
            X, y, test_size=test, stratify=_stratify(y, test, stratify), random_state=seed
        )
    fraction = validation / (1.0 - test)
    X_train, X_val, y_train, y_val = train_test_split(
        X_rest,
        y_rest,
        test_size=fraction,
        stratify=_stratify(y_rest, fraction, stratify),
        random_state=seed,
    )
    return X_train, y_train, X_val, y_val, X_test, y_test


def load(
    name: str,
    *,
    validation: float = 0.1,
    test: float = 0.2,
    seed: int = 0,
    dtype: npt.DTypeLike = np.float64,
    preprocess: str | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    label: str | int | None = None,
    task: str = "classification",
    n_features: int | None = None,
    zero_based: bool | str = "auto",
) -> Dataset:
    """Load a dataset by name (or a user file's path) and split it.

    Args:
        name: one of :data:`NAMES`, or a user data file read by
            :func:`lingrad.datafiles.load_file` (``.csv``, ``.npz``, ``.svm``, ``.libsvm``,
            ``.svmlight``); svmlight and sparse ``.npz`` files give CSR ``X`` splits.
        validation: the fraction of all examples held out for validation (CIFAR-10 keeps its
            official 10,000-image test batch and takes validation from the training batches,
            as this fraction of ``1 - test`` of them).
        test: the fraction of all examples held out for the test.
        seed: the split's random seed.
        dtype: the dtype of the ``X`` arrays (float32 or float64).
        preprocess: ``None``/``"none"``, ``"standardize"`` or ``"mean_image"``, fitted on the
            training split only and applied to all three.
        data_dir: where downloads are cached or a local copy lives (``cifar10``: the folder
            holding ``cifar-10-python.tar.gz`` or ``cifar-10-batches-py/``;
            ``california_housing``: scikit-learn's data home).
        label: for a user ``.csv`` file, the label column's name or index (default: the
            column ``label``, else the last).
        n_features: for a sparse user file, the width of ``X`` (a model's; see
            :func:`lingrad.datafiles.load_file`).
        zero_based: for an svmlight file, whether its indices start at 0.
        task: for user files, whether ``y`` holds ``"classification"`` labels or
            ``"regression"`` targets (shipped sets know their own task).

    Examples:
        >>> data = load("digits")
        >>> data.X_train.shape[1], data.n_classes, data.image_shape
        (64, 10, (8, 8))
        >>> load("iris", preprocess="standardize").preprocessing.kind
        'standardize'
    """
    name, kind = _check_load_arguments(name, validation, test, task, preprocess)
    is_file = name not in _LOADERS
    if is_file:
        f = datafiles.load_file(
            name, label=label, n_features=n_features, zero_based=zero_based, dtype=dtype, task=task
        )
        X, y, class_names, image_shape, features, n_test = (*f[:3], None, f.feature_names, None)
    else:
        X, y, class_names, image_shape, task, features, n_test = _read_source(name, data_dir)
    X = X.astype(dtype, copy=False) if is_sparse(X) else np.asarray(X, dtype=dtype)
    y = np.asarray(y, dtype=np.float64 if task == "regression" else np.intp)
    parts = _split(X, y, validation, test, seed, stratify=task == "classification", n_test=n_test)
    data = Dataset(
        Path(name).name if is_file else name,
        *parts,
        class_names=class_names,
        image_shape=image_shape,
        task=task,
        feature_names=features,
    )
    if preprocess is None:
        return data
    prep = Preprocessing(kind).fit(data.X_train)
    return replace(
        data,
        X_train=prep.transform(data.X_train),
        X_val=prep.transform(data.X_val),
        X_test=prep.transform(data.X_test),
        preprocessing=prep,
    )


def _check_load_arguments(name, validation, test, task, preprocess) -> tuple[str, str]:
    """:func:`load`'s arguments checked: the dataset's name (or path) as a string and the
    preprocessing kind (``"none"`` for ``None``)."""
    if not isinstance(name, str | os.PathLike):
        fail("dataset", "a dataset name or a data file's path", type(name).__name__, TypeError)
    name = os.fspath(name)
    if name not in _LOADERS and not datafiles.is_data_file(name):
        files = "/".join(datafiles.SUFFIXES)
        fail("dataset", f"one of {sorted(_LOADERS)} or a {files} file", repr(name))
    for arg, frac in (("validation", validation), ("test", test)):
        if not 0.0 < frac < 1.0:
            fail(arg, "a fraction in (0, 1)", frac)
    if validation + test >= 1.0:
        fail(
            "validation + test",
            "a total below 1 (something must be left to train on)",
            validation + test,
        )
    if task not in ("classification", "regression"):
        fail("task", "'classification' or 'regression'", repr(task))
    kind = "none" if preprocess is None else preprocess
    if kind not in PREPROCESSING:
        fail("preprocess", f"None or one of {list(PREPROCESSING)}", repr(preprocess))
    return name, kind


def _read_source(name: str, data_dir) -> tuple:
    """``(X (N, D), y (N,), class_names, image_shape, task, feature_names, n_test)`` of a
    registered dataset; ``n_test`` is the size of a fixed test set at the end of ``X``
    (CIFAR-10's test batch) or ``None``."""
    source = _LOADERS[name](data_dir=data_dir)
    n_test = source[6] if len(source) > 6 else None
    return (*source[:6], n_test)
