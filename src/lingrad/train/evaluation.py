"""The per-epoch evaluation: the epoch's loss, the validation loss, accuracies.

An epoch's ``loss`` is the runner's own (the mean of its step losses: no pass over X). A full
evaluation pass over the training data (the objective at the epoch's final weights and, from
the same scores, the training accuracy) is made only when asked, every ``every`` epochs; the
validation data, when given, is evaluated after each epoch. :class:`RunnerLogs` is for runners
that report everything themselves (a pass on a cluster is a round trip: no second one).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from lingrad._array_api import to_numpy
from lingrad._validation import fail
from lingrad.model import predict_from_scores
from lingrad.objective import Objective
from lingrad.train.state import EPOCH_KEYS, TrainState

if TYPE_CHECKING:
    from lingrad.optim import Optimizer


def labels_of(objective: Objective, n_columns: int) -> np.ndarray | None:
    """Integer labels ``(N,)`` for accuracy (``None`` for a regression loss).

    Examples:
        >>> labels_of(Objective("logistic", np.eye(2), [0.0, 1.0]), 1).tolist()
        [0, 1]
    """
    if objective.loss_spec.task != "classification":
        return None
    T = to_numpy(objective.targets(n_columns))  # on the host: N labels, once
    if T.ndim == 1:
        return T.astype(np.intp, copy=False)
    if n_columns == 1:
        return (T[:, 0] >= 0.5).astype(np.intp)
    return np.argmax(T, axis=1)


def validation_objective(
    objective: Objective, validation: tuple[ArrayLike, ArrayLike] | None, n_columns: int
) -> Objective | None:
    """The objective of ``validation = (X_val, y_val)`` (same loss, regulariser, dtype).

    Examples:
        >>> J = Objective("softmax", np.eye(2), [0, 1])
        >>> validation_objective(J, (np.eye(2), [1, 0]), 2).n_samples
        2
    """
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
    if val.dtype != objective.dtype:
        val.X = val.X.astype(objective.dtype)
    val.targets(n_columns)
    return val


def _loss_and_accuracy(
    W: np.ndarray, objective: Objective, labels: np.ndarray | None
) -> tuple[float, float]:
    """``(J(W), accuracy)`` from one pass over the objective's data (the scores serve both)."""
    value, S = objective.evaluate(W)
    if labels is None:
        return value, math.nan
    return value, float(np.mean(to_numpy(predict_from_scores(S)) == labels))


class Evaluation:
    """After each epoch: ``loss`` (the runner's, or ``J(W)`` from a full pass on an evaluation
    epoch), ``train_accuracy`` (``nan`` but on an evaluation epoch), ``val_loss`` and
    ``val_accuracy`` (one pass over the validation data, ``nan`` without one), the
    optimiser's ``learning_rate`` and the runner's ``grad_norm``.

    ``every``: the full training pass runs after epochs ``every, 2 every, ...`` (``None``:
    never).

    Examples:
        >>> from lingrad.optim import SGD
        >>> from lingrad.train.state import TrainState
        >>> J = Objective("softmax", np.eye(2), [0, 1])
        >>> W = np.zeros((3, 2))
        >>> state = TrainState(W, SGD(0.1).init(W), np.random.default_rng(0))
        >>> logs = Evaluation(J, None, 2, SGD(0.1), every=1)(state, {"grad_norm": 0.5})
        >>> round(logs["loss"], 4), logs["train_accuracy"], logs["learning_rate"]
        (0.6931, 0.5, 0.1)
        >>> logs = Evaluation(J, None, 2, SGD(0.1))(state, {"loss": 0.7, "grad_norm": 0.5})
        >>> logs["loss"], math.isnan(logs["train_accuracy"])
        (0.7, True)
    """

    def __init__(
        self,
        objective: Objective,
        validation: Objective | None,
        n_columns: int,
        optimizer: Optimizer,
        every: int | None = None,
    ):
        self.objective = objective
        self.validation = validation
        # (the training labels only where a full pass will score them)
        self.train_labels = None if every is None else labels_of(objective, n_columns)
        self.val_labels = None if validation is None else labels_of(validation, n_columns)
        self.optimizer = optimizer
        self.every = every

    def __call__(self, state: TrainState, runner_logs: dict[str, float]) -> dict[str, float]:
        W = state.W
        if self.every is not None and (state.epoch + 1) % self.every == 0:
            train_loss, train_accuracy = _loss_and_accuracy(W, self.objective, self.train_labels)
        else:
            train_loss, train_accuracy = runner_logs.get("loss", math.nan), math.nan
        val_loss, val_accuracy = math.nan, math.nan
        if self.validation is not None:
            val_loss, val_accuracy = _loss_and_accuracy(W, self.validation, self.val_labels)
        return {
            "loss": train_loss,
            "val_loss": val_loss,
            "train_accuracy": train_accuracy,
            "val_accuracy": val_accuracy,
            "learning_rate": self.optimizer.rate(state.optimizer_state),
            "grad_norm": runner_logs.get("grad_norm", math.nan),
        }


class RunnerLogs:
    """The runner's own logs (its epoch ``loss``, ``grad_norm``), the optimiser's
    ``learning_rate``, ``nan`` for the rest: no extra pass over the data.

    Examples:
        >>> from lingrad.optim import SGD
        >>> from lingrad.train.state import TrainState
        >>> W = np.zeros((3, 2))
        >>> state = TrainState(W, SGD(0.1).init(W), np.random.default_rng(0))
        >>> logs = RunnerLogs(SGD(0.1))(state, {"loss": 0.5})
        >>> logs["loss"], math.isnan(logs["val_loss"])
        (0.5, True)
    """

    def __init__(self, optimizer: Optimizer):
        self.optimizer = optimizer

    def __call__(self, state: TrainState, runner_logs: dict[str, float]) -> dict[str, float]:
        logs = dict.fromkeys(EPOCH_KEYS, math.nan)
        logs.update(runner_logs)
        logs["learning_rate"] = self.optimizer.rate(state.optimizer_state)
        return logs
