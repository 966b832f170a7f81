"""The fixed cost of a fit: what lingrad spends outside its solver, against scikit-learn.

What a fit costs outside the solver's arithmetic (checking X and y, encoding the labels,
building the objective and the trainer, the per-iteration bookkeeping) is what decides small
fits: on iris a whole default fit is a few milliseconds. Two tables, each timed in one run,
interleaved (medians), BLAS on one thread, ConvergenceWarnings silenced:

* one-iteration fits: ``LinearClassifier(max_iter=1)`` (L-BFGS) vs
  ``LogisticRegression(max_iter=1)`` (lbfgs, ``C = 1 / (lam N)``), and
  ``LinearRegressor(max_iter=1)`` vs ``Ridge(solver="sparse_cg", max_iter=1)`` (the set's
  labels as a real target): the fixed cost of each side, plus one iteration;
* default fits of every solver family (softmax: L-BFGS; hinge, one_vs_all_hinge and
  crammer_singer: dual coordinate descent, whose one iteration is a block of passes, so
  ``max_iter=1`` is no fixed-cost measure there): lingrad's fit time split into the time
  inside the solver's updates and the rest (``overhead_ms``), against scikit-learn's whole
  default fit (LogisticRegression, ``LinearSVC(loss="hinge")`` for both hinge losses, its
  one-vs-rest being one_vs_all_hinge's problem, ``LinearSVC(multi_class="crammer_singer")``).

Sets: iris, wine, breast_cancer, digits (``--quick``: iris and wine, 3 repeats). Ratios are
lingrad's time / scikit-learn's, with the load average: a busy machine makes every figure
noisier.

Run: ``python benchmarks/fit_overhead.py`` (``--quick`` for a smoke run).
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from _timing import interleaved, load, machine, parser, table
from sklearn import datasets as sk
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from threadpoolctl import threadpool_limits

from lingrad import estimators
from lingrad.estimators import LinearClassifier, LinearRegressor

LAM = 1e-4
SETS = ("iris", "wine", "breast_cancer", "digits")


class SolverClock:
    """Seconds spent inside the solvers' ``update`` (every in-memory solver runs through
    :class:`lingrad.estimators.Continued`), while installed; ``reset`` before each fit."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.original = estimators.Continued.update

    def __enter__(self) -> SolverClock:
        clock, original = self, self.original

        def timed(solver, grad, state, W, **kwargs):
            start = time.perf_counter()
            try:
                return original(solver, grad, state, W, **kwargs)
            finally:
                clock.seconds += time.perf_counter() - start

        estimators.Continued.update = timed
        return self

    def __exit__(self, *exc) -> None:
        estimators.Continued.update = self.original


def data(name: str):
    X, y = getattr(sk, f"load_{name}")(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def one_iteration(name: str, n: int) -> list[dict]:
    """``max_iter=1`` fits, lingrad vs scikit-learn: each side's fixed cost + one iteration."""
    X, y = data(name)
    C = 1.0 / (LAM * len(X))
    pairs = {
        "softmax": (
            lambda: LinearClassifier(lam=LAM, max_iter=1, random_state=0).fit(X, y),
            lambda: LogisticRegression(C=C, max_iter=1).fit(X, y),
            "LogisticRegression",
        ),
        "squared_error": (
            lambda: LinearRegressor(lam=LAM, max_iter=1, random_state=0).fit(X, y * 1.0),
            lambda: Ridge(alpha=LAM * len(X) / 2, solver="sparse_cg", max_iter=1).fit(X, y * 1.0),
            "Ridge",
        ),
    }
    out = []
    for loss, (ours, theirs, reference) in pairs.items():
        times = interleaved({"lingrad": ours, "sklearn": theirs}, n)
        a, b = times["lingrad"]["median"], times["sklearn"]["median"]
        out.append(
            {
                "dataset": name,
                "loss": loss,
                "sklearn": reference,
                "lingrad_ms": 1e3 * a,
                "sklearn_ms": 1e3 * b,
                "ratio": a / b,
                "load": load(),
            }
        )
    return out


def default_fits(name: str, n: int) -> list[dict]:
    """Default fits: lingrad's time inside and outside its solver, scikit-learn's whole fit."""
    X, y = data(name)
    C = 1.0 / (LAM * len(X))
    C_softmax = C * (2 if len(np.unique(y)) == 2 else 1)  # see benchmarks/solvers.py
    pairs = {
        "softmax": ("", LogisticRegression(C=C_softmax, max_iter=1000)),
        "hinge": ("LinearSVC(hinge)", LinearSVC(C=C, loss="hinge", max_iter=10_000)),
        # LinearSVC's own multi-class hinge is one-vs-rest: this loss's exact counterpart
        "one_vs_all_hinge": ("LinearSVC(hinge)", LinearSVC(C=C, loss="hinge", max_iter=10_000)),
        "crammer_singer": (
            "LinearSVC(crammer_singer)",
            LinearSVC(C=C, multi_class="crammer_singer", max_iter=10_000),
        ),
    }
    out = []
    for loss, (label, reference) in pairs.items():
        ours = LinearClassifier(loss, lam=LAM, random_state=0)
        inside: list[tuple[float, float]] = []  # (in the solver, whole fit) per fit
        with SolverClock() as clock:

            def fit_ours(model=ours, clock=clock, inside=inside) -> None:
                clock.seconds = 0.0
                start = time.perf_counter()
                model.fit(X, y)
                inside.append((clock.seconds, time.perf_counter() - start))

            fits = {"lingrad": fit_ours, "sklearn": lambda r=reference: r.fit(X, y)}
            times = interleaved(fits, n)
        a, b = times["lingrad"]["median"], times["sklearn"]["median"]
        timed = np.array(inside[1:])  # the warm-up fit (Numba's compilation) left out
        solver = float(np.median(timed[:, 0]))
        outside = float(np.median(timed[:, 1] - timed[:, 0]))
        out.append(
            {
                "dataset": name,
                "loss": loss,
                "sklearn": label or type(reference).__name__,
                "lingrad_ms": 1e3 * a,
                "solver_ms": 1e3 * solver,
                "overhead_ms": 1e3 * outside,
                "sklearn_ms": 1e3 * b,
                "ratio": a / b,
                "overhead_share": float(np.median((timed[:, 1] - timed[:, 0]) / timed[:, 1])),
                "n_iter": int(ours.n_iter_),
                "load": load(),
            }
        )
    return out


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--sets", nargs="+", choices=SETS, default=None, help="datasets to run")
    args = p.parse_args()
    n = args.repeats or (3 if args.quick else 21)
    names = args.sets or (SETS[:2] if args.quick else SETS)
    print(f"machine: {machine()}; load average {load()}")
    print(f"lam = {LAM:g}; {n} interleaved repeats, medians\n")
    first: list[dict] = []
    full: list[dict] = []
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for name in names:
            first += one_iteration(name, n)
            full += default_fits(name, max(1, n // 3))
    columns = ["dataset", "loss", "sklearn", "lingrad_ms", "sklearn_ms", "ratio", "load"]
    print("one-iteration fits (max_iter=1 on both sides)")
    print(table(first, columns))
    print("\ndefault fits: lingrad's time inside its solver and outside it (overhead)")
    columns = ["dataset", "loss", "sklearn", "lingrad_ms", "solver_ms", "overhead_ms"]
    print(table(full, [*columns, "sklearn_ms", "ratio", "overhead_share", "n_iter", "load"]))
    print(f"\nload average after: {load()}")
    for r in first:
        print(f"{r['dataset']} {r['loss']} max_iter=1: lingrad / {r['sklearn']} = {r['ratio']:.3f}")
    for r in full:
        print(
            f"{r['dataset']} {r['loss']} default fit: lingrad / {r['sklearn']} = {r['ratio']:.3f} "
            f"(outside the solver {r['overhead_ms']:.2f} ms, {100 * r['overhead_share']:.0f}%)"
        )
    print(f"worst one-iteration fit: lingrad / scikit-learn = {max(r['ratio'] for r in first):.3f}")


if __name__ == "__main__":
    main()
