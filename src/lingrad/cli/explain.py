"""``lingrad explain``: the algebraic view of a few examples, laid out as the slides do.

For each example: the scores ``s = f(x, W)`` of every class, the softmax probabilities
``P(Y = k | x) = e^{s_k} / sum_j e^{s_j}``, the margins ``s_j - s_{y_i}``, the SVM terms
``max(0, s_j - s_{y_i} + 1)`` summed into the SVM loss, and the softmax loss ``-ln P(y_i)``.
With no run folder (and no ``--scores``) it explains the lecture's cat / car / frog example.

``--topic numerical-gradient`` works the slides' numerical gradient ("Numerical
differentiation": W with loss 1.25347, one entry nudged by h = 0.0001 at a time, gradient
-2.5, 0.6, 0, ...); ``--topic kl`` the KL-divergence slide's p* and p_hat (as printed, why that
is not a distribution, and a corrected one).
"""

from __future__ import annotations

import argparse
import math
from typing import TYPE_CHECKING

import numpy as np

from lingrad._validation import fail
from lingrad.cli.common import SubParsers, add_command
from lingrad.model import scores

if TYPE_CHECKING:  # lingrad.plots loads Matplotlib: imported on use, so --help stays fast
    from lingrad.plots import AlgebraicView

#: The lecture's SVM example: scores of a cat, a car and a frog image (one row each).
SLIDE_SCORES = ((3.2, 5.1, -1.7), (1.3, 4.9, 2.0), (2.2, 2.5, -3.1))
SLIDE_LABELS = (0, 1, 2)
SLIDE_CLASSES = ("cat", "car", "frog")

#: The slides' numerical gradient: the first entries of W, its loss, the step h, and the loss
#: after nudging entry 1, 2, 3 (1-based, as the slides count) by h.
SLIDE_W = (0.34, -1.11, 0.78, 0.12, 0.55, 2.81, -3.1, -1.5, 0.33)
SLIDE_LOSS = 1.25347
SLIDE_H = 0.0001
SLIDE_NUDGED_LOSSES = (1.25322, 1.25353, 1.25347)

#: The KL-divergence slide: p* is one-hot on the 4th of 10 classes; p_hat exactly as printed
#: (9 entries summing to 1.01), and the corrected p_hat (10 entries summing to 1: the missing
#: 0.01 added and 0.3 lowered to 0.28).
SLIDE_P_STAR = (0, 0, 0, 1, 0, 0, 0, 0, 0, 0)
SLIDE_P_HAT = (0.5, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.15, 0.3)
CORRECTED_P_HAT = (0.5, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.15, 0.28)

TOPICS = ("scores", "numerical-gradient", "kl")


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
    p.add_argument(
        "--topic",
        default="scores",
        choices=TOPICS,
        help="what to explain: the scores and losses of examples, the slides' numerical "
        "gradient step by step, or the KL-divergence slide's example",
    )
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
    from lingrad.plots import format_number

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
    lines.append(
        f"  softmax loss  L_i = -ln P({names[yi]}) = {neg_log(float(P[yi]))}"
        f"   (P = e^s_y / sum_j e^s_j)"
    )
    if view.loss not in ("hinge", "softmax_cross_entropy"):
        lines.append(f"  {view.loss_label} L_i = {view.losses[i]:.4f}")
    return "\n".join(lines)


def neg_log(p: float) -> str:
    """``-ln p = value`` with ``p`` to 6 significant digits and the value computed from the
    digits shown, so that a calculator gives the same (``-ln 0.130009 = 2.04015``)."""
    shown = f"{p:.6g}"
    x = float(shown)
    return f"-ln {shown} = {-math.log(x):.5f}" if x > 0 else f"-ln {shown} = inf"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def score_table(view: AlgebraicView, digits: int = 2) -> str:
    """The slide's table as aligned plain text (no Markdown): one row per class, one column
    per example, the true class's score marked ``*``, the losses below and their mean."""
    from lingrad.plots import format_number

    header, rows = view.table(digits)
    cells = [header] + [[c[1:-1] + "*" if c.startswith("*") else c for c in r] for r in rows]
    widths = [max(len(r[k]) for r in cells) for k in range(len(header))]
    lines = []
    for r in cells:
        right = (c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True))
        lines.append("  ".join([r[0].ljust(widths[0]), *right]))
    n = len(view.losses)
    mean = format_number(view.mean_loss, digits)
    over = _plural(n, "example")
    return "\n".join([*lines, "", f"mean {view.loss_label} over {over}: L = {mean}"])


def explain(view: AlgebraicView, source: str) -> str:
    """The whole printout: the table of all examples, then each example's working."""
    n = len(view.y)
    parts = [
        f"The algebraic view s = f(x, W) = W x + b of {_plural(n, 'example')} from {source}.",
        "Scores per class (rows) for each example (columns); the true class's score has a *:",
        "",
        score_table(view),
    ]
    for i in range(n):
        parts += ["", explain_example(view, i)]
    return "\n".join(parts)


def _short(v: float) -> str:
    return f"{round(v, 6) + 0.0:g}"


def forward_differences(loss: float, nudged: tuple[float, ...], h: float) -> list[float]:
    """``(L(W + h e_k) - L(W)) / h`` for each nudged loss, rounded to what the losses' digits
    carry (losses to 5 decimals and h = 1e-4 leave one decimal)."""
    digits = max(0, len(f"{loss:.10g}".partition(".")[2]) - round(-math.log10(h)))
    return [round((lk - loss) / h, digits) + 0.0 for lk in nudged]


def explain_numerical_gradient(
    W: tuple[float, ...] = SLIDE_W,
    loss: float = SLIDE_LOSS,
    nudged: tuple[float, ...] = SLIDE_NUDGED_LOSSES,
    h: float = SLIDE_H,
) -> str:
    """The slides' numerical gradient step by step: nudge entry ``k`` (1-based) of ``W`` by
    ``h``, read the loss, ``dW_k = (L(W + h e_k) - L(W)) / h``."""
    grads = forward_differences(loss, nudged, h)
    shown = [_short(w) for w in W]
    lines = [
        'The numerical gradient, step by step (the slides "Numerical differentiation"):',
        f"  current W = [{', '.join(shown)}, ...]   loss {loss}",
        f"  dL/dW_k ~ (L(W + h e_k) - L(W)) / h: nudge one entry k at a time by h = {h}",
        "",
    ]
    for k, (lk, g) in enumerate(zip(nudged, grads, strict=True)):
        row = list(shown)
        row[k] = f"{shown[k]} + {h}"
        lines.append(f"  k = {k + 1}: W + h e_{k + 1} = [{', '.join(row[: k + 3])}, ...]")
        lines.append(f"         loss {lk}:  dW_{k + 1} = ({lk} - {loss}) / {h} = {_short(g)}")
    lines += [
        "",
        f"  gradient dW = [{', '.join(_short(g) for g in grads)}, ...]",
        "  One loss evaluation per entry of W: slow, approximate (h > 0), easy to write. Use it",
        "  to check an analytic gradient (`lingrad gradcheck`); lingrad's own version is",
        "  lingrad.numerical_gradient(J, W, h=1e-4, difference='forward').",
    ]
    return "\n".join(lines)


def explain_kl(
    p_star: tuple[float, ...] = SLIDE_P_STAR,
    printed: tuple[float, ...] = SLIDE_P_HAT,
    corrected: tuple[float, ...] = CORRECTED_P_HAT,
) -> str:
    """The KL-divergence slide: ``p*``, the printed ``p_hat`` (and why it is not a
    distribution), the corrected one, and ``KL(p* || p_hat) = -ln p_hat(y)`` for one-hot p*."""

    def vec(v: tuple[float, ...]) -> str:
        return "[" + ", ".join(_short(x) for x in v) + "]"

    y = p_star.index(1)
    kl = math.fsum(p * math.log(p / q) for p, q in zip(p_star, corrected, strict=True) if p > 0)
    return "\n".join(
        [
            "The KL-divergence example (the slides' KL(p* || p_hat)):",
            f"  p*    = {vec(p_star)}   one-hot: the true class is class {y + 1}",
            f"  p_hat = {vec(printed)}   as printed on the slide",
            f"  As printed p_hat is not a probability distribution: {len(printed)} entries for "
            f"{len(p_star)} classes,",
            f"  summing to {math.fsum(printed):.2f}, not 1.",
            f"  Corrected ({len(corrected)} entries, the missing 0.01 added, 0.3 -> 0.28, "
            f"sum {math.fsum(corrected):.2f}):",
            f"  p_hat = {vec(corrected)}",
            "  KL(p* || p_hat) = sum_y p*(y) ln(p*(y) / p_hat(y)) = -H(p*) + H(p*, p_hat)",
            f"                  = 0 - ln p_hat({y + 1}) = {neg_log(corrected[y])}"
            f"   (the whole sum: {kl:.5f})",
            "  With a one-hot p* the entropy H(p*) is 0: minimising KL is minimising the",
            "  cross-entropy -ln p_hat(y_i), the softmax loss.",
        ]
    )


def run(args: argparse.Namespace) -> int:
    """Run ``lingrad explain`` with the parsed ``args``; return the exit status (0).

    Bad input raises ``ValueError``/``TypeError``, which :func:`lingrad.cli.main` turns into
    ``lingrad: error: ...`` and exit status 2.
    """
    from lingrad import report
    from lingrad.plots import algebraic_view

    if args.examples < 1:
        fail("--examples", "an integer >= 1", args.examples)
    if args.topic != "scores":
        if args.run_dir is not None or args.scores is not None:
            fail("--topic", "'scores' with RUN_DIR or --scores", repr(args.topic))
        print(explain_kl() if args.topic == "kl" else explain_numerical_gradient())
        return 0
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
