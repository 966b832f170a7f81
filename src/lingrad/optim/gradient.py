"""Gradient-based optimisers in the ``init`` / ``update`` shape of optax, built as chains of
:mod:`~lingrad.optim.transforms`.

An optimiser is a pair of pure functions over a small named-tuple state:

    state = opt.init(W)
    step, state = opt.update(grad, state, W)
    W = W + step
    state = opt.observe(state, loss)     # once per epoch; reduces a ReduceOnPlateau rate

``update`` never changes ``W`` or ``grad``; the step comes back in ``W``'s dtype, on W's array
library and device (the buffers are made there by ``init``). The learning
rate is a float, a schedule ``t -> alpha_t`` (see :mod:`lingrad.optim.schedules`), read at the
step count ``t = 0, 1, 2, ...`` kept in the state, or a
:class:`~lingrad.optim.schedules.ReduceOnPlateau`, whose current rate, best loss and wait live
in the state's ``plateau`` field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

import numpy as np

from lingrad._array_api import namespace
from lingrad._validation import fail
from lingrad.optim import transforms as T
from lingrad.optim.schedules import ReduceOnPlateau, Schedule


def _gradient(grad: np.ndarray | None, value_fn: object, rng: object) -> np.ndarray:
    """``grad``, refused when missing or when a search's ``value_fn``/``rng`` comes instead."""
    if value_fn is not None or rng is not None:
        fail("update", "a gradient (this optimiser reads no value_fn or rng)", "value_fn/rng")
    if grad is None:
        fail("grad", "an array (this optimiser reads the gradient)", None, TypeError)
    return grad


def _in_dtype(step: Any, dtype: Any) -> Any:
    """``step`` in ``dtype`` (no copy when it is), on its array library."""
    if isinstance(step, np.ndarray):
        return step.astype(dtype, copy=False)
    return namespace(step).astype(step, dtype, copy=False)


class SGDState(NamedTuple):
    """``count``: steps taken; ``velocity``: the momentum buffer (``None`` without momentum);
    ``plateau``: the state of a :class:`~lingrad.optim.schedules.ReduceOnPlateau` learning
    rate (``None`` without one).

    Examples:
        >>> import numpy as np
        >>> opt = SGD(0.1, momentum=0.9)
        >>> state = opt.init(np.zeros(2))
        >>> step, state = opt.update(np.array([1.0, -2.0]), state, np.zeros(2))
        >>> state.count, state.velocity
        (1, array([ 1., -2.]))
    """

    count: int  # type: ignore[assignment]  # the field shadows tuple.count (a public name)
    velocity: np.ndarray | None
    plateau: T.PlateauState | None = None


class AdamState(NamedTuple):
    """``count``: steps taken; ``m``, ``v``: running first and second moments of the gradient;
    ``plateau``: the state of a :class:`~lingrad.optim.schedules.ReduceOnPlateau` learning
    rate (``None`` without one).

    Examples:
        >>> import numpy as np
        >>> opt = Adam(0.1)
        >>> state = opt.init(np.zeros(2))
        >>> step, state = opt.update(np.array([1.0, -2.0]), state, np.zeros(2))
        >>> state.count, state.m.round(3), step.round(3)
        (1, array([ 0.1, -0.2]), array([-0.1,  0.1]))
    """

    count: int  # type: ignore[assignment]  # the field shadows tuple.count (a public name)
    m: np.ndarray
    v: np.ndarray
    plateau: T.PlateauState | None = None


class _ChainOptimizer:
    """What SGD and Adam share: a chain of transforms ending in
    :func:`~lingrad.optim.transforms.scale_by_rate` (the learning rate), whose tuple of states
    a subclass maps to and from its named-tuple state with ``_head(state)`` (the states before
    the rate) and ``_state(count, head, plateau)``; the rate's state is the count, or the
    ``plateau`` field for a ``ReduceOnPlateau``."""

    reads: ClassVar[str] = "gradient"
    #: runs on W's array library (PyTorch, CuPy, ...): its buffers follow W (see
    #: :mod:`~lingrad.optim.transforms`); read by
    #: :func:`~lingrad.optim.solvers.base.check_array_api`
    array_api: ClassVar[bool] = True
    #: whether the step comes back in ``grad``'s dtype (Adam) or as the chain computes it (SGD)
    _in_grad_dtype: ClassVar[bool] = False

    if TYPE_CHECKING:  # what the dataclass subclasses define
        learning_rate: float | Schedule | ReduceOnPlateau

        @property
        def _chain(self) -> T.Transform: ...

        def _head(self, state: Any) -> tuple[Any, ...]: ...

        def _state(
            self, count: int, head: tuple[Any, ...], plateau: T.PlateauState | None
        ) -> Any: ...

    def _plateau(self) -> bool:
        return isinstance(self.learning_rate, ReduceOnPlateau)

    def _transform(self) -> T.Transform:
        """``_chain``, built once per optimiser (the fields are frozen) and kept out of pickles:
        building it per step (closures, checks) cost more than a small step's arithmetic."""
        chain = self.__dict__.get("_built")
        if chain is None:
            chain = self._chain
            object.__setattr__(self, "_built", chain)
        return chain

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_built"}

    def _inner(self, state: Any) -> tuple[Any, ...]:
        """``state`` as the chain's state."""
        last = state.plateau if self._plateau() else T.ScaleByScheduleState(state.count)
        return (*self._head(state), last)

    def _outer(self, count: int, inner: tuple[Any, ...]) -> Any:
        return self._state(count, inner[:-1], inner[-1] if self._plateau() else None)

    def init(self, W: np.ndarray) -> Any:
        """The state before the first step: count 0, zero buffers (SGD's velocity with
        momentum, Adam's moments).

        Examples:
            >>> SGD(0.1).init(np.zeros(2))
            SGDState(count=0, velocity=None, plateau=None)
            >>> Adam().init(np.zeros(1))
            AdamState(count=0, m=array([0.]), v=array([0.]), plateau=None)
        """
        return self._outer(0, self._transform().init(W))

    def rate(self, state: Any) -> float:
        """The learning rate the next :meth:`update` uses.

        Examples:
            >>> from lingrad.optim.schedules import step_decay
            >>> SGD(step_decay(1.0, step_size=2)).rate(SGDState(count=2, velocity=None))
            0.1
            >>> opt = Adam(0.01)
            >>> opt.rate(opt.init(np.zeros(1)))
            0.01
        """
        rate = self.learning_rate
        if state.plateau is None and type(rate) is float:  # checked when built: no schedule
            return rate
        return T.current_rate(rate, state.count, state.plateau)

    def update(
        self,
        grad: np.ndarray | None,
        state: Any,
        W: np.ndarray | None = None,
        *,
        value_fn: Callable[[np.ndarray], float] | None = None,
        rng: np.random.Generator | None = None,
    ) -> tuple[np.ndarray, Any]:
        """``(step, next state)`` for the gradient ``grad`` (see the class); Adam's step is in
        ``grad``'s dtype.

        Examples:
            >>> opt = SGD(0.5)
            >>> opt.update(np.array([2.0]), opt.init(np.zeros(1)), np.zeros(1))[0]
            array([-1.])
            >>> opt = Adam(0.1)
            >>> step, state = opt.update(np.array([-5.0]), opt.init(np.zeros(1)), np.zeros(1))
            >>> np.round(step, 6), state.count
            (array([0.1]), 1)
        """
        grad = _gradient(grad, value_fn, rng)
        step, inner = self._transform().update(grad, self._inner(state), W)
        if self._in_grad_dtype:
            step = _in_dtype(step, grad.dtype)
        return step, self._outer(state.count + 1, inner)

    def observe(self, state: Any, loss: float) -> Any:
        """The state after one watched loss (once per epoch): a ``ReduceOnPlateau`` rate may
        drop; the identity otherwise.

        Examples:
            >>> opt = SGD(0.1)
            >>> opt.observe(opt.init(np.zeros(1)), 1.0)
            SGDState(count=0, velocity=None, plateau=None)
            >>> from lingrad.optim.schedules import ReduceOnPlateau
            >>> opt = Adam(ReduceOnPlateau(0.1, patience=0, factor=0.5))
            >>> state = opt.observe(opt.observe(opt.init(np.zeros(1)), 1.0), 1.0)
            >>> opt.rate(state)
            0.05
        """
        if not self._plateau():
            return state
        return self._outer(state.count, self._transform().observe(self._inner(state), loss))


@dataclass(frozen=True)
class SGD(_ChainOptimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum, PyTorch's formulation.

    Without momentum: ``step = -alpha_t g``. With momentum ``mu``:
    ``v <- mu v + g``; ``step = -alpha_t v``, or with Nesterov ``step = -alpha_t (g + mu v)``.
    It is ``chain(trace(mu, nesterov), scale_by_learning_rate(alpha))`` (without ``trace``
    when ``mu = 0``; ``reduce_on_plateau`` in place of the scale for a ``ReduceOnPlateau``).
    ``init``, ``rate``, ``update`` and ``observe`` as in the
    :class:`~lingrad.optim.base.Optimizer` protocol.

    Examples:
        >>> opt = SGD(0.1, momentum=0.9)
        >>> state = opt.init(np.zeros(2))
        >>> step, state = opt.update(np.array([1.0, -2.0]), state, np.zeros(2))
        >>> step
        array([-0.1,  0.2])
    """

    learning_rate: float | Schedule | ReduceOnPlateau = 0.01
    momentum: float = 0.0
    nesterov: bool = False

    def __post_init__(self) -> None:
        if not 0.0 <= self.momentum < 1.0:
            fail("momentum", "a number in [0, 1)", self.momentum)
        if self.nesterov and self.momentum == 0:
            fail("nesterov", "momentum > 0 with Nesterov", f"momentum {self.momentum}")
        T.scale_by_rate(self.learning_rate)  # checks it

    @property
    def _chain(self) -> T.Transform:
        parts = [T.trace(self.momentum, self.nesterov)] if self.momentum else []
        return T.chain(*parts, T.scale_by_rate(self.learning_rate))

    def _head(self, state: SGDState) -> tuple[Any, ...]:
        # the velocity is None exactly without momentum
        return () if state.velocity is None else (T.TraceState(state.velocity),)

    def _state(self, count: int, head: tuple[Any, ...], plateau: T.PlateauState | None) -> SGDState:
        return SGDState(count, head[0].velocity if head else None, plateau)


@dataclass(frozen=True)
class GradientDescent(SGD):
    """Full-batch gradient descent, ``W <- W - alpha_t dJ/dW``: SGD over the whole dataset.

    The same update as :class:`SGD`; the name says the trainer uses one batch of all N rows.

    Shapes: ``grad``, ``W`` and the returned step all have ``W``'s shape (e.g. ``(D + 1, C)``).

    Examples:
        >>> import numpy as np
        >>> opt = GradientDescent(0.5)
        >>> W = np.array([1.0, -1.0])
        >>> step, state = opt.update(2 * W, opt.init(W), W)        # J = ||W||^2
        >>> W + step
        array([0., 0.])
    """


@dataclass(frozen=True)
class Adam(_ChainOptimizer):
    """Adam (Kingma & Ba, 2015).

    ``m <- b1 m + (1 - b1) g``, ``v <- b2 v + (1 - b2) g^2``,
    ``m_hat = m / (1 - b1^t)``, ``v_hat = v / (1 - b2^t)`` (``t`` counted from 1),
    ``step = -alpha_t m_hat / (sqrt(v_hat) + eps)``, computed as
    ``(-alpha_t m_hat) / (sqrt(v_hat) + eps)``. It is
    ``chain(scale_by_adam(b1, b2, eps), scale_by_learning_rate(alpha))``. ``init``, ``rate``,
    ``update`` (its step in ``grad``'s dtype) and ``observe`` as in :class:`SGD`.

    Examples:
        >>> opt = Adam(0.1)
        >>> step, _ = opt.update(np.array([3.0]), opt.init(np.zeros(1)), np.zeros(1))
        >>> np.round(step, 6)        # the first step has size alpha whatever the gradient's scale
        array([-0.1])
    """

    learning_rate: float | Schedule | ReduceOnPlateau = 1e-3
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8

    _in_grad_dtype: ClassVar[bool] = True

    def __post_init__(self) -> None:
        _ = self._chain  # checks the hyperparameters

    @property
    def _chain(self) -> T.Transform:
        adam = T.scale_by_adam(self.beta1, self.beta2, self.eps)
        return T.chain(adam, T.scale_by_rate(self.learning_rate))

    def _head(self, state: AdamState) -> tuple[Any, ...]:
        return (T.ScaleByAdamState(state.count, state.m, state.v),)

    def _state(
        self, count: int, head: tuple[Any, ...], plateau: T.PlateauState | None
    ) -> AdamState:
        (adam,) = head
        return AdamState(count, adam.m, adam.v, plateau)
