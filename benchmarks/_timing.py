"""Shared timing helpers for the benchmark scripts: warm-up, repeats, median, tables, machine."""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true", help="small sizes, few repeats (a smoke run)")
    p.add_argument("--repeats", type=int, default=None, help="timed repeats (default 7, quick 2)")
    return p


def repeats(args) -> int:
    return args.repeats or (2 if args.quick else 7)


def measure(fn: Callable[[], object], n: int, warmup: int = 1) -> dict[str, float]:
    """Median, min and max wall time in seconds of ``fn()`` over ``n`` runs after warm-up."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return {"median": statistics.median(times), "min": min(times), "max": max(times)}


def interleaved(fns: dict[str, Callable[[], object]], n: int, warmup: int = 1) -> dict:
    """``measure`` for several functions that take turns inside each repeat (A, B, A, B...), so
    that a busy machine slows them alike: ``{name: {"median", "min", "max"}}`` in seconds."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(n):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {
        name: {"median": statistics.median(t), "min": min(t), "max": max(t)}
        for name, t in times.items()
    }


def load() -> str:
    """The 1-minute load average (a busy machine makes every figure noisier)."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "?"


def machine() -> str:
    """One line on the machine and its BLAS, for the record."""
    from threadpoolctl import threadpool_info

    blas = ", ".join(
        f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')}, "
        f"{i.get('num_threads')} threads)"
        for i in threadpool_info()
        if i.get("user_api") == "blas"
    )
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, BLAS: {blas}"


def table(rows: list[dict], columns: list[str]) -> str:
    """A plain-text table; floats in milliseconds when the column name ends in '_ms'."""
    cells = [[format_number(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    line = "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(out)


def format_number(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.4g}" if abs(v) < 1e4 else f"{v:.0f}"
    return str(v)
