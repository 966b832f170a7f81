"""lingrad.distributed on a real LocalCluster: 2 worker processes bound to 127.0.0.1.

Oracles: the in-memory :class:`lingrad.Objective` (value and gradient to 1e-12), the same
optimisers run in memory (1e-10), scikit-learn's multinomial LogisticRegression (L-BFGS on
dask), and the per-chunk SGD task run in one process (SGD moved to the data).
"""

from __future__ import annotations

import itertools
import os
import signal
import time

import numpy as np
import pytest
from conftest import require

from lingrad import losses, model
from lingrad.objective import Objective
from lingrad.optim import SGD, Adam

da = require("dask.array")
require("distributed")
ld = require("lingrad.distributed")
dask = require("dask")

# Bytes per worker of the out-of-core test's own cluster: small, so that data of 3 x that is
# cheap to write and stream. A worker with NumPy and distributed loaded holds ~65 MiB and
# plateaus at ~100-130 MiB while streaming chunks of 12.8 MB: 256 MiB leaves it below the 80 %
# at which Dask pauses a worker.
MEMORY_LIMIT = 256 * 2**20
#: Seconds any one wait on the cluster may take (workers starting, a result): a worker stuck at
#: its memory limit then fails the test instead of hanging the suite (pytest-timeout is the
#: outer bound). Generous: a 2-core machine at load 4 starts workers in ~10-20 s.
WAIT = 180


@pytest.fixture(scope="module")
def client():
    client = ld.connect("local:2")
    client.wait_for_workers(2, timeout=WAIT)
    yield client
    client.close()


def worker_pids(client) -> dict:
    return client.run(os.getpid)


# ------------------------------------------------------------------------------------------
# Problems: one per loss, with the targets that loss takes
# ------------------------------------------------------------------------------------------


def problem(loss, n=230, d=7, c=4, seed=0):
    """``(X, y, C)`` for ``loss`` in float64 (N rows, D features)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    spec = losses.spec(loss)
    if spec.binary_only:
        return X, rng.integers(0, 2, n), 1
    if spec.task == "regression":
        return X, rng.standard_normal((n, 2)), 2
    if spec.name == "kl_divergence":
        P = rng.random((n, c))
        return X, P / P.sum(axis=1, keepdims=True), c
    scores = X @ rng.standard_normal((d, c)) + 0.5 * rng.standard_normal((n, c))
    return X, np.argmax(scores, axis=1), c  # learnable labels


def chunked(X, rows=70):
    return da.from_array(X, chunks=(rows, -1))


def rel(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300))


# ------------------------------------------------------------------------------------------
# The cluster
# ------------------------------------------------------------------------------------------


def test_workers_are_processes_with_one_blas_thread_and_no_malloc_trim(client):
    threadpoolctl = require("threadpoolctl")
    pids = worker_pids(client)
    assert len(pids) == 2 and os.getpid() not in pids.values()
    assert all(addr.startswith("tcp://127.0.0.1:") for addr in pids)
    env = client.run(lambda: os.environ.get("MALLOC_TRIM_THRESHOLD_"))
    assert set(env.values()) == {None}
    threads = client.run(lambda: [p["num_threads"] for p in threadpoolctl.threadpool_info()])
    assert all(t and set(t) == {1} for t in threads.values())


def test_unreachable_scheduler_is_a_clear_error():
    start = time.perf_counter()
    with pytest.raises(
        ValueError, match=r"dask: expected a Dask scheduler answering at tcp://127\.0\.0\.1:9"
    ):
        ld.connect("tcp://127.0.0.1:9", timeout=1)
    assert time.perf_counter() - start < 30


@pytest.mark.parametrize("spec", ["local", "local:x", "127.0.0.1:8786", "http://x:1"])
def test_malformed_cluster_spec(spec):
    with pytest.raises(ValueError, match="dask: expected 'local:N'"):
        ld.connect(spec)


# ------------------------------------------------------------------------------------------
# Value and gradient: equal to the in-memory objective for every loss
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("loss", losses.NAMES)
@pytest.mark.parametrize("cache", [True, False])
def test_value_and_grad_equal_in_memory(client, loss, cache):
    X, y, C = problem(loss)
    rng = np.random.default_rng(1)
    w = rng.random(X.shape[0])
    W = rng.standard_normal((X.shape[1] + 1, C))
    params = {"margin": 0.5} if loss == "hinge" else {}
    J = Objective(loss, X, y, regularizer="elastic_net", lam=0.3, sample_weight=w, **params)
    J_dask = ld.DaskObjective(
        loss,
        chunked(X),
        y,
        regularizer="elastic_net",
        lam=0.3,
        sample_weight=w,
        client=client,
        cache=cache,
        **params,
    )
    assert J_dask.n_chunks == 4 and J_dask.cached is cache
    value, dW = J.value_and_grad(W)
    value_d, dW_d = J_dask.value_and_grad(W)
    assert value_d == pytest.approx(value, rel=1e-12)
    assert dW_d.shape == dW.shape and rel(dW_d, dW) < 1e-12
    assert J_dask.value(W) == pytest.approx(value, rel=1e-12)


def test_float32_stays_float32_and_dask_targets_align(client):
    X, y, C = problem("softmax", n=300)
    X32 = X.astype(np.float32)
    J = Objective("softmax", X32, y, lam=0.1)
    y_dask = da.from_array(y, chunks=50)  # chunked differently from X: realigned
    J_dask = ld.DaskObjective("softmax", chunked(X32, 120), y_dask, lam=0.1, client=client)
    W = np.full((X.shape[1] + 1, C), 0.1)
    value, dW = J.value_and_grad(W)
    value_d, dW_d = J_dask.value_and_grad(W)
    assert dW_d.dtype == np.float32
    assert value_d == pytest.approx(value, rel=1e-6) and rel(dW_d, dW) < 1e-5


def test_chunk_of_zero_weight_is_skipped(client):
    X, y, C = problem("hinge")
    w = np.ones(X.shape[0])
    w[:70] = 0.0  # the whole first chunk
    W = np.random.default_rng(2).standard_normal((X.shape[1] + 1, C))
    value, dW = Objective("hinge", X, y, sample_weight=w).value_and_grad(W)
    value_d, dW_d = ld.DaskObjective(
        "hinge", chunked(X), y, sample_weight=w, client=client
    ).value_and_grad(W)
    assert value_d == pytest.approx(value, rel=1e-12) and rel(dW_d, dW) < 1e-12


def test_large_weights_are_scattered_once_and_agree(client, monkeypatch):
    from lingrad.distributed import objective as dobj

    monkeypatch.setattr(dobj, "SCATTER_BYTES", 0)  # force the broadcast path
    X, y, C = problem("softmax")
    W = np.random.default_rng(3).standard_normal((X.shape[1] + 1, C))
    value, dW = Objective("softmax", X, y).value_and_grad(W)
    J_dask = ld.DaskObjective("softmax", chunked(X), y, client=client)
    for _ in range(2):  # re-scattering the same W must not fail (hash=False)
        value_d, dW_d = J_dask.value_and_grad(W)
        assert value_d == pytest.approx(value, rel=1e-12) and rel(dW_d, dW) < 1e-12


# ------------------------------------------------------------------------------------------
# Bad input
# ------------------------------------------------------------------------------------------


def test_bad_input_names_the_argument(client, tmp_path):
    X, y, _ = problem("softmax")
    with pytest.raises(TypeError, match="X: expected a dask array"):
        ld.DaskObjective("softmax", X, y, client=client)
    np.save(tmp_path / "X.npy", X)
    with pytest.raises(TypeError, match="from_npy"):
        ld.DaskObjective("softmax", np.load(tmp_path / "X.npy", mmap_mode="r"), y, client=client)
    with pytest.raises(ValueError, match="y: expected 230 rows"):
        ld.DaskObjective("softmax", chunked(X), y[:-1], client=client)
    with pytest.raises(ValueError, match="loss: expected one of"):
        ld.DaskObjective("nope", chunked(X), y, client=client)
    J = ld.DaskObjective("softmax", chunked(X), y, client=client)
    with pytest.raises(ValueError, match=r"W: expected shape \(8, C\)"):
        J.value_and_grad(np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"y: expected labels in \[0, 2\)"):  # checked on a worker
        J.value_and_grad(np.zeros((8, 2)))
    with pytest.raises(ValueError, match="solver: expected one of"):
        ld.fit(chunked(X), y, solver="newton", client=client)
    with pytest.raises(TypeError, match=r"rng: expected a numpy\.random\.Generator"):
        ld.fit(chunked(X), y, solver="sgd", client=client)


# ------------------------------------------------------------------------------------------
# Training
# ------------------------------------------------------------------------------------------


def test_gradient_descent_reaches_the_in_memory_weights(client):
    X, y, C = problem("softmax", n=400)
    W0 = np.zeros((X.shape[1] + 1, C))
    opt = SGD(0.5, momentum=0.9)
    J = Objective("softmax", X, y, lam=1e-2)
    expected = ld.gradient_descent(J, W0, optimizer=opt, max_iter=25)
    result = ld.fit(
        chunked(X, 90), y, solver="gd", lam=1e-2, optimizer=opt, max_iter=25, client=client
    )
    assert result.n_iter == 25 and result.history["loss"][-1] < result.history["loss"][0]
    assert rel(result.W, expected.W) < 1e-10
    np.testing.assert_allclose(result.history["loss"], expected.history["loss"], rtol=1e-12)


def test_lbfgs_on_dask_matches_multinomial_logistic_regression(client):
    sklearn_linear = require("sklearn.linear_model")
    X, y, _ = problem("softmax", n=600, c=3)
    lam = 1e-2
    J = ld.DaskObjective("softmax", chunked(X, 150), y, lam=lam, client=client)
    W0 = np.zeros((X.shape[1] + 1, 3))
    result = ld.lbfgs(J, W0, tol=1e-10, ftol=0.0, max_iter=500)
    assert result.W.shape == (X.shape[1] + 1, 3)  # multi-class: one column per class
    # scikit-learn minimises 0.5 ||w||^2 + C_sk sum_i L_i: the same optimum for C_sk = 1/(lam N).
    sk = sklearn_linear.LogisticRegression(C=1.0 / (lam * X.shape[0]), tol=1e-12, max_iter=10_000)
    sk.fit(X, y)
    # softmax is invariant to adding a vector to every column: compare centred weights.
    ours = result.W - result.W.mean(axis=1, keepdims=True)
    theirs = np.vstack([sk.coef_.T, sk.intercept_])
    theirs = theirs - theirs.mean(axis=1, keepdims=True)
    np.testing.assert_allclose(ours, theirs, atol=1e-5)
    in_memory = ld.lbfgs(Objective("softmax", X, y, lam=lam), W0, tol=1e-10, ftol=0.0, max_iter=500)
    assert rel(result.W, in_memory.W) < 1e-6


def sgd_in_memory(X, y, C, rows, W0, opt, batch_size, epochs, rng, lam=0.0, parallel=False):
    """The chunk-by-chunk SGD run in one process: the documented rng protocol (per epoch a chunk
    order, then one seed per chunk), each chunk through ``sgd_chunk``."""
    from lingrad import regularizers
    from lingrad.distributed.fit import _average

    reg = regularizers.get("l2")
    bounds = np.cumsum([0, *rows])
    objs = [
        Objective("softmax", X[a:b], y[a:b], regularizer="none")
        for a, b in itertools.pairwise(bounds)
    ]
    W, state = W0.copy(), opt.init(W0)
    for _ in range(epochs):
        order = rng.permutation(len(objs))
        seeds = rng.integers(0, 2**63 - 1, size=len(objs), dtype=np.int64)
        if parallel:
            ends = [
                ld.sgd_chunk(objs[k], (W, state, 0.0, 0), opt, batch_size, int(seeds[k]), reg, lam)
                for k in order
            ]
            W, state, _, _ = _average(*ends)
        else:
            carry = (W, state, 0.0, 0)
            for k in order:
                carry = ld.sgd_chunk(objs[k], carry, opt, batch_size, int(seeds[k]), reg, lam)
            W, state = carry[0], carry[1]
    return W


@pytest.mark.parametrize("parallel", [False, True])
def test_sgd_moved_to_the_data_equals_in_memory(client, parallel):
    X, y, C = problem("softmax", n=500, c=3)
    W0 = model.init_weights(X.shape[1], C, rng=np.random.default_rng(0))
    opt = Adam(0.05)
    solver = "parallel_sgd" if parallel else "sgd"
    result = ld.fit(
        chunked(X, 130),
        y,
        loss="softmax",
        lam=1e-3,
        solver=solver,
        optimizer=opt,
        W0=W0,
        batch_size=32,
        epochs=3,
        rng=np.random.default_rng(7),
        client=client,
    )
    expected = sgd_in_memory(
        X,
        y,
        C,
        (130, 130, 130, 110),
        W0,
        opt,
        32,
        3,
        np.random.default_rng(7),
        lam=1e-3,
        parallel=parallel,
    )
    assert rel(result.W, expected) < 1e-12
    J = Objective("softmax", X, y, lam=1e-3)
    assert J.value(result.W) < J.value(W0) - 0.05  # it learned something


def test_fit_infers_classes_and_predicts_like_the_model(client):
    X, y, _ = problem("hinge", n=300, c=5)
    Xd = chunked(X, 100)
    result = ld.fit(
        Xd, da.from_array(y, chunks=100), loss="svm", solver="lbfgs", max_iter=30, client=client
    )
    assert result.W.shape == (X.shape[1] + 1, 5)
    np.testing.assert_array_equal(ld.predict(result.W, Xd).compute(), model.predict(result.W, X))
    np.testing.assert_allclose(
        ld.predict_proba(result.W, Xd).compute(), model.predict_proba(result.W, X)
    )
    np.testing.assert_allclose(ld.scores(result.W, Xd).compute(), model.scores(result.W, X))


# ------------------------------------------------------------------------------------------
# Files: .npy, zarr, CSV, Parquet read per task
# ------------------------------------------------------------------------------------------


def test_loaders_give_the_in_memory_objective(client, tmp_path):
    pd = require("pandas")
    require("pyarrow")
    zarr = require("zarr")
    X, y, C = problem("softmax", n=240, d=5, c=3)
    X = X.astype(np.float32)
    W = np.random.default_rng(4).standard_normal((6, C)).astype(np.float32)
    value, dW = Objective("softmax", X, y).value_and_grad(W)

    np.save(tmp_path / "X0.npy", X[:100])
    np.save(tmp_path / "X1.npy", X[100:])
    np.save(tmp_path / "y.npy", y)
    X_npy = ld.from_npy([tmp_path / "X0.npy", tmp_path / "X1.npy"], chunk_rows=60)
    assert X_npy.chunks[0] == (60, 40, 60, 60, 20)
    graph_bytes = sum(len(repr(v)) for v in dict(X_npy.__dask_graph__()).values())
    assert graph_bytes < X.nbytes / 4  # file names and offsets, not the data

    z = zarr.open_array(
        str(tmp_path / "X.zarr"), mode="w", shape=X.shape, chunks=(80, 5), dtype="f4"
    )
    z[:] = X
    frame = pd.DataFrame(X, columns=[f"f{j}" for j in range(5)]).assign(label=y)
    frame.to_csv(tmp_path / "data.csv", index=False)
    frame.to_parquet(tmp_path / "data.parquet")
    sources = {
        "npy": (X_npy, ld.from_npy(tmp_path / "y.npy", chunk_rows=60)),
        "zarr": (ld.from_zarr(str(tmp_path / "X.zarr")), y),
        "csv": ld.from_csv(str(tmp_path / "data.csv"), "label", chunk_rows=100),
        "parquet": ld.from_parquet(str(tmp_path / "data.parquet"), "label", chunk_rows=100),
    }
    for name, (Xd, yd) in sources.items():
        value_d, dW_d = ld.DaskObjective("softmax", Xd, yd, client=client).value_and_grad(W)
        assert value_d == pytest.approx(value, rel=1e-5), name
        assert rel(dW_d, dW) < 1e-5, name
    with pytest.raises(ValueError, match="label: expected one of the columns"):
        ld.from_csv(str(tmp_path / "data.csv"), "target")


# ------------------------------------------------------------------------------------------
# Out of core and faults
# ------------------------------------------------------------------------------------------


def test_out_of_core_trains_like_in_memory(client, tmp_path):
    """A dataset of 3 x a worker's memory limit, streamed from .npy files on every pass."""
    rng = np.random.default_rng(5)
    n_files, rows, d, c = 4, 800_000, 32, 3
    centres = rng.standard_normal((c, d))
    for i in range(n_files):  # written in parts: the test process never holds it all either
        labels = rng.integers(0, c, rows)
        np.save(tmp_path / f"X{i}.npy", centres[labels] + 2.0 * rng.standard_normal((rows, d)))
        np.save(tmp_path / f"y{i}.npy", labels)
    X_paths = [tmp_path / f"X{i}.npy" for i in range(n_files)]
    Xd = ld.from_npy(X_paths, chunk_rows=50_000)
    yd = ld.from_npy([tmp_path / f"y{i}.npy" for i in range(n_files)], chunk_rows=50_000)
    assert Xd.nbytes >= 3 * MEMORY_LIMIT
    # A worker that reaches its pause threshold would wait forever for memory that never frees
    # (nothing is spilled here): with pausing off it is restarted at 95 % instead, which the
    # assertion below reports, and every wait is bounded.
    with dask.config.set({"distributed.worker.memory.pause": False}):
        small = ld.connect("local:2", memory_limit=MEMORY_LIMIT, set_as_default=False)
    try:
        small.wait_for_workers(2, timeout=WAIT)
        before = worker_pids(small)
        J = ld.DaskObjective("softmax", Xd, yd, lam=1e-4, client=small)
        assert not J.cached  # does not fit: streamed from the files on every pass
        W0 = np.zeros((d + 1, c))
        result = ld.lbfgs(J, W0, max_iter=3)
        hits = small.compute((ld.predict(result.W, Xd) == yd).sum()).result(timeout=WAIT)
        assert worker_pids(small) == before  # no worker was killed (or restarted) for memory
    finally:
        small.close()
    accuracy = hits / Xd.shape[0]
    X_mem = np.concatenate([np.load(p) for p in X_paths])
    y_mem = np.concatenate([np.load(tmp_path / f"y{i}.npy") for i in range(n_files)])
    in_memory = ld.lbfgs(Objective("softmax", X_mem, y_mem, lam=1e-4), W0, max_iter=3)
    accuracy_mem = float(np.mean(model.predict(in_memory.W, X_mem) == y_mem))
    assert accuracy > 0.6 and abs(accuracy - accuracy_mem) < 0.01


def test_worker_killed_mid_fit_gives_the_same_result(client, tmp_path):
    X, y, _ = problem("softmax", n=3000, d=10, c=3, seed=6)
    np.save(tmp_path / "X.npy", X)
    Xd = ld.from_npy(tmp_path / "X.npy", chunk_rows=500)
    opt = SGD(0.5)
    expected = ld.fit(Xd, y, solver="gd", optimizer=opt, max_iter=8, client=client)
    killed = []

    def kill_one(epoch, logs, W):
        if epoch == 3:
            address, pid = sorted(worker_pids(client).items())[0]
            os.kill(pid, signal.SIGKILL)
            killed.append(address)

    result = ld.fit(Xd, y, solver="gd", optimizer=opt, max_iter=8, client=client, callback=kill_one)
    assert killed and rel(result.W, expected.W) < 1e-12
    client.wait_for_workers(2, timeout=WAIT)  # the nanny restarted it
    assert killed[0] not in worker_pids(client)


# ------------------------------------------------------------------------------------------
# The estimators on dask arrays
# ------------------------------------------------------------------------------------------


def test_classifier_fit_on_dask_equals_in_memory(client):
    from lingrad.estimators import LinearClassifier

    X, y, _ = problem("softmax", n=400, c=3)
    labels = np.array([3, 7, 9])[y]  # any labels: mapped to 0..K-1 on the workers
    params = {"optimizer": "gd", "max_iter": 15, "n_iter_no_change": 15, "lam": 1e-3}
    params["random_state"] = 0
    in_memory = LinearClassifier(**params).fit(X, labels)
    on_dask = LinearClassifier(**params).fit(chunked(X, 150), da.from_array(labels, chunks=150))
    np.testing.assert_array_equal(on_dask.classes_, [3, 7, 9])
    assert rel(on_dask.W_, in_memory.W_) < 1e-10
    np.testing.assert_allclose(on_dask.loss_curve_, in_memory.loss_curve_, rtol=1e-10)
    predicted = on_dask.predict(chunked(X, 150))
    np.testing.assert_array_equal(np.asarray(predicted), in_memory.predict(X))


def test_classifier_sgd_and_regressor_on_dask(client):
    from lingrad.estimators import LinearClassifier, LinearRegressor

    X, y, _ = problem("softmax", n=600, c=3)
    clf = LinearClassifier(optimizer="adam", max_iter=5, class_weight="balanced", random_state=0)
    clf.fit(chunked(X, 200), y)
    assert clf.coef_.shape == (3, X.shape[1]) and len(clf.loss_curve_) == 5
    assert np.mean(clf.predict(X) == y) > 0.8

    X, t, _ = problem("squared_error", n=300)
    params = {"optimizer": "gd", "max_iter": 10, "n_iter_no_change": 10, "random_state": 0}
    reg_mem = LinearRegressor(**params).fit(X, t[:, 0])
    reg_dask = LinearRegressor(**params).fit(chunked(X, 100), t[:, 0])
    assert rel(reg_dask.W_, reg_mem.W_) < 1e-10
    with pytest.raises(ValueError, match=r"LinearClassifier\.optimizer: expected 'lbfgs' or a"):
        LinearClassifier(optimizer="random").fit(chunked(X, 100), (t[:, 0] > 0).astype(int))


# ------------------------------------------------------------------------------------------
# lingrad train --dask
# ------------------------------------------------------------------------------------------


def test_cli_train_on_a_local_cluster(tmp_path, capsys):
    from lingrad import runs
    from lingrad.cli import main

    argv = ["train", "--dask", "local:1", "--optimizer", "gd", "--epochs", "30"]
    argv += ["--runs-dir", str(tmp_path), "--name", "run", "-q"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "dask: 1 workers at tcp://127.0.0.1:" in out and "30 iterations on Dask" in out
    metrics = runs.read_json(tmp_path / "run" / runs.METRICS)
    assert metrics["dask"] == "local:1" and metrics["passes"] == 31
    assert metrics["test_accuracy"] > 0.85


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--dask", "local:1", "--optimizer", "random"], "--optimizer: expected a gradient"),
        (["--dask", "local:1", "--early-stopping"], "--early-stopping: expected an option"),
    ],
)
def test_cli_train_dask_errors(tmp_path, capsys, argv, message):
    from lingrad.cli import main

    assert main(["train", *argv, "--runs-dir", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("name", ["LinearClassifier", "LinearRegressor"])
def test_partial_fit_refuses_dask_arrays_instead_of_pulling_them(name):
    da = require("dask.array")
    import lingrad

    X = da.from_array(np.ones((10, 3)), chunks=5)
    y = np.arange(10) % 2
    with pytest.raises(TypeError, match="X: expected an in-memory array for partial_fit"):
        if name == "LinearClassifier":
            lingrad.LinearClassifier().partial_fit(X, y, classes=[0, 1])
        else:
            lingrad.LinearRegressor().partial_fit(X, y.astype(float))


# --- issue 16, defect 4: NaN labels are not a class; a NaN names its row in the whole array --


def test_nan_labels_on_dask_are_refused_like_in_memory(client):
    from lingrad.estimators import LinearClassifier

    X, y, _ = problem("softmax", n=300, c=3)
    labels = y.astype(np.float64)
    labels[257] = np.nan
    with pytest.raises(ValueError, match="NaN"):  # the in-memory path refuses them
        LinearClassifier(optimizer="gd", max_iter=1).fit(X, labels)
    with pytest.raises(ValueError, match=r"y: expected finite labels, got nan at row 257"):
        LinearClassifier(optimizer="gd", max_iter=1, random_state=0).fit(
            chunked(X, 100), da.from_array(labels, chunks=100)
        )
    with pytest.raises(ValueError, match=r"y: expected finite labels, got nan at row 257"):
        ld.fit(chunked(X, 100), da.from_array(labels, chunks=100), client=client)


def test_nan_in_dask_X_names_the_row_of_the_whole_array(client):
    X, y, _ = problem("softmax", n=300, c=3)
    X[257, 2] = np.nan
    message = r"X: expected finite values, got nan at index \(257, 2\)"
    J = ld.DaskObjective("softmax", chunked(X, 100), y, client=client)
    with J, pytest.raises(ValueError, match=message):
        J.value_and_grad(np.zeros((X.shape[1] + 1, 3)))
    with pytest.raises(ValueError, match=message):
        Objective("softmax", X, y)  # the same words as in memory
