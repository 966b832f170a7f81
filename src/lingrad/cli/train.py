"""``lingrad train``: train a linear classifier on a dataset and report its accuracy.

The command line becomes a *config* (a plain dict, saved as ``config.json`` in the run folder);
everything after that reads only the config, so ``lingrad train --config runs/NAME/config.json``
repeats a run exactly and ``lingrad train --resume runs/NAME`` continues it from its checkpoint.
:func:`train_from_config` is shared with ``lingrad sweep``.

Crash safety: ``config.json`` is written (atomically) before the first epoch, so a run killed
at any point (``kill -9``) resumes with ``--resume``: from its last checkpoint, or from the
start if none was written yet, and ends with the same weights, histories and metrics as an
uninterrupted run. A process training a run folder holds its lock (:func:`run_lock`); a second
one is refused. Exit status: 0 trained, 1 the training diverged (the last good weights are
saved), 2 bad input.

``config.json`` holds the *resolved* values (learning rate, schedule and decay, batch size,
epochs): a later change of a default does not change what a saved config repeats.

``--dataset`` also takes the user's own file (:mod:`lingrad.datafiles`): ``.csv`` (the label
column given by ``--label``), ``.npz`` (dense, or a sparse matrix) or svmlight / libsvm
(``.svm``, ``.libsvm``, ``.svmlight``). Dense data are standardised (centred and scaled) with
the training split's statistics. Sparse data (a CSR matrix) are never densified: each column is
only scaled, by its standard deviation over the training split (``x_j / s_j``, never centred),
and the saved model takes the raw features: the scale is folded into its weights
(``W[j] / s_j``), so ``config.json`` says ``"standardize": false``. The figures need dense
examples and are skipped for sparse data. ``config.json`` records the feature count
(``n_features``) and an svmlight file's index base (``zero_based``), with which ``lingrad
predict`` and ``lingrad evaluate`` read a later file that uses fewer columns.

Every loss and dataset of ``--help`` trains: a classification loss on a classification set
(``logistic`` needs two classes: one score column), ``squared_error`` on a regression set
(``diabetes``, ``california_housing``; R^2 reported instead of accuracy), and
``kl_divergence`` on *soft targets* made from the labels by label smoothing:
``p_k = (1 - eps) [k == y] + eps / K`` with ``eps =`` :data:`KL_SMOOTHING`.

The command imports the trainer (and through it SymPy's symbolic gradients) only when it
runs, so building its parser is cheap.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from lingrad import __version__, datafiles, datasets, losses, optim, regularizers, runs
from lingrad._validation import check_int, check_positive, fail, is_sparse
from lingrad.cli.common import SubParsers, add_command, add_file_arguments
from lingrad.defaults import DEFAULTS as TABLE
from lingrad.defaults import resolve_optimizer
from lingrad.model import init_weights, predict
from lingrad.optim import schedules

if TYPE_CHECKING:  # the trainer imports SymPy (symbolic gradients): imported on use below
    from lingrad.objective import Objective
    from lingrad.train import FitResult

#: the config keys and their defaults, from the table shared with the estimators
#: (:data:`lingrad.defaults.DEFAULTS`); ``None`` means "resolved by :func:`resolve`" (the
#: optimiser's or the schedule's value), except for ``class_weight``, ``max_evaluations`` and
#: ``data_dir``, where it means none / the default folder
DEFAULTS: dict[str, Any] = {
    "dataset": "digits",
    "loss": "softmax",
    "regularizer": TABLE.regularizer,
    "lam": TABLE.lam,
    "optimizer": TABLE.optimizer,
    "learning_rate": None,
    "schedule": None,
    "decay": None,
    "batch_size": None,
    "epochs": None,
    "early_stopping": False,
    "patience": 10,
    "seed": 0,
    "gradient": "analytic",
    "class_weight": None,
    "max_evaluations": None,
    "checkpoint_every": 10,
    "data_dir": None,
    "label": None,
    "zero_based": "auto",
}
#: what the config records beside its options: the library's version, whether the saved model
#: takes standardised inputs, the data's feature count and class names
RECORDED = ("lingrad", "standardize", "n_features", "class_names")
#: examples per step of the mini-batch optimisers; epochs of the SGD family (which has no
#: convergence test yet) and iterations of the full-batch methods
GRADIENT_BATCH, GRADIENT_EPOCHS, SEARCH_EPOCHS = TABLE.batch_size, 100, TABLE.max_iter

#: the names of :func:`lingrad.grad.methods`, known without importing the gradient methods
#: (SymPy); a test checks that they agree
GRADIENTS: tuple[str, ...] = ("analytic", "autodiff", "numerical", "symbolic")

#: each schedule's decay factor when ``--decay`` is not given (:func:`lingrad.optim.schedules.get`
#: uses the same; a test checks that they agree); ``constant`` and ``cosine`` have none
SCHEDULE_DECAY: dict[str, float | None] = {
    "constant": None,
    "step": 0.5,
    "exponential": 0.97,
    "inverse_time": 0.1,
    "cosine": None,
    "plateau": 0.5,
}

#: ``--loss kl_divergence`` trains on label-smoothed one-hot targets with this ``eps``
KL_SMOOTHING = 0.1

#: the standardised ``(X_train, X_val, X_test)`` (CSR matrices for sparse data)
Splits = tuple[Any, Any, Any]


class DatasetChoices(tuple[str, ...]):
    """The shipped dataset names, as ``--help`` lists them; ``in`` also accepts a user's data
    file (:func:`lingrad.datafiles.is_data_file`), so argparse lets paths through.

    Examples:
        >>> choices = DatasetChoices(("iris", "digits"))
        >>> "iris" in choices, "mine.svm" in choices, "nope" in choices, list(choices)
        (True, True, False, ['iris', 'digits'])
    """

    def __contains__(self, value: object) -> bool:
        if tuple.__contains__(self, value):
            return True
        return isinstance(value, str) and datafiles.is_data_file(value)


def add_config_arguments(p: argparse.ArgumentParser, *, sweep: bool = False) -> None:
    """The options that make a config (``sweep`` leaves out the learning rate and lam)."""
    p.add_argument(
        "--dataset",
        default="digits",
        choices=DatasetChoices(datasets.NAMES),
        help="the data: a classification set, or a regression set (diabetes, "
        "california_housing) for --loss squared_error; california_housing and cifar10 are "
        "downloaded on first use; or your own file: .csv (see --label), .npz (X and y, dense "
        "or sparse) or .svm/.libsvm/.svmlight (sparse, never densified: scaled, not centred)",
    )
    add_file_arguments(p)
    p.add_argument(
        "--loss",
        default="softmax",
        choices=(*losses.NAMES, *losses.ALIASES),
        metavar="LOSS",
        help=f"one of {', '.join(losses.NAMES)} (or an alias: {', '.join(losses.ALIASES)}); "
        "logistic needs a two-class dataset, squared_error a regression one, kl_divergence "
        f"trains on label-smoothed targets (eps {KL_SMOOTHING:g})",
    )
    p.add_argument(
        "--regularizer", default="l2", choices=regularizers.NAMES, help="the penalty R(W)"
    )
    if not sweep:
        p.add_argument(
            "--lam",
            type=float,
            default=None,
            help=f"regularisation strength (default: {DEFAULTS['lam']:g})",
        )
    default = "sgd: the sweep varies the learning rate" if sweep else DEFAULTS["optimizer"]
    p.add_argument(
        "--optimizer",
        default="sgd" if sweep else None,
        choices=(*optim.NAMES, "auto"),
        help="auto (the exact solver of the loss for in-memory data: lbfgs for the smooth "
        "losses, dualcd for the piecewise-linear ones, continuation on sparse data), a solver, "
        "a gradient optimiser "
        "(sgd, momentum, nesterov, adam: mini-batches; sgd is the lecture's), gd (full batch) "
        "or a search (random, local, genetic: always the full batch, since values from "
        "different mini-batches do not compare) "
        f"(default: {default}; sgd on Dask)",
    )
    if not sweep:
        p.add_argument(
            "--learning-rate",
            type=float,
            default=None,
            help="learning rate, the step size of the searches; none for a solver "
            "(default: the optimiser's)",
        )
    p.add_argument(
        "--schedule",
        default=None,
        choices=schedules.SCHEDULES,
        help=f"learning-rate schedule, decaying per epoch (default: {TABLE.schedule})",
    )
    p.add_argument(
        "--decay",
        type=float,
        default=None,
        help="the schedule's decay factor per epoch (default: the schedule's: "
        + ", ".join(f"{k} {v:g}" for k, v in SCHEDULE_DECAY.items() if v is not None)
        + ")",
    )
    p.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help=f"examples per step of the mini-batch optimisers (default: {GRADIENT_BATCH}, at "
        "most all training examples); the "
        "solvers, gd and the searches always step on all training examples and refuse another "
        "size",
    )
    p.add_argument(
        "--epochs",
        type=int,
        default=None,
        help=f"passes over the data, or a solver's iterations (default: {GRADIENT_EPOCHS}; "
        f"{SEARCH_EPOCHS} for the solvers, gd and the searches)",
    )
    p.add_argument(
        "--early-stopping",
        action="store_true",
        default=None,
        help="stop when the validation loss stalls, keep the best weights",
    )
    p.add_argument(
        "--patience",
        type=int,
        default=None,
        help=f"epochs without improvement before early stopping (default: {DEFAULTS['patience']})",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=None,
        help=f"seed of the split and the training (default: {DEFAULTS['seed']})",
    )
    p.add_argument(
        "--data-dir",
        default=None,
        help="local copy / download cache of the downloaded sets (default: ~/.cache/lingrad)",
    )
    p.add_argument(
        "--gradient",
        default=None,
        choices=GRADIENTS,
        help=f"how dJ/dW is computed (default: {DEFAULTS['gradient']})",
    )
    p.add_argument(
        "--class-weight",
        default=None,
        choices=["balanced"],
        help="weight each class by N / (C * count)",
    )
    p.add_argument(
        "--max-evaluations",
        type=int,
        default=None,
        help="stop after this many objective evaluations (a budget; default: none)",
    )
    p.add_argument("--runs-dir", default="runs", help="where run folders go")
    p.add_argument("--name", default=None, help="run folder name (default: a UTC timestamp)")
    p.add_argument(
        "-q", "--quiet", action="store_true", help="no progress bar (it only shows on a terminal)"
    )


def register(sub: SubParsers) -> None:
    """Add the ``train`` command to ``sub`` (an ``add_subparsers`` object): train a linear
    model and print its train/validation/test accuracy (R^2 for regression).

    Its ``func`` default is :func:`run`.
    """
    p = add_command(
        sub,
        "train",
        description="Train a linear classifier (or regressor); the run is saved in "
        "RUNS_DIR/NAME/ (config.json, metrics.json, history.json, model.npz, checkpoint.npz). "
        "Exit status: 0 trained, 1 the training diverged (the last good weights are saved), "
        "2 bad input.",
    )
    add_config_arguments(p)
    p.add_argument(
        "--checkpoint-every",
        type=int,
        default=None,
        help=f"epochs between checkpoints (default: {DEFAULTS['checkpoint_every']})",
    )
    p.add_argument("--config", default=None, help="repeat the run of this config.json")
    p.add_argument(
        "--no-report",
        action="store_true",
        help="skip the figures and index.html in the run folder (they take a few seconds)",
    )
    p.add_argument(
        "--resume",
        default=None,
        metavar="RUN_DIR",
        help="continue the run in RUN_DIR from its checkpoint, or from the start if it crashed "
        "before one; --epochs may extend it, never shorten it (a smaller --epochs is an error, "
        "exit status 2)",
    )
    p.add_argument(
        "--dask",
        default=None,
        metavar="SPEC",
        help="train on a Dask cluster: local:N (N worker processes on 127.0.0.1) or "
        "tcp://HOST:PORT (an existing scheduler); needs lingrad[dask]",
    )
    p.set_defaults(func=run)


def config_from_args(
    args: argparse.Namespace, base: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A complete config: ``base`` (or the defaults) overridden by the options given."""
    config = dict(DEFAULTS if base is None else base)
    for key in DEFAULTS:
        value = getattr(args, key, None)
        if value is not None:
            config[key] = value
    return resolve(config)


def _solver_options(config: dict[str, Any]) -> None:
    """A solver takes no learning rate, schedule or decay: refuse them, store none."""
    for key in ("learning_rate", "schedule", "decay"):
        if config[key] is not None:
            fail(
                f"--{key.replace('_', '-')}",
                f"no {key} for the solver {config['optimizer']!r} (its line search picks "
                "each step; the gradient optimisers sgd, momentum, nesterov, adam and gd take "
                "one)",
                config[key],
            )


def _rate_options(config: dict[str, Any], entry: optim.OptimizerEntry) -> None:
    """Resolve the learning rate, the schedule and its decay of a stepping optimiser."""
    if config["schedule"] is None:
        config["schedule"] = TABLE.schedule
    if config["schedule"] not in schedules.SCHEDULES:
        fail("--schedule", f"one of {list(schedules.SCHEDULES)}", repr(config["schedule"]))
    if config["decay"] is None:
        config["decay"] = SCHEDULE_DECAY[config["schedule"]]
    if config["decay"] is not None:
        check_positive("decay", config["decay"])
    if config["learning_rate"] is None:
        default = entry.defaults[entry.rate_param or ""]  # set: not a solver
        config["learning_rate"] = TABLE.learning_rates.get(config["optimizer"], default)
    check_positive("learning_rate", config["learning_rate"])


def resolve(config: dict[str, Any]) -> dict[str, Any]:
    """Fill the optimiser-dependent defaults and check every value.

    Errors name the library's parameter (``learning_rate`` for ``--learning-rate``,
    ``batch_size`` for ``--batch-size``...), as the library itself would.
    """
    unknown = set(config) - set(DEFAULTS) - set(RECORDED)
    if unknown:
        fail("config", f"keys among {sorted(DEFAULTS)}", sorted(unknown))
    config = {**DEFAULTS, **config}
    losses.spec(config["loss"])  # a known loss; whether it suits the dataset: build()
    sparse = datafiles.holds_sparse(config["dataset"])  # False for a shipped dataset's name
    requested = config["optimizer"]
    config["optimizer"] = resolve_optimizer(
        requested, config["loss"], config["regularizer"], sparse=sparse
    )
    entry = optim.entry(config["optimizer"])
    if config["gradient"] not in GRADIENTS:
        fail("--gradient", f"one of {list(GRADIENTS)}", repr(config["gradient"]))
    if entry.rate_param is None:  # a solver: its line search picks each step
        _solver_options(config)
    else:
        _rate_options(config, entry)
    check_positive("lam", config["lam"], allow_zero=True)
    if config["zero_based"] not in ("auto", True, False):
        fail("zero_based", "true, false or 'auto'", repr(config["zero_based"]))
    if config["batch_size"] is not None:  # else resolved once the data is known: build()
        check_int("batch_size", config["batch_size"])
    if config["epochs"] is None:
        config["epochs"] = SEARCH_EPOCHS if entry.full_batch else GRADIENT_EPOCHS
    check_int("epochs", config["epochs"])
    check_int("patience", config["patience"], minimum=0)
    check_int("checkpoint_every", config["checkpoint_every"])
    if config["max_evaluations"] is not None:
        check_int("max_evaluations", config["max_evaluations"])
    config["standardize"] = True
    config["lingrad"] = __version__
    if requested == "auto" and (sparse or config["optimizer"] == "dualcd"):
        config["optimizer"] = "auto"  # two solvers either way: build() picks by X's size
    return config


def _full_batch_only(config: dict[str, Any], N: int) -> None:
    """Refuse a batch size other than all ``N`` examples for gd and the searches."""
    if config["batch_size"] not in (None, N):
        fail(
            "--batch-size",
            f"no batch size for the full-batch optimiser {config['optimizer']!r} "
            f"(it steps on all {N} training examples; sgd, momentum, nesterov and adam take "
            "mini-batches)",
            config["batch_size"],
        )


def targets(
    config: dict[str, Any], data: datasets.Dataset, y: NDArray[Any]
) -> tuple[NDArray[Any], int]:
    """``(targets, score columns)`` of the loss ``config["loss"]`` for the labels (or real
    targets) ``y`` ``(N,)`` of ``data``: the labels themselves, the real targets of a
    regression set (one column), or for ``kl_divergence`` label-smoothed distributions
    ``(N, K)``: ``p_k = (1 - eps) [k == y] + eps / K``, ``eps =`` :data:`KL_SMOOTHING`.

    A loss that does not go with the dataset is refused naming both.

    Examples:
        >>> from types import SimpleNamespace
        >>> data = SimpleNamespace(name="toy", task="classification", n_classes=3)
        >>> P, C = targets({"loss": "kl_divergence"}, data, np.array([0, 2]))
        >>> P.round(4).tolist(), C
        ([[0.9333, 0.0333, 0.0333], [0.0333, 0.0333, 0.9333]], 3)
    """
    spec = losses.spec(config["loss"])
    loss, name = config["loss"], data.name
    if (spec.task == "regression") != (data.task == "regression"):
        wanted = "a regression" if spec.task == "regression" else "a classification"
        fail(
            "--loss",
            f"a loss for the {data.task} dataset {name!r} ({loss!r} needs {wanted} dataset)",
            repr(loss),
        )
    if data.task == "regression":
        return y, 1
    K = data.n_classes
    if spec.binary_only and K != 2:
        fail(
            "--loss",
            f"a multi-class loss for the {K}-class dataset {name!r} ({loss!r} needs two "
            "classes: one score column)",
            repr(loss),
        )
    if spec.target is losses.Target.DISTRIBUTION:
        P = np.full((len(y), K), KL_SMOOTHING / K)
        P[np.arange(len(y)), y] += 1.0 - KL_SMOOTHING
        return P, K
    return y, spec.n_columns(K)


def column_scale(X: Any) -> NDArray[np.floating]:
    """The standard deviation of each column of a sparse ``X`` ``(N, D)``, without densifying:
    ``s_j = sqrt(mean_i x_ij^2 - (mean_i x_ij)^2)`` (the zeros counted), 1 for a constant
    column; of X's dtype, summed in float64.

    Examples:
        >>> import scipy.sparse as sp
        >>> column_scale(sp.csr_matrix(np.array([[0.0, 2.0], [2.0, 2.0]])))
        array([1., 1.])
    """
    N = X.shape[0]
    mean = np.asarray(X.sum(axis=0, dtype=np.float64)).ravel() / N
    square = np.asarray(X.multiply(X).sum(axis=0, dtype=np.float64)).ravel() / N
    std = np.sqrt(np.maximum(square - mean**2, 0.0))
    return np.where(std > 0, std, 1.0).astype(X.dtype)


def scale_columns(X: Any, scale: NDArray[np.floating]) -> Any:
    """A sparse ``X`` ``(N, D)`` with column ``j`` divided by ``scale[j]``, as a CSR matrix of
    X's dtype (the same non-zeros: nothing densified).

    Examples:
        >>> import scipy.sparse as sp
        >>> scale_columns(sp.csr_matrix(np.array([[2.0, 3.0]])), np.array([2.0, 1.0])).toarray()
        array([[1., 3.]])
    """
    import scipy.sparse as sp

    return sp.csr_matrix(X @ sp.diags((1.0 / scale).astype(X.dtype)))


def fold_scale(W: NDArray[np.floating], scale: NDArray[np.floating]) -> NDArray[np.floating]:
    """Weights ``W`` ``(..., D + 1, C)`` trained on ``x / scale`` as weights for raw ``x``:
    ``W[j] / scale[j]`` for each feature row ``j < D``, the bias row unchanged, since
    ``(x / s) W[:D] + b = x (W[:D] / s) + b``.

    Examples:
        >>> fold_scale(np.array([[2.0], [4.0], [1.0]]), np.array([2.0, 4.0]))
        array([[1.],
               [1.],
               [1.]])
    """
    out = np.array(W, copy=True)
    out[..., :-1, :] /= scale[:, None].astype(out.dtype)
    return out


@functools.lru_cache(maxsize=4)
def load_data(
    name: str,
    seed: int,
    data_dir: str | Path | None = None,
    label: str | None = None,
    zero_based: bool | str = "auto",
) -> tuple[datasets.Dataset, Splits]:
    """The dataset's splits, standardised with the training split's statistics; a sparse
    ``X`` (CSR) is only scaled (:func:`column_scale`, :func:`scale_columns`), never centred."""
    data = datasets.load(name, seed=seed, data_dir=data_dir, label=label, zero_based=zero_based)
    parts = (data.X_train, data.X_val, data.X_test)
    if is_sparse(data.X_train):
        scale = column_scale(data.X_train)
        X_train, X_val, X_test = (scale_columns(X, scale) for X in parts)
        return data, (X_train, X_val, X_test)
    scaler = datasets.Standardizer().fit(data.X_train)
    X_train, X_val, X_test = (scaler.transform(X) for X in parts)
    return data, (X_train, X_val, X_test)


def data_of(config: dict[str, Any]) -> tuple[datasets.Dataset, Splits]:
    """:func:`load_data` of a resolved ``config``."""
    return load_data(
        config["dataset"], config["seed"], config["data_dir"], config["label"], config["zero_based"]
    )


def _index_base(config: dict[str, Any]) -> bool | str:
    """The index base of the config's svmlight file, ``"auto"`` resolved (so that a later
    file is read as this one was), else ``config["zero_based"]`` as it is."""
    name = config["dataset"]
    if config["zero_based"] != "auto" or name in datasets.NAMES:
        return config["zero_based"]
    if datafiles.file_kind(name) != "svmlight":
        return config["zero_based"]
    return datafiles.svmlight_zero_based(name)


def build(
    config: dict[str, Any],
) -> tuple[datasets.Dataset, Splits, Objective, optim.Optimizer, dict[str, Any]]:
    """``(data, (X_train, X_val, X_test), objective, optimizer, fit keyword arguments)``; an
    ``"auto"`` optimiser left by :func:`resolve` (sparse data, a hinge loss) is resolved here,
    in ``config``, from the training rows' size and ``lam`` as the estimators resolve it (SAGA
    or L-BFGS; dual coordinate descent or continuation)."""
    from lingrad.objective import Objective
    from lingrad.train import batch_size_for

    data, (X_train, X_val, X_test) = data_of(config)
    if config["optimizer"] == "auto":  # left by resolve(): the estimators' choice
        config["optimizer"] = resolve_optimizer(
            "auto",
            config["loss"],
            config["regularizer"],
            sparse=is_sparse(X_train),
            X=X_train,
            lam=config["lam"],
        )
    N = X_train.shape[0]
    if optim.entry(config["optimizer"]).full_batch:  # gd and the searches compare values
        _full_batch_only(config, N)  # over the whole data
    T_train, n_columns = targets(config, data, data.y_train)
    T_val, _ = targets(config, data, data.y_val)
    # the default mini-batch, at most all N examples (as scikit-learn's min(200, n_samples))
    default = min(GRADIENT_BATCH, N)
    batch_size = batch_size_for(config["optimizer"], N, config["batch_size"] or default)
    if batch_size > N:
        fail("batch_size", f"at most the number of training examples ({N})", batch_size)
    steps_per_epoch = -(-N // batch_size)
    rate = None
    if config["learning_rate"] is not None:  # None: a solver
        rate = schedules.get(
            config["schedule"],
            config["learning_rate"],
            steps_per_epoch=steps_per_epoch,
            epochs=config["epochs"],
            decay=config["decay"],
        )
    optimizer = optim.get(config["optimizer"], rate)
    objective = Objective(
        config["loss"], X_train, T_train, regularizer=config["regularizer"], lam=config["lam"]
    )
    kwargs = {
        "n_columns": n_columns,
        "epochs": config["epochs"],
        "batch_size": batch_size,
        "rng": np.random.default_rng(config["seed"]),
        "gradient": config["gradient"],
        "validation": (X_val, T_val),
        "early_stopping": config["early_stopping"],
        "patience": config["patience"],
        "class_weight": config["class_weight"],
        "max_evaluations": config["max_evaluations"],
        "checkpoint_every": config["checkpoint_every"],
    }
    return data, (X_train, X_val, X_test), objective, optimizer, kwargs


def accuracy(W: NDArray[np.floating], X: NDArray[np.floating], y: ArrayLike) -> float:
    """The fraction of rows of ``X`` ``(N, D)`` whose predicted class equals ``y`` ``(N,)``:
    ``mean_i [argmax_k s_ik == y_i]`` with ``S = [X, 1] W`` (``W`` ``(D + 1, C)``).

    Examples:
        >>> W = np.array([[1.0, -1.0], [0.0, 0.0]])
        >>> accuracy(W, np.array([[1.0], [-2.0], [3.0]]), np.array([0, 1, 1]))
        0.6666666666666666
    """
    return float(np.mean(predict(W, X) == y))


def r2(W: NDArray[np.floating], X: NDArray[np.floating], y: ArrayLike) -> float:
    """The coefficient of determination of the regression ``s = [X, 1] W`` (``W`` ``(D + 1,
    1)``) on targets ``y`` ``(N,)``: ``R^2 = 1 - sum_i (y_i - s_i)^2 / sum_i (y_i - mean y)^2``.

    Examples:
        >>> W = np.array([[2.0], [1.0]])
        >>> r2(W, np.array([[0.0], [1.0], [2.0]]), np.array([1.0, 3.0, 5.0]))
        1.0
        >>> r2(np.array([[0.0], [3.0]]), np.array([[0.0], [1.0], [2.0]]), np.array([1.0, 3.0, 5.0]))
        0.0
    """
    from lingrad.model import scores

    y = np.asarray(y, dtype=np.float64)
    residual = np.sum((y - scores(W, X)[:, 0]) ** 2)
    return float(1.0 - residual / np.sum((y - y.mean()) ** 2))


def metrics_of(
    result: FitResult,
    data: datasets.Dataset,
    splits: Splits,
    *,
    loss: float,
    start: float,
    **extra: Any,
) -> dict[str, Any]:
    """The run's ``metrics.json``: train / validation / test accuracy of ``result.W`` on
    ``splits = (X_train, X_val, X_test)`` (``train_r2``, ``val_r2``, ``test_r2`` for a
    regression set: :func:`r2`), the final ``loss``, ``n_iter``, ``extra`` figures and the
    ``seconds`` since ``start`` (a ``time.perf_counter()``).

    Examples:
        >>> from types import SimpleNamespace
        >>> from lingrad.train import FitResult
        >>> y = np.array([0, 1])
        >>> data = SimpleNamespace(y_train=y, y_val=y[:1], y_test=y[1:])
        >>> X = np.array([[1.0], [-1.0]])
        >>> result = FitResult(np.array([[1.0, -1.0], [0.0, 0.0]]), {}, {}, 3, 3, 3)
        >>> m = metrics_of(result, data, (X, X[:1], X[1:]), loss=0.1, start=time.perf_counter())
        >>> m["train_accuracy"], m["test_accuracy"], m["n_iter"]
        (1.0, 1.0, 3)
    """
    W = result.W
    measure, key = (
        (r2, "r2") if getattr(data, "task", None) == "regression" else (accuracy, "accuracy")
    )
    ys = (data.y_train, data.y_val, data.y_test)
    return {
        **{
            f"{split}_{key}": measure(W, X, y)
            for split, X, y in zip(("train", "val", "test"), splits, ys, strict=True)
        },
        "loss": loss,
        "n_iter": result.n_iter,
        **extra,
        "seconds": time.perf_counter() - start,
    }


#: at most this many weight snapshots are kept for the loss landscape's trajectory
TRAJECTORY_POINTS = 200


def train_from_config(
    config: dict[str, Any],
    *,
    run_dir: str | Path | None = None,
    resume: str | Path | None = None,
    verbose: int = 0,
    checkpoint: bool = True,
    report: bool = False,
) -> tuple[FitResult, dict[str, Any]]:
    """Train as ``config`` says; return the fit result and the metrics.

    With ``run_dir`` the run folder is written there: ``config.json`` first (before the
    first epoch), checkpoints (unless ``checkpoint=False``), the other files at the end, with
    ``report=True`` also its figures and ``index.html`` for a classification set (see
    :func:`lingrad.report.write_run_report`). The weights along the way (at most
    :data:`TRAJECTORY_POINTS`) go into ``model.npz``, a resumed run's included. The config
    saved is ``config`` with the batch size resolved (all training examples for gd and the
    searches).
    """
    from lingrad.train import fit
    from lingrad.train.faults import fault_point

    data, (X_train, X_val, X_test), objective, optimizer, kwargs = build(config)
    sparse = is_sparse(X_train)
    config = {
        **config,
        "batch_size": kwargs["batch_size"],
        "n_features": data.n_features,
        "class_names": list(data.class_names),
        "standardize": not sparse,  # sparse: the scale is folded into the saved weights
        "zero_based": _index_base(config),
    }
    if run_dir is not None:
        runs.write_json(Path(run_dir) / runs.CONFIG, config)  # atomic: a crash keeps the old
        fault_point("config")
        kwargs["trajectory_every"] = max(1, -(-config["epochs"] // TRAJECTORY_POINTS))
        if resume is None:
            # The same draws fit() would make from the same rng.
            kwargs["W0"] = init_weights(
                objective.n_features, kwargs["n_columns"], rng=kwargs["rng"], dtype=X_train.dtype
            )
    start = time.perf_counter()
    result = fit(
        objective,
        optimizer,
        checkpoint_dir=run_dir if checkpoint else None,
        resume=resume,
        verbose=verbose,
        evaluate_every=1,  # the report's curves: J(W) and the accuracy after every epoch
        **kwargs,
    )
    W = result.W
    trajectory = result.trajectory
    saved_W, saved_trajectory = W, trajectory
    if sparse:  # the saved model takes raw features
        scale = column_scale(data.X_train)
        saved_W = fold_scale(W, scale)
        saved_trajectory = None if trajectory is None else fold_scale(trajectory, scale)
    metrics = metrics_of(
        result,
        data,
        (X_train, X_val, X_test),
        loss=objective.value(W),
        start=start,
        first_loss=result.history["loss"][0] if result.history["loss"] else None,
        n_epochs=result.n_epochs,
        n_evaluations=result.n_evaluations,
        best_epoch=result.best_epoch,
        stopped=None if result.stop is None else result.stop.message,
        stop_reason=None if result.stop is None else result.stop.reason.value,
        diagnostics=result.diagnostics,
        batch_size=kwargs["batch_size"],
    )
    if run_dir is not None:
        fault_point("finish")
        runs.save_run(
            run_dir,
            config=config,
            metrics=metrics,
            history=result.history,
            W=saved_W,
            trajectory=saved_trajectory,
        )
        if report and data.task == "classification" and not sparse:  # figures: dense classes
            from lingrad.report import write_run_report

            scaler = datasets.Standardizer().fit(data.X_train)  # templates in pixel space
            write_run_report(
                run_dir,
                mean=scaler.mean,
                std=scaler.scale,
                W=W,
                X=X_val,
                y=data.y_val,
                class_names=data.class_names,
                image_shape=data.image_shape,
                history=result.history,
                config=config,
                metrics=metrics,
                objective=objective,
                trajectory=trajectory,
                images=data.X_val,
            )
    return result, metrics


#: the lock file of a run folder being trained (see :func:`run_lock`)
LOCK = ".lock"


@contextlib.contextmanager
def run_lock(run_dir: str | Path) -> Iterator[Path]:
    """Hold the lock of the run folder ``run_dir`` (``run_dir/.lock``, an exclusive
    ``fcntl.flock``) while the block runs; a second process is refused with a ``ValueError``
    naming the holder's pid. The kernel releases the lock when its process dies, so a crashed
    run leaves no stale lock; the file is removed on a normal exit. (Without ``fcntl``, on
    Windows, nothing is locked.)

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     with run_lock(tmp) as lock:
        ...         held = lock.is_file()
        ...         try:
        ...             with run_lock(tmp):
        ...                 pass
        ...         except ValueError as e:
        ...             refused = "locked by process" in str(e)
        ...     held, refused, lock.exists()
        (True, True, False)
    """
    path = Path(run_dir) / LOCK
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield path
        return
    for _ in range(10):  # retried only if the holder removed the file between open and lock
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
            os.close(fd)
            fail(
                str(run_dir),
                "a run folder that no other lingrad process is training",
                f"one locked by process {holder} ({path})",
            )
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    else:  # pragma: no cover - ten lost races in a row
        fail(str(run_dir), "a run folder whose lock can be taken", f"{path} changing")
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        os.close(fd)  # releases the flock


def remove_temp_files(run_dir: str | Path) -> list[Path]:
    """Remove the temporary files that a process killed mid-write left in ``run_dir`` (the
    ``.NAME.*.tmp`` files of :func:`lingrad.runs.atomic_write`); call it holding
    :func:`run_lock`. Returns the files removed.

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     _ = (Path(tmp) / ".checkpoint.npz.x1y2.tmp").write_bytes(b"half")
        ...     [p.name for p in remove_temp_files(tmp)], sorted(os.listdir(tmp))
        (['.checkpoint.npz.x1y2.tmp'], [])
    """
    removed = []
    for path in sorted(Path(run_dir).glob(".*.tmp")):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed.append(path)
    return removed


def finished_epochs(
    run_dir: str | Path, config: dict[str, Any], *, extending: bool = False
) -> int | None:
    """The epochs trained by the run in ``run_dir`` if it finished the training that
    ``config`` asks for (its ``metrics.json`` shows all ``config["epochs"]`` epochs, or, unless
    ``extending``, a stop: early stopping, divergence, a budget), else ``None`` (a run to
    resume).

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     before = finished_epochs(tmp, {"epochs": 4})
        ...     _ = runs.write_json(Path(tmp) / runs.METRICS, {"n_epochs": 4, "stop_reason": None})
        ...     before, finished_epochs(tmp, {"epochs": 4}), finished_epochs(tmp, {"epochs": 8})
        (None, 4, None)
    """
    path = Path(run_dir) / runs.METRICS
    if not path.is_file():
        return None
    metrics = runs.read_json(path)
    done = int(metrics.get("n_epochs", 0))
    if done >= config["epochs"] or (metrics.get("stop_reason") and not extending):
        return done
    return None


def _resume_config(args: argparse.Namespace, run_dir: Path) -> dict[str, Any]:
    """The config of ``--resume RUN_DIR``; ``--epochs`` may extend the run, never shorten it."""
    config = resolve(runs.read_json(run_dir / runs.CONFIG))
    if args.epochs is not None:
        epochs = check_int("epochs", args.epochs)
        if epochs < config["epochs"]:
            fail(
                "--epochs",
                f"at least the {config['epochs']} epochs of {run_dir / runs.CONFIG} "
                "(--resume can extend a run, not shorten it)",
                epochs,
            )
        config["epochs"] = epochs
    return config


def run(args: argparse.Namespace) -> int:
    """Run ``lingrad train`` with the parsed ``args``; return the exit status: 0, or 1 when
    the training diverged (the message says so, the last good weights are saved).

    Bad input raises ``ValueError``/``TypeError``, which :func:`lingrad.cli.main` turns into
    ``lingrad: error: ...`` and exit status 2; so does a run folder that another process is
    training (:func:`run_lock`).
    """
    from lingrad.train import StopReason

    if args.dask is not None:
        return run_on_dask(args)
    if args.resume is not None and args.config is not None:
        fail("--resume", "either --resume or --config", "both")
    lock: contextlib.ExitStack = contextlib.ExitStack()
    resume: Path | None
    if args.resume is not None:
        run_dir = Path(args.resume)
        config = _resume_config(args, run_dir)
        lock.enter_context(run_lock(run_dir))
        done = finished_epochs(run_dir, config, extending=args.epochs is not None)
        if done is not None:
            lock.close()
            print(
                f"lingrad: the run in {run_dir} already finished ({done} of its "
                f"{config['epochs']} epochs); nothing to train: --epochs N with N > "
                f"{config['epochs']} extends it",
                file=sys.stderr,
            )
            return 0
        remove_temp_files(run_dir)  # left by a process killed mid-write
        # no checkpoint yet (killed before the first): start again, the same run
        resume = run_dir / runs.CHECKPOINT if (run_dir / runs.CHECKPOINT).is_file() else None
    else:
        base = None if args.config is None else runs.read_json(args.config)
        config = config_from_args(args, base)
        resume = None
        build(config)  # every error before a run folder is made
        run_dir = runs.new_run_dir(args.runs_dir, args.name)
        lock.enter_context(run_lock(run_dir))
    with lock:
        result, metrics = train_from_config(
            config,
            run_dir=run_dir,
            resume=resume,
            verbose=0 if args.quiet else 1,
            report=not args.no_report,
        )
    _print_summary(config, result, metrics, run_dir, report=not args.no_report)
    return 1 if result.stop is not None and result.stop.reason is StopReason.DIVERGED else 0


def _print_summary(
    config: dict[str, Any],
    result: FitResult,
    metrics: dict[str, Any],
    run_dir: Path,
    *,
    report: bool,
) -> None:
    data = data_of(config)[0]
    history = result.history
    what = "a real target" if data.task == "regression" else f"{data.n_classes} classes"
    print(
        f"{config['dataset']}: {data.X_train.shape[0]} train / {data.X_val.shape[0]} validation "
        f"/ {data.X_test.shape[0]} test examples, {data.n_features} features, {what}"
    )
    steps = "iterations" if config["learning_rate"] is None else "epochs"
    print(
        f"{losses.spec(config['loss']).name} + {config['regularizer']} (lam={config['lam']:g}), "
        f"{optimizer_text(config)} batch={metrics['batch_size']}, {result.n_epochs} "
        f"{steps[:-1] if result.n_epochs == 1 else steps}, "
        f"{result.n_evaluations} evaluations: "
        f"loss {history['loss'][0]:.4f} -> {history['loss'][-1]:.4f}"
    )
    if result.stop is not None:
        print(f"stopped: {result.stop.message}")
    for advice in result.diagnostics["advice"]:
        print(f"diagnosis: {advice}")
    print(f"run folder: {run_dir}")
    if report and is_sparse(data.X_train):
        print("report: none (sparse data: the figures need dense examples, not made from it)")
    elif report and data.task == "classification":
        print(f"report: {Path(run_dir) / 'index.html'}")
    elif report:
        print("report: none (the figures show classes; a regression run has none)")
    print_scores(metrics)


def optimizer_text(config: dict[str, Any]) -> str:
    """The optimiser of a resolved ``config`` as the summary prints it.

    Examples:
        >>> optimizer_text({"optimizer": "lbfgs", "learning_rate": None})
        'lbfgs'
        >>> optimizer_text({"optimizer": "sgd", "learning_rate": 0.1, "schedule": "step",
        ...                 "decay": 0.5})
        'sgd learning_rate=0.1 (step 0.5)'
    """
    if config["learning_rate"] is None:
        return str(config["optimizer"])
    decay = "" if config["decay"] is None else f" {config['decay']:g}"
    return (
        f"{config['optimizer']} learning_rate={config['learning_rate']:g} "
        f"({config['schedule']}{decay})"
    )


def print_scores(metrics: dict[str, Any]) -> None:
    """Print the train / validation / test accuracy (or R^2) lines of ``metrics``, test last.

    Examples:
        >>> print_scores({"train_r2": 0.5, "val_r2": 0.25, "test_r2": 0.125})
        train R^2: 0.5000
        validation R^2: 0.2500
        test R^2: 0.1250
    """
    key, label = ("r2", "R^2") if "test_r2" in metrics else ("accuracy", "accuracy")
    for split, name in (("train", "train"), ("val", "validation"), ("test", "test")):
        print(f"{name} {label}: {metrics[f'{split}_{key}']:.4f}")


# ------------------------------------------------------------------------------------------
# --dask: the same training on a Dask cluster (lingrad.distributed)
# ------------------------------------------------------------------------------------------


def _dask_config(args: argparse.Namespace) -> dict[str, Any]:
    """The config of ``--dask``, refusing the options it does not support."""
    base = dict(DEFAULTS) if args.config is None else runs.read_json(args.config)
    if base.get("optimizer", "auto") == "auto":  # Dask runs no solver yet: its default is SGD
        base["optimizer"] = "sgd"
    config = config_from_args(args, base)
    unsupported = {
        "--resume": args.resume is not None,
        "--early-stopping": config["early_stopping"],
        "--class-weight": config["class_weight"] is not None,
        "--gradient": config["gradient"] != "analytic",
        "--max-evaluations": config["max_evaluations"] is not None,
    }
    for flag, given in unsupported.items():
        if given:
            fail(flag, "an option that --dask supports", f"{flag} with --dask")
    return config


def run_on_dask(args: argparse.Namespace) -> int:
    """Train the config on a Dask cluster: full-batch ``gd`` steps on the client, the
    mini-batch optimisers as SGD moved to the data; the run folder has no checkpoint or report.
    """
    import dask.array as da

    import lingrad.distributed as ld

    config = _dask_config(args)
    if is_sparse(data_of(config)[0].X_train):
        fail("--dask", "dense data (sparse data train in memory: leave out --dask)", "sparse X")
    data, splits, _, optimizer, kwargs = build(config)
    if optimizer.reads != "gradient":
        fail("--optimizer", "a gradient optimiser with --dask", repr(config["optimizer"]))
    run_dir = runs.new_run_dir(args.runs_dir, args.name)
    client = ld.connect(args.dask)
    try:
        link = ld.dashboard(client)
        workers = len(ld.workers(client))
        print(
            f"dask: {workers} workers at {client.scheduler_info()['address']}"
            + (f", dashboard {link}" if link else "")
        )
        X = da.from_array(splits[0], chunks=(ld.CHUNK_ROWS, -1))
        T, n_columns = targets(config, data, data.y_train)
        J = ld.DaskObjective(
            config["loss"],
            X,
            T,
            regularizer=config["regularizer"],
            lam=config["lam"],
            client=client,
        )
        W0 = init_weights(J.n_features, n_columns, rng=kwargs["rng"], dtype=J.dtype)
        start = time.perf_counter()
        runner = ld.runner_for(J, optimizer, batch_size=kwargs["batch_size"])
        result = ld.train(
            J,
            optimizer,
            W0,
            runner,
            epochs=config["epochs"],
            rng=kwargs["rng"],
            progress=not args.quiet,
        )
        full_batch = isinstance(runner, ld.ClientDescent)
        # full batch: the last pass was at the final W already; SGD's losses are mini-batch means
        loss = result.history["loss"][-1] if full_batch else J.value(result.W)
        metrics = metrics_of(
            result,
            data,
            splits,
            loss=loss,
            start=start,
            passes=J.n_passes,
            batch_size=kwargs["batch_size"],
            dask=args.dask,
            workers=workers,
        )
    finally:
        client.close()
    W = result.W
    runs.save_run(run_dir, config=config, metrics=metrics, history=result.history, W=W)
    epoch_losses = result.history["loss"]
    epochs = f"{result.n_epochs} epoch{'' if result.n_epochs == 1 else 's'}"
    steps = f"{result.n_iter} iterations" if full_batch else epochs
    print(
        f"{config['dataset']}: {losses.spec(config['loss']).name} + {config['regularizer']} "
        f"(lam={config['lam']:g}), {optimizer_text(config)}, {steps} on Dask: "
        f"loss {epoch_losses[0]:.4f} -> {metrics['loss']:.4f}"
    )
    print(f"run folder: {run_dir}")
    print_scores(metrics)
    return 0
