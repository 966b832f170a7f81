"""Every example script runs on small data and prints its result."""

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# The quick arguments of each script, and a line its output must contain.
RUNS = {
    "csv_train_evaluate.py": (["--epochs", "20"], "identical predictions"),
    "sklearn_pipeline.py": (["--quick"], "test accuracy: lingrad"),
    "sweep.py": (["--quick"], "best: lr"),
}


def test_every_example_is_run_here():
    scripts = {p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("_")}
    assert scripts == set(RUNS)


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(RUNS))
def test_example_runs(script, tmp_path):
    args, expected = RUNS[script]
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert expected in result.stdout, result.stdout[-3000:]
