"""The documentation site: it builds with no warning (mkdocs --strict), the docstrings' Sphinx
roles become working cross-references, the home page is the guide, and the lecture tour page
holds the executed notebook with its figures.

The site is built once per test session (:func:`build_site`, ~30-80 s: the tour notebook runs);
tests/browser/test_docs_browser.py opens the same build in Chromium."""

from __future__ import annotations

import atexit
import base64
import functools
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from conftest import require

ROOT = Path(__file__).resolve().parent.parent
ROLE = re.compile(r":(func|class|mod|meth|attr|data):`")
SOURCE_LISTING = re.compile(r'<details class="mkdocstrings-source">.*?</details>', re.S)


def tool(name: str):
    """The module ``tools/<name>.py`` (the mkdocs hook and the Griffe extension)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@functools.cache
def build_site() -> Path:
    """``mkdocs build --strict`` into a temporary folder (removed at exit); its path."""
    require("mkdocs")
    require("mkdocstrings")
    require("nbclient")
    site = Path(tempfile.mkdtemp(prefix="lingrad-site-")) / "site"
    atexit.register(shutil.rmtree, site.parent, True)
    src = str(ROOT / "src")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return site


def pages(site: Path) -> dict[Path, str]:
    return {path: path.read_text(encoding="utf-8") for path in site.rglob("*.html")}


@pytest.mark.slow
def test_mkdocs_build_strict():
    site = build_site()
    assert (site / "api" / "losses" / "index.html").exists()
    assert (site / "lecture_tour" / "index.html").exists()


@pytest.mark.slow
def test_no_raw_sphinx_role_outside_the_source_listings():
    site = build_site()
    raw = {}
    for path, html in pages(site).items():
        text = re.sub(r"<[^>]+>", "", SOURCE_LISTING.sub("", html))
        if found := ROLE.findall(text):
            raw[str(path.relative_to(site))] = len(found)
    assert raw == {}
    # The roles are there in the sources (so the conversion did something).
    sources = "".join(p.read_text() for p in (ROOT / "src" / "lingrad").rglob("*.py"))
    assert len(ROLE.findall(sources)) > 100


@pytest.mark.slow
def test_every_internal_link_reaches_an_existing_anchor():
    site = build_site()
    html_by_path = pages(site)
    ids = {path: set(re.findall(r'\bid="([^"]+)"', html)) for path, html in html_by_path.items()}
    checked, broken = 0, []
    for path, html in html_by_path.items():
        for href in re.findall(r'<a class="autorefs autorefs-internal"[^>]*href="([^"]+)"', html):
            target, _, anchor = href.partition("#")
            page = (path.parent / target).resolve() if target else path
            if page.is_dir() or not page.suffix:
                page = page / "index.html"
            checked += 1
            if page not in ids or (anchor and anchor not in ids[page]):
                broken.append(f"{path.relative_to(site)} -> {href}")
    assert checked > 300 and broken == []


@pytest.mark.slow
def test_roles_are_links_or_code():
    site = build_site()
    optim = (site / "api" / "optim" / "index.html").read_text()
    # :class:`~lingrad.optim.schedules.ReduceOnPlateau` in lingrad.optim's docstring.
    assert re.search(
        r'<a class="autorefs autorefs-internal"[^>]*href="#lingrad\.optim\.schedules\.'
        r'ReduceOnPlateau"[^>]*><code>ReduceOnPlateau</code></a>',
        optim,
    )
    # :func:`json.dumps` (the standard library: not on this site) is code, not a link.
    assert "<code>json.dumps</code>" in optim
    assert not re.search(r"<a [^>]*><code>json\.dumps</code></a>", optim)


def test_role_resolution_follows_the_docstring_scope():
    griffe = require("griffe")
    roles = tool("docs_roles")
    package = griffe.load("lingrad", search_paths=[str(ROOT / "src")])
    runners, symbolic = package["train.runners"], package["grad.symbolic"]
    derive = package["cli.derive"]
    # A relative name: the module's own function, a class member, an import, a package name.
    assert roles.resolve(derive, "run") == "lingrad.cli.derive.run"
    assert roles.resolve(symbolic, "Derivation.weight_gradient") == (
        "lingrad.grad.symbolic.Derivation.weight_gradient"
    )
    assert roles.resolve(package["optim"], "SGD") == "lingrad.optim.gradient.SGD"
    assert roles.resolve(runners, "lingrad.optim.SGD") == "lingrad.optim.gradient.SGD"
    assert roles.resolve(package["model"], "Objective") == "lingrad.objective.Objective"
    assert roles.resolve(runners, "json.dumps") is None
    assert roles.resolve(runners, "no_such_name") is None
    text = roles.convert(
        "see :func:`~lingrad.optim.get`, :mod:`lingrad.losses`, :func:`json.dumps` and "
        ":class:`the objective <lingrad.Objective>`",
        runners,
    )
    assert text == (
        'see <autoref identifier="lingrad.optim.get" optional><code>get</code></autoref>, '
        '<autoref identifier="lingrad.losses" optional><code>lingrad.losses</code></autoref>, '
        "<code>json.dumps</code> and "
        '<autoref identifier="lingrad.objective.Objective" optional>'
        "<code>the objective</code></autoref>"
    )


@pytest.mark.slow
def test_home_page_is_the_guide():
    site = build_site()
    home = (site / "index.html").read_text()
    readme = (ROOT / "README.md").read_text()
    # The two commands come from the README (a snippet), the same text.
    for command in re.findall(r"^make (?:run|test) .*$", readme, re.M):
        assert command.split("#")[1].strip() in home
    for heading in ("Install and the two commands", "A five-minute tour", "slide by slide"):
        assert heading in home
    assert home.count('class="arithmatex"') >= 15
    lecture_table = home.split('id="the-lecture-slide-by-slide"')[1].split("Reading on")[0]
    assert len(re.findall(r'class="autorefs autorefs-internal"', lecture_table)) >= 25


def test_notebook_rendering_of_each_output_kind():
    nbformat = require("nbformat")
    hook = tool("docs_notebook")
    png = base64.b64encode(b"\x89PNG fake").decode()
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Title\n\nText with $x$."),
        nbformat.v4.new_code_cell(
            "print('a ``` fence')",
            outputs=[
                nbformat.v4.new_output("stream", name="stdout", text="\x1b[31ma ``` fence\n"),
                nbformat.v4.new_output("display_data", data={"image/png": png}),
                nbformat.v4.new_output("execute_result", data={"text/plain": "42"}),
            ],
        ),
        nbformat.v4.new_code_cell("   "),
    ]
    page, figures = hook.render(nb)
    assert page.startswith("# Title\n\nText with $x$.\n\n!!! note")
    assert "````python\nprint('a ``` fence')\n````" in page
    assert "````text\na ``` fence\n````" in page  # no ANSI escape left
    assert "![Output figure cell01-1](lecture_tour_figures/cell01-1.png)" in page
    assert "```text\n42\n```" in page
    assert figures == {"cell01-1.png": b"\x89PNG fake"}
    assert page.count("```python") == 1  # the blank cell is left out


@pytest.mark.slow
def test_lecture_tour_page_shows_the_executed_notebook():
    nbformat = require("nbformat")
    site = build_site()
    tour = (site / "lecture_tour" / "index.html").read_text()
    nb = nbformat.read(ROOT / "examples" / "lecture_tour.ipynb", as_version=4)
    title = nb.cells[0].source.splitlines()[0].lstrip("# ").strip()
    assert re.search(rf"<h1[^>]*>{re.escape(title)}", tour)
    code_cells = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    assert tour.count('class="language-python highlight"') == len(code_cells)
    assert tour.count('class="language-text highlight"') >= len(code_cells) // 2
    images = re.findall(r'<img alt="Output figure [^"]*" src="([^"]+)"', tour)
    assert len(images) >= 3
    for src in images:
        png = (site / "lecture_tour" / src).resolve().read_bytes()
        assert png.startswith(b"\x89PNG") and len(png) > 1000
