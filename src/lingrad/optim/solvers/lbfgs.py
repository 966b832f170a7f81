"""L-BFGS: limited-memory BFGS with a strong-Wolfe line search (Nocedal & Wright, ch. 6-7).

One iteration from weights ``w`` (flattened, ``P = (D + 1) C`` numbers) with gradient ``g``:

    d = -H g               H: the inverse-Hessian estimate of the last m pairs (two-loop)
    alpha: J(w + alpha d) <= J(w) + c1 alpha g.d   and   |g(w + alpha d).d| <= c2 |g.d|
    s = alpha d,  y = g(w + s) - g(w)   kept when s.y > 0 (the curvature condition)

The first trial step is ``alpha = 1`` (``1 / ||g||_2`` on the first iteration, a step of
length 1 as SciPy's L-BFGS-B takes, also where ``-g`` is shorter), which L-BFGS accepts almost
always, so an iteration costs about one fused value-and-gradient pass over X. It stops when the
convergence measure ``max_j |g_j|`` (scikit-learn's and SciPy's ``gtol``) is at most ``tol``,
or when the objective no longer decreases in floating point
(``(J_k - J_{k+1}) <= ftol max(|J_k|, |J_{k+1}|, 1)``).

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

from lingrad._array_api import device, namespace, to_numpy
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


def two_loop(
    g: np.ndarray, S: np.ndarray, Y: np.ndarray, count: int, gram: np.ndarray | None = None
) -> np.ndarray:
    """``H g`` for the L-BFGS inverse-Hessian estimate of the stored pairs, ``H_0 = gamma I``
        with ``gamma = s.y / y.y`` of the newest pair; ``g`` itself with no pair.

        The two-loop recursion's result in its compact form (Byrd, Nocedal & Schnabel 1994; Nocedal
        & Wright eq. 7.24), with the ``k`` pairs as rows oldest first, ``R`` the upper triangle of
        ``S Y^T`` and ``Dg`` its diagonal:

            w = R^-1 (S g),   t = R^-T ((Dg + gamma Y Y^T) w - gamma Y g)
            H g = gamma g + S^T t - gamma Y^T w

        a dozen array operations whatever ``k`` (the textbook loops take ``4 k`` vector operations,
        which is what an iteration costs on a small problem); the same numbers up to rounding.
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
        return g + 0.0  # a copy on every library
    order = [(count - k + i) % m for i in range(k)]  # ring slots, oldest first
    xp = namespace(g)
    if xp is np:
        return _two_loop_numpy(g, S[:k], Y[:k], order, gram)
    if (k < m or order[0] != 0) and xp is np:
        S, Y = S[order], Y[order]
    elif k < m or order[0] != 0:
        slots = xp.asarray(order, device=device(g))
        S, Y = xp.take(S, slots, axis=0), xp.take(Y, slots, axis=0)
    # the k x k algebra on the host in float64 (k <= m numbers: one small copy off a device)
    gamma, w, t = _coefficients(*(to_numpy(a) for a in (S @ g, Y @ g, S @ Y.T, Y @ Y.T)))
    if xp is not np:
        w, t = (xp.asarray(a, dtype=g.dtype, device=device(g)) for a in (w, t))
    return gamma * (g - Y.T @ w) + S.T @ t


def _two_loop_numpy(
    g: np.ndarray, S: np.ndarray, Y: np.ndarray, order: list[int], gram: np.ndarray | None
) -> np.ndarray:
    """:func:`two_loop` on NumPy with ``S``, ``Y`` the ``k`` written slots (views): the
    ``k x k`` products are put in age order, not the ``k x P`` pairs (copying a wrapped ring
    cost ~60 ms an iteration at ``P = 10^6``); ``S Y^T``, ``Y Y^T`` from ``gram`` when kept."""
    k, age = len(order), np.asarray(order)
    slots = np.argsort(age)  # slots[j]: the age of the pair in slot j
    SY, YY = (S @ Y.T, Y @ Y.T) if gram is None else (gram[0, :k, :k], gram[1, :k, :k])
    ix = np.ix_(age, age)
    gamma, w, t = _coefficients((S @ g)[age], (Y @ g)[age], SY[ix], YY[ix])
    return gamma * (g - Y.T @ w[slots]) + S.T @ t[slots]


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


def _interpolate(a_lo, f_lo, g_lo, a_hi, f_hi, g_hi) -> float:
    """The cubic's minimiser between two points (values, slopes), kept inside the middle 80%
    of the bracket; bisection where the cubic has none."""
    d1 = g_lo + g_hi - 3.0 * (f_lo - f_hi) / (a_lo - a_hi)
    disc = d1 * d1 - g_lo * g_hi
    lo, hi = min(a_lo, a_hi), max(a_lo, a_hi)
    if disc >= 0 and math.isfinite(disc):
        d2 = math.copysign(math.sqrt(disc), a_hi - a_lo)
        denom = g_hi - g_lo + 2.0 * d2
        if denom != 0:
            a = a_hi - (a_hi - a_lo) * (g_hi + d2 - d1) / denom
            if lo + 0.1 * (hi - lo) <= a <= hi - 0.1 * (hi - lo):
                return a
    return 0.5 * (lo + hi)


def wolfe(
    phi: Any,
    f0: float,
    slope0: float,
    alpha: float,
    *,
    c1: float = 1e-4,
    c2: float = 0.9,
    max_evaluations: int = 20,
) -> float | None:
    """A step ``alpha`` meeting the strong Wolfe conditions for ``phi(alpha) -> (f, slope)``
    from ``(f0, slope0 < 0)``, starting at ``alpha``; ``None`` after ``max_evaluations``
    (Nocedal & Wright, Algorithms 3.5 and 3.6, with cubic interpolation).

    Examples:
        >>> phi = lambda a: ((a - 3.0) ** 2, 2.0 * (a - 3.0))      # minimum at 3
        >>> wolfe(phi, 9.0, -6.0, 1.0)                  # |slope 4| <= 0.9 * 6: accepted
        1.0
        >>> round(wolfe(phi, 9.0, -6.0, 1.0, c2=0.1), 6)   # a stricter slope: bracketed
        3.0
    """
    prev = (0.0, f0, slope0)
    for i in range(max_evaluations):
        f, g = phi(alpha)
        if not math.isfinite(f) or f > f0 + c1 * alpha * slope0 or (i > 0 and f >= prev[1]):
            return _zoom(phi, f0, slope0, prev, (alpha, f, g), c1, c2, max_evaluations - i - 1)
        if abs(g) <= -c2 * slope0:
            return alpha
        if g >= 0:
            return _zoom(phi, f0, slope0, (alpha, f, g), prev, c1, c2, max_evaluations - i - 1)
        prev, alpha = (alpha, f, g), 2.0 * alpha
    return None


def _zoom(phi, f0, slope0, lo, hi, c1, c2, budget) -> float | None:
    """Shrink the bracket ``[lo, hi]`` (``lo``: the lower value so far) to a Wolfe step."""
    for _ in range(budget):
        if not math.isfinite(hi[1]) or not math.isfinite(hi[2]):
            alpha = 0.5 * (lo[0] + hi[0])
        else:
            alpha = _interpolate(*lo, *hi)
        f, g = phi(alpha)
        if not math.isfinite(f) or f > f0 + c1 * alpha * slope0 or f >= lo[1]:
            hi = (alpha, f, g)
            continue
        if abs(g) <= -c2 * slope0:
            return alpha
        if g * (hi[0] - lo[0]) >= 0:
            hi = lo
        lo = (alpha, f, g)
    return None


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
        running = int(Status.RUNNING)
        gram = np.zeros((2, self.memory, self.memory)) if isinstance(W, np.ndarray) else None
        return LBFGSState(pairs, pairs + 0.0, 0, None, math.inf, 0, math.inf, running, gram)

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
        zero = np.zeros_like(W) if isinstance(W, np.ndarray) else namespace(W).zeros_like(W)
        if g is None:
            value, g = objective.value_and_grad_unchecked(W)
            evaluations += 1
            measure = max_abs(g)
        if not (math.isfinite(value) and math.isfinite(measure)):
            stop = state._replace(evaluations=evaluations, status=int(Status.NON_FINITE))
            return zero, stop
        if measure <= self.tol:
            done = state._replace(grad=g, value=value, evaluations=evaluations, measure=measure)
            return zero, done._replace(status=int(Status.CONVERGED))
        # the memory's dtype (float64 on NumPy); no copy when g has it (a new array every pass)
        g64 = flat(g, state.S.dtype)
        d = -two_loop(g64, state.S, state.Y, state.pairs, state.gram)
        slope = float(g64 @ d)
        if not slope < 0:  # not a descent direction (lost curvature): restart from -g
            d, slope = -g64, -float(g64 @ g64)
        # ||g||_2 scaled by max|g| (= measure > tol > 0 here): g.g overflows where g ~ 1e155
        first = 1.0 if state.pairs else 1.0 / (measure * norm(g64 / measure))
        phi = _LineSearch(objective, W, d)
        alpha = wolfe(phi, value, slope, first)
        evaluations += phi.evaluations
        if alpha is None:
            failed = state._replace(grad=g, value=value, evaluations=evaluations, measure=measure)
            return zero, failed._replace(status=int(Status.LINE_SEARCH_FAILED))
        step, new_value, new_g = phi.point  # wolfe returns the step phi evaluated last
        return step, self._remember(state, step, g64, new_g, value, new_value, evaluations)

    def _remember(self, state, step, g64, new_g, value, new_value, evaluations) -> LBFGSState:
        """The state after a step: the new pair (when ``s.y > 0``), the new point, the status.

        The pair is written into the memory arrays in place: copying them per iteration
        doubled the solver's memory (``4 m`` weight-sized vectors instead of ``2 m``) and cost
        seconds per iteration at millions of weights; the previous state shares them."""
        s = flat(step, g64.dtype)
        y = flat(new_g, g64.dtype) - g64  # the memory's dtype (float64 on NumPy)
        S, Y, count = state.S, state.Y, state.pairs
        if float(s @ y) > 1e-10 * float(y @ y):
            j = count % self.memory
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
            S, Y, count, new_g, new_value, evaluations, measure, int(status), state.gram
        )
