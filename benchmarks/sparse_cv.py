"""Test accuracy on the text-like sparse set with lambda chosen by cross-validation, side by side:
``LinearClassifierCV`` (softmax, the warm-started path) against ``LogisticRegressionCV`` (the
same grid and folds), ``LinearSVC`` at its defaults (squared hinge, ``C = 1``) and ``LinearSVC``
with ``C`` chosen by ``GridSearchCV`` on the same grid and folds.

Why: at one fixed regularisation (``benchmarks/sparse_text.py``, ``C = 1``) the softmax fits
(ours, lbfgs, saga: the same optimum) are 0.04-0.07 less accurate than ``LinearSVC``'s default
fit, which minimises another loss (the squared hinge) whose best ``C`` differs. The question a
practitioner asks is the accuracy each model reaches at its own best regularisation: here both
sides choose it on the same folds.

The set is ``sparse_text.generate`` (Zipf column frequencies, ~50 non-zeros a row, 20 classes),
split 80/20 as there. The grid is ``lingrad.model_selection.lambda_grid(10)`` (1 down to 1e-6);
scikit-learn's ``C = 1 / (lam n)``, ``n`` the rows of a training fold, so that each fold fits
the same objective on both sides (the refit on all the rows then differs by the factor
``(k - 1) / k`` in ``C``). Times are wall seconds of one run each (a cross-validation is many
fits: its time is its own median), BLAS free on both sides; the load is printed.
Run: ``python benchmarks/sparse_cv.py`` (4,000 x 2,000; ``--quick``: 2,000 x 1,000, 3 folds;
``--rows``/``--cols`` for other sizes).
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from _timing import load, machine, parser, table
from sklearn.linear_model import LogisticRegressionCV
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.svm import LinearSVC
from sparse_text import generate, split

from lingrad import LinearClassifierCV
from lingrad.model_selection import lambda_grid


def timed(make, X, y, X_test, y_test) -> tuple[object, float, float]:
    """``(fitted model, seconds, test accuracy)``."""
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # liblinear's and lbfgs's iteration caps
        model = make().fit(X, y)
    seconds = time.perf_counter() - start
    return model, seconds, float(np.mean(model.predict(X_test) == y_test))


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=None, help="N (default 4,000; quick 2,000)")
    p.add_argument("--cols", type=int, default=None, help="D (default 2,000; quick 1,000)")
    p.add_argument("--folds", type=int, default=None, help="k (default 5; quick 3)")
    args = p.parse_args()
    N = args.rows or (2_000 if args.quick else 4_000)
    D = args.cols or (1_000 if args.quick else 2_000)
    k = args.folds or (3 if args.quick else 5)
    print(f"machine: {machine()}; load average {load()}")
    X, y, _ = generate(N, D)
    X_train, X_test, y_train, y_test = split(X, y)
    folds = list(StratifiedKFold(k).split(X_train, y_train))
    lams = lambda_grid(10)
    n_fold = np.mean([len(train) for train, _ in folds])
    Cs = 1.0 / (lams * n_fold)
    print(f"set: {N:,} x {D:,}, {len(np.unique(y))} classes; {k} folds; C = 1 / (lam n), "
          f"n = {n_fold:.0f}\n")  # fmt: skip
    makers = {
        "LinearClassifierCV": lambda: LinearClassifierCV(lams=lams, cv=folds),
        "LogisticRegressionCV": lambda: LogisticRegressionCV(Cs=Cs, cv=folds),
        "LinearSVC (C = 1)": lambda: LinearSVC(),
        "GridSearchCV(LinearSVC)": lambda: GridSearchCV(LinearSVC(), {"C": Cs}, cv=folds),
    }
    rows, chosen = [], {}
    for name, make in makers.items():
        model, seconds, accuracy = timed(make, X_train, y_train, X_test, y_test)
        if name == "LinearClassifierCV":
            chosen[name] = model.lam_
        elif name == "LogisticRegressionCV":
            chosen[name] = 1.0 / (model.C_[0] * n_fold)
        elif name.startswith("GridSearchCV"):
            chosen[name] = 1.0 / (model.best_params_["C"] * n_fold)
        lam = f"{chosen[name]:.3g}" if name in chosen else "-"
        rows.append({"model": name, "time_s": seconds, "lam": lam, "test_acc": accuracy})
    print(table(rows, ["model", "time_s", "lam", "test_acc"]))
    print(f"\nload average after: {load()}")
    r = {row["model"]: row for row in rows}
    ours = r["LinearClassifierCV"]
    print(f"CV time LinearClassifierCV / LogisticRegressionCV = "
          f"{ours['time_s'] / r['LogisticRegressionCV']['time_s']:.2f}")  # fmt: skip
    for other in ("LogisticRegressionCV", "LinearSVC (C = 1)", "GridSearchCV(LinearSVC)"):
        diff = ours["test_acc"] - r[other]["test_acc"]
        print(f"test accuracy LinearClassifierCV - {other} = {diff:+.4f}")


if __name__ == "__main__":
    main()
