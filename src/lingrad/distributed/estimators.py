"""What ``LinearClassifier.fit`` / ``LinearRegressor.fit`` run when ``X`` is a dask collection.

The estimator checks its own parameters and hands the plain values here; :func:`fit_linear`
trains through the one trainer and returns a :class:`DaskFit` for the estimator to keep (it
never touches the estimator). A full-batch optimiser (``"gd"``) takes one client-side step per
pass of :class:`~lingrad.distributed.DaskObjective`; the mini-batch ones run as SGD moved to the
data (:class:`~lingrad.distributed.ChunkSGD`): :func:`lingrad.train.batch_size_for` decides.
Labels are mapped to ``0..K-1`` chunk by chunk on the workers; only the classes
(``da.unique``) and the class counts (for ``class_weight="balanced"``) come back to the
client, never ``X``.

``optimizer="lbfgs"`` (what ``"auto"`` resolves to on a cluster) runs SciPy's L-BFGS
(:func:`lingrad.distributed.fit.lbfgs`) from ``W = 0`` (a regression's bias at the mean of
``y``), stopping at ``max |dJ/dW| <= tol``. ``loss_history`` is, per iteration or epoch, the
objective after the step for ``"lbfgs"`` and ``"gd"`` (as in memory) and the mean of the
epoch's mini-batch objectives for the SGD methods (the full objective would cost one more
pass per epoch).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from lingrad._validation import fail
from lingrad.distributed.cluster import default_client
from lingrad.distributed.data import DaskArray, as_row_chunks
from lingrad.distributed.fit import Callback, lbfgs, runner_for, train
from lingrad.distributed.objective import DaskObjective
from lingrad.model import init_weights
from lingrad.optim import Optimizer
from lingrad.regularizers import Regularizer
from lingrad.train import Stop, batch_size_for, class_weights
from lingrad.train.weights import by_index

if TYPE_CHECKING:
    from distributed import Client


@dataclass
class DaskFit:
    """What :func:`fit_linear` learned: ``W`` ``(D + 1, C)``, the ``classes`` (``None`` for a
    regression), the epochs (iterations) run, the loss per epoch and why the run ended
    (``None``: all epochs ran).

    Examples:
        >>> DaskFit(np.zeros((3, 1)), None, 2, [0.5, 0.4]).n_epochs
        2
    """

    W: np.ndarray
    classes: np.ndarray | None
    n_epochs: int
    loss_history: list[float]
    stop: Stop | None = None


def _class_weights(class_weight, classes, y_index, client) -> np.ndarray:
    """Per-class weights ``(K,)`` by :func:`lingrad.train.class_weights` (counts on the workers)."""
    import dask.array as da

    counts = client.compute(da.bincount(y_index, minlength=len(classes))).result()
    return class_weights(by_index(class_weight, classes), counts)


def _labels(y, client, n_columns: Callable[[np.ndarray], int], class_weight, w):
    """``(classes, y as 0..K-1, example weights, C)`` for a classifier (classes from the
    workers; ``n_columns(classes)`` checks them and says the score columns)."""
    import dask.array as da

    classes = np.asarray(client.compute(da.unique(y)).result())
    if classes.dtype.kind in "fc" and not np.isfinite(classes).all():
        # refused as the in-memory path refuses them (a NaN is not a class), naming the row
        row = int(client.compute(da.argmax(~da.isfinite(y))).result())
        bad = classes[~np.isfinite(classes)][0]
        fail("y", "finite labels", f"{bad} at row {row}")
    if len(classes) < 2:
        fail("y", "at least 2 classes", f"{len(classes)} class ({classes.tolist()})")
    C = n_columns(classes)
    y = y.map_blocks(_index_of, classes, dtype=np.intp)
    if class_weight is not None:
        per_class = _class_weights(class_weight, classes, y, client)
        cw = y.map_blocks(_take, per_class, dtype=np.float64)
        w = cw if w is None else w * cw
    return classes, y, w, C


def fit_linear(
    X: DaskArray,
    y: DaskArray | npt.ArrayLike,
    sample_weight: DaskArray | npt.ArrayLike | None = None,
    *,
    loss: str,
    regularizer: str | Regularizer | None,
    lam: float,
    optimizer: str,
    make_optimizer: Callable[[int], Optimizer],
    batch_size: int,
    epochs: int,
    rng: np.random.Generator,
    tol: float = 1e-4,
    callback: Callback | None = None,
    n_columns: Callable[[np.ndarray], int] | None = None,
    class_weight: str | Mapping[Any, float] | None = None,
    client: Client | None = None,
) -> DaskFit:
    """Train a linear model on a dask array ``X`` ``(N, D)`` and targets ``y`` (dask or
    NumPy): a classifier when ``n_columns`` (classes -> score columns ``C``, checking them) is
    given, else a regression whose bias starts at the weighted mean of ``y``.
    ``make_optimizer(N)`` builds the optimiser (its schedule needs N); ``optimizer`` is its
    registry name, or ``"lbfgs"`` for SciPy's L-BFGS (``epochs`` iterations at most, ``tol``
    on ``max |dJ/dW|``; ``make_optimizer`` and ``batch_size`` unused). ``callback(epoch, logs,
    W)`` runs after each epoch (a truthy return stops).

    It runs on a ``distributed.Client`` (``client=`` or the current default one); without one
    it says how to get one:

    Examples:
        >>> import dask.array as da
        >>> from lingrad.optim import SGD
        >>> X, y = da.ones((4, 2), chunks=2), np.array([0, 1, 0, 1])
        >>> fit_linear(X, y, loss="softmax", regularizer="l2", lam=0.0, optimizer="sgd",
        ...            make_optimizer=lambda n: SGD(0.1), batch_size=2, epochs=1,
        ...            rng=np.random.default_rng(0))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
            ...
        ValueError: client: expected a distributed.Client (client=...) or a ru...
    """
    client = default_client() if client is None else client
    data = as_row_chunks(X, y, sample_weight)
    w, classes = data.sample_weight, None
    if n_columns is not None:
        classes, y, w, C = _labels(data.y, client, n_columns, class_weight, w)
    else:
        y, C = data.y.astype(data.dtype), 1
    objective = DaskObjective(
        loss, data.X, y, regularizer=regularizer, lam=lam, sample_weight=w, client=client
    )
    with objective:
        N, D = objective.n_samples, objective.n_features
        W0 = init_weights(D, C, rng=rng, dtype=objective.dtype)
        if optimizer == "lbfgs":
            W0[:] = 0.0
        if n_columns is None:
            total = client.compute((y * (1 if w is None else w)).sum()).result()
            W0[-1] = total / (N if w is None else client.compute(w.sum()).result())
        if optimizer == "lbfgs":
            result = lbfgs(objective, W0, max_iter=epochs, tol=tol, callback=callback)
        else:
            opt = make_optimizer(N)
            batch = batch_size_for(optimizer, N, min(batch_size, N))
            runner = runner_for(objective, opt, batch_size=batch)
            result = train(objective, opt, W0, runner, epochs=epochs, rng=rng, callback=callback)
    history = list(result.history["loss"])
    return DaskFit(result.W, classes, result.n_epochs, history, result.stop)


def _index_of(block, classes):
    return np.searchsorted(classes, block)


def _take(block, values):
    return values[block]
