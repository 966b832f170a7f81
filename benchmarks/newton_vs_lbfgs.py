"""Trust-region Newton against L-BFGS (both lingrad's) and scikit-learn's LogisticRegression.

For each problem (standardised features, ``lam = 1e-4``, ``tol = 1e-4`` on ``max |g|``):
digits (softmax, 10 classes), breast_cancer (logistic, one column) and
``make_classification(50_000, 256, n_informative=64, n_classes=10, random_state=0)`` (softmax),
each solver runs from ``W = 0`` to convergence. Printed: the median wall time of 3 runs, the
iterations, the passes over X (a value-and-gradient, a Hessian set-up and each ``H v`` count one
each; scikit-learn's are its function evaluations) and the final ``J`` (scikit-learn's weights
evaluated by lingrad's objective, ``C = 1 / (lam N)``). BLAS runs on one thread for all three.

Run: ``python benchmarks/newton_vs_lbfgs.py`` (``--quick``: a smaller synthetic problem, one
repeat; ``--tol 1e-8``: a tighter stop for all three).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from _timing import interleaved, load, machine, parser, table
from sklearn.datasets import load_breast_cancer, load_digits, make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from lingrad import optim
from lingrad.objective import Objective
from lingrad.optim.solvers import Status

LAM, MAX_ITER = 1e-4, 10_000
TOL = 1e-4  # --tol sets it


def problems(quick: bool) -> dict[str, tuple[np.ndarray, np.ndarray, str, int]]:
    """name -> (X standardised, y, loss, C)."""
    n, d = (5_000, 64) if quick else (50_000, 256)
    X_syn, y_syn = make_classification(
        n, d, n_informative=min(64, d // 2), n_classes=10, random_state=0
    )
    raw = {
        "digits": (*load_digits(return_X_y=True), "softmax", 10),
        "breast_cancer": (*load_breast_cancer(return_X_y=True), "logistic", 1),
        f"synthetic {n}x{d}": (X_syn, y_syn, "softmax", 10),
    }
    scale = StandardScaler().fit_transform
    return {k: (scale(X), y, loss, C) for k, (X, y, loss, C) in raw.items()}


def solve(name: str, J: Objective, C: int) -> dict[str, Any]:
    """Run lingrad's solver ``name`` to convergence from 0: W, iterations, passes, status."""
    solver = optim.get(name, tol=TOL)
    W = J.check_weights(np.zeros((J.n_features + 1, C)))
    state = solver.init(W)
    iterations = 0
    while state.status == Status.RUNNING and iterations < MAX_ITER:
        step, state = solver.update(None, state, W, objective=J)
        W = W + step
        iterations += 1
    return {"W": W, "iterations": iterations, "passes": state.evaluations, "status": state.status}


def sklearn_fit(X: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    model = LogisticRegression(C=1.0 / (LAM * X.shape[0]), tol=TOL, max_iter=MAX_ITER)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    W = np.vstack([model.coef_.T, model.intercept_[None, :]])
    iterations = int(np.max(model.n_iter_))
    return {"W": W, "iterations": iterations, "passes": None, "status": 1}


def compare(J: Objective, X: np.ndarray, y: np.ndarray, C: int, n: int) -> tuple[dict, dict]:
    """The three solvers on one problem, taking turns: (last run of each, their times)."""
    runs: dict[str, Any] = {}
    fns = {
        "newton": lambda: runs.__setitem__("newton", solve("newton", J, C)),
        "lbfgs": lambda: runs.__setitem__("lbfgs", solve("lbfgs", J, C)),
        "sklearn": lambda: runs.__setitem__("sklearn", sklearn_fit(X, y)),
    }
    with threadpool_limits(1):
        times = interleaved(fns, n, warmup=0)
    return runs, times


def main() -> None:
    global TOL
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--tol", type=float, default=TOL, help="stop at max |g| <= tol (1e-4)")
    args = p.parse_args()
    TOL = args.tol
    n = 1 if args.quick else (args.repeats or 3)
    print(f"machine: {machine()}, load {load()}")
    print(f"lam = {LAM:g}, tol = {TOL:g} (max |g|); medians over {n} runs, BLAS 1 thread\n")
    rows, ratios = [], []
    for label, (X, y, loss, C) in problems(args.quick).items():
        J = Objective(loss, X, y, lam=LAM)
        runs, times = compare(J, X, y, C, n)
        for name, run in runs.items():
            rows.append(
                {
                    "problem": f"{label} ({loss})",
                    "solver": name,
                    "time_ms": 1e3 * times[name]["median"],
                    "iterations": run["iterations"],
                    "passes": run["passes"],
                    "J": f"{J.value(run['W']):.10f}",
                    "status": Status(run["status"]).name,
                }
            )
        ratios.append(
            (label, times["newton"]["median"], times["lbfgs"]["median"], times["sklearn"]["median"])
        )
    print(table(rows, ["problem", "solver", "time_ms", "iterations", "passes", "J", "status"]))
    print()
    for label, t_newton, t_lbfgs, t_sklearn in ratios:
        print(f"{label}: newton / lbfgs = {t_newton / t_lbfgs:.2f}")
        print(f"{label}: newton / sklearn lbfgs = {t_newton / t_sklearn:.2f}")


if __name__ == "__main__":
    main()
