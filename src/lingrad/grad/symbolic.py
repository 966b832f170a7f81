"""The symbolic gradient: SymPy writes one example's loss, differentiates it, prints it, and
turns the derivative into vectorised NumPy code.

For one example with scores ``s_0 .. s_{C-1}`` and targets ``t_0 .. t_{C-1}`` (a one-hot label,
a binary target, real targets or probabilities, as the loss needs), :func:`derive` builds the
loss ``L(s, t)`` as a SymPy expression, differentiates it, ``dL/ds_k``, and ``lambdify``-s both
into functions that take the columns of a whole batch at once. The weights enter through the
linear model ``s_k = sum_j w_jk x_j + b_k``, so ``dL/dw_jk = dL/ds_k x_j`` and
``dL/db_k = dL/ds_k`` (:meth:`Derivation.weight_gradient` derives this too, symbolically), which
over a batch is ``[X, 1]^T dS``.

Two helper functions keep the generated code stable: ``sigma(x) = 1 / (1 + e^-x)`` (SymPy
knows ``sigma' = sigma (1 - sigma)``, which :func:`sigmoid_derivative_check` proves from the
definition) and ``softplus(x) = log(1 + e^x)`` (``softplus' = sigma``); the generated code calls
the overflow-free NumPy versions. The softmax losses are written with ``log sum_j e^{s_j}``
and evaluated on row-shifted scores (their value and gradient depend on score differences only).

:func:`update_rule` reproduces the lecture's derivations: the linear unit
``w_j <- w_j + 2 alpha sum_k delta_k x_kj`` and the sigmoid unit
``w_j <- w_j + 2 alpha sum_i delta_i sigma_i (1 - sigma_i) x_ij``, each shown equal to the
gradient step ``w_j - alpha dL/dw_j`` by ``simplify(difference) == 0``.

Kinks: hinge terms are ``Piecewise`` with the derivative 0 where the margin is exactly 0 (the
analytic subgradient). Crammer-Singer's ``Max`` differentiates to ``Heaviside`` terms, and
SymPy's ``Heaviside(0) = 1/2``: at an exact tie (two top scores equal, or the margin exactly
0) the symbolic gradient splits the subgradient evenly where the analytic one picks one class
(both are valid subgradients).

Printing (:meth:`Derivation.text`, :meth:`UpdateRule.text`) follows the slides: indices are
1-based (classes ``s_1 .. s_C``, examples ``i = 1 .. N``; one score column is ``s_i``), the
general form (``L_i = sum_{j != y_i} max(0, s_j - s_{y_i} + 1)``) comes first, then SymPy's
derivation for ``C`` classes with true class ``y_i = 1``, printed with ``max``, indicators
``1[...]`` and ``ln``, no line over :data:`WIDTH` characters.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.str import StrPrinter

from lingrad import losses
from lingrad._validation import check_int, fail
from lingrad.grad.method import Forms, ValueAndGrad, batch, checked
from lingrad.model import scores_unchecked
from lingrad.model import sigmoid as _np_sigmoid
from lingrad.objective import Objective, Rows


class sigma(sp.Function):
    """The logistic function ``1 / (1 + exp(-x))`` with ``sigma' = sigma (1 - sigma)``.

    Examples:
        >>> x = sp.Symbol("x")
        >>> sp.diff(sigma(x), x)
        (1 - sigma(x))*sigma(x)
        >>> sigma(x).rewrite(sp.exp)
        1/(1 + exp(-x))
    """

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        s = sigma(self.args[0])
        return s * (1 - s)

    def _eval_rewrite_as_exp(self, x, **kwargs):
        return 1 / (1 + sp.exp(-x))


class softplus(sp.Function):
    """``log(1 + exp(x))`` with ``softplus' = sigma``.

    Examples:
        >>> x = sp.Symbol("x")
        >>> sp.diff(softplus(x), x)
        sigma(x)
    """

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return sigma(self.args[0])

    def _eval_rewrite_as_exp(self, x, **kwargs):
        return sp.log(1 + sp.exp(x))


_NUMPY: list[dict[str, Callable[..., Any]] | str] = [
    {
        "sigma": _np_sigmoid,
        "softplus": lambda x: np.logaddexp(0, x),
        "Heaviside": lambda x, h0=0: np.heaviside(x, h0),
    },
    "numpy",
]


def sigmoid_derivative_check() -> sp.Expr:
    """``simplify(d/dx [1 / (1 + e^-x)] - sigma(x) (1 - sigma(x)))``, rewritten in ``exp``: 0.

    Examples:
        >>> sigmoid_derivative_check()
        0
    """
    x = sp.Symbol("x", real=True)
    definition = 1 / (1 + sp.exp(-x))
    s: sp.Expr = sigma(x)  # an Expr: the stubs type ``1 - sigma(x)`` as int
    claimed = (s * (1 - s)).rewrite(sp.exp)
    return sp.simplify(sp.diff(definition, x) - claimed)


# ------------------------------------------------------------------------------------------
# One example's loss as an expression of its scores and targets
# ------------------------------------------------------------------------------------------

MARGIN = sp.Symbol("Delta", positive=True)
SMOOTHING = sp.Symbol("epsilon", nonnegative=True)
_PARAMS = {"margin": MARGIN, "label_smoothing": SMOOTHING}

#: The symbolic form of each loss, by its registry name: ``(s, t) -> L``, one example's loss
#: as an expression of its score symbols ``s`` and target symbols ``t`` (one-hot or binary
#: targets, real targets or probabilities, as :attr:`lingrad.losses.LossSpec.target` says).
FORMS = Forms("symbolic")

#: The lecture's units whose gradient-descent update rule :func:`update_rule` derives.
UPDATE_RULES = {"squared_error": "linear", "sigmoid_squared_error": "sigmoid"}

#: The letter of the target symbols for each kind of target (``t`` otherwise).
_TARGET_LETTER = {losses.Target.REAL: "y", losses.Target.DISTRIBUTION: "p"}


def _correct(s, t):
    return sum(tk * sk for tk, sk in zip(t, s, strict=True))


def _positive_part(m, power=1):
    return sp.Piecewise((m**power, m > 0), (0, True))


def _weston_watkins(s, t, power):
    correct = _correct(s, t)
    terms = zip(s, t, strict=True)
    return sum((1 - tj) * _positive_part(sj - correct + MARGIN, power) for sj, tj in terms)


@FORMS.register("hinge")
def _hinge(s, t):
    return _weston_watkins(s, t, 1)


@FORMS.register("squared_hinge")
def _squared_hinge(s, t):
    return _weston_watkins(s, t, 2)


@FORMS.register("crammer_singer")
def _crammer_singer(s, t):
    # max_j (s_j + Delta (1 - t_j)) - s_y = max(0, max_{j != y} s_j - s_y + Delta)
    return sp.Max(*[sj + MARGIN * (1 - tj) for sj, tj in zip(s, t, strict=True)]) - _correct(s, t)


@FORMS.register("one_vs_all_hinge")
def _one_vs_all_hinge(s, t):
    return sum(_positive_part(MARGIN - (2 * tj - 1) * sj) for sj, tj in zip(s, t, strict=True))


def _log_sum_exp(s):
    return sp.log(sum(sp.exp(sj) for sj in s))


@FORMS.register("softmax_cross_entropy")
def _softmax_cross_entropy(s, t):
    # -sum_j q_j log softmax(s)_j = log sum_j e^{s_j} - sum_j q_j s_j, as sum_j q_j = 1
    C = len(s)
    q = [(1 - SMOOTHING) * tj + SMOOTHING / C for tj in t]
    return _log_sum_exp(s) - sum(qj * sj for qj, sj in zip(q, s, strict=True))


@FORMS.register("kl_divergence")
def _kl_divergence(s, p):
    entropy = sum(sp.Piecewise((pj * sp.log(pj), pj > 0), (0, True)) for pj in p)
    return entropy + _log_sum_exp(s) - sum(pj * sj for pj, sj in zip(p, s, strict=True))


@FORMS.register("logistic")
def _logistic(s, t):
    return softplus(s[0]) - t[0] * s[0]


@FORMS.register("squared_error")
def _squared_error(s, y):
    return sum((sj - yj) ** 2 for sj, yj in zip(s, y, strict=True))


@FORMS.register("sigmoid_squared_error")
def _sigmoid_squared_error(s, t):
    return sum((tj - sigma(sj)) ** 2 for sj, tj in zip(s, t, strict=True))


def _plain_heaviside(expr):
    """``Heaviside(x)`` (1/2 at 0) -> ``Heaviside(x, 0)``: no gradient at an exact tie."""
    return expr.replace(
        lambda e: isinstance(e, sp.Heaviside) and len(e.args) == 1,
        lambda e: sp.Heaviside(e.args[0], 0),
    )


# ------------------------------------------------------------------------------------------
# Printing as the slides write it
# ------------------------------------------------------------------------------------------

#: The longest line :meth:`Derivation.text` and :meth:`UpdateRule.text` print.
WIDTH = 100

#: Each loss as the slides write it for one example ``i`` (1-based indices; ``{margin}`` is
#: the margin, 1 on the slides), then its derivative in the same notation.
SLIDE_FORMS: dict[str, tuple[str, ...]] = {
    "hinge": (
        "L_i = sum_{j != y_i} max(0, s_j - s_{y_i} + {margin})",
        "dL_i/ds_j = 1[s_j - s_{y_i} + {margin} > 0]   (j != y_i)",
        "dL_i/ds_{y_i} = -sum_{j != y_i} 1[s_j - s_{y_i} + {margin} > 0]",
    ),
    "squared_hinge": (
        "L_i = sum_{j != y_i} max(0, s_j - s_{y_i} + {margin})^2",
        "dL_i/ds_j = 2 max(0, s_j - s_{y_i} + {margin})   (j != y_i)",
        "dL_i/ds_{y_i} = -2 sum_{j != y_i} max(0, s_j - s_{y_i} + {margin})",
    ),
    "crammer_singer": (
        "L_i = max(0, max_{j != y_i} s_j - s_{y_i} + {margin}) = max_j a_j - s_{y_i},",
        "    with a_j = s_j + {margin} for j != y_i and a_{y_i} = s_{y_i}",
        "dL_i/ds_j = 1[j = m] - 1[j = y_i],  m = argmax_j a_j",
    ),
    "one_vs_all_hinge": (
        "L_i = max(0, {margin} - s_{y_i}) + sum_{j != y_i} max(0, s_j + {margin})",
        "dL_i/ds_{y_i} = -1[{margin} - s_{y_i} > 0]",
        "dL_i/ds_j = 1[s_j + {margin} > 0]   (j != y_i)",
    ),
    "softmax_cross_entropy": (
        "L_i = -ln P(y_i) = -s_{y_i} + ln sum_j e^s_j,  P(j) = e^s_j / sum_k e^s_k",
        "dL_i/ds_j = P(j) - 1[j = y_i]",
    ),
    "kl_divergence": (
        "L_i = KL(p || P) = sum_j p_j ln(p_j / P(j))   (0 ln 0 = 0)",
        "P(j) = e^s_j / sum_k e^s_k",
        "dL_i/ds_j = P(j) - p_j",
    ),
    "logistic": (
        "L_i = -y_i ln sigma(s_i) - (1 - y_i) ln(1 - sigma(s_i)) = softplus(s_i) - y_i s_i",
        "dL_i/ds_i = sigma(s_i) - y_i",
    ),
    "squared_error": (
        "L_i = (s_i - y_i)^2   (C columns: the sum of C such terms)",
        "dL_i/ds_i = 2 (s_i - y_i)",
    ),
    "sigmoid_squared_error": (
        "L_i = (y_i - sigma(s_i))^2   (C columns: the sum of C such terms)",
        "dL_i/ds_i = -2 (y_i - sigma(s_i)) sigma(s_i) (1 - sigma(s_i))",
    ),
}

#: The softmax loss with label smoothing, printed only when it is asked for.
_SMOOTHED = (
    "L_i = -sum_j q_j ln P(j),  q_j = (1 - epsilon) 1[j = y_i] + epsilon / C",
    "dL_i/ds_j = P(j) - q_j",
)


def _natural(text: str) -> list[Any]:
    """Sort key putting ``s_2`` before ``s_10``."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text)]


def _slide_terms(expr: sp.Add, key: Callable[[Any], str]) -> list[Any]:
    """The terms of a sum in the slides' order (``w_j + 2 alpha sum...``, ``s_2 - s_1 + 1``,
    ``1 - s_1``): symbols, other terms, negative terms, numbers, each group in natural order
    of the term as ``key`` prints it; a long sum of ``e^s_k`` is cut to its first two,
    ``...`` and its last."""

    def rank(term):
        if term.is_number:
            return 3
        return 2 if term.as_coeff_Mul()[0] < 0 else int(not term.is_Symbol)

    terms = sorted(expr.args, key=lambda t: (rank(t), _natural(key(t))))
    if len(terms) > 4 and all(isinstance(t, sp.exp) and t.args[0].is_Symbol for t in terms):
        return [*terms[:2], sp.Symbol("..."), terms[-1]]
    if rank(terms[0]) == 2 and terms[-1].is_number:  # -s_1 + 1 -> 1 - s_1
        terms.insert(0, terms.pop())
    return terms


def _join_terms(texts: list[str]) -> str:
    """Printed terms joined with `` + `` / `` - `` (a term printed with a leading minus)."""
    out = texts[0]
    for text in texts[1:]:
        out += (" - " + text[1:].lstrip()) if text.startswith("-") else (" + " + text)
    return out


def _kink(expr: sp.Piecewise) -> tuple[str, sp.Expr, sp.Expr] | None:
    """A hinge ``Piecewise((value, m > 0), (0, True))`` read as the slides write it:
    ``("max", m, c)`` for ``c max(0, m)``, ``("max^2", m, c)`` for ``c max(0, m)^2``,
    ``("continuous", m, value)`` when ``value`` is 0 at the kink (``0 ln 0 = 0``), else
    ``("step", m, value)`` for ``value 1[m > 0]``; ``None`` for any other ``Piecewise``."""
    if not (len(expr.args) == 2 and expr.args[1].cond == sp.true and expr.args[1].expr == 0):
        return None
    value, cond = expr.args[0].expr, expr.args[0].cond
    if not isinstance(cond, sp.StrictGreaterThan | sp.StrictLessThan):
        return None
    m = cond.gts - cond.lts  # the condition is m > 0
    for power, kind in ((1, "max"), (2, "max^2")):
        ratio = sp.cancel(value / m**power)
        if ratio.is_number:
            return kind, m, ratio
    if m.is_Symbol and sp.limit(value, m, 0, "+") == 0:
        return "continuous", m, value
    return "step", m, value


class _SlideNotation:
    """What the plain and the LaTeX slide printers share: a hinge ``Piecewise`` (see
    :func:`_kink`) as ``max(0, m)`` or an indicator ``1[m > 0]``, ``H(x)`` for ``Heaviside``,
    ``max``/``min`` of many arguments cut to the first two, an ellipsis and the last; the
    class attributes are the notation."""

    MAX, MIN, SQUARE, ELLIPSIS, TIMES, STEP = "max", "min", "^2", "...", "*", "1[{} > 0]"
    # the printer's own (StrPrinter, LatexPrinter) and each printer's other Piecewise
    doprint: Callable[[Any], str]
    parenthesize: Callable[[Any, int], str]
    _other_piecewise: Callable[[sp.Piecewise], str]

    def _print_Piecewise(self, expr):
        form = _kink(expr)
        if form is None:
            return self._other_piecewise(expr)
        kind, m, value = form
        if kind == "continuous":
            return self.doprint(value)
        if kind in ("max", "max^2"):
            text = f"{self.MAX}(0, {self.doprint(m)})" + (self.SQUARE if kind == "max^2" else "")
            return text if value == 1 else f"{self.doprint(value)}{self.TIMES}{text}"
        step = self.STEP.format(self.doprint(m))
        if value.is_number:
            if value in (1, -1):
                return step if value == 1 else "-" + step
            return f"{self.doprint(value)}{self.TIMES}{step}"
        return f"{self.parenthesize(value, PRECEDENCE['Mul'])}{self.TIMES}{step}"

    def _print_Heaviside(self, expr, exp=None):
        return f"H({self.doprint(expr.args[0])})"

    def _print_Max(self, expr, exp=None):
        return f"{self.MAX}(" + self._short_list(expr.args) + ")"

    def _print_Min(self, expr, exp=None):
        return f"{self.MIN}(" + self._short_list(expr.args) + ")"

    def _short_list(self, args):
        texts = [self.doprint(a) for a in sorted(args, key=lambda a: _natural(slide_str(a)))]
        return ", ".join([*texts[:2], self.ELLIPSIS, texts[-1]] if len(texts) > 4 else texts)


class _SlidePrinter(_SlideNotation, StrPrinter):
    """SymPy's ``sstr`` in the slides' notation: ``max(0, m)`` for a hinge term, ``1[m > 0]``
    for a step, ``H(x)`` for ``Heaviside``, ``ln``, ``e^x``, ``^``, ``s_2 - s_1 + 1``."""

    printmethod = "_slide_str"  # not "_sympystr": ``Indexed`` would print itself as x[i, j]

    def _print_Add(self, expr, order=None):
        return _join_terms([self.doprint(t) for t in _slide_terms(expr, self.doprint)])

    def _other_piecewise(self, expr):
        return sp.sstr(expr)

    def _print_log(self, expr):
        return f"ln({self.doprint(expr.args[0])})"

    def _print_exp(self, expr):
        arg = expr.args[0]
        return f"e^{arg}" if arg.is_Symbol else f"e^({self.doprint(arg)})"

    def _print_Pow(self, expr, rational=False):
        base, power = expr.args
        level = PRECEDENCE["Pow"]
        if power == -1:
            return f"1/{self.parenthesize(base, level)}"
        return f"{self.parenthesize(base, level)}^{self.parenthesize(power, level)}"

    def _print_Sum(self, expr):
        (i, lo, hi), body = expr.limits[0], expr.function
        return f"sum_{{{i}={lo}}}^{{{hi}}} {self.doprint(body)}"

    def _print_Indexed(self, expr):
        return f"{expr.base}_" + "".join(self.doprint(k) for k in expr.indices)


def slide_str(expr: sp.Expr) -> str:
    """``expr`` printed in the slides' notation (see the module docstring).

    Examples:
        >>> s1, s2 = sp.symbols("s_1 s_2", real=True)
        >>> slide_str(sp.Piecewise((s2 - s1 + 1, s1 - s2 < 1), (0, True)))
        'max(0, s_2 - s_1 + 1)'
        >>> slide_str(sp.Piecewise((-1, s1 - s2 < 1), (0, True)) + sp.log(sp.exp(s1)))
        's_1 - 1[s_2 - s_1 + 1 > 0]'
    """
    return _SlidePrinter().doprint(expr)


class _SlideLatexPrinter(_SlideNotation, LatexPrinter):
    r""":class:`_SlidePrinter`'s notation in LaTeX: ``\max(0, m)``, ``\mathbb{1}[m > 0]``,
    ``H(x)``, ``\ln``, terms in the same order."""

    MAX, MIN, SQUARE, ELLIPSIS, TIMES = r"\max", r"\min", "^{2}", r"\ldots", " "
    STEP = r"\mathbb{{1}}[{} > 0]"

    def __init__(self) -> None:
        super().__init__({"ln_notation": True})

    def _print_Add(self, expr, order=None):
        return _join_terms([self.doprint(t) for t in _slide_terms(expr, slide_str)])

    def _print_Mul(self, expr):
        text = super()._print_Mul(expr)
        return "-" + text[2:] if text.startswith("- ") else text  # -2 x, as the slides

    def _print_Symbol(self, expr, style="plain"):
        return r"\ldots" if expr.name == "..." else super()._print_Symbol(expr, style)

    def _other_piecewise(self, expr):
        return super()._print_Piecewise(expr)


def slide_latex(expr: sp.Expr) -> str:
    r"""``expr`` in LaTeX in the slides' notation: :func:`slide_str`'s forms and order.

    Examples:
        >>> s1, s2 = sp.symbols("s_1 s_2", real=True)
        >>> slide_latex(sp.Piecewise((s2 - s1 + 1, s1 - s2 < 1), (0, True)))
        '\\max(0, s_{2} - s_{1} + 1)'
        >>> slide_latex(sp.Piecewise((-1, s1 - s2 < 1), (0, True)))
        '-\\mathbb{1}[s_{2} - s_{1} + 1 > 0]'
    """
    return _SlideLatexPrinter().doprint(expr)


#: The plain slide notation of :data:`SLIDE_FORMS` -> LaTeX, applied in order by
#: :func:`slide_form_latex`.
_TO_LATEX: tuple[tuple[str, str], ...] = (
    (r"dL_i/d(s_(?:\{[^}]*\}|\w))", r"\\frac{\\partial L_i}{\\partial \1}"),
    (r"KL\(p \|\| P\)", r"\\mathrm{KL}(p \\,\\|\\, P)"),
    (r"(?<![\w\\])(argmax|softplus)(?![a-zA-Z])", r"\\operatorname{\1}"),
    (r"(?<![\w\\{])(sum|max|ln|sigma|epsilon)(?![a-zA-Z])", r"\\\1"),
    (r"!=", r"\\ne"),
    (r"(?<![\w.])1\[", r"\\mathbb{1}["),
    (r"e\^(s_\w)", r"e^{\1}"),
    (r"(?<![\w\\])(with|for|and)(?![\w])", r"\\text{ \1 }"),
    (r",  ", r",\\quad "),
)


def slide_form_latex(line: str) -> str:
    r"""One line of :data:`SLIDE_FORMS` (margin filled in) as a row of an ``aligned`` block:
    the first ``=`` aligned (``&=``), an indented (continuation) line ``&\quad``, a trailing
    note ``(...)`` set off by ``\quad``, in words when it is words.

    Examples:
        >>> print(slide_form_latex("dL_i/ds_j = 1[s_j - s_{y_i} + 1 > 0]   (j != y_i)"))
        \frac{\partial L_i}{\partial s_j} &= \mathbb{1}[s_j - s_{y_i} + 1 > 0] \quad (j \ne y_i)
        >>> slide_form_latex("L_i = sum_{j != y_i} max(0, s_j - s_{y_i} + 1)")
        'L_i &= \\sum_{j \\ne y_i} \\max(0, s_j - s_{y_i} + 1)'
    """
    body, _, note = line.strip().partition("   (")
    for pattern, replacement in _TO_LATEX:
        body = re.sub(pattern, replacement, body)
    body = r"&\quad " + body if line.startswith(" ") else body.replace(" = ", " &= ", 1)
    if note:
        words = ":" in note or re.search(r"[a-zA-Z]{4,}", note.replace("sigma", ""))
        if words:
            body += r" \quad \text{(" + note
        else:
            for pattern, replacement in _TO_LATEX:
                note = re.sub(pattern, replacement, note)
            body += r" \quad (" + note
        body += "}" if words else ""
    return body


def wrap(lead: str, text: str, width: int = WIDTH) -> list[str]:
    """``lead + text`` broken before top-level `` + `` / `` - `` so no line is over ``width``
    characters (a single term longer than that stays whole); continuation lines are indented
    under ``text``.

    Examples:
        >>> wrap("L = ", "a + b - c", width=9)
        ['L = a + b', '    - c']
    """
    pieces, depth, start = [], 0, 0
    for k, ch in enumerate(text):
        depth += ch in "([{"
        depth -= ch in ")]}"
        if depth == 0 and k > start and text[k : k + 3] in (" + ", " - "):
            pieces.append(text[start:k])
            start = k + 1
    pieces.append(text[start:])
    lines, pad = [lead + pieces[0]], " " * len(lead)
    for piece in pieces[1:]:
        if len(lines[-1]) + 1 + len(piece) <= width:
            lines[-1] += " " + piece
        else:
            lines.append(pad + piece)
    return lines


@dataclass(frozen=True)
class _Parts:
    """The pieces of a printed derivation (:meth:`Derivation.text` / ``latex``)."""

    title: str
    forms: tuple[str, ...]
    smoothing: tuple[str, ...]
    heading: str
    L: sp.Expr
    gradient: tuple[sp.Expr, ...]

    @staticmethod
    def notes(lines: list[str]) -> list[str]:
        """What the printed ``lines`` need explained: the indicator and SymPy's Heaviside."""
        body, notes = "\n".join(lines), []
        if "1[" in body:
            kink = " (1[m > 0] is 0 at a kink, m = 0)" if "> 0]" in body else ""
            notes.append(f"1[c] is 1 where c holds and 0 elsewhere{kink}.")
        if "H(" in body:
            notes += [
                "H(x) = 1[x > 0] except H(0) = 1/2 (SymPy's Heaviside): where two terms of the",
                "max tie, the symbolic gradient splits evenly between them; the analytic one picks",
                "one.",
            ]
        return notes


#: The longest line :meth:`Derivation.latex` prints.
LATEX_WIDTH = 200


def _latex_rows(lead: str, text: str) -> list[str]:
    """``lead + text`` as rows of an ``aligned`` block of at most :data:`LATEX_WIDTH`
    characters, broken before top-level `` + `` / `` - `` (see :func:`wrap`)."""
    rows = wrap(lead, text, LATEX_WIDTH - len(r" \\"))
    return [rows[0], *(r"&\quad " + row.strip() for row in rows[1:])]


def _aligned(rows: list[str]) -> list[str]:
    """``rows`` as one ``aligned`` block, one row a line."""
    body = [row + r" \\" for row in rows[:-1]] + rows[-1:]
    return [r"\begin{aligned}", *body, r"\end{aligned}"]


@dataclass(frozen=True)
class Derivation:
    """One example's loss ``L(s, t)`` and its derivative, as expressions and as NumPy code.

    Attributes:
        loss: the loss's registry name.
        n_columns: ``C``, the number of scores.
        scores: the symbols ``s_0 .. s_{C-1}``.
        targets: the target symbols (``t``: one-hot or binary, ``y``: real, ``p``: probabilities).
        params: the parameter symbols the expressions use (``Delta``: margin,
            ``epsilon``: label smoothing), by keyword name.
        expression: ``L``.
        gradient: ``(dL/ds_0, ..., dL/ds_{C-1})``.

    Examples:
        >>> d = derive("svm", 3)
        >>> d.n_columns, len(d.gradient)
        (3, 3)
        >>> L, dS = d.evaluate(np.array([[3.2, 5.1, -1.7]]), np.array([[1.0, 0.0, 0.0]]))
        >>> np.round(L, 1), dS
        (array([2.9]), array([[-1.,  1.,  0.]]))
    """

    loss: str
    n_columns: int
    scores: tuple[sp.Symbol, ...]
    targets: tuple[sp.Symbol, ...]
    params: dict[str, sp.Symbol]
    expression: sp.Expr
    gradient: tuple[sp.Expr, ...]
    _value_fn: Callable[..., Any]
    _grad_fn: Callable[..., Any]

    def instance(self, **params: float) -> tuple[sp.Expr, tuple[sp.Expr, ...]]:
        """``L`` and ``dL/ds`` as printed: the loss's options substituted (its defaults unless
        given; a non-zero label smoothing stays the symbol ``epsilon``) and, for class labels,
        the one-hot target of class 1 (``y_i = 1``)."""
        spec = losses.spec(self.loss)
        values = {**spec.defaults, **params}
        sub: dict[sp.Symbol, Any] = {
            sym: sp.nsimplify(values[key])
            for key, sym in self.params.items()
            if not (key == "label_smoothing" and values[key])
        }
        if self.n_columns > 1 and spec.target in (
            losses.Target.LABELS,
            losses.Target.BINARY_OR_ONE_HOT,
        ):
            sub.update({t: int(k == 0) for k, t in enumerate(self.targets)})
        return self.expression.xreplace(sub), tuple(g.xreplace(sub) for g in self.gradient)

    def latex(self, **params: float) -> str:
        r""":meth:`text` in LaTeX: the same lines (the slides' forms, then SymPy's ``L`` and
        each ``dL/ds_k`` in the same notation), as ``aligned`` blocks, the prose as ``%``
        comments; no line over 200 characters (long sums continue on ``&\quad`` rows)."""
        part = self._parts(**params)
        rows = [slide_form_latex(f) for f in part.forms]
        derived = _latex_rows("L_i &= ", slide_latex(part.L))
        for s, g in zip(self.scores, part.gradient, strict=True):
            lead = f"\\frac{{\\partial L_i}}{{\\partial {sp.latex(s)}}} &= "
            derived += _latex_rows(lead, slide_latex(g))
        lines = [f"% {part.title}", *_aligned(rows)]
        lines += [f"% {note}" for note in part.smoothing]
        lines += [f"% {part.heading}", *_aligned(derived)]
        return "\n".join(lines + [f"% {note}" for note in part.notes(self._plain(part))])

    def text(self, **params: float) -> str:
        """The loss as the slides write it (:data:`SLIDE_FORMS`), then SymPy's ``L`` and each
        ``dL/ds_k`` (:meth:`instance`) in the same notation, lines of at most :data:`WIDTH`."""
        part = self._parts(**params)
        lines = [
            f"{part.title}:",
            *("  " + f for f in part.forms),
            *("  " + n for n in part.smoothing),
        ]
        lines += [f"{part.heading}:", *self._plain(part)]
        return "\n".join(lines + part.notes(lines))

    def _plain(self, part: _Parts) -> list[str]:
        lines = wrap("  L_i = ", slide_str(part.L))
        for s, g in zip(self.scores, part.gradient, strict=True):
            lines += wrap(f"  dL_i/d{s} = ", slide_str(g))
        return lines

    def _parts(self, **params: float) -> _Parts:
        """What :meth:`text` and :meth:`latex` print, before printing."""
        spec = losses.spec(self.loss)
        values = {**spec.defaults, **params}
        eps = values.get("label_smoothing", 0.0)
        margin = f"{values.get('margin', 1.0):g}"
        forms = _SMOOTHED if eps else SLIDE_FORMS[self.loss]
        C = self.n_columns
        if C == 1:
            heading = "SymPy's derivation"
        elif self.targets[0].name.startswith("t"):
            heading = f"SymPy's derivation for C = {C} classes, true class y_i = 1"
        else:
            heading = f"SymPy's derivation for C = {C} columns"
        L, gradient = self.instance(**params)
        return _Parts(
            title=f"{spec.label} loss of one example i (indices 1-based, as on the slides)",
            forms=tuple(f.replace("{margin}", margin) for f in forms),
            smoothing=(
                (f"label smoothing epsilon = {eps:g}: the target puts epsilon / C on each class",)
                if eps
                else ()
            ),
            heading=heading,
            L=L,
            gradient=gradient,
        )

    def weight_gradient(self, n_features: int = 2) -> tuple[sp.Matrix, sp.Matrix]:
        """``dL/dW`` through the linear model, derived symbolically, and the chain-rule form.

        With ``n_features`` inputs ``x_j``, weights ``w_jk`` and biases ``b_k``, the scores are
        ``s_k = sum_j w_jk x_j + b_k``; returns ``(dL/dW, [x, 1]^T dL/ds)``, both
        ``(n_features + 1) x C`` matrices of expressions (the bias last), which are equal.
        """
        n_features = check_int("n_features", n_features)
        C = self.n_columns
        x = sp.symbols(f"x_1:{n_features + 1}", real=True)
        W = sp.Matrix(n_features + 1, C, lambda j, k: sp.Symbol(f"w_{j + 1}{k + 1}", real=True))
        linear = {
            s: sum(W[j, k] * x[j] for j in range(n_features)) + W[n_features, k]
            for k, s in enumerate(self.scores)
        }
        L = self.expression.subs(linear)
        direct = W.applyfunc(lambda w: sp.diff(L, w))
        inputs = [*x, sp.Integer(1)]
        chain = sp.Matrix(n_features + 1, C, lambda j, k: self.gradient[k].subs(linear) * inputs[j])
        return direct, chain

    def evaluate(
        self, S: npt.NDArray[np.floating], T: npt.NDArray[Any], **params: float
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.floating]]:
        """Per-example losses ``(N,)`` in float64 and ``dL_i/dS`` ``(N, C)`` in S's dtype.

        ``T`` are the targets as ``lingrad.losses.spec(loss).prepare`` gives them (integer
        labels become one-hot rows here). ``params`` are the loss's options (``margin``,
        ``label_smoothing``); missing ones take the loss's default.
        """
        N, C = S.shape
        if T.ndim == 1:  # integer labels -> one-hot
            onehot = np.zeros((N, C), dtype=S.dtype)
            onehot[np.arange(N), T] = 1
            T = onehot
        spec = losses.spec(self.loss)
        if spec.link == "softmax":  # depends on score differences only: shift for stability
            S = S - S.max(axis=1, keepdims=True)
        params = {**spec.defaults, **params}
        args = [*S.T, *T.T, *(params[name] for name in self.params)]
        with np.errstate(all="ignore"):
            value = np.broadcast_to(self._value_fn(*args), (N,)).astype(np.float64)
            dS = np.empty_like(S)
            for k, column in enumerate(self._grad_fn(*args)):
                dS[:, k] = column
        return value, dS

    def batch_gradient(
        self,
        W: npt.NDArray[np.floating],
        X: npt.NDArray[np.floating],
        T: npt.NDArray[Any],
        sample_weight: npt.NDArray[np.floating] | None = None,
        **params: float,
    ) -> tuple[float, npt.NDArray[np.floating]]:
        """The (weighted) mean loss over a batch and its gradient ``dL/dW``, shape ``(D + 1, C)``.

        ``dL/dS`` comes from the generated code (:meth:`evaluate`); the linear model's part of the
        chain rule, ``dL/dw_jk = dL/ds_k x_j`` (:meth:`weight_gradient`), is ``[X, 1]^T dS``.
        ``W`` must be in X's dtype.
        """
        per_example, dS = self.evaluate(scores_unchecked(W, X), T, **params)
        loss, dS = losses.weighted_mean(per_example, dS, sample_weight)
        dW = np.empty_like(W)
        np.matmul(X.T, dS, out=dW[:-1])
        dS.sum(axis=0, out=dW[-1])
        return loss, dW


@functools.lru_cache(maxsize=64)
def _derive(name: str, n_columns: int) -> Derivation:
    letter = _TARGET_LETTER.get(losses.spec(name).target, "t")
    if n_columns == 1:  # one unit: the slides' s_i and y_i of example i
        s, t = (sp.Symbol("s_i", real=True),), (sp.Symbol("y_i", real=True),)
    else:  # classes 1..C, as the slides count
        s = sp.symbols(f"s_1:{n_columns + 1}", real=True)
        t = sp.symbols(f"{letter}_1:{n_columns + 1}", real=True)
    L = FORMS.get(name)(s, t)
    params = {key: sym for key, sym in _PARAMS.items() if sym in L.free_symbols}
    gradient = tuple(_plain_heaviside(sp.diff(L, sk)) for sk in s)
    args = [*s, *t, *params.values()]
    return Derivation(
        loss=name,
        n_columns=n_columns,
        scores=s,
        targets=t,
        params=params,
        expression=L,
        gradient=gradient,
        _value_fn=sp.lambdify(args, L, modules=_NUMPY),
        _grad_fn=sp.lambdify(args, list(gradient), modules=_NUMPY),
    )


def derive(loss: str, n_columns: int | None = None) -> Derivation:
    """Differentiate one example's ``loss`` symbolically (cached per loss and ``n_columns``).

    Args:
        loss: a loss name or alias of :mod:`lingrad.losses`.
        n_columns: ``C``; by default 1 for the losses that take one score column (binary,
            regression, the sigmoid unit), 3 otherwise.

    Examples:
        >>> d = derive("sigmoid_squared_error", 1)
        >>> s, t = d.scores[0], d.targets[0]
        >>> d.expression == (t - sigma(s)) ** 2
        True
        >>> sp.simplify(d.gradient[0] - 2 * (sigma(s) - t) * sigma(s) * (1 - sigma(s)))
        0
    """
    spec = losses.spec(loss)
    FORMS.get(spec.name)  # a loss with no symbolic form is refused by name
    if n_columns is None:
        n_columns = 1 if spec.one_column else 3
    n_columns = check_int("n_columns", n_columns)
    if spec.binary_only and n_columns != 1:
        fail("n_columns", f"1 for the binary loss {spec.name}", n_columns)
    if n_columns < spec.min_columns:
        least = spec.min_columns
        fail("n_columns", f"at least {least} for the multi-class loss {spec.name}", n_columns)
    return _derive(spec.name, n_columns)


# ------------------------------------------------------------------------------------------
# The regulariser, per weight
# ------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _regularizer_derivative() -> Callable[..., Any]:
    w, rho = sp.Symbol("w", real=True), sp.Symbol("rho", nonnegative=True)
    R = rho * sp.Abs(w) + (1 - rho) * w**2 / 2  # elastic net; rho = 0: L2, rho = 1: L1
    return sp.lambdify([w, rho], sp.diff(R, w), modules="numpy")


# ------------------------------------------------------------------------------------------
# The gradient method
# ------------------------------------------------------------------------------------------


def value_and_grad(objective: Objective) -> ValueAndGrad:
    """``(W, rows=None) -> (J(W), dJ/dW)`` with ``dL/dS`` from SymPy's derivative.

    The loss's derivative is derived once per number of classes (cached); each call evaluates
    the generated NumPy code on the batch's scores and applies ``dW = [X, 1]^T dS`` (the
    linear model's part of the chain rule, see :meth:`Derivation.weight_gradient`) plus
    ``lam * dR/dW`` (also from SymPy).

    Examples:
        >>> from lingrad.objective import Objective, Rows
        >>> obj = Objective("svm", np.eye(2), np.array([0, 1]))
        >>> J, dW = value_and_grad(obj)(np.zeros((3, 2)))   # every margin term is active
        >>> J, dW.tolist()
        (1.0, [[-0.5, 0.5], [0.5, -0.5], [0.0, 0.0]])
    """
    params = {**objective.loss_spec.defaults, **objective.loss_params}
    reg = objective.regularizer
    FORMS.get(objective.loss_spec.name)  # a loss with no symbolic form is refused here

    def symbolic(W: npt.NDArray[np.floating], rows: Rows) -> tuple[float, npt.NDArray[np.floating]]:
        X, T, w = batch(objective, W.shape[1], rows)
        derivation = derive(objective.loss_spec.name, W.shape[1])
        loss, dW = derivation.batch_gradient(W, X, T, w, **params)
        if not objective.lam or reg.name == "none":
            return loss, dW
        part = slice(None) if reg.include_bias else slice(0, -1)
        dR = _regularizer_derivative()(W[part], reg.l1_ratio)
        dW[part] += (objective.lam * dR).astype(W.dtype, copy=False)
        return loss + objective.lam * reg.value(W), dW

    return checked("symbolic", objective, symbolic)


# ------------------------------------------------------------------------------------------
# The lecture's update rules
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UpdateRule:
    """A derived gradient-descent update for one weight ``w_j``, next to the slide's.

    Attributes:
        unit: ``"linear"`` or ``"sigmoid"``.
        loss: ``L(w) = sum_i (y_i - f(w^T x_i))^2`` over the examples.
        derivative: ``dL/dw_j`` as SymPy differentiates it.
        derived: the gradient step ``w_j - alpha dL/dw_j``.
        slide: the slide's rule, e.g. ``w_j + 2 alpha sum_k delta_k x_kj``, written out.
        difference: ``simplify(derived - slide)``: 0 when they agree.
        rule: the slide's rule for any ``w_j`` in its own notation (a ``Sum`` over
            ``delta[i]``, ``sigma[i]``, ``x[i, j]``, ``i = 1..N``), for printing.
        gradient: ``dL/dw_j`` in the same notation, ``-2 sum_i delta_i x_ij`` (linear unit).
        n_examples: the ``N`` of the derivation that :attr:`difference` checks.

    Indices print 1-based, as on the slides (``w_1``, ``x_11``, ``y_1``; here ``j`` counts
    features). The slides sum over the examples, with no ``1/N``: lingrad's training minimises
    the mean, whose gradient is ``1/N`` of this one, so its learning rate is ``N`` times the
    slide's ``alpha`` for the same step.

    Examples:
        >>> r = update_rule("linear")
        >>> r.unit, r.agrees, r.difference
        ('linear', True, 0)
    """

    unit: str
    weight: sp.Symbol
    loss: sp.Expr
    derivative: sp.Expr
    derived: sp.Expr
    slide: sp.Expr
    difference: sp.Expr
    rule: sp.Expr
    gradient: sp.Expr
    n_examples: int

    @property
    def agrees(self) -> bool:
        """Whether SymPy's gradient step equals the slide's rule (:attr:`difference` is 0)."""
        return self.difference == 0

    def text(self) -> str:
        """The unit's loss, ``dL/dw_j`` and the update rule as the slides write them (1-based
        indices), SymPy's check, and the sum-versus-mean note."""
        w, f = self.weight, "w^T x_i" if self.unit == "linear" else "sigma(w^T x_i)"
        sigma_i = "" if self.unit == "linear" else ",  sigma_i = sigma(w^T x_i)"
        return "\n".join(
            [
                f"L = sum_{{i=1}}^{{N}} (y_i - {f})^2",
                f"delta_i = y_i - {f}{sigma_i}",
                f"dL/dw_j = {slide_str(self.gradient)}",
                f"update rule: w_j <- {slide_str(self.rule)}",
                f"check (SymPy, N = {self.n_examples} examples written out, j = {w.name[2:]}): "
                f"simplify(({w} - alpha*dL/d{w}) - rule) = {self.difference}",
                "The slide sums over the N examples (no 1/N); lingrad's training uses the mean",
                "(1/N) sum_i, whose gradient is 1/N of this one: `lingrad train --lr` is N times",
                "the slide's alpha for the same step.",
            ]
        )

    def latex(self) -> str:
        """:meth:`text` in LaTeX: the unit's loss, ``delta_i``, ``dL/dw_j`` and the update rule
        as the slides write them (one ``aligned`` block), the check and the note as comments."""
        f = "w^T x_i" if self.unit == "linear" else r"\sigma(w^T x_i)"
        sigma_i = "" if self.unit == "linear" else r",\quad \sigma_i = \sigma(w^T x_i)"
        rows = [
            f"L &= \\sum_{{i=1}}^{{N}} (y_i - {f})^2",
            f"\\delta_i &= y_i - {f}{sigma_i}",
            f"\\frac{{\\partial L}}{{\\partial w_j}} &= {slide_latex(self.gradient)}",
            f"w_j &\\leftarrow {sp.latex(self.rule)}",
        ]
        prose = self.text().splitlines()[4:]  # the check and the sum-versus-mean note
        return "\n".join([*_aligned(rows), *(f"% {line}" for line in prose)])


def update_rule(
    unit: str = "linear", n_examples: int = 3, n_features: int = 2, j: int = 0
) -> UpdateRule:
    """Derive the slide's update rule for weight ``w_j`` of a linear or sigmoid unit.

    The loss is ``L = sum_i (y_i - f(d_i))^2`` with ``d_i = sum_k w_k x_ik``, ``f`` the identity
    (linear unit) or ``sigma`` (sigmoid unit), over ``n_examples`` symbolic examples. With
    ``delta_i = y_i - f(d_i)`` the slides give ``w_j <- w_j + 2 alpha sum_i delta_i x_ij`` and
    ``w_j <- w_j + 2 alpha sum_i delta_i sigma_i (1 - sigma_i) x_ij``; the sigmoid is written
    out as ``1 / (1 + e^-d)`` so that SymPy really derives ``sigma'``.

    Examples:
        >>> update_rule("linear").agrees and update_rule("sigmoid").agrees
        True
    """
    if unit not in ("linear", "sigmoid"):
        fail("unit", "'linear' or 'sigmoid'", repr(unit))
    N, m = check_int("n_examples", n_examples), check_int("n_features", n_features)
    if not 0 <= j < m:
        fail("j", f"a weight index in [0, {m})", j)
    alpha = sp.Symbol("alpha", positive=True)
    w = sp.symbols(f"w_1:{m + 1}", real=True)  # printed 1-based, as on the slides
    x = sp.Matrix(N, m, lambda i, k: sp.Symbol(f"x_{i + 1}{k + 1}", real=True))
    y = sp.symbols(f"y_1:{N + 1}", real=True)
    d = [sum(w[k] * x[i, k] for k in range(m)) for i in range(N)]
    f = (lambda z: z) if unit == "linear" else (lambda z: 1 / (1 + sp.exp(-z)))
    L = sum((y[i] - f(d[i])) ** 2 for i in range(N))
    dL = sp.diff(L, w[j])
    derived = w[j] - alpha * dL
    delta = [y[i] - f(d[i]) for i in range(N)]
    if unit == "linear":
        slide = w[j] + 2 * alpha * sum(delta[i] * x[i, j] for i in range(N))
    else:
        slide = w[j] + 2 * alpha * sum(
            delta[i] * f(d[i]) * (1 - f(d[i])) * x[i, j] for i in range(N)
        )
    i, jj, n = sp.Symbol("i", integer=True), sp.Symbol("j", integer=True), sp.Symbol("N")
    delta_, sigma_, x_ = sp.IndexedBase("delta"), sp.IndexedBase("sigma"), sp.IndexedBase("x")
    term = delta_[i] * x_[i, jj]
    if unit == "sigmoid":
        term = delta_[i] * sigma_[i] * (1 - sigma_[i]) * x_[i, jj]
    total = sp.Sum(term, (i, 1, n))
    rule = sp.Symbol("w_j") + 2 * alpha * total
    difference = sp.simplify(derived - slide)
    return UpdateRule(unit, w[j], L, dL, derived, slide, difference, rule, -2 * total, N)
