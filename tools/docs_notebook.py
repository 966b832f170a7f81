"""A mkdocs hook: the lecture tour notebook, executed at build time, as a page with its figures.

``examples/lecture_tour.ipynb`` is kept without outputs in the repository. ``on_files`` runs it
top to bottom (nbclient, the ``python3`` kernel, ``src`` first on ``PYTHONPATH``, from
``examples/``) and adds two kinds of generated files to the site: ``lecture_tour.md`` (the
Markdown cells as they are, each code cell as a Python block followed by its text output) and
one PNG per figure under ``lecture_tour_figures/``. A cell that raises fails the build, so the
page never shows a half-run tour. The result is kept per notebook digest for the process, so
``mkdocs serve`` re-runs it only when the notebook changes.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from pathlib import Path
from typing import Any

NOTEBOOK = "examples/lecture_tour.ipynb"
PAGE = "lecture_tour.md"
FIGURES = "lecture_tour_figures"
CELL_TIMEOUT_S = 300
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

_rendered: dict[str, tuple[str, dict[str, bytes]]] = {}


def execute(path: Path, src: Path) -> Any:
    """The notebook at ``path``, executed in a fresh kernel with ``src`` importable."""
    import nbclient
    import nbformat

    nb = nbformat.read(path, as_version=4)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(src), env.get("PYTHONPATH")]))
    env.setdefault("MPLBACKEND", "Agg")
    client = nbclient.NotebookClient(
        nb,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute(env=env)  # raises CellExecutionError (cell and traceback) on failure
    return nb


def fence(text: str, language: str) -> str:
    """``text`` as a fenced code block, the fence longer than any backtick run inside."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{language}\n{text.rstrip()}\n{ticks}"


def _output(output: Any, name: str, figures: dict[str, bytes]) -> str | None:
    """One cell output as Markdown; a PNG is stored in ``figures`` under ``name``."""
    if output.output_type == "stream":
        return fence(ANSI.sub("", output.text), "text")
    data = output.get("data", {})
    if "image/png" in data:
        figures[f"{name}.png"] = base64.b64decode(data["image/png"])
        return f"![Output figure {name}]({FIGURES}/{name}.png)"
    if "text/markdown" in data:
        return str(data["text/markdown"])
    if "text/plain" in data:
        return fence(ANSI.sub("", data["text/plain"]), "text")
    return None


def render(nb: Any) -> tuple[str, dict[str, bytes]]:
    """The executed notebook as (Markdown page, figures by file name)."""
    blocks: list[str] = []
    figures: dict[str, bytes] = {}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            blocks.append(cell.source)
            if index == 0:
                blocks.append(
                    f'!!! note "Generated from `{NOTEBOOK}`"\n'
                    "    This page is the notebook, executed when the documentation was built:\n"
                    "    every output below was computed by this version of lingrad. Run it\n"
                    "    yourself with `jupyter lab examples/lecture_tour.ipynb`."
                )
        elif cell.cell_type == "code" and cell.source.strip():
            blocks.append(fence(cell.source, "python"))
            for k, output in enumerate(cell.outputs):
                if (text := _output(output, f"cell{index:02d}-{k}", figures)) is not None:
                    blocks.append(text)
    return "\n\n".join(blocks) + "\n", figures


def on_files(files: Any, config: Any) -> Any:
    """Add the executed tour (page and figures) to the site's files."""
    from mkdocs.structure.files import File

    root = Path(config.config_file_path).resolve().parent
    path = root / NOTEBOOK
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest not in _rendered:
        _rendered[digest] = render(execute(path, root / "src"))
    page, figures = _rendered[digest]
    files.append(File.generated(config, PAGE, content=page))
    for name, png in figures.items():
        files.append(File.generated(config, f"{FIGURES}/{name}", content=png))
    return files
