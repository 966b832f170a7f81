"""The built documentation in Debian's Chromium, served on 127.0.0.1: it works offline.

Every request the pages make is intercepted: one to any other host fails the test (and is
aborted, so a missing vendored file cannot hide behind the network). The math is rendered by
the vendored KaTeX, cross-references lead to their target, and no page logs an error.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from conftest import require, serve
from test_docs import build_site

PAGES = ["", "lecture_tour/", "api/losses/", "api/optim/", "api/train/"]


@pytest.fixture(scope="module")
def site_url():
    require("playwright")
    require("pytest_playwright")
    from starlette.staticfiles import StaticFiles

    with serve(StaticFiles(directory=build_site(), html=True)) as url:
        yield url + "/"


@pytest.fixture
def watched(page, site_url):
    """The page, with every request outside the site aborted and recorded, and every console
    error or uncaught exception recorded; both asserted empty when the test ends."""
    host = urlsplit(site_url).netloc
    outside, errors = [], []

    def route(r):
        if urlsplit(r.request.url).netloc == host:
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda m: m.type == "error" and errors.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url} ({r.failure})"))
    yield page
    assert outside == []
    assert errors == []


@pytest.mark.slow
@pytest.mark.parametrize("path", PAGES)
def test_page_loads_offline_with_no_error(watched, site_url, path):
    response = watched.goto(site_url + path)
    assert response is not None and response.ok
    watched.wait_for_load_state("networkidle", timeout=20_000)
    images = watched.evaluate(
        "Array.from(document.images).map(i => ({src: i.src, w: i.naturalWidth}))"
    )
    assert all(image["w"] > 0 for image in images), images


@pytest.mark.slow
def test_math_is_rendered_by_katex(watched, site_url):
    watched.goto(site_url)
    watched.wait_for_selector(".arithmatex .katex", timeout=15_000)
    total = watched.locator(".arithmatex").count()
    assert total >= 15
    assert watched.locator(".arithmatex .katex").count() == total  # every formula rendered
    assert watched.locator(".katex-error").count() == 0  # and none is a KaTeX parse error
    assert watched.locator("div.arithmatex .katex-display").count() >= 1  # display math
    # The KaTeX fonts came from the site: the formula is not drawn in a fallback font.
    watched.wait_for_function("document.fonts.check('16px KaTeX_Main')", timeout=15_000)
    watched.wait_for_load_state("networkidle", timeout=20_000)


@pytest.mark.slow
def test_cross_references_lead_to_their_target(watched, site_url):
    # A link of the home page's lecture table, and one made from a docstring's Sphinx role.
    watched.goto(site_url)
    watched.wait_for_load_state("networkidle", timeout=20_000)
    watched.locator("a.autorefs-internal", has_text="softmax_cross_entropy").first.click()
    watched.wait_for_url("**/api/losses/#lingrad.losses.softmax_cross_entropy")
    assert watched.locator("[id='lingrad.losses.softmax_cross_entropy']").count() == 1
    watched.wait_for_load_state("networkidle", timeout=20_000)  # no request cut by goto

    watched.goto(site_url + "api/optim/")
    link = watched.locator("a.autorefs-internal[href$='#lingrad.optim.schedules.ReduceOnPlateau']")
    link.first.click()
    watched.wait_for_url("**/api/optim/#lingrad.optim.schedules.ReduceOnPlateau")
    target = watched.locator("[id='lingrad.optim.schedules.ReduceOnPlateau']")
    assert target.count() == 1 and target.is_visible()
    watched.wait_for_load_state("networkidle", timeout=20_000)
