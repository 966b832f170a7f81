"""The array-API layer's cost on NumPy: every score-space kernel against its NumPy-only original.

The losses, the model's softmax / sigmoid / decision rule, the squared-hinge curvature and the
regularisers now follow the input's array library (``lingrad._array_api``); on NumPy they must
stay as fast as before. The originals are read from the commit before that change
(``REFERENCE``, through ``git show``) and imported as modules of their own. Old and new run
back to back on the same float64 scores, in alternating order, many times; the figure is the
median of the per-pair ratios new / old (pairs cancel the slow swings of a shared machine's
load, the median its spikes), beside the minimum time of each. Times are the process's CPU
time (``time.process_time``, all threads), which other processes on a busy machine disturb far
less than the wall clock.

Sizes: ``(N, C)`` = (64, 10) (an SGD mini-batch), (2,000, 10) and (50,000, 10); the binary
losses (logistic, sigmoid + squared) on one column.

Run: ``python benchmarks/array_api_overhead.py`` (``--quick`` for a smoke run).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
import types
from functools import partial
from pathlib import Path

import numpy as np
from _timing import load, machine, parser, repeats, table

from lingrad import curvature, losses, model, regularizers

#: The commit before the array-API layer: the NumPy-only kernels measured against.
REFERENCE = "ff5ab21c0c073164e241612992a361d2c33b4ead"
ROOT = Path(__file__).resolve().parent.parent


def reference(name: str, imports: dict[str, str]) -> types.ModuleType:
    """``src/lingrad/<name>.py`` at ``REFERENCE`` as a module ``reference_<name>``, with the
    ``imports`` lines rewritten (so that the old losses use the old sigmoid)."""
    source = subprocess.run(
        ["git", "show", f"{REFERENCE}:src/lingrad/{name}.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for old, new in imports.items():
        source = source.replace(old, new)
    module = types.ModuleType(f"reference_{name}")
    sys.modules[module.__name__] = module
    exec(compile(source, f"{REFERENCE[:7]}:{name}.py", "exec"), module.__dict__)
    return module


def targets(spec, rng, N, C):
    """The kernel's targets for scores ``(N, C)``, as ``LossSpec.prepare`` makes them."""
    if spec.target == "distribution":
        y = rng.dirichlet(np.ones(C), size=N)
    elif spec.target == "real":
        y = rng.standard_normal((N, C))
    else:
        y = rng.integers(0, max(C, 2), N)
    return spec.prepare(y, N, C, np.float64)


def pairs(old, N, C, rng):
    """``{name: (new, old)}`` zero-argument calls on the same inputs."""
    old_losses, old_model, old_curvature, old_regularizers = old
    S = rng.standard_normal((N, C))
    out = {}
    for name in losses.NAMES:
        spec = losses.spec(name)
        k = spec.n_columns(C)
        Sk, T = S[:, :k].copy(), targets(spec, rng, N, k)
        new_kernel, old_kernel = spec.kernel, old_losses.spec(name).kernel
        out[name] = (partial(new_kernel, Sk, T), partial(old_kernel, Sk, T))
    for name in ("softmax", "sigmoid", "predict_from_scores"):
        out[f"model.{name}"] = (
            partial(getattr(model, name), S),
            partial(getattr(old_model, name), S),
        )
    y = rng.integers(0, C, N)
    new_c, old_c = curvature.get("squared_hinge"), old_curvature.get("squared_hinge")
    new_cache, old_cache = new_c.prepare(S, y), old_c.prepare(S, y)
    out["curvature.squared_hinge"] = (
        lambda: new_c.apply(new_cache, S),
        lambda: old_c.apply(old_cache, S),
    )
    W, dW = rng.standard_normal((N // 10 + 2, C)), np.zeros((N // 10 + 2, C))
    new_r, old_r = regularizers.elastic_net(0.5), old_regularizers.elastic_net(0.5)
    out["regularizer.add_grad"] = (
        lambda: new_r.add_grad(W, dW, 0.1),
        lambda: old_r.add_grad(W, dW, 0.1),
    )
    out["regularizer.value"] = (lambda: new_r.value(W), lambda: old_r.value(W))
    return out


def paired(new, old, n: int) -> tuple[float, float, float]:
    """Median of ``n`` ratios time(new) / time(old) of back-to-back calls (order alternating),
    and the minimum time of each, in seconds."""
    for _ in range(3):
        new(), old()
    ratios, best_new, best_old = [], float("inf"), float("inf")
    for i in range(n):
        times = {}
        for name, fn in (("new", new), ("old", old)) if i % 2 else (("old", old), ("new", new)):
            start = time.process_time()
            fn()
            times[name] = time.process_time() - start
        ratios.append(times["new"] / times["old"])
        best_new, best_old = min(best_new, times["new"]), min(best_old, times["old"])
    return statistics.median(ratios), best_new, best_old


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    sizes = [(64, 10), (2_000, 10)] if args.quick else [(64, 10), (2_000, 10), (50_000, 10)]
    old_model = reference("model", {})
    old = (
        reference("losses", {"from lingrad.model import": "from reference_model import"}),
        old_model,
        reference("curvature", {"from lingrad.model import": "from reference_model import"}),
        reference("regularizers", {}),
    )
    rng = np.random.default_rng(0)
    rows, worst = [], {}
    for N, C in sizes:
        n = repeats(args) * (30 if N < 1_000 else 5 if N < 10_000 else 3)
        for name, (new, ref) in pairs(old, N, C, rng).items():
            ratio, best_new, best_old = paired(new, ref, n)
            worst[name] = max(worst.get(name, 0.0), ratio)
            rows.append(
                {
                    "kernel": name,
                    "N x C": f"{N} x {C}",
                    "old_ms": best_old * 1e3,
                    "new_ms": best_new * 1e3,
                    "new / old": ratio,
                }
            )
    print(f"machine: {machine()}; load {load()}; reference {REFERENCE[:7]}")
    print(table(rows, ["kernel", "N x C", "old_ms", "new_ms", "new / old"]))
    print()
    for name, ratio in worst.items():
        print(f"{name}: worst median new / old = {ratio:.3f}")


if __name__ == "__main__":
    main()
