"""The algebraic viewpoint: the slide's table of scores ``S = XW + b`` and each example's loss."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from lingrad import losses
from lingrad._validation import as_float_array, check_int, check_labels, check_X, fail
from lingrad.model import predict_from_scores, proba_from_scores, scores_unchecked
from lingrad.plots.figures import (
    ClassNames,
    Model,
    as_weights,
    fixed_figure,
    n_labels,
    resolve_class_names,
)
from lingrad.plots.visual import display_images


def format_number(value: float, digits: int) -> str:
    """``value`` with ``digits`` decimals, never ``-0.00``.

    Examples:
        >>> format_number(3.14159, 2), format_number(-0.001, 2)
        ('3.14', '0.00')
    """
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


def algebraic_view(
    S: ArrayLike,
    y: ArrayLike,
    *,
    loss: str = "hinge",
    class_names: ClassNames = None,
    **loss_params: float,
) -> AlgebraicView:
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
    model: Model,
    X: ArrayLike,
    y: ArrayLike,
    *,
    class_names: ClassNames = None,
    loss: str = "hinge",
    max_examples: int = 6,
    image_shape: Sequence[int] | None = None,
    images: ArrayLike | None = None,
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
    y = check_labels(y, X.shape[0], n_labels(W))[:n]
    X = X[:n]
    S = scores_unchecked(W.astype(X.dtype), X)
    view = algebraic_view(
        S, y, loss=loss, class_names=resolve_class_names(class_names, n_labels(W), model)
    )
    header, rows = view.table()
    thumbs = None
    if image_shape is not None:
        source = X if images is None else check_X(images, "images")[:n]
        thumbs = display_images(source, image_shape)
    ax = _table_axes(n, len(rows) + 1, thumbs)
    grey = "#eeeeee"
    table = ax.table(
        cellText=[[c.strip("*") for c in row] for row in rows],
        colLabels=header,
        cellColours=_cell_colours(rows, view.correct, grey),
        colColours=[grey] * len(header),
        loc="upper center",
        cellLoc="center",
    )
    table.auto_set_font_size(False)
    table.set_fontsize(9)
    table.scale(1.0, 1.6)  # rows ~0.27 in tall: the figure allows 0.3 in per row
    ax.figure.suptitle(
        f"Scores s = f(x, W) per class (rows) for each example (columns); true class in green.\n"
        f"Last row: each example's {view.loss_label} L_i (green: classified correctly, red: "
        f"not); mean L = {view.mean_loss:.2f}",
        fontsize=9,
    )
    return ax.figure


def _table_axes(n: int, n_rows: int, thumbs: np.ndarray | None):
    """A new figure sized for a table of ``n`` example columns and ``n_rows`` rows (header
    included), and its table's axes (axis off); with ``thumbs`` ``(n, ...)``, a row of
    thumbnails above the table, one over each example column."""
    width = 1.6 + 1.15 * n
    height = 0.3 * n_rows + (1.3 if thumbs is not None else 0.0) + 0.6
    # fixed margins (inches): the two-line title on top; the table fills its axes' width
    shape = (2, n + 1) if thumbs is not None else (1, 1)
    fig = fixed_figure(width, height, (0.05, 0.05, 0.05, 0.5), (0.1, 0.15), shape)
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
    return ax


def _cell_colours(rows: list[list[str]], correct: np.ndarray, grey: str) -> list[list[str]]:
    """The table's cell colours, shaped like ``rows``: the name column grey; a class row's
    cell green where it is the true class (marked ``*``), else white; the loss row (last)
    green where the example (column) is classified correctly (``correct`` ``(n,)``), else red."""
    green, red = "#c8f0c8", "#f6d0d0"
    colours = []
    for r, row in enumerate(rows):
        line = [grey]
        for c, cell in enumerate(row[1:]):
            if r == len(rows) - 1:
                line.append(green if correct[c] else red)
            else:
                line.append(green if cell.startswith("*") else "white")
        colours.append(line)
    return colours
