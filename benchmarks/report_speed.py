"""How long a digits run's report takes: the old default against the new, in one process.

* before: PNG and SVG of every figure, the loss landscape's ~1,200 small products on the
  default BLAS threads (two threads stall on products this small, worse on a busy machine);
* after (the default since issue 17): PNG only, the landscape on one BLAS thread.

Both write the same six figures of the same run (digits, standardised, 5 epochs of SGD with
its trajectory) into a fresh folder, taking turns inside each repeat; wall and CPU seconds
(``time.process_time``, which a busy machine inflates less) are medians.

Run: ``python benchmarks/report_speed.py`` (``--quick`` for a smoke run).
"""

from __future__ import annotations

import contextlib
import statistics
import tempfile
import time

import numpy as np
from _timing import load, machine, parser, repeats, table

from lingrad import datasets, optim, report
from lingrad.objective import Objective
from lingrad.train import fit, runners


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    n = repeats(args)
    data = datasets.load("digits")
    scaler = datasets.Standardizer().fit(data.X_train)
    X_train, X_val = scaler.transform(data.X_train), scaler.transform(data.X_val)
    J = Objective("softmax", X_train, data.y_train, lam=1e-3)
    r = fit(J, optim.get("sgd", 0.1), n_columns=10, epochs=5, batch_size=64,
            rng=np.random.default_rng(0), trajectory_every=1)  # fmt: skip

    def write(formats, threads):
        original = runners.blas_threads
        if threads == "default":  # what the landscape did before: no thread limit
            runners.blas_threads = lambda *a: contextlib.nullcontext()
        try:
            with tempfile.TemporaryDirectory() as tmp:
                report.write_run_report(
                    tmp, W=r.W, X=X_val, y=data.y_val, class_names=data.class_names,
                    image_shape=data.image_shape, history=r.history, config={"loss": "softmax"},
                    metrics={}, objective=J, trajectory=r.trajectory, images=data.X_val,
                    formats=formats, mean=scaler.mean, std=scaler.scale, progress=False,
                )  # fmt: skip
        finally:
            runners.blas_threads = original

    cases = {"before (png+svg, BLAS default)": (("png", "svg"), "default"),
             "after (png, one BLAS thread)": (("png",), "one")}  # fmt: skip
    for case in cases.values():
        write(*case)  # warm-up: imports, fonts
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
    for _ in range(n):
        for name, case in cases.items():
            wall, cpu = time.perf_counter(), time.process_time()
            write(*case)
            times[name].append((time.perf_counter() - wall, time.process_time() - cpu))
    rows = []
    for name, t in times.items():
        wall = statistics.median(x[0] for x in t)
        cpu = statistics.median(x[1] for x in t)
        rows.append({"case": name, "wall_s": wall, "cpu_s": cpu})
    base = rows[0]
    for row in rows:
        row["wall_ratio"] = row["wall_s"] / base["wall_s"]
        row["cpu_ratio"] = row["cpu_s"] / base["cpu_s"]
    print(f"{machine()}; load {load()}; {n} repeats, medians")
    print(table(rows, ["case", "wall_s", "cpu_s", "wall_ratio", "cpu_ratio"]))
    print(f"report after / before (wall) = {rows[-1]['wall_ratio']:.2f}")


if __name__ == "__main__":
    main()
