"""Input checks for the public surface, with one message template.

Every check names the argument, what was expected and what came:
``ValueError: X: expected a 2-D array of shape (N, D), got shape (3,)``.
The hot paths (the trainer's per-batch kernels) never call these; they are run once per call
from outside.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Collection
from typing import Any, NoReturn

import numpy as np
import numpy.typing as npt

FLOAT_DTYPES = (np.float32, np.float64)
#: A dense data matrix of at least this many elements has its finiteness checked at first use,
#: not when it is wrapped (see :func:`check_X`'s ``finite``); below it a check costs < 2 ms.
DEFER_FINITE_ELEMENTS = 2**22


def fail(name: str, expected: str, got: object, error: type[Exception] = ValueError) -> NoReturn:
    """Raise ``error`` with the house template ``name: expected ..., got ...``.

    Examples:
        >>> fail("lam", "a number >= 0", -1)
        Traceback (most recent call last):
            ...
        ValueError: lam: expected a number >= 0, got -1
    """
    raise error(f"{name}: expected {expected}, got {got}")


def float_dtype(dtype: npt.DTypeLike) -> np.dtype[Any]:
    """The working dtype for data of ``dtype``: float32 and float64 are kept, others -> float64.

    Examples:
        >>> float_dtype(np.dtype("float32")), float_dtype(np.dtype("int64"))
        (dtype('float32'), dtype('float64'))
    """
    dtype = np.dtype(dtype)
    return dtype if dtype.type in FLOAT_DTYPES else np.dtype(np.float64)


def as_float_array(
    name: str,
    a: object,
    *,
    ndim: int | tuple[int, ...],
    dtype: npt.DTypeLike | None = None,
    finite: bool = True,
) -> npt.NDArray[np.floating]:
    """``a`` as a finite, non-empty float array with ``ndim`` dimensions.

    float32 and float64 are kept; integers and booleans become float64 (or ``dtype`` if given).
    Raises ``TypeError`` for non-numeric data and ``ValueError`` for a wrong number of dimensions,
    an empty array, NaN or inf (``finite=False``: NaN and inf are not looked for, the caller
    checks them later with :func:`check_finite`).

    Examples:
        >>> as_float_array("X", [[1, 2]], ndim=2)
        array([[1., 2.]])
        >>> as_float_array("X", [1.0, float("nan")], ndim=1)
        Traceback (most recent call last):
            ...
        ValueError: X: expected finite values, got nan at index (1,)
    """
    if isinstance(a, str | bytes) or a is None:
        fail(name, "a numeric array", type(a).__name__, TypeError)
    arr = np.asarray(a)
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        fail(name, "a numeric array", f"dtype {arr.dtype}", TypeError)
    ndims = (ndim,) if isinstance(ndim, int) else ndim
    if arr.ndim not in ndims:
        want = " or ".join(f"{d}-D" for d in ndims)
        fail(name, f"a {want} array", f"shape {arr.shape}")
    if arr.size == 0:
        fail(name, "a non-empty array", f"shape {arr.shape}")
    arr = arr.astype(dtype if dtype is not None else float_dtype(arr.dtype), copy=False)
    if finite:
        check_finite(name, arr)
    return arr


def check_finite(name: str, a: npt.NDArray[np.floating], block_bytes: int = 2**22) -> None:
    """Raise ``ValueError`` naming ``name`` and the index of the first NaN or inf in ``a``.

    Read in blocks of about ``block_bytes`` along the first axis (a boolean temporary per block,
    never one the size of ``a``).

    Examples:
        >>> check_finite("X", np.array([[1.0, 2.0], [3.0, np.inf]]))
        Traceback (most recent call last):
            ...
        ValueError: X: expected finite values, got inf at index (1, 1)
    """
    if a.nbytes <= block_bytes and np.isfinite(a).all():  # one block, no NaN or inf: done
        return
    rows = max(1, block_bytes // max(1, a[:1].nbytes))
    for start in range(0, max(1, a.shape[0] if a.ndim else 1), rows):
        block = a[start : start + rows] if a.ndim else a
        if not np.isfinite(block).all():
            bad = np.argwhere(~np.isfinite(block))[0]
            where = tuple(int(i) for i in bad)
            if where:
                where = (where[0] + start, *where[1:])
            fail(name, "finite values", f"{a[where]} at index {where}")


def defers_finite(X: object) -> bool:
    """Whether a checked data matrix ``X`` has its NaN/inf check left to its first use: a NumPy
    array of at least ``DEFER_FINITE_ELEMENTS`` elements (see
    :class:`lingrad.objective.Objective`); X of another array library is checked when the
    objective is built, CSR X when it is validated.

    Examples:
        >>> defers_finite(np.ones((2, 2))), defers_finite(np.ones((2, DEFER_FINITE_ELEMENTS)))
        (False, True)
    """
    return isinstance(X, np.ndarray) and X.size >= DEFER_FINITE_ELEMENTS  # other libraries: no


def check_finite_rows(name: str, X: npt.NDArray[np.floating], rows: Any) -> None:
    """Raise ``ValueError`` naming ``name``, the first row of ``X[rows]`` holding a NaN or inf
    (its index in ``X``) and the value; nothing when those rows are finite. ``rows``: a slice
    or an index array. The check a mini-batch makes when its loss or gradient is not finite.

    Examples:
        >>> X = np.array([[1.0, 2.0], [3.0, np.nan], [5.0, 6.0]])
        >>> check_finite_rows("X", X, np.array([2, 1]))
        Traceback (most recent call last):
            ...
        ValueError: X: expected finite values, got nan at index (1, 1) (row 1)
        >>> check_finite_rows("X", X, slice(0, 1))
    """
    index = np.arange(X.shape[0])[rows] if isinstance(rows, slice) else np.asarray(rows)
    block = X[index]
    bad = ~np.isfinite(block)
    if bad.any():
        k, column = (int(i) for i in np.argwhere(bad)[0])
        row = int(index[k])
        fail(name, "finite values", f"{X[row, column]} at index {(row, column)} (row {row})")


def is_sparse(X: object) -> bool:
    """Whether ``X`` is a ``scipy.sparse`` matrix or array (any format).

    SciPy is not imported here: a sparse matrix can only exist once ``scipy.sparse`` has been
    imported, so a plain lookup of the loaded module answers without loading SciPy.

    Examples:
        >>> import scipy.sparse as sp
        >>> is_sparse(sp.eye_array(2)), is_sparse(np.eye(2))
        (True, False)
    """
    if isinstance(X, np.ndarray):  # the common case, without SciPy's abstract-class check
        return False
    module = sys.modules.get("scipy.sparse")
    return module is not None and bool(module.issparse(X))


def as_data(X: object) -> Any:
    """``X`` unchecked as the engine holds it: a CSR ``scipy.sparse.csr_array`` for sparse
    input (a CSR matrix is wrapped without a copy, another format converted once), else
    ``np.asarray(X)``. For data another check has validated already (``check_input=False``).

    Examples:
        >>> import scipy.sparse as sp
        >>> type(as_data(sp.csr_matrix(np.eye(2)))).__name__, type(as_data([[1.0]])).__name__
        ('csr_array', 'ndarray')
    """
    if not is_sparse(X):
        return np.asarray(X)
    from scipy import sparse

    if isinstance(X, sparse.csr_array):
        return X
    return sparse.csr_array(X if X.format == "csr" else X.tocsr())  # type: ignore[attr-defined]


def check_sparse(X: Any, name: str = "X", *, dtype: npt.DTypeLike | None = None) -> Any:
    """A ``scipy.sparse`` data matrix checked and in the engine's form: a canonical CSR
    ``csr_array`` of shape ``(N, D)``, N >= 1 and D >= 1, with finite float values.

    The rule, one conversion at most and the caller's matrix never modified:

    * CSR (``csr_array`` or ``csr_matrix``) is kept (wrapped as a ``csr_array`` sharing its
      arrays); CSC, COO and every other format are converted once to CSR;
    * float32 and float64 values are kept, integers and booleans become float64 (or ``dtype``);
    * the canonical form: duplicate entries ``(i, j)`` are **summed**, as SciPy does, and the
      column indices of each row sorted (on a copy, only where the input is not canonical);
    * refused with a ``ValueError`` naming ``name``: NaN or inf among the stored values (with
      their count), negative or out-of-range indices or a malformed ``indptr`` (SciPy's own
      ``check_format``), an empty shape; a non-numeric dtype is a ``TypeError``.

    Examples:
        >>> import scipy.sparse as sp
        >>> A = sp.coo_array(([1, 2, 5], ([0, 0, 1], [1, 1, 0])), shape=(2, 2))
        >>> B = check_sparse(A)                  # COO -> CSR once; the two (0, 1) entries summed
        >>> B.format, B.dtype, B.toarray().tolist()
        ('csr', dtype('float64'), [[0.0, 3.0], [5.0, 0.0]])
        >>> check_sparse(sp.csr_array([[np.nan, 1.0], [np.inf, 0.0]]))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
            ...
        ValueError: X: expected finite values, got 2 NaN or inf among the 3 stored values (nan ...
    """
    from scipy import sparse

    if X.ndim != 2:
        fail(name, "a 2-D array", f"shape {X.shape}")
    if X.shape[0] == 0 or X.shape[1] == 0:
        fail(name, "a non-empty array", f"shape {X.shape}")
    if X.dtype.kind not in "biuf":
        fail(name, "a numeric array", f"dtype {X.dtype}", TypeError)
    try:  # before any conversion: SciPy's converters trust the indices
        if X.format == "coo":
            for axis, coords in enumerate(X.coords):
                if coords.size and (coords.min() < 0 or coords.max() >= X.shape[axis]):
                    raise ValueError(f"axis {axis} indices must be in [0, {X.shape[axis]})")
        elif hasattr(X, "check_format"):  # CSR, CSC, BSR: SciPy's own full check
            X.check_format(full_check=True)
    except ValueError as exc:
        fail(name, "a well-formed sparse matrix (indices in range, indptr non-decreasing)", exc)
    converted = X.format != "csr"
    A = sparse.csr_array(X.tocsr() if converted else X)
    target = np.dtype(dtype) if dtype is not None else float_dtype(A.dtype)
    if A.dtype != target:
        A, converted = A.astype(target), True
    if not A.has_canonical_format:
        if not converted:
            A = A.copy()
        A.sum_duplicates()
    finite = np.isfinite(A.data)
    bad = int(A.data.size - np.count_nonzero(finite))
    if bad:
        first = int(np.argmin(finite))
        row = int(np.searchsorted(A.indptr, first, side="right") - 1)
        got = f"{bad} NaN or inf among the {A.nnz} stored values ({A.data[first]} in row {row})"
        fail(name, "finite values", got)
    return A


def check_X(
    X: object, name: str = "X", *, dtype: npt.DTypeLike | None = None, finite: bool = True
) -> npt.NDArray[np.floating]:
    """A data matrix: finite floats of shape (N, D) with N >= 1 and D >= 1.

    ``finite=False`` leaves NaN and inf in a dense X to the caller (:func:`check_finite`, or a
    fused check such as :class:`lingrad.objective.Objective`'s); a sparse X is always checked
    (its stored values only: a small pass).

    A ``scipy.sparse`` matrix or array comes back as a canonical CSR ``csr_array`` (never
    densified; see :func:`check_sparse` for the rule); the annotation says ndarray because
    SciPy has no type information here.

    Examples:
        >>> check_X(np.ones((2, 3), dtype=np.float32)).dtype
        dtype('float32')
        >>> import scipy.sparse as sp
        >>> check_X(sp.csc_matrix(np.eye(2, dtype=np.float32))).format
        'csr'
        >>> check_X([1.0, 2.0])
        Traceback (most recent call last):
            ...
        ValueError: X: expected a 2-D array, got shape (2,)
    """
    if is_sparse(X):
        return check_sparse(X, name, dtype=dtype)
    return as_float_array(name, X, ndim=2, dtype=dtype, finite=finite)


def check_labels(
    y: object, n_samples: int, n_classes: int | None = None, name: str = "y"
) -> npt.NDArray[np.intp]:
    """Integer class labels of shape (n_samples,) in [0, n_classes).

    Examples:
        >>> check_labels([0, 2, 1], 3, n_classes=3)
        array([0, 2, 1])
        >>> check_labels([0, 3], 2, n_classes=3)
        Traceback (most recent call last):
            ...
        ValueError: y: expected labels in [0, 3), got label 3
    """
    if isinstance(y, str | bytes) or y is None:
        fail(name, "an array of integer labels", type(y).__name__, TypeError)
    arr = np.asarray(y)
    if arr.ndim != 1:
        fail(name, f"integer labels of shape ({n_samples},)", f"shape {arr.shape}")
    if arr.shape[0] != n_samples:
        fail(name, f"{n_samples} labels (one per row of the scores)", f"{arr.shape[0]}")
    if arr.dtype.kind == "f":
        if not np.isfinite(arr).all() or not np.array_equal(arr, np.round(arr)):
            fail(name, "integer labels", "non-integer values", TypeError)
        arr = arr.astype(np.intp)
    elif arr.dtype.kind not in "iub":
        fail(name, "integer labels", f"dtype {arr.dtype}", TypeError)
    arr = arr.astype(np.intp, copy=False)
    if n_classes is not None and arr.size and (arr.min() < 0 or arr.max() >= n_classes):
        bad = arr[(arr < 0) | (arr >= n_classes)][0]
        fail(name, f"labels in [0, {n_classes})", f"label {int(bad)}")
    return arr


def check_weights(
    W: object, n_features: int | None = None, name: str = "W"
) -> npt.NDArray[np.floating]:
    """Parameters of shape (D + 1, C): rows 0..D-1 are weights, the last row is the bias.

    Examples:
        >>> check_weights(np.zeros((3, 2)), n_features=2).shape
        (3, 2)
        >>> check_weights(np.zeros((3, 2)), n_features=4)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
            ...
        ValueError: W: expected shape (5, C) for 4 features (bias in the last ...
    """
    W = as_float_array(name, W, ndim=2)
    if W.shape[0] < 2:
        fail(name, "shape (D + 1, C) with D >= 1 (the bias is the last row)", f"shape {W.shape}")
    if n_features is not None and W.shape[0] != n_features + 1:
        fail(
            name,
            f"shape ({n_features + 1}, C) for {n_features} features (bias in the last row)",
            f"shape {W.shape}",
        )
    return W


def check_positive(name: str, value: object, *, allow_zero: bool = False) -> float:
    """A finite real number > 0 (or >= 0 with ``allow_zero``).

    Examples:
        >>> check_positive("lam", 0, allow_zero=True), check_positive("learning_rate", 0.5)
        (0.0, 0.5)
        >>> check_positive("learning_rate", 0)
        Traceback (most recent call last):
            ...
        ValueError: learning_rate: expected a finite number > 0, got 0.0
    """
    if type(value) is not float and (
        isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating)
    ):
        fail(name, "a number", type(value).__name__, TypeError)
    value = float(value)
    ok = math.isfinite(value) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        fail(name, "a finite number >= 0" if allow_zero else "a finite number > 0", value)
    return value


def check_int(name: str, value: object, *, minimum: int = 1) -> int:
    """An integer >= ``minimum``.

    Examples:
        >>> check_int("epochs", 3)
        3
        >>> check_int("epochs", 2.5)
        Traceback (most recent call last):
            ...
        TypeError: epochs: expected an integer, got float
    """
    if type(value) is not int and (isinstance(value, bool) or not isinstance(value, np.integer)):
        fail(name, "an integer", type(value).__name__, TypeError)
    if value < minimum:
        fail(name, f"an integer >= {minimum}", value)
    return int(value)


def check_choice(name: str, value: object, choices: Collection[str]) -> str:
    """One of a fixed set of names.

    Examples:
        >>> check_choice("loss", "svm", ("svm", "softmax"))
        'svm'
        >>> check_choice("loss", "svn", ("svm", "softmax"))
        Traceback (most recent call last):
            ...
        ValueError: loss: expected one of ['softmax', 'svm'], got 'svn'
    """
    if not isinstance(value, str) or value not in choices:
        fail(name, f"one of {sorted(choices)}", repr(value))
    return value


def plain_fit_arrays(X: object, y: object, *, classes: bool) -> tuple[Any, Any] | None:
    """``(X, y)`` for the common case that scikit-learn's ``validate_data`` (and, with
    ``classes``, ``check_classification_targets``) would pass unchanged, checked in a few
    microseconds instead of its ~0.5 ms of dataframe probing; ``None`` for anything else, which
    then takes scikit-learn's path (its conversions, warnings and error messages).

    The common case: ``X`` a plain ``numpy.ndarray`` of float64 or float32 ``(N, D)``,
    ``N, D >= 1``; ``y`` a 1-D ndarray (or a list or tuple) of ``N`` values, for ``classes``
    integers, bools, strings or integral finite floats (scikit-learn's ``binary`` and
    ``multiclass`` targets), else integers or finite floats (a regression target). X's
    finiteness is not checked here (as ``validate_data(..., ensure_all_finite=False)``).

    Examples:
        >>> X = np.zeros((3, 2))
        >>> plain_fit_arrays(X, [0, 1, 1], classes=True)[1].tolist()
        [0, 1, 1]
        >>> plain_fit_arrays(X, [0.5, 1.0, 2.0], classes=True) is None  # continuous: sklearn's
        True
        >>> plain_fit_arrays(X, [0.5, 1.0, 2.0], classes=False)[1].tolist()
        [0.5, 1.0, 2.0]
        >>> plain_fit_arrays(X.astype(np.float16), [0, 1, 1], classes=True) is None
        True
    """
    if type(X) is not np.ndarray or X.ndim != 2 or X.dtype not in FLOAT_DTYPES or not X.size:
        return None
    if type(y) in (list, tuple):
        try:
            y = np.asarray(y)
        except ValueError:  # ragged: scikit-learn's message
            return None
    if type(y) is not np.ndarray or y.ndim != 1 or y.shape[0] != X.shape[0]:
        return None
    kind = y.dtype.kind
    if kind in "iu" or (classes and kind in "bU"):
        return X, y
    if kind == "f" and bool(np.isfinite(y).all()):
        return (X, y) if not classes or not np.any(y != y.astype(int)) else None
    return None
