"""The classic exercise: loop-by-loop losses (lingrad.reference) against the vectorised ones.

Both compute the mean loss and dL/dS for the same scores; the speed-up is printed per loss.
Run: ``python benchmarks/naive_vs_vectorized.py`` (``--quick`` for a smoke run).
"""

from __future__ import annotations

import numpy as np
from _timing import machine, measure, parser, repeats, table

from lingrad import losses, reference


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    N, C = (50, 10) if args.quick else (2_000, 10)
    n = repeats(args)
    rng = np.random.default_rng(0)
    S = rng.standard_normal((N, C))
    y = rng.integers(0, C, N)
    cases = {
        "hinge": (S, y),
        "crammer_singer": (S, y),
        "one_vs_all_hinge": (S, y),
        "softmax_cross_entropy": (S, y),
        "kl_divergence": (S, rng.dirichlet(np.ones(C), size=N)),
        "squared_error": (S, rng.standard_normal((N, C))),
        "logistic": (S[:, :1], y % 2),
        "sigmoid_squared_error": (S, y),
    }
    print(f"machine: {machine()}")
    print(f"N = {N}, C = {C}; medians over {n} repeats\n")
    rows = []
    for name, (scores, target) in cases.items():
        fast = losses.get(name)(scores, target)
        slow = getattr(reference, name)(scores, target)
        assert abs(fast[0] - slow[0]) <= 1e-10 * max(1.0, abs(slow[0])), name
        loop_fn, vector_fn = getattr(reference, name), losses.get(name)
        t_loop = measure(lambda f=loop_fn, a=(scores, target): f(*a), n)
        t_vec = measure(lambda f=vector_fn, a=(scores, target): f(*a), n)
        rows.append(
            {
                "loss": name,
                "loops_ms": 1e3 * t_loop["median"],
                "vectorised_ms": 1e3 * t_vec["median"],
                "speed-up": t_loop["median"] / t_vec["median"],
            }
        )
    print(table(rows, ["loss", "loops_ms", "vectorised_ms", "speed-up"]))
    print()
    for r in rows:
        print(f"{r['loss']}: loops / vectorised = {r['speed-up']:.0f}")


if __name__ == "__main__":
    main()
