"""Loss + gradient kernels against the two-GEMM floor and the memory floor (one read of X).

For every loss, full batch and batch 200, float32 and float64, on CIFAR-like data
(N = 49,000, D = 3,072, C = 10, Gaussian X, random labels):

* ``lingrad``: ``Objective.value_and_grad`` (the blocked single pass for the full batch, with
  the compiled skinny products of ``lingrad._skinny`` where Numba is installed);
* ``blas``: the same pass with the BLAS products (blocks of ~32 MiB of X);
* ``unblocked``: BLAS with one block (``X @ W`` then ``X.T @ dS`` over all rows);
* ``2 GEMM floor``: ``X @ W`` + ``X.T @ G`` alone, no loss;
* ``read X``: ``X @ ones(D)``, one pass over X (the memory-bandwidth floor);
* ``torch``: ``F.cross_entropy`` forward + backward through a linear layer, where installed.

Run: ``python benchmarks/kernels.py`` (``--quick`` for a smoke run).
"""

from __future__ import annotations

import numpy as np
from _timing import interleaved, load, machine, measure, parser, repeats, table

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


def decisions(X, n) -> list[str]:
    """The measurements behind two choices of the kernels, as ratio lines."""
    from threadpoolctl import threadpool_limits

    N, D = X.shape
    G = np.ones((N, 10), dtype=X.dtype)
    t = interleaved({"XtG": lambda: X.T @ G, "GtXt": lambda: (G.T @ X).T}, n)
    out = [f"(G.T @ X).T / X.T @ G [full batch] = {t['GtXt']['median'] / t['XtG']['median']:.2f}"]
    J = Objective("softmax", X, np.arange(N) % 10)
    W = np.zeros((D + 1, 10), dtype=X.dtype)
    J.targets(10)
    starts = range(0, N - 200 + 1, 200)

    def steps(threads):
        with threadpool_limits(threads, user_api="blas"):
            for s in starts:
                J.value_and_grad_unchecked(W, slice(s, s + 200))

    t = interleaved({"one": lambda: steps(1), "two": lambda: steps(2)}, max(3, n // 2))
    ratio = t["one"]["median"] / t["two"]["median"]
    out.append(f"batch-200 steps, 1 BLAS thread / 2 threads = {ratio:.2f}")
    return out


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    N, D = (2_000, 256) if args.quick else (49_000, 3_072)
    n = repeats(args)
    print(f"machine: {machine()}; load average {load()}")
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
                J = Objective(loss, Xb, y[:batch], lam=1e-3)
                blas = Objective(loss, Xb, y[:batch], lam=1e-3)
                blas._compiled = False
                one = Objective(loss, Xb, y[:batch], lam=1e-3, block_rows=batch)
                one._compiled = False
                fns = {"read": lambda X=X, ones=ones: X @ ones} if batch == N else {}
                t = interleaved(
                    {
                        **fns,
                        "floor": lambda Xb=Xb, G=G, W=W: (Xb @ W[:-1], Xb.T @ G),
                        "ours": lambda J=J, W=W: J.value_and_grad(W),
                        "blas": lambda J=blas, W=W: J.value_and_grad(W),
                        "unblocked": lambda J=one, W=W: J.value_and_grad(W),
                    },
                    n if batch == N else 5 * n,
                )
                floor, ours = t["floor"]["median"], t["ours"]["median"]
                unblocked = t["unblocked"]["median"]
                if batch == N:
                    read_x = t["read"]["median"]
                torch_t = None
                if loss == "softmax_cross_entropy":
                    torch_t = torch_row(X, y.astype(np.int64), W, n, batch)
                row = {
                    "loss": loss,
                    "dtype": np.dtype(dtype).name,
                    "batch": batch,
                    "lingrad_ms": 1e3 * ours,
                    "blas_ms": 1e3 * t["blas"]["median"],
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
        if dtype == np.float32:
            choices = decisions(X, n)
        del X
    print(f"load average after: {load()}\n")
    cols = ["loss", "dtype", "batch", "lingrad_ms", "blas_ms", "unblocked_ms", "2gemm_ms"]
    print(table(rows, [*cols, "readX_ms", "torch_ms", "vs_2gemm", "vs_readX"]))
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
    for line in choices:
        print(line)


if __name__ == "__main__":
    main()
