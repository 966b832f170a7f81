"""Your model out: the playground's state as a runnable Python script, and as a model file.

:func:`script` writes a self-contained script that rebuilds the data, the feature map and the
objective with lingrad, holds the weights exactly (every float written by ``repr``, which
round-trips), checks ``J(W)`` against the value the page showed and prints the weights and
``J`` as JSON. :func:`model_file` is the ``.npz`` of :func:`lingrad.io.save` for a
:class:`~lingrad.estimators.LinearClassifier` holding ``W`` (its inputs are the mapped
features, named in the file's metadata).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np

from lingrad import io
from lingrad.estimators import from_weights
from lingrad.objective import Objective
from lingrad.playground.features import expand, ordered

_TEMPLATE = '''\
"""The lingrad playground's state, exported: data, feature map, objective and weights W.

    python {name}      # prints {{"W": ..., "loss": ..., "accuracy": ...}} as JSON
"""

import json

import numpy as np

from lingrad.objective import Objective
from lingrad.playground.features import expand

X = np.array({X}, dtype=np.float64)  # points (N, 2)
y = np.array({y}, dtype=np.intp)  # labels (N,)
W = np.array({W}, dtype=np.float64)  # weights (2 + F + 1, C), bias last
FEATURES = {features}  # appended to (x1, x2)
LOSS, LAM = {loss}, {lam}
SHOWN_J = {J}  # J(W) as lingrad computed it for the page

Phi = expand(X, FEATURES)
objective = Objective(LOSS, Phi, y, regularizer="l2", lam=LAM)
J = objective.value(W)
assert abs(J - SHOWN_J) <= 1e-12 * max(1.0, abs(SHOWN_J)), (J, SHOWN_J)
accuracy = float(np.mean(np.argmax(Phi @ W[:-1] + W[-1], axis=1) == y))
print(json.dumps({{"W": W.tolist(), "loss": J, "accuracy": accuracy}}))
'''


def script(
    X: np.ndarray, y: np.ndarray, W: np.ndarray, features: list[str], loss: str, lam: float
) -> str:
    """A runnable script reproducing ``W`` (exactly) and ``J(W)`` with lingrad.

    ``X``: ``(N, 2)``; ``y``: ``(N,)``; ``W``: ``(2 + len(features) + 1, C)``.

    Examples:
        >>> text = script(np.zeros((2, 2)), np.array([0, 1]), np.zeros((3, 2)), [], "hinge", 0.1)
        >>> namespace = {}
        >>> import contextlib, io as _io
        >>> with contextlib.redirect_stdout(_io.StringIO()) as out:
        ...     exec(compile(text, "export", "exec"), namespace)
        >>> json.loads(out.getvalue())["loss"]
        1.0
    """
    names = ordered(features)
    J = Objective(loss, _mapped(X, names), y, regularizer="l2", lam=lam).value(W)
    return _TEMPLATE.format(
        name="playground_export.py",
        X=json.dumps(np.asarray(X).tolist()),
        y=json.dumps(np.asarray(y).tolist()),
        W=json.dumps(np.asarray(W).tolist()),
        features=json.dumps(names),
        loss=json.dumps(loss),
        lam=repr(float(lam)),
        J=repr(float(J)),
    )


def _mapped(X: np.ndarray, names: list[str]) -> np.ndarray:
    return expand(np.asarray(X, dtype=np.float64), names)


def model_file(W: np.ndarray, features: list[str], loss: str, lam: float) -> bytes:
    """The bytes of a lingrad model file (:func:`lingrad.io.save`) holding ``W``; its feature
    names are ``x1``, ``x2`` and the feature maps (written to a temporary folder, removed).

    Examples:
        >>> data = model_file(np.eye(3)[:, :2], [], "hinge", 0.0)
        >>> data[:2]
        b'PK'
    """
    model = from_weights(np.asarray(W, dtype=np.float64), loss=loss, lam=lam)
    model.feature_names_in_ = np.array(["x1", "x2", *ordered(features)], dtype=object)
    with tempfile.TemporaryDirectory() as folder:
        path = io.save(model, Path(folder) / "playground.npz")
        return path.read_bytes()
