"""The playground page in Debian's Chromium with its Content-Security-Policy enforced: it loads,
steps and colours its tables with no violation and no console error.

Playwright's ``wait_for_function`` evaluates strings (``unsafe-eval``, refused by the policy), so
this test waits on selectors only.
"""

from __future__ import annotations

import pytest
from conftest import serve

from lingrad.playground import create_app
from lingrad.playground.app import CSP

RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
"""


@pytest.fixture(scope="module")
def served_url():
    with serve(create_app()) as url:
        yield url + "/"


def test_the_page_works_under_its_content_security_policy(page, served_url):
    seen: list[str] = []
    page.on("console", lambda m: m.type == "error" and seen.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: seen.append(f"pageerror: {e}"))
    page.add_init_script(RECORD_VIOLATIONS)
    response = page.goto(served_url)
    assert response is not None and response.headers["content-security-policy"] == CSP
    page.wait_for_selector("body[data-ready='1']", timeout=15_000)
    page.wait_for_selector("#loss-total:not([data-value=''])", state="attached", timeout=15_000)
    assert page.locator("#points tbody tr").count() == 30

    page.click("#step")
    page.wait_for_selector("#step-count:text-is('1')", state="attached", timeout=15_000)
    page.wait_for_selector("body[data-busy='0']", state="attached", timeout=15_000)

    # the class chips are coloured by style attributes (allowed by style-src-attr)
    chip = page.locator("#weights .chip").first
    assert chip.evaluate("e => getComputedStyle(e).backgroundColor") not in ("", "rgba(0, 0, 0, 0)")
    assert page.evaluate("() => window.__violations") == []
    assert seen == []
