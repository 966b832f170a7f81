"""The training state: everything that changes while training, and the checkpoint it is.

A :class:`TrainState` holds the weights, the optimiser state, the generator, the counters,
the histories, the best-so-far of early stopping and why the run stopped. A checkpoint is
exactly a saved ``TrainState``: :meth:`TrainState.save` is its one writer (atomic, no pickle)
and :meth:`TrainState.load` its one reader; resuming is reading the state and continuing the
loop, bit for bit.

The histories are arrays of the checkpoint (``history.<key>``, ``steps.<key>``, float64, exact),
not JSON: a checkpoint's JSON part stays the same size however long the run.
"""

from __future__ import annotations

import enum
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lingrad import optim, runs
from lingrad._validation import fail
from lingrad.train.faults import fault_point

#: Per-epoch history keys (:attr:`FitResult.history`).
EPOCH_KEYS = ("loss", "val_loss", "train_accuracy", "val_accuracy", "learning_rate", "grad_norm")
#: Per-step history keys (:attr:`FitResult.step_history`).
STEP_KEYS = ("loss", "learning_rate", "grad_norm", "evaluations")
#: The checkpoint schema's version (checked on load; version 2, histories in JSON, is read too).
CHECKPOINT_VERSION = 3
_READABLE_VERSIONS = (2, CHECKPOINT_VERSION)


class StopReason(enum.Enum):
    """Why a run ended before its last epoch.

    Examples:
        >>> StopReason("diverged") is StopReason.DIVERGED
        True
    """

    DIVERGED = "diverged"
    EARLY_STOPPING = "early stopping"
    BUDGET = "budget"
    CALLBACK = "callback"
    CONVERGED = "converged"
    STALLED = "stalled"


@dataclass(frozen=True)
class Stop:
    """A stop: its :class:`StopReason` and a sentence for people (``str(stop)``).

    Examples:
        >>> s = Stop(StopReason.BUDGET, "evaluation budget reached (5 evaluations)")
        >>> s.reason is StopReason.BUDGET, str(s)
        (True, 'evaluation budget reached (5 evaluations)')
    """

    reason: StopReason
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass
class Best:
    """Early stopping's record: the best watched loss, its weights and epoch (0-based), and
    the epochs since it (``wait``).

    Examples:
        >>> Best().loss, Best().W is None
        (inf, True)
    """

    loss: float = math.inf
    W: np.ndarray | None = None
    epoch: int | None = None
    wait: int = 0


def _empty(keys: tuple[str, ...]) -> dict[str, list[float]]:
    return {key: [] for key in keys}


@dataclass
class TrainState:
    """Everything that changes while training; also the checkpoint.

    Attributes:
        W: the weights ``(D + 1, C)`` in X's dtype.
        optimizer_state: the optimiser's state (``optimizer.init(W)`` at the start).
        rng: the ``numpy.random.Generator`` of the shuffles and the searches (its state is
            saved and restored, the object is the caller's).
        epoch: epochs completed; ``iteration``: optimiser steps taken; ``evaluations``:
            objective evaluations spent.
        history: per-epoch lists keyed by :data:`EPOCH_KEYS`; ``steps``: per-step lists keyed
            by :data:`STEP_KEYS`.
        best: early stopping's :class:`Best`.
        first_loss: the first batch loss (the divergence guard's reference).
        previous_W: the weights before the last step (the last good ones if that step's loss
            turns out non-finite).
        stop: why the run ended early (``None`` while it runs).
        trajectory: the weights kept along the way (``W0`` first), or ``None`` when not kept
            (see the ``trajectory_every`` option of :func:`lingrad.train.fit`).

    Examples:
        >>> import tempfile
        >>> from lingrad.optim import SGD
        >>> W = np.zeros((3, 2))
        >>> s = TrainState(W, SGD(0.1).init(W), np.random.default_rng(0), epoch=4)
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = s.save(Path(tmp) / "checkpoint.npz", SGD(0.1))
        ...     fresh = TrainState(W, SGD(0.1).init(W), np.random.default_rng(1))
        ...     back = TrainState.load(path, fresh, SGD(0.1))
        >>> back.epoch, back.rng.bit_generator.state == s.rng.bit_generator.state
        (4, True)
    """

    W: np.ndarray
    optimizer_state: Any
    rng: np.random.Generator
    epoch: int = 0
    iteration: int = 0
    evaluations: int = 0
    history: dict[str, list[float]] = field(default_factory=lambda: _empty(EPOCH_KEYS))
    steps: dict[str, list[float]] = field(default_factory=lambda: _empty(STEP_KEYS))
    best: Best = field(default_factory=Best)
    first_loss: float | None = None
    previous_W: np.ndarray | None = None
    stop: Stop | None = None
    trajectory: list[np.ndarray] | None = None

    def save(self, path: str | Path, optimizer: optim.Optimizer) -> Path:
        """Write the state to ``path`` (``.npz``, atomically: temp file + rename); the
        optimiser's type is recorded so that a resume with another one is refused."""
        opt_arrays, opt_scalars = optim.state_to_arrays(self.optimizer_state)
        meta = {
            "version": CHECKPOINT_VERSION,
            "optimizer_type": type(optimizer).__name__,
            "optimizer": opt_scalars,
            "rng": self.rng.bit_generator.state,
            "epoch": self.epoch,
            "iteration": self.iteration,
            "evaluations": self.evaluations,
            "best": {"loss": self.best.loss, "epoch": self.best.epoch, "wait": self.best.wait},
            "first_loss": self.first_loss,
            "stop": None if self.stop is None else [self.stop.reason.value, self.stop.message],
        }
        arrays: dict[str, np.ndarray] = {"W": self.W, "meta": np.array(json.dumps(meta))}
        arrays.update({f"opt.{name}": np.asarray(v) for name, v in opt_arrays.items()})
        for prefix, lists in (("history", self.history), ("steps", self.steps)):
            arrays.update({f"{prefix}.{k}": np.array(v, np.float64) for k, v in lists.items()})
        for name, value in (("best_W", self.best.W), ("previous_W", self.previous_W)):
            if value is not None:
                arrays[name] = value
        if self.trajectory is not None:
            arrays["trajectory"] = np.stack(self.trajectory)
        for name, value in arrays.items():
            if value.dtype == object:
                fail(name, "a numeric or string array (no pickle)", "an object array", TypeError)

        def write(f: Any) -> None:
            np.savez(f, allow_pickle=False, **arrays)
            fault_point("checkpoint:temp")  # written, not yet renamed: a crash leaves a temp file

        fault_point("checkpoint:start")
        saved = runs.atomic_write(path, write)
        fault_point("checkpoint:done")
        return saved

    @classmethod
    def load(cls, path: str | Path, template: TrainState, optimizer: optim.Optimizer) -> TrainState:
        """The state saved at ``path`` (a file or a folder holding ``checkpoint.npz``),
        checked against ``template`` (a fresh state of the same problem: W's shape and dtype,
        the optimiser); the generator is ``template.rng``, its state restored."""
        file = _checkpoint_file(path)
        arrays = runs.load_npz(file)
        try:
            return cls._from_arrays(arrays, template, optimizer)
        except (KeyError, IndexError, TypeError, AttributeError, json.JSONDecodeError) as exc:
            what = f"{type(exc).__name__}: {exc}"
            fail("resume", f"a lingrad checkpoint ({file} is malformed)", what)

    @classmethod
    def _from_arrays(
        cls, arrays: dict[str, Any], template: TrainState, optimizer: optim.Optimizer
    ) -> TrainState:
        meta = json.loads(str(arrays.pop("meta")))
        if meta.get("version") not in _READABLE_VERSIONS:
            fail("resume", f"a checkpoint of version {CHECKPOINT_VERSION}", meta.get("version"))
        if "history" in meta:  # version 2
            history, steps = meta["history"], meta["steps"]
        else:
            history, steps = (
                {k[len(p) + 1 :]: v.tolist() for k, v in arrays.items() if k.startswith(p + ".")}
                for p in ("history", "steps")
            )
        W = arrays["W"]
        if W.shape != template.W.shape or W.dtype != template.W.dtype:
            fail("resume", f"a checkpoint with W {template.W.shape} {template.W.dtype}", W.shape)
        if meta["optimizer_type"] != type(optimizer).__name__:
            fail("resume", f"a checkpoint of {type(optimizer).__name__}", meta["optimizer_type"])
        opt_arrays = {k[len("opt.") :]: v for k, v in arrays.items() if k.startswith("opt.")}
        opt_state = optim.state_from_arrays(template.optimizer_state, opt_arrays, meta["optimizer"])
        template.rng.bit_generator.state = meta["rng"]
        best = meta["best"]
        stop = meta["stop"]
        return cls(
            W=W,
            optimizer_state=opt_state,
            rng=template.rng,
            epoch=meta["epoch"],
            iteration=meta["iteration"],
            evaluations=meta["evaluations"],
            history=history,
            steps=steps,
            best=Best(best["loss"], arrays.get("best_W"), best["epoch"], best["wait"]),
            first_loss=meta["first_loss"],
            previous_W=arrays.get("previous_W"),
            stop=None if stop is None else Stop(StopReason(stop[0]), stop[1]),
            trajectory=(
                list(arrays["trajectory"])
                if "trajectory" in arrays and template.trajectory is not None
                else None
            ),
        )


def _checkpoint_file(resume: str | Path) -> Path:
    path = Path(resume)
    if path.is_dir():
        path = path / runs.CHECKPOINT
    if not path.is_file():
        raise FileNotFoundError(f"resume: no checkpoint at {path}")
    return path


@dataclass
class FitResult:
    """What a training run returns (in memory and on Dask alike).

    Attributes:
        W: the final weights ``(D + 1, C)`` in X's dtype (the best ones under early stopping,
            the last good ones after a divergence).
        history: per-epoch lists keyed by :data:`EPOCH_KEYS`: ``loss`` (the full training
            objective at the end of the epoch), ``val_loss``, ``train_accuracy``,
            ``val_accuracy``, ``learning_rate`` (of the epoch's last step) and ``grad_norm``
            (mean ``||dJ_batch/dW||`` over the epoch's steps). ``nan`` where not defined (no
            validation set, a search optimiser's gradient, a regression loss's accuracy).
            Solvers outside the loop (L-BFGS) fill ``loss`` and ``grad_norm``.
        step_history: per-step lists keyed by :data:`STEP_KEYS`: the batch objective the step
            saw, its learning rate, its gradient norm, and the objective evaluations so far.
        n_iter: optimiser steps taken.
        n_epochs: epochs run (the last one possibly cut short).
        n_evaluations: objective evaluations (one per gradient step; as counted by a search
            optimiser's state).
        stop: why the run ended before its last epoch (a :class:`Stop`, ``None`` if it ran
            them all).
        best_epoch: the epoch (0-based) whose weights were restored by early stopping.
        diagnostics: see :func:`lingrad.train.diagnose`.
        trajectory: the weights kept along the way ``(T, D + 1, C)``, ``W0`` first (with
            :func:`lingrad.train.fit`'s ``trajectory_every``), else ``None``.

    Examples:
        >>> r = FitResult(np.zeros((3, 2)), {"loss": [0.7]}, {}, 1, 1, 1)
        >>> r.stop is None, r.n_epochs
        (True, 1)
    """

    W: np.ndarray
    history: dict[str, list[float]]
    step_history: dict[str, list[float]]
    n_iter: int
    n_epochs: int
    n_evaluations: int
    stop: Stop | None = None
    best_epoch: int | None = None
    diagnostics: dict[str, Any] = field(default_factory=dict)
    trajectory: np.ndarray | None = None
