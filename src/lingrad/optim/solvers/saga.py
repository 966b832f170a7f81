"""SAGA: the incremental gradient method with a table of past gradients (Defazio, Bach and
Lacoste-Julien 2014), exact on a smooth loss with an L2 (or no) penalty, lazy on sparse rows.

The problem is the objective's, ``c_i = w_i / sum_j w_j`` (``1 / N`` without weights),
``W = [V; b]`` (``V`` ``(D, C)``, ``b`` ``(C,)``), ``s_i = V^T x_i + b``:

    J(W) = sum_i c_i L(s_i, y_i) + (lam / 2) ||V||^2          (+ ||b||^2 when penalised)
         = (1/N) sum_i f_i(W) + (lam / 2) ||V||^2,    f_i = N c_i L(s_i, y_i).

The gradient of ``f_i`` is ``[x_i; 1] d_i^T`` with ``d_i = N c_i dL/ds (s_i)`` ``(C,)``: the
table holds one score gradient ``r_i = dL/ds`` ``(C,)`` per example (``N C`` numbers, not
``N D C``) and their weighted sums ``G = sum_i c_i x_i r_i^T`` ``(D, C)``, ``g_b = sum_i c_i r_i``.
One step on example ``j`` (``r`` its new score gradient, ``delta = N c_j (r - r_j)``):

    V <- (V - gamma (G + x_j delta^T)) / (1 + gamma lam)       (the L2 penalty's prox)
    b <- b - gamma (delta + decay g_b)                         (unpenalised: no shrinking)
    G <- G + x_j delta^T / N,   g_b <- g_b + delta / N,   r_j <- r

(the bias, when the penalty includes it, shrinks as ``V`` does). At a fixed point ``delta = 0``
and ``G + lam V = 0``, ``g_b = 0``: the gradient of ``J``.

The step. ``L = max_i N c_i k (||x_i||^2 + 1) + lam`` is the largest smoothness constant of the
``f_i`` (scikit-learn's bound, the ``+ 1`` for the bias, ``+ lam`` as it adds it), with ``k``
the loss's curvature bound: 1/4 for the logistic loss (``sigmoid' <= 1/4``) and 1/2 for the
softmax, whose Hessian in the scores ``diag(p) - p p^T`` has its largest eigenvalue at most 1/2
(reached by two classes at ``p = (1/2, 1/2)``, direction ``(1, -1) / sqrt 2``). The safe step
is Defazio et al.'s ``1 / (3 L)``. The first step tried is scikit-learn's
(``get_auto_step_size``): ``gamma = 1 / (2 L' + min(2 N lam, L'))`` with ``L'`` the same bound
at ``k = 1/4`` for both losses (for the softmax about ``L / 2``: the bound 1/2 is rarely met,
rows' scores are not all at two tied classes), so ``2 / (3 L)`` for the softmax where
``2 N lam >= L'``, twice the safe step: on the text-like sets of ``benchmarks/sparse_text.py``
it reaches ``tol = 1e-4`` in 12 passes where ``1 / (3 L)`` takes 20 (``lam = 1 / N``); ``1 / L``
takes 11, ``2 / L`` 16. A step that does not suit the data is never silent: an iteration after
which ``J`` is not finite or rose (by more than ``sqrt(eps) max(1, |J|)``, eps of W's dtype)
is undone (weights and table back to its start) and the solve goes on at the safe step.
``decay`` (scikit-learn's ``intercept_decay``, 0.01 on sparse data there) slows the bias's
average part; 1 by default.

Lazy ("just in time") rows, as in Schmidt et al.'s SAG and scikit-learn's ``sag_fast``: the
weights are ``V = sigma U``, the penalty a scalar ``sigma <- sigma / (1 + gamma lam)`` a step;
a row ``d`` that no example touches between two steps moves by ``U_d -= gamma G_d / sigma_t``
at each step ``t``, with ``G_d`` constant meanwhile, so it is brought up to date only when an
example reads it, from the running sum ``S = sum_t gamma / sigma_t``:
``U_d -= G_d (S - S_d)``. A step on a sparse row costs ``O(nnz C)``, not ``O(D C)``; every row
is brought up to date at the end of each epoch (``O(D C)``) and when ``sigma < 1e-9``.

Each iteration (``update``) is up to ``epochs`` passes over the examples, each in a fresh
shuffled order (NumPy's permutations, seeded by ``random_state`` and the passes so far),
compiled by Numba when it is installed (Python is entered once an iteration), then one full
pass for ``J`` at the new weights. The measure is the larger of two: ``max |dJ/dW|``, the
L-BFGS solver's measure (a certificate, but at ``tol = 1e-4`` loose: on the text-like sets of
``benchmarks/sparse_text.py`` it is met 1e-5 above ``min J``), and scikit-learn's SAGA stop
``change = max |dV| / max |V|`` over the last pass (free, certifies nothing alone, and at
``1e-4`` there 1e-8 above ``min J``); the passes of an iteration end at the first whose
``change`` is within ``tol``. The gradient (``X^T`` times the scores' gradients: the second
half of the full pass) is computed only then, when the certificate can pass: an iteration whose
passes end above ``tol`` reports ``change`` as its measure. The table starts at the first update
from the gradients at the starting weights (one pass, which gives ``J`` there too).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, NamedTuple

import numpy as np
import numpy.typing as npt

from lingrad import _skinny
from lingrad._validation import check_int, check_positive, fail, is_sparse
from lingrad.optim.solvers.base import (
    SolverBase,
    Status,
    max_abs,
    refuse,
    row_sqnorms,
    smooth_problem,
)

_Float = npt.NDArray[np.float64]

#: The kernel's codes of the losses it solves, and their curvature bounds ``k`` (see above).
KINDS = {"softmax_cross_entropy": 0, "logistic": 1}
CURVATURE = {0: 0.5, 1: 0.25}
#: ``sigma`` below this: every row brought up to date and ``sigma`` reset to 1.
_RESCALE = 1e-9


def _score_grad_py(kind, s, label, target, r):
    # r (C,) = dL/ds at the scores s (C,): softmax p - e_y, or sigmoid(s) - t (one column).
    C = s.shape[0]
    if kind == 1:
        z = s[0]
        if z >= 0.0:
            r[0] = 1.0 / (1.0 + math.exp(-z)) - target
        else:
            e = math.exp(z)
            r[0] = e / (1.0 + e) - target
        return
    top = s[0]
    for c in range(1, C):
        top = max(top, s[c])
    total = 0.0
    for c in range(C):
        r[c] = math.exp(s[c] - top)
        total += r[c]
    for c in range(C):
        r[c] /= total
    r[label] -= 1.0


def _catch_up_all_py(U, G, last, S):
    # Every row brought up to date to the running sum S (then the rows' sums all at S).
    D, C = U.shape
    for d in range(D):
        lag = S - last[d]
        if lag != 0.0:
            for c in range(C):
                U[d, c] -= G[d, c] * lag
        last[d] = S


def _step_py(kind, cols, vals, label, target, cw_i, R_i, U, G, last, b, gb, h, s, r, delta):
    # One SAGA step on an example (its columns cols, values vals), lazily. h holds, in order,
    # sigma, S, gamma, a = 1 / (1 + gamma lam), the bias's factor (a or 1), decay, fit_bias, N.
    C = U.shape[1]
    sigma, S, gamma, N = h[0], h[1], h[2], h[7]
    for c in range(C):
        s[c] = 0.0
    for k in range(cols.shape[0]):  # bring the example's rows up to date, read its scores
        d, v = cols[k], vals[k]
        lag = S - last[d]
        if lag != 0.0:
            for c in range(C):
                U[d, c] -= G[d, c] * lag
        for c in range(C):
            s[c] += v * U[d, c]
    for c in range(C):
        s[c] = sigma * s[c] + b[c]
    _score_grad(kind, s, label, target, r)
    for c in range(C):
        delta[c] = cw_i * (r[c] - R_i[c])
        R_i[c] = r[c]
    move = gamma / sigma
    for k in range(cols.shape[0]):
        d, v = cols[k], vals[k]
        for c in range(C):
            U[d, c] -= move * (G[d, c] + v * delta[c])
            G[d, c] += v * delta[c] / N
        last[d] = S + move
    if h[6] != 0.0:
        for c in range(C):
            b[c] = h[4] * (b[c] - gamma * (delta[c] + h[5] * gb[c]))
            gb[c] += delta[c] / N
    h[1] = S + move
    h[0] = sigma * h[3]


def _epochs_py(
    kind, indptr, indices, data, Xd, labels, targets, cw, R, U, G, b, gb, h, orders, change, tol
):
    # The passes of orders (n_epochs, N) in place on R (N, C), U (D, C) (the weights V on entry
    # and exit), G, b, gb; CSR X when indptr has N + 1 entries, else the dense rows Xd (N, D).
    # change[e] = max |dV| / max |V| over pass e (scikit-learn's measure); the passes stop after
    # the first with change <= tol. Returns the passes made. h as in _step_py.
    D, C = U.shape
    sparse = indptr.shape[0] > 1
    every = np.arange(D).astype(indices.dtype)
    last = np.zeros(D)
    s, r, delta = np.empty(C), np.empty(C), np.empty(C)
    for e in range(orders.shape[0]):
        before = U.copy()
        h[0], h[1] = 1.0, 0.0
        last[:] = 0.0
        for i in orders[e]:
            if sparse:
                cols, vals = indices[indptr[i] : indptr[i + 1]], data[indptr[i] : indptr[i + 1]]
            else:
                cols, vals = every, Xd[i]
            _step(kind, cols, vals, labels[i], targets[i], cw[i], R[i], U, G, last, b, gb, h, s,
                  r, delta)  # fmt: skip
            if h[0] < _RESCALE:
                _catch_up_all(U, G, last, h[1])
                U *= h[0]
                h[0], h[1] = 1.0, 0.0
                last[:] = 0.0
        _catch_up_all(U, G, last, h[1])
        U *= h[0]
        top = 0.0
        moved = 0.0
        for d in range(D):
            for c in range(C):
                top = max(top, abs(U[d, c]))
                moved = max(moved, abs(U[d, c] - before[d, c]))
        change[e] = moved / top if top > 0.0 else (0.0 if moved == 0.0 else np.inf)
        if change[e] <= tol:
            return e + 1
    return orders.shape[0]


#: The functions the compiled passes call (the compiled ones once :func:`_compiled` ran).
_score_grad: Any = _score_grad_py
_catch_up_all: Any = _catch_up_all_py
_step: Any = _step_py
_epochs_nb: Any = None


def _compiled() -> Any:
    """Compile the passes with Numba (cached on disk after the first time)."""
    global _score_grad, _catch_up_all, _step, _epochs_nb
    if _epochs_nb is None:
        import numba

        jit = numba.njit(cache=True, nogil=True)
        _score_grad, _catch_up_all = jit(_score_grad_py), jit(_catch_up_all_py)
        _step = jit(_step_py)
        _epochs_nb = jit(_epochs_py)
    return _epochs_nb


def score_gradients(kind: int, S: _Float, labels: Any, targets: _Float) -> _Float:
    """The table's rows ``r_i = dL/ds`` ``(N, C)`` at the scores ``S`` ``(N, C)``: the softmax
    ``p_i - e_{y_i}`` (``kind`` 0, ``labels`` ``(N,)``) or ``sigmoid(s_i) - t_i`` (``kind`` 1,
    ``targets`` ``(N,)``), float64.

    Examples:
        >>> score_gradients(0, np.zeros((1, 2)), np.array([1]), np.zeros(1)).tolist()
        [[0.5, -0.5]]
        >>> score_gradients(1, np.zeros((1, 1)), np.zeros(1, int), np.array([1.0])).tolist()
        [[-0.5]]
    """
    S = np.asarray(S, dtype=np.float64)
    if kind == 1:
        return np.asarray(0.5 * (1.0 + np.tanh(0.5 * S)) - targets[:, None], dtype=np.float64)
    P = np.exp(S - S.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    P[np.arange(len(S)), labels] -= 1.0
    return P


def passes(
    kind: int,
    X: Any,
    labels: npt.NDArray[np.intp],
    targets: _Float,
    cw: _Float,
    R: _Float,
    W: _Float,
    G: _Float,
    gb: _Float,
    orders: npt.NDArray[np.intp],
    *,
    lam: float,
    gamma: float,
    decay: float = 1.0,
    fit_bias: bool = True,
    penalise_bias: bool = False,
    tol: float = 0.0,
    compiled: bool | None = None,
) -> _Float:
    """The SAGA passes over the examples in ``orders`` ``(n_epochs, N)`` (see the module
    docstring), in place on the table ``R`` ``(N, C)``, ``G`` ``(D, C)``, ``gb`` ``(C,)`` and the
    weights ``W`` ``(D + 1, C)`` (all float64, C-contiguous); ``X`` ``(N, D)`` dense or
    canonical CSR, ``cw`` ``(N,)`` the examples' ``N c_i``, the step ``gamma``. Returns
    scikit-learn's measure ``max |dV| / max |V|`` of each pass made ``(n,)``: they stop after
    the first pass where it is at most ``tol``. ``compiled``:
    Numba's loops (default: when Numba is installed) or the same source run as Python.

    Examples:
        >>> X, y = np.array([[1.0], [-1.0]]), np.array([0, 1])
        >>> W, R, G, gb = np.zeros((2, 2)), np.zeros((2, 2)), np.zeros((1, 2)), np.zeros(2)
        >>> _ = passes(0, X, y, np.zeros(2), np.ones(2), R, W, G, gb, np.array([[0, 1]]),
        ...            lam=0.1, gamma=0.5, compiled=False)
        >>> bool(W[0, 0] > 0 > W[0, 1]), R.shape
        (True, (2, 2))
    """
    N = X.shape[0]
    if is_sparse(X):
        indptr, indices, data, Xd = X.indptr, X.indices, X.data, np.zeros((0, 0), X.dtype)
    else:
        Xd = np.ascontiguousarray(X)
        indptr, indices, data = np.zeros(1, np.int32), np.zeros(0, np.int32), np.zeros(0, Xd.dtype)
    a = 1.0 / (1.0 + gamma * lam)
    h = np.array([1.0, 0.0, gamma, a, a if penalise_bias else 1.0, decay, float(fit_bias), N])
    U, b = W[:-1], W[-1]
    change = np.zeros(len(orders))
    use = _skinny.AVAILABLE if compiled is None else compiled
    run = _compiled() if use else _epochs_py
    n = run(kind, indptr, indices, data, Xd, labels, targets, cw, R, U, G, b, gb, h, orders, change,
            tol)  # fmt: skip
    return change[:n]


def smoothness(X: Any, kind: int, bias: bool = True, cw: _Float | None = None) -> float:
    """``max_i N c_i k (||x_i||^2 + 1)``: the largest smoothness constant of one example's
    loss ``f_i`` (without the penalty) for ``X`` ``(N, D)`` dense or CSR, ``k``
    :data:`CURVATURE` of the loss ``kind``, the ``+ 1`` with a fitted ``bias``, ``cw`` ``(N,)``
    the ``N c_i`` (default: ones).

    Examples:
        >>> smoothness(np.array([[3.0, 4.0], [1.0, 0.0]]), 1)       # 0.25 (25 + 1)
        6.5
    """
    sq = row_sqnorms(X) + float(bias)
    top = float(np.max(sq if cw is None else cw * sq)) if len(sq) else 0.0
    return CURVATURE[kind] * top


def shuffled(n_rows: int, n_epochs: int, seed: int | list[int]) -> npt.NDArray[np.intp]:
    """``n_epochs`` permutations of ``range(n_rows)`` ``(n_epochs, n_rows)``, one a pass, drawn
    from ``seed`` (NumPy's seed: the solver's ``[random_state, passes so far]``).

    Examples:
        >>> sorted(shuffled(4, 2, 0)[1].tolist())
        [0, 1, 2, 3]
    """
    rng = np.random.default_rng(seed)
    return np.stack([rng.permutation(n_rows) for _ in range(n_epochs)]).astype(np.intp)


def _strength(objective: Any) -> float:
    """The L2 penalty's ``lam`` (0 without a penalty)."""
    return float(objective.lam) if objective.regularizer.name != "none" else 0.0


class SAGAState(NamedTuple):
    """``R``: the table's score gradients ``(N, C)`` (``(0, C)`` before the first update),
    ``G``: their weighted sum ``sum_i c_i x_i r_i^T`` ``(D, C)``, ``gb``: ``sum_i c_i r_i``
    ``(C,)``, ``weights``: the float64 weights the last update returned (rounded to W's dtype
    by the trainer: kept so that float32 weights continue without rounding), all float64;
    ``epochs``: passes so far (they seed the orders); ``iterations``: updates so far;
    ``change``: scikit-learn's ``max |dV| / max |V|`` of the last pass; ``value``: ``J`` at the
    weights; ``evaluations``: passes over the data; ``measure``: the larger of
    ``max |dJ/dW|`` there and ``change`` (``change`` alone when the passes ended above ``tol``:
    no gradient then); ``status``: a :class:`~lingrad.optim.solvers.base.Status`; ``gamma``: the
    step in use (0 before the first update; the safe ``1 / (3 L)`` once a step was undone);
    ``safe``: the safe step (0 before the first update).

    Examples:
        >>> s = SAGA().init(np.zeros((3, 2)))
        >>> s.R.shape, s.G.shape, s.epochs
        ((0, 2), (2, 2), 0)
    """

    R: _Float
    G: _Float
    gb: _Float
    weights: _Float
    epochs: int
    iterations: int
    change: float
    value: float
    evaluations: int
    measure: float
    status: int
    gamma: float = 0.0
    safe: float = 0.0


class SAGA(SolverBase):
    """SAGA for the softmax and logistic losses with an L2 (or no) penalty, on dense or CSR
    data (see the module docstring): each iteration is ``epochs`` compiled passes over the
    examples, then ``J`` and its gradient at the new weights.

    Args:
        tol: stop when ``max |dJ/dW| <= tol`` (the L-BFGS solver's measure) and scikit-learn's
            ``max |dV| / max |V|`` over the last pass is too.
        epochs: passes over the examples an iteration, at most (between two full gradients).
        decay: the bias's average-gradient factor (scikit-learn's ``intercept_decay``).
        random_state: seeds the passes' orders (with the number of passes so far).
        step: the first step size tried (default: scikit-learn's rule, :meth:`step_size`);
            after an iteration where ``J`` rose or turned non-finite, the safe ``1 / (3 L)``.

    Examples:
        >>> from lingrad.objective import Objective
        >>> X = np.array([[0.0], [1.0], [3.0], [4.0]])
        >>> J = Objective("softmax", X, [0, 1, 0, 1], lam=0.5)
        >>> solver, W = SAGA(tol=1e-10), J.check_weights(np.zeros((2, 2)))
        >>> state = solver.init(W)
        >>> for _ in range(200):
        ...     step, state = solver.update(None, state, W, objective=J)
        ...     W = W + step
        ...     if state.status != 0:
        ...         break
        >>> state.status, state.measure <= 1e-10
        (1, True)
    """

    reads: ClassVar[str] = "objective"

    def __init__(
        self,
        tol: float = 1e-4,
        epochs: int = 5,
        decay: float = 1.0,
        random_state: int = 0,
        step: float | None = None,
    ):
        self.tol = check_positive("tol", tol, allow_zero=True)
        self.epochs = check_int("epochs", epochs)
        self.decay = check_positive("decay", decay)
        self.random_state = check_int("random_state", random_state, minimum=0)
        self.step = None if step is None else check_positive("step", step)

    def __repr__(self) -> str:
        return f"SAGA(tol={self.tol:g}, epochs={self.epochs})"

    def check_objective(self, objective: Any) -> None:
        """Refuse what it cannot solve, naming it: a loss other than the softmax (without label
        smoothing) and the logistic loss, an L1 part, data not in NumPy or SciPy memory."""
        smooth_problem("saga", objective)
        name = objective.loss_spec.name
        if name not in KINDS or objective.loss_params.get("label_smoothing", 0.0):
            refuse("saga", f"the loss {name!r} {dict(objective.loss_params)}", "'lbfgs'")
        X = getattr(objective, "X", None)
        if not (isinstance(X, np.ndarray) or is_sparse(X)):
            refuse("saga", f"X of type {type(X).__name__}", "'lbfgs'")

    def init(self, W: np.ndarray) -> SAGAState:
        """A fresh state for weights shaped like ``W`` ``(D + 1, C)`` (the table is filled at
        the first update, from the gradients at ``W``)."""
        W64 = np.array(W, dtype=np.float64)
        D, C = W64.shape[0] - 1, W64.shape[1]
        inf = math.inf
        return SAGAState(
            np.zeros((0, C)), np.zeros((D, C)), np.zeros(C), W64, 0, 0, inf, inf, 0, inf,
            int(Status.RUNNING),
        )  # fmt: skip

    def step_size(self, objective: Any, cw: _Float, *, safe: bool = False) -> float:
        """The first step tried, scikit-learn's ``1 / (2 L' + min(2 N lam, L'))`` (``L'``
        :func:`smoothness` at the logistic loss's ``k = 1/4`` plus ``lam``), or with ``safe``
        Defazio et al.'s ``1 / (3 L)`` (``L`` at the loss's own ``k``, plus ``lam``); ``cw``
        ``(N,)`` the ``N c_i`` (see the module docstring).

        Examples:
            >>> from lingrad.objective import Objective
            >>> J = Objective("softmax", np.array([[3.0], [4.0]]), [0, 1], lam=0.0)
            >>> SAGA().step_size(J, np.ones(2), safe=True) == 1 / (3 * 0.5 * 17)
            True
            >>> SAGA().step_size(J, np.ones(2)) == 1 / (2 * 0.25 * 17)          # lam = 0
            True
        """
        kind, lam = KINDS[objective.loss_spec.name], _strength(objective)
        if safe:
            return 1.0 / (3.0 * (smoothness(objective.X, kind, objective.fit_intercept, cw) + lam))
        L = smoothness(objective.X, KINDS["logistic"], objective.fit_intercept, cw) + lam
        return 1.0 / (2.0 * L + min(2.0 * objective.n_samples * lam, L))

    def update(
        self,
        grad: np.ndarray | None,
        state: SAGAState,
        W: np.ndarray,
        *,
        objective: Any = None,
        value_fn: Any = None,
        rng: Any = None,
    ) -> tuple[np.ndarray, SAGAState]:
        """Up to ``epochs`` passes of SAGA from ``W``, then ``J`` at ``W + step`` (and
        ``max |dJ/dW|`` when the last pass's ``change`` is within ``tol``): ``(step, state)``.
        An iteration after which ``J`` rose or is not finite, at a step above the safe one, is
        undone (a zero step, the table as it was) and the step becomes the safe one."""
        if objective is None:
            raise TypeError("SAGA.update needs objective= (it reads the objective)")
        J, C = objective, W.shape[1]
        if W.shape[0] != J.n_features + 1:
            fail("W", f"{J.n_features + 1} rows (D + 1)", W.shape[0])
        kind = KINDS[J.loss_spec.name]
        N = J.n_samples
        w = None if J.sample_weight is None else np.asarray(J.sample_weight, dtype=np.float64)
        cw = np.ones(N) if w is None else w * (N / w.sum())
        T = J.targets(C)
        labels = T.astype(np.intp) if kind == 0 else np.zeros(N, np.intp)
        targets = np.asarray(T, dtype=np.float64).ravel() if kind == 1 else np.zeros(N)
        W64 = state.weights if np.array_equal(state.weights.astype(W.dtype), W) else W
        W64 = np.array(W64, dtype=np.float64)
        evaluations = state.evaluations
        if state.R.shape[0] != N:  # the table from the gradients at W: one pass (and J there)
            S = np.asarray(J.X @ W64[:-1]) + W64[-1]
            value = J.value_at_scores(S.astype(W.dtype, copy=False), W)
            R = score_gradients(kind, S, labels, targets)
            del S
            G = np.asarray(J.X.T @ (R * (cw / N)[:, None]), dtype=np.float64)
            gb = R.T @ (cw / N)
            state = state._replace(R=R, G=np.ascontiguousarray(G), gb=gb, value=value)
            evaluations += 1
        if not state.gamma:  # the steps, once (each reads every row's norm)
            safe = self.step_size(J, cw, safe=True)
            state = state._replace(gamma=self.step or self.step_size(J, cw), safe=safe)
        gamma = state.gamma
        R, G, gb = state.R.copy(), state.G.copy(), state.gb.copy()
        orders = shuffled(N, self.epochs, [self.random_state, state.epochs])
        reg = J.regularizer
        change = passes(kind, J.X, labels, targets, cw, R, W64, G, gb, orders, lam=_strength(J),
                        gamma=gamma, decay=self.decay, fit_bias=J.fit_intercept,
                        penalise_bias=reg.include_bias, tol=self.tol)  # fmt: skip
        W_new = W64.astype(W.dtype)
        certify = bool(change[-1] <= self.tol)  # the gradient only where it can certify
        value, g = J.value_and_grad_unchecked(W_new, need_grad=certify)
        measure = max(max_abs(g), float(change[-1])) if g is not None else float(change[-1])
        evaluations += len(change) + 1
        done = SAGAState(R, G, gb, W64, state.epochs + len(change), state.iterations + 1,
                         float(change[-1]), value, evaluations, measure, int(Status.RUNNING),
                         gamma, state.safe)  # fmt: skip
        if gamma > state.safe and _rose(state.value, value, W.dtype):  # undone: the safe step on
            return np.zeros_like(W), state._replace(
                epochs=done.epochs, iterations=done.iterations, evaluations=evaluations,
                gamma=state.safe)  # fmt: skip
        if not (math.isfinite(value) and math.isfinite(measure)):
            status = Status.NON_FINITE
        else:
            status = Status.CONVERGED if measure <= self.tol else Status.RUNNING
        return W_new - W, done._replace(status=int(status))


def _rose(before: float, after: float, dtype: Any) -> bool:
    """Whether ``J`` went from ``before`` to a non-finite ``after`` or rose by more than
    ``sqrt(eps) max(1, |before|)`` (eps of ``dtype``: rounding and SAGA's noise stay below).

    Examples:
        >>> _rose(1.0, 1.0 + 1e-12, np.float64), _rose(1.0, 1.1, np.float64)
        (False, True)
        >>> _rose(2.0, float("nan"), np.float32)
        True
    """
    slack = math.sqrt(float(np.finfo(dtype).eps)) * max(1.0, abs(before))
    return not math.isfinite(after) or after > before + slack
