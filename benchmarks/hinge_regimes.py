"""Which exact hinge solver wins where: ``dualcd`` against ``continuation`` (and, with
``--sklearn``, LinearSVC at ``C = 1 / (lam N)``) on the synthetic set of issue 14
(``make_classification(N, 256, n_informative=64, n_classes=10, n_clusters_per_class=1,
random_state=0)``, split 80/20 and standardised as in ``piecewise_solvers.py``), lam = 1e-4,
the three hinge losses, at several sizes (``--rows 5000,10000,20000``).

Each fit runs to lingrad's default ``tol`` (a certified relative duality gap <= 1e-4) or a
CPU-time cap (``--cap`` seconds; a capped fit is printed as not converged, with its gap).
Times are CPU seconds of one thread (``time.process_time``, BLAS held to one thread), so that
a machine shared with other jobs slows the figures less than wall time would; one run each
(the fits are long), after a warm-up of Numba's compilation on a tiny set. Also printed: the
cheap figures ``resolve_optimizer`` reads (:func:`lingrad.defaults.hinge_condition`: ``lam N /
max_i ||x_i||^2``, ``N``, ``D``) and which solver ``optimizer="auto"`` picks.

Run: ``python benchmarks/hinge_regimes.py`` (``--quick``: 1,500 rows, 64 features, the
Weston-Watkins hinge, 10 s caps, under 2 minutes).
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from _timing import load, machine, parser, table
from piecewise_solvers import LAM, accuracy, sklearn_weights, split, svc
from sklearn.datasets import make_classification
from threadpoolctl import threadpool_limits

from lingrad import optim
from lingrad.defaults import hinge_condition, resolve_optimizer
from lingrad.objective import Objective
from lingrad.optim.solvers import Status

LOSSES = ("hinge", "one_vs_all_hinge", "crammer_singer")


def data(rows, features):
    X, y = make_classification(
        rows, features, n_informative=features // 4, n_classes=10, n_clusters_per_class=1,
        random_state=0,
    )  # fmt: skip
    return split(X, y)


def fit(J, name, C, cap):
    """``(W, state, iterations, cpu seconds)`` of one fit to tol 1e-4 or ``cap`` CPU seconds."""
    solver = optim.get(name, tol=1e-4)
    W = J.check_weights(np.zeros((J.n_features + 1, C)))
    solver.check_objective(J)
    state, iterations, start = solver.init(W), 0, time.process_time()
    while state.status == Status.RUNNING and time.process_time() - start < cap:
        iterations += 1
        step, state = solver.update(None, state, W, objective=J)
        W = W + step
    return W, state, iterations, time.process_time() - start


def fit_sklearn(loss, X, y):
    model, start = svc(loss, len(y)), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # liblinear's iteration cap
        model.fit(X, y)
    return model, time.process_time() - start


def rows_for(rows, features, losses, solvers, cap, with_sklearn):
    X, X_test, y, y_test = data(rows, features)
    N, C = len(y), 10
    auto = resolve_optimizer("auto", "hinge", X=X, lam=LAM)
    out = []
    for loss in losses:
        J = Objective(loss, X, y, lam=LAM)
        for name in solvers:
            W, state, iterations, seconds = fit(J, name, C, cap)
            out.append({
                "N": N, "D": X.shape[1], "loss": loss, "solver": name, "cpu_s": seconds,
                "iters": iterations, "gap": f"{state.measure:.1e}",
                "ok": state.status == Status.CONVERGED, "acc": accuracy(W, X_test, y_test),
                "auto": auto, "load": load(),
            })  # fmt: skip
            print(table(out[-1:], list(out[0])), flush=True)
        if with_sklearn:
            model, seconds = fit_sklearn(loss, X, y)
            W_sk = sklearn_weights(model, loss)
            out.append({
                "N": N, "D": X.shape[1], "loss": loss, "solver": "LinearSVC", "cpu_s": seconds,
                "iters": int(np.max(model.n_iter_)), "gap": "-", "ok": "-",
                "acc": accuracy(W_sk, X_test, y_test), "auto": auto, "load": load(),
            })  # fmt: skip
            print(table(out[-1:], list(out[0])), flush=True)
    return out, hinge_condition(X, LAM)


def main():
    p = parser(__doc__)
    p.add_argument("--rows", default="5000,10000,20000", help="the synthetic set's sizes")
    p.add_argument("--losses", default=",".join(LOSSES))
    p.add_argument("--solvers", default="dualcd,continuation")
    p.add_argument("--cap", type=float, default=600.0, help="CPU seconds per fit")
    p.add_argument("--sklearn", action="store_true", help="LinearSVC too (long)")
    args = p.parse_args()
    sizes = [1500] if args.quick else [int(r) for r in args.rows.split(",")]
    features = 64 if args.quick else 256
    losses = ("hinge",) if args.quick else tuple(args.losses.split(","))
    cap = 10.0 if args.quick else args.cap
    solvers = tuple(args.solvers.split(","))
    print(machine(), f"load {load()}")
    results = []
    with threadpool_limits(1):
        warm = Objective("hinge", np.eye(4), [0, 1, 2, 3], lam=0.1)
        fit(warm, "dualcd", 4, 5.0)  # Numba's compilation, not timed
        for rows in sizes:
            out, condition = rows_for(rows, features, losses, solvers, cap, args.sklearn)
            print(f"N = {out[0]['N']}: lam N / max ||x||^2 = {condition:.2e}")
            results += out
    print("\nall rows (cpu_s: CPU seconds, one thread)")
    print(table(results, list(results[0])))
    print()
    for row in results:
        if row["solver"] == solvers[-1] and len(solvers) > 1:
            first = next(
                r for r in results
                if r["N"] == row["N"] and r["loss"] == row["loss"] and r["solver"] == solvers[0]
            )  # fmt: skip
            ratio = row["cpu_s"] / max(first["cpu_s"], 1e-9)
            print(
                f"{row['N']} x {row['D']} {row['loss']} {row['solver']} time / {solvers[0]} "
                f"time = {ratio:.3g} (gaps {row['gap']} / {first['gap']})"
            )


if __name__ == "__main__":
    main()
