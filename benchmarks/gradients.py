"""The cost of one gradient by each of lingrad's four methods, in one process.

Softmax loss with L2 (lam = 1e-3) on CIFAR-like data (N = 49,000, D = 3,072, C = 10, float32,
Gaussian X, random labels), full batch and batch 200; the methods take turns in each repeat:

* ``analytic``: the hand-derived chain rule (``lingrad.grad.get("analytic")``);
* ``autodiff``: reverse mode through ``lingrad.autodiff``;
* ``symbolic``: the SymPy-derived ``dL/dS``, lambdified, then the same chain rule;
Batch 200 runs on one BLAS thread, as ``lingrad.train.fit`` runs it.

* ``numerical``: centred differences need ``2 * W.size`` objective evaluations; at this size
  (61,460 evaluations) it is extrapolated from the measured cost of one evaluation. A real
  numerical gradient on a small problem (D = 16) checks that extrapolation.

Run: ``python benchmarks/gradients.py`` (``--quick`` for a smoke run).
"""

from __future__ import annotations

import numpy as np
from _timing import interleaved, load, machine, measure, parser, repeats, table
from threadpoolctl import threadpool_limits

from lingrad import grad
from lingrad.objective import Objective

METHODS = ("analytic", "autodiff", "symbolic")


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    N, D, C = (2_000, 256, 10) if args.quick else (49_000, 3_072, 10)
    n = repeats(args)
    print(f"machine: {machine()}; load average {load()}")
    print(f"N = {N}, D = {D}, C = {C}, float32, softmax + L2; medians of {n} interleaved repeats")
    print("(batch 200: 10 x as many repeats)\n")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N, D), dtype=np.float32)
    y = rng.integers(0, C, N)
    W = (1e-3 * rng.standard_normal((D + 1, C))).astype(np.float32)
    J = Objective("softmax", X, y, lam=1e-3)
    fns = {m: grad.get(m)(J) for m in METHODS}
    rows = []
    for batch in (N, 200):
        idx = None if batch == N else np.sort(rng.choice(N, batch, replace=False))
        calls = {m: (lambda f=f, r=idx: f(W, r)) for m, f in fns.items()}
        calls["one evaluation"] = lambda r=idx: J.value_and_grad_unchecked(W, r, need_grad=False)
        # batch 200 on one BLAS thread, as lingrad.train.fit runs it (two threads on a busy
        # machine turn every small product into a ~16 ms wait, whatever the method)
        with threadpool_limits(None if batch == N else 1, user_api="blas"):
            t = interleaved(calls, n if batch == N else 10 * n)
        base = t["analytic"]["median"]
        for m in METHODS:
            rows.append(
                {
                    "method": m,
                    "batch": batch,
                    "median_ms": 1e3 * t[m]["median"],
                    "min_ms": 1e3 * t[m]["min"],
                    "max_ms": 1e3 * t[m]["max"],
                    "vs_analytic": t[m]["median"] / base,
                }
            )
        numerical = 2 * W.size * t["one evaluation"]["median"]
        rows.append(
            {
                "method": "numerical (extrapolated)",
                "batch": batch,
                "median_ms": 1e3 * numerical,
                "vs_analytic": numerical / base,
            }
        )
    print(table(rows, ["method", "batch", "median_ms", "min_ms", "max_ms", "vs_analytic"]))

    # The extrapolation, checked: a real numerical gradient on a small W.
    d = 16
    small = Objective("softmax", X[:, :d], y, lam=1e-3)
    Ws = W[: d + 1].copy()
    idx = np.arange(200)
    real = measure(lambda: grad.get("numerical")(small)(Ws, idx), max(2, n // 2))["median"]
    value_only = lambda: small.value_and_grad_unchecked(Ws, idx, need_grad=False)  # noqa: E731
    one = measure(value_only, 10 * n)["median"]
    extrapolated = 2 * Ws.size * one
    print(f"\nsmall check: D = {d}, W.size = {Ws.size}, batch 200: numerical gradient")
    print(f"{1e3 * real:.1f} ms, 2 * W.size * one evaluation = {1e3 * extrapolated:.1f} ms")
    print(f"load average after: {load()}\n")
    for r in rows:
        if r["method"] != "analytic":
            where = "full batch" if r["batch"] == N else f"batch {r['batch']}"
            print(f"{r['method']} / analytic [{where}] = {r['vs_analytic']:.3g}")
    print(f"numerical measured / extrapolated [D = {d}] = {real / extrapolated:.2f}")


if __name__ == "__main__":
    main()
