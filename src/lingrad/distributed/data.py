"""Data for the distributed path: ``dask.array`` chunked by rows, with labels and weights
aligned, read where it lives.

The unit of work is a *row chunk*: rows ``[a, b)`` of ``X`` (all ``D`` columns), the same rows
of ``y`` and of ``sample_weight``. A chunk should carry ~100 ms of work, i.e. >= 50,000 rows
(a task costs 2-5 ms of scheduling and a client round trip 10-20 ms).

Loaders build lazy arrays whose tasks read their own rows, so nothing but file names and
offsets enters the task graph and nothing passes through the client:

* :func:`from_npy`: one ``.npy`` file (or a list of files holding consecutive rows), read per
  task through a memory map. (``da.from_array(np.load(path, mmap_mode="r"))`` would embed the
  whole array in the graph under ``dask.distributed``: 1.17 GiB of graph and a 28 s first pass
  were measured. Never do that.)
* :func:`from_zarr`: a zarr store (``zarr`` installed).
* :func:`from_csv`, :func:`from_parquet`: a table through ``dask.dataframe``; one column is the
  target, the others (or ``features``) the inputs.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
from numpy.typing import NDArray

from lingrad._validation import check_int, fail, is_sparse

#: Rows per chunk for the loaders (~100 ms of work per task at D ~ 800, C = 10).
CHUNK_ROWS = 50_000

#: A ``dask.array.Array`` (typed ``Any``: its methods are dynamic, its graph built lazily).
DaskArray: TypeAlias = Any
#: One file name, or a sequence of them.
Paths: TypeAlias = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]


# ------------------------------------------------------------------------------------------
# Aligned row chunks
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowChunks:
    """``X`` chunked by rows with ``y`` and ``sample_weight`` chunked the same way.

    Attributes:
        X: a ``dask.array`` of shape ``(N, D)`` with a single chunk along the columns, float32
            or float64.
        y: targets aligned with ``X``'s row chunks (``(N,)`` labels or ``(N, K)`` targets).
        sample_weight: ``(N,)`` weights aligned with ``X``'s row chunks, or ``None``.

    Examples:
        >>> import dask.array as da
        >>> chunks = as_row_chunks(da.ones((6, 2), chunks=(4, 2)), np.array([0, 1, 0, 1, 0, 1]))
        >>> chunks.X.chunks, chunks.y.chunks, chunks.sample_weight is None
        (((4, 2), (2,)), ((4, 2),), True)
    """

    X: DaskArray
    y: DaskArray
    sample_weight: DaskArray | None = None

    @property
    def n_samples(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])

    @property
    def dtype(self) -> np.dtype:
        return self.X.dtype

    @property
    def rows(self) -> tuple[int, ...]:
        """The number of rows of each chunk."""
        return tuple(int(n) for n in self.X.chunks[0])

    def blocks(self) -> list[tuple[Any, Any, Any]]:
        """One ``(X_block, y_block, w_block or None)`` of ``dask.delayed`` values per chunk."""
        Xs = self.X.to_delayed().ravel()
        ys = [None] * len(Xs) if self.y is None else self.y.to_delayed().ravel()
        w = self.sample_weight
        ws = [None] * len(Xs) if w is None else list(np.ravel(w.to_delayed()))
        return list(zip(Xs, ys, ws, strict=True))


def _is_dask_array(a) -> bool:
    try:
        import dask.array as da
    except ImportError:  # pragma: no cover - dask is what this module is about
        return False
    return isinstance(a, da.Array)


def _known_rows(name: str, a) -> None:
    if any(np.isnan(n) for n in a.shape) or any(np.isnan(c) for c in a.chunks[0]):
        fail(
            name,
            "a dask array with known chunk sizes (dask.dataframe: to_dask_array(lengths=True))",
            f"shape {a.shape} with unknown chunk sizes",
        )


def _aligned(name: str, a, row_chunks: tuple[int, ...], ndim: tuple[int, ...]):
    import dask.array as da

    n = sum(row_chunks)
    if isinstance(a, str | bytes):
        fail(name, "an array", type(a).__name__, TypeError)
    if not _is_dask_array(a):
        a = np.asarray(a)
        if a.dtype == object:
            fail(name, "a numeric array", "dtype object", TypeError)
    if a.ndim not in ndim:
        fail(name, " or ".join(f"a {d}-D array" for d in ndim), f"shape {a.shape}")
    if _is_dask_array(a):
        _known_rows(name, a)
    if a.shape[0] != n:
        fail(name, f"{n} rows (one per row of X)", f"{a.shape[0]}")
    if _is_dask_array(a):
        return a.rechunk((row_chunks, *tuple((s,) for s in a.shape[1:])))
    return da.from_array(a, chunks=(row_chunks, *tuple((s,) for s in a.shape[1:])))


def _dense_chunks(X: DaskArray) -> None:
    """Refuse a dask array whose chunks are sparse (scipy.sparse or pydata ``sparse``, read
    from its ``_meta``): the chunk objectives work on NumPy chunks."""
    meta = getattr(X, "_meta", None)
    module = type(meta).__module__
    if is_sparse(meta) or module.split(".")[0] == "sparse":
        fail(
            "X",
            "a dask array of dense NumPy chunks (for sparse data fit the in-memory estimator "
            "on a scipy.sparse CSR matrix, which is never densified; or densify chunks that "
            "fit in memory with X.map_blocks(lambda b: b.toarray()))",
            f"a dask array of {module}.{type(meta).__name__} chunks",
            TypeError,
        )


def as_row_chunks(
    X: DaskArray,
    y: DaskArray | npt.ArrayLike | None,
    sample_weight: DaskArray | npt.ArrayLike | None = None,
    *,
    chunk_rows: int | None = None,
) -> RowChunks:
    """Check ``X`` and align ``y`` / ``sample_weight`` with its row chunks.

    Args:
        X: a ``dask.array`` ``(N, D)``; integers become float64, float32 stays float32. Column
            chunks are merged into one (a chunk is whole rows). A NumPy array or memmap is
            refused: wrap small data with ``da.from_array`` and read files with
            :func:`from_npy` / :func:`from_zarr` / :func:`from_csv`.
        y: targets, ``(N,)`` or ``(N, K)``, NumPy (small: sent with the graph) or dask;
            ``None`` for X alone (prediction).
        sample_weight: optional ``(N,)`` weights, NumPy or dask.
        chunk_rows: if given, rows per chunk after rechunking (otherwise X's own chunks).

    Values (finiteness, label range, weights >= 0) are checked where the chunks are, on the
    workers, with the single-machine messages.

    Examples:
        >>> import dask.array as da
        >>> X = da.zeros((6, 4), dtype="float32", chunks=(3, 2))     # column chunks get merged
        >>> rc = as_row_chunks(X, np.arange(6) % 2, chunk_rows=2)
        >>> rc.X.chunks, rc.X.dtype, rc.y.chunks
        (((2, 2, 2), (4,)), dtype('float32'), ((2, 2, 2),))
    """
    if isinstance(X, np.memmap):
        fail(
            "X",
            "a dask array; read a .npy file with lingrad.distributed.from_npy "
            "(da.from_array on a memmap embeds the whole file in the task graph)",
            "numpy.memmap",
            TypeError,
        )
    if not _is_dask_array(X):
        fail(
            "X",
            "a dask array chunked by rows (da.from_array(X, chunks=(rows, -1)) for data in "
            "memory, lingrad.distributed.from_npy / from_zarr / from_csv for files)",
            type(X).__name__,
            TypeError,
        )
    _dense_chunks(X)
    if X.ndim != 2:
        fail("X", "a 2-D array of shape (N, D)", f"shape {X.shape}")
    _known_rows("X", X)
    if X.shape[0] == 0 or X.shape[1] == 0:
        fail("X", "a non-empty array", f"shape {X.shape}")
    if X.dtype.kind not in "biuf":
        fail("X", "a numeric array", f"dtype {X.dtype}", TypeError)
    if X.dtype.type not in (np.float32, np.float64):
        X = X.astype(np.float64)
    rows = X.chunks[0] if chunk_rows is None else check_int("chunk_rows", chunk_rows)
    X = X.rechunk({0: rows, 1: -1})
    row_chunks = tuple(int(n) for n in X.chunks[0])
    y = None if y is None else _aligned("y", y, row_chunks, (1, 2))
    w = (
        None
        if sample_weight is None
        else _aligned("sample_weight", sample_weight, row_chunks, (1,))
    )
    return RowChunks(X, y, w)


# ------------------------------------------------------------------------------------------
# Loaders
# ------------------------------------------------------------------------------------------


class NpyRows:
    """A ``.npy`` file seen as an array whose slices are read from disk when asked.

    Only the path, shape and dtype are pickled: a task that reads rows ``[a, b)`` opens the
    file as a memory map and copies those rows (one sequential read), wherever it runs.

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = os.path.join(tmp, "X.npy")
        ...     np.save(path, np.arange(12.0).reshape(6, 2))
        ...     rows = NpyRows(path)
        ...     rows.shape, rows[2:4]
        ((6, 2), array([[4., 5.],
               [6., 7.]]))
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        header = np.load(self.path, mmap_mode="r")
        if not isinstance(header, np.memmap):
            fail("path", "an uncompressed .npy file", self.path)
        self.shape = header.shape
        self.dtype = header.dtype
        self.ndim = header.ndim
        stat = os.stat(self.path)
        self._token = (self.path, stat.st_size, stat.st_mtime_ns)
        del header

    def __getitem__(self, index: Any) -> NDArray[Any]:
        return np.array(np.load(self.path, mmap_mode="r")[index])

    def __dask_tokenize__(self) -> tuple[object, ...]:
        return ("lingrad.NpyRows", *self._token)


def from_npy(path: Paths, *, chunk_rows: int = CHUNK_ROWS) -> DaskArray:
    """A ``dask.array`` over ``.npy`` file(s), each task reading its own rows.

    Args:
        path: a ``.npy`` file, or a sequence of them holding consecutive row blocks (same
            trailing shape and dtype).
        chunk_rows: rows per chunk (chunks do not span two files).

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = os.path.join(tmp, "X.npy")
        ...     np.save(path, np.arange(12.0).reshape(6, 2))
        ...     X = from_npy(path, chunk_rows=4)
        ...     X.chunks, float(X.sum().compute())
        (((4, 2), (2,)), 66.0)
    """
    import dask.array as da

    chunk_rows = check_int("chunk_rows", chunk_rows)
    paths = [path] if isinstance(path, str | os.PathLike) else list(path)
    if not paths:
        fail("path", "a .npy file or a non-empty list of them", "an empty list")
    parts = []
    for p in paths:
        if not os.path.exists(p):
            raise FileNotFoundError(f"path: expected an existing .npy file, got {os.fspath(p)!r}")
        rows = NpyRows(p)
        chunks = (chunk_rows, *tuple(-1 for _ in rows.shape[1:]))
        parts.append(da.from_array(rows, chunks=chunks, asarray=False, fancy=False))
    if len({(p.shape[1:], p.dtype) for p in parts}) > 1:
        fail(
            "path",
            "files with the same trailing shape and dtype",
            [(p.shape, p.dtype) for p in parts],
        )
    return parts[0] if len(parts) == 1 else da.concatenate(parts, axis=0)


def from_zarr(
    store: Any, component: str | None = None, *, chunk_rows: int | None = None
) -> DaskArray:
    """A ``dask.array`` over a zarr array (``zarr`` must be installed); chunks by rows.

    ``chunk_rows`` rechunks the rows (otherwise the store's own chunks are used).

    Examples:
        >>> import tempfile, zarr
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = os.path.join(tmp, "X.zarr")
        ...     z = zarr.open(path, mode="w", shape=(6, 2), chunks=(3, 2), dtype="f8")
        ...     z[:] = np.arange(12.0).reshape(6, 2)
        ...     X = from_zarr(path, chunk_rows=2)
        ...     X.chunks, float(X[:, 1].sum().compute())
        (((2, 2, 2), (2,)), 36.0)
    """
    import dask.array as da

    try:
        import zarr  # noqa: F401
    except ImportError:
        fail("store", "zarr installed (pip install 'lingrad[dask]')", "no zarr module", ImportError)
    a = da.from_zarr(store, component=component)
    a = a.rechunk({i: -1 for i in range(1, a.ndim)})
    return a if chunk_rows is None else a.rechunk({0: check_int("chunk_rows", chunk_rows)})


def from_csv(path: Paths, label: str, **options: Any) -> tuple[DaskArray, DaskArray]:
    """``(X, y)`` dask arrays from CSV file(s) read by ``dask.dataframe.read_csv``.

    Args:
        path: a file, a glob (``"data/*.csv"``) or a list of files.
        label: the target column.
        options: ``features``, the input columns (default: all others, in file order);
            ``dtype``, X's dtype (``"float32"`` by default); ``chunk_rows``, rows per chunk of
            the result (default :data:`CHUNK_ROWS`); any other keyword is passed to
            ``dask.dataframe.read_csv``.

    Counting the rows of each partition costs one read of the files.

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = os.path.join(tmp, "d.csv")
        ...     _ = open(path, "w").write("a,b,label\\n1,2,0\\n3,4,1\\n5,6,0\\n")
        ...     X, y = from_csv(path, "label", chunk_rows=2)
        ...     X.dtype, X.compute().tolist(), y.compute().tolist()
        (dtype('float32'), [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], [0, 1, 0])
    """
    return _from_files("read_csv", path, label, **options)


def from_parquet(path: Paths, label: str, **options: Any) -> tuple[DaskArray, DaskArray]:
    """``(X, y)`` dask arrays from Parquet file(s) read by ``dask.dataframe.read_parquet``
    (``pyarrow`` installed); arguments as :func:`from_csv` (other keywords go to
    ``read_parquet``).

    Examples:
        >>> import tempfile, pandas as pd
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = os.path.join(tmp, "d.parquet")
        ...     pd.DataFrame({"a": [1.0, 3.0], "b": [2.0, 4.0], "label": [0, 1]}).to_parquet(path)
        ...     X, y = from_parquet(path, "label", features=["b"])
        ...     X.compute().tolist(), y.compute().tolist()
        ([[2.0], [4.0]], [0, 1])
    """
    return _from_files("read_parquet", path, label, **options)


def _from_files(
    reader: str,
    path,
    label: str,
    *,
    features: Sequence[str] | None = None,
    dtype="float32",
    chunk_rows: int = CHUNK_ROWS,
    **read_kwargs,
):
    """``(X, y)`` from the files that ``dask.dataframe.<reader>`` reads; see :func:`from_csv`."""
    import dask.dataframe as dd

    frame = getattr(dd, reader)(path, **read_kwargs)
    return _from_frame(frame, label, features, dtype, chunk_rows)


def _from_frame(df, label, features, dtype, chunk_rows):
    chunk_rows = check_int("chunk_rows", chunk_rows)
    columns = list(df.columns)
    if label not in columns:
        fail("label", f"one of the columns {columns}", repr(label))
    features = [c for c in columns if c != label] if features is None else list(features)
    unknown = [c for c in features if c not in columns]
    if unknown or not features:
        fail("features", f"a non-empty list of columns from {columns}", unknown or features)
    dtype = np.dtype(dtype)
    if dtype.type not in (np.float32, np.float64):
        fail("dtype", "float32 or float64", dtype, TypeError)
    lengths = tuple(int(n) for n in df.map_partitions(len).compute())
    X = df[features].astype(dtype).to_dask_array(lengths=lengths)
    y = df[label].to_dask_array(lengths=lengths)
    return X.rechunk({0: chunk_rows, 1: -1}), y.rechunk(chunk_rows)
