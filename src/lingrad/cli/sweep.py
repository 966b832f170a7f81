"""``lingrad sweep``: a learning rate x regularisation search on the validation split.

As in the CS231n assignment: train one model per ``(learning_rate, lam)`` pair, on a grid or
drawn at random, both in log space; rank the pairs by validation accuracy; keep the best model.
Trials run in parallel processes (``--jobs``), each limited to one BLAS thread
(``threadpoolctl``): on small problems one thread per process beats two threads fighting over
two cores. Each finished trial prints one progress line to stderr (``-q``: none); on a
terminal the line is rewritten in place.

The best trial's folder (``RUNS_DIR/NAME/``) holds the usual ``config.json`` (rerun it with
``lingrad train --config``), ``metrics.json``, ``history.json`` and ``model.npz``, plus
``sweep.json`` with every trial, ranked. Exit status: 0, 1 when every trial diverged (then
no run folder is saved), 2 bad input.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TextIO

import numpy as np

from lingrad import optim, runs
from lingrad._validation import check_int, check_positive, fail
from lingrad.cli.common import SubParsers, add_command
from lingrad.cli.train import (
    add_config_arguments,
    build,
    config_from_args,
    load_data,
    resolve,
    targets,
    train_from_config,
)

#: ``metrics["stop_reason"]`` of a diverged trial (``lingrad.train.StopReason.DIVERGED``; the
#: trainer is imported only when a sweep runs)
DIVERGED = "diverged"


def register(sub: SubParsers) -> None:
    """Add the ``sweep`` command to ``sub``; its ``func`` default is :func:`run`."""
    p = add_command(
        sub,
        "sweep",
        "search learning rate x regularisation on the validation split",
        "Train one model per (learning rate, lam) pair, rank them by validation accuracy (R^2 "
        "for regression), save the best in RUNS_DIR/NAME/. One progress line per trial goes "
        "to stderr. Exit status: 0, 1 when every trial diverged (nothing saved), 2 bad input.",
    )
    add_config_arguments(p, sweep=True)
    p.add_argument(
        "--learning-rate-range",
        nargs=2,
        type=float,
        default=(1e-3, 1.0),
        metavar=("LOW", "HIGH"),
        help="the learning rates tried, spread in log space between LOW and HIGH",
    )
    p.add_argument(
        "--lam-range",
        nargs=2,
        type=float,
        default=(1e-6, 1e-1),
        metavar=("LOW", "HIGH"),
        help="the regularisation strengths tried, spread in log space (LOW > 0)",
    )
    p.add_argument(
        "--search",
        choices=("grid", "random"),
        default="grid",
        help="grid: every pair of an even log-spaced grid; random: pairs drawn log-uniformly",
    )
    p.add_argument(
        "--trials",
        type=int,
        default=9,
        help="pairs to try (a grid has round(sqrt(TRIALS)) values of each)",
    )
    p.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="parallel processes (default: the cores, if the trials are long enough to "
        "pay for starting processes, else 1)",
    )
    p.add_argument(
        "--cv",
        type=int,
        default=None,
        metavar="K",
        help="instead: cross-validate the regularisation path on K folds of the training split "
        "(LinearClassifierCV, LinearRegressorCV for regression): TRIALS lambdas log-spaced over "
        "--lam-range, fitted from the strongest to the weakest with warm starts by the exact "
        "solver (auto, or --optimizer when it names a solver); prints the CV curve and saves "
        "the model refitted at the chosen lambda",
    )
    p.set_defaults(func=run)


def _log_range(name: str, pair: Sequence[float]) -> tuple[float, float]:
    low, high = (check_positive(name, v) for v in pair)
    if low > high:
        fail(name, "LOW <= HIGH", f"{low:g} > {high:g}")
    return math.log10(low), math.log10(high)


def candidates(
    learning_rate_range: Sequence[float],
    lam_range: Sequence[float],
    *,
    search: str,
    trials: int,
    rng: np.random.Generator | None = None,
) -> list[tuple[float, float]]:
    """``(lr, lam)`` pairs spread evenly in log space (``grid``) or drawn log-uniformly.

    A grid has ``k x k`` pairs with ``k = round(sqrt(trials))`` (at least 1); ``lam`` may be 0
    only at the low end of a grid (``--lam-range 0 HIGH`` is not accepted: log space).

    Examples:
        >>> candidates((0.01, 1), (1e-4, 1e-2), search="grid", trials=4)
        [(0.01, 0.0001), (0.01, 0.01), (1.0, 0.0001), (1.0, 0.01)]
    """
    trials = check_int("--trials", trials)
    lr_lo, lr_hi = _log_range("--learning-rate-range", learning_rate_range)
    lam_lo, lam_hi = _log_range("--lam-range", lam_range)
    if search == "grid":
        k = max(1, round(math.sqrt(trials)))
        lrs = np.logspace(lr_lo, lr_hi, k) if k > 1 else [10**lr_lo]
        lams = np.logspace(lam_lo, lam_hi, k) if k > 1 else [10**lam_lo]
        return [(float(a), float(b)) for a in lrs for b in lams]
    if search == "random":
        rng = np.random.default_rng(0) if rng is None else rng
        return [
            (float(10 ** rng.uniform(lr_lo, lr_hi)), float(10 ** rng.uniform(lam_lo, lam_hi)))
            for _ in range(trials)
        ]
    fail("--search", "'grid' or 'random'", repr(search))


#: seconds it takes to start the worker processes (a fork server importing NumPy and
#: scikit-learn once); the pool is used only when the time it saves exceeds this
STARTUP_SECONDS = 2.0


def progress_line(done: int, total: int, result: dict[str, Any]) -> str:
    """One trial's progress line: its number, learning rate, lam and validation score.

    Examples:
        >>> r = {"config": {"learning_rate": 0.1, "lam": 1e-4},
        ...      "metrics": {"val_accuracy": 0.95, "seconds": 1.25, "stop_reason": None}}
        >>> progress_line(2, 9, r)
        'sweep: trial 2/9 learning_rate=0.1 lam=0.0001: validation accuracy 0.9500 (1.2 s)'
    """
    c, m = result["config"], result["metrics"]
    label, key = score_key(m)
    text = (
        f"sweep: trial {done}/{total} learning_rate={c['learning_rate']:.4g} lam={c['lam']:.4g}: "
        f"validation {label} {m[key]:.4f} ({m['seconds']:.1f} s)"
    )
    return text + (" diverged" if m.get("stop_reason") == DIVERGED else "")


class Progress:
    """Prints :func:`progress_line` for each finished trial to ``out`` (stderr): a plain line
    each when ``out`` is not a terminal (logs, Jupyter), one line rewritten in place on a
    terminal; nothing when ``quiet``.

    Examples:
        >>> import io
        >>> out = io.StringIO()
        >>> progress = Progress(2, out=out)
        >>> r = {"config": {"learning_rate": 1.0, "lam": 0.0},
        ...      "metrics": {"val_accuracy": 0.5, "seconds": 0.0}}
        >>> progress(r); progress(r)
        >>> out.getvalue().splitlines()[-1]
        'sweep: trial 2/2 learning_rate=1 lam=0: validation accuracy 0.5000 (0.0 s)'
    """

    def __init__(self, total: int, *, out: TextIO | None = None, quiet: bool = False):
        self.total, self.done, self.quiet = total, 0, quiet
        self.out = sys.stderr if out is None else out
        self.terminal = self.out.isatty()

    def __call__(self, result: dict[str, Any]) -> None:
        """Report one more finished trial."""
        self.done += 1
        if self.quiet:
            return
        line = progress_line(self.done, self.total, result)
        if self.terminal:
            end = "\n" if self.done == self.total else ""
            print(f"\r\033[K{line}", end=end, file=self.out, flush=True)
        else:
            print(line, file=self.out, flush=True)


def _run_trials(
    configs: list[dict], jobs: int | None, progress: Progress
) -> tuple[list[dict], int]:
    """Train every config, in parallel processes where it helps, calling ``progress`` with each
    result; return the results and the number of processes used.

    ``jobs=None`` (automatic): run the first trial here, and use ``min(cores, trials)``
    processes for the rest only if, at that trial's speed, they save more than
    :data:`STARTUP_SECONDS`. An explicit ``jobs > 1`` always uses a pool of that size.
    """
    if jobs is not None:
        jobs = check_int("--jobs", jobs)
        results = []
    else:
        jobs = len(os.sched_getaffinity(0))
        start = time.perf_counter()
        results = [trial(configs[0])]
        progress(results[0])
        rest = len(configs) - 1
        saved = (time.perf_counter() - start) * rest * (1 - 1 / min(jobs, max(rest, 1)))
        if saved < STARTUP_SECONDS:
            jobs = 1
    todo = configs[len(results) :]
    jobs = min(jobs, len(todo))
    if jobs <= 1:
        for c in todo:
            results.append(trial(c))
            progress(results[-1])
        return results, 1
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["lingrad.cli.sweep", "lingrad.train"])
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_one_thread) as pool:
        for result in pool.map(trial, todo):
            results.append(result)
            progress(result)
    return results, jobs


def _one_thread() -> None:
    """Pool initializer: one BLAS thread per worker process."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


def trial(config: dict) -> dict:
    """Train one config (no run folder); return its config, metrics, history and weights."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        result, metrics = train_from_config(config)
    return {
        "config": {**config, "batch_size": metrics["batch_size"]},  # resolved, as train saves
        "metrics": metrics,
        "history": result.history,
        "W": result.W,
    }


def score_key(metrics: dict[str, Any]) -> tuple[str, str]:
    """``(name, metrics key)`` of the validation score trials are ranked by: accuracy, or R^2
    for a regression run.

    Examples:
        >>> score_key({"val_r2": 0.4}), score_key({"val_accuracy": 0.9})
        (('R^2', 'val_r2'), ('accuracy', 'val_accuracy'))
    """
    return ("R^2", "val_r2") if "val_r2" in metrics else ("accuracy", "val_accuracy")


def rank(results: list[dict]) -> list[dict]:
    """Best first: trials that did not diverge before those that did, then the highest
    validation accuracy (R^2 for regression), ties to the lower final training loss.

    Examples:
        >>> trial = lambda acc, stop: {"metrics": {"val_accuracy": acc, "loss": 0.5,
        ...                                        "stop_reason": stop}}
        >>> best = rank([trial(0.9, "diverged"), trial(0.8, None)])[0]
        >>> best["metrics"]["val_accuracy"]
        0.8
    """

    def key(r):
        m = r["metrics"]
        loss = m["loss"] if m["loss"] is not None and math.isfinite(m["loss"]) else math.inf
        diverged = m.get("stop_reason") == DIVERGED
        score = m[score_key(m)[1]]
        return (diverged, -score if math.isfinite(score) else math.inf, loss)

    return sorted(results, key=key)


def _table(ranked: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    label, val_key = score_key(ranked[0]["metrics"])
    short = "acc" if label == "accuracy" else label
    table = Table(title=f"sweep: ranked by validation {label}")
    for col in (
        "rank",
        "learning rate",
        "lam",
        f"train {short}",
        f"val {short}",
        "loss",
        "epochs",
        "stopped",
    ):
        table.add_column(col, justify="left" if col == "stopped" else "right")
    for i, r in enumerate(ranked, 1):
        c, m = r["config"], r["metrics"]
        table.add_row(
            str(i),
            f"{c['learning_rate']:.3g}",
            f"{c['lam']:.3g}",
            f"{m[val_key.replace('val_', 'train_')]:.4f}",
            f"{m[val_key]:.4f}",
            f"{m['loss']:.4f}",
            str(m["n_epochs"]),
            (m["stopped"] or "")[:30],
        )
    Console(width=110).print(table)


def cv_curve(model: Any) -> list[dict[str, float]]:
    """The CV curve of a fitted ``LinearClassifierCV`` / ``LinearRegressorCV``: per lambda
    (strongest first) the mean and standard deviation over the folds of the held-out score
    (``scores_`` ``(K, L)``) and the mean solver iterations.

    Examples:
        >>> from types import SimpleNamespace
        >>> m = SimpleNamespace(lams_=np.array([1.0, 0.1]), n_iter_=np.array([[3, 1], [5, 1]]),
        ...                     scores_=np.array([[0.5, 0.9], [0.7, 0.9]]))
        >>> [(r["lam"], round(r["mean"], 3), round(r["std"], 3)) for r in cv_curve(m)]
        [(1.0, 0.6, 0.1), (0.1, 0.9, 0.0)]
    """
    return [
        {"lam": float(lam), "mean": float(col.mean()), "std": float(col.std()), "n_iter": float(it)}
        for lam, col, it in zip(
            model.lams_, model.scores_.T, model.n_iter_.mean(axis=0), strict=True
        )
    ]


def _cv_config(args: argparse.Namespace) -> dict[str, Any]:
    """The config of a ``--cv`` sweep: the options given, with the exact solver (``auto``)
    unless ``--optimizer`` names a solver, and no learning rate."""
    base = config_from_args(args)
    solver = optim.entry(base["optimizer"]).rate_param is None
    rate_free = {"learning_rate": None, "schedule": None, "decay": None, "epochs": args.epochs}
    keep = {k: v for k, v in base.items() if k not in ("lingrad", "standardize")}
    return resolve({**keep, **rate_free, "optimizer": base["optimizer"] if solver else "auto"})


def run_cv(args: argparse.Namespace) -> int:
    """``lingrad sweep --cv K``: the cross-validated regularisation path (see ``--help``);
    prints the curve and the chosen lambda, saves the refitted model with ``cv.json``."""
    from lingrad.model_selection import LinearClassifierCV, LinearRegressorCV

    folds = check_int("--cv", args.cv, minimum=2)
    low, high = _log_range("--lam-range", args.lam_range)
    lams = np.logspace(high, low, check_int("--trials", args.trials))
    config = _cv_config(args)
    data, (X_train, X_val, X_test) = load_data(
        config["dataset"], config["seed"], config["data_dir"]
    )
    targets(config, data, data.y_train)  # refuses a loss that does not suit the dataset
    kind = LinearRegressorCV if data.task == "regression" else LinearClassifierCV
    extra = {} if kind is LinearRegressorCV else {"class_weight": config["class_weight"]}
    model = kind(
        loss=config["loss"], lams=lams, cv=folds, regularizer=config["regularizer"],
        optimizer=config["optimizer"], max_iter=config["epochs"],
        random_state=config["seed"], **extra,
    )  # fmt: skip
    start = time.perf_counter()
    model.fit(X_train, data.y_train)
    seconds = time.perf_counter() - start
    curve = cv_curve(model)
    label = "R^2" if kind is LinearRegressorCV else "accuracy"
    print(f"sweep --cv {folds}: held-out {label} along the path (strongest lambda first)")
    for row in curve:
        mark = "  <- chosen" if row["lam"] == model.lam_ else ""
        print(
            f"  lam {row['lam']:<10.3g} {label} {row['mean']:.4f} +- {row['std']:.4f}  "
            f"iterations {row['n_iter']:.1f}{mark}"
        )
    key = "r2" if kind is LinearRegressorCV else "accuracy"
    metrics = {
        f"val_{key}": float(model.score(X_val, data.y_val)),
        f"test_{key}": float(model.score(X_test, data.y_test)),
        f"train_{key}": float(model.score(X_train, data.y_train)),
        "lam": model.lam_, "cv": folds, "seconds": seconds,
    }  # fmt: skip
    run_dir = runs.new_run_dir(args.runs_dir, args.name)
    history = {"loss": list(model.loss_curve_)}
    runs.save_run(run_dir, config={**config, "lam": model.lam_}, metrics=metrics, history=history,
                  W=model.W_)  # fmt: skip
    runs.write_json(run_dir / "cv.json", {"cv": folds, "label": label, "curve": curve})
    print(f"best: lam={model.lam_:.4g} (saved in {run_dir}); {seconds:.2f} s")
    print(f"best validation {label}: {metrics[f'val_{key}']:.4f}")
    print(f"best test {label}: {metrics[f'test_{key}']:.4f}")
    return 0


def run(args: argparse.Namespace) -> int:
    """Run ``lingrad sweep`` with the parsed ``args``; return the exit status: 0, or 1 when
    every trial diverged (no "best" run is saved then). ``--cv K``: :func:`run_cv`.

    Bad input raises ``ValueError``/``TypeError``, which :func:`lingrad.cli.main` turns into
    ``lingrad: error: ...`` and exit status 2.
    """
    if args.cv is not None:
        return run_cv(args)
    base = config_from_args(args)
    pairs = candidates(
        args.learning_rate_range,
        args.lam_range,
        search=args.search,
        trials=args.trials,
        rng=np.random.default_rng(base["seed"]),
    )
    configs = [{**base, "learning_rate": lr, "lam": lam} for lr, lam in pairs]
    build(configs[0])  # every error before any process starts
    results, jobs = _run_trials(configs, args.jobs, Progress(len(configs), quiet=args.quiet))
    ranked = rank(results)
    _table(ranked)
    if all(r["metrics"]["stop_reason"] == DIVERGED for r in ranked):
        print(
            f"lingrad: every trial diverged ({len(ranked)} of {len(ranked)}); no run saved: "
            "try lower learning rates (--learning-rate-range)",
            file=sys.stderr,
        )
        return 1
    best = ranked[0]
    run_dir = runs.new_run_dir(args.runs_dir, args.name)
    runs.save_run(
        run_dir,
        config=best["config"],
        metrics=best["metrics"],
        history=best["history"],
        W=best["W"],
    )
    runs.write_json(
        run_dir / "sweep.json",
        {
            "search": args.search,
            "learning_rate_range": list(args.learning_rate_range),
            "lam_range": list(args.lam_range),
            "jobs": jobs,
            "trials": [{"config": r["config"], "metrics": r["metrics"]} for r in ranked],
        },
    )
    c, m = best["config"], best["metrics"]
    label, key = score_key(m)
    print(f"best: learning_rate={c['learning_rate']:.4g} lam={c['lam']:.4g} (saved in {run_dir})")
    print(f"best validation {label}: {m[key]:.4f}")
    print(f"best test {label}: {m[key.replace('val_', 'test_')]:.4f}")
    return 0
