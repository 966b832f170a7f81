"""Dual coordinate descent: the exact optimum of a piecewise-linear loss with an L2 penalty, one
example at a time (liblinear's method), certified by the duality gap.

The problem and its dual are :mod:`~lingrad.optim.solvers.continuation`'s (``c_i = w_i / W_t``,
``V`` the weight rows, ``b`` the bias, ``s_i = V^T x_i + b``, ``A_i = A(alpha_i)`` in ``K_i``).
Here the dual variables are ``beta_i = c_i alpha_i / lam`` (each in ``U_i K_i``,
``U_i = c_i / lam``: liblinear's box ``C`` at ``C = 1 / (lam N)``), so that

    V = -sum_i x_i A(beta_i)^T,
    f(beta) = (1/2) ||sum_i x_i A(beta_i)^T||^2 - m sum_i sum(beta_i)  (+ the bias's terms)

is minimised. The unregularised bias makes the dual's constraint ``sum_i A(beta_i) = 0``; it is
met by the method of multipliers (the augmented Lagrangian, i.e. the proximal point method on
``b``): during an epoch the bias is ``b = b_k - kappa u``, ``u = sum_i A(beta_i)``, which adds
``kappa ||u||^2 / 2 - <b_k, u>`` to ``f`` (the dual of ``P(W) + (lam / (2 kappa)) ||b - b_k||^2``),
and at the epoch's end ``b_{k+1} = b`` (the multiplier's step). At the optimum ``u = 0`` and the
proximal term vanishes: the limit is the exact optimum of ``P``. With ``include_bias=True`` the
bias is a feature of value 1 (``kappa = 1``, ``b_k = 0`` kept); with ``fit_intercept=False``
it stays where it is (``kappa = 0``).

Each example's sub-problem (``grad_{A_i} f = -s_i``, curvature ``Q_i = ||x_i||^2 + kappa``):

* ``one_vs_all_hinge``: ``A_ij = -t_ij beta_ij``, one coordinate per class (Hsieh et al. 2008):
  ``beta_ij <- clip(beta_ij + (m - t_ij s_ij) / Q_i, 0, U_i)``;
* ``hinge`` (Weston-Watkins): ``A_i = beta_i - e_y sum(beta_i)``; the example's box QP
  ``min_d -g.d + (Q_i/2)(||d||^2 + (sum d)^2)`` (``g_j = m + s_ij - s_iy``) solved exactly:
  ``d_j = clip(g_j / Q_i - t, -beta_ij, U_i - beta_ij)`` at ``t = sum(d)``, the root of a
  monotone piecewise-linear function of ``t`` found from its ``2 (C - 1)`` breakpoints;
* ``crammer_singer``: the same ``A`` with ``sum(beta_i) <= U_i``, solved exactly by sorting
  (liblinear's ``Solver_MCSVM_CS::solve_sub_problem``, Keerthi et al. 2008).

Each iteration is one block of passes (liblinear's outer loop, ``solve_l2r_l1l2_svc`` and
``Solver_MCSVM_CS::Solve``): each pass in a fresh shuffled order, the examples whose variables sit
at a bound that the last pass's largest violation does not question shrunk away, all of them checked
again once the rest are within ``eps`` (and, within a Weston-Watkins example, the classes at a bound
that cannot move: liblinear's shrinking of the classes, scored no more until then; not for
Crammer-Singer, where on a 30 x 5 problem it took 40 times the passes); a full pass within ``eps``
ends the block, after the bias's multiplier steps (each taken once a full pass is within ``max(eps,
kappa |u|)``: the inner problem solved no finer than the bias's own violation, an inexact augmented
Lagrangian; 20-60 % fewer visits on the small sets than solving each to ``eps``). A block is at most
a budget of visits, doubled after each block that ends short of ``eps``. One versus all is ``C``
binary problems, one column each, run by a scalar loop (liblinear's); with two classes the
Weston-Watkins and Crammer-Singer hinges are one such binary problem on the scores' difference
(:func:`difference_block`). The block is compiled by Numba when it is installed
(:data:`lingrad._skinny.AVAILABLE`): Python is entered once per iteration; without it each example
is one NumPy product (the same updates, another summation order).

On dense rows the loops hold ``V`` transposed during a block (``(C, D)``: each class's weights
contiguous), the scores summed four classes at a time in registers, in the same order.

Sparse (CSR) X: the loops read a row of X only through a row dot product (``s += V^T x_i``) and
a row update (``V[:, c] -= x_i dA_c``); the same source is instantiated a second time with the
CSR row functions (``X = (data, indices, indptr)``, each visit ``nnz(x_i) C`` multiply-adds,
liblinear's sparse-first cost) and compiled; the same visiting order and iterates as on the
dense rows. Without Numba that instance runs as Python.

On the small multi-class problems (the Weston-Watkins and Crammer-Singer hinges over three
classes or more, at most ``_IPM_SIZE`` weights) the first block is given half the time that
:mod:`~lingrad.optim.solvers.interior`'s interior-point method is modelled to take; where it
ends short of its ``eps`` (overlapping classes, many examples at the box's top: thousands of
passes), that method solves the problem in 15-30 Newton steps and its multipliers certify it.

Certificate: ``P(W)`` by the objective at the epoch's weights, ``D`` by
:func:`~lingrad.optim.solvers.continuation.dual_value` at ``alpha = lam beta / c`` (which
balances the dual point onto the constraint first), the best ``D`` so far kept;
``measure = (P - D) / P``.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, NamedTuple

import numpy as np
import numpy.typing as npt

from lingrad import _skinny
from lingrad._validation import check_int, check_positive, fail, is_sparse
from lingrad.model import scores_unchecked
from lingrad.optim.solvers import interior
from lingrad.optim.solvers.base import SolverBase, Status, refuse, row_sqnorms
from lingrad.optim.solvers.continuation import (
    PIECEWISE,
    dual_scores,
    dual_value,
    example_weights,
    polish,
    smoothed_loss,
)

_Float = npt.NDArray[np.float64]

#: The kernels' codes of the losses.
KINDS = {"one_vs_all_hinge": 0, "hinge": 1, "crammer_singer": 2}
#: Examples visited per iteration (a block of passes), at most, in passes over the data, at
#: first; doubled after each block that ends short of its ``eps`` (up to ``_MAX_BUDGET``), so
#: that a large set is not stopped every few passes for a certificate that cannot hold yet...
_BUDGET = 5.0
_MAX_BUDGET = 320.0
#: ... unless that is fewer multiply-adds than this (tiny sets: the whole solve in one call).
_WORK = 2e7
#: Whether the multi-class hinges with two classes are solved as one binary problem on the
#: scores' difference (:func:`difference_block`).
_TWO_CLASSES = True
#: The bias's multiplier step is taken once the examples' violations are within this fraction
#: of the bias's (an inexact augmented Lagrangian: no inner solve finer than the outer one).
_INEXACT = 1.0
#: After a block that met its ``eps`` without a certified gap, the next ``eps`` aims the gap at
#: this fraction of ``tol`` (the gap taken as proportional to ``eps``; it falls slower than
#: ``eps`` on the small sets, where an extra certificate costs more than the finer block).
_AIM = 0.2
#: After a block solved to its ``eps``, when the weights are at most ``_POLISH_SIZE`` numbers (the
#: linear system stays small: a millisecond on digits' 650 weights and ~300 kinks), the optimum is
#: guessed from the kinks (:func:`~lingrad.optim.solvers.continuation.polish`, with a band of
#: ``eps`` times a factor, within [1e-3, 0.1] margins) and taken when a dual value certifies it:
#: first that of the guess's own dual point (exact where the guess is: then the block's ``P`` and
#: ``D`` are not computed), else the block's (the dual converges long before the primal ``V(beta)``
#: on a separable set: wine's ``P`` is 1.6e-3 off at ``eps = 1e-4`` where ``D`` is 1e-8 off). There
#: the first ``eps`` is ``_POLISH_EPS``: 3e-2 for the Weston-Watkins hinge over more than two
#: classes, 1e-2 otherwise, and the band ``_BAND`` times ``eps``: 2 and 3 (iris and wine: one block
#: and a polished optimum; against 3e-3 and 10 eps the iris one-vs-all fit takes half the time,
#: Weston-Watkins visits 20-30 % fewer examples; one versus all from 2e-2 needs a second block on
#: iris, breast cancer's two-class fits more often at a band of 2, Crammer-Singer on wine from
#: 3e-2). There ``eps`` shrinks tenfold after a block solved without a certified gap
#: (``_POLISHED_SHRINK``; not by the gap's aim: the polish ends the solve from a coarser block, the
#: gap of ``V(beta)`` says little of when it will). Digits (650 weights) with the blocks alone:
#: 580,000 (Weston-Watkins) and 530,000 (Crammer-Singer) visits to tol 1e-4 in 8 iterations;
#: polished: 125,000 (4 iterations) and 250,000 (6).
_POLISH_SIZE, _POLISH_EPS, _BAND, _POLISHED_SHRINK = 1024, (1e-2, 3e-2), (3.0, 2.0), 0.1
#: The bias's step ``kappa`` by default: for the multi-class hinges (Weston-Watkins, Crammer-
#: Singer) and for one versus all. Visits to tol 1e-4 at ``lam = 1e-4``, kappa 1 -> 2: wine
#: -22 % (WW), -36 % (CS), -9 % (OvA); digits -4 %, -11 %, -4 %; breast cancer -1 %, -1 %, +10 %;
#: iris one versus all +17 % (at 4: +67 %): 2 for the first, 1 for the second.
_KAPPA = (2.0, 1.0)
#: Where the blocks are polished and the weights at most ``_IPM_SIZE``, the first block is
#: given half the time the interior-point method (:mod:`~lingrad.optim.solvers.interior`) would
#: take (a block that ends in time is still to be polished and certified, the method's optimum
#: is not), in its cost model's microseconds:
#: ``_IPM_STEPS`` steps of ``a + b m + c m n^2`` (``m`` pieces, ``n`` weights; measured with
#: Numba on 10 shapes from iris's to 2,000 x 2), a visit taking ``_VISIT`` ns ``(e + f D C)``.
#: Where the block ends short of its ``eps``, the interior-point method solves the problem:
#: iris's Weston-Watkins hinge at ``lam = 1e-4`` takes ~67,000 visits (7-12 ms), the method 21
#: steps (1.6-2.2 ms); wine's block ends in ~1 ms, where the method would take 3-4 ms. Only for
#: the multi-class hinges over three classes or more: the one-column problems (one versus all,
#: two classes) visit an example in ~50 ns by a scalar loop, and breast cancer's (62 weights)
#: block ends in ~4 ms where the method takes 8-15.
_IPM_STEPS, _IPM_COST, _VISIT, _HEDGE = 20.0, (60.0, 0.17, 2.5e-4), (100.0, 3.0), 0.5
#: ... and only where its pieces' rows ``(m, n)`` are at most this many numbers (32 MB; a step
#: holds a few arrays of that size).
_IPM_MAX_SIZE = 4_000_000
#: ... and at most this many weights (digits' 650 are far beyond its cost: ``m n^2``).
_IPM_SIZE = 128
#: Whether the interior-point method may follow a slow first block (the tests of the blocks
#: alone turn it off).
_INTERIOR = True


def _violation_py(kind, s, beta, i, yi, U, margin, thr):
    # The example's KKT violation (liblinear's projected gradient) at scores s, and whether it
    # can be shrunk: every coordinate at a bound, pushed outward by more than thr. Its dual
    # variables: the row i of beta (read by index: a view per visit costs reference counts).
    C = s.shape[0]
    worst, shrink = 0.0, True
    if kind == 2:  # Crammer-Singer: max over all classes - min over those that can grow
        top, low, total = 0.0, np.inf, 0.0
        for j in range(C):
            if j != yi:
                z = margin + s[j] - s[yi]
                top = max(top, z)
                total += beta[i, j]
                if beta[i, j] > 0.0:
                    low = min(low, z)
                    shrink = False
                elif z >= -thr:
                    shrink = False
        if total < U:
            low = min(low, 0.0)
        return (top - low if low < np.inf else 0.0), shrink
    for j in range(C):
        if kind == 0:
            z = margin - s[j] if j == yi else margin + s[j]
        elif j == yi:
            continue
        else:
            z = margin + s[j] - s[yi]
        if beta[i, j] <= 0.0:
            worst = max(worst, z)
            shrink = shrink and z < -thr
        elif beta[i, j] >= U:
            worst = max(worst, -z)
            shrink = shrink and z > thr
        else:
            worst = max(worst, abs(z))
            shrink = False
    return worst, shrink


def _hidden_py(s, beta, i, classes, n_cols):
    # The example's shrunk classes classes[i, n_cols:] (C,) left out of its sub-problem: each
    # score at -inf (its variable at 0: no violation, no step) or +inf (at its upper bound).
    for m in range(n_cols, s.shape[0]):
        c = classes[i, m]
        s[c] = -np.inf if beta[i, c] <= 0.0 else np.inf


def _shrink_classes_py(s, beta, i, yi, U, margin, thr, classes, n_cols):
    # liblinear's shrinking of the classes within an example, for the Weston-Watkins hinge (its
    # Crammer-Singer form took 40 times the passes: see the module docstring): a class other
    # than y whose variable sits at a bound, pushed outward by more than thr, is moved behind the
    # active ones classes[i, :n] and no longer scored. Returns the new n.
    m = 0
    while m < n_cols:
        c = classes[i, m]
        z = margin + s[c] - s[yi]
        if c != yi and ((beta[i, c] <= 0.0 and z < -thr) or (beta[i, c] >= U and z > thr)):
            n_cols -= 1
            classes[i, m], classes[i, n_cols] = classes[i, n_cols], c
        else:
            m += 1
    return n_cols


def _ww_excess(a, beta, i, yi, U, t):
    # h(t) = t - sum_j clip(a_j - t, -beta_ij, U - beta_ij) over j != yi (a (C,) = g / Q):
    # increasing in t (the slope 1 + the number of unclipped terms). A class held at its bound
    # (a_j at -inf with beta_ij = 0, +inf with U) adds 0.
    h = t
    for j in range(a.shape[0]):
        if j != yi and -np.inf < a[j] < np.inf:
            h -= min(max(a[j] - t, -beta[i, j]), U - beta[i, j])
    return h


def _ww_shift(a, beta, i, yi, U):
    # The Weston-Watkins example's sub-problem, min over d (beta_i + d in [0, U]) of
    # -g.d + (Q/2)(|d|^2 + (sum d)^2), has d_j = clip(a_j - t, -beta_ij, U - beta_ij)
    # (a_j = g_j / Q) at t = sum(d), the root of the increasing, piecewise linear _ww_excess:
    # between the breakpoints (a_j - (U - beta_ij), a_j + beta_ij) it is linear; below or
    # above them all every d_j sits at a bound: the slope is 1. A class held at its bound has
    # no finite breakpoint. Exact in O(C^2).
    low, high, h_low, h_high = -np.inf, np.inf, 0.0, 0.0
    for j in range(a.shape[0]):
        if j == yi or not -np.inf < a[j] < np.inf:
            continue
        for t in (a[j] - (U - beta[i, j]), a[j] + beta[i, j]):
            h = _ww_excess(a, beta, i, yi, U, t)
            if h <= 0.0 and t > low:
                low, h_low = t, h
            elif h > 0.0 and t < high:
                high, h_high = t, h
    if low == -np.inf and high == np.inf:  # no finite breakpoint: h(t) = t + h(0)
        return -_ww_excess(a, beta, i, yi, U, 0.0)
    if low == -np.inf:
        return high - h_high
    if high == np.inf:
        return low - h_low
    return low - h_low * (high - low) / (h_high - h_low)


def _solve_example_py(kind, s, beta, i, yi, U, Q, margin, dA, work):
    # One example's sub-problem: beta's row i (C,) updated in place, dA (C,) = A_new - A_old.
    C = s.shape[0]
    for j in range(C):
        dA[j] = 0.0
    if kind == 0:
        for j in range(C):
            t = 1.0 if j == yi else -1.0
            new = min(max(beta[i, j] + (margin - t * s[j]) / Q, 0.0), U)
            dA[j] = -t * (new - beta[i, j])
            beta[i, j] = new
        return
    if kind == 1:  # Weston-Watkins: the example's box QP solved exactly (_ww_shift)
        scale = 1.0 / Q
        for j in range(C):
            work[j] = (margin + s[j] - s[yi]) * scale  # a_j = g_j / Q
        total = _ww_shift(work, beta, i, yi, U)
        for j in range(C):
            if j != yi:  # the new value clipped to [0, U] itself: the bounds exact (shrinking)
                new = min(max(beta[i, j] + work[j] - total, 0.0), U)
                d = new - beta[i, j]
                if d != 0.0:
                    beta[i, j] = new
                    dA[j] += d
                    dA[yi] -= d
        return
    # Crammer-Singer in liblinear's variables a = -A (a_j <= 0, a_y <= U, sum(a) = 0):
    # min (Q/2) ||a||^2 + <B, a>, B = s + m (1 - e_y) - Q a_old
    total = 0.0
    for j in range(C):
        if j != yi:
            total += beta[i, j]
    for j in range(C):
        a_old = total if j == yi else -beta[i, j]
        dA[j] = s[j] + (0.0 if j == yi else margin) - Q * a_old  # B, kept
        work[j] = -dA[j]
    work[yi] -= Q * U
    for j in range(1, C):  # insertion sort, ascending (C is small): -work descending
        key, k = work[j], j - 1
        while k >= 0 and work[k] > key:
            work[k + 1] = work[k]
            k -= 1
        work[k + 1] = key
    theta = -work[0] - Q * U
    r = 1
    while r < C and theta < -r * work[r]:
        theta -= work[r]
        r += 1
    theta /= r
    new_total = 0.0
    for j in range(C):
        if j == yi:
            continue
        new = -min(0.0, (theta - dA[j]) / Q)
        dA[j] = new - beta[i, j]
        beta[i, j] = new
        new_total += new
    dA[yi] = -(new_total - total)


def _epoch_loops_py(
    kind, X, y, order, n, upper, sqnorm, margin, kappa, beta, V, center, u, active, classes,
    n_classes, thr, s, dA, work, moved,
):  # fmt: skip
    # One epoch of the compiled kernel over the active examples order[:n]: scores, the
    # violation, the example's sub-problem, V and u updated (only the columns that moved).
    # Returns the largest violation. Room (C,) for the scores s, the change of A dA, the sort
    # work and the moved columns (intp); no views made per visit (each costs reference counts).
    # V: the rows' layout of the weights (see _dense_layout). Only the example's classes still
    # active are scored, classes[i, :n_classes[i]] (the others at their bound: see _hidden).
    C = u.shape[0]
    worst = 0.0
    for k in range(n):
        i = order[k]
        U = upper[i]
        if U <= 0.0 or not active[i]:
            continue
        n_cols = n_classes[i]
        for m in range(n_cols):
            c = classes[i, m]
            moved[m] = c  # the columns scored (the room of the moved ones, free until then)
            s[c] = center[c] - kappa * u[c]
        _row_dot(X, i, V, s, moved, n_cols)
        _hidden(s, beta, i, classes, n_cols)
        yi = y[i]
        violation, shrink = _violation(kind, s, beta, i, yi, U, margin, thr)
        worst = max(worst, violation)
        if shrink:
            active[i] = False
            continue
        if kind == 1 and n_cols > 2:  # Weston-Watkins only (see the module docstring)
            n_classes[i] = _shrink_classes(s, beta, i, yi, U, margin, thr, classes, n_cols)
            _hidden(s, beta, i, classes, n_classes[i])  # out of this sub-problem too (liblinear)
        if violation == 0.0:  # optimal in its own variables: the sub-problem's step is 0
            continue
        _solve_example(kind, s, beta, i, yi, U, sqnorm[i] + kappa, margin, dA, work)
        n_moved = 0
        for c in range(C):
            if dA[c] != 0.0:
                moved[n_moved] = c
                n_moved += 1
                u[c] += dA[c]
        if n_moved > 0:
            _row_axpy(X, i, V, dA, moved, n_moved)
    return worst


def _binary_loops_py(
    kind, X, y, order, n, upper, sqnorm, margin, kappa, beta, V, center, u, active, classes,
    n_classes, thr, s, dA, work, moved,
):  # fmt: skip
    # _epoch_loops_py for one column of one versus all (V (D, 1), y 0 for the class, 1 for the
    # rest; kind 0): liblinear's scalar loop (solve_l2r_l1l2_svc), the same updates and
    # arithmetic as _violation and _solve_example's kind 0 at C = 1, no loops over the classes.
    worst = 0.0
    moved[0] = 0
    for k in range(n):
        i = order[k]
        U = upper[i]
        if U <= 0.0 or not active[i]:
            continue
        s[0] = center[0] - kappa * u[0]
        _row_dot(X, i, V, s, moved, 1)
        t = 1.0 if y[i] == 0 else -1.0
        z = margin - t * s[0]  # the negative gradient, in units of the margin
        b = beta[i, 0]
        if b <= 0.0:  # the violation and the shrinking rule at a bound
            worst, shrink = max(worst, z), z < -thr
        elif b >= U:
            worst, shrink = max(worst, -z), z > thr
        else:
            worst, shrink = max(worst, abs(z)), False
        if shrink:
            active[i] = False
            continue
        new = min(max(b + z / (sqnorm[i] + kappa), 0.0), U)
        beta[i, 0] = new
        dA[0] = -t * (new - b)
        if dA[0] != 0.0:
            u[0] += dA[0]
            _row_axpy(X, i, V, dA, moved, 1)
    return worst


# The rows of X are read only by these two functions, a dense row X[i] (X (N, D)) here and a
# CSR row (X = (data, indices, indptr)) below: the epoch's and the block's source is written
# once and instantiated twice (see _skinny.instantiate), the compiled loops' speed kept (no branch).
# The dense rows' loops hold the weights transposed, ``V`` (C, D) (:func:`_dense_layout`): each
# class's weights contiguous, read and updated in a stride of one; the CSR ones hold ``V``
# (D, C) (a feature's C weights together: one row per non-zero).
def _dense_row_dot(X, i, V, s, cols, n_cols):
    # s[c] += V[c] . x_i for the classes c in cols[:n_cols], V (C, D): each s[c] summed over d
    # in order (the same sums as one class at a time), four classes at a time in registers
    # (four chains of additions in flight), then three, then one at a time. Two in one loop
    # took a fixed ~35 ns more a visit (measured at D = 4 to 64, compiled): worth it only for
    # rows longer than 128, where the two chains' overlap pays for it.
    D = V.shape[1]
    k = 0
    while k + 4 <= n_cols:
        c0, c1, c2, c3 = cols[k], cols[k + 1], cols[k + 2], cols[k + 3]
        a0, a1, a2, a3 = s[c0], s[c1], s[c2], s[c3]
        for d in range(D):
            xd = X[i, d]
            a0 += xd * V[c0, d]
            a1 += xd * V[c1, d]
            a2 += xd * V[c2, d]
            a3 += xd * V[c3, d]
        s[c0], s[c1], s[c2], s[c3] = a0, a1, a2, a3
        k += 4
    if k + 3 <= n_cols:
        c0, c1, c2 = cols[k], cols[k + 1], cols[k + 2]
        a0, a1, a2 = s[c0], s[c1], s[c2]
        for d in range(D):
            xd = X[i, d]
            a0 += xd * V[c0, d]
            a1 += xd * V[c1, d]
            a2 += xd * V[c2, d]
        s[c0], s[c1], s[c2] = a0, a1, a2
        k += 3
    if k + 2 <= n_cols and D > 128:
        c0, c1 = cols[k], cols[k + 1]
        a0, a1 = s[c0], s[c1]
        for d in range(D):
            xd = X[i, d]
            a0 += xd * V[c0, d]
            a1 += xd * V[c1, d]
        s[c0], s[c1] = a0, a1
        k += 2
    for m in range(k, n_cols):
        c0 = cols[m]
        a0 = s[c0]
        for d in range(D):
            a0 += X[i, d] * V[c0, d]
        s[c0] = a0


def _dense_row_axpy(X, i, V, dA, moved, n_moved):
    # V[c] -= dA[c] x_i for the classes c in moved[:n_moved], V (C, D): contiguous rows
    for k in range(n_moved):
        c = moved[k]
        a = dA[c]
        for d in range(V.shape[1]):
            V[c, d] -= X[i, d] * a


def _dense_layout(V):
    # The dense rows' weights: V (D, C) transposed, (C, D) C-contiguous (a copy)
    return np.ascontiguousarray(V.T)


def _dense_restore(V, held):
    # V (D, C) set from the dense rows' (C, D) weights
    V[:, :] = held.T


def _csr_layout(V):
    # The CSR rows' weights: V (D, C) itself
    return V


def _csr_restore(V, held):
    # Nothing to do: the CSR rows' loops update V in place
    return


def _csr_row_dot(X, i, V, s, cols, n_cols):
    # s[c] += V[:, c] . x_i for the classes c in cols[:n_cols], x_i the CSR row i of X =
    # (data, indices, indptr)
    data, indices, indptr = X
    if n_cols == 1:  # one column summed in a register, as on the dense rows
        c = cols[0]
        acc = s[c]
        for p in range(indptr[i], indptr[i + 1]):
            acc += data[p] * V[indices[p], c]
        s[c] = acc
        return
    for p in range(indptr[i], indptr[i + 1]):
        xd, d = data[p], indices[p]
        for k in range(n_cols):
            c = cols[k]
            s[c] += xd * V[d, c]


def _csr_row_axpy(X, i, V, dA, moved, n_moved):
    # V[:, c] -= x_i dA[c] for the columns c in moved[:n_moved], x_i the CSR row i
    data, indices, indptr = X
    if n_moved == V.shape[1] == 1:
        a = dA[0]
        for p in range(indptr[i], indptr[i + 1]):
            V[indices[p], 0] -= data[p] * a
        return
    if n_moved == V.shape[1]:
        for p in range(indptr[i], indptr[i + 1]):
            xd, d = data[p], indices[p]
            for c in range(n_moved):
                V[d, c] -= xd * dA[c]
        return
    for p in range(indptr[i], indptr[i + 1]):
        xd, d = data[p], indices[p]
        for k in range(n_moved):
            c = moved[k]
            V[d, c] -= xd * dA[c]


def _epoch_numpy(
    kind, X, y, order, n, upper, sqnorm, margin, kappa, beta, V, center, u, active, classes,
    n_classes, thr, s, dA, work, moved,
):  # fmt: skip
    # The epoch without Numba: each example's scores and update one NumPy product each (V
    # (C, D), the dense rows' layout).
    worst = 0.0
    order = order[:n]
    for i in order[active[order] & (upper[order] > 0.0)]:
        s = V @ X[i]
        s += center - kappa * u
        _hidden_py(s, beta, i, classes, n_classes[i])
        yi = int(y[i])
        violation, shrink = _violation_py(kind, s, beta, i, yi, upper[i], margin, thr)
        worst = max(worst, violation)
        if shrink:
            active[i] = False
            continue
        if kind == 1 and n_classes[i] > 2:
            n_classes[i] = _shrink_classes_py(
                s, beta, i, yi, upper[i], margin, thr, classes, n_classes[i]
            )
            _hidden_py(s, beta, i, classes, n_classes[i])
        _solve_example_py(kind, s, beta, i, yi, upper[i], sqnorm[i] + kappa, margin, dA, work)
        V -= np.outer(dA, X[i])
        u += dA
    return worst


def _block_py(
    kind,
    X,
    y,
    upper,
    sqnorm,
    margin,
    kappa,
    free_bias,
    shrinking,
    beta,
    V,
    center,
    u,
    eps,
    max_visits,
    seed,
    out,
):
    # Passes in a fresh shuffled order each (Fisher-Yates on an LCG, the same with and without
    # Numba), shrinking the examples at their bounds (liblinear's rule: beyond the last pass's
    # largest violation), all made active again once the active ones are within eps; when a full
    # pass is within eps, the bias's multiplier step (center <- center - kappa u) unless the
    # bias's violation kappa |u| is within eps too (solved). Until solved or max_visits.
    # out[:] = examples visited, passes, the last full pass's violation, solved, steps.
    N = y.shape[0]
    order = np.arange(N)  # the active examples first, n_active of them
    C = V.shape[1]
    held = _layout(V)  # the weights in the rows' layout during the block
    classes = np.empty((N, C), dtype=np.intp)  # each example's active classes first
    for i in range(N):
        for c in range(C):
            classes[i, c] = c
    n_classes = np.full(N, C, dtype=np.intp)
    s, dA, work, moved = np.empty(C), np.empty(C), np.empty(C), np.empty(C, dtype=np.intp)
    active = np.ones(N, dtype=np.bool_)
    threshold, full_violation = np.inf, np.inf
    visited, passes, steps, solved, rand, n_active = 0, 0, 0, 0.0, seed, N
    while visited < max_visits:
        for i in range(n_active - 1, 0, -1):  # the high bits of an LCG modulo 2^31
            rand = (1103515245 * rand + 12345) % 2147483648
            j = (rand * (i + 1)) >> 31
            order[i], order[j] = order[j], order[i]
        was_full = n_active == N  # every example, with all its classes
        if was_full:  # (checked only then: not an O(N) loop a pass)
            for i in range(N):
                if n_classes[i] < C:
                    was_full = False
                    break
        worst = _pass(kind, X, y, order, n_active, upper, sqnorm, margin, kappa, beta, held,
                      center, u, active, classes, n_classes, threshold, s, dA, work,
                      moved)  # fmt: skip
        visited += n_active
        passes += 1
        if not worst <= 1e300:  # not finite
            break
        kept = 0
        for k in range(n_active):  # the shrunk ones to the back
            if active[order[k]]:
                order[kept], order[k] = order[k], order[kept]
                kept += 1
        n_active = kept
        if was_full:
            full_violation = worst
        bias_violation = 0.0
        if free_bias:
            for c in range(u.shape[0]):
                bias_violation = max(bias_violation, kappa * abs(u[c]))
        if worst > max(eps, _INEXACT * bias_violation):  # the inner problem: to the bias's
            threshold = worst if shrinking else np.inf
            continue
        threshold = np.inf
        if not was_full:  # the active set is solved: check them all
            active[:] = True
            n_classes[:] = C
            n_active = N
            continue
        if bias_violation <= eps and worst <= eps:
            solved = 1.0
            break
        for c in range(u.shape[0]):
            center[c] -= kappa * u[c]
        steps += 1
        active[:] = True  # the bias moved: every example again
        n_classes[:] = C
        n_active = N
    _restore(V, held)
    out[0], out[1], out[2], out[3], out[4] = visited, passes, full_violation, solved, steps


#: The functions the block calls, as Python (:func:`_compiled` instantiates compiled ones).
_solve_example: Any = _solve_example_py
_violation: Any = _violation_py
_hidden: Any = _hidden_py
_shrink_classes: Any = _shrink_classes_py
_row_dot: Any = _dense_row_dot
_row_axpy: Any = _dense_row_axpy
_layout: Any = _dense_layout
_restore: Any = _dense_restore
_pass: Any = _epoch_numpy
#: The compiled epoch (:func:`epoch`) and blocks: the general loops and one versus all's
#: scalar ones (``_binary``), on dense and on CSR rows (set by :func:`_compiled`).
_epoch_nb: Any = None
_block_nb: Any = None
_block_csr_nb: Any = None
_block_binary_nb: Any = None
_block_binary_csr_nb: Any = None


# One source, several instances (_skinny.instantiate: the rows of X read through other
# functions). Rebinding globals was chosen over passing X as a tuple with overloads
# (numba.extending.overload): the source stays plain Python, run as it is by the tests, and
# each instance is compiled with no dispatch on X's type in the loops.

#: The instances run as Python: the sources that :func:`_compiled` compiles (run without
#: Numba, and by the tests): the CSR block (X = (data, indices, indptr)), and the blocks of
#: one versus all's scalar loops on dense and on CSR rows.
_CSR_ROWS: dict[str, Any] = {
    "_row_dot": _csr_row_dot,
    "_row_axpy": _csr_row_axpy,
    "_layout": _csr_layout,
    "_restore": _csr_restore,
}
_epoch_csr_py = _skinny.instantiate(_epoch_loops_py, "_csr", **_CSR_ROWS)
_block_csr_py = _skinny.instantiate(_block_py, "_csr", _pass=_epoch_csr_py, **_CSR_ROWS)
_block_binary_py = _skinny.instantiate(_block_py, "_binary", _pass=_binary_loops_py)
_block_binary_csr_py = _skinny.instantiate(
    _block_py,
    "_binary_csr",
    _pass=_skinny.instantiate(_binary_loops_py, "_csr", **_CSR_ROWS),
    **_CSR_ROWS,
)


def _compiled() -> Any:
    """Compile the epoch's loops with Numba (cached on disk after the first time): the epoch,
    and the four blocks (the general and one versus all's loops, on dense and on CSR rows).
    Each visit's helpers and each block's pass are inlined (Numba's ``inline="always"``: no
    calls and no array views per visit, whose reference counts cost more than the visit's
    arithmetic on small sets) and ``error_model="numpy"`` drops the checks for a division by
    zero (every divisor is positive: see :func:`curvatures`); the same arithmetic, the same
    iterates."""
    global _epoch_nb, _block_nb, _block_csr_nb, _block_binary_nb, _block_binary_csr_nb
    if _epoch_nb is None:
        import numba

        jit = numba.njit(cache=True, nogil=True, error_model="numpy")
        inline = numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
        shift = inline(_skinny.instantiate(_ww_shift, "_nb", _ww_excess=inline(_ww_excess)))
        example = {
            "_solve_example": inline(
                _skinny.instantiate(_solve_example_py, "_nb", _ww_shift=shift)
            ),
            "_violation": inline(_violation_py),
            "_hidden": inline(_hidden_py),
            "_shrink_classes": inline(_shrink_classes_py),
        }
        blocks = {}
        dense: dict[str, Any] = {
            "_row_dot": _dense_row_dot,
            "_row_axpy": _dense_row_axpy,
            "_layout": _dense_layout,
            "_restore": _dense_restore,
        }
        for rows, fns in [("", dense), ("_csr", _CSR_ROWS)]:
            names = {**example, **{name: inline(fn) for name, fn in fns.items()}}
            for loops, name in [(_epoch_loops_py, ""), (_binary_loops_py, "_binary")]:
                passes = inline(_skinny.instantiate(loops, "_inline" + rows, **names))
                block = _skinny.instantiate(_block_py, name + rows, _pass=passes, **names)
                blocks[name + rows] = jit(block)
            if not rows:
                _epoch_nb = jit(_skinny.instantiate(_epoch_loops_py, "_compiled", **names))
        _block_nb, _block_csr_nb = blocks[""], blocks["_csr"]
        _block_binary_nb, _block_binary_csr_nb = blocks["_binary"], blocks["_binary_csr"]
    return _epoch_nb


def _choose_block(sparse: bool, binary: bool) -> Any:
    """The block for CSR or dense rows: compiled when Numba is installed (one versus all's
    one-column problems with the scalar loops), else the Python one (NumPy per example)."""
    if not _skinny.AVAILABLE:
        return _block_csr_py if sparse else _block_py
    _compiled()
    if binary:
        return _block_binary_csr_nb if sparse else _block_binary_nb
    return _block_csr_nb if sparse else _block_nb


def epoch(
    kind: int,
    X: npt.NDArray[np.floating],
    y: npt.NDArray[np.intp],
    order: npt.NDArray[np.intp],
    upper: _Float,
    margin: float,
    kappa: float,
    beta: _Float,
    V: _Float,
    center: _Float,
    u: _Float,
    active: npt.NDArray[np.bool_] | None = None,
    threshold: float = math.inf,
    compiled: bool | None = None,
    sqnorm: _Float | None = None,
) -> float:
    """One pass of dual coordinate descent over the examples in ``order`` (see the module
    docstring), in place: ``beta`` ``(N, C)``, ``V`` ``(D, C)`` and ``u`` ``(C,)`` (float64),
    the bias during the pass ``center - kappa u``. Shrinking (liblinear's): only the
    ``active`` examples ``(N,)`` are visited, and one whose coordinates all sit at a bound,
    pushed outward by more than ``threshold``, is set inactive (``active=None``: all, kept).
    Returns the largest violation of the optimality conditions (projected gradient) seen.
    ``compiled``: Numba's loops (default: when Numba is installed) or NumPy per example.
    ``sqnorm``: ``||x_i||^2`` ``(N,)`` float64 when at hand.

    Examples:
        >>> X, y = np.array([[1.0], [-1.0]]), np.array([0, 1])
        >>> beta, V, u = np.zeros((2, 2)), np.zeros((1, 2)), np.zeros(2)
        >>> epoch(0, X, y, np.arange(2), np.full(2, 10.0), 1.0, 0.0, beta, V, np.zeros(2), u)
        1.0
        >>> beta.tolist(), V.tolist()          # each example moved to its margin
        ([[1.0, 1.0], [0.0, 0.0]], [[1.0, -1.0]])
    """
    if sqnorm is None:
        sqnorm = curvatures(row_sqnorms(X), kappa)
    active = np.ones(len(y), dtype=np.bool_) if active is None else active
    if compiled is None:
        compiled = _skinny.AVAILABLE
    C = V.shape[1]
    loops = _compiled() if compiled else _epoch_numpy
    held = _dense_layout(V)  # the dense rows' loops hold V (C, D)
    classes = np.tile(np.arange(C), (len(y), 1))  # every class of every example active
    worst = loops(kind, X, y, order, len(order), upper, sqnorm, margin, kappa, beta, held,
                  center, u, active, classes, np.full(len(y), C), threshold, np.empty(C),
                  np.empty(C), np.empty(C), np.empty(C, np.intp))  # fmt: skip
    _dense_restore(V, held)
    return float(worst)


def curvatures(sqnorm: _Float, kappa: float) -> _Float:
    """The rows' norms ``sqnorm`` ``(N,)`` with those of the zero rows (``x_i = 0``) raised to
    ``1e-12 max(1, max_i ||x_i||^2)`` when there is no bias term (``kappa = 0``): such an
    example's sub-problem is linear (its scores do not move), solved at its bound by this
    tiny curvature (liblinear divides by zero there), not a division by zero.

    Examples:
        >>> curvatures(np.array([4.0, 0.0]), 0.0).tolist(), curvatures(np.zeros(1), 1.0).tolist()
        ([4.0, 4e-12], [0.0])
    """
    if kappa > 0 or np.all(sqnorm > 0):
        return sqnorm
    return np.where(sqnorm > 0, sqnorm, 1e-12 * max(1.0, float(sqnorm.max(initial=0.0))))


def fixed_bias_dual(objective: Any, alpha: _Float, bias: _Float) -> float:
    """``D`` at ``alpha`` ``(N, C)`` when the bias is fixed at ``bias`` ``(C,)``
    (``fit_intercept=False``): no equality constraint, the bias's terms in the dual,

        D = m sum_i c_i sum(alpha_i) + <b, sum_i c_i A_i> - ||X^T (c A)||^2 / (2 lam)
            (+ (lam/2) ||b||^2 when the penalty includes the bias).

    Examples:
        >>> from lingrad.objective import Objective
        >>> J = Objective("hinge", np.array([[0.0], [1.0]]), [0, 1], lam=0.1)
        >>> fixed_bias_dual(J, np.zeros((2, 2)), np.zeros(2))
        0.0
    """
    margin = float(objective.loss_params.get("margin", 1.0))
    y = objective.targets(alpha.shape[1])
    wa = alpha * example_weights(objective)[:, None]
    A = dual_scores(objective.loss_spec.name, wa, y)
    Q = objective.X.T.astype(np.float64, copy=False) @ A
    value = margin * float(wa.sum()) + float(bias @ A.sum(axis=0))
    value -= float(np.vdot(Q, Q)) / (2.0 * objective.lam)
    if objective.regularizer.include_bias:
        value += 0.5 * objective.lam * float(bias @ bias)
    return value


def difference_block(
    block: Any,
    args: tuple[Any, ...],
    beta: _Float,
    V: _Float,
    center: _Float,
    u: _Float,
    eps: float,
    max_visits: float,
    seed: int,
    out: _Float,
) -> None:
    """A block of passes of the Weston-Watkins or Crammer-Singer hinge with two classes, in
    place on ``beta`` ``(N, 2)``, ``V`` ``(D, 2)``, ``center`` and ``u`` ``(2,)``, as one
    binary (one versus all) problem on the scores' difference ``s_1 - s_0``: each example has
    one dual variable ``b_i`` (the other class's), ``A_i = b_i (e_j - e_y)``, so that
    ``V_0 = -V_1``, ``u_0 = -u_1`` and the difference is one column ``V' = V_1 - V_0`` with
    ``beta'_i = 2 b_i`` in ``[0, 2 U_i]``, ``t_i = +1`` for class 1, the same curvature
    ``Q_i`` and the same violation ``m - t_i s'_i``; each visit costs ``D`` multiply-adds and
    no loops over classes (liblinear's binary solver). Crammer-Singer's one constraint
    ``b_i <= U_i`` is the same box. ``args``: the block's ``(X, y, upper, sqnorm, margin,
    kappa, free_bias, shrinking)``; ``block`` one versus all's (:func:`_block_py`'s instance).

    Examples:
        >>> X, y = np.array([[1.0], [-1.0]]), np.array([1, 0])
        >>> beta, V, center, u = np.zeros((2, 2)), np.zeros((1, 2)), np.zeros(2), np.zeros(2)
        >>> out = np.zeros(5)
        >>> args = (X, y, np.full(2, 10.0), np.ones(2), 1.0, 0.0, False, True)
        >>> difference_block(_block_py, args, beta, V, center, u, 1e-9, 100, 1, out)
        >>> beta.tolist(), V.tolist(), float(out[3])  # s_1 - s_0 = x: both at the margin
        ([[0.5, 0.0], [0.0, 0.0]], [[-0.5, 0.5]], 1.0)
    """
    X, y, upper, sqnorm, margin, kappa, free_bias, shrinking = args
    rows = np.arange(len(y))
    b2 = (2.0 * beta[rows, 1 - y])[:, None]
    V2 = (V[:, 1] - V[:, 0])[:, None]
    c2, u2 = np.array([center[1] - center[0]]), np.array([u[1] - u[0]])
    labels = (y != 1).astype(np.intp)  # 0: t = +1 (class 1), as one versus all's labels
    block(0, X, labels, 2.0 * upper, sqnorm, margin, kappa, free_bias, shrinking, b2, V2, c2, u2,
          eps, max_visits, seed, out)  # fmt: skip
    beta[:] = 0.0
    beta[rows, 1 - y] = 0.5 * b2[:, 0]
    V[:, 1], V[:, 0] = 0.5 * V2[:, 0], -0.5 * V2[:, 0]
    u[1], u[0] = 0.5 * u2[0], -0.5 * u2[0]
    moved = c2[0] - (center[1] - center[0])  # the multiplier's steps, split evenly
    center[1], center[0] = center[1] + 0.5 * moved, center[0] - 0.5 * moved


def _block_seed(random_state: int, epochs: int) -> int:
    """The seed ``[0, 2^31)`` of a block's orders from the solver's ``random_state`` and the
    passes so far: SplitMix64's finaliser of the pair (a microsecond; NumPy's generator from a
    seed sequence took 22).

    Examples:
        >>> _block_seed(0, 0) != _block_seed(0, 1) != _block_seed(1, 0)
        True
    """
    z = (random_state * 0x9E3779B97F4A7C15 + (epochs + 1) * 0xD1B54A32D192ED03) % 2**64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) % 2**64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) % 2**64
    return (z ^ (z >> 31)) >> 33


def _coarse_start(loss: str | None, C: int) -> int:
    """Which of ``_POLISH_EPS`` and ``_BAND`` a small problem takes: 1 (a coarse first block)
    for the Weston-Watkins hinge over more than two classes, 0 for the one-column problems (one
    versus all; two classes: :func:`difference_block`) and Crammer-Singer (whose polish from a
    block at 3e-2 needs a second block on wine)."""
    return int(loss == "hinge" and C > 2)


def _evaluated(
    objective: Any, W: np.ndarray, alpha: _Float, dtype: Any
) -> tuple[np.ndarray, float, float] | None:
    """A guessed optimum ``W`` ``(D + 1, C)`` (in ``dtype``) with its dual point ``alpha``
    ``(N, C)``: ``(W, P(W), D(alpha))``, ``None`` where ``P`` is not finite."""
    W = W.astype(dtype)
    primal = objective.value_and_grad_unchecked(W, need_grad=False)[0]
    if not math.isfinite(primal):
        return None
    return W, float(primal), dual_value(objective, alpha)


def _polishes(objective: Any, W: np.ndarray) -> bool:
    """Whether the blocks on ``objective`` with weights ``W`` ``(D + 1, C)`` are polished: at
    most ``_POLISH_SIZE`` weights and a fitted bias (the kinks' system frees the bias)."""
    return bool(W.size <= _POLISH_SIZE and objective.fit_intercept)


def _relative_gap(primal: float, dual: float) -> tuple[float, float]:
    """``(P - D, (P - D) / P)``, the gap kept at least 0 (rounding) and ``P`` at least the
    smallest positive float."""
    gap = max(primal - dual, 0.0)
    return gap, gap / max(primal, np.finfo(np.float64).tiny)


def _mirrored(beta: _Float, V: _Float, center: _Float, u: _Float) -> bool:
    """Whether two one-versus-all columns are each other's mirror: ``beta`` ``(N, 2)`` equal
    columns, ``V`` ``(D, 2)``, ``center`` and ``u`` ``(2,)`` opposite ones.

    Examples:
        >>> _mirrored(np.ones((3, 2)), np.array([[1.0, -1.0]]), np.zeros(2), np.array([1.0, -1.0]))
        True
    """
    return bool(
        np.array_equal(beta[:, 0], beta[:, 1])
        and np.array_equal(V[:, 0], -V[:, 1])
        and center[0] == -center[1]
        and u[0] == -u[1]
    )


class DualCDState(NamedTuple):
    """``beta``: the dual variables ``(N, C)`` (``(0, C)`` before the first update), ``V``: the
    weight rows they give ``(D, C)``, ``center``: the bias's proximal centre ``b_k`` ``(C,)``,
    ``u``: ``sum_i A(beta_i)`` ``(C,)`` (all float64); ``eps``: the next block's bound on the
    violation of the optimality conditions (projected gradient, in units of the margin; after
    each block that met it without a certified gap, times ``tol / (2 measure)`` within ``[1e-3,
    0.1]``: the gap taken as proportional to it); ``full_violation``: the largest violation of
    the last pass over all the examples; ``budget``: the next block's budget of visits (passes'
    worth: ``_BUDGET`` at first, doubled after each block short of ``eps``); ``epochs``: passes
    of coordinate descent so far (it seeds each block's orders); ``iterations``: blocks so far;
    ``dual``: the best dual value so far (a lower bound on ``min P``); ``gap``: ``P - dual``;
    ``value``: ``P`` at the weights; ``evaluations``: passes over the data; ``measure``: the
    relative gap; ``status``: a :class:`~lingrad.optim.solvers.base.Status`.

    Examples:
        >>> s = DualCD().init(np.zeros((3, 2)))
        >>> s.beta.shape, s.V.shape, s.epochs, s.eps          # 6 weights: polished blocks
        ((0, 2), (2, 2), 0, 0.01)
    """

    beta: _Float
    V: _Float
    center: _Float
    u: _Float
    eps: float
    full_violation: float
    budget: float
    epochs: int
    iterations: int
    dual: float
    gap: float
    value: float
    evaluations: int
    measure: float
    status: int


class DualCD(SolverBase):
    """Dual coordinate descent for the piecewise-linear losses with an L2 penalty (see the
    module docstring). Each iteration is one compiled block of passes over the examples (each
    in a fresh random order, with liblinear's shrinking and the bias's multiplier steps) until
    every optimality condition holds to ``eps`` (or a budget of work is spent), then the
    duality gap of the true objective at the new weights; ``eps`` shrinks (10 to 1000 fold)
    while the gap is above ``tol``.

    Args:
        tol: stop when the relative duality gap ``(P - D) / P`` is at most ``tol``.
        kappa: the bias's step (the augmented Lagrangian's penalty, in the dual variables'
            units) when the bias is not penalised; 1 is liblinear's bias feature of value 1.
            ``None``: ``_KAPPA``, 2 for the multi-class hinges and 1 for one versus all.
        check_every: the dual value (a pass over X and the balancing of the dual point) is
            computed every ``check_every`` iterations, and at every one once the gap is within
            ``2 tol``; the gap of the others uses the best dual value so far (still a
            certificate: any earlier dual value bounds ``min P`` from below).
        shrinking: skip the examples whose dual variables sit at a bound that the last pass's
            violations do not question (liblinear's shrinking); every example is visited again
            once the active ones are solved to ``eps``, and at the start of each block.
        eps: the first block's bound on the violations (score units, times the margin);
            ``None``: where the blocks are polished (at most 1024 weights) ``3e-2`` for the
            Weston-Watkins hinge over more than two classes and ``1e-2`` otherwise, else 0.1.
        random_state: seeds each block's orders of the examples (with the pass's number).

    Examples:
        >>> from lingrad.objective import Objective
        >>> X = np.array([[0.0], [1.0], [3.0], [4.0]])
        >>> J = Objective("crammer_singer", X, [0, 0, 1, 1], lam=0.5)
        >>> solver = DualCD(tol=1e-9)
        >>> W = J.check_weights(np.zeros((2, 2)))
        >>> state = solver.init(W)
        >>> for _ in range(100):
        ...     step, state = solver.update(None, state, W, objective=J)
        ...     W = W + step
        ...     if state.status != 0:
        ...         break
        >>> state.status, state.measure <= 1e-9, round(state.value, 6)  # a = 1: J = a^2 / 8
        (1, True, 0.125)
    """

    reads: ClassVar[str] = "objective"

    def __init__(
        self,
        tol: float = 1e-4,
        kappa: float | None = None,
        check_every: int = 1,
        shrinking: bool = True,
        random_state: int = 0,
        eps: float | None = None,
    ):
        self.shrinking = bool(shrinking)
        self.tol = check_positive("tol", tol, allow_zero=True)
        self.check_every = check_int("check_every", check_every)
        self.kappa = None if kappa is None else check_positive("kappa", kappa)
        self.eps = None if eps is None else check_positive("eps", eps)
        self.random_state = check_int("random_state", random_state, minimum=0)

    def __repr__(self) -> str:
        kappa = "None" if self.kappa is None else f"{self.kappa:g}"
        return f"DualCD(tol={self.tol:g}, kappa={kappa})"

    def check_objective(self, objective: Any) -> None:
        """Refuse what it cannot solve: a smooth loss (use ``'lbfgs'``), a penalty that is not
        L2 or ``lam = 0``, data not in memory; naming the loss and the penalty."""
        name, reg, lam = objective.loss_spec.name, objective.regularizer, objective.lam
        l2 = lam > 0 and reg.name != "none" and reg.l1_ratio == 0
        X = getattr(objective, "X", None)
        in_memory = isinstance(X, np.ndarray) or is_sparse(X)  # NumPy or CSR
        for wrong, what, instead in [
            (name not in PIECEWISE, f"the smooth loss {name!r}", "'lbfgs'"),
            (
                not l2,
                f"the loss {name!r} with the regularizer {reg.name!r} at lam={lam:g}",
                "regularizer='l2' with lam > 0; or optimizer='sgd', a subgradient method",
            ),
            (not in_memory, f"the loss {name!r} on data not in memory", "'sgd'"),
        ]:
            if wrong:
                refuse("dualcd", what, instead)

    def init(self, W: np.ndarray) -> DualCDState:
        """A fresh state for weights shaped like ``W`` ``(D + 1, C)`` (the dual variables are
        set at the first update, from ``W``)."""
        W64 = np.asarray(W, dtype=np.float64)
        C, inf = W64.shape[1], math.inf
        figures = (-inf, inf, inf, 0, inf, int(Status.RUNNING))
        return DualCDState(
            np.zeros((0, C)), W64[:-1].copy(), W64[-1].copy(), np.zeros(C),
            self._first_eps(W64), inf, _BUDGET, 0, 0, *figures,
        )  # fmt: skip

    def update(
        self,
        grad: np.ndarray | None,
        state: DualCDState,
        W: np.ndarray,
        *,
        objective: Any = None,
        value_fn: Any = None,
        rng: Any = None,
    ) -> tuple[np.ndarray, DualCDState]:
        """One block of dual coordinate descent (passes and the bias's multiplier steps until
        the violations are within ``eps``), then the duality gap at ``W + step``:
        ``(step, state)``."""
        if objective is None:
            raise TypeError("DualCD.update needs objective= (it reads the objective)")
        J, C = objective, W.shape[1]
        if state.beta.shape[0] != J.n_samples:
            state = self._start(J, state, W)
        beta, V, u, center = state.beta.copy(), state.V.copy(), state.u.copy(), state.center.copy()
        kappa, free_bias = self._kappa(J)
        c = example_weights(J)
        margin = float(J.loss_params.get("margin", 1.0))
        y = J.targets(C).astype(np.intp, copy=False)
        problem = (KINDS[J.loss_spec.name], J.X, y, c / J.lam, margin)
        cap = self._interior_visits(J, W) if state.iterations == 0 else None
        out = self._block(problem, state, kappa, free_bias, beta, V, center, u, cap)
        visited, passes, full_violation, solved = out[0], int(out[1]), out[2], out[3]
        evaluations = state.evaluations + round(2 * visited / len(y)) + 1  # and the primal
        bias = center - kappa * u
        center = bias if free_bias else center
        W_new = np.vstack([V, bias[None, :]]).astype(W.dtype)
        guess = self._polish(J, W_new, state.eps * margin) if solved else None
        if cap is not None and not solved:  # a slow block: the interior-point method
            guess, steps = self._interior(J, W_new)
            evaluations += interior.PASSES * steps
        if guess is not None and _relative_gap(guess[1], max(guess[2], state.dual))[1] <= self.tol:
            W_new, primal, dual = guess[0], guess[1], max(guess[2], state.dual)  # certified
            evaluations += 2  # the guess's P and D: the block's own are not needed
        else:
            primal = J.value_and_grad_unchecked(W_new, need_grad=False)[0]
            dual = -math.inf if guess is None else guess[2]
            if state.iterations % self.check_every == 0 or state.measure <= 2.0 * self.tol:
                alpha = beta * (J.lam / np.where(c > 0, c, 1.0))[:, None]
                free = J.fit_intercept
                block = dual_value(J, alpha) if free else fixed_bias_dual(J, alpha, center)
                dual = max(dual, block)
                evaluations += 1
            if not (math.isfinite(primal) and dual < math.inf and not math.isnan(dual)):
                failed = state._replace(evaluations=evaluations, status=int(Status.NON_FINITE))
                return W_new - W, failed
            dual = max(dual, state.dual)
            if guess is not None and _relative_gap(guess[1], dual)[1] <= self.tol:
                W_new, primal = guess[0], guess[1]  # certified by the block's dual value
        gap, measure = _relative_gap(primal, dual)
        status = Status.CONVERGED if measure <= self.tol else Status.RUNNING
        eps = state.eps
        if solved and status == Status.RUNNING:  # polished: tenfold; else aimed at the gap
            aimed = min(max(_AIM * self.tol / measure, 1e-3), 0.1)
            eps *= _POLISHED_SHRINK if _polishes(J, W) else aimed
        eps = max(eps, 1e-15)
        budget = state.budget if solved else min(2.0 * state.budget, _MAX_BUDGET)
        counts = (state.epochs + passes, state.iterations + 1)
        figures = (*counts, dual, gap, primal, evaluations, measure, int(status))
        return W_new - W, DualCDState(beta, V, center, u, eps, full_violation, budget, *figures)

    def _block(
        self,
        problem: tuple[Any, ...],
        state: DualCDState,
        kappa: float,
        free_bias: bool,
        beta: _Float,
        V: _Float,
        center: _Float,
        u: _Float,
        cap: float | None = None,
    ) -> _Float:
        """One block of passes (see :func:`_block_py`), in place on ``beta``, ``V``, ``center``
        and ``u``, compiled when Numba is installed: at most ``state.budget`` passes' worth of
        examples or ``_WORK`` multiply-adds, whichever is more, or ``cap`` visits in all where
        given. One versus all is ``C``
        independent binary problems (each class's column, bias and dual variables; its bias
        constraint is its own), solved one after the other as one-column blocks (``y`` 0 for
        the class, 1 for the rest): an example is shrunk per class, as liblinear does, and each
        visit costs ``D`` multiply-adds, not ``D C``; with two classes whose columns mirror each
        other (as from zero weights) only the second is solved, the first its mirror. Returns
        ``(examples visited (in passes over all the columns' worth), passes, the last full
        pass's violation, solved, multiplier steps)``."""
        kind, X, y, upper, margin = problem
        N, D = X.shape
        C = V.shape[1]
        seed = _block_seed(self.random_state, state.epochs)
        sqnorm = curvatures(row_sqnorms(X), kappa)
        difference = kind != 0 and C == 2 and _TWO_CLASSES
        binary = kind == 0 or difference  # one-column problems: D multiply-adds a visit
        block = _choose_block(is_sparse(X), binary)
        max_visits = max(state.budget * N, _WORK / (D * (1 if binary else C) + 1))
        if cap is not None:  # the multi-class problems only (see _interior_visits)
            max_visits = max(cap, 1.0)
        if is_sparse(X):  # the CSR instance of the block, X its three arrays
            X = (X.data, X.indices, X.indptr)
        if difference:  # two classes: one binary problem on the scores' difference
            out = np.zeros(5)
            args = (X, y, upper, sqnorm, margin, kappa, free_bias, self.shrinking)
            difference_block(block, args, beta, V, center, u, state.eps * margin, max_visits,
                             seed, out)  # fmt: skip
            return out
        columns = [slice(c, c + 1) for c in range(C)] if kind == 0 else [slice(0, C)]
        mirrored = kind == 0 and C == 2 and _mirrored(beta, V, center, u)
        if mirrored:  # two classes: column 0 is column 1's problem with the signs flipped
            columns = columns[1:]
        total, part = np.zeros(5), np.zeros(5)
        total[3] = 1.0
        for c, cols in enumerate(columns):
            labels = y if kind != 0 else np.where(y == c + mirrored, 0, 1).astype(np.intp)
            # one column contiguous (a stride of C rows apart otherwise: a cache line a read)
            b_c, V_c = np.ascontiguousarray(beta[:, cols]), np.ascontiguousarray(V[:, cols])
            block(kind, X, labels, upper, sqnorm, margin, kappa, free_bias, self.shrinking,
                  b_c, V_c, center[cols], u[cols], state.eps * margin,
                  max_visits, seed + c, part)  # fmt: skip
            beta[:, cols], V[:, cols] = b_c, V_c
            total[[0, 1, 4]] += part[[0, 1, 4]] / len(columns)
            total[2], total[3] = max(total[2], part[2]), min(total[3], part[3])
        if mirrored:
            beta[:, 0], V[:, 0], center[0], u[0] = beta[:, 1], -V[:, 1], -center[1], -u[1]
        return total

    def _first_eps(self, W: np.ndarray, loss: str | None = None) -> float:
        """The first block's ``eps``: the given one, else where the blocks are polished
        (weights ``W`` of at most ``_POLISH_SIZE`` numbers) ``_POLISH_EPS``'s coarser value for
        the Weston-Watkins ``loss`` over more than two classes, its finer one otherwise (and
        before the loss is known: :meth:`init`); 0.1 elsewhere."""
        if self.eps is not None:
            return self.eps
        if W.size > _POLISH_SIZE:
            return 0.1
        return _POLISH_EPS[_coarse_start(loss, W.shape[1])]  # fit_intercept=False: a choice

    def _polish(
        self, objective: Any, W: np.ndarray, eps: float
    ) -> tuple[np.ndarray, float, float] | None:
        """The weights ``(D + 1, C)`` that :func:`~lingrad.optim.solvers.continuation.polish`
        guesses from the kinks of ``W`` (a band of ``_BAND`` times ``eps``), their ``P``, and
        the dual value of the guess's own dual point (a lower bound on ``min P``, whatever the
        guess: where the guess is right, ``P`` and it agree to rounding); ``None`` for weights
        over ``_POLISH_SIZE`` numbers, a fixed bias (its system frees the bias), no guess, or a
        guess whose ``P`` is not finite."""
        if not _polishes(objective, W):
            return None
        margin = float(objective.loss_params.get("margin", 1.0))
        factor = _BAND[_coarse_start(objective.loss_spec.name, W.shape[1])]
        band = min(max(factor * eps, 1e-3 * margin), 0.1 * margin)
        guess = polish(objective, W, band)
        return None if guess is None else _evaluated(objective, guess[0], guess[1], W.dtype)

    def _interior_visits(self, objective: Any, W: np.ndarray) -> float | None:
        """The first block's visits where the interior-point method follows it when it ends
        short (a multi-class hinge over three classes or more, polished blocks
        (:func:`_polishes`), weights ``W`` of at most ``_IPM_SIZE`` numbers): as many as take
        ``_HEDGE`` times the time the cost model gives that method (``_IPM_COST``); ``None``
        elsewhere."""
        N, D, C = objective.n_samples, objective.n_features, W.shape[1]
        binary = objective.loss_spec.name == "one_vs_all_hinge" or C == 2
        if not _INTERIOR or binary or W.size > _IPM_SIZE or not _polishes(objective, W):
            return None
        m, n = N * (C - 1), W.size
        if m * n > _IPM_MAX_SIZE:  # its pieces' rows and their temporaries held in memory
            return None
        a, b, c = _IPM_COST
        microseconds = _IPM_STEPS * (a + b * m + c * m * n * n)
        return _HEDGE * 1e3 * microseconds / (_VISIT[0] + _VISIT[1] * D * C)

    def _interior(
        self, objective: Any, W: np.ndarray
    ) -> tuple[tuple[np.ndarray, float, float] | None, int]:
        """The interior-point method's optimum from ``W`` ``(D + 1, C)``: ``((W, P, D), steps)``
        with ``D`` the dual value of its multipliers (``None`` in place of the triple where it
        has no cut or a ``P`` that is not finite)."""
        result = interior.solve(objective, W, gap=min(max(0.01 * self.tol, 1e-12), 1e-10))
        if result is None:
            return None, 0
        return _evaluated(objective, result.W, result.alpha, W.dtype), result.steps

    def _kappa(self, objective: Any) -> tuple[float, bool]:
        """The bias's ``kappa`` and whether its centre moves (the unpenalised bias)."""
        if not objective.fit_intercept:
            return 0.0, False
        if objective.regularizer.include_bias:
            return 1.0, False
        if self.kappa is not None:
            return self.kappa, True
        return _KAPPA[objective.loss_spec.name == "one_vs_all_hinge"], True

    def _start(self, objective: Any, state: DualCDState, W: np.ndarray) -> DualCDState:
        """The dual variables at the first update: 0 from zero weights, else the hinge's
        subgradient at ``W`` (the smoothed dual point at a small smoothing), with ``V`` and
        the bias's centre made to match them (the bias kept)."""
        J, C = objective, W.shape[1]
        W64 = np.asarray(W, dtype=np.float64)
        N = J.n_samples
        if W64.shape[0] != J.n_features + 1:
            fail("W", f"{J.n_features + 1} rows (D + 1)", W64.shape[0])
        eps = self._first_eps(W64, J.loss_spec.name)
        if not np.any(W64[:-1]):  # zero weight rows: zero dual variables, the bias kept
            V, u, center = np.zeros((J.n_features, C)), np.zeros(C), W64[-1].copy()
            return state._replace(beta=np.zeros((N, C)), V=V, center=center, u=u, eps=eps)
        upper = example_weights(J) / J.lam
        kappa, _ = self._kappa(J)
        loss, margin = J.loss_spec.name, float(J.loss_params.get("margin", 1.0))
        S = scores_unchecked(W64, J.X.astype(np.float64, copy=False))
        y = J.targets(C)
        beta = smoothed_loss(loss, S, y, margin, 1e-3 * margin)[1] * upper[:, None]
        A = dual_scores(loss, beta, y)
        V = -(J.X.T.astype(np.float64, copy=False) @ A)
        u = A.sum(axis=0)
        center = W64[-1] + kappa * u  # the bias b = center - kappa u stays W's
        return state._replace(beta=beta, V=V, center=center, u=u, eps=eps)
