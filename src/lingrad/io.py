"""Save and load fitted models as ``.npz`` files, never pickle.

A model file is one NumPy ``.npz`` archive holding plain arrays only, read back with
``allow_pickle=False`` so that loading can never run code:

* ``W``: the weights in lingrad's orientation ``(D + 1, C)``, bias in the last row, in the
  model's dtype (float32 stays float32); run folders and plots read this key;
* ``classes``: the class labels (numbers or strings), for classifiers;
* ``loss_history``: the training objective per epoch;
* ``preprocessing_mean``, ``preprocessing_scale``: the preprocessing fitted on the training
  data (see :class:`lingrad.datasets.Preprocessing`), when there is one;
* ``metadata``: a JSON document: format name and version, estimator class, loss, dtype, feature
  count, hyperparameters, feature names, and the SHA-256 of every array above.

Damaged files give a clear :class:`ValueError` that names the file: not an ``.npz`` (or
truncated), arrays declaring more than the file's size allows (a decompression bomb, refused
before anything is read: see :func:`lingrad.runs.load_npz`), arrays the metadata does not
list (refused before they are read), no or unreadable metadata, another format version, arrays
that no longer match their checksums (edited after saving), shapes that contradict the
metadata. The checksums catch accidents and casual edits; they are not a signature (whoever can
write the file can rewrite them too). Writes are atomic (:func:`lingrad.runs.atomic_write`):
the archive goes to a temporary file in the same folder and is renamed over the target only
when complete.

Examples:
    >>> import tempfile, pathlib, numpy as np
    >>> from lingrad.estimators import LinearClassifier
    >>> X, y = np.array([[0.0], [1.0], [3.0], [4.0]]), ["a", "a", "b", "b"]
    >>> model = LinearClassifier(random_state=0).fit(X, y)
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "model.npz"
    >>> _ = save(model, path)
    >>> load(path).predict([[0.5], [3.5]]).tolist()
    ['a', 'b']
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from lingrad import datasets, runs
from lingrad._validation import fail
from lingrad.datasets import Preprocessing
from lingrad.estimators import LinearClassifier, LinearRegressor, from_weights

FORMAT = "lingrad-model"
#: The model-file version this lingrad writes and reads.
VERSION = 1

_ESTIMATORS = {cls.__name__: cls for cls in (LinearClassifier, LinearRegressor)}


def _digest(a: np.ndarray) -> str:
    """SHA-256 of an array's dtype, shape and bytes."""
    h = hashlib.sha256(f"{a.dtype.str}{a.shape}".encode())
    h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def _json_params(model: LinearClassifier | LinearRegressor) -> dict[str, Any]:
    """The hyperparameters that JSON can hold (a Generator ``random_state`` is dropped)."""
    params = {}
    for name, value in model.get_params(deep=False).items():
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, dict):
            value = {
                "__dict__": [
                    [k.item() if isinstance(k, np.generic) else k, v] for k, v in value.items()
                ]
            }
        try:
            json.dumps(value)
        except TypeError:
            continue
        params[name] = value
    return params


#: Estimator parameters renamed since a model file could have been written (issue 14).
_RENAMED = {"epochs": "max_iter", "patience": "n_iter_no_change"}


def _params_from_json(params: dict[str, Any]) -> dict[str, Any]:
    out = {
        _RENAMED.get(k, k): (
            {a: b for a, b in v["__dict__"]} if isinstance(v, dict) and "__dict__" in v else v
        )
        for k, v in params.items()
    }
    if "patience" in params:  # fit's patience p stopped after p + 1 epochs without progress
        out["n_iter_no_change"] = params["patience"] + 1
    return out


def _classes_array(classes: np.ndarray) -> tuple[np.ndarray, str]:
    if classes.dtype.kind in "biufU":
        return classes, "array"
    if classes.dtype == object and all(isinstance(c, str) for c in classes):
        return classes.astype(str), "object"
    fail(
        "classes_",
        "numbers or strings (storable without pickle)",
        f"dtype {classes.dtype}",
        TypeError,
    )


def save(
    model: LinearClassifier | LinearRegressor,
    path: runs.PathLike,
    *,
    preprocessing: Preprocessing | None = None,
) -> Path:
    """Write a fitted :class:`~lingrad.estimators.LinearClassifier` or
    :class:`~lingrad.estimators.LinearRegressor` to ``path`` (ending in ``.npz``) atomically.

    ``preprocessing``: the transform the model expects its input to have gone through (fitted
    on the training data); by default the model's own ``preprocessing_`` if it has one.
    Returns the path written.

    Examples:
        >>> import tempfile, numpy as np
        >>> from lingrad.estimators import LinearClassifier
        >>> X = np.array([[0.0, 0.0], [0.1, 0.3], [2.0, 2.0], [2.2, 1.8]])
        >>> clf = LinearClassifier(random_state=0).fit(X, ["cat", "cat", "dog", "dog"])
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = save(clf, f"{tmp}/model.npz")
        ...     again = load(path)
        >>> path.name, again.classes_.tolist(), bool(np.array_equal(again.W_, clf.W_))
        ('model.npz', ['cat', 'dog'], True)
    """
    name = type(model).__name__
    if name not in _ESTIMATORS or not isinstance(model, _ESTIMATORS[name]):
        fail("model", "a LinearClassifier or LinearRegressor", name, TypeError)
    if not hasattr(model, "W_"):
        fail("model", "a fitted model (call fit first)", f"an unfitted {name}")
    path = Path(path)
    if path.suffix != ".npz":
        fail("path", "a file name ending in .npz", repr(str(path)))
    preprocessing = (
        preprocessing if preprocessing is not None else getattr(model, "preprocessing_", None)
    )
    W = np.asarray(model.W_)
    arrays = {"W": W, "loss_history": np.asarray(model.loss_curve_, dtype=np.float64)}
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "estimator": name,
        "loss": model.loss_,
        "dtype": W.dtype.name,
        "n_features": int(model.n_features_in_),
        "n_columns": int(W.shape[1]),
        "n_iter": int(model.n_iter_),
        "params": _json_params(model),
        "feature_names": (
            [str(f) for f in model.feature_names_in_]
            if hasattr(model, "feature_names_in_")
            else None
        ),
        "preprocessing": None if preprocessing is None else preprocessing.kind,
    }
    if isinstance(model, LinearClassifier):
        arrays["classes"], meta["classes_kind"] = _classes_array(np.asarray(model.classes_))
    if preprocessing is not None:
        if preprocessing.mean is None:
            fail("preprocessing", "a fitted Preprocessing", "an unfitted one")
        arrays["preprocessing_mean"] = np.asarray(preprocessing.mean)
        arrays["preprocessing_scale"] = np.asarray(preprocessing.scale)
    meta["sha256"] = {k: _digest(v) for k, v in arrays.items()}
    arrays["metadata"] = np.array(json.dumps(meta, sort_keys=True))

    runs.atomic_write(path, lambda f: np.savez(f, allow_pickle=False, **arrays))
    return path


_WHAT = "a lingrad model file (.npz)"
#: The arrays a model file (or a run's ``model.npz``) may hold besides ``metadata``.
_KEYS = frozenset(
    {"W", "classes", "loss_history", "preprocessing_mean", "preprocessing_scale", "trajectory"}
)
#: The largest metadata document read (a model's JSON is a few kilobytes).
_MAX_METADATA = 2**20


def _members(path: Path) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """The arrays of a model file, from the headers only (nothing read; sizes bounded)."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: expected a model file, got no such file")
    return runs.npz_members(path, what=_WHAT)


def _read(path: Path) -> tuple[dict, dict[str, np.ndarray]]:
    """The metadata and arrays of a model file, every failure as one clear ValueError.

    The metadata is read first; the other arrays only once their names match its checksums."""
    members = _members(path)
    if "metadata" not in members:
        fail(str(path), "a lingrad model file with metadata", f"arrays {sorted(members)}")
    shape, dtype = members["metadata"]
    if shape != () or dtype.kind != "U" or dtype.itemsize > _MAX_METADATA:
        fail(str(path), "JSON metadata", f"unreadable metadata ({dtype} {shape})")
    try:
        document = runs.load_npz(path, only={"metadata"}, what=_WHAT)["metadata"]
        meta = json.loads(str(document[()]))
    except (ValueError, TypeError) as exc:
        if str(exc).startswith(str(path)):
            raise
        fail(str(path), "JSON metadata", f"unreadable metadata ({exc})")
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        got = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
        fail(str(path), f"a '{FORMAT}' file", repr(got))
    if meta.get("version") != VERSION:
        fail(
            f"{path}: version",
            f"{VERSION} (the model-file version this lingrad reads)",
            repr(meta.get("version")),
        )
    names = set(members) - {"metadata"}
    sums = meta.get("sha256")
    if not isinstance(sums, dict) or set(sums) != names:
        fail(
            str(path),
            f"checksums for the arrays {sorted(names)}",
            f"checksums for {sorted(sums) if isinstance(sums, dict) else sums}",
        )
    arrays = runs.load_npz(path, _KEYS | {"metadata"}, only=names, what=_WHAT)
    for key, array in arrays.items():
        if _digest(array) != sums[key]:
            fail(
                str(path),
                f"the array '{key}' its checksum describes",
                f"a changed '{key}' (the file was modified after saving)",
            )
    return meta, arrays


def load(path: runs.PathLike) -> LinearClassifier | LinearRegressor:
    """Read a model written by :func:`save` (``path``: the file, or a folder holding
    ``model.npz``); returns the fitted estimator.

    A ``lingrad train`` run folder (``model.npz`` with ``W`` only, beside ``config.json``) is
    read too: the loss comes from the config, the classes are ``0..C-1`` and the
    standardisation is refitted on the run's training split (such a file has no checksums).

    The estimator has its learned attributes (``W_``, ``coef_``, ``intercept_``, ``classes_``,
    ``n_features_in_``, ``feature_names_in_``, ``n_iter_``, ``loss_curve_``) and
    ``preprocessing_``: the :class:`~lingrad.datasets.Preprocessing` to apply to raw input
    before ``predict`` (``None`` if the model was saved without one).

    Examples:
        >>> import tempfile, numpy as np
        >>> from lingrad.estimators import LinearRegressor
        >>> X = np.array([[0.0], [1.0], [2.0]])
        >>> reg = LinearRegressor(random_state=0).fit(X, [1.0, 3.0, 5.0])
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     again = load(save(reg, f"{tmp}/reg.npz"))
        >>> type(again).__name__, bool(np.allclose(again.predict(X), reg.predict(X)))
        ('LinearRegressor', True)
    """
    path = Path(path)
    if path.is_dir():  # a run folder
        path = path / runs.MODEL
    if (path.parent / runs.CONFIG).is_file() and "metadata" not in _members(path):
        return _from_run(path)
    meta, arrays = _read(path)
    try:
        if meta["estimator"] not in _ESTIMATORS:
            fail("estimator", f"one of {sorted(_ESTIMATORS)}", repr(meta["estimator"]))
        W = arrays["W"]
        D, C = int(meta["n_features"]), int(meta["n_columns"])
        if W.shape != (D + 1, C) or W.dtype.name != meta["dtype"]:
            fail("W", f"{meta['dtype']} weights of shape ({D + 1}, {C})", f"{W.dtype} {W.shape}")
        classes = arrays.get("classes")
        if classes is not None and meta.get("classes_kind") == "object":
            classes = classes.astype(object)
        params = _params_from_json(meta["params"])
        model = from_weights(
            W,
            loss=params.pop("loss", meta["loss"]),
            classes=classes,
            n_iter=int(meta["n_iter"]),
            loss_history=arrays["loss_history"],
            **params,
        )
        if type(model).__name__ != meta["estimator"]:
            fail("estimator", type(model).__name__, repr(meta["estimator"]))
    except (KeyError, TypeError, ValueError) as exc:
        fail(str(path), "consistent metadata", f"{type(exc).__name__}: {exc}")
    if meta.get("feature_names") is not None:
        model.feature_names_in_ = np.asarray(meta["feature_names"], dtype=object)
    model.preprocessing_ = None
    if meta.get("preprocessing") is not None:
        mean, scale = arrays.get("preprocessing_mean"), arrays.get("preprocessing_scale")
        if mean is None or scale is None or mean.shape != (D,) or scale.shape != (D,):
            fail(f"{path}: preprocessing", f"a mean and a scale of shape ({D},)", "none")
        model.preprocessing_ = Preprocessing(meta["preprocessing"], mean, scale)
    return model


def _from_run(path: Path) -> LinearClassifier | LinearRegressor:
    """The model of a ``lingrad train`` run folder: ``model.npz`` holds only ``W``; the loss,
    the dataset and its standardisation come from the folder's ``config.json``."""
    config = runs.read_json(path.parent / runs.CONFIG)
    try:
        W = runs.load_model(path)
        model = from_weights(W, loss=config["loss"])
        model.preprocessing_ = None
        if config.get("standardize", False):
            kwargs = {"seed": int(config.get("seed") or 0), "data_dir": config.get("data_dir")}
            kwargs["label"] = config.get("label")  # a user CSV's label column
            data = datasets.load(config["dataset"], **kwargs)
            model.preprocessing_ = Preprocessing("standardize").fit(data.X_train)
    except (KeyError, TypeError) as exc:
        fail(str(path.parent / runs.CONFIG), "a run's config (loss, dataset, seed)", repr(exc))
    return model


def to_onnx(model: Any, *, target_opset: int | None = None, dtype: Any = None) -> Any:
    """The ONNX graph (an ``onnx.ModelProto``) of a fitted model, or of a model file or run
    folder (read by :func:`load`, so a run's standardisation is in the graph): input ``X``
    ``(N, D)``, the preprocessing, the scores ``S = X W[:-1] + W[-1]`` and the outputs of
    :func:`lingrad.onnx_export.to_onnx` (``label``, ``probabilities``, ``scores``;
    ``prediction`` for a regressor). Needs the ``onnx`` extra (``pip install lingrad[onnx]``);
    ONNX is imported only here.

    Examples:
        >>> import numpy as np
        >>> from lingrad.estimators import LinearClassifier
        >>> X = np.array([[0.0], [1.0], [3.0], [4.0]])
        >>> clf = LinearClassifier(random_state=0).fit(X, [0, 0, 1, 1])
        >>> [o.name for o in to_onnx(clf).graph.output]
        ['label', 'probabilities', 'scores']
    """
    try:
        from lingrad import onnx_export
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError(
            f"lingrad.io.to_onnx needs the package {exc.name!r}: pip install 'lingrad[onnx]'",
            name=exc.name,
        ) from exc
    if isinstance(model, str | Path):
        model = load(model)
    return onnx_export.to_onnx(model, target_opset=target_opset, dtype=dtype)


__all__ = ["FORMAT", "VERSION", "load", "save", "to_onnx"]
