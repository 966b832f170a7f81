"""What a full-batch solver is: the contract between the exact solvers and the one trainer.

A solver is an optimiser (:class:`lingrad.optim.Optimizer`) whose ``reads`` is
``"objective"``: each ``update`` is one iteration of the solver on the whole objective,

    state = solver.init(W)
    solver.check_objective(objective)          # once: refuses a loss/regulariser it cannot solve
    step, state = solver.update(None, state, W, objective=objective)
    W = W + step                               # one iteration = one epoch of the trainer

and its state has the fields of :class:`SolverProgress`: ``value`` (``J`` at ``W + step``),
``evaluations`` (passes over the data so far), ``measure`` (the solver's convergence measure at
``W + step``, compared with its ``tol``) and ``status`` (one of :class:`Status`). The trainer
stops with :attr:`~lingrad.train.StopReason.CONVERGED` at :attr:`Status.CONVERGED` and with the
last good weights and :func:`explain`'s message at a failure.

Every solver's state is a named tuple of arrays and numbers (no strings), so a checkpoint holds
it and a resumed solve continues bit for bit.
"""

from __future__ import annotations

import enum
import math
from typing import Any, Protocol, runtime_checkable

import numpy as np

from lingrad._array_api import device, namespace, numpy_dtype
from lingrad._validation import fail, is_sparse


class Status(enum.IntEnum):
    """Where a solver stands after an iteration (an int in its state, so checkpoints hold it).

    Examples:
        >>> Status(1) is Status.CONVERGED, int(Status.LINE_SEARCH_FAILED)
        (True, 2)
    """

    RUNNING = 0
    CONVERGED = 1
    LINE_SEARCH_FAILED = 2
    NON_FINITE = 3


#: Why a solver stopped, for people: the likely cause and what to try.
_MESSAGES = {
    Status.LINE_SEARCH_FAILED: (
        "the line search found no step that lowers the objective enough (at measure {measure:.3g}"
        "): the problem is badly scaled (standardise the features) or too ill-conditioned "
        "(raise lam; with lam = 0 on separable data no minimum exists)"
    ),
    Status.NON_FINITE: (
        "the objective or its gradient became non-finite: the features are badly scaled "
        "(standardise them) or lam is too small for the data"
    ),
}


def explain(status: int, measure: float) -> str:
    """A sentence for a failed ``status`` (naming the likely cause), ``""`` otherwise.

    Examples:
        >>> explain(Status.NON_FINITE, 1.0).startswith("the objective or its gradient")
        True
        >>> explain(Status.CONVERGED, 1e-9)
        ''
    """
    template = _MESSAGES.get(Status(status))
    return "" if template is None else template.format(measure=measure)


@runtime_checkable
class SolverProgress(Protocol):
    """The fields every solver's state declares, which the trainer reads.

    Examples:
        >>> import numpy as np
        >>> from lingrad.optim.solvers import LBFGS
        >>> state = LBFGS().init(np.zeros((3, 2)))
        >>> isinstance(state, SolverProgress), state.status, state.evaluations
        (True, 0, 0)
    """

    value: float
    evaluations: int
    measure: float
    status: int


class SolverBase:
    """What every solver shares: no learning rate (``rate`` is ``nan``: a line search or a
    trust region picks each step) and nothing to reduce on a plateau (``observe`` is the
    identity).

    Examples:
        >>> import numpy as np
        >>> from lingrad.optim.solvers import LBFGS
        >>> s = LBFGS()
        >>> state = s.init(np.zeros((2, 1)))
        >>> math.isnan(s.rate(state)), s.observe(state, 0.5) is state
        (True, True)
    """

    def rate(self, state: Any) -> float:
        """``nan``: a solver has no learning rate."""
        return math.nan

    def observe(self, state: Any, loss: float) -> Any:
        """The identity (nothing to reduce on a plateau)."""
        return state


@runtime_checkable
class Solver(Protocol):
    """A full-batch solver (``reads == "objective"``): the optimiser protocol's ``init``,
    ``rate`` (``nan``), ``observe``, plus ``tol``, ``check_objective(objective)`` and
    ``update(None, state, W, *, objective)``.

    Examples:
        >>> from lingrad.optim.solvers import LBFGS
        >>> isinstance(LBFGS(), Solver)
        True
    """

    tol: float

    def init(self, W: Any) -> Any: ...

    def check_objective(self, objective: Any) -> None: ...

    def update(
        self, grad: Any, state: Any, W: Any, *, objective: Any = None, **unused: Any
    ) -> tuple[Any, Any]: ...

    def rate(self, state: Any) -> float: ...

    def observe(self, state: Any, loss: float) -> Any: ...


def refuse(solver: str, what: str, instead: str) -> None:
    """The one message of a solver asked for a problem it cannot solve exactly.

    Examples:
        >>> refuse("newton", "the loss 'hinge'", "'continuation'")
        Traceback (most recent call last):
        ...
        ValueError: optimizer: expected a problem the solver 'newton' solves (use ...), got ...
    """
    fail("optimizer", f"a problem the solver {solver!r} solves (use {instead})", what)


def smooth_problem(solver: str, objective: Any) -> None:
    """Refuse, naming both, an objective that is not differentiable everywhere: a
    piecewise-linear loss (``loss_spec.smooth`` is False) or an L1 part in the regulariser.

    Examples:
        >>> import numpy as np
        >>> from lingrad.objective import Objective
        >>> smooth_problem("lbfgs", Objective("softmax", np.eye(2), [0, 1]))
        >>> smooth_problem("lbfgs", Objective("hinge", np.eye(2), [0, 1]))
        Traceback (most recent call last):
        ...
        ValueError: optimizer: expected a problem ... got the loss 'hinge' (piecewise linear, ...
    """
    spec = objective.loss_spec
    if not spec.smooth:
        refuse(
            solver,
            f"the loss {spec.name!r} (piecewise linear, not differentiable)",
            "'continuation'",
        )
    reg = objective.regularizer
    if objective.lam and reg.name != "none" and reg.l1_ratio > 0:
        refuse(solver, f"the regularizer {reg.name!r} (|w| is not differentiable at 0)", "'fista'")


def vector_dtype(W: Any) -> Any:
    """The dtype of a solver's vectors (memory pairs, directions, conjugate gradients) for
    weights ``W`` of any array library: float64 (what the NumPy path always used), except for
    float32 weights on an accelerator (a CUDA/ROCm/MPS tensor, a CuPy array), where they stay
    float32: float64 there runs at a fraction of the speed and would double the vectors' memory
    (``(2 m + 2) P`` numbers for L-BFGS).

    Examples:
        >>> import numpy as np
        >>> vector_dtype(np.zeros(2, dtype=np.float32))
        <class 'numpy.float64'>
    """
    if isinstance(W, np.ndarray):
        return np.float64
    xp = namespace(W)
    where = str(device(W)).lower()
    on_host = "cpu" in where or type(W).__module__.startswith("array_api_strict")
    return W.dtype if W.dtype == xp.float32 and not on_host else xp.float64


def flat(a: Any, dtype: Any) -> Any:
    """``a`` as a 1-D array in ``dtype`` on its library (no copy when it already is one).

    Examples:
        >>> import numpy as np
        >>> flat(np.ones((2, 2), dtype=np.float32), np.float64).tolist()
        [1.0, 1.0, 1.0, 1.0]
    """
    if isinstance(a, np.ndarray):
        return a.ravel().astype(dtype, copy=False)
    xp = namespace(a)
    return xp.astype(xp.reshape(a, (-1,)), dtype, copy=False)


def max_abs(g: Any) -> float:
    """``max_j |g_j|`` as a Python float (0 for an empty ``g``), on ``g``'s library.

    Examples:
        >>> import numpy as np
        >>> max_abs(np.array([1.0, -3.0]))
        3.0
    """
    if isinstance(g, np.ndarray):
        return float(max(g.max(), -g.min())) if g.size else 0.0
    xp = namespace(g)
    return float(xp.max(xp.abs(g))) if math.prod(g.shape) else 0.0


def norm(v: Any) -> float:
    """``||v||_2 = sqrt(v.v)`` of a 1-D array of any library, as a Python float (NumPy's
    ``linalg.norm`` of a real vector, to the bit).

    Examples:
        >>> import numpy as np
        >>> norm(np.array([3.0, 4.0]))
        5.0
    """
    return math.sqrt(float(v @ v))


def eps(dtype: Any) -> float:
    """The machine epsilon of a float dtype of any library.

    Examples:
        >>> import numpy as np
        >>> eps(np.float64) == 2.0**-52
        True
    """
    return float(np.finfo(numpy_dtype(dtype)).eps)


def check_array_api(optimizer: Any, X: Any) -> None:
    """Refuse, with a ``TypeError`` naming both, an optimiser that cannot run on ``X``'s array
    library: on data of another library than NumPy only the optimisers that declare
    ``array_api = True`` run (:class:`~lingrad.optim.solvers.LBFGS`,
    :class:`~lingrad.optim.solvers.TrustRegionNewton`, SGD, Adam and gradient descent); a
    wrapper's ``solver`` is read.

    Examples:
        >>> import numpy as np, array_api_strict as xs
        >>> from lingrad.optim import FISTA, SGD
        >>> check_array_api(FISTA(), np.zeros((2, 2)))      # NumPy: every optimiser
        >>> check_array_api(SGD(0.1), xs.zeros((2, 2)))
        >>> check_array_api(FISTA(), xs.zeros((2, 2)))
        Traceback (most recent call last):
        ...
        TypeError: optimizer: expected 'lbfgs', 'newton' or a gradient optimiser (sgd, ...
    """
    if isinstance(X, np.ndarray) or namespace(X) is np:
        return
    if getattr(getattr(optimizer, "solver", optimizer), "array_api", False):
        return
    library = f"{type(X).__module__.split('.')[0]}.{type(X).__name__}"
    fail(
        "optimizer",
        f"'lbfgs', 'newton' or a gradient optimiser (sgd, momentum, nesterov, adam, gd) for X of "
        f"{library} (convert X to NumPy for the others)",
        repr(optimizer),
        TypeError,
    )


def row_sqnorms(X: Any) -> np.ndarray:
    """``||x_i||^2`` ``(N,)`` float64 of the rows of ``X`` ``(N, D)``: NumPy's ``einsum`` on
    dense rows, ``np.bincount`` over the data of CSR ones (the same numbers up to the order of
    the sums: a few ulps, and equal where the sums are exact). What the row-wise solvers step
    by (dual coordinate descent's curvatures, SAGA's smoothness constant).

    Examples:
        >>> import scipy.sparse as sp
        >>> X = np.array([[3.0, 4.0], [0.0, 0.0]])
        >>> row_sqnorms(X).tolist(), row_sqnorms(sp.csr_array(X)).tolist()
        ([25.0, 0.0], [25.0, 0.0])
    """
    if not is_sparse(X):
        return np.einsum("ij,ij->i", X, X, dtype=np.float64)
    rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
    data = X.data.astype(np.float64)
    return np.bincount(rows, weights=data * data, minlength=X.shape[0])
