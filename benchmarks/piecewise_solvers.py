"""The exact solvers for non-differentiable objectives against scikit-learn's, on digits.

* ``continuation`` (hinge losses, L2) against ``LinearSVC``: the Weston-Watkins hinge and one
  versus all against ``LinearSVC(loss="hinge")`` (one-vs-rest), Crammer-Singer against
  ``LinearSVC(multi_class="crammer_singer")``, at ``C = 1 / (lam N)``, ``lam = 1e-4``;
* ``fista`` (softmax, L1) against ``LogisticRegression(penalty="l1", solver="saga")``.

Digits is split 80/20 (stratified, random_state=0) and standardised on the training split.
Printed: fit time, iterations (at most 3000) and passes over the data, the final measure
(continuation: the relative duality gap, a certificate, asked for 1e-3; fista: the
minimum-norm subgradient, asked for 1e-6), test accuracy, and ``J`` of scikit-learn's weights
under lingrad's objective relative to ours (``> 1``: ours is lower; liblinear also penalises
its bias, and its one-vs-rest is another loss than Weston-Watkins). BLAS is held to one thread
on both sides.
Run: ``python benchmarks/piecewise_solvers.py`` (``--quick`` for a smoke run).
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from _timing import machine, parser, table
from sklearn import datasets as sk
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from threadpoolctl import threadpool_limits

from lingrad import optim
from lingrad.objective import Objective
from lingrad.optim.solvers import Status


def data(quick):
    X, y = sk.load_digits(return_X_y=True)
    if quick:
        X, y = X[:400], y[:400]
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, stratify=y, random_state=0
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def solve(J, name, tol, C, max_iter=5000):
    solver = optim.get(name, tol=tol)
    W = J.check_weights(np.zeros((J.n_features + 1, C)))
    solver.check_objective(J)
    start = time.perf_counter()
    state = solver.init(W)
    iteration = 0
    while iteration < max_iter:
        iteration += 1
        step, state = solver.update(None, state, W, objective=J)
        W = W + step
        if state.status != Status.RUNNING:
            break
    return W, state, iteration, time.perf_counter() - start


def accuracy(W, X, y):
    return float(np.mean(np.argmax(X @ W[:-1] + W[-1], axis=1) == y))


def sklearn_fit(model, X, y):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # liblinear / SAGA iteration caps
        model.fit(X, y)
    W = np.vstack([model.coef_.T, model.intercept_[None, :]])
    return W, time.perf_counter() - start


def rows(quick, lam=1e-4, tol=1e-3, max_iter=3000):
    X, X_test, y, y_test = data(quick)
    N = len(y)
    max_iter = 300 if quick else max_iter  # a smoke run
    cases = [
        ("hinge", "continuation", LinearSVC(loss="hinge", C=1 / (lam * N), tol=1e-8,
                                            max_iter=100_000)),
        ("one_vs_all_hinge", "continuation", LinearSVC(loss="hinge", C=1 / (lam * N), tol=1e-8,
                                                       max_iter=100_000)),
        ("crammer_singer", "continuation", LinearSVC(multi_class="crammer_singer",
                                                     C=1 / (lam * N), tol=1e-8,
                                                     max_iter=100_000)),
    ]  # fmt: skip
    l1_lam = 1e-3
    saga = LogisticRegression(penalty="l1", C=1 / (l1_lam * N), solver="saga", tol=1e-8,
                              max_iter=1000 if quick else 20_000)  # fmt: skip
    out = []
    for loss, name, model in [*cases, ("softmax", "fista", saga)]:
        reg, lam_ = ("l1", l1_lam) if name == "fista" else ("l2", lam)
        J = Objective(loss, X, y, regularizer=reg, lam=lam_)
        W, state, iterations, seconds = solve(
            J, name, tol if name != "fista" else 1e-6, 10, max_iter
        )
        W_sk, sk_seconds = sklearn_fit(model, X, y)
        out.append(
            {
                "loss": loss,
                "solver": name,
                "iterations": iterations,
                "passes": state.evaluations,
                "measure": f"{state.measure:.2g}",
                "converged": state.status == Status.CONVERGED,
                "fit_s": round(seconds, 3),
                "sklearn": type(model).__name__,
                "sklearn_fit_s": round(sk_seconds, 3),
                "test_acc": accuracy(W, X_test, y_test),
                "sklearn_test_acc": accuracy(W_sk, X_test, y_test),
                "J_sklearn/J_ours": round(J.value(W_sk) / J.value(W), 6),
            }
        )
    return out


def main():
    args = parser(__doc__).parse_args()
    print(machine())
    with threadpool_limits(1):
        results = rows(args.quick)
    print(table(results, list(results[0])))
    for r in results:
        ratio = r["fit_s"] / max(r["sklearn_fit_s"], 1e-9)
        print(f"{r['loss']}: {r['solver']} fit time / {r['sklearn']} fit time = {ratio:.3g}")


if __name__ == "__main__":
    main()
