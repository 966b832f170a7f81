"""The ``lingrad`` command: one sub-command per job, each in its own module here.

A command module defines ``register(subparsers)``, which adds its parser and sets
``func=run``; adding a command is one module and one line in :data:`COMMANDS`.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = [
    "train",
    "sweep",
    "plot",
    "explain",
    "playground",
    "gradcheck",
    "derive",
    "evaluate",
    "predict",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lingrad",
        description="Linear classifiers, loss functions and gradient-based learning.",
    )
    from lingrad import __version__

    parser.add_argument("--version", action="version", version=f"lingrad {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"lingrad.cli.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; bad input ends with ``lingrad: error: ...`` and exit status 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, TypeError, FileNotFoundError) as exc:
        print(f"lingrad: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("lingrad: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
