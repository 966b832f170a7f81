"""Which array library and device an array comes from, through the array API standard.

lingrad's score-space layer (the losses, the regularisers, the curvature, the linear model)
runs on the library of its inputs: NumPy arrays, PyTorch tensors, CuPy arrays or any library
that ``array-api-compat`` knows, on the inputs' device. This module answers the three questions
that takes, in one place:

* :func:`namespace` -- the array-API namespace of some arrays (``numpy`` itself for NumPy
  inputs: no wrapper, no import of ``array_api_compat``, the fast path lingrad had before);
  arrays of two libraries are refused with a ``TypeError`` naming both, arrays on two devices
  with a ``ValueError`` naming both devices;
* the dtype rule, :func:`float_dtype`: float32 and float64 are kept, every other real dtype
  (integers, booleans, float16, bfloat16) becomes float64 on every library, as NumPy inputs
  always did; complex data is refused;
* :func:`to_numpy` -- a NumPy copy of any array, for reports, plots and host-side checks.

:class:`Picks` reads and writes one entry per row, ``A[i, idx[i]]``, the array-API way:
``take_along_axis`` and a one-hot mask (the standard has no integer-array assignment; the
NumPy kernels keep their fancy indexing in place).

Python lists, scalars and ``None`` carry no library: they follow the arrays next to them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from lingrad._validation import as_float_array, fail

#: Inputs that are NumPy or carry no library of their own (they follow the arrays beside them).
_PLAIN = (np.ndarray, np.generic, int, float, bool, list, tuple, type(None))

#: An array of any array-API library (``numpy.ndarray``, ``torch.Tensor``, ...).
Array = Any


def namespace(*arrays: object, names: Sequence[str] | None = None) -> Any:
    """The array-API namespace of ``arrays``: ``numpy`` itself when none is from another library.

    Lists, scalars and ``None`` are skipped. Arrays of two libraries raise a ``TypeError``, and
    arrays on two devices a ``ValueError``, naming the arguments (``names``, one per array;
    ``argument 1, 2, ...`` without them) and what each is.

    Examples:
        >>> namespace(np.zeros(2), [1, 2], None) is np
        True
        >>> import array_api_strict as xs
        >>> namespace(xs.zeros(2)).__name__
        'array_api_strict'
        >>> namespace(np.zeros(2), xs.zeros(2), names=("W", "X"))
        Traceback (most recent call last):
            ...
        TypeError: W is a numpy.ndarray but X is an array_api_strict.Array: convert one ...
    """
    for a in arrays:
        if not isinstance(a, _PLAIN):
            break
    else:
        return np
    return _foreign_namespace(arrays, names)


def _describe(a: object) -> str:
    kind = type(a)
    name = f"{kind.__module__.split('.')[0]}.{kind.__name__}"
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


def _foreign_namespace(arrays: Sequence[object], names: Sequence[str] | None) -> Any:
    import array_api_compat

    labels = list(names) if names is not None else [f"argument {i + 1}" for i in range(len(arrays))]
    found = [
        (label, a)
        for label, a in zip(labels, arrays, strict=True)
        if isinstance(a, np.ndarray) or array_api_compat.is_array_api_obj(a)
    ]
    if not found:  # no array of any library (a range, a DataFrame...): NumPy will read it
        return np
    first_label, first = found[0]
    xp = array_api_compat.array_namespace(first)
    where = array_api_compat.device(first)
    for label, a in found[1:]:
        if isinstance(a, np.ndarray) != isinstance(first, np.ndarray) or (
            array_api_compat.array_namespace(a) is not xp
        ):
            raise TypeError(
                f"{first_label} is {_describe(first)} but {label} is {_describe(a)}: convert"
                " one so that both come from the same array library"
            )
        if array_api_compat.device(a) != where:
            raise ValueError(
                f"{first_label} is on device {where} but {label} is on device"
                f" {array_api_compat.device(a)}: move one so that both are on the same device"
            )
    return np if isinstance(first, np.ndarray) else xp


def device(a: Array) -> Any:
    """The device ``a`` lives on (``"cpu"`` for NumPy), for creating arrays next to it.

    Examples:
        >>> device(np.zeros(2))
        'cpu'
    """
    if isinstance(a, np.ndarray):
        return "cpu"
    import array_api_compat

    return array_api_compat.device(a)


def float_dtype(xp: Any, dtype: Any) -> Any:
    """The working dtype on ``xp`` for data of ``dtype``: float32 and float64 are kept; every
    other real dtype (integers, booleans, float16, bfloat16) becomes float64, on every library
    and device (NumPy's rule); complex dtypes raise a ``TypeError``.

    Examples:
        >>> float_dtype(np, np.dtype("float16")), float_dtype(np, np.dtype("float32"))
        (dtype('float64'), dtype('float32'))
    """
    if xp is np:
        dtype = np.dtype(dtype)
        if dtype.kind == "c":
            fail("dtype", "real numbers (float32 or float64 are kept)", f"{dtype}", TypeError)
        return dtype if dtype.type in (np.float32, np.float64) else np.dtype(np.float64)
    if dtype == xp.float32 or dtype == xp.float64:
        return dtype
    if xp.isdtype(dtype, "complex floating"):
        fail("dtype", "real numbers (float32 or float64 are kept)", f"{dtype}", TypeError)
    if not xp.isdtype(dtype, ("bool", "integral", "real floating")):
        fail("dtype", "a numeric dtype", f"{dtype}", TypeError)
    return xp.float64


def numpy_dtype(dtype: Any) -> np.dtype[Any]:
    """The NumPy dtype of the same name as ``dtype`` of any library (``torch.float32`` ->
    ``float32``).

    Examples:
        >>> numpy_dtype(np.float32), numpy_dtype("float64")
        (dtype('float32'), dtype('float64'))
    """
    try:
        return np.dtype(dtype)
    except TypeError:
        return np.dtype(str(dtype).rsplit(".", 1)[-1])


def to_numpy(a: Array) -> npt.NDArray[Any]:
    """A NumPy array with ``a``'s values, copied to the host if ``a`` lives on a device
    (``a`` itself if it already is NumPy; lists go through ``numpy.asarray``).

    Examples:
        >>> import array_api_strict as xs
        >>> to_numpy(xs.asarray([1.0, 2.0]))
        array([1., 2.])
    """
    if isinstance(a, _PLAIN):
        return np.asarray(a)
    if hasattr(a, "detach"):  # PyTorch: leave the autograd graph, come to the CPU
        return np.asarray(a.detach().cpu())
    if hasattr(a, "get") and type(a).__module__.startswith("cupy"):
        return np.asarray(a.get())
    try:
        return np.from_dlpack(a)
    except (BufferError, RuntimeError, TypeError, ValueError):
        return np.asarray(a)


def as_float(name: str, a: object, *, ndim: int | tuple[int, ...], dtype: Any = None) -> Array:
    """``a`` as a finite, non-empty float array with ``ndim`` dimensions, on its own library and
    device: :func:`lingrad._validation.as_float_array` for NumPy (and lists), the same checks
    and messages through the array API for the others (the dtype rule of :func:`float_dtype`
    unless ``dtype`` is given).

    Examples:
        >>> import array_api_strict as xs
        >>> as_float("X", xs.asarray([[1, 2]]), ndim=2).dtype
        array_api_strict.float64
    """
    xp = namespace(a)
    if xp is np:
        return as_float_array(name, a, ndim=ndim, dtype=dtype)
    ndims = (ndim,) if isinstance(ndim, int) else ndim
    if a.ndim not in ndims:  # type: ignore[attr-defined]
        want = " or ".join(f"{d}-D" for d in ndims)
        fail(name, f"a {want} array", f"shape {tuple(a.shape)}")  # type: ignore[attr-defined]
    if any(n == 0 for n in a.shape):  # type: ignore[attr-defined]
        fail(name, "a non-empty array", f"shape {tuple(a.shape)}")  # type: ignore[attr-defined]
    try:
        working = float_dtype(xp, a.dtype) if dtype is None else dtype  # type: ignore[attr-defined]
    except TypeError:
        fail(name, "a numeric array", f"dtype {a.dtype}", TypeError)  # type: ignore[attr-defined]
    arr = xp.astype(a, working, copy=False)
    if not bool(xp.all(xp.isfinite(arr))):
        as_float_array(name, to_numpy(arr), ndim=ndim)  # the host copy names the first bad entry
    return arr


class Picks:
    """One entry per row of ``(N, C)`` arrays, ``A[i, idx[i]]``, for the column indices ``idx``
    ``(N,)`` (integers in ``[0, C)``, on the arrays' library).

    Written against the standard, which has no integer-array assignment: ``take_along_axis``
    reads, a one-hot mask ``idx[:, None] == arange(C)`` (built once) writes, and every write
    returns a new array (NumPy's own kernels use fancy indexing in place instead).

    Examples:
        >>> at = Picks(np, np.array([2, 0]), 3)
        >>> A = np.arange(6.0).reshape(2, 3)
        >>> at.take(A), at.put(A, 0.0)[0], at.add(A, 10.0)[1]
        (array([2., 3.]), array([0., 1., 0.]), array([13.,  4.,  5.]))
    """

    def __init__(self, xp: Any, idx: Array, n_columns: int) -> None:
        self.xp, self.idx = xp, idx
        columns = xp.arange(n_columns, dtype=idx.dtype, device=device(idx))
        self.mask = idx[:, None] == columns[None, :]

    def take(self, A: Array) -> Array:
        """``A[i, idx[i]]``, shape ``(N,)``."""
        return self.xp.take_along_axis(A, self.idx[:, None], axis=1)[:, 0]

    def put(self, A: Array, values: Array | float) -> Array:
        """``A`` with ``A[i, idx[i]] = values[i]`` (``values`` ``(N,)`` or a number)."""
        if not isinstance(values, int | float):
            values = values[:, None]
        return self.xp.where(self.mask, values, A)

    def add(self, A: Array, values: Array | float) -> Array:
        """``A`` with ``A[i, idx[i]] + values[i]`` there (``values`` ``(N,)`` or a number)."""
        if not isinstance(values, int | float):
            values = values[:, None]
        return self.xp.where(self.mask, A + values, A)


def all_finite(a: Array) -> bool:
    """Whether every entry of ``a`` (any library, any device) is finite, as a Python bool.

    Examples:
        >>> all_finite(np.array([1.0, 2.0])), all_finite(np.array([1.0, np.inf]))
        (True, False)
    """
    if isinstance(a, np.ndarray):
        return bool(np.isfinite(a).all())
    xp = namespace(a)
    return bool(xp.all(xp.isfinite(a)))


def copy(a: Array) -> Array:
    """A copy of ``a`` on its own library and device (``ndarray.copy`` for NumPy).

    Examples:
        >>> a = np.zeros(2)
        >>> b = copy(a)
        >>> b is not a and b.tolist() == [0.0, 0.0]
        True
    """
    if isinstance(a, np.ndarray):
        return a.copy()
    return namespace(a).asarray(a, copy=True)


def zeros_like(W: Any) -> Any:
    """Zeros of ``W``'s shape and dtype on W's array library and device (a buffer's start).

    Examples:
        >>> zeros_like(np.ones(2, dtype=np.float32))
        array([0., 0.], dtype=float32)
        >>> import array_api_strict as xs
        >>> zeros_like(xs.ones(1))
        Array([0.], dtype=array_api_strict.float64)
    """
    if isinstance(W, np.ndarray):
        return np.zeros_like(W)
    return namespace(W).zeros_like(W)
