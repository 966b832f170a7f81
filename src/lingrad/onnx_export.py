"""ONNX export of a fitted linear model: the same predictions, run by any ONNX runtime.

The graph reads ``X`` ``(N, D)`` (float32 by default, float64 when asked) and computes, in the
dtype of the model's weights ``W`` ``(D + 1, C)`` (as ``predict`` does: X is cast to W's dtype
first, so a float64 model gives float64 arithmetic whatever the input):

    Z = (X - mean) / scale          the model's preprocessing (when it has one)
    S = Z @ W[:-1] + W[-1]          the scores (N, C): MatMul + Add

and its outputs, cast back to the input's dtype:

* a classifier: ``label`` ``(N,)`` (the class labels, numbers or strings: ``classes_[k]``
  gathered from a constant), with ``k = argmax_j S[:, j]`` for ``C >= 2`` (the first on a tie)
  and ``k = [s >= 0]`` for ``C == 1`` (the slides' rule, as ``LinearClassifier.predict``: a
  score of exactly 0 is ``classes_[1]``); ``probabilities`` ``(N, K)``, as ``predict_proba``: the
  softmax of ``S`` (softmax cross-entropy), ``[1 - sigma(s), sigma(s)]`` for one sigmoid
  column (logistic, sigmoid squared error), or per-column sigmoids normalised to sum to 1;
  the hinge losses define no probabilities, so their graph has no ``probabilities`` output
  (``LinearClassifier`` has no ``predict_proba`` for them either); ``scores``: the
  ``decision_function``, ``(N,)`` for two classes (``S[:, 1] - S[:, 0]``, or ``s``), else
  ``(N, K)``;
* a regressor: ``prediction`` ``(N,)``.

A ``kl_divergence`` run (trained on soft targets) has no estimator (:func:`lingrad.io.load`
refuses it, as ``lingrad predict`` does), so it is not exported.

:func:`register_skl2onnx` teaches ``skl2onnx.to_onnx`` the two estimators, so that a
scikit-learn ``Pipeline`` holding one converts whole. It is called by the user (importing this
module registers nothing). The converter follows skl2onnx's classifier convention: outputs
``label`` and ``probabilities`` (``zipmap`` on by default, as for scikit-learn's classifiers;
pass ``options={"zipmap": False}`` for a plain ``(N, K)`` tensor: skl2onnx's ZipMap takes
float32 only, so a float64 pipeline needs it off); for the hinge losses ``probabilities``
holds the decision scores (``(N, K)``; ``[-d, d]`` for two classes), as skl2onnx does for
``LinearSVC``; numeric labels come out as int64. Only the two classes themselves are
registered (skl2onnx looks converters up by exact class).

The graph uses MatMul, Add, Sub, Div, Cast, ArgMax, GreaterOrEqual, Gather, Softmax, Sigmoid,
Concat, Neg, Reshape and Identity only, all with the same meaning from opset 13 on (the lowest
``target_opset`` accepted).

Examples:
    >>> import numpy as np, onnxruntime as ort
    >>> from lingrad.estimators import LinearClassifier
    >>> X = np.array([[0.0, 0.0], [0.1, 0.3], [2.0, 2.0], [2.2, 1.8]])
    >>> clf = LinearClassifier(random_state=0).fit(X, ["cat", "cat", "dog", "dog"])
    >>> session = ort.InferenceSession(to_onnx(clf).SerializeToString())
    >>> label, proba, scores = session.run(None, {"X": X.astype(np.float32)})
    >>> label.tolist(), bool(np.allclose(proba, clf.predict_proba(X), atol=1e-6))
    (['cat', 'cat', 'dog', 'dog'], True)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import onnx
from numpy.typing import NDArray
from onnx import helper, numpy_helper

from lingrad import losses
from lingrad._validation import fail
from lingrad.estimators import LinearClassifier, LinearRegressor

#: The opset written when ``target_opset`` is not given (onnxruntime >= 1.14 runs it).
DEFAULT_OPSET = 17
#: The lowest opset accepted: every operator used has its present meaning from here on.
MIN_OPSET = 13

_DTYPES = {
    np.dtype(np.float32): onnx.TensorProto.FLOAT,
    np.dtype(np.float64): onnx.TensorProto.DOUBLE,
}


@dataclass(frozen=True)
class _Model:
    """What the graph needs of a fitted model."""

    W: NDArray[np.floating]  # (D + 1, C)
    loss: str  # the registry name
    classes: NDArray[Any] | None  # (K,); None for a regressor
    mean: NDArray[np.floating] | None  # (D,) the preprocessing, or None
    scale: NDArray[np.floating] | None


def _fitted(model: object) -> _Model:
    """The :class:`_Model` of a fitted estimator."""
    if not isinstance(model, LinearClassifier | LinearRegressor):
        fail(
            "model",
            "a LinearClassifier or LinearRegressor (lingrad.io.to_onnx reads model files and "
            "run folders)",
            type(model).__name__,
            TypeError,
        )
    if not hasattr(model, "W_"):
        fail("model", "a fitted model (call fit first)", f"an unfitted {type(model).__name__}")
    W = np.asarray(model.W_)
    pre = getattr(model, "preprocessing_", None)
    mean = scale = None
    if pre is not None and pre.kind != "none":
        mean, scale = (np.asarray(a, dtype=W.dtype) for a in (pre.mean, pre.scale))
    classes = np.asarray(model.classes_) if isinstance(model, LinearClassifier) else None
    return _Model(W, losses.canonical_name(model.loss_), classes, mean, scale)


class _Graph(Protocol):
    """Where nodes go: a plain ONNX graph, or a skl2onnx container."""

    def const(self, prefix: str, array: NDArray[Any]) -> str: ...

    def node(self, op: str, inputs: list[str], out: str | None = None, **attrs: Any) -> str: ...


class _OnnxGraph:
    """Nodes and initialisers of a new ONNX graph, with fresh names."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._count = 0

    def _fresh(self, prefix: str) -> str:
        self._count += 1
        return f"{prefix}_{self._count}"

    def const(self, prefix: str, array: NDArray[Any]) -> str:
        name = self._fresh(prefix)
        if array.dtype.kind in "UO":
            array = np.array([str(a) for a in array.ravel()], dtype=object).reshape(array.shape)
        self.initializers.append(numpy_helper.from_array(array, name))
        return name

    def node(self, op: str, inputs: list[str], out: str | None = None, **attrs: Any) -> str:
        out = out or self._fresh(op.lower())
        self.nodes.append(helper.make_node(op, inputs, [out], name=self._fresh(op), **attrs))
        return out


def _labels(classes: NDArray[Any], as_int64: bool) -> NDArray[Any]:
    """The class labels as an ONNX constant can hold them: strings, int64, or floats."""
    if classes.dtype.kind in "UO" and all(isinstance(c, str) for c in classes):
        return classes.astype(str)
    if classes.dtype.kind in "biu" or (as_int64 and classes.dtype.kind == "f"):
        if classes.dtype.kind == "f" and not np.all(classes == np.round(classes)):
            fail("classes_", "integer or string labels (skl2onnx's label types)", classes)
        return classes.astype(np.int64)
    if classes.dtype.kind == "f":
        return classes
    fail("classes_", "numbers or strings", f"dtype {classes.dtype}", TypeError)


def _scores(g: _Graph, m: _Model, x: str, x_dtype: np.dtype) -> str:
    """``S = ((X - mean) / scale) @ W[:-1] + W[-1]`` in W's dtype, ``(N, C)``."""
    if x_dtype != m.W.dtype:
        x = g.node("Cast", [x], to=_DTYPES[m.W.dtype])
    if m.mean is not None and m.scale is not None:
        x = g.node("Div", [g.node("Sub", [x, g.const("mean", m.mean)]), g.const("scale", m.scale)])
    S = g.node("MatMul", [x, g.const("coef", np.ascontiguousarray(m.W[:-1]))])
    return g.node("Add", [S, g.const("intercept", np.ascontiguousarray(m.W[-1]))])


def _column(g: _Graph, S: str, j: int, flat: bool) -> str:
    """Column ``j`` of ``S`` ``(N, C)``: ``(N,)`` when ``flat``, else ``(N, 1)``."""
    s = g.node("Gather", [S, g.const("column", np.array([j], dtype=np.int64))], axis=1)
    return g.node("Reshape", [s, g.const("shape", np.array([-1], dtype=np.int64))]) if flat else s


def _probabilities(g: _Graph, m: _Model, S: str) -> str:
    """``predict_proba``: ``(N, K)`` from the scores."""
    if losses.spec(m.loss).link == "softmax":
        return g.node("Softmax", [S], axis=1)
    P = g.node("Sigmoid", [S])
    if m.W.shape[1] == 1:  # [1 - p, p]
        q = g.node("Sub", [g.const("one", np.ones((1, 1), m.W.dtype)), P])
        return g.node("Concat", [q, P], axis=1)
    ones = g.const("ones", np.ones((m.W.shape[1], 1), m.W.dtype))
    return g.node("Div", [P, g.node("MatMul", [P, ones])])


def _decision(g: _Graph, m: _Model, S: str, flat: bool) -> str:
    """``decision_function``: ``(N,)`` for two classes (``(N, 1)`` unless ``flat``), else S."""
    C = m.W.shape[1]
    if C == 1:
        return _column(g, S, 0, flat)
    if C == 2:
        return g.node("Sub", [_column(g, S, 1, flat), _column(g, S, 0, flat)])
    return S


def _emit(
    g: _Graph,
    m: _Model,
    x: str,
    x_dtype: np.dtype,
    outputs: dict[str, tuple[str, np.dtype | None]],
    *,
    int64_labels: bool = False,
) -> None:
    """Add the nodes from input ``x`` to the named ``outputs``: a role (``label``,
    ``probabilities``, ``scores``, ``matrix``: the skl2onnx probabilities of a hinge model,
    ``prediction``, ``column``: the prediction ``(N, 1)``) -> (name, dtype; None for labels).
    ``int64_labels``: numeric labels as int64 (skl2onnx's label type)."""
    S = _scores(g, m, x, x_dtype)

    def out(role: str, value: str) -> None:
        name, dtype = outputs[role]
        to = _DTYPES[np.dtype(dtype)] if dtype is not None else None
        if to is None or np.dtype(dtype) == m.W.dtype:
            g.node("Identity", [value], name)
        else:
            g.node("Cast", [value], name, to=to)

    if m.classes is None:
        if "prediction" in outputs:
            out("prediction", _column(g, S, 0, flat=True))
        if "column" in outputs:
            out("column", S)
        return
    if m.W.shape[1] == 1:
        positive = g.node("GreaterOrEqual", [S, g.const("zero", np.zeros((1, 1), m.W.dtype))])
        index = g.node("Reshape", [positive, g.const("shape", np.array([-1], np.int64))])
        index = g.node("Cast", [index], to=onnx.TensorProto.INT64)
    else:
        index = g.node("ArgMax", [S], axis=1, keepdims=0)
    labels = _labels(m.classes, as_int64=int64_labels)
    g.node("Gather", [g.const("classes", labels), index], outputs["label"][0], axis=0)
    if "probabilities" in outputs:
        out("probabilities", _probabilities(g, m, S))
    if "scores" in outputs:
        out("scores", _decision(g, m, S, flat=True))
    if "matrix" in outputs:
        d = _decision(g, m, S, flat=False)
        out("matrix", g.node("Concat", [g.node("Neg", [d]), d], axis=1) if m.W.shape[1] <= 2 else d)


def _check_opset(target_opset: int | None) -> int:
    opset = DEFAULT_OPSET if target_opset is None else target_opset
    newest = onnx.defs.onnx_opset_version()
    if isinstance(opset, bool) or not isinstance(opset, int) or not MIN_OPSET <= opset <= newest:
        fail("target_opset", f"an integer in [{MIN_OPSET}, {newest}]", repr(target_opset))
    return opset


def to_onnx(model: Any, *, target_opset: int | None = None, dtype: Any = None) -> onnx.ModelProto:
    """The ONNX graph of a fitted model (see the module docstring for its inputs and outputs).

    Args:
        model: a fitted :class:`~lingrad.estimators.LinearClassifier` or
            :class:`~lingrad.estimators.LinearRegressor`; its ``preprocessing_``, if any
            (a model read by :func:`lingrad.io.load`), goes into the graph.
            :func:`lingrad.io.to_onnx` takes a model file or run folder too.
        target_opset: the ONNX opset, from 13 (default :data:`DEFAULT_OPSET`).
        dtype: the dtype of the input ``X`` ``(N, D)`` and of the float outputs:
            ``float32`` (default) or ``float64``; the arithmetic is in W's dtype either way.

    Returns:
        The model, checked by ``onnx.checker.check_model``.

    Examples:
        >>> import numpy as np, onnxruntime as ort
        >>> from lingrad.estimators import LinearRegressor
        >>> X = np.array([[0.0], [1.0], [2.0]])
        >>> reg = LinearRegressor(random_state=0).fit(X, [1.0, 3.0, 5.0])
        >>> proto = to_onnx(reg, dtype=np.float64)
        >>> [o.name for o in proto.graph.output]
        ['prediction']
        >>> (pred,) = ort.InferenceSession(proto.SerializeToString()).run(None, {"X": X})
        >>> bool(np.allclose(pred, reg.predict(X), rtol=1e-12))
        True
    """
    m = _fitted(model)
    opset = _check_opset(target_opset)
    dt = np.dtype(np.float32 if dtype is None else dtype)
    if dt not in _DTYPES:
        fail("dtype", "float32 or float64", dt, TypeError)
    if m.classes is None:
        outputs: dict[str, tuple[str, np.dtype | None]] = {"prediction": ("prediction", dt)}
    else:
        outputs = {"label": ("label", None), "scores": ("scores", dt)}
        if losses.spec(m.loss).probabilistic:
            outputs = {"label": ("label", None), "probabilities": ("probabilities", dt), **outputs}
    g = _OnnxGraph()
    D = m.W.shape[0] - 1
    _emit(g, m, "X", dt, outputs)
    proto = _typed_model(g, dt, D, m, outputs, opset)
    onnx.checker.check_model(proto, full_check=True)
    return proto


def _typed_model(
    g: _OnnxGraph,
    dt: np.dtype,
    D: int,
    m: _Model,
    outputs: dict[str, tuple[str, np.dtype | None]],
    opset: int,
) -> onnx.ModelProto:
    """The model around ``g``'s nodes, its input and outputs declared with types and shapes."""
    K = None if m.classes is None else len(m.classes)
    shapes: dict[str, list[str | int | None]] = {
        "label": ["N"],
        "probabilities": ["N", K],
        "prediction": ["N"],
    }
    shapes["scores"] = ["N"] if m.W.shape[1] <= 2 else ["N", K]
    declared = []
    for role, (name, odt) in outputs.items():
        if odt is None:
            assert m.classes is not None
            kind = _labels(m.classes, as_int64=False).dtype
            elem = (
                onnx.TensorProto.STRING
                if kind.kind == "U"
                else helper.np_dtype_to_tensor_dtype(kind)
            )
        else:
            elem = _DTYPES[np.dtype(odt)]
        declared.append(helper.make_tensor_value_info(name, elem, shapes[role]))
    graph = helper.make_graph(
        g.nodes,
        "lingrad_linear_model",
        [helper.make_tensor_value_info("X", _DTYPES[dt], ["N", D])],
        declared,
        initializer=g.initializers,
    )
    opsets = [helper.make_opsetid("", opset)]
    proto = helper.make_model(
        graph,
        opset_imports=opsets,
        ir_version=helper.find_min_ir_version_for(opsets),
        producer_name="lingrad",
    )
    return proto


# ------------------------------------------------------------------------------------------
# skl2onnx: a converter for pipelines holding a lingrad estimator
# ------------------------------------------------------------------------------------------


class _SklGraph:
    """Nodes and initialisers added to a skl2onnx container, named by its scope."""

    def __init__(self, scope: Any, container: Any) -> None:
        self.scope, self.container = scope, container

    def const(self, prefix: str, array: NDArray[Any]) -> str:
        name = self.scope.get_unique_variable_name(prefix)
        if array.dtype.kind in "UO":
            kind, values = onnx.TensorProto.STRING, [str(a).encode() for a in array.ravel()]
        else:
            kind, values = helper.np_dtype_to_tensor_dtype(array.dtype), array.ravel().tolist()
        self.container.add_initializer(name, kind, list(array.shape), values)
        return name

    def node(self, op: str, inputs: list[str], out: str | None = None, **attrs: Any) -> str:
        out = out or self.scope.get_unique_variable_name(op.lower())
        name = self.scope.get_unique_operator_name(op)
        self.container.add_node(op, inputs, [out], name=name, **attrs)
        return out


def _var_dtype(variable: Any) -> np.dtype:
    """float64 for a skl2onnx DoubleTensorType, else float32."""
    return np.dtype(
        np.float64 if type(variable.type).__name__ == "DoubleTensorType" else np.float32
    )


def _convert(scope: Any, operator: Any, container: Any) -> None:
    """The skl2onnx converter of both estimators (``operator.raw_operator``)."""
    m = _fitted(operator.raw_operator)
    x = operator.inputs[0]
    outs = operator.outputs
    if m.classes is None:
        roles: dict[str, tuple[str, np.dtype | None]] = {
            "column": (outs[0].full_name, _var_dtype(outs[0]))
        }
    else:
        kind = "probabilities" if losses.spec(m.loss).probabilistic else "matrix"
        roles = {"label": (outs[0].full_name, None), kind: (outs[1].full_name, _var_dtype(outs[1]))}
    _emit(_SklGraph(scope, container), m, x.full_name, _var_dtype(x), roles, int64_labels=True)


def register_skl2onnx() -> None:
    """Register the converters of :class:`~lingrad.estimators.LinearClassifier` and
    :class:`~lingrad.estimators.LinearRegressor` with skl2onnx (call it once, before
    ``skl2onnx.to_onnx``; calling again is harmless).

    The shape calculators are skl2onnx's own for linear models: a classifier's ``label``
    ``(N,)`` (int64 or string) and ``probabilities`` ``(N, K)``, a regressor's ``variable``
    ``(N, 1)``.

    Examples:
        >>> import numpy as np, onnxruntime as ort, skl2onnx
        >>> from sklearn.pipeline import make_pipeline
        >>> from sklearn.preprocessing import StandardScaler
        >>> from lingrad.estimators import LinearClassifier
        >>> X = np.array([[0.0, 0.0], [0.1, 0.3], [2.0, 2.0], [2.2, 1.8]], np.float32)
        >>> pipe = make_pipeline(StandardScaler(), LinearClassifier(random_state=0))
        >>> pipe = pipe.fit(X, [0, 0, 1, 1])
        >>> register_skl2onnx()
        >>> proto = skl2onnx.to_onnx(pipe, X[:1], options={"zipmap": False})
        >>> label, proba = ort.InferenceSession(proto.SerializeToString()).run(None, {"X": X})
        >>> label.tolist(), bool(np.allclose(proba, pipe.predict_proba(X), atol=1e-6))
        ([0, 0, 1, 1], True)
    """
    from skl2onnx import update_registered_converter
    from skl2onnx.common.shape_calculator import (
        calculate_linear_classifier_output_shapes,
        calculate_linear_regressor_output_shapes,
    )

    table: list[tuple[type, str, Callable[[Any], None], dict[str, list[Any]] | None]] = [
        (
            LinearClassifier,
            "LingradLinearClassifier",
            calculate_linear_classifier_output_shapes,
            {"zipmap": [True, False, "columns"], "nocl": [False]},  # nocl: read by skl2onnx
        ),
        (LinearRegressor, "LingradLinearRegressor", calculate_linear_regressor_output_shapes, None),
    ]
    for cls, alias, shapes, options in table:
        update_registered_converter(cls, alias, shapes, _convert, options=options)


__all__ = ["DEFAULT_OPSET", "MIN_OPSET", "register_skl2onnx", "to_onnx"]
