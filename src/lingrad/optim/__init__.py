"""Optimisers: ``init(W) -> state`` and ``update(grad, state, W) -> (step, state)``.

Every optimiser follows the :class:`~lingrad.optim.base.Optimizer` protocol. Gradient
optimisers (:mod:`~lingrad.optim.gradient`, chains of :mod:`~lingrad.optim.transforms`) read a
gradient; search optimisers (:mod:`~lingrad.optim.search`) read the objective's value,
``update(None, state, W, value_fn=J, rng=rng)``. Each class says which through its ``reads``
attribute (``"gradient"`` or ``"value"``); each has ``rate(state)``, the learning rate (or step
size) of its next update, and ``observe(state, loss)``, called once per epoch (it reduces a
:class:`~lingrad.optim.schedules.ReduceOnPlateau` rate). :func:`state_to_arrays` and
:func:`state_from_arrays` turn a state into checkpoint arrays and JSON and back.

:func:`get` builds one from the command-line names with defaults that train well on
standardised data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lingrad._validation import fail
from lingrad.optim import schedules, solvers, transforms
from lingrad.optim.base import Optimizer, SearchProgress, check_reads
from lingrad.optim.gradient import SGD, Adam, AdamState, GradientDescent, SGDState
from lingrad.optim.schedules import ReduceOnPlateau, Schedule
from lingrad.optim.search import (
    GeneticSearch,
    GeneticState,
    RandomLocalSearch,
    RandomSearch,
    SearchState,
)
from lingrad.optim.solvers import FISTA, LBFGS, SAGA, Continuation, DualCD, TrustRegionNewton
from lingrad.optim.state import state_from_arrays, state_to_arrays


@dataclass(frozen=True)
class OptimizerEntry:
    """A registry line: the class, its default hyperparameters, which hyperparameter a
    learning rate (``--learning-rate``) sets (``None`` for a solver, whose line search or
    trust region picks each step), and whether it is meant to see the whole batch.

    Examples:
        >>> e = entry("momentum")
        >>> e.cls.__name__, e.defaults, e.rate_param, e.full_batch
        ('SGD', {'learning_rate': 0.02, 'momentum': 0.9}, 'learning_rate', False)
    """

    cls: type
    defaults: dict[str, Any] = field(default_factory=dict)
    rate_param: str | None = "learning_rate"
    full_batch: bool = False


OPTIMIZERS: dict[str, OptimizerEntry] = {
    "sgd": OptimizerEntry(SGD, {"learning_rate": 0.1}),
    "gd": OptimizerEntry(GradientDescent, {"learning_rate": 0.5}, full_batch=True),
    "momentum": OptimizerEntry(SGD, {"learning_rate": 0.02, "momentum": 0.9}),
    "nesterov": OptimizerEntry(SGD, {"learning_rate": 0.02, "momentum": 0.9, "nesterov": True}),
    "adam": OptimizerEntry(Adam, {"learning_rate": 0.005}),
    "random": OptimizerEntry(RandomSearch, {"scale": 0.1}, "scale", full_batch=True),
    "local": OptimizerEntry(RandomLocalSearch, {"step_size": 0.05}, "step_size", full_batch=True),
    "genetic": OptimizerEntry(
        GeneticSearch,
        {"mutation_rate": 0.5, "mutation_scale": 0.05},
        "mutation_scale",
        full_batch=True,
    ),
    "lbfgs": OptimizerEntry(LBFGS, {"tol": 1e-4}, None, full_batch=True),
    "newton": OptimizerEntry(TrustRegionNewton, {"tol": 1e-4}, None, full_batch=True),
    "continuation": OptimizerEntry(Continuation, {"tol": 1e-4}, None, full_batch=True),
    "dualcd": OptimizerEntry(DualCD, {"tol": 1e-4}, None, full_batch=True),
    "fista": OptimizerEntry(FISTA, {"tol": 1e-4}, None, full_batch=True),
    "saga": OptimizerEntry(SAGA, {"tol": 1e-4}, None, full_batch=True),
}
NAMES: tuple[str, ...] = tuple(OPTIMIZERS)


def entry(name: str) -> OptimizerEntry:
    """The registry line of ``name`` (one of :data:`NAMES`).

    Examples:
        >>> entry("gd").full_batch, entry("adam").cls.__name__
        (True, 'Adam')
    """
    if name not in OPTIMIZERS:
        fail("optimizer", f"one of {sorted(OPTIMIZERS)}", repr(name))
    return OPTIMIZERS[name]


def get(
    name: str,
    learning_rate: float | Schedule | ReduceOnPlateau | None = None,
    **hyperparameters: Any,
) -> Optimizer:
    """An optimiser by name, its defaults overridden by ``hyperparameters``.

    ``learning_rate`` (a float or a schedule) sets the optimiser's rate: the learning rate of a
    gradient method, the scale of random search, the step size of local search, the mutation
    scale of genetic search.

    Examples:
        >>> get("nesterov", 0.1)
        SGD(learning_rate=0.1, momentum=0.9, nesterov=True)
        >>> get("local").step_size
        0.05
        >>> get("sgd", schedules.get("plateau", 0.1)).learning_rate.factor
        0.5
    """
    line = entry(name)
    params = {**line.defaults, **hyperparameters}
    if learning_rate is not None:
        if line.rate_param is None:
            fail(
                "learning_rate",
                f"None for the solver {name!r} (its line search picks each step)",
                repr(learning_rate),
            )
        params[line.rate_param] = learning_rate
    try:
        return line.cls(**params)
    except TypeError as exc:
        fail("hyperparameters", f"parameters of {line.cls.__name__}", str(exc), TypeError)


__all__ = [
    "LBFGS",
    "NAMES",
    "OPTIMIZERS",
    "SGD",
    "Adam",
    "AdamState",
    "GeneticSearch",
    "GeneticState",
    "GradientDescent",
    "Optimizer",
    "OptimizerEntry",
    "RandomLocalSearch",
    "RandomSearch",
    "ReduceOnPlateau",
    "SGDState",
    "SearchProgress",
    "SearchState",
    "check_reads",
    "entry",
    "get",
    "schedules",
    "solvers",
    "state_from_arrays",
    "state_to_arrays",
    "transforms",
]
