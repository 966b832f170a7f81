"""Training on a Dask cluster through the one trainer (:mod:`lingrad.train`), with the runners
that are Dask's own.

Full batch (:class:`ClientDescent`, ``solver="gd"``): the client holds ``W`` and the optimiser;
each epoch is one pass of :class:`~lingrad.distributed.DaskObjective` (value and gradient
reduced on the workers), one round trip. The pass at the new weights gives both the epoch's
loss and the next step's gradient, so ``T`` epochs cost ``T + 1`` passes.

Mini-batch SGD (:class:`ChunkSGD`, ``solver="sgd"``): W travels to the data. One task per chunk
runs SGD over its chunk's rows (a fresh permutation per epoch from a seed drawn by the
client's ``numpy.random.Generator``, then contiguous mini-batches) and hands
``(W, optimiser state)`` to the next chunk's task; the client sees one round trip per epoch,
never one per mini-batch. Run in one process over the same chunks and seeds it gives the same
weights (:func:`sgd_chunk`).

Parallel SGD (``solver="parallel_sgd"``, Zinkevich et al. 2010): every chunk starts the epoch
from the same ``(W, state)``, all chunks run at once, and the results are averaged, weighted by
the chunks' rows. It uses all workers but is a different algorithm: each chunk sees only
``1/K`` of the data per epoch, so it reaches a worse loss per epoch (1.84 vs 1.66 after 3
epochs on a 400k x 785 softmax problem in our notes; ``benchmarks/dask_gradient.py`` measures
it again).

L-BFGS (:func:`lbfgs`, ``solver="lbfgs"``) is a separate solver: SciPy drives its own
iterations, so it does not run through the epoch loop; it returns the same
:class:`~lingrad.train.FitResult`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

import numpy as np
import numpy.typing as npt
from numpy.typing import NDArray

from lingrad import losses
from lingrad._validation import check_int, check_positive, fail
from lingrad.distributed.data import DaskArray
from lingrad.distributed.objective import DaskObjective, tree_reduce
from lingrad.model import init_weights
from lingrad.objective import Objective
from lingrad.optim import SGD, GradientDescent, Optimizer
from lingrad.regularizers import Regularizer
from lingrad.train import (
    DivergenceGuard,
    FitResult,
    ObservePlateau,
    ProgressBar,
    Runner,
    RunnerLogs,
    Stop,
    StopReason,
    TrainState,
    UserCallbacks,
    result_of,
    run,
)

if TYPE_CHECKING:
    from distributed import Client

SOLVERS = ("lbfgs", "gd", "sgd", "parallel_sgd")

#: ``callback(epoch, logs, W)`` after each epoch, on the client (a truthy return stops).
Callback: TypeAlias = Callable[[int, dict[str, float], NDArray[np.floating]], object]
#: ``(W, optimiser state, loss_sum, rows_seen)``: what travels from chunk to chunk in SGD.
_Carry: TypeAlias = tuple[NDArray[np.floating], Any, float, int]
#: The last pass of :class:`ClientDescent`: ``(W, J(W), dJ/dW, ||dJ/dW||)``.
_Pass: TypeAlias = tuple[NDArray[np.floating], float, NDArray[np.floating], float]


def _start(objective: DaskObjective | Objective, W0: npt.ArrayLike) -> NDArray[np.floating]:
    return np.array(objective.check_weights(W0), dtype=_dtype(objective))


def _dtype(objective: DaskObjective | Objective) -> np.dtype:
    return objective.dtype if isinstance(objective, DaskObjective) else objective.X.dtype


# ------------------------------------------------------------------------------------------
# Runners
# ------------------------------------------------------------------------------------------


class ClientDescent:
    """Full-batch descent on the client, one pass per epoch:
    ``step, s = opt.update(dJ/dW(W), s, W); W <- W + step``, then the pass at the new ``W``
    (the next step's gradient). The epoch's ``loss`` and ``grad_norm`` are those of the weights
    it started from, as for full-batch descent in memory. Stops when
    ``||dJ/dW|| <= tol`` (:attr:`StopReason.CONVERGED`) or on a non-finite loss or gradient
    (the divergence guard, keeping the last good weights).

    Examples:
        >>> from lingrad.objective import Objective
        >>> obj = Objective("softmax", np.array([[0.0], [1.0]]), np.array([0, 1]))
        >>> ClientDescent(obj, GradientDescent(1.0)).tol
        0.0
    """

    def __init__(
        self, objective: DaskObjective | Objective, optimizer: Optimizer, tol: float = 0.0
    ) -> None:
        self.objective = objective
        self.optimizer = optimizer
        self.tol = tol
        self.guard = DivergenceGuard(math.inf, math.inf)
        self.current: _Pass | None = None  # the last pass

    def _pass(self, state: TrainState) -> _Pass:
        value, dW = self.objective.value_and_grad_unchecked(state.W)
        state.evaluations += 1
        state.first_loss = value if state.first_loss is None else state.first_loss
        self.current = (state.W, value, dW, float(np.linalg.norm(dW)))
        return self.current

    def _done(self, state: TrainState, current: _Pass) -> bool:
        _, value, _, norm = current
        first = value if state.first_loss is None else state.first_loss  # set by the pass
        problem = self.guard.problem(value, norm, first)
        if problem:
            self.guard.end(state, problem, self.optimizer.rate(state.optimizer_state))
        elif norm <= self.tol:
            state.stop = Stop(StopReason.CONVERGED, f"gradient norm {norm:.3g} <= tol {self.tol:g}")
        return state.stop is not None

    def run_epoch(self, state: TrainState) -> dict[str, float]:
        current = self.current
        if current is None or current[0] is not state.W:
            current = self._pass(state)
        # the epoch's loss is J at the weights it started from, as the in-memory runner's step
        _, value, _, norm = current
        if not self._done(state, current):
            step, state.optimizer_state = self.optimizer.update(
                current[2], state.optimizer_state, state.W
            )
            state.previous_W, state.W = state.W, state.W + step.astype(state.W.dtype, copy=False)
            state.iteration += 1
            current = self._pass(state)
            self._done(state, current)
        return {"loss": value, "grad_norm": norm}


class ChunkSGD:
    """Mini-batch SGD with W moved to the data, one round trip per epoch (see
    :func:`sgd_chunk`), or parallel SGD with averaging (``parallel=True``). The epoch's
    ``loss`` is the mean of its mini-batch objectives weighted by their rows.

    Per epoch, ``state.rng`` draws the chunk order ``rng.permutation(K)`` (when
    ``shuffle_chunks``), then the seeds ``rng.integers(0, 2**63 - 1, size=K)``, one per chunk
    (in chunk index order) for its row permutation.

    Examples:
        >>> ChunkSGD.__name__
        'ChunkSGD'
    """

    def __init__(
        self,
        objective: DaskObjective,
        optimizer: Optimizer,
        *,
        batch_size: int,
        parallel: bool = False,
        shuffle_chunks: bool = True,
    ) -> None:
        self.objective = objective
        self.optimizer = optimizer
        self.batch_size = batch_size
        self.parallel = parallel
        self.shuffle_chunks = shuffle_chunks
        rows = objective.data.X.chunks[0]
        self.steps_per_epoch = sum(-(-n // batch_size) for n in rows)

    def run_epoch(self, state: TrainState) -> dict[str, float]:
        import dask

        objective, opt, b = self.objective, self.optimizer, self.batch_size
        chunks, rng = objective.chunks, state.rng
        order = rng.permutation(len(chunks)) if self.shuffle_chunks else np.arange(len(chunks))
        seeds = rng.integers(0, 2**63 - 1, size=len(chunks), dtype=np.int64)
        reg, lam = objective.regularizer, objective.lam
        task = dask.delayed(sgd_chunk, pure=False)
        start = dask.delayed((state.W, state.optimizer_state, 0.0, 0))
        if self.parallel:
            ends = [task(chunks[k], start, opt, b, int(seeds[k]), reg, lam) for k in order]
            carry = tree_reduce(ends, _average, fan_in=len(ends))
        else:
            carry = start
            for k in order:
                carry = task(chunks[k], carry, opt, b, int(seeds[k]), reg, lam)
        state.W, state.optimizer_state, loss_sum, seen = objective.client.compute(carry).result()
        objective.n_passes += 1
        state.iteration += self.steps_per_epoch
        state.evaluations += self.steps_per_epoch
        return {"loss": loss_sum / max(seen, 1)}


def train(
    objective: DaskObjective | Objective,
    optimizer: Optimizer,
    W0: npt.ArrayLike,
    runner: Runner,
    *,
    epochs: int,
    rng: np.random.Generator | None = None,
    callback: Callback | None = None,
    progress: bool = False,
) -> FitResult:
    """Run ``runner`` for ``epochs`` through the one loop (:func:`lingrad.train.run`): the
    optimiser observes the epoch's loss, then ``callback(epoch, logs, W)`` (a truthy return
    stops) and a progress bar on a terminal; no extra pass per epoch.

    Examples:
        >>> from lingrad.objective import Objective
        >>> obj = Objective("softmax", np.array([[0.0], [1.0]]), np.array([0, 1]))
        >>> opt = GradientDescent(1.0)
        >>> r = train(obj, opt, np.zeros((2, 2)), ClientDescent(obj, opt), epochs=3)
        >>> r.n_iter, r.n_evaluations, len(r.history["loss"])
        (3, 4, 3)
    """
    W = _start(objective, W0)
    rng = np.random.default_rng(0) if rng is None else rng
    state = TrainState(W, optimizer.init(W), rng)
    callbacks = [
        ObservePlateau(optimizer, validation=False),
        UserCallbacks([] if callback is None else [callback]),
        ProgressBar(1 if progress else 0, epochs, 0, type(runner).__name__),
    ]
    run(state, runner, epochs=epochs, evaluate=RunnerLogs(optimizer), callbacks=callbacks)
    return result_of(state)


# ------------------------------------------------------------------------------------------
# Full batch, on the client
# ------------------------------------------------------------------------------------------


def gradient_descent(
    objective: DaskObjective | Objective,
    W0: npt.ArrayLike,
    *,
    optimizer: Optimizer | None = None,
    learning_rate: float = 0.1,
    max_iter: int = 100,
    tol: float = 0.0,
    callback: Callback | None = None,
    progress: bool = False,
) -> FitResult:
    """Full-batch descent ``step, state = opt.update(dJ/dW(W), state, W); W <- W + step``.

    Args:
        objective: a :class:`DaskObjective` or an in-memory :class:`lingrad.Objective`.
        W0: initial weights ``(D + 1, C)``.
        optimizer: a ``lingrad.optim`` optimiser (default ``GradientDescent(learning_rate)``).
        max_iter: iterations (one pass over the data each, plus one at the start).
        tol: stop when ``||dJ/dW|| <= tol``.
        callback: ``callback(epoch, logs, W)`` after each pass, on the client.
        progress: show a Rich progress bar on a terminal.

    ``history["loss"]`` is the objective at the weights each step starts from (as in
    memory). With an in-memory :class:`lingrad.Objective` (a :class:`DaskObjective` works the
    same):

    Examples:
        >>> from lingrad.objective import Objective
        >>> obj = Objective("softmax", np.array([[0.0], [1.0]]), np.array([0, 1]))
        >>> r = gradient_descent(obj, np.zeros((2, 2)), learning_rate=1.0, max_iter=20)
        >>> [round(v, 3) for v in r.history["loss"][:2]], r.history["loss"][-1] < 0.4
        ([0.693, 0.584], True)
    """
    max_iter = check_int("max_iter", max_iter)
    tol = check_positive("tol", tol, allow_zero=True)
    opt = GradientDescent(learning_rate) if optimizer is None else optimizer
    runner = ClientDescent(objective, opt, tol)
    return train(objective, opt, W0, runner, epochs=max_iter, callback=callback, progress=progress)


def lbfgs(
    objective: DaskObjective | Objective,
    W0: npt.ArrayLike,
    *,
    max_iter: int = 100,
    tol: float = 1e-6,
    ftol: float = 2.2e-9,
    callback: Callback | None = None,
    progress: bool = False,
) -> FitResult:
    """L-BFGS through ``scipy.optimize.minimize(method="L-BFGS-B", jac=True)``.

    scipy works in float64 on the flattened ``W``; every evaluation is one pass of
    ``objective.value_and_grad`` in X's dtype. ``tol`` is scipy's ``gtol`` (the largest
    gradient component); ``history["loss"]`` has one entry per iteration; ``callback(it,
    {"loss": J}, W)`` after each. ``stop`` is :attr:`StopReason.CONVERGED` when scipy reports
    success, else :attr:`StopReason.BUDGET`, with scipy's message.

    With an in-memory :class:`lingrad.Objective` (a :class:`DaskObjective` works the same):

    Examples:
        >>> from lingrad.objective import Objective
        >>> obj = Objective("softmax", np.array([[0.0], [1.0]]), np.array([0, 1]), lam=0.1)
        >>> r = lbfgs(obj, np.zeros((2, 2)))
        >>> r.stop.reason.name, r.W.shape, round(obj.value(r.W), 4)
        ('CONVERGED', (2, 2), 0.4072)
    """
    from scipy.optimize import minimize

    max_iter = check_int("max_iter", max_iter)
    tol = check_positive("tol", tol, allow_zero=True)
    ftol = check_positive("ftol", ftol, allow_zero=True)
    W = _start(objective, W0)
    shape, dtype = W.shape, W.dtype
    history: dict[str, list[float]] = {"loss": [], "grad_norm": []}
    evaluations = []

    def fun(w):
        evaluations.append(1)
        value, dW = objective.value_and_grad(w.reshape(shape).astype(dtype))
        return value, dW.astype(np.float64).ravel()

    bar = ProgressBar(1 if progress else 0, max_iter, 0, "L-BFGS")

    def on_iteration(intermediate_result):
        it = len(history["loss"])
        logs = {"loss": float(intermediate_result.fun), "val_accuracy": math.nan}
        history["loss"].append(logs["loss"])
        bar.after_epoch(None, logs)
        if callback is not None:
            callback(it, logs, intermediate_result.x.reshape(shape).astype(dtype))

    try:
        res = minimize(
            fun,
            W.astype(np.float64).ravel(),
            jac=True,
            method="L-BFGS-B",
            callback=on_iteration,
            options={"maxiter": max_iter, "gtol": tol, "ftol": ftol},
        )
    finally:
        bar.close(None)
    history["grad_norm"] = [float(np.linalg.norm(res.jac))]
    reason = StopReason.CONVERGED if res.success else StopReason.BUDGET
    return FitResult(
        W=res.x.reshape(shape).astype(dtype),
        history=history,
        step_history={},
        n_iter=int(res.nit),
        n_epochs=int(res.nit),
        n_evaluations=len(evaluations),
        stop=Stop(reason, str(res.message)),
    )


# ------------------------------------------------------------------------------------------
# Mini-batch SGD, W moved to the data
# ------------------------------------------------------------------------------------------


def sgd_chunk(
    obj: Objective | None,
    carry: _Carry,
    optimizer: Optimizer,
    batch_size: int,
    seed: int,
    regularizer: Regularizer,
    lam: float,
) -> _Carry:
    """SGD over one chunk: the task that runs where the chunk is.

    ``carry = (W, state, loss_sum, rows_seen)``: it returns ``W`` and the optimiser state after
    one step per mini-batch of ``batch_size`` rows, taken in the order of
    ``default_rng(seed).permutation(n_rows)``, and adds each batch objective times its rows to
    ``loss_sum``. ``obj`` is the chunk's :class:`lingrad.Objective` (``None``: a chunk of zero
    weight, skipped).

    Examples:
        >>> from lingrad.objective import Objective
        >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
        >>> obj = Objective("softmax", X, np.array([0, 0, 1, 1]))
        >>> opt = SGD(0.5)
        >>> W0 = np.zeros((2, 2))
        >>> carry = (W0, opt.init(W0), 0.0, 0)      # W, optimiser state, loss sum, rows seen
        >>> W, state, loss_sum, rows = sgd_chunk(obj, carry, opt, 2, 0, "l2", 0.0)
        >>> W.shape, int(state.count), rows, round(loss_sum / rows, 4)
        ((2, 2), 2, 4, 0.6404)
    """
    W, state, loss_sum, seen = carry
    if obj is None:
        return carry
    obj.targets(W.shape[1])
    n = obj.n_samples
    order = np.random.default_rng(seed).permutation(n)
    w = obj.sample_weight
    for start in range(0, n, batch_size):
        rows = order[start : start + batch_size]
        if w is not None and not np.any(w[rows]):
            continue
        value, dW = obj.value_and_grad_unchecked(W, rows)
        if lam:
            value += lam * regularizer.value(W)
            regularizer.add_grad(W, dW, lam)
        step, state = optimizer.update(dW, state, W)
        W = W + step.astype(W.dtype, copy=False)
        loss_sum += value * len(rows)
        seen += len(rows)
    return W, state, loss_sum, seen


def _average(*ends: _Carry) -> _Carry:
    """Average the ``(W, state)`` of parallel chunks, weighted by their rows; add the losses."""
    carries = [c for c in ends if c[3] > 0]
    weights = np.array([c[3] for c in carries], dtype=np.float64)
    weights /= weights.sum()

    def mean(values):
        first = values[0]
        if isinstance(first, np.ndarray):
            total = sum(wt * v.astype(np.float64) for wt, v in zip(weights, values, strict=True))
            return total.astype(first.dtype)
        if isinstance(first, int | np.integer):
            return max(values)
        return first

    W = mean([c[0] for c in carries])
    states = [c[1] for c in carries]
    state = type(states[0])(*(mean(list(f)) for f in zip(*states, strict=True)))
    return W, state, sum(c[2] for c in carries), sum(c[3] for c in carries)


def sgd(
    objective: DaskObjective,
    W0: npt.ArrayLike,
    *,
    rng: np.random.Generator,
    optimizer: Optimizer | None = None,
    learning_rate: float = 0.01,
    batch_size: int = 256,
    epochs: int = 5,
    parallel: bool = False,
    shuffle_chunks: bool = True,
    callback: Callback | None = None,
    progress: bool = False,
) -> FitResult:
    """Mini-batch SGD with W moved to the data (or parallel SGD with averaging): the
    :class:`ChunkSGD` runner through the one loop.

    Args:
        objective: the :class:`DaskObjective` (its chunks, loss, regulariser, client).
        W0: initial weights ``(D + 1, C)``.
        rng: the generator of the chunk orders and seeds (see :class:`ChunkSGD`).
        optimizer: a ``lingrad.optim`` optimiser (default ``SGD(learning_rate)``); its state
            travels with W. A schedule counts mini-batch steps.
        batch_size: rows per step (within a chunk; a chunk's last batch may be smaller).
        epochs: passes over the data (one round trip each).
        parallel: run the chunks at once from the same W and average (Zinkevich et al.).
        shuffle_chunks: visit the chunks in a fresh random order each epoch.
        callback: ``callback(epoch, logs, W)`` after each epoch, on the client.
        progress: show a Rich progress bar on a terminal.

    ``history["loss"]``: per epoch, the mean of the mini-batch objectives weighted by rows.

    It runs on a ``distributed.Client`` through a :class:`DaskObjective` (see
    :func:`sgd_chunk` for what each chunk's task does); an in-memory objective is refused
    (train it with :func:`lingrad.train.fit`):

    Examples:
        >>> from lingrad.objective import Objective
        >>> J = Objective("softmax", np.eye(2), [0, 1])
        >>> sgd(J, np.zeros((3, 2)), rng=np.random.default_rng(0))
        Traceback (most recent call last):
            ...
        TypeError: objective: expected a lingrad.distributed.DaskObjective, got Objective
    """
    if not isinstance(objective, DaskObjective):
        fail(
            "objective", "a lingrad.distributed.DaskObjective", type(objective).__name__, TypeError
        )
    if not isinstance(rng, np.random.Generator):
        fail("rng", "a numpy.random.Generator", type(rng).__name__, TypeError)
    batch_size = check_int("batch_size", batch_size)
    epochs = check_int("epochs", epochs)
    opt = SGD(learning_rate) if optimizer is None else optimizer
    runner = ChunkSGD(
        objective, opt, batch_size=batch_size, parallel=parallel, shuffle_chunks=shuffle_chunks
    )
    return train(
        objective, opt, W0, runner, epochs=epochs, rng=rng, callback=callback, progress=progress
    )


def runner_for(
    objective: DaskObjective, optimizer: Optimizer, *, batch_size: int, parallel: bool = False
) -> ClientDescent | ChunkSGD:
    """:class:`ClientDescent` when ``batch_size`` covers all N rows, else :class:`ChunkSGD`
    (the same rule as :func:`lingrad.train.runner_for` in memory).

    Examples:
        >>> from types import SimpleNamespace
        >>> obj = SimpleNamespace(n_samples=4)
        >>> type(runner_for(obj, SGD(0.1), batch_size=4)).__name__
        'ClientDescent'
    """
    if batch_size >= objective.n_samples:
        return ClientDescent(objective, optimizer)
    return ChunkSGD(objective, optimizer, batch_size=batch_size, parallel=parallel)


# ------------------------------------------------------------------------------------------
# One call
# ------------------------------------------------------------------------------------------


def n_columns_of(objective: DaskObjective) -> int:
    """The number of score columns ``C`` the loss needs for the targets (one small pass over
    ``y`` for integer labels: ``max(y) + 1``, at least 2).

    It reads the objective's ``loss_spec``, ``data.y`` and ``client``; here a stand-in for a
    :class:`DaskObjective` whose "client" computes on the local scheduler:

    Examples:
        >>> import dask.array as da
        >>> from types import SimpleNamespace
        >>> class LocalClient:
        ...     def compute(self, x):
        ...         return SimpleNamespace(result=x.compute)
        >>> y = da.from_array(np.array([0, 2, 1, 2]), chunks=2)
        >>> obj = SimpleNamespace(loss_spec=losses.spec("softmax"), data=SimpleNamespace(y=y),
        ...                       client=LocalClient(), n_samples=4)
        >>> n_columns_of(obj)
        3
        >>> n_columns_of(SimpleNamespace(loss_spec=losses.spec("logistic")))   # binary: one
        1
    """
    spec = objective.loss_spec
    if spec.binary_only:
        return 1
    y = objective.data.y
    if not spec.from_labels:  # real targets or probabilities: one column per target column
        return 1 if y.ndim == 1 else int(y.shape[1])
    if y.ndim != 1:
        fail("y", f"integer labels of shape ({objective.n_samples},)", f"shape {y.shape}")
    top = objective.client.compute(y.max()).result()
    if not np.isfinite(top):  # a NaN is not a class: name its row, as the estimators do
        row = int(objective.client.compute(_first_nonfinite(y)).result())
        fail("y", "finite labels", f"{top} at row {row}")
    return spec.n_columns(max(int(top) + 1, 2))


def _first_nonfinite(y: DaskArray) -> DaskArray:
    """The lazy index of the first non-finite value of the 1-D dask array ``y``."""
    import dask.array as da

    return da.argmax(~da.isfinite(y))


def fit(
    X: DaskArray,
    y: DaskArray | npt.ArrayLike,
    *,
    loss: str = "softmax",
    solver: Literal["lbfgs", "gd", "sgd", "parallel_sgd"] = "lbfgs",
    regularizer: str | Regularizer | None = "l2",
    lam: float = 1e-4,
    sample_weight: DaskArray | npt.ArrayLike | None = None,
    n_columns: int | None = None,
    W0: npt.ArrayLike | None = None,
    optimizer: Optimizer | None = None,
    learning_rate: float | None = None,
    max_iter: int = 100,
    tol: float | None = None,
    batch_size: int = 256,
    epochs: int = 5,
    rng: np.random.Generator | None = None,
    client: Client | str | None = None,
    cache: Literal["auto"] | bool = "auto",
    chunk_rows: int | None = None,
    callback: Callback | None = None,
    progress: bool = False,
    **loss_params: float,
) -> FitResult:
    """Train a linear model on dask arrays ``X`` ``(N, D)``, ``y`` on a Dask cluster.

    Args:
        loss: the loss, as for :class:`lingrad.Objective` (every loss works, multi-class
            included).
        regularizer: as for :class:`lingrad.Objective`.
        lam: as for :class:`lingrad.Objective`.
        sample_weight: as for :class:`lingrad.Objective`.
        loss_params: as for :class:`lingrad.Objective`.
        solver: ``"lbfgs"`` (default), ``"gd"`` (full-batch descent with ``optimizer``),
            ``"sgd"`` (W moved to the data) or ``"parallel_sgd"`` (averaging).
        n_columns: score columns ``C`` (default: from the loss and ``y``).
        W0: initial weights (default: zeros for full batch, small random ones from ``rng`` for
            SGD).
        learning_rate: for ``"gd"`` (default 0.1) and the SGD methods (default 0.01) when no
            ``optimizer`` is given.
        max_iter: iterations of ``"gd"`` and ``"lbfgs"``.
        tol: the stopping tolerance of ``"gd"`` and ``"lbfgs"`` (default 0 and 1e-6).
        batch_size: the mini-batch size of the SGD methods.
        epochs: the passes over the data of the SGD methods.
        rng: the generator of the SGD methods (required there).
        client: a ``distributed.Client``, ``"local:N"``, ``"tcp://HOST:PORT"`` or ``None``
            (the current default client).
        cache: see :class:`DaskObjective`.
        chunk_rows: see ``cache``.
        callback: see :func:`gradient_descent` and :func:`sgd`.
        progress: see ``callback``.

    The persisted chunks are released when it returns.

    It runs on a ``distributed.Client`` (``client=`` or the current default one); without one
    it says how to get one:

    Examples:
        >>> import dask.array as da
        >>> fit(da.ones((4, 2), chunks=2), np.array([0, 1, 0, 1]))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
            ...
        ValueError: client: expected a distributed.Client (client=...) or a ru...
    """
    if solver not in SOLVERS:
        fail("solver", f"one of {list(SOLVERS)}", repr(solver))
    if solver in ("sgd", "parallel_sgd") and not isinstance(rng, np.random.Generator):
        fail(
            "rng", f"a numpy.random.Generator for solver={solver!r}", type(rng).__name__, TypeError
        )
    losses.spec(loss)
    objective = DaskObjective(
        loss,
        X,
        y,
        regularizer=regularizer,
        lam=lam,
        sample_weight=sample_weight,
        client=client,
        cache=cache,
        chunk_rows=chunk_rows,
        **loss_params,
    )
    with objective:
        C = n_columns_of(objective) if n_columns is None else check_int("n_columns", n_columns)
        # the SGD solvers' rng was checked above
        if solver in ("sgd", "parallel_sgd") and isinstance(rng, np.random.Generator):
            if W0 is None:
                W0 = init_weights(objective.n_features, C, rng=rng, dtype=objective.dtype)
            return sgd(
                objective,
                W0,
                rng=rng,
                optimizer=optimizer,
                learning_rate=0.01 if learning_rate is None else learning_rate,
                batch_size=batch_size,
                epochs=epochs,
                parallel=solver == "parallel_sgd",
                callback=callback,
                progress=progress,
            )
        if W0 is None:
            W0 = np.zeros((objective.n_features + 1, C), dtype=objective.dtype)
        if solver == "lbfgs":
            return lbfgs(
                objective,
                W0,
                max_iter=max_iter,
                tol=1e-6 if tol is None else tol,
                callback=callback,
                progress=progress,
            )
        return gradient_descent(
            objective,
            W0,
            optimizer=optimizer,
            learning_rate=0.1 if learning_rate is None else learning_rate,
            max_iter=max_iter,
            tol=0.0 if tol is None else tol,
            callback=callback,
            progress=progress,
        )
