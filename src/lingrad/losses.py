"""Loss functions on raw scores: each returns the mean loss and its gradient dL/dS.

Every loss is a pure function ``(S, y) -> (loss, dS)``:

* ``S`` are scores of shape ``(N, C)`` (one row per example, one column per class);
* ``loss`` is the empirical risk ``L = (1/N) sum_i L_i`` as a Python float, summed in float64;
* ``dS`` has S's shape and dtype, ``dS[i] = dL/dS[i] = (1/N) dL_i/dS[i]``: the mean is already
  in it, so the chain rule through the linear model is just ``dW = [X, 1]^T dS``.

With ``sample_weight=w`` the mean becomes the weighted mean ``sum_i w_i L_i / sum_i w_i``.

Each loss is two parts: a private kernel that computes the per-example losses ``L_i`` and their
gradients with no checks (the trainer's hot path calls it), and the public function that
validates its input once and takes the mean. The slow loop-by-loop versions written as the
slides write them live in :mod:`lingrad.reference`.

Kinks: the hinge losses are not differentiable where a margin is exactly 0; there the
subgradient 0 is used (the term is counted as inactive).

Array libraries: scores and targets from PyTorch, CuPy or any array-API library give ``dS`` on
that library and device (``loss`` is still a Python float); NumPy runs its own kernels, as fast
as before. Mixing libraries (PyTorch scores, NumPy labels) is refused naming both; lists follow
the scores.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from lingrad._array_api import Array, Picks, as_float, device, namespace, numpy_dtype, to_numpy
from lingrad._validation import as_float_array, check_labels, check_positive, fail
from lingrad.model import sigmoid

# ------------------------------------------------------------------------------------------
# Kernels: (S, T, **params) -> (L_i of shape (N,) in float64, dL_i/dS of S's shape and dtype)
# ------------------------------------------------------------------------------------------

#: A loss's kernel: ``(S, T, **params) -> (L_i (N,) in float64, dL_i/dS like S)``, no checks.
Kernel = Callable[..., tuple[npt.NDArray[np.float64], npt.NDArray[np.floating]]]
#: A public loss: ``(S, y, ..., sample_weight=None) -> (mean loss, dL/dS like S)``.
LossFunction = Callable[..., tuple[float, npt.NDArray[np.floating]]]
#: How one kind of target is validated and shaped: ``(y, N, C, dtype) -> T``.
Prepare = Callable[[npt.ArrayLike, int, int, np.dtype[Any]], npt.NDArray[Any]]


def _margins(S, y, margin):
    """``max(0, S[i, j] - S[i, y_i] + margin)`` for ``j != y_i``, 0 at ``j = y_i``; and the rows."""
    rows = np.arange(S.shape[0])
    M = S - S[rows, y][:, None]
    M += margin
    M[rows, y] = 0.0
    np.maximum(M, 0.0, out=M)
    return rows, M


def _hinge_kernel(S, y, margin=1.0):
    if not isinstance(S, np.ndarray):
        return _hinge_xp(S, y, margin)
    rows, M = _margins(S, y, margin)
    losses = M.sum(axis=1, dtype=np.float64)
    dS = (M > 0).astype(S.dtype)
    dS[rows, y] = -dS.sum(axis=1)
    return losses, dS


def _squared_hinge_kernel(S, y, margin=1.0):
    if not isinstance(S, np.ndarray):
        return _squared_hinge_xp(S, y, margin)
    rows, M = _margins(S, y, margin)
    losses = (M * M).sum(axis=1, dtype=np.float64)
    M *= 2.0
    M[rows, y] = -M.sum(axis=1)
    return losses, M


def _crammer_singer_kernel(S, y, margin=1.0):
    if not isinstance(S, np.ndarray):
        return _crammer_singer_xp(S, y, margin)
    rows = np.arange(S.shape[0])
    correct = S[rows, y]
    others = S.copy()
    others[rows, y] = -np.inf
    worst = np.argmax(others, axis=1)
    m = others[rows, worst] - correct + margin
    active = m > 0
    losses = np.where(active, m, 0.0).astype(np.float64)
    dS = np.zeros_like(S)
    dS[rows[active], worst[active]] = 1.0
    dS[rows[active], y[active]] = -1.0
    return losses, dS


def _one_vs_all_hinge_kernel(S, y, margin=1.0):
    if not isinstance(S, np.ndarray):
        return _one_vs_all_hinge_xp(S, y, margin)
    rows = np.arange(S.shape[0])
    T = np.full_like(S, -1.0)
    T[rows, y] = 1.0
    M = margin - T * S
    active = M > 0
    losses = np.where(active, M, 0.0).sum(axis=1, dtype=np.float64)
    dS = np.where(active, -T, 0.0).astype(S.dtype, copy=False)
    return losses, dS


def _log_softmax(S):
    Z = S - S.max(axis=1, keepdims=True)
    Z -= np.log(np.exp(Z).sum(axis=1, keepdims=True))
    return Z


def _softmax_cross_entropy_kernel(S, y, label_smoothing=0.0):
    if not isinstance(S, np.ndarray):
        return _softmax_cross_entropy_xp(S, y, label_smoothing)
    N, C = S.shape
    if C == 2 and not label_smoothing:
        return _two_class_softmax(S, y)
    # Classes as rows: Z = S^T - max (C, N). NumPy reduces a row of C numbers slowly (a short
    # inner loop per example: ~1/4 of the kernel at C = 10); over the rows of S^T each
    # reduction is C - 1 elementwise operations on contiguous rows. dS comes back as the
    # transposed view of the (C, N) result: same values, column-major, which BLAS's X^T dS
    # and dS.sum(axis=0) read faster too. With lse = log sum_j exp(Z_j): -log p_y = lse - Z_y,
    # and the smoothed term -(1/C) sum_j log p_j = lse - mean(Z). No N x C target matrix.
    Z = S.T.copy()
    Z -= Z.max(axis=0)
    E = np.exp(Z)
    total = E.sum(axis=0)
    lse = np.log(total, dtype=np.float64)
    at = np.multiply(y, N, dtype=np.intp)  # flat index of (y_i, i) in the (C, N) arrays
    at += np.arange(N)
    losses = lse - Z.ravel().take(at)
    if label_smoothing:
        losses *= 1.0 - label_smoothing
        losses += label_smoothing * (lse - Z.mean(axis=0, dtype=np.float64))
    E /= total
    E.ravel()[at] -= 1.0 - label_smoothing
    if label_smoothing:
        E -= label_smoothing / C
    return losses, E.T


def _two_class_softmax(S, y):
    """The softmax cross-entropy on two columns from one margin per example, one ``exp``:
    with ``z = S_other - S_y``, ``L = log(1 + e^z) = max(z, 0) + log1p(e^-|z|)``,
    ``dL/dS_other = sigmoid(z) = -dL/dS_y``. dS is the transposed view of a ``(2, N)`` array."""
    first = y == 0
    z = S[:, 0] - S[:, 1]
    np.negative(z, out=z, where=first)  # S_1 - S_0 where y = 0
    losses, p = _softplus_sigmoid(z)
    dS = np.empty((2, S.shape[0]), dtype=S.dtype)
    np.negative(p, out=dS[1])  # dL/dS_1 = -sigmoid(z) where y = 1
    np.copyto(dS[1], p, where=first)
    np.negative(dS[1], out=dS[0])
    return losses, dS.T


def _kl_divergence_kernel(S, P):
    if not isinstance(S, np.ndarray):
        return _kl_divergence_xp(S, P)
    log_p = _log_softmax(S)
    safe_P = np.where(P > 0, P, 1.0)
    losses = (P * (np.log(safe_P) - log_p)).sum(axis=1, dtype=np.float64)
    dS = np.exp(log_p)
    dS -= P
    return losses, dS


def _softplus_sigmoid(z):
    """``(log(1 + e^z)`` in float64, ``sigmoid(z)`` in z's dtype``)`` elementwise from one
    ``exp``: with ``e = e^-|z|`` in ``(0, 1]`` (no overflow), ``log(1 + e^z) = max(z, 0) +
    log1p(e)`` and ``sigmoid(z) = 1 / (1 + e)`` for ``z >= 0``, ``e / (1 + e)`` below."""
    e = np.abs(z)
    np.negative(e, out=e)
    np.exp(e, out=e)
    soft = np.log1p(e, dtype=np.float64)
    soft += np.maximum(z, 0.0)
    p = e + 1.0
    np.divide(1.0, p, out=p)
    np.multiply(e, p, out=p, where=z < 0)
    return soft, p


def _logistic_kernel(S, T):
    if not isinstance(S, np.ndarray):
        return _logistic_xp(S, T)
    # log(1 + e^s) - t s and sigmoid(s) - t, one exp per score
    losses, dS = _softplus_sigmoid(S)
    losses -= T * S
    dS -= T
    return (losses[:, 0] if losses.shape[1] == 1 else losses.sum(axis=1)), dS


def _squared_error_kernel(S, Y):
    if not isinstance(S, np.ndarray):
        return _squared_error_xp(S, Y)
    delta = S - Y
    losses = (delta * delta).sum(axis=1, dtype=np.float64)
    delta *= 2.0
    return losses, delta


def _sigmoid_squared_error_kernel(S, T):
    if not isinstance(S, np.ndarray):
        return _sigmoid_squared_error_xp(S, T)
    sig = sigmoid(S)
    delta = T - sig
    losses = (delta * delta).sum(axis=1, dtype=np.float64)
    dS = -2.0 * delta * sig * (1.0 - sig)
    return losses, dS


# ------------------------------------------------------------------------------------------
# The same kernels on any array-API library (PyTorch, CuPy, array-api-strict): the NumPy
# kernels above call these for other arrays. Written against the standard: no integer-array
# assignment (one-hot masks through Picks), no out= arguments, and no in-place updates at all,
# so that autodiff (torch.autograd) can run through them and read-only arrays are fine.
# ------------------------------------------------------------------------------------------


def _margins_xp(S, y, margin):
    xp = namespace(S)
    at = Picks(xp, y, S.shape[1])
    M = S - at.take(S)[:, None] + margin
    return at, xp.maximum(at.put(M, 0.0), 0.0)


def _hinge_xp(S, y, margin=1.0):
    at, M = _margins_xp(S, y, margin)
    xp = at.xp
    losses = xp.sum(M, axis=1, dtype=xp.float64)
    dS = xp.astype(M > 0, S.dtype)
    return losses, at.put(dS, -xp.sum(dS, axis=1))


def _squared_hinge_xp(S, y, margin=1.0):
    at, M = _margins_xp(S, y, margin)
    xp = at.xp
    losses = xp.sum(M * M, axis=1, dtype=xp.float64)
    G = 2.0 * M
    return losses, at.put(G, -xp.sum(G, axis=1))


def _crammer_singer_xp(S, y, margin=1.0):
    xp = namespace(S)
    at = Picks(xp, y, S.shape[1])
    correct = at.take(S)
    others = at.put(S, -xp.inf)
    at_worst = Picks(xp, xp.argmax(others, axis=1), S.shape[1])
    m = at_worst.take(others) - correct + margin
    active = m > 0
    losses = xp.astype(xp.where(active, m, 0.0), xp.float64)
    a = xp.astype(active, S.dtype)
    dS = at_worst.put(xp.zeros_like(S), a)
    return losses, at.put(dS, -a)


def _one_vs_all_hinge_xp(S, y, margin=1.0):
    xp = namespace(S)
    T = Picks(xp, y, S.shape[1]).put(xp.full_like(S, -1.0), 1.0)
    M = margin - T * S
    active = M > 0
    losses = xp.sum(xp.where(active, M, 0.0), axis=1, dtype=xp.float64)
    dS = xp.astype(xp.where(active, -T, 0.0), S.dtype, copy=False)
    return losses, dS


def _log_softmax_xp(S):
    xp = namespace(S)
    Z = S - xp.max(S, axis=1, keepdims=True)
    return Z - xp.log(xp.sum(xp.exp(Z), axis=1, keepdims=True))


def _softmax_cross_entropy_xp(S, y, label_smoothing=0.0):
    xp = namespace(S)
    C = S.shape[1]
    at = Picks(xp, y, C)
    Z = S - xp.max(S, axis=1, keepdims=True)
    E = xp.exp(Z)
    total = xp.sum(E, axis=1, keepdims=True)
    lse = xp.log(xp.astype(total[:, 0], xp.float64))
    losses = lse - at.take(Z)
    dS = at.add(E / total, -(1.0 - label_smoothing))
    if label_smoothing:
        smoothed = lse - xp.mean(xp.astype(Z, xp.float64), axis=1)
        losses = (1.0 - label_smoothing) * losses + label_smoothing * smoothed
        dS = dS - label_smoothing / C
    return losses, dS


def _kl_divergence_xp(S, P):
    xp = namespace(S)
    log_p = _log_softmax_xp(S)
    safe_P = xp.where(P > 0, P, 1.0)
    losses = xp.sum(P * (xp.log(safe_P) - log_p), axis=1, dtype=xp.float64)
    return losses, xp.exp(log_p) - P


def _logistic_xp(S, T):
    xp = namespace(S)
    losses = xp.sum(
        xp.maximum(S, 0.0) - T * S + xp.log1p(xp.exp(-xp.abs(S))), axis=1, dtype=xp.float64
    )
    dS = sigmoid(S) - T
    return losses, dS


def _squared_error_xp(S, Y):
    xp = namespace(S)
    delta = S - Y
    return xp.sum(delta * delta, axis=1, dtype=xp.float64), 2.0 * delta


def _sigmoid_squared_error_xp(S, T):
    xp = namespace(S)
    sig = sigmoid(S)
    delta = T - sig
    losses = xp.sum(delta * delta, axis=1, dtype=xp.float64)
    dS = -2.0 * delta * sig * (1.0 - sig)
    return losses, dS


# ------------------------------------------------------------------------------------------
# Targets: validate y once against the scores' shape and bring it to the kernel's form
# ------------------------------------------------------------------------------------------


def _labels(y, N, C, dtype):
    if C < 2:
        fail("S", "at least 2 columns (one score per class) for a multi-class loss", f"{C}")
    return check_labels(y, N, C)


def _binary_column(y, N, dtype, name="y"):
    T = as_float_array(name, y, ndim=(1, 2), dtype=dtype)
    if T.shape not in ((N,), (N, 1)):
        fail(name, f"targets of shape ({N},)", f"shape {T.shape}")
    if T.min() < 0 or T.max() > 1:
        fail(name, "binary targets in [0, 1]", f"values in [{T.min()}, {T.max()}]")
    return T.reshape(N, 1)


def _binary(y, N, C, dtype):
    if C != 1:
        fail("S", "one column of scores (a binary model, C = 1)", f"{C} columns")
    return _binary_column(y, N, dtype)


def _binary_or_one_hot(y, N, C, dtype):
    if C == 1:
        return _binary_column(y, N, dtype)
    labels = check_labels(y, N, C)
    T = np.zeros((N, C), dtype=dtype)
    T[np.arange(N), labels] = 1.0
    return T


def _real(y, N, C, dtype):
    Y = as_float_array("y", y, ndim=(1, 2), dtype=dtype)
    if Y.ndim == 1 and C == 1:
        Y = Y.reshape(-1, 1)
    if Y.shape != (N, C):
        fail("y", f"targets of shape ({N}, {C}) like the scores", f"shape {Y.shape}")
    return Y


def _distribution(P, N, C, dtype):
    P = as_float_array("P", P, ndim=2, dtype=dtype)
    if P.shape != (N, C):
        fail("P", f"probabilities of shape ({N}, {C}) like the scores", f"shape {P.shape}")
    if P.min() < 0:
        fail("P", "non-negative probabilities", f"minimum {P.min()}")
    sums = P.sum(axis=1)
    if not np.allclose(sums, 1.0, rtol=0, atol=1e-6 if dtype == np.float64 else 1e-4):
        row = int(np.argmax(np.abs(sums - 1.0)))
        fail("P", "rows that sum to 1", f"row {row} sums to {sums[row]}")
    return P


class Target(enum.StrEnum):
    """What a loss's targets ``y`` hold, and so how many score columns its model has.

    * ``LABELS``: integer labels in ``[0, C)``; one score column per class, ``C >= 2``.
    * ``BINARY``: binary targets in ``[0, 1]`` (or soft ones); one score column.
    * ``BINARY_OR_ONE_HOT``: binary targets for one column, else integer labels made one-hot
      (each column its own binary unit).
    * ``REAL``: real targets, one per score column (regression).
    * ``DISTRIBUTION``: rows of probabilities that sum to 1, one per score column.

    Examples:
        >>> Target.LABELS == "labels", Target("binary").name
        (True, 'BINARY')
    """

    LABELS = "labels"
    BINARY = "binary"
    BINARY_OR_ONE_HOT = "binary_or_one_hot"
    REAL = "real"
    DISTRIBUTION = "distribution"


#: How each kind of target is validated and shaped for the kernels: ``(y, N, C, dtype) -> T``.
_PREPARE: dict[Target, Prepare] = {
    Target.LABELS: _labels,
    Target.BINARY: _binary,
    Target.BINARY_OR_ONE_HOT: _binary_or_one_hot,
    Target.REAL: _real,
    Target.DISTRIBUTION: _distribution,
}


# ------------------------------------------------------------------------------------------
# The registry: one entry per loss, declaring every fact about it
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class LossSpec:
    """Every fact about a loss; the rest of lingrad reads these, never a table of its own.

    Attributes:
        name: the function's name in this module (the registry name).
        kernel: ``(S, T, **params) -> (L_i, dL_i/dS)`` with no checks.
        target: what the targets hold (:class:`Target`); it fixes the task, the number of
            score columns and how ``y`` is validated.
        label: the lecture's short name (``"SVM"``, ``"softmax"``), for plots and reports.
        title: a longer name for menus (the playground), e.g. ``"SVM: Weston-Watkins"``.
        formula: one example's loss at the default parameters, in plain text with ``_x`` /
            ``_{..}`` subscripts and ``^x`` / ``^{..}`` superscripts.
        defaults: the loss's parameters and their defaults (``margin``, ``label_smoothing``).
        link: how the scores define probabilities: ``"softmax"``, ``"sigmoid"`` (per
            column), or ``None`` for a loss that defines none (the hinge family).
        smooth: differentiable everywhere; ``False`` for the piecewise-linear losses, whose
            kinks (a margin exactly 0) get the subgradient 0.

    Examples:
        >>> s = spec("svm")
        >>> s.name, s.label, s.task, s.probabilistic, s.binary_only, s.smooth
        ('hinge', 'SVM', 'classification', False, False, False)
        >>> s.defaults, s.n_columns(10), spec("logistic").n_columns(2)
        ({'margin': 1.0}, 10, 1)
        >>> s.prepare([2, 0], 2, 3, np.float64)
        array([2, 0])
    """

    name: str
    kernel: Kernel
    target: Target
    label: str
    title: str
    formula: str
    defaults: dict[str, float] = field(default_factory=dict)
    link: str | None = None
    smooth: bool = True

    @property
    def task(self) -> str:
        """``"regression"`` for real targets, else ``"classification"``."""
        return "regression" if self.target is Target.REAL else "classification"

    @property
    def probabilistic(self) -> bool:
        """Whether the scores define probabilities (softmax or sigmoid)."""
        return self.link is not None

    @property
    def binary_only(self) -> bool:
        """Whether the model must have exactly one score column (``C == 1``)."""
        return self.target is Target.BINARY

    @property
    def from_labels(self) -> bool:
        """Whether the targets can be made from class labels alone (a classifier can fit it)."""
        return self.target in (Target.LABELS, Target.BINARY, Target.BINARY_OR_ONE_HOT)

    @property
    def one_column(self) -> bool:
        """Whether one score column per example is the natural model (binary or real targets);
        1-D scores ``(N,)`` are then accepted for ``(N, 1)``."""
        return self.target in (Target.BINARY, Target.REAL, Target.BINARY_OR_ONE_HOT)

    @property
    def min_columns(self) -> int:
        """The fewest score columns the loss takes: 2 for labels, else 1."""
        return 2 if self.target is Target.LABELS else 1

    def n_columns(self, n_classes: int) -> int:
        """Score columns of a classifier for ``n_classes`` classes (outputs, for regression):
        one for a binary loss and for a binary problem of a per-column sigmoid, else one per
        class."""
        if self.target is Target.BINARY:
            return 1
        if self.target is Target.BINARY_OR_ONE_HOT and n_classes == 2:
            return 1
        return n_classes

    def prepare(
        self, y: npt.ArrayLike, n_samples: int, n_columns: int, dtype: npt.DTypeLike
    ) -> npt.NDArray[Any]:
        """Validate ``y`` for scores of shape ``(n_samples, n_columns)``; return kernel targets.

        The targets come back on ``y``'s array library and device (NumPy for lists); ``dtype``
        is the scores' float dtype, of any library. Targets of another library are checked on
        a host copy (``N`` labels or ``N x C`` targets, once per call) and sent back.
        """
        xp = namespace(y, names=("y",))
        if xp is np:
            return _PREPARE[self.target](y, n_samples, n_columns, numpy_dtype(dtype))
        T = _PREPARE[self.target](to_numpy(y), n_samples, n_columns, numpy_dtype(dtype))
        return xp.asarray(T, device=device(y))


def _check_scores(S: npt.ArrayLike, ndim: int = 2) -> npt.NDArray[np.floating]:
    return as_float("S", S, ndim=ndim)


def check_sample_weight(
    sample_weight: npt.ArrayLike, n_samples: int, dtype: npt.DTypeLike = np.float64
) -> npt.NDArray[np.floating]:
    """Per-example weights: finite, >= 0, shape (n_samples,), not all zero.

    Examples:
        >>> check_sample_weight([1, 2], 2)
        array([1., 2.])
        >>> check_sample_weight([1, 2], 3)
        Traceback (most recent call last):
            ...
        ValueError: sample_weight: expected 3 weights (one per example), got 2
    """
    xp = namespace(sample_weight, names=("sample_weight",))
    if xp is not np:
        w = check_sample_weight(to_numpy(sample_weight), n_samples, numpy_dtype(dtype))
        return xp.asarray(w, device=device(sample_weight))
    w = as_float_array("sample_weight", sample_weight, ndim=1, dtype=dtype)
    if w.shape[0] != n_samples:
        fail("sample_weight", f"{n_samples} weights (one per example)", f"{w.shape[0]}")
    if w.min() < 0 or w.sum() <= 0:
        fail("sample_weight", "non-negative weights with a positive sum", f"sum {w.sum()}")
    return w


def weighted_mean(
    losses: npt.NDArray[np.floating],
    dS: npt.NDArray[np.floating],
    sample_weight: npt.NDArray[np.floating] | None = None,
) -> tuple[float, npt.NDArray[np.floating]]:
    """Reduce per-example losses ``(N,)`` to their (weighted) mean; scale ``dS`` to match (in
    place for NumPy; other libraries get a new array, so that read-only arrays work).

    ``L = sum_i w_i L_i / sum_i w_i`` (``w_i = 1`` by default) and ``dS[i] *= w_i / sum_i w_i``.

    Examples:
        >>> weighted_mean(np.array([1.0, 3.0]), np.ones((2, 1)))
        (2.0, array([[0.5],
               [0.5]]))
        >>> weighted_mean(np.array([1.0, 3.0]), np.ones((2, 1)), np.array([3.0, 1.0]))[0]
        1.5
    """
    if sample_weight is None:
        if isinstance(dS, np.ndarray):
            dS *= 1.0 / losses.shape[0]
        else:
            dS = dS * (1.0 / losses.shape[0])
        mean = losses.mean() if isinstance(losses, np.ndarray) else namespace(losses).mean(losses)
        return float(mean), dS
    if isinstance(dS, np.ndarray):
        scale = sample_weight / sample_weight.sum(dtype=np.float64)
        dS *= scale.astype(dS.dtype, copy=False)[:, None]
    else:
        xp = namespace(dS)
        scale = sample_weight / xp.sum(sample_weight, dtype=xp.float64)
        dS = dS * xp.astype(scale, dS.dtype, copy=False)[:, None]
    return float(losses @ scale), dS


def _evaluate(
    spec: LossSpec,
    S: npt.ArrayLike,
    y: npt.ArrayLike,
    sample_weight: npt.ArrayLike | None,
    **params: float,
) -> tuple[float, npt.NDArray[np.floating]]:
    target = "P" if spec.target is Target.DISTRIBUTION else "y"
    xp = namespace(S, y, sample_weight, names=("S", target, "sample_weight"))
    one_d = spec.one_column and (np.ndim(S) if xp is np else S.ndim) == 1  # type: ignore[union-attr]
    scores: Array = _check_scores(S, ndim=1 if one_d else 2)
    if one_d:
        scores = xp.reshape(scores, (-1, 1))
    N, C = scores.shape
    T = spec.prepare(y, N, C, scores.dtype)
    w: Array = None if sample_weight is None else check_sample_weight(sample_weight, N)
    if xp is not np:  # lists follow the scores onto their library and device
        T = xp.asarray(T, device=device(scores))
        w = None if w is None else xp.asarray(w, device=device(scores))
    loss, dS = weighted_mean(*spec.kernel(scores, T, **params), w)
    return loss, (xp.reshape(dS, (-1,)) if one_d else dS)


def _check_margin(margin: float) -> float:
    return check_positive("margin", margin)


# ------------------------------------------------------------------------------------------
# The public losses
# ------------------------------------------------------------------------------------------


def hinge(
    S: npt.ArrayLike,
    y: npt.ArrayLike,
    margin: float = 1.0,
    *,
    sample_weight: npt.ArrayLike | None = None,
) -> tuple[float, npt.NDArray[np.floating]]:
    """Multi-class SVM (Weston-Watkins) hinge loss, the lecture's form.

    ``L_i = sum_{j != y_i} max(0, S[i, j] - S[i, y_i] + margin)``

    ``dL_i/dS[i, j] = 1[margin term j active]`` for ``j != y_i`` and
    ``dL_i/dS[i, y_i] = -(number of active terms)``.

    Args:
        S: scores, shape ``(N, C)`` with ``C >= 2``.
        y: integer labels in ``[0, C)``, shape ``(N,)``.
        margin: the safety margin (1 on the slides).

    Examples:
        >>> S = np.array([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]])
        >>> round(hinge(S, [0, 1, 2])[0], 2)     # (2.9 + 0 + 12.9) / 3
        5.27
    """
    return _evaluate(_SPECS["hinge"], S, y, sample_weight, margin=_check_margin(margin))


def squared_hinge(
    S: npt.ArrayLike,
    y: npt.ArrayLike,
    margin: float = 1.0,
    *,
    sample_weight: npt.ArrayLike | None = None,
) -> tuple[float, npt.NDArray[np.floating]]:
    """Squared hinge: the Weston-Watkins margins squared (the lecture's "squared hinge?").

    With ``m_ij = max(0, S[i, j] - S[i, y_i] + margin)``: ``L_i = sum_{j != y_i} m_ij^2``,
    ``dL_i/dS[i, j] = 2 m_ij`` for ``j != y_i`` and ``dL_i/dS[i, y_i] = -sum_{j != y_i} 2 m_ij``.
    Violations cost quadratically, and the loss is differentiable everywhere. ``S`` ``(N, C)``
    with ``C >= 2``, ``y`` ``(N,)`` and ``margin`` as for :func:`hinge`.

    Examples:
        >>> S = np.array([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]])
        >>> round(squared_hinge(S, [0, 1, 2])[0], 2)     # (2.9^2 + 0 + 6.3^2 + 6.6^2) / 3
        30.55
        >>> squared_hinge(np.array([[0.0, 0.5]]), [0])[1]        # m = 1.5: 2 m = 3
        array([[-3.,  3.]])
    """
    return _evaluate(_SPECS["squared_hinge"], S, y, sample_weight, margin=_check_margin(margin))


def crammer_singer(
    S: npt.ArrayLike,
    y: npt.ArrayLike,
    margin: float = 1.0,
    *,
    sample_weight: npt.ArrayLike | None = None,
) -> tuple[float, npt.NDArray[np.floating]]:
    """Structured (Crammer-Singer) multi-class SVM: only the worst wrong class counts.

    ``L_i = max(0, max_{j != y_i} S[i, j] - S[i, y_i] + margin)``; the gradient is ``+1`` at the
    worst wrong class and ``-1`` at the true class when the term is active.

    Examples:
        >>> round(crammer_singer(np.array([[3.2, 5.1, -1.7]]), [0])[0], 2)
        2.9
    """
    return _evaluate(_SPECS["crammer_singer"], S, y, sample_weight, margin=_check_margin(margin))


def one_vs_all_hinge(
    S: npt.ArrayLike,
    y: npt.ArrayLike,
    margin: float = 1.0,
    *,
    sample_weight: npt.ArrayLike | None = None,
) -> tuple[float, npt.NDArray[np.floating]]:
    """One-versus-all hinge: ``C`` binary SVMs, class ``j`` against the rest.

    With ``t_ij = +1`` if ``j == y_i`` else ``-1``: ``L_i = sum_j max(0, margin - t_ij S[i, j])``,
    ``dL_i/dS[i, j] = -t_ij`` where the term is active.

    Examples:
        >>> one_vs_all_hinge(np.array([[2.0, -3.0]]), [0])[0]
        0.0
    """
    return _evaluate(_SPECS["one_vs_all_hinge"], S, y, sample_weight, margin=_check_margin(margin))


def softmax_cross_entropy(
    S: npt.ArrayLike,
    y: npt.ArrayLike,
    label_smoothing: float = 0.0,
    *,
    sample_weight: npt.ArrayLike | None = None,
) -> tuple[float, npt.NDArray[np.floating]]:
    """Softmax cross-entropy (multinomial logistic regression).

    ``p = softmax(S[i])``, ``L_i = -log p[y_i]`` (the negative log likelihood). With label
    smoothing ``eps`` the target is ``q = (1 - eps) onehot(y_i) + eps / C`` and
    ``L_i = -sum_j q_j log p_j`` (PyTorch's definition). ``dL_i/dS[i] = p - q``.
    Computed through log-sum-exp: scores of +-1e4 give finite values.

    Examples:
        >>> round(softmax_cross_entropy(np.array([[3.2, 5.1, -1.7]]), [0])[0], 2)  # -ln 0.13
        2.04
    """
    if not 0.0 <= label_smoothing <= 1.0:
        fail("label_smoothing", "a number in [0, 1]", label_smoothing)
    return _evaluate(
        _SPECS["softmax_cross_entropy"],
        S,
        y,
        sample_weight,
        label_smoothing=float(label_smoothing),
    )


def kl_divergence(
    S: npt.ArrayLike, P: npt.ArrayLike, *, sample_weight: npt.ArrayLike | None = None
) -> tuple[float, npt.NDArray[np.floating]]:
    """KL divergence ``KL(P || softmax(S))`` per row, for soft targets ``P`` (rows sum to 1).

    ``L_i = sum_j P_ij log(P_ij / p_ij) = -H(P_i) + H(P_i, p_i)``; the entropy ``H(P_i)`` does
    not depend on ``W``, so the gradient is the cross-entropy's: ``dL_i/dS[i] = p - P_i``. For a
    one-hot ``P`` it equals the cross-entropy exactly (the lecture's KL view).

    Examples:
        >>> kl_divergence(np.array([[1.0, 1.0]]), np.array([[0.5, 0.5]]))[0]
        0.0
    """
    return _evaluate(_SPECS["kl_divergence"], S, P, sample_weight)


def logistic(
    S: npt.ArrayLike, y: npt.ArrayLike, *, sample_weight: npt.ArrayLike | None = None
) -> tuple[float, npt.NDArray[np.floating]]:
    """Binary logistic loss (binary cross-entropy on the logit), one score column.

    ``L_i = log(1 + exp(s_i)) - y_i s_i = -y_i log sigma(s_i) - (1 - y_i) log(1 - sigma(s_i))``,
    ``dL_i/ds_i = sigma(s_i) - y_i``; ``y`` in ``{0, 1}`` (or soft targets in ``[0, 1]``).
    ``S`` is ``(N, 1)`` or ``(N,)``; ``dS`` has the same shape.

    Examples:
        >>> round(logistic(np.array([0.0]), [1])[0], 4)      # ln 2
        0.6931
    """
    return _evaluate(_SPECS["logistic"], S, y, sample_weight)


def squared_error(
    S: npt.ArrayLike, Y: npt.ArrayLike, *, sample_weight: npt.ArrayLike | None = None
) -> tuple[float, npt.NDArray[np.floating]]:
    """Squared error for regression, the lecture's ``(y - w^T x)^2``.

    ``L_i = sum_j (S[i, j] - Y[i, j])^2``, ``dL_i/dS[i] = 2 (S[i] - Y[i]) = -2 delta_i``.
    ``S`` and ``Y`` are ``(N, C)``, or ``(N,)`` for one output.

    Examples:
        >>> squared_error(np.array([1.0, 2.0]), np.array([0.0, 0.0]))
        (2.5, array([1., 2.]))
    """
    return _evaluate(_SPECS["squared_error"], S, Y, sample_weight)


def sigmoid_squared_error(
    S: npt.ArrayLike, y: npt.ArrayLike, *, sample_weight: npt.ArrayLike | None = None
) -> tuple[float, npt.NDArray[np.floating]]:
    """The lecture's sigmoid unit with a squared loss: ``L_i = (y_i - sigma(s_i))^2``.

    ``dL_i/ds_i = -2 delta_i sigma_i (1 - sigma_i)`` with ``delta_i = y_i - sigma_i``. With one
    score column (``C == 1``) ``y`` holds binary targets in ``[0, 1]``; with ``C >= 2`` columns,
    ``y`` holds integer labels and each column is a one-vs-all sigmoid unit with one-hot targets.

    Examples:
        >>> sigmoid_squared_error(np.array([0.0]), [1])[0]
        0.25
    """
    return _evaluate(_SPECS["sigmoid_squared_error"], S, y, sample_weight)


_MARGIN = {"margin": 1.0}
_WW_HINGE = "L_i = Σ_{j≠y_i} max(0, s_j − s_{y_i} + 1)"
_LABELS, _SOFT = Target.LABELS, {"label_smoothing": 0.0}

# fmt: off
_SPECS: dict[str, LossSpec] = {spec.name: spec for spec in [
    # name, kernel, target, label, title, formula, defaults, link, smooth
    LossSpec("hinge", _hinge_kernel, _LABELS, "SVM", "SVM: Weston-Watkins", _WW_HINGE,
             _MARGIN, smooth=False),
    LossSpec("crammer_singer", _crammer_singer_kernel, _LABELS, "Crammer-Singer",
             "SVM: structured (C-S)", "L_i = max(0, max_{j≠y_i} s_j − s_{y_i} + 1)",
             _MARGIN, smooth=False),
    LossSpec("one_vs_all_hinge", _one_vs_all_hinge_kernel, _LABELS, "one-vs-all hinge",
             "SVM: one-vs-all", "L_i = Σ_j max(0, 1 − t_{ij} s_j), t_{ij} = ±1",
             _MARGIN, smooth=False),
    LossSpec("squared_hinge", _squared_hinge_kernel, _LABELS, "squared hinge",
             "SVM: squared hinge", _WW_HINGE + "^2", _MARGIN),
    LossSpec("softmax_cross_entropy", _softmax_cross_entropy_kernel, _LABELS, "softmax",
             "Softmax: cross-entropy", "L_i = −log(e^{s_{y_i}} / Σ_j e^{s_j})", _SOFT,
             link="softmax"),
    LossSpec("kl_divergence", _kl_divergence_kernel, Target.DISTRIBUTION, "KL divergence",
             "Softmax: KL divergence to soft targets",
             "L_i = Σ_j P_{ij} log(P_{ij} / p_j), p = softmax(s)", link="softmax"),
    LossSpec("logistic", _logistic_kernel, Target.BINARY, "logistic",
             "Logistic: binary cross-entropy", "L_i = log(1 + e^{s_i}) − y_i s_i",
             link="sigmoid"),
    LossSpec("squared_error", _squared_error_kernel, Target.REAL, "squared error",
             "Regression: squared error", "L_i = Σ_j (y_{ij} − s_{ij})^2"),
    LossSpec("sigmoid_squared_error", _sigmoid_squared_error_kernel, Target.BINARY_OR_ONE_HOT,
             "sigmoid + squared", "Sigmoid unit: squared error",
             "L_i = Σ_j (t_{ij} − σ(s_{ij}))^2", link="sigmoid"),
]}
# fmt: on

_FUNCTIONS: dict[str, LossFunction] = {name: globals()[name] for name in _SPECS}

#: Short names accepted wherever a loss is named (CLI, estimators).
ALIASES: dict[str, str] = {
    "softmax": "softmax_cross_entropy",
    "cross_entropy": "softmax_cross_entropy",
    "svm": "hinge",
    "weston_watkins": "hinge",
    "multiclass_hinge": "hinge",
    "structured_svm": "crammer_singer",
    "ova_hinge": "one_vs_all_hinge",
    "kl": "kl_divergence",
    "mse": "squared_error",
}

NAMES: tuple[str, ...] = tuple(_SPECS)


def canonical_name(name: str) -> str:
    """The registry name for ``name`` (a function name or one of :data:`ALIASES`).

    Examples:
        >>> canonical_name("svm"), canonical_name("hinge")
        ('hinge', 'hinge')
    """
    if not isinstance(name, str):
        fail("loss", "a loss name (str)", type(name).__name__, TypeError)
    key = ALIASES.get(name, name)
    if key not in _SPECS:
        fail("loss", f"one of {sorted(set(_SPECS) | set(ALIASES))}", repr(name))
    return key


def spec(name: str) -> LossSpec:
    """The :class:`LossSpec` of a loss given by name or alias.

    Examples:
        >>> spec("softmax").name, spec("logistic").binary_only
        ('softmax_cross_entropy', True)
    """
    return _SPECS[canonical_name(name)]


def get(name: str) -> LossFunction:
    """The loss function for a name or alias, e.g. ``get("softmax") is softmax_cross_entropy``.

    Examples:
        >>> get("svm").__name__
        'hinge'
    """
    return _FUNCTIONS[canonical_name(name)]
