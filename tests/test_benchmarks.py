"""Every benchmark script runs in its --quick form so that none can rot (no timing asserted)."""

import subprocess
import sys
from pathlib import Path

import numpy as np
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


def test_sparse_text_generator_makes_the_set_it_describes():
    """benchmarks/sparse_text.py's seeded set (no fit: ``--generate-only``; its fits, run by
    ``test_benchmark_quick_run[sparse_text.py]``, need lingrad's sparse engine)."""
    import re

    run = [sys.executable, "sparse_text.py", "--quick", "--generate-only"]
    out = subprocess.run(run, cwd=BENCHMARKS, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    text = out.stdout
    shape = re.search(r"set: ([\d,]+) x ([\d,]+), ([\d.]+) non-zeros a row, (\d+) classes", text)
    assert shape and shape.group(1, 2, 4) == ("4,000", "2,000", "20")
    assert 45 <= float(shape.group(3)) <= 55
    slope = float(re.search(r"slope on log-log \(ranks 10..1000\) = (-?[\d.]+)", text).group(1))
    assert -1.25 <= slope <= -0.95  # Zipf 1.1
    planted = float(re.search(r"planted model's accuracy \(the ceiling\) = ([\d.]+)", text)[1])
    assert 0.3 < planted < 0.95  # labels follow the model, with noise

    sys.path.insert(0, str(BENCHMARKS))
    try:
        from sparse_text import generate, split
    finally:
        sys.path.remove(str(BENCHMARKS))
    X1, y1, _ = generate(500, 300, nnz=10, n_classes=4, seed=7)
    X2, y2, _ = generate(500, 300, nnz=10, n_classes=4, seed=7)
    assert (X1 != X2).nnz == 0 and (y1 == y2).all() and X1.format == "csr"
    norms = np.sqrt(np.asarray(X1.multiply(X1).sum(axis=1)).ravel())
    np.testing.assert_allclose(norms, 1.0)  # rows L2-normalised, as tf-idf
    X_train, X_test, y_train, y_test = split(X1, y1)
    assert X_train.shape == (400, 300) and X_test.shape == (100, 300)
    assert len(y_train) + len(y_test) == 500
