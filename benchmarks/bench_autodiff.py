"""Autodiff vs analytic gradient of the whole objective, measured in one process.

CIFAR-10-like sizes by default (N = 49,000, D = 3,072, C = 10, float32; X is random, ~600 MB).
Prints one line per (loss, batch) and the ratio ``autodiff / analytic`` (the target is <= 1.5).

    python benchmarks/bench_autodiff.py [--n 49000] [--d 3072] [--repeats 5]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from lingrad import grad
from lingrad.objective import Objective


def median_times(fns, repeats: int) -> list[float]:
    """Median wall time of each function; the functions alternate, so load affects all alike."""
    for fn in fns:
        fn()  # warm-up
    times = [[] for _ in fns]
    for _ in range(repeats):
        for fn, bucket in zip(fns, times, strict=True):
            t0 = time.perf_counter()
            fn()
            bucket.append(time.perf_counter() - t0)
    return [float(np.median(t)) for t in times]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=49_000)
    p.add_argument("--d", type=int, default=3_072)
    p.add_argument("--c", type=int, default=10)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--losses", default="hinge,softmax")
    p.add_argument("--threads", type=int, default=None, help="BLAS threads (default: as is)")
    args = p.parse_args()
    if args.threads is not None:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((args.n, args.d), dtype=np.float32)
    y = rng.integers(0, args.c, args.n)
    W = (1e-3 * rng.standard_normal((args.d + 1, args.c))).astype(np.float32)
    print(f"N={args.n} D={args.d} C={args.c} float32, median of {args.repeats}")
    print(f"{'loss':<10}{'batch':>8}{'analytic ms':>14}{'autodiff ms':>14}{'ratio':>8}")
    for loss in args.losses.split(","):
        J = Objective(loss, X, y, lam=1e-3)
        analytic, autodiff = grad.get("analytic")(J), grad.get("autodiff")(J)
        for batch in (200, args.n):
            rows = None if batch == args.n else np.sort(rng.choice(args.n, batch, replace=False))
            ta, tb = median_times(
                [lambda f=analytic, r=rows: f(W, r), lambda f=autodiff, r=rows: f(W, r)],
                args.repeats if batch == args.n else 20 * args.repeats,
            )
            print(f"{loss:<10}{batch:>8}{1e3 * ta:>14.3f}{1e3 * tb:>14.3f}{tb / ta:>8.2f}")


if __name__ == "__main__":
    main()
