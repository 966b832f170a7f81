"""Sparse text-like data: lingrad's default fit against scikit-learn's, side by side, one run.

The set (:func:`generate`, seeded): ``N`` rows x ``D`` columns (default 100,000 x 50,000;
``--quick``: 4,000 x 2,000), about ``nnz`` = 50 distinct words a row drawn from a Zipf law
over the columns (``P(column of rank r) ~ 1 / r^1.1``, the ranks shuffled over the columns), as
text is: counts -> sublinear tf ``log(1 + count)`` x idf, rows L2-normalised (a tf-idf bag
of words). Labels (20 classes) come from a planted sparse linear model ``W*`` (20 % of the
words carry weight for each class) plus noise: ``y = argmax(S + G)``, ``S = X W*`` scaled to a
standard deviation of :data:`SIGNAL`, ``G`` Gumbel, i.e. a draw from ``softmax(S)``; the planted
model's own accuracy is printed, the ceiling any fit can hope for. 80/20 train/test split.

The comparison, the same objective on every side, at each ``lam`` of ``--lam`` (scikit-learn's
``C = 1 / (lam N)``); by default (``--quick``: the first only) at ``lam = 1 / N``
(scikit-learn's default ``C = 1``, where the models learn: accuracy well above chance) and at
:data:`LAM` = 1e-4 (``C = 0.125`` at full size: with L2-normalised rows the softmax optimum
stays near chance there, ``J`` ~ 2.77 against ``ln 20 = 3.00``, while LinearSVC's hinge fit
does better); CSR float64 data, nothing densified:

* ``lingrad``: ``LinearClassifier()`` (softmax, ``optimizer="auto"``: SAGA here, the sparse
  default where ``lam N / L >= 0.01``, :func:`lingrad.defaults.saga_condition`; the name it
  resolved to is printed);
* ``lingrad lbfgs``: ``LinearClassifier(optimizer="lbfgs")``, the default before SAGA (where
  the crossover is);
* ``lbfgs`` / ``saga``: ``LogisticRegression(C, solver=...)`` (multinomial);
* ``LinearSVC``: ``LinearSVC(C)`` (one-vs-rest squared hinge: accuracy and time only, its
  objective is another one);
* ``lingrad ova hinge`` / ``LinearSVC hinge``: ``LinearClassifier(loss="one_vs_all_hinge")``
  (dual coordinate descent on the CSR rows, ``"auto"``'s choice) against
  ``LinearSVC(C, loss="hinge")``: the same objective at ``lam = 1 / (C N)`` except that
  liblinear penalises its bias (a feature of value 1); ``J_ova`` is
  ``Objective("one_vs_all_hinge", X, y, lam)`` on both sides' weights;

with the time (medians of interleaved repeats) and ``lingrad time / their time``, the
iterations (``n_iter_``: scikit-learn's epochs; lingrad's solver iterations, for SAGA up to 5
passes each), lingrad's
``Objective("softmax", X, y, lam)`` evaluated on each side's weights (``J_gap``: relative,
lingrad minus theirs: negative means lingrad went lower), test accuracy, and the peak memory
of one fit (``tracemalloc``, a separate untimed fit). Then one shuffled SGD epoch (batch 200)
of lingrad's trainer against ``SGDClassifier(max_iter=1)`` on the same CSR data (the settings
of ``epoch.py``); lingrad's steps there are the lazy sparse ones of
:mod:`lingrad.train.sparse_steps` (only the batch's columns' rows of ``W`` touched).

``--generate-only`` makes and describes the set and stops: what runs before the sparse engine
is merged. The fits need lingrad's sparse support (``Objective`` and the estimators taking
CSR).

Measured (full size, ``--repeats 1``, load 3-4.5 on 2 cores): the default (SAGA) / lbfgs,
/ saga, / LinearSVC, / lingrad's L-BFGS = 0.16, 0.90, 0.08, 0.22 at ``lam = 1 / N`` (4
iterations, ``J`` 1.3e-8 below saga's, 2.7e-4 below lbfgs's) and 0.15, 0.26, 0.04, 0.21 at
1e-4 (2 iterations, ``J`` 1.5e-8 below saga's, 2.8e-6 below lbfgs's); the test accuracies of
the three softmax fits within 3e-4 of each other; peak memory 166 MB (lbfgs 346, saga 46).
That was SAGA at the step ``1 / (3 L)`` (20 passes at ``lam = 1 / N``; / saga 0.90 and 1.17 in
two runs). At scikit-learn's step (12 passes; ``--contenders saga --repeats 3``, medians of 3
interleaved fits, load 4-5 on 2 cores): default / saga = 0.57 and 0.60 (two runs) at
``lam = 1 / N`` (9.5 s against 16.8 s; ``J`` 5e-8 below saga's, 4.9e-9 above ``min J`` from
L-BFGS at ``tol = 1e-9``), 0.53 and 0.36 at 1e-4 (``J`` 2e-8 below saga's, 7e-10 above
``min J``); peak memory 160 MB.

The one-vs-all hinge (dual coordinate descent on CSR rows; before it ``"auto"`` sent a sparse
hinge to ``continuation``: 161 s at 4,000 x 2,000, stopped at 1,000 iterations, unconverged),
medians of 3 interleaved fits at ``lam = 1 / N`` (``C = 1``), load 0.9-1.1 on 2 cores, the
three hinges against LinearSVC(loss="hinge") and LinearSVC(multi_class="crammer_singer"):
4,000 x 2,000: ova 0.94 s / 0.25 s (4 iterations against 104; ``J_ova`` 1.684969 against
1.685087, accuracy 0.320 against 0.319), Crammer-Singer 0.61 s / 0.63 s (``J`` 0.680822
against 0.680805: ours within its ``tol = 1e-4`` relative gap), Weston-Watkins 1.02 s;
20,000 x 10,000: ova 5.9 s / 2.3 s (``J_ova`` 1.717814 against 1.717754, accuracy 0.2938
against 0.2940), Crammer-Singer 3.6 s / 3.7 s (``J`` 0.700627 against 0.700618, accuracy
0.2973 both), Weston-Watkins 6.1 s.

Run: ``python benchmarks/sparse_text.py`` (``--quick`` for a smoke run).
"""

from __future__ import annotations

import time
import tracemalloc
import warnings

import numpy as np
import scipy.sparse as sp
from _timing import interleaved, load, machine, parser, table

LAM = 1e-4
#: the standard deviation of the planted scores ``S = X W*`` (the noise is standard Gumbel)
SIGNAL = 4.0
ZIPF = 1.1


def generate(
    n_rows: int,
    n_cols: int,
    nnz: int = 50,
    n_classes: int = 20,
    *,
    seed: int = 0,
    zipf: float = ZIPF,
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """``(X, y, W_star)``: a tf-idf-like CSR ``X`` ``(n_rows, n_cols)``, labels ``y`` in
    ``0..n_classes-1`` and the planted weights ``W_star`` ``(n_cols, n_classes)`` (80 % zeros)."""
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, n_cols + 1) ** zipf
    p /= p.sum()
    rank_to_column = rng.permutation(n_cols)
    # words a row, so that ~nnz of them are distinct (frequent words repeat within a row)
    lengths = np.maximum(rng.poisson(_words_for(nnz, p, rng), n_rows), 1)
    cols = rank_to_column[rng.choice(n_cols, size=int(lengths.sum()), p=p)]
    rows = np.repeat(np.arange(n_rows), lengths)
    X = sp.csr_matrix((np.ones(len(cols)), (rows, cols)), shape=(n_rows, n_cols))  # counts
    X.sum_duplicates()
    X.data = np.log1p(X.data)
    df = np.bincount(X.indices, minlength=n_cols)
    X = sp.csr_matrix(X @ sp.diags(np.log((1.0 + n_rows) / (1.0 + df)) + 1.0))
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    X = sp.csr_matrix(sp.diags(1.0 / np.maximum(norms, 1e-12)) @ X)
    shape = (n_cols, n_classes)
    W_star = rng.normal(size=shape) * (rng.random(shape) < 0.2)
    S = np.asarray(X @ W_star)
    S *= SIGNAL / S.std()
    y = np.argmax(S + rng.gumbel(size=S.shape), axis=1)
    return X, y, W_star


def _words_for(nnz: int, p: np.ndarray, rng: np.random.Generator, rows: int = 500) -> float:
    """How many words to draw a row for ``nnz`` distinct ones on average under ``p``."""
    words = float(nnz)
    for _ in range(3):  # distinct(words) is concave: a few fixed-point steps suffice
        draws = rng.choice(len(p), size=(rows, round(words)), p=p)
        distinct = np.mean([len(np.unique(row)) for row in draws])
        words *= nnz / distinct
    return words


def describe(X: sp.csr_matrix, y: np.ndarray, W_star: np.ndarray) -> list[str]:
    """Lines on the set: its size, non-zeros a row, the Zipf slope of the column
    frequencies (fitted on ranks 10..1000), the class balance, the planted model's accuracy."""
    N, D = X.shape
    freq = np.sort(np.bincount(X.indices, minlength=D))[::-1].astype(float)
    ranks = np.arange(10, min(1000, D))
    used = freq[ranks - 1] > 0
    slope = np.polyfit(np.log(ranks[used]), np.log(freq[ranks - 1][used]), 1)[0]
    counts = np.bincount(y)
    planted = np.mean(np.argmax(np.asarray(X @ W_star), axis=1) == y)
    dense_gb = N * D * 8 / 1e9
    csr_mb = (X.data.nbytes + X.indices.nbytes + X.indptr.nbytes) / 1e6
    return [
        f"set: {N:,} x {D:,}, {X.nnz / N:.1f} non-zeros a row, {len(counts)} classes "
        f"({counts.min():,}..{counts.max():,} a class); CSR {csr_mb:.0f} MB (dense: "
        f"{dense_gb:.1f} GB)",
        f"column frequency slope on log-log (ranks 10..1000) = {slope:.2f} (Zipf: {-ZIPF:g})",
        f"planted model's accuracy (the ceiling) = {planted:.3f}",
    ]


def split(X, y, seed: int = 0):
    """80/20 train/test rows (a seeded permutation): ``X_train, X_test, y_train, y_test``."""
    order = np.random.default_rng(seed).permutation(X.shape[0])
    cut = int(0.8 * X.shape[0])
    train, test = order[:cut], order[cut:]
    return X[train], X[test], y[train], y[test]


def makers(N: int, lam: float) -> dict:
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    from lingrad.estimators import LinearClassifier

    C = 1.0 / (lam * N)
    return {
        "lingrad": lambda: LinearClassifier(lam=lam, random_state=0),
        "lingrad lbfgs": lambda: LinearClassifier(lam=lam, random_state=0, optimizer="lbfgs"),
        "lbfgs": lambda: LogisticRegression(C=C, max_iter=1000),
        "saga": lambda: LogisticRegression(C=C, solver="saga", max_iter=1000),
        "LinearSVC": lambda: LinearSVC(C=C),
        "lingrad ova hinge": lambda: LinearClassifier(loss="one_vs_all_hinge", lam=lam),
        "LinearSVC hinge": lambda: LinearSVC(C=C, loss="hinge"),
    }


def peak_mb(make, X, y) -> float:
    """The peak memory (MB, tracemalloc) of one fit of ``make()`` on ``(X, y)``."""
    tracemalloc.start()
    try:
        make().fit(X, y)
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def compare_fits(
    X_train, X_test, y_train, y_test, n: int, lam: float, contenders: list[str] | None = None
) -> list[dict]:
    from solvers import race, weights

    from lingrad.objective import Objective

    models = makers(X_train.shape[0], lam)
    if contenders:  # lingrad's default always, to divide by
        models = {k: v for k, v in models.items() if k == "lingrad" or k in contenders}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # saga / LinearSVC convergence warnings: reported as is
        times, fitted = race(models, X_train, y_train, n)
        peaks = {name: peak_mb(make, X_train, y_train) for name, make in models.items()}
    from lingrad.defaults import saga_condition

    condition = saga_condition(X_train, lam, "softmax")
    print(f"lingrad's default: {fitted['lingrad'].optimizer_!r} (lam N / L = {condition:.3g})")
    J = Objective("softmax", X_train, y_train, lam=lam)
    softmax = ("lingrad", "lingrad lbfgs", "lbfgs", "saga")
    values = {k: J.value(weights(fitted[k])) for k in softmax if k in fitted}
    J_ova = Objective("one_vs_all_hinge", X_train, y_train, lam=lam)
    hinges = ("lingrad ova hinge", "LinearSVC hinge")
    ova = {k: J_ova.value(weights(fitted[k])) for k in hinges if k in fitted}
    if "lingrad ova hinge" in fitted:
        print(f"lingrad ova hinge's solver: {fitted['lingrad ova hinge'].optimizer_!r}")
    ours = times["lingrad"]["median"]
    rows = []
    for name, model in fitted.items():
        rows.append(
            {
                "model": name,
                "time_s": times[name]["median"],
                "lingrad/it": ours / times[name]["median"],
                "J": values.get(name),
                "J_gap": None
                if name not in values
                else (values["lingrad"] - values[name]) / abs(values[name]),
                "J_ova": ova.get(name),
                "n_iter": int(np.max(model.n_iter_)),
                "test_acc": model.score(X_test, y_test),
                "peak_MB": peaks[name],
            }
        )
    return rows


def compare_epochs(X_train, y_train, X_test, y_test, n: int) -> list[dict]:
    from epoch import lingrad_epoch, quality, sklearn_epoch

    W0 = np.zeros((X_train.shape[1] + 1, int(y_train.max()) + 1))
    out: dict = {}
    runs = {
        "lingrad": lambda: lingrad_epoch(X_train, y_train, W0, out),
        "sklearn log_loss": lambda: sklearn_epoch("log_loss", X_train, y_train, out),
    }
    times = interleaved(runs, n)
    rows = []
    for name in runs:
        loss, _ = quality(out[name], X_train, y_train)
        rows.append(
            {
                "epoch": name,
                "time_s": times[name]["median"],
                "train_loss": loss,
                "test_acc": quality(out[name], X_test, y_test)[1],
            }
        )
    return rows


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=None, help="N (default 100,000; quick 4,000)")
    p.add_argument("--cols", type=int, default=None, help="D (default 50,000; quick 2,000)")
    p.add_argument("--nnz", type=int, default=50, help="non-zeros a row, on average")
    p.add_argument("--classes", type=int, default=20, help="the number of classes")
    p.add_argument("--seed", type=int, default=0, help="the set's seed")
    p.add_argument("--generate-only", action="store_true", help="make and describe the set only")
    p.add_argument(
        "--contenders",
        nargs="+",
        choices=list(makers(1, 1.0)),
        default=None,
        help="the fits to race against lingrad's default (default: all, then the SGD epoch; "
        "with this option no SGD epoch)",
    )
    p.add_argument(
        "--lam",
        type=float,
        nargs="+",
        default=None,
        help="the regularisation strengths (default: 1/N, scikit-learn's C = 1, and 1e-4; "
        "--quick: 1/N)",
    )
    args = p.parse_args()
    N = args.rows or (4_000 if args.quick else 100_000)
    D = args.cols or (2_000 if args.quick else 50_000)
    n = args.repeats or (1 if args.quick else 3)
    print(f"machine: {machine()}; load average {load()}")
    start = time.perf_counter()
    X, y, W_star = generate(N, D, args.nnz, args.classes, seed=args.seed)
    made = time.perf_counter() - start
    print(*describe(X, y, W_star), sep="\n")
    print(f"generated in {made:.1f} s")
    if args.generate_only:
        return
    X_train, X_test, y_train, y_test = split(X, y, args.seed)
    lams = args.lam or ((1.0 / X_train.shape[0],) if args.quick else (1.0 / X_train.shape[0], LAM))
    for lam in lams:
        C = 1.0 / (lam * X_train.shape[0])
        print(f"\nlam = {lam:.3g} (C = 1 / (lam N) = {C:.3g}); {n} interleaved repeats, medians")
        print(f"load average {load()}\n")
        rows = compare_fits(X_train, X_test, y_train, y_test, n, lam, args.contenders)
        columns = ["model", "time_s", "lingrad/it", "n_iter", "J", "J_gap", "J_ova", "test_acc",
                   "peak_MB"]  # fmt: skip
        print(table(rows, columns))
        report_fits(rows, lam)
    if args.contenders:
        print(f"\nload average after: {load()}")
        return
    epochs = compare_epochs(X_train, y_train, X_test, y_test, n)
    print()
    print(table(epochs, ["epoch", "time_s", "train_loss", "test_acc"]))
    print(f"\nload average after: {load()}")
    e = {r["epoch"]: r for r in epochs}
    ratio = e["lingrad"]["time_s"] / e["sklearn log_loss"]["time_s"]
    print(f"SGD epoch time lingrad / SGDClassifier = {ratio:.2f}")


def report_fits(rows: list[dict], lam: float) -> None:
    """The ratios of one ``lam``'s comparison, one ``a / b = x`` line each."""
    by = {r["model"]: r for r in rows}
    at = f"(lam {lam:.3g})"
    for other in ("lbfgs", "saga", "LinearSVC", "lingrad lbfgs"):
        if other in by:
            print(f"default fit time / {other} time {at} = {by[other]['lingrad/it']:.2f}")
    for other in ("lbfgs", "saga", "lingrad lbfgs"):
        if other in by:
            gap = by[other]["J_gap"]
            print(f"relative J gap (lingrad - {other}) / |J_{other}| {at} = {gap:.2e}")
    theirs = [by[k]["test_acc"] for k in ("lbfgs", "saga", "LinearSVC") if k in by]
    if theirs:
        gain = by["lingrad"]["test_acc"] - max(theirs)
        print(f"test accuracy lingrad - best of scikit-learn {at} = {gain:+.4f}")
    if "lbfgs" in by:
        peak = by["lingrad"]["peak_MB"] / by["lbfgs"]["peak_MB"]
        print(f"peak memory lingrad / lbfgs {at} = {peak:.2f}")
    if "lingrad ova hinge" in by and "LinearSVC hinge" in by:
        _report_hinges(by["lingrad ova hinge"], by["LinearSVC hinge"], at)


def _report_hinges(ours: dict, svc: dict, at: str) -> None:
    """The one-vs-all hinge's ratio lines: lingrad's fit against LinearSVC(loss="hinge")."""
    print(f"ova hinge fit time lingrad / LinearSVC hinge {at} = "
          f"{ours['time_s'] / svc['time_s']:.2f}")  # fmt: skip
    gap = (ours["J_ova"] - svc["J_ova"]) / abs(svc["J_ova"])
    print(f"relative ova hinge J gap (lingrad - LinearSVC hinge) / |J| {at} = {gap:.2e}")
    print(f"test accuracy lingrad ova hinge - LinearSVC hinge {at} = "
          f"{ours['test_acc'] - svc['test_acc']:+.4f}")  # fmt: skip


if __name__ == "__main__":
    main()
