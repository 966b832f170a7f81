"""Writing several figures to files, in two processes when that is safe: the parent draws from
the front of the list, one forked child from the back, until they meet.

Drawing a figure is single-threaded Python (Matplotlib's layout, ticks, text and Agg
rendering), so two processes on two free cores take about half the wall time; a figure the
child could not write (it raised, or the child died) is drawn again in the parent, which then
raises the real error. The child is forked only where that is safe (:func:`can_fork`: the
``fork`` start method, one thread, two CPUs) and, by default, where it can help
(:func:`parallel_workers`: a second core is free).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from lingrad._validation import check_int
from lingrad.plots.figures import save

#: how long the parent waits for the child's next figure before drawing the rest itself (s)
CHILD_WAIT = 300.0


@dataclass(frozen=True)
class FigureTask:
    """One figure to write: the file stem (``out/stem.png``...) and a function drawing it.

    Examples:
        >>> task = FigureTask("empty", Figure)
        >>> task.stem, type(task.draw()).__name__
        ('empty', 'Figure')
    """

    stem: str
    draw: Callable[[], Figure]


#: called in the parent, in task order, as each figure is written: (index, files, seconds)
Done = Callable[[int, list[Path], float], None]


def parallel_workers() -> int:
    """The processes :func:`write_figures` uses by default: 2 where a child can be forked
    safely (:func:`can_fork`) and a second core is free (the 1-minute load average, this
    process included, below ``CPUs - 0.5``: on a busy machine two processes only take turns
    and the fork costs more than it gains), else 1.

    Examples:
        >>> parallel_workers() in (1, 2) and parallel_workers() <= 1 + can_fork()
        True
    """
    if not can_fork():
        return 1
    try:
        busy = os.getloadavg()[0]
    except OSError:  # no load average on this platform
        busy = 0.0
    return 2 if busy < _cpus() - 0.5 else 1


def can_fork() -> bool:
    """Whether a drawing child may be forked here: the ``fork`` start method exists, this
    process runs one thread (forking a threaded process can deadlock) and at least two CPUs
    are available to it.

    Examples:
        >>> isinstance(can_fork(), bool)
        True
    """
    methods = multiprocessing.get_all_start_methods()
    return "fork" in methods and threading.active_count() == 1 and _cpus() >= 2


def _cpus() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def write_figures(
    tasks: Sequence[FigureTask],
    out: str | os.PathLike[str],
    formats: Sequence[str] = ("png",),
    *,
    workers: int | None = None,
    done: Done | None = None,
) -> list[list[Path]]:
    """Draw every task's figure and write it to ``out/stem.<format>`` for each format.

    Args:
        tasks: the figures, in the order ``done`` reports them.
        out: the folder (must exist).
        formats: as for :func:`lingrad.plots.save`.
        workers: 1 draws everything here; 2 forks one child where :func:`can_fork`;
            ``None`` (default): :func:`parallel_workers` (2 only when a core is free).
        done: called in this process for each figure, in task order, once it and every
            figure before it are written.

    Returns:
        The files written, one list per task. The files are the same whichever process
        drew them (the figures' metadata are fixed, see :func:`lingrad.plots.save`).

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     files = write_figures([FigureTask("a", Figure), FigureTask("b", Figure)], tmp)
        >>> [[p.name for p in f] for f in files]
        [['a.png'], ['b.png']]
    """
    n = parallel_workers() if workers is None else check_int("workers", workers, minimum=1)
    results = _InOrder(len(tasks), done)
    base = Path(out)
    if len(tasks) < 2 or n < 2 or not can_fork():
        for i, task in enumerate(tasks):
            results.put(i, *_write(task, base, formats))
    else:
        _two_ended(tasks, base, tuple(formats), results)
    return [results.files[i] for i in range(len(tasks))]


class _InOrder:
    """The files of each task as they arrive, passed on to ``done`` in task order."""

    def __init__(self, n: int, done: Done | None):
        self.n, self.done, self.next = n, done, 0
        self.files: dict[int, list[Path]] = {}
        self.seconds: dict[int, float] = {}

    def put(self, i: int, files: list[Path], seconds: float) -> None:
        self.files[i], self.seconds[i] = files, seconds
        while self.next in self.files:
            if self.done is not None:
                self.done(self.next, self.files[self.next], self.seconds[self.next])
            self.next += 1


def _write(task: FigureTask, out: Path, formats: Sequence[str]) -> tuple[list[Path], float]:
    start = time.perf_counter()
    files = save(task.draw(), out / task.stem, formats)
    return files, time.perf_counter() - start


def _two_ended(tasks: Sequence[FigureTask], out: Path, formats, results: _InOrder) -> None:
    """The parent takes tasks from the front (the first before the fork), the child from the
    back, each claiming the next under one lock; the child's files come back through a pipe."""
    ctx = multiprocessing.get_context("fork")
    lock = ctx.Lock()
    bounds = ctx.RawArray("i", [1, len(tasks) - 1])  # [next from the front, next from the back]
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child, args=(tasks, out, formats, bounds, lock, send))
    child.daemon = True
    child.start()
    send.close()
    try:
        i: int | None = 0
        while i is not None:
            results.put(i, *_write(tasks[i], out, formats))
            _receive(receive, results, wait=0.0)
            with lock:
                i = None if bounds[0] > bounds[1] else bounds[0]
                if i is not None:
                    bounds[0] += 1
        claimed = range(bounds[1] + 1, len(tasks))  # everything past the back is the child's
        while any(k not in results.files for k in claimed) and _receive(
            receive, results, wait=CHILD_WAIT
        ):
            pass
        for k in claimed:  # failed or lost in the child: drawn here (raising here)
            if k not in results.files:
                results.put(k, *_write(tasks[k], out, formats))
    finally:
        receive.close()
        child.join(timeout=5.0)
        if child.is_alive():
            child.kill()
            child.join(timeout=5.0)


def _receive(receive: Any, results: _InOrder, *, wait: float) -> bool:
    """Take the child's messages waiting within ``wait`` s; False once the pipe is closed or
    nothing came in time."""
    while receive.poll(wait):
        try:
            i, names, seconds = receive.recv()
        except EOFError:
            return False
        if names is not None:
            results.put(i, [Path(name) for name in names], seconds)
        wait = 0.0
    return wait == 0.0 and not receive.closed


def _child(tasks, out: Path, formats, bounds, lock, send) -> None:
    """The forked child: draw from the back until the two ends meet; a figure that raises is
    reported as ``None`` (the parent draws it again and raises)."""
    try:
        while True:
            with lock:
                if bounds[0] > bounds[1]:
                    break
                i = bounds[1]
                bounds[1] -= 1
            try:
                files, seconds = _write(tasks[i], out, formats)
            except Exception:
                send.send((i, None, 0.0))
                continue
            send.send((i, [str(f) for f in files], seconds))
    finally:
        send.close()
