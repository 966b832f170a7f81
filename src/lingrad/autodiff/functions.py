"""The library of simple functions: each primitive's forward and its VJP, side by side.

Every entry is ``defprimitive(name, forward, vjp_arg0, vjp_arg1, ...)``. A forward works on
plain NumPy arrays; a VJP ``(g, out, *args, **kwargs) -> dL/d arg`` maps the gradient ``g`` of
the output to the gradient of one argument. Rules may return a gradient of the *broadcast*
shape: the engine (:mod:`lingrad.autodiff.tensor`) sums it back to the argument's shape and
casts it to the argument's dtype, so no rule repeats that. ``None`` in place of a VJP declares
an argument with no gradient (a constant such as an index or a mask); differentiating through
it raises ``NotImplementedError`` naming the primitive and the argument.

Kinks use the subgradient of the analytic losses: ``relu'(0) = 0``, ``|x|'(0) = 0``,
``maximum(x, c)`` sends the gradient to ``x`` only where ``x > c``, and ``max`` over an axis
sends it to the first maximal entry.

Examples:
    >>> from lingrad.autodiff import Tensor
    >>> s = Tensor([[3.2, 5.1, -1.7]], requires_grad=True)
    >>> loss = -log_softmax(s)[0, 0]        # softmax cross-entropy of the slide, label cat
    >>> round(loss.item(), 2)
    2.04
    >>> loss.backward()
    >>> np.round(s.grad, 3)                 # softmax(s) - onehot(cat)
    array([[-0.87 ,  0.869,  0.001]])
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any

import numpy as np

from lingrad._validation import fail
from lingrad.autodiff.tensor import Primitive, register

#: Every primitive by name, in the order defined here.
PRIMITIVES: dict[str, Primitive] = {}


def defprimitive(
    name: str, forward: Callable[..., Any], *vjps: Callable[..., Any] | None
) -> Primitive:
    """Declare a primitive: ``forward`` on arrays and one VJP (or ``None``) per argument.

    Examples:
        >>> from lingrad.autodiff import Tensor
        >>> cube = defprimitive("cube", lambda a: a**3, lambda g, out, a: g * 3 * a**2)
        >>> x = Tensor([2.0], requires_grad=True)
        >>> y = cube(x).sum()
        >>> y.backward()
        >>> y.item(), x.grad
        (8.0, array([12.]))
    """
    prim = Primitive(name, forward, tuple(vjps))
    PRIMITIVES[name] = prim
    register(name, prim)
    return prim


def _sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1, e) / (1 + e)


def _expand(g, shape, axis, keepdims):
    """``g`` from a reduction over ``axis`` broadcast back to ``shape`` (a view, no copy)."""
    if axis is not None and not keepdims:
        kept = list(shape)
        for k in axis if isinstance(axis, tuple) else (axis,):
            kept[k] = 1
        g = g.reshape(kept)
    return np.broadcast_to(g, shape)


def _is_basic_index(index) -> bool:
    """Slices, integers, ``None`` and ``...`` only: no entry can be selected twice."""
    parts = index if isinstance(index, tuple) else (index,)
    return builtins.all(
        p is None or p is Ellipsis or isinstance(p, slice | int | np.integer) for p in parts
    )


# ------------------------------------------------------------------------------------------
# Arithmetic
# ------------------------------------------------------------------------------------------

add = defprimitive(
    "add",
    np.add,
    lambda g, out, a, b: g,
    lambda g, out, a, b: g,
)
sub = defprimitive(
    "sub",
    np.subtract,
    lambda g, out, a, b: g,
    lambda g, out, a, b: -g,
)
mul = defprimitive(
    "mul",
    np.multiply,
    lambda g, out, a, b: g * b,
    lambda g, out, a, b: g * a,
)
div = defprimitive(
    "div",
    np.divide,
    lambda g, out, a, b: g / b,
    lambda g, out, a, b: -g * out / b,
)
neg = defprimitive(
    "neg",
    np.negative,
    lambda g, out, a: -g,
)
pow = defprimitive(
    "pow",
    np.power,
    lambda g, out, a, p: g * p * a ** (p - 1),
    lambda g, out, a, p: g * out * np.log(a),
)


# ------------------------------------------------------------------------------------------
# Linear algebra
# ------------------------------------------------------------------------------------------


def _matmul(a, b):
    a_in = np.shape(a)[-1] if np.ndim(a) else None
    b_in = np.shape(b)[-2] if np.ndim(b) >= 2 else (np.shape(b)[0] if np.ndim(b) else None)
    if a_in is None or b_in is None or a_in != b_in:
        fail(
            "matmul",
            "operands with agreeing inner dimensions (a.shape[-1] == b.shape[-2])",
            f"shapes {np.shape(a)} and {np.shape(b)}",
        )
    return np.matmul(a, b)


def _matmul_vjp_a(g, out, a, b):
    if b.ndim == 1:  # out[..., i] = sum_k a[..., i, k] b[k]
        return np.multiply.outer(g, b)
    if a.ndim == 1:  # out[..., j] = sum_k a[k] b[..., k, j]
        return (b @ g[..., None])[..., 0]
    return g @ np.swapaxes(b, -1, -2)


def _matmul_vjp_b(g, out, a, b):
    if a.ndim == 1:  # out[..., j] = sum_k a[k] b[..., k, j]
        return g * a if b.ndim == 1 else a[:, None] * g[..., None, :]
    if b.ndim == 1:
        return (np.swapaxes(a, -1, -2) @ g[..., None])[..., 0]
    return np.swapaxes(a, -1, -2) @ g


matmul = defprimitive("matmul", _matmul, _matmul_vjp_a, _matmul_vjp_b)


# ------------------------------------------------------------------------------------------
# Elementwise functions
# ------------------------------------------------------------------------------------------

exp = defprimitive("exp", np.exp, lambda g, out, a: g * out)
log = defprimitive("log", np.log, lambda g, out, a: g / a)
log1p = defprimitive("log1p", np.log1p, lambda g, out, a: g / (1 + a))
abs = defprimitive("abs", np.abs, lambda g, out, a: g * np.sign(a))
maximum = defprimitive(  # max(x, c) with a constant c: the gradient goes to x where x > c
    "maximum",
    np.maximum,
    lambda g, out, a, c: g * (a > c),
    None,
)
relu = defprimitive(
    "relu",
    lambda a: np.maximum(a, 0),
    lambda g, out, a: g * (a > 0),
)
sigmoid = defprimitive(  # 1 / (1 + e^-x), without overflow;  sigma' = sigma (1 - sigma)
    "sigmoid",
    _sigmoid,
    lambda g, out, a: g * out * (1 - out),
)
softplus = defprimitive(  # log(1 + e^x) = max(x, 0) + log1p(e^-|x|);  softplus' = sigma
    "softplus",
    lambda a: np.maximum(a, 0) + np.log1p(np.exp(-np.abs(a))),
    lambda g, out, a: g * _sigmoid(a),
)
where = defprimitive(  # where(cond, a, b): the condition is a constant mask
    "where",
    np.where,
    None,
    lambda g, out, cond, a, b: np.where(cond, g, 0),
    lambda g, out, cond, a, b: np.where(cond, 0, g),
)


# ------------------------------------------------------------------------------------------
# Reductions
# ------------------------------------------------------------------------------------------


def _sum(a, axis=None, keepdims=False, dtype=None):
    return a.sum(axis=axis, keepdims=keepdims, dtype=dtype)


def _mean(a, axis=None, keepdims=False):
    return a.mean(axis=axis, keepdims=keepdims)


def _count(a, axis):
    if axis is None:
        return a.size
    axes = axis if isinstance(axis, tuple) else (axis,)
    return int(np.prod([a.shape[k] for k in axes]))


def _max(a, axis=None, keepdims=False):
    if isinstance(axis, tuple):
        fail("max", "axis=None or a single axis", f"axis={axis}")
    return a.max(axis=axis, keepdims=keepdims)


def _max_vjp(g, out, a, axis=None, keepdims=False):
    res = np.zeros_like(a)
    if axis is None:
        res.flat[np.argmax(a)] = g
        return res
    first = np.expand_dims(np.argmax(a, axis=axis), axis)
    g = g if keepdims else np.expand_dims(g, axis)
    np.put_along_axis(res, first, g, axis=axis)
    return res


sum = defprimitive(
    "sum",
    _sum,
    lambda g, out, a, axis=None, keepdims=False, dtype=None: _expand(g, a.shape, axis, keepdims),
)
mean = defprimitive(
    "mean",
    _mean,
    lambda g, out, a, axis=None, keepdims=False: (
        _expand(g, a.shape, axis, keepdims) / _count(a, axis)
    ),
)
max = defprimitive("max", _max, _max_vjp)


def _logsumexp(a, axis=-1, keepdims=False):
    m = a.max(axis=axis, keepdims=True)
    e = np.exp(a - m)
    out = np.log(e.sum(axis=axis, keepdims=True))
    out += m
    return out if keepdims else np.squeeze(out, axis=axis)


logsumexp = defprimitive(  # log sum_k e^{a_k}, shifted by the max;  d/da = softmax(a)
    "logsumexp",
    _logsumexp,
    lambda g, out, a, axis=-1, keepdims=False: (
        _expand(g, a.shape, axis, keepdims) * np.exp(a - _expand(out, a.shape, axis, keepdims))
    ),
)


def _log_softmax(a, axis=-1):
    return a - _logsumexp(a, axis=axis, keepdims=True)


def _softmax(a, axis=-1):
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    e /= e.sum(axis=axis, keepdims=True)
    return e


log_softmax = defprimitive(  # a - logsumexp(a);  VJP g - softmax(a) * sum(g)
    "log_softmax",
    _log_softmax,
    lambda g, out, a, axis=-1: g - np.exp(out) * g.sum(axis=axis, keepdims=True),
)
softmax = defprimitive(  # VJP p * (g - sum(g p))
    "softmax",
    _softmax,
    lambda g, out, a, axis=-1: out * (g - (g * out).sum(axis=axis, keepdims=True)),
)


# ------------------------------------------------------------------------------------------
# Shapes and indexing
# ------------------------------------------------------------------------------------------


def _getitem_vjp(g, out, a, index):
    res = np.zeros(a.shape, dtype=a.dtype)
    if _is_basic_index(index):
        res[index] = g
    else:  # an integer array may pick an entry twice: its gradients add up
        np.add.at(res, index, g)
    return res


def _pick(a, idx):
    if a.ndim == 2:  # the common case S[i, y_i], without take_along_axis's index building
        return a[np.arange(a.shape[0]), idx]
    return np.take_along_axis(a, idx[..., None], axis=-1)[..., 0]


def _pick_vjp(g, out, a, idx):
    res = np.zeros(a.shape, dtype=a.dtype)
    if a.ndim == 2:
        res[np.arange(a.shape[0]), idx] = g
    else:
        np.put_along_axis(res, idx[..., None], g[..., None], axis=-1)
    return res


def _transpose_vjp(g, out, a, axes=None):
    return np.transpose(g, None if axes is None else np.argsort(axes))


reshape = defprimitive(
    "reshape",
    np.reshape,
    lambda g, out, a, shape: np.reshape(g, a.shape),
)
transpose = defprimitive("transpose", np.transpose, _transpose_vjp)
getitem = defprimitive(  # a[index]: slices, integers, integer arrays (a gather), masks
    "getitem",
    lambda a, index: a[index],
    _getitem_vjp,
    None,
)
pick = defprimitive(  # a[..., idx]: one entry per row (a fused gather, e.g. S[i, y_i])
    "pick",
    _pick,
    _pick_vjp,
    None,
)


# ------------------------------------------------------------------------------------------
# No gradient: declared once (their results are constants)
# ------------------------------------------------------------------------------------------

NONDIFFERENTIABLE: tuple[str, ...] = ("argmax", "sign", "greater")
argmax = defprimitive("argmax", np.argmax)
sign = defprimitive("sign", np.sign)
greater = defprimitive("greater", np.greater)
