"""What several commands share: adding a sub-command's parser, a saved model's inputs, and
the one-line description of an expected failure (a file that cannot be read or written)."""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from lingrad._validation import fail


class SubParsers(Protocol):
    """What :func:`add_command` needs of ``parser.add_subparsers()``: ``add_parser``.

    Examples:
        >>> sub = argparse.ArgumentParser().add_subparsers()
        >>> add_command(sub, "hello", "say hello").prog.endswith("hello")
        True
    """

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser: ...


def add_command(
    sub: SubParsers,
    name: str,
    help: str,
    description: str | None = None,
    *,
    show_defaults: bool = True,
) -> argparse.ArgumentParser:
    """Add the sub-command ``name`` to ``sub`` (an ``add_subparsers`` object) and return its
    parser: ``help`` is its line in ``lingrad --help``, ``description`` heads its own help, and
    ``show_defaults`` appends each option's default to its help text."""
    kwargs: dict[str, Any] = {"help": help}
    if description is not None:
        kwargs["description"] = description
    if show_defaults:
        kwargs["formatter_class"] = argparse.ArgumentDefaultsHelpFormatter
    return sub.add_parser(name, **kwargs)


def model_inputs(model: Any, X: np.ndarray, name: str, expected: str, got: str) -> np.ndarray:
    """The examples ``X`` ``(N, D)`` as a saved ``model`` takes them: its preprocessing
    applied. ``X`` must have the model's ``n_features_in_`` columns, else the error reads
    ``name: expected <expected>, got <got>``."""
    if X.shape[1] != model.n_features_in_:
        fail(name, expected, got)
    if model.preprocessing_ is not None:
        X = model.preprocessing_.transform(X)
    return X


#: The failures a command expects from the outside world (an unreadable, malformed or
#: unwritable file, a size that does not fit in memory): :func:`lingrad.cli.main` reports each
#: as one ``lingrad: error: ...`` line with exit status 2 instead of a traceback.
EXPECTED_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    EOFError,
    csv.Error,
    zipfile.BadZipFile,
    zlib.error,
    MemoryError,
)

#: What reading a malformed file raises besides :data:`EXPECTED_ERRORS`: a missing member
#: (``KeyError``) bytes that are not text (``UnicodeDecodeError``) or not JSON, an unknown
#: compression method (``NotImplementedError``). Only :func:`reading`
#: turns these into one-line errors, since elsewhere they are bugs.
MALFORMED_FILE_ERRORS: tuple[type[BaseException], ...] = (
    *EXPECTED_ERRORS,
    KeyError,
    UnicodeDecodeError,
    json.JSONDecodeError,
    NotImplementedError,  # zipfile: a compression method it does not know
)


def describe(exc: BaseException) -> str:
    """``exc`` as one line for ``lingrad: error: ...``, naming the file where it is known.

    Examples:
        >>> describe(IsADirectoryError(21, "Is a directory", "out"))
        'out: Is a directory'
        >>> describe(KeyError("W"))
        "missing entry 'W'"
        >>> describe(zipfile.BadZipFile("File is not a zip file"))
        'not a valid .npz/zip file (File is not a zip file)'
        >>> describe(MemoryError())
        'not enough memory'
    """
    if isinstance(exc, OSError) and exc.filename is not None:
        text = f"{os.fsdecode(exc.filename)}: {exc.strerror or exc}"
        if exc.filename2 is not None:
            text += f" (and {os.fsdecode(exc.filename2)})"
    elif isinstance(exc, KeyError):
        text = f"missing entry {exc.args[0]!r}" if exc.args else "a missing entry"
    elif isinstance(exc, zipfile.BadZipFile | zlib.error):
        text = f"not a valid .npz/zip file ({exc})"
    elif isinstance(exc, MemoryError):
        text = f"not enough memory ({exc})" if str(exc) else "not enough memory"
    elif isinstance(exc, EOFError):
        text = f"the file ends too early ({exc})" if str(exc) else "the file ends too early"
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.splitlines())


@contextlib.contextmanager
def reading(path: str | os.PathLike[str]) -> Iterator[None]:
    """Within the block, a malformed or unreadable ``path`` (any of
    :data:`MALFORMED_FILE_ERRORS`) raises one ``ValueError`` naming it; other errors pass.

    Examples:
        >>> with reading("model.npz"):
        ...     {}["W"]
        Traceback (most recent call last):
        ...
        ValueError: model.npz: missing entry 'W'
    """
    try:
        yield
    except FileNotFoundError:
        raise  # already names the path it did not find
    except MALFORMED_FILE_ERRORS as exc:
        if isinstance(exc, OSError) and exc.filename is not None:
            raise ValueError(describe(exc)) from exc
        raise ValueError(f"{os.fsdecode(path)}: {describe(exc)}") from exc


@contextlib.contextmanager
def writing(path: str | os.PathLike[str], option: str) -> Iterator[None]:
    """Within the block, failing to write ``path`` (given by ``option``, e.g. ``-o``: a
    directory, a folder under a file, no permission) raises one ``ValueError`` naming both.

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp, writing(tmp, "-o"):
        ...     open(tmp, "w")
        Traceback (most recent call last):
        ...
        ValueError: -o: expected a file path that can be written, got '...' (Is a directory)
    """
    try:
        yield
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if isinstance(exc, FileExistsError | NotADirectoryError):
            blocking = next((p for p in Path(path).parents if p.is_file()), None)
            if blocking is not None:
                reason = f"{blocking} is a file, not a folder"
        raise ValueError(
            f"{option}: expected a file path that can be written, got "
            f"{os.fsdecode(path)!r} ({reason})"
        ) from exc
