"""``lingrad derive``: a loss's derivative and the gradient-descent update rule, by SymPy."""

from __future__ import annotations

import argparse

from lingrad import losses
from lingrad._validation import check_int, fail
from lingrad.cli.common import SubParsers, add_command
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
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``lingrad derive`` with the parsed ``args``; return the exit status (0).

    Bad input raises ``ValueError``/``TypeError``, which :func:`lingrad.cli.main` turns into
    ``lingrad: error: ...`` and exit status 2.
    """
    if args.columns is not None and check_int("--columns", args.columns) > MAX_COLUMNS:
        fail("--columns", f"at most {MAX_COLUMNS} score columns", args.columns)
    derivation = symbolic.derive(args.loss, args.columns)
    name = derivation.loss
    print(f"% {name}, one example" if args.latex else f"{name}, one example:")
    print(derivation.latex() if args.latex else derivation.text())
    print()
    if args.latex:
        print("% through the linear model s_k = sum_j w_jk x_j + b_k")
        print(
            "\\frac{\\partial L}{\\partial w_{jk}} = \\frac{\\partial L}{\\partial s_k} x_j, "
            "\\qquad w_{jk} \\leftarrow w_{jk} - \\alpha \\frac{\\partial L}{\\partial s_k} x_j"
        )
    else:
        print("through the linear model s_k = sum_j w_jk x_j + b_k:")
        print("dL/dw_jk = dL/ds_k * x_j;  update rule: w_jk <- w_jk - alpha * dL/ds_k * x_j")
    unit = symbolic.UPDATE_RULES.get(name)
    if unit is not None and derivation.n_columns == 1:
        rule = symbolic.update_rule(unit)
        print()
        print(
            f"% the slide's {unit} unit over N examples"
            if args.latex
            else f"the slide's {unit} unit over N examples (delta_i = y_i - f(x_i)):"
        )
        print(rule.latex() if args.latex else rule.text())
    return 0
