"""The full gradient pass in memory (NumPy) against Dask with 1 and 2 workers, and out of core.

One softmax value-and-gradient pass over N x D float32 rows and C classes (400,000 x 784,
10 classes; chunks of 50,000 rows):

1. in memory: ``lingrad.Objective.value_and_grad`` on one NumPy array (BLAS with its threads);
2. Dask, data cached on the workers: ``lingrad.distributed.DaskObjective`` on a LocalCluster of
   1 worker process (2 threads, BLAS 1 thread each) and of 2 worker processes (1 thread each);
3. out of core: the same pass reading every chunk from the ``.npy`` files on each pass (2
   workers), as GB/s against a plain ``np.load`` of the same files in this process;
4. SGD moved to the data against parallel SGD with averaging (2 workers): time per epoch and
   the loss each reaches after the same epochs.

The target: Dask with 1 worker <= 1.3 x NumPy in memory (the engine's overhead stays small).
Run: ``python benchmarks/dask_gradient.py`` (``--quick`` for a smoke run).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
from _timing import machine, measure, parser, repeats, table

import lingrad.distributed as ld
from lingrad.model import init_weights
from lingrad.objective import Objective
from lingrad.optim import SGD


def make_files(folder: Path, N: int, D: int, C: int, chunk: int, rng) -> tuple[list, list]:
    """Overlapping blobs around C centres (a loss well above 0 after a few epochs), written as
    one ``.npy`` file per chunk (X float32, y int64)."""
    centres = rng.standard_normal((C, D)).astype(np.float32)
    X_paths, y_paths = [], []
    for i, start in enumerate(range(0, N, chunk)):
        n = min(chunk, N - start)
        y = rng.integers(0, C, n)
        X = 0.05 * centres[y] + rng.standard_normal((n, D), dtype=np.float32)  # overlapping
        X_paths.append(folder / f"X{i:03d}.npy")
        y_paths.append(folder / f"y{i:03d}.npy")
        np.save(X_paths[-1], X)
        np.save(y_paths[-1], y)
    return X_paths, y_paths


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    n = repeats(args)
    N, D, C, chunk = (40_000, 64, 10, 10_000) if args.quick else (400_000, 784, 10, 50_000)
    epochs, batch = (1, 256) if args.quick else (2, 256)
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory(prefix="lingrad-dask-") as tmp:
        X_paths, y_paths = make_files(Path(tmp), N, D, C, chunk, rng)
        X = np.concatenate([np.load(p) for p in X_paths])
        y = np.concatenate([np.load(p) for p in y_paths])
        W = init_weights(D, C, rng=rng, dtype=np.float32)
        print(f"machine: {machine()}")
        print(
            f"softmax value+grad, N = {N}, D = {D}, C = {C}, float32 ({X.nbytes / 1e9:.2f} GB), "
            f"chunks of {chunk} rows; medians over {n} repeats\n"
        )
        J = Objective("softmax", X, y)
        t_numpy = measure(lambda: J.value_and_grad(W), n)["median"]
        value, dW = J.value_and_grad(W)
        Xd, yd = ld.from_npy(X_paths, chunk_rows=chunk), ld.from_npy(y_paths, chunk_rows=chunk)

        def dask_pass(client, cache):
            J_dask = ld.DaskObjective("softmax", Xd, yd, client=client, cache=cache)
            value_d, dW_d = J_dask.value_and_grad(W)  # warm-up; loads the cache
            assert abs(value_d - value) <= 1e-5 * abs(value)
            assert np.linalg.norm(dW_d - dW) <= 1e-4 * np.linalg.norm(dW)
            return J_dask, measure(lambda: J_dask.value_and_grad(W), n, warmup=0)["median"]

        with ld.local_client(1, threads_per_worker=2) as client:
            J1, t_one = dask_pass(client, True)
            J1.close()
        with ld.local_client(2, threads_per_worker=1) as client:
            J2, t_two = dask_pass(client, True)
            W0 = init_weights(D, C, rng=np.random.default_rng(1), dtype=np.float32)
            sgd_runs = {}
            for parallel in (False, True):
                start = time.perf_counter()
                result = ld.sgd(
                    J2,
                    W0,
                    rng=np.random.default_rng(2),
                    optimizer=SGD(0.01),
                    batch_size=batch,
                    epochs=epochs,
                    parallel=parallel,
                )
                seconds = (time.perf_counter() - start) / epochs
                sgd_runs[parallel] = (seconds, J.value(result.W))
            J2.close()
            _, t_ooc = dask_pass(client, False)
        start = time.perf_counter()
        for p in X_paths:
            np.load(p)
        t_read = time.perf_counter() - start

    GB = X.nbytes / 1e9
    rows = [
        {"what": "NumPy in memory (Objective)", "time_ms": 1e3 * t_numpy, "GB_per_s": GB / t_numpy},
        {
            "what": "Dask, 1 worker x 2 threads, cached",
            "time_ms": 1e3 * t_one,
            "GB_per_s": GB / t_one,
        },
        {
            "what": "Dask, 2 workers x 1 thread, cached",
            "time_ms": 1e3 * t_two,
            "GB_per_s": GB / t_two,
        },
        {
            "what": "Dask, 2 workers, out of core (.npy)",
            "time_ms": 1e3 * t_ooc,
            "GB_per_s": GB / t_ooc,
        },
        {
            "what": "plain np.load of the same files",
            "time_ms": 1e3 * t_read,
            "GB_per_s": GB / t_read,
        },
    ]
    print(table(rows, ["what", "time_ms", "GB_per_s"]))
    (t_seq, loss_seq), (t_par, loss_par) = sgd_runs[False], sgd_runs[True]
    print(
        f"\nSGD (lr 0.01, batch {batch}), {epochs} epoch(s), 2 workers: W moved to the data "
        f"{t_seq:.2f} s/epoch, loss {loss_seq:.4f}; parallel with averaging {t_par:.2f} s/epoch, "
        f"loss {loss_par:.4f}\n"
    )
    print(f"Dask 1 worker / NumPy in memory = {t_one / t_numpy:.2f} (target <= 1.3)")
    print(f"Dask 2 workers / NumPy in memory = {t_two / t_numpy:.2f}")
    print(f"out-of-core GB/s / plain read GB/s = {t_read / t_ooc:.2f}")
    print(f"parallel SGD loss / sequential SGD loss = {loss_par / loss_seq:.3f}")
    print(f"parallel SGD time / sequential SGD time = {t_par / t_seq:.2f}")


if __name__ == "__main__":
    main()
