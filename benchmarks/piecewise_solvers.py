"""The exact solvers for non-differentiable objectives against scikit-learn's.

* ``dualcd`` (dual coordinate descent) and ``continuation`` (smoothing with continuation), the
  hinge losses with L2, against ``LinearSVC`` at ``C = 1 / (lam N)``, ``lam = 1e-4`` (lingrad's
  mean-loss objective ``lam/2 ||V||^2 + mean loss`` times ``1 / lam`` is liblinear's
  ``1/2 ||w||^2 + C sum loss``). What is compared: one versus all against
  ``LinearSVC(loss="hinge")`` (one-vs-rest: the same objective but for liblinear's penalised
  bias), Crammer-Singer against ``LinearSVC(multi_class="crammer_singer")`` (the same, bias
  aside), the Weston-Watkins hinge also against ``LinearSVC(loss="hinge")`` (another loss: the
  nearest liblinear has; LinearSVC's default ``squared_hinge`` is another loss again and not
  used); LinearSVC at its default ``tol`` (1e-4) with ``max_iter=100_000``, lingrad's solvers
  at their default ``tol`` (1e-4, a certified relative duality gap);
* ``fista`` (softmax, L1) against ``LogisticRegression(penalty="l1", solver="saga")`` on digits.

Sets: iris, wine, breast_cancer, digits, ``overlap`` (``make_classification`` 750 x 20, 5
overlapping classes: the small problem dual coordinate descent is slow on) and
``make_classification`` 50,000 x 256, 10 classes
(``--rows``: another number of rows of the synthetic set; ``--quick``: iris, wine and 1,000 x
16; one repeat; at most 300 iterations; ``--solvers dualcd`` leaves continuation out; ``--sets
iris,wine`` times those only), each split 80/20 (stratified, random_state=0) and standardised on
the training split. Times are
medians of interleaved repeats (the first run of each is a warm-up: Numba's compilation is not
timed), BLAS held to one thread on both sides; ``ratio`` = lingrad's time / scikit-learn's in
the same run, with the load average when the row was timed. Also printed: iterations, the final
measure, test accuracy, and ``J`` of scikit-learn's weights under lingrad's objective relative
to ours (``> 1``: ours is lower; liblinear also penalises its bias, and its one-vs-rest is
another loss than Weston-Watkins); ``J`` and ``J_sk`` themselves; and ``sk_gap``: LinearSVC's
relative duality gap on its own problem (the bias penalised), certified with lingrad's dual
bound, i.e. the accuracy at which liblinear stops at scikit-learn's ``tol`` (its ``eps``): the
comparison is ours at a certified relative gap ``<= 1e-4`` against theirs at ``sk_gap``.
``--estimator``: also the default fits side by side (the issue's comparison):
``LinearClassifier(loss=L, lam=1e-4).fit`` (optimizer ``"auto"``: ``dualcd``) against the same
``LinearSVC(...).fit`` on the same standardised split, interleaved, with lingrad's iterations,
final measure and test accuracy; ``est_ratio`` = lingrad's time / LinearSVC's.
Run: ``python benchmarks/piecewise_solvers.py`` (``--quick`` for a smoke run).
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from _timing import interleaved, load, machine, parser, repeats, table
from sklearn import datasets as sk
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from threadpoolctl import threadpool_limits

from lingrad import optim, regularizers
from lingrad.estimators import LinearClassifier
from lingrad.objective import Objective
from lingrad.optim.solvers import Status

LAM = 1e-4
#: lingrad's solvers compared on each hinge loss (continuation stops at this many iterations).
SOLVERS = ("dualcd", "continuation")
MAX_ITER = 3000


def sets(quick, rows=50_000):
    loaders = {"iris": sk.load_iris, "wine": sk.load_wine}
    if not quick:  # a smoke run (the suite runs it): the two smallest sets and a small one
        loaders["breast_cancer"] = sk.load_breast_cancer
        loaders["digits"] = sk.load_digits
    out = {name: load(return_X_y=True) for name, load in loaders.items()}
    if not quick:  # small, its five classes overlapping: thousands of dual passes
        out["overlap"] = sk.make_classification(
            750, 20, n_informative=10, n_classes=5, random_state=0
        )
    n, d = (1_000, 16) if quick else (rows, 256)
    out["synthetic"] = sk.make_classification(
        n, d, n_informative=d // 4, n_classes=10, n_clusters_per_class=1, random_state=0
    )
    return out


def split(X, y):
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, stratify=y, random_state=0
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def solve(J, name, C, tol=1e-4, max_iter=MAX_ITER):
    solver = optim.get(name, tol=tol)
    W = J.check_weights(np.zeros((J.n_features + 1, C)))
    solver.check_objective(J)
    state, iteration = solver.init(W), 0
    while iteration < max_iter:
        iteration += 1
        step, state = solver.update(None, state, W, objective=J)
        W = W + step
        if state.status != Status.RUNNING:
            break
    return W, state, iteration


def sklearn_weights(model, loss):
    """lingrad's ``(D + 1, C)`` weights of a fitted scikit-learn model: a binary model's one
    score column becomes two (``-v, v`` for one versus all: two mirrored SVMs; ``-v/2, v/2``
    for the multi-class losses, whose hinge is on the difference of the two scores)."""
    coef, intercept = model.coef_, model.intercept_
    if coef.shape[0] == 1:
        half = 1.0 if loss == "one_vs_all_hinge" else 0.5
        coef = np.vstack([-half * coef, half * coef])
        intercept = np.r_[-half * intercept, half * intercept]
    return np.vstack([coef.T, intercept[None]])


def sklearn_gap(loss, X, y, W_sk, C, max_size=2_000_000):
    """LinearSVC's relative gap ``(P_b(W_sk) - D_b) / P_b(W_sk)`` on liblinear's own problem
    (the bias penalised like a feature of value 1: ``include_bias=True``), ``D_b`` the dual
    bound certified by ``dualcd`` at ``tol=1e-9``: how far from its optimum liblinear stops at
    its ``eps`` (scikit-learn's ``tol``, 1e-4). ``"-"`` for the Weston-Watkins rows (LinearSVC
    solves another loss) and for sets over ``max_size`` values (the tight solve is long)."""
    if loss == "hinge" or X.size > max_size:
        return "-"
    J_b = Objective(loss, X, y, lam=LAM, regularizer=regularizers.l2(include_bias=True))
    _, state, _ = solve(J_b, "dualcd", C, tol=1e-9, max_iter=20 * MAX_ITER)
    value = J_b.value(W_sk)
    return f"{(value - state.dual) / value:.1e}"


def accuracy(W, X, y):
    return float(np.mean(np.argmax(X @ W[:-1] + W[-1], axis=1) == y))


def svc(loss, N):
    if loss == "crammer_singer":
        return LinearSVC(multi_class="crammer_singer", C=1 / (LAM * N), max_iter=100_000)
    return LinearSVC(loss="hinge", C=1 / (LAM * N), max_iter=100_000)


def hinge_rows(name, data, n_repeats, max_iter=MAX_ITER, solvers=SOLVERS, gap_size=2_000_000):
    X, X_test, y, y_test = split(*data)
    N, C = len(y), len(np.unique(y))
    out = []
    for loss in ("hinge", "one_vs_all_hinge", "crammer_singer"):
        J = Objective(loss, X, y, lam=LAM)
        results, model = {}, svc(loss, N)

        def fit_sklearn(model=model):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # liblinear's iteration cap
                model.fit(X, y)

        def fit(solver, J=J, results=results):
            results[solver] = solve(J, solver, C, max_iter=max_iter)

        fns = {"sklearn": fit_sklearn}
        fns.update({solver: lambda solver=solver: fit(solver) for solver in solvers})
        times = interleaved(fns, n_repeats)
        W_sk, load_now = sklearn_weights(model, loss), load()
        sk_gap = sklearn_gap(loss, X, y, W_sk, C, gap_size)
        for solver in solvers:
            W, state, iterations = results[solver]
            out.append(
                {
                    "set": name,
                    "loss": loss,
                    "solver": solver,
                    "iters": iterations,
                    "gap": f"{state.measure:.1e}",
                    "ok": state.status == Status.CONVERGED,
                    "lingrad_ms": times[solver]["median"] * 1e3,
                    "sklearn_ms": times["sklearn"]["median"] * 1e3,
                    "ratio": round(times[solver]["median"] / times["sklearn"]["median"], 3),
                    "acc": accuracy(W, X_test, y_test),
                    "sk_acc": accuracy(W_sk, X_test, y_test),
                    "J": f"{J.value(W):.6g}",
                    "J_sk": f"{J.value(W_sk):.6g}",
                    "J_sk/J": round(J.value(W_sk) / J.value(W), 4),
                    "sk_gap": sk_gap,
                    "load": load_now,
                }
            )
    return out


def estimator_rows(name, data, n_repeats):
    """The default fits: ``LinearClassifier(loss=L, lam=LAM)`` against :func:`svc`'s model,
    each ``.fit(X, y)`` timed whole (checks, encoding, the solver), interleaved."""
    X, X_test, y, y_test = split(*data)
    out = []
    for loss in ("hinge", "one_vs_all_hinge", "crammer_singer"):
        ours, theirs = LinearClassifier(loss=loss, lam=LAM), svc(loss, len(y))

        def fit(model):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # liblinear's iteration cap
                model.fit(X, y)

        fns = {"lingrad": lambda m=ours: fit(m), "sklearn": lambda m=theirs: fit(m)}
        times = interleaved(fns, n_repeats)
        lingrad_s, sklearn_s = times["lingrad"]["median"], times["sklearn"]["median"]
        out.append(
            {
                "set": name,
                "loss": loss,
                "optimizer": getattr(ours, "optimizer_", "?"),
                "iters": ours.n_iter_,
                "fit_ms": lingrad_s * 1e3,
                "svc_ms": sklearn_s * 1e3,
                "est_ratio": round(lingrad_s / sklearn_s, 3),
                "acc": float(ours.score(X_test, y_test)),
                "svc_acc": float(theirs.score(X_test, y_test)),
                "load": load(),
            }
        )
    return out


def fista_row(data, quick):
    X, X_test, y, y_test = split(*data)
    N, l1_lam = len(y), 1e-3
    J = Objective("softmax", X, y, regularizer="l1", lam=l1_lam)
    start = time.perf_counter()
    W, state, iterations = solve(J, "fista", 10, tol=1e-6, max_iter=300 if quick else 3000)
    seconds = time.perf_counter() - start
    saga = LogisticRegression(penalty="l1", C=1 / (l1_lam * N), solver="saga", tol=1e-8,
                              max_iter=1000 if quick else 20_000)  # fmt: skip
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        saga.fit(X, y)
    sk_seconds = time.perf_counter() - start
    W_sk = np.vstack([saga.coef_.T, saga.intercept_[None]])
    return {
        "fista iterations": iterations,
        "measure": f"{state.measure:.2g}",
        "fit_ms": seconds * 1e3,
        "saga_ms": sk_seconds * 1e3,
        "ratio": round(seconds / sk_seconds, 3),
        "acc": accuracy(W, X_test, y_test),
        "saga_acc": accuracy(W_sk, X_test, y_test),
        "J_saga/J": round(J.value(W_sk) / J.value(W), 6),
    }


def main():
    p = parser(__doc__)
    p.add_argument("--solvers", default=",".join(SOLVERS), help="lingrad's, comma-separated")
    p.add_argument("--sets", default=None, help="some of the sets, comma-separated")
    p.add_argument("--rows", type=int, default=50_000, help="the synthetic set's rows")
    p.add_argument("--estimator", action="store_true", help="also time the estimators' fits")
    args = p.parse_args()
    solvers = tuple(args.solvers.split(","))
    n = 1 if args.quick else repeats(args)
    print(machine(), f"load {load()}")
    results, fits = [], []
    with threadpool_limits(1):
        chosen = sets(args.quick, args.rows)
        for name in set(chosen) - set((args.sets or ",".join(chosen)).split(",")):
            del chosen[name]
        for name, data in chosen.items():
            cap = 300 if args.quick else MAX_ITER  # a smoke run
            gap_size = 10_000 if args.quick else 2_000_000  # the smoke run: iris and wine
            reps = 1 if name == "synthetic" else n
            results += hinge_rows(name, data, reps, cap, solvers, gap_size)
            print(table(results[-3 * len(solvers) :], list(results[0])), flush=True)
            if args.estimator:
                fits += estimator_rows(name, data, reps)
                print(table(fits[-3:], list(fits[0])), flush=True)
        fista = fista_row(sk.load_digits(return_X_y=True), args.quick)
    print("\nall hinge rows (ratio: lingrad's time / LinearSVC's, same run)")
    print(table(results, list(results[0])))
    print("\nsoftmax + L1 on digits: fista vs LogisticRegression(saga)")
    print(table([fista], list(fista)))
    print()
    for row in results:  # the summary: one ratio line per row
        print(
            f"{row['set']} {row['loss']} {row['solver']} time / LinearSVC time = {row['ratio']}"
            f" ({'converged' if row['ok'] else 'not converged'}, gap {row['gap']})"
        )
    print(f"digits softmax + L1 fista time / saga time = {fista['ratio']}")
    if fits:
        print("\nthe default fits: LinearClassifier(loss=L, lam=1e-4).fit vs LinearSVC(...).fit")
        print(table(fits, list(fits[0])))
        for row in fits:
            print(
                f"{row['set']} {row['loss']} LinearClassifier fit / LinearSVC fit = "
                f"{row['est_ratio']} ({row['optimizer']}, {row['iters']} iterations)"
            )


if __name__ == "__main__":
    main()
