"""What runs around the epochs: the divergence guard (per step) and the callbacks (per epoch).

Each callback's ``after_epoch(state, logs)`` runs once per epoch, in the order given, after
the epoch's logs are in the history; a callback ends the run by setting ``state.stop``.
``close(state)`` runs when the loop ends, however it ends.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lingrad import runs
from lingrad._array_api import copy
from lingrad.train.state import Stop, StopReason, TrainState

if TYPE_CHECKING:
    from lingrad.optim import Optimizer


class DivergenceGuard:
    """Ends a run whose batch loss is NaN/inf or exceeds ``factor`` times its first value (and
    1), or whose gradient norm is not finite or exceeds ``max_grad_norm``; the message names
    the likely causes.

    Examples:
        >>> guard = DivergenceGuard(100.0, 1e8)
        >>> guard.problem(float("nan"), 1.0, 2.0)
        'the loss is nan'
        >>> guard.stop(0, 4, "the loss is nan", 10.0).reason
        <StopReason.DIVERGED: 'diverged'>
    """

    def __init__(self, factor: float, max_grad_norm: float):
        self.factor = factor
        self.max_grad_norm = max_grad_norm

    def problem(self, value: float, gnorm: float, first: float) -> str | None:
        """Why a step looks divergent, or ``None``."""
        if not math.isfinite(value):
            return f"the loss is {value}"
        if value > self.factor * max(first, 1.0):
            return f"the loss grew to {value:.4g} ({self.factor:g} x its first value {first:.4g})"
        if not math.isfinite(gnorm):
            return f"the gradient norm is {gnorm}"
        if gnorm > self.max_grad_norm:
            return f"the gradient norm exploded to {gnorm:.4g}"
        return None

    @staticmethod
    def stop(epoch: int, iteration: int, problem: str, rate: float) -> Stop:
        """The divergence stop: where, what, and the likely causes."""
        return Stop(
            StopReason.DIVERGED,
            f"diverged at epoch {epoch + 1}, step {iteration + 1}: {problem}; the learning rate "
            f"({rate:g}) is probably too high, or the features are not scaled (standardise X); "
            "kept the last good weights",
        )

    @classmethod
    def end(cls, state: TrainState, problem: str, rate: float) -> None:
        """Stop ``state`` as diverged because its current ``W`` gave ``problem``: back to the
        weights before the last step (the last good ones)."""
        state.stop = cls.stop(state.epoch, state.iteration, problem, rate)
        state.W = state.W if state.previous_W is None else state.previous_W


class Callback:
    """The callback interface: both hooks do nothing by default.

    Examples:
        >>> Callback().after_epoch(None, {}) is None
        True
    """

    def after_epoch(self, state: TrainState, logs: dict[str, float]) -> None:
        """Run after each epoch (its logs already in ``state.history``)."""

    def close(self, state: TrainState) -> None:
        """Run when the loop ends."""


class ObservePlateau(Callback):
    """Hands the watched loss (validation loss if there is one, else training loss) to the
    optimiser once per epoch: ``state = optimizer.observe(state, loss)`` (plateau reduction).

    Examples:
        >>> ObservePlateau(None, validation=False).key
        'loss'
    """

    def __init__(self, optimizer: Optimizer, *, validation: bool):
        self.optimizer = optimizer
        self.key = "val_loss" if validation else "loss"

    def after_epoch(self, state: TrainState, logs: dict[str, float]) -> None:
        state.optimizer_state = self.optimizer.observe(state.optimizer_state, logs[self.key])


class EarlyStopping(Callback):
    """Stops once the validation loss has not improved (by more than ``min_delta``) for more
    than ``patience`` epochs; :meth:`restore` puts back the best epoch's weights.

    Examples:
        >>> EarlyStopping(patience=2, min_delta=0.0).patience
        2
    """

    def __init__(self, patience: int, min_delta: float):
        self.patience = patience
        self.min_delta = min_delta

    def after_epoch(self, state: TrainState, logs: dict[str, float]) -> None:
        if state.stop is not None:
            return
        best = state.best
        if logs["val_loss"] < best.loss - self.min_delta:
            best.loss, best.W, best.epoch = logs["val_loss"], copy(state.W), state.epoch - 1
            best.wait = 0
            return
        best.wait += 1
        if best.wait > self.patience:
            at = "" if best.epoch is None else f" at epoch {best.epoch + 1}"  # None: all NaN
            state.stop = Stop(
                StopReason.EARLY_STOPPING,
                f"early stopping: the validation loss did not improve for "
                f"{best.wait} epochs (best {best.loss:.6g}{at})",
            )

    @staticmethod
    def restore(state: TrainState) -> None:
        """Put the best epoch's weights back into ``state.W``."""
        if state.best.W is not None:
            state.W = state.best.W


class UserCallbacks(Callback):
    """Runs ``cb(epoch, logs, W)`` for each user callback (``epoch`` 0-based); a truthy return
    stops the run.

    Examples:
        >>> def stop_now(epoch, logs, W):
        ...     return True
        >>> UserCallbacks([stop_now]).callbacks[0].__name__
        'stop_now'
    """

    def __init__(self, callbacks: Sequence[Callable[..., Any]]):
        self.callbacks = list(callbacks)

    def after_epoch(self, state: TrainState, logs: dict[str, float]) -> None:
        for cb in self.callbacks:
            if cb(state.epoch - 1, dict(logs), state.W) and state.stop is None:
                name = getattr(cb, "__name__", repr(cb))
                state.stop = Stop(StopReason.CALLBACK, f"stopped by callback {name}")


class Trajectory(Callback):
    """Keeps a copy of ``W`` in ``state.trajectory`` every ``every`` epochs and after the last
    one (``epochs``); the list is part of the checkpoint, so a resumed run keeps it.

    Examples:
        >>> Trajectory(every=5, epochs=20).every
        5
    """

    def __init__(self, *, every: int, epochs: int):
        self.every = every
        self.epochs = epochs

    def after_epoch(self, state: TrainState, logs: dict[str, float]) -> None:
        if state.trajectory is None:
            return
        if state.epoch % self.every == 0 or state.epoch == self.epochs:
            state.trajectory.append(copy(state.W))


class Checkpoint(Callback):
    """Saves the state to ``folder/checkpoint.npz`` every ``every`` epochs, after the last
    epoch and when the run stops.

    Examples:
        >>> Checkpoint("runs/x", None, every=5, epochs=20).path.name
        'checkpoint.npz'
    """

    def __init__(self, folder: str | Path, optimizer: Optimizer, *, every: int, epochs: int):
        self.path = Path(folder) / runs.CHECKPOINT
        self.optimizer = optimizer
        self.every = every
        self.epochs = epochs

    def after_epoch(self, state: TrainState, logs: dict[str, float]) -> None:
        epoch = state.epoch
        if epoch % self.every == 0 or epoch == self.epochs or state.stop is not None:
            state.save(self.path, self.optimizer)


class ProgressBar(Callback):
    """A Rich progress bar on stderr, only on a terminal and with ``verbose > 0``.

    Examples:
        >>> ProgressBar(0, 10, 0).bar is None
        True
    """

    def __init__(self, verbose: int, epochs: int, start: int, label: str = "training"):
        self.bar: Any = None  # a rich Progress on a terminal
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
            self.task = self.bar.add_task(label, total=epochs, completed=start)

    def after_epoch(self, state: TrainState | None, logs: dict[str, float]) -> None:
        if self.bar is None:
            return
        text = f"loss {logs['loss']:.4f}"
        if math.isfinite(logs["val_accuracy"]):
            text += f" val acc {logs['val_accuracy']:.4f}"
        self.bar.update(self.task, advance=1, description=text)

    def close(self, state: TrainState | None) -> None:
        if self.bar is not None:
            self.bar.stop()
