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
analytic subgradient); Crammer-Singer's ``Max`` sends no gradient to exactly tied scores.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import sympy as sp

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

    def latex(self) -> str:
        """``L`` and each ``dL/ds_k`` in LaTeX, one ``\\begin{aligned}`` block."""
        lines = [f"L &= {sp.latex(self.expression)}"]
        for s, g in zip(self.scores, self.gradient, strict=True):
            lines.append(f"\\frac{{\\partial L}}{{\\partial {sp.latex(s)}}} &= {sp.latex(g)}")
        return "\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}"

    def text(self) -> str:
        """``L`` and each ``dL/ds_k`` as plain text."""
        lines = [f"L = {sp.sstr(self.expression)}"]
        for s, g in zip(self.scores, self.gradient, strict=True):
            lines.append(f"dL/d{s} = {sp.sstr(g)}")
        return "\n".join(lines)

    def weight_gradient(self, n_features: int = 2) -> tuple[sp.Matrix, sp.Matrix]:
        """``dL/dW`` through the linear model, derived symbolically, and the chain-rule form.

        With ``n_features`` inputs ``x_j``, weights ``w_jk`` and biases ``b_k``, the scores are
        ``s_k = sum_j w_jk x_j + b_k``; returns ``(dL/dW, [x, 1]^T dL/ds)``, both
        ``(n_features + 1) x C`` matrices of expressions (the bias last), which are equal.
        """
        n_features = check_int("n_features", n_features)
        C = self.n_columns
        x = sp.symbols(f"x_0:{n_features}", real=True)
        W = sp.Matrix(n_features + 1, C, lambda j, k: sp.Symbol(f"w_{j}{k}", real=True))
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
    s = sp.symbols(f"s_0:{n_columns}", real=True)
    t = sp.symbols(f"{letter}_0:{n_columns}", real=True)
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

    @property
    def agrees(self) -> bool:
        return self.difference == 0

    def text(self) -> str:
        w = self.weight
        return (
            f"L = {sp.sstr(self.loss)}\n"
            f"dL/d{w} = {sp.sstr(self.derivative)}\n"
            f"update rule: w_j <- {sp.sstr(self.rule)}\n"
            f"check: simplify(({w} - alpha*dL/d{w}) - (the rule for {w}, written out)) = "
            f"{self.difference}"
        )

    def latex(self) -> str:
        w = sp.latex(self.weight)
        return (
            "\\begin{aligned}\n"
            f"L &= {sp.latex(self.loss)} \\\\\n"
            f"\\frac{{\\partial L}}{{\\partial {w}}} &= {sp.latex(self.derivative)} \\\\\n"
            f"w_j &\\leftarrow {sp.latex(self.rule)}\n"
            "\\end{aligned}"
        )


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
    w = sp.symbols(f"w_0:{m}", real=True)
    x = sp.Matrix(N, m, lambda i, k: sp.Symbol(f"x_{i}{k}", real=True))
    y = sp.symbols(f"y_0:{N}", real=True)
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
    rule = sp.Symbol("w_j") + 2 * alpha * sp.Sum(term, (i, 1, n))
    return UpdateRule(unit, w[j], L, dL, derived, slide, sp.simplify(derived - slide), rule)
