"""FISTA: accelerated proximal gradient for a smooth loss with an L1 or elastic-net penalty
(Beck & Teboulle 2009, with backtracking; adaptive restart of O'Donoghue & Candes 2015).

The objective splits into a smooth part ``f`` and the L1 part ``g`` (``r`` the ``l1_ratio``,
``V`` the regularised rows: ``W[:-1]``, all of ``W`` with ``include_bias``):

    F(W) = f(W) + g(W),   f = mean loss + lam (1 - r) 0.5 ||V||^2,   g = lam r ||V||_1

    prox_{g/L}(Z) = soft-threshold of Z's regularised rows by lam r / L:
                    sign(z) max(|z| - lam r / L, 0); the bias row is left alone.

One iteration from ``x_k`` (with ``x_{k-1}`` and ``t_k`` in the state):

    y = x_k + ((t_k - 1) / t_{k+1}) (x_k - x_{k-1}),   t_{k+1} = (1 + sqrt(1 + 4 t_k^2)) / 2
    x+ = prox_{g/L}(y - grad f(y) / L),  L doubled until
         f(x+) <= f(y) + <grad f(y), x+ - y> + (L/2) ||x+ - y||^2      (L shrinks by 0.9 first)

Restart: when ``F(x+) > F(x_k)`` the momentum step is rejected (a zero step) and the next
iteration is a plain proximal-gradient step from ``x_k`` (``t = 1``), which never increases F.
The measure is the minimum-norm subgradient of ``F`` at ``x+`` in max-abs, per entry

    grad f + lam r sign(x)               where x != 0 (or a bias entry: grad f)
    sign(grad f) max(|grad f| - lam r, 0)  where x == 0,

zero exactly at the optimum; it stops at ``measure <= tol`` (or when a plain step no longer
moves W in floating point). ``f`` and its gradient are the objective's
``value_and_grad_unchecked`` less the L1 part's value and sign subgradient: one pass per trial.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, NamedTuple

import numpy as np

from lingrad._validation import check_positive
from lingrad.optim.solvers.base import SolverBase, Status, refuse


class FISTAState(NamedTuple):
    """``previous``: ``x_{k-1}`` (``None`` before the first iteration); ``grad``: ``grad f``
    at the current W; ``smooth``: ``f`` there; ``t``: the momentum sequence; ``lipschitz``:
    the step's ``L``; ``value``: ``F`` at the current W; ``evaluations``: passes over the
    data; ``measure``: the minimum-norm subgradient (max-abs); ``status``: a
    :class:`~lingrad.optim.solvers.base.Status`.

    Examples:
        >>> s = FISTA().init(np.zeros((3, 2)))
        >>> s.previous is None, s.t, s.lipschitz
        (True, 1.0, 1.0)
    """

    previous: np.ndarray | None
    grad: np.ndarray | None
    smooth: float
    t: float
    lipschitz: float
    value: float
    evaluations: int
    measure: float
    status: int


class _Split:
    """``F = f + g`` of an objective: ``__call__(W) -> (F, f, grad f)`` in one pass, the prox of
    ``g`` and the minimum-norm subgradient of ``F``."""

    def __init__(self, objective: Any):
        self.objective = objective
        reg = objective.regularizer
        self.c = float(objective.lam) * reg.l1_ratio if reg.name != "none" else 0.0
        self.include_bias = reg.include_bias

    def part(self, W: np.ndarray) -> np.ndarray:
        """The regularised rows of ``W`` (a view)."""
        return W if self.include_bias else W[:-1]

    def __call__(self, W: np.ndarray) -> tuple[float, float, np.ndarray]:
        value, grad = self.objective.value_and_grad_unchecked(W)
        V = self.part(W)
        smooth = value - self.c * float(np.abs(V).sum(dtype=np.float64))
        self.part(grad)[...] -= self.c * np.sign(V)
        return value, smooth, grad

    def prox(self, Z: np.ndarray, step: float) -> np.ndarray:
        """Soft-threshold ``Z``'s regularised rows by ``c * step`` (in place), ``Z`` back."""
        V = self.part(Z)
        V[...] = np.sign(V) * np.maximum(np.abs(V) - self.c * step, 0.0)
        return Z

    def measure(self, W: np.ndarray, grad: np.ndarray) -> float:
        """``max |minimum-norm subgradient of F at W|`` (see the module docstring)."""
        G = grad.copy()
        V, g = self.part(W), self.part(G)
        g[...] = np.where(
            V != 0, g + self.c * np.sign(V), np.sign(g) * np.maximum(np.abs(g) - self.c, 0.0)
        )
        return float(np.abs(G).max()) if G.size else 0.0


class FISTA(SolverBase):
    """Accelerated proximal gradient with backtracking and restart (see the module docstring),
    for a smooth loss with an ``l1``/``elastic_net`` penalty (an L2 or no penalty works too).

    Args:
        tol: stop when the minimum-norm subgradient's largest entry is at most ``tol``.
        lipschitz: the first estimate of ``L`` (then doubled or shrunk as needed).

    Examples:
        >>> from lingrad.objective import Objective
        >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
        >>> J = Objective("logistic", X, [0, 1, 1, 0], regularizer="l1", lam=0.1)
        >>> solver, W = FISTA(tol=1e-10), J.check_weights(np.zeros((3, 1)))
        >>> state = solver.init(W)
        >>> while state.status == 0:
        ...     step, state = solver.update(None, state, W, objective=J)
        ...     W = W + step
        >>> state.measure <= 1e-10, bool(W[1, 0] == 0.0)      # the second feature is dropped
        (True, True)
    """

    reads: ClassVar[str] = "objective"

    def __init__(self, tol: float = 1e-4, lipschitz: float = 1.0):
        self.tol = check_positive("tol", tol, allow_zero=True)
        self.lipschitz = check_positive("lipschitz", lipschitz)

    def __repr__(self) -> str:
        return f"FISTA(tol={self.tol:g})"

    def check_objective(self, objective: Any) -> None:
        """Refuse a piecewise-linear loss (not smooth: use ``'continuation'``), naming both."""
        spec = objective.loss_spec
        if not spec.smooth:
            reg = objective.regularizer.name
            refuse(
                "fista",
                f"the piecewise-linear loss {spec.name!r} (with the regularizer {reg!r})",
                "'continuation' with regularizer='l2'",
            )

    def init(self, W: np.ndarray) -> FISTAState:
        """No previous point, ``t = 1``, ``L = lipschitz``."""
        inf = math.inf
        return FISTAState(None, None, inf, 1.0, self.lipschitz, inf, 0, inf, int(Status.RUNNING))

    def update(
        self,
        grad: np.ndarray | None,
        state: FISTAState,
        W: np.ndarray,
        *,
        objective: Any = None,
        value_fn: Any = None,
        rng: Any = None,
    ) -> tuple[np.ndarray, FISTAState]:
        """One FISTA iteration: ``(x+ - W, state)``, a zero step when a restart rejects it."""
        if objective is None:
            raise TypeError("FISTA.update needs objective= (it reads the objective itself)")
        split, zero = _Split(objective), np.zeros_like(W)
        if state.grad is None:
            value, smooth, g = split(W)
            state = state._replace(
                grad=g, smooth=smooth, value=value, evaluations=state.evaluations + 1
            )
        t_next = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * state.t * state.t))
        beta = 0.0 if state.previous is None else (state.t - 1.0) / t_next
        evaluations = state.evaluations
        y, f_y, g_y = W, state.smooth, state.grad
        if beta > 0:
            y = W + W.dtype.type(beta) * (W - state.previous)
            _, f_y, g_y = split(y)
            evaluations += 1
        assert g_y is not None  # set above on the first iteration
        trial = self._backtrack(split, y, f_y, g_y, 0.9 * state.lipschitz)
        if trial is None or not math.isfinite(trial[2]):
            failed = Status.NON_FINITE if trial is not None else Status.LINE_SEARCH_FAILED
            return zero, state._replace(evaluations=evaluations + 60, status=int(failed))
        x_new, L, value, smooth, g_new, passes = trial
        evaluations += passes
        if beta > 0 and value > state.value:  # restart: no momentum, a plain step next
            restart = state._replace(previous=W, t=1.0, lipschitz=L, evaluations=evaluations)
            return zero, restart
        measure = split.measure(x_new, g_new)
        done = measure <= self.tol or (beta == 0 and np.array_equal(x_new, W))  # or stuck
        status = Status.CONVERGED if done else Status.RUNNING
        figures = (smooth, t_next, L, value, evaluations, measure, int(status))
        return x_new - W, FISTAState(W, g_new, *figures)

    @staticmethod
    def _backtrack(split: _Split, y: np.ndarray, f_y: float, g_y: np.ndarray, L: float) -> Any:
        """``(x+, L, F(x+), f(x+), grad f(x+), passes)`` for the first ``L`` (doubling from
        the given one) with the sufficient decrease of the module docstring; ``None`` after 60
        doublings."""
        for passes in range(1, 61):
            x_new = split.prox(y - g_y / y.dtype.type(L), 1.0 / L)
            value, smooth, g_new = split(x_new)
            d = (x_new - y).ravel().astype(np.float64)
            model = f_y + float(g_y.ravel().astype(np.float64) @ d) + 0.5 * L * float(d @ d)
            if not math.isfinite(value) or smooth <= model + 1e-12 * max(abs(f_y), 1.0):
                return x_new, L, value, smooth, g_new, passes
            L *= 2.0
        return None
