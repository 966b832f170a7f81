"""The objective's value and gradient computed chunk by chunk where the data lives.

For row chunks ``c = 1..K`` of ``(X, y, w)`` (``w = 1`` without sample weights) the objective
of :class:`lingrad.objective.Objective` is

    J(W) = (sum_c  sum_{i in c} w_i L_i(W)) / (sum_c sum_{i in c} w_i)  +  lam R(W)

    dJ/dW = (sum_c [X_c, 1]^T (w_c * dL_c/dS)) / (sum_c sum_{i in c} w_i)  +  lam dR/dW

Each task builds an :class:`~lingrad.objective.Objective` on its chunk (the same NumPy code as
the single-machine path, no regulariser) and returns the chunk's *sums*

    (s_c * J_c,  s_c * dJ_c/dW,  s_c),      s_c = sum_{i in c} w_i

(its weighted mean times its weight). The partial sums are added in a tree of tasks on the
workers (fan-in 8, in chunk order, so the result does not depend on which worker ran what),
and the client divides once by the total weight and adds ``lam R(W)``: the result equals the
in-memory objective to rounding (1e-12 relative in float64).

Traffic per pass: ``W`` to each worker (once; scattered with ``broadcast=True`` when it is
several MB), ``K`` partial gradients of ``(D + 1) x C`` float64 between workers, one to the
client. The data never moves.

Caching: when the data fits comfortably in the cluster's memory (``cache="auto"``: at most
half the sum of the workers' memory limits), the chunk objectives (the chunk, its checked
targets) are persisted on the workers after the first pass; otherwise every pass reads the
chunks again where they are stored (out of core) and checks them again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, Self, overload

import numpy as np
import numpy.typing as npt
from numpy.typing import NDArray

from lingrad import losses, regularizers
from lingrad._validation import check_positive, check_weights, fail
from lingrad.distributed.cluster import connect, workers
from lingrad.distributed.data import DaskArray, as_row_chunks
from lingrad.distributed.predict import scores
from lingrad.objective import Objective

if TYPE_CHECKING:
    from distributed import Client

#: W larger than this many bytes is scattered to every worker once per pass instead of being
#: sent inside the task graph (measured: scattering pays only for W of several MB).
SCATTER_BYTES = 4 * 2**20

#: How many partial sums one reduction task adds.
FAN_IN = 8


# ------------------------------------------------------------------------------------------
# Tasks (run on the workers)
# ------------------------------------------------------------------------------------------


def _check_finite(name: str, a, offset: int) -> None:
    """Refuse a non-finite value of the chunk ``a`` naming its index in the whole array (the
    chunk starts at row ``offset``), in the words of the in-memory check."""
    a = np.asarray(a)
    if a.dtype.kind not in "fc":
        return
    bad = ~np.isfinite(a)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        fail(name, "finite values", f"{a[where]} at index {(where[0] + offset, *where[1:])}")


def _chunk_objective(X, y, w, loss: str, loss_params: dict, offset: int = 0) -> Objective | None:
    """The chunk's :class:`Objective` (no regulariser), or ``None`` if its weights are all 0.
    The chunk holds rows ``offset, offset + 1, ...`` of the whole data (for error messages)."""
    if w is not None and not np.any(w):
        return None
    _check_finite("X", X, offset)
    if y is not None:
        _check_finite("y", y, offset)
    return Objective(loss, X, y, regularizer="none", lam=0.0, sample_weight=w, **loss_params)


def _weight_sum(obj: Objective) -> float:
    w = obj.sample_weight
    return float(obj.n_samples) if w is None else float(w.sum(dtype=np.float64))


def _chunk_sums(obj: Objective | None, W: np.ndarray, need_grad: bool):
    """``(s J_c, s dJ_c/dW in float64 or None, s)`` for one chunk, ``s`` its total weight."""
    if obj is None:
        return 0.0, (np.zeros(W.shape) if need_grad else None), 0.0
    obj.targets(W.shape[1])
    s = _weight_sum(obj)
    value, dW = obj.value_and_grad_unchecked(W, None, need_grad)
    return value * s, (None if dW is None else dW.astype(np.float64) * s), s


def _check_targets(obj: Objective | None, n_columns: int) -> None:
    """Check one chunk's targets for ``n_columns`` score columns (raises on bad targets)."""
    if obj is not None:
        obj.targets(n_columns)


def _add_sums(*parts):
    """Add partial sums ``(loss, grad or None, weight)`` in the order given."""
    loss, grad, weight = parts[0]
    grad = None if grad is None else grad.copy()
    for part_loss, part_grad, part_weight in parts[1:]:
        loss += part_loss
        weight += part_weight
        if grad is not None:
            grad += part_grad
    return loss, grad, weight


def _register_sizeof() -> None:
    """Tell Dask's memory accounting what a persisted chunk objective holds."""
    from dask.sizeof import sizeof

    @sizeof.register(Objective)
    def _sizeof_objective(obj):
        return obj.nbytes


_register_sizeof()


def tree_reduce(parts: list[Any], combine: Callable[..., Any], fan_in: int = FAN_IN) -> Any:
    """Combine ``dask.delayed`` values by a tree of ``combine(*group)`` tasks, in order.

    Examples:
        >>> import dask, operator
        >>> parts = [dask.delayed(i) for i in range(10)]
        >>> tree_reduce(parts, lambda *xs: sum(xs), fan_in=3).compute()
        45
    """
    import dask

    task = dask.delayed(combine, pure=False)
    while len(parts) > 1:
        parts = [task(*parts[i : i + fan_in]) for i in range(0, len(parts), fan_in)]
    return parts[0]


# ------------------------------------------------------------------------------------------
# The client side
# ------------------------------------------------------------------------------------------


class DaskObjective:
    """``J(W)`` over row-chunked dask arrays, computed on a ``dask.distributed`` cluster.

    Same convention and the same results as :class:`lingrad.objective.Objective`: weighted mean
    loss over all N rows plus ``lam * R(W)``.

    Args:
        loss: a loss name or alias (see :func:`lingrad.losses.get`).
        X: a ``dask.array`` ``(N, D)`` chunked by rows (see
            :func:`lingrad.distributed.as_row_chunks`; chunks of >= 50,000 rows keep the
            engine's overhead small).
        y: targets aligned with X's rows (NumPy or dask).
        regularizer: as for :class:`~lingrad.objective.Objective`.
        lam: see ``regularizer``.
        sample_weight: optional ``(N,)`` weights (NumPy or dask).
        client: a ``distributed.Client``, a spec for :func:`lingrad.distributed.connect`, or
            ``None`` for the current default client.
        cache: ``"auto"``, ``True`` (persist the chunk objectives on the workers) or ``False``
            (read and check every chunk on every pass: out of core).
        chunk_rows: rechunk the rows to this size first (default: X's own chunks).
        loss_params: extra keyword arguments of the loss (``margin``, ``label_smoothing``).

    Shapes: ``X`` ``(N, D)`` (dask), ``y`` ``(N,)``; ``value_and_grad(W (D + 1, C))`` returns
    ``(float, dW (D + 1, C))``, equal to :class:`lingrad.objective.Objective`'s. It implements
    :class:`lingrad.objective.ObjectiveProtocol` (full batch only: ``rows`` must be ``None``).
    It needs a ``distributed.Client``; without one it says how to get one:

    Examples:
        >>> import dask.array as da
        >>> X, y = da.ones((4, 2), chunks=2), np.array([0, 1, 0, 1])
        >>> DaskObjective("softmax", X, y)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
            ...
        ValueError: client: expected a distributed.Client (client=...) or a ru...
    """

    def __init__(
        self,
        loss: str,
        X: DaskArray,
        y: DaskArray | npt.ArrayLike,
        *,
        regularizer: str | regularizers.Regularizer | None = "l2",
        lam: float = 0.0,
        sample_weight: DaskArray | npt.ArrayLike | None = None,
        client: Client | str | None = None,
        cache: Literal["auto"] | bool = "auto",
        chunk_rows: int | None = None,
        **loss_params: float,
    ) -> None:
        import dask

        self.loss_spec = losses.spec(loss)
        self.data = as_row_chunks(X, y, sample_weight, chunk_rows=chunk_rows)
        self.regularizer = regularizers.get(regularizer)
        self.lam = check_positive("lam", lam, allow_zero=True)
        self.loss_params = loss_params
        self.client = connect(client)
        if cache not in ("auto", True, False):
            fail("cache", "'auto', True or False", repr(cache))
        self.cached = self._fits_in_memory() if cache == "auto" else cache
        make = dask.delayed(_chunk_objective, pure=True)
        starts = np.cumsum((0, *self.data.rows[:-1])).tolist()
        chunks = [
            make(Xb, yb, wb, self.loss_spec.name, loss_params, start)
            for (Xb, yb, wb), start in zip(self.data.blocks(), starts, strict=True)
        ]
        self._chunks = self.client.persist(chunks) if self.cached else chunks
        self._checked: set[int] = set()
        self.n_passes = 0

    # -- facts about the data ---------------------------------------------------------------

    @property
    def n_samples(self) -> int:
        return self.data.n_samples

    @property
    def n_features(self) -> int:
        return self.data.n_features

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def n_chunks(self) -> int:
        return len(self._chunks)

    @property
    def chunks(self) -> list[Any]:
        """The chunk objectives as ``dask.delayed`` values (persisted when cached)."""
        return list(self._chunks)

    def _fits_in_memory(self) -> bool:
        limits = [w.get("memory_limit") or 0 for w in workers(self.client).values()]
        if not limits or any(limit == 0 for limit in limits):
            return True  # no limit known: the cluster's memory is not the constraint
        return self.data.X.nbytes <= 0.5 * sum(limits)

    # -- the objective ----------------------------------------------------------------------

    def check_weights(self, W: npt.ArrayLike) -> NDArray[np.floating]:
        checked = check_weights(W, self.n_features)
        return checked.astype(self.dtype, copy=False)

    def _broadcast(self, W: NDArray[np.floating]) -> Any:
        import dask

        if W.nbytes >= SCATTER_BYTES:
            return self.client.scatter(W, broadcast=True, hash=False)
        return dask.delayed(W)

    def sums(
        self, W: NDArray[np.floating], need_grad: bool = True
    ) -> tuple[float, NDArray[np.float64] | None, float]:
        """The reduced sums ``(sum w_i L_i, sum [x_i, 1]^T w_i dL_i/dS or None, sum w_i)``
        for checked ``W`` in X's dtype (one pass, one round trip)."""
        import dask

        W_arg = self._broadcast(W)
        task = dask.delayed(_chunk_sums, pure=False)
        total = tree_reduce([task(c, W_arg, need_grad) for c in self._chunks], _add_sums)
        result = self.client.compute(total).result()
        self.n_passes += 1
        return result

    @overload
    def value_and_grad_unchecked(
        self,
        W: NDArray[np.floating],
        rows: object = ...,
        need_grad: Literal[True] = ...,
        out: NDArray[Any] | None = ...,
    ) -> tuple[float, NDArray[np.floating]]: ...

    @overload
    def value_and_grad_unchecked(
        self,
        W: NDArray[np.floating],
        rows: object = ...,
        need_grad: bool = ...,
        out: NDArray[Any] | None = ...,
    ) -> tuple[float, NDArray[np.floating] | None]: ...

    def value_and_grad_unchecked(
        self,
        W: NDArray[np.floating],
        rows: object = None,
        need_grad: bool = True,
        out: NDArray[Any] | None = None,
    ) -> tuple[float, NDArray[np.floating] | None]:
        """``(J(W), dJ/dW or None)`` for ``W`` already checked, in X's dtype: one pass, one
        round trip. Only the full batch (``rows=None``; ``out`` is not used): a mini-batch
        on a cluster is the chunk's own business (:func:`lingrad.distributed.sgd_chunk`)."""
        if rows is not None:
            fail("rows", "None (a DaskObjective evaluates the full batch)", type(rows).__name__)
        loss_sum, grad_sum, weight = self.sums(W, need_grad)
        if weight <= 0:
            fail("sample_weight", "non-negative weights with a positive sum", f"sum {weight}")
        value = loss_sum / weight
        if self.lam:
            value += self.lam * self.regularizer.value(W)
        if not need_grad or grad_sum is None:
            return value, None
        dW = (grad_sum / weight).astype(W.dtype, copy=False)
        self.regularizer.add_grad(W, dW, self.lam)
        return value, dW

    def value(self, W: npt.ArrayLike) -> float:
        """``J(W)`` as a Python float (one pass over the data)."""
        return self.value_and_grad_unchecked(self.check_weights(W), need_grad=False)[0]

    def value_and_grad(
        self, W: npt.ArrayLike, rows: object = None
    ) -> tuple[float, NDArray[np.floating]]:
        """``(J(W), dJ/dW)`` with ``dJ/dW`` shaped like ``W`` in X's dtype (one pass)."""
        return self.value_and_grad_unchecked(self.check_weights(W), rows)

    def targets(self, n_columns: int) -> DaskArray:
        """The targets ``y`` (a dask array, never pulled to the client), checked for
        ``n_columns`` score columns on the workers, chunk by chunk (one pass, cached)."""
        import dask

        if n_columns not in self._checked:
            task = dask.delayed(_check_targets, pure=False)
            self.client.compute([task(c, n_columns) for c in self._chunks], sync=True)
            self._checked.add(n_columns)
        return self.data.y

    def evaluate(self, W: npt.ArrayLike) -> tuple[float, DaskArray]:
        """``(J(W), S)``: the objective (one pass) and the scores ``S`` ``(N, C)`` as a lazy
        dask array (computed where X lives when asked for; never shipped by this call)."""
        checked = self.check_weights(W)
        value = self.value_and_grad_unchecked(checked, need_grad=False)[0]
        return value, scores(checked, self.data.X)

    def __call__(self, W: npt.ArrayLike) -> float:
        return self.value(W)

    def close(self) -> None:
        """Release the persisted chunks on the workers."""
        self._chunks = []

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
