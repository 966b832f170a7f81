"""Products with a skinny side, ``X @ W`` and ``X^T G`` for ``C <= 32`` columns, compiled.

BLAS serves a 10-column product badly: on a 49,000 x 3,072 float32 ``X`` it takes 3-5 x the
time of one read of ``X``. The loops here (compiled by Numba when it is installed) keep eight
accumulators (four rows x two classes) in registers and stream each row of ``X`` once:

    scores(X, W)[i, c]   = sum_d X[i, d] W[d, c]          (threads split the rows)
    accumulate(X, G, out): out[d, c] += sum_i X[i, d] G[i, c]   (threads split the rows)

Both are deterministic for a given number of threads (a fixed summation order). Without Numba,
:data:`AVAILABLE` is False and the objective keeps to BLAS. :func:`instantiate` makes another
instance of one plain-Python source with some of its globals replaced (the solvers' compiled
loops and their helpers).
"""

from __future__ import annotations

import importlib.util
import os
import types
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

#: Whether the compiled kernels can be used here (Numba is installed). Numba itself is
#: imported on first use only: it costs ~100 MB and a second, and most runs never need it.
AVAILABLE = importlib.util.find_spec("numba") is not None
_numba: Any = None
_prange: Callable[[int], Any] = range
#: The compiled loops (set by :func:`_compiled`, on first use).
_scores_nb: Callable[..., None]
_accumulate_nb: Callable[..., None]
#: The range of columns ``C`` the kernels are used for (one column is a matrix-vector
#: product, which BLAS serves well).
MIN_COLUMNS, MAX_COLUMNS = 4, 32


def _scores_py(X, R, Wt, out):
    # Four rows x two classes per inner loop: 8 accumulators, 6 loads per 8 multiply-adds.
    # Row i of the product is row R[i] of X (R: the rows, read in place: no gathered copy).
    N, D = R.shape[0], X.shape[1]
    C = Wt.shape[0]
    zero = X.dtype.type(0)
    for q in _prange(N // 4):
        i = 4 * q
        x0, x1, x2, x3 = X[R[i]], X[R[i + 1]], X[R[i + 2]], X[R[i + 3]]
        for c in range(0, C - 1, 2):
            w, v = Wt[c], Wt[c + 1]
            a0 = a1 = a2 = a3 = b0 = b1 = b2 = b3 = zero
            for d in range(D):
                wd, vd = w[d], v[d]
                a0 += x0[d] * wd
                a1 += x1[d] * wd
                a2 += x2[d] * wd
                a3 += x3[d] * wd
                b0 += x0[d] * vd
                b1 += x1[d] * vd
                b2 += x2[d] * vd
                b3 += x3[d] * vd
            out[i, c], out[i + 1, c], out[i + 2, c], out[i + 3, c] = a0, a1, a2, a3
            out[i, c + 1], out[i + 1, c + 1], out[i + 2, c + 1], out[i + 3, c + 1] = b0, b1, b2, b3
        if C % 2:
            w = Wt[C - 1]
            a0 = a1 = a2 = a3 = zero
            for d in range(D):
                wd = w[d]
                a0 += x0[d] * wd
                a1 += x1[d] * wd
                a2 += x2[d] * wd
                a3 += x3[d] * wd
            out[i, C - 1], out[i + 1, C - 1], out[i + 2, C - 1], out[i + 3, C - 1] = a0, a1, a2, a3
    for i in range(4 * (N // 4), N):
        for c in range(C):
            a = zero
            for d in range(D):
                a += X[R[i], d] * Wt[c, d]
            out[i, c] = a


def _accumulate_py(X, R, G, outT, n_parts):
    # Each part (thread) sums its rows into its own C x D partial, four rows x two classes
    # per inner loop; the partials are added in a fixed order (deterministic). Row i of G
    # goes with row R[i] of X.
    N, D = R.shape[0], X.shape[1]
    C = G.shape[1]
    rows_per_part = ((N + n_parts - 1) // n_parts + 3) // 4 * 4
    part = np.zeros((n_parts, C, D), dtype=outT.dtype)
    for p in _prange(n_parts):
        acc = part[p]
        i = p * rows_per_part
        hi = min(N, i + rows_per_part)
        while i + 4 <= hi:
            x0, x1, x2, x3 = X[R[i]], X[R[i + 1]], X[R[i + 2]], X[R[i + 3]]
            for c in range(0, C - 1, 2):
                g0, g1, g2, g3 = G[i, c], G[i + 1, c], G[i + 2, c], G[i + 3, c]
                h0, h1, h2, h3 = G[i, c + 1], G[i + 1, c + 1], G[i + 2, c + 1], G[i + 3, c + 1]
                a, b = acc[c], acc[c + 1]
                for d in range(D):
                    u0, u1, u2, u3 = x0[d], x1[d], x2[d], x3[d]
                    a[d] += g0 * u0 + g1 * u1 + g2 * u2 + g3 * u3
                    b[d] += h0 * u0 + h1 * u1 + h2 * u2 + h3 * u3
            if C % 2:
                g0, g1, g2, g3 = G[i, C - 1], G[i + 1, C - 1], G[i + 2, C - 1], G[i + 3, C - 1]
                a = acc[C - 1]
                for d in range(D):
                    a[d] += g0 * x0[d] + g1 * x1[d] + g2 * x2[d] + g3 * x3[d]
            i += 4
        while i < hi:
            for c in range(C):
                g = G[i, c]
                a = acc[c]
                for d in range(D):
                    a[d] += g * X[R[i], d]
            i += 1
    for p in range(n_parts):
        outT += part[p]


def _compiled() -> Any:
    """Import Numba and compile the two loops (cached on disk after the first time)."""
    global _numba, _prange, _scores_nb, _accumulate_nb
    if _numba is None:
        # Numba's OpenMP threads spin after each parallel region by default, stealing the
        # core that the NumPy code between two regions needs: measured 2-3 x slower than
        # BLAS on a busy machine, ~0.6 x the BLAS pass with passive waiting
        # (benchmarks/RESULTS.md). Set before the OpenMP runtime starts; a user's value stays.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        import numba

        _prange = numba.prange
        jit = numba.njit(parallel=True, fastmath=True, cache=True, nogil=True)
        _scores_nb, _accumulate_nb = jit(_scores_py), jit(_accumulate_py)
        _numba = numba
    return _numba


def threads() -> int:
    """Threads the compiled kernels run on (Numba's setting; 1 without Numba).

    Examples:
        >>> threads() >= 1
        True
    """
    return _compiled().get_num_threads() if AVAILABLE else 1


def scores(
    X: npt.NDArray[np.floating],
    W: npt.NDArray[np.floating],
    out: npt.NDArray[np.floating] | None = None,
) -> npt.NDArray[np.floating]:
    """``X @ W`` -> ``(N, C)``; ``X`` ``(N, D)`` C-contiguous, ``W`` ``(D, C)`` in X's dtype.

    Examples:
        >>> X, W = np.arange(15.0).reshape(5, 3), np.arange(12.0).reshape(3, 4)
        >>> np.array_equal(scores(X, W), X @ W)
        True
    """
    return scores_t(X, np.ascontiguousarray(W.T), out)


def scores_t(
    X: npt.NDArray[np.floating],
    Wt: npt.NDArray[np.floating],
    out: npt.NDArray[np.floating] | None = None,
    rows: npt.NDArray[np.integer] | None = None,
) -> npt.NDArray[np.floating]:
    """``X @ Wt.T`` with ``Wt`` ``(C, D)`` C-contiguous (the layout the loop reads); with
    ``rows`` (valid indices), ``X[rows] @ Wt.T`` reading the rows in place (no gathered copy).

    Examples:
        >>> X, Wt = np.arange(15.0).reshape(5, 3), np.arange(12.0).reshape(4, 3)
        >>> np.array_equal(scores_t(X, Wt), X @ Wt.T)
        True
        >>> np.array_equal(scores_t(X, Wt, rows=np.array([4, 0])), X[[4, 0]] @ Wt.T)
        True
    """
    n = X.shape[0] if rows is None else len(rows)
    if out is None:
        out = np.empty((n, Wt.shape[0]), dtype=X.dtype)
    if AVAILABLE:
        _compiled()
        _scores_nb(X, np.arange(n) if rows is None else rows, Wt, out)
    else:
        np.matmul(X if rows is None else X[rows], Wt.T, out=out)
    return out


def accumulate(
    X: npt.NDArray[np.floating],
    G: npt.NDArray[np.floating],
    outT: npt.NDArray[np.floating],
    rows: npt.NDArray[np.integer] | None = None,
) -> npt.NDArray[np.floating]:
    """``outT += (X^T G)^T`` in place: ``outT`` ``(C, D)`` C-contiguous, ``G`` ``(N, C)``;
    with ``rows`` (valid indices, ``len(rows) = N``), ``X[rows]`` read in place for ``X``.

    Examples:
        >>> X, G = np.arange(15.0).reshape(5, 3), np.arange(20.0).reshape(5, 4)
        >>> outT = np.ones((4, 3))
        >>> np.allclose(accumulate(X, G, outT), 1 + (X.T @ G).T)
        True
        >>> np.allclose(accumulate(X, G[:2], np.zeros((4, 3)), rows=np.array([3, 1])),
        ...             (X[[3, 1]].T @ G[:2]).T)
        True
    """
    if not AVAILABLE:
        outT += G.T @ (X if rows is None else X[rows])
        return outT
    n_parts = threads()
    R = np.arange(X.shape[0]) if rows is None else rows
    _accumulate_nb(X, R, np.ascontiguousarray(G), outT, n_parts)
    return outT


def instantiate(func: Any, suffix: str, **names: Any) -> Any:
    """``func``'s code with its module's globals but ``names`` replaced (for Numba, which
    freezes a function's globals when it compiles it): the same source reading other helpers,
    e.g. their compiled forms. Its own qualified name (``func``'s plus ``suffix``) keeps
    Numba's on-disk cache of the instances apart.

    Examples:
        >>> def f():
        ...     return g()
        >>> h = instantiate(f, "_two", g=lambda: 2)
        >>> h(), h.__qualname__, h.__code__ is f.__code__   # one source
        (2, 'f_two', True)
    """
    name = func.__name__ + suffix
    made = types.FunctionType(func.__code__, {**func.__globals__, **names}, name, func.__defaults__)
    made.__qualname__ = name
    return made
