"""``lingrad playground``: serve the browser playground on 127.0.0.1 (never another address)."""

from __future__ import annotations

import argparse
import threading
import webbrowser

from lingrad.cli.common import SubParsers, add_command

HOST = "127.0.0.1"


def register(sub: SubParsers) -> None:
    """Add the ``playground`` command to ``sub``; its ``func`` default is :func:`run`."""
    p = add_command(
        sub, "playground", "serve the interactive playground (a page in your browser) on 127.0.0.1"
    )
    p.add_argument("--port", type=int, default=8231, help="TCP port on 127.0.0.1 (0: any free)")
    p.add_argument("--open", action="store_true", help="open the page in the default browser")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``lingrad playground`` with the parsed ``args`` (uvicorn serves
    :func:`lingrad.playground.app.create_app` until interrupted); return the exit status (0).

    A port outside ``[0, 65535]`` raises ``ValueError`` naming ``--port``.
    """
    if not 0 <= args.port <= 65535:
        raise ValueError(f"--port: expected an integer in [0, 65535], got {args.port}")
    import uvicorn

    from lingrad.playground import create_app

    config = uvicorn.Config(create_app(), host=HOST, port=args.port, log_level="warning")
    server = uvicorn.Server(config)

    def announce() -> None:
        while not server.started and not server.should_exit:
            threading.Event().wait(0.05)
        if server.started:
            port = server.servers[0].sockets[0].getsockname()[1]
            url = f"http://{HOST}:{port}/"
            print(f"lingrad playground on {url} (Ctrl+C to stop)", flush=True)
            if args.open:
                webbrowser.open(url)

    threading.Thread(target=announce, daemon=True).start()
    try:
        server.run()
    finally:
        server.should_exit = True  # ends announce() even if the server never started
    return 0
