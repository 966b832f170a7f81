"""``lingrad predict MODEL INPUT -o OUT.csv``: labels and probabilities per row.

The input is a data file (:mod:`lingrad.datafiles`): a ``.csv`` (a ``label`` column, or the
``--label`` column, if present, is ignored; when the model knows its feature names, the
columns are taken by name), an ``.npz`` with an array ``X`` (dense, or sparse), or an svmlight
/ libsvm file (``.svm``, ``.libsvm``, ``.svmlight``; its labels are ignored). Sparse input
stays sparse; it may use fewer columns than the model (read at the model's width, with the
index base a run folder recorded); a feature index beyond the model's width is refused.
The model's preprocessing is applied first. The output CSV (``-o -``: standard output)
has one row per input row: ``predicted_label`` (named apart from the input's ``label``
column) and, for a probabilistic model, ``p_<class>`` for every class; for a hinge-loss model
``score_<class>`` (the decision function); for a regression model ``prediction``. Numbers
are written with ``--digits`` significant digits (6 by default).
"""

from __future__ import annotations

import argparse
import csv
import io as io_
import sys
import warnings
from typing import Any

import numpy as np

from lingrad import datafiles, runs
from lingrad._validation import check_int, fail
from lingrad.cli.common import (
    SubParsers,
    add_command,
    add_file_arguments,
    file_options,
    model_inputs,
    reading,
    writing,
)

#: the output's column of predicted classes
PREDICTED = "predicted_label"


def register(sub: SubParsers) -> None:
    """Add the ``predict`` command to ``sub``; its ``func`` default is :func:`run`."""
    p = add_command(sub, "predict", description=__doc__)
    p.add_argument("model", metavar="MODEL", help="a model file written by lingrad (.npz)")
    p.add_argument(
        "input",
        metavar="INPUT",
        help="a .csv, .npz (array X) or .svm/.libsvm/.svmlight file of examples",
    )
    p.add_argument(
        "-o", "--output", required=True, help="the CSV file to write ('-': standard output)"
    )
    add_file_arguments(
        p,
        label="a .csv column to ignore, by name or index (default: the run's label column, "
        "else a column named 'label')",
    )
    p.add_argument(
        "--digits", type=int, default=6, help="significant digits of the numbers written"
    )
    p.set_defaults(func=run)


def _inputs(args: argparse.Namespace, model: Any) -> Any:
    options = file_options(args, model, labels=False)
    with reading(args.input):
        X, features = datafiles.read_features(args.input, **options)
    names = getattr(model, "feature_names_in_", None)
    if names is not None and features is not None:
        missing = [n for n in names if n not in features]
        if missing:
            raise ValueError(
                f"{args.input}: expected the model's feature columns {list(names)}, "
                f"got no column {missing[0]!r}"
            )
        X = X[:, [features.index(n) for n in names]]
    expected = f"{model.n_features_in_} feature columns for this model"
    return model_inputs(model, X, args.input, expected, f"{X.shape[1]}")


def predictions(model: Any, X: np.ndarray, digits: int = 6) -> tuple[list[str], list[list[str]]]:
    """The output table of ``model`` on ``X`` ``(N, D)``: a header and ``N`` rows, numbers
    with ``digits`` significant digits."""
    from lingrad.estimators import LinearClassifier

    if check_int("--digits", digits) > 17:  # float64 needs at most 17
        fail("--digits", "an integer in [1, 17]", digits)
    if not isinstance(model, LinearClassifier):
        return ["prediction"], [[f"{v:.{digits}g}"] for v in model.predict(X)]
    labels = model.predict(X)
    if hasattr(model, "predict_proba"):
        prefix, values = "p_", model.predict_proba(X)
    else:
        prefix, values = "score_", model.decision_function(X)
        if values.ndim == 1:  # binary: the score of classes_[1]
            values = np.stack([-values, values], axis=1)
    if model.classes_ is None:
        fail("model", "a fitted classifier", "no classes_")
    header = [PREDICTED] + [f"{prefix}{c}" for c in model.classes_]
    rows = [
        [str(lab), *(f"{v:.{digits}g}" for v in row)]
        for lab, row in zip(labels, values, strict=True)
    ]
    return header, rows


def run(args: argparse.Namespace) -> int:
    """Run ``lingrad predict`` with the parsed ``args``; return the exit status (0).

    Bad input raises ``ValueError``/``TypeError``, which :func:`lingrad.cli.main` turns into
    ``lingrad: error: ...`` and exit status 2.
    """
    from lingrad import io

    with reading(args.model):
        model = io.load(args.model)
    X = _inputs(args, model)
    with warnings.catch_warnings():  # the columns were matched by name in _inputs
        warnings.filterwarnings("ignore", "X does not have valid feature names")
        header, rows = predictions(model, X.astype(model.W_.dtype, copy=False), args.digits)
    text = io_.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    if args.output == "-":
        sys.stdout.write(text.getvalue())
        sys.stdout.flush()
        return 0
    with writing(args.output, "-o/--output"):
        out = runs.atomic_write(args.output, lambda f: f.write(text.getvalue().encode()))
    print(f"wrote {len(rows)} predictions to {out}")
    return 0
