"""One shuffled mini-batch SGD epoch: lingrad against a textbook NumPy loop, PyTorch and
scikit-learn.

CIFAR-like data (N = 49,000, D = 3,072, C = 10, float32 Gaussian X, random labels), batch 200,
learning rate 0.01 (scikit-learn, which steps once per example: 0.01 / 200), no
regularisation, the same initial weights, the variants taking turns inside each repeat:

* ``lingrad``: ``lingrad.train.fit(Objective("softmax", X, y), SGD(lr), epochs=1,
  batch_size=200)``: its epoch loss is the mean of the batch losses (no pass of its own);
* ``estimator``: ``LinearClassifier(optimizer="sgd", max_iter=1, ...)`` on the same data and
  weights' shape (its input validation included: what a scikit-learn user pays);
* ``numpy``: the textbook loop: one permutation, then per batch the gather ``X[idx]``,
  ``S = Xb W + b``, the softmax gradient, ``W -= lr Xb^T dS``;
* ``torch``: ``nn.Linear`` + ``F.cross_entropy`` + ``optim.SGD`` over ``torch.randperm``
  batches (the column is skipped without PyTorch);
* ``sklearn hinge`` / ``sklearn log_loss``: ``SGDClassifier(max_iter=1)`` (its own per-example
  SGD, one-vs-rest; given float64 X up front, since it would convert float32 itself; left out
  with ``--no-sklearn``);
* ``gather``: only gathering the shuffled batches ``X[order[s:s + 200]]``, the memory floor of
  any shuffled epoch.

Every contender runs on one BLAS thread (threadpoolctl; ``torch.set_num_threads(1)``): what
lingrad's steps use at this batch size, and fair on a shared machine. Each is warmed up by one
untimed run, then the repeats interleave them, the order rotating from one repeat to the
next; the figures are medians, and each ratio is also given as the median of the ratios
within a repeat (paired: a busy moment slows both sides of the pair). The load average is
printed before and after.

Beside each time: the softmax cross-entropy and accuracy of the final weights on the training
data, so that the times compare equal work.

Run: ``python benchmarks/epoch.py`` (``--quick`` for a smoke run).
"""

from __future__ import annotations

import statistics
import time
import warnings
from collections.abc import Callable

import numpy as np
from _timing import load, machine, parser, repeats, table
from threadpoolctl import threadpool_limits

from lingrad.estimators import LinearClassifier
from lingrad.losses import softmax_cross_entropy
from lingrad.model import predict_from_scores, scores_unchecked
from lingrad.objective import Objective
from lingrad.optim import SGD
from lingrad.train import fit

BATCH = 200
LR = 1e-2  # of the batch-mean gradient; scikit-learn steps per example with LR / BATCH


def quality(W, X, y) -> tuple[float, float]:
    """(softmax cross-entropy, accuracy) of ``W`` (D + 1, C) on ``(X, y)``."""
    S = scores_unchecked(W.astype(X.dtype), X)
    return softmax_cross_entropy(S, y)[0], float(np.mean(predict_from_scores(S) == y))


def lingrad_epoch(X, y, W0, out):
    J = Objective("softmax", X, y, lam=0.0)
    r = fit(J, SGD(LR), n_columns=W0.shape[1], W0=W0, epochs=1, batch_size=BATCH, rng=RNG())
    out["lingrad"] = r.W


def torch_epoch(torch, X, y, W0, out):
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    model = torch.nn.Linear(X.shape[1], W0.shape[1])
    with torch.no_grad():
        model.weight.copy_(torch.from_numpy(W0[:-1].T.copy()))
        model.bias.copy_(torch.from_numpy(W0[-1].copy()))
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    order = torch.randperm(X.shape[0], generator=torch.Generator().manual_seed(0))
    for s in range(0, X.shape[0], BATCH):
        idx = order[s : s + BATCH]
        opt.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(Xt[idx]), yt[idx]).backward()
        opt.step()
    with torch.no_grad():
        W = np.vstack([model.weight.numpy().T, model.bias.numpy()[None]])
    out["torch"] = W


def numpy_epoch(X, y, W0, out):
    """The textbook loop: the same gathers and products as lingrad's epoch, nothing else."""
    W = W0.copy()
    order = RNG().permutation(X.shape[0])
    for s in range(0, X.shape[0], BATCH):
        idx = order[s : s + BATCH]
        Xb = X[idx]
        S = Xb @ W[:-1] + W[-1]
        S -= S.max(axis=1, keepdims=True)
        P = np.exp(S)
        P /= P.sum(axis=1, keepdims=True)
        P[np.arange(len(idx)), y[idx]] -= 1.0
        P *= LR / len(idx)
        W[:-1] -= Xb.T @ P
        W[-1] -= P.sum(axis=0)
    out["numpy"] = W


def estimator_epoch(X, y, out):
    clf = LinearClassifier(
        optimizer="sgd", learning_rate=LR, batch_size=BATCH, max_iter=1, lam=0.0, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # max_iter=1 does not converge: expected here
        clf.fit(X, y)
    out["estimator"] = clf.W_


def sklearn_epoch(loss, X64, y, out):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import SGDClassifier

    clf = SGDClassifier(
        loss=loss,
        max_iter=1,
        tol=None,
        alpha=1e-7,
        learning_rate="constant",
        eta0=LR / BATCH,
        shuffle=True,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X64, y)
    out[f"sklearn {loss}"] = np.vstack([clf.coef_.T, clf.intercept_[None]])


def gather_epoch(X):
    order = RNG().permutation(X.shape[0])
    for s in range(0, X.shape[0], BATCH):
        X[order[s : s + BATCH]]


def RNG():
    return np.random.default_rng(0)


def rotated(fns: dict[str, Callable[[], object]], n: int) -> tuple[dict, dict]:
    """Wall and CPU seconds (``{name: [n floats]}`` each) of ``n`` timed runs per function,
    after one untimed run of each; in repeat ``r`` the functions run in their order rotated by
    ``r``. CPU time (the process's, all threads) is what a busy machine disturbs least."""
    for fn in fns.values():
        fn()
    names = list(fns)
    wall: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}
    for r in range(n):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            start, start_cpu = time.perf_counter(), time.process_time()
            fns[name]()
            cpu[name].append(time.process_time() - start_cpu)
            wall[name].append(time.perf_counter() - start)
    return wall, cpu


def ratio(times: dict[str, list[float]], a: str, b: str) -> str:
    """``a / b``: the ratio of the medians, and the median of the ratios within a repeat."""
    medians = statistics.median(times[a]) / statistics.median(times[b])
    paired = statistics.median(x / y for x, y in zip(times[a], times[b], strict=True))
    return f"{a} / {b} = {medians:.3f} (paired: {paired:.3f})"


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--no-sklearn", action="store_true", help="leave out SGDClassifier")
    args = p.parse_args()
    N, D, C = (4_000, 256, 10) if args.quick else (49_000, 3_072, 10)
    n = repeats(args) if args.repeats or args.quick else 5
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N, D), dtype=np.float32)
    y = rng.integers(0, C, N)
    W0 = np.zeros((D + 1, C), dtype=np.float32)
    W0[:-1] = 1e-3 * rng.standard_normal((D, C))
    print(f"machine: {machine()}; load average {load()}")
    print(f"N = {N}, D = {D}, C = {C}, float32, batch {BATCH}, lr {LR}; {n} interleaved repeats")
    print("every contender on one BLAS thread")
    out: dict[str, np.ndarray] = {}
    fns = {
        "lingrad": lambda: lingrad_epoch(X, y, W0, out),
        "estimator": lambda: estimator_epoch(X, y, out),
        "numpy": lambda: numpy_epoch(X, y, W0, out),
        "gather": lambda: gather_epoch(X),
    }
    try:
        import torch

        torch.set_num_threads(1)
        fns["torch"] = lambda: torch_epoch(torch, X, y, W0, out)
    except ImportError:
        print("torch: not installed, column skipped")
    if not args.no_sklearn:
        X64 = X.astype(np.float64)
        fns["sklearn hinge"] = lambda: sklearn_epoch("hinge", X64, y, out)
        fns["sklearn log_loss"] = lambda: sklearn_epoch("log_loss", X64, y, out)
    with threadpool_limits(1, user_api="blas"):
        wall, cpu = rotated(fns, n)
    print(f"load average after: {load()}\n")
    rows = []
    for name, t in wall.items():
        row = {"variant": name, "median_ms": 1e3 * statistics.median(t)}
        row |= {"min_ms": 1e3 * min(t), "cpu_median_ms": 1e3 * statistics.median(cpu[name])}
        if name in out:
            row["train_ce"], row["train_acc"] = quality(out[name], X, y)
        rows.append(row)
    columns = ["variant", "median_ms", "min_ms", "cpu_median_ms", "train_ce", "train_acc"]
    print(table(rows, columns))
    for label, times in (("wall", wall), ("CPU", cpu)):
        print(f"\n{label} time:")
        for other in ("numpy", "torch", "gather", "sklearn hinge", "sklearn log_loss"):
            if other in times:
                print(ratio(times, "lingrad", other))
        print(ratio(times, "estimator", "lingrad"))


if __name__ == "__main__":
    main()
