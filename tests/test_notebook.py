"""The lecture tour notebook runs top to bottom (its cells assert the seed's numbers)."""

from pathlib import Path

import pytest
from conftest import require

TOUR = Path(__file__).resolve().parent.parent / "examples" / "lecture_tour.ipynb"


def test_outputs_are_stripped_in_the_repository():
    nbformat = require("nbformat")
    nb = nbformat.read(TOUR, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)


@pytest.mark.slow
def test_lecture_tour_executes():
    nbformat = require("nbformat")
    nbclient = require("nbclient")
    require("ipykernel")
    nb = nbformat.read(TOUR, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(TOUR.parent)}}
    )
    client.execute()  # raises CellExecutionError, with the cell and its traceback, on failure
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "mean: 5.27" in text and "loss = -ln 0.13 = 2.04" in text
    # the slides' numerical gradient, the KL example, the 4-pixel slip, genetic search
    assert "dW_1 = (1.25322 - 1.25347) / 0.0001 = -2.5" in text
    assert "dW_2 = (1.25353 - 1.25347) / 0.0001 = 0.6" in text
    assert "gradient dW = [-2.5, 0.6, 0, ...]" in text
    assert "printed p_hat: 9 entries, sum 1.01" in text
    assert "corrected p_hat: 10 entries, sum 1.00" in text and "= -ln 0.01 = 4.60517" in text
    assert "ship score: 60.75 (the printed slide shows 61.95" in text
    assert "genetic: validation accuracy" in text
    assert "mean over j != y_i:" in text and "no 1/N" in text


@pytest.mark.slow
def test_cifar_section_runs_on_a_local_copy(tmp_path, monkeypatch):
    """The CIFAR-10 cells, on a miniature archive in the real layout, extracted where the
    notebook looks (the setup cell first, then every cell after the CIFAR-10 heading)."""
    import tarfile

    from test_datasets import make_mini_cifar

    nbformat = require("nbformat")
    nbclient = require("nbclient")
    require("ipykernel")
    archive, _, _ = make_mini_cifar(tmp_path / "archive", n=30)
    data_dir = tmp_path / "data"
    with tarfile.open(archive) as tar:
        tar.extractall(data_dir, filter="data")
    monkeypatch.setenv("LINGRAD_DATA_DIR", str(data_dir))
    nb = nbformat.read(TOUR, as_version=4)
    start = next(i for i, c in enumerate(nb.cells) if "CIFAR-10" in c.source.split("\n")[0])
    setup = next(c for c in nb.cells if c.cell_type == "code")
    nb.cells = [setup, *nb.cells[start:]]
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3").execute()
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "validation accuracy after 3 epochs" in text, text
    assert any("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", [])), (
        "the templates figure is shown"
    )
