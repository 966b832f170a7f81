"""``lingrad gradcheck``: every gradient method against the numerical gradient, as a table."""

from __future__ import annotations

import argparse

import numpy as np
from numpy.typing import NDArray

from lingrad import datasets, grad, losses, regularizers
from lingrad._validation import check_int, fail
from lingrad.cli.common import SubParsers, add_command
from lingrad.objective import Objective

EXACT_METHODS = tuple(m for m in grad.methods() if m != "numerical")

#: The most numbers random data may hold: ``--n`` x ``--d`` (the examples), ``--n`` x
#: ``--classes`` (the targets) and ``(--d + 1)`` x ``--classes`` (the weights) are each refused
#: above it before anything is allocated (10 million float64 numbers are 80 MB).
MAX_RANDOM_SIZE = 10_000_000


def register(sub: SubParsers) -> None:
    """Add the ``gradcheck`` command to ``sub``; its ``func`` default is :func:`run`."""
    p = add_command(
        sub,
        "gradcheck",
        "check each gradient method against the numerical gradient",
        "Build an objective (loss + regulariser) on random or shipped data, compute its "
        "gradient with each method and compare it with centred finite differences. Prints "
        "the maximum relative error per method and pass/fail; exit status 1 if any fails.",
    )
    p.add_argument("--loss", default="softmax", help=f"one of {', '.join(losses.NAMES)}")
    p.add_argument("--regularizer", default="l2", choices=regularizers.NAMES, help="regulariser")
    p.add_argument("--lam", type=float, default=0.1, help="regularisation strength")
    p.add_argument(
        "--gradient",
        action="append",
        choices=EXACT_METHODS,
        help="a method to check (repeat for several; default: all of them)",
    )
    p.add_argument(
        "--mode",
        default="full",
        choices=("full", "sparse", "direction"),
        help="every coordinate, --samples random ones, or --samples random directions",
    )
    p.add_argument("--samples", type=int, default=None, help="coordinates or directions")
    p.add_argument("--dtype", default="float64", choices=("float64", "float32"), help="precision")
    p.add_argument("--dataset", default=None, choices=datasets.NAMES, help="instead of random")
    p.add_argument(
        "--n",
        type=int,
        default=50,
        help=f"random data: examples (--n x --d at most {MAX_RANDOM_SIZE:,})",
    )
    p.add_argument("--d", type=int, default=5, help="random data: features")
    p.add_argument("--classes", type=int, default=3, help="random data: classes")
    p.add_argument("--seed", type=int, default=0, help="seed of the data and weights")
    p.set_defaults(func=run)


def _targets(spec: losses.LossSpec, n: int, c: int, rng: np.random.Generator) -> np.ndarray:
    """Random targets of the kind the loss ``spec`` takes, for ``c`` score columns."""
    if spec.target is losses.Target.DISTRIBUTION:
        return rng.dirichlet(np.ones(c), n)
    if spec.target is losses.Target.REAL:
        return rng.standard_normal((n, c))
    if spec.target is losses.Target.BINARY:
        return rng.integers(0, 2, n)
    return rng.integers(0, c, n)


def problem(
    args: argparse.Namespace, spec: losses.LossSpec, rng: np.random.Generator
) -> tuple[NDArray[np.floating], np.ndarray, int]:
    """``(X, y, n_classes)`` from ``--dataset`` or random data of the requested size."""
    dtype = np.dtype(args.dtype)
    if args.dataset is not None:
        data = datasets.load(args.dataset, seed=args.seed)
        X = datasets.Standardizer().fit(data.X_train).transform(data.X_train).astype(dtype)
        c = 1 if spec.binary_only else data.n_classes
        if spec.target not in (losses.Target.LABELS, losses.Target.BINARY_OR_ONE_HOT):
            return X, _targets(spec, X.shape[0], c, rng), c
        return X, data.y_train, c
    n, d = check_int("--n", args.n), check_int("--d", args.d)
    c = 1 if spec.binary_only else check_int("--classes", args.classes)
    if c < spec.min_columns:
        fail("--classes", f"at least {spec.min_columns} for {spec.name}", c)
    sizes = {"--n x --d": n * d, "--n x --classes": n * c, "--d x --classes": (d + 1) * c}
    for names, size in sizes.items():
        if size > MAX_RANDOM_SIZE:
            fail(names, f"at most {MAX_RANDOM_SIZE:,} random numbers", f"{size:,}")
    return rng.standard_normal((n, d)).astype(dtype), _targets(spec, n, c, rng), c


def run(args: argparse.Namespace) -> int:
    """Run ``lingrad gradcheck`` with the parsed ``args``; return the exit status (0 if every
    method passes, else 1).

    Bad input raises ``ValueError``/``TypeError``, which :func:`lingrad.cli.main` turns into
    ``lingrad: error: ...`` and exit status 2.
    """
    spec = losses.spec(args.loss)
    rng = np.random.default_rng(args.seed)
    X, y, c = problem(args, spec, rng)
    objective = Objective(spec.name, X, y, regularizer=args.regularizer, lam=args.lam)
    W = (0.5 * rng.standard_normal((X.shape[1] + 1, c))).astype(X.dtype)
    methods = args.gradient or list(EXACT_METHODS)
    print(
        f"{spec.name} + {args.regularizer} (lam={args.lam:g}), X {X.shape[0]} x {X.shape[1]} "
        f"{X.dtype}, W {W.shape[0]} x {W.shape[1]}; {args.mode} check against centred "
        "differences"
    )
    header = f"{'method':<10} {'max rel. error':>14} {'checked':>8} {'kinks':>6}  result"
    print(header)
    print("-" * len(header))
    failed = 0
    for method in methods:
        value_and_grad = grad.get(method)(objective)
        result = grad.gradcheck(
            lambda V, f=value_and_grad: f(V),
            W,
            mode=args.mode,
            samples=args.samples,
            rng=np.random.default_rng(args.seed),
        )
        failed += not result.passed
        print(row(method, result))
    return 1 if failed else 0


def row(method: str, result: grad.GradcheckResult) -> str:
    """One line of the table: the method, the largest relative error over the smooth checks
    (``n/a`` when every check sat at a kink), the counts and the verdict.

    Examples:
        >>> import numpy as np
        >>> kink = lambda w: (float(np.abs(w).sum()), np.where(w >= 0, 1.0, -1.0))
        >>> print(row("analytic", grad.gradcheck(kink, np.zeros(2))))  # |w| at w = 0
        analytic              n/a        2      2  nothing smooth compared: all 2 at a kink
    """
    if result.compared == 0:
        error, verdict = "n/a", f"{result.verdict}: all {result.checked} at a kink"
    else:
        error = f"{result.max_rel_error:.3e}"
        verdict = f"{result.verdict} (tolerance {result.tolerance:g})"
    return f"{method:<10} {error:>14} {result.checked:>8d} {len(result.kinks):>6d}  {verdict}"
