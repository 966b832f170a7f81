"""Every command's help: each option explained, plain text, each default said once; the
command list needs no command module."""

from __future__ import annotations

import argparse
import re
import sys

import pytest

from lingrad.cli import COMMANDS, build_parser, command_of, main
from lingrad.cli.common import SUMMARIES, HelpFormatter

#: reStructuredText that a terminal would show raw
MARKUP = re.compile(r"``|:[a-z]+:`")


def subparsers(parser: argparse.ArgumentParser) -> argparse._SubParsersAction:
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return action


PARSER = build_parser()
SUB = subparsers(PARSER)


def option_help(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    """What ``--help`` prints for ``action``: its help with the default added."""
    formatter = parser._get_formatter()
    return formatter._expand_help(action) if action.help else ""


@pytest.mark.parametrize("name", COMMANDS)
def test_every_option_has_plain_help_with_at_most_one_default(name):
    parser = SUB.choices[name]
    assert parser.formatter_class is HelpFormatter, name
    text = parser.format_help()
    assert not MARKUP.search(text), MARKUP.search(text)
    for action in parser._actions:
        help_text = option_help(parser, action)
        label = "/".join(action.option_strings) or action.dest
        assert help_text.strip(), f"{name} {label}: no help"
        assert not MARKUP.search(help_text), f"{name} {label}: {help_text}"
        assert help_text.lower().count("default") <= 1, f"{name} {label}: {help_text}"


def test_the_checks_can_fail():
    parser = argparse.ArgumentParser(formatter_class=HelpFormatter)
    bare = parser.add_argument("--bare")
    twice = parser.add_argument("--x", default=3, help="see :func:`f` (default: 3)")
    assert option_help(parser, bare) == ""
    assert MARKUP.search(twice.help) and option_help(parser, twice).count("default") == 1


@pytest.mark.parametrize("name", COMMANDS)
def test_the_command_list_matches_each_commands_own_summary(name):
    listed = {a.dest: a.help for a in SUB._choices_actions}
    assert listed[name] == SUMMARIES[name]
    assert list(SUMMARIES) == COMMANDS


def test_help_lists_every_command_without_importing_them(capsys, monkeypatch):
    for name in COMMANDS:
        monkeypatch.delitem(sys.modules, f"lingrad.cli.{name}", raising=False)
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert all(f"    {name}" in out for name in COMMANDS)
    assert not any(f"lingrad.cli.{name}" in sys.modules for name in COMMANDS)


def test_only_the_command_run_is_imported(monkeypatch, capsys):
    for name in COMMANDS:
        monkeypatch.delitem(sys.modules, f"lingrad.cli.{name}", raising=False)
    with pytest.raises(SystemExit):
        main(["predict", "--help"])
    assert "predicted_label" in " ".join(capsys.readouterr().out.split())
    assert "lingrad.cli.predict" in sys.modules and "lingrad.cli.sweep" not in sys.modules


def test_command_of_and_unknown_commands(capsys):
    assert command_of(["-h"]) is None and command_of(["sweep", "-h"]) == "sweep"
    with pytest.raises(SystemExit) as exc:
        main(["nosuch"])
    assert exc.value.code == 2 and "invalid choice: 'nosuch'" in capsys.readouterr().err
