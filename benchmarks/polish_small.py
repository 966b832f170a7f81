"""The kinks' polish and the dual value on the small shipped sets, against the fit they sit in.

On iris and wine (split 80/20, stratified, random_state=0, standardised on the training split),
for each hinge loss at ``lam = 1e-4``: the near-optimal weights of one ``DualCD`` block at
``eps = 3e-3`` (unpolished: what ``DualCD`` polishes), then, interleaved in one run (medians):

* ``polish_ms``: :func:`~lingrad.optim.solvers.continuation.polish` at the band ``DualCD``
  uses there (``0.03``: ``10 eps``), with ``rounds``: its linear solves;
* ``dual_ms``: :func:`~lingrad.optim.solvers.continuation.dual_value` at its dual point;
* ``fit_ms``: ``LinearClassifier(loss=L, lam=1e-4).fit`` (the default ``"auto"``: ``dualcd``)
  and ``svc_ms``: ``LinearSVC(C=1 / (lam N)).fit`` (one-vs-rest hinge for the multi-class
  hinges, ``multi_class="crammer_singer"`` for Crammer-Singer), ``ratio`` = ``fit / svc``, and
  ``share``: ``(polish + dual) / fit``;
* ``gap``: the relative gap ``(P - D) / P`` of the polished point (~1e-15 where its kinks are
  right).

Run: ``python benchmarks/polish_small.py`` (``--quick``: fewer repeats).
"""

from __future__ import annotations

import warnings

import numpy as np
from _timing import interleaved, load, parser, table
from sklearn import datasets
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from lingrad import LinearClassifier
from lingrad.objective import Objective
from lingrad.optim.solvers import DualCD, continuation, dualcd

LAM, EPS, BAND = 1e-4, 3e-3, 0.03
SETS = {"iris": datasets.load_iris, "wine": datasets.load_wine}


def split(loader):
    X, y = loader(return_X_y=True)
    X_train, _, y_train, _ = train_test_split(X, y, test_size=0.2, stratify=y, random_state=0)
    return StandardScaler().fit(X_train).transform(X_train), y_train


def near_optimum(J, C):
    """One DualCD block at eps = 3e-3 from zero weights, its polish switched off."""
    solver, W = DualCD(eps=EPS), J.check_weights(np.zeros((J.n_features + 1, C)))
    saved, dualcd.polish = dualcd.polish, lambda *args: None  # the block's own weights
    try:
        step = solver.update(None, solver.init(W), W, objective=J)[0]
    finally:
        dualcd.polish = saved
    return W + step


def row(name, loss, X, y, n):
    J = Objective(loss, X, y, lam=LAM)
    W = near_optimum(J, len(np.unique(y)))
    rounds = []
    solve = continuation._solve_kinks
    continuation._solve_kinks = lambda *a: rounds.append(1) or solve(*a)
    try:
        W_star, alpha = continuation.polish(J, W, BAND)
    finally:
        continuation._solve_kinks = solve
    primal, dual = J.value(W_star), continuation.dual_value(J, alpha)
    svc = LinearSVC(C=1.0 / (LAM * len(y)), loss="hinge", max_iter=100_000)
    if loss == "crammer_singer":
        svc.set_params(multi_class="crammer_singer")
    model = LinearClassifier(loss=loss, lam=LAM)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # LinearSVC's ConvergenceWarning is not the point
        t = interleaved(
            {
                "polish": lambda: continuation.polish(J, W, BAND),
                "dual": lambda: continuation.dual_value(J, alpha),
                "fit": lambda: model.fit(X, y),
                "svc": lambda: svc.fit(X, y),
            },
            n,
        )
    ms = {key: value["median"] * 1e3 for key, value in t.items()}
    return {
        "set": name, "loss": loss, "rounds": len(rounds), "polish_ms": ms["polish"],
        "dual_ms": ms["dual"], "fit_ms": ms["fit"], "svc_ms": ms["svc"],
        "ratio": ms["fit"] / ms["svc"], "share": (ms["polish"] + ms["dual"]) / ms["fit"],
        "gap": (primal - dual) / primal, "load": load(),
    }  # fmt: skip


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    n = args.repeats or (10 if args.quick else 101)
    rows = [
        row(name, loss, *split(loader), n)
        for name, loader in SETS.items()
        for loss in continuation.PIECEWISE
    ]
    columns = ["set", "loss", "rounds", "polish_ms", "dual_ms", "fit_ms", "svc_ms", "ratio"]
    print(table(rows, [*columns, "share", "gap", "load"]))
    for r in rows:
        share = f"{r['share']:.3g}"
        print(f"{r['set']} {r['loss']} polish + dual value / LinearClassifier fit = {share}")


if __name__ == "__main__":
    main()
