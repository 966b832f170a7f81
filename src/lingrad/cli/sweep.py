"""``lingrad sweep``: a learning rate x regularisation search on the validation split.

As in the CS231n assignment: train one model per ``(learning_rate, lam)`` pair, on a grid or
drawn at random, both in log space; rank the pairs by validation accuracy; keep the best model.
Trials run in parallel processes (``--jobs``), each limited to one BLAS thread
(``threadpoolctl``): on small problems one thread per process beats two threads fighting over
two cores.

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

import numpy as np

from lingrad import runs
from lingrad._validation import check_int, check_positive, fail
from lingrad.cli.common import SubParsers, add_command
from lingrad.cli.train import add_config_arguments, build, config_from_args, train_from_config
from lingrad.train import StopReason


def register(sub: SubParsers) -> None:
    """Add the ``sweep`` command to ``sub``; its ``func`` default is :func:`run`."""
    p = add_command(
        sub,
        "sweep",
        "search learning rate x regularisation on the validation split",
        "Train one model per (learning rate, lam) pair, rank them by validation accuracy, save "
        "the best in RUNS_DIR/NAME/. Exit status: 0, 1 when every trial diverged (nothing "
        "saved), 2 bad input.",
        show_defaults=False,
    )
    add_config_arguments(p, sweep=True)
    p.add_argument(
        "--learning-rate-range", nargs=2, type=float, default=(1e-3, 1.0), metavar=("LOW", "HIGH")
    )
    p.add_argument(
        "--lam-range", nargs=2, type=float, default=(1e-6, 1e-1), metavar=("LOW", "HIGH")
    )
    p.add_argument("--search", choices=("grid", "random"), default="grid")
    p.add_argument(
        "--trials", type=int, default=9, help="pairs to try (a grid of round(sqrt) x round(sqrt))"
    )
    p.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="parallel processes [automatic: the cores, if the trials are long enough to "
        "pay for starting processes]",
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


def _run_trials(configs: list[dict], jobs: int | None) -> tuple[list[dict], int]:
    """Train every config, in parallel processes where it helps; return the results and the
    number of processes used.

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
        rest = len(configs) - 1
        saved = (time.perf_counter() - start) * rest * (1 - 1 / min(jobs, max(rest, 1)))
        if saved < STARTUP_SECONDS:
            jobs = 1
    todo = configs[len(results) :]
    jobs = min(jobs, len(todo))
    if jobs <= 1:
        return results + [trial(c) for c in todo], 1
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["lingrad.cli.sweep", "sklearn.model_selection"])
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_one_thread) as pool:
        return results + list(pool.map(trial, todo)), jobs


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
        "config": config,
        "metrics": metrics,
        "history": result.history,
        "W": result.W,
    }


def rank(results: list[dict]) -> list[dict]:
    """Best first: trials that did not diverge before those that did, then the highest
    validation accuracy, ties to the lower final training loss.

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
        diverged = m.get("stop_reason") == StopReason.DIVERGED.value
        return (diverged, -m["val_accuracy"], loss)

    return sorted(results, key=key)


def _table(ranked: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="sweep: ranked by validation accuracy")
    for col in (
        "rank",
        "learning rate",
        "lam",
        "train acc",
        "val acc",
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
            f"{m['train_accuracy']:.4f}",
            f"{m['val_accuracy']:.4f}",
            f"{m['loss']:.4f}",
            str(m["n_epochs"]),
            (m["stopped"] or "")[:30],
        )
    Console(width=110).print(table)


def run(args: argparse.Namespace) -> int:
    """Run ``lingrad sweep`` with the parsed ``args``; return the exit status: 0, or 1 when
    every trial diverged (no "best" run is saved then).

    Bad input raises ``ValueError``/``TypeError``, which :func:`lingrad.cli.main` turns into
    ``lingrad: error: ...`` and exit status 2.
    """
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
    results, jobs = _run_trials(configs, args.jobs)
    ranked = rank(results)
    _table(ranked)
    if all(r["metrics"]["stop_reason"] == StopReason.DIVERGED.value for r in ranked):
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
    print(f"best: learning_rate={c['learning_rate']:.4g} lam={c['lam']:.4g} (saved in {run_dir})")
    print(f"best validation accuracy: {m['val_accuracy']:.4f}")
    print(f"best test accuracy: {m['test_accuracy']:.4f}")
    return 0
