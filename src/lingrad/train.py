"""The training loop: :func:`fit` minimises an objective with any optimiser.

Each epoch visits the examples in a fresh random order (one permutation per epoch, then
contiguous slices of it as mini-batches of ``batch_size``; ``batch_size = N`` is full-batch
gradient descent) and takes one optimiser step per batch:

    gradient optimisers:  g = dJ_batch/dW(W);  step, state = opt.update(g, state, W)
    search optimisers:    step, state = opt.update(None, state, W, value_fn=J_batch, rng=rng)
    W <- W + step

and after each epoch ``state = opt.observe(state, watched loss)``.

where ``J_batch`` is the objective's (weighted) mean over the batch plus ``lam R(W)``.

Around that step the loop keeps a per-step and a per-epoch history, calls callbacks, stops
early on the validation loss (restoring the best weights), guards against divergence (a NaN or
infinite loss, a loss grown ``divergence_factor`` times its first value, or an exploding
gradient end the run with a message naming the likely cause; the last good weights are kept),
writes checkpoints atomically and resumes from them bit for bit, and shows a Rich progress bar
on a terminal. At the end it diagnoses convergence (still falling? oscillating? flat?).
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lingrad import grad as _grad
from lingrad import optim, runs
from lingrad._validation import check_int, check_positive, check_weights, fail
from lingrad.model import init_weights, predict_from_scores
from lingrad.objective import Objective

EPOCH_KEYS = ("loss", "val_loss", "train_accuracy", "val_accuracy", "learning_rate", "grad_norm")
STEP_KEYS = ("loss", "learning_rate", "grad_norm", "evaluations")
CHECKPOINT_VERSION = 2


@dataclass
class FitResult:
    """What :func:`fit` returns.

    Attributes:
        W: the final weights ``(D + 1, C)`` in X's dtype (the best ones under early stopping,
            the last good ones after a divergence).
        history: per-epoch lists keyed by :data:`EPOCH_KEYS`: ``loss`` (the full training
            objective at the end of the epoch), ``val_loss``, ``train_accuracy``,
            ``val_accuracy``, ``learning_rate`` (of the epoch's last step) and ``grad_norm``
            (mean ``||dJ_batch/dW||`` over the epoch's steps). ``nan`` where not defined (no
            validation set, a search optimiser's gradient, a regression loss's accuracy).
        step_history: per-step lists keyed by :data:`STEP_KEYS`: the batch objective the step
            saw, its learning rate, its gradient norm, and the objective evaluations so far.
        n_iter: optimiser steps taken.
        n_epochs: epochs run (the last one possibly cut short).
        n_evaluations: objective evaluations (one per gradient step; as counted by a search
            optimiser's state).
        stopped: why the run ended before ``epochs`` (``None`` if it ran them all).
        best_epoch: the epoch (0-based) whose weights were restored by early stopping.
        diagnostics: see :func:`diagnose`.

    Examples:
        >>> import numpy as np
        >>> from lingrad.objective import Objective
        >>> from lingrad.optim import SGD
        >>> X = np.array([[0.0, 0.0], [0.1, 0.3], [2.0, 2.0], [2.2, 1.8]])
        >>> obj = Objective("softmax", X, np.array([0, 0, 1, 1]))
        >>> rng = np.random.default_rng(0)
        >>> r = fit(obj, SGD(0.5), n_classes=2, epochs=3, batch_size=4, rng=rng)
        >>> r.W.shape, r.n_epochs, r.n_iter, len(r.history["loss"])
        ((3, 2), 3, 3, 3)
    """

    W: np.ndarray
    history: dict[str, list[float]]
    step_history: dict[str, list[float]]
    n_iter: int
    n_epochs: int
    n_evaluations: int
    stopped: str | None = None
    best_epoch: int | None = None
    diagnostics: dict = field(default_factory=dict)


# ------------------------------------------------------------------------------------------
# Input checks
# ------------------------------------------------------------------------------------------


def _check_optimizer(optimizer) -> str:
    return optim.check_reads(optimizer)


def _class_weights(class_weight, labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Per-class weights ``(C,)`` from a dict ``{label: weight}`` or ``"balanced"``
    (``N / (C * count_k)``, scikit-learn's rule)."""
    counts = np.bincount(labels, minlength=n_classes)
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            fail("class_weight", "'balanced' or a dict {label: weight}", repr(class_weight))
        return np.where(counts > 0, labels.size / (n_classes * np.maximum(counts, 1)), 0.0)
    if not isinstance(class_weight, dict):
        fail("class_weight", "'balanced' or a dict {label: weight}", type(class_weight).__name__)
    weights = np.ones(n_classes)
    for label, w in class_weight.items():
        if not isinstance(label, int | np.integer) or not 0 <= label < n_classes:
            fail("class_weight", f"labels in [0, {n_classes})", repr(label))
        weights[label] = check_positive(f"class_weight[{label}]", w, allow_zero=True)
    return weights


def _weighted(objective: Objective, n_classes, class_weight, sample_weight) -> Objective:
    """The objective with ``sample_weight * class_weight[y]`` as its example weights."""
    if class_weight is None and sample_weight is None:
        return objective
    N = objective.n_samples
    w = np.ones(N) if objective.sample_weight is None else objective.sample_weight.copy()
    if sample_weight is not None:
        from lingrad.losses import check_sample_weight

        w = w * check_sample_weight(sample_weight, N)
    if class_weight is not None:
        if objective.loss_spec.task != "classification":
            fail("class_weight", "a classification loss", objective.loss_spec.name)
        labels = _labels(objective, n_classes)
        if labels is None:
            fail("class_weight", "integer class labels", "probability targets")
        w = w * _class_weights(class_weight, labels, max(n_classes, 2))[labels]
    return Objective(
        objective.loss_spec.name,
        objective.X,
        objective.y,
        regularizer=objective.regularizer,
        lam=objective.lam,
        sample_weight=w,
        **objective.loss_params,
    )


def _labels(objective: Objective, n_classes: int) -> np.ndarray | None:
    """Integer labels for accuracy (``None`` for a regression loss)."""
    if objective.loss_spec.task != "classification":
        return None
    T = objective.targets(n_classes)
    if T.ndim == 1:
        return T.astype(np.intp, copy=False)
    if n_classes == 1:
        return (T[:, 0] >= 0.5).astype(np.intp)
    return np.argmax(T, axis=1)


def _validation_objective(objective: Objective, validation, n_classes) -> Objective | None:
    if validation is None:
        return None
    if not isinstance(validation, tuple | list) or len(validation) != 2:
        fail("validation", "a pair (X_val, y_val)", type(validation).__name__, TypeError)
    X_val, y_val = validation
    val = Objective(
        objective.loss_spec.name,
        X_val,
        y_val,
        regularizer=objective.regularizer,
        lam=objective.lam,
        **objective.loss_params,
    )
    if val.n_features != objective.n_features:
        fail("validation", f"X_val with {objective.n_features} features", val.n_features)
    if val.X.dtype != objective.X.dtype:
        val.X = val.X.astype(objective.X.dtype)
    val.targets(n_classes)
    return val


def _evaluate(W: np.ndarray, objective: Objective, labels: np.ndarray | None):
    """``(J(W), accuracy)`` from one pass over the objective's data (the scores serve both)."""
    value, S = objective.evaluate(W)
    if labels is None:
        return value, math.nan
    return value, float(np.mean(predict_from_scores(S) == labels))


#: A mini-batch step of at most this many elements of X (rows x features) runs BLAS on one
#: thread: below it, waking a second thread costs more than it saves (see benchmarks/).
SINGLE_THREAD_ELEMENTS = 2**20
_CONTROLLER = None


def _blas_threads(batch_rows: int, n_features: int):
    """A context that limits BLAS to one thread for small batches (a no-op for large ones).

    Chosen once per epoch, not per step; the threadpoolctl controller is built once."""
    global _CONTROLLER
    if batch_rows * n_features > SINGLE_THREAD_ELEMENTS:
        return contextlib.nullcontext()
    if _CONTROLLER is None:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=1, user_api="blas")


# ------------------------------------------------------------------------------------------
# Optimiser and schedule state <-> checkpoint
# ------------------------------------------------------------------------------------------


def _pack_state(state) -> tuple[dict[str, np.ndarray], dict]:
    """A state as arrays (``opt.<field path>``) and JSON scalars."""
    arrays, scalars = optim.state_to_arrays(state)
    return {f"opt.{k}": v for k, v in arrays.items()}, scalars


def _unpack_state(template, arrays: dict, scalars: dict):
    ours = {k[len("opt.") :]: v for k, v in arrays.items() if k.startswith("opt.")}
    return optim.state_from_arrays(template, ours, scalars)


def _resolve_checkpoint(resume) -> Path:
    path = Path(resume)
    if path.is_dir():
        path = path / runs.CHECKPOINT
    if not path.is_file():
        raise FileNotFoundError(f"resume: no checkpoint at {path}")
    return path


# ------------------------------------------------------------------------------------------
# Diagnostics
# ------------------------------------------------------------------------------------------


def diagnose(history: dict, stopped: str | None = None, *, window: int = 5) -> dict:
    """Convergence diagnostics from a per-epoch history and the reason a run stopped.

    * ``still_falling``: the training loss fell by more than 0.5 % over the last ``window``
      epochs: more epochs (or a larger learning rate) would help;
    * ``oscillating``: the loss rose in at least a quarter of the epochs: the learning rate is
      probably too high (lower it, or use a decaying schedule);
    * ``flat``: the loss fell by less than 1 % over the whole run: the learning rate is
      probably too low (or the model is already at a minimum);
    * ``diverged``: the run stopped on the divergence guard.

    Returns a JSON-ready dict with those booleans, the relative drops and ``advice``, a list of
    sentences.

    Examples:
        >>> d = diagnose({"loss": [2.3, 1.0, 0.9, 0.8, 0.7, 0.6, 0.5]})
        >>> advice = d["advice"]
        >>> d["still_falling"], d["oscillating"], advice[0].startswith("the loss is still falling")
        (True, False, True)
    """
    loss = [v for v in history.get("loss", []) if v is not None and math.isfinite(v)]
    diverged = bool(stopped and stopped.startswith("diverged"))
    out = {
        "epochs": len(loss),
        "diverged": diverged,
        "still_falling": False,
        "oscillating": False,
        "flat": False,
        "total_drop": math.nan,
        "recent_drop": math.nan,
        "advice": [],
    }
    if diverged:
        out["advice"].append(
            "the run diverged: lower the learning rate, or standardise the features"
        )
    if len(loss) < 2:
        return out
    first, last = loss[0], loss[-1]
    k = min(window, len(loss) - 1)
    ref = loss[-1 - k]
    out["total_drop"] = (first - last) / max(abs(first), 1e-12)
    out["recent_drop"] = (ref - last) / max(abs(ref), 1e-12)
    rises = sum(b > a * (1 + 1e-9) for a, b in itertools.pairwise(loss))
    out["oscillating"] = rises >= max(1, (len(loss) - 1) / 4)
    out["still_falling"] = out["recent_drop"] > 5e-3 and not out["oscillating"]
    out["flat"] = out["total_drop"] < 1e-2 and not diverged
    if out["still_falling"]:
        out["advice"].append(
            "the loss is still falling at the end: train for more epochs "
            "(or raise the learning rate)"
        )
    if out["oscillating"]:
        out["advice"].append(
            "the loss goes up and down between epochs: the learning rate is probably too high "
            "(lower it or use a decaying schedule)"
        )
    if out["flat"]:
        out["advice"].append(
            "the loss barely moved: the learning rate is probably too low "
            "(or the weights started at a minimum)"
        )
    if not out["advice"]:
        out["advice"].append("converged: the loss has levelled off")
    return out


# ------------------------------------------------------------------------------------------
# Progress bar
# ------------------------------------------------------------------------------------------


class _Progress:
    """A Rich progress bar on stderr, only on a terminal and with ``verbose > 0``."""

    def __init__(self, verbose: int, epochs: int, start: int):
        self.bar = None
        if verbose > 0 and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

            self.bar = Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=False,
            )
            self.bar.start()
            self.task = self.bar.add_task("training", total=epochs, completed=start)

    def update(self, logs: dict) -> None:
        if self.bar is None:
            return
        text = f"loss {logs['loss']:.4f}"
        if math.isfinite(logs["val_accuracy"]):
            text += f" val acc {logs['val_accuracy']:.4f}"
        self.bar.update(self.task, advance=1, description=text)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


# ------------------------------------------------------------------------------------------
# The loop
# ------------------------------------------------------------------------------------------


def fit(
    objective: Objective,
    optimizer,
    *,
    n_classes: int,
    W0: np.ndarray | None = None,
    epochs: int,
    batch_size: int | None = None,
    rng: np.random.Generator,
    gradient: str = "analytic",
    validation: tuple | None = None,
    early_stopping: bool = False,
    patience: int = 10,
    min_delta: float = 0.0,
    class_weight: dict | str | None = None,
    sample_weight=None,
    callbacks: Sequence[Callable] = (),
    checkpoint_dir=None,
    checkpoint_every: int = 1,
    resume=None,
    max_evaluations: int | None = None,
    divergence_factor: float = 100.0,
    max_grad_norm: float = 1e8,
    verbose: int = 0,
) -> FitResult:
    """Minimise ``objective`` with ``optimizer``; return the weights, histories and diagnostics.

    Args:
        objective: the :class:`~lingrad.objective.Objective` (training data, loss, regulariser).
        optimizer: a gradient optimiser (``SGD``, ``GradientDescent``, ``Adam``) or a search
            optimiser (``RandomSearch``, ``RandomLocalSearch``, ``GeneticSearch``); see
            :func:`lingrad.optim.get`.
        n_classes: the number of score columns ``C`` (1 for a binary model).
        W0: initial weights ``(D + 1, C)``; small random ones from ``rng`` by default.
        epochs: passes over the data, ``>= 1``.
        batch_size: examples per step, ``1 <= batch_size <= N``; ``None`` (default) is N, i.e.
            full batch, with no shuffling.
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
        checkpoint_dir: write ``checkpoint.npz`` there every ``checkpoint_every`` epochs and at
            the end (atomically: temp file + rename).
        resume: a checkpoint file (or a folder holding ``checkpoint.npz``) to continue from;
            with the same arguments the result equals the uninterrupted run bit for bit.
        max_evaluations: stop once this many objective evaluations are spent (compare methods
            at an equal budget).
        divergence_factor: the divergence guard stops the run when a batch loss is NaN/inf
            or exceeds ``divergence_factor`` times the first batch loss (and 1) ...
        max_grad_norm: ... or when ``||g||`` is not finite or exceeds ``max_grad_norm``.
        verbose: ``> 0`` shows a Rich progress bar on stderr when it is a terminal.

    Returns:
        a :class:`FitResult`.

    Examples:
        >>> from lingrad.optim import SGD
        >>> X = np.array([[1.0, 1.0], [2.0, 1.0], [-1.0, -1.0], [-2.0, -1.0]])
        >>> J = Objective("softmax", X, [0, 0, 1, 1])
        >>> r = fit(J, SGD(0.5), n_classes=2, epochs=50, rng=np.random.default_rng(0))
        >>> accuracy = r.history["train_accuracy"]
        >>> accuracy[-1], r.n_iter, r.stopped
        (1.0, 50, None)
    """
    if not isinstance(objective, Objective):
        fail("objective", "a lingrad.Objective", type(objective).__name__, TypeError)
    reads = _check_optimizer(optimizer)
    n_classes = check_int("n_classes", n_classes)
    epochs = check_int("epochs", epochs)
    if not isinstance(rng, np.random.Generator):
        fail("rng", "a numpy.random.Generator", type(rng).__name__, TypeError)
    N = objective.n_samples
    batch_size = N if batch_size is None else check_int("batch_size", batch_size)
    if batch_size > N:
        fail("batch_size", f"at most the number of examples ({N})", batch_size)
    patience = check_int("patience", patience, minimum=0)
    min_delta = check_positive("min_delta", min_delta, allow_zero=True)
    checkpoint_every = check_int("checkpoint_every", checkpoint_every)
    if max_evaluations is not None:
        max_evaluations = check_int("max_evaluations", max_evaluations)
    divergence_factor = check_positive("divergence_factor", divergence_factor)
    max_grad_norm = check_positive("max_grad_norm", max_grad_norm)
    if not isinstance(callbacks, Sequence) or not all(callable(cb) for cb in callbacks):
        fail("callbacks", "a sequence of callables cb(epoch, logs, W)", repr(callbacks), TypeError)
    if early_stopping and validation is None:
        fail("validation", "(X_val, y_val) when early_stopping is on", None)

    objective = _weighted(objective, n_classes, class_weight, sample_weight)
    objective.targets(n_classes)
    val = _validation_objective(objective, validation, n_classes)
    train_labels = _labels(objective, n_classes)
    val_labels = None if val is None else _labels(val, n_classes)
    method = _grad.get(gradient)  # checked for every optimiser, used by gradient ones
    grad_fn = method(objective) if reads == "gradient" else None
    if gradient == "analytic":  # the same function, minus the per-step checks of W
        grad_fn = functools.partial(objective.value_and_grad_unchecked, out=None)

    if W0 is None:
        W = init_weights(objective.n_features, n_classes, rng=rng, dtype=objective.X.dtype)
    else:
        W = check_weights(W0, objective.n_features, name="W0")
        if W.shape[1] != n_classes:
            fail("W0", f"shape ({objective.n_features + 1}, {n_classes})", f"shape {W.shape}")
        W = W.astype(objective.X.dtype, copy=True)
    state = optimizer.init(W)
    history = {key: [] for key in EPOCH_KEYS}
    steps = {key: [] for key in STEP_KEYS}
    start_epoch = n_iter = evaluations = wait = 0
    best_loss, best_W, best_epoch = math.inf, None, None
    first_loss, stopped, W_prev = None, None, None

    if resume is not None:
        arrays = runs.load_npz(_resolve_checkpoint(resume))
        meta = json.loads(str(arrays.pop("meta")))
        if meta.get("version") != CHECKPOINT_VERSION:
            fail("resume", f"a checkpoint of version {CHECKPOINT_VERSION}", meta.get("version"))
        if arrays["W"].shape != W.shape or arrays["W"].dtype != W.dtype:
            fail("resume", f"a checkpoint with W {W.shape} {W.dtype}", arrays["W"].shape)
        if meta["optimizer_type"] != type(optimizer).__name__:
            fail("resume", f"a checkpoint of {type(optimizer).__name__}", meta["optimizer_type"])
        W = arrays["W"]
        best_W = arrays.get("best_W")
        state = _unpack_state(state, arrays, meta["optimizer"])
        rng.bit_generator.state = meta["rng"]
        history, steps = meta["history"], meta["step_history"]
        start_epoch, n_iter, evaluations = meta["epoch"], meta["n_iter"], meta["evaluations"]
        wait, best_loss, best_epoch = meta["wait"], meta["best_loss"], meta["best_epoch"]
        first_loss, stopped = meta["first_loss"], meta["stopped"]

    def save_checkpoint(epoch_done: int) -> None:
        opt_arrays, opt_scalars = _pack_state(state)
        meta = {
            "version": CHECKPOINT_VERSION,
            "epoch": epoch_done,
            "n_iter": n_iter,
            "evaluations": evaluations,
            "rng": rng.bit_generator.state,
            "optimizer": opt_scalars,
            "optimizer_type": type(optimizer).__name__,
            "history": history,
            "step_history": steps,
            "wait": wait,
            "best_loss": best_loss,
            "best_epoch": best_epoch,
            "first_loss": first_loss,
            "stopped": stopped,
        }
        arrays = {"W": W, **opt_arrays, "meta": np.array(json.dumps(meta))}
        if best_W is not None:
            arrays["best_W"] = best_W
        runs.save_npz(Path(checkpoint_dir) / runs.CHECKPOINT, arrays)

    def value_fn(rows):
        return lambda V: objective.value_and_grad_unchecked(V, rows, need_grad=False, out=buffer)[0]

    # One gather buffer for the shuffled mini-batches, reused by every step of every epoch.
    buffer = None
    if batch_size < N:
        buffer = np.empty((batch_size, objective.n_features), dtype=objective.X.dtype)
        if gradient == "analytic":
            grad_fn = functools.partial(objective.value_and_grad_unchecked, out=buffer)

    progress = _Progress(verbose, epochs, start_epoch)
    epoch = start_epoch
    try:
        while epoch < epochs and stopped is None:
            if batch_size >= N:
                batches = [None]
            else:
                order = rng.permutation(N)
                batches = [order[s : s + batch_size] for s in range(0, N, batch_size)]
            norms = []
            with _blas_threads(min(batch_size, N), objective.n_features):
                for rows in batches:
                    rate = optimizer.rate(state)
                    if reads == "gradient":
                        value, g = grad_fn(W, rows)
                        gnorm = float(np.sqrt(np.vdot(g, g)))
                        evaluations += 1
                        first_loss = value if first_loss is None else first_loss
                        problem = _divergence(
                            value, gnorm, first_loss, divergence_factor, max_grad_norm
                        )
                        if problem:
                            stopped = _diverged(epoch, n_iter, problem, rate)
                            W = W if W_prev is None else W_prev
                            break
                        step, state = optimizer.update(g, state, W)
                    else:
                        step, state = optimizer.update(
                            None, state, W, value_fn=value_fn(rows), rng=rng
                        )
                        value, gnorm, evaluations = state.value, math.nan, state.evaluations
                    W_new = W + step
                    if W_new.dtype != W.dtype:  # an optimiser's step must not upcast W
                        fail("optimizer", f"steps in W's dtype {W.dtype}", W_new.dtype, TypeError)
                    if not np.isfinite(W_new).all():
                        stopped = _diverged(
                            epoch, n_iter, "the step made the weights non-finite", rate
                        )
                        break
                    W_prev, W = W, W_new
                    n_iter += 1
                    norms.append(gnorm)
                    for key, v in zip(STEP_KEYS, (value, rate, gnorm, evaluations), strict=True):
                        steps[key].append(float(v))
                    if max_evaluations is not None and evaluations >= max_evaluations:
                        stopped = f"evaluation budget reached ({evaluations} evaluations)"
                        break

            train_loss, train_accuracy = _evaluate(W, objective, train_labels)
            val_loss, val_accuracy = (
                (math.nan, math.nan) if val is None else _evaluate(W, val, val_labels)
            )
            logs = {
                "loss": train_loss,
                "val_loss": val_loss,
                "train_accuracy": train_accuracy,
                "val_accuracy": val_accuracy,
                "learning_rate": optimizer.rate(state),
                "grad_norm": float(np.mean(norms)) if norms else math.nan,
            }
            for key in EPOCH_KEYS:
                history[key].append(float(logs[key]))
            epoch += 1
            watched = logs["loss"] if val is None else logs["val_loss"]
            state = optimizer.observe(state, watched)
            if early_stopping and stopped is None:
                if logs["val_loss"] < best_loss - min_delta:
                    best_loss, best_W, best_epoch, wait = logs["val_loss"], W.copy(), epoch - 1, 0
                else:
                    wait += 1
                    if wait > patience:
                        stopped = (
                            f"early stopping: the validation loss did not improve for "
                            f"{wait} epochs (best {best_loss:.6g} at epoch {best_epoch + 1})"
                        )
            for cb in callbacks:
                if cb(epoch - 1, dict(logs), W) and stopped is None:
                    stopped = f"stopped by callback {getattr(cb, '__name__', repr(cb))}"
            progress.update(logs)
            if checkpoint_dir is not None and (
                epoch % checkpoint_every == 0 or epoch == epochs or stopped is not None
            ):
                save_checkpoint(epoch)
    finally:
        progress.close()

    if early_stopping and best_W is not None:
        W = best_W
    return FitResult(
        W=W,
        history=history,
        step_history=steps,
        n_iter=n_iter,
        n_epochs=epoch,
        n_evaluations=evaluations,
        stopped=stopped,
        best_epoch=best_epoch if early_stopping else None,
        diagnostics=diagnose(history, stopped),
    )


def _diverged(epoch: int, n_iter: int, problem: str, rate: float) -> str:
    """The divergence message: where, what, and the likely causes."""
    return (
        f"diverged at epoch {epoch + 1}, step {n_iter + 1}: {problem}; the learning rate "
        f"({rate:g}) is probably too high, or the features are not scaled (standardise X); "
        "kept the last good weights"
    )


def _divergence(value, gnorm, first, factor, max_grad_norm) -> str | None:
    """Why a step looks divergent, or ``None``."""
    if not math.isfinite(value):
        return f"the loss is {value}"
    if value > factor * max(first, 1.0):
        return f"the loss grew to {value:.4g} ({factor:g} x its first value {first:.4g})"
    if not math.isfinite(gnorm):
        return f"the gradient norm is {gnorm}"
    if gnorm > max_grad_norm:
        return f"the gradient norm exploded to {gnorm:.4g}"
    return None


def sgd(
    objective: Objective,
    n_classes: int,
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
        >>> import numpy as np
        >>> from lingrad.objective import Objective
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
        n_classes=n_classes,
        W0=W0,
        epochs=epochs,
        batch_size=batch_size,
        rng=rng,
    )


TrainResult = FitResult  # the name of the first version's result
