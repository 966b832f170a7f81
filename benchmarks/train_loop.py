"""The training loop's overhead, and the sweep's process pool, measured in one process.

1. ``lingrad.train.fit`` (mini-batch SGD on standardised digits, batch 32) against the textbook
   loop over the same batches (``W -= lr * grad``): the price of the histories, the divergence
   guard and the per-epoch evaluation of train and validation figures.
2. ``lingrad sweep``'s trials run one after the other (``--jobs 1``) and in two processes
   (``--jobs 2``), process start-up included.

Run: ``python benchmarks/train_loop.py`` (``--quick`` for a smoke run).
"""

from __future__ import annotations

import time

import numpy as np
from _timing import machine, measure, parser, repeats, table
from threadpoolctl import threadpool_limits

from lingrad import datasets
from lingrad.cli.sweep import _run_trials
from lingrad.cli.train import resolve
from lingrad.objective import Objective
from lingrad.optim import SGD
from lingrad.train import fit


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    n = repeats(args)
    epochs, sweep_epochs = (2, 5) if args.quick else (20, 100)
    data = datasets.load("digits")
    scaler = datasets.Standardizer().fit(data.X_train)
    X, X_val = scaler.transform(data.X_train), scaler.transform(data.X_val)
    J = Objective("softmax", X, data.y_train, lam=1e-3)
    W0 = np.zeros((X.shape[1] + 1, data.n_classes))
    N, B = X.shape[0], 32

    def textbook():
        rng, W = np.random.default_rng(0), W0.copy()
        for _ in range(epochs):
            order = rng.permutation(N)
            for s in range(0, N, B):
                W -= 0.1 * J.value_and_grad(W, order[s : s + B])[1]
        return W

    def trainer():
        return fit(
            J,
            SGD(0.1),
            n_columns=10,
            W0=W0,
            epochs=epochs,
            batch_size=B,
            rng=np.random.default_rng(0),
            validation=(X_val, data.y_val),
        ).W

    print(f"machine: {machine()}")
    print(f"digits N = {N}, batch {B}, {epochs} epochs; medians over {n} repeats\n")
    with threadpool_limits(1):
        np.testing.assert_allclose(textbook(), trainer(), rtol=1e-10, atol=1e-12)
        t_loop, t_fit = measure(textbook, n)["median"], measure(trainer, n)["median"]

    configs = [
        resolve({"optimizer": "sgd", "learning_rate": lr, "lam": lam, "epochs": sweep_epochs})
        for lr in (0.03, 0.1, 0.3, 1.0)
        for lam in (1e-5, 1e-3)
    ]
    sweep = {}
    for jobs in (1, 2):
        start = time.perf_counter()
        _run_trials(configs, jobs, lambda *done: None)
        sweep[jobs] = time.perf_counter() - start
    rows = [
        {"what": "textbook SGD loop", "time_ms": 1e3 * t_loop},
        {"what": "fit (histories, guard, validation)", "time_ms": 1e3 * t_fit},
        {"what": f"sweep of 8 x {sweep_epochs} epochs, --jobs 1", "time_ms": 1e3 * sweep[1]},
        {"what": f"sweep of 8 x {sweep_epochs} epochs, --jobs 2", "time_ms": 1e3 * sweep[2]},
    ]
    print(table(rows, ["what", "time_ms"]))
    print()
    print(f"fit / textbook loop = {t_fit / t_loop:.2f}")
    print(f"sweep --jobs 1 / --jobs 2 = {sweep[1] / sweep[2]:.2f}")


if __name__ == "__main__":
    main()
