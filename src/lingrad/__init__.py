"""lingrad: linear classifiers, loss functions and gradient-based learning.

The public API, re-exported from the modules that define it.
"""

from lingrad import autodiff, datasets, grad, losses, reference, regularizers
from lingrad.grad import gradcheck, numerical_gradient
from lingrad.model import init_weights, predict, predict_proba, scores, sigmoid, softmax
from lingrad.objective import Objective

__version__ = "0.1.0"

__all__ = [
    "Objective",
    "__version__",
    "autodiff",
    "datasets",
    "grad",
    "gradcheck",
    "init_weights",
    "losses",
    "numerical_gradient",
    "predict",
    "predict_proba",
    "reference",
    "regularizers",
    "scores",
    "sigmoid",
    "softmax",
]
