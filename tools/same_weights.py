"""Do two versions of lingrad train to the same weights? A check for refactors.

Records the weights of many training configurations into one ``.npz``: every classification
loss x every optimiser (x four schedules for sgd/adam/local) on iris, regression, early
stopping, class weights, the autodiff and numerical gradients, float32, the configurations of
``benchmarks/accuracy.py``, ``lingrad train`` runs, and every Dask solver on a 2-worker local
cluster. Run it once per source tree, then compare:

    PYTHONPATH=OLD/src python tools/same_weights.py record old.npz
    PYTHONPATH=NEW/src python tools/same_weights.py record new.npz
    python tools/same_weights.py compare old.npz new.npz     # exit 1 if any differs by > 1e-12

It accepts the names of lingrad 0.1.0 (``penalty=``, ``method=``) as well as today's
(``regularizer=``, ``solver=``), so that a tree from before the engine refactor can be recorded.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

TOLERANCE = 1e-12


def named(cls, params: dict) -> dict:
    """``params`` with the regulariser under the name ``cls`` takes (0.1.0: ``penalty``), and
    the epochs and patience under today's ``max_iter`` and ``n_iter_no_change``."""
    taken = inspect.signature(cls.__init__).parameters
    if "penalty" in taken and "regularizer" in params:
        params["penalty"] = params.pop("regularizer")
    for old, new in [("epochs", "max_iter"), ("patience", "n_iter_no_change")]:
        if new in taken and old in params:
            params[new] = params.pop(old) + (old == "patience")
    return params


def shipped_sets():
    from sklearn import datasets as skd
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    for name in ("iris", "wine", "breast_cancer", "digits"):
        X, y = getattr(skd, f"load_{name}")(return_X_y=True)
        X_train, _, y_train, _ = train_test_split(X, y, test_size=0.2, stratify=y, random_state=0)
        yield name, StandardScaler().fit_transform(X_train), y_train


def estimators(out: dict) -> None:
    from sklearn.datasets import load_diabetes, load_digits, load_iris
    from sklearn.preprocessing import StandardScaler

    from lingrad import losses
    from lingrad.estimators import LinearClassifier, LinearRegressor

    Xi, yi = load_iris(return_X_y=True)
    Xi = StandardScaler().fit_transform(Xi)
    skipped = ("squared_error", "kl_divergence", "squared_hinge")  # not in 0.1.0 / not labels
    for loss in [n for n in losses.NAMES if n not in skipped]:
        for opt in ("sgd", "gd", "momentum", "nesterov", "adam", "random", "local", "genetic"):
            schedules = ("constant", "exponential", "plateau", "cosine")
            for schedule in schedules if opt in ("sgd", "adam", "local") else ("constant",):
                y = (yi == 0).astype(int) if loss == "logistic" else yi
                params = dict(loss=loss, optimizer=opt, schedule=schedule, epochs=15, lam=1e-3)
                params.update(random_state=3, batch_size=32, regularizer="l2")
                model = LinearClassifier(**named(LinearClassifier, params))
                out[f"iris/{loss}/{opt}/{schedule}"] = model.fit(Xi, y).W_
    Xd, yd = load_diabetes(return_X_y=True)
    Xd = StandardScaler().fit_transform(Xd)
    for opt in ("sgd", "gd", "adam"):
        params = dict(optimizer=opt, epochs=20, random_state=1, regularizer="elastic_net")
        model = LinearRegressor(**named(LinearRegressor, params))
        out[f"diabetes/{opt}"] = model.fit(Xd, (yd - yd.mean()) / yd.std()).W_
    X, y = load_digits(return_X_y=True)
    X, y = StandardScaler().fit_transform(X)[:600], y[:600]
    extras = [
        dict(early_stopping=True, patience=2),
        dict(class_weight="balanced"),
        dict(gradient="autodiff"),
        dict(gradient="numerical", epochs=2),
    ]
    for extra in extras:
        params = {**dict(loss="softmax", epochs=10, random_state=0), **extra}
        out[f"digits/{sorted(extra)}"] = LinearClassifier(**params).fit(X, y).W_
    model = LinearClassifier(loss="hinge", epochs=10, random_state=0)
    out["digits/float32"] = model.fit(X.astype(np.float32), y).W_


def accuracy_benchmark(out: dict) -> None:
    """The configurations of ``benchmarks/accuracy.py``: full-batch GD and the defaults."""
    from sklearn.datasets import load_diabetes
    from sklearn.preprocessing import StandardScaler

    from lingrad.estimators import LinearClassifier, LinearRegressor

    for name, X, y in shipped_sets():
        for loss in ("softmax", "hinge"):
            params = dict(loss=loss, lam=1.0 / len(y), optimizer="gd", learning_rate=1.0)
            params.update(schedule="constant", epochs=200, random_state=0)
            out[f"accuracy/{name}/{loss}/gd"] = LinearClassifier(**params).fit(X, y).W_
            default = LinearClassifier(loss=loss, random_state=0)
            out[f"accuracy/{name}/{loss}/default"] = default.fit(X, y).W_
    X, y = load_diabetes(return_X_y=True)
    out["accuracy/diabetes"] = (
        LinearRegressor(random_state=0).fit(StandardScaler().fit_transform(X), y).W_
    )


def cli(out: dict) -> None:
    runs = [
        [],
        ["--optimizer", "adam", "--epochs", "5"],
        ["--optimizer", "local", "--epochs", "50"],
    ]
    runs.append(["--optimizer", "momentum", "--schedule", "plateau", "--epochs", "8"])
    with tempfile.TemporaryDirectory() as tmp:
        for i, args in enumerate(runs):
            name = f"r{i}"
            command = [sys.executable, "-m", "lingrad", "train", "--runs-dir", tmp]
            command += ["--name", name, "--no-report", "-q", *args]
            subprocess.run(command, check=True, capture_output=True)
            out[f"cli/{' '.join(args) or 'make run'}"] = np.load(Path(tmp, name, "model.npz"))["W"]


def dask(out: dict) -> None:
    import dask.array as da
    from distributed import Client, LocalCluster

    import lingrad.distributed as ld
    from lingrad.estimators import LinearClassifier
    from lingrad.optim import SGD

    key = "solver" if "solver" in inspect.signature(ld.fit).parameters else "method"
    rng = np.random.default_rng(0)
    X = rng.standard_normal((4000, 12))
    y = (X[:, :3] @ rng.standard_normal(3) > 0).astype(int) + (X[:, 3] > 1)
    solvers = {
        "lbfgs": dict(max_iter=30),
        "gd": dict(optimizer=SGD(0.5), max_iter=20),
        "sgd": dict(epochs=2, batch_size=64),
        "parallel_sgd": dict(epochs=2, batch_size=64),
    }
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
    )
    with cluster, Client(cluster) as client:
        Xd, yd = da.from_array(X, chunks=1000), da.from_array(y, chunks=1000)
        for solver, options in solvers.items():
            if "epochs" in options:
                options = {**options, "rng": np.random.default_rng(1)}
            result = ld.fit(
                Xd, yd, loss="softmax", lam=1e-3, client=client, **{key: solver}, **options
            )
            out[f"dask/{solver}"] = result.W
        model = LinearClassifier(optimizer="sgd", epochs=2, random_state=0)
        out["dask/estimator"] = model.fit(Xd, yd).W_


def record(path: str) -> None:
    warnings.filterwarnings("ignore")
    out: dict = {}
    for part in (estimators, accuracy_benchmark, cli, dask):
        part(out)
    np.savez(path, **{k: np.asarray(v) for k, v in out.items()})
    print(f"{len(out)} configurations -> {path}")


def compare(a_path: str, b_path: str) -> int:
    a, b = np.load(a_path), np.load(b_path)
    worst, differing = 0.0, []
    for key in a.files:
        if key not in b.files or a[key].shape != b[key].shape:
            differing.append(f"{key}: missing or another shape")
            continue
        gap = float(np.max(np.abs(a[key] - b[key])))
        worst = max(worst, gap)
        if gap > TOLERANCE:
            differing.append(f"{key}: max |dW| = {gap:.3g}")
    print(f"{len(a.files)} configurations compared; largest |dW| = {worst:.3g}")
    print("\n".join(differing) if differing else f"all within {TOLERANCE:g}")
    return 1 if differing else 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "record":
        record(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "compare":
        sys.exit(compare(sys.argv[2], sys.argv[3]))
    else:
        sys.exit(__doc__)
