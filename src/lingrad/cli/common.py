"""What several commands share: adding a sub-command's parser, a saved model's inputs, and
the one-line description of an expected failure (a file that cannot be read or written)."""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import re
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # NumPy is not imported by `lingrad --help`
    pass

#: Each command's line in ``lingrad --help``, in its order: the top-level parser lists them
#: without importing the command modules (``lingrad --help`` answers at once).
SUMMARIES: dict[str, str] = {
    "train": "train a linear classifier or regressor and print its accuracy (or R^2)",
    "sweep": "search learning rate x regularisation on the validation split",
    "plot": "draw a run's figures (templates, regions, scores, curves, landscape) and index.html",
    "explain": "print scores, probabilities, margins and loss terms for a few examples",
    "playground": "serve the interactive playground (a page in your browser) on 127.0.0.1",
    "gradcheck": "check each gradient method against the numerical gradient",
    "derive": "print a loss's symbolic derivative and update rule",
    "evaluate": "report a saved model's accuracy, per-class precision/recall and confusion matrix",
    "predict": "predict labels and probabilities for the rows of a .csv/.npz/.svm file",
    "export": "write a saved model as an ONNX graph (preprocessing, scores, labels, probabilities)",
}

_ROLE = re.compile(r":[a-z]+(?::[a-z]+)?:`(~?)([^`<]*?)(?:\s*<[^`>]*>)?`")
_LITERAL = re.compile(r"``([^`]*)``")


def plain(text: str) -> str:
    """``text`` with its reStructuredText markup removed, as a terminal shows it: a role
    ``:func:`~a.b``` becomes ``b`` (``a.b`` without the ``~``), a literal ````x```` becomes ``x``.

    Examples:
        >>> plain(":func:`~lingrad.train.fit` writes ``config.json``; see :mod:`lingrad.io`")
        'fit writes config.json; see lingrad.io'
    """

    def role(match: re.Match[str]) -> str:
        tilde, target = match.groups()
        return target.rpartition(".")[2] if tilde else target

    return _LITERAL.sub(r"\1", _ROLE.sub(role, text))


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """The commands' help: plain text (:func:`plain`) and one ``(default: X)`` per option,
    added only where the help text does not already give its default and the default is a
    value (not ``None``, ``False`` or suppressed); a pair prints as ``LOW HIGH``.

    Examples:
        >>> p = argparse.ArgumentParser(formatter_class=HelpFormatter)
        >>> _ = p.add_argument("--lr", type=float, default=0.1, help="``step`` size")
        >>> _ = p.add_argument("--range", nargs=2, default=(1, 2), help="low, high")
        >>> _ = p.add_argument("--n", default=None, help="examples (default: all)")
        >>> text = " ".join(p.format_help().split())
        >>> "step size (default: 0.1)" in text, "low, high (default: 1 2)" in text
        (True, True)
        >>> "examples (default: all)" in text
        True
    """

    def _get_help_string(self, action: argparse.Action) -> str:
        text = plain(action.help or "")
        default = action.default
        if (
            "default" in text.lower()
            or default is None
            or default is False
            or default == argparse.SUPPRESS
            or not action.option_strings
        ):
            return text
        shown = " ".join(map(str, default)) if isinstance(default, list | tuple) else default
        return f"{text} (default: {str(shown).replace('%', '%%')})"

    def _format_text(self, text: str) -> str:
        return super()._format_text(plain(text))


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
    help: str | None = None,
    description: str | None = None,
) -> argparse.ArgumentParser:
    """Add the sub-command ``name`` to ``sub`` (an ``add_subparsers`` object) and return its
    parser: ``help`` is its line in ``lingrad --help`` (by default its entry in
    :data:`SUMMARIES`), ``description`` heads its own help; each option's default is appended
    to its help text where the text does not give it (:class:`HelpFormatter`).
    """
    kwargs: dict[str, Any] = {"help": SUMMARIES[name] if help is None else help}
    if description is not None:
        kwargs["description"] = description
    kwargs["formatter_class"] = HelpFormatter
    return sub.add_parser(name, **kwargs)


def zero_based(text: str) -> bool | str:
    """``--zero-based``'s value: ``"auto"``, or ``yes``/``true``/``1`` as ``True`` and
    ``no``/``false``/``0`` as ``False``.

    Examples:
        >>> zero_based("yes"), zero_based("0"), zero_based("auto")
        (True, False, 'auto')
    """
    values: dict[str, bool | str] = {"auto": "auto", "yes": True, "true": True, "1": True}
    values.update({"no": False, "false": False, "0": False})
    if text.lower() not in values:
        raise argparse.ArgumentTypeError(f"expected auto, yes or no, got {text!r}")
    return values[text.lower()]


def add_file_arguments(p: argparse.ArgumentParser, *, label: str | None = None) -> None:
    """Add ``--label`` and ``--zero-based``, the options of reading a user's data file
    (:mod:`lingrad.datafiles`); ``label`` is ``--label``'s help (by default: the column that
    holds the labels)."""
    p.add_argument(
        "--label",
        default=None,
        help=label
        or "a .csv file's label column, by name or index (default: the column 'label', else "
        "the last)",
    )
    p.add_argument(
        "--zero-based",
        type=zero_based,
        default=None,
        metavar="{auto,yes,no}",
        help="whether an svmlight file's feature indices start at 0 (default: a run's recorded "
        "choice, else auto: from 0 if some index is 0, else from 1)",
    )


def model_inputs(model: Any, X: Any, name: str, expected: str, got: str) -> Any:
    """The examples ``X`` ``(N, D)`` as a saved ``model`` takes them: its preprocessing
    applied. ``X`` must have the model's ``n_features_in_`` columns, else the error reads
    ``name: expected <expected>, got <got>``. A sparse ``X`` stays sparse: a model whose
    preprocessing only scales divides its columns; one that centres them refuses it (centring
    would densify it)."""
    from lingrad._validation import (
        fail,  # NumPy: not for `lingrad --help`
        is_sparse,
    )

    if X.shape[1] != model.n_features_in_:
        fail(name, expected, got)
    prep = model.preprocessing_
    if prep is None:
        return X
    if not is_sparse(X):
        return prep.transform(X)
    if prep.mean is not None and prep.mean.any():
        fail(name, "dense data for this model (it centres its features)", "a sparse matrix")
    import scipy.sparse as sp

    return sp.csr_matrix(X @ sp.diags((1.0 / prep.scale).astype(X.dtype)))


def run_config(model: str | os.PathLike[str]) -> dict[str, Any]:
    """The ``config.json`` of the run folder that holds (or is) ``model``, else ``{}``."""
    from lingrad import runs
    from lingrad._validation import fail

    folder = Path(model) if Path(model).is_dir() else Path(model).parent
    if not (folder / runs.CONFIG).is_file():
        return {}
    with reading(folder / runs.CONFIG):
        config = runs.read_json(folder / runs.CONFIG)
    if not isinstance(config, dict):
        fail(str(folder / runs.CONFIG), "a JSON object", type(config).__name__)
    return config


def file_options(args: argparse.Namespace, model: Any, *, labels: bool) -> dict[str, Any]:
    """How to read a data file for ``model`` (:func:`lingrad.datafiles.load_file`'s keyword
    arguments): ``--label`` and ``--zero-based``, by default the run's (:func:`run_config`),
    and the model's width as ``n_features``. Without ``labels`` (inputs to predict on) a run's
    label column given by index is not used: such a file need not have the column."""
    config = run_config(args.model)
    zero_based = args.zero_based
    if zero_based is None:
        zero_based = config.get("zero_based", "auto")
    label = config.get("label") if args.label is None else args.label
    if not labels and args.label is None and str(label).lstrip("-").isdigit():
        label = None
    return {"label": label, "zero_based": zero_based, "n_features": int(model.n_features_in_)}


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
