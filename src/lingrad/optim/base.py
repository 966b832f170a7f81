"""What an optimiser is: the :class:`Optimizer` protocol the trainer relies on.

    state = opt.init(W)
    step, state = opt.update(grad, state, W)                          # reads == "gradient"
    step, state = opt.update(None, state, W, value_fn=J, rng=rng)     # reads == "value"
    step, state = opt.update(None, state, W, objective=J)             # reads == "objective"
    W = W + step
    state = opt.observe(state, loss)                                  # once per epoch

Every state is a named tuple (its fields arrays, numbers, ``None`` or nested named tuples), so
:func:`lingrad.optim.state_to_arrays` can write it to a checkpoint.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from lingrad._validation import fail

#: The two values of :attr:`Optimizer.reads`.
READS: tuple[str, ...] = ("gradient", "value", "objective")


@runtime_checkable
class Optimizer(Protocol):
    """An optimiser: pure functions over a named-tuple state.

    * ``reads``: ``"gradient"`` (``update`` reads ``grad``), ``"value"`` (a search
      optimiser: ``update(None, state, W, value_fn=J, rng=rng)`` reads ``J(W')`` at candidate
      weights and draws from ``rng``; without them it raises ``TypeError`` naming the missing
      argument) or ``"objective"`` (a full-batch solver of :mod:`lingrad.optim.solvers`:
      ``update(None, state, W, objective=J)`` runs one iteration on the whole objective);
    * ``init(W) -> state``;
    * ``update(grad, state, W, *, value_fn=None, rng=None) -> (step, state)``: ``W + step``
      are the next weights, ``step`` in ``W``'s dtype; neither ``W`` nor ``grad`` changes;
    * ``rate(state) -> float``: the learning rate (or search scale) the next update uses,
      plateau reductions included;
    * ``observe(state, loss) -> state``: the trainer calls it once per epoch with the watched
      loss; the identity unless the optimiser reduces its rate on a plateau.

    A search optimiser's state also has the fields of :class:`SearchProgress`.

    Examples:
        >>> from lingrad.optim import SGD, RandomSearch
        >>> isinstance(SGD(0.1), Optimizer), SGD.reads, RandomSearch.reads
        (True, 'gradient', 'value')
    """

    reads: ClassVar[str]

    def init(self, W: np.ndarray) -> Any: ...

    def update(
        self,
        grad: np.ndarray | None,
        state: Any,
        W: np.ndarray,
        *,
        value_fn: Callable[[np.ndarray], float] | None = None,
        rng: np.random.Generator | None = None,
    ) -> tuple[np.ndarray, Any]: ...

    def rate(self, state: Any) -> float: ...

    def observe(self, state: Any, loss: float) -> Any: ...


@runtime_checkable
class SearchProgress(Protocol):
    """The fields every search optimiser's state declares, which the trainer reads: ``value``,
    ``J`` at the current weights (``inf`` before the first update), and ``evaluations``, the
    calls of ``value_fn`` so far.

    Examples:
        >>> import numpy as np
        >>> from lingrad.optim import RandomSearch
        >>> state = RandomSearch().init(np.zeros((2, 1)))
        >>> isinstance(state, SearchProgress), state.value, state.evaluations
        (True, inf, 0)
    """

    value: float
    evaluations: int


def check_reads(optimizer: object) -> str:
    """What ``optimizer`` reads, ``"gradient"`` or ``"value"``; ``TypeError`` for an object
    without ``init``/``update``/``rate``/``observe``, ``ValueError`` for another ``reads``.

    Examples:
        >>> from lingrad.optim import Adam
        >>> check_reads(Adam())
        'gradient'
    """
    for attr in ("init", "update", "rate", "observe"):
        if not callable(getattr(optimizer, attr, None)):
            fail(
                "optimizer",
                "an optimiser with init/update/rate/observe (see lingrad.optim)",
                type(optimizer).__name__,
                TypeError,
            )
    reads = getattr(optimizer, "reads", None)
    if not isinstance(reads, str) or reads not in READS:
        fail("optimizer.reads", "'gradient', 'value' or 'objective'", repr(reads))
    return reads
