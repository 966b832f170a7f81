"""The playground inside a notebook: :func:`show` serves the page on loopback in a daemon
thread (once per process) and returns an ``IPython.display.IFrame`` of it.

The server is the same app as ``lingrad playground`` (:func:`lingrad.playground.create_app`),
built ``embeddable`` so that a notebook on loopback may frame it; it listens on 127.0.0.1 only
and stops with the Python process (or :func:`stop`).
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

from lingrad._validation import check_int, check_positive, fail

HOST = "127.0.0.1"

_server: dict[str, Any] = {}  # "url", "server", "thread", "socket" while one runs
_lock = threading.Lock()


@dataclass(frozen=True)
class Frame:
    """An iframe of ``src`` for a notebook without IPython (its ``_repr_html_`` draws it).

    Examples:
        >>> Frame("http://127.0.0.1:1/", "100%", 900)._repr_html_()[:30]
        '<iframe src="http://127.0.0.1:'
    """

    src: str
    width: str | int
    height: str | int

    def _repr_html_(self) -> str:
        return f'<iframe src="{self.src}" width="{self.width}" height="{self.height}"></iframe>'


def serve(port: int = 0, timeout: float = 20.0) -> str:
    """Start the playground on ``127.0.0.1:port`` (0: a free port) in a daemon thread, unless
    one already runs in this process; return its URL. Waits at most ``timeout`` seconds for it
    to start (``RuntimeError`` if it does not).

    Examples:
        >>> url = serve()
        >>> url.startswith("http://127.0.0.1:"), serve() == url
        (True, True)
        >>> stop()
    """
    check_int("port", port, minimum=0)
    if port > 65535:
        fail("port", "an integer in [0, 65535]", port)
    check_positive("timeout", timeout)
    import uvicorn

    from lingrad.playground.app import create_app

    with _lock:
        if _server:
            return _server["url"]
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((HOST, port))
        server = uvicorn.Server(uvicorn.Config(create_app(embeddable=True), log_level="warning"))
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="lingrad-playground"
        )
        thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                server.should_exit = True
                sock.close()
                raise RuntimeError(f"the playground did not start within {timeout} s")
            time.sleep(0.02)
        url = f"http://{HOST}:{sock.getsockname()[1]}/"
        _server.update(url=url, server=server, thread=thread, socket=sock)
        return url


def stop(timeout: float = 10.0) -> None:
    """Stop the server :func:`serve` started (waits at most ``timeout`` seconds); no-op if none.

    Examples:
        >>> stop()
    """
    with _lock:
        if not _server:
            return
        _server["server"].should_exit = True
        _server["thread"].join(timeout=timeout)
        _server["socket"].close()
        _server.clear()


def show(width: str | int = "100%", height: str | int = 960, port: int = 0) -> Any:
    """The playground in a notebook cell: an ``IPython.display.IFrame`` of :func:`serve`'s page
    (a :class:`Frame` when IPython is not installed).

    Examples:
        >>> frame = show(height=700)
        >>> frame.src.startswith("http://127.0.0.1:"), frame.height
        (True, 700)
        >>> stop()
    """
    url = serve(port)
    try:
        from IPython.display import IFrame
    except ImportError:
        return Frame(url, width, height)
    return IFrame(url, width=width, height=height)
