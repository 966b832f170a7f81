"""Scale out on Dask: data-parallel value and gradient, full-batch and SGD training,
out-of-core data, on a ``dask.distributed`` cluster (local processes or many machines).

* :mod:`~lingrad.distributed.cluster`: a client (``connect("local:2")``,
  ``connect("tcp://HOST:PORT")``) whose worker processes run BLAS with one thread;
* :mod:`~lingrad.distributed.data`: dask arrays chunked by rows, read per task from ``.npy``,
  zarr, CSV or Parquet;
* :mod:`~lingrad.distributed.objective`: :class:`DaskObjective`, the objective's value and
  gradient as partial sums per chunk reduced on the workers;
* :mod:`~lingrad.distributed.predict`: scores, predictions, probabilities per chunk;
* :mod:`~lingrad.distributed.fit`: the runners of the one trainer on a cluster (full-batch
  descent on the client, SGD that moves W to the data, parallel SGD with averaging), L-BFGS,
  and :func:`fit` to do it in one call;
* :mod:`~lingrad.distributed.estimators`: what ``LinearClassifier.fit`` / ``LinearRegressor.fit``
  run on dask arrays.

Needs the optional extra: ``pip install 'lingrad[dask]'``.
"""

from lingrad.distributed.cluster import (
    WORKER_ENVIRON,
    connect,
    dashboard,
    default_client,
    local_client,
    worker_config,
    workers,
)
from lingrad.distributed.data import (
    CHUNK_ROWS,
    RowChunks,
    as_row_chunks,
    from_csv,
    from_npy,
    from_parquet,
    from_zarr,
)
from lingrad.distributed.fit import (
    SOLVERS,
    ChunkSGD,
    ClientDescent,
    fit,
    gradient_descent,
    lbfgs,
    n_columns_of,
    runner_for,
    sgd,
    sgd_chunk,
    train,
)
from lingrad.distributed.objective import DaskObjective
from lingrad.distributed.predict import predict, predict_proba, scores

__all__ = [
    "CHUNK_ROWS",
    "SOLVERS",
    "WORKER_ENVIRON",
    "ChunkSGD",
    "ClientDescent",
    "DaskObjective",
    "RowChunks",
    "as_row_chunks",
    "connect",
    "dashboard",
    "default_client",
    "fit",
    "from_csv",
    "from_npy",
    "from_parquet",
    "from_zarr",
    "gradient_descent",
    "lbfgs",
    "local_client",
    "n_columns_of",
    "predict",
    "predict_proba",
    "runner_for",
    "scores",
    "sgd",
    "sgd_chunk",
    "train",
    "worker_config",
    "workers",
]
