"""Runners: each advances the training state by one epoch.

* :class:`MiniBatch`: one permutation of the N examples per epoch, then contiguous slices of
  it as mini-batches, one optimiser step per batch (the SGD family);
* :class:`FullBatch`: one step per epoch on all N examples (gradient descent, the search
  optimisers, and the exact solvers of :mod:`lingrad.optim.solvers`, one iteration each).

A step reads the gradient (``step, state = opt.update(g, state, W)``), for a search
optimiser the objective's value (``opt.update(None, state, W, value_fn=J_batch, rng=rng)``),
for a solver the objective itself (``opt.update(None, state, W, objective=J)``), then
``W <- W + step``. A solver's convergence ends the run with ``StopReason.CONVERGED``, its
failure (a line search that found no step, a non-finite value) with ``StopReason.STALLED`` and
the solver's explanation, the weights left at the last good point. :func:`batch_size_for` is
the one place that says which optimisers see the whole batch; :func:`runner_for` picks the
runner from the batch size.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol, cast

import numpy as np

from lingrad import _skinny, grad, optim
from lingrad._array_api import all_finite, device, namespace
from lingrad._validation import fail
from lingrad.optim.solvers import Solver, Status, explain
from lingrad.optim.solvers.base import check_array_api, flat, norm
from lingrad.train.callbacks import DivergenceGuard
from lingrad.train.sparse_steps import LazySteps, lazy_steps
from lingrad.train.state import STEP_KEYS, Stop, StopReason, TrainState

if TYPE_CHECKING:
    from lingrad.objective import Objective
    from lingrad.optim import Optimizer

#: a gradient method on the objective: ``(W, rows=None) -> (J, dJ/dW)``
GradFn = Callable[..., tuple[float, np.ndarray]]

#: A mini-batch step of at most this many elements of X (rows x features) runs BLAS on one
#: thread: below it, waking a second thread costs more than it saves (see benchmarks/).
SINGLE_THREAD_ELEMENTS = 2**20
_BLAS: Any = None  # threadpoolctl's controllers of the BLAS libraries, found on first use


def blas_threads(
    batch_rows: int, n_features: int, compiled: bool = False
) -> AbstractContextManager[object]:
    """A context that limits BLAS (and with ``compiled`` the compiled products of
    :mod:`lingrad._skinny`) to one thread for small batches (a no-op for large ones).

    Chosen once per run, not per step; the threadpoolctl controller is built once.

    Examples:
        >>> import contextlib
        >>> isinstance(blas_threads(10_000, 3_072), contextlib.nullcontext)
        True
    """
    global _BLAS
    if batch_rows * n_features > SINGLE_THREAD_ELEMENTS:
        return contextlib.nullcontext()
    if _BLAS is None:
        from threadpoolctl import ThreadpoolController

        _BLAS = ThreadpoolController().select(user_api="blas").lib_controllers
    if not compiled:
        return _OneBlasThread(_BLAS)
    stack = contextlib.ExitStack()
    stack.enter_context(_OneBlasThread(_BLAS))
    stack.enter_context(_one_compiled_thread())
    return stack


class _OneBlasThread(AbstractContextManager[None]):
    """BLAS libraries (threadpoolctl's handles of them) held to one thread, each restored to
    its own count on exit: what ``ThreadpoolController.limit(limits=1, user_api="blas")``
    does, without re-reading every library's info (a tenth of a millisecond a fit). A library
    already on one thread (the caller's own limit) is left alone, on entry and on exit."""

    def __init__(self, libraries: list[Any]) -> None:
        self.libraries = libraries
        #: the libraries set to one thread on entry, each with its count before
        self.before: list[tuple[Any, int]] = []

    def __enter__(self) -> None:
        self.before = [(lib, n) for lib in self.libraries if (n := lib.num_threads) != 1]
        for lib, _ in self.before:
            lib.set_num_threads(1)

    def __exit__(self, *exc: object) -> None:
        for lib, threads in self.before:
            lib.set_num_threads(threads)


@contextlib.contextmanager
def _one_compiled_thread() -> Iterator[None]:
    """Numba's threads (those of :mod:`lingrad._skinny`'s loops) set to one, then restored."""
    _skinny.threads()  # imports Numba the way _skinny sets it up
    import numba

    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(before)


def batch_size_for(optimizer: str, n_samples: int, batch_size: int) -> int:
    """The examples per step for the optimiser named ``optimizer``: all ``n_samples`` for the
    full-batch ones (``gd`` and the searches, whose values from different mini-batches would
    not compare), else ``batch_size``. The estimators, the CLI and the Dask path all ask here.

    Examples:
        >>> batch_size_for("gd", 1000, 32), batch_size_for("adam", 1000, 32)
        (1000, 32)
    """
    return n_samples if optim.entry(optimizer).full_batch else batch_size


class Runner(Protocol):
    """Advances ``state`` by one epoch; returns the epoch's own logs (e.g. ``grad_norm``).

    Examples:
        >>> hasattr(Runner, "run_epoch")
        True
    """

    def run_epoch(self, state: TrainState) -> dict[str, float]: ...


class _InMemory:
    """The step shared by :class:`MiniBatch` and :class:`FullBatch`."""

    def __init__(
        self,
        objective: Objective,
        optimizer: Optimizer,
        *,
        batch_size: int,
        gradient: str,
        guard: DivergenceGuard,
        max_evaluations: int | None = None,
    ):
        self.objective = objective
        self.optimizer = optimizer
        self.reads = optim.check_reads(optimizer)
        #: whether X is NumPy (or sparse): else another array library, whose steps, gradient
        #: norms and mini-batch indices stay on X's library and device
        self.host = getattr(objective, "xp", np) is np
        if not self.host:  # (reading a NumPy X would check it)
            check_array_api(optimizer, objective.X)  # the optimisers written for any library
        self.batch_size = batch_size
        self.guard = guard
        self.max_evaluations = max_evaluations
        # One gather buffer for the shuffled mini-batches, reused by every step of every epoch
        # (none for a CSR X: a mini-batch is SciPy's row gather, a small CSR matrix).
        self.buffer: np.ndarray | None = None
        if batch_size < objective.n_samples and not objective.sparse and objective.xp is np:
            self.buffer = np.empty((batch_size, objective.n_features), dtype=objective.dtype)
        method = grad.get(gradient)  # checked for every optimiser, used by gradient ones
        grad.refuse_sparse(gradient, objective)
        self.grad_fn: GradFn | None = None
        if self.reads == "objective":
            if gradient != "analytic":
                fail("gradient", f"'analytic' for the solver {optimizer!r}", repr(gradient))
            cast(Solver, optimizer).check_objective(objective)
        if self.reads == "gradient":
            self.grad_fn = grad.fast(method, objective, out=self.buffer)
        #: plain SGD on CSR mini-batches: steps on the batch's rows only (sparse_steps)
        self.lazy = lazy_steps(objective, optimizer, gradient, batch_size)

    def batches(self, rng: np.random.Generator) -> list[np.ndarray | None]:
        raise NotImplementedError

    def run_epoch(self, state: TrainState) -> dict[str, float]:
        """The epoch's steps; its logs: ``loss``, the mean of the step losses weighted by the
        rows of each step (free: no pass over X of its own; for a solver ``J`` after its
        iteration, for gradient descent ``J`` before its step), and ``grad_norm``, the mean
        step gradient norm (a solver's convergence measure)."""
        if self.reads == "objective" and self.batch_size >= self.objective.n_samples:
            return self._solver_epoch(state)
        norms: list[float] = []
        first = len(state.steps["loss"])
        if self.lazy is not None:  # its steps write W in place: not the caller's array
            state.previous_W, state.W = state.W, state.W.copy()
        for rows in self.batches(state.rng):
            if not self.step(state, rows, norms):
                break
        else:  # every row was in a step whose loss and gradient were finite (or were checked)
            self.objective.finite_checked = True
        if self.lazy is not None:
            self.lazy.finish(state.W)
        losses = state.steps["loss"][first:]
        loss = math.nan
        if len(losses) == 1:
            loss = losses[0]
        elif losses:
            N, size = self.objective.n_samples, self.batch_size
            weights = np.full(len(losses), float(size))
            if len(losses) == -(-N // size):  # a full epoch: the last batch has the rest
                weights[-1] = N - size * (len(losses) - 1)
            loss = float(np.dot(losses, weights) / weights.sum())
        return {"loss": loss, "grad_norm": sum(norms) / len(norms) if norms else math.nan}

    def _solver_epoch(self, state: TrainState) -> dict[str, float]:
        """:meth:`run_epoch` for a solver: one iteration (no batches), its ``J`` and measure
        (``nan`` when it stopped before recording a step)."""
        norms: list[float] = []
        recorded = state.steps["loss"]
        first = len(recorded)
        if self.solve(state, norms):
            self.objective.finite_checked = True
        loss = recorded[-1] if len(recorded) > first else math.nan
        return {"loss": loss, "grad_norm": norms[0] if norms else math.nan}

    def threads(self, n_columns: int = 0) -> AbstractContextManager[object]:
        """The BLAS thread limit for this runner's steps (:func:`blas_threads`; with the
        ``n_columns`` of ``W`` it covers the compiled products too), entered once around the
        whole run: setting it costs more than a small problem's iteration."""
        rows_per_step = min(self.batch_size, self.objective.n_samples)
        compiled = n_columns > 0 and self.objective.compiled(n_columns)
        return blas_threads(rows_per_step, self.objective.n_features, compiled)

    def _value_fn(self, rows: np.ndarray | None) -> Callable[[np.ndarray], float]:
        objective, buffer = self.objective, self.buffer
        return lambda V: objective.value_and_grad_unchecked(V, rows, need_grad=False, out=buffer)[0]

    def step(self, state: TrainState, rows: np.ndarray | None, norms: list[float]) -> bool:
        """One optimiser step on ``rows``; ``False`` once the run must stop."""
        if self.reads == "objective":
            return self.solve(state, norms)
        rate = self.optimizer.rate(state.optimizer_state)
        if self.lazy is not None and rows is not None:
            return self.lazy_step(state, rows, rate, norms)
        if self.grad_fn is not None:  # set exactly when the optimiser reads the gradient
            value, g = self.grad_fn(state.W, rows)
            gnorm = float(np.sqrt(np.vdot(g, g))) if self.host else norm(flat(g, g.dtype))
            state.evaluations += 1
            state.first_loss = value if state.first_loss is None else state.first_loss
            problem = self.guard.problem(value, gnorm, state.first_loss)
            if problem:
                self.guard.end(state, problem, rate)
                return False
            step, state.optimizer_state = self.optimizer.update(g, state.optimizer_state, state.W)
        else:
            step, state.optimizer_state = self.optimizer.update(  # type: ignore[call-arg]
                None,
                state.optimizer_state,
                state.W,
                value_fn=self._value_fn(rows),
                rng=state.rng,
                max_evaluations=self.max_evaluations,
            )
            value, gnorm = state.optimizer_state.value, math.nan
            state.evaluations = state.optimizer_state.evaluations
        return self._apply(state, step, (value, rate, gnorm), norms)

    def lazy_step(
        self, state: TrainState, rows: np.ndarray, rate: float, norms: list[float]
    ) -> bool:
        """One SGD step of :mod:`lingrad.train.sparse_steps` (``W`` written in place)."""
        lazy = cast(LazySteps, self.lazy)
        value, gnorm, pending = lazy.gradient(state.W, rows)
        state.evaluations += 1
        state.first_loss = value if state.first_loss is None else state.first_loss
        problem = self.guard.problem(value, gnorm, state.first_loss)
        if problem:  # back to the weights at the start of the epoch (previous_W)
            lazy.finish(state.W)
            self.guard.end(state, problem, rate)
            return False
        if not lazy.apply(state.W, pending, rate):
            lazy.finish(state.W)
            problem = "the step made the weights non-finite"
            state.stop = self.guard.stop(state.epoch, state.iteration, problem, rate)
            return False
        opt_state = state.optimizer_state
        state.optimizer_state = opt_state._replace(count=opt_state.count + 1)
        return self._record(state, (value, rate, gnorm), norms)

    def solve(self, state: TrainState, norms: list[float]) -> bool:
        """One iteration of a solver; its convergence measure is the step's ``grad_norm``."""
        solver = cast(Solver, self.optimizer)
        step, progress = solver.update(
            None, state.optimizer_state, state.W, objective=self.objective
        )
        state.optimizer_state, state.evaluations = progress, progress.evaluations
        status, measure = progress.status, progress.measure  # an int (Status is an IntEnum)
        state.first_loss = progress.value if state.first_loss is None else state.first_loss
        if status in (Status.LINE_SEARCH_FAILED, Status.NON_FINITE):
            state.stop = Stop(StopReason.STALLED, explain(status, measure))
            return False
        if not self._apply(state, step, (progress.value, math.nan, measure), norms):
            return False
        if status == Status.CONVERGED:
            tol = solver.tol
            if measure <= tol:
                message = f"converged: convergence measure {measure:.3g} <= tol {tol:g}"
            else:  # a solver's other rule: J stopped decreasing (ftol)
                message = (
                    f"converged: the objective stopped decreasing in floating point, with the "
                    f"convergence measure at {measure:.3g} (tol {tol:g})"
                )
            state.stop = Stop(StopReason.CONVERGED, message)
            return False
        return True

    def _apply(
        self,
        state: TrainState,
        step: np.ndarray,
        figures: tuple[float, float, float],
        norms: list[float],
    ) -> bool:
        rate = figures[1]
        W_new = state.W + step
        if W_new.dtype != state.W.dtype:  # an optimiser's step must not upcast W
            fail("optimizer", f"steps in W's dtype {state.W.dtype}", W_new.dtype, TypeError)
        if not all_finite(W_new):
            problem = "the step made the weights non-finite"
            state.stop = self.guard.stop(state.epoch, state.iteration, problem, rate)
            return False
        state.previous_W, state.W = state.W, W_new
        return self._record(state, figures, norms)

    def _record(
        self, state: TrainState, figures: tuple[float, float, float], norms: list[float]
    ) -> bool:
        """Count the step and log its figures; ``False`` once the evaluation budget is spent."""
        value, rate, gnorm = figures
        state.iteration += 1
        norms.append(gnorm)
        steps = state.steps
        for key, v in zip(STEP_KEYS, (value, rate, gnorm, state.evaluations), strict=True):
            steps[key].append(float(v))
        if self.max_evaluations is not None and state.evaluations >= self.max_evaluations:
            message = f"evaluation budget reached ({state.evaluations} evaluations)"
            state.stop = Stop(StopReason.BUDGET, message)
            return False
        return True


class MiniBatch(_InMemory):
    """Mini-batch steps: one permutation per epoch (``rng.permutation(N)``), then contiguous
    slices of ``batch_size`` rows of it, gathered into one reused buffer. For X of another
    array library the permutation is still drawn on the host (the same rng stream, so the same
    batches as NumPy) and moved to X's device once per epoch, the batches gathered there by
    ``take`` (no buffer).

    Examples:
        >>> from lingrad.objective import Objective
        >>> from lingrad.optim import SGD
        >>> J = Objective("softmax", np.eye(4), [0, 1, 0, 1])
        >>> r = MiniBatch(J, SGD(0.1), batch_size=3, gradient="analytic",
        ...               guard=DivergenceGuard(100.0, 1e8))
        >>> [len(b) for b in r.batches(np.random.default_rng(0))]
        [3, 1]
    """

    def batches(self, rng: np.random.Generator) -> list[np.ndarray | None]:
        N, size = self.objective.n_samples, self.batch_size
        order = rng.permutation(N)
        if not self.host:  # one copy of the indices to X's device per epoch, slices in bounds
            X = self.objective.X
            order = namespace(X).asarray(order, device=device(X))
            return [order[s : min(s + size, N)] for s in range(0, N, size)]
        return [order[s : s + size] for s in range(0, N, size)]


class FullBatch(_InMemory):
    """One step per epoch on all N examples, no shuffling (gradient descent, the searches).

    Examples:
        >>> from lingrad.objective import Objective
        >>> from lingrad.optim import GradientDescent
        >>> guard = DivergenceGuard(100.0, 1e8)
        >>> J = Objective("softmax", np.eye(4), [0, 1, 0, 1])
        >>> opt = GradientDescent(0.1)
        >>> runner = FullBatch(J, opt, batch_size=4, gradient="analytic", guard=guard)
        >>> runner.batches(None)
        [None]
    """

    def batches(self, rng: np.random.Generator) -> list[np.ndarray | None]:
        return [None]


def runner_for(
    objective: Objective, optimizer: Optimizer, *, batch_size: int, **options: Any
) -> _InMemory:
    """:class:`FullBatch` when ``batch_size`` covers all N examples, else :class:`MiniBatch`
    (``options``: ``gradient``, ``guard``, ``max_evaluations``).

    Examples:
        >>> from lingrad.objective import Objective
        >>> from lingrad.optim import SGD
        >>> J = Objective("softmax", np.eye(4), [0, 1, 0, 1])
        >>> guard = DivergenceGuard(100.0, 1e8)
        >>> type(runner_for(J, SGD(0.1), batch_size=4, gradient="analytic", guard=guard)).__name__
        'FullBatch'
    """
    kind = FullBatch if batch_size >= objective.n_samples else MiniBatch
    return kind(objective, optimizer, batch_size=batch_size, **options)
