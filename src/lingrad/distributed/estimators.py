"""``LinearClassifier.fit`` / ``LinearRegressor.fit`` on dask arrays.

The estimators call :func:`fit` when ``X`` is a dask collection. Their parameters mean the same
as in memory: the loss, ``penalty``, ``lam``, the optimiser (by name, with its schedule) and
``epochs`` / ``batch_size``. A full-batch optimiser (``"gd"``) takes one client-side step per
pass of :class:`~lingrad.distributed.DaskObjective`; the mini-batch ones (``"sgd"``,
``"momentum"``, ``"nesterov"``, ``"adam"``) run as SGD moved to the data
(:func:`lingrad.distributed.sgd`). Labels are mapped to ``0..K-1`` chunk by chunk on the
workers; only the classes (``da.unique``) and the class counts (for
``class_weight="balanced"``) come back to the client, never ``X``.

``loss_history_`` is, per epoch, the objective after the epoch's step for ``"gd"`` (as in
memory) and the mean of the epoch's mini-batch objectives for the SGD methods (the full
objective would cost one more pass per epoch).

Not available on dask arrays (a ``ValueError`` says so): the search optimisers, the numerical
gradient, early stopping and ``partial_fit``.
"""

from __future__ import annotations

import numpy as np

from lingrad import optim
from lingrad._validation import fail
from lingrad.distributed.cluster import default_client
from lingrad.distributed.data import as_row_chunks
from lingrad.distributed.fit import gradient_descent, sgd
from lingrad.distributed.objective import DaskObjective
from lingrad.model import init_weights

_ONE_COLUMN_BINARY = ("logistic", "sigmoid_squared_error")


def _unsupported(estimator) -> None:
    where = type(estimator).__name__
    if optim.entry(estimator.optimizer).cls.reads != "gradient":
        fail(
            f"{where}.optimizer", "a gradient optimiser for dask arrays", repr(estimator.optimizer)
        )
    if estimator.gradient != "analytic":
        fail(f"{where}.gradient", "'analytic' for dask arrays", repr(estimator.gradient))
    if estimator.early_stopping:
        fail(f"{where}.early_stopping", "False for dask arrays", True)


def _class_weights(class_weight, classes, y_index, client) -> np.ndarray:
    """Per-class weights ``(K,)`` from ``"balanced"`` (``N / (K * count_k)``) or a dict."""
    import dask.array as da

    K = len(classes)
    if isinstance(class_weight, str):
        counts = client.compute(da.bincount(y_index, minlength=K)).result()
        return np.where(counts > 0, counts.sum() / (K * np.maximum(counts, 1)), 0.0)
    return np.array([float(class_weight.get(c, 1.0)) for c in classes.tolist()])


def fit(estimator, X, y, sample_weight=None, *, client=None):
    """Fit ``estimator`` (a :class:`lingrad.LinearClassifier` or ``LinearRegressor``) on a
    dask array ``X`` ``(N, D)`` and targets ``y`` (dask or NumPy); returns the estimator.

    It runs on a ``distributed.Client`` (``client=`` or the current default one); without one
    it says how to get one:

    Examples:
        >>> import dask.array as da
        >>> from lingrad import LinearClassifier
        >>> X, y = da.ones((4, 2), chunks=2), np.array([0, 1, 0, 1])
        >>> fit(LinearClassifier(), X, y)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
            ...
        ValueError: client: expected a distributed.Client (client=...) or a ru...
    """
    import dask.array as da

    from lingrad.estimators import LinearClassifier

    name, _ = estimator._validate_params()
    estimator.loss_ = name
    _unsupported(estimator)
    client = default_client() if client is None else client
    data = as_row_chunks(X, y, sample_weight)
    y = data.y
    w = data.sample_weight
    classifier = isinstance(estimator, LinearClassifier)
    if classifier:
        classes = np.asarray(client.compute(da.unique(y)).result())
        if len(classes) < 2:
            fail("y", "at least 2 classes", f"{len(classes)} class ({classes.tolist()})")
        if name == "logistic" and len(classes) > 2:
            fail(
                "loss",
                "a multi-class loss for 3 or more classes",
                f"'logistic' with {len(classes)} classes",
            )
        estimator.classes_ = classes
        y = y.map_blocks(_index_of, classes, dtype=np.intp)
        if estimator.class_weight is not None:
            per_class = _class_weights(estimator.class_weight, classes, y, client)
            cw = y.map_blocks(_take, per_class, dtype=np.float64)
            w = cw if w is None else w * cw
        K = len(classes)
        C = 1 if K == 2 and name in _ONE_COLUMN_BINARY else K
    else:
        y = y.astype(data.dtype)
        C = 1
    objective = DaskObjective(
        name,
        data.X,
        y,
        regularizer=estimator.penalty,
        lam=estimator.lam,
        sample_weight=w,
        client=client,
    )
    rng = estimator._rng()
    with objective:
        N, D = objective.n_samples, objective.n_features
        opt, batch = estimator._optimizer(N, estimator.epochs)
        W0 = init_weights(D, C, rng=rng, dtype=objective.dtype)
        if not classifier:
            total = client.compute((y * (1 if w is None else w)).sum()).result()
            weight = N if w is None else client.compute(w.sum()).result()
            W0[-1] = total / weight
        if optim.entry(estimator.optimizer).full_batch:
            result = gradient_descent(objective, W0, optimizer=opt, max_iter=estimator.epochs)
            # as lingrad.train.fit: the objective *after* each epoch's step (one more pass)
            result.history["loss"] = [*result.history["loss"][1:], objective.value(result.W)]
        else:
            result = sgd(
                objective, W0, rng=rng, optimizer=opt, batch_size=batch, epochs=estimator.epochs
            )
    estimator.W_ = result.W
    estimator.n_features_in_ = D
    estimator.n_iter_ = result.n_iter
    estimator.loss_history_ = list(result.history["loss"])
    estimator._set_coef(result.W)
    return estimator


def _index_of(block, classes):
    return np.searchsorted(classes, block)


def _take(block, values):
    return values[block]
