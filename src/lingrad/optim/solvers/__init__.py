"""Full-batch solvers that reach the optimum of the objective: one iteration per epoch.

* :class:`LBFGS`: limited-memory BFGS with a strong-Wolfe line search, for every smooth loss
  with an L2 (or no) regulariser;
* :class:`TrustRegionNewton`: trust-region Newton with truncated conjugate gradient (TRON), for
  every loss with a second derivative (:mod:`lingrad.curvature`) and an L2 (or no) regulariser;
* :class:`Continuation`: smoothing with continuation for the piecewise-linear losses (the
  hinge family) with an L2 penalty, certified by the duality gap;
* :class:`DualCD`: dual coordinate descent (liblinear's method) for the same losses, the
  unpenalised bias by the method of multipliers, certified by the same duality gap; on the
  small multi-class problems a first block that ends short is followed by
  :mod:`~lingrad.optim.solvers.interior`'s primal-dual interior-point method (Mehrotra's);
* :class:`SAGA`: incremental gradient with a table of past gradients (lazy on sparse rows),
  for the softmax and logistic losses with an L2 (or no) regulariser;
* :class:`FISTA`: accelerated proximal gradient for a smooth loss with an L1 or elastic-net
  penalty;
* :func:`auto`: the solver ``optimizer="auto"`` picks for a loss and a regulariser.

Every solver follows :mod:`lingrad.optim.solvers.base` (``reads == "objective"``).
"""

from __future__ import annotations

from lingrad import losses
from lingrad.optim.solvers.base import (
    Solver,
    SolverProgress,
    Status,
    explain,
    refuse,
    smooth_problem,
)
from lingrad.optim.solvers.continuation import Continuation, ContinuationState
from lingrad.optim.solvers.dualcd import DualCD, DualCDState
from lingrad.optim.solvers.fista import FISTA, FISTAState
from lingrad.optim.solvers.lbfgs import LBFGS, LBFGSState
from lingrad.optim.solvers.newton import NewtonState, TrustRegionNewton
from lingrad.optim.solvers.saga import SAGA, SAGAState


def auto(loss: str, regularizer: str = "l2") -> str:
    """The exact solver for ``loss`` and ``regularizer`` (names of :mod:`lingrad.losses` and
    :mod:`lingrad.regularizers`): the one the estimators and ``lingrad train`` use for
    in-memory data when ``optimizer="auto"``. A piecewise-linear loss gets ``"dualcd"`` (dual
    coordinate descent: on digits 2-3 x faster than ``"continuation"`` for the Weston-Watkins and
    Crammer-Singer hinges, and it converges for one versus all, where ``"continuation"`` does
    not; ``benchmarks/piecewise_solvers.py``), which refuses, naming both, any penalty but L2:
    no exact solver here takes a hinge loss with an L1 part; a smooth loss with an L1 part gets
    ``"fista"``; the rest ``"lbfgs"``.

    Examples:
        >>> auto("softmax"), auto("logistic", "none"), auto("svm"), auto("logistic", "l1")
        ('lbfgs', 'lbfgs', 'dualcd', 'fista')
    """
    spec = losses.spec(losses.canonical_name(loss))
    if not spec.smooth:
        return "dualcd"
    if regularizer in ("l1", "elastic_net"):
        return "fista"
    return "lbfgs"


__all__ = [
    "FISTA",
    "LBFGS",
    "SAGA",
    "Continuation",
    "ContinuationState",
    "DualCD",
    "DualCDState",
    "FISTAState",
    "LBFGSState",
    "NewtonState",
    "SAGAState",
    "Solver",
    "SolverProgress",
    "Status",
    "TrustRegionNewton",
    "auto",
    "explain",
    "refuse",
    "smooth_problem",
]
