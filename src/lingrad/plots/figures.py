"""The figures' shared parts: the model adapter, the class colours, a Figure on its own canvas,
and saving it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

from lingrad._validation import as_float_array, check_weights, fail

#: a weight matrix ``(D + 1, C)`` or a fitted estimator with ``coef_`` and ``intercept_``
#: (any object: the attributes are looked up at run time)
Model = Any
#: display names of the classes, or ``None`` for the model's ``classes_`` (or ``"0"``, ``"1"``...)
ClassNames = Sequence[object] | np.ndarray | None


def as_weights(model: Model, n_features: int | None = None, name: str = "model") -> np.ndarray:
    """The parameters ``W`` of shape ``(D + 1, C)`` (bias last row) of ``model``.

    ``model`` is either such an array or a fitted estimator exposing ``coef_`` of shape
    ``(C, D)`` (or ``(D,)``) and ``intercept_`` of shape ``(C,)`` (or a scalar), the
    scikit-learn orientation, which is transposed and stacked: ``W = [coef_.T; intercept_]``.

    Examples:
        >>> class Fitted:
        ...     coef_ = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])   # C = 3, D = 2
        ...     intercept_ = np.array([0.1, 0.2, 0.3])
        >>> as_weights(Fitted())
        array([[1. , 3. , 5. ],
               [2. , 4. , 6. ],
               [0.1, 0.2, 0.3]])
    """
    if hasattr(model, "coef_") and hasattr(model, "intercept_"):
        coef = as_float_array(f"{name}.coef_", model.coef_, ndim=(1, 2))
        coef = coef.reshape(1, -1) if coef.ndim == 1 else coef
        intercept = as_float_array(f"{name}.intercept_", model.intercept_, ndim=(0, 1)).ravel()
        if intercept.shape[0] == 1 and coef.shape[0] > 1:
            intercept = np.repeat(intercept, coef.shape[0])
        if intercept.shape[0] != coef.shape[0]:
            fail(
                f"{name}.intercept_",
                f"{coef.shape[0]} values (one per row of coef_)",
                f"shape {intercept.shape}",
            )
        W = np.vstack([coef.T, intercept[None, :].astype(coef.dtype)])
        return check_weights(W, n_features, name)
    if isinstance(model, np.ndarray | list | tuple):
        return check_weights(model, n_features, name)
    fail(
        name,
        "weights W of shape (D + 1, C) or a fitted estimator with coef_ and intercept_",
        type(model).__name__,
        TypeError,
    )


def n_labels(W: np.ndarray) -> int:
    """Number of classes a model with weights ``W`` ``(D + 1, C)`` predicts: ``max(C, 2)`` (a
    binary model's single column predicts 2).

    Examples:
        >>> n_labels(np.zeros((3, 1))), n_labels(np.zeros((3, 4)))
        (2, 4)
    """
    return max(W.shape[1], 2)


def resolve_class_names(
    class_names: ClassNames, n_classes: int, model: Model | None = None
) -> tuple[str, ...]:
    """``n_classes`` display names: ``class_names`` as strings, else a fitted ``model``'s
    ``classes_``, else ``"0"``, ``"1"``...

    Examples:
        >>> resolve_class_names(None, 3), resolve_class_names(["cat", "dog"], 2)
        (('0', '1', '2'), ('cat', 'dog'))
    """
    if class_names is None and model is not None and hasattr(model, "classes_"):
        class_names = [str(c) for c in model.classes_]
    if class_names is None:
        return tuple(str(k) for k in range(n_classes))
    if isinstance(class_names, str) or not isinstance(class_names, Sequence | np.ndarray):
        fail("class_names", "a sequence of names", type(class_names).__name__, TypeError)
    names = tuple(str(c) for c in class_names)
    if len(names) != n_classes:
        fail("class_names", f"{n_classes} names (one per class)", f"{len(names)}")
    return names


def class_colors(n_classes: int) -> np.ndarray:
    """One saturated RGB colour per class, shape ``(n_classes, 3)`` (tab10, then tab20...).

    Examples:
        >>> class_colors(3).shape, class_colors(3)[0].round(3)
        ((3, 3), array([0.122, 0.467, 0.706]))
    """
    from matplotlib import colormaps

    base = colormaps["tab10" if n_classes <= 10 else "tab20"]
    if n_classes <= base.N:
        return np.array([to_rgb(base(k)) for k in range(n_classes)])
    hsv = colormaps["hsv"]
    return np.array([to_rgb(hsv(k / n_classes)) for k in range(n_classes)])


def region_colors(n_classes: int) -> np.ndarray:
    """The light, opaque region colours: each class colour mixed 35 % with 65 % white.

    ``0.35 * class_colors(C) + 0.65``, shape ``(C, 3)``.

    Examples:
        >>> bool(np.allclose(region_colors(2), 0.35 * class_colors(2) + 0.65))
        True
    """
    return 0.35 * class_colors(n_classes) + 0.65


def new_figure(width: float, height: float) -> Figure:
    """A ``width`` x ``height`` inch Figure (100 dpi, constrained layout) on its own Agg canvas:
    no pyplot, no global backend state.

    Examples:
        >>> fig = new_figure(4.0, 3.0)
        >>> fig.canvas.get_width_height()
        (400, 300)
    """
    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def fixed_figure(
    width: float,
    height: float,
    margins: tuple[float, float, float, float],
    gaps: tuple[float, float] = (0.0, 0.0),
    grid: tuple[int, int] = (1, 1),
) -> Figure:
    """A ``width`` x ``height`` inch Figure (100 dpi) on its own Agg canvas, with no layout
    engine: its subplots fill the box inside fixed ``margins`` ``(left, right, bottom, top)``
    in inches, a ``grid`` of ``(rows, cols)`` panels ``gaps`` ``(horizontal, vertical)``
    inches apart.

    A figure whose contents are known in advance (how many lines its titles take, how wide
    its tick labels can be) is laid out here once, by the numbers, instead of measured by
    constrained layout at every save: saving then draws it once, not three times (about
    half of a small figure's cost). The panel width is
    ``w = (width - left - right - (cols - 1) * horizontal) / cols``, and
    ``wspace = horizontal / w`` (likewise ``hspace``).

    Examples:
        >>> fig = fixed_figure(4.0, 3.0, (0.5, 0.5, 0.5, 0.5))
        >>> box = fig.add_subplot().get_position().bounds
        >>> fig.get_layout_engine() is None, [round(float(v), 4) for v in box]
        (True, [0.125, 0.1667, 0.75, 0.6667])
    """
    left, right, bottom, top = margins
    rows, cols = grid
    inner_w, inner_h = width - left - right, height - bottom - top
    if min(inner_w, inner_h) <= 0:
        fail("margins", f"less than the figure's {width} x {height} inches", repr(margins))
    panel_w = (inner_w - (cols - 1) * gaps[0]) / cols
    panel_h = (inner_h - (rows - 1) * gaps[1]) / rows
    fig = Figure(figsize=(width, height), dpi=100, layout=None)
    fig.subplots_adjust(
        left=left / width,
        right=1 - right / width,
        bottom=bottom / height,
        top=1 - top / height,
        wspace=gaps[0] / panel_w,
        hspace=gaps[1] / panel_h,
    )
    FigureCanvasAgg(fig)
    return fig


def save(
    fig: Figure, path: str | Path, formats: Sequence[str] = ("png",), *, dpi: int = 120
) -> list[Path]:
    """Write ``fig`` to ``path`` with each suffix in ``formats`` (``"png"``, ``"svg"``).

    ``path``'s own suffix, if any, is replaced. Returns the files written.

    Examples:
        >>> import tempfile
        >>> fig = Figure()
        >>> _ = fig.subplots()
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     [p.name for p in save(fig, Path(tmp) / "fig.pdf", ("png", "svg"))]
        ['fig.png', 'fig.svg']
    """
    if isinstance(formats, str):
        formats = (formats,)
    allowed = {"png", "svg", "pdf"}
    out = []
    base = Path(path)
    for fmt in formats:
        if fmt not in allowed:
            fail("formats", f"a subset of {sorted(allowed)}", repr(fmt))
        target = base.with_suffix(f".{fmt}")
        fig.savefig(target, format=fmt, dpi=dpi, metadata=_METADATA.get(fmt))
        out.append(target)
    return out


# Fixed metadata: the same figure gives the same bytes (no creation date in the files).
_METADATA = {"png": {"Software": None}, "svg": {"Date": None}, "pdf": {"CreationDate": None}}
