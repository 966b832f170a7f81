"""Optimisation as search: optimisers that read only the objective's value and a ``rng``.

The lecture's first two classes of methods for "finding the best W": random search and genetic
(population-based) search. They have the shape of the gradient optimisers, with the gradient
replaced by a function that evaluates the objective:

    state = opt.init(W)
    step, state = opt.update(None, state, W, value_fn=J, rng=rng)   # J(W) -> a float
    W = W + step

Each state counts the objective evaluations it has made (``state.evaluations``; with
``state.value`` the fields of :class:`~lingrad.optim.base.SearchProgress`), so that at an
equal budget of evaluations search and gradient methods can be compared on one curve (a
gradient step is one evaluation of ``J`` and ``dJ/dW`` together). The value kept in the state
is compared with the values of new candidates: call them with a full-batch ``value_fn`` (the
trainer refuses a smaller batch for these), since values from different mini-batches do not
compare.

Every ``update`` takes an optional ``max_evaluations``, the total budget counted in
``state.evaluations``: an update then makes at most the evaluations the budget has left, so a
run never spends more than it (the last generation of a genetic search is truncated).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, NamedTuple, TypeVar

import numpy as np

from lingrad._validation import check_int, check_positive, fail
from lingrad.optim import transforms as T
from lingrad.optim.schedules import ReduceOnPlateau, Schedule
from lingrad.optim.transforms import PlateauState

if TYPE_CHECKING:
    _S = TypeVar("_S", "SearchState", "GeneticState")


#: the objective's value at weights ``W``
ValueFn = Callable[[np.ndarray], float]


class SearchState(NamedTuple):
    """``count``: updates made; ``evaluations``: calls of ``value_fn``; ``value``: ``J`` at the
    current ``W`` (``inf`` before the first update); ``plateau``: the state of a
    :class:`~lingrad.optim.schedules.ReduceOnPlateau` scale (``None`` without one).

    Examples:
        >>> opt = RandomSearch(scale=1.0)
        >>> W = np.full((2, 1), 3.0)
        >>> state = opt.init(W)
        >>> state
        SearchState(count=0, evaluations=0, value=inf, plateau=None)
        >>> f, rng = lambda W: float(np.sum(W**2)), np.random.default_rng(0)
        >>> step, state = opt.update(None, state, W, value_fn=f, rng=rng)
        >>> state.count, state.evaluations, round(state.value, 3)
        (1, 2, 0.033)
    """

    count: int  # type: ignore[assignment]  # the field shadows tuple.count (a public name)
    evaluations: int
    value: float
    plateau: PlateauState | None = None


class GeneticState(NamedTuple):
    """``population``: ``(P, D + 1, C)`` candidates; ``fitness``: their values ``(P,)``, lower is
    better (``None`` before the first generation); the other fields as in :class:`SearchState`.

    Examples:
        >>> opt = GeneticSearch(population=4)
        >>> W = np.zeros((3, 2))
        >>> state = opt.init(W)
        >>> state.population is None
        True
        >>> f, rng = lambda W: float(np.sum(W**2)), np.random.default_rng(0)
        >>> step, state = opt.update(None, state, W, value_fn=f, rng=rng)
        >>> state.population.shape, state.fitness.shape, state.evaluations
        ((4, 3, 2), (4,), 4)
    """

    count: int  # type: ignore[assignment]  # the field shadows tuple.count (a public name)
    evaluations: int
    value: float
    population: np.ndarray | None
    fitness: np.ndarray | None
    plateau: PlateauState | None = None


def _check_rng(rng: object) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        fail("rng", "a numpy.random.Generator", type(rng).__name__, TypeError)
    return rng


def _arguments(
    value_fn: ValueFn | None, rng: np.random.Generator | None
) -> tuple[ValueFn, np.random.Generator]:
    """``value_fn`` and ``rng`` of a search update, refused by name when missing."""
    if value_fn is None:
        fail("value_fn", "a function W -> J(W) for a search update", None, TypeError)
    if rng is None:
        fail("rng", "a numpy.random.Generator for a search update", None, TypeError)
    return value_fn, _check_rng(rng)


def _current(value_fn: ValueFn, state: SearchState, W: np.ndarray) -> tuple[float, int]:
    """The value at ``W``, evaluated once on the first update (``evaluations`` counts it)."""
    if math.isinf(state.value):
        return float(value_fn(W)), state.evaluations + 1
    return state.value, state.evaluations


def _left(max_evaluations: int | None, evaluations: int, wanted: int) -> int:
    """How many of ``wanted`` evaluations the budget ``max_evaluations`` still allows."""
    if max_evaluations is None:
        return wanted
    check_int("max_evaluations", max_evaluations)
    return max(0, min(wanted, max_evaluations - evaluations))


def _keep_best(
    value_fn: ValueFn,
    state: SearchState,
    W: np.ndarray,
    rng: np.random.Generator,
    n_candidates: int,
    propose: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, SearchState]:
    """Try ``n_candidates`` weights from ``propose(noise) -> (candidate, step from W)`` with
    ``noise ~ N(0, 1)`` in W's dtype; return ``(the best candidate's step if it beats J(W),
    else 0; the next SearchState)``."""
    best, evaluations = _current(value_fn, state, W)
    step = np.zeros_like(W)
    for _ in range(n_candidates):
        candidate, move = propose(rng.standard_normal(W.shape, dtype=W.dtype))
        value = float(value_fn(candidate))
        evaluations += 1
        if value < best:
            best, step = value, move
    return step, SearchState(state.count + 1, evaluations, best, state.plateau)


class _Search:
    """What every search optimiser shares: it reads values; its scale (the field named by
    ``_scale_name``) is a float, a schedule, or a ``ReduceOnPlateau`` whose state lives in the
    state's ``plateau`` field (see :func:`~lingrad.optim.transforms.scale_by_rate`)."""

    reads: ClassVar[str] = "value"
    _scale_name: ClassVar[str]

    @property
    def _scale(self) -> float | Schedule | ReduceOnPlateau:
        return getattr(self, self._scale_name)

    def _check_scale(self) -> None:
        T.scale_by_rate(self._scale)

    def _initial_plateau(self) -> PlateauState | None:
        """The initial plateau state of a ``ReduceOnPlateau`` scale, else ``None``."""
        if isinstance(self._scale, ReduceOnPlateau):
            return T.scale_by_rate(self._scale).init(None)
        return None

    def rate(self, state: SearchState | GeneticState) -> float:
        """The scale of the next update: random search's draws, local search's step size, the
        genetic search's mutation scale.

        Examples:
            >>> from lingrad.optim.schedules import step_decay
            >>> opt = RandomLocalSearch(step_decay(1.0, step_size=1, gamma=0.5))
            >>> opt.rate(opt.init(np.zeros(1))), opt.rate(SearchState(2, 0, 1.0))
            (1.0, 0.25)
        """
        return T.current_rate(self._scale, state.count, state.plateau)

    def observe(self, state: _S, loss: float) -> _S:
        """The state after one watched loss (once per epoch): a ``ReduceOnPlateau`` scale
        (``scale``, ``step_size``, ``mutation_scale``) may drop; the identity otherwise.

        Examples:
            >>> from lingrad.optim.schedules import ReduceOnPlateau
            >>> opt = RandomLocalSearch(ReduceOnPlateau(0.4, factor=0.5, patience=0))
            >>> state = opt.init(np.zeros(1))
            >>> opt.rate(opt.observe(opt.observe(state, 1.0), 1.0))
            0.2
        """
        if state.plateau is None:
            return state
        return state._replace(plateau=T.scale_by_rate(self._scale).observe(state.plateau, loss))


class _KeepBestSearch(_Search):
    """Random and random local search: ``n_candidates`` draws ``d = scale * N(0, 1)`` per
    update, each the candidate itself (``_draws_fresh``, random search) or a perturbation
    ``W + d`` (local search); the best candidate is kept if it beats ``J(W)``."""

    _draws_fresh: ClassVar[bool] = False
    n_candidates: int  # a field of the dataclass subclasses

    def __post_init__(self) -> None:
        self._check_scale()
        check_int("n_candidates", self.n_candidates)

    def init(self, W: np.ndarray) -> SearchState:
        """The state before the first update: no evaluation yet, ``value = inf``.

        Examples:
            >>> RandomSearch().init(np.zeros(1))
            SearchState(count=0, evaluations=0, value=inf, plateau=None)
        """
        return SearchState(0, 0, math.inf, self._initial_plateau())

    def update(
        self,
        grad: np.ndarray | None,
        state: SearchState,
        W: np.ndarray,
        *,
        value_fn: ValueFn | None = None,
        rng: np.random.Generator | None = None,
        max_evaluations: int | None = None,
    ) -> tuple[np.ndarray, SearchState]:
        """``(step, next state)``: ``grad`` is ignored (pass ``None``); ``value_fn`` and
        ``rng`` are required (see the class). With ``max_evaluations`` (the total budget) only
        the candidates the budget has left are tried (``J(W)`` itself is always evaluated once).

        Examples:
            >>> opt = RandomSearch()
            >>> opt.update(None, opt.init(np.zeros(1)), np.zeros(1), value_fn=abs)
            Traceback (most recent call last):
                ...
            TypeError: rng: expected a numpy.random.Generator for a search update, got None
        """
        value_fn, rng = _arguments(value_fn, rng)
        scale = W.dtype.type(self.rate(state))

        def propose(noise: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            drawn = scale * noise
            return (drawn, drawn - W) if self._draws_fresh else (W + drawn, drawn)

        n = self.n_candidates
        if max_evaluations is not None:
            n = _left(max_evaluations, state.evaluations + math.isinf(state.value), n)
        return _keep_best(value_fn, state, W, rng, n, propose)


@dataclass(frozen=True)
class RandomSearch(_KeepBestSearch):
    """Random search (CS231n): draw fresh weights, keep the best seen.

    Each update draws ``n_candidates`` independent ``W' = scale * N(0, 1)`` (bias included) and
    returns ``step = W'_best - W`` if ``J(W'_best) < J(W)``, else ``step = 0``.

    Examples:
        >>> opt = RandomSearch(scale=1.0)
        >>> f = lambda W: float(np.sum(W**2))
        >>> W = np.full((2, 1), 3.0)
        >>> rng = np.random.default_rng(0)
        >>> step, state = opt.update(None, opt.init(W), W, value_fn=f, rng=rng)
        >>> state.evaluations, state.value < f(W)
        (2, True)
    """

    scale: float | Schedule | ReduceOnPlateau = 1.0
    n_candidates: int = 1

    _scale_name: ClassVar[str] = "scale"

    _draws_fresh: ClassVar[bool] = True


@dataclass(frozen=True)
class RandomLocalSearch(_KeepBestSearch):
    """Random local search: perturb the current weights, keep the change if it helps.

    Each update tries ``n_candidates`` perturbations ``W' = W + sigma_t * N(0, 1)`` and returns
    ``step = W'_best - W`` if ``J(W'_best) < J(W)``, else ``step = 0`` (``sigma_t``: the step
    size, a float or a schedule).

    Examples:
        >>> opt = RandomLocalSearch(step_size=0.5)
        >>> f = lambda W: float(np.sum(W**2))
        >>> W = np.full((2, 1), 3.0)
        >>> state, rng = opt.init(W), np.random.default_rng(0)
        >>> for _ in range(50):
        ...     step, state = opt.update(None, state, W, value_fn=f, rng=rng)
        ...     W = W + step
        >>> state.evaluations, bool(f(W) < 1.0)
        (51, True)
    """

    step_size: float | Schedule | ReduceOnPlateau = 0.05
    n_candidates: int = 1

    _scale_name: ClassVar[str] = "step_size"


@dataclass(frozen=True)
class GeneticSearch(_Search):
    """A genetic algorithm over weight matrices: population, selection, crossover, mutation,
    elitism.

    Generation 0 is ``W`` and ``P - 1`` mutants ``W + sigma N(0, 1)``. Each update then breeds
    one generation:

    * **elitism**: the ``elite`` best candidates pass unchanged;
    * **selection**: each other child has two parents, each the best of ``tournament``
      candidates drawn at random;
    * **crossover**: uniform, each weight taken from either parent with probability 1/2;
    * **mutation**: each weight gets ``+ sigma_t N(0, 1)`` with probability ``mutation_rate``;

    and returns ``step = (best of the new population) - W``. A generation costs ``P - elite``
    evaluations (``P`` for generation 0); with ``elite >= 1`` the best value never rises.

    Examples:
        >>> opt = GeneticSearch(population=8, mutation_rate=0.5, mutation_scale=0.5)
        >>> W, f = np.full((2, 1), 3.0), lambda W: float(np.sum(W**2))
        >>> state, rng = opt.init(W), np.random.default_rng(0)
        >>> for _ in range(20):
        ...     step, state = opt.update(None, state, W, value_fn=f, rng=rng)
        ...     W = W + step
        >>> state.evaluations, state.population.shape, bool(f(W) < 1.0)
        (122, (8, 2, 1), True)
    """

    population: int = 20
    elite: int = 2
    tournament: int = 3
    mutation_rate: float = 0.2
    mutation_scale: float | Schedule | ReduceOnPlateau = 0.1

    _scale_name: ClassVar[str] = "mutation_scale"

    def __post_init__(self) -> None:
        check_int("population", self.population, minimum=2)
        check_int("elite", self.elite, minimum=0)
        if self.elite >= self.population:
            fail("elite", f"fewer than the population ({self.population})", self.elite)
        check_int("tournament", self.tournament)
        rate = check_positive("mutation_rate", self.mutation_rate)
        if rate > 1:
            fail("mutation_rate", "a probability in (0, 1]", rate)
        self._check_scale()

    def init(self, W: np.ndarray) -> GeneticState:
        """The state before the first generation: no population yet, ``value = inf``.

        Examples:
            >>> state = GeneticSearch().init(np.zeros(1))
            >>> state.count, state.evaluations, state.value, state.population, state.plateau
            (0, 0, inf, None, None)
        """
        return GeneticState(0, 0, math.inf, None, None, self._initial_plateau())

    def _select(self, fitness: np.ndarray, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` tournament winners: the index of the lowest value among ``tournament`` draws."""
        entrants = rng.integers(0, fitness.shape[0], size=(n, self.tournament))
        return entrants[np.arange(n), np.argmin(fitness[entrants], axis=1)]

    def _breed(
        self, state: GeneticState, W: np.ndarray, sigma: np.floating, rng: np.random.Generator
    ) -> np.ndarray:
        """``P - elite`` children: tournament parents, uniform crossover, mutation."""
        assert state.population is not None and state.fitness is not None
        n_children = self.population - self.elite
        mothers = self._select(state.fitness, rng, n_children)
        fathers = self._select(state.fitness, rng, n_children)
        mask = rng.random((n_children, *W.shape)) < 0.5
        children = np.where(mask, state.population[mothers], state.population[fathers])
        mutate = rng.random(children.shape) < self.mutation_rate
        noise = sigma * rng.standard_normal(children.shape, dtype=W.dtype)
        return children + np.where(mutate, noise, W.dtype.type(0))

    def update(
        self,
        grad: np.ndarray | None,
        state: GeneticState,
        W: np.ndarray,
        *,
        value_fn: ValueFn | None = None,
        rng: np.random.Generator | None = None,
        max_evaluations: int | None = None,
    ) -> tuple[np.ndarray, GeneticState]:
        """``(step, next state)``: one generation; ``grad`` is ignored (pass ``None``),
        ``value_fn`` and ``rng`` are required.

        With ``max_evaluations`` (the total budget, counted in ``state.evaluations``) the
        generation is **truncated**: only the first candidates the budget has left are
        evaluated; the others keep fitness ``+inf`` (never the best, and they lose every
        tournament against an evaluated candidate), so ``evaluations <= max_evaluations``;
        once the budget is spent an update is a no-op (step 0, the same state).

        Examples:
            >>> opt = GeneticSearch(population=3)
            >>> opt.update(None, opt.init(np.zeros(1)), np.zeros(1), rng=np.random.default_rng())
            Traceback (most recent call last):
                ...
            TypeError: value_fn: expected a function W -> J(W) for a search update, got None
            >>> opt, W = GeneticSearch(population=4, elite=1), np.ones(2)
            >>> f, rng = lambda W: float(np.sum(W**2)), np.random.default_rng(0)
            >>> _, state = opt.update(None, opt.init(W), W, value_fn=f, rng=rng)
            >>> _, state = opt.update(None, state, W, value_fn=f, rng=rng, max_evaluations=5)
            >>> state.evaluations, int(np.isinf(state.fitness).sum())  # 4, then 1 of 3 children
            (5, 2)
        """
        value_fn, rng = _arguments(value_fn, rng)
        if _left(max_evaluations, state.evaluations, 1) == 0:
            return np.zeros_like(W), state  # the budget is spent: a no-op
        sigma = W.dtype.type(self.rate(state))
        P = self.population
        if state.population is None or state.fitness is None:  # generation 0 (both None)
            population = W + sigma * rng.standard_normal((P, *W.shape), dtype=W.dtype)
            population[0] = W
            kept, candidates = np.empty((0,), dtype=np.float64), population
        else:
            elite = np.argsort(state.fitness, kind="stable")[: self.elite]
            candidates = self._breed(state, W, sigma, rng)
            population = np.concatenate([state.population[elite], candidates])
            kept = state.fitness[elite]
        n = _left(max_evaluations, state.evaluations, len(candidates))
        new_fitness = np.full(len(candidates), np.inf)
        new_fitness[:n] = [value_fn(w) for w in candidates[:n]]
        fitness = np.concatenate([kept, new_fitness])
        best = int(np.argmin(fitness))
        step = population[best] - W
        value = float(fitness[best])
        return step, GeneticState(
            state.count + 1, state.evaluations + n, value, population, fitness, state.plateau
        )
