"""Loss + gradient kernels against the two-GEMM floor and the memory floor (one read of X).

For every loss, full batch and batch 200, float32 and float64, on CIFAR-like data
(N = 49,000, D = 3,072, C = 10, Gaussian X, random labels):

* ``lingrad``: ``Objective.value_and_grad`` (blocked single pass for the full batch);
* ``unblocked``: the same with one block (``X @ W`` then ``X.T @ dS`` over all rows);
* ``2 GEMM floor``: ``X @ W`` + ``X.T @ G`` alone, no loss;
* ``read X``: ``X @ ones(D)``, one pass over X (the memory-bandwidth floor);
* ``torch``: ``F.cross_entropy`` forward + backward through a linear layer, where installed.

Run: ``python benchmarks/kernels.py`` (``--quick`` for a smoke run).
"""

from __future__ import annotations

import numpy as np
from _timing import machine, measure, parser, repeats, table

from lingrad.objective import Objective

LOSSES = {
    "softmax_cross_entropy": 10,
    "hinge": 10,
    "crammer_singer": 10,
    "one_vs_all_hinge": 10,
    "kl_divergence": 10,
    "squared_error": 10,
    "logistic": 1,
    "sigmoid_squared_error": 1,
}


def targets(loss, rng, N, C):
    if loss == "kl_divergence":
        return rng.dirichlet(np.ones(C), size=N)
    if loss == "squared_error":
        return rng.standard_normal((N, C))
    return rng.integers(0, max(C, 2), N)


def torch_row(X, y, W, n, batch):
    try:
        import torch
    except ImportError:
        return None
    Xt, yt = torch.from_numpy(X[:batch]), torch.from_numpy(y[:batch])
    Wt = torch.from_numpy(W[:-1].T.copy()).requires_grad_()
    bt = torch.from_numpy(W[-1].copy()).requires_grad_()

    def step():
        Wt.grad = bt.grad = None
        torch.nn.functional.cross_entropy(torch.nn.functional.linear(Xt, Wt, bt), yt).backward()

    return measure(step, n)["median"]


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    N, D = (2_000, 256) if args.quick else (49_000, 3_072)
    n = repeats(args)
    print(f"machine: {machine()}")
    print(f"N = {N}, D = {D}, {n} timed repeats after a warm-up; times are medians in ms\n")
    rng = np.random.default_rng(0)
    rows, ratios = [], []
    for dtype in (np.float32, np.float64):
        X = rng.standard_normal((N, D), dtype=np.float64).astype(dtype)
        ones = np.ones(D, dtype=dtype)
        read_x = measure(lambda X=X, ones=ones: X @ ones, n)["median"]
        for loss, C in LOSSES.items():
            y = targets(loss, rng, N, C)
            W = (1e-3 * rng.standard_normal((D + 1, C))).astype(dtype)
            for batch in (N, 200):
                Xb = X[:batch]
                G = rng.standard_normal((batch, C)).astype(dtype)
                floor = measure(lambda Xb=Xb, G=G, W=W: (Xb @ W[:-1], Xb.T @ G), n)["median"]
                J = Objective(loss, Xb, y[:batch], lam=1e-3)
                ours = measure(lambda J=J, W=W: J.value_and_grad(W), n)["median"]
                one = Objective(loss, Xb, y[:batch], lam=1e-3, block_rows=batch)
                unblocked = measure(lambda J=one, W=W: J.value_and_grad(W), n)["median"]
                torch_t = None
                if loss == "softmax_cross_entropy":
                    torch_t = torch_row(X, y.astype(np.int64), W, n, batch)
                row = {
                    "loss": loss,
                    "dtype": np.dtype(dtype).name,
                    "batch": batch,
                    "lingrad_ms": 1e3 * ours,
                    "unblocked_ms": 1e3 * unblocked,
                    "2gemm_ms": 1e3 * floor,
                    "readX_ms": 1e3 * read_x * batch / N,
                    "torch_ms": None if torch_t is None else 1e3 * torch_t,
                    "vs_2gemm": ours / floor,
                    "vs_readX": ours / (read_x * batch / N),
                }
                rows.append(row)
                if loss == "softmax_cross_entropy":
                    ratios.append(row)
        del X
    cols = ["loss", "dtype", "batch", "lingrad_ms", "unblocked_ms", "2gemm_ms", "readX_ms"]
    print(table(rows, [*cols, "torch_ms", "vs_2gemm", "vs_readX"]))
    print()
    for r in ratios:
        where = "full batch" if r["batch"] == N else f"batch {r['batch']}"
        line = (
            f"softmax loss+grad / (X@W + X.T@G) [{r['dtype']}, {where}] = {r['vs_2gemm']:.2f}; "
            f"/ one read of X = {r['vs_readX']:.2f}"
        )
        if r["torch_ms"]:
            line += f"; / torch = {r['lingrad_ms'] / r['torch_ms']:.2f}"
        print(line)


if __name__ == "__main__":
    main()
