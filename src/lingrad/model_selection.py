"""Cross-validated regularisation paths: :class:`LinearClassifierCV` and :class:`LinearRegressorCV`.

In the manner of scikit-learn's ``LogisticRegressionCV``: for each of ``cv`` folds, the lambda
grid is fitted from the strongest lambda to the weakest, each fit starting from the previous
one's weights (a warm start: near the next optimum, a solver needs a few iterations), and scored
on the held-out fold,

    scores_[k, j] = score(model fitted on the other folds at lams_[j], fold k)
    lam_ = lams_[argmax_j mean_k scores_[k, j]]        (ties: the stronger lambda)

then the model is refitted on all the data at ``lam_``, starting from the mean of the fold
weights there. The fitted estimator predicts as a :class:`~lingrad.estimators.LinearClassifier`
(:class:`~lingrad.estimators.LinearRegressor`) with ``lam = lam_``.

Examples:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 2))
    >>> y = (X[:, 0] + 0.3 * rng.normal(size=60) > 0).astype(int)
    >>> clf = LinearClassifierCV(lams=4, cv=3).fit(X, y)
    >>> clf.scores_.shape, clf.lam_ in clf.lams_, clf.score(X, y) > 0.8
    ((3, 4), True, True)
"""

from __future__ import annotations

import inspect
import numbers
from collections.abc import Callable, Iterator
from typing import Any, Self

import numpy as np
import numpy.typing as npt
from numpy.typing import NDArray
from sklearn.base import is_classifier
from sklearn.metrics import check_scoring
from sklearn.model_selection import check_cv
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import validate_data

from lingrad._validation import fail
from lingrad.defaults import DEFAULTS
from lingrad.estimators import LinearClassifier, LinearRegressor, fit_lams, sample_weights


def lambda_grid(lams: int | npt.ArrayLike) -> NDArray[np.float64]:
    """The lambda grid, strongest first: ``lams`` values log-spaced over
    :data:`lingrad.defaults.DEFAULTS` ``.lam_range`` for an int, else the given values (each
    ``>= 0``) sorted from the largest down.

    Examples:
        >>> lambda_grid(3).tolist()
        [1.0, 0.001, 1e-06]
        >>> lambda_grid([0.0, 0.5, 0.1]).tolist()
        [0.5, 0.1, 0.0]
    """
    if isinstance(lams, numbers.Integral) and not isinstance(lams, bool):
        if lams < 1:
            fail("lams", "an integer >= 1 or a list of lambdas", repr(lams))
        strongest, weakest = DEFAULTS.lam_range
        return np.logspace(np.log10(strongest), np.log10(weakest), int(lams))
    grid = np.asarray(lams)
    if grid.ndim != 1 or grid.size == 0 or grid.dtype.kind not in "iuf":
        fail("lams", "an integer >= 1 or a 1-D list of lambdas", repr(lams), TypeError)
    if not (np.isfinite(grid).all() and (grid >= 0).all()):
        fail("lams", "lambdas that are finite and >= 0", grid.tolist())
    return np.sort(grid.astype(np.float64))[::-1]


def fit_path(
    model: LinearClassifier | LinearRegressor,
    X: npt.ArrayLike,
    y: npt.ArrayLike,
    lams: npt.ArrayLike,
    sample_weight: npt.ArrayLike | None = None,
) -> Iterator[LinearClassifier | LinearRegressor]:
    """Fit ``model`` at each lambda of ``lams`` in turn, yielding it after each fit.

    The data are validated once (:func:`lingrad.estimators.fit_lams`). Each fit is a warm
    start: from the previous weights (after two fits, extrapolated along the
    path: ``W_j + r (W_j - W_{j-1}) t`` with ``t`` the ratio of the steps in ``log lam`` and
    ``r`` the :func:`damping` of the last two steps, 1 before the third fit) and, for
    L-BFGS, with the previous fit's curvature pairs (see
    :func:`lingrad.estimators.continue_state`). With an L2 penalty an L-BFGS fit starts from
    the previous optimum with no pass over X (its value and gradient at the new lambda follow
    from the old ones) and tries the extrapolated weights first (:func:`fit_lams`).

    Examples:
        >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.2]])
        >>> model = LinearClassifier()
        >>> [round(m.lam, 2) for m in fit_path(model, X, [0, 1, 1, 0], [1.0, 0.1, 0.01])]
        [1.0, 0.1, 0.01]
    """
    grid = np.asarray(lams, dtype=np.float64)
    fits = fit_lams(model, X, y, grid, sample_weight)  # validates X and y once, not per lambda
    before: NDArray[np.floating] | None = None
    older: NDArray[np.floating] | None = None
    for j, lam in enumerate(grid):
        last = getattr(model, "W_", None) if j else None
        ok = grid[j - 2] > 0 and lam > 0 and grid[j - 1] != grid[j - 2]
        if before is not None and last is not None and before.shape == last.shape and ok:
            rate = (last - before) / np.log(grid[j - 1] / grid[j - 2])  # dW / d log lam
            if older is not None and older.shape == last.shape and grid[j - 3] != grid[j - 2]:
                rate = rate * damping(rate, (before - older) / np.log(grid[j - 2] / grid[j - 3]))
            model.W_ = last + rate * np.log(lam / grid[j - 1])
        yield next(fits)
        older, before = before, last


def damping(rate: NDArray[np.floating], prior: NDArray[np.floating]) -> float:
    """How much of the path's last rate ``dW / d log lam`` to extrapolate with: the projection
    of ``rate`` on the ``prior`` one, ``r = <rate, prior> / <prior, prior>``, kept in
    ``[0, 1]`` (1: a straight line, as where the optimum still moves as fast; less where its
    motion dies out towards lam = 0, where a straight line overshoots the next optimum).

    Examples:
        >>> damping(np.array([0.5, 0.0]), np.array([1.0, 0.0]))     # halving: half the line
        0.5
        >>> damping(np.array([3.0, 0.0]), np.array([1.0, 0.0]))     # growing: the line
        1.0
    """
    scale = float(np.vdot(prior, prior))
    r = float(np.vdot(rate, prior)) / scale if scale > 0 else 1.0
    return min(max(r, 0.0), 1.0)


def _never(estimator: object) -> bool:
    return False


#: The estimator's parameters that a path sets itself (lam) or has no use for.
_NOT_ON_A_PATH = ("lam", "warm_start", "early_stopping", "validation_fraction", "gradient")


def path_signature(model_type: type[LinearClassifier | LinearRegressor]) -> inspect.Signature:
    """The constructor signature of a CV estimator over ``model_type``: the estimator's
    parameters but those a path sets itself (``lam``, ``warm_start``) or cannot use
    (``early_stopping``, ``validation_fraction``, ``gradient``), and the path's ``lams``,
    ``cv``, ``scoring`` (scikit-learn reads parameter names from the signature).

    Examples:
        >>> list(path_signature(LinearRegressor).parameters)[:5]
        ['self', 'loss', 'lams', 'cv', 'scoring']
    """
    kw = inspect.Parameter.KEYWORD_ONLY
    own = [
        inspect.Parameter("lams", kw, default=DEFAULTS.n_lams, annotation="int | npt.ArrayLike"),
        inspect.Parameter("cv", kw, default=DEFAULTS.cv, annotation="Any"),
        inspect.Parameter("scoring", kw, default=None, annotation="str | Callable | None"),
    ]
    base = list(inspect.signature(model_type.__init__).parameters.values())
    rest = [p for p in base[2:] if p.name not in _NOT_ON_A_PATH]
    return inspect.Signature([*base[:2], *own, *rest], return_annotation="None")


class _RegularisationPath:
    """The cross-validated path, for both estimators (the first base of each)."""

    lams: int | npt.ArrayLike
    cv: Any
    scoring: str | Callable[..., float] | None
    lams_: NDArray[np.float64]
    lam_: float
    scores_: NDArray[np.float64]

    def _store(self, args: tuple[Any, ...], params: dict[str, Any]) -> None:
        """Bind ``args`` and ``params`` to the class's signature (a ``TypeError`` for an
        unknown name) and keep each value, defaults included, as the attribute of its name."""
        bound = inspect.signature(type(self)).bind(*args, **params)
        bound.apply_defaults()
        for name, value in bound.arguments.items():
            setattr(self, name, value)

    def _model(self, lam: float, *, warm_start: bool) -> LinearClassifier | LinearRegressor:
        """The estimator fitted along the path, with this estimator's parameters."""
        model_type = LinearClassifier if is_classifier(self) else LinearRegressor
        names = inspect.signature(model_type.__init__).parameters
        params = {n: getattr(self, n) for n in names if n != "self" and n not in _NOT_ON_A_PATH}
        return model_type(lam=lam, warm_start=warm_start, **params)

    def _path(self, X, y, sample_weight, train, test, lams, scorer) -> tuple[list, list, list]:
        """Fit ``lams`` in order on the ``train`` rows, each from the previous weights; the
        scores on the ``test`` rows, the weights and the iterations of each fit."""
        start = self._model(float(lams[0]), warm_start=True)
        w_train = None if sample_weight is None else sample_weight[train]
        w_test = {} if sample_weight is None else {"sample_weight": sample_weight[test]}
        scores, weights, iterations = [], [], []
        for model in fit_path(start, X[train], y[train], lams, w_train):
            scores.append(scorer(model, X[test], y[test], **w_test))
            weights.append(model.W_)
            iterations.append(model.n_iter_)
        return scores, weights, iterations

    def _fit_path(self, X: Any, y: Any, sample_weight: Any) -> Self:
        """Validate once, cross-validate the path, refit at the best lambda, keep its model."""
        lams = lambda_grid(self.lams)
        classifier = is_classifier(self)
        X, y = validate_data(
            self,
            X,
            y,
            dtype=[np.float64, np.float32],
            y_numeric=not classifier,
            accept_sparse="csr",
        )
        if sample_weight is not None:
            sample_weight = sample_weights(sample_weight, X.shape[0])
        folds = list(check_cv(self.cv, y, classifier=classifier).split(X, y))
        scorer = check_scoring(self._model(float(lams[0]), warm_start=False), self.scoring)
        paths = [self._path(X, y, sample_weight, tr, te, lams, scorer) for tr, te in folds]
        self.lams_ = lams
        self.scores_ = np.array([p[0] for p in paths], dtype=np.float64)
        # (n_folds, L) here where the plain estimators have one count: set around mypy
        setattr(self, "n_iter_", np.array([p[2] for p in paths], dtype=np.intp))  # noqa: B010
        best = int(np.argmax(self.scores_.mean(axis=0)))  # the first (strongest) of ties
        self.lam_ = float(lams[best])
        final = self._model(self.lam_, warm_start=True)
        starts = [p[1][best] for p in paths]
        if len({W.shape for W in starts}) == 1:  # every fold saw every class
            final.W_ = np.mean(starts, axis=0)
        final.fit(X, y, sample_weight=sample_weight)
        self._keep(final)
        return self

    def _keep(self, model: LinearClassifier | LinearRegressor) -> None:
        """Take over the fitted attributes of the refitted ``model``."""
        self.model_ = model
        for name in ("loss_", "optimizer_", "W_", "coef_", "intercept_", "loss_curve_"):
            setattr(self, name, getattr(model, name))
        if isinstance(model, LinearClassifier):
            setattr(self, "classes_", model.classes_)  # noqa: B010 (LinearClassifierCV's)


class LinearClassifierCV(_RegularisationPath, LinearClassifier):
    """A :class:`~lingrad.estimators.LinearClassifier` whose ``lam`` is chosen by
    cross-validation along a warm-started regularisation path (see the module docstring).

    Args:
        lams: the number of lambdas (log-spaced from ``DEFAULTS.lam_range[0]`` = 1 down to
            ``1e-6``; default ``DEFAULTS.n_lams`` = 10), or the lambdas themselves.
        cv: the folds: an int (stratified k-fold, default ``DEFAULTS.cv`` = 5), a
            scikit-learn splitter or an iterable of (train, test) index pairs.
        scoring: a scikit-learn scorer name or callable; ``None``: accuracy.
        The other parameters are :class:`~lingrad.estimators.LinearClassifier`'s but ``lam``,
        ``warm_start`` (the path sets them), ``early_stopping``, ``validation_fraction`` and
        ``gradient`` (:func:`path_signature` builds the signature from the estimator's).

    Attributes:
        lams_: the grid ``(L,)``, strongest first; ``lam_``: the lambda chosen.
        scores_: ``(n_folds, L)`` held-out scores; ``n_iter_``: ``(n_folds, L)`` iterations.
        model_: the :class:`~lingrad.estimators.LinearClassifier` refitted on all the data at
            ``lam_``; its ``W_``, ``coef_``, ``intercept_``, ``classes_``, ``loss_curve_``,
            ``optimizer_`` are also this estimator's.

    Examples:
        >>> from sklearn.datasets import load_iris
        >>> from sklearn.preprocessing import StandardScaler
        >>> X, y = load_iris(return_X_y=True)
        >>> X = StandardScaler().fit_transform(X)
        >>> clf = LinearClassifierCV(lams=[1e-1, 1e-3], cv=3).fit(X, y)
        >>> clf.lams_.tolist(), clf.lam_, clf.coef_.shape
        ([0.1, 0.001], 0.001, (3, 4))
    """

    def __init__(self, *args: Any, **params: Any) -> None:
        """Keep each parameter of the signature (see :func:`path_signature`) unchanged."""
        self._store(args, params)

    def fit(
        self, X: npt.ArrayLike, y: npt.ArrayLike, sample_weight: npt.ArrayLike | None = None
    ) -> Self:
        """Cross-validate the lambda path on ``X`` ``(N, D)``, ``y`` ``(N,)``; refit at the
        best lambda."""
        return self._fit_path(X, y, sample_weight)

    @available_if(_never)
    def partial_fit(self, *args: Any, **kwargs: Any) -> Self:
        """Not available (``hasattr`` is False): a path is cross-validated on all the data."""
        raise NotImplementedError  # pragma: no cover


class LinearRegressorCV(_RegularisationPath, LinearRegressor):
    """A :class:`~lingrad.estimators.LinearRegressor` whose ``lam`` is chosen by
    cross-validation along a warm-started regularisation path (see the module docstring).

    Parameters and attributes are :class:`LinearClassifierCV`'s (no ``class_weight``); ``cv``
    is a plain k-fold and ``scoring=None`` is R^2.

    Examples:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(50, 3))
        >>> y = X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=50)
        >>> reg = LinearRegressorCV(lams=3, cv=5).fit(X, y)
        >>> reg.lam_, np.round(reg.coef_, 1).tolist()
        (0.001, [1.0, -2.0, 0.5])
    """

    def __init__(self, *args: Any, **params: Any) -> None:
        """Keep each parameter of the signature (see :func:`path_signature`) unchanged."""
        self._store(args, params)

    def fit(
        self, X: npt.ArrayLike, y: npt.ArrayLike, sample_weight: npt.ArrayLike | None = None
    ) -> Self:
        """Cross-validate the lambda path on ``X`` ``(N, D)``, real ``y`` ``(N,)``; refit at
        the best lambda."""
        return self._fit_path(X, y, sample_weight)

    @available_if(_never)
    def partial_fit(self, *args: Any, **kwargs: Any) -> Self:
        """Not available (``hasattr`` is False): a path is cross-validated on all the data."""
        raise NotImplementedError  # pragma: no cover


# scikit-learn reads the parameters from the signature: the estimator's, not *args/**params
setattr(LinearClassifierCV.__init__, "__signature__", path_signature(LinearClassifier))  # noqa: B010
setattr(LinearRegressorCV.__init__, "__signature__", path_signature(LinearRegressor))  # noqa: B010

__all__ = [
    "LinearClassifierCV",
    "LinearRegressorCV",
    "damping",
    "fit_path",
    "lambda_grid",
    "path_signature",
]
