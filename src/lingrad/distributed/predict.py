"""Scores, predictions and probabilities of a trained ``W`` over row-chunked dask arrays.

Each chunk goes through the single-machine functions of :mod:`lingrad.model`; the results are
lazy dask arrays aligned with ``X``'s rows (nothing is pulled to the client until asked).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numpy.typing import NDArray

from lingrad._validation import check_weights
from lingrad.distributed.data import DaskArray, as_row_chunks
from lingrad.model import predict_from_scores, proba_from_scores, scores_unchecked


def _prepare(W: npt.ArrayLike, X: DaskArray) -> tuple[NDArray[np.floating], DaskArray]:
    X = as_row_chunks(X, None).X
    W = check_weights(W, X.shape[1]).astype(X.dtype, copy=False)
    return W, X


def scores(W: npt.ArrayLike, X: DaskArray) -> DaskArray:
    """``S = X @ W[:-1] + W[-1]`` per chunk: a dask array ``(N, C)`` in X's dtype.

    Examples:
        >>> import dask.array as da
        >>> W = np.array([[1.0, -1.0], [0.0, 2.0], [0.5, 0.0]])        # D = 2, C = 2, bias last
        >>> S = scores(W, da.from_array(np.array([[1.0, 1.0], [2.0, 0.0]]), chunks=1))
        >>> S.chunks, S.compute()
        (((1, 1), (2,)), array([[ 1.5,  1. ],
               [ 2.5, -2. ]]))
    """
    W, X = _prepare(W, X)
    return X.map_blocks(_scores_block, W, chunks=(X.chunks[0], (W.shape[1],)), dtype=X.dtype)


def predict(W: npt.ArrayLike, X: DaskArray) -> DaskArray:
    """Predicted class indices per chunk (argmax, or ``s >= 0`` for ``C = 1``): ``(N,)``.

    Examples:
        >>> import dask.array as da
        >>> W = np.array([[1.0, -1.0], [0.0, 2.0], [0.5, 0.0]])
        >>> predict(W, da.from_array(np.array([[1.0, 1.0], [2.0, 0.0]]), chunks=1)).compute()
        array([0, 0])
    """
    W, X = _prepare(W, X)
    return X.map_blocks(_predict_block, W, chunks=(X.chunks[0],), drop_axis=1, dtype=np.intp)


def predict_proba(W: npt.ArrayLike, X: DaskArray) -> DaskArray:
    """Class probabilities per chunk (softmax, or ``[1 - sigma, sigma]`` for ``C = 1``).

    Examples:
        >>> import dask.array as da
        >>> W = np.array([[1.0], [0.0]])                                 # D = 1, C = 1: binary
        >>> X = da.from_array(np.array([[0.0], [50.0]]), chunks=1)
        >>> predict_proba(W, X).compute().round(3)
        array([[0.5, 0.5],
               [0. , 1. ]])
    """
    W, X = _prepare(W, X)
    C = max(W.shape[1], 2)
    return X.map_blocks(_proba_block, W, chunks=(X.chunks[0], (C,)), dtype=X.dtype)


def _scores_block(X, W):
    return scores_unchecked(W, X)


def _predict_block(X, W):
    return predict_from_scores(scores_unchecked(W, X))


def _proba_block(X, W):
    return proba_from_scores(scores_unchecked(W, X))
