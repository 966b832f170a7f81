"""Continuation: the exact optimum of a piecewise-linear loss with an L2 penalty, certified by
the duality gap.

The problem (the objective's convention, ``w_i`` the example weights, ``W_t = sum_i w_i``,
``V = W[:-1]`` the weight rows, ``b = W[-1]`` the unregularised bias, ``s_i = V^T x_i + b``):

    P(W) = (1/W_t) sum_i w_i l_i(s_i) + (lam/2) ||V||^2,       lam > 0

Each loss is a maximum of linear functions of the scores, ``l_i(s) = max_{A in K_i} <A, s> +
m sum(alpha)`` (``m`` the margin), written with ``alpha >= 0`` of shape ``(C,)``:

* Weston-Watkins ``hinge``: ``alpha_j in [0, 1]`` for ``j != y_i``, ``alpha_{y_i} = 0``;
  ``A = alpha - e_{y_i} sum(alpha)``;
* ``crammer_singer``: the same ``A`` with ``alpha`` on the simplex ``sum(alpha) <= 1``;
* ``one_vs_all_hinge``: ``alpha_j in [0, 1]`` for every ``j``, ``A_j = -t_ij alpha_j``
  (``t_ij = +1`` for the true class, else ``-1``).

Smoothing (Nesterov): with ``mu > 0`` each maximum is replaced by a smooth one,

* hinge terms ``max(0, z)`` (``z = m + s_j - s_y``, or ``m - t_j s_j``) by the Huberised
  ``max_{a in [0,1]} a z - (mu/2) a^2`` (``a = clip(z / mu, 0, 1)``; at most ``mu/2`` below);
* Crammer-Singer's ``max(0, z_j...)`` by ``mu logsumexp(0, z_j / mu...)`` (``alpha`` its
  softmax weights; at most ``mu log C`` above),

so that the smoothed loss's score gradient ``dl_i/ds_i`` IS a dual point ``A_i in K_i``. The
smoothed problem is solved by L-BFGS (:class:`~lingrad.optim.solvers.LBFGS`) for the hinges and
by trust-region Newton (:class:`~lingrad.optim.solvers.TrustRegionNewton`, on the generalised
Hessian :meth:`SmoothedObjective.hessian`) for Crammer-Singer, warm-started as
``mu`` shrinks (``mu <- shrink * mu`` once the gap is down to the smoothing's own error
``e = mu min(2K, P)`` (``mu K`` bounds it per example; few examples are near their kinks), or
the smoothed problem is solved to within it, ``||grad P_mu||^2 <= 2 lam e``, or the inner
solve stops). At each stage's end :func:`polish` guesses the kinks
of the optimum from the pieces within a band of theirs (``mu``, ``10 mu``, ``1e-6``, ``1e-4``,
``1e-2``, while the gap is above ``tol``), solves the optimality conditions for them as one
linear system (for the hinges, repeated as primal-dual active-set rounds: pieces whose
``alpha`` leaves ``[0, 1]`` or whose ``z`` crosses the kink change sides), and jumps to that
point when it is lower; where the guess is right, the gap drops to rounding and the solve
ends.

Certificate: by weak duality, for every ``A_i in K_i`` with ``sum_i w_i A_i = 0`` (the
bias's stationarity, the dual's equality constraint),

    D(A) = (m/W_t) sum_i w_i sum(alpha_i) - (1/(2 lam)) ||Q||^2,
    Q = (1/W_t) X^T diag(w) A,          P(W*) >= D(A),

and ``gap = P(W) - D(A) >= P(W) - P(W*) >= 0``. The smoothed gradients meet the equality only
approximately (the bias row's smoothed gradient, reported as ``bias_gradient``), so before
``D`` is evaluated the ``alpha`` are scaled down per (true class, column) group, which keeps
each ``A_i`` in ``K_i``, until the constraint holds to rounding: for the Weston-Watkins and
Crammer-Singer losses the group masses ``G[a, b] = sum_{i: y_i = a} w_i alpha_ib`` are a flow
between classes and the imbalance is removed path by path (:func:`balance_flows`); for one
versus all each column is balanced on its own (:func:`balance_columns`). With
``include_bias=True`` the bias is in ``Q`` and there is no constraint. The solver's
``measure`` is the relative gap ``gap / max(P, tiny)``; it stops at ``measure <= tol``.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from typing import Any, ClassVar, NamedTuple

import numpy as np
import numpy.typing as npt

from lingrad._validation import check_int, check_positive, fail, is_sparse
from lingrad.model import scores_unchecked
from lingrad.optim.solvers.base import SolverBase, Status, refuse
from lingrad.optim.solvers.lbfgs import LBFGS, LBFGSState
from lingrad.optim.solvers.newton import NewtonState, TrustRegionNewton

_Float = npt.NDArray[np.float64]

#: The losses this solver takes.
PIECEWISE = ("hinge", "crammer_singer", "one_vs_all_hinge")


def smoothed_loss(
    loss: str, S: npt.NDArray[np.floating], y: npt.NDArray[np.intp], margin: float, mu: float
) -> tuple[_Float, _Float]:
    """The smoothed per-example losses ``(N,)`` and their dual weights ``alpha`` ``(N, C)``
    (float64) for scores ``S`` ``(N, C)`` and labels ``y`` (see the module docstring).

    Examples:
        >>> S = np.array([[0.0, 0.5, -2.0]])
        >>> L, alpha = smoothed_loss("hinge", S, np.array([0]), 1.0, 1.0)
        >>> L.tolist(), alpha.tolist()      # z = 1.5 -> 1.5 - 0.5; z = -1 -> 0
        ([1.0], [[0.0, 1.0, 0.0]])
        >>> smoothed_loss("hinge", S, np.array([0]), 1.0, 1e-9)[0]      # -> the hinge, 1.5
        array([1.5])
    """
    rows = np.arange(S.shape[0])
    M = margins(loss, S, y, margin)
    if loss == "crammer_singer":
        top = M.max(axis=1, keepdims=True)  # >= 0: the true class holds the 0 option
        alpha = np.exp((M - top) / mu)
        total = alpha.sum(axis=1)
        alpha /= total[:, None]
        alpha[rows, y] = 0.0
        return top[:, 0] + mu * np.log(total), alpha
    alpha = np.clip(M / mu, 0.0, 1.0)
    if loss != "one_vs_all_hinge":
        alpha[rows, y] = 0.0
    return (alpha * M - (0.5 * mu) * alpha * alpha).sum(axis=1), alpha


def margins(
    loss: str, S: npt.NDArray[np.floating], y: npt.NDArray[np.intp], margin: float
) -> _Float:
    """The pieces' arguments ``z`` ``(N, C)`` float64: ``m + s_j - s_{y_i}`` (0 at the true
    class: the zero piece) for the multi-class hinges, ``m - t_ij s_j`` for one versus all.

    Examples:
        >>> margins("hinge", np.array([[0.0, 0.5, -2.0]]), np.array([0]), 1.0).tolist()
        [[0.0, 1.5, -1.0]]
    """
    rows = np.arange(S.shape[0])
    S64: _Float = S.astype(np.float64, copy=False)
    if loss == "one_vs_all_hinge":
        M = margin + S64
        M[rows, y] = margin - S64[rows, y]
        return M
    M = S64 - S64[rows, y][:, None]
    M += margin
    M[rows, y] = 0.0
    return M


def dual_scores(loss: str, alpha: _Float, y: npt.NDArray[np.intp]) -> _Float:
    """``A`` ``(N, C)`` from ``alpha``: the score gradient the dual weights stand for.

    Examples:
        >>> dual_scores("hinge", np.array([[0.0, 1.0, 0.5]]), np.array([0])).tolist()
        [[-1.5, 1.0, 0.5]]
        >>> dual_scores("one_vs_all_hinge", np.array([[1.0, 0.5]]), np.array([0])).tolist()
        [[-1.0, 0.5]]
    """
    rows = np.arange(alpha.shape[0])
    A = alpha.copy()
    if loss == "one_vs_all_hinge":
        A[rows, y] *= -1.0
        return A
    A[rows, y] = -alpha.sum(axis=1)
    return A


def balance_flows(G: _Float) -> _Float:
    """Factors ``f`` in ``[0, 1]`` ``(C, C)`` such that the flow ``F = f * G`` between classes
    (``G[a, b] >= 0``, zero diagonal) is balanced: ``sum_a F[a, k] = sum_b F[k, b]`` for every
    ``k``. Each pass removes a path of ``G`` from a class with more outflow than inflow to one
    with less (the path's smallest edge, or the smaller imbalance), so the cycles of ``G`` stay
    and the mass removed is at most ``C`` times the imbalance.

    Examples:
        >>> G = np.array([[0.0, 2.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
        >>> balance_flows(G).tolist()          # 1 -> 2 -> 3 -> 1 stays; the extra 1 on 0 -> 1 goes
        [[1.0, 0.5, 1.0], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    """
    C = G.shape[0]
    F = G.tolist()  # C is small (tens at most): plain floats beat NumPy's per-call cost
    scale = max(float(G.sum()), np.finfo(np.float64).tiny)
    for _ in range(C * C + 2 * C):
        excess = _excess(F)
        source = max(range(C), key=excess.__getitem__)  # the first largest, as argmax
        if excess[source] <= 4 * C * np.finfo(np.float64).eps * scale:
            break
        path = _path_to_deficit(F, source, excess)
        edges = list(itertools.pairwise(path))
        amount = min(excess[source], -excess[path[-1]], *(F[a][b] for a, b in edges))
        for a, b in edges:
            F[a][b] = 0.0 if F[a][b] <= amount else F[a][b] - amount
    ratios = [
        [kept / given if given > 0 else 1.0 for kept, given in zip(F_a, G_a, strict=True)]
        for F_a, G_a in zip(F, G.tolist(), strict=True)
    ]
    return np.array(ratios, dtype=np.float64)


def _excess(F: list[list[float]]) -> list[float]:
    """Each class's outflow less its inflow, ``sum_b F[k][b] - sum_a F[a][k]`` ``(C,)``."""
    inflows = [sum(column) for column in zip(*F, strict=True)]
    return [sum(row) - inflow for row, inflow in zip(F, inflows, strict=True)]


def _path_to_deficit(F: list[list[float]], source: int, excess: list[float]) -> list[int]:
    """A path of positive edges of ``F`` from ``source`` to a class with inflow > outflow
    (breadth first, the classes in order; one exists: the classes reachable from a source
    hold a net deficit)."""
    parent = {source: source}
    queue = deque([source])
    while queue:
        a = queue.popleft()
        if a != source and excess[a] < 0:
            path = [a]
            while path[-1] != source:
                path.append(parent[path[-1]])
            return path[::-1]
        for b, flow in enumerate(F[a]):
            if flow > 0 and b not in parent:
                parent[b] = a
                queue.append(b)
    return [source, min(range(len(excess)), key=excess.__getitem__)]  # unreachable (exact)


def balance_columns(G: _Float) -> _Float:
    """Factors ``f`` in ``[0, 1]`` ``(C, C)`` for one versus all: in each column ``k`` the
    positive mass ``G[k, k]`` (the examples of class ``k``) and the negative mass
    ``sum_{a != k} G[a, k]`` become equal, the larger side scaled down.

    Examples:
        >>> balance_columns(np.array([[2.0, 1.0], [1.0, 1.0]])).tolist()
        [[0.5, 1.0], [1.0, 1.0]]
    """
    f = np.ones_like(G, dtype=np.float64)
    inflows = G.sum(axis=0).tolist()
    for k, positive in enumerate(np.diagonal(G).tolist()):
        negative = inflows[k] - positive
        if positive > negative:
            f[k, k] = negative / positive
        elif negative > positive:
            f[:, k] = positive / negative
            f[k, k] = 1.0
    return f


class Certificate(NamedTuple):
    """The primal value ``P``, the dual value ``D`` of the balanced dual point, their gap
    ``P - D >= 0`` and the smoothed bias-row gradient (max-abs) before balancing.

    Examples:
        >>> Certificate(1.0, 0.9, 0.1, 0.0).gap
        0.1
    """

    primal: float
    dual: float
    gap: float
    bias_gradient: float


def certificate(
    objective: Any,
    W: np.ndarray,
    mu: float,
    S: np.ndarray | None = None,
) -> Certificate:
    """The duality-gap certificate of ``W`` ``(D + 1, C)`` for a piecewise-linear
    ``objective`` with an L2 penalty, the dual point from the smoothing ``mu`` (formulas in the
    module docstring). ``S``: the scores ``[X, 1] W`` when already at hand.

    Examples:
        >>> from lingrad.objective import Objective
        >>> J = Objective("hinge", np.array([[0.0], [1.0]]), [0, 1], lam=0.1)
        >>> c = certificate(J, J.check_weights(np.zeros((2, 2))), 1e-3)
        >>> c.primal, c.gap >= 0
        (1.0, True)
    """
    loss, margin = objective.loss_spec.name, float(objective.loss_params.get("margin", 1.0))
    y = objective.targets(W.shape[1])
    S = scores_unchecked(W, objective.X) if S is None else S
    weights = example_weights(objective)
    primal = primal_value(objective, W, S)
    alpha = smoothed_loss(loss, S, y, margin, mu)[1]
    bias_gradient = float(np.abs(dual_scores(loss, alpha * weights[:, None], y).sum(axis=0)).max())
    dual = dual_value(objective, alpha)
    return Certificate(primal, dual, max(primal - dual, 0.0), bias_gradient)


def primal_value(objective: Any, W: np.ndarray, S: np.ndarray) -> float:
    """``P(W) = sum_i (w_i / W_t) l_i(s_i) + lam R(W)`` from the scores ``S = [X, 1] W``
    ``(N, C)`` at hand (no pass over X).

    Examples:
        >>> from lingrad.objective import Objective
        >>> J = Objective("hinge", np.array([[0.0], [1.0]]), [0, 1], lam=0.1)
        >>> primal_value(J, J.check_weights(np.zeros((2, 2))), np.zeros((2, 2)))  # margin 1
        1.0
    """
    margin = float(objective.loss_params.get("margin", 1.0))
    y = objective.targets(W.shape[1])
    primal = float(objective.loss_spec.kernel(S, y, margin=margin)[0] @ example_weights(objective))
    return primal + objective.lam * objective.regularizer.value(W)


def dual_value(objective: Any, alpha: _Float) -> float:
    """``D`` at the dual point ``alpha`` ``(N, C)`` (each row in its ``K_i``), balanced first
    when the bias is not regularised (see the module docstring).

    Examples:
        >>> from lingrad.objective import Objective
        >>> J = Objective("hinge", np.array([[0.0], [1.0]]), [0, 1], lam=0.1)
        >>> J.targets(2).tolist(), dual_value(J, np.zeros((2, 2)))
        ([0, 1], 0.0)
    """
    loss, margin = objective.loss_spec.name, float(objective.loss_params.get("margin", 1.0))
    y, C = objective.targets(alpha.shape[1]), alpha.shape[1]
    wa = alpha * example_weights(objective)[:, None]
    include_bias = objective.regularizer.include_bias
    if not include_bias:
        onehot = np.zeros((len(y), C))
        onehot[np.arange(len(y)), y] = 1.0
        G = onehot.T @ wa
        f = balance_columns(G) if loss == "one_vs_all_hinge" else balance_flows(G)
        wa *= f[y]
    A = dual_scores(loss, wa, y)
    Q = objective.X.T.astype(np.float64, copy=False) @ A
    norm2 = float(np.vdot(Q, Q))
    if include_bias:
        norm2 += float(np.vdot(A.sum(axis=0), A.sum(axis=0)))
    return margin * float(wa.sum()) - norm2 / (2.0 * objective.lam)


def polish(
    objective: Any, W: np.ndarray, band: float, S: np.ndarray | None = None
) -> tuple[np.ndarray, _Float] | None:
    """The optimum for the kinks that a near-optimal ``W`` ``(D + 1, C)`` guesses: the pieces
    with ``|z| <= band`` are taken as exactly at their kink (``z = 0``, ``alpha`` free), the
    others at their side (``alpha`` 1 where ``z > band``, 0 where ``z < -band``; for
    Crammer-Singer the one worst class of a violated example), and the optimality conditions

        lam [V; 0] + [X, 1]^T (w A(alpha) / W_t) = 0,      z_k(W) = 0 for the kinks k

    are solved as one linear system (by LU; least squares where it is singular: kinks may be
    redundant) for ``W`` and the kinks' ``alpha``, clipped to ``[0, 1]`` (a Crammer-Singer row
    scaled back to the simplex). Returns ``(W_polished, alpha (N, C))``: where the guess is
    right, the optimum and its dual point; ``None`` when more than ``2 (D + 1) C`` pieces are
    within the band. For the hinges the guess is then corrected in primal-dual active-set
    rounds (:func:`_next_active_set`, at most 20, until no piece changes side or a round
    changes no fewer than the fewest before); the
    round of the lowest ``P`` is returned.

    Examples:
        >>> from lingrad.objective import Objective
        >>> J = Objective("hinge", np.array([[0.0], [1.0]]), [0, 1], lam=1.0)
        >>> W, alpha = polish(J, J.check_weights([[0.4, -0.4], [0.2, -0.2]]), 0.5)
        >>> round(J.value(W), 12), round(dual_value(J, alpha), 12)     # no gap: the optimum
        (0.75, 0.75)
    """
    kinks = _Kinks.of(objective, W.shape[1])
    loss, y, rows = kinks.loss, kinks.y, kinks.rows
    M = margins(loss, scores_unchecked(W, objective.X) if S is None else S, y, kinks.margin)
    tie = np.zeros(len(y), dtype=bool)
    if loss == "crammer_singer":
        top = M.max(axis=1)  # >= 0: the true class holds the zero piece
        near = (top - band)[:, None] <= M
        near[rows, y] = False
        tie = (top > band) & (near.sum(axis=1) >= 2)  # worst classes tied: sum(alpha) = 1
        kink = near & ((np.abs(top) <= band) | tie)[:, None]
        fixed = np.zeros_like(M)
        violated = (top > band) & ~tie
        fixed[rows[violated], np.argmax(M, axis=1)[violated]] = 1.0
    else:
        kink, fixed = np.abs(M) <= band, (band < M).astype(np.float64)
    if loss != "one_vs_all_hinge":
        kink[rows, y] = fixed[rows, y] = False
    best, lowest, fewest, strikes = None, math.inf, math.inf, 0
    for _ in range(1 if loss == "crammer_singer" else _ACTIVE_SET_ROUNDS):
        solved = _solve_kinks(kinks, W, kink, fixed, tie)
        if solved is None:
            break
        if loss == "crammer_singer":
            return solved[:2]
        M = margins(loss, scores_unchecked(solved[0], objective.X), y, kinks.margin)
        value = kinks.primal(solved[0], M)
        if value < lowest:  # a round may overshoot (degenerate pieces): keep the lowest
            best, lowest = solved[:2], value
        kink, fixed, changes = _next_active_set(kink, fixed, solved[2], M)
        strikes = strikes + 1 if changes >= fewest else 0
        if changes == 0 or strikes == _STRIKES:  # there, or not converging: a far guess
            break
        fewest = min(fewest, changes)
    return best


class _Kinks(NamedTuple):
    """What :func:`polish`'s rounds share, computed once: the objective, its loss and margin,
    the targets ``y`` ``(N,)``, ``arange(N)`` and the normalised weights ``w_i / W_t``."""

    objective: Any
    loss: str
    margin: float
    y: npt.NDArray[np.intp]
    rows: npt.NDArray[np.intp]
    weights: _Float

    @classmethod
    def of(cls, objective: Any, C: int) -> _Kinks:
        """The shared parts for ``objective`` with ``C`` score columns."""
        margin = float(objective.loss_params.get("margin", 1.0))
        y, weights = objective.targets(C), example_weights(objective)
        return cls(objective, objective.loss_spec.name, margin, y, np.arange(len(y)), weights)

    def primal(self, W: np.ndarray, M: _Float) -> float:
        """``P(W)`` from the pieces' arguments ``M`` ``(N, C)`` (:func:`margins`) at ``W``: the
        multi-class hinge sums ``max(0, z)`` over the row (one versus all too), Crammer-Singer
        takes its largest (``M`` holds the zero piece at the true class)."""
        J = self.objective
        if self.loss == "crammer_singer":
            losses = np.maximum(M.max(axis=1), 0.0)
        else:
            losses = np.maximum(M, 0.0).sum(axis=1)
        return float(losses @ self.weights) + J.lam * J.regularizer.value(W)


#: The most active-set rounds of :func:`polish` (the hinges), and how many rounds in a row
#: may change no fewer pieces than the fewest so far before it gives up.
_ACTIVE_SET_ROUNDS, _STRIKES = 20, 1


def _next_active_set(kink: Any, fixed: _Float, raw: _Float, M: _Float) -> tuple[Any, _Float, int]:
    """One primal-dual active-set update for the hinges: a kink whose ``alpha`` came out below
    0 (above 1) leaves for its side 0 (1); a piece at its side whose ``z`` at the new point
    crossed the kink (``z > 0`` with ``alpha = 0``, ``z < 0`` with ``alpha = 1``) becomes a
    kink. Returns ``(kink, fixed, changes)``; the true class's zero piece never enters (its
    ``z`` is 0)."""
    kink, fixed = kink.copy(), fixed.copy()
    i, j = np.nonzero(kink)
    high = raw > 1
    leave = (raw < 0) | high
    left = i[leave], j[leave]
    kink[left] = False
    fixed[i[high], j[high]] = 1.0
    enter = M * (1.0 - 2.0 * fixed) > 0  # z > 0 at side 0, z < 0 at side 1 (fixed is 0 or 1)
    enter &= ~kink
    enter[left] = False
    kink |= enter
    fixed[enter] = 0.0
    return kink, fixed, int(leave.sum() + enter.sum())


def _with_ones(X: Any) -> Any:
    """``[X, 1]`` in float64: dense for a dense ``X``, CSR for a CSR ``X`` (never densified)."""
    if is_sparse(X):
        from scipy import sparse

        ones = np.ones((X.shape[0], 1))
        return sparse.hstack([X.astype(np.float64), ones], format="csr")
    return np.hstack([X.astype(np.float64), np.ones((X.shape[0], 1))])


#: The most weights ``P`` for which :func:`polish` solves the full dense system (weights plus
#: kinks, ``P + K <= 3 P`` unknowns, by LU; least squares where singular); beyond, the reduced
#: one (kinks plus bias, the weights eliminated: :func:`_reduced_system`) up to
#: ``REDUCED_MAX_SIZE`` unknowns (128 MB; solved by LU, 1-2 s at 4,096), else none: the
#: continuation's duality gap alone certifies the stop. The full system's solve grows as
#: ``(P + K)^3``, the reduced one's as ``(K + C)^3``: on digits (650 weights, ~300 kinks) 15 ms
#: against 1; below 128 weights both take tens of microseconds. (At 4,000 x 256 with 10
#: classes, lam = 1e-4, about 2,300 pieces sit at their kinks: the reduced system of 2,310
#: unknowns, where the full one would have 4,870.)
FULL_MAX_WEIGHTS, REDUCED_MAX_SIZE = 128, 4096


def _solve_kinks(
    kinks: _Kinks, W: np.ndarray, kink: Any, fixed: _Float, tie: Any
) -> tuple[np.ndarray, _Float, _Float] | None:
    """:func:`polish`'s linear system for the kinks ``kink`` ``(N, C)`` and the sides
    ``fixed``: ``(W, alpha clipped, the kinks' raw alpha (K,))``; None when ``K > 2 (D + 1) C``
    or when the weights ``P = (D + 1) C`` are over ``FULL_MAX_WEIGHTS`` (the full system's
    ``P + K`` unknowns: its memory grows as ``(P + K)^2`` and its solve as ``(P + K)^3``) and
    the reduced one (``K + C``) is over ``REDUCED_MAX_SIZE``."""
    loss, y, weights = kinks.loss, kinks.y, kinks.weights
    C = W.shape[1]
    i, j = np.nonzero(kink)
    P, K = W.size, len(i)
    full = P <= FULL_MAX_WEIGHTS
    if K > 2 * P or not (full or C + K <= REDUCED_MAX_SIZE):  # too many, or too large
        return None
    U = np.zeros((K, C))  # (K, C): each kink's direction, in A and in z (dual_scores of e_j)
    k, yi = np.arange(K), y[i]
    if loss == "one_vs_all_hinge":
        U[k, j] = np.where(j == yi, -1.0, 1.0)
    else:  # j != y_i: the true class's zero piece is never a kink
        U[k, j], U[k, yi] = 1.0, -1.0
    A_fixed = dual_scores(loss, fixed * weights[:, None], y)
    if full:
        W_new, raw = _full_system(kinks, W, i, U, A_fixed, tie)
    else:
        objective, margin = kinks.objective, kinks.margin
        W_new, raw = _reduced_system(objective, W, i, U, A_fixed, weights, tie, margin)
    alpha = fixed.copy()
    alpha[i, j] = np.clip(raw, 0.0, 1.0)
    if loss == "crammer_singer":
        alpha /= np.maximum(alpha.sum(axis=1, keepdims=True), 1.0)
    return W_new.astype(W.dtype), alpha, raw


def _full_system(
    kinks: _Kinks, W: np.ndarray, i: Any, U: _Float, A_fixed: _Float, tie: Any
) -> tuple[_Float, _Float]:
    """The ``P + K`` system of :func:`polish` for ``W`` and the kinks' ``alpha``: ``(W, raw
    alpha (K,))``; ``U`` ``(K, C)`` the kinks' directions, ``A_fixed`` ``(N, C)`` the sides'
    weighted dual scores. With ``B`` ``(P, K)`` the kinks' directions in ``W`` (``B[(d, c), k]
    = [x_{i_k}, 1]_d U[k, c]``), ``L`` the penalty's diagonal (``lam``, 0 on a free bias):

        [[L, B diag(w_i)], [B^T, 0]] [W; alpha] = [-[X, 1]^T A_fixed; -m],

    solved by LU (:func:`_solve_dense`; least squares where singular: redundant kinks). For the
    multi-class hinges with a free bias, ``b + c 1`` is as good as ``b`` (the scores'
    differences only) and the last bias row is redundant: ``sum(b) = 0`` takes its place (the
    least-norm solution's), which leaves the system regular."""
    objective, C, P, K = kinks.objective, W.shape[1], W.size, len(i)
    free_bias, X = not objective.regularizer.include_bias, objective.X
    rows = X[i].toarray() if is_sparse(X) else X[i]  # K <= 2 P rows
    X1i = np.empty((K, X.shape[1] + 1))
    X1i[:, :-1], X1i[:, -1] = rows, 1.0
    n = P + K
    system = np.zeros((n, n))
    directions = (X1i[:, :, None] * U[:, None, :]).reshape(K, P)  # B^T
    system[P:, :P] = directions
    system[:P, P:] = directions.T * kinks.weights[i]
    system.flat[: P * (n + 1) : n + 1] = objective.lam  # L: the first P diagonal entries
    rhs = np.empty(n)
    Q = rhs[:P].reshape(W.shape)
    Q[:-1] = X.T @ A_fixed  # (D, C) in float64 (A_fixed is)
    Q[-1] = A_fixed.sum(axis=0)
    rhs[:P] *= -1.0
    rhs[P:] = -kinks.margin
    if free_bias:
        system.flat[(P - C) * (n + 1) : P * (n + 1) : n + 1] = 0.0
        if kinks.loss != "one_vs_all_hinge":  # sum(b) = 0 for the redundant last bias row
            system[P - 1], rhs[P - 1] = 0.0, 0.0
            system[P - 1, P - C : P] = 1.0
    if tie.any():
        _tied_rows(system[P:], rhs[P:], i, tie, P)
    solution = _solve_dense(system, rhs, _least_squares)
    return solution[:P].reshape(W.shape), solution[P:]


def _reduced_system(
    objective: Any, W: np.ndarray, i: Any, U: _Float, A_fixed: _Float, weights: _Float,
    tie: Any, margin: float,
) -> tuple[_Float, _Float]:  # fmt: skip
    """The system of :func:`polish` with the penalised weights eliminated (``V = -F^T (w A) /
    lam``, ``F`` the penalised columns: ``X``, or ``[X, 1]`` when the bias is penalised): ``K``
    kink rows ``u_k . (F_{i_k} V + b) = -m`` and, for an unpenalised bias ``b``, ``C`` rows
    ``sum_n w_n A_n = 0``, in the unknowns ``alpha`` ``(K,)`` and ``b`` ``(C,)``:

        [[G o (U U^T) w_l,  -lam U], [(w U)^T, 0]] [alpha; b] = [lam m - u_k . F_{i_k} Q0;
                                                                 -sum_n A_fixed_n],

    ``G = F_i F_i^T`` the kinks' Gram matrix ``(K, K)``, ``Q0 = F^T A_fixed``. Memory
    ``(K + C)^2 + K D``, whatever ``D``. Returns ``(W, raw alpha (K,))``."""
    K, C = len(i), W.shape[1]
    lam, free_bias = objective.lam, not objective.regularizer.include_bias
    F = objective.X if free_bias else _with_ones(objective.X)
    Fi: Any = F[i] if is_sparse(F) else np.asarray(F[i], dtype=np.float64)  # CSR stays CSR
    gram: Any = Fi @ Fi.T
    Q0 = np.asarray(F.T @ A_fixed)
    size = K + C * free_bias
    system = np.zeros((size, size))
    system[:K, :K] = (gram.toarray() if is_sparse(gram) else gram) * (U @ U.T) * weights[i]
    rhs = np.zeros(size)
    rhs[:K] = lam * margin - np.einsum("kc,kc->k", Fi @ Q0, U)
    if free_bias:
        system[:K, K:] = -lam * U
        system[K:, :K] = (U * weights[i][:, None]).T
        rhs[K:] = -A_fixed.sum(axis=0)
        if objective.loss_spec.name != "one_vs_all_hinge":  # scores' differences only: the
            system[-1], rhs[-1] = 0.0, 0.0  # last bias row is redundant, b + c 1 as good as b:
            system[-1, K:] = 1.0  # sum(b) = 0 in its place (the full system's least norm)
    _tied_rows(system[:K], rhs[:K], i, tie, 0)
    solution = _solve_dense(system, rhs)
    raw = solution[:K]
    N = A_fixed.shape[0]
    cells = (i[:, None] * C + np.arange(C)).ravel()  # the kinks' (example, class) cells
    added = np.bincount(cells, (raw[:, None] * weights[i][:, None] * U).ravel(), minlength=N * C)
    A = A_fixed + added.reshape(N, C)
    W_new = np.empty(W.shape)
    V = -np.asarray(F.T @ A) / lam
    if free_bias:
        W_new[:-1], W_new[-1] = V, solution[K:]
    else:
        W_new[:] = V
    return W_new, raw


def _solve_dense(system: _Float, rhs: _Float, fallback: Any = None) -> _Float:
    """``x`` with ``system @ x = rhs`` ``(n, n)``: LU (LAPACK ``getrf``; a third of the cost of
    QR, a tenth of the SVD), and where the system is singular (redundant kinks: a pivot within
    ``_PIVOT`` of the largest) or the residual is off, least squares: ``fallback(system, rhs)``,
    by default pivoted QR (LAPACK ``gelsy``)."""
    from scipy.linalg import lapack

    lu, _, x, info = lapack.dgesv(system, rhs)
    diagonal = np.abs(lu.diagonal())
    if info == 0 and diagonal.min() > _PIVOT * diagonal.max():
        residual = float(np.abs(system @ x - rhs).max())
        scale = float((np.abs(system) @ np.abs(x)).max()) + float(np.abs(rhs).max())
        if residual <= 1e-8 * scale < math.inf:  # (not NaN, not inf)
            solved: _Float = x
            return solved
    if fallback is not None:
        least: _Float = fallback(system, rhs)
        return least
    from scipy import linalg

    solution: _Float = linalg.lstsq(system, rhs, lapack_driver="gelsy")[0]
    return solution


#: A pivot of the LU factors at most this fraction of the largest: the system is taken as
#: singular (rounding's pivots are ~1e-16 of it; a regular system's at 1e-4 lam are ~1e-7).
_PIVOT = 1e-11


def _least_squares(system: _Float, rhs: _Float) -> _Float:
    """The least-norm least-squares solution (LAPACK ``gelsd``: the SVD's), as NumPy's."""
    return np.asarray(np.linalg.lstsq(system, rhs, rcond=None)[0], dtype=np.float64)


def _tied_rows(rows: _Float, rhs: _Float, example: npt.NDArray[np.intp], tie: Any, P: int) -> None:
    """Crammer-Singer examples whose worst classes tie above the zero piece: their kink rows
    become ``z_j = z_first`` (equal margins; row and right-hand side less the first's) and, in
    the first one's row, ``sum alpha = 1`` (the kinks' ``alpha`` columns start at ``P``)."""
    for i in np.flatnonzero(tie):
        ks = np.flatnonzero(example == i)
        first, first_rhs = rows[ks[0]].copy(), rhs[ks[0]]
        for k in ks[1:]:
            rows[k] -= first
            rhs[k] -= first_rhs
        rows[ks[0]] = 0.0
        rows[ks[0], P + ks] = 1.0
        rhs[ks[0]] = 1.0


def example_weights(objective: Any) -> _Float:
    """``c_i = w_i / sum_j w_j`` ``(N,)`` float64 (``1 / N`` without example weights).

    Examples:
        >>> from lingrad.objective import Objective
        >>> J = Objective("hinge", np.eye(2), [0, 1], sample_weight=[1.0, 3.0])
        >>> example_weights(J).tolist()
        [0.25, 0.75]
    """
    N = objective.n_samples
    if objective.sample_weight is None:
        return np.full(N, 1.0 / N)
    w = np.asarray(objective.sample_weight, dtype=np.float64)
    return w / w.sum()


def score_curvature(loss: str, curve: _Float, dS: _Float, y: npt.NDArray[np.intp]) -> _Float:
    """``mu H_i dS[i]`` ``(N, C)``: the smoothed loss's score-space curvature (times ``mu``)
    along ``dS``. ``curve`` ``(N, C)``: 1 on the hinge terms inside ``(0, mu)`` (0 at the true
    class for the multi-class hinges), or Crammer-Singer's softmax weights ``a`` (0 at the true
    class: its zero option has ``dz = 0``). With ``dz_j = dS_j - dS_y`` (``-t_j dS_j`` for one
    versus all) and ``u = curve * dz`` (``a * dz - a (a . dz)``), the product maps ``u`` back:
    ``u_j`` on ``j != y`` and ``-sum_j u_j`` on ``y`` (one versus all: ``-t_j u_j``, i.e. ``u``
    since ``t_j^2 = 1``).

    Examples:
        >>> curve, y = np.array([[0.0, 1.0, 0.0]]), np.array([0])
        >>> score_curvature("hinge", curve, np.array([[0.0, 1.0, 5.0]]), y).tolist()
        [[-1.0, 1.0, 0.0]]
    """
    rows = np.arange(len(y))
    if loss == "one_vs_all_hinge":
        return curve * dS
    dz = dS - dS[rows, y][:, None]
    u = curve * dz
    if loss == "crammer_singer":
        u -= curve * u.sum(axis=1, keepdims=True)
    u[rows, y] = 0.0
    u[rows, y] = -u.sum(axis=1)
    return u


#: ``K``: the smoothing moves one example's loss by at most ``mu K`` (primal side); the gap at
#: the smoothed optimum is at most ``2 mu K``, when the solver moves on to a smaller ``mu``.
_SMOOTHING_ERROR = {
    "hinge": lambda C: 0.5 * (C - 1),
    "one_vs_all_hinge": lambda C: 0.5 * C,
    "crammer_singer": lambda C: math.log(C),
}


class SmoothedObjective:
    """The smoothed objective ``P_mu(W)`` of a piecewise-linear ``objective`` (what the inner
    L-BFGS minimises): ``value_and_grad_unchecked(W) -> (P_mu, dP_mu/dW)``, the gradient
    ``[X, 1]^T (w A / W_t) + lam dR/dW`` shaped like ``W`` ``(D + 1, C)`` in its dtype. It
    keeps the scores of its last evaluation (:meth:`scores_at`).

    Examples:
        >>> from lingrad.objective import Objective
        >>> J = Objective("hinge", np.array([[0.0], [1.0]]), [0, 1], lam=0.1)
        >>> W = J.check_weights(np.zeros((2, 2)))
        >>> value, grad = SmoothedObjective(J, 1e-9).value_and_grad_unchecked(W)
        >>> round(value, 6), grad.shape                 # the hinge at equal scores: margin 1
        (1.0, (2, 2))
    """

    def __init__(self, objective: Any, mu: float):
        self.objective, self.mu = objective, mu
        self.loss = objective.loss_spec.name
        self.margin = float(objective.loss_params.get("margin", 1.0))
        self.weights = example_weights(objective)
        self._last: tuple[np.ndarray, np.ndarray] | None = None

    def value_and_grad_unchecked(
        self, W: np.ndarray, rows: Any = None, need_grad: bool = True, out: Any = None
    ) -> tuple[float, np.ndarray]:
        """``(P_mu(W), dP_mu/dW)`` over all the data (``rows``, ``need_grad``, ``out`` are
        accepted for the objective protocol and ignored)."""
        J = self.objective
        S = scores_unchecked(W, J.X)
        y = J.targets(W.shape[1])
        losses, alpha = smoothed_loss(self.loss, S, y, self.margin, self.mu)
        value = float(losses @ self.weights) + J.lam * J.regularizer.value(W)
        A = dual_scores(self.loss, alpha * self.weights[:, None], y).astype(W.dtype)
        grad = np.empty_like(W)
        grad[:-1] = J.X.T @ A  # no out=: X may be a CSR matrix
        grad[-1] = A.sum(axis=0)
        J.regularizer.add_grad(W, grad, J.lam)
        self._last = (W, S)
        return value, grad

    def hessian(self, W: np.ndarray) -> Any:
        """The generalised Hessian of ``P_mu`` at ``W`` as an operator ``V -> H V`` (W's
        shape): ``H V = [X, 1]^T (w * H_S(dS) / W_t) + lam V_R``, ``dS = [X, 1] V``, ``V_R``
        ``V`` with the bias row zeroed unless the penalty includes it. In score space
        (:func:`score_curvature`) a Huberised term with ``0 < z < mu`` has the curvature
        ``1/mu`` along ``dz``; Crammer-Singer's ``mu logsumexp`` has ``(diag(a) - a a^T) / mu``
        over its options (the zero option included). One pass for the scores (none when the
        last evaluation was at ``W``), then two products with X per call.

        Examples:
            >>> from lingrad.objective import Objective
            >>> J = Objective("one_vs_all_hinge", np.array([[1.0], [2.0]]), [0, 1], lam=0.5)
            >>> H = SmoothedObjective(J, 4.0).hessian(J.check_weights(np.zeros((2, 2))))
            >>> H(np.array([[1.0, 0.0], [0.0, 0.0]])).tolist()  # (1/2)(1 + 4)/4 + 0.5; (1/2)3/4
            [[1.125, 0.0], [0.375, 0.0]]
        """
        J = self.objective
        S = self.scores_at(W)
        S = scores_unchecked(W, J.X) if S is None else S
        y = J.targets(W.shape[1])
        M = margins(self.loss, S, y, self.margin)
        if self.loss == "crammer_singer":
            curve = smoothed_loss(self.loss, S, y, self.margin, self.mu)[1]
        else:
            curve = ((M > 0) & (self.mu > M)).astype(np.float64)
            if self.loss != "one_vs_all_hinge":
                curve[np.arange(len(y)), y] = 0.0
        coef = self.weights[:, None] / self.mu

        def product(V: np.ndarray) -> np.ndarray:
            V = V.reshape(W.shape)
            dS = scores_unchecked(V, J.X).astype(np.float64, copy=False)
            A = (coef * score_curvature(self.loss, curve, dS, y)).astype(W.dtype)
            out = np.empty_like(W)
            out[:-1] = J.X.T @ A
            out[-1] = A.sum(axis=0)
            J.regularizer.add_grad(V.astype(W.dtype, copy=False), out, J.lam)
            return out

        return product

    def scores_at(self, W: np.ndarray) -> np.ndarray | None:
        """The scores of the last evaluation when it was at ``W`` (equal values), else None."""
        if self._last is not None and np.array_equal(self._last[0], W):
            return self._last[1]
        return None


#: At most this many conjugate-gradient steps per inner Newton iteration.
_MAX_CG = 50


class ContinuationState(NamedTuple):
    """``inner``: the L-BFGS state on the current smoothed problem, ``newton``: the Newton
    state (the one of the inner solver in use moves; both are kept so that a checkpoint's
    layout does not depend on the loss); ``mu``: its smoothing;
    ``stages``: how many times ``mu`` shrank; ``smoothed_dual``: the best ``D`` of the smoothed
    gradients so far (it decides when a stage is done); ``dual``: the best dual value ``D`` so
    far, polished points included (a lower bound on ``P(W*)``, from any earlier dual point);
    ``gap``: ``P - D`` at the current W;
    ``bias_gradient``: the smoothed bias-row gradient (max-abs); ``value``: ``P``;
    ``evaluations``: passes over the data; ``measure``: the relative gap ``gap / P``;
    ``status``: a :class:`~lingrad.optim.solvers.base.Status`.

    Examples:
        >>> s = Continuation().init(np.zeros((3, 2)))
        >>> s.mu, s.stages, s.inner.pairs
        (1.0, 0, 0)
    """

    inner: LBFGSState
    newton: NewtonState
    mu: float
    stages: int
    smoothed_dual: float
    dual: float
    gap: float
    bias_gradient: float
    value: float
    evaluations: int
    measure: float
    status: int


class Continuation(SolverBase):
    """Smoothing with continuation for the piecewise-linear losses with an L2 penalty (see the
    module docstring): each iteration is one L-BFGS iteration on the smoothed objective, then
    the duality gap of the true objective at the new point.

    Args:
        tol: stop when the relative duality gap ``(P - D) / P`` is at most ``tol``: then
            ``P(W) - P(W*) <= tol * P(W)``.
        mu: the first smoothing (in score units; the margin is 1 by default).
        shrink: ``mu <- shrink * mu`` at each stage.
        memory: the inner L-BFGS's pairs.
        mu_min: the smallest smoothing; a stalled inner solve there is a failure.
        inner: the solver of each smoothed problem: ``"newton"`` (trust-region Newton-CG,
            :class:`~lingrad.optim.solvers.TrustRegionNewton`, on the generalised Hessian
            :meth:`SmoothedObjective.hessian`), ``"lbfgs"``, or ``"auto"``: Newton for
            Crammer-Singer (its ``mu logsumexp`` has a smooth Hessian), L-BFGS for the
            Huberised hinges (their Hessian jumps where pieces enter, which shrinks the trust
            region to tiny steps: slower than L-BFGS on digits).
        certify_every: inner iterations per iteration (fewer at a stage's end): the dual
            value that certifies each iteration costs a pass over X and the flow balancing, as
            much as an inner iteration; and the estimators' ``max_iter`` (1,000) counts
            iterations: at 4,000 x 256 the Weston-Watkins hinge takes 7,000 inner ones.

    Examples:
        >>> from lingrad.objective import Objective
        >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
        >>> J = Objective("hinge", X, [0, 1, 1, 0], lam=0.1)
        >>> solver, W = Continuation(tol=1e-8), J.check_weights(np.zeros((3, 2)))
        >>> state = solver.init(W)
        >>> while state.status == 0:
        ...     step, state = solver.update(None, state, W, objective=J)
        ...     W = W + step
        >>> state.measure <= 1e-8, round(state.value, 6)
        (True, 0.1)
    """

    reads: ClassVar[str] = "objective"

    def __init__(
        self,
        tol: float = 1e-4,
        mu: float = 1.0,
        shrink: float = 0.1,
        memory: int = 10,
        mu_min: float = 1e-12,
        inner: str = "auto",
        certify_every: int = 10,
    ):
        self.tol = check_positive("tol", tol, allow_zero=True)
        self.mu = check_positive("mu", mu)
        self.shrink = check_positive("shrink", shrink)
        if self.shrink >= 1:
            check_positive("shrink", -1.0)  # the message: a number in (0, 1)
        self.mu_min = check_positive("mu_min", mu_min)
        check_int("memory", memory)
        self.certify_every = check_int("certify_every", certify_every, minimum=1)
        if inner not in ("auto", "newton", "lbfgs"):
            fail("inner", "'auto', 'newton' or 'lbfgs'", repr(inner))
        self.inner_name = inner
        self._inners: dict[str, Any] = {
            "newton": TrustRegionNewton(tol=0.0, max_cg=_MAX_CG),
            "lbfgs": LBFGS(tol=0.0, memory=memory),
        }
        self.inner: Any = self._inners["lbfgs" if inner == "auto" else inner]  # until update
        self._smoothed: SmoothedObjective | None = None

    def __repr__(self) -> str:
        return f"Continuation(tol={self.tol:g}, mu={self.mu:g}, shrink={self.shrink:g})"

    def check_objective(self, objective: Any) -> None:
        """Refuse what it cannot solve exactly: a smooth loss (use ``'lbfgs'``), a penalty that
        is not L2 or ``lam = 0``, data not in memory; naming the loss and the penalty."""
        name, reg = objective.loss_spec.name, objective.regularizer
        if name not in PIECEWISE:
            refuse("continuation", f"the smooth loss {name!r}", "'lbfgs'")
        if not (objective.lam > 0 and reg.name != "none" and reg.l1_ratio == 0):
            refuse(
                "continuation",
                f"the loss {name!r} with the regularizer {reg.name!r} at lam={objective.lam:g}",
                "regularizer='l2' with lam > 0; or optimizer='sgd', a subgradient method",
            )
        X = getattr(objective, "X", None)
        if not (isinstance(X, np.ndarray) or is_sparse(X)):  # in memory: NumPy or CSR
            refuse("continuation", f"the loss {name!r} on data not in memory", "'sgd'")

    def init(self, W: np.ndarray) -> ContinuationState:
        """The first stage (smoothing ``mu``) for weights shaped like ``W``."""
        inf, running = math.inf, int(Status.RUNNING)
        inner, newton = self._inners["lbfgs"].init(W), self._inners["newton"].init(W)
        figures = (-inf, -inf, inf, inf, inf, 0, inf, running)
        return ContinuationState(inner, newton, self.mu, 0, *figures)

    def update(
        self,
        grad: np.ndarray | None,
        state: ContinuationState,
        W: np.ndarray,
        *,
        objective: Any = None,
        value_fn: Any = None,
        rng: Any = None,
    ) -> tuple[np.ndarray, ContinuationState]:
        """Up to ``certify_every`` inner iterations (L-BFGS or Newton; fewer when the stage's
        smoothed problem is solved or the inner solver stops), the certificate at ``W +
        step``, and the next stage when this one is done: ``(step, state)``."""
        if objective is None:
            raise TypeError("Continuation.update needs objective= (it reads the objective)")
        smoothed = self._smoothed_for(objective, state.mu)
        self.inner = self._inner_for(smoothed.loss)
        field = "newton" if self.inner is self._inners["newton"] else "inner"
        before = getattr(state, field)
        W_new, inner, scores, solved, bound, passes = self._inner_steps(smoothed, before, W)
        evaluations = state.evaluations + inner.evaluations - before.evaluations + passes
        if inner.status == Status.NON_FINITE:
            running = state._replace(evaluations=evaluations, status=int(Status.NON_FINITE))
            return W_new - W, running._replace(**{field: inner})
        step = W_new - W
        mu, stages, status = state.mu, state.stages, Status.RUNNING
        cert = certificate(objective, W_new, mu, scores)
        primal = cert.primal
        smoothed_dual = max(state.smoothed_dual, cert.dual)
        stage_done = (
            inner.status != Status.RUNNING or solved or cert.primal - smoothed_dual <= bound
        )
        dual = max(state.dual, cert.dual)
        for band in sorted({10.0 * mu, mu, 1e-6, 1e-4, 1e-2}) if stage_done else ():
            if primal - dual <= self.tol * primal:
                break
            guess = polish(objective, W_new, band, scores)
            if guess is None:
                break
            dual = max(dual, dual_value(objective, guess[1]))
            value = objective.value_and_grad_unchecked(guess[0], need_grad=False)[0]
            evaluations += 1
            if value < primal:  # jump there; the inner memory no longer applies
                step, primal, inner = guess[0] - W, value, self.inner.init(W)
        gap = max(primal - dual, 0.0)
        measure = gap / max(primal, np.finfo(np.float64).tiny)
        if measure <= self.tol:
            status = Status.CONVERGED
        elif stage_done and mu > self.mu_min:
            mu, stages = max(mu * self.shrink, self.mu_min), stages + 1
            inner = self.inner.init(W)
        elif inner.status != Status.RUNNING:
            status = Status.LINE_SEARCH_FAILED
        figures = (smoothed_dual, dual, gap, cert.bias_gradient, primal, evaluations, measure)
        new = ContinuationState(state.inner, state.newton, mu, stages, *figures, int(status))
        return step, new._replace(**{field: inner})

    def _inner_steps(
        self, smoothed: SmoothedObjective, inner: Any, W: np.ndarray
    ) -> tuple[np.ndarray, Any, np.ndarray, bool, float, int]:
        """Up to ``certify_every`` iterations of the inner solver on ``smoothed`` from ``W``:
        ``(W_new, inner state, scores at W_new, solved, bound, extra passes)``. ``bound``: the
        smoothing's error, at most ``2 mu K`` and taken as at most ``mu P`` (few pieces are near
        their kinks); ``solved``: the smoothed problem is solved to within it (``P_mu(W) - min
        P_mu <= ||grad P_mu||^2 / (2 lam)``: ``P_mu`` is ``lam``-convex). Stops early when
        solved or when the inner solver stops."""
        objective, passes = smoothed.objective, 0
        K = _SMOOTHING_ERROR[smoothed.loss](W.shape[1])
        scores: np.ndarray = np.empty(0)
        solved, bound = False, math.inf
        for _ in range(self.certify_every):
            step, inner = self.inner.update(None, inner, W, objective=smoothed)
            if inner.status == Status.NON_FINITE:
                return W + step, inner, np.empty(0), False, bound, passes
            W = W + step
            kept = smoothed.scores_at(W)
            if kept is None:
                kept, passes = scores_unchecked(W, objective.X), passes + 1
            scores = kept
            bound = smoothed.mu * min(2.0 * K, primal_value(objective, W, scores))
            solved = inner.grad is not None and float(np.vdot(inner.grad, inner.grad)) <= (
                2.0 * objective.lam * bound
            )
            if solved or inner.status != Status.RUNNING:
                break
        return W, inner, scores, solved, bound, passes

    def _inner_for(self, loss: str) -> Any:
        """The inner solver for ``loss`` (``inner="auto"``: Newton for Crammer-Singer)."""
        name = self.inner_name
        if name == "auto":
            name = "newton" if loss == "crammer_singer" else "lbfgs"
        return self._inners[name]

    def _smoothed_for(self, objective: Any, mu: float) -> SmoothedObjective:
        """The smoothed objective for ``(objective, mu)``, kept between iterations (it holds
        the last scores, which spare the certificate a pass over X)."""
        cached = self._smoothed
        if cached is None or cached.objective is not objective or cached.mu != mu:
            cached = self._smoothed = SmoothedObjective(objective, mu)
        return cached
