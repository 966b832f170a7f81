"""The geometric viewpoint: hyperplanes cutting up space (the decision regions in a plane)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from numpy.typing import ArrayLike

from lingrad._validation import check_int, check_labels, check_X, fail
from lingrad.model import predict_from_scores, scores_unchecked
from lingrad.plots.figures import (
    ClassNames,
    Model,
    as_weights,
    class_colors,
    fixed_figure,
    n_labels,
    region_colors,
    resolve_class_names,
)


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
    model: Model,
    X: ArrayLike,
    y: ArrayLike | None = None,
    *,
    features: Sequence[int] | None = None,
    class_names: ClassNames = None,
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
    ``mean . W[:-1] + b``; the points are projected onto it. A projected point is classified
    by the full model at its own ``x``, not at its projection, so it can land in another
    class's region: each point is then filled with its true class and **edged with the class
    the full model predicts** (the title says so); ringed points are misclassified. The region
    image is
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
    K = n_labels(W)
    if y is not None:
        y = check_labels(y, N, K)
    resolution = check_int("resolution", resolution, minimum=2)
    names = resolve_class_names(class_names, K, model)
    from lingrad.train.runners import blas_threads  # small products: one BLAS thread

    # (two BLAS threads made the 180 x 64 SVD of digits 0.3 s instead of 1 ms)
    with blas_threads(N, D):
        X64 = X.astype(np.float64)
        plane = _plane(X64, features)
        P = plane.project(X64)
        W2 = plane.restrict(W)
        box = _padded_box(P)
        regions = _region_predictions(W2, box, resolution)
        predicted = None if y is None else predict_from_scores(scores_unchecked(W, X64))

    projected = D > 2  # the points sit off the plane: their region need not be their class
    fig = _figure(names, projected and y is not None)
    ax = fig.add_subplot()
    _draw_regions(ax, regions, box, K)
    colors = class_colors(K)
    _draw_hyperplanes(ax, W2, box, colors)
    handles = [
        Patch(facecolor=region_colors(K)[k], edgecolor=colors[k], label=names[k]) for k in range(K)
    ]
    labelled = None if y is None or predicted is None else (y, predicted)
    title = _draw_points(ax, P, colors, handles, labelled, projected)
    x0, x1, y0, y1 = box
    outside = int(np.sum((P[:, 0] < x0) | (P[:, 0] > x1) | (P[:, 1] < y0) | (P[:, 1] > y1)))
    if outside:
        title += f" ({outside} outside the view)"
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel(plane.labels[0])
    ax.set_ylabel(plane.labels[1])
    ax.set_title(
        f"Decision regions and hyperplanes $w_k \\cdot x + b_k = 0$ (arrows: $w_k$)\n"
        f"{plane.title}\n{title}",
        fontsize=10,
    )
    ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=9)
    return fig


def _figure(names: Sequence[str], explained: bool) -> Figure:
    """The 8.2 x 6 inch figure with fixed margins (inches): the axis labels and tick labels
    left and below, the title's 3 lines (5 when ``explained``) above, and on the right the
    legend (~0.07 in per character of its longest label at 9 pt, "misclassified" included,
    plus the patch and padding)."""
    longest = max(13, *(len(n) for n in names))
    top = 0.2 + 0.17 * (5 if explained else 3)
    return fixed_figure(8.2, 6.0, (0.75, 0.75 + 0.07 * longest, 0.55, top))


def _region_predictions(W2: np.ndarray, box, resolution: int) -> np.ndarray:
    """The class predicted at each pixel centre of the view ``box``, shape ``(R, R)``, row 0 at
    the bottom; ``W2`` is the model on the plane, ``(3, C)``."""
    x0, x1, y0, y1 = box
    xs, ys = _pixel_centres(x0, x1, resolution), _pixel_centres(y0, y1, resolution)
    gx, gy = np.meshgrid(xs, ys)
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    return predict_from_scores(scores_unchecked(W2, grid)).reshape(resolution, resolution)


def _draw_regions(ax, pred: np.ndarray, box, K: int) -> None:
    """The region image ``ax.images[0]``: ``pred`` ``(R, R)`` in the light class colours."""
    ax.imshow(
        pred,
        origin="lower",
        extent=box,
        cmap=ListedColormap(region_colors(K)),
        vmin=-0.5,
        vmax=K - 0.5,
        interpolation="nearest",
        aspect="auto",
        zorder=0,
    )


def _draw_hyperplanes(ax, W2: np.ndarray, box, colors: np.ndarray) -> None:
    """Each column's zero-score line ``w_k . x + b_k = 0`` of the plane model ``W2`` ``(3, C)``
    and its normal ``w_k`` as an arrow from the line's point nearest the view's centre (arrow
    length ``0.18 * min(width, height) * ||w_k|| / max_j ||w_j||``)."""
    x0, x1, y0, y1 = box
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


def _draw_points(
    ax, P: np.ndarray, colors: np.ndarray, handles: list, labelled, projected: bool = False
) -> str:
    """The projected points ``P`` ``(N, 2)``: black without labels; with ``labelled = (y,
    predicted)`` (the true classes and the full model's predictions, ``(N,)`` each), filled by
    ``y`` and the misclassified ones ringed (their legend entry appended to ``handles``); when
    ``projected``, each point's edge is the colour of the class the full model predicts
    (``ax.collections[0]``). Returns the title's text."""
    N = len(P)
    if labelled is None:
        ax.scatter(P[:, 0], P[:, 1], c="black", s=10, zorder=3)
        return f"{N} points"
    y, predicted = labelled
    ax.scatter(
        P[:, 0],
        P[:, 1],
        c=colors[y],
        s=(22 if N > 200 else 36) * (1.6 if projected else 1.0),
        edgecolors=colors[predicted] if projected else "black",
        linewidths=1.5 if projected else 0.4,
        zorder=3,
    )
    wrong = predicted != y
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
    count = f"{wrong.sum()} of {N} points misclassified"
    if projected:
        return (
            f"{count}\npoints: fill = true class, edge = class the full model predicts;\n"
            "regions: the model on this plane only"
        )
    return count
