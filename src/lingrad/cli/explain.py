"""``lingrad explain``: the algebraic view of a few examples, laid out as the slides do.

For each example: the scores ``s = f(x, W)`` of every class, the softmax probabilities
``P(Y = k | x) = e^{s_k} / sum_j e^{s_j}``, the margins ``s_j - s_{y_i}``, the SVM terms
``max(0, s_j - s_{y_i} + 1)`` summed into the SVM loss, and the softmax loss ``-ln P(y_i)``.
With no run folder (and no ``--scores``) it explains the lecture's cat / car / frog example.
"""

from __future__ import annotations

import argparse
import math

import numpy as np

from lingrad import report
from lingrad._validation import fail
from lingrad.cli.common import SubParsers, add_command
from lingrad.model import scores
from lingrad.plots import AlgebraicView, algebraic_view, format_number

#: The lecture's SVM example: scores of a cat, a car and a frog image (one row each).
SLIDE_SCORES = ((3.2, 5.1, -1.7), (1.3, 4.9, 2.0), (2.2, 2.5, -3.1))
SLIDE_LABELS = (0, 1, 2)
SLIDE_CLASSES = ("cat", "car", "frog")


def register(sub: SubParsers) -> None:
    """Add the ``explain`` command to ``sub``; its ``func`` default is :func:`run`."""
    p = add_command(
        sub,
        "explain",
        "print scores, probabilities, margins and loss terms for a few examples",
        __doc__,
    )
    p.add_argument(
        "run_dir",
        metavar="RUN_DIR",
        nargs="?",
        help="a run folder written by `lingrad train` (default: the lecture's example)",
    )
    p.add_argument(
        "--split", default="val", choices=("train", "val", "test"), help="the examples explained"
    )
    p.add_argument("--examples", type=int, default=3, help="how many examples to explain")
    p.add_argument(
        "--loss", default=None, help="the loss of the table (default: the run's loss, or SVM)"
    )
    p.add_argument(
        "--scores",
        help='scores to explain instead of a run, one example per ";": "3.2,5.1,-1.7;1.3,4.9,2"',
    )
    p.add_argument("--labels", help="the true class of each --scores row, e.g. 0,1")
    p.add_argument("--class-names", help="comma-separated class names for --scores")
    p.set_defaults(func=run)


def _parse_scores(text: str) -> np.ndarray:
    try:
        rows = [[float(v) for v in row.split(",")] for row in text.split(";") if row.strip()]
    except ValueError:
        fail("--scores", 'numbers like "3.2,5.1,-1.7;1.3,4.9,2.0"', repr(text))
    if not rows or len({len(r) for r in rows}) != 1:
        fail("--scores", "rows of equal length separated by ';'", repr(text))
    return np.array(rows)


def _parse_labels(text: str | None, n: int) -> np.ndarray:
    if text is None:
        fail("--labels", f"{n} true classes (one per --scores row)", "none")
    try:
        return np.array([int(v) for v in text.split(",")])
    except ValueError:
        fail("--labels", "comma-separated integers", repr(text))


def explain_example(view: AlgebraicView, i: int) -> str:
    """The slide's working for example ``i`` of ``view`` as lines of text."""
    S, P, names = view.scores[i], view.probabilities[i], view.class_names
    yi = int(view.y[i])
    lines = [f"example #{i}: true class {names[yi]!r}"]
    if S.shape[0] == 1:  # binary: one score, P(y = 1) = sigma(s)
        lines.append(f"  score s = {S[0]:.4f}, P(y = 1) = sigma(s) = {P[1]:.4f}")
        lines.append(f"  {view.loss_label} L_i = {view.losses[i]:.4f}")
        return "\n".join(lines)
    width = max(len(n) for n in names) + 2
    lines.append(
        f"  {'class':<{width}} {'score s_j':>10} {'P(j)':>8} {'s_j - s_y':>10} "
        f"{'max(0, s_j - s_y + 1)':>22}"
    )
    for k, name in enumerate(names):
        mark = "*" if k == yi else " "
        term = "-" if k == yi else format_number(view.hinge_terms[i, k], 2)
        lines.append(
            f"  {name + mark:<{width}} {format_number(S[k], 2):>10} {P[k]:>8.4f} "
            f"{format_number(view.margins[i, k], 2):>10} {term:>22}"
        )
    others = [k for k in range(len(names)) if k != yi]
    sy = format_number(S[yi], 2) if S[yi] >= 0 else f"({format_number(S[yi], 2)})"
    terms = [f"max(0, {format_number(S[k], 2)} - {sy} + 1)" for k in others]
    svm = float(view.hinge_terms[i].sum())
    for start in range(0, len(terms), 3):  # three terms a line, as the slide stacks them
        lead = "  SVM loss      L_i = " if start == 0 else "                    + "
        lines.append(lead + " + ".join(terms[start : start + 3]))
    values = " + ".join(format_number(view.hinge_terms[i, k], 2) for k in others)
    lines.append(f"                    = {values} = {format_number(svm, 2)}")
    p = float(P[yi])
    ce = -math.log(p) if p > 0 else math.inf
    lines.append(
        f"  softmax loss  L_i = -ln P({names[yi]}) = -ln {p:.4f} = {ce:.4f}"
        f"   (P = e^s_y / sum_j e^s_j)"
    )
    if view.loss not in ("hinge", "softmax_cross_entropy"):
        lines.append(f"  {view.loss_label} L_i = {view.losses[i]:.4f}")
    return "\n".join(lines)


def explain(view: AlgebraicView, source: str) -> str:
    """The whole printout: the table of all examples, then each example's working."""
    n = len(view.y)
    parts = [
        f"The algebraic view s = f(x, W) = W x + b of {n} example(s) from {source}.",
        "Scores per class (rows) for each example (columns); true class in bold:",
        "",
        view.markdown(),
    ]
    for i in range(n):
        parts += ["", explain_example(view, i)]
    return "\n".join(parts)


def run(args: argparse.Namespace) -> int:
    """Run ``lingrad explain`` with the parsed ``args``; return the exit status (0).

    Bad input raises ``ValueError``/``TypeError``, which :func:`lingrad.cli.main` turns into
    ``lingrad: error: ...`` and exit status 2.
    """
    if args.examples < 1:
        fail("--examples", "an integer >= 1", args.examples)
    if args.run_dir is not None and args.scores is not None:
        fail("RUN_DIR / --scores", "one of them", "both")
    if args.run_dir is not None:
        from lingrad.cli.plot import SPLIT_NAMES, load_run_data

        rd = load_run_data(args.run_dir)
        X, y = rd.X[args.split][: args.examples], rd.y[args.split][: args.examples]
        S = scores(rd.run.W.astype(X.dtype), X)
        loss = args.loss or report.label_loss(rd.run.config, rd.run.W.shape[1])
        view = algebraic_view(S, y, loss=loss, class_names=rd.data.class_names)
        source = f"the {SPLIT_NAMES[args.split]} split of run {rd.run.path.name!r}"
    elif args.scores is not None:
        S = _parse_scores(args.scores)
        y = _parse_labels(args.labels, S.shape[0])
        names = None if args.class_names is None else args.class_names.split(",")
        loss = args.loss or ("hinge" if S.shape[1] > 1 else "logistic")
        view = algebraic_view(S, y, loss=loss, class_names=names)
        source = "--scores"
    else:
        S = np.array(SLIDE_SCORES)
        view = algebraic_view(S, SLIDE_LABELS, loss=args.loss or "hinge", class_names=SLIDE_CLASSES)
        source = "the lecture (cat, car and frog images)"
    print(explain(view, source))
    return 0
