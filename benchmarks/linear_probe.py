"""A linear probe at ImageNet scale: softmax + L2 by L-BFGS on a GPU, against the bounds.

The largest use of a linear classifier today is the linear probe: a softmax classifier on the
features of a large model (ImageNet: 1,281,167 x 768 float32 features, 1,000 classes). lingrad's
objective and L-BFGS follow X's array library (issue 18), so a PyTorch tensor on a GPU is
fitted on the GPU, with no hop to NumPy per iteration. This script measures, in one run:

* ``pass``: one value-and-gradient pass of :class:`lingrad.objective.Objective` on the device,
  ``J = mean softmax loss + lam/2 ||W||^2`` and ``dJ/dW = [X, 1]^T dS + lam W``, against two
  bounds measured on the same device in the same run:

  - the *bandwidth bound*: a pass reads X twice (``X @ W`` and ``X^T dS``), ``2 N D 4`` bytes,
    at the device's memory bandwidth, measured by copying X (``N D 4`` bytes read and written);
  - the *product bound*: the time of the pass's two products alone (``X @ W`` measured once,
    doubled), ``2 x 2 N D C`` flops: with 1,000 classes the products, not the reads, bound the
    pass;

* ``fit``: the wall time of ``lingrad.train.fit(J, LBFGS(tol=1e-4))`` from zero weights to
  scikit-learn's tolerance (``max |dJ/dW| <= 1e-4``, LogisticRegression's ``tol``), its
  iterations and passes, or the measure reached at ``--max-iter``;
* ``cpu``: the same pass on the CPU (the NumPy fast path, all cores) on the same data, and
  ``J`` on both sides (float32 sums on two devices: equal to ~1e-6 relative).

The data are random features with class structure (``X = M[y] + noise``), float32, seeded;
``lam = 1 / N`` (scikit-learn's default ``C = 1``). Without a CUDA device (``--quick``, and the
test suite), the same script runs PyTorch CPU tensors at a small size, torch and NumPy on one
thread each (on a shared machine torch's thread pool spins under load), and says that the GPU
figures were not taken.

Run on a GPU machine: ``python benchmarks/linear_probe.py`` (about 3 minutes on an H200; the
data need ~4 GB of device memory and ~8 GB of host memory). ``--quick`` for a smoke run.
"""

from __future__ import annotations

import time

import numpy as np
from _timing import load, machine, parser, repeats
from threadpoolctl import threadpool_limits

from lingrad import optim
from lingrad.objective import Objective
from lingrad.train import fit

#: ImageNet-1k training features of a ViT-B: rows, feature width, classes.
FULL = (1_281_167, 768, 1_000)
#: The CPU-tensor run of ``--quick`` / no GPU.
SMALL = (20_000, 64, 10)
#: scikit-learn's LogisticRegression tolerance.
TOL = 1e-4


def make_data(torch, n: int, d: int, c: int, device: str, seed: int = 0):
    """``X = M[y] + noise`` float32 on ``device`` ``(n, d)``, labels ``y`` ``(n,)`` int64."""
    gen = torch.Generator(device=device).manual_seed(seed)
    y = torch.randint(0, c, (n,), generator=gen, device=device)
    means = torch.randn(c, d, generator=gen, device=device) * (2.0 / d**0.5)
    X = torch.randn(n, d, generator=gen, device=device)
    X += means[y]
    return X, y


def timed(fn, sync, n: int) -> float:
    """Median wall seconds of ``fn()`` over ``n`` runs after one warm-up, synchronised."""
    fn()
    sync()
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def pass_figures(torch, J, X, W, sync, n_repeats: int) -> dict:
    """The pass on X's device against its two bounds, measured there."""
    pass_s = timed(lambda: J.value_and_grad_unchecked(W), sync, n_repeats)
    Wt = torch.zeros((X.shape[1], W.shape[1]), dtype=X.dtype, device=X.device)
    product_s = 2 * timed(lambda: X @ Wt, sync, n_repeats)
    # A copy reads and writes N D 4 bytes: the 2 N D 4 bytes a pass reads, at the same rate.
    copy_s = timed(lambda: X.clone(), sync, n_repeats)
    return {
        "pass_s": pass_s,
        "product_s": product_s,
        "bandwidth_s": copy_s,
        "bandwidth": 2 * X.numel() * X.element_size() / copy_s,
        "J_device": J.value(W),
    }


def fit_figures(J, n_columns: int, W0, sync, max_iter: int) -> dict:
    """L-BFGS through the one trainer, from ``W0`` to scikit-learn's tolerance."""
    start = time.perf_counter()
    result = fit(
        J,
        optim.get("lbfgs", tol=TOL),
        n_columns=n_columns,
        W0=W0,
        epochs=max_iter,
        rng=np.random.default_rng(0),
    )
    sync()
    return {
        "fit_s": time.perf_counter() - start,
        "n_iter": result.n_iter,
        "n_evaluations": result.n_evaluations,
        "measure": result.history["grad_norm"][-1],
        "outcome": str(result.stop) if result.stop is not None else "max_iter reached",
        "W_library": type(result.W).__module__.split(".")[0],
    }


def cpu_figures(X, y, W, lam: float, n_repeats: int) -> dict:
    """The same pass on the CPU: NumPy copies of the data, lingrad's NumPy fast path."""
    Xh, yh = X.cpu().numpy(), y.cpu().numpy()
    J = Objective("softmax", Xh, yh, lam=lam)
    Wh = J.check_weights(W.cpu().numpy())
    cpu_s = timed(lambda: J.value_and_grad_unchecked(Wh), lambda: None, n_repeats)
    return {"cpu_s": cpu_s, "J_cpu": J.value(Wh)}


def measure_device(torch, size, device: str, n_repeats: int, max_iter: int) -> dict:
    """Pass, bounds and fit on ``device``; the CPU pass on the same data."""
    n, d, c = size
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    X, y = make_data(torch, n, d, c, device)
    lam = 1.0 / n
    J = Objective("softmax", X, y, lam=lam)
    W0 = torch.zeros((d + 1, c), dtype=X.dtype, device=device)
    gen = torch.Generator(device=device).manual_seed(1)
    W = 0.01 * torch.randn((d + 1, c), generator=gen, device=device)  # away from the start
    W = J.check_weights(W)
    figures = pass_figures(torch, J, X, W, sync, n_repeats)
    figures |= fit_figures(J, c, W0, sync, max_iter)
    figures |= cpu_figures(X, y, W, lam, max(1, n_repeats // 2))
    return figures


def report(size, device: str, m: dict) -> None:
    n, d, c = size
    print(
        f"softmax + L2 (lam = 1/N), L-BFGS, X float32 {n:,} x {d}, {c} classes, torch on {device}"
    )
    print(f"  pass (value + gradient): {m['pass_s'] * 1e3:.2f} ms")
    print(f"  its two products alone:  {m['product_s'] * 1e3:.2f} ms")
    print(
        f"  bandwidth bound:         {m['bandwidth_s'] * 1e3:.3f} ms "
        f"(X read twice at the measured {m['bandwidth'] / 1e9:.0f} GB/s)"
    )
    print(
        f"  fit to tol {TOL:g}: {m['fit_s']:.2f} s, {m['n_iter']} iterations, "
        f"{m['n_evaluations']} passes, measure {m['measure']:.3g} ({m['outcome']})"
    )
    print(f"  W returned on: {m['W_library']}")
    print(f"  J on {device} {m['J_device']:.9g}, on the CPU (NumPy) {m['J_cpu']:.9g}")
    print(f"pass / bandwidth bound = {m['pass_s'] / m['bandwidth_s']:.2f}")
    print(f"pass / two products = {m['pass_s'] / m['product_s']:.2f}")
    print(f"numpy cpu pass / torch {device} pass = {m['cpu_s'] / m['pass_s']:.2f}")


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--max-iter", type=int, default=300, help="L-BFGS iterations at most")
    args = p.parse_args()
    import torch

    gpu = torch.cuda.is_available() and not args.quick
    device = "cuda" if gpu else "cpu"
    size = FULL if gpu else SMALL
    print(machine(), "| load", load())
    if gpu:
        print("device:", torch.cuda.get_device_name(0))
    else:
        print(
            "no CUDA device (or --quick): PyTorch CPU tensors at a small size; "
            "the GPU figures were NOT taken"
        )
    if gpu:
        figures = measure_device(torch, size, device, repeats(args), args.max_iter)
    else:  # one thread each: a shared machine's cores make torch's thread pool spin
        torch.set_num_threads(1)
        with threadpool_limits(1):
            figures = measure_device(torch, size, device, repeats(args), args.max_iter)
    report(size, device, figures)


if __name__ == "__main__":
    main()
