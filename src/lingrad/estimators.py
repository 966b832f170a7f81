"""scikit-learn estimators over lingrad's losses, regularisers and optimisers.

:class:`LinearClassifier` and :class:`LinearRegressor` minimise the objective of
:mod:`lingrad.objective`,

    J(W) = sum_i w_i L(S_i, y_i) / sum_i w_i + lam * R(W),      S = X @ W[:-1] + W[-1]

with ``W`` of shape ``(D + 1, C)`` (bias in the last row) and ``w_i`` the product of
``sample_weight`` and ``class_weight``. The learned ``W`` is kept as ``W_`` (lingrad's
orientation, what :mod:`lingrad.io` saves); ``coef_`` (``C x D``) and ``intercept_`` are
scikit-learn's views of it.

Classes: any label type (strings too); ``classes_`` holds the sorted labels and training uses
their indices ``0..K-1``. A binary problem is scored by one column for the sigmoid losses
(``logistic``, ``sigmoid_squared_error``) and by two for the multi-class ones (``softmax``,
``hinge``...), whose ``decision_function`` is then ``S[:, 1] - S[:, 0]``.

Parameters are validated in ``fit`` (never in ``__init__``) against one declarative table,
with one message template: ``LinearClassifier.lam: expected a number >= 0, got -1``.

Examples:
    >>> import numpy as np
    >>> X = np.array([[0.0, 0.0], [0.1, 0.3], [2.0, 2.0], [2.2, 1.8]])
    >>> clf = LinearClassifier(random_state=0).fit(X, ["cat", "cat", "dog", "dog"])
    >>> clf.predict([[0.2, 0.1], [2.1, 2.1]]).tolist()
    ['cat', 'dog']
"""

from __future__ import annotations

import math
import numbers
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

import numpy as np
import numpy.typing as npt
from numpy.typing import NDArray
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import assert_all_finite, check_is_fitted, validate_data

from lingrad import _xp_estimator, grad, losses, optim, regularizers, train
from lingrad._array_api import copy, device, namespace, numpy_dtype, to_numpy
from lingrad._validation import (
    check_int,
    check_weights,
    defers_finite,
    fail,
    is_sparse,
    plain_fit_arrays,
)
from lingrad.defaults import DEFAULTS, resolve_optimizer
from lingrad.model import init_weights, predict_from_scores, scores_unchecked, sigmoid, softmax
from lingrad.objective import Objective
from lingrad.optim import schedules, solvers
from lingrad.train.weights import by_index

# ------------------------------------------------------------------------------------------
# The parameter table: one rule per parameter, one message template for every error
# ------------------------------------------------------------------------------------------


#: the built-in types of most parameter values: their type is looked up in a rule's
#: ``exact`` set before ``isinstance`` against abstract types such as ``numbers.Real`` (slow)
_BUILTINS = (int, float, str, type(None), dict)


@dataclass(frozen=True)
class _Rule:
    """``types``: the accepted Python types; ``ok``: the range check; ``expected``: its words;
    ``exact``: the built-in types among ``types`` (bool aside: it has its own check)."""

    expected: str
    types: tuple[type, ...]
    ok: Callable[[Any], bool] = lambda value: True  # values reach ok only of ``types``
    exact: frozenset[type] = field(init=False)

    def __post_init__(self) -> None:
        exact = frozenset(t for t in _BUILTINS if issubclass(t, self.types))
        object.__setattr__(self, "exact", exact)


def _finite(value: Any) -> bool:
    """``np.isfinite(value)``, by ``math.isfinite`` for a Python float (a tenth of the cost)."""
    return math.isfinite(value) if type(value) is float else bool(np.isfinite(value))


def _number(low: float, *, closed: bool, high: float | None = None) -> _Rule:
    op = ">=" if closed else ">"
    words = f"a number {op} {low:g}" + ("" if high is None else f" and < {high:g}")
    return _Rule(
        words,
        (numbers.Real,),
        lambda v: _finite(v) and (v >= low if closed else v > low) and (high is None or v < high),
    )


def _integer(low: int) -> _Rule:
    return _Rule(f"an integer >= {low}", (numbers.Integral,), lambda v: v >= low)


def _one_of(names: Iterable[str]) -> _Rule:
    names = tuple(names)
    return _Rule(f"one of {list(names)}", (str,), lambda v: v in names)


_NONE = type(None)
_BOOL = _Rule("a bool", (bool, np.bool_))
_FINITE_MAX = float(np.finfo(np.float64).max)

_CLASSIFIER_LOSSES = tuple(n for n in losses.NAMES if losses.spec(n).from_labels)
_REGRESSOR_LOSSES = tuple(n for n in losses.NAMES if losses.spec(n).task == "regression")


def _loss_rule(allowed: tuple[str, ...]) -> _Rule:
    names = sorted(set(allowed) | {a for a, n in losses.ALIASES.items() if n in allowed})
    return _Rule(
        f"one of {names}",
        (str,),
        lambda v: losses.ALIASES.get(v, v) in allowed,
    )


_COMMON_RULES: dict[str, _Rule] = {
    "regularizer": _one_of(regularizers.NAMES),
    "lam": _number(0, closed=True),
    "optimizer": _one_of(("auto", *optim.NAMES)),
    "learning_rate": _Rule(
        "a number > 0 or None (the optimiser's default)",
        (numbers.Real, _NONE),
        lambda v: v is None or (_finite(v) and v > 0),
    ),
    "schedule": _one_of(schedules.SCHEDULES),
    "batch_size": _integer(1),
    "tol": _number(0, closed=True),
    "max_iter": _integer(1),
    "n_iter_no_change": _integer(1),
    "warm_start": _BOOL,
    "fit_intercept": _BOOL,
    "gradient": _one_of(grad.methods()),
    "early_stopping": _BOOL,
    "validation_fraction": _number(0, closed=False, high=1),
    "random_state": _Rule(
        "None, an integer >= 0 or a numpy.random.Generator",
        (_NONE, numbers.Integral, np.random.Generator),
        lambda v: not isinstance(v, numbers.Integral) or int(v) >= 0,
    ),
    "verbose": _integer(0),
}


def _check_params(estimator: object, rules: dict[str, _Rule]) -> None:
    """Check every parameter of ``estimator`` against its rule; one template for all errors.

    A value of a built-in type of its rule (``exact``) within range passes at once; any other
    takes the full checks, which name the parameter (``fit``'s fixed cost on a small set)."""
    for name, rule in rules.items():
        value = getattr(estimator, name)
        if type(value) in rule.exact and rule.ok(value):  # (bool is never in ``exact``)
            continue
        where = f"{type(estimator).__name__}.{name}"
        if isinstance(value, bool) and bool not in rule.types and np.bool_ not in rule.types:
            fail(where, rule.expected, repr(value), TypeError)
        if type(value) not in rule.exact and not isinstance(value, rule.types):
            fail(where, rule.expected, f"{value!r} ({type(value).__name__})", TypeError)
        if not rule.ok(value):
            fail(where, rule.expected, repr(value))


# ------------------------------------------------------------------------------------------
# The estimators
# ------------------------------------------------------------------------------------------


def sample_weights(sample_weight: npt.ArrayLike | None, n_samples: int) -> np.ndarray:
    """Per-example weights ``(N,)`` in float64: ones by default, else checked by
    :func:`lingrad.losses.check_sample_weight` (finite, >= 0, a positive sum), all zeros
    refused in scikit-learn's words.

    Examples:
        >>> sample_weights(None, 2).tolist(), sample_weights([1, 3], 2).tolist()
        ([1.0, 1.0], [1.0, 3.0])
    """
    if sample_weight is None:
        return np.ones(n_samples)
    w = np.asarray(sample_weight)
    if w.dtype.kind in "biuf" and w.size and not w.any():
        fail("sample_weight", "weights that are not all zero", "all zero weights")
    return losses.check_sample_weight(sample_weight, n_samples).astype(np.float64, copy=False)


def _store_params(estimator: object, arguments: dict[str, Any]) -> None:
    """Keep every ``__init__`` argument as the attribute of its name, unchanged (scikit-learn's
    rule: validation happens in ``fit``)."""
    for name, value in arguments.items():
        if name not in ("self", "__class__"):
            setattr(estimator, name, value)


def _is_dask(X: object) -> bool:
    """Whether ``X`` is a dask collection: such data trains through lingrad.distributed."""
    return hasattr(X, "__dask_graph__")


class NoImprovement:
    """scikit-learn's SGD stopping rule as a :func:`lingrad.train.fit` callback: stop once the
    epoch loss has not fallen below ``best - tol`` for ``n_iter_no_change`` epochs in a row.

    ``cb(epoch, logs, W)`` returns ``True`` to stop; ``improvement`` is how much the last
    ``n_iter_no_change`` epochs lowered the best loss (the measure a ConvergenceWarning gives).

    Examples:
        >>> stop = NoImprovement(tol=0.1, n_iter_no_change=2)
        >>> [stop(e, {"loss": v}, None) for e, v in enumerate([1.0, 0.5, 0.45, 0.44])]
        [False, False, False, True]
    """

    def __init__(self, tol: float, n_iter_no_change: int) -> None:
        self.tol, self.n_iter_no_change = tol, n_iter_no_change
        self.losses: list[float] = []
        self.count = 0

    def __call__(self, epoch: int, logs: Mapping[str, float], W: object) -> bool:
        loss = float(logs["loss"])
        best = min(self.losses, default=np.inf)
        self.count = self.count + 1 if not loss < best - self.tol else 0
        self.losses.append(loss)
        return self.count >= self.n_iter_no_change

    @property
    def improvement(self) -> float:
        """``min(losses before the window) - min(losses in it)`` (``inf`` before a window)."""
        n = self.n_iter_no_change
        if len(self.losses) <= n:
            return np.inf
        return min(self.losses[:-n]) - min(self.losses[-n:])

    @property
    def rising(self) -> bool:
        """Whether every loss of the last window is over twice the best before it: the run
        stopped because it diverges, not because it converged."""
        n = self.n_iter_no_change
        return len(self.losses) > n and min(self.losses[-n:]) > 2 * min(self.losses[:-n])


class PrintLine:
    """``verbose`` where no progress bar shows: one plain line per iteration or epoch on
    stderr when it is not a terminal (Jupyter, a log file); a :func:`lingrad.train.fit`
    callback ``cb(epoch, logs, W)`` that never stops the run.

    Examples:
        >>> import io
        >>> out = io.StringIO()
        >>> PrintLine("iteration", stream=out)(0, {"loss": 0.5, "grad_norm": 0.01}, None)
        False
        >>> out.getvalue().splitlines()
        ['iteration 1: loss 0.5, measure 0.01']
    """

    def __init__(self, unit: str, stream: Any = None) -> None:
        self.unit, self.stream = unit, stream

    def __call__(self, epoch: int, logs: Mapping[str, float], W: object) -> bool:
        stream = sys.stderr if self.stream is None else self.stream
        if stream.isatty():  # the trainer's progress bar shows there
            return False
        line = f"{self.unit} {epoch + 1}: loss {logs['loss']:.6g}"
        if np.isfinite(logs.get("grad_norm", np.nan)):
            line += f", measure {logs['grad_norm']:.3g}"
        print(line, file=stream, flush=True)
        return False


class Continued:
    """A solver that starts from a given state and keeps its last one: ``warm_start``
    continues a solver where the previous fit stopped, its memory (L-BFGS pairs) included.

    Everything else is the wrapped ``solver``'s (``tol``, ``check_objective``, ``update``...).

    Examples:
        >>> from lingrad.optim.solvers import LBFGS
        >>> solver = Continued(LBFGS(tol=1e-8))
        >>> J = Objective("softmax", np.eye(2), [0, 1], lam=0.1)
        >>> W = J.check_weights(np.zeros((3, 2)))
        >>> step, state = solver.update(None, solver.init(W), W, objective=J)
        >>> solver.last is state, solver.tol
        (True, 1e-08)
    """

    reads: ClassVar[str] = "objective"

    def __init__(self, solver: Any, start: Any = None) -> None:
        self.solver, self.start, self.last = solver, start, start

    @property
    def tol(self) -> float:
        """The wrapped solver's tolerance."""
        return float(self.solver.tol)

    def init(self, W: NDArray[np.floating]) -> Any:
        """``start`` when given, else the solver's fresh state."""
        return self.solver.init(W) if self.start is None else self.start

    def check_objective(self, objective: Objective) -> None:
        """The solver's check."""
        self.solver.check_objective(objective)

    def update(
        self, grad: Any, state: Any, W: NDArray[np.floating], **kwargs: Any
    ) -> tuple[NDArray[np.floating], Any]:
        """One iteration of the solver; its state is kept as ``last``."""
        step, self.last = self.solver.update(grad, state, W, **kwargs)
        return step, self.last

    def rate(self, state: Any) -> float:
        """The solver's rate (``nan``)."""
        return float(self.solver.rate(state))

    def observe(self, state: Any, loss: float) -> Any:
        """The solver's observation."""
        return self.solver.observe(state, loss)


def continue_state(
    state: Any, regularizer: regularizers.Regularizer, lam_change: float, shape: tuple[int, ...]
) -> Any:
    """The L-BFGS state to continue from after ``lam`` changed by ``lam_change``: the
    curvature pairs kept, each ``y = g(w + s) - g(w)`` corrected by ``lam_change * R'(s)``
    (exact for L2, whose gradient is linear), the point forgotten (its gradient is recomputed).
    ``None`` for another solver's state (it restarts fresh, from the previous weights).

    Examples:
        >>> from lingrad.optim.solvers import LBFGS
        >>> state = LBFGS(memory=2).init(np.zeros((2, 1)))._replace(
        ...     S=np.array([[1.0, 1.0], [0.0, 0.0]]), Y=np.array([[2.0, 3.0], [0.0, 0.0]]),
        ...     pairs=1)
        >>> continue_state(state, regularizers.get("l2"), 0.5, (2, 1)).Y[0].tolist()  # no bias
        [2.5, 3.0]
    """
    if not isinstance(state, solvers.LBFGSState):
        return None
    if state.point is not None:  # prepared for this fit by a regularisation path (fit_lams)
        return state
    xp = namespace(state.Y)  # the pairs' library (NumPy, or X's: PyTorch, ...)
    Y, pairs = copy(state.Y), min(state.pairs, state.Y.shape[0])
    if xp is np and regularizer.name == "l2" and regularizer.l1_ratio == 0:  # y += dlam M s
        n = Y.shape[1] if regularizer.include_bias else Y.shape[1] - shape[-1]  # bias row last
        Y[:pairs, :n] += lam_change * state.S[:pairs, :n]  # the loop below, in one operation
        pairs = 0
    for k in range(pairs):
        change = xp.zeros(shape, dtype=Y.dtype, device=device(Y))
        regularizer.add_grad(xp.reshape(state.S[k, ...], shape), change, lam_change)
        Y[k, ...] = Y[k, ...] + xp.reshape(change, (-1,))
    running = int(solvers.Status.RUNNING)
    # the cached S Y^T and Y Y^T of the corrected pairs, once, where the solver keeps them
    gram = None if state.gram is None else np.stack((state.S @ Y.T, Y @ Y.T))
    return state._replace(
        Y=Y, grad=None, value=np.inf, evaluations=0, measure=np.inf, status=running, gram=gram
    )


def _split_validation(X, T, sample_weight, fraction, rng, stratify):
    """Hold out ``fraction`` of the rows (stratified by ``stratify`` where every class allows
    it): ``(X, T, sample_weight)`` kept for training and ``(X_val, T_val)``."""
    from sklearn.model_selection import train_test_split

    seed, rows = int(rng.integers(2**31)), np.arange(X.shape[0])
    try:
        kept, held = train_test_split(
            rows, test_size=fraction, random_state=seed, stratify=stratify
        )
    except ValueError:  # a class too rare to stratify: a plain random split
        kept, held = train_test_split(rows, test_size=fraction, random_state=seed)
    sample_weight = None if sample_weight is None else sample_weight[kept]
    return (X[kept], T[kept], sample_weight), (X[held], T[held])


class TwoClassSoftmax:
    """The two-class softmax with an L2 penalty solved as logistic regression, at half the
    parameters (what scikit-learn's binary ``LogisticRegression`` solves).

    Scores ``S = [X, 1] W`` with ``W = [W_0, W_1]`` ``(D + 1, 2)`` enter the softmax only
    through ``s = S_1 - S_0 = [X, 1] w`` with ``w = W_1 - W_0``, where
    ``-log p_y = log(1 + e^{-(2 y - 1) s})``: the logistic loss of ``w``. The L2 penalty
    ``(|W_0|^2 + |W_1|^2) / 2`` is smallest, for a given ``w``, at ``W_1 = -W_0 = w / 2``, where
    it is ``|w|^2 / 4``; so ``min_W J_softmax(W; lam) = min_w J_logistic(w; lam / 2)``, attained
    at ``W = [-w/2, w/2]`` with the same value. A solver started from an antisymmetric ``W``
    (zeros) stays on that subspace anyway: this halves the columns of the products, one ``exp``
    per example, half the solver's memory.

    Examples:
        >>> W = np.array([[1.0, 3.0], [0.0, 2.0]])
        >>> TwoClassSoftmax.difference(W).ravel().tolist()
        [2.0, 2.0]
        >>> TwoClassSoftmax.columns(np.array([[2.0], [2.0]])).tolist()
        [[-1.0, 1.0], [-1.0, 1.0]]
    """

    @staticmethod
    def applies(loss: str, regularizer: str, n_columns: int, solver: bool) -> bool:
        """Whether a fit of ``loss`` on ``n_columns`` score columns is solved this way: the
        softmax on two columns, the L2 penalty, a full-batch solver."""
        return solver and n_columns == 2 and loss == "softmax_cross_entropy" and regularizer == "l2"

    @staticmethod
    def difference(W: NDArray[np.floating]) -> NDArray[np.floating]:
        """``w = W_1 - W_0`` ``(D + 1, 1)`` of two-column weights ``(D + 1, 2)``."""
        return W[:, 1:] - W[:, :1]

    @staticmethod
    def columns(w: NDArray[np.floating]) -> NDArray[np.floating]:
        """The two-column weights ``[-w/2, w/2]`` ``(D + 1, 2)`` of ``w`` ``(D + 1, 1)``."""
        half = w / 2
        return np.hstack([-half, half])


class _LinearModel(BaseEstimator):
    """What both estimators share: parameters, validation, training, the scores."""

    _rules: ClassVar[dict[str, _Rule]]
    loss_: str
    optimizer_: str
    W_: NDArray[np.floating]
    n_iter_: int
    loss_curve_: list[float]
    validation_loss_history_: list[float]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # scipy.sparse CSR (others converted once), never densified
        return tags

    def _validate_params(self) -> tuple[str, losses.LossSpec]:
        _check_params(self, self._rules)
        name = losses.canonical_name(self.loss)
        return name, losses.spec(name)

    def _rng(self, reuse: bool = False) -> np.random.Generator:
        """``np.random.default_rng(random_state)``; with ``reuse`` (a fit that draws nothing:
        a solver's) and an int ``random_state``, the last fit's generator where nothing has
        drawn from it since it was made (its state is the fresh one's), not a new one."""
        seed, last = self.random_state, getattr(self, "_rng_state", None)
        if type(seed) is not int:
            return np.random.default_rng(seed)
        start = getattr(self, "_rng_start", None)
        if reuse and last is not None and start == (seed, last.bit_generator.state):
            return last
        rng = np.random.default_rng(seed)
        self._rng_start = (seed, rng.bit_generator.state)
        return rng

    def _optimizer(self, name: str, n_samples: int, epochs: int):
        """The optimiser ``name`` (a solver with ``tol``; else its learning rate on the
        schedule) and the batch size. A solver ignores learning_rate, schedule and batch_size
        (scikit-learn's rule for parameters that do not apply)."""
        line = optim.entry(name)
        batch = train.batch_size_for(name, n_samples, min(self.batch_size, n_samples))
        if line.rate_param is None:  # a solver: its line search / trust region picks the steps
            return optim.get(name, tol=self.tol), batch
        rate = self.learning_rate
        if rate is None:
            rate = DEFAULTS.learning_rates.get(name, line.defaults[line.rate_param])
        schedule = schedules.get(
            self.schedule, float(rate), steps_per_epoch=-(-n_samples // batch), epochs=epochs
        )
        return optim.get(name, schedule), batch

    def _start(self, X, T, sample_weight, n_columns, rng, *, solver, previous):
        """The first weights: ``previous`` (warm start) where its shape fits, else zeros for a
        solver or small random ones, with the bias at :meth:`_initial_bias` (0 without
        ``fit_intercept``)."""
        shape = (X.shape[1] + 1, n_columns)
        dtype = numpy_dtype(X.dtype)  # W0 on the host; fit moves it to X's library
        if previous is not None and previous.shape == shape:
            return to_numpy(previous).astype(dtype, copy=True)
        if solver:
            W0 = np.zeros(shape, dtype=dtype)
        else:
            W0 = init_weights(X.shape[1], n_columns, rng=rng, dtype=dtype)
        W0[-1] = self._initial_bias(T, sample_weight, n_columns) if self.fit_intercept else 0.0
        return W0

    def _run(self, X, T, sample_weight, n_columns, *, rng, partial, previous, stratify=None):
        """Train ``W_`` on ``(X, T)`` (``T``: the loss's targets) from ``previous`` weights
        (``None``: a cold start): ``max_iter`` iterations or epochs, one for ``partial``;
        ``rng=None``: the fit's own generator (:meth:`_rng`)."""
        name = resolve_optimizer(
            self.optimizer,
            self.loss_,
            self.regularizer,
            partial_fit=partial,
            sparse=is_sparse(X),
            X=X,
            lam=self.lam,
        )
        if rng is None:  # a solver draws nothing, unless the validation split does
            rng = self._rng(reuse=optim.entry(name).rate_param is None and not self.early_stopping)
        validation = None
        if self.early_stopping:
            (X, T, sample_weight), validation = _split_validation(
                X, T, sample_weight, self.validation_fraction, rng, stratify
            )
        epochs = 1 if partial else self.max_iter
        optimizer, batch = self._optimizer(name, X.shape[0], epochs)
        solver = optimizer.reads == "objective"
        two = TwoClassSoftmax.applies(self.loss_, self.regularizer, n_columns, solver)
        objective = Objective(
            "logistic" if two else self.loss_,
            X,
            T,
            regularizer=self.regularizer,
            lam=self.lam / 2 if two else self.lam,
            sample_weight=sample_weight,
            fit_intercept=self.fit_intercept,
            check_input=defers_finite(X),  # else _checked has: no second pass over X
        )
        if not self.fit_intercept and optimizer.reads == "value":
            fail("fit_intercept", f"True for the search optimizer {name!r}", False)
        if not self.fit_intercept and self.gradient != "analytic":  # they would move the bias
            fail("fit_intercept", f"True with gradient={self.gradient!r}", False)
        W0 = self._start(X, T, sample_weight, n_columns, rng, solver=solver, previous=previous)
        if two:
            W0, n_columns = TwoClassSoftmax.difference(W0), 1
            previous = None if previous is None else TwoClassSoftmax.difference(previous)
        if solver:
            optimizer = Continued(optimizer, self._continuation(objective, previous, W0.shape))
        stop_rule = NoImprovement(self.tol, self.n_iter_no_change)
        callbacks: list[Callable[..., Any]] = []
        gradient_family = optimizer.reads == "gradient"
        if gradient_family and not (partial or self.early_stopping):
            callbacks.append(stop_rule)
        if self.verbose:
            callbacks.append(PrintLine("iteration" if solver else "epoch"))
        with np.errstate(over="ignore", invalid="ignore"):  # fit's divergence guard reports
            result = train.fit(
                objective,
                optimizer,
                n_columns=n_columns,
                W0=W0,
                epochs=epochs,
                batch_size=batch,
                rng=rng,
                gradient=self.gradient,
                validation=validation,
                early_stopping=self.early_stopping,
                patience=self.n_iter_no_change - 1,  # fit's patience: bad epochs tolerated
                min_delta=self.tol,
                callbacks=callbacks,
                verbose=self.verbose,
                # only a non-finite loss or step is a divergence here: a loss that grows for a
                # while (unscaled features, early Adam steps) usually comes back down
                divergence_factor=_FINITE_MAX,
                max_grad_norm=_FINITE_MAX,
                diagnose=False,  # _report reads the stop and the histories, not a diagnosis
            )
        if not partial and optimizer.reads != "value":  # a search has no convergence measure
            self._report(result, solver, stop_rule)
        self.optimizer_ = name
        self.W_ = TwoClassSoftmax.columns(result.W) if two else result.W
        self._rng_state = rng
        self._solver_end = (optimizer.last, objective.lam, self.regularizer) if solver else None
        self.n_iter_ = result.n_epochs + (self.n_iter_ if partial and previous is not None else 0)
        before = self.loss_curve_ if partial and previous is not None else []
        self.loss_curve_ = before + result.history["loss"]
        if self.early_stopping:
            self.validation_loss_history_ = result.history["val_loss"]

    def _continuation(self, objective, previous, shape):
        """The solver state a warm start continues from (``None``: a fresh one): the previous
        fit's last state, for the same regulariser, adjusted to the change of ``lam``."""
        end = getattr(self, "_solver_end", None)
        if previous is None or previous.shape != shape or end is None or end[2] != self.regularizer:
            return None
        state, lam, _ = end
        if getattr(state, "S", None) is not None and state.S.shape[1] != math.prod(shape):
            return None  # another parametrisation (two columns, or their difference)
        return continue_state(state, objective.regularizer, objective.lam - lam, shape)

    def _report(self, result: train.FitResult, solver: bool, stop_rule: NoImprovement) -> None:
        """Raise at a divergence (a learning rate too high); warn (``ConvergenceWarning``) at a
        solver's failure (the last good weights are kept) or at ``max_iter`` before ``tol``,
        giving the measure reached."""
        stop, where = result.stop, type(self).__name__
        if stop is not None and stop.reason is train.StopReason.CALLBACK and stop_rule.rising:
            low, last = min(stop_rule.losses), stop_rule.losses[-1]
            message = f"the epoch loss rose from {low:.4g} to {last:.4g}"
            fail("learning_rate", "a rate small enough for training to converge", message)
        if stop is not None and stop.reason is train.StopReason.DIVERGED:
            fail("learning_rate", "a rate small enough for training to converge", stop.message)
        if stop is not None and stop.reason is train.StopReason.STALLED:
            warnings.warn(
                f"{where}: the solver stopped early, keeping the last good weights: {stop.message}",
                ConvergenceWarning,
                stacklevel=4,
            )
        if stop is not None or self.early_stopping:
            return
        if solver:
            measure = result.step_history["grad_norm"][-1] if result.n_iter else np.inf
            reached = f"the convergence measure is {measure:.3g} > tol={self.tol:g}"
        elif np.isfinite(stop_rule.improvement):
            reached = (
                f"the epoch loss still fell by {stop_rule.improvement:.3g} > tol={self.tol:g} "
                f"over the last {self.n_iter_no_change} epochs"
            )
        else:
            reached = f"fewer epochs than n_iter_no_change={self.n_iter_no_change} to judge"
        warnings.warn(
            f"{where}: max_iter={self.max_iter} reached before convergence ({reached}); "
            "raise max_iter, or standardise the features",
            ConvergenceWarning,
            stacklevel=4,
        )

    def _initial_bias(self, T, sample_weight, n_columns):
        return 0.0

    def _fit_dask(self, X: Any, y: Any, sample_weight: Any) -> Self:
        """Train on a Dask cluster, chunk by chunk where the data lives (the default client);
        see :mod:`lingrad.distributed.estimators`. ``"auto"`` is SciPy's L-BFGS there. Not
        available there (a ``ValueError`` says so): the search optimisers and the in-memory
        solvers, another gradient than ``"analytic"``, early stopping, ``warm_start``,
        ``fit_intercept=False``."""
        from lingrad.distributed.estimators import fit_linear

        self.loss_, _ = self._validate_params()
        where = type(self).__name__
        name = resolve_optimizer(self.optimizer, self.loss_, self.regularizer, dask=True)
        if name != "lbfgs" and optim.get(name).reads != "gradient":
            fail(f"{where}.optimizer", "'lbfgs' or a gradient optimiser for dask arrays", name)
        for param, value in [("gradient", "analytic"), ("early_stopping", False)]:
            if getattr(self, param) != value:
                fail(f"{where}.{param}", f"{value!r} for dask arrays", getattr(self, param))
        for param, value in [("warm_start", False), ("fit_intercept", True)]:
            if getattr(self, param) != value:
                fail(f"{where}.{param}", f"{value!r} for dask arrays", getattr(self, param))
        classifier = isinstance(self, ClassifierMixin)
        stop_rule = NoImprovement(self.tol, self.n_iter_no_change)
        out = fit_linear(
            X,
            y,
            sample_weight,
            loss=self.loss_,
            regularizer=self.regularizer,
            lam=self.lam,
            optimizer=name,
            make_optimizer=lambda n: self._optimizer(name, n, self.max_iter)[0],
            batch_size=self.batch_size,
            epochs=self.max_iter,
            tol=self.tol,
            callback=None if name == "lbfgs" else stop_rule,
            rng=self._rng(),
            n_columns=(lambda classes: self._score_columns(len(classes))) if classifier else None,
            class_weight=getattr(self, "class_weight", None),
        )
        done = (train.StopReason.CONVERGED, train.StopReason.CALLBACK)
        if out.stop is None or out.stop.reason not in done:
            reached = f"max_iter={self.max_iter} reached" if out.stop is None else out.stop.message
            warnings.warn(
                f"{where}: stopped before convergence: {reached}",
                ConvergenceWarning,
                stacklevel=3,
            )
        if classifier:
            self.classes_ = out.classes
        self.optimizer_ = name
        self.W_ = out.W
        self.n_features_in_ = out.W.shape[0] - 1
        self.n_iter_ = out.n_epochs
        self.loss_curve_ = out.loss_history
        self._set_coef(out.W)
        return self

    def _raw_scores(self, X: npt.ArrayLike) -> NDArray[np.floating]:
        check_is_fitted(self, "W_")
        if _is_dask(X):  # lazy scores per chunk (lingrad.distributed)
            from lingrad.distributed.predict import scores

            return scores(self.W_, X)
        if not isinstance(self.W_, np.ndarray):  # fitted on another array library
            return _xp_estimator.scores_for(self.W_, X)
        dtypes = [self.W_.dtype, np.float64, np.float32]
        checked = validate_data(self, X, reset=False, dtype=dtypes, accept_sparse="csr")
        return scores_unchecked(self.W_, checked.astype(self.W_.dtype, copy=False))

    def _set_coef(self, W) -> None:
        if not isinstance(W, np.ndarray):  # coef_, intercept_ stay on W's array library
            self.coef_, self.intercept_ = _xp_estimator.split_coef(W)
            return
        self.coef_ = np.ascontiguousarray(W[:-1].T)
        self.intercept_ = W[-1].copy()


_FIT_DTYPES = [np.float64, np.float32]
#: fit's validate_data leaves NaN/inf to :func:`_checked`
_LAZY: dict[str, Any] = {"accept_sparse": "csr", "ensure_all_finite": False}


def _checked(estimator: object, Xy: tuple[Any, Any]) -> tuple[Any, Any]:
    """scikit-learn's NaN/inf check of X unless ``defers_finite(X)``: then the Objective's
    check fused into the first epoch's losses (no pass over X of its own). A dense X is
    first tested by ``np.isfinite`` (scikit-learn's check, with its message, only when that
    fails: its array-namespace dispatch costs more than the test on a small X)."""
    X = Xy[0]
    if defers_finite(X) or (isinstance(X, np.ndarray) and np.isfinite(X).all()):
        return Xy
    assert_all_finite(X, estimator_name=type(estimator).__name__, input_name="X")
    return Xy


def _fit_data(
    estimator: Any, X: Any, y: Any, *, reset: bool, classes: bool
) -> tuple[Any, Any, bool]:
    """``(X, y, plain)``: X and y checked as ``validate_data(estimator, X, y, reset=reset,
    dtype=_FIT_DTYPES, ...)`` returns them (``y_numeric`` unless ``classes``), X's NaN/inf by
    :func:`_checked`. ``plain``: the common case of
    :func:`lingrad._validation.plain_fit_arrays` (float ndarray X, 1-D y), checked without
    scikit-learn (``n_features_in_`` set and a stale ``feature_names_in_`` dropped as it does;
    with ``classes``, y is then a binary or multiclass target: no ``check_classification_targets``
    needed).
    """
    plain = plain_fit_arrays(X, y, classes=classes)
    named = hasattr(estimator, "feature_names_in_")
    if plain is not None and (reset or (not named and estimator.n_features_in_ == X.shape[1])):
        if reset:
            estimator.n_features_in_ = X.shape[1]
            if named:
                del estimator.feature_names_in_
        return (*_checked(estimator, plain), True)
    numeric = {} if classes else {"y_numeric": True}
    Xy = validate_data(estimator, X, y, reset=reset, dtype=_FIT_DTYPES, **_LAZY, **numeric)
    return (*_checked(estimator, Xy), False)


def _encode(y: NDArray[Any]) -> tuple[NDArray[Any], NDArray[np.intp]]:
    """``np.unique(y, return_inverse=True)``: the sorted labels ``(K,)`` and each example's
    index among them ``(N,)``; for numbers and strings as ``np.unique(y)`` and a binary search
    of each label in it (half the cost of the inverse's sort and scatter on a small set).

    Examples:
        >>> [a.tolist() for a in _encode(np.array([3, 1, 3, 2]))]
        [[1, 2, 3], [2, 0, 2, 1]]
    """
    if y.dtype.kind not in "biufU":  # objects: np.unique's own inverse
        return np.unique(y, return_inverse=True)
    classes = np.unique(y)
    return classes, np.searchsorted(classes, y)


class LinearClassifier(ClassifierMixin, _LinearModel):
    """A linear classifier trained by gradient-based optimisation of a lingrad loss.

    Args:
        loss: any loss of :mod:`lingrad.losses` that class labels alone define (its spec's
            ``from_labels``), by name or alias: ``"softmax"`` (cross-entropy), ``"hinge"``
            (Weston-Watkins multi-class SVM), ``"logistic"`` (binary only), ...
        regularizer: the regulariser ``R``: ``"l2"``, ``"l1"``, ``"elastic_net"`` or ``"none"``.
        lam: its strength ``lam >= 0`` (the objective is mean loss + ``lam * R(W)``;
            scikit-learn's ``C`` corresponds to ``lam = 1 / (C * N)``).
        optimizer: ``"auto"`` (default: :func:`lingrad.defaults.resolve_optimizer` picks the
            exact solver of the loss and regulariser, e.g. ``"lbfgs"``; SGD for
            ``partial_fit``; L-BFGS on dask arrays) or a name of :func:`lingrad.optim.get`:
            the lecture's ``"sgd"``, ``"gd"`` (full batch), ``"momentum"``, ``"nesterov"``,
            ``"adam"``, the search methods ``"random"``, ``"local"``, ``"genetic"``.
        learning_rate: the initial rate (a search method's step scale); ``None`` takes the
            default of :data:`lingrad.defaults.DEFAULTS` or :data:`lingrad.optim.OPTIMIZERS`.
            A solver ignores it, ``schedule`` and ``batch_size`` (scikit-learn's rule for
            parameters that do not apply).
        schedule: a name of :func:`lingrad.optim.schedules.get` (``"constant"``, ``"step"``,
            ``"exponential"``, ``"inverse_time"``, ``"cosine"``, ``"plateau"``), its decay
            counted in epochs over ``max_iter``.
        batch_size: examples per step (capped at N).
        tol: a solver stops when its convergence measure (``max |dJ/dW|`` for L-BFGS) is
            ``<= tol``; the SGD family when the epoch loss has not fallen by more than ``tol``
            for ``n_iter_no_change`` epochs (scikit-learn's ``SGDClassifier`` rule), or with
            ``early_stopping`` the validation loss.
        max_iter: solver iterations, or epochs for the SGD family. Reaching it before ``tol``
            warns (``sklearn.exceptions.ConvergenceWarning``, with the measure reached).
        n_iter_no_change: epochs without a ``tol`` improvement before the SGD family stops
            (the search methods run ``max_iter`` epochs: one failed proposal is no plateau).
        warm_start: ``fit`` starts from the previous fit's weights (where their shape fits),
            so a solver continues where it stopped (its memory rebuilt).
        fit_intercept: ``False`` keeps the bias at 0 (the slides' ``f = W x``).
        gradient: ``"analytic"`` or ``"numerical"`` (slow; for teaching and checking; the
            solvers take the analytic one).
        early_stopping: hold out ``validation_fraction`` of the training data (stratified) and
            stop after ``n_iter_no_change`` epochs without a validation loss ``tol`` lower than
            the best, keeping the best W.
        class_weight: ``None``, ``"balanced"`` or ``{label: weight}``; multiplies sample_weight.
        random_state: ``None``, an int or a ``numpy.random.Generator`` (initial weights,
            shuffles, the validation split).
        verbose: ``> 0``: a progress bar on a terminal, else one plain line per iteration or
            epoch on stderr (:class:`PrintLine`).

    A solver that stops early (a failed line search, a non-finite value) keeps the last good
    weights and warns with its message (``ConvergenceWarning``); an SGD run that diverges raises
    a ``ValueError`` naming ``learning_rate``.

    Attributes:
        W_: the weights in lingrad's orientation, ``(D + 1, C)``, bias in the last row; ``C``
            is 1 for a binary problem with a sigmoid loss.
        coef_: ``(1, D)`` for binary problems, ``(K, D)`` otherwise.
        intercept_: ``(1,)`` for binary problems, ``(K,)`` otherwise (0 without
            ``fit_intercept``).
        classes_: the sorted class labels ``(K,)``.
        n_features_in_: the number of features ``D`` seen in fit.
        feature_names_in_: the column names, when X had them (a DataFrame).
        optimizer_: the optimiser ``optimizer`` resolved to (``"lbfgs"`` for ``"auto"``...).
        n_iter_: the iterations (epochs) of the last fit; ``partial_fit`` adds its epochs.
        loss_curve_: the training objective after each iteration (epoch).
        validation_loss_history_: with early stopping, the validation loss of each epoch.

    Shapes: ``fit(X (N, D), y (N,))``; ``predict(X)`` ``(N,)``, ``predict_proba(X)`` ``(N, K)``.
    It minimises ``J(W) = mean_i w_i L(s_i, y_i) + lam * R(W)`` with ``s_i = [x_i, 1] W``.

    Examples:
        >>> import numpy as np
        >>> X = np.array([[0.0, 0.0], [0.1, 0.3], [2.0, 2.0], [2.2, 1.8]])
        >>> clf = LinearClassifier(lam=0.01).fit(X, [0, 0, 1, 1])
        >>> clf.predict(X).tolist(), clf.coef_.shape, clf.W_.shape, clf.optimizer_
        ([0, 0, 1, 1], (1, 2), (3, 2), 'lbfgs')
    """

    _rules: ClassVar[dict[str, _Rule]] = {
        "loss": _loss_rule(_CLASSIFIER_LOSSES),
        **_COMMON_RULES,
        "class_weight": _Rule(
            "None, 'balanced' or a dict {label: weight}",
            (_NONE, str, dict),
            lambda v: v is None or v == "balanced" or isinstance(v, dict),
        ),
    }

    classes_: NDArray[Any]

    def __init__(
        self,
        loss: str = "softmax",
        *,
        regularizer: str = DEFAULTS.regularizer,
        lam: float = DEFAULTS.lam,
        optimizer: str = DEFAULTS.optimizer,
        learning_rate: float | None = None,
        schedule: str = DEFAULTS.schedule,
        batch_size: int = DEFAULTS.batch_size,
        tol: float = DEFAULTS.tol,
        max_iter: int = DEFAULTS.max_iter,
        n_iter_no_change: int = DEFAULTS.n_iter_no_change,
        warm_start: bool = False,
        fit_intercept: bool = True,
        gradient: str = "analytic",
        early_stopping: bool = False,
        validation_fraction: float = DEFAULTS.validation_fraction,
        class_weight: str | Mapping[Any, float] | None = None,
        random_state: int | np.random.Generator | None = None,
        verbose: int = 0,
    ) -> None:
        _store_params(self, locals())

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        name = losses.ALIASES.get(self.loss, self.loss)
        tags.classifier_tags.multi_class = name != "logistic"
        return tags

    # -- fitting ---------------------------------------------------------------------------

    def _prepare(self, X, y, sample_weight, *, reset, classes=None):
        name, _ = self._validate_params()
        self.loss_ = name
        # another library's X stays there, y comes to the host (a NumPy X: no look-up)
        if type(X) is not np.ndarray and _xp_estimator.is_array_api_data(X):
            X, y = _xp_estimator.check_fit_data(X, y, None if reset else self.n_features_in_)
            self.n_features_in_ = X.shape[1]
            plain = False
        else:
            X, y, plain = _fit_data(self, X, y, reset=reset, classes=True)
        fitting = reset and classes is None
        if not (plain and fitting):  # a plain y is a binary or multiclass target already
            check_classification_targets(y)
        if fitting:  # the labels encoded once, as np.unique's inverse
            self.classes_, y_index = _encode(y)
            N, K = len(y), len(self.classes_)
            if plain and K > 2 and N > 20 and round(0.5 * N) < K:
                check_classification_targets(y)  # its warning: y may be a regression target
        else:
            if classes is not None:
                self.classes_ = np.unique(np.asarray(classes))
            unknown = ~np.isin(y, self.classes_)
            if unknown.any():
                fail("y", f"labels among classes {self.classes_.tolist()}", repr(y[unknown][0]))
            y_index = np.searchsorted(self.classes_, y)
        K = len(self.classes_)
        if sample_weight is not None or self.class_weight is not None:
            sample_weight = sample_weights(sample_weight, X.shape[0])
        if self.class_weight is not None:
            per_class = train.class_weights(
                by_index(self.class_weight, self.classes_), np.bincount(y_index, minlength=K)
            )
            sample_weight = sample_weight * per_class[y_index]
        if fitting and sample_weight is None:  # every class np.unique found occurs
            present = np.arange(K)
        else:
            weighted = y_index if sample_weight is None else y_index[sample_weight > 0]
            present = np.flatnonzero(np.bincount(weighted, minlength=K))
        if K < 2 or (reset and classes is None and len(present) < 2):
            fail(
                "y",
                "at least 2 classes (with positive sample_weight)",
                f"{max(len(present), min(K, 1))} class ({self.classes_[present].tolist()})",
            )
        return X, y_index, sample_weight, self._score_columns(K)

    def _score_columns(self, K: int) -> int:
        """The score columns ``C`` for ``K`` classes (the loss spec's rule)."""
        name = self.loss_
        if losses.spec(name).binary_only and K > 2:
            fail(
                "loss",
                f"a multi-class loss for 3 or more classes ({name!r} is binary)",
                f"{name!r} with {K} classes",
            )
        return losses.spec(name).n_columns(K)

    def fit(
        self, X: npt.ArrayLike, y: npt.ArrayLike, sample_weight: npt.ArrayLike | None = None
    ) -> Self:
        """Fit on ``X`` ``(N, D)`` and labels ``y`` ``(N,)``; ``sample_weight`` ``(N,)``."""
        if _is_dask(X):
            return self._fit_dask(X, y, sample_weight)
        previous = getattr(self, "W_", None) if self.warm_start else None
        X, y_index, sample_weight, C = self._prepare(X, y, sample_weight, reset=True)
        self._run(
            X,
            y_index,
            sample_weight,
            C,
            rng=None,
            partial=False,
            previous=previous,
            stratify=y_index,
        )
        self._set_coef(self.W_)
        return self

    def partial_fit(
        self,
        X: npt.ArrayLike,
        y: npt.ArrayLike,
        classes: npt.ArrayLike | None = None,
        sample_weight: npt.ArrayLike | None = None,
    ) -> Self:
        """One epoch on ``(X, y)``, continuing from the current weights (fresh optimiser state).

        ``classes`` (all labels that will ever appear) is required on the first call.
        """
        if _is_dask(X):
            fail(
                "X",
                "an in-memory array for partial_fit (fit trains on the cluster without pulling "
                "X to the client)",
                "a dask array",
                TypeError,
            )
        first = not hasattr(self, "W_")
        if first and classes is None:
            fail("classes", "all class labels on the first call to partial_fit", "None")
        if (
            not first
            and classes is not None
            and not np.array_equal(np.unique(np.asarray(classes)), self.classes_)
        ):
            fail(
                "classes",
                f"the classes of the first call {self.classes_.tolist()}",
                repr(np.unique(classes).tolist()),
            )
        X, y_index, sample_weight, C = self._prepare(
            X, y, sample_weight, reset=first, classes=classes if first else None
        )
        rng = getattr(self, "_rng_state", None) if not first else None
        rng = self._rng() if rng is None else rng
        previous = None if first else self.W_
        self._run(X, y_index, sample_weight, C, rng=rng, partial=True, previous=previous)
        self._set_coef(self.W_)
        return self

    def _set_coef(self, W) -> None:
        if W.shape[1] == 2:
            W = W[:, 1:] - W[:, :1]
        super()._set_coef(W)

    # -- prediction --------------------------------------------------------------------------

    def decision_function(self, X: npt.ArrayLike) -> NDArray[np.floating]:
        """Scores: ``(N,)`` for a binary problem (positive means ``classes_[1]``), else
        ``(N, K)``."""
        S = self._raw_scores(X)
        if S.shape[1] == 2:
            return S[:, 1] - S[:, 0]
        return S[:, 0] if S.shape[1] == 1 else S

    def predict(self, X: npt.ArrayLike) -> NDArray[Any]:
        """The label of the highest score: :func:`lingrad.model.predict_from_scores`, the
        slides' rule (one score column: ``classes_[1]`` where ``s >= 0``; several: the argmax,
        the first on a tie, so two softmax columns give ``classes_[1]`` where ``s_1 > s_0``)."""
        index = predict_from_scores(self._raw_scores(X))  # checks fitted before classes_
        if not isinstance(index, np.ndarray):
            return _xp_estimator.labels_for(self.classes_, index)
        return self.classes_[index]

    def _probabilistic(self) -> bool:
        name = losses.ALIASES.get(self.loss, self.loss)
        return name in _CLASSIFIER_LOSSES and losses.spec(name).probabilistic

    @available_if(_probabilistic)
    def predict_proba(self, X: npt.ArrayLike) -> NDArray[np.floating]:
        """``(N, K)`` probabilities: softmax of the scores, or the sigmoid for sigmoid losses
        (one-vs-all sigmoids normalised to sum to 1 when K > 2)."""
        S = self._raw_scores(X)
        if not isinstance(S, np.ndarray):
            return _xp_estimator.probabilities(S, losses.spec(self.loss).link)
        if S.shape[1] == 1:
            p = sigmoid(S[:, 0])
            return np.stack([1.0 - p, p], axis=1)
        if losses.spec(self.loss).link == "sigmoid":
            P = sigmoid(S)
            return P / P.sum(axis=1, keepdims=True)
        return softmax(S)

    @available_if(_probabilistic)
    def predict_log_proba(self, X: npt.ArrayLike) -> NDArray[np.floating]:
        """``log(predict_proba(X))``."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))


class LinearRegressor(RegressorMixin, _LinearModel):
    """Linear regression trained by gradient-based optimisation of the squared error.

    Minimises ``mean_i w_i (x_i . w + b - y_i)^2 + lam * R(W)``; scikit-learn's ``Ridge(alpha)``
    is ``lam = 2 * alpha / N`` (Ridge sums the squared errors). The parameters are those of
    :class:`LinearClassifier` (without ``class_weight``); the bias starts at the weighted mean
    of ``y``. Attributes: ``W_`` ``(D + 1, 1)``, ``coef_`` ``(D,)``, ``intercept_`` (a float),
    ``n_features_in_``, ``feature_names_in_``, ``optimizer_``, ``n_iter_``, ``loss_curve_``.

    Examples:
        >>> import numpy as np
        >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
        >>> reg = LinearRegressor(lam=0.0)
        >>> reg = reg.fit(X, 2 * X[:, 0] + 1)
        >>> round(float(reg.coef_[0]), 2), round(float(reg.intercept_), 2)
        (2.0, 1.0)
    """

    _rules: ClassVar[dict[str, _Rule]] = {"loss": _loss_rule(_REGRESSOR_LOSSES), **_COMMON_RULES}

    def __init__(
        self,
        loss: str = "squared_error",
        *,
        regularizer: str = DEFAULTS.regularizer,
        lam: float = DEFAULTS.lam,
        optimizer: str = DEFAULTS.optimizer,
        learning_rate: float | None = None,
        schedule: str = DEFAULTS.schedule,
        batch_size: int = DEFAULTS.batch_size,
        tol: float = DEFAULTS.tol,
        max_iter: int = DEFAULTS.max_iter,
        n_iter_no_change: int = DEFAULTS.n_iter_no_change,
        warm_start: bool = False,
        fit_intercept: bool = True,
        gradient: str = "analytic",
        early_stopping: bool = False,
        validation_fraction: float = DEFAULTS.validation_fraction,
        random_state: int | np.random.Generator | None = None,
        verbose: int = 0,
    ) -> None:
        _store_params(self, locals())

    def _prepare(self, X, y, sample_weight, *, reset):
        self.loss_, _ = self._validate_params()
        if _xp_estimator.is_array_api_data(X):  # X stays on its library, y comes to the host
            X, y = _xp_estimator.check_regression_data(X, y, None if reset else self.n_features_in_)
            self.n_features_in_ = X.shape[1]
        else:
            X, y, _ = _fit_data(self, X, y, reset=reset, classes=False)
        if sample_weight is not None:  # None: the plain mean (no weights to multiply)
            sample_weight = sample_weights(sample_weight, X.shape[0])
        return X, y.astype(numpy_dtype(X.dtype), copy=False), sample_weight

    def _initial_bias(self, T, sample_weight, n_columns):
        return np.average(T, weights=sample_weight) if sample_weight is not None else T.mean()

    def fit(
        self, X: npt.ArrayLike, y: npt.ArrayLike, sample_weight: npt.ArrayLike | None = None
    ) -> Self:
        """Fit on ``X`` ``(N, D)`` and real targets ``y`` ``(N,)``."""
        if _is_dask(X):
            return self._fit_dask(X, y, sample_weight)
        previous = getattr(self, "W_", None) if self.warm_start else None
        X, y, sample_weight = self._prepare(X, y, sample_weight, reset=True)
        self._run(X, y, sample_weight, 1, rng=None, partial=False, previous=previous)
        self._set_coef(self.W_)
        return self

    def partial_fit(
        self, X: npt.ArrayLike, y: npt.ArrayLike, sample_weight: npt.ArrayLike | None = None
    ) -> Self:
        """One epoch on ``(X, y)``, continuing from the current weights (fresh optimiser state)."""
        if _is_dask(X):
            fail(
                "X",
                "an in-memory array for partial_fit (fit trains on the cluster without pulling "
                "X to the client)",
                "a dask array",
                TypeError,
            )
        first = not hasattr(self, "W_")
        X, y, sample_weight = self._prepare(X, y, sample_weight, reset=first)
        rng = getattr(self, "_rng_state", None) if not first else None
        rng = self._rng() if rng is None else rng
        previous = None if first else self.W_
        self._run(X, y, sample_weight, 1, rng=rng, partial=True, previous=previous)
        self._set_coef(self.W_)
        return self

    def _set_coef(self, W) -> None:
        if not isinstance(W, np.ndarray):  # coef_ stays on W's array library
            coef, intercept = _xp_estimator.split_coef(W)
            self.coef_, self.intercept_ = coef[0, ...], float(intercept[0])
            return
        self.coef_ = W[:-1, 0].copy()
        self.intercept_ = W[-1, 0].item()

    def predict(self, X: npt.ArrayLike) -> NDArray[np.floating]:
        """Predictions ``X @ coef_ + intercept_``, shape ``(N,)``."""
        return self._raw_scores(X)[:, 0]


def fit_lams(
    model: LinearClassifier | LinearRegressor,
    X: npt.ArrayLike,
    y: npt.ArrayLike,
    lams: Iterable[float],
    sample_weight: npt.ArrayLike | None = None,
) -> Iterator[LinearClassifier | LinearRegressor]:
    """Fit ``model`` at each lambda of ``lams`` in turn on ``X`` ``(N, D)`` and ``y`` ``(N,)``,
    validated once, yielding it after each fit; each fit is ``model.fit(X, y, sample_weight)``
    with ``warm_start=True`` and ``lam`` set, less the validation of the input (one pass over
    X and the label checks, per fit, on a path of 10 lambdas as many as a short warm fit).

    The caller may change ``model.W_`` between two fits (the start of the next one). Where
    the fits are L-BFGS on an L2 penalty (NumPy), the next fit starts from the previous
    optimum ``W_k`` without a pass over X: its value and gradient for the new ``lam`` follow
    from the old ones, ``J + dlam R(W_k)`` and ``g + dlam R'(W_k)``
    (:func:`lingrad.optim.solvers.lbfgs.shift_lambda`), and a changed ``model.W_`` is the
    first trial of its line search (the step ``W_ - W_k`` at ``alpha = 1``, where it descends).
    Those L-BFGS fits, the first included, keep :data:`PATH_MEMORY` pairs (small weights) and
    scale their bias steps (:func:`lingrad.optim.solvers.lbfgs.bias_scaling`): a path's
    first fit is not a plain cold fit's iterates, but ends at its optimum within ``tol``.

    Examples:
        >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.2]])
        >>> [round(m.lam, 2) for m in fit_lams(LinearClassifier(), X, [0, 1, 1, 0], [1.0, 0.1])]
        [1.0, 0.1]
    """
    if _is_dask(X):
        fail("X", "an in-memory array on a regularisation path", "a dask array", TypeError)
    model.set_params(warm_start=True)
    if isinstance(model, LinearClassifier):
        X, T, weights, C = model._prepare(X, y, sample_weight, reset=True)
        stratify: NDArray[np.integer] | None = T
    else:
        (X, T, weights), C, stratify = model._prepare(X, y, sample_weight, reset=True), 1, None
    last, rng = None, None  # the previous fit's weights, the random generator
    for lam in lams:
        previous = getattr(model, "W_", None)
        if previous is None:
            previous = _path_cold_start(model, X, T, weights, C, float(lam))
        elif last is not None:
            previous = _path_start(model, last, previous, float(lam), C)
        # an attribute, as set_params sets it: set_params reads the signature (inspect) per
        # call, 5% of a 10-lambda path on digits
        model.lam = float(lam)
        # a seeded model gets its fresh generator per fit (each fit as model.fit draws it); an
        # unseeded one one generator for the path (OS entropy per fit: 0.1-0.3 ms a fit)
        rng = model._rng() if rng is None or model.random_state is not None else rng
        model._run(X, T, weights, C, rng=rng, partial=False, previous=previous, stratify=stratify)
        model._set_coef(model.W_)
        last = model.W_
        yield model


#: The L-BFGS pairs a regularisation path keeps (:func:`fit_lams`) where the weights have at
#: most ``solvers.lbfgs.RECURSION_MAX_SIZE`` numbers (the compiled two-loop: ~50 us for 40
#: pairs of 650, against a ~1 ms pass on digits); 10 (SciPy's) above. The path's fits run
#: from a start near the optimum, where the longer memory saves iterations: 448 -> 370 passes
#: over six data sets (benchmarks/regularisation_path.py).
PATH_MEMORY = 40


def _path_cold_start(model, X, T, weights, n_columns, lam):
    """Prepare :func:`fit_lams`' first fit, from no weights, where it is L-BFGS on an L2
    penalty (NumPy or CSR data): the cold start's weights (:meth:`_LinearModel._start`) and an
    empty L-BFGS state with ``scale_bias`` (:func:`solvers.lbfgs.bias_scaling`) as the model's
    solver end, so that this fit too scales its bias steps; its iterates are otherwise the
    cold fit's. Returns those weights (the fit's ``previous``); ``None`` where that does not
    apply (a plain cold start)."""
    sparse = is_sparse(X)
    if not (sparse or isinstance(X, np.ndarray)) or model.regularizer != "l2":
        return None
    name = resolve_optimizer(
        model.optimizer, model.loss_, model.regularizer, sparse=sparse, X=X, lam=lam
    )
    if name != "lbfgs" or model.early_stopping:
        return None
    W0 = model._start(X, T, weights, n_columns, None, solver=True, previous=None)
    two = TwoClassSoftmax.applies(model.loss_, model.regularizer, n_columns, True)
    shape = (W0.shape[0], 1) if two else W0.shape
    small = math.prod(shape) <= solvers.lbfgs.RECURSION_MAX_SIZE
    empty = solvers.LBFGS(memory=PATH_MEMORY if small else 10).init(np.zeros(shape))
    model.W_ = W0
    model._solver_end = (empty._replace(scale_bias=True), lam / 2 if two else lam, "l2")
    return W0


def _path_start(model, last, trial, lam, n_columns):
    """The start of :func:`fit_lams`' next fit at ``lam``: ``last`` (the previous optimum),
    its L-BFGS state prepared for ``lam`` without a pass (:func:`solvers.lbfgs.shift_lambda`,
    ``trial`` its first trial) as the model's solver end; ``trial`` itself (the start as any
    warm start) where that does not apply (another solver or regulariser, a failed fit)."""
    end = getattr(model, "_solver_end", None)
    if end is None or trial.shape != last.shape or not isinstance(end[0], solvers.LBFGSState):
        return trial
    state, lam_before, regularizer = end
    if state.status not in (solvers.Status.RUNNING, solvers.Status.CONVERGED):
        return trial
    two = TwoClassSoftmax.applies(model.loss_, regularizer, n_columns, True)
    point, to = (TwoClassSoftmax.difference(W) if two else W for W in (last, trial))
    if state.grad is None or state.grad.shape != point.shape:
        return trial
    lam_new = lam / 2 if two else lam
    penalty = regularizers.get(regularizer)
    state = continue_state(state, penalty, lam_new - lam_before, point.shape)
    state = solvers.lbfgs.shift_lambda(
        state._replace(grad=end[0].grad, value=end[0].value),
        point,
        penalty,
        lam_new - lam_before,
        fit_intercept=model.fit_intercept,
        trial=None if trial is last else to,
    )
    if state.point is None:  # not shifted (another regulariser): the caller's start, a pass
        return trial
    model._solver_end = (state._replace(scale_bias=True), lam_new, regularizer)
    return last


def from_weights(
    W: npt.ArrayLike,
    *,
    loss: str = "softmax",
    classes: npt.ArrayLike | None = None,
    n_iter: int = 0,
    loss_history: Iterable[float] = (),
    **params: Any,
) -> LinearClassifier | LinearRegressor:
    """A fitted estimator around weights trained elsewhere (e.g. by :func:`lingrad.train.fit`).

    Args:
        W: weights ``(D + 1, C)``, bias in the last row.
        loss: the loss ``W`` was trained with: a classification loss gives a
            :class:`LinearClassifier`, ``"squared_error"`` a :class:`LinearRegressor`.
        classes: the label of each class (default ``0..K-1``); ``K`` is ``C``, or 2 for a
            one-column binary model (``C = 1``, the sigmoid losses) or a two-column one.
        n_iter: the training record to keep as ``n_iter_`` (iterations or epochs).
        loss_history: the training record to keep as ``loss_curve_`` (one value per
            iteration or epoch).
        params: other constructor parameters (``lam``, ``optimizer``...) to record.

    Examples:
        >>> clf = from_weights(np.array([[1.0, -1.0], [0.0, 0.0]]), classes=["no", "yes"])
        >>> clf.predict([[-2.0], [3.0]]).tolist(), clf.coef_.tolist()
        (['yes', 'no'], [[-2.0]])
    """
    W = check_weights(W)
    name = losses.canonical_name(loss)
    if name in _REGRESSOR_LOSSES:
        model = LinearRegressor(loss, **params)
    elif name in _CLASSIFIER_LOSSES:
        model = LinearClassifier(loss, **params)
    else:
        fail("loss", f"one of {sorted(_CLASSIFIER_LOSSES + _REGRESSOR_LOSSES)}", repr(loss))
    model.loss_, _ = model._validate_params()
    C = W.shape[1]
    if isinstance(model, LinearClassifier):
        labels = np.arange(max(C, 2)) if classes is None else np.asarray(classes)
        K = len(labels) if labels.ndim == 1 else -1
        spec = losses.spec(name)
        one_column = C == 1 and K == 2 and spec.n_columns(K) == 1
        if not (one_column or (C == K >= 2 and not spec.binary_only)):
            fail(
                "classes",
                f"one label per score column of W ({C}) for loss {name!r}",
                f"{labels.size} labels",
            )
        if len(np.unique(labels)) != len(labels):
            fail("classes", "distinct labels", labels.tolist())
        if np.any(labels[:-1] > labels[1:]):
            fail("classes", "sorted labels (as np.unique returns them)", labels.tolist())
        model.classes_ = labels
    elif C != 1:
        fail("W", "one score column for a regression model", f"shape {W.shape}")
    model.W_ = W
    model.n_features_in_ = W.shape[0] - 1
    model.n_iter_ = check_int("n_iter", n_iter, minimum=0)
    model.loss_curve_ = [float(v) for v in loss_history]
    model._set_coef(W)
    return model


__all__ = [
    "LinearClassifier",
    "LinearRegressor",
    "NoImprovement",
    "PrintLine",
    "fit_lams",
    "from_weights",
    "sample_weights",
]
