"""An interior-point method for the piecewise-linear losses on small problems: the primal
quadratic programme in the weights and one slack per piece (or per example), solved by
Mehrotra's predictor-corrector steps.

The problem is :mod:`~lingrad.optim.solvers.continuation`'s, ``P(W) = sum_i c_i l_i(s_i) +
(lam/2) ||V||^2`` (``c_i = w_i / W_t``, ``s_i = W^T [x_i; 1]``), written with the weights
``w = vec(W)`` (``n = (D + 1) C`` numbers) and slacks ``xi``:

    min (1/2) w^T R w + sum_g c_g xi_g     s.t.   a_k^T w + m <= xi_g(k),   xi >= 0,

one cut ``k`` per piece, ``a_k = [x_i; 1] (x) (e_j - e_{y_i})`` for the multi-class hinges
(``j != y_i``) and ``-t_ij [x_i; 1] (x) e_j`` for one versus all; one slack per cut (Weston-
Watkins, one versus all) or per example (Crammer-Singer: ``l_i`` is the largest cut);
``R = lam`` on the weight rows (and on the bias with ``include_bias``), 0 on the bias row.

Each Newton step eliminates the slacks and the multipliers: with ``theta = z / s`` (multiplier
over slack, per constraint), ``U = E^T diag(theta_cut) A`` (``E`` the cuts' groups) and ``d_g =
sum_{k in g} theta_k + theta_g`` (the group's slack curvature), the step in ``w`` solves the
``n x n`` system

    (R + A^T diag(theta_cut) A - U^T diag(1/d) U) dw = rhs,

``O(m n^2)`` to form (``m`` cuts), ``O(n^3)`` to solve: about 20 to 30 steps, whatever the
conditioning, against the thousands of passes dual coordinate descent takes where many
examples sit at the box's top (iris's overlapping classes at ``lam = 1e-4``). For the multi-
class hinges a common shift of the bias leaves ``P`` unchanged: the step is kept orthogonal
to it. The multipliers of the cuts, divided by ``c_i``, are the dual point ``alpha`` ``(N, C)``
that :func:`~lingrad.optim.solvers.continuation.dual_value` certifies.

References: Mehrotra (1992), "On the implementation of a primal-dual interior point method";
Nocedal and Wright, *Numerical Optimization* (2006), section 16.6.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from lingrad import _skinny
from lingrad._validation import is_sparse
from lingrad.optim.solvers.continuation import example_weights

_Float = npt.NDArray[np.float64]

#: Steps at most (Mehrotra's method takes 15-30 on the small sets).
MAX_STEPS = 60
#: Passes over the data a step counts for (its products with the cuts' rows ``A``: two for the
#: residuals, two per direction).
PASSES = 6
#: The fraction of the way to the boundary a step goes.
_TO_BOUNDARY = 0.995


class Cuts(NamedTuple):
    """The programme's data: ``A`` ``(m, n)`` the cuts' rows, ``group`` ``(m,)`` each cut's
    slack, ``cost`` ``(G,)`` the slacks' costs ``c_g``, ``per_group`` the cuts per slack (1, or
    ``C - 1`` for Crammer-Singer, the cuts of an example contiguous), ``rows`` and ``cols``
    ``(m,)`` each cut's example and class (its place in ``alpha``), ``ridge`` ``(n,)`` the
    penalty's diagonal ``R``, ``shift`` ``(n,)`` the bias's common shift (zeros when ``P``
    depends on it), ``margin``.

    Examples:
        >>> from lingrad.objective import Objective
        >>> k = cuts(Objective("crammer_singer", np.eye(2), [0, 1], lam=0.5), 3)
        >>> k.A.shape, k.per_group, k.group.tolist(), k.cols.tolist()   # C - 1 cuts an example
        ((4, 9), 2, [0, 0, 1, 1], [1, 2, 0, 2])
    """

    A: _Float
    group: npt.NDArray[np.intp]
    cost: _Float
    per_group: int
    rows: npt.NDArray[np.intp]
    cols: npt.NDArray[np.intp]
    ridge: _Float
    shift: _Float
    margin: float


class InteriorResult(NamedTuple):
    """``W`` ``(D + 1, C)``, ``alpha`` ``(N, C)`` the dual point, ``steps`` taken and
    ``gap``: the programme's own relative duality gap ``s.z / |objective|`` at the end.

    Examples:
        >>> from lingrad.objective import Objective
        >>> J = Objective("hinge", np.array([[-1.0], [1.0]]), [0, 1], lam=1.0)
        >>> out = solve(J, np.zeros((2, 2)))
        >>> out.W.shape, out.alpha.shape, out.gap <= 1e-10
        ((2, 2), (2, 2), True)
    """

    W: _Float
    alpha: _Float
    steps: int
    gap: float


def cuts(objective: Any, C: int) -> Cuts:
    """The cuts of ``objective``'s piecewise-linear loss over ``C`` classes (see the module
    docstring); examples of weight 0 carry none.

    Examples:
        >>> from lingrad.objective import Objective
        >>> J = Objective("hinge", np.array([[1.0], [2.0]]), [0, 1], lam=0.5)
        >>> k = cuts(J, 2)
        >>> k.A.tolist(), k.group.tolist(), k.cost.tolist(), k.cols.tolist()
        ([[-1.0, 1.0, -1.0, 1.0], [2.0, -2.0, 1.0, -1.0]], [0, 1], [0.5, 0.5], [1, 0])
    """
    loss = objective.loss_spec.name
    c = example_weights(objective)
    y = objective.targets(C).astype(np.intp, copy=False)
    X = objective.X.toarray() if is_sparse(objective.X) else objective.X
    X = np.asarray(X, dtype=np.float64)
    keep = np.flatnonzero(c > 0)
    X1 = np.hstack([X[keep], np.ones((len(keep), 1))])  # (N', D + 1)
    yk, ck, eye = y[keep], c[keep], np.eye(C)
    if loss == "one_vs_all_hinge":
        cols = np.broadcast_to(np.arange(C), (len(keep), C))
        sign = np.where(cols == yk[:, None], -1.0, 1.0)  # -t_ij
        direction = sign[:, :, None] * eye[None, :, :]  # (N', C, C)
    else:
        others = np.arange(C)[None, :] != yk[:, None]
        cols = np.broadcast_to(np.arange(C), (len(keep), C))[others].reshape(len(keep), C - 1)
        direction = eye[cols] - eye[yk][:, None, :]  # (N', C - 1, C): e_j - e_y
    K = direction.shape[1]
    A = (X1[:, None, :, None] * direction[:, :, None, :]).reshape(len(keep) * K, -1)
    rows = np.repeat(keep, K)
    if loss == "crammer_singer":
        group, cost, per_group = np.repeat(np.arange(len(keep)), K), ck, K
    else:
        group, cost, per_group = np.arange(len(keep) * K), np.repeat(ck, K), 1
    D1 = X1.shape[1]
    ridge = np.full((D1, C), objective.lam)
    shift = np.zeros((D1, C))
    if not objective.regularizer.include_bias:
        ridge[-1] = 0.0
        if loss != "one_vs_all_hinge":
            shift[-1] = 1.0 / math.sqrt(C)  # scores' differences: a common shift is free
    margin = float(objective.loss_params.get("margin", 1.0))
    return Cuts(A, group, cost, per_group, rows, cols.reshape(-1), ridge.reshape(-1),
                shift.reshape(-1), margin)  # fmt: skip


def _group_sums(v: _Float, per_group: int) -> _Float:
    """``E^T v`` ``(G,)``: the sums over each slack's cuts (contiguous, ``per_group`` each)."""
    if per_group == 1:
        return v.copy()
    return v.reshape(-1, per_group).sum(axis=1)


def _group_rows(U: _Float, per_group: int) -> _Float:
    """``E^T U`` ``(G, n)`` for ``U`` ``(m, n)``."""
    if per_group == 1:
        return U
    return U.reshape(-1, per_group, U.shape[1]).sum(axis=1)


def _to_boundary(v: _Float, dv: _Float) -> float:
    """The largest step ``t`` with ``v + t dv >= 0`` (``v > 0``; ``inf`` when none falls)."""
    falling = dv < 0.0
    if not falling.any():
        return math.inf
    return float(np.min(-v[falling] / dv[falling]))


def _direction(A, group, per_group, theta1, theta2, M, U, d, r, rc1, rc2, s1, s2, z1, z2):
    """One Newton direction ``(dw, dxi, dz1, dz2, ds1, ds2)`` of the programme, the slacks
    and multipliers eliminated (module docstring); ``r = (r_w, r_xi, r_p1, r_p2)`` the
    residuals, ``rc1``, ``rc2`` the complementarity's right-hand sides."""
    r_w, r_xi, r_p1, r_p2 = r
    g1 = theta1 * r_p1 + rc1 / s1
    g2 = theta2 * r_p2 + rc2 / s2
    h = _group_sums(g1, per_group) + g2 - r_xi
    rhs = -r_w - A.T @ g1 + U.T @ (h / d)
    dw = np.linalg.solve(M, rhs)
    dxi = (U @ dw + h) / d
    dz1 = theta1 * (A @ dw - dxi[group]) + g1
    dz2 = g2 - theta2 * dxi
    ds1 = (rc1 - s1 * dz1) / z1
    ds2 = (rc2 - s2 * dz2) / z2
    return dw, dxi, dz1, dz2, ds1, ds2


def _largest_step(s1, s2, z1, z2, step):
    """The largest step along ``step`` (a direction) keeping the slacks and multipliers
    non-negative."""
    return min(_to_boundary(s1, step[4]), _to_boundary(s2, step[5]),
               _to_boundary(z1, step[2]), _to_boundary(z2, step[3]))  # fmt: skip


def _mehrotra(A, group, per_group, cost, ridge, shift, margin, w, gap, max_steps):
    """Mehrotra's predictor-corrector steps on the programme from the weights ``w`` ``(n,)``
    (a strictly feasible start: every slack 1 above its cuts, the multipliers at half their
    cost); stops when ``s.z`` and the residuals are within ``gap`` relative to the objective,
    after ``max_steps``, or where a system is singular or a step not finite. Returns ``(w,
    z1 (m,), steps, relative s.z)``. Plain NumPy, compiled by Numba where it is installed."""
    n_cuts, n_groups = A.shape[0], cost.shape[0]
    value = A @ w + margin
    xi = np.zeros(n_groups)
    for g in range(n_groups):
        top = 0.0
        for k in range(g * per_group, (g + 1) * per_group):
            top = max(top, value[k])
        xi[g] = top + 1.0
    s1, s2 = xi[group] - value, xi.copy()
    z1, z2 = 0.5 * cost[group] / per_group, 0.5 * cost
    n_all = n_cuts + n_groups
    free_shift = np.any(shift != 0.0)
    steps, relative = 0, math.inf
    while steps < max_steps:
        r_w = ridge * w + A.T @ z1
        r_xi = cost - _group_sums(z1, per_group) - z2
        r_p1 = value - xi[group] + s1
        r_p2 = s2 - xi
        mu = (s1 @ z1 + s2 @ z2) / n_all
        scale = max(abs(0.5 * (w @ (ridge * w)) + cost @ xi), 1e-300)
        relative = mu * n_all / scale
        residual = max(np.max(np.abs(r_w)), np.max(np.abs(r_xi)))
        if relative <= gap and residual <= gap * max(1.0, scale):
            break
        theta1, theta2 = z1 / s1, z2 / s2
        TA = theta1.reshape(-1, 1) * A
        U = _group_rows(TA, per_group)
        d = _group_sums(theta1, per_group) + theta2
        M = A.T @ TA - U.T @ (U / d.reshape(-1, 1))
        for j in range(M.shape[0]):
            M[j, j] += ridge[j]
        if free_shift:
            M += np.mean(np.diag(M)) * np.outer(shift, shift)
        r = (r_w, r_xi, r_p1, r_p2)
        try:
            affine = _direction(A, group, per_group, theta1, theta2, M, U, d, r,
                                -s1 * z1, -s2 * z2, s1, s2, z1, z2)  # fmt: skip
            t = min(1.0, _largest_step(s1, s2, z1, z2, affine))
            mu_affine = ((s1 + t * affine[4]) @ (z1 + t * affine[2])
                         + (s2 + t * affine[5]) @ (z2 + t * affine[3])) / n_all  # fmt: skip
            sigma = (mu_affine / mu) ** 3
            rc1 = sigma * mu - s1 * z1 - affine[4] * affine[2]
            rc2 = sigma * mu - s2 * z2 - affine[5] * affine[3]
            step = _direction(A, group, per_group, theta1, theta2, M, U, d, r,
                              rc1, rc2, s1, s2, z1, z2)  # fmt: skip
        except Exception:  # a singular system (Numba raises its own kind)
            break
        t = min(1.0, _TO_BOUNDARY * _largest_step(s1, s2, z1, z2, step))
        dw, dxi, dz1, dz2, ds1, ds2 = step
        w_new, z1_new = w + t * dw, z1 + t * dz1
        if not (np.all(np.isfinite(w_new)) and np.all(np.isfinite(z1_new))):
            break
        w, xi, s1, s2, z1, z2 = (
            w_new,
            xi + t * dxi,
            s1 + t * ds1,
            s2 + t * ds2,
            z1_new,
            z2 + t * dz2,
        )
        value = A @ w + margin
        steps += 1
    return w, z1, steps, relative


_mehrotra_nb: Any = None


def _kernel() -> Any:
    """:func:`_mehrotra`, compiled by Numba (cached on disk) where it is installed."""
    global _mehrotra_nb
    if not _skinny.AVAILABLE:
        return _mehrotra
    if _mehrotra_nb is None:
        import numba

        jit = numba.njit(cache=True, nogil=True)
        compiled: dict[str, Any] = {}
        for name in ("_group_sums", "_group_rows", "_to_boundary", "_largest_step",
                     "_direction", "_mehrotra"):  # fmt: skip
            # each one reads the compiled ones before it
            compiled[name] = jit(_skinny.instantiate(globals()[name], "_nb", **compiled))
        _mehrotra_nb = compiled["_mehrotra"]
    return _mehrotra_nb


def solve(
    objective: Any, W0: np.ndarray, gap: float = 1e-10, max_steps: int = MAX_STEPS
) -> InteriorResult | None:
    """Solve ``objective``'s programme (module docstring) by Mehrotra's predictor-corrector
    steps from the weights ``W0`` ``(D + 1, C)`` until its relative duality gap and residuals
    are within ``gap`` (or ``max_steps``); ``None`` when no example carries weight.

    Examples:
        >>> from lingrad.objective import Objective
        >>> X = np.array([[0.0], [1.0], [3.0], [4.0]])
        >>> J = Objective("crammer_singer", X, [0, 0, 1, 1], lam=0.5)
        >>> out = solve(J, np.zeros((2, 2)))
        >>> round(J.value(out.W), 9), out.gap <= 1e-10   # a = 1: J = a^2 / 8
        (0.125, True)
    """
    C = W0.shape[1]
    k = cuts(objective, C)
    if k.A.shape[0] == 0:
        return None
    w0 = np.asarray(W0, dtype=np.float64).reshape(-1).copy()
    w, z1, steps, relative = _kernel()(
        k.A, k.group, k.per_group, k.cost, k.ridge, k.shift, k.margin, w0, gap, max_steps
    )
    alpha = np.zeros((objective.n_samples, C))
    alpha[k.rows, k.cols] = z1 / k.cost[k.group]  # alpha_ij = z_k / c_i
    return InteriorResult(w.reshape(W0.shape), alpha, int(steps), float(relative))
