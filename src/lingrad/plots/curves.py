"""Learning curves: loss, accuracy, learning rate and gradient norm against the epoch."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from lingrad._validation import fail
from lingrad.plots.figures import class_colors, fixed_figure

#: The history panels: (title, [(key, label, linestyle)], log scale).
#: one run's history (a dict of per-epoch lists), or several: a dict name -> history or a list
History = Mapping[str, Any] | Sequence[Mapping[str, Any]]

HISTORY_PANELS: tuple[tuple[str, tuple[tuple[str, str, str], ...], bool], ...] = (
    ("loss", (("loss", "train", "-"), ("val_loss", "validation", "--")), False),
    (
        "accuracy",
        (("train_accuracy", "train", "-"), ("val_accuracy", "validation", "--")),
        False,
    ),
    ("learning rate", (("learning_rate", "", "-"),), True),
    ("gradient norm", (("grad_norm", "", "-"),), True),
)


def _runs(history: Any) -> dict[str, Mapping[str, Any]]:  # any object: checked here
    """One history or several (a mapping name -> history, or a sequence of histories)."""
    if isinstance(history, Mapping):
        if history and all(isinstance(v, Mapping) for v in history.values()):
            return {str(k): v for k, v in history.items()}
        return {"": history}
    is_list = isinstance(history, Sequence) and not isinstance(history, str)
    if is_list and history and all(isinstance(h, Mapping) for h in history):
        return {f"run {i}": h for i, h in enumerate(history)}
    fail(
        "history",
        "a dict of per-epoch lists, or a dict/list of such dicts",
        type(history).__name__,
        TypeError,
    )


def _series(run: str, key: str, values: object) -> np.ndarray:
    name = f"history[{run!r}][{key!r}]" if run else f"history[{key!r}]"
    arr = np.asarray(values, dtype=object)
    if arr.ndim != 1:
        fail(name, "a list of numbers", f"shape {arr.shape}")
    try:
        out = np.array([np.nan if v is None else float(v) for v in arr], dtype=np.float64)
    except (TypeError, ValueError):
        fail(name, "a list of numbers", "non-numeric values", TypeError)
    return out


def history_series(history: History) -> dict[str, dict[str, np.ndarray]]:
    """The plottable series of one history or several: ``{run: {key: values}}``, keeping the
    keys of :data:`HISTORY_PANELS` that hold at least one finite number (``None`` and NaN,
    e.g. a validation loss never measured, count as missing).

    Examples:
        >>> series = history_series({"loss": [1.0, 0.5], "val_loss": [None, None]})
        >>> series                   # one unnamed run; the never-measured val_loss is left out
        {'': {'loss': array([1. , 0.5])}}
    """
    keys = [key for _, series, _ in HISTORY_PANELS for key, _, _ in series]
    out = {}
    for run, h in _runs(history).items():
        found = {}
        for key in keys:
            if key in h and h[key] is not None:
                values = _series(run, key, h[key])
                if np.isfinite(values).any():
                    found[key] = values
        out[run] = found
    return out


def history(history: History, *, x: str | None = None, xlabel: str = "epoch") -> Figure:
    """Learning curves: loss (train solid, validation dashed), accuracy, learning rate and
    gradient norm (log scale) against the epoch, one panel each (panels with no data are left
    out). Several runs are overlaid in one colour each.

    Args:
        history: a dict of lists keyed ``"loss"``, ``"val_loss"``, ``"train_accuracy"``,
            ``"val_accuracy"``, ``"learning_rate"``, ``"grad_norm"`` (any may be missing), or
            a dict ``{run name: such a dict}`` / a list of them to overlay.
        x: a key holding the x values (e.g. ``"evaluations"`` to compare search and gradient
            methods at the same budget); by default ``1, 2, ...``.
        xlabel: the x axis label.

    Examples:
        >>> fig = history({"loss": [1.0, 0.6, 0.4], "val_loss": [1.1, 0.8, 0.7],
        ...                "train_accuracy": [0.5, 0.7, 0.8]})
        >>> [ax.get_title() for ax in fig.axes]
        ['loss', 'accuracy']
    """
    runs = _runs(history)
    series = history_series(runs)
    present = [
        panel
        for panel in HISTORY_PANELS
        if any(key in found for found in series.values() for key, _, _ in panel[1])
    ]
    if not present:
        names = [key for panel in HISTORY_PANELS for key, _, _ in panel[1]]
        fail("history", f"at least one non-empty series among {names}", "none")
    # fixed margins (inches): tick labels of up to 6 characters on the left of each panel
    # (Matplotlib's formatter switches to an offset beyond that), the title above, the
    # tick labels and x label below
    n = len(present)
    fig = fixed_figure(4.3 * n, 3.6, (0.65, 0.15, 0.55, 0.35), (0.75, 0.0), (1, n))
    axes = fig.subplots(1, n, squeeze=False)[0]
    colours = class_colors(max(len(runs), 1))
    for ax, (title, keys, log) in zip(axes, present, strict=True):
        for r, (run, found) in enumerate(series.items()):
            for key, label, style in keys:
                if key not in found:
                    continue
                values = found[key]
                h = runs[run]
                xs = (
                    _series(run, x, h[x])[: len(values)]
                    if x is not None and x in h
                    else np.arange(1, len(values) + 1)
                )
                parts = [p for p in (run, label) if p]
                line = ax.plot(
                    xs, values, style, color=colours[r], lw=1.8, label=", ".join(parts) or None
                )[0]
                line.set_gid(f"{run}:{key}" if run else key)
        if log and all(np.nanmin(line.get_ydata()) > 0 for line in ax.get_lines()):
            ax.set_yscale("log")
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        if any(line.get_label() and not line.get_label().startswith("_") for line in ax.lines):
            ax.legend(fontsize=8)
    return fig
