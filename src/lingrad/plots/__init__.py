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
SVG; :func:`write_figures` writes several, in two processes where that is safe. A "model"
is either the weights ``W`` of shape ``(D + 1, C)`` (bias in the last row) or a fitted
estimator with scikit-learn's ``coef_`` ``(C, D)`` and ``intercept_`` ``(C,)``
(see :func:`as_weights`).

One module per viewpoint, all re-exported here: :mod:`lingrad.plots.figures` (the shared
parts), :mod:`~lingrad.plots.visual`, :mod:`~lingrad.plots.geometric`,
:mod:`~lingrad.plots.algebraic`, :mod:`~lingrad.plots.curves`,
:mod:`~lingrad.plots.landscapes`, :mod:`~lingrad.plots.confusions` and
:mod:`~lingrad.plots.drawing` (writing figures to files).
"""

from lingrad.plots.algebraic import (
    AlgebraicView,
    algebraic_view,
    format_number,
    scores_table,
)
from lingrad.plots.confusions import confusion, confusion_matrix
from lingrad.plots.curves import HISTORY_PANELS, history, history_series
from lingrad.plots.drawing import FigureTask, can_fork, parallel_workers, write_figures
from lingrad.plots.figures import (
    as_weights,
    class_colors,
    region_colors,
    resolve_class_names,
    save,
)
from lingrad.plots.geometric import decision_regions
from lingrad.plots.landscapes import Landscape, landscape, landscape_data
from lingrad.plots.visual import (
    display_images,
    pixel_templates,
    signed_limit,
    template_images,
    templates,
)

__all__ = [
    "HISTORY_PANELS",
    "AlgebraicView",
    "FigureTask",
    "Landscape",
    "algebraic_view",
    "as_weights",
    "can_fork",
    "class_colors",
    "confusion",
    "confusion_matrix",
    "decision_regions",
    "display_images",
    "format_number",
    "history",
    "history_series",
    "landscape",
    "landscape_data",
    "parallel_workers",
    "pixel_templates",
    "region_colors",
    "resolve_class_names",
    "save",
    "scores_table",
    "signed_limit",
    "template_images",
    "templates",
    "write_figures",
]
