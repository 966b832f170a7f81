"""The defaults of training: one table for the estimators and ``lingrad train``.

``optimizer="auto"`` resolves, by :func:`resolve_optimizer`, to the exact solver of the loss and
regulariser for in-memory data (:func:`lingrad.optim.solvers.auto`), to SGD for
``partial_fit`` (one pass over each chunk of a stream) and to L-BFGS on a Dask cluster. The
lecture's mini-batch SGD stays one argument away (``optimizer="sgd"``, ``--optimizer sgd``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lingrad import _skinny, _sparse_kernels, losses
from lingrad._validation import is_sparse
from lingrad.optim import solvers
from lingrad.optim.solvers import saga
from lingrad.optim.solvers.base import row_sqnorms

#: ``"auto"`` takes SAGA on sparse data where ``lam N / L`` is at least this (``L`` the largest
#: smoothness constant of one example's loss, see :func:`saga_condition`): on the text-like sets
#: of ``benchmarks/sparse_text.py`` (rows of unit norm, ``L = 1`` for the softmax), 16,000 x
#: 10,000, SAGA at scikit-learn's step takes 0.61-0.91 x L-BFGS's CPU time at
#: ``lam N = 0.01`` and goes lower (L-BFGS's ``tol = 1e-4`` stops 1.6 % above SAGA's ``J``),
#: 0.43 x at 0.03, 0.17 x at 0.1; at 0.003 L-BFGS is 2.7 x faster (SAGA's rate per pass falls
#: with ``lam N / L``). (At SAGA's former step ``1 / (3 L)`` the crossover was near 0.1.)
SAGA_MIN_CONDITION = 0.01

#: ``"auto"`` takes ``"continuation"`` over ``"dualcd"`` for a piecewise-linear loss on dense
#: data of at least ``HINGE_PRIMAL_MIN_ROWS`` rows and ``HINGE_PRIMAL_MIN_FEATURES`` features
#: where :func:`hinge_condition` (``lam N / max_i ||x_i||^2``) is at most
#: ``HINGE_PRIMAL_MAX_CONDITION``: weakly regularised, mid-size, dense. There dual coordinate
#: descent needs thousands of passes (many examples sit at the bound ``alpha = 1``; a
#: coordinate's step is ``lam N / ||x_i||^2`` of the dual's scale), while the primal
#: continuation's cost does not grow with it. Measured (``benchmarks/hinge_regimes.py``, CPU
#: seconds of one thread): issue 14's synthetic set at 4,000 x 256, lam = 1e-4 (condition
#: 1.1e-3), continuation certified a gap <= 1e-4 in 47 s (Weston-Watkins), 48 s (one versus
#: all) and 60 s (Crammer-Singer) where dualcd was still at gaps 2.9e-3, 6.4e-4 and 3.4e-3
#: after 90-96 s (LinearSVC one-vs-rest: 161 s, at its max_iter); at 8,000 x 256 (2.2e-3,
#: Weston-Watkins) 47 s against dualcd's gap 4.4e-3 after 100 s; at 1,200 x 64 (8.8e-4) the
#: two are on par (1.14), and on the shipped sets (at most 1,437 x 64) dualcd is 2-3 x faster.
#: The crossover in the condition (Weston-Watkins, 8,000 x 256, lam raised; CPU seconds, caps
#: of 60 s): 0.01: continuation 16.8 s, dualcd at gap 1.2e-4 after 64.6 s; 0.03: 20.0 against
#: 26.7 s; 0.1: 14.7 against 9.1 s; 0.3: 24.9 against 3.4 s. At issue 14's full 40,000 x 256
#: (0.011) continuation certified the three losses in 45 s (WW), 50 s (OvA) and 85 s (CS)
#: where dualcd took 645 s (WW) and LinearSVC 417 s (one-vs-rest, at its max_iter).
HINGE_PRIMAL_MIN_ROWS, HINGE_PRIMAL_MIN_FEATURES = 3_000, 128
HINGE_PRIMAL_MAX_CONDITION = 0.03


@dataclass(frozen=True)
class Defaults:
    """The default of each training parameter.

    Attributes:
        optimizer: ``"auto"`` (see :func:`resolve_optimizer`).
        regularizer: the penalty ``R``; ``lam``: its strength (objective = mean loss +
            ``lam * R(W)``; scikit-learn's ``C`` is ``1 / (lam * N)``).
        tol: the convergence tolerance: a solver's measure (``max |dJ/dW|`` for L-BFGS) or, for
            SGD, the least decrease of the epoch loss that counts as progress. 1e-4 as
            scikit-learn: L-BFGS stops on the measure and at the tolerance of
            ``LogisticRegression(solver="lbfgs")`` and, starting as L-BFGS-B does, follows the
            same iterates where the line searches agree (wine, digits: the same ``J`` to
            1e-15), so the default fit is scikit-learn's fit, not a looser one. Neither is the
            optimum (on nearly separable sets both stop 1e-3-1e-2 above ``min J``): pass a
            smaller ``tol`` for it (1e-6: within 3e-6 of ``min J`` on the shipped sets, in 2-3 x
            the iterations).
        max_iter: solver iterations, or epochs for the SGD family.
        n_iter_no_change: SGD epochs without a ``tol`` improvement before it stops.
        batch_size: examples per SGD step; ``schedule``: the learning-rate schedule.
        learning_rates: where the default rate differs from :data:`lingrad.optim.OPTIMIZERS`
            (Adam's 0.005 there has not converged in 100 epochs on small datasets).
        fallback: what ``"auto"`` takes on a Dask cluster, which runs only L-BFGS, where the
            exact solver is another (a hinge loss, an L1 penalty).
        validation_fraction: the share of the training data early stopping holds out.
        n_lams: the size of a cross-validated lambda grid; ``lam_range``: its strongest and
            weakest lambda (log-spaced between); ``cv``: the folds.

    Examples:
        >>> DEFAULTS.optimizer, DEFAULTS.lam, DEFAULTS.tol, DEFAULTS.max_iter
        ('auto', 0.0001, 0.0001, 1000)
    """

    optimizer: str = "auto"
    regularizer: str = "l2"
    lam: float = 1e-4
    tol: float = 1e-4
    max_iter: int = 1000
    n_iter_no_change: int = 5
    batch_size: int = 200
    schedule: str = "constant"
    learning_rates: dict[str, float] = field(default_factory=lambda: {"adam": 0.05})
    fallback: str = "adam"
    validation_fraction: float = 0.1
    n_lams: int = 10
    lam_range: tuple[float, float] = (1.0, 1e-6)
    cv: int = 5


DEFAULTS = Defaults()


def resolve_optimizer(
    optimizer: str,
    loss: str,
    regularizer: str = "l2",
    *,
    partial_fit: bool = False,
    dask: bool = False,
    sparse: bool = False,
    X: Any = None,
    lam: float | None = None,
) -> str:
    """The optimiser name ``optimizer`` stands for: itself, or for ``"auto"`` the exact solver
    of ``loss`` and ``regularizer`` in memory, ``"sgd"`` for ``partial_fit``, ``"lbfgs"`` on a
    Dask cluster (the fallback where the exact solver is not L-BFGS: a piecewise-linear loss, an
    L1 part). For sparse (CSR) data a piecewise-linear loss keeps ``"dualcd"`` (its compiled
    block reads CSR rows, liblinear's sparse-first cost); the softmax or logistic loss with an
    L2 penalty
    gets ``"saga"`` when the data ``X`` and ``lam`` are given and :func:`saga_condition` is at
    least :data:`SAGA_MIN_CONDITION` (with Numba installed and at least
    :data:`lingrad._sparse_kernels.MIN_NNZ` non-zeros: the compiled loops' load pays). For
    dense data a piecewise-linear loss gets ``"continuation"`` (primal smoothing with
    continuation) in place of ``"dualcd"`` where the data ``X`` and ``lam`` are given and the
    set is mid-size and weakly regularised (:data:`HINGE_PRIMAL_MAX_CONDITION`).

    Examples:
        >>> import numpy as np
        >>> resolve_optimizer("auto", "softmax"), resolve_optimizer("adam", "softmax")
        ('lbfgs', 'adam')
        >>> resolve_optimizer("auto", "softmax", partial_fit=True)
        'sgd'
        >>> resolve_optimizer("auto", "hinge"), resolve_optimizer("auto", "hinge", dask=True)
        ('dualcd', 'adam')
        >>> resolve_optimizer("auto", "hinge", sparse=True)
        'dualcd'
        >>> import scipy.sparse as sp
        >>> X = sp.random_array((20_000, 100), density=0.02, format="csr", rng=0)
        >>> resolve_optimizer("auto", "softmax", sparse=True, X=X, lam=1e-4)  # lam N / L > 0.1
        'saga'
        >>> resolve_optimizer("auto", "softmax", sparse=True, X=X, lam=1e-7)
        'lbfgs'
        >>> X = np.random.default_rng(0).standard_normal((4_000, 256))  # ||x||^2 ~ 256-370
        >>> resolve_optimizer("auto", "hinge", X=X, lam=1e-4)  # lam N / max ||x||^2 ~ 1e-3
        'continuation'
        >>> resolve_optimizer("auto", "hinge", X=X, lam=1e-2), resolve_optimizer(
        ...     "auto", "hinge", X=X[:500], lam=1e-4)  # better regularised; fewer rows
        ('dualcd', 'dualcd')
    """
    # for a smooth loss auto does not look at the data's size: trust-region Newton takes 8-11
    # iterations where L-BFGS takes 18-44 on the shipped sets, but each costs 6-15 passes (its
    # conjugate-gradient products), so it is slower on digits (2.2 x) and only on par on iris and
    # wine (benchmarks/newton_vs_lbfgs.py), and at tol 1e-4 it stops above scikit-learn's J on wine
    if optimizer != "auto":
        return optimizer
    if partial_fit:
        return "sgd"
    exact = solvers.auto(loss, regularizer)
    if sparse and exact == "lbfgs" and X is not None and lam is not None and not dask:
        return "saga" if _saga_pays(X, lam, loss, regularizer) else exact
    if exact == "dualcd" and not (sparse or dask) and X is not None and lam is not None:
        return "continuation" if _continuation_pays(X, lam, regularizer) else exact
    if not dask:
        return exact
    # the cluster runs only L-BFGS: where it is not the exact solver, the fallback
    return "lbfgs" if exact == "lbfgs" else DEFAULTS.fallback


def _continuation_pays(X: Any, lam: float, regularizer: str) -> bool:
    """Whether ``"continuation"`` is the default of a piecewise-linear loss on the dense ``X``:
    L2, enough rows and features, and :func:`hinge_condition` at most
    :data:`HINGE_PRIMAL_MAX_CONDITION` (the thresholds' measurements there)."""
    shape: tuple[int, ...] = tuple(getattr(X, "shape", ()))
    return (
        regularizer == "l2"
        and len(shape) == 2
        and not is_sparse(X)
        and shape[0] >= HINGE_PRIMAL_MIN_ROWS
        and shape[1] >= HINGE_PRIMAL_MIN_FEATURES
        and lam > 0
        and hinge_condition(X, lam) <= HINGE_PRIMAL_MAX_CONDITION
    )


def hinge_condition(X: Any, lam: float) -> float:
    """``lam N / max_i ||x_i||^2`` for ``X`` ``(N, D)`` (dense or CSR): the dual's curvature
    ``||x_i||^2 / (lam N)`` of one example's coordinate, inverted at the worst example. Dual
    coordinate descent needs more passes as it falls (each coordinate step moves little of the
    dual's box), the primal continuation does not.

    Examples:
        >>> import numpy as np
        >>> hinge_condition(np.array([[3.0, 4.0], [1.0, 0.0]]), 0.5)  # 0.5 * 2 / 25
        0.04
    """
    sqnorm = row_sqnorms(X)
    return float(lam * X.shape[0] / max(float(sqnorm.max(initial=0.0)), np.finfo(float).tiny))


def _saga_pays(X: Any, lam: float, loss: str, regularizer: str) -> bool:
    """Whether SAGA is the sparse default for ``X``: a loss and penalty it solves, the
    compiled loops, enough non-zeros, and :func:`saga_condition` high enough."""
    name = losses.canonical_name(loss)
    return (
        name in saga.KINDS
        and regularizer == "l2"
        and _skinny.AVAILABLE
        and X.nnz >= _sparse_kernels.MIN_NNZ
        and saga_condition(X, lam, name) >= SAGA_MIN_CONDITION
    )


def saga_condition(X: Any, lam: float, loss: str) -> float:
    """``lam N / L`` for a CSR ``X`` ``(N, D)``: ``L = k (max_i ||x_i||^2 + 1)``
    (:func:`lingrad.optim.solvers.saga.smoothness`: ``k`` 1/2 for the softmax and 1/4 for the
    logistic loss; the ``+ 1`` for the bias), SAGA's largest smoothness constant of one
    example's loss. SAGA's progress a pass grows with it (``lam N / L`` is ``N`` over the
    condition number ``L / lam``).

    Examples:
        >>> import numpy as np, scipy.sparse as sp
        >>> X = sp.csr_array(np.eye(4))                       # unit rows: L = 0.5 (1 + 1)
        >>> saga_condition(X, 0.25, "softmax")
        1.0
    """
    L = saga.smoothness(X, saga.KINDS[losses.canonical_name(loss)])
    return lam * X.shape[0] / L  # L >= k > 0 (the bias's + 1)
