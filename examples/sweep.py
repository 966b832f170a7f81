"""A learning-rate x regularisation sweep on the validation split, as in the CS231n assignment.

    python examples/sweep.py [--trials 12] [--quick]

Random search in log space over (learning rate, lam) for a softmax classifier trained by
mini-batch SGD; each configuration is judged on the validation split, the best one once on the
test split. (`lingrad sweep` does the same from the command line, in parallel processes.)
"""

from __future__ import annotations

import argparse

import numpy as np

from lingrad import Objective, datasets, fit, optim, predict


def main(argv=None) -> float:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=12)
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--quick", action="store_true", help="4 trials of 5 epochs")
    args = p.parse_args(argv)
    trials, epochs = (4, 5) if args.quick else (args.trials, args.epochs)
    data = datasets.load("digits", preprocess="standardize", seed=0)
    rng = np.random.default_rng(0)
    results = []
    for _ in range(trials):
        lr, lam = 10 ** rng.uniform(-2.5, 0), 10 ** rng.uniform(-6, -1)
        J = Objective("softmax", data.X_train, data.y_train, lam=lam)
        W = fit(
            J,
            optim.get("sgd", lr),
            n_columns=10,
            epochs=epochs,
            batch_size=64,
            rng=np.random.default_rng(1),
        ).W
        val = float(np.mean(predict(W, data.X_val) == data.y_val))
        results.append((val, lr, lam, W))
        print(f"lr {lr:8.4f}  lam {lam:9.2e}  validation accuracy {val:.4f}")
    val, lr, lam, W = max(results, key=lambda r: r[0])
    test = float(np.mean(predict(W, data.X_test) == data.y_test))
    print(f"best: lr {lr:.4f}, lam {lam:.2e}: validation {val:.4f}, test accuracy: {test:.4f}")
    return val


if __name__ == "__main__":
    main()
