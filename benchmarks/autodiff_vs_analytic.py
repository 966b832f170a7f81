"""The autodiff gradient of the whole objective against the analytic one, in one process.

For the hinge and softmax losses, full batch and batch 200, float32, on CIFAR-like data
(N = 49,000, D = 3,072, C = 10, Gaussian X, random labels, lam = 1e-3):

* ``analytic``: ``lingrad.grad.get("analytic")`` (the hand-derived kernel, blocked full pass);
* ``autodiff``: ``lingrad.grad.get("autodiff")`` (the objective through ``lingrad.autodiff``).

The two alternate inside each repeat, so that a busy machine slows both alike. The target of
the autodiff engine is a ratio <= 1.5 at both batch sizes.

Run: ``python benchmarks/autodiff_vs_analytic.py`` (``--quick`` for a smoke run,
``--threads 1`` to pin BLAS to one thread).
"""

from __future__ import annotations

import time

import numpy as np
from _timing import machine, parser, repeats, table

from lingrad import grad
from lingrad.objective import Objective


def alternate(fns, n: int) -> list[float]:
    """Median seconds of each function over ``n`` rounds in which the functions take turns."""
    for fn in fns:
        fn()  # warm-up
    times = [[] for _ in fns]
    for _ in range(n):
        for fn, bucket in zip(fns, times, strict=True):
            start = time.perf_counter()
            fn()
            bucket.append(time.perf_counter() - start)
    return [float(np.median(t)) for t in times]


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=None, help="BLAS threads (default: as is)")
    args = p.parse_args()
    if args.threads is not None:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)
    N, D, C = (2_000, 256, 10) if args.quick else (49_000, 3_072, 10)
    n = repeats(args)
    print(f"machine: {machine()}")
    print(f"N = {N}, D = {D}, C = {C}, float32; medians in ms of {n} alternating repeats")
    print(f"(batch 200: {10 * n} repeats)\n")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N, D), dtype=np.float32)
    y = rng.integers(0, C, N)
    W = (1e-3 * rng.standard_normal((D + 1, C))).astype(np.float32)
    rows = []
    for loss in ("hinge", "softmax_cross_entropy"):
        J = Objective(loss, X, y, lam=1e-3)
        analytic, autodiff = grad.get("analytic")(J), grad.get("autodiff")(J)
        for batch in (N, 200):
            idx = None if batch == N else np.sort(rng.choice(N, batch, replace=False))
            ta, tb = alternate(
                [lambda f=analytic, r=idx: f(W, r), lambda f=autodiff, r=idx: f(W, r)],
                n if batch == N else 10 * n,
            )
            rows.append(
                {
                    "loss": loss,
                    "batch": batch,
                    "analytic_ms": 1e3 * ta,
                    "autodiff_ms": 1e3 * tb,
                    "ratio": tb / ta,
                }
            )
    print(table(rows, ["loss", "batch", "analytic_ms", "autodiff_ms", "ratio"]))
    print()
    for r in rows:
        where = "full batch" if r["batch"] == N else f"batch {r['batch']}"
        print(f"{r['loss']} autodiff / analytic [{where}] = {r['ratio']:.2f}")


if __name__ == "__main__":
    main()
