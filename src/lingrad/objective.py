"""The empirical risk of a linear model: mean loss over the data plus ``lam * R(W)``.

    J(W) = (1/N) sum_i L(S_i, y_i) + lam * R(W),        S = X @ W[:-1] + W[-1]

and its gradient by the chain rule through the linear model,

    dJ/dW[:-1] = X^T dS,    dJ/dW[-1] = sum_i dS_i,    (+ lam * dR/dW)

where ``dS = dJ/dS`` comes from the loss with the ``1/N`` already in it. Together the two rows
are ``[X, 1]^T dS``, computed without building ``[X, 1]``.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol, TypeAlias, overload, runtime_checkable

import numpy as np
import numpy.typing as npt

from lingrad import _skinny, _sparse_kernels, _xp_objective, curvature, losses, regularizers
from lingrad._validation import (
    DEFER_FINITE_ELEMENTS,
    as_data,
    check_finite,
    check_finite_rows,
    check_int,
    check_labels,
    check_positive,
    check_weights,
    check_X,
    fail,
    is_sparse,
)
from lingrad.model import scores_unchecked

#: A full pass works on row blocks of about this many bytes of X (see ``Objective.block_rows``).
BLOCK_BYTES = 32 * 2**20
MIN_BLOCK_ROWS = 256
#: A full pass over at least this many elements of X uses the compiled skinny products of
#: :mod:`lingrad._skinny` (where Numba is installed and 4 <= C <= 32), in blocks of about
#: ``SKINNY_BLOCK_BYTES`` of X: the block is still in cache when the second product reads it.
#: Measured in benchmarks/RESULTS.md (~0.6 x the time of the two BLAS products at CIFAR size).
SKINNY_MIN_ELEMENTS = 2**22
SKINNY_BLOCK_BYTES = 24 * 2**20

#: The examples one evaluation uses: a slice or an index array of rows; ``None`` for all.
Rows: TypeAlias = slice | npt.NDArray[np.integer] | None
_Float: TypeAlias = npt.NDArray[np.floating]


@runtime_checkable
class ObjectiveProtocol(Protocol):
    """What the trainer, the gradient methods and the plots need of an objective ``J(W)``.

    ``W`` is ``(D + 1, C)``: rows ``0..D-1`` weights, row ``D`` the bias, ``C`` score columns.
    :class:`Objective` (in memory) and :class:`lingrad.distributed.DaskObjective` (chunks on a
    Dask cluster) implement it.

    * ``n_samples`` ``N`` and ``n_features`` ``D``; ``sample_weight`` ``(N,)`` or ``None``;
    * ``targets(C)``: the validated targets for ``C`` score columns (labels ``(N,)``, binary or
      real targets ``(N, C)``, probabilities ``(N, C)``), cached;
    * ``check_weights(W)``: ``W`` validated against ``D`` and cast to the data's dtype;
    * ``value(W)`` and ``value_and_grad(W, rows=None)``: checked, ``(J, dJ/dW)`` with ``dJ/dW``
      shaped like ``W``; ``rows`` (a slice or index array) restricts the mean to a mini-batch;
    * ``value_and_grad_unchecked(W, rows=None, need_grad=True, out=None)``: the same without
      checks, for ``W`` already checked (the hot path); ``dJ/dW`` is ``None`` without
      ``need_grad``;
    * ``evaluate(W)``: ``(J(W), S)`` with the scores ``S`` ``(N, C)`` of one full pass.

    Examples:
        >>> J = Objective("softmax", np.eye(2), [0, 1])
        >>> isinstance(J, ObjectiveProtocol)
        True
    """

    @property
    def n_samples(self) -> int: ...

    @property
    def n_features(self) -> int: ...

    def targets(self, n_columns: int) -> npt.NDArray[Any]: ...

    def check_weights(self, W: npt.ArrayLike) -> _Float: ...

    def value(self, W: npt.ArrayLike) -> float: ...

    def value_and_grad(self, W: npt.ArrayLike, rows: Rows = None) -> tuple[float, _Float]: ...

    def value_and_grad_unchecked(
        self,
        W: _Float,
        rows: Rows = None,
        need_grad: bool = True,
        out: _Float | None = None,
    ) -> tuple[float, _Float | None]: ...

    def evaluate(self, W: _Float) -> tuple[float, _Float]: ...


class Objective:
    """``J(W)`` over a dataset ``(X, y)`` for one loss and one regulariser.

    Args:
        loss: a loss name or alias (see :func:`lingrad.losses.get`), e.g. ``"softmax"``.
        X: data, shape ``(N, D)``; float32 stays float32, integers become float64. A
            ``scipy.sparse`` matrix is held as a canonical CSR ``csr_array`` (see
            :func:`lingrad._validation.check_sparse`) and never densified: the products are
            SciPy's sparse ones and a mini-batch is a CSR row slice or row gather. A dense
            array of another library (PyTorch, CuPy, any array-API library) stays on its
            library and device: y, sample weights and W follow it (:mod:`lingrad._xp_objective`).
        y: targets for the loss (integer labels in ``[0, C)``, binary targets, regression
            targets or, for ``kl_divergence``, rows of probabilities). One per row of ``X``
            (and integer labels ``>= 0`` for a loss on labels), checked here; checked against
            the number of classes ``C = W.shape[1]`` on the first call.
        regularizer: ``"l2"`` (default), ``"l1"``, ``"elastic_net"``, ``"none"`` or a
            :class:`lingrad.regularizers.Regularizer`.
        lam: the regularisation strength ``lam >= 0``.
        sample_weight: optional per-example weights, shape ``(N,)``; the mean becomes the
            weighted mean ``sum_i w_i L_i / sum_i w_i``.
        block_rows: rows per block of a full pass (default: about 32 MiB of X per block); the
            result does not depend on it beyond floating-point summation order.
        fit_intercept: ``False`` fixes the bias row ``W[-1]`` (at 0 when it starts there): its
            gradient row is 0, so the model is the slides' ``f = W x``.
        check_input: ``False`` trusts ``X`` to be a finite float array ``(N, D)`` already (as
            scikit-learn's ``validate_data`` returns it): no second pass over X to check it.
            With ``True`` (default) NaN and inf are refused (``ValueError`` naming ``X``): at
            construction for a sparse X or one of fewer than ``DEFER_FINITE_ELEMENTS``
            elements; for a larger dense X at first use, with no pass of its own where a
            loss comes first: a mini-batch whose loss or gradient is not finite has its rows
            checked (the error names the first bad row) before anything uses the result,
            while a full pass, :meth:`evaluate`, :meth:`hessian` and reading :attr:`X` check
            all of X once first.
        loss_params: extra keyword arguments of the loss (``margin``, ``label_smoothing``).

    Examples:
        >>> import numpy as np
        >>> X = np.array([[1.0, 2.0], [3.0, 4.0]])
        >>> J = Objective("softmax", X, [0, 1], lam=0.0)
        >>> value, dW = J.value_and_grad(np.zeros((3, 2)))     # equal scores: loss ln 2
        >>> round(value, 6), dW.shape
        (0.693147, (3, 2))
    """

    def __init__(
        self,
        loss: str,
        X: npt.ArrayLike,
        y: npt.ArrayLike,
        *,
        regularizer: str | regularizers.Regularizer | None = "l2",
        lam: float = 0.0,
        sample_weight: npt.ArrayLike | None = None,
        block_rows: int | None = None,
        fit_intercept: bool = True,
        check_input: bool = True,
        **loss_params: float,
    ) -> None:
        self.loss_spec = losses.spec(loss)
        self._engine = _xp_objective.engine_for(X)
        if self._engine is None:
            self._X = check_X(X, finite=False) if check_input else as_data(X)
        else:  # a dense X of another array library (PyTorch, CuPy...): passes in _xp_objective
            self._X = self._engine.data(X)  # checked finite there
            y = self._engine.host("y", self._X, y)
        #: the array namespace of X: ``numpy`` itself for NumPy and SciPy sparse data
        self.xp: Any = np if self._engine is None else self._engine.xp
        #: whether X is a CSR ``scipy.sparse.csr_array`` (sparse products, no gather buffer)
        self.sparse = is_sparse(self._X)
        #: whether X is known to hold no NaN or inf (see ``check_input``)
        self.finite_checked = not check_input or self.sparse or self._engine is not None
        if not self.finite_checked and self._X.size < DEFER_FINITE_ELEMENTS:
            self.require_finite()
        self.fit_intercept = bool(fit_intercept)
        self.y = y
        self._check_targets()
        self.regularizer = regularizers.get(regularizer)
        self.lam = check_positive("lam", lam, allow_zero=True)
        n = self._X.shape[0]
        self.sample_weight = (
            None if sample_weight is None else losses.check_sample_weight(sample_weight, n)
        )
        # Any: passed on as **kwargs, where a mapping of floats would be checked against
        # block_rows too
        self.loss_params: dict[str, Any] = loss_params
        self.block_rows = None if block_rows is None else check_int("block_rows", block_rows)
        if self._engine is not None:  # targets and weights move to X's library once
            self.y = self._engine.move("y", self.X, self.y)
            if self.sample_weight is not None:
                self.sample_weight = self._engine.move("sample_weight", self.X, self.sample_weight)
        self._targets: dict[int, npt.NDArray[Any]] = {}
        self._compiled = True  # False keeps full passes on BLAS (for benchmarks)

    @property
    def X(self) -> Any:
        """The data ``(N, D)`` (dense or CSR), checked finite on the first read (see
        ``check_input``)."""
        self.require_finite()
        return self._X

    @X.setter
    def X(self, value: Any) -> None:
        self._X = value
        self.finite_checked = is_sparse(value)  # a new dense X is checked at its first read

    @property
    def dtype(self) -> np.dtype[Any]:
        """X's dtype (read without the finite check of :attr:`X`)."""
        return self._X.dtype

    def require_finite(self) -> None:
        """Check X for NaN and inf (one pass, once) unless known finite (``ValueError``)."""
        if not self.finite_checked:
            check_finite("X", self._X)
            self.finite_checked = True

    def _check_targets(self) -> None:
        """What can be checked of ``y`` before ``C`` is known, as scikit-learn does at ``fit``:
        one target per row of ``X``, and integer labels ``>= 0`` where the loss takes labels."""
        n = self._X.shape[0]
        if self.loss_spec.target is losses.Target.LABELS:
            labels = check_labels(self.y, n)
            if labels.size and labels.min() < 0:
                fail("y", "labels >= 0", f"label {int(labels.min())}")
            return
        if isinstance(self.y, str | bytes) or self.y is None:
            fail("y", "an array of targets", type(self.y).__name__, TypeError)
        shape = np.shape(self.y)
        if not shape or shape[0] != n:
            fail("y", f"{n} targets (one per row of X)", f"shape {shape}")

    @property
    def n_samples(self) -> int:
        return self._X.shape[0]

    @property
    def n_features(self) -> int:
        return self._X.shape[1]

    @property
    def nbytes(self) -> int:
        """Bytes held: X (for CSR its data, indices and indptr), y, the cached targets and the
        example weights."""
        X: Any = self._X
        x_bytes = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes if self.sparse else X.nbytes
        targets = sum(t.nbytes for t in self._targets.values())
        weights = 0 if self.sample_weight is None else self.sample_weight.nbytes
        return int(x_bytes + np.asarray(self.y).nbytes + targets + weights)

    def targets(self, n_columns: int) -> npt.NDArray[Any]:
        """The validated targets for a model with ``n_columns`` score columns (cached)."""
        if n_columns not in self._targets:
            self._targets[n_columns] = self.loss_spec.prepare(
                self.y, self.n_samples, n_columns, self._X.dtype
            )
        return self._targets[n_columns]

    def check_weights(self, W: npt.ArrayLike) -> _Float:
        """``W`` checked against ``(D + 1, C)`` (and the targets against ``C``), in X's dtype."""
        if self._engine is not None:
            return self._engine.check_weights(self, W)
        W = check_weights(W, self.n_features)
        self.targets(W.shape[1])
        return W.astype(self._X.dtype, copy=False)

    def value(self, W: npt.ArrayLike) -> float:
        """``J(W)``: mean loss plus ``lam * R(W)`` as a Python float."""
        W = self.check_weights(W)
        return self.value_and_grad_unchecked(W, rows=None, need_grad=False)[0]

    def value_and_grad(self, W: npt.ArrayLike, rows: Rows = None) -> tuple[float, _Float]:
        """``(J(W), dJ/dW)`` with ``dJ/dW`` shaped like ``W`` in X's dtype.

        ``rows`` (a slice or an index array) restricts the mean to a mini-batch of examples.
        """
        W = self.check_weights(W)
        return self.value_and_grad_unchecked(W, rows)

    @overload
    def value_and_grad_unchecked(
        self, W: _Float, rows: Rows = ..., need_grad: Literal[True] = ..., out: _Float | None = ...
    ) -> tuple[float, _Float]: ...

    @overload
    def value_and_grad_unchecked(
        self, W: _Float, rows: Rows = ..., *, need_grad: Literal[False], out: _Float | None = ...
    ) -> tuple[float, None]: ...

    @overload
    def value_and_grad_unchecked(
        self, W: _Float, rows: Rows = ..., need_grad: bool = ..., out: _Float | None = ...
    ) -> tuple[float, _Float | None]: ...

    def value_and_grad_unchecked(
        self, W: _Float, rows: Rows = None, need_grad: bool = True, out: _Float | None = None
    ) -> tuple[float, _Float | None]:
        """``value_and_grad`` without checks (the hot path): ``W`` must have the right shape and
        X's dtype.

        ``out``: an optional C-contiguous buffer of X's dtype with at least ``len(rows)`` rows
        that an index-array ``rows`` of valid non-negative indices is gathered into (no
        allocation per mini-batch); a CSR X ignores it (its rows are gathered by SciPy).
        """
        if self._engine is not None:
            return self._engine.value_and_grad(self, W, rows, need_grad)
        T = self._targets[W.shape[1]]
        w = self.sample_weight
        if rows is None:
            skinny = self.compiled(W.shape[1])
            block = self.rows_per_block(skinny)
            if W.shape[1] == 1 and self.block_rows is None:
                # one column: two matrix-vector products, which BLAS serves well in one call
                # and 3 x slower in blocks (benchmarks/RESULTS.md); the N x 1 arrays are small
                block = self.n_samples
            return self._pass(W, self.X, T, w, need_grad, block, None, skinny)
        wb, skinny = None if w is None else w[rows], self.compiled(W.shape[1])
        in_place = None  # the compiled products read the rows in place: no gathered copy
        if out is not None and skinny and not isinstance(rows, slice):
            X, in_place = self._X, rows
        elif out is None or isinstance(rows, slice) or self.sparse:
            X = self._X[rows]
        else:
            # mode="clip": "raise" would gather into a temporary first (1.5 x slower); the
            # callers (the trainer) pass valid non-negative indices.
            X = np.take(self._X, rows, axis=0, out=out[: len(rows)], mode="clip")
        n = X.shape[0] if in_place is None else len(in_place)
        value, dW = self._pass(W, X, T[rows], wb, need_grad, n, None, skinny, in_place)
        if not self.finite_checked and (dW is None or not np.isfinite(value + np.vdot(dW, dW))):
            check_finite_rows("X", self._X, rows)  # the fused check (see ``check_input``)
        return value, dW

    def evaluate(self, W: _Float) -> tuple[float, _Float]:
        """``(J(W), S)``: the objective and the scores ``S = [X, 1] W`` ``(N, C)`` of one full
        pass (unchecked), so that accuracy needs no second pass over X."""
        if self._engine is not None:
            return self._engine.value_and_grad(self, W, scores=True)  # type: ignore[return-value]
        T = self._targets[W.shape[1]]
        S = np.empty((self.n_samples, W.shape[1]), dtype=W.dtype)
        skinny = self.compiled(W.shape[1])
        block = self.rows_per_block(skinny)
        value = self._pass(W, self.X, T, self.sample_weight, False, block, S, skinny)[0]
        return value, S

    def value_at_scores(self, S: _Float, W: _Float) -> float:
        """``J(W)`` from the scores ``S = [X, 1] W`` ``(N, C)`` already known (unchecked):

            J = sum_i w_i L(S_i, y_i) / sum_i w_i + lam * R(W)

        No pass over X: scores are affine in ``W``, so ``J`` on a plane of weights
        ``W + a d1 + b d2`` needs three passes and then only this (the loss landscape).
        ``S`` is not modified.

        Examples:
            >>> J = Objective("softmax", np.eye(2), [0, 1], lam=0.5)
            >>> W = J.check_weights([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
            >>> J.value_at_scores(J.evaluate(W)[1], W) == J.value(W)
            True
        """
        if self._engine is not None:
            return self._engine.value_at_scores(self, S, W)
        T = self.targets(W.shape[1])
        per_example = self.loss_spec.kernel(S.copy(), T, **self.loss_params)[0]
        w = self.sample_weight
        if w is None:
            loss = float(per_example.sum()) / self.n_samples
        else:
            loss = float(per_example @ (w / w.sum(dtype=np.float64)))
        return loss + self.lam * self.regularizer.value(W) if self.lam else loss

    def compiled(self, n_columns: int) -> bool:
        """Whether passes and mini-batches for ``n_columns`` score columns use the compiled
        products of :mod:`lingrad._skinny`: NumPy X, dense, C-contiguous, of at least
        ``SKINNY_MIN_ELEMENTS``, Numba installed, ``MIN_COLUMNS <= n_columns <= MAX_COLUMNS``.

        Examples:
            >>> Objective("softmax", np.eye(2), [0, 1]).compiled(2)
            False
        """
        return (
            self._engine is None  # NumPy X only (a tensor's ``size`` is a method)
            and not self.sparse
            and _skinny.AVAILABLE
            and self._compiled
            and _skinny.MIN_COLUMNS <= n_columns <= _skinny.MAX_COLUMNS
            and self._X.size >= SKINNY_MIN_ELEMENTS
            and self._X.flags.c_contiguous
        )

    def rows_per_block(self, skinny: bool = False) -> int:
        """Rows per block of a full pass: ~``BLOCK_BYTES`` of X (``SKINNY_BLOCK_BYTES`` for the
        compiled products), so that ``X_blk`` is still in cache when ``X_blk^T dS_blk`` reads
        it right after ``X_blk @ W``; ``block_rows`` when given. A CSR X is one block (a row
        slice of CSR is a copy, and the pass holds only ``N x C`` scores besides X)."""
        if self.block_rows is not None:
            return self.block_rows
        if self.sparse:
            return self.n_samples
        row_bytes = self._X.shape[1] * self._X.itemsize
        if skinny:
            return max(4, SKINNY_BLOCK_BYTES // row_bytes)
        return max(MIN_BLOCK_ROWS, BLOCK_BYTES // row_bytes)

    def _pass(
        self,
        W: _Float,
        X: _Float,
        T: npt.NDArray[Any],
        w: _Float | None,
        need_grad: bool,
        block: int,
        scores_out: _Float | None = None,
        skinny: bool = False,
        rows: npt.NDArray[np.integer] | None = None,
    ) -> tuple[float, _Float | None]:
        """``(J(W), dJ/dW)`` over ``X`` in row blocks: one read of X for both products.
        With ``rows`` (valid indices; ``skinny`` only) the data is ``X[rows]``, read in place.

        Per block: ``S = X_b W``, the loss kernel, ``dS *= w_b / sum(w)``, then
        ``dW += [X_b, 1]^T dS``. The extra memory is the block's ``N_b x C`` arrays and one
        ``(D + 1) x C`` partial product; never an ``N x D`` temporary. With ``skinny`` the two
        products are :mod:`lingrad._skinny`'s (``dW[:-1]`` accumulated transposed, ``C x D``).
        """
        N = X.shape[0] if rows is None else len(rows)
        total_weight = float(N) if w is None else float(w.sum(dtype=np.float64))
        kernel, params = self.loss_spec.kernel, self.loss_params
        loss = 0.0
        # dW is None exactly without need_grad, and dWt is not None exactly when both
        # need_grad and skinny: the tests below read them instead of the flags (same cost)
        dW = np.zeros_like(W) if need_grad else None
        dWt: _Float | None = None
        if skinny:
            Wt = np.ascontiguousarray(W[:-1].T)
            dWt = np.zeros_like(Wt) if need_grad else None
        compiled = self.sparse and self._compiled and _sparse_kernels.usable(X, W)
        for start in range(0, N, block):
            stop = min(start + block, N)
            Xb = X[start:stop] if block < N else X
            if skinny:
                S = _skinny.scores_t(Xb, Wt, rows=rows)
                S += W[-1]
            elif compiled:
                S = _sparse_kernels.scores(Xb, W[:-1], W[-1])
            else:
                S = scores_unchecked(W, Xb)
            if scores_out is not None:
                scores_out[start:stop] = S
            per_example, dS = kernel(S, T[start:stop] if block < N else T, **params)
            if w is None:
                loss += float(per_example.sum())
                dS *= dS.dtype.type(1.0 / total_weight)
            else:
                wb = w[start:stop] / total_weight
                loss += float(per_example @ wb) * total_weight
                dS *= wb.astype(dS.dtype, copy=False)[:, None]
            if dW is not None:
                if dWt is not None:
                    _skinny.accumulate(Xb, dS, dWt, rows=rows)
                elif start == 0 and not self.sparse:
                    np.matmul(Xb.T, dS, out=dW[:-1])
                elif compiled:
                    _sparse_kernels.accumulate(Xb, dS, dW[:-1])
                elif start == 0:
                    dW[:-1] = Xb.T @ dS  # sparse: SciPy's product, no out=
                else:
                    dW[:-1] += Xb.T @ dS
                if self.fit_intercept:
                    dW[-1] += dS.sum(axis=0)
        if dW is not None and dWt is not None:
            dW[:-1] = dWt.T
        value = loss / total_weight
        if self.lam:
            value += self.lam * self.regularizer.value(W)
            if dW is not None:
                self.regularizer.add_grad(W, dW, self.lam)
                if not self.fit_intercept:
                    dW[-1] = 0.0
        return value, dW

    def __call__(self, W: npt.ArrayLike) -> float:
        """Same as :meth:`value`, so an ``Objective`` is a plain ``f(W)`` for numerical tools."""
        return self.value(W)

    def hessian(self, W: npt.ArrayLike) -> Hessian:
        """The Hessian of ``J`` at ``W`` as an operator ``V -> H V`` (see :class:`Hessian`).

        One pass over X in row blocks computes the scores ``S = [X, 1] W`` and caches what the
        loss's score-space curvature (:mod:`lingrad.curvature`) needs at them (at most ``N x C``
        numbers); a loss without one (the hinge losses) is refused with a ``ValueError``.

        Examples:
            >>> J = Objective("squared_error", np.array([[1.0], [2.0]]), [0.0, 0.0], lam=0.5)
            >>> H = J.hessian(np.zeros((2, 1)))  # (2/N) [X, 1]^T [X, 1] + diag(0.5, 0)
            >>> H(np.array([[1.0], [0.0]])).ravel().tolist()
            [5.5, 3.0]
        """
        W = self.check_weights(W)
        if self._engine is not None:
            return self._engine.hessian(self, W)  # type: ignore[return-value]
        curv = curvature.get(self.loss_spec.name)
        T = self._targets[W.shape[1]]
        skinny = self.compiled(W.shape[1])
        block = self.rows_per_block(skinny)
        if W.shape[1] == 1 and self.block_rows is None:
            block = self.n_samples  # matrix-vector products: one call (as value_and_grad)
        caches = []
        Wt = np.ascontiguousarray(W[:-1].T) if skinny else W
        for start in range(0, self.n_samples, block):
            Xb = self.X if block >= self.n_samples else self.X[start : start + block]
            S = _skinny.scores_t(Xb, Wt) + W[-1] if skinny else scores_unchecked(W, Xb)
            caches.append(curv.prepare(S, T[start : start + block], **self.loss_params))
        w = self.sample_weight
        total = float(self.n_samples) if w is None else float(w.sum(dtype=np.float64))
        coef = None if w is None else (w / total).astype(W.dtype)[:, None]
        return Hessian(self, curv, caches, (block, skinny), coef, 1.0 / total, W.shape)


class Hessian:
    """``V -> H V``: the Hessian of ``J`` at a point ``W`` times a direction ``V`` (W's shape).

        H V = [X, 1]^T (c * H_S(dS)) + lam * (1 - l1_ratio) * V_R,     dS = [X, 1] V

    where ``H_S(dS)[i] = H_i dS[i]`` is the loss's score-space curvature at ``S_i``
    (:mod:`lingrad.curvature`), ``c_i = 1/N`` (``w_i / sum(w)`` with sample weights) and
    ``V_R`` is ``V`` with the bias row zeroed unless the regulariser includes it (the L2 part's
    Hessian; an L1 part has none). A call costs one pass over X in row blocks with two products
    per block (``X_b V`` then ``X_b^T D``); the result is in X's dtype. Built by
    :meth:`Objective.hessian`.

    Examples:
        >>> J = Objective("logistic", np.array([[1.0], [-1.0]]), [1, 0], lam=0.0)
        >>> J.hessian(np.zeros((2, 1)))(np.array([[1.0], [0.0]])).ravel().tolist()
        [0.25, 0.0]
    """

    def __init__(
        self,
        objective: Objective,
        curv: curvature.Curvature,
        caches: list[curvature.Cache],
        blocks: tuple[int, bool],
        coef: _Float | None,
        scale: float,
        shape: tuple[int, ...],
    ) -> None:
        self.objective, self.curvature, self.caches = objective, curv, caches
        #: rows per block, and whether the products are :mod:`lingrad._skinny`'s
        self.block, self.skinny = blocks
        self.coef, self.scale, self.shape = coef, scale, shape
        #: products ``H V`` computed so far (each one pass over X)
        self.calls = 0

    def __call__(self, V: npt.ArrayLike) -> _Float:
        """``H V`` for ``V`` shaped like ``W`` (cast to X's dtype)."""
        J = self.objective
        X = J.X
        V = np.asarray(V, dtype=X.dtype).reshape(self.shape)
        if not J.fit_intercept:  # the bias row is fixed: H acts on the weight rows only
            V = V.copy()
            V[-1] = 0.0
        out = np.zeros_like(V)
        # skinny: V[:-1] and out[:-1] transposed (C x D), the layout the compiled loops read
        Vt = np.ascontiguousarray(V[:-1].T) if self.skinny else V
        outT = np.zeros_like(Vt) if self.skinny else out
        for k, start in enumerate(range(0, J.n_samples, self.block)):
            Xb = X if self.block >= J.n_samples else X[start : start + self.block]
            if self.skinny:
                dS = _skinny.scores_t(Xb, Vt)
                dS += V[-1]
            else:
                dS = scores_unchecked(V, Xb)
            D = self.curvature.apply(self.caches[k], dS)
            if self.coef is None:
                D *= D.dtype.type(self.scale)
            else:
                D *= self.coef[start : start + self.block]
            if self.skinny:
                _skinny.accumulate(Xb, D, outT)
            else:
                out[:-1] += Xb.T @ D
            out[-1] += D.sum(axis=0)
        if self.skinny:
            out[:-1] = outT.T
        reg = J.regularizer
        if J.lam and reg.name != "none" and reg.l1_ratio < 1:
            regularizers.l2(reg.include_bias).add_grad(V, out, J.lam * (1.0 - reg.l1_ratio))
        if not J.fit_intercept:
            out[-1] = 0.0
        self.calls += 1
        return out
