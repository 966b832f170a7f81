"""Reverse-mode automatic differentiation: "deep learning as Legos".

A library of simple functions (:mod:`lingrad.autodiff.functions`: each primitive's forward and
vector-Jacobian product side by side), a graph node that records them
(:class:`~lingrad.autodiff.tensor.Tensor`) and ``backward()``, which replays the graph in
reverse. Any composition of primitives is differentiated without deriving anything by hand.
The engine knows nothing of lingrad's losses: their forms written with these primitives live
beside the gradient method that uses them (:mod:`lingrad.grad.autodiff`).

Examples:
    >>> from lingrad.autodiff import Tensor, functions as F
    >>> x = Tensor([0.0, 2.0], requires_grad=True)
    >>> y = F.sigmoid(x).sum()
    >>> y.backward()
    >>> x.grad[0]                        # sigma'(0) = sigma(0) (1 - sigma(0))
    np.float64(0.25)
"""

from lingrad.autodiff import functions
from lingrad.autodiff.functions import NONDIFFERENTIABLE, PRIMITIVES, defprimitive
from lingrad.autodiff.tensor import (
    Primitive,
    Tensor,
    is_grad_enabled,
    no_grad,
    tensor,
    unbroadcast,
)

__all__ = [
    "NONDIFFERENTIABLE",
    "PRIMITIVES",
    "Primitive",
    "Tensor",
    "defprimitive",
    "functions",
    "is_grad_enabled",
    "no_grad",
    "tensor",
    "unbroadcast",
]
