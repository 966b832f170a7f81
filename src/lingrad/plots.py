"""The three viewpoints of a linear classifier, and gradient descent, as pictures.

* **visual**: :func:`templates`, one image per class: the class's weight row ``W[:-1, k]``
  reshaped to the input image and rescaled to ``[0, 1]``;
* **geometric**: :func:`decision_regions`, the plane coloured by ``argmax_k s_k``, each class's
  zero-score line ``w_k . x + b_k = 0`` (a hyperplane) with its weight vector ``w_k`` as an arrow
  (the line's normal, pointing to where ``s_k`` grows);
* **algebraic**: :func:`scores_table` / :func:`algebraic_view`, the slide's table of scores
  ``S = XW + b`` per class per example with each example's loss ``L_i``;
* learning: :func:`history` (loss, accuracy, learning rate against epoch, runs overlaid),
  :func:`landscape` (the objective on a line and on a 2-D slice through ``W`` with the optimiser's
  trajectory and the negative-gradient arrows) and :func:`confusion`.

Every plotting function returns a :class:`matplotlib.figure.Figure` drawn on its own Agg
canvas: no ``pyplot``, no global backend switch, no display needed. :func:`save` writes PNG and
SVG. A "model" is either the weights ``W`` of shape ``(D + 1, C)`` (bias in the last row) or a
fitted estimator with scikit-learn's ``coef_`` ``(C, D)`` and ``intercept_`` ``(C,)``
(see :func:`as_weights`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import ListedColormap, to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from lingrad import losses
from lingrad._validation import (
    as_float_array,
    check_int,
    check_labels,
    check_weights,
    check_X,
    fail,
)
from lingrad.model import predict_from_scores, proba_from_scores, scores_unchecked
from lingrad.objective import Objective

__all__ = [
    "AlgebraicView",
    "Landscape",
    "algebraic_view",
    "as_weights",
    "class_colors",
    "confusion",
    "confusion_matrix",
    "decision_regions",
    "history",
    "history_series",
    "landscape",
    "landscape_data",
    "region_colors",
    "save",
    "scores_table",
    "template_images",
    "templates",
]

# ------------------------------------------------------------------------------------------
# Shared helpers: the model adapter, colours, figures
# ------------------------------------------------------------------------------------------


def as_weights(model, n_features: int | None = None, name: str = "model") -> np.ndarray:
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


def _n_labels(W: np.ndarray) -> int:
    """Number of classes a model with these weights predicts (a binary column predicts 2)."""
    return max(W.shape[1], 2)


def resolve_class_names(class_names, n_classes: int, model=None) -> tuple[str, ...]:
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


def _figure(width: float, height: float) -> Figure:
    """A Figure on its own Agg canvas (no pyplot, no global backend state)."""
    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save(fig: Figure, path, formats: Sequence[str] = ("png",), *, dpi: int = 120) -> list[Path]:
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


# ------------------------------------------------------------------------------------------
# Visual viewpoint: one template per class
# ------------------------------------------------------------------------------------------


def _check_image_shape(image_shape, n_features: int) -> tuple[int, ...]:
    if image_shape is None or isinstance(image_shape, str):
        fail("image_shape", "a tuple of 2 or 3 positive ints", repr(image_shape), TypeError)
    try:
        shape = tuple(int(s) for s in image_shape)
    except (TypeError, ValueError):
        fail("image_shape", "a tuple of 2 or 3 positive ints", repr(image_shape), TypeError)
    if len(shape) not in (2, 3) or min(shape) < 1:
        fail("image_shape", "(height, width) or an image with channels", repr(shape))
    if len(shape) == 3 and not ({shape[0], shape[-1]} & {1, 3, 4}):
        fail("image_shape", "1, 3 or 4 channels first or last", repr(shape))
    if math.prod(shape) != n_features:
        fail(
            "image_shape",
            f"{n_features} pixels in all, to match the model's {n_features} features",
            f"{shape} ({math.prod(shape)} pixels)",
        )
    return shape


def _channels_first(shape: tuple[int, ...]) -> bool:
    """Whether a 3-D image shape has its channels first: ``(3, H, W)`` rather than
    ``(H, W, 3)``; a trailing 1 or 3 means channels last, then a leading 1, 3 or 4 first."""
    return len(shape) == 3 and shape[-1] not in (1, 3) and shape[0] in (1, 3, 4)


def _to_display(images: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """(n, *shape) -> (n, H, W) or (n, H, W, 3): channels moved last, single channel dropped."""
    if _channels_first(shape):  # e.g. (3, 32, 32), CIFAR-10's row order
        images = np.moveaxis(images, 1, -1)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim == 4 and images.shape[-1] == 4:
        images = images[..., :3]
    return images


def _rescale(images: np.ndarray) -> np.ndarray:
    """Each image ``(v - min) / (max - min)`` into [0, 1] (a constant image becomes 0)."""
    flat = images.reshape(images.shape[0], -1).astype(np.float64)
    lo = flat.min(axis=1, keepdims=True)
    span = flat.max(axis=1, keepdims=True) - lo
    flat = (flat - lo) / np.where(span > 0, span, 1.0)
    return flat.reshape(images.shape)


def template_images(model, image_shape) -> np.ndarray:
    """Each class's weights as an image in ``[0, 1]``: shape ``(C, H, W)`` or ``(C, H, W, 3)``.

    ``T_k = (w_k - min w_k) / (max w_k - min w_k)`` with ``w_k = W[:-1, k]`` reshaped to
    ``image_shape`` (channels-first shapes such as ``(3, 32, 32)`` are moved to the end).

    Examples:
        >>> W = np.vstack([np.arange(4.0).reshape(4, 1), [[9.0]]])     # D = 4 pixels, C = 1
        >>> template_images(W, (2, 2))[0]
        array([[0.        , 0.33333333],
               [0.66666667, 1.        ]])
    """
    W = as_weights(model)
    D, C = W.shape[0] - 1, W.shape[1]
    shape = _check_image_shape(image_shape, D)
    images = W[:-1].T.reshape((C, *shape))
    return _to_display(_rescale(images), shape)


def _grid(n: int, max_cols: int = 5) -> tuple[int, int]:
    cols = min(n, max_cols)
    return math.ceil(n / cols), cols


def templates(model, image_shape, class_names=None, *, cmap: str = "gray") -> Figure:
    """The visual viewpoint: one panel per class showing its rescaled weight row.

    Args:
        model: ``W`` ``(D + 1, C)`` or a fitted estimator (see :func:`as_weights`).
        image_shape: the shape a row of ``X`` reshapes to, ``prod(image_shape) == D``
            (``(8, 8)`` for digits, ``(32, 32, 3)`` or ``(3, 32, 32)`` for CIFAR-10).
        class_names: one title per class (default ``"0"``, ``"1"``...).
        cmap: the colour map of single-channel images (bright = largest weight).

    Panel ``k`` shows :func:`template_images` ``[k]`` pixel for pixel (nearest interpolation).

    Examples:
        >>> W = np.random.default_rng(0).normal(size=(65, 10))   # digits: 8 x 8 pixels, 10 classes
        >>> fig = templates(W, (8, 8))
        >>> sum(ax.has_data() for ax in fig.axes), fig.axes[3].get_title()
        (10, '3')
    """
    images = template_images(model, image_shape)
    C = images.shape[0]
    names = resolve_class_names(class_names, C, model)
    rows, cols = _grid(C)
    fig = _figure(1.9 * cols + 0.4, 2.1 * rows + 0.6)
    axes = fig.subplots(rows, cols, squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if k >= C:
            continue
        img = images[k]
        kw = {} if img.ndim == 3 else {"cmap": cmap, "vmin": 0.0, "vmax": 1.0}
        ax.imshow(img, interpolation="nearest", **kw)
        ax.set_title(names[k], fontsize=11)
    fig.suptitle(
        "Templates: each class's weights as an image (rescaled per class, bright = large weight)",
        fontsize=10,
    )
    return fig


# ------------------------------------------------------------------------------------------
# Geometric viewpoint: hyperplanes cutting up space
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plane:
    """The 2-D plane ``x = origin + a * basis[:, 0] + b * basis[:, 1]`` in feature space."""

    origin: np.ndarray  # (D,)
    basis: np.ndarray  # (D, 2)
    labels: tuple[str, str]
    title: str

    def project(self, X: np.ndarray) -> np.ndarray:
        return (X - self.origin) @ self.basis

    def restrict(self, W: np.ndarray) -> np.ndarray:
        """The model on the plane: 2-D weights ``(3, C)`` with ``s(a, b)`` equal to the full
        model's scores at ``origin + a u + b v``."""
        top = self.basis.T @ W[:-1]
        bias = self.origin @ W[:-1] + W[-1]
        return np.vstack([top, bias[None, :]])


def _plane(X: np.ndarray, features) -> _Plane:
    N, D = X.shape
    if features is None and D == 2:
        return _Plane(np.zeros(2), np.eye(2), ("x₁ (feature 0)", "x₂ (feature 1)"), "2-D data")
    mean = X.mean(axis=0)
    if features is not None:
        if isinstance(features, str) or len(features) != 2:
            fail("features", "two feature indices (i, j)", repr(features))
        i, j = (int(f) for f in features)
        if not (0 <= i < D and 0 <= j < D) or i == j:
            fail("features", f"two different indices in [0, {D})", repr(tuple(features)))
        basis = np.zeros((D, 2))
        basis[i, 0] = basis[j, 1] = 1.0
        if D == 2:
            return _Plane(np.zeros(2), basis, (f"feature {i}", f"feature {j}"), "2-D data")
        return _Plane(
            mean,
            basis,
            (f"feature {i}", f"feature {j}"),
            f"projection on features {i} and {j}; the other features held at their mean",
        )
    Xc = X - mean
    if N >= 100:  # fit on the 99 % of rows nearest the mean: one outlier must not be PC1
        dist = np.linalg.norm(Xc, axis=1)
        Xc = Xc[dist <= np.percentile(dist, 99)]
    _, sv, Vt = np.linalg.svd(Xc, full_matrices=False)
    basis = Vt[:2].T.copy()
    for c in range(2):  # a deterministic sign: the largest component positive
        if basis[np.argmax(np.abs(basis[:, c])), c] < 0:
            basis[:, c] *= -1
    var = sv**2 / max((sv**2).sum(), np.finfo(float).tiny)
    return _Plane(
        mean,
        basis,
        (f"PC1 ({100 * var[0]:.0f} % of variance)", f"PC2 ({100 * var[1]:.0f} % of variance)"),
        f"PCA plane through the data mean ({D} features)",
    )


def _padded_box(P: np.ndarray, pad: float = 0.08) -> tuple[float, float, float, float]:
    """The view: all points when few, else the 1st-99th percentiles (outliers do not squash
    the picture; they are left out of view), padded on each side."""
    if len(P) >= 100:
        lo, hi = np.percentile(P, 1, axis=0), np.percentile(P, 99, axis=0)
    else:
        lo, hi = P.min(axis=0), P.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    lo, hi = lo - pad * span, hi + pad * span
    return float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])


def _pixel_centres(lo: float, hi: float, n: int) -> np.ndarray:
    return lo + (np.arange(n) + 0.5) * (hi - lo) / n


def decision_regions(
    model,
    X,
    y=None,
    *,
    features=None,
    class_names=None,
    resolution: int = 300,
) -> Figure:
    """The geometric viewpoint: regions of ``argmax_k s_k``, each class's hyperplane and ``w_k``.

    Args:
        model: ``W`` ``(D + 1, C)`` or a fitted estimator (see :func:`as_weights`).
        X: points ``(N, D)`` with ``D >= 2``.
        y: their labels ``(N,)`` (optional): points are coloured by label and the misclassified
            ones (by the full model) are ringed.
        features: for ``D > 2``, two feature indices ``(i, j)`` to plot against each other (the
            others held at their mean); by default the PCA plane through the data mean.
        class_names: legend names.
        resolution: pixels per side of the region image.

    For ``D > 2`` the picture is an exact slice: the colours, lines and arrows are the model on
    the plane ``x = mean + a u + b v``, whose 2-D weights are ``[u, v]^T W[:-1]`` and bias
    ``mean . W[:-1] + b``; the points are projected onto it. The region image is
    ``ax.images[0]``: its pixel ``(r, c)`` holds the class predicted at that pixel's centre.
    A binary model (``C == 1``) is coloured by ``s >= 0`` with its single line ``s = 0``.

    Examples:
        >>> W = np.array([[1.0, -1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]])   # D = 2, C = 3
        >>> X = np.array([[2.0, 0.0], [-2.0, 0.0], [0.0, 2.0]])
        >>> fig = decision_regions(W, X, [0, 1, 2], resolution=50)
        >>> len(fig.axes), fig.axes[0].images[0].get_array().shape
        (1, (50, 50))
    """
    X = check_X(X)
    N, D = X.shape
    if D < 2:
        fail(
            "X",
            "at least 2 features (2-D points; D > 2 is projected onto a plane)",
            f"shape {X.shape} ({D} feature)",
        )
    W = as_weights(model, D).astype(np.float64)
    K = _n_labels(W)
    if y is not None:
        y = check_labels(y, N, K)
    resolution = check_int("resolution", resolution, minimum=2)
    names = resolve_class_names(class_names, K, model)
    plane = _plane(X.astype(np.float64), features)
    P = plane.project(X.astype(np.float64))
    W2 = plane.restrict(W)
    x0, x1, y0, y1 = _padded_box(P)
    xs, ys = _pixel_centres(x0, x1, resolution), _pixel_centres(y0, y1, resolution)
    gx, gy = np.meshgrid(xs, ys)
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    pred = predict_from_scores(scores_unchecked(W2, grid)).reshape(resolution, resolution)

    fig = _figure(8.2, 6.0)
    ax = fig.add_subplot()
    ax.imshow(
        pred,
        origin="lower",
        extent=(x0, x1, y0, y1),
        cmap=ListedColormap(region_colors(K)),
        vmin=-0.5,
        vmax=K - 0.5,
        interpolation="nearest",
        aspect="auto",
        zorder=0,
    )
    colors = class_colors(K)
    centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
    norms = np.linalg.norm(W2[:2], axis=0)
    arrow_len = 0.18 * min(x1 - x0, y1 - y0)
    for k in range(W2.shape[1]):
        w, b = W2[:2, k], W2[2, k]
        if norms[k] <= 1e-12 * max(norms.max(), 1e-300):
            continue
        color = colors[k if W2.shape[1] > 1 else 1]
        foot = -b * w / norms[k] ** 2  # the line's point nearest the origin
        along = np.array([-w[1], w[0]]) / norms[k]
        line = ax.axline(foot, foot + along, color=color, lw=2.2, zorder=2)
        line.set_gid(f"hyperplane-{k}")
        # w_k drawn from the line's point nearest the picture's centre, length ~ ||w_k||.
        start = centre - (w @ centre + b) / norms[k] ** 2 * w
        end = start + arrow_len * (norms[k] / norms.max()) * w / norms[k]
        arrow = ax.annotate(
            "",
            xy=tuple(end),
            xytext=tuple(start),
            arrowprops={"arrowstyle": "-|>", "color": color, "lw": 2.2, "mutation_scale": 18},
            zorder=4,
            annotation_clip=True,
        )
        arrow.set_gid(f"weight-{k}")
    handles = [
        Patch(facecolor=region_colors(K)[k], edgecolor=colors[k], label=names[k]) for k in range(K)
    ]
    if y is not None:
        ax.scatter(
            P[:, 0],
            P[:, 1],
            c=colors[y],
            s=22 if N > 200 else 36,
            edgecolors="black",
            linewidths=0.4,
            zorder=3,
        )
        wrong = predict_from_scores(scores_unchecked(W, X.astype(np.float64))) != y
        if wrong.any():
            ax.scatter(
                P[wrong, 0],
                P[wrong, 1],
                s=130,
                facecolors="none",
                edgecolors="black",
                linewidths=1.6,
                zorder=5,
                label="misclassified",
            )
            handles.append(ax.collections[-1])
        title = f"{wrong.sum()} of {N} points misclassified"
    else:
        ax.scatter(P[:, 0], P[:, 1], c="black", s=10, zorder=3)
        title = f"{N} points"
    outside = int(np.sum((P[:, 0] < x0) | (P[:, 0] > x1) | (P[:, 1] < y0) | (P[:, 1] > y1)))
    if outside:
        title += f" ({outside} outside the view)"
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel(plane.labels[0])
    ax.set_ylabel(plane.labels[1])
    ax.set_title(
        f"Decision regions and hyperplanes $w_k \\cdot x + b_k = 0$ (arrows: $w_k$)\n"
        f"{plane.title}; {title}",
        fontsize=10,
    )
    ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=9)
    return fig


# ------------------------------------------------------------------------------------------
# Algebraic viewpoint: the table of scores
# ------------------------------------------------------------------------------------------


def format_number(value: float, digits: int) -> str:
    """``value`` with ``digits`` decimals, never ``-0.00``."""
    text = f"{value:.{digits}f}"
    return f"{0.0:.{digits}f}" if float(text) == 0 else text


@dataclass(frozen=True)
class AlgebraicView:
    """The slide's algebraic view of ``N`` examples: scores, probabilities, margins, losses.

    Attributes:
        scores: ``S``, shape ``(N, C)`` (float64).
        y: the true classes, shape ``(N,)``.
        class_names: ``C`` names (two for a binary model).
        loss: the canonical loss name used for :attr:`losses`.
        losses: the per-example loss ``L_i``, shape ``(N,)``.
        probabilities: ``softmax(S)`` (``[1 - sigma(s), sigma(s)]`` for ``C == 1``), ``(N, K)``.
        margins: ``s_j - s_{y_i}``, shape ``(N, C)`` (zero on the true class).
        hinge_terms: ``max(0, s_j - s_{y_i} + 1)`` for ``j != y_i``, 0 on the true class.

    Examples:
        >>> view = algebraic_view([[3.2, 5.1, -1.7]], [0], loss="svm")
        >>> view.scores.shape, view.margins.round(1), view.losses.round(1)
        ((1, 3), array([[ 0. ,  1.9, -4.9]]), array([2.9]))
    """

    scores: np.ndarray
    y: np.ndarray
    class_names: tuple[str, ...]
    loss: str
    losses: np.ndarray
    probabilities: np.ndarray
    margins: np.ndarray
    hinge_terms: np.ndarray

    @property
    def loss_label(self) -> str:
        """The loss as the slides name it: ``"SVM loss"``, ``"softmax loss"``..."""
        return f"{losses.spec(self.loss).label} loss"

    @property
    def correct(self) -> np.ndarray:
        """Whether each example's predicted class (argmax score) is its true class, ``(N,)``."""
        return predict_from_scores(self.scores) == self.y

    @property
    def mean_loss(self) -> float:
        """``L = (1/N) sum_i L_i``."""
        return float(self.losses.mean())

    def table(self, digits: int = 2) -> tuple[list[str], list[list[str]]]:
        """The slide's layout as strings: a header and one row per class, examples as columns,
        then a row of losses. The true class's score is marked with ``*``."""
        N, C = self.scores.shape
        header = ["class \\ example"] + [f"#{i} ({self.class_names[self.y[i]]})" for i in range(N)]
        rows = []
        row_names = self.class_names if C > 1 else ("score s",)
        for k in range(C):
            cells = []
            for i in range(N):
                text = format_number(self.scores[i, k], digits)
                cells.append(f"*{text}*" if C > 1 and self.y[i] == k else text)
            rows.append([row_names[k], *cells])
        rows.append([self.loss_label, *(format_number(v, digits) for v in self.losses)])
        return header, rows

    def markdown(self, digits: int = 2) -> str:
        """The table as Markdown (true class in bold) with the mean loss below it.

        Examples:
            >>> S = [[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]]
            >>> view = algebraic_view(S, [0, 1, 2], loss="svm", class_names=["cat", "car", "frog"])
            >>> print(view.markdown())
            | class \\ example | #0 (cat) | #1 (car) | #2 (frog) |
            |---|---:|---:|---:|
            | cat | **3.20** | 1.30 | 2.20 |
            | car | 5.10 | **4.90** | 2.50 |
            | frog | -1.70 | 2.00 | **-3.10** |
            | SVM loss | 2.90 | 0.00 | 12.90 |
            <BLANKLINE>
            mean SVM loss over 3 examples: L = 5.27
        """
        header, rows = self.table(digits)
        lines = ["| " + " | ".join(header) + " |", "|---" + "|---:" * (len(header) - 1) + "|"]
        for row in rows:
            cells = [f"**{c[1:-1]}**" if c.startswith("*") else c for c in row]
            lines.append("| " + " | ".join(cells) + " |")
        n = len(self.losses)
        lines += ["", f"mean {self.loss_label} over {n} examples: L = {self.mean_loss:.{digits}f}"]
        return "\n".join(lines)


def algebraic_view(S, y, *, loss: str = "hinge", class_names=None, **loss_params) -> AlgebraicView:
    """The algebraic view of scores ``S`` ``(N, C)`` with true classes ``y`` ``(N,)``.

    ``loss`` is any classification loss on integer labels (``"hinge"``/``"svm"``,
    ``"softmax"``, ``"crammer_singer"``, ``"one_vs_all_hinge"``; ``"logistic"`` for ``C == 1``);
    ``L_i`` comes from the same kernel the training uses.

    Examples:
        >>> view = algebraic_view([[3.2, 5.1, -1.7]], [0], loss="softmax")
        >>> round(float(view.probabilities[0, 0]), 2), round(view.mean_loss, 2)
        (0.13, 2.04)
    """
    S = as_float_array("S", S, ndim=2, dtype=np.float64)
    N, C = S.shape
    spec = losses.spec(loss)
    if not spec.from_labels:
        fail("loss", "a classification loss on integer labels", repr(loss))
    K = max(C, 2)
    y = check_labels(y, N, K)
    T = spec.prepare(y, N, C, S.dtype)
    per_example, _ = spec.kernel(S.copy(), T, **loss_params)
    if C > 1:
        margins = S - S[np.arange(N), y][:, None]
        hinge_terms = np.maximum(0.0, margins + 1.0)
        hinge_terms[np.arange(N), y] = 0.0
    else:  # binary: the signed score (2y - 1) s is the margin
        margins = ((2 * y - 1) * S[:, 0])[:, None]
        hinge_terms = np.maximum(0.0, 1.0 - margins)
    return AlgebraicView(
        scores=S,
        y=y,
        class_names=resolve_class_names(class_names, K),
        loss=spec.name,
        losses=np.asarray(per_example, dtype=np.float64),
        probabilities=proba_from_scores(S),
        margins=margins,
        hinge_terms=hinge_terms,
    )


def scores_table(
    model,
    X,
    y,
    *,
    class_names=None,
    loss: str = "hinge",
    max_examples: int = 6,
    image_shape=None,
    images=None,
) -> Figure:
    """The algebraic viewpoint as the slide's table: the scores ``S = XW + b`` of the first
    ``max_examples`` examples (columns) for every class (rows), the true class's score
    highlighted, and each example's loss ``L_i`` in the last row.

    With ``image_shape``, each column is headed by its example as a thumbnail (from ``images``,
    the raw rows, when given; otherwise from ``X``). The Markdown version of the same table is
    ``algebraic_view(scores, y).markdown()``.

    Examples:
        >>> W = np.array([[1.0, -1.0], [0.0, 2.0], [0.5, 0.0]])
        >>> X = np.array([[1.0, 1.0], [2.0, 0.0]])
        >>> fig = scores_table(W, X, [0, 1], class_names=["cat", "dog"])
        >>> len(fig.axes), fig.axes[0].tables[0].get_celld()[(1, 1)].get_text().get_text()
        (1, '1.50')
    """
    X = check_X(X)
    W = as_weights(model, X.shape[1])
    n = min(check_int("max_examples", max_examples), X.shape[0])
    y = check_labels(y, X.shape[0], _n_labels(W))[:n]
    X = X[:n]
    S = scores_unchecked(W.astype(X.dtype), X)
    view = algebraic_view(
        S, y, loss=loss, class_names=resolve_class_names(class_names, _n_labels(W), model)
    )
    header, rows = view.table()
    thumbs = None
    if image_shape is not None:
        source = X if images is None else check_X(images, "images")[:n]
        shape = _check_image_shape(image_shape, source.shape[1])
        thumbs = _to_display(_rescale(source.reshape((n, *shape))), shape)

    n_rows = len(rows) + 1
    width = 1.6 + 1.15 * n
    height = 0.3 * n_rows + (1.3 if thumbs is not None else 0.0) + 0.6
    fig = _figure(width, height)
    if thumbs is not None:
        grid = fig.add_gridspec(2, n + 1, height_ratios=[1.3, 0.3 * n_rows])
        for i in range(n):
            tax = fig.add_subplot(grid[0, i + 1])
            tax.imshow(thumbs[i], cmap="gray", interpolation="nearest")
            tax.set_axis_off()
        ax = fig.add_subplot(grid[1, :])
    else:
        ax = fig.add_subplot()
    ax.set_axis_off()
    green, red, grey = "#c8f0c8", "#f6d0d0", "#eeeeee"
    text = [[c.strip("*") for c in row] for row in rows]
    colours = []
    for r, row in enumerate(rows):
        line = [grey]
        for c, cell in enumerate(row[1:]):
            if r == len(rows) - 1:
                line.append(green if view.correct[c] else red)
            else:
                line.append(green if cell.startswith("*") else "white")
        colours.append(line)
    table = ax.table(
        cellText=text,
        colLabels=header,
        cellColours=colours,
        colColours=[grey] * len(header),
        loc="upper center",
        cellLoc="center",
    )
    table.auto_set_font_size(False)
    table.set_fontsize(9)
    table.scale(1.0, 1.35)
    fig.suptitle(
        f"Scores s = f(x, W) per class (rows) for each example (columns); true class in green.\n"
        f"Last row: each example's {view.loss_label} L_i (green: classified correctly, red: "
        f"not); mean L = {view.mean_loss:.2f}",
        fontsize=9,
    )
    return fig


# ------------------------------------------------------------------------------------------
# Learning curves
# ------------------------------------------------------------------------------------------

#: The history panels: (title, [(key, label, linestyle)], log scale).
HISTORY_PANELS = (
    ("loss", (("loss", "train", "-"), ("val_loss", "validation", "--")), False),
    (
        "accuracy",
        (("train_accuracy", "train", "-"), ("val_accuracy", "validation", "--")),
        False,
    ),
    ("learning rate", (("learning_rate", "", "-"),), True),
    ("gradient norm", (("grad_norm", "", "-"),), True),
)


def _runs(history) -> dict[str, Mapping]:
    """One history or several (a mapping name -> history, or a sequence of histories)."""
    if isinstance(history, Mapping):
        if history and all(isinstance(v, Mapping) for v in history.values()):
            return {str(k): v for k, v in history.items()}
        return {"": history}
    is_list = isinstance(history, Sequence) and not isinstance(history, str)
    if is_list and history and all(isinstance(h, Mapping) for h in history):
        return {f"run {i}": h for i, h in enumerate(history)}
    fail(
        "history",
        "a dict of per-epoch lists, or a dict/list of such dicts",
        type(history).__name__,
        TypeError,
    )


def _series(run: str, key: str, values) -> np.ndarray:
    name = f"history[{run!r}][{key!r}]" if run else f"history[{key!r}]"
    arr = np.asarray(values, dtype=object)
    if arr.ndim != 1:
        fail(name, "a list of numbers", f"shape {arr.shape}")
    try:
        out = np.array([np.nan if v is None else float(v) for v in arr], dtype=np.float64)
    except (TypeError, ValueError):
        fail(name, "a list of numbers", "non-numeric values", TypeError)
    return out


def history_series(history) -> dict[str, dict[str, np.ndarray]]:
    """The plottable series of one history or several: ``{run: {key: values}}``, keeping the
    keys of :data:`HISTORY_PANELS` that hold at least one finite number (``None`` and NaN,
    e.g. a validation loss never measured, count as missing).

    Examples:
        >>> series = history_series({"loss": [1.0, 0.5], "val_loss": [None, None]})
        >>> series                   # one unnamed run; the never-measured val_loss is left out
        {'': {'loss': array([1. , 0.5])}}
    """
    keys = [key for _, series, _ in HISTORY_PANELS for key, _, _ in series]
    out = {}
    for run, h in _runs(history).items():
        found = {}
        for key in keys:
            if key in h and h[key] is not None:
                values = _series(run, key, h[key])
                if np.isfinite(values).any():
                    found[key] = values
        out[run] = found
    return out


def history(history, *, x: str | None = None, xlabel: str = "epoch") -> Figure:
    """Learning curves: loss (train solid, validation dashed), accuracy, learning rate and
    gradient norm (log scale) against the epoch, one panel each (panels with no data are left
    out). Several runs are overlaid in one colour each.

    Args:
        history: a dict of lists keyed ``"loss"``, ``"val_loss"``, ``"train_accuracy"``,
            ``"val_accuracy"``, ``"learning_rate"``, ``"grad_norm"`` (any may be missing), or
            a dict ``{run name: such a dict}`` / a list of them to overlay.
        x: a key holding the x values (e.g. ``"evaluations"`` to compare search and gradient
            methods at the same budget); by default ``1, 2, ...``.
        xlabel: the x axis label.

    Examples:
        >>> fig = history({"loss": [1.0, 0.6, 0.4], "val_loss": [1.1, 0.8, 0.7],
        ...                "train_accuracy": [0.5, 0.7, 0.8]})
        >>> [ax.get_title() for ax in fig.axes]
        ['loss', 'accuracy']
    """
    runs = _runs(history)
    series = history_series(runs)
    present = [
        panel
        for panel in HISTORY_PANELS
        if any(key in found for found in series.values() for key, _, _ in panel[1])
    ]
    if not present:
        keys = [key for panel in HISTORY_PANELS for key, _, _ in panel[1]]
        fail("history", f"at least one non-empty series among {keys}", "none")
    fig = _figure(4.3 * len(present), 3.6)
    axes = fig.subplots(1, len(present), squeeze=False)[0]
    colours = class_colors(max(len(runs), 1))
    for ax, (title, keys, log) in zip(axes, present, strict=True):
        for r, (run, found) in enumerate(series.items()):
            for key, label, style in keys:
                if key not in found:
                    continue
                values = found[key]
                h = runs[run]
                xs = (
                    _series(run, x, h[x])[: len(values)]
                    if x is not None and x in h
                    else np.arange(1, len(values) + 1)
                )
                parts = [p for p in (run, label) if p]
                line = ax.plot(
                    xs, values, style, color=colours[r], lw=1.8, label=", ".join(parts) or None
                )[0]
                line.set_gid(f"{run}:{key}" if run else key)
        if log and all(np.nanmin(line.get_ydata()) > 0 for line in ax.get_lines()):
            ax.set_yscale("log")
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        if any(line.get_label() and not line.get_label().startswith("_") for line in ax.lines):
            ax.legend(fontsize=8)
    return fig


# ------------------------------------------------------------------------------------------
# The loss landscape and gradient descent
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Landscape:
    """The objective on a 2-D slice ``W(a, b) = W + a d1 + b d2`` through ``W``.

    Attributes:
        center: ``W``, shape ``(D + 1, C)``.
        d1, d2: the directions, shaped like ``W``.
        a, b: the grid coordinates, shapes ``(R,)`` and ``(R,)``.
        values: ``J(W + a_j d1 + b_i d2)`` at ``[i, j]``, shape ``(R, R)``.
        line_t, line_values: the 1-D profile ``J(start + t (W - start))`` from the trajectory's
            first point (``t = 0``) to ``W`` (``t = 1``) when ``line_from_start``; otherwise
            (no trajectory, or one starting at ``W``) ``J(W + t d1)``.
        trajectory: the trajectory's plane coordinates ``(T, 2)`` (least squares on ``d1, d2``),
            or ``None``.
        trajectory_values: ``J`` at each trajectory point ``(T,)`` (the true values, off the
            plane too), or ``None``.
        arrows: ``(M, 4)`` rows ``(a, b, da, db)``: the negative gradient of the slice
            ``-grad_(a,b) J`` at a coarse grid, as plane coordinates (unnormalised).
        kind: how the directions were chosen.

    Examples:
        >>> from lingrad.objective import Objective
        >>> obj = Objective("softmax", np.eye(2), np.array([0, 1]))
        >>> land = landscape_data(obj, np.zeros((3, 2)), resolution=5, arrows=0)
        >>> land.values.shape, land.a.shape, land.kind, round(float(land.values[2, 2]), 4)
        ((5, 5), (5,), 'random', 0.6931)
    """

    center: np.ndarray
    d1: np.ndarray
    d2: np.ndarray
    a: np.ndarray
    b: np.ndarray
    values: np.ndarray
    line_t: np.ndarray
    line_values: np.ndarray
    line_from_start: bool
    trajectory: np.ndarray | None
    trajectory_values: np.ndarray | None
    arrows: np.ndarray
    kind: str


_KIND = {"random": "random", "pca": "PCA", "trajectory": "trajectory", "given": "given"}


def _filter_normalised(D: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Scale each column (class) of the direction to the norm of W's column (Li et al. 2018)."""
    wn = np.linalg.norm(W, axis=0)
    wn = np.where(wn > 0, wn, 1.0 / math.sqrt(W.shape[0]))
    return D / np.maximum(np.linalg.norm(D, axis=0), 1e-300) * wn


def _trajectory_array(trajectory, W: np.ndarray) -> np.ndarray:
    T = as_float_array("trajectory", trajectory, ndim=3, dtype=np.float64)
    if T.shape[1:] != W.shape:
        fail("trajectory", f"an array of weights of shape (T, {W.shape[0]}, {W.shape[1]})", T.shape)
    return T


def _directions(kind, W, T, rng):
    """(d1, d2, kind) as float64 arrays shaped like W."""
    if not isinstance(kind, str):
        if len(kind) != 2:
            fail("directions", "a name or a pair (d1, d2) of arrays shaped like W", repr(kind))
        d1, d2 = (as_float_array(f"directions[{i}]", d, ndim=2) for i, d in enumerate(kind))
        for i, d in enumerate((d1, d2)):
            if d.shape != W.shape:
                fail(f"directions[{i}]", f"an array of shape {W.shape}", f"shape {d.shape}")
        return d1.astype(np.float64), d2.astype(np.float64), "given"
    names = ("auto", "random", "pca", "trajectory")
    if kind not in names:
        fail("directions", f"one of {list(names)} or a pair of arrays", repr(kind))
    starts_off = T is not None and np.linalg.norm(T[0] - W) > 0
    moves = T is not None and bool(np.any(T != W))
    if kind == "auto":
        kind = "trajectory" if starts_off else "pca" if moves else "random"
    if kind == "trajectory" and not starts_off:
        fail("trajectory", "a first point W_0 different from W for directions='trajectory'",
             "none" if T is None else "W_0 == W")  # fmt: skip
    if kind == "pca" and not moves:
        fail("trajectory", "at least one point different from W for directions='pca'", "none")
    if rng is None:
        rng = np.random.default_rng(0)
    if not isinstance(rng, np.random.Generator):
        fail("rng", "a numpy.random.Generator", type(rng).__name__, TypeError)
    if kind == "random":
        d1 = _filter_normalised(rng.standard_normal(W.shape), W)
        d2 = _filter_normalised(rng.standard_normal(W.shape), W)
        return d1, d2, kind
    deltas = (T - W).reshape(len(T), -1)
    if kind == "trajectory":  # d1 = W0 - W: the start lies exactly on the plane, at (1, 0)
        d1 = deltas[0]
        u = d1 / np.linalg.norm(d1)
        resid = deltas - np.outer(deltas @ u, u)
    else:
        resid = deltas
    _, sv, Vt = np.linalg.svd(resid, full_matrices=False)
    if kind == "pca":
        d1 = Vt[0] * np.linalg.norm(deltas, axis=1).max()
        second = Vt[1] if len(sv) > 1 and sv[1] > 1e-12 * sv[0] else None
    else:
        second = Vt[0] if sv[0] > 1e-9 * np.linalg.norm(d1) else None
    if second is None:  # a straight path: any direction orthogonal to d1
        second = rng.standard_normal(d1.shape)
    u = d1 / np.linalg.norm(d1)
    second = second - (second @ u) * u
    d2 = second / np.linalg.norm(second) * np.linalg.norm(d1)
    return d1.reshape(W.shape), d2.reshape(W.shape), kind


def landscape_data(
    objective: Objective,
    W,
    *,
    directions="auto",
    trajectory=None,
    rng: np.random.Generator | None = None,
    span: float = 1.0,
    resolution: int = 31,
    arrows: int = 9,
) -> Landscape:
    """Evaluate the objective on a line and a 2-D slice through ``W``; see :func:`landscape`.

    Examples:
        >>> from lingrad.objective import Objective
        >>> obj = Objective("softmax", np.eye(2), np.array([0, 1]))
        >>> W0 = np.zeros((3, 2))
        >>> land = landscape_data(obj, W0, resolution=5, rng=np.random.default_rng(0))
        >>> land.values.shape, land.arrows.shape[1], bool(land.values.min() <= land.values[2, 2])
        ((5, 5), 4, True)
    """
    if not isinstance(objective, Objective):
        fail("objective", "a lingrad.Objective", type(objective).__name__, TypeError)
    W = objective.check_weights(as_weights(W, objective.n_features, "W")).astype(np.float64)
    T = None if trajectory is None else _trajectory_array(trajectory, W)
    if T is not None:
        T = np.stack([objective.check_weights(t) for t in T]).astype(np.float64)
    resolution = check_int("resolution", resolution, minimum=3)
    arrows = check_int("arrows", arrows, minimum=0)
    span = float(span)
    if not np.isfinite(span) or span <= 0:
        fail("span", "a finite number > 0", span)
    d1, d2, kind = _directions(directions, W, T, rng)
    dtype = objective.X.dtype

    def J(V):
        return objective.value_and_grad_unchecked(V.astype(dtype), need_grad=False)[0]

    basis = np.stack([d1.ravel(), d2.ravel()], axis=1)  # (P, 2)
    gram = basis.T @ basis
    if np.linalg.cond(gram) > 1e12:
        fail("directions", "two linearly independent directions", "parallel ones")
    coords = None
    if T is not None:
        coords = np.linalg.solve(gram, basis.T @ (T - W).reshape(len(T), -1).T).T
        lo = np.minimum(coords.min(axis=0), 0.0)
        hi = np.maximum(coords.max(axis=0), 0.0)
        # A square box (d1 and d2 have the same norm, so equal lengths in W space) around the
        # trajectory with a margin: the landscape is seen around the path, not squeezed.
        mid, half = (lo + hi) / 2, 0.625 * max(float((hi - lo).max()), 1e-3)
        (a0, b0), (a1, b1) = mid - half, mid + half
    else:
        a0, a1, b0, b1 = -span, span, -span, span
    a = np.linspace(a0, a1, resolution)
    b = np.linspace(b0, b1, resolution)
    values = np.array([[J(W + ai * d1 + bi * d2) for ai in a] for bi in b])
    traj_values = None if T is None else np.array([J(t) for t in T])
    from_start = T is not None and bool(np.any(T[0] != W))
    if from_start:
        start, line_t = T[0], np.linspace(-0.25, 1.25, 121)
        line_values = np.array([J(start + t * (W - start)) for t in line_t])
    else:
        line_t = np.linspace(a0, a1, 121) if T is not None else np.linspace(-span, span, 121)
        line_values = np.array([J(W + t * d1) for t in line_t])
    rows = []
    if arrows:
        ga = np.linspace(a0, a1, arrows + 2)[1:-1]
        gb = np.linspace(b0, b1, arrows + 2)[1:-1]
        inv = np.linalg.inv(gram)
        for bi in gb:
            for ai in ga:
                V = (W + ai * d1 + bi * d2).astype(dtype)
                _, g = objective.value_and_grad_unchecked(V)
                step = -inv @ (basis.T @ g.ravel().astype(np.float64))
                rows.append((ai, bi, *step))
    return Landscape(
        center=W,
        d1=d1,
        d2=d2,
        a=a,
        b=b,
        values=values,
        line_t=line_t,
        line_values=line_values,
        line_from_start=from_start,
        trajectory=coords,
        trajectory_values=traj_values,
        arrows=np.array(rows, dtype=np.float64).reshape(-1, 4),
        kind=kind,
    )


def landscape(
    objective: Objective,
    W,
    *,
    directions="auto",
    trajectory=None,
    rng: np.random.Generator | None = None,
    span: float = 1.0,
    resolution: int = 31,
    arrows: int = 9,
) -> Figure:
    """The loss along a line and on a 2-D slice through ``W``, with gradient descent on it.

    Left: ``J`` along a line (with a trajectory: the straight line from its first point,
    ``t = 0``, to ``W``, ``t = 1``; otherwise ``J(W + t d1)``). Right: contours of
    ``J(W + a d1 + b d2)``, the trajectory projected onto the plane (least squares), and the
    negative gradient of the slice ``-grad_(a,b) J`` as arrows (directions only) on a coarse
    grid: each points across the contours, downhill, as on the lecture's slide.

    Args:
        objective: the :class:`~lingrad.objective.Objective` (e.g. the training objective).
        W: the centre of the slice (e.g. the trained weights), ``(D + 1, C)``.
        directions: ``"trajectory"`` (``d1 = W_0 - W``, so the start lies on the plane at
            ``(1, 0)``, and ``d2`` the trajectory's main direction orthogonal to it),
            ``"pca"`` (the trajectory's two principal directions), ``"random"`` (Gaussian,
            each class column scaled to the norm of W's column), a pair ``(d1, d2)`` of
            arrays, or ``"auto"`` (``"trajectory"`` when one is given that starts away from
            ``W``, ``"pca"`` when it starts at ``W``, else ``"random"``).
        trajectory: the optimiser's weights ``(T, D + 1, C)``, first the initial ``W_0``.
        rng: the generator for random directions (default ``default_rng(0)``: the same
            picture every time).
        span: the half-width of the grid in units of the directions (without a trajectory).
        resolution: grid points per side; ``arrows``: arrows per side (0 for none).

    The numbers are :func:`landscape_data`'s.

    Examples:
        >>> from lingrad.objective import Objective
        >>> obj = Objective("softmax", np.eye(2), np.array([0, 1]))
        >>> fig = landscape(obj, np.zeros((3, 2)), resolution=5, arrows=0)
        >>> len(fig.axes) >= 2, fig.axes[0].get_title()
        (True, 'loss along a random direction through W')
    """
    data = landscape_data(
        objective,
        W,
        directions=directions,
        trajectory=trajectory,
        rng=rng,
        span=span,
        resolution=resolution,
        arrows=arrows,
    )
    fig = _figure(11.5, 4.8)
    ax1, ax2 = fig.subplots(1, 2, width_ratios=[1, 1.25])
    curve = ax1.plot(data.line_t, data.line_values, color="#1f4e9c", lw=2)[0]
    curve.set_gid("line")
    if data.line_from_start:
        start_value = float(np.interp(0.0, data.line_t, data.line_values))
        end_value = float(np.interp(1.0, data.line_t, data.line_values))
        ax1.plot([0], [start_value], "o", color="#d62728", ms=8, label="initial W (t = 0)")
        ax1.plot([1], [end_value], "*", color="black", ms=12, label="final W (t = 1)")
        ax1.set_xlabel("t: W(t) = W₀ + t (W − W₀)")
        ax1.set_title("loss on the straight line from W₀ to W", fontsize=10)
    else:
        ax1.plot([0], [float(np.interp(0.0, data.line_t, data.line_values))], "*", ms=12,
                 color="black", label="W (t = 0)")  # fmt: skip
        ax1.set_xlabel("t: W + t d₁")
        ax1.set_title(f"loss along a {_KIND[data.kind]} direction through W", fontsize=10)
    ax1.set_ylabel("objective J (loss + λR)")
    ax1.xaxis.set_major_locator(MaxNLocator(6))
    ax1.grid(alpha=0.3)
    ax1.legend(fontsize=8)

    A, B = np.meshgrid(data.a, data.b)
    vmin, vmax = float(data.values.min()), float(data.values.max())
    levels = np.linspace(vmin, vmax, 21) if vmax > vmin else 10
    filled = ax2.contourf(A, B, data.values, levels=levels, cmap="viridis")
    ax2.contour(A, B, data.values, levels=levels, colors="white", linewidths=0.4, alpha=0.6)
    fig.colorbar(filled, ax=ax2, label="objective J", format="%.2f")
    if len(data.arrows):
        d = data.arrows[:, 2:]
        n = np.linalg.norm(d, axis=1, keepdims=True)
        unit = np.divide(d, n, out=np.zeros_like(d), where=n > 0)
        q = ax2.quiver(
            data.arrows[:, 0], data.arrows[:, 1], unit[:, 0], unit[:, 1],
            color="white", angles="xy", scale_units="width", scale=22, width=0.004,
        )  # fmt: skip
        q.set_gid("negative-gradient")
    if data.trajectory is not None:
        tr = data.trajectory
        path = ax2.plot(tr[:, 0], tr[:, 1], "-o", color="#d62728", ms=3, lw=1.6,
                        label="optimiser trajectory")[0]  # fmt: skip
        path.set_gid("trajectory")
        ax2.plot(tr[0, 0], tr[0, 1], "o", color="#d62728", ms=9, mec="white",
                 label=f"initial W₀: J = {data.trajectory_values[0]:.3f}")  # fmt: skip
    ax2.plot([0], [0], "*", color="black", mec="white", ms=14, label="W (centre)")
    ax2.set_xlabel("a (direction d₁)")
    ax2.set_ylabel("b (direction d₂)")
    ax2.set_aspect("equal" if np.isclose(data.d1.std(), data.d2.std(), rtol=1e-6) else "auto")
    ax2.set_title(f"J(W + a d₁ + b d₂) ({_KIND[data.kind]} directions); arrows: −∇J", fontsize=10)
    ax2.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3)
    return fig


# ------------------------------------------------------------------------------------------
# Confusion matrix
# ------------------------------------------------------------------------------------------


def confusion_matrix(model, X, y) -> np.ndarray:
    """Counts ``M[i, j]`` of examples of true class ``i`` predicted as ``j``, shape ``(K, K)``.

    Examples:
        >>> W = np.array([[1.0, -1.0], [0.0, 0.0]])              # D = 1, C = 2: x > 0 -> class 0
        >>> confusion_matrix(W, np.array([[1.0], [2.0], [-1.0], [3.0]]), [0, 0, 1, 1])
        array([[2, 0],
               [1, 1]])
    """
    X = check_X(X)
    W = as_weights(model, X.shape[1])
    K = _n_labels(W)
    y = check_labels(y, X.shape[0], K)
    pred = predict_from_scores(scores_unchecked(W.astype(X.dtype), X))
    M = np.zeros((K, K), dtype=np.int64)
    np.add.at(M, (y, pred), 1)
    return M


def confusion(model, X, y, *, class_names=None, normalize: bool = False) -> Figure:
    """The confusion matrix as a heat map: rows are true classes, columns predicted ones,
    each cell annotated with its count (or, with ``normalize``, the fraction of its row).

    Examples:
        >>> W = np.array([[1.0, -1.0], [0.0, 0.0]])
        >>> fig = confusion(W, np.array([[1.0], [-1.0], [3.0]]), [0, 1, 1], class_names=["a", "b"])
        >>> fig.axes[0].get_title(), [t.get_text() for t in fig.axes[0].texts]
        ('Confusion matrix: accuracy 0.667 on 3 examples', ['1', '0', '1', '1'])
    """
    M = confusion_matrix(model, X, y)
    K = M.shape[0]
    names = resolve_class_names(class_names, K, model)
    shown = M / np.maximum(M.sum(axis=1, keepdims=True), 1) if normalize else M
    size = 3.2 + 0.45 * K
    fig = _figure(size + 1.0, size)
    ax = fig.add_subplot()
    image = ax.imshow(shown, cmap="Blues", interpolation="nearest")
    fig.colorbar(image, ax=ax, shrink=0.8, label="fraction of row" if normalize else "count")
    top = shown.max() if shown.max() > 0 else 1
    for i in range(K):
        for j in range(K):
            text = f"{shown[i, j]:.2f}" if normalize else str(M[i, j])
            ax.text(j, i, text, ha="center", va="center", fontsize=8,
                    color="white" if shown[i, j] > 0.55 * top else "black")  # fmt: skip
    ax.set_xticks(range(K), names, rotation=45 if max(map(len, names)) > 3 else 0)
    ax.set_yticks(range(K), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    accuracy = np.trace(M) / max(M.sum(), 1)
    ax.set_title(f"Confusion matrix: accuracy {accuracy:.3f} on {M.sum()} examples", fontsize=10)
    return fig
