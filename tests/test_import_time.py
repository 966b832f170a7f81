"""``import lingrad`` and ``lingrad --help`` load none of the heavy libraries.

The check is on the list of modules imported (``python -X importtime``), never on a time, which
would be flaky on a loaded machine; the times are printed for the record.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import lingrad

SRC = Path(__file__).resolve().parents[1] / "src"

#: the libraries that take from a tenth of a second to seconds to import
HEAVY = ("sklearn", "matplotlib", "sympy", "scipy", "dask", "rich", "torch")


def imported(*args: str) -> tuple[set[str], float]:
    """The top-level packages imported by ``python -X importtime ARGS`` and the seconds all
    imports took (the sum of the outermost imports' cumulative times)."""
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    names, total = set(), 0.0
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, raw = line.split("|")
        if cumulative.strip().isdigit():
            names.add(raw.strip().split(".")[0])
            if not raw.startswith("  "):  # an outermost import: one space after the bar
                total += int(cumulative) / 1e6
    return names, total


@pytest.mark.parametrize(
    "args", [("-c", "import lingrad"), ("-m", "lingrad", "--help")], ids=["import", "help"]
)
def test_no_heavy_import(args):
    names, seconds = imported(*args)
    print(f"{' '.join(args)}: {len(names)} packages imported in {seconds:.3f} s")
    assert "lingrad" in names  # the listing is read at all
    assert sorted(names & set(HEAVY)) == []


def test_the_check_sees_a_heavy_import():
    names, _ = imported("-c", "import lingrad; lingrad.losses")
    assert "numpy" in names  # an attribute imports its module on first use


def test_every_public_name_resolves():
    for name in lingrad.__all__:
        assert getattr(lingrad, name) is not None, name
    assert set(lingrad.__all__) <= set(dir(lingrad))
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        lingrad.nothing  # noqa: B018


@pytest.mark.parametrize("module", ["lingrad.train", "lingrad.estimators"])
def test_training_does_not_import_sympy(module):
    # the symbolic gradient method imports SymPy on first use, not when the trainer loads
    names, _ = imported("-c", f"import {module}")
    assert "lingrad" in names
    assert "sympy" not in names


@pytest.mark.parametrize("command", ["train", "explain", "derive", "gradcheck", "sweep", "plot"])
def test_a_commands_help_loads_no_heavy_library(command):
    names, seconds = imported("-m", "lingrad", command, "--help")
    print(f"lingrad {command} --help: {seconds:.3f} s of imports")
    assert "lingrad" in names
    assert sorted(names & set(HEAVY)) == []
