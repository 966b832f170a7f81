"""``lingrad evaluate MODEL --dataset ...``: accuracy, per-class precision/recall, confusion.

The model file (see :mod:`lingrad.io`) carries its preprocessing; the dataset is loaded raw
and that preprocessing is applied before predicting. ``--dataset`` takes a shipped name or a
data file (:mod:`lingrad.datafiles`: ``.csv``, ``.npz``, ``.svm``/``.libsvm``/``.svmlight``);
a sparse file is read at the model's width and stays sparse, and a run folder's label column,
index base and class names are used for it. For a regression model the report is
R^2, the mean squared error and the mean absolute error.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from lingrad import datasets
from lingrad._validation import fail, is_sparse
from lingrad.cli import common
from lingrad.cli.common import SubParsers, add_command, model_inputs, reading


def register(sub: SubParsers) -> None:
    """Add the ``evaluate`` command to ``sub``; its ``func`` default is :func:`run`."""
    p = add_command(sub, "evaluate", description=__doc__)
    p.add_argument(
        "model", metavar="MODEL", help="a model file written by lingrad (.npz) or a run folder"
    )
    p.add_argument(
        "--dataset",
        default=None,
        help=f"one of {', '.join(datasets.NAMES)}, or a .csv/.npz/.svm/.libsvm/.svmlight file "
        "(default for a run folder: the run's dataset)",
    )
    p.add_argument(
        "--split",
        default="test",
        choices=["train", "val", "test", "all"],
        help="which split to evaluate on ('all': every example, e.g. for a user file)",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=None,
        help="the split's seed, as in training (default: the run's, else 0)",
    )
    p.add_argument(
        "--data-dir",
        default=None,
        help="local copy / download cache of the data (default: the run's)",
    )
    common.add_file_arguments(p)
    p.set_defaults(func=run)


def _defaults_from_run(args: argparse.Namespace) -> None:
    """Fill --dataset, --seed and --data-dir from a run folder's config.json where not given."""
    config = common.run_config(args.model)
    if args.dataset is None:
        if "dataset" not in config:
            fail("--dataset", "a dataset name or file (MODEL is not a run folder)", "none")
        args.dataset = config["dataset"]
        args.data_dir = args.data_dir or config.get("data_dir")
        args.seed = config.get("seed") if args.seed is None else args.seed
    args.seed = 0 if args.seed is None else args.seed


def _examples(args: argparse.Namespace, task: str, model: Any):
    options = common.file_options(args, model, labels=True)
    with reading(args.dataset):
        data = datasets.load(
            args.dataset, seed=args.seed, data_dir=args.data_dir, task=task, **options
        )
    if args.split == "all":
        parts = [data.split(s) for s in ("train", "val", "test")]
        if is_sparse(parts[0][0]):
            import scipy.sparse as sp

            X = sp.vstack([p[0] for p in parts], format="csr")
        else:
            X = np.concatenate([p[0] for p in parts])
        y = np.concatenate([p[1] for p in parts])
    else:
        X, y = data.split(args.split)
    return data, X, _as_run_classes(args, data, y)


def _as_run_classes(args: argparse.Namespace, data: datasets.Dataset, y: np.ndarray) -> np.ndarray:
    """Labels ``y`` (indices into ``data.class_names``) as indices into the class names a run
    folder recorded, so that a file holding only some of the classes is scored correctly."""
    names = common.run_config(args.model).get("class_names")
    if (
        not isinstance(names, list)
        or list(data.class_names) == names
        or data.task != "classification"
    ):
        return y
    position = {str(n): i for i, n in enumerate(names)}
    missing = [n for n in data.class_names if n not in position]
    if missing:
        fail("--dataset", f"labels among the run's classes {names}", repr(missing[0]))
    return np.array([position[n] for n in data.class_names], dtype=np.intp)[y]


def _table(rows: list[list[str]], right_from: int = 1) -> str:
    widths = [max(len(r[j]) for r in rows) for j in range(len(rows[0]))]
    lines = []
    for r in rows:
        cells = [
            c.ljust(w) if j < right_from else c.rjust(w)
            for j, (c, w) in enumerate(zip(r, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _label_names(classes: np.ndarray, class_names: tuple[str, ...]) -> list[str]:
    """Readable names: a dataset's class name for an integer class index, else the label."""
    names = []
    for c in classes:
        if np.issubdtype(type(c), np.integer) and 0 <= c < len(class_names):
            names.append(class_names[int(c)])
        else:
            names.append(str(c))
    return names


def classification_report(
    y_true: ArrayLike, y_pred: ArrayLike, classes: ArrayLike, names: Sequence[str]
) -> str:
    """Accuracy, a per-class precision / recall / support table and the confusion matrix."""
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    precision, recall, _, support = precision_recall_fscore_support(
        y_true, y_pred, labels=classes, zero_division=0
    )
    lines = [f"accuracy: {np.mean(y_true == y_pred):.4f}", ""]
    rows = [["class", "precision", "recall", "support"]]
    rows += [
        [n, f"{p:.4f}", f"{r:.4f}", str(s)]
        for n, p, r, s in zip(names, precision, recall, support, strict=True)
    ]
    lines += [_table(rows), ""]
    M = confusion_matrix(y_true, y_pred, labels=classes)
    lines.append("confusion matrix (rows: true class, columns: predicted class)")
    rows = [["", *names]] + [[n, *map(str, row)] for n, row in zip(names, M, strict=True)]
    lines.append(_table(rows))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Run ``lingrad evaluate`` with the parsed ``args``; return the exit status (0).

    Bad input raises ``ValueError``/``TypeError``, which :func:`lingrad.cli.main` turns into
    ``lingrad: error: ...`` and exit status 2.
    """
    from lingrad import io
    from lingrad.estimators import LinearClassifier

    with reading(args.model):
        model = io.load(args.model)
    _defaults_from_run(args)
    is_classifier = isinstance(model, LinearClassifier)
    data, X, y = _examples(args, "classification" if is_classifier else "regression", model)
    X = model_inputs(
        model,
        X,
        "--dataset",
        f"data with {model.n_features_in_} features for this model",
        f"{args.dataset} with {X.shape[1]}",
    )
    print(
        f"model: {args.model} ({type(model).__name__}, {model.loss_}, "
        f"{model.n_features_in_} features)"
    )
    print(f"dataset: {data.name}, {args.split} split, {len(y)} examples")
    if not isinstance(model, LinearClassifier):
        from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

        pred = model.predict(X)
        print(f"R^2: {r2_score(y, pred):.4f}")
        print(f"mean squared error: {mean_squared_error(y, pred):.6g}")
        print(f"mean absolute error: {mean_absolute_error(y, pred):.6g}")
        return 0
    classes = model.classes_
    if classes.dtype.kind in "UO":  # a model trained on names: compare names
        y = np.asarray(data.class_names, dtype=object)[y].astype(classes.dtype)
    pred = model.predict(X)
    unknown = ~np.isin(y, classes)
    if unknown.any():
        raise ValueError(
            f"--dataset: expected labels among the model's classes {classes.tolist()}, "
            f"got {y[unknown][0]!r}"
        )
    print(classification_report(y, pred, classes, _label_names(classes, data.class_names)))
    return 0
