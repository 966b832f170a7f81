"""Training by mini-batch stochastic gradient descent with a decaying learning rate.

Each epoch visits the examples in a fresh random order, in mini-batches of ``batch_size``, and
takes a step ``W <- W - alpha_t * dJ_batch/dW`` on each, where ``J_batch`` is the objective's
mean over the batch (the lecture's mini-batch gradient descent; ``batch_size = N`` is full-batch
gradient descent). The learning rate decays every epoch, ``alpha_t = alpha_0 * decay^t``, as
convergence requires the step to shrink.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lingrad._validation import check_int, check_positive, fail
from lingrad.model import init_weights
from lingrad.objective import Objective


@dataclass
class TrainResult:
    """The trained weights ``W`` (``(D + 1, C)``) and one history entry per epoch."""

    W: np.ndarray
    history: dict[str, list[float]] = field(default_factory=dict)


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
) -> TrainResult:
    """Minimise ``objective`` by mini-batch SGD; return the weights and per-epoch history.

    Args:
        objective: the :class:`~lingrad.objective.Objective` (data, loss, regulariser).
        n_classes: the number of score columns ``C`` (1 for a binary model).
        W0: initial weights ``(D + 1, C)``; small random ones from ``rng`` by default.
        learning_rate: ``alpha_0 > 0``.
        decay: the per-epoch factor in ``(0, 1]``.
        batch_size: examples per step, ``1 <= batch_size <= N``.
        epochs: passes over the data.
        rng: the generator for the initial weights and the shuffles.

    ``history`` has ``"loss"`` (mean of the batch objectives in each epoch) and
    ``"learning_rate"`` (the rate used in each epoch).
    """
    learning_rate = check_positive("learning_rate", learning_rate)
    decay = check_positive("decay", decay)
    if decay > 1:
        fail("decay", "a factor in (0, 1]", decay)
    epochs = check_int("epochs", epochs)
    N = objective.n_samples
    batch_size = check_int("batch_size", batch_size)
    if batch_size > N:
        fail("batch_size", f"at most the number of examples ({N})", batch_size)
    if W0 is None:
        W = init_weights(objective.n_features, n_classes, rng=rng, dtype=objective.X.dtype)
    else:
        W = objective._check(W0).copy()
    objective.targets(W.shape[1])
    history: dict[str, list[float]] = {"loss": [], "learning_rate": []}
    for epoch in range(epochs):
        rate = learning_rate * decay**epoch
        order = rng.permutation(N)
        total = 0.0
        for start in range(0, N, batch_size):
            rows = order[start : start + batch_size]
            value, dW = objective._value_and_grad(W, rows)
            W -= W.dtype.type(rate) * dW
            total += value * len(rows)
        history["loss"].append(total / N)
        history["learning_rate"].append(rate)
    return TrainResult(W, history)
