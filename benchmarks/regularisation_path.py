"""The warm-started lambda path against independent fits: the regularisation path of
``LinearClassifierCV`` (issue 14: <= 0.4 x the time of the same fits from W = 0).

One training set, the default grid of 10 lambdas (1 down to 1e-6, strongest first), the default
solver (``optimizer="auto"``, L-BFGS at tol 1e-4):

* path: :func:`lingrad.model_selection.fit_path`, one ``LinearClassifier`` refitted at each
  lambda in turn, each fit a warm start from the previous ones (weights extrapolated along the
  path, L-BFGS memory kept): what ``LinearClassifierCV`` does in each fold;
* independent: ten ``LinearClassifier(lam=...)`` fits, each from W = 0.

Both end at the same optima (the objective values are printed); the ratio is path / independent
(median of interleaved repeats), beside the ratio of the passes over X (counted, the stable
figure on a loaded machine). BLAS is held to one thread (small problems; see NOTES.md).
Run: ``python benchmarks/regularisation_path.py`` (``--quick`` for a smoke run).

Kept (stop 26, on top of what follows): on the path only (the independent fits stay SciPy's
L-BFGS-B iterate for iterate),

* **bias scaling** (``lbfgs.bias_scaling``): the two-loop starts from a diagonal ``H_0``,
  ``gamma`` on the penalised weights and ``gamma (c + lam) / c`` on the unpenalised bias, ``c``
  the loss's own curvature along the newest pair (``y_L = y - lam M s``). Under a strong
  penalty the bias is the least curved direction (digits, lam = 1: Hessian eigenvalues 1.0-2.1
  on the weights, 0.08 on the bias; condition 27 with it, 2 without), which ``gamma I`` steps
  ~12 x too short; the first fit takes it too (``_path_cold_start``: an empty state with the
  flag): digits lam = 1: 13 -> 8 iterations, synthetic 6 -> 4;
* **40 pairs** (``estimators.PATH_MEMORY``, where P <= 8192: the compiled two-loop, ~50 us):
  digits 97 -> 83 passes, breast cancer 157 -> 98;
* **a damped straight line**: the start ``W_j + r (W_j - W_{j-1}) t``, ``r`` the projection of
  the last rate ``dW / dlog lam`` on the one before, in [0, 1] (``model_selection.damping``):
  where the optimum's motion dies out (the weak end) the line overshot and its trial cost a
  second pass per fit: synthetic 10,000 x 100: 40 -> 33 passes;
* per fit: the L2 shift of the memory in one operation (``continue_state``; was a loop of
  allocations per pair), one generator for an unseeded path, ``math.prod`` in
  ``_continuation``.

Passes of the path over six sets (``--repeats`` aside; digits, make_classification 2,000 and
10,000 x 100, wine, breast cancer, iris), each step added to the previous: 543 (stop 25) ->
455 (bias scaling) -> 448 (damping) -> 370 (40 pairs). Independent fits with the path's solver
settings (40 pairs, bias scaling) would take 219 and 110 passes on digits and synthetic 10,000
(against 248 and 114): the warm starts remain the bulk of the gain (83 / 219 = 0.38).
Measured (2 cores, load 3.4-5.4, ``--repeats 5``; time ratios of 3-7 runs, quick and default
interleaved; the pass time is bimodal on this machine, 0.5 or 1.0 ms on digits from run to
run, and the ratio moves with it: one digits run gave 0.23). On digits the time ratio stays
~0.04 above the pass ratio: the path's fixed cost per fit (~1 ms: the estimator's and the
trainer's set-up, outside ``fit_lams``) is a larger share of its ~100 ms than of the
independent fits' ~300 ms; the target (<= 0.4) is met in 6 of 7 runs there, not with margin:

=================================  ==================  =================  ==========  ===========
                                   passes stop 25      passes now         time st. 25 time now
=================================  ==================  =================  ==========  ===========
digits                             104 / 248  0.419     83 / 248  0.335   0.44-0.46   0.37-0.42
make_classification 2,000 x 100     53 / 135  0.393     43 / 135  0.319   0.37-0.42   0.35-0.38
make_classification 10,000 x 100    46 / 114  0.404     32 / 114  0.281   0.42        0.25-0.30
=================================  ==================  =================  ==========  ===========

Tried at stop 26, not kept: a scalar ``H_0 = 1 / (c + lam)`` on the weights and ``1 / c`` on the
bias (``c = y_L.y_L / s.y_L``: 94 / 30 iterations on digits / synthetic 10,000, against 87 /
32 with the bias scaling, but digits lam = 2.2e-3 11 -> 20; ``c = s.y_L / s.s``: 95 / 30), the
bias scaling from the second fit only (521 passes over the six sets against 455), no
extrapolation at all (the quasi-Newton step from the shifted memory as each fit's first step:
447 against 455, but digits 115 against 97), the damping also above 1 (up to 2 or 10: 525
against 448), accepting the extrapolated trial on Armijo's condition alone (467 against 455:
at the weak end it fails it, and the search then evaluates alpha = 1 again), 20 pairs (393
against 370); a Kronecker-factored ``H_0`` (``(c Sigma (x) A + lam M)^-1``, ``Sigma = [X, 1]^T
[X, 1] / N``, ``A`` the softmax Hessian at uniform probabilities, through the generalised
eigenvectors of ``(M, Sigma)``, ``c`` fitted along the newest pair): 73 / 26 / 44 / 50 passes
on digits / synthetic 10,000 / wine / iris against 83 / 32 / 49 / 65, but ``X^T X`` costs
~3 passes' flops on digits, the per-iteration products grow with ``D^2 C``, and a dense
``(D + 1)^2`` matrix is no option for wide sparse data: not worth its complexity here.

Stop 25's notes follow.

Kept: each L2 fit after the first starts from the previous optimum ``W_k`` without a pass, its
value and gradient for the new lambda known exactly (``J + dlam R(W_k)``, ``g + dlam R'(W_k)``:
``lbfgs.shift_lambda``), the extrapolated optimum as its first line-search trial (alpha = 1),
tried even where ``W_k`` is already within tol for the new lambda. The pass at the extrapolated
point is still made (as that trial), so this saves no pass per fit as such: the gain is the
line search that corrects a poor extrapolation and the free pair ``(W_e - W_k, g_e - g_new)``.
Measured (2 cores, load 3.7-4.9, ``--repeats 5``, quick then default, runs interleaved with the
previous code; passes path / independent, their ratio; time ratios of 2-3 runs):

=================================  =================  =================  ==========  ==========
                                   passes before      passes now         time before time now
=================================  =================  =================  ==========  ==========
digits                             104 / 248  0.419   104 / 248  0.419   0.32-0.46   0.32-0.45
make_classification 2,000 x 100     66 / 135  0.489    53 / 135  0.393   0.47-0.63   0.37-0.42
make_classification 10,000 x 100    57 / 114  0.500    46 / 114  0.404   0.49        0.38-0.39
=================================  =================  =================  ==========  ==========

(time ratios swing by 0.1 at this load; the pass ratio is the stable figure). The optima: every
path fit ends at max |g| <= tol, as the independent fit (max J gap 9e-5 on digits at lam 2.2e-3,
within what tol 1e-4 allows there; at the weak end the independent fits are the higher ones).
Stopping at ``W_k`` when it is within tol (no trial) took 103 and 50 / 40 passes but left the
weakest lambda's fit where the previous one ended (float32 digits, lam 1e-6: J 0.00265 against
0.00172 for the independent fit and 0.00108 with the trial tried): not kept.
Per-fit fixed cost on the path (cProfile, digits, 50 fits): ~4 ms a fit outside the solver's
iterations under the profiler (Objective construction, ``_rng``, the trainer's set-up and
callbacks, ``continue_state``), beside ~10 iterations of ~2 ms; not the lever here.

Tried, not kept (passes of the path, digits then make_classification 2,000 x 100, the
earlier figures against the earlier 104 and 65):
* with the pass-free start (then stopping at W_k within tol): a quadratic (cubic) extrapolation
  in log lam through the last three (four) optima: 106 and 48 (109 and 48) against 103 and 50;
  a strict curvature condition for the trial's line search (gtol 0.5: 103 and 47; 0.1: 107
  and 47);
* a first-order start at the strongest lambda, ``W[:-1] = -dL/dW(0) / lam`` (one pass):
  the first fit takes 12 and 4 iterations instead of 13 and 6, the pass saved spent on it;
* the previous optimum scaled by ``(lam_0 / lam_1)^p`` as the second start, p in 0.25..1:
  +-5% on digits, synthetic, wine, breast cancer, no sign the same way on all;
* the path's free secant pair (between the last two optima, gradients known) added to the
  L-BFGS memory: as the newest pair 111 and 59 (synthetic 10,000 rows 48 against 57, iris
  84 against 75), as the oldest 104 and 62: no gain over 8 data sets in all (680 against 687);
* keeping the last point and its gradient for the next lambda (exact for L2: ``g +
  dlam R'(W)``, ``J + dlam R(W)``; saves the first pass of each fit) only without the
  extrapolation, which saves far more (131 against 104 on digits): now kept with it (above);
* a larger L-BFGS memory: 20 pairs 97 and 61, 40 pairs 90 and 60, the time no lower (two-loop);
* trust-region Newton on the path (``optimizer="newton"``): 41 and 34 iterations but 260 and
  159 passes (Hessian-vector products), slower at every lambda, the strong end included
  (digits lam = 1: 21 passes against 16), so no hybrid;
* per-fit overhead: ~2 ms a fit beside a ~1.4 ms pass on digits (estimator and trainer
  set-up, chance loss, thread limits); ``set_params`` per lambda was 5% of the path (removed).
"""

from __future__ import annotations

import contextlib
import warnings

import numpy as np
from _timing import interleaved, load, machine, parser, repeats, table
from sklearn import datasets as sk
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from lingrad.estimators import LinearClassifier
from lingrad.model_selection import fit_path, lambda_grid
from lingrad.objective import Objective


def path(X, y, lams) -> list[np.ndarray]:
    return [model.W_ for model in fit_path(LinearClassifier(), X, y, lams)]


def independent(X, y, lams) -> list[np.ndarray]:
    return [LinearClassifier(lam=float(lam)).fit(X, y).W_ for lam in lams]


def iterations(X, y, lams) -> tuple[list[int], list[int]]:
    """The L-BFGS iterations of each fit, on the path and independent (the time ratio's cause)."""
    on_path = [model.n_iter_ for model in fit_path(LinearClassifier(), X, y, lams)]
    alone = [LinearClassifier(lam=float(lam)).fit(X, y).n_iter_ for lam in lams]
    return on_path, alone


@contextlib.contextmanager
def counting_passes():
    """Count the value-and-gradient passes over X (``Objective.value_and_grad_unchecked``)."""
    count, real = [0], Objective.value_and_grad_unchecked

    def counted(self, *args, **kwargs):
        count[0] += 1
        return real(self, *args, **kwargs)

    Objective.value_and_grad_unchecked = counted
    try:
        yield count
    finally:
        Objective.value_and_grad_unchecked = real


def passes(X, y, lams) -> tuple[int, int]:
    """The passes over X of the path and of the independent fits."""
    with counting_passes() as count:
        path(X, y, lams)
        on_path, count[0] = count[0], 0
        independent(X, y, lams)
    return on_path, count[0]


def datasets(quick: bool):
    X, y = sk.load_digits(return_X_y=True)
    yield "digits 1797 x 64, 10 classes", X, y
    n = 2_000 if quick else 10_000
    X, y = sk.make_classification(
        n_samples=n, n_features=100, n_informative=40, n_classes=10, random_state=0
    )
    yield f"make_classification {n} x 100, 10 classes", X, y


def main(argv=None) -> list[dict]:
    args = parser(__doc__.splitlines()[0]).parse_args(argv)
    print(machine())
    print(f"load (1 min) before: {load()}")
    lams = lambda_grid(10)
    rows = []
    with threadpool_limits(1, user_api="blas"), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for name, X, y in datasets(args.quick):
            X = StandardScaler().fit_transform(X)
            runs = {
                "path": lambda X=X, y=y: path(X, y, lams),
                "independent": lambda X=X, y=y: independent(X, y, lams),
            }
            times = interleaved(runs, repeats(args))
            gap = max(
                Objective("softmax", X, y, lam=lam).value(a)
                / Objective("softmax", X, y, lam=lam).value(b)
                - 1
                for lam, a, b in zip(lams, path(X, y, lams), independent(X, y, lams), strict=True)
            )
            path_s, alone_s = times["path"]["median"], times["independent"]["median"]
            path_it, alone_it = iterations(X, y, lams)
            path_passes, alone_passes = passes(X, y, lams)
            rows.append(
                {
                    "dataset": name,
                    "path_ms": path_s * 1e3,
                    "independent_ms": alone_s * 1e3,
                    "ratio": round(path_s / alone_s, 3),
                    "max_J_gap": f"{gap:.1e}",
                    "iterations": f"{sum(path_it)} / {sum(alone_it)}",
                    "per_fit": f"path {path_it}, independent {alone_it}",
                    "passes": f"{path_passes} / {alone_passes}",
                    "pass_ratio": round(path_passes / alone_passes, 3),
                }
            )
    columns = ["dataset", "path_ms", "independent_ms", "ratio", "max_J_gap", "iterations"]
    print(table(rows, [*columns, "passes", "pass_ratio"]))
    print("target: ratio <= 0.4 (issue 14); max_J_gap: path J / independent J - 1 over the grid;")
    print("iterations, passes: L-BFGS iterations, passes over X of the path / independent fits")
    print(f"load (1 min) after: {load()}")
    for row in rows:
        print(f"{row['dataset']}: iterations per lambda (strongest first): {row['per_fit']}")
    for row in rows:
        print(f"{row['dataset']}: path / independent fits = {row['ratio']:.2f}")
    return rows


if __name__ == "__main__":
    main()
