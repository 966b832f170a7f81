"""``lingrad plot RUN_DIR``: redraw a run's figures and its ``index.html`` from its files.

The dataset named in ``config.json`` is loaded again with the run's seed (so the splits are
the run's), standardised with statistics fitted on the training split as ``lingrad train``
does, and the figures are drawn from ``model.npz``'s weights.
"""

from __future__ import annotations

import argparse
import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from lingrad import datasets, losses
from lingrad._validation import fail
from lingrad.cli.common import SubParsers, add_command, reading

if TYPE_CHECKING:  # Matplotlib (the report) and the objective are imported on use
    from lingrad import report
    from lingrad.objective import Objective

SPLITS = ("train", "val", "test")
SPLIT_NAMES = {"train": "training", "val": "validation", "test": "test"}


def register(sub: SubParsers) -> None:
    """Add the ``plot`` command to ``sub``; its ``func`` default is :func:`run`."""
    p = add_command(sub, "plot", description=__doc__)
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run folder written by `lingrad train`")
    p.add_argument("--split", default="val", choices=SPLITS, help="the examples shown")
    p.add_argument(
        "--format",
        dest="formats",
        nargs="+",
        default=["png"],
        choices=["png", "svg", "pdf"],
        help="file formats of each figure (PNG is always written; SVG or PDF on request)",
    )
    p.add_argument("--examples", type=int, default=6, help="examples in the scores table")
    p.add_argument(
        "--landscape-rows",
        type=int,
        default=2000,
        help="training examples the loss landscape is computed on (0: no landscape)",
    )
    p.set_defaults(func=run)


@dataclass
class RunData:
    """A run read back with its data: the standardised splits as the run saw them."""

    run: report.Run
    data: datasets.Dataset
    X: dict[str, np.ndarray]  # split -> standardised X
    y: dict[str, np.ndarray]


def load_run_data(run_dir: str | Path) -> RunData:
    """Read a run folder and reload its dataset with the run's seed and preprocessing."""
    from lingrad import report

    with reading(Path(run_dir) / report.MODEL):  # config.json's damage is named by read_run
        run = report.read_run(run_dir)
    config = run.config
    name = config.get("dataset")
    if not isinstance(name, str):
        fail(f"{run.path / report.CONFIG}", 'a "dataset" entry naming the data', repr(name))
    accepted = inspect.signature(datasets.load).parameters
    extra = {
        k: config[k]
        for k in ("validation", "test", "dtype", "data_dir")
        if k in config and k in accepted and config[k] is not None
    }
    with reading(name):
        data = datasets.load(name, seed=int(config.get("seed", 0) or 0), **extra)
    X = {"train": data.X_train, "val": data.X_val, "test": data.X_test}
    if config.get("standardize", True):
        scaler = datasets.Standardizer().fit(data.X_train)
        X = {k: scaler.transform(v) for k, v in X.items()}
    y = {"train": data.y_train, "val": data.y_val, "test": data.y_test}
    D = data.n_features
    for key, value in (("W", run.W), ("trajectory", run.trajectory)):
        if value is not None and (
            not isinstance(value, np.ndarray) or value.dtype.kind not in "fiu"
        ):
            fail(f"{run.path / report.MODEL}", f"a numeric array {key!r}", type(value).__name__)
    if run.W.ndim != 2 or run.W.shape[0] != D + 1:
        fail(
            f"{run.path / report.MODEL}",
            f"W of shape ({D + 1}, C) for the {D} features of {name!r}",
            f"shape {run.W.shape}",
        )
    return RunData(run, data, X, y)


def training_objective(rd: RunData, rows: int) -> Objective | None:
    """The run's training objective (loss, regulariser, lambda of config.json) on the first
    ``rows`` training examples, or ``None`` when ``rows == 0`` or the run names no loss on
    integer labels."""
    from lingrad import report
    from lingrad.objective import Objective

    config = rd.run.config
    loss = config.get("loss")
    if rows <= 0 or not isinstance(loss, str):
        return None
    try:
        name = losses.canonical_name(loss)
    except ValueError:
        return None
    if report.label_loss(config, rd.run.W.shape[1]) != name:
        return None  # a loss not on integer labels (regression, KL): no landscape of it
    return Objective(
        config["loss"],
        rd.X["train"][:rows],
        rd.y["train"][:rows],
        regularizer=config.get("regularizer", "l2"),
        lam=float(config.get("lam", 0.0) or 0.0),
    )


def run(args: argparse.Namespace) -> int:
    """Run ``lingrad plot`` with the parsed ``args``; return the exit status (0).

    Bad input raises ``ValueError``/``TypeError``, which :func:`lingrad.cli.main` turns into
    ``lingrad: error: ...`` and exit status 2.
    """
    from lingrad import report

    if args.examples < 1:
        fail("--examples", "an integer >= 1", args.examples)
    rd = load_run_data(args.run_dir)
    split = args.split
    raw = {"train": rd.data.X_train, "val": rd.data.X_val, "test": rd.data.X_test}[split]
    index = report.write_run_report(
        rd.run.path,
        W=rd.run.W,
        X=rd.X[split],
        y=rd.y[split],
        class_names=rd.data.class_names,
        image_shape=rd.data.image_shape,
        history=rd.run.history,
        config=rd.run.config,
        metrics=rd.run.metrics,
        objective=training_objective(rd, args.landscape_rows),
        trajectory=rd.run.trajectory,
        images=raw,
        split=SPLIT_NAMES[split],
        formats=args.formats,
        examples=args.examples,
    )
    print(f"wrote {index}")
    return 0
