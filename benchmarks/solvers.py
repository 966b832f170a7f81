"""The default fit against scikit-learn's solvers: time, objective reached, test accuracy.

A practitioner's first comparison: ``LinearClassifier()`` beside ``LogisticRegression()`` (lbfgs)
and, for the hinge losses, beside ``LinearSVC``, on the shipped sets (iris, wine,
breast_cancer, digits) and a synthetic ``make_classification`` set (50,000 x 256, 10 classes;
``--quick``: iris, wine and 1,000 x 16, one repeat). Every set is split 75/25 (stratified,
random_state 0) and standardised on the training split. The same regularised objective on
both sides: lam = 1e-4, scikit-learn's ``C = 1 / (lam N)``; on a binary set (breast_cancer)
LogisticRegression gets ``C = 2 / (lam N)``: lingrad's softmax on two columns depends on
``w = W_1 - W_0`` alone, its optimum has ``W_0 = -W_1`` and there ``lam R(W) = (lam / 2)
|w|^2 / 2``: the logistic objective at ``lam / 2`` (at ``C = 1 / (lam N)`` scikit-learn
solves a twice more regularised problem and the J gap compares two objectives). Both
objectives are evaluated by lingrad's ``Objective`` on the weights each side found
(``J_gap``: lingrad's minus scikit-learn's, relative; negative means lingrad went lower).
Times are medians of interleaved repeats; BLAS is held to one thread on both sides for the
shipped sets (small problems), free on the synthetic.

Rows: ``softmax`` (lingrad's default loss and ``optimizer="auto"``) vs LogisticRegression;
``hinge`` (Weston-Watkins, auto = the certified solver) vs LinearSVC (one-vs-rest hinge) and
``crammer_singer`` vs ``LinearSVC(multi_class="crammer_singer")`` (accuracy; the objectives differ
for the one-vs-rest row, and LinearSVC regularises its intercept).

Run: ``python benchmarks/solvers.py`` (``--quick`` for a smoke run; ``--losses softmax`` and
``--sets iris digits`` for some rows only).
"""

from __future__ import annotations

import contextlib
import warnings

import numpy as np
from _timing import interleaved, load, machine, parser, table
from sklearn import datasets as sk
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from threadpoolctl import threadpool_limits

from lingrad.estimators import LinearClassifier
from lingrad.objective import Objective

LAM = 1e-4
LOSSES = ["softmax", "hinge", "crammer_singer"]


def synthetic(quick: bool):
    n, d = (1_000, 16) if quick else (50_000, 256)
    return sk.make_classification(
        n, d, n_informative=d // 4, n_classes=10, n_clusters_per_class=1, random_state=0
    )


def sets(quick: bool) -> dict:
    loaders = {
        "iris": sk.load_iris,
        "wine": sk.load_wine,
        "breast_cancer": sk.load_breast_cancer,
        "digits": sk.load_digits,
    }
    if quick:  # a smoke run: the two smallest sets and a small synthetic one
        loaders = {name: loaders[name] for name in ("iris", "wine")}
    out = {name: load(return_X_y=True) for name, load in loaders.items()}
    out["synthetic"] = synthetic(quick)
    return out


def split(X, y):
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def weights(model) -> np.ndarray:
    """lingrad's ``(D + 1, C)`` weights of a fitted scikit-learn (or lingrad) classifier."""
    if hasattr(model, "W_"):
        return model.W_
    coef, intercept = model.coef_, model.intercept_
    if coef.shape[0] == 1:  # binary: one score column; lingrad's multi-class losses use two
        coef, intercept = np.vstack([-coef / 2, coef / 2]), np.r_[-intercept / 2, intercept / 2]
    return np.vstack([coef.T, intercept[None]])


def objective(loss, X, y, model) -> float:
    labels = np.searchsorted(np.unique(y), y)
    J = Objective(loss, X, labels, lam=LAM)
    W = weights(model)
    if W.shape[1] == 1 and loss != "logistic":
        W = np.hstack([-W / 2, W / 2])
    return J.value(W)


def race(makers: dict, X, y, n: int) -> tuple[dict, dict]:
    """Interleaved fit times of each maker's model on ``(X, y)``, and the last fitted models."""
    fitted: dict = {}

    def fit(name):
        fitted[name] = makers[name]().fit(X, y)

    return interleaved({name: lambda k=name: fit(k) for name in makers}, n), fitted


def rows_for(name, data, n, quick, only=None):
    X_train, X_test, y_train, y_test = split(*data)
    C = 1.0 / (LAM * len(X_train))
    # two-column softmax at lam is logistic regression at lam / 2 (see the module docstring)
    C_softmax = C * (2 if len(np.unique(y_train)) == 2 else 1)
    pairs = {
        "softmax": (
            lambda: LinearClassifier(lam=LAM, random_state=0),
            lambda: LogisticRegression(C=C_softmax, max_iter=1000),
        ),
        "hinge": (
            lambda: LinearClassifier("hinge", lam=LAM, random_state=0),
            lambda: LinearSVC(C=C, loss="hinge", max_iter=10_000),
        ),
        "crammer_singer": (
            lambda: LinearClassifier("crammer_singer", lam=LAM, random_state=0),
            lambda: LinearSVC(C=C, multi_class="crammer_singer", max_iter=10_000),
        ),
    }
    pairs = {loss: pair for loss, pair in pairs.items() if only is None or loss in only}
    limit = threadpool_limits(1) if name != "synthetic" else contextlib.nullcontext()
    out = []
    with limit, warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for loss, (ours, theirs) in pairs.items():
            times, fitted = race({"lingrad": ours, "sklearn": theirs}, X_train, y_train, n)
            a, b = fitted["lingrad"], fitted["sklearn"]
            J_a = objective(loss, X_train, y_train, a)
            J_b = objective(loss, X_train, y_train, b)
            out.append(
                {
                    "dataset": name,
                    "loss": loss,
                    "sklearn": type(b).__name__,
                    "lingrad_ms": 1e3 * times["lingrad"]["median"],
                    "sklearn_ms": 1e3 * times["sklearn"]["median"],
                    "time_ratio": times["lingrad"]["median"] / times["sklearn"]["median"],
                    "J_lingrad": J_a,
                    "J_gap": (J_a - J_b) / abs(J_b),
                    "acc_lingrad": a.score(X_test, y_test),
                    "acc_sklearn": b.score(X_test, y_test),
                    "n_iter": int(np.max(a.n_iter_)),
                }
            )
    return out


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--losses", nargs="+", choices=LOSSES, default=LOSSES, help="rows to run")
    p.add_argument("--sets", nargs="+", default=None, help="datasets to run (default: all)")
    args = p.parse_args()
    n = args.repeats or (1 if args.quick else 5)
    print(f"machine: {machine()}; load average {load()}")
    print(f"lam = {LAM:g} (C = 1 / (lam N)); {n} interleaved repeats, medians\n")
    rows = []
    for name, data in sets(args.quick).items():
        if args.sets is None or name in args.sets:
            rows += rows_for(name, data, n, args.quick, args.losses)
    columns = ["dataset", "loss", "sklearn", "lingrad_ms", "sklearn_ms", "time_ratio",
               "J_lingrad", "J_gap", "acc_lingrad", "acc_sklearn", "n_iter"]  # fmt: skip
    print(table(rows, columns))
    print(f"\nload average after: {load()}")
    for loss in args.losses:
        ratios = [r["time_ratio"] for r in rows if r["loss"] == loss]
        worst = max(ratios)
        print(f"{loss}: worst default fit time / scikit-learn time = {worst:.2f}")
    softmax = [r for r in rows if r["loss"] == "softmax"]
    gap = max(r["J_gap"] for r in softmax)
    print(f"softmax: worst relative J gap (lingrad - sklearn) = {gap:.2e}")
    wins = sum(r["acc_lingrad"] >= r["acc_sklearn"] for r in rows)
    print(f"test accuracy >= scikit-learn's: {wins} / {len(rows)} = {wins / len(rows):.2f}")


if __name__ == "__main__":
    main()
