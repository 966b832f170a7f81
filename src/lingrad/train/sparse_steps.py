"""Lazy mini-batch SGD steps on a CSR ``X``: a step touches only the rows of ``W`` that the
batch's non-zero columns (and the bias) name, never all ``D + 1`` of them.

A dense SGD step with an L2 penalty (``R = 0.5 ||W[:-1]||^2``, the bias row excluded) is

    W[:-1] <- (1 - r lam) W[:-1] - r G,      W[-1] <- W[-1] - r g,
    G = X_b^T dS (zero outside the batch's columns),   g = sum_i dS_i,

so on text (a batch of 200 rows names ~5 % of 50,000 columns) it rewrites ~20 x the rows it
has to: zeroing the gradient, adding ``lam W``, the update. Bottou's trick (also scikit-learn's
``sgd_fast``) keeps ``W[:-1] = a V`` with a scalar ``a``: the shrink is ``a <- (1 - r lam) a``
and the data part ``V[cols] <- V[cols] - (r / a) G[cols]``, on the touched rows only. The batch
scores are ``S = a (X_b V[cols]) + W[-1]``, computed on the batch compacted to its columns; the
objective's L2 value ``0.5 a^2 ||V||^2`` and the gradient norm come from a running ``||V||^2``:

    ||dJ/dW||^2 = lam^2 a^2 ||V||^2 + 2 lam a <V[cols], G> + ||G||^2 + ||g||^2.

While an epoch runs, the trainer's ``W[:-1]`` holds ``V``; :meth:`LazySteps.finish` writes
``a V`` back (the runner calls it at the end of the epoch); when ``|a|`` falls below
:data:`RESCALE` it is folded into ``V`` at once (one dense multiply).

What applies (:func:`lazy_steps` answers ``None`` otherwise, and the runner takes its dense
steps): a CSR objective, mini-batches, the analytic gradient, :class:`lingrad.optim.SGD`
without momentum (any learning rate: a float, a schedule, ``ReduceOnPlateau``), and an L2 or
no regulariser on the weights only. Momentum, Nesterov and Adam keep a velocity that moves
every row at every step, and the L1 part's sign step moves every non-zero row: these keep the
dense step.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from lingrad.objective import Objective
from lingrad.optim import SGD

#: ``|a|`` below this is folded into ``V`` (``V *= a``, ``a = 1``) before it loses precision.
RESCALE = 1e-9


class LazySteps:
    """Plain SGD steps on a CSR objective that touch only the batch's rows of ``W``.

    ``W`` ``(D + 1, C)`` is the trainer's array, written in place: between :meth:`gradient`
    calls its rows ``0..D-1`` hold ``V`` with ``W_true[:-1] = a V``; :meth:`finish` makes it
    the true weights again. One step: ``pending = gradient(W, rows)`` (the batch value, the
    gradient norm and what the update needs), then ``apply(W, pending, rate)``.

    Examples:
        >>> import scipy.sparse as sp
        >>> X = sp.csr_array(np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 2.0]]))
        >>> steps = LazySteps(Objective("softmax", X, [0, 1], lam=0.5))
        >>> W = np.ones((4, 2))
        >>> value, gnorm, pending = steps.gradient(W, np.array([0, 1]))
        >>> steps.apply(W, pending, 0.1)
        True
        >>> steps.finish(W)
        >>> W[1].tolist()       # column 1 is in no row: only the shrink (1 - 0.1 * 0.5)
        [0.95, 0.95]
    """

    def __init__(self, objective: Objective) -> None:
        self.objective = objective
        self.lam = objective.lam if objective.regularizer.name != "none" else 0.0
        self.a = 1.0
        self.sq: float | None = None  # ||V||^2, from the first step on

    def gradient(
        self, W: npt.NDArray[np.floating], rows: npt.NDArray[np.integer]
    ) -> tuple[float, float, tuple[Any, ...]]:
        """``(J_batch(W_true), ||dJ_batch/dW||, pending)`` at the current weights.

        ``J_batch = sum_i c_i L(S_i, y_i) + lam/2 a^2 ||V||^2`` with ``c_i = 1/n`` (or the
        batch's normalised example weights), as ``Objective.value_and_grad(W, rows)``.
        """
        J = self.objective
        if self.sq is None:
            self.sq = _dot(W[:-1], W[:-1])
        Xb: Any = J.X[rows]
        cols, local = np.unique(Xb.indices, return_inverse=True)
        Xc = sp.csr_array(
            (Xb.data, local.astype(Xb.indices.dtype), Xb.indptr), (len(rows), len(cols))
        )
        Vc = np.take(W, cols, axis=0)
        S = Xc @ Vc
        S *= S.dtype.type(self.a)
        S += W[-1]
        per_example, dS = J.loss_spec.kernel(S, J.targets(W.shape[1])[rows], **J.loss_params)
        w = J.sample_weight
        coef = np.full(len(rows), 1.0 / len(rows)) if w is None else w[rows] / w[rows].sum()
        dS *= coef.astype(dS.dtype, copy=False)[:, None]
        G = Xc.T @ dS
        g = dS.sum(axis=0) if J.fit_intercept else np.zeros_like(W[-1])
        value = float(per_example @ coef) + self.lam * 0.5 * self.a**2 * self.sq
        lam_a = self.lam * self.a
        square = lam_a * lam_a * self.sq + 2.0 * lam_a * _dot(Vc, G)
        gnorm = math.sqrt(max(square + _dot(G, G) + _dot(g, g), 0.0))
        return value, gnorm, (cols, Vc, G, g)

    def apply(self, W: npt.NDArray[np.floating], pending: tuple[Any, ...], rate: float) -> bool:
        """The step of rate ``r`` on the touched rows; ``False`` (``W`` unchanged) when it
        would make a weight non-finite."""
        cols, Vc, G, g = pending
        a = self.a * (1.0 - rate * self.lam)
        bias = W[-1] - rate * g
        if not (np.isfinite(a * Vc - rate * G).all() and np.isfinite(bias).all()):
            return False
        sq = self.sq or 0.0
        if abs(a) < RESCALE:  # fold the scale into V before dividing by it
            W[:-1] *= W.dtype.type(a)
            Vc, sq, a = Vc * W.dtype.type(a), sq * a * a, 1.0
        new = Vc - (rate / a) * G
        W[cols], W[-1] = new, bias
        self.a, self.sq = a, sq + _dot(new, new) - _dot(Vc, Vc)
        return True

    def finish(self, W: npt.NDArray[np.floating]) -> None:
        """Write ``a V`` back into ``W[:-1]`` (the true weights) and restart at ``a = 1``."""
        if self.a != 1.0:
            W[:-1] *= W.dtype.type(self.a)
        self.a, self.sq = 1.0, None


def _dot(u: npt.NDArray[np.floating], v: npt.NDArray[np.floating]) -> float:
    """``sum(u * v)`` in float64, on this thread: BLAS's ``dot`` wakes its threads, which on a
    busy machine cost ~20 ms for the 70,000 numbers of a text batch's rows (measured)."""
    return float(np.multiply(u, v, dtype=np.float64).sum())


def lazy_steps(objective: Any, optimizer: Any, gradient: str, batch_size: int) -> LazySteps | None:
    """A :class:`LazySteps` for the runner when they apply (see the module docstring), else
    ``None``.

    Examples:
        >>> import scipy.sparse as sp
        >>> J = Objective("softmax", sp.csr_array(np.eye(4)), [0, 1, 0, 1], lam=0.1)
        >>> type(lazy_steps(J, SGD(0.1), "analytic", 2)).__name__
        'LazySteps'
        >>> lazy_steps(J, SGD(0.1, momentum=0.9), "analytic", 2) is None
        True
    """
    reg = getattr(objective, "regularizer", None)
    applies = (
        isinstance(objective, Objective)
        and objective.sparse
        and batch_size < objective.n_samples
        and gradient == "analytic"
        and type(optimizer) is SGD
        and optimizer.momentum == 0
        and reg is not None
        and (reg.name == "none" or (reg.l1_ratio == 0 and not reg.include_bias))
    )
    return LazySteps(objective) if applies else None
