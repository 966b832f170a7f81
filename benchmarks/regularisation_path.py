"""The warm-started lambda path against independent fits: the regularisation path of
``LinearClassifierCV`` (issue 14: <= 0.4 x the time of the same fits from W = 0).

One training set, the default grid of 10 lambdas (1 down to 1e-6, strongest first), the default
solver (``optimizer="auto"``, L-BFGS at tol 1e-4):

* path: :func:`lingrad.model_selection.fit_path`, one ``LinearClassifier`` refitted at each
  lambda in turn, each fit a warm start from the previous ones (weights extrapolated along the
  path, L-BFGS memory kept): what ``LinearClassifierCV`` does in each fold;
* independent: ten ``LinearClassifier(lam=...)`` fits, each from W = 0.

Both end at the same optima (the objective values are printed); the ratio is path / independent
(median of interleaved repeats). BLAS is held to one thread (small problems; see NOTES.md).
Run: ``python benchmarks/regularisation_path.py`` (``--quick`` for a smoke run).
"""

from __future__ import annotations

import warnings

import numpy as np
from _timing import interleaved, machine, parser, repeats, table
from sklearn import datasets as sk
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from lingrad.estimators import LinearClassifier
from lingrad.model_selection import fit_path, lambda_grid
from lingrad.objective import Objective


def path(X, y, lams) -> list[np.ndarray]:
    return [model.W_ for model in fit_path(LinearClassifier(), X, y, lams)]


def independent(X, y, lams) -> list[np.ndarray]:
    return [LinearClassifier(lam=float(lam)).fit(X, y).W_ for lam in lams]


def iterations(X, y, lams) -> tuple[int, int]:
    """The L-BFGS iterations of the path and of the independent fits (the time ratio's cause)."""
    on_path = sum(model.n_iter_ for model in fit_path(LinearClassifier(), X, y, lams))
    alone = sum(LinearClassifier(lam=float(lam)).fit(X, y).n_iter_ for lam in lams)
    return on_path, alone


def datasets(quick: bool):
    X, y = sk.load_digits(return_X_y=True)
    yield "digits 1797 x 64, 10 classes", X, y
    n = 2_000 if quick else 10_000
    X, y = sk.make_classification(
        n_samples=n, n_features=100, n_informative=40, n_classes=10, random_state=0
    )
    yield f"make_classification {n} x 100, 10 classes", X, y


def main(argv=None) -> list[dict]:
    args = parser(__doc__.splitlines()[0]).parse_args(argv)
    print(machine())
    lams = lambda_grid(10)
    rows = []
    with threadpool_limits(1, user_api="blas"), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for name, X, y in datasets(args.quick):
            X = StandardScaler().fit_transform(X)
            runs = {
                "path": lambda X=X, y=y: path(X, y, lams),
                "independent": lambda X=X, y=y: independent(X, y, lams),
            }
            times = interleaved(runs, repeats(args))
            gap = max(
                Objective("softmax", X, y, lam=lam).value(a)
                / Objective("softmax", X, y, lam=lam).value(b)
                - 1
                for lam, a, b in zip(lams, path(X, y, lams), independent(X, y, lams), strict=True)
            )
            path_s, alone_s = times["path"]["median"], times["independent"]["median"]
            path_it, alone_it = iterations(X, y, lams)
            rows.append(
                {
                    "dataset": name,
                    "path_ms": path_s * 1e3,
                    "independent_ms": alone_s * 1e3,
                    "ratio": round(path_s / alone_s, 3),
                    "max_J_gap": f"{gap:.1e}",
                    "iterations": f"{path_it} / {alone_it}",
                }
            )
    print(table(rows, ["dataset", "path_ms", "independent_ms", "ratio", "max_J_gap", "iterations"]))
    print("target: ratio <= 0.4 (issue 14); max_J_gap: path J / independent J - 1 over the grid;")
    print("iterations: L-BFGS iterations of the path / of the independent fits")
    for row in rows:
        print(f"{row['dataset']}: path / independent fits = {row['ratio']:.2f}")
    return rows


if __name__ == "__main__":
    main()
