"""The training loop's overhead and the sweep's parallel speed-up, measured in one process.

    python benchmarks/train_loop.py

1. ``fit`` (mini-batch SGD on standardised digits, batch 32, 20 epochs) against the textbook
   loop over the same batches (``W -= lr * grad``): the price of histories, the divergence
   guard and the per-epoch evaluation. Median of 5 runs after a warm-up.
2. ``lingrad sweep`` of 8 trials with ``--jobs 1`` and ``--jobs 2`` (2 cores): the speed-up of
   the process pool, start-up included.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
from threadpoolctl import threadpool_limits

from lingrad import datasets
from lingrad.cli.sweep import _run_trials
from lingrad.cli.train import resolve
from lingrad.objective import Objective
from lingrad.optim import SGD
from lingrad.train import fit


def median_time(f, repeats=5):
    f()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    data = datasets.load("digits")
    X = datasets.Standardizer().fit_transform(data.X_train)
    J = Objective("softmax", X, data.y_train, lam=1e-3)
    W0 = np.zeros((65, 10))
    N, B, E = X.shape[0], 32, 20

    def loop():
        rng, W = np.random.default_rng(0), W0.copy()
        for _ in range(E):
            order = rng.permutation(N)
            for s in range(0, N, B):
                W -= 0.1 * J.value_and_grad(W, order[s : s + B])[1]
        return W

    def trainer():
        return fit(
            J, SGD(0.1), n_classes=10, W0=W0, epochs=E, batch_size=B, rng=np.random.default_rng(0)
        ).W

    with threadpool_limits(1):
        np.testing.assert_allclose(loop(), trainer(), rtol=1e-10, atol=1e-12)
        t_loop, t_fit = median_time(loop), median_time(trainer)
    print(f"{'textbook loop':24s} {t_loop * 1e3:8.1f} ms")
    print(f"{'fit':24s} {t_fit * 1e3:8.1f} ms")

    configs = [
        resolve({"lr": lr, "lam": lam, "epochs": 100})
        for lr in (0.03, 0.1, 0.3, 1.0)
        for lam in (1e-5, 1e-3)
    ]
    timings = {}
    for jobs in (1, 2):
        start = time.perf_counter()
        _run_trials(configs, jobs)
        timings[jobs] = time.perf_counter() - start
        print(f"{f'sweep of 8, --jobs {jobs}':24s} {timings[jobs] * 1e3:8.1f} ms")
    print(f"fit / textbook loop = {t_fit / t_loop:.2f}")
    print(f"sweep --jobs 1 / --jobs 2 = {timings[1] / timings[2]:.2f}")


if __name__ == "__main__":
    main()
