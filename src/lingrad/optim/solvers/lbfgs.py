"""L-BFGS: limited-memory BFGS with Moré-Thuente's line search (Nocedal & Wright, ch. 6-7).

One iteration from weights ``w`` (flattened, ``P = (D + 1) C`` numbers) with gradient ``g``:

    d = -H g               H: the inverse-Hessian estimate of the last m pairs (two-loop)
    alpha: J(w + alpha d) <= J(w) + 1e-3 alpha g.d   and   |g(w + alpha d).d| <= 0.9 |g.d|
    s = alpha d,  y = g(w + s) - g(w)   kept when s.y > 0 (the curvature condition)

The first trial step is ``alpha = 1`` (``1 / ||g||_2`` on the first iteration, a step of
length 1 as SciPy's L-BFGS-B takes, also where ``-g`` is shorter), which L-BFGS accepts almost
always, so an iteration costs about one fused value-and-gradient pass over X. It stops when the
convergence measure ``max_j |g_j|`` (scikit-learn's and SciPy's ``gtol``) is at most ``tol``,
or when the objective no longer decreases in floating point
(``(J_k - J_{k+1}) <= ftol max(|J_k|, |J_{k+1}|, 1)``). The line search is L-BFGS-B's
(:func:`more_thuente`, its parameters), and a failed one restarts from ``-g`` with the memory
emptied, as L-BFGS-B does: the iterates are SciPy's (unbounded) step for step.

Why ``max |g|`` and this first step: with them the iterates are scikit-learn's
``LogisticRegression(solver="lbfgs")`` iterates on the same objective wherever the unit steps
agree (wine, digits: the same ``J`` to 1e-15 at the same ``tol``), so ``tol`` means what it
means there; the first step ``1 / ||g||_1`` of earlier versions took 3-4 extra passes on the
first iteration (P = 650 on digits) and another path. The data and W stay in X's dtype; the
memory pairs and the direction are float64 (see :func:`two_loop` for the direction's cost).
"""

from __future__ import annotations

import functools
import math
from typing import Any, ClassVar, NamedTuple

import numpy as np

from lingrad import _skinny
from lingrad._array_api import copy, device, namespace, to_numpy, zeros_like
from lingrad._validation import check_int, check_positive
from lingrad.optim.solvers.base import (
    SolverBase,
    Status,
    eps,
    flat,
    max_abs,
    norm,
    smooth_problem,
    vector_dtype,
)

#: NumPy weights of at most this many numbers ``P`` take the compiled two-loop recursion
#: (:func:`_recursion_py`, where Numba is installed); larger ones the compact form with the
#: cached ``S Y^T`` and ``Y Y^T`` (BLAS products over the ``m x P`` memory).
RECURSION_MAX_SIZE = 2**13


def _recursion(W: Any) -> bool:
    """Whether :func:`two_loop` on weights like ``W`` is the compiled recursion."""
    return isinstance(W, np.ndarray) and W.size <= RECURSION_MAX_SIZE and _skinny.AVAILABLE


class LBFGSState(NamedTuple):
    """``S``, ``Y``: the last ``m`` pairs ``(m, P)`` float64 (a ring, ``count`` pairs stored in
    all); ``grad``: ``dJ/dW`` at the current W (``None`` before the first iteration);
    ``value``: ``J`` there; ``evaluations``: passes over the data; ``measure``: ``max |g|``;
    ``status``: a :class:`~lingrad.optim.solvers.base.Status`.

    Examples:
        >>> s = LBFGS(memory=3).init(np.zeros((4, 2)))
        >>> s.S.shape, s.pairs, s.grad is None
        ((3, 8), 0, True)
    """

    S: np.ndarray
    Y: np.ndarray
    pairs: int
    grad: np.ndarray | None
    value: float
    evaluations: int
    measure: float
    status: int
    #: ``(2, m, m)``: ``S Y^T`` and ``Y Y^T`` in slot order, updated with each new pair (three
    #: matrix-vector products instead of two ``m x P x m`` products an iteration); ``None``
    #: (another array library, or after a change of ``S`` or ``Y`` from outside): recomputed
    gram: np.ndarray | None = None
    #: the weights where ``value`` and ``grad`` hold when they were supplied rather than
    #: computed (:func:`shift_lambda`): the next iteration uses them from those weights only
    point: np.ndarray | None = None
    #: with ``point``: a first trial direction ``(P,)`` for the next iteration, tried at
    #: ``alpha = 1`` where it is a descent direction (else the L-BFGS direction)
    trial: np.ndarray | None = None
    #: start the two-loop from :func:`bias_scaling`'s diagonal instead of ``gamma I``
    #: (a regularisation path's fits; False: SciPy's L-BFGS-B, iterate for iterate)
    scale_bias: bool = False


def two_loop(
    g: np.ndarray,
    S: np.ndarray,
    Y: np.ndarray,
    count: int,
    gram: np.ndarray | None = None,
    h0: np.ndarray | None = None,
) -> np.ndarray:
    """``H g`` for the L-BFGS inverse-Hessian estimate of the stored pairs, ``H_0 = gamma I``
    with ``gamma = s.y / y.y`` of the newest pair (``diag(h0)`` where given, NumPy:
    :func:`bias_scaling`); ``g`` itself with no pair.

    The two-loop recursion's result in its compact form (Byrd, Nocedal & Schnabel 1994; Nocedal
    & Wright eq. 7.24), with the ``k`` pairs as rows oldest first, ``R`` the upper triangle of
    ``S Y^T`` and ``Dg`` its diagonal:

        w = R^-1 (S g),   t = R^-T ((Dg + gamma Y Y^T) w - gamma Y g)
        H g = gamma g + S^T t - gamma Y^T w

    a dozen array operations whatever ``k`` (the textbook loops take ``4 k`` vector operations,
    which is what an iteration costs on a small problem); the same numbers up to rounding. The
    ring is read in place (a view of its first ``k`` slots), its slot order applied to the
    ``k``-sized host arrays only (no copy of the ``(m, P)`` memory once the ring wrapped).
    ``gram``: ``S Y^T`` and ``Y Y^T`` ``(2, m, m)`` in slot order when known
    (:attr:`LBFGSState.gram`, NumPy); computed here otherwise.

    Examples:
        >>> S, Y = np.array([[1.0, 0.0]]), np.array([[2.0, 0.0]])   # curvature 2 along x
        >>> two_loop(np.array([2.0, 0.0]), S, Y, 1).tolist()
        [1.0, 0.0]
    """
    m = S.shape[0]
    k = min(count, m)
    if k == 0:
        return copy(g)
    if _recursion(g):
        return _compiled_recursion()(g, S, Y, count, _NO_SCALING if h0 is None else h0)
    if h0 is not None:  # a diagonal H_0: the textbook loops on whole vectors (NumPy)
        return _diagonal_recursion(g, S, Y, count, h0)
    if k < m:
        S, Y = S[:k, ...], Y[:k, ...]  # slots 0..k-1, oldest first: views
    # the k x k algebra on the host in float64 (k <= m numbers: one small copy off a device)
    SY, YY = (S @ Y.T, Y @ Y.T) if gram is None else (gram[0, :k, :k], gram[1, :k, :k])
    u, v, SY, YY = (to_numpy(a) for a in (S @ g, Y @ g, SY, YY))
    if count > m and count % m:  # a wrapped ring: its oldest pair in slot count % m
        order, rows = _ring(m, count % m)
        gamma, w, t = _coefficients(u[order], v[order], SY[rows], YY[rows])
        w[order], t[order] = w.copy(), t.copy()  # back to the ring's slot order
    else:
        gamma, w, t = _coefficients(u, v, SY, YY)
    xp = namespace(g)
    if xp is not np:
        w, t = (xp.asarray(a, dtype=g.dtype, device=device(g)) for a in (w, t))
    return gamma * (g - Y.T @ w) + S.T @ t


def _recursion_py(
    g: np.ndarray, S: np.ndarray, Y: np.ndarray, count: int, h0: np.ndarray
) -> np.ndarray:
    """The textbook two-loop recursion (Nocedal & Wright, algorithm 7.4) over the ring's ``k``
    newest pairs, newest first then oldest first, ``rho_i = 1 / (s_i . y_i)``:

        q = g;  alpha_i = rho_i s_i.q,  q -= alpha_i y_i         (newest to oldest)
        r = gamma q;  beta = rho_i y_i.r,  r += (alpha_i - beta) s_i   (oldest to newest)

    ``4 k P`` multiply-adds in one compiled call: on a small problem (``P`` up to a few
    thousand) a few microseconds, where the compact form's dozen NumPy calls take ~80.
    ``h0`` ``(P,)``: ``H_0 = diag(h0)`` instead of ``gamma I`` (empty: ``gamma``)."""
    m, P = S.shape
    k = min(count, m)
    q = g.copy()
    alpha, rho = np.empty(k), np.empty(k)
    for i in range(k - 1, -1, -1):
        j = (count - k + i) % m
        sy, sq = 0.0, 0.0
        for p in range(P):
            sy += S[j, p] * Y[j, p]
            sq += S[j, p] * q[p]
        rho[i] = 1.0 / sy
        alpha[i] = rho[i] * sq
        for p in range(P):
            q[p] -= alpha[i] * Y[j, p]
    newest = (count - 1) % m
    sy, yy = 0.0, 0.0
    for p in range(P):
        sy += S[newest, p] * Y[newest, p]
        yy += Y[newest, p] * Y[newest, p]
    if h0.size:
        for p in range(P):
            q[p] *= h0[p]
    else:
        gamma = sy / yy
        for p in range(P):
            q[p] *= gamma
    for i in range(k):
        j = (count - k + i) % m
        yr = 0.0
        for p in range(P):
            yr += Y[j, p] * q[p]
        step = alpha[i] - rho[i] * yr
        for p in range(P):
            q[p] += step * S[j, p]
    return q


def _diagonal_recursion(
    g: np.ndarray, S: np.ndarray, Y: np.ndarray, count: int, h0: np.ndarray
) -> np.ndarray:
    """:func:`_recursion_py` with ``H_0 = diag(h0)``, one NumPy operation per pair and
    vector (for weights too large for the compiled recursion)."""
    m = S.shape[0]
    slots = [(count - 1 - i) % m for i in range(min(count, m))]  # newest first
    rho = [1.0 / float(S[j] @ Y[j]) for j in slots]
    q, alpha = g.copy(), []
    for j, r in zip(slots, rho, strict=True):
        alpha.append(r * float(S[j] @ q))
        q -= alpha[-1] * Y[j]
    q *= h0
    for j, r, a in reversed(list(zip(slots, rho, alpha, strict=True))):
        q += (a - r * float(Y[j] @ q)) * S[j]
    return q


_recursion_nb: Any = None
_NO_SCALING = np.empty(0)


def _compiled_recursion() -> Any:
    """:func:`_recursion_py` compiled with Numba (cached on disk after the first time), its
    dot products free to be summed in any order (``fastmath={"reassoc"}``: vectorised; 40
    pairs of 650 weights, digits' path, 37 -> 18 us; the same result to ~1e-15)."""
    global _recursion_nb
    if _recursion_nb is None:
        import numba

        _recursion_nb = numba.njit(cache=True, nogil=True, fastmath={"reassoc"})(_recursion_py)
    return _recursion_nb


def _coefficients(
    u: np.ndarray, v: np.ndarray, SY: np.ndarray, YY: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """``(gamma, w, t)`` of :func:`two_loop` from ``u = S g``, ``v = Y g``, ``S Y^T``, ``Y Y^T``."""
    from scipy.linalg.lapack import dtrtri  # LAPACK's triangular inverse, ~1 us at k <= 10

    k = SY.shape[0]
    gamma = float(SY[-1, -1] / YY[-1, -1])
    R_inv = dtrtri(SY)[0] * _upper(k)  # dtrtri reads the upper triangle, leaves the lower
    w = R_inv @ u
    t = R_inv.T @ (SY.diagonal() * w + gamma * (YY @ w - v))
    return gamma, w, t


@functools.cache
def _ring(m: int, start: int) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """The slots of a full ring of ``m`` oldest first from ``start``, and their ``np.ix_``."""
    order = (start + np.arange(m)) % m
    return order, np.ix_(order, order)


@functools.cache
def _upper(k: int) -> np.ndarray:
    """The ``(k, k)`` mask of the upper triangle (diagonal included)."""
    return np.triu(np.ones((k, k)))


class _LineSearch:
    """phi(alpha) = J(W + alpha d) and its slope, evaluated on the objective; remembers the
    last point (``W`` in its dtype, ``J``, ``g``) and counts the passes."""

    def __init__(self, objective: Any, W: np.ndarray, d: np.ndarray):
        self.objective, self.W, self.d = objective, W, d
        self.evaluations = 0

    def __call__(self, alpha: float) -> tuple[float, float]:
        if isinstance(self.W, np.ndarray):
            step = (alpha * self.d).astype(self.W.dtype, copy=False).reshape(self.W.shape)
        else:
            xp = namespace(self.W)
            step = xp.reshape(xp.astype(alpha * self.d, self.W.dtype), self.W.shape)
        value, grad = self.objective.value_and_grad_unchecked(self.W + step)
        self.evaluations += 1
        self.point = (step, value, grad)
        slope = float(flat(grad, self.d.dtype) @ self.d)  # in d's dtype (float64 on NumPy)
        return value, slope


def _cubic(a: float, fa: float, da: float, b: float, fb: float, db: float) -> tuple[float, float]:
    """``(r, gamma)``: the cubic through ``(a, fa, da)`` and ``(b, fb, db)`` has its minimiser
    at ``a + r (b - a)`` (Moré & Thuente 1994, the formulas of MINPACK-2's ``dcstep``):

        theta = 3 (fa - fb) / (b - a) + da + db,   gamma = sign(b - a) sqrt(theta^2 - da db)
        r = (gamma - da + theta) / (2 gamma - da + db)

    scaled by ``s = max(|theta|, |da|, |db|)`` against overflow; ``gamma = 0`` where the
    square root's argument is negative (the cubic has no minimiser)."""
    theta = 3.0 * (fa - fb) / (b - a) + da + db
    s = max(abs(theta), abs(da), abs(db))
    gamma = s * math.sqrt(max(0.0, (theta / s) ** 2 - (da / s) * (db / s)))
    if b < a:
        gamma = -gamma
    return ((gamma - da) + theta) / (((gamma - da) + gamma) + db), gamma


Point = tuple[float, float, float]  # (step, value, slope)


def _shifted(p: Point, c: float) -> Point:
    """``p`` on ``f(alpha) - c alpha`` (``c = ftol slope0``: psi up to a constant)."""
    return p[0], p[1] - c * p[0], p[2] - c


def _dcstep(
    x: Point, y: Point, t: Point, bracketed: bool, lo: float, hi: float
) -> tuple[Point, Point, float, bool]:
    """Moré-Thuente's next trial step from ``x`` (the best step so far), ``y`` (the other end
    of the interval) and ``t`` (the trial just evaluated), kept in ``[lo, hi]``; returns the
    new ``(x, y, step, bracketed)``. The four cases of the paper (section 4), with ``c`` the
    cubic's and ``q`` the quadratic's (secant's) minimiser:

    1. ``f_t > f_x``: a minimiser lies between: ``c`` if nearer ``x`` than ``q``, else midway.
    2. slopes of opposite signs: bracketed too: the one of ``c``, ``q`` farther from ``t``.
    3. ``|g_t| < |g_x|`` (same sign, slope decreasing): the nearer of ``c`` (or a bound if
       the cubic does not turn) and ``q``, at most 66% of the way to ``y`` once bracketed.
    4. otherwise: the cubic through ``t`` and ``y`` if bracketed, else the bound ``lo``/``hi``.
    """
    (sx, fx, dx), (sy, fy, dy), (sp, fp, dp) = x, y, t
    opposite = dp < 0 < dx or dx < 0 < dp
    if fp > fx:
        r, _ = _cubic(sx, fx, dx, sp, fp, dp)
        c = sx + r * (sp - sx)
        q = sx + ((dx / ((fx - fp) / (sp - sx) + dx)) / 2.0) * (sp - sx)
        new = c if abs(c - sx) <= abs(q - sx) else c + (q - c) / 2.0
        bracketed = True
    elif opposite:
        r, _ = _cubic(sp, fp, dp, sx, fx, dx)
        c, q = sp + r * (sx - sp), sp + (dp / (dp - dx)) * (sx - sp)
        new = c if abs(c - sp) > abs(q - sp) else q
        bracketed = True
    elif abs(dp) < abs(dx):
        r, gamma = _cubic(sp, fp, dp, sx, fx, dx)
        c = sp + r * (sx - sp) if r < 0 and gamma != 0 else (hi if sp > sx else lo)
        q = sp + (dp / (dp - dx)) * (sx - sp)
        if bracketed:
            new = c if abs(c - sp) < abs(q - sp) else q
            limit = sp + 0.66 * (sy - sp)
            new = min(limit, new) if sp > sx else max(limit, new)
        else:
            new = min(max(c if abs(c - sp) > abs(q - sp) else q, lo), hi)
    elif bracketed:
        r, _ = _cubic(sp, fp, dp, sy, fy, dy)
        new = sp + r * (sy - sp)
    else:
        new = hi if sp > sx else lo
    if fp > fx:
        return x, t, new, bracketed
    return t, (x if opposite else y), new, bracketed


def more_thuente(
    phi: Any,
    f0: float,
    slope0: float,
    alpha: float,
    *,
    ftol: float = 1e-3,
    gtol: float = 0.9,
    xtol: float = 0.1,
    stpmin: float = 0.0,
    stpmax: float = 1e10,
    max_evaluations: int = 20,
) -> float | None:
    """Moré & Thuente's line search (1994; MINPACK-2's ``dcsrch``, L-BFGS-B's, with its
    parameters as defaults): a step ``alpha`` for ``phi(alpha) -> (f, slope)`` from
    ``(f0, slope0 < 0)``, starting at ``alpha``, meeting

        f(alpha) <= f0 + ftol alpha slope0     and     |slope(alpha)| <= gtol |slope0|

    or the best step when the interval of uncertainty shrinks below ``xtol`` (relative) or
    rounding stalls it (accepted, as L-BFGS-B does); ``None`` after ``max_evaluations``.
    While no step has ``f <= f0 + ftol alpha slope0`` and ``slope >= 0`` (stage 1) it steps on
    ``psi(alpha) = f(alpha) - f0 - ftol alpha slope0``; an interval ``[lo, hi]`` bounds each
    trial (``[1.1, 4]`` times the last move beyond it until a minimiser is bracketed), and a
    bracket that does not shrink by a third in two trials is bisected. A non-finite value
    halves the step towards the best one and caps the steps there. Scalars only.

    Examples:
        >>> phi = lambda a: ((a - 3.0) ** 2, 2.0 * (a - 3.0))      # minimum at 3
        >>> more_thuente(phi, 9.0, -6.0, 1.0)           # |slope 4| <= 0.9 * 6: accepted
        1.0
        >>> round(more_thuente(phi, 9.0, -6.0, 1.0, gtol=0.1), 6)   # stricter: the cubic
        3.0
    """
    gtest, stage1, bracketed = ftol * slope0, True, False
    x = y = (0.0, f0, slope0)
    lo, hi, width, width1 = 0.0, 5.0 * alpha, stpmax - stpmin, 2.0 * (stpmax - stpmin)
    for _ in range(max_evaluations):
        f, g = phi(alpha)
        if not (math.isfinite(f) and math.isfinite(g)):
            stpmax, alpha = alpha, x[0] + 0.5 * (alpha - x[0])
            continue
        ftest = f0 + alpha * gtest
        stage1 = stage1 and not (f <= ftest and g >= 0)
        if (
            (f <= ftest and abs(g) <= -gtol * slope0)  # both conditions
            or (bracketed and (alpha <= lo or alpha >= hi or hi - lo <= xtol * hi))
            or (alpha == stpmax and f <= ftest and g <= gtest)
            or (alpha == stpmin and (f > ftest or g >= gtest))
        ):
            return alpha
        if stage1 and ftest < f <= x[1]:  # the step on psi, then back to f
            x, y, alpha, bracketed = _dcstep(
                _shifted(x, gtest), _shifted(y, gtest), _shifted((alpha, f, g), gtest),
                bracketed, lo, hi,
            )  # fmt: skip
            x, y = _shifted(x, -gtest), _shifted(y, -gtest)
        else:
            x, y, alpha, bracketed = _dcstep(x, y, (alpha, f, g), bracketed, lo, hi)
        if bracketed:
            if abs(y[0] - x[0]) >= 0.66 * width1:
                alpha = x[0] + 0.5 * (y[0] - x[0])
            width1, width = width, abs(y[0] - x[0])
            lo, hi = min(x[0], y[0]), max(x[0], y[0])
        else:
            lo, hi = alpha + 1.1 * (alpha - x[0]), alpha + 4.0 * (alpha - x[0])
        alpha = min(max(alpha, stpmin), stpmax)
        if bracketed and (alpha <= lo or alpha >= hi or hi - lo <= xtol * hi):
            alpha = x[0]
    return None


def _search(
    objective: Any, W: Any, g64: Any, state: LBFGSState, first_iteration: bool, trial: Any = None
) -> tuple[_LineSearch, float | None]:
    """``(phi, alpha)``: Moré-Thuente along ``trial`` (a descent direction) where given, else
    the L-BFGS direction of ``state``'s ``pairs`` (``-g`` where that is not a descent
    direction), from ``alpha = 1`` (``1 / ||g||_2`` on the first iteration, as
    L-BFGS-B); ``alpha`` is ``None`` where the search failed."""
    if trial is not None:  # a supplied first trial (a regularisation path's prediction)
        d, slope = trial, float(g64 @ trial)
    else:
        h0 = bias_scaling(objective, state) if state.scale_bias else None
        d = -two_loop(g64, state.S, state.Y, state.pairs, state.gram, h0)
        slope = float(g64 @ d)
    if not slope < 0:  # not a descent direction (lost curvature): restart from -g
        d, slope = -g64, -float(g64 @ g64)
    # ||g||_2 scaled by max|g| (state.measure > tol > 0): g.g overflows where g ~ 1e155
    first = 1.0 / (state.measure * norm(g64 / state.measure)) if first_iteration else 1.0
    phi = _LineSearch(objective, W, d)
    return phi, more_thuente(phi, state.value, slope, first)


def bias_scaling(objective: Any, state: LBFGSState) -> np.ndarray | None:
    """The diagonal ``H_0`` ``(P,)`` of the two-loop for an L2 penalty that leaves out the
    bias row: ``gamma`` (``s.y / y.y`` of the newest pair) for the penalised weights and
    ``gamma (c + lam) / c`` for the bias, ``c`` the loss's own curvature along ``s``,

        y_L = y - lam M s   (M: 1 on the penalised weights),    c = y_L.y_L / s.y_L

    Under a strong penalty the penalised directions have curvature ``>= lam`` while the bias
    has the loss's alone (digits, lam = 1: 1.0-2.1 against 0.08), so ``gamma I`` steps ~12 x
    too short along the bias and L-BFGS spends iterations learning it. ``None`` (``gamma I``)
    for another penalty, ``lam = 0``, no pair yet, ``s.y_L <= 0`` or off NumPy.

    Examples:
        >>> from lingrad.objective import Objective
        >>> J = Objective("softmax", np.eye(2), [0, 1], lam=1.0)
        >>> s = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 1.0])     # W (3, 2): the bias row last
        >>> y = np.array([2.0, 2.0, 2.0, 2.0, 1.0, 1.0])     # curvature 1 + lam, 1 on the bias
        >>> state = LBFGS().init(np.zeros((3, 2)))._replace(pairs=1)
        >>> state.S[0], state.Y[0] = s, y
        >>> h0 = bias_scaling(J, state)                  # c = 1: the bias's step doubled
        >>> round(float(h0[0]), 4), round(float(h0[-1] / h0[0]), 4)  # gamma = s.y / y.y
        (0.5556, 2.0)
    """
    penalty, lam, k = getattr(objective, "regularizer", None), objective.lam, state.pairs
    if penalty is None or not isinstance(state.S, np.ndarray) or not (lam > 0 and k > 0):
        return None
    if (penalty.name, penalty.l1_ratio, penalty.include_bias) != ("l2", 0, False):
        return None
    j = (k - 1) % state.S.shape[0]
    s, y = state.S[j], state.Y[j]
    n = s.shape[0] - s.shape[0] // (objective.n_features + 1)  # the penalised rows' entries
    sMs, sMy = float(s[:n] @ s[:n]), float(s[:n] @ y[:n])
    sy, yy = float(s @ y), float(y @ y)
    syL, yLyL = sy - lam * sMs, yy - 2.0 * lam * sMy + lam * lam * sMs
    if not (syL > 0 and yLyL > 0 and sy > 0):
        return None
    gamma, c = sy / yy, yLyL / syL
    h0 = np.full(s.shape[0], gamma * (c + lam) / c)
    h0[:n] = gamma
    return h0


def _same(a: Any, b: Any) -> bool:
    """Whether ``a`` and ``b`` are the same weights (the same object, or equal NumPy arrays)."""
    if a is b:
        return True
    both = isinstance(a, np.ndarray) and isinstance(b, np.ndarray)
    return both and a.shape == b.shape and bool(np.array_equal(a, b))


def shift_lambda(
    state: LBFGSState,
    W: np.ndarray,
    regularizer: Any,
    lam_change: float,
    *,
    fit_intercept: bool = True,
    trial: np.ndarray | None = None,
) -> LBFGSState:
    """The state whose next iteration starts from ``W`` for ``lam + lam_change`` without a
    pass over the data, where ``state.grad`` and ``state.value`` hold at ``W`` for ``lam``.

    For ``J(W; lam) = L(W) + lam R(W)`` the change of ``lam`` moves value and gradient by the
    penalty alone (exact for any ``R``; ``R(W)`` and ``R'(W)`` cost ``O(P)``, no pass):

        J_new = J + lam_change R(W),    g_new = g + lam_change R'(W)    (bias row 0 without
        fit_intercept, as the objective's own gradient)

    done for L2 only (``R = 0.5 ||W[:-1]||^2``, or all of ``W`` with ``include_bias``): for
    another regulariser, or a state without a gradient or off NumPy, ``state`` with
    ``grad = None`` (the next iteration makes the pass). ``trial``: weights ``(D + 1, C)`` to
    try first, as the step ``trial - W`` at ``alpha = 1`` (the path's extrapolated optimum),
    where it descends. The pairs are not touched (correct ``Y`` for the change of ``lam``
    beforehand: :func:`lingrad.estimators.continue_state`).

    Examples:
        >>> from lingrad.objective import Objective
        >>> from lingrad.regularizers import l2
        >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
        >>> J1, J2 = (Objective("softmax", X, [0, 1, 1], lam=lam) for lam in (0.1, 0.3))
        >>> W = np.full((3, 2), 0.5)
        >>> value, g = J1.value_and_grad(W)
        >>> state = LBFGS().init(W)._replace(grad=g, value=value)
        >>> new = shift_lambda(state, W, l2(), 0.2)
        >>> v2, g2 = J2.value_and_grad(W)
        >>> bool(np.allclose(new.grad, g2, rtol=0, atol=1e-15)), abs(new.value - v2) < 1e-15
        (True, True)
    """
    quadratic = getattr(regularizer, "name", None) == "l2" and regularizer.l1_ratio == 0
    g = state.grad
    if not (quadratic and isinstance(g, np.ndarray) and isinstance(W, np.ndarray)):
        return state._replace(grad=None, point=None, trial=None)
    g = g.copy()
    regularizer.add_grad(W, g, lam_change)
    if not fit_intercept:
        g[-1] = 0.0
    value = state.value + lam_change * regularizer.value(W)
    d = None if trial is None else flat(trial - W, state.S.dtype)
    return state._replace(grad=g, value=value, measure=max_abs(g), point=W, trial=d)


class LBFGS(SolverBase):
    """Limited-memory BFGS on the full objective (see the module docstring).

    Args:
        tol: stop when ``max |dJ/dW| <= tol`` (scikit-learn's ``tol`` for ``lbfgs``).
        memory: the pairs ``m`` kept (10 as SciPy).
        ftol: stop when one iteration lowers ``J`` by at most ``ftol * max(|J|, 1)``
            (default: 64 machine epsilons of X's dtype, as scikit-learn asks of SciPy).

    Examples:
        >>> from lingrad.objective import Objective
        >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
        >>> J = Objective("softmax", X, [0, 1, 1, 0], lam=0.1)
        >>> solver, W = LBFGS(tol=1e-8), J.check_weights(np.zeros((3, 2)))
        >>> state = solver.init(W)
        >>> while state.status == 0:
        ...     step, state = solver.update(None, state, W, objective=J)
        ...     W = W + step
        >>> state.measure <= 1e-8, round(state.value, 6)
        (True, 0.407186)
    """

    reads: ClassVar[str] = "objective"
    #: runs on X's array library (PyTorch, CuPy...): see lingrad.optim.solvers.base
    array_api: ClassVar[bool] = True

    def __init__(self, tol: float = 1e-4, memory: int = 10, ftol: float | None = None):
        self.tol = check_positive("tol", tol, allow_zero=True)
        self.memory = check_int("memory", memory)
        self.ftol = None if ftol is None else check_positive("ftol", ftol, allow_zero=True)

    def __repr__(self) -> str:
        return f"LBFGS(tol={self.tol:g}, memory={self.memory})"

    def check_objective(self, objective: Any) -> None:
        """Refuse a non-smooth objective (a hinge loss, an L1 part), naming it."""
        smooth_problem("lbfgs", objective)

    def init(self, W: np.ndarray) -> LBFGSState:
        """An empty memory for weights shaped like ``W``."""
        size = math.prod(W.shape)
        if isinstance(W, np.ndarray):
            pairs = np.zeros((self.memory, size))
        else:  # on W's library and device, in the dtype of base.vector_dtype
            xp = namespace(W)
            pairs = xp.zeros((self.memory, size), dtype=vector_dtype(W), device=device(W))
        compact = isinstance(W, np.ndarray) and not _recursion(W)  # the Gram cache serves it
        gram = np.zeros((2, self.memory, self.memory)) if compact else None
        running = int(Status.RUNNING)
        return LBFGSState(pairs, copy(pairs), 0, None, math.inf, 0, math.inf, running, gram)

    def update(
        self,
        grad: np.ndarray | None,
        state: LBFGSState,
        W: np.ndarray,
        *,
        objective: Any = None,
        value_fn: Any = None,
        rng: Any = None,
    ) -> tuple[np.ndarray, LBFGSState]:
        """One iteration: ``(W_new - W, state)`` with ``state.value = J(W_new)``."""
        if objective is None:
            raise TypeError("LBFGS.update needs objective= (it reads the objective itself)")
        evaluations, value, g, measure = state.evaluations, state.value, state.grad, state.measure
        zero, trial = zeros_like(W), state.trial
        if state.point is not None:  # value and grad supplied (shift_lambda): this once
            if not _same(state.point, W):  # for other weights than these: a pass instead
                g, trial = None, None
            state = state._replace(grad=g, point=None, trial=None)
        if g is None:
            value, g = objective.value_and_grad_unchecked(W)
            evaluations += 1
            measure = max_abs(g)
        if not (math.isfinite(value) and math.isfinite(measure)):
            stop = state._replace(evaluations=evaluations, status=int(Status.NON_FINITE))
            return zero, stop
        # the memory's dtype (float64 on NumPy); no copy when g has it (a new array every pass)
        g64 = flat(g, state.S.dtype)
        if trial is not None and not float(g64 @ trial) < 0:
            trial = None  # not a descent direction: the L-BFGS direction
        # converged, unless a trial is to be tried first (a path's prediction: nearer the new
        # optimum than the supplied point, the start a warm start would have taken)
        if measure <= self.tol and trial is None:
            done = state._replace(grad=g, value=value, evaluations=evaluations, measure=measure)
            return zero, done._replace(status=int(Status.CONVERGED))
        # the first iteration of a fresh run (a warm start keeps its pairs: alpha = 1 there)
        first_iteration = state.grad is None and state.pairs == 0
        for pairs in dict.fromkeys((state.pairs, 0)):  # L-BFGS-B: a failed search restarts
            memory = state._replace(pairs=pairs, value=value, measure=measure)
            phi, alpha = _search(objective, W, g64, memory, first_iteration, trial)
            evaluations += phi.evaluations
            if alpha is not None:
                break
            trial = None
        else:
            failed = state._replace(grad=g, value=value, evaluations=evaluations, measure=measure)
            return zero, failed._replace(status=int(Status.LINE_SEARCH_FAILED))
        step, new_value, new_g = phi.point  # the search returns the step phi evaluated last
        # memory.pairs: 0 after a restart (the memory refreshed)
        return step, self._remember(memory, step, g64, new_g, value, new_value, evaluations)

    def _remember(self, state, step, g64, new_g, value, new_value, evaluations) -> LBFGSState:
        """The state after a step: the new pair (when ``s.y > 0``), the new point, the status.

        The pair is written into the memory arrays in place: copying them per iteration
        doubled the solver's memory (``4 m`` weight-sized vectors instead of ``2 m``) and cost
        seconds per iteration at millions of weights; the previous state shares them."""
        s = flat(step, g64.dtype)
        y = flat(new_g, g64.dtype) - g64  # the memory's dtype (float64 on NumPy)
        S, Y, count = state.S, state.Y, state.pairs
        if float(s @ y) > 1e-10 * float(y @ y):
            j = count % S.shape[0]  # the ring of the state (a path may size its own)
            S[j, ...], Y[j, ...] = s, y
            if state.gram is not None:  # row and column j of S Y^T and Y Y^T (NumPy)
                state.gram[0, j], state.gram[0, :, j] = Y @ s, S @ y
                state.gram[1, j] = state.gram[1, :, j] = Y @ y
            count += 1
        measure = max_abs(new_g)
        ftol = self.ftol if self.ftol is not None else 64 * eps(step.dtype)
        status = Status.RUNNING
        if not (math.isfinite(new_value) and math.isfinite(measure)):
            status = Status.NON_FINITE
        elif measure <= self.tol or value - new_value <= ftol * max(abs(value), abs(new_value), 1):
            status = Status.CONVERGED
        return LBFGSState(
            S, Y, count, new_g, new_value, evaluations, measure, int(status), state.gram,
            scale_bias=state.scale_bias,
        )  # fmt: skip
