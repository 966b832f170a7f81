"""Shared test helpers.

``require(module)`` imports an optional oracle (PyTorch, Chromium, a Dask cluster...). When it
is missing the test is skipped, unless ``LINGRAD_REQUIRE_ORACLES=1`` (set by CI), in which case
it fails: in CI nothing is silently skipped.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import socket
import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest

from lingrad import losses, optim, runs

REQUIRE_ORACLES = os.environ.get("LINGRAD_REQUIRE_ORACLES") == "1"


def missing(what: str) -> None:
    """Skip (locally) or fail (in CI) because the oracle ``what`` is unavailable."""
    if REQUIRE_ORACLES:
        pytest.fail(f"{what} is required (LINGRAD_REQUIRE_ORACLES=1) but unavailable")
    pytest.skip(f"{what} is not installed")


def require(module: str):
    """Import ``module`` or skip/fail as :func:`missing` says."""
    try:
        return importlib.import_module(module)
    except ImportError:
        missing(module)


def random_targets(loss: str, rng, N: int, C: int):
    """Random targets of the kind ``loss`` takes (its spec's ``target``): soft labels
    (distribution), binary labels (binary), real targets ``(N, C)`` or integer labels in
    ``[0, C)``."""
    target = losses.spec(loss).target
    if target is losses.Target.DISTRIBUTION:
        return rng.dirichlet(np.ones(C), size=N)
    if target is losses.Target.BINARY:
        return rng.integers(0, 2, N)
    if target is losses.Target.REAL:
        return rng.normal(size=(N, C))
    return rng.integers(0, C, N)


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright launches Debian's Chromium (Playwright's own download does not work)."""
    if not os.path.exists(CHROMIUM):
        missing("Debian chromium (/usr/bin/chromium)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@contextlib.contextmanager
def serve(app) -> Iterator[str]:
    """``app`` served by uvicorn in a thread on a free port of 127.0.0.1; yields the base URL
    ``http://127.0.0.1:PORT``. Every wait is bounded (start 20 s, stop 30 s)."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                pytest.fail("uvicorn did not start")
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


class Interrupt(Exception):
    """Raised by a callback to kill a run mid-way (a crash, for the resume tests)."""


def converges_and_resumes(J, name: str, tol: float, tmp_path, **kw):
    """Fit ``J`` with the solver ``name`` at ``tol`` through ``lingrad.train.fit``: it must stop
    CONVERGED with its measure <= tol, and a run killed half-way (checkpoint after every
    epoch) then resumed must equal the uninterrupted one bit for bit. Returns the full run."""
    from lingrad.train import StopReason, fit

    full = fit(J, optim.get(name, tol=tol), rng=np.random.default_rng(0), **kw)
    assert full.stop is not None and full.stop.reason is StopReason.CONVERGED
    assert full.step_history["grad_norm"][-1] <= tol
    n = full.n_iter
    assert n >= 4  # something to interrupt

    def interrupt(epoch, logs, W):
        if epoch + 1 == n // 2 + 1:
            raise Interrupt

    with pytest.raises(Interrupt):
        fit(J, optim.get(name, tol=tol), rng=np.random.default_rng(0), checkpoint_dir=tmp_path,
            callbacks=[interrupt], **kw)  # fmt: skip
    meta = json.loads(str(runs.load_npz(tmp_path / "checkpoint.npz")["meta"]))
    assert meta["epoch"] == n // 2
    resumed = fit(J, optim.get(name, tol=tol), rng=np.random.default_rng(1), resume=tmp_path, **kw)
    np.testing.assert_array_equal(resumed.W, full.W)
    assert json.dumps(resumed.step_history) == json.dumps(full.step_history)
    assert (resumed.n_iter, resumed.n_evaluations) == (full.n_iter, full.n_evaluations)
    return full
