"""The ``lingrad`` command: one sub-command per job, each in its own module here.

A command module defines ``register(subparsers)``, which adds its parser and sets
``func=run``; adding a command is one module, one line in :data:`COMMANDS` and one in
:data:`~lingrad.cli.common.SUMMARIES`. Only the command being run is imported:
``lingrad --help`` lists the commands from :data:`~lingrad.cli.common.SUMMARIES` and loads no
NumPy, SymPy, scikit-learn or Matplotlib.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Collection, Sequence

from lingrad.cli.common import EXPECTED_ERRORS, SUMMARIES, describe

COMMANDS = list(SUMMARIES)


def build_parser(commands: Collection[str] | None = None) -> argparse.ArgumentParser:
    """The ``lingrad`` argument parser: one sub-command per module named in :data:`COMMANDS`.

    The commands in ``commands`` (all of them when ``None``) get their full parser: their
    module's ``register(sub)`` adds it and sets ``func`` to its ``run``. The others are listed
    by name and summary only, without importing their module.

    Examples:
        >>> args = build_parser().parse_args(["derive", "--loss", "svm"])
        >>> args.command, args.func.__module__
        ('derive', 'lingrad.cli.derive')
        >>> "predict" in build_parser(commands=()).format_help()
        True
    """
    parser = argparse.ArgumentParser(
        prog="lingrad",
        description="Linear classifiers, loss functions and gradient-based learning. "
        "Run 'lingrad COMMAND --help' for a command's options.",
    )
    from lingrad import __version__

    parser.add_argument("--version", action="version", version=f"lingrad {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        if commands is None or name in commands:
            importlib.import_module(f"lingrad.cli.{name}").register(sub)
        else:
            sub.add_parser(name, help=SUMMARIES[name], add_help=False)
    return parser


def command_of(argv: Sequence[str]) -> str | None:
    """The command that ``argv`` (the arguments after ``lingrad``) runs: its first argument
    that is not an option, if it names a command.

    Examples:
        >>> command_of(["train", "--epochs", "3"]), command_of(["--help"]), command_of(["x"])
        ('train', None, None)
    """
    first = next((a for a in argv if not a.startswith("-")), None)
    return first if first in SUMMARIES else None


def main(argv: list[str] | None = None) -> int:
    """Run the command line; bad input ends with ``lingrad: error: ...`` and exit status 2.

    Expected failures are one line, never a traceback: bad values (``ValueError``,
    ``TypeError``) and the outside world's failures (:data:`~lingrad.cli.common.EXPECTED_ERRORS`:
    a file that cannot be read or written, a malformed ``.npz``/CSV, a size that does not fit
    in memory), named by the file where it is known. Anything else is a bug and keeps its
    traceback.
    """
    argv = sys.argv[1:] if argv is None else argv
    command = command_of(argv)
    parser = build_parser(commands=() if command is None else (command,))
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
