"""lingrad: linear classifiers, loss functions and gradient-based learning.

The public API, re-exported from the modules that define it.
"""

from lingrad import autodiff, datasets, grad, losses, optim, reference, regularizers, runs
from lingrad.grad import gradcheck, numerical_gradient
from lingrad.model import init_weights, predict, predict_proba, scores, sigmoid, softmax
from lingrad.objective import Objective
from lingrad.train import FitResult, fit

__version__ = "0.1.0"

__all__ = [
    "FitResult",
    "Objective",
    "__version__",
    "autodiff",
    "datasets",
    "fit",
    "grad",
    "gradcheck",
    "init_weights",
    "losses",
    "numerical_gradient",
    "optim",
    "predict",
    "predict_proba",
    "reference",
    "regularizers",
    "runs",
    "scores",
    "sigmoid",
    "softmax",
]

# The scikit-learn estimators and model files, imported on first use (scikit-learn takes
# seconds to import; `import lingrad` and the CLI's other commands need not pay for it).
_LAZY = {
    "LinearClassifier": "lingrad.estimators",
    "LinearRegressor": "lingrad.estimators",
    "from_weights": "lingrad.estimators",
    "LinearClassifierCV": "lingrad.model_selection",
    "LinearRegressorCV": "lingrad.model_selection",
    "estimators": "lingrad.estimators",
    "io": "lingrad.io",
}
__all__ += list(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        import importlib

        module = importlib.import_module(_LAZY[name])
        return module if _LAZY[name].endswith(name) else getattr(module, name)
    raise AttributeError(f"module 'lingrad' has no attribute {name!r}")
