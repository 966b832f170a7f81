"""The ``lingrad`` command: one sub-command per job, each in its own module here.

A command module defines ``register(subparsers)``, which adds its parser and sets
``func=run``; adding a command is one module and one line in :data:`COMMANDS`.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from lingrad.cli.common import EXPECTED_ERRORS, describe

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
    """The ``lingrad`` argument parser: one sub-command per module named in :data:`COMMANDS`.

    Each command module's ``register(sub)`` adds its parser and sets ``func`` to its ``run``.

    Examples:
        >>> args = build_parser().parse_args(["derive", "--loss", "svm"])
        >>> args.command, args.func.__module__
        ('derive', 'lingrad.cli.derive')
    """
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
    """Run the command line; bad input ends with ``lingrad: error: ...`` and exit status 2.

    Expected failures are one line, never a traceback: bad values (``ValueError``,
    ``TypeError``) and the outside world's failures (:data:`~lingrad.cli.common.EXPECTED_ERRORS`:
    a file that cannot be read or written, a malformed ``.npz``/CSV, a size that does not fit
    in memory), named by the file where it is known. Anything else is a bug and keeps its
    traceback.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("lingrad: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `lingrad explain | head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except (ValueError, TypeError) as exc:
        message = " ".join(str(exc).splitlines())
    except EXPECTED_ERRORS as exc:
        message = describe(exc)
    print(f"lingrad: error: {message}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
