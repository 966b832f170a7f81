"""What several commands share: adding a sub-command's parser, and a saved model's inputs."""

from __future__ import annotations

import argparse
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
