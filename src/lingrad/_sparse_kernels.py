"""The two products of a pass over a CSR ``X``, compiled and threaded over row blocks.

SciPy's ``csr @ dense`` and ``csr.T @ dense`` run on one thread, with a generic inner loop over
the ``C`` columns; on a text-like set (80,000 x 50,000, 50 non-zeros a row, ``C = 20``) each
takes ~170 ms, most of a pass. The loops here (compiled by Numba, as :mod:`lingrad._skinny`'s)
split the rows between threads:

    scores(X, W, b)[i, c] = b[c] + sum_{k in row i} data[k] W[indices[k], c]
    accumulate(X, G, out): out[d, c] += sum_i X[i, d] G[i, c]

``accumulate`` scatters row ``i``'s contribution into the rows ``d`` of its non-zeros, so two
threads could write the same row of ``out``: each thread but the first sums into its own
``D x C`` partial (``(threads - 1) * D * C`` numbers of extra memory during the call, 8 MB a
thread at 50,000 x 20 float64, instead of a CSC copy of X, which would cost as much as X
itself), and the partials are added in a fixed order, so the result is deterministic for a
given number of threads. Without Numba, :data:`AVAILABLE` is False and the objective keeps to
SciPy's products.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from lingrad import _skinny

#: Whether the compiled loops can be used here (Numba is installed).
AVAILABLE = _skinny.AVAILABLE
#: A pass over fewer stored non-zeros than this keeps to SciPy's products (a thread start
#: costs more than the work).
MIN_NNZ = 20_000
_prange: Callable[[int], Any] = range
_scores_nb: Callable[..., None] | None = None
_accumulate_nb: Callable[..., None] | None = None


def _scores_py(indptr, indices, data, W, b, out):
    N, C = out.shape
    for i in _prange(N):
        for c in range(C):
            out[i, c] = b[c]
        for k in range(indptr[i], indptr[i + 1]):
            v, j = data[k], indices[k]
            for c in range(C):
                out[i, c] += v * W[j, c]


def _accumulate_py(indptr, indices, data, G, out, n_parts):
    # Each part (thread) takes a contiguous range of rows; part 0 sums into out itself.
    N = G.shape[0]
    D, C = out.shape
    part = np.zeros((max(n_parts - 1, 0), D, C), dtype=out.dtype)
    chunk = (N + n_parts - 1) // n_parts
    for p in _prange(n_parts):
        acc = out if p == 0 else part[p - 1]
        for i in range(p * chunk, min(N, (p + 1) * chunk)):
            for k in range(indptr[i], indptr[i + 1]):
                v, j = data[k], indices[k]
                for c in range(C):
                    acc[j, c] += v * G[i, c]
    for p in range(n_parts - 1):
        out += part[p]


def _compiled() -> tuple[Callable[..., None], Callable[..., None]]:
    """Compile the two loops on first use (Numba imported, and its OpenMP settings made, by
    :func:`lingrad._skinny.threads`; the machine code is cached on disk)."""
    global _prange, _scores_nb, _accumulate_nb
    if _scores_nb is None or _accumulate_nb is None:
        _skinny.threads()
        numba = importlib.import_module("numba")
        _prange = numba.prange
        jit = numba.njit(parallel=True, fastmath=True, cache=True, nogil=True)
        _scores_nb, _accumulate_nb = jit(_scores_py), jit(_accumulate_py)
    return _scores_nb, _accumulate_nb


def usable(X: Any, W: npt.NDArray[np.floating]) -> bool:
    """Whether :func:`scores` and :func:`accumulate` serve the CSR ``X`` and weights ``W``:
    Numba installed, enough non-zeros, and ``X.data`` in ``W``'s dtype.

    Examples:
        >>> import scipy.sparse as sp
        >>> usable(sp.csr_array(np.eye(3)), np.zeros((4, 2)))   # 3 non-zeros: SciPy's
        False
    """
    return AVAILABLE and X.nnz >= MIN_NNZ and X.data.dtype == W.dtype


def scores(
    X: Any, W: npt.NDArray[np.floating], b: npt.NDArray[np.floating]
) -> npt.NDArray[np.floating]:
    """``X @ W + b`` -> ``(N, C)`` for a canonical CSR ``X`` ``(N, D)``, ``W`` ``(D, C)``
    C-contiguous and ``b`` ``(C,)``, all in one dtype.

    Examples:
        >>> import scipy.sparse as sp
        >>> X = sp.random_array((50, 30), density=0.2, format="csr", rng=0)
        >>> W, b = np.arange(90.0).reshape(30, 3), np.ones(3)
        >>> np.allclose(scores(X, W, b), X @ W + b)
        True
    """
    out = np.empty((X.shape[0], W.shape[1]), dtype=W.dtype)
    if not AVAILABLE:
        out[:] = X @ W + b
        return out
    _compiled()[0](X.indptr, X.indices, X.data, np.ascontiguousarray(W), b, out)
    return out


def accumulate(
    X: Any, G: npt.NDArray[np.floating], out: npt.NDArray[np.floating]
) -> npt.NDArray[np.floating]:
    """``out += X^T G`` in place for a canonical CSR ``X`` ``(N, D)``, ``G`` ``(N, C)`` and
    ``out`` ``(D, C)`` C-contiguous, all in one dtype.

    Examples:
        >>> import scipy.sparse as sp
        >>> X = sp.random_array((50, 30), density=0.2, format="csr", rng=0)
        >>> G, out = np.arange(150.0).reshape(50, 3), np.ones((30, 3))
        >>> np.allclose(accumulate(X, G, out), 1 + X.T @ G)
        True
    """
    if not AVAILABLE:
        out += X.T @ G
        return out
    _compiled()[1](X.indptr, X.indices, X.data, np.ascontiguousarray(G), out, _skinny.threads())
    return out
