"""``lingrad derive``: a loss's derivative and the gradient-descent update rule, by SymPy.

The loss prints as the slides write it (``L_i = sum_{j != y_i} max(0, s_j - s_{y_i} + 1)``,
indices 1-based), then SymPy's derivation in the same notation; the loss's options (margin,
label smoothing) take their defaults unless given.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from lingrad import losses
from lingrad._validation import check_int, fail
from lingrad.cli.common import SubParsers, add_command

if TYPE_CHECKING:  # SymPy takes about a second to import: on use, so --help stays fast
    from lingrad.grad import symbolic

#: The most score columns ``--columns`` takes: SymPy's time grows quickly with ``C`` (seconds
#: at 20, minutes at a few hundred) and a printout of more columns is unreadable anyway.
MAX_COLUMNS = 20


def register(sub: SubParsers) -> None:
    """Add the ``derive`` command to ``sub``; its ``func`` default is :func:`run`."""
    p = add_command(
        sub,
        "derive",
        "print a loss's symbolic derivative and update rule",
        "Differentiate one example's loss with SymPy and print L, dL/ds_k, the weight "
        "gradient through the linear model and the update rule (as on the slides for "
        "squared_error and sigmoid_squared_error).",
    )
    p.add_argument("--loss", default="sigmoid_squared_error", help=", ".join(losses.NAMES))
    p.add_argument(
        "--columns",
        type=int,
        default=None,
        help=f"score columns C, at most {MAX_COLUMNS} (default: 1 or 3)",
    )
    p.add_argument("--latex", action="store_true", help="print LaTeX instead of plain text")
    p.add_argument(  # SUPPRESS: absent unless given, and no "(default: None)" in the help
        "--margin",
        type=float,
        default=argparse.SUPPRESS,
        help="the hinge losses' margin (default: 1)",
    )
    p.add_argument(
        "--label-smoothing",
        type=float,
        default=argparse.SUPPRESS,
        help="the softmax loss's label smoothing epsilon in [0, 1) (default: 0, none)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``lingrad derive`` with the parsed ``args``; return the exit status (0).

    Bad input raises ``ValueError``/``TypeError``, which :func:`lingrad.cli.main` turns into
    ``lingrad: error: ...`` and exit status 2.
    """
    from lingrad.grad import symbolic

    if args.columns is not None and check_int("--columns", args.columns) > MAX_COLUMNS:
        fail("--columns", f"at most {MAX_COLUMNS} score columns", args.columns)
    derivation = symbolic.derive(args.loss, args.columns)
    params = _params(args, derivation)
    name = derivation.loss
    if args.latex:
        print(derivation.latex(**params))
        print()
        print("% through the linear model s_j = sum_d w_dj x_d + b_j; training uses the mean")
        print(
            "\\frac{\\partial L_i}{\\partial w_{dj}} = \\frac{\\partial L_i}{\\partial s_j} x_d, "
            "\\qquad w_{dj} \\leftarrow w_{dj} - \\alpha \\frac{1}{N} \\sum_{i=1}^{N} "
            "\\frac{\\partial L_i}{\\partial s_j} x_{id}"
        )
    else:
        print(derivation.text(**params))
        print()
        print(LINEAR_MODEL)
    unit = symbolic.UPDATE_RULES.get(name)
    if unit is not None and derivation.n_columns == 1:
        rule = symbolic.update_rule(unit)
        print()
        print(f"% the slide's {unit} unit" if args.latex else f"the slide's {unit} unit:")
        print(rule.latex() if args.latex else rule.text())
    return 0


#: How the score derivative reaches the weights, and the mean that training steps on.
LINEAR_MODEL = """\
through the linear model s_j = sum_d w_dj x_d + b_j (d = 1..D counts the features):
  dL_i/dw_dj = dL_i/ds_j * x_id,  dL_i/db_j = dL_i/ds_j
training (`lingrad train`, lingrad.fit) steps on the mean over a batch of N examples:
  w_dj <- w_dj - alpha * (1/N) sum_{i=1}^{N} dL_i/ds_j * x_id"""


def _params(args: argparse.Namespace, derivation: symbolic.Derivation) -> dict[str, float]:
    params: dict[str, float] = {}
    margin, smoothing = getattr(args, "margin", None), getattr(args, "label_smoothing", None)
    if margin is not None:
        if "margin" not in derivation.params:
            fail("--margin", "a loss with a margin (the hinge losses)", derivation.loss)
        if not margin > 0:
            fail("--margin", "a number > 0", margin)
        params["margin"] = margin
    if smoothing is not None:
        if "label_smoothing" not in derivation.params:
            fail("--label-smoothing", "the softmax loss", derivation.loss)
        if not 0 <= smoothing < 1:
            fail("--label-smoothing", "a number in [0, 1)", smoothing)
        params["label_smoothing"] = smoothing
    return params
