"""The loop: advance one epoch, then run the callbacks; and :func:`fit`, which sets it up.

while state.epoch < epochs and state.stop is None:
    logs = evaluate(state, runner.run_epoch(state))
    state.history += logs;  state.epoch += 1
    for cb in callbacks: cb.after_epoch(state, logs)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from lingrad import grad, optim
from lingrad._array_api import copy, numpy_dtype, to_numpy
from lingrad._validation import check_int, check_positive, check_weights, fail
from lingrad.model import init_weights
from lingrad.objective import Objective
from lingrad.optim import Optimizer
from lingrad.train import callbacks as cb
from lingrad.train.diagnostics import chance_loss
from lingrad.train.diagnostics import diagnose as diagnose_run
from lingrad.train.evaluation import Evaluation, validation_objective
from lingrad.train.faults import fault_point
from lingrad.train.runners import Runner, runner_for
from lingrad.train.state import EPOCH_KEYS, FitResult, TrainState
from lingrad.train.weights import weighted_objective


def run(
    state: TrainState,
    runner: Runner,
    *,
    epochs: int,
    evaluate: Callable[[TrainState, dict[str, float]], dict[str, float]],
    callbacks: Sequence[cb.Callback] = (),
) -> TrainState:
    """Advance ``state`` epoch by epoch up to ``epochs`` (or until a stop): the runner's
    epoch, the evaluation ``evaluate(state, runner_logs) -> logs`` into the history, then each
    callback's ``after_epoch(state, logs)``; every callback's ``close`` at the end.

    Examples:
        >>> from lingrad.optim import SGD
        >>> from lingrad.train.evaluation import RunnerLogs
        >>> class Halve:
        ...     def run_epoch(self, state):
        ...         state.W = state.W / 2
        ...         return {"loss": float(state.W.sum())}
        >>> W = np.ones((2, 1))
        >>> s = TrainState(W, SGD(0.1).init(W), np.random.default_rng(0))
        >>> s = run(s, Halve(), epochs=3, evaluate=RunnerLogs(SGD(0.1)))
        >>> s.epoch, s.history["loss"]
        (3, [1.0, 0.5, 0.25])
    """
    try:
        while state.epoch < epochs and state.stop is None:
            logs = evaluate(state, runner.run_epoch(state))
            history = state.history
            for key in EPOCH_KEYS:
                history[key].append(float(logs[key]))
            state.epoch += 1
            fault_point("epoch")
            for callback in callbacks:
                callback.after_epoch(state, logs)
    finally:
        for callback in callbacks:
            callback.close(state)
    return state


def result_of(
    state: TrainState,
    *,
    early_stopping: bool = False,
    chance_loss: float | None = None,
    search: bool = False,
    diagnose: bool = True,
) -> FitResult:
    """The :class:`FitResult` of a finished state (the best weights under early stopping);
    ``chance_loss`` (the loss of ``W = 0``) lets the diagnosis compare the final loss with it;
    ``search``: the optimiser was a search (advice on its budget, not a learning rate);
    ``diagnose=False``: no diagnosis (``diagnostics`` left ``{}``).

    Examples:
        >>> s = TrainState(np.zeros((2, 1)), None, np.random.default_rng(0), epoch=2)
        >>> result_of(s).n_epochs
        2
    """
    if early_stopping:
        cb.EarlyStopping.restore(state)
    return FitResult(
        W=state.W,
        history=state.history,
        step_history=state.steps,
        n_iter=state.iteration,
        n_epochs=state.epoch,
        n_evaluations=state.evaluations,
        stop=state.stop,
        best_epoch=state.best.epoch if early_stopping else None,
        diagnostics=(
            diagnose_run(state.history, state.stop, chance_loss=chance_loss, search=search)
            if diagnose
            else {}
        ),
        trajectory=None
        if state.trajectory is None
        else np.stack([to_numpy(w) for w in state.trajectory]),
    )


def _check(objective, optimizer, n_columns, epochs, rng, batch_size, options) -> tuple:
    """Check :func:`fit`'s arguments; return ``(n_columns, epochs, batch_size)``."""
    if not isinstance(objective, Objective):
        fail("objective", "a lingrad.Objective", type(objective).__name__, TypeError)
    reads = optim.check_reads(optimizer)
    n_columns = check_int("n_columns", n_columns)
    epochs = check_int("epochs", epochs)
    if not isinstance(rng, np.random.Generator):
        fail("rng", "a numpy.random.Generator", type(rng).__name__, TypeError)
    N = objective.n_samples
    batch_size = N if batch_size is None else check_int("batch_size", batch_size)
    if batch_size > N:
        fail("batch_size", f"at most the number of examples ({N})", batch_size)
    if reads == "value" and batch_size < N:  # keep-the-best compares values of one batch
        fail(
            "batch_size",
            f"the full batch ({N}) for a search optimiser: search compares "
            "objective values, which must come from one fixed batch",
            batch_size,
        )
    check_int("patience", options["patience"], minimum=0)
    check_positive("min_delta", options["min_delta"], allow_zero=True)
    check_int("checkpoint_every", options["checkpoint_every"])
    if options["max_evaluations"] is not None:
        check_int("max_evaluations", options["max_evaluations"])
    for every in ("trajectory_every", "evaluate_every"):
        if options[every] is not None:
            check_int(every, options[every])
    check_positive("divergence_factor", options["divergence_factor"])
    check_positive("max_grad_norm", options["max_grad_norm"])
    callbacks = options["callbacks"]
    sequence = type(callbacks) in (list, tuple) or isinstance(callbacks, Sequence)
    if not sequence or not all(callable(f) for f in callbacks):
        fail("callbacks", "a sequence of callables cb(epoch, logs, W)", repr(callbacks), TypeError)
    if options["early_stopping"] and options["validation"] is None:
        fail("validation", "(X_val, y_val) when early_stopping is on", None)
    grad.get(options["gradient"])
    return n_columns, epochs, batch_size


def initial_state(
    objective: Objective,
    optimizer: Optimizer,
    n_columns: int,
    W0: ArrayLike | None,
    rng: np.random.Generator,
) -> TrainState:
    """The state before the first epoch: ``W0`` (checked, in X's dtype, copied) or small
    random weights from ``rng``, and ``optimizer.init(W)``.

    Examples:
        >>> from lingrad.optim import SGD
        >>> J = Objective("softmax", np.eye(2), [0, 1])
        >>> initial_state(J, SGD(0.1), 2, None, np.random.default_rng(0)).W.shape
        (3, 2)
    """
    dtype = numpy_dtype(objective.dtype)  # not objective.X: that read checks X (a pass)
    if W0 is None:
        W = init_weights(objective.n_features, n_columns, rng=rng, dtype=dtype)
    else:
        if objective.xp is not np:
            objective.check_weights(W0)  # refuses W0 of another library or device than X
        W = check_weights(to_numpy(W0), objective.n_features, name="W0")
        if W.shape[1] != n_columns:
            fail("W0", f"shape ({objective.n_features + 1}, {n_columns})", f"shape {W.shape}")
        W = W.astype(dtype, copy=True)
    if objective.xp is not np:  # W follows X to its array library and device
        W = objective.check_weights(W)
    return TrainState(W, optimizer.init(W), rng)


def _callbacks(optimizer, options, validation, epochs, start) -> list[cb.Callback]:
    """The callbacks of :func:`fit`, in their order."""
    out: list[cb.Callback] = [cb.ObservePlateau(optimizer, validation=validation is not None)]
    if options["early_stopping"]:
        out.append(cb.EarlyStopping(options["patience"], options["min_delta"]))
    if options["callbacks"]:  # (none: no per-epoch call)
        out.append(cb.UserCallbacks(options["callbacks"]))
    if options["trajectory_every"] is not None:
        out.append(cb.Trajectory(every=options["trajectory_every"], epochs=epochs))
    bar = cb.ProgressBar(options["verbose"], epochs, start)
    if bar.bar is not None:  # shown (verbose, on a terminal)
        out.append(bar)
    if options["checkpoint_dir"] is not None:
        every = options["checkpoint_every"]
        out.append(cb.Checkpoint(options["checkpoint_dir"], optimizer, every=every, epochs=epochs))
    return out


def fit(
    objective: Objective,
    optimizer: Optimizer,
    *,
    n_columns: int,
    W0: np.ndarray | None = None,
    epochs: int,
    batch_size: int | None = None,
    rng: np.random.Generator,
    gradient: str = "analytic",
    validation: tuple[ArrayLike, ArrayLike] | None = None,
    early_stopping: bool = False,
    patience: int = 10,
    min_delta: float = 0.0,
    class_weight: dict[int, float] | str | None = None,
    sample_weight: ArrayLike | None = None,
    callbacks: Sequence[Callable[..., Any]] = (),
    checkpoint_dir: str | Path | None = None,
    checkpoint_every: int = 1,
    resume: str | Path | None = None,
    max_evaluations: int | None = None,
    divergence_factor: float = 100.0,
    max_grad_norm: float = 1e8,
    verbose: int = 0,
    trajectory_every: int | None = None,
    evaluate_every: int | None = None,
    diagnose: bool = True,
) -> FitResult:
    """Minimise ``objective`` with ``optimizer``; return the weights, histories and diagnostics.

    Args:
        objective: the :class:`~lingrad.objective.Objective` (training data, loss, regulariser).
        optimizer: a gradient optimiser (``SGD``, ``GradientDescent``, ``Adam``) or a search
            optimiser (``RandomSearch``, ``RandomLocalSearch``, ``GeneticSearch``); see
            :func:`lingrad.optim.get`.
        n_columns: the number of score columns ``C`` (1 for a binary model).
        W0: initial weights ``(D + 1, C)``; small random ones from ``rng`` by default.
        epochs: passes over the data, ``>= 1``.
        batch_size: examples per step, ``1 <= batch_size <= N``; ``None`` (default) is N, i.e.
            full batch, with no shuffling (see :mod:`lingrad.train.runners`).
        rng: the generator for the initial weights, the shuffles and the search optimisers.
        gradient: a method name of :func:`lingrad.grad.get` (``"analytic"``, ``"numerical"``...).
        validation: ``(X_val, y_val)``, evaluated after every epoch.
        early_stopping: watch the validation loss; an epoch improves when it is lower than
            the best so far by more than ``min_delta``. ``patience >= 0`` epochs without
            improvement are tolerated, the next one stops the run (``patience=0`` stops at the
            first); the weights of the best epoch are restored. Needs ``validation``.
        class_weight: ``{label: weight}`` or ``"balanced"``; multiplies each example's weight by
            its class's. ``sample_weight``: per-example weights ``(N,)``. Both become the
            objective's ``sample_weight`` (a weighted mean).
        callbacks: callables ``cb(epoch, logs, W)`` run after each epoch (``logs``: that
            epoch's history entries); a truthy return stops the run.
        checkpoint_dir: write ``checkpoint.npz`` (the :class:`TrainState`) there every
            ``checkpoint_every`` epochs and at the end (atomically: temp file + rename).
        resume: a checkpoint file (or a folder holding ``checkpoint.npz``) to continue from;
            with the same arguments the result equals the uninterrupted run bit for bit.
        max_evaluations: stop once this many objective evaluations are spent (compare methods
            at an equal budget).
        divergence_factor: the divergence guard stops the run when a batch loss is NaN/inf
            or exceeds ``divergence_factor`` times the first batch loss (and 1) ...
        max_grad_norm: ... or when ``||g||`` is not finite or exceeds ``max_grad_norm``.
        verbose: ``> 0`` shows a Rich progress bar on stderr when it is a terminal.
        trajectory_every: keep ``W0`` and then ``W`` every this many epochs and after the last
            one in :attr:`FitResult.trajectory` (saved in the checkpoints: a resumed run keeps
            it); ``None`` (default) keeps none.
        evaluate_every: make a full pass over the training data after every this many epochs
            (the history's ``loss`` is then ``J(W)`` at the epoch's end and
            ``train_accuracy`` is filled); ``None`` (default): no pass of its own, the epoch's
            ``loss`` is the mean of its step losses (free) and ``train_accuracy`` is ``nan``.
        diagnose: fill :attr:`FitResult.diagnostics` (:func:`lingrad.train.diagnose`, with the
            chance loss); ``False`` leaves it ``{}`` for a caller that does not read it (the
            estimators: a small fit's fixed cost).

    Returns:
        a :class:`FitResult`; its ``stop`` says why it ended early (a :class:`Stop`).

    Examples:
        >>> from lingrad.optim import SGD
        >>> X = np.array([[1.0, 1.0], [2.0, 1.0], [-1.0, -1.0], [-2.0, -1.0]])
        >>> J = Objective("softmax", X, [0, 0, 1, 1])
        >>> r = fit(J, SGD(0.5), n_columns=2, epochs=50, rng=np.random.default_rng(0),
        ...         evaluate_every=10)
        >>> accuracy = r.history["train_accuracy"]
        >>> accuracy[-1], r.n_iter, r.stop
        (1.0, 50, None)
    """
    options = dict(locals())
    n_columns, epochs, batch_size = _check(
        objective, optimizer, n_columns, epochs, rng, batch_size, options
    )
    objective = weighted_objective(objective, n_columns, class_weight, sample_weight)
    objective.targets(n_columns)
    val = validation_objective(objective, validation, n_columns)
    state = initial_state(objective, optimizer, n_columns, W0, rng)
    if trajectory_every is not None:
        state.trajectory = [copy(state.W)]
    if resume is not None:
        state = TrainState.load(resume, state, optimizer)
    runner = runner_for(
        objective,
        optimizer,
        batch_size=batch_size,
        gradient=gradient,
        guard=cb.DivergenceGuard(divergence_factor, max_grad_norm),
        max_evaluations=max_evaluations,
    )
    with runner.threads(n_columns):
        run(
            state,
            runner,
            epochs=epochs,
            evaluate=Evaluation(objective, val, n_columns, optimizer, evaluate_every),
            callbacks=_callbacks(optimizer, options, val, epochs, state.epoch),
        )
    if not diagnose:
        return result_of(state, early_stopping=early_stopping, diagnose=False)
    chance = chance_loss(objective, n_columns)
    search = getattr(optimizer, "reads", None) == "value"
    return result_of(state, early_stopping=early_stopping, chance_loss=chance, search=search)


def sgd(
    objective: Objective,
    n_columns: int,
    *,
    W0: np.ndarray | None = None,
    learning_rate: float = 0.1,
    decay: float = 0.95,
    batch_size: int = 200,
    epochs: int = 20,
    rng: np.random.Generator,
) -> FitResult:
    """Mini-batch SGD with the rate decayed once per epoch, ``alpha_e = alpha_0 * decay^e``.

    Kept from the first version of lingrad; it is :func:`fit` with
    ``SGD(exponential(learning_rate, decay, steps_per_epoch, staircase=True))``.

    Examples:
        >>> X = np.array([[0.0, 0.0], [0.1, 0.3], [2.0, 2.0], [2.2, 1.8]])
        >>> obj = Objective("softmax", X, np.array([0, 0, 1, 1]))
        >>> r = sgd(obj, 2, learning_rate=0.5, batch_size=2, epochs=5, rng=np.random.default_rng(0))
        >>> r.W.shape, r.n_iter, r.history["loss"][-1] < r.history["loss"][0]
        ((3, 2), 10, True)
    """
    from lingrad.optim import SGD
    from lingrad.optim.schedules import exponential

    N = objective.n_samples
    batch_size = check_int("batch_size", batch_size)
    steps_per_epoch = -(-N // min(batch_size, N))
    schedule = exponential(learning_rate, decay, steps_per_epoch, staircase=True)
    return fit(
        objective,
        SGD(schedule),
        n_columns=n_columns,
        W0=W0,
        epochs=epochs,
        batch_size=batch_size,
        rng=rng,
    )
