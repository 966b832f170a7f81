"""Optimisers: ``init(W) -> state`` and ``update(grad, state, W) -> (step, state)``.

Gradient optimisers (:mod:`~lingrad.optim.gradient`) read a gradient; search optimisers
(:mod:`~lingrad.optim.search`) read the objective's value, ``update(value_fn, state, W, rng)``.
Each class says which through its ``uses`` attribute (``"gradient"`` or ``"value"``), and each has
``rate(state)``, the learning rate (or step size) of its next update.

:func:`get` builds one from the command-line names with defaults that train well on
standardised data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lingrad._validation import fail
from lingrad.optim import schedules
from lingrad.optim.gradient import SGD, Adam, AdamState, GradientDescent, SGDState
from lingrad.optim.search import (
    GeneticSearch,
    GeneticState,
    RandomLocalSearch,
    RandomSearch,
    SearchState,
)


@dataclass(frozen=True)
class OptimizerEntry:
    """A registry line: the class, its default hyperparameters, which hyperparameter a
    learning rate (``--lr``) sets, and whether it is meant to see the whole batch.

    Examples:
        >>> e = entry("momentum")
        >>> e.cls.__name__, e.defaults, e.rate_param, e.full_batch
        ('SGD', {'learning_rate': 0.02, 'momentum': 0.9}, 'learning_rate', False)
    """

    cls: type
    defaults: dict = field(default_factory=dict)
    rate_param: str = "learning_rate"
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


def get(name: str, learning_rate=None, **hyperparameters):
    """An optimiser by name, its defaults overridden by ``hyperparameters``.

    ``learning_rate`` (a float or a schedule) sets the optimiser's rate: the learning rate of a
    gradient method, the scale of random search, the step size of local search, the mutation
    scale of genetic search.

    Examples:
        >>> get("nesterov", 0.1)
        SGD(learning_rate=0.1, momentum=0.9, nesterov=True)
        >>> get("local").step_size
        0.05
    """
    line = entry(name)
    params = {**line.defaults, **hyperparameters}
    if learning_rate is not None:
        params[line.rate_param] = learning_rate
    try:
        return line.cls(**params)
    except TypeError as exc:
        fail("hyperparameters", f"parameters of {line.cls.__name__}", str(exc), TypeError)


__all__ = [
    "NAMES",
    "OPTIMIZERS",
    "SGD",
    "Adam",
    "AdamState",
    "GeneticSearch",
    "GeneticState",
    "GradientDescent",
    "OptimizerEntry",
    "RandomLocalSearch",
    "RandomSearch",
    "SGDState",
    "SearchState",
    "entry",
    "get",
    "schedules",
]
