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
