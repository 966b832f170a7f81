"""Scale out on Dask: the same multi-class softmax, trained where the data lives.

    python examples/dask_scale_out.py [--rows 200000] [--workers 2] [--quick]

Writes a synthetic 10-class dataset as .npy files (as a job too big for one machine's memory
would be stored), starts a LocalCluster of worker processes on 127.0.0.1, trains by L-BFGS on
the cluster (each task reads its own rows, nothing pulls X to the client), and checks the
weights against the same fit in memory. Point ``--scheduler tcp://HOST:PORT`` at a real cluster.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

import lingrad.distributed as ld
from lingrad import Objective, predict


def write_data(folder: Path, rows: int, D: int = 20, C: int = 10) -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    centres = 0.5 * rng.standard_normal((C, D))
    y = rng.integers(0, C, rows)
    X = (centres[y] + rng.standard_normal((rows, D))).astype(np.float32)
    np.save(folder / "X.npy", X)
    np.save(folder / "y.npy", y)
    return folder / "X.npy", folder / "y.npy"


def main(argv=None) -> float:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=200_000)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--scheduler", default=None, help="tcp://HOST:PORT of an existing cluster")
    p.add_argument("--quick", action="store_true", help="20,000 rows")
    args = p.parse_args(argv)
    rows = 20_000 if args.quick else args.rows
    with tempfile.TemporaryDirectory() as tmp:
        X_path, y_path = write_data(Path(tmp), rows)
        chunk_rows = max(rows // 4, 1)
        X = ld.from_npy(X_path, chunk_rows=chunk_rows)
        y = ld.from_npy(y_path, chunk_rows=chunk_rows)
        client = ld.connect(args.scheduler or f"local:{args.workers}")
        try:
            print(
                f"cluster: {len(ld.workers(client))} workers; X: {X.shape} in "
                f"{X.numblocks[0]} chunks of {chunk_rows} rows"
            )
            result = ld.fit(X, y, loss="softmax", lam=1e-4, solver="lbfgs", client=client)
            accuracy = float((ld.predict(result.W, X) == y).mean().compute())
        finally:
            client.close()
        # The same objective in memory, at the weights the cluster found.
        X_mem, y_mem = np.load(X_path), np.load(y_path)
        on_cluster = result.history["loss"][-1]
        in_memory = Objective("softmax", X_mem, y_mem, lam=1e-4).value(result.W)
        print(
            f"L-BFGS: {result.n_iter} iterations ({result.stop.message}); objective on the cluster "
            f"{on_cluster:.6f}, in memory {in_memory:.6f}"
        )
        assert abs(on_cluster - in_memory) < 1e-4 * max(1.0, in_memory)
        assert accuracy == float(np.mean(predict(result.W, X_mem) == y_mem))
    print(f"training accuracy: {accuracy:.4f}")
    return accuracy


if __name__ == "__main__":
    main()
