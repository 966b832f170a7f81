"""Full-batch solvers that reach the optimum of the objective: one iteration per epoch.

* :class:`LBFGS`: limited-memory BFGS with a strong-Wolfe line search, for every smooth loss
  with an L2 (or no) regulariser;
* :class:`TrustRegionNewton`: trust-region Newton with truncated conjugate gradient (TRON), for
  every loss with a second derivative (:mod:`lingrad.curvature`) and an L2 (or no) regulariser;
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
from lingrad.optim.solvers.lbfgs import LBFGS, LBFGSState
from lingrad.optim.solvers.newton import NewtonState, TrustRegionNewton


def auto(loss: str, regularizer: str = "l2") -> str:
    """The exact solver for ``loss`` and ``regularizer`` (names of :mod:`lingrad.losses` and
    :mod:`lingrad.regularizers`): the one the estimators and ``lingrad train`` use for
    in-memory data when ``optimizer="auto"``.

    Examples:
        >>> auto("softmax"), auto("logistic", "none")
        ('lbfgs', 'lbfgs')
    """
    spec = losses.spec(losses.canonical_name(loss))
    del spec, regularizer
    return "lbfgs"


__all__ = [
    "LBFGS",
    "LBFGSState",
    "NewtonState",
    "Solver",
    "SolverProgress",
    "Status",
    "TrustRegionNewton",
    "auto",
    "explain",
    "refuse",
    "smooth_problem",
]
