"""The loss landscape: the objective on a line and a 2-D slice through ``W``, with gradient
descent on it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from numpy.typing import ArrayLike

from lingrad._validation import as_float_array, check_int, fail
from lingrad.objective import Objective
from lingrad.plots.figures import as_weights, fixed_figure


@dataclass(frozen=True)
class Landscape:
    """The objective on a 2-D slice ``W(a, b) = W + a d1 + b d2`` through ``W``.

    Attributes:
        center: ``W``, shape ``(D + 1, C)``.
        d1, d2: the directions, shaped like ``W``.
        a, b: the grid coordinates, shapes ``(R,)`` and ``(R,)``.
        values: ``J(W + a_j d1 + b_i d2)`` at ``[i, j]``, shape ``(R, R)``.
        line_t, line_values: the 1-D profile ``J(start + t (W - start))`` from the trajectory's
            first point (``t = 0``) to ``W`` (``t = 1``) when ``line_from_start``; otherwise
            (no trajectory, or one starting at ``W``) ``J(W + t d1)``.
        trajectory: the trajectory's plane coordinates ``(T, 2)`` (least squares on ``d1, d2``),
            or ``None``.
        trajectory_values: ``J`` at each trajectory point ``(T,)`` (the true values, off the
            plane too), or ``None``.
        arrows: ``(M, 4)`` rows ``(a, b, da, db)``: the negative gradient of the slice
            ``-grad_(a,b) J`` at a coarse grid, as plane coordinates (unnormalised).
        kind: how the directions were chosen.

    Examples:
        >>> from lingrad.objective import Objective
        >>> obj = Objective("softmax", np.eye(2), np.array([0, 1]))
        >>> land = landscape_data(obj, np.zeros((3, 2)), resolution=5, arrows=0)
        >>> land.values.shape, land.a.shape, land.kind, round(float(land.values[2, 2]), 4)
        ((5, 5), (5,), 'random', 0.6931)
    """

    center: np.ndarray
    d1: np.ndarray
    d2: np.ndarray
    a: np.ndarray
    b: np.ndarray
    values: np.ndarray
    line_t: np.ndarray
    line_values: np.ndarray
    line_from_start: bool
    trajectory: np.ndarray | None
    trajectory_values: np.ndarray | None
    arrows: np.ndarray
    kind: str


_KIND = {"random": "random", "pca": "PCA", "trajectory": "trajectory", "given": "given"}


def _filter_normalised(D: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Scale each column (class) of the direction to the norm of W's column (Li et al. 2018)."""
    wn = np.linalg.norm(W, axis=0)
    wn = np.where(wn > 0, wn, 1.0 / math.sqrt(W.shape[0]))
    return D / np.maximum(np.linalg.norm(D, axis=0), 1e-300) * wn


def _trajectory_array(trajectory, W: np.ndarray) -> np.ndarray:
    T = as_float_array("trajectory", trajectory, ndim=3, dtype=np.float64)
    if T.shape[1:] != W.shape:
        fail("trajectory", f"an array of weights of shape (T, {W.shape[0]}, {W.shape[1]})", T.shape)
    return T


def _directions(kind, W, T, rng):
    """(d1, d2, kind) as float64 arrays shaped like W."""
    if not isinstance(kind, str):
        if len(kind) != 2:
            fail("directions", "a name or a pair (d1, d2) of arrays shaped like W", repr(kind))
        d1, d2 = (as_float_array(f"directions[{i}]", d, ndim=2) for i, d in enumerate(kind))
        for i, d in enumerate((d1, d2)):
            if d.shape != W.shape:
                fail(f"directions[{i}]", f"an array of shape {W.shape}", f"shape {d.shape}")
        return d1.astype(np.float64), d2.astype(np.float64), "given"
    names = ("auto", "random", "pca", "trajectory")
    if kind not in names:
        fail("directions", f"one of {list(names)} or a pair of arrays", repr(kind))
    starts_off = T is not None and np.linalg.norm(T[0] - W) > 0
    moves = T is not None and bool(np.any(T != W))
    if kind == "auto":
        kind = "trajectory" if starts_off else "pca" if moves else "random"
    if kind == "trajectory" and not starts_off:
        fail("trajectory", "a first point W_0 different from W for directions='trajectory'",
             "none" if T is None else "W_0 == W")  # fmt: skip
    if kind == "pca" and not moves:
        fail("trajectory", "at least one point different from W for directions='pca'", "none")
    if rng is None:
        rng = np.random.default_rng(0)
    if not isinstance(rng, np.random.Generator):
        fail("rng", "a numpy.random.Generator", type(rng).__name__, TypeError)
    if kind == "random":
        d1 = _filter_normalised(rng.standard_normal(W.shape), W)
        d2 = _filter_normalised(rng.standard_normal(W.shape), W)
        return d1, d2, kind
    deltas = (T - W).reshape(len(T), -1)
    if kind == "trajectory":  # d1 = W0 - W: the start lies exactly on the plane, at (1, 0)
        d1 = deltas[0]
        u = d1 / np.linalg.norm(d1)
        resid = deltas - np.outer(deltas @ u, u)
    else:
        resid = deltas
    _, sv, Vt = np.linalg.svd(resid, full_matrices=False)
    if kind == "pca":
        d1 = Vt[0] * np.linalg.norm(deltas, axis=1).max()
        second = Vt[1] if len(sv) > 1 and sv[1] > 1e-12 * sv[0] else None
    else:
        second = Vt[0] if sv[0] > 1e-9 * np.linalg.norm(d1) else None
    if second is None:  # a straight path: any direction orthogonal to d1
        second = rng.standard_normal(d1.shape)
    u = d1 / np.linalg.norm(d1)
    second = second - (second @ u) * u
    d2 = second / np.linalg.norm(second) * np.linalg.norm(d1)
    return d1.reshape(W.shape), d2.reshape(W.shape), kind


def landscape_data(
    objective: Objective,
    W: ArrayLike,
    *,
    directions: str | Sequence[ArrayLike] = "auto",
    trajectory: ArrayLike | None = None,
    rng: np.random.Generator | None = None,
    span: float = 1.0,
    resolution: int = 31,
    arrows: int = 9,
) -> Landscape:
    """Evaluate the objective on a line and a 2-D slice through ``W``; see :func:`landscape`.

    Args:
        objective: the :class:`~lingrad.objective.Objective` (e.g. the training objective).
        W: the centre of the slice (e.g. the trained weights), ``(D + 1, C)``.
        directions: ``"trajectory"`` (``d1 = W_0 - W``, so the start lies on the plane at
            ``(1, 0)``, and ``d2`` the trajectory's main direction orthogonal to it),
            ``"pca"`` (the trajectory's two principal directions), ``"random"`` (Gaussian,
            each class column scaled to the norm of W's column), a pair ``(d1, d2)`` of
            arrays, or ``"auto"`` (``"trajectory"`` when one is given that starts away from
            ``W``, ``"pca"`` when it starts at ``W``, else ``"random"``).
        trajectory: the optimiser's weights ``(T, D + 1, C)``, first the initial ``W_0``.
        rng: the generator for random directions (default ``default_rng(0)``: the same
            picture every time).
        span: the half-width of the grid in units of the directions (without a trajectory).
        resolution: grid points per side; ``arrows``: arrows per side (0 for none).

    Examples:
        >>> from lingrad.objective import Objective
        >>> obj = Objective("softmax", np.eye(2), np.array([0, 1]))
        >>> W0 = np.zeros((3, 2))
        >>> land = landscape_data(obj, W0, resolution=5, rng=np.random.default_rng(0))
        >>> land.values.shape, land.arrows.shape[1], bool(land.values.min() <= land.values[2, 2])
        ((5, 5), 4, True)
    """
    from lingrad.train.runners import blas_threads  # small products: one BLAS thread

    W, T = _landscape_points(objective, W, trajectory)
    with blas_threads(objective.n_samples, objective.n_features):
        return _evaluate(objective, W, T, directions, rng, span, resolution, arrows)


def _evaluate(objective, W, T, directions, rng, span, resolution, arrows) -> Landscape:
    """The body of :func:`landscape_data` on the checked ``W`` and trajectory ``T``."""
    resolution = check_int("resolution", resolution, minimum=3)
    arrows = check_int("arrows", arrows, minimum=0)
    span = float(span)
    if not np.isfinite(span) or span <= 0:
        fail("span", "a finite number > 0", span)
    d1, d2, kind = _directions(directions, W, T, rng)
    dtype = objective.X.dtype

    def J(V):
        return objective.value_and_grad_unchecked(V.astype(dtype), need_grad=False)[0]

    basis, gram = _slice_basis(d1, d2)
    coords = None
    if T is not None:
        coords = np.linalg.solve(gram, basis.T @ (T - W).reshape(len(T), -1).T).T
    box = _slice_box(coords, span)
    a0, a1, b0, b1 = box
    a = np.linspace(a0, a1, resolution)
    b = np.linspace(b0, b1, resolution)
    # scores are affine in the weights: one pass per direction, then no pass per point
    S0, S1, S2 = (objective.evaluate(V.astype(dtype))[1] for V in (W, d1, d2))

    def J_plane(S, V):
        return objective.value_at_scores(S, V.astype(dtype))

    values = np.array(
        [[J_plane(S0 + ai * S1 + bi * S2, W + ai * d1 + bi * d2) for ai in a] for bi in b]
    )
    traj_values = None if T is None else np.array([J(t) for t in T])
    from_start = T is not None and bool(np.any(T[0] != W))
    if T is not None and from_start:
        start, line_t = T[0], np.linspace(-0.25, 1.25, 121)
        Ss = objective.evaluate(start.astype(dtype))[1]
        line_values = np.array(
            [J_plane(Ss + t * (S0 - Ss), start + t * (W - start)) for t in line_t]
        )
    else:  # without a trajectory a0, a1 = -span, span
        line_t = np.linspace(a0, a1, 121)
        line_values = np.array([J_plane(S0 + t * S1, W + t * d1) for t in line_t])
    return Landscape(
        center=W,
        d1=d1,
        d2=d2,
        a=a,
        b=b,
        values=values,
        line_t=line_t,
        line_values=line_values,
        line_from_start=from_start,
        trajectory=coords,
        trajectory_values=traj_values,
        arrows=_slice_arrows(objective, W, (d1, d2), box, arrows),
        kind=kind,
    )


def _landscape_points(objective, W, trajectory) -> tuple[np.ndarray, np.ndarray | None]:
    """The checked centre ``W`` ``(D + 1, C)`` and trajectory ``(T, D + 1, C)`` (or ``None``)
    as float64."""
    if not isinstance(objective, Objective):
        fail("objective", "a lingrad.Objective", type(objective).__name__, TypeError)
    W = objective.check_weights(as_weights(W, objective.n_features, "W")).astype(np.float64)
    T = None if trajectory is None else _trajectory_array(trajectory, W)
    if T is not None:
        T = np.stack([objective.check_weights(t) for t in T]).astype(np.float64)
    return W, T


def _slice_basis(d1: np.ndarray, d2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The directions as columns ``basis`` ``(P, 2)`` and their Gram matrix ``basis^T basis``
    ``(2, 2)``; parallel directions are refused."""
    basis = np.stack([d1.ravel(), d2.ravel()], axis=1)  # (P, 2)
    gram = basis.T @ basis
    if np.linalg.cond(gram) > 1e12:
        fail("directions", "two linearly independent directions", "parallel ones")
    return basis, gram


def _slice_box(coords: np.ndarray | None, span: float) -> tuple[float, float, float, float]:
    """The grid's ``(a0, a1, b0, b1)``: ``[-span, span]^2`` without a trajectory, else a square
    around its plane coordinates ``coords`` ``(T, 2)`` and the centre."""
    if coords is None:
        return -span, span, -span, span
    lo = np.minimum(coords.min(axis=0), 0.0)
    hi = np.maximum(coords.max(axis=0), 0.0)
    # A square box (d1 and d2 have the same norm, so equal lengths in W space) around the
    # trajectory with a margin: the landscape is seen around the path, not squeezed.
    mid, half = (lo + hi) / 2, 0.625 * max(float((hi - lo).max()), 1e-3)
    (a0, b0), (a1, b1) = mid - half, mid + half
    return a0, a1, b0, b1


def _slice_arrows(objective, W: np.ndarray, directions, box, n: int) -> np.ndarray:
    """``(n * n, 4)`` rows ``(a, b, da, db)``: the slice's negative gradient
    ``-(B^T B)^-1 B^T grad J(W + a d1 + b d2)`` (``B = [d1, d2]``) at an ``n x n`` grid inside
    ``box`` (its edges left out)."""
    d1, d2 = directions
    basis, gram = _slice_basis(d1, d2)
    a0, a1, b0, b1 = box
    rows = []
    if n:
        ga = np.linspace(a0, a1, n + 2)[1:-1]
        gb = np.linspace(b0, b1, n + 2)[1:-1]
        inv = np.linalg.inv(gram)
        for bi in gb:
            for ai in ga:
                V = (W + ai * d1 + bi * d2).astype(objective.X.dtype)
                _, g = objective.value_and_grad_unchecked(V)
                step = -inv @ (basis.T @ g.ravel().astype(np.float64))
                rows.append((ai, bi, *step))
    return np.array(rows, dtype=np.float64).reshape(-1, 4)


def landscape(objective: Objective, W: ArrayLike, **options: Any) -> Figure:
    """The loss along a line and on a 2-D slice through ``W``, with gradient descent on it.

    Left: ``J`` along a line (with a trajectory: the straight line from its first point,
    ``t = 0``, to ``W``, ``t = 1``; otherwise ``J(W + t d1)``). Right: contours of
    ``J(W + a d1 + b d2)``, the trajectory projected onto the plane (least squares), and the
    negative gradient of the slice ``-grad_(a,b) J`` as arrows (directions only) on a coarse
    grid: each points across the contours, downhill, as on the lecture's slide.

    Args:
        objective: the :class:`~lingrad.objective.Objective` (e.g. the training objective).
        W: the centre of the slice (e.g. the trained weights), ``(D + 1, C)``.
        options: :func:`landscape_data`'s keywords: ``directions``, ``trajectory``, ``rng``,
            ``span``, ``resolution``, ``arrows``.

    The numbers are :func:`landscape_data`'s.

    Examples:
        >>> from lingrad.objective import Objective
        >>> obj = Objective("softmax", np.eye(2), np.array([0, 1]))
        >>> fig = landscape(obj, np.zeros((3, 2)), resolution=5, arrows=0)
        >>> len(fig.axes) >= 2, fig.axes[0].get_title()
        (True, 'loss along a random direction through W')
    """
    data = landscape_data(objective, W, **options)
    # Fixed positions (inches) on the 11.5 x 4.8 figure: the line panel 4.5 wide; the slice
    # panel 3.5 x 3.5 from 6.25 in (room for its tick and axis labels), raised for the legend
    # below it; its colour bar 0.2 in from it, with room for its ticks and label.
    width, height = 11.5, 4.8
    fig = fixed_figure(width, height, (0.8, width - 0.8 - 4.5, 0.6, 0.35))
    ax1 = fig.add_subplot()
    ax2 = fig.add_axes((6.25 / width, 0.95 / height, 3.5 / width, 3.5 / height))
    bar = fig.add_axes((9.95 / width, 0.95 / height, 0.2 / width, 3.5 / height))
    _draw_line_panel(ax1, data)
    _draw_slice_panel(ax2, bar, data)
    return fig


def _draw_line_panel(ax, data: Landscape) -> None:
    """The 1-D profile ``data.line_values`` against ``data.line_t``, its ends marked."""
    curve = ax.plot(data.line_t, data.line_values, color="#1f4e9c", lw=2)[0]
    curve.set_gid("line")
    if data.line_from_start:
        start_value = float(np.interp(0.0, data.line_t, data.line_values))
        end_value = float(np.interp(1.0, data.line_t, data.line_values))
        ax.plot([0], [start_value], "o", color="#d62728", ms=8, label="initial W (t = 0)")
        ax.plot([1], [end_value], "*", color="black", ms=12, label="final W (t = 1)")
        ax.set_xlabel("t: W(t) = W₀ + t (W − W₀)")
        ax.set_title("loss on the straight line from W₀ to W", fontsize=10)
    else:
        ax.plot([0], [float(np.interp(0.0, data.line_t, data.line_values))], "*", ms=12,
                color="black", label="W (t = 0)")  # fmt: skip
        ax.set_xlabel("t: W + t d₁")
        ax.set_title(f"loss along a {_KIND[data.kind]} direction through W", fontsize=10)
    ax.set_ylabel("objective J (loss + λR)")
    ax.xaxis.set_major_locator(MaxNLocator(6))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)


def _draw_slice_panel(ax, bar, data: Landscape) -> None:
    """Filled contours of ``data.values`` ``(R, R)`` over ``(a, b)`` with a colour bar (in the
    axes ``bar``), the
    unit negative-gradient arrows, the projected trajectory and the centre ``W`` at ``(0, 0)``."""
    A, B = np.meshgrid(data.a, data.b)
    vmin, vmax = float(data.values.min()), float(data.values.max())
    levels = np.linspace(vmin, vmax, 21) if vmax > vmin else 10
    filled = ax.contourf(A, B, data.values, levels=levels, cmap="viridis")
    ax.contour(A, B, data.values, levels=levels, colors="white", linewidths=0.4, alpha=0.6)
    ax.figure.colorbar(filled, cax=bar, label="objective J", format="%.2f")
    if len(data.arrows):
        d = data.arrows[:, 2:]
        n = np.linalg.norm(d, axis=1, keepdims=True)
        unit = np.divide(d, n, out=np.zeros_like(d), where=n > 0)
        q = ax.quiver(
            data.arrows[:, 0], data.arrows[:, 1], unit[:, 0], unit[:, 1],
            color="white", angles="xy", scale_units="width", scale=22, width=0.004,
        )  # fmt: skip
        q.set_gid("negative-gradient")
    if data.trajectory is not None and data.trajectory_values is not None:  # set together
        tr = data.trajectory
        path = ax.plot(tr[:, 0], tr[:, 1], "-o", color="#d62728", ms=3, lw=1.6,
                       label="optimiser trajectory")[0]  # fmt: skip
        path.set_gid("trajectory")
        ax.plot(tr[0, 0], tr[0, 1], "o", color="#d62728", ms=9, mec="white",
                label=f"initial W₀: J = {data.trajectory_values[0]:.3f}")  # fmt: skip
    ax.plot([0], [0], "*", color="black", mec="white", ms=14, label="W (centre)")
    ax.set_xlabel("a (direction d₁)")
    ax.set_ylabel("b (direction d₂)")
    ax.set_aspect("equal" if np.isclose(data.d1.std(), data.d2.std(), rtol=1e-6) else "auto")
    ax.set_title(f"J(W + a d₁ + b d₂) ({_KIND[data.kind]} directions); arrows: −∇J", fontsize=10)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3)
