"""Trust-region Newton with truncated conjugate gradient (TRON: Lin, Weng & Keerthi 2008; the
radius rules of liblinear, Hsia, Chiang & Lin 2018).

One iteration from weights ``w`` (flattened, ``P = (D + 1) C`` numbers) with ``f = J(w)``, the
gradient ``g`` and the radius ``delta``:

    s ~ argmin_{||s|| <= delta} q(s),   q(s) = g.s + s.H s / 2     (conjugate gradient on H s = -g)
    actred = f - J(w + s),   prered = -q(s)
    w <- w + s  when actred > eta0 prered,   then delta from actred / prered (TRON's rules)

``H`` is the objective's Hessian at ``w`` (:meth:`lingrad.objective.Objective.hessian`: one pass
to cache the loss's curvature, then ``H v`` for two products with X each). The conjugate
gradient stops at ``||r|| <= 0.1 ||g||`` (``r = -g - H s``), at the boundary ``||s|| = delta``
or, on a direction of non-positive curvature ``d.H d <= 0`` (sigmoid + squared error is not
convex), by going along it to the boundary (Steihaug). The solver stops when the convergence
measure ``max_j |g_j|`` (as L-BFGS and scikit-learn) is at most ``tol``, or when both the actual
and the predicted reduction fall below ``ftol * max(|f|, 1)`` (no progress left in X's dtype).
W stays in X's dtype; the conjugate-gradient vectors are float64.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, NamedTuple

import numpy as np

from lingrad import curvature
from lingrad._array_api import namespace
from lingrad._validation import check_int, check_positive
from lingrad.optim.solvers import base
from lingrad.optim.solvers.base import SolverBase, Status, refuse, smooth_problem

#: TRON's constants: acceptance (eta0) and radius-update thresholds (eta1, eta2) on
#: actred / prered, and the radius factors (sigma1 < sigma2 < 1 < sigma3).
ETA0, ETA1, ETA2 = 1e-4, 0.25, 0.75
SIGMA1, SIGMA2, SIGMA3 = 0.25, 0.5, 4.0
#: The conjugate gradient stops at ``||r|| <= CG_TOL ||g||``.
CG_TOL = 0.1


class NewtonState(NamedTuple):
    """``grad``: ``dJ/dW`` at the current W (``None`` before the first iteration); ``radius``:
    the trust-region radius ``delta`` (``inf`` before the first iteration); ``accepted``: steps
    taken; ``cg``: conjugate-gradient steps of the last iteration; ``value``: ``J`` at the
    current W; ``evaluations``: passes over the data (a value-and-gradient, a Hessian set-up and
    each ``H v`` count one each); ``measure``: ``max |g|``; ``status``: a
    :class:`~lingrad.optim.solvers.base.Status`.

    Examples:
        >>> s = TrustRegionNewton().init(np.zeros((4, 2)))
        >>> s.grad is None, s.radius, s.accepted
        (True, inf, 0)
    """

    grad: np.ndarray | None
    radius: float
    accepted: int
    cg: int
    value: float
    evaluations: int
    measure: float
    status: int


def boundary_step(s: np.ndarray, d: np.ndarray, radius: float) -> float:
    """``tau >= 0`` with ``||s + tau d|| = radius`` for ``||s|| <= radius`` (the root of
    ``d.d tau^2 + 2 s.d tau + s.s - radius^2``, computed without cancellation as TRON does).

    Examples:
        >>> boundary_step(np.array([1.0, 0.0]), np.array([1.0, 0.0]), 3.0)
        2.0
        >>> boundary_step(np.zeros(2), np.array([0.0, 2.0]), 1.0)
        0.5
    """
    sd, ss, dd = float(s @ d), float(s @ s), float(d @ d)
    gap = max(radius * radius - ss, 0.0)
    rad = math.sqrt(sd * sd + dd * gap)
    return gap / (sd + rad) if sd >= 0 else (rad - sd) / dd


def truncated_cg(
    hv: Any, g: np.ndarray, radius: float, max_iter: int
) -> tuple[np.ndarray, np.ndarray, int, bool]:
    """Steihaug's conjugate gradient for ``min g.s + s.H s / 2`` s.t. ``||s|| <= radius``:
    ``(s, r, steps, on_boundary)`` with the residual ``r = -g - H s`` (float64 vectors ``(P,)``).
    Stops at ``||r|| <= 0.1 ||g||``, after ``max_iter`` products ``hv(d)``, at the boundary, or
    along a direction of non-positive curvature to the boundary.

    Examples:
        >>> H = np.diag([1.0, 4.0])
        >>> s, r, steps, edge = truncated_cg(lambda d: H @ d, np.array([-1.0, -4.0]), 10.0, 5)
        >>> s.round(12).tolist(), steps, edge      # the Newton step H^-1 (-g) = (1, 1)
        ([1.0, 1.0], 2, False)
    """
    s, r = g * 0.0, -g  # zeros on g's library and device
    d = r + 0.0  # a copy
    rr = float(r @ r)
    stop = CG_TOL * math.sqrt(rr)
    for k in range(max_iter):
        if math.sqrt(rr) <= stop:
            return s, r, k, False
        Hd = hv(d)
        dHd = float(d @ Hd)
        alpha = rr / dHd if dHd > 0 else math.inf
        if dHd <= 0 or base.norm(s + alpha * d) > radius:
            tau = boundary_step(s, d, radius)
            return s + tau * d, r - tau * Hd, k + 1, True
        s += alpha * d
        r -= alpha * Hd
        rr_new = float(r @ r)
        d *= rr_new / rr
        d += r
        rr = rr_new
    return s, r, max_iter, False


def new_radius(
    radius: float, actred: float, prered: float, gs: float, snorm: float, on_boundary: bool
) -> float:
    """TRON's radius update from the actual and predicted reductions (liblinear ``tron.cpp``):
    ``alpha`` minimises the quadratic through ``f``, the slope ``g.s`` and ``J(w + s)``.

    Examples:
        >>> new_radius(1.0, actred=1.0, prered=1.0, gs=-2.0, snorm=1.0, on_boundary=True)
        4.0
        >>> r = new_radius(1.0, actred=-1.0, prered=1.0, gs=-2.0, snorm=1.0, on_boundary=True)
        >>> round(r, 6)          # rejected: alpha = -0.5 g.s / (J(w + s) - f - g.s) = 1/3
        0.333333
    """
    curve = -actred - gs  # J(w + s) - f - g.s
    alpha = SIGMA3 if curve <= 0 else max(SIGMA1, -0.5 * (gs / curve))
    if actred < ETA0 * prered:
        return min(alpha * snorm, SIGMA2 * radius)
    if actred < ETA1 * prered:
        return max(SIGMA1 * radius, min(alpha * snorm, SIGMA2 * radius))
    if actred < ETA2 * prered:
        return max(SIGMA1 * radius, min(alpha * snorm, SIGMA3 * radius))
    if on_boundary:
        return SIGMA3 * radius
    return max(radius, min(alpha * snorm, SIGMA3 * radius))


class TrustRegionNewton(SolverBase):
    """Trust-region Newton-CG on the full objective (see the module docstring).

    Args:
        tol: stop when ``max |dJ/dW| <= tol`` (scikit-learn's ``tol``).
        max_cg: at most this many conjugate-gradient steps (``H v`` products) per iteration.
        ftol: stop when the actual and predicted reductions are both at most
            ``ftol * max(|J|, 1)`` (default: 64 machine epsilons of X's dtype).

    Examples:
        >>> from lingrad.objective import Objective
        >>> X = np.array([[0.0, 2.0], [1.0, 0.0], [3.0, 1.0], [1.0, 1.0], [2.0, 2.0]])
        >>> J = Objective("logistic", X, [0, 1, 1, 0, 0], lam=0.05)
        >>> newton, W = TrustRegionNewton(tol=1e-10), J.check_weights(np.zeros((3, 1)))
        >>> state, taken = newton.init(W), []
        >>> for _ in range(50):                  # one trainer epoch each
        ...     step, state = newton.update(None, state, W, objective=J)
        ...     W, taken = W + step, taken + [bool(step.any())]
        ...     if state.status != Status.RUNNING:
        ...         break
        >>> Status(state.status).name, len(taken) < 10, state.measure <= 1e-10
        ('CONVERGED', True, True)
    """

    reads: ClassVar[str] = "objective"
    #: runs on X's array library (PyTorch, CuPy...): see lingrad.optim.solvers.base
    array_api: ClassVar[bool] = True

    def __init__(self, tol: float = 1e-4, max_cg: int = 100, ftol: float | None = None):
        self.tol, self.max_cg = (
            check_positive("tol", tol, allow_zero=True),
            check_int("max_cg", max_cg),
        )
        self.ftol = ftol if ftol is None else check_positive("ftol", ftol, allow_zero=True)

    def __repr__(self) -> str:
        return f"TrustRegionNewton(tol={self.tol:g}, max_cg={self.max_cg})"

    def check_objective(self, objective: Any) -> None:
        """Refuse a loss without a second derivative (the hinge losses, Crammer-Singer) and an
        L1 part of the regulariser, naming them."""
        smooth_problem("newton", objective)
        name = objective.loss_spec.name
        if name not in curvature.CURVATURES:
            refuse("newton", f"the loss {name!r} (no second derivative)", "'lbfgs'")

    def init(self, W: np.ndarray) -> NewtonState:
        """No gradient yet, an infinite radius (the first iteration sets it to ``||g||``)."""
        return NewtonState(None, math.inf, 0, 0, math.inf, 0, math.inf, int(Status.RUNNING))

    def update(
        self,
        grad: np.ndarray | None,
        state: NewtonState,
        W: np.ndarray,
        *,
        objective: Any = None,
        value_fn: Any = None,
        rng: Any = None,
    ) -> tuple[np.ndarray, NewtonState]:
        """One trust-region iteration: ``(W_new - W, state)``; the step is zero when the trial
        point is rejected (the radius shrinks) and ``state.value = J(W + step)``."""
        if objective is None:
            raise TypeError("TrustRegionNewton.update needs objective= (it reads the objective)")
        zero = np.zeros_like(W) if isinstance(W, np.ndarray) else namespace(W).zeros_like(W)
        evaluations, value, g, radius = state.evaluations, state.value, state.grad, state.radius
        if g is None:
            value, g = objective.value_and_grad_unchecked(W)
            evaluations += 1
        measure = base.max_abs(g)
        here = state._replace(grad=g, value=value, evaluations=evaluations, measure=measure)
        if not (math.isfinite(value) and math.isfinite(measure)):
            return zero, here._replace(status=int(Status.NON_FINITE))
        if measure <= self.tol:
            return zero, here._replace(status=int(Status.CONVERGED))
        dtype = base.vector_dtype(W)  # float64 on NumPy (see base.vector_dtype)
        g64 = base.flat(g, dtype)
        if not math.isfinite(radius):
            radius = base.norm(g64)
        H = objective.hessian(W)
        s, r, steps, on_boundary = truncated_cg(
            lambda d: base.flat(H(d), dtype), g64, radius, self.max_cg
        )
        evaluations += 1 + steps
        if isinstance(W, np.ndarray):
            step = s.astype(W.dtype).reshape(W.shape)
        else:
            step = namespace(W).reshape(namespace(W).astype(s, W.dtype), W.shape)
        new_value, new_g = objective.value_and_grad_unchecked(W + step)
        evaluations += 1
        gs = float(g64 @ s)
        prered = -0.5 * (gs - float(s @ r))
        actred = value - new_value if math.isfinite(new_value) else -math.inf
        snorm = base.norm(s)
        if state.accepted == 0:
            radius = min(radius, snorm)
        radius = new_radius(radius, actred, prered, gs, snorm, on_boundary)
        here = here._replace(radius=radius, cg=steps, evaluations=evaluations)
        ftol = self.ftol if self.ftol is not None else 64 * base.eps(W.dtype)
        small = ftol * max(abs(value), 1.0)
        stuck = abs(actred) <= small and prered <= small
        new_measure = base.max_abs(new_g)
        if actred > ETA0 * prered and math.isfinite(new_measure):
            done = new_measure <= self.tol or stuck
            status = Status.CONVERGED if done else Status.RUNNING
            moved = here._replace(grad=new_g, value=new_value, measure=new_measure)
            return step, moved._replace(accepted=state.accepted + 1, status=int(status))
        return zero, here._replace(status=int(Status.CONVERGED if stuck else Status.RUNNING))
