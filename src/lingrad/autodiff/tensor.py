"""The graph node and the reverse-mode engine.

A :class:`Tensor` wraps a NumPy array (any shape; its dtype is kept) and, when it was computed
by a primitive from tensors that require a gradient, remembers that primitive and its inputs.
``backward()`` then walks the graph once in reverse topological order and applies each
primitive's vector-Jacobian product (VJP), ``dL/d input = vjp(dL/d output, ...)``.

The engine, not the rules, does the bookkeeping every rule would otherwise repeat:

* **broadcasting is undone here**, once: a rule may return a gradient of the broadcast shape and
  the engine sums it back to the input's shape (:func:`unbroadcast`);
* **dtypes are kept**: each input's gradient is cast to that input's dtype (float32 stays float32);
* **order is deterministic**: every tensor gets a sequence number when it is created, so an
  output always has a larger number than its inputs (PyTorch's rule). ``backward()`` keeps the
  nodes still to visit in a heap and always takes the largest number next: a node is processed
  only after every node that uses it, iteratively (no recursion, so 100,000-node graphs are
  fine) and in the same order for the same graph (no set or ``id`` order is involved);
* **gradients are not doubled**: ``backward()`` overwrites the leaves' ``.grad`` unless asked to
  ``accumulate``;
* only the VJPs of inputs that need a gradient are evaluated (``X @ W`` with a constant ``X``
  never computes the ``N x D`` gradient of ``X``).

The primitives themselves (forward and VJP side by side) live in
:mod:`lingrad.autodiff.functions`; this module only defines how they are recorded and replayed.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import operator
import threading
import types
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from lingrad._validation import fail


@dataclass(frozen=True)
class Primitive:
    """A differentiable function: a NumPy ``forward`` and one VJP per argument.

    ``forward(*args, **kwargs) -> ndarray`` works on plain arrays. ``vjps[k]`` is
    ``(g, out, *args, **kwargs) -> dL/d args[k]`` where ``g = dL/d out``; ``None`` means the
    argument has no gradient rule (differentiating through it raises, naming the primitive).

    Examples:
        >>> double = Primitive("double", lambda a: 2 * a, (lambda g, out, a: 2 * g,))
        >>> x = Tensor([1.0, 3.0], requires_grad=True)
        >>> double(x).sum().backward()
        >>> x.grad
        array([2., 2.])
    """

    name: str
    forward: Callable[..., Any]
    vjps: tuple[Callable[..., Any] | None, ...]

    def __call__(self, *args: Any, **kwargs: Any) -> Tensor:
        return apply(self, args, kwargs)


class _GradMode(threading.local):
    enabled = True


_MODE = _GradMode()
#: The keyword arguments of a leaf (no primitive made it): none, shared and read-only.
_NO_KWARGS: Mapping[str, Any] = types.MappingProxyType({})


@contextlib.contextmanager
def no_grad() -> Iterator[None]:
    """Inside this block no graph is recorded: results are constants (like ``torch.no_grad``).

    Examples:
        >>> x = Tensor([1.0, 2.0], requires_grad=True)
        >>> with no_grad():
        ...     y = x * 2.0
        >>> y.requires_grad
        False
    """
    previous = _MODE.enabled
    _MODE.enabled = False
    try:
        yield
    finally:
        _MODE.enabled = previous


def is_grad_enabled() -> bool:
    """Whether operations are being recorded (``False`` inside :func:`no_grad`).

    Examples:
        >>> is_grad_enabled()
        True
        >>> with no_grad():
        ...     is_grad_enabled()
        False
    """
    return _MODE.enabled


def _binary(name: str) -> tuple[Callable, Callable]:
    """The operator and its reflected form for the primitive ``name``: ``a (op) b`` calls
    ``name(a, b)`` and ``b (op) a`` with ``a`` a tensor calls ``name(b, a)``."""

    def op(self, other):
        return getattr(_F, name)(self, other)

    def reflected(self, other):
        return getattr(_F, name)(other, self)

    return op, reflected


def _unary(name: str) -> Callable:
    """The method ``t.name()`` (or unary operator) calling the primitive ``name`` on ``t``."""

    def op(self):
        return getattr(_F, name)(self)

    return op


class Tensor:
    """A NumPy array in a computation graph.

    Args:
        data: anything :func:`numpy.asarray` accepts; the dtype is kept (lists of Python floats
            become float64).
        requires_grad: whether ``backward()`` should compute ``dL/d self``; only floating-point
            tensors can require a gradient.

    Attributes:
        data: the array.
        grad: ``dL/d self`` after ``backward()`` (leaves only), same shape and dtype as ``data``.

    Arithmetic operators, ``@``, indexing and the methods below build the graph; NumPy arrays and
    Python numbers mixed in are constants.

    Examples:
        >>> w = Tensor([1.0, -2.0, 3.0], requires_grad=True)
        >>> loss = (w * w).sum()
        >>> loss.backward()
        >>> w.grad
        array([ 2., -4.,  6.])
    """

    __slots__ = (
        "_args",
        "_kwargs",
        "_parents",
        "_prim",
        "_seq",
        "data",
        "grad",
        "requires_grad",
    )
    __array_ufunc__ = None  # ndarray (op) Tensor defers to Tensor's reflected operators
    data: npt.NDArray[Any]
    grad: npt.NDArray[Any] | None
    requires_grad: bool
    _prim: Primitive | None
    _parents: tuple[tuple[int, Tensor], ...]
    _args: tuple[Any, ...]
    _kwargs: Mapping[str, Any]
    _seq: int

    def __init__(self, data: npt.ArrayLike | Tensor, requires_grad: bool = False) -> None:
        data = data.data if isinstance(data, Tensor) else np.asarray(data)
        if requires_grad and data.dtype.kind != "f":
            fail("requires_grad", "a floating-point tensor", f"dtype {data.dtype}", TypeError)
        self.data = data
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self._prim = None
        self._parents = ()
        self._args = ()
        self._kwargs = _NO_KWARGS
        self._seq = next(_SEQUENCE)

    # -- basic properties: the array's own ------------------------------------------------------
    shape = property(operator.attrgetter("data.shape"), doc="``data.shape``.")
    ndim = property(operator.attrgetter("data.ndim"), doc="``data.ndim``.")
    dtype = property(operator.attrgetter("data.dtype"), doc="``data.dtype``.")
    size = property(operator.attrgetter("data.size"), doc="``data.size``.")

    @property
    def is_leaf(self) -> bool:
        """True for a tensor made by the user, not by a primitive."""
        return self._prim is None

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        how = f", grad_fn={self._prim.name}" if self._prim is not None else ""
        flag = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({self.data!r}{flag}{how})"

    def item(self) -> float:
        """The value of a one-element tensor as a Python number."""
        return self.data.item()

    def numpy(self) -> np.ndarray:
        """The underlying array (not a copy)."""
        return self.data

    def detach(self) -> Tensor:
        """The same data as a constant: no gradient flows back through the result."""
        return Tensor(self.data)

    # -- the engine --------------------------------------------------------------------------
    def backward(
        self, grad: npt.ArrayLike | Tensor | None = None, *, accumulate: bool = False
    ) -> None:
        """Compute ``d self / d leaf`` for every leaf that requires a gradient.

        Args:
            grad: the seed ``dL/d self``, same shape as ``self``; may be omitted only when
                ``self`` holds a single value (the seed is then 1).
            accumulate: add to the leaves' existing ``.grad`` instead of overwriting it.

        Raises:
            ValueError: a non-scalar output without a seed, or a seed of the wrong shape.
            RuntimeError: ``self`` does not require a gradient.
            NotImplementedError: a primitive on the path has no VJP for an argument.
        """
        if not self.requires_grad:
            fail(
                "backward",
                "an output that depends on a tensor with requires_grad=True",
                "a constant tensor",
                RuntimeError,
            )
        if grad is None:
            if self.data.size != 1:
                fail(
                    "grad",
                    f"a seed gradient of shape {self.shape} for a non-scalar output "
                    "(backward() without a seed needs a single-value output)",
                    "none",
                )
            seed = np.ones_like(self.data)
        else:
            seed = np.asarray(grad.data if isinstance(grad, Tensor) else grad)
            if seed.shape != self.shape:
                fail("grad", f"a seed of shape {self.shape} like the output", f"{seed.shape}")
            seed = seed.astype(self.dtype, copy=False)
        grads = {self._seq: seed}
        owned: set[int] = set()  # arrays created by accumulation: safe to add to in place
        heap = [(-self._seq, self)]  # the largest sequence number first: users before inputs
        while heap:
            _, node = heapq.heappop(heap)
            g = grads.pop(node._seq)
            if node._prim is None:
                if accumulate and node.grad is not None:
                    node.grad = node.grad + g
                else:  # a fresh array: never a view of an intermediate or of the seed
                    node.grad = g if node._seq in owned else g.copy()
                continue
            prim, args, kwargs = node._prim, node._args, node._kwargs
            for k, parent in node._parents:
                vjp = prim.vjps[k] if k < len(prim.vjps) else None
                if vjp is None:
                    raise NotImplementedError(
                        f"autodiff: primitive '{prim.name}' has no VJP for argument {k}; "
                        "pass that argument as a constant (or .detach() it)"
                    )
                pg = vjp(g, node.data, *args, **kwargs)
                pg = unbroadcast(pg if type(pg) is np.ndarray else np.asarray(pg), parent.data)
                key = parent._seq
                if key not in grads:
                    grads[key] = pg
                    heapq.heappush(heap, (-key, parent))
                elif key in owned:
                    grads[key] += pg
                else:
                    grads[key] = grads[key] + pg
                    owned.add(key)

    # -- operators: each calls its primitive, looked up in the table when called ----------------
    __add__, __radd__ = _binary("add")
    __sub__, __rsub__ = _binary("sub")
    __mul__, __rmul__ = _binary("mul")
    __truediv__, __rtruediv__ = _binary("div")
    __pow__, __rpow__ = _binary("pow")
    __matmul__, __rmatmul__ = _binary("matmul")
    __neg__ = _unary("neg")
    __abs__ = abs = _unary("abs")
    exp = _unary("exp")
    log = _unary("log")
    relu = _unary("relu")
    sigmoid = _unary("sigmoid")

    def __getitem__(self, index: Any) -> Tensor:
        return _F.getitem(self, index)

    def sum(
        self,
        axis: int | tuple[int, ...] | None = None,
        keepdims: bool = False,
        dtype: npt.DTypeLike | None = None,
    ) -> Tensor:
        return _F.sum(self, axis=axis, keepdims=keepdims, dtype=dtype)

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        return _F.mean(self, axis=axis, keepdims=keepdims)

    def max(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        return _F.max(self, axis=axis, keepdims=keepdims)

    def reshape(self, *shape: int | tuple[int, ...]) -> Tensor:
        return _F.reshape(self, shape[0] if len(shape) == 1 else shape)

    def transpose(self, axes: tuple[int, ...] | None = None) -> Tensor:
        return _F.transpose(self, axes=axes)

    @property
    def T(self) -> Tensor:
        return _F.transpose(self)


class _Table:
    """Late lookup of the primitives, which :mod:`lingrad.autodiff.functions` registers."""

    def __getattr__(self, name: str) -> Primitive:
        raise AttributeError(f"autodiff: primitive '{name}' is not registered")


_F = _Table()
_SEQUENCE = itertools.count()  # creation order: an output always comes after its inputs


def register(name: str, primitive: Primitive) -> None:
    """Make ``primitive`` available to the :class:`Tensor` operators as ``name``.

    Examples:
        >>> from lingrad.autodiff import functions as F
        >>> register("exp", F.exp)   # re-registering an existing primitive is harmless
        >>> x = Tensor([0.0], requires_grad=True)
        >>> x.exp().sum().backward()
        >>> x.grad
        array([1.])
    """
    setattr(_F, name, primitive)


def _node(data: Any) -> Tensor:
    """A constant tensor around a forward's result, without the user-facing checks."""
    t = object.__new__(Tensor)
    t.data = data if type(data) is np.ndarray else np.asarray(data)
    t.grad, t.requires_grad = None, False
    t._prim, t._parents, t._args, t._kwargs = None, (), (), _NO_KWARGS
    t._seq = next(_SEQUENCE)
    return t


def apply(prim: Primitive, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Tensor:
    """Run ``prim`` on ``args`` and, if any input needs a gradient, record the node.

    Per call: one forward and a few attribute stores; nothing here depends on the data's size.

    Examples:
        >>> from lingrad.autodiff import functions as F
        >>> x = Tensor([1.0, 2.0], requires_grad=True)
        >>> y = apply(F.mul, (x, x), {})
        >>> y.sum().backward()
        >>> y.data, x.grad
        (array([1., 4.]), array([2., 4.]))
    """
    raw = tuple([a.data if type(a) is Tensor else a for a in args])
    out = _node(prim.forward(*raw, **kwargs))
    if prim.vjps and _MODE.enabled:  # a primitive without VJPs makes constants
        parents = tuple(
            [(k, a) for k, a in enumerate(args) if type(a) is Tensor and a.requires_grad]
        )
        if parents:
            out.requires_grad = out.data.dtype.kind == "f"
            out._prim, out._parents, out._args, out._kwargs = prim, parents, raw, kwargs
    return out


def unbroadcast(g: npt.NDArray[Any], like: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Sum ``g`` over the axes along which ``like`` was broadcast; cast to ``like``'s dtype.

    Examples:
        >>> unbroadcast(np.ones((4, 3)), np.zeros(3))
        array([4., 4., 4.])
    """
    shape = like.shape
    if g.shape == shape and g.dtype == like.dtype:
        return g
    if g.shape != shape:
        extra = g.ndim - len(shape)
        axes = tuple(range(extra)) + tuple(
            extra + i for i, n in enumerate(shape) if n == 1 and g.shape[extra + i] != 1
        )
        g = g.sum(axis=axes, keepdims=True) if axes else g
        g = g.reshape(shape)
    dtype = like.dtype if like.dtype.kind == "f" else g.dtype
    return g.astype(dtype, copy=False)


def tensor(data: npt.ArrayLike | Tensor, requires_grad: bool = False) -> Tensor:
    """Shorthand for :class:`Tensor`.

    Examples:
        >>> t = tensor([[1.0, 2.0]], requires_grad=True)
        >>> t.shape, t.requires_grad
        ((1, 2), True)
    """
    return Tensor(data, requires_grad=requires_grad)
