"""How long a run's report takes (iris, digits), against references measured in the same run.

For each dataset the run is what ``lingrad train --dataset NAME`` does by default (standardised
data, softmax, L-BFGS, the trajectory kept for the landscape); then the report's six figures and
``index.html`` are written into a fresh folder

* with ``workers=1`` (every figure drawn in this process), and
* with ``workers=2`` (this process and one forked child, each taking the next figure: the
  default when a second core is free, see ``lingrad.plots.parallel_workers``),

taking turns inside each repeat. References, timed in the same turns: the training itself
(``fit``) and one bare Matplotlib ``savefig`` of an empty figure to PNG (the floor of any
figure). Wall times are medians; ``cpu_s`` is this process's CPU time plus its children's
(``os.times``), so a report drawn in two processes shows its total work there.

The target of issue 17 is a digits report in <= 2 s of wall time on the 2-core machine when it
is not busy: the load is printed; under load the two processes share the cores with everyone.

Run: ``python benchmarks/report_speed.py`` (``--quick`` for a smoke run).
"""

from __future__ import annotations

import functools
import io
import os
import statistics
import tempfile
import time

import numpy as np
from _timing import load, machine, parser, repeats, table
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from lingrad import datasets, optim, plots, report
from lingrad.objective import Objective
from lingrad.train import fit


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _run(name: str):
    """The default run of ``lingrad train --dataset name`` and what its report needs."""
    data = datasets.load(name)
    scaler = datasets.Standardizer().fit(data.X_train)
    X_train, X_val = scaler.transform(data.X_train), scaler.transform(data.X_val)
    J = Objective("softmax", X_train, data.y_train, lam=1e-4)
    C = len(data.class_names)

    def train():
        return fit(J, optim.get("lbfgs"), n_columns=C, epochs=100, evaluate_every=1,
                   rng=np.random.default_rng(0), trajectory_every=1)  # fmt: skip

    r = train()

    def write(workers):
        with tempfile.TemporaryDirectory() as tmp:
            report.write_run_report(
                tmp, W=r.W, X=X_val, y=data.y_val, class_names=data.class_names,
                image_shape=data.image_shape, history=r.history, config={"loss": "softmax"},
                metrics={}, objective=J, trajectory=r.trajectory, images=data.X_val,
                mean=scaler.mean, std=scaler.scale, progress=False, workers=workers,
            )  # fmt: skip

    return train, write


def _empty_savefig():
    fig = Figure(figsize=(6.4, 4.8))
    FigureCanvasAgg(fig)
    fig.savefig(io.BytesIO(), format="png", dpi=120)


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    n = repeats(args)
    rows = []
    print(f"{machine()}; load {load()} (before); {n} repeats, medians; "
          f"parallel_workers() = {plots.parallel_workers()}")  # fmt: skip
    for name in ("iris", "digits"):
        train, write = _run(name)
        cases = {
            "fit (reference)": train,
            "empty savefig (reference)": _empty_savefig,
            "report, workers=1": functools.partial(write, 1),
            "report, workers=2": functools.partial(write, 2),
        }
        for fn in cases.values():
            fn()  # warm-up: imports, fonts, caches
        times: dict[str, list[tuple[float, float]]] = {case: [] for case in cases}
        for _ in range(n):
            for case, fn in cases.items():
                wall, cpu = time.perf_counter(), _cpu()
                fn()
                times[case].append((time.perf_counter() - wall, _cpu() - cpu))
        med = {c: [statistics.median(x[i] for x in t) for i in (0, 1)] for c, t in times.items()}
        for case, (wall, cpu) in med.items():
            fit_s, empty_s = med["fit (reference)"][0], med["empty savefig (reference)"][0]
            rows.append({"dataset": name, "case": case, "wall_s": wall, "cpu_s": cpu,
                         "x_fit": wall / fit_s, "x_empty_savefig": wall / empty_s})  # fmt: skip
        one, two = med["report, workers=1"][0], med["report, workers=2"][0]
        rows.append({"dataset": name, "case": "workers=2 / workers=1 (wall)", "wall_s": two / one})
    print(table(rows, ["dataset", "case", "wall_s", "cpu_s", "x_fit", "x_empty_savefig"]))
    print(f"load {load()} (after)")


if __name__ == "__main__":
    main()
