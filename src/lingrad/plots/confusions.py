"""The confusion matrix: true classes against predicted ones."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from lingrad._validation import check_labels, check_X
from lingrad.model import predict_from_scores, scores_unchecked
from lingrad.plots import figures
from lingrad.plots.figures import as_weights, fixed_figure, n_labels, resolve_class_names


def confusion_matrix(model: figures.Model, X: ArrayLike, y: ArrayLike) -> np.ndarray:
    """Counts ``M[i, j]`` of examples of true class ``i`` predicted as ``j``, shape ``(K, K)``.

    Examples:
        >>> W = np.array([[1.0, -1.0], [0.0, 0.0]])              # D = 1, C = 2: x > 0 -> class 0
        >>> confusion_matrix(W, np.array([[1.0], [2.0], [-1.0], [3.0]]), [0, 0, 1, 1])
        array([[2, 0],
               [1, 1]])
    """
    X = check_X(X)
    W = as_weights(model, X.shape[1])
    K = n_labels(W)
    y = check_labels(y, X.shape[0], K)
    pred = predict_from_scores(scores_unchecked(W.astype(X.dtype), X))
    M = np.zeros((K, K), dtype=np.int64)
    np.add.at(M, (y, pred), 1)
    return M


def confusion(
    model: figures.Model,
    X: ArrayLike,
    y: ArrayLike,
    *,
    class_names: figures.ClassNames = None,
    normalize: bool = False,
) -> Figure:
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
    # Fixed positions (inches) from the longest name (~0.09 in per character at 10 pt): the
    # names and axis label on the left, the (rotated) names and label below, the title on
    # top; the square matrix m x m, then its colour bar (ticks and label on its right).
    longest = max(map(len, names))
    rotated = longest > 3
    left, bottom, top = 0.45 + 0.09 * longest, 0.5 + (0.065 * longest if rotated else 0.15), 0.35
    m = size - bottom - top
    width = left + m + 1.2
    fig = fixed_figure(width, size, (left, width - left - m, bottom, top))
    ax = fig.add_subplot()
    image = ax.imshow(shown, cmap="Blues", interpolation="nearest")
    bar = fig.add_axes(((left + m + 0.25) / width, (bottom + 0.1 * m) / size, 0.2 / width,
                        0.8 * m / size))  # fmt: skip
    fig.colorbar(image, cax=bar, label="fraction of row" if normalize else "count")
    top = shown.max() if shown.max() > 0 else 1
    for i in range(K):
        for j in range(K):
            text = f"{shown[i, j]:.2f}" if normalize else str(M[i, j])
            ax.text(j, i, text, ha="center", va="center", fontsize=8,
                    color="white" if shown[i, j] > 0.55 * top else "black")  # fmt: skip
    ax.set_xticks(range(K), names, rotation=45 if rotated else 0)
    ax.set_yticks(range(K), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    accuracy = np.trace(M) / max(M.sum(), 1)
    ax.set_title(f"Confusion matrix: accuracy {accuracy:.3f} on {M.sum()} examples", fontsize=10)
    return fig
