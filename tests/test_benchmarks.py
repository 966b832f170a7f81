"""Every benchmark script runs in its --quick form so that none can rot (no timing asserted)."""

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
SCRIPTS = sorted(p.name for p in BENCHMARKS.glob("*.py") if not p.name.startswith("_"))


def test_there_are_benchmarks():
    assert "kernels.py" in SCRIPTS and "naive_vs_vectorized.py" in SCRIPTS


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS)
def test_benchmark_quick_run(script):
    result = subprocess.run(
        [sys.executable, script, "--quick"],
        cwd=BENCHMARKS,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert " = " in result.stdout, "a benchmark ends with ratio lines 'a / b = x'"
