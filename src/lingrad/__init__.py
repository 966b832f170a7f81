"""lingrad: linear classifiers, loss functions and gradient-based learning.

The public API, re-exported from the modules that define it. Every name is imported on first
use (PEP 562 ``__getattr__``), so ``import lingrad`` and ``lingrad --help`` load no NumPy,
SymPy, scikit-learn or Matplotlib until a name that needs them is touched.

Examples:
    >>> import lingrad
    >>> lingrad.softmax.__module__
    'lingrad.model'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: public name -> the module that defines it (a name equal to its module's last part is the
#: module itself)
_LAZY: dict[str, str] = {
    "autodiff": "lingrad.autodiff",
    "datasets": "lingrad.datasets",
    "estimators": "lingrad.estimators",
    "grad": "lingrad.grad",
    "io": "lingrad.io",
    "losses": "lingrad.losses",
    "optim": "lingrad.optim",
    "reference": "lingrad.reference",
    "regularizers": "lingrad.regularizers",
    "runs": "lingrad.runs",
    "gradcheck": "lingrad.grad",
    "numerical_gradient": "lingrad.grad",
    "init_weights": "lingrad.model",
    "predict": "lingrad.model",
    "predict_proba": "lingrad.model",
    "scores": "lingrad.model",
    "sigmoid": "lingrad.model",
    "softmax": "lingrad.model",
    "Objective": "lingrad.objective",
    "FitResult": "lingrad.train",
    "fit": "lingrad.train",
    "LinearClassifier": "lingrad.estimators",
    "LinearRegressor": "lingrad.estimators",
    "from_weights": "lingrad.estimators",
    "LinearClassifierCV": "lingrad.model_selection",
    "LinearRegressorCV": "lingrad.model_selection",
}

__all__ = [
    "FitResult",
    "LinearClassifier",
    "LinearClassifierCV",
    "LinearRegressor",
    "LinearRegressorCV",
    "Objective",
    "__version__",
    "autodiff",
    "datasets",
    "estimators",
    "fit",
    "from_weights",
    "grad",
    "gradcheck",
    "init_weights",
    "io",
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

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time __getattr__ imports on use
    from lingrad import (
        autodiff,
        datasets,
        estimators,
        grad,
        io,
        losses,
        optim,
        reference,
        regularizers,
        runs,
    )
    from lingrad.estimators import LinearClassifier, LinearRegressor, from_weights
    from lingrad.grad import gradcheck, numerical_gradient
    from lingrad.model import init_weights, predict, predict_proba, scores, sigmoid, softmax
    from lingrad.model_selection import LinearClassifierCV, LinearRegressorCV
    from lingrad.objective import Objective
    from lingrad.train import FitResult, fit


def __getattr__(name: str) -> Any:
    """Import the public ``name`` on first use and keep it in the package's namespace."""
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'lingrad' has no attribute {name!r}")
    module = importlib.import_module(target)
    value = module if target.rpartition(".")[2] == name else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The package's names, the ones not imported yet included."""
    return sorted(set(globals()) | set(_LAZY))
