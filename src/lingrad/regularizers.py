"""Regularisers ``R(W)``: value and (sub)gradient, the bias row excluded by default.

One convention everywhere: ``objective = mean loss + lam * R(W)`` with

* ``l2``: ``R = 0.5 * sum(W**2)``, ``dR/dW = W`` (scikit-learn's, optax's and PyTorch's weight
  decay: ``lam * W`` in the gradient);
* ``l1``: ``R = sum(|W|)``, subgradient ``sign(W)`` (0 at 0);
* ``elastic_net(l1_ratio)``: ``R = l1_ratio * sum(|W|) + (1 - l1_ratio) * 0.5 * sum(W**2)``;
* ``none``: ``R = 0``.

``W`` has shape ``(D + 1, C)`` with the bias in the last row; unless ``include_bias=True`` that
row is left out of ``R`` (shifting all scores is not a sign of overfitting).

``W`` may come from any array-API library (PyTorch, CuPy, array-api-strict): the gradient comes
back on ``W``'s library and device.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from lingrad._array_api import namespace
from lingrad._validation import fail


@dataclass(frozen=True)
class Regularizer:
    """A penalty ``R(W) = l1_ratio * ||W||_1 + (1 - l1_ratio) * 0.5 * ||W||_2^2``.

    ``l1_ratio = 0`` is L2, ``1`` is L1, in between is the elastic net; ``name="none"`` is zero.

    ``value(W)`` is a float; ``grad(W)`` has ``W``'s shape ``(D + 1, C)`` with a zero bias row.

    Examples:
        >>> W = np.array([[3.0], [-4.0], [100.0]])          # bias row last, excluded
        >>> r = Regularizer("elastic_net", l1_ratio=0.5)
        >>> r.value(W), r.grad(W).ravel().tolist()
        (9.75, [2.0, -2.5, 0.0])
    """

    name: str
    l1_ratio: float = 0.0
    include_bias: bool = False

    def _part(self, W: npt.NDArray[np.floating]) -> npt.NDArray[np.floating]:
        return W if self.include_bias else W[:-1, ...]

    def value(self, W: npt.NDArray[np.floating]) -> float:
        """``R(W)`` as a Python float (summed in float64)."""
        if self.name == "none":
            return 0.0
        if not isinstance(W, np.ndarray):
            return self._value_xp(np.asarray(W) if isinstance(W, list | tuple) else W)
        V, total = (W if self.include_bias else W[:-1]), 0.0
        if self.l1_ratio > 0:
            total += self.l1_ratio * float(np.abs(V).sum(dtype=np.float64))
        if self.l1_ratio < 1:
            total += (1.0 - self.l1_ratio) * 0.5 * float(np.vdot(V, V))
        return total

    def _value_xp(self, W: Any) -> float:
        xp, V, total = namespace(W), self._part(W), 0.0
        if self.l1_ratio > 0:
            total += self.l1_ratio * float(xp.sum(xp.abs(V), dtype=xp.float64))
        if self.l1_ratio < 1:
            total += (1.0 - self.l1_ratio) * 0.5 * float(xp.sum(V * V, dtype=xp.float64))
        return total

    def grad(self, W: npt.NDArray[np.floating]) -> npt.NDArray[np.floating]:
        """``dR/dW`` (a subgradient for L1), same shape and dtype as ``W``; bias row 0."""
        if isinstance(W, list | tuple):
            W = np.asarray(W)
        G = namespace(W).zeros_like(W)
        if self.name != "none":
            self.add_grad(W, G, 1.0)
        return G

    def add_grad(
        self, W: npt.NDArray[np.floating], dW: npt.NDArray[np.floating], lam: float
    ) -> None:
        """``dW += lam * dR/dW`` in place, without allocating a W-sized temporary for L2
        (NumPy); ``dW`` is written in place on every library."""
        if self.name == "none" or lam == 0:
            return
        if isinstance(dW, np.ndarray) and isinstance(W, np.ndarray):
            V, out = (W, dW) if self.include_bias else (W[:-1], dW[:-1])
            if self.l1_ratio > 0:
                out += (lam * self.l1_ratio) * np.sign(V)
            if self.l1_ratio < 1:
                out += (lam * (1.0 - self.l1_ratio)) * V
            return
        xp, V = namespace(W, dW, names=("W", "dW")), self._part(W)
        step: Any = 0.0
        if self.l1_ratio > 0:
            step = (lam * self.l1_ratio) * xp.sign(V)
        if self.l1_ratio < 1:
            step = step + (lam * (1.0 - self.l1_ratio)) * V
        if self.include_bias:
            dW[...] = dW + step
        else:
            dW[:-1, ...] = dW[:-1, ...] + step


def l2(include_bias: bool = False) -> Regularizer:
    """``R(W) = 0.5 * sum(W**2)``, gradient ``W``.

    Examples:
        >>> l2().value(np.array([[3.0], [4.0], [100.0]]))     # the bias row (100) is excluded
        12.5
    """
    return Regularizer("l2", 0.0, include_bias)


def l1(include_bias: bool = False) -> Regularizer:
    """``R(W) = sum(|W|)``, subgradient ``sign(W)``.

    Examples:
        >>> l1().value(np.array([[3.0], [-4.0], [100.0]]))
        7.0
    """
    return Regularizer("l1", 1.0, include_bias)


def elastic_net(l1_ratio: float = 0.5, include_bias: bool = False) -> Regularizer:
    """``R(W) = l1_ratio * sum(|W|) + (1 - l1_ratio) * 0.5 * sum(W**2)``.

    Examples:
        >>> elastic_net(0.5).value(np.array([[2.0], [0.0]]))     # 0.5 * 2 + 0.5 * 0.5 * 4
        2.0
    """
    if isinstance(l1_ratio, bool) or not isinstance(l1_ratio, int | float):
        fail("l1_ratio", "a number in [0, 1]", type(l1_ratio).__name__, TypeError)
    if not 0.0 <= l1_ratio <= 1.0:
        fail("l1_ratio", "a number in [0, 1]", l1_ratio)
    return Regularizer("elastic_net", float(l1_ratio), include_bias)


def none() -> Regularizer:
    """No penalty: ``R(W) = 0``.

    Examples:
        >>> none().value(np.ones((3, 2)))
        0.0
    """
    return Regularizer("none", 0.0)


_FACTORIES: dict[str, Callable[[], Regularizer]] = {
    "l2": l2,
    "l1": l1,
    "elastic_net": elastic_net,
    "none": none,
}
NAMES: tuple[str, ...] = tuple(_FACTORIES)


def get(regularizer: str | Regularizer | None) -> Regularizer:
    """A :class:`Regularizer` from a name (``"l2"``, ``"l1"``, ``"elastic_net"``, ``"none"``),
    ``None`` (no penalty) or a ready instance.

    Examples:
        >>> get("l1").name
        'l1'
    """
    if regularizer is None:
        return none()
    if isinstance(regularizer, Regularizer):
        return regularizer
    if not isinstance(regularizer, str) or regularizer not in _FACTORIES:
        fail("regularizer", f"one of {sorted(_FACTORIES)} or a Regularizer", repr(regularizer))
    return _FACTORIES[regularizer]()
