"""Run reports: every figure of a run drawn into its folder, and one static ``index.html``.

A run folder (written by ``lingrad train``) holds

* ``config.json``: the run's settings (``"dataset"``, ``"loss"``, ``"regularizer"``, ``"lam"``,
  ``"seed"``...);
* ``metrics.json``: numbers such as ``"train_accuracy"``, ``"val_accuracy"``,
  ``"test_accuracy"``;
* ``history.json``: per-epoch lists keyed ``"loss"``, ``"val_loss"``, ``"train_accuracy"``,
  ``"val_accuracy"``, ``"learning_rate"``, ``"grad_norm"`` (any may be missing);
* ``model.npz``: the weights ``W`` ``(D + 1, C)`` and, optionally, ``trajectory``
  ``(T, D + 1, C)``, the weights along the way (first the initial ones).

:func:`write_run_report` draws the figures of :mod:`lingrad.plots` that apply (PNG, and SVG
when asked) next to those files and writes ``index.html``, which shows the configuration,
the metrics and the figures together. The page is static: no script, no network; images are
referenced by relative paths, so the folder can be moved, zipped or opened from disk.
"""

from __future__ import annotations

import html
import json
import math
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from lingrad import losses, plots, runs
from lingrad._validation import check_labels, check_X, fail
from lingrad.model import scores_unchecked
from lingrad.objective import Objective

CONFIG, METRICS, HISTORY, MODEL, INDEX = (
    "config.json",
    "metrics.json",
    "history.json",
    "model.npz",
    "index.html",
)


@dataclass
class Run:
    """The files of a run folder, read back (see the module docstring).

    Examples:
        >>> import tempfile
        >>> from lingrad.runs import save_run
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     d = save_run(Path(tmp) / "run", config={"loss": "svm"},
        ...                  metrics={"val_accuracy": 0.5},
        ...                  history={"loss": [1.0, 0.5]}, W=np.zeros((3, 2)))
        ...     run = read_run(d)
        >>> run.config, run.W.shape, run.history["loss"], run.trajectory is None
        ({'loss': 'svm'}, (3, 2), [1.0, 0.5], True)
    """

    path: Path
    config: dict
    W: np.ndarray
    metrics: dict = field(default_factory=dict)
    history: dict = field(default_factory=dict)
    trajectory: np.ndarray | None = None


def _read_json(path: Path, *, required: bool) -> dict:
    if not path.exists():
        if required:
            fail(str(path.parent), f"a run folder containing {path.name}", "none there")
        return {}
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        fail(str(path), "a JSON file", f"invalid JSON ({exc})")
    if not isinstance(value, dict):
        fail(str(path), "a JSON object", type(value).__name__)
    return value


def read_run(run_dir: str | os.PathLike[str]) -> Run:
    """Read ``config.json``, ``model.npz`` (required), ``metrics.json`` and ``history.json``.

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:                # the two required files
        ...     _ = (Path(tmp) / CONFIG).write_text('{"loss": "svm"}')
        ...     np.savez(Path(tmp) / MODEL, W=np.eye(2))
        ...     run = read_run(tmp)
        >>> run.config, run.W.shape, run.metrics, run.history
        ({'loss': 'svm'}, (2, 2), {}, {})
    """
    path = Path(run_dir)
    if not path.is_dir():
        fail("RUN_DIR", "a run folder", f"{str(path)!r} (not a directory)")
    config = _read_json(path / CONFIG, required=True)
    model = path / MODEL
    if not model.exists():
        fail(str(path), f"a run folder containing {MODEL}", "none there")
    # bounded in size before anything is read (see lingrad.runs.load_npz)
    arrays = runs.load_npz(model, what="an .npz file of arrays (no pickles)")
    if "W" not in arrays:
        fail(str(model), "an array named 'W' of shape (D + 1, C)", sorted(arrays))
    return Run(
        path=path,
        config=config,
        W=arrays["W"],
        metrics=_read_json(path / METRICS, required=False),
        history=_read_json(path / HISTORY, required=False),
        trajectory=arrays.get("trajectory"),
    )


@dataclass(frozen=True)
class ReportFigure:
    """One figure of the report: its file stem, title, caption and files (relative names).

    Examples:
        >>> f = ReportFigure("confusion", "Confusion", "Rows: true classes.", ("confusion.png",))
        >>> f.stem, f.files
        ('confusion', ('confusion.png',))
    """

    stem: str
    title: str
    caption: str
    files: tuple[str, ...]


def label_loss(config: Mapping[str, Any], n_columns: int) -> str:
    """The run's loss if it reads integer labels for ``n_columns`` score columns, else the
    lecture's SVM loss (``"logistic"`` for a binary model with one column).

    Examples:
        >>> label_loss({"loss": "softmax"}, 3), label_loss({"loss": "squared_error"}, 3)
        ('softmax_cross_entropy', 'hinge')
        >>> label_loss({}, 1)
        'logistic'
    """
    fallback = "hinge" if n_columns > 1 else "logistic"
    loss = config.get("loss")
    if not isinstance(loss, str):
        return fallback
    try:
        spec = losses.spec(loss)
        if not spec.from_labels:
            return fallback
        spec.prepare(np.zeros(1, dtype=np.intp), 1, n_columns, np.float64)
    except (ValueError, TypeError):
        return fallback
    return spec.name


def write_run_report(
    run_dir: str | os.PathLike[str],
    *,
    W: object,
    X: npt.ArrayLike,
    y: npt.ArrayLike,
    class_names: Sequence[str] | None = None,
    image_shape: tuple[int, ...] | None = None,
    history: Mapping[str, Sequence[float]] | None = None,
    config: Mapping[str, Any] | None = None,
    metrics: Mapping[str, Any] | None = None,
    objective: Objective | None = None,
    trajectory: npt.ArrayLike | None = None,
    images: npt.ArrayLike | None = None,
    split: str = "validation",
    formats: Sequence[str] = ("png",),
    examples: int = 6,
    rng: np.random.Generator | None = None,
    progress: bool = True,
    mean: npt.ArrayLike | None = None,
    std: npt.ArrayLike | None = None,
    workers: int | None = None,
) -> Path:
    """Draw every applicable figure into ``run_dir`` and write ``run_dir/index.html``.

    Args:
        run_dir: the run folder (created if missing).
        W: the trained weights ``(D + 1, C)`` or a fitted estimator.
        X: the examples shown (e.g. the standardised validation split), ``(N, D)``.
        y: their labels, ``(N,)``.
        class_names: one name per class.
        image_shape: the image a row reshapes to; enables the templates and thumbnails.
        history: the per-epoch lists of the run (see :func:`lingrad.plots.history`).
        config: shown as a table (and ``config["loss"]`` picks the scores table's loss).
        metrics: shown as a table.
        objective: the training objective; enables the loss landscape.
        trajectory: weights along the way ``(T, D + 1, C)`` for the landscape.
        images: the raw rows of ``X`` for the thumbnails (default: ``X``).
        split: the name of ``X``'s split, for the captions.
        formats: the files each figure is written as; ``"png"`` is always included (the
            default is PNG only: ask for ``("png", "svg")`` to get SVG too, which costs about
            as much again).
        examples: the number of examples in the scores table.
        rng: the generator for random landscape directions (default: seeded from
            ``config["seed"]``).
        progress: report each figure on stderr as it is written: a Rich bar on a terminal,
            else one plain line per figure, in order (``report: [k/6] stem written (t s)``, t
            the seconds spent drawing and writing that figure).
        mean: the per-feature mean ``(D,)`` that standardised ``X`` (a
            :class:`~lingrad.datasets.Standardizer`'s), recorded beside ``std``.
        std: the per-feature standard deviation ``(D,)`` that standardised ``X``; the
            templates are then drawn in pixel space, ``w_k / std`` (see
            :func:`lingrad.plots.templates`).
        workers: the processes drawing the figures: 1, or 2 (this process and one forked
            child, each taking the next figure; only where :func:`lingrad.plots.can_fork`);
            ``None`` (default): :func:`lingrad.plots.parallel_workers`, 2 when a second core
            is free. The files are the same either way.

    Returns:
        The path of ``index.html``. Figures: ``templates``, ``decision_regions``,
        ``scores_table`` (plus ``scores_table.md``), ``history``, ``landscape``, ``confusion``.

    Examples:
        >>> import tempfile
        >>> W = np.array([[1.0, -1.0], [0.0, 0.0]])
        >>> X, y = np.array([[1.0], [2.0], [-1.0]]), np.array([0, 0, 1])
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     index = write_run_report(tmp, W=W, X=X, y=y, class_names=["a", "b"],
        ...                              progress=False)
        ...     index.name, sorted(p.name for p in Path(tmp).glob("*.png"))
        ('index.html', ['confusion.png', 'scores_table.png'])
    """
    out = Path(run_dir)
    out.mkdir(parents=True, exist_ok=True)
    config = dict(config or {})
    formats = tuple(dict.fromkeys(("png", *((formats,) if isinstance(formats, str) else formats))))
    X = check_X(X)
    W = plots.as_weights(W, X.shape[1], "W")
    labels: np.ndarray = check_labels(y, X.shape[0], max(W.shape[1], 2))
    names = plots.resolve_class_names(class_names, max(W.shape[1], 2))
    if rng is None:
        rng = np.random.default_rng(int(config.get("seed", 0) or 0))

    shown = _Shown(W, X, labels, names, split)
    gallery = _Gallery(out, formats, _Progress(progress, N_FIGURES))
    try:
        _add_templates(gallery, shown, image_shape, (mean, std))
        _add_decision_regions(gallery, shown)
        view = _add_scores_table(gallery, shown, label_loss(config, W.shape[1]), examples,
                                 image_shape, images)  # fmt: skip
        _add_history(gallery, history)
        _add_landscape(gallery, shown, objective, trajectory, rng)
        _add_confusion(gallery, shown)
        gallery.write(workers)
    finally:
        gallery.progress.close()
    page = _html(out.name, config, dict(metrics or {}), gallery, view, split)
    (out / INDEX).write_text(page, encoding="utf-8")
    return out / INDEX


@dataclass(frozen=True)
class _Shown:
    """What the figures show: weights ``W`` ``(D + 1, C)``, examples ``X`` ``(N, D)``, labels
    ``y`` ``(N,)``, the class names and the split's name (for the captions)."""

    W: np.ndarray
    X: np.ndarray
    y: np.ndarray
    names: tuple[str, ...]
    split: str


#: The figures a report tries, in order (each is drawn or skipped with a reason).
N_FIGURES = 6


class _Progress:
    """One report line per figure on stderr: a Rich bar on a terminal, else a plain line
    ``report: [k/n] stem (t s)``; nothing when ``enabled`` is false."""

    def __init__(self, enabled: bool, total: int):
        self.enabled, self.total, self.done = enabled, total, 0
        self.bar: Any = None
        if enabled and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress

            self.bar = Progress(
                "report: {task.description}",
                BarColumn(),
                MofNCompleteColumn(),
                console=Console(stderr=True),
                transient=True,
                auto_refresh=False,
            )  # fmt: skip (no refresh thread: the report may fork a child to draw in)
            self.bar.start()
            self.task = self.bar.add_task("figures", total=total)

    def step(self, stem: str, what: str, seconds: float) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.update(self.task, advance=1, description=f"{stem} {what}")
            self.bar.refresh()
        elif self.enabled:
            print(f"report: [{self.done}/{self.total}] {stem} {what} ({seconds:.1f} s)",
                  file=sys.stderr, flush=True)  # fmt: skip

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


@dataclass
class _Gallery:
    """The figures to write into ``out`` (each as every one of ``formats``), in order, with the
    ones not drawn and the reason; :meth:`write` draws them (in two processes where that is
    safe, see :func:`lingrad.plots.write_figures`), showing the progress in order."""

    out: Path
    formats: tuple[str, ...]
    progress: _Progress = field(default_factory=lambda: _Progress(False, N_FIGURES))
    figures: list[ReportFigure] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    planned: list[tuple[str, Any]] = field(default_factory=list)  # (stem, task or skip reason)

    def add(self, stem: str, title: str, caption: str, draw: Callable[[], Any]) -> None:
        self.planned.append((stem, (title, caption, plots.FigureTask(stem, draw))))

    def skip(self, stem: str, why: str) -> None:
        self.planned.append((stem, why))

    def write(self, workers: int | None) -> None:
        tasks = [entry[2] for _, entry in self.planned if not isinstance(entry, str)]
        reported = 0

        def done(i: int, files: list[Path], seconds: float) -> None:
            nonlocal reported
            while isinstance(self.planned[reported][1], str):  # the skips before this figure
                self._skipped(*self.planned[reported])
                reported += 1
            stem, (title, caption, _) = self.planned[reported]
            self.figures.append(ReportFigure(stem, title, caption, tuple(f.name for f in files)))
            self.progress.step(stem, "written", seconds)
            reported += 1

        plots.write_figures(tasks, self.out, self.formats, workers=workers, done=done)
        for stem, why in self.planned[reported:]:  # the skips after the last figure
            self._skipped(stem, why)

    def _skipped(self, stem: str, why: str) -> None:
        self.skipped.append((stem, why))
        self.progress.step(stem, "skipped", 0.0)


def _add_templates(gallery: _Gallery, shown: _Shown, image_shape, scaler) -> None:
    """The visual viewpoint, when a row of ``X`` is an image of ``image_shape``: signed, on a
    colour map centred on 0, in pixel space when the scaler's ``(mean, std)`` is known."""
    if image_shape is None or math.prod(image_shape) != shown.X.shape[1]:
        gallery.skip("templates", "the data are not images (no image_shape)")
        return
    std = scaler[1]
    space = (
        "divided by the standard deviations the pixels were standardised with (w_k / std: "
        "the template in pixel space, what multiplies the raw pixels)"
        if std is not None
        else "as learned"
    )
    gallery.add(
        "templates",
        "Visual viewpoint: one template per class",
        f"Each class's weight row W[:-1, k] reshaped to the image, {space}; red pixels raise "
        "the class's score, blue ones lower it, white is 0 (each panel's colour scale is "
        "symmetric about 0 and saturates beyond the 95th percentile of |weight|): the score of "
        "an image is its match with the template.",
        lambda: plots.templates(shown.W, image_shape, shown.names, diverging=True, std=std),
    )


def _add_decision_regions(gallery: _Gallery, shown: _Shown) -> None:
    """The geometric viewpoint, when there are at least two features."""
    D = shown.X.shape[1]
    if D < 2:
        gallery.skip("decision_regions", "one feature: nothing to draw in a plane")
        return
    gallery.add(
        "decision_regions",
        "Geometric viewpoint: hyperplanes cutting up space",
        f"The {shown.split} points with the regions of argmax_k s_k, each class's zero-score line "
        "w_k·x + b_k = 0 and its weight vector w_k (arrow); ringed points are misclassified."
        + (
            " For D > 2: the regions are the model restricted to the PCA plane through the data "
            "mean and the points are projected onto it, so a point can fall in another class's "
            "region; each point is filled with its true class and edged with the class the full "
            "model predicts for it."
            if D > 2
            else ""
        ),
        lambda: plots.decision_regions(shown.W, shown.X, shown.y, class_names=shown.names),
    )


def _add_scores_table(
    gallery: _Gallery, shown: _Shown, loss: str, examples: int, image_shape, images
) -> plots.AlgebraicView:
    """The algebraic viewpoint of the first ``examples`` examples under ``loss``: the figure
    and ``scores_table.md``. Returns the view, which the page shows as a table too."""
    W, X, y = shown.W, shown.X, shown.y
    n = min(examples, X.shape[0])
    view = plots.algebraic_view(
        scores_unchecked(W.astype(X.dtype), X[:n]), y[:n], loss=loss, class_names=shown.names
    )
    (gallery.out / "scores_table.md").write_text(view.markdown() + "\n", encoding="utf-8")
    gallery.add(
        "scores_table",
        "Algebraic viewpoint: the scores s = f(x, W)",
        f"Scores of the first {n} {shown.split} examples (columns) for every class (rows), the "
        f"true class in green, and each example's {view.loss_label} L_i in the last row (green: "
        "classified correctly, red: misclassified).",
        lambda: plots.scores_table(
            W,
            X,
            y,
            class_names=shown.names,
            loss=loss,
            max_examples=n,
            image_shape=image_shape,
            images=images,
        ),
    )
    return view


def _add_history(gallery: _Gallery, history: Mapping | None) -> None:
    """The learning curves, when the history holds a series."""
    if not (history and any(plots.history_series(history).values())):
        gallery.skip("history", "no history recorded")
        return
    gallery.add(
        "history",
        "Learning curves",
        "Loss (train solid, validation dashed), accuracy and learning rate per epoch.",
        lambda: plots.history(history),
    )


def _add_landscape(gallery: _Gallery, shown: _Shown, objective, trajectory, rng) -> None:
    """The loss landscape, when the objective is given: on the plane of the trajectory
    ``(T, D + 1, C)`` if it moved, else on random directions drawn from ``rng``."""
    if objective is None:
        gallery.skip("landscape", "no training objective given")
        return
    traj = None if trajectory is None else np.asarray(trajectory)
    # A path that never left W_0 (e.g. a search that found nothing better) spans no plane.
    moved = traj is not None and len(traj) > 1 and not np.array_equal(traj[0], traj[-1])
    kind = "trajectory" if moved else "random"
    gallery.add(
        "landscape",
        "The loss landscape and gradient descent",
        "Left: the objective on a line through the trained W. Right: the objective on a "
        f"2-D slice through W ({kind} directions), "
        + ("with the optimiser's path, " if kind == "trajectory" else "")
        + "and the negative gradient −∇J as arrows: the steepest way down.",
        lambda: plots.landscape(
            objective,
            shown.W,
            directions=kind,
            trajectory=traj if kind == "trajectory" else None,
            rng=rng,
        ),
    )


def _add_confusion(gallery: _Gallery, shown: _Shown) -> None:
    """The confusion matrix of the shown split."""
    gallery.add(
        "confusion",
        "Confusion matrix",
        f"Rows: true class, columns: predicted class, on the {shown.split} split.",
        lambda: plots.confusion(shown.W, shown.X, shown.y, class_names=shown.names),
    )


# ------------------------------------------------------------------------------------------
# The page
# ------------------------------------------------------------------------------------------

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em;
       color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
table { border-collapse: collapse; margin: 0.5em 0 1em; }
td, th { border: 1px solid #ccc; padding: 0.25em 0.7em; text-align: right; }
th { background: #f2f2f2; } td.key, th.key { text-align: left; }
td.true { background: #c8f0c8; font-weight: bold; }
figure { margin: 1.5em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.92em; } .muted { color: #777; font-size: 0.9em; }
nav a { margin-right: 1em; }
"""


def readable(v: object) -> str:
    """A value of ``config.json`` / ``metrics.json`` as a table cell: floats to 6 significant
    digits, ``None`` as ``-``, booleans as yes/no, a list as its items joined by ``; ``.

    Examples:
        >>> readable(0.123456789), readable(None), readable(True), readable([1.5, None, "a"])
        ('0.123457', '-', 'yes', '1.5; -; a')
    """
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, list | tuple):
        return "; ".join(readable(x) for x in v) if v else "-"
    return str(v)


def flatten(rows: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings flattened into one level, keys joined with ``.`` (``{"a": {"b": 1}}``
    becomes ``{"a.b": 1}``); an empty mapping becomes ``-``.

    Examples:
        >>> flatten({"loss": 0.5, "diagnostics": {"flat": False, "drops": {"total": 0.1}}})
        {'loss': 0.5, 'diagnostics.flat': False, 'diagnostics.drops.total': 0.1}
    """
    out: dict[str, Any] = {}
    for key, value in rows.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.update(flatten(value, f"{name}."))
        else:
            out[name] = None if isinstance(value, Mapping) else value
    return out


def _kv_table(rows: Mapping) -> str:
    if not rows:
        return '<p class="muted">none recorded</p>'
    body = "".join(
        f'<tr><td class="key">{html.escape(str(k))}</td><td>{html.escape(readable(v))}</td></tr>'
        for k, v in flatten(rows).items()
    )
    return f"<table>{body}</table>"


def _view_table(view: plots.AlgebraicView) -> str:
    header, rows = view.table()
    head = "".join(
        f'<th class="{"key" if i == 0 else ""}">{html.escape(h)}</th>' for i, h in enumerate(header)
    )
    body = []
    for row in rows:
        cells = [f'<td class="key">{html.escape(row[0])}</td>']
        for cell in row[1:]:
            true = cell.startswith("*")
            cls = ' class="true"' if true else ""
            cells.append(f"<td{cls}>{html.escape(cell.strip('*'))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _html(name, config, metrics, gallery: _Gallery, view, split) -> str:
    figures, skipped = gallery.figures, gallery.skipped
    from lingrad import __version__

    title = f"lingrad run: {name}"
    nav = " ".join(f'<a href="#{f.stem}">{html.escape(f.title)}</a>' for f in figures)
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="muted">Report written by lingrad {__version__}. Static page: every image '
        "is a file in this folder.</p>",
        f"<nav>{nav}</nav>",
        '<section id="metrics"><h2>Metrics</h2>',
        _kv_table(metrics),
        "</section>",
        '<section id="config"><h2>Configuration</h2>',
        _kv_table(config),
        "</section>",
        '<section id="figures"><h2>Figures</h2>',
    ]
    for f in figures:
        png = next(x for x in f.files if x.endswith(".png"))
        others = " ".join(
            f'<a href="{html.escape(x)}">{x.rsplit(".", 1)[1].upper()}</a>'
            for x in f.files
            if x != png
        )
        parts += [
            f'<figure id="{f.stem}"><h3>{html.escape(f.title)}</h3>',
            f'<img src="{html.escape(png)}" alt="{html.escape(f.title)}">',
            f"<figcaption>{html.escape(f.caption)} {others}</figcaption></figure>",
        ]
        if f.stem == "scores_table":
            parts += [
                f"<p>The same table as text ({split} split; "
                '<a href="scores_table.md">Markdown</a>):</p>',
                _view_table(view),
                f"<p>Mean {html.escape(view.loss_label)} over these examples: "
                f"L = {view.mean_loss:.4f}</p>",
            ]
    parts.append("</section>")
    if skipped:
        items = "".join(
            f"<li>{html.escape(stem)}: {html.escape(why)}</li>" for stem, why in skipped
        )
        parts.append(f'<section id="skipped"><h2>Not drawn</h2><ul>{items}</ul></section>')
    parts.append("</body></html>\n")
    return "\n".join(parts)
