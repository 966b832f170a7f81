"""The playground page in Debian's Chromium (pytest-playwright), served by uvicorn on 127.0.0.1.

Each test also fails on any console error or uncaught exception in the page.
"""

from __future__ import annotations

import base64
import json
import struct
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import numpy as np
import pytest
from conftest import serve

from lingrad import losses
from lingrad.model import init_weights, scores
from lingrad.objective import Objective
from lingrad.playground import create_app

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
VIEW = 4.0  # the page plots [-VIEW, VIEW]^2


@pytest.fixture(scope="module")
def base_url_playground():
    with serve(create_app()) as url:
        yield url + "/"


@pytest.fixture(scope="module")
def browser_context_args(browser_context_args):
    """Playwright's ``wait_for_function`` evaluates strings, which the page's Content-Security-
    Policy forbids; these tests drive the page, ``test_playground_csp.py`` checks the policy."""
    return {**browser_context_args, "bypass_csp": True}


@pytest.fixture
def errors(page):
    """Console errors and page exceptions; asserted empty when the test ends."""
    seen = []
    page.on("console", lambda m: m.type == "error" and seen.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: seen.append(f"pageerror: {e}"))
    yield seen
    assert seen == []


def open_page(page, url):
    page.set_viewport_size({"width": 1440, "height": 960})
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']", timeout=15_000)
    page.wait_for_function("document.getElementById('loss-total').dataset.value !== ''")


def settle(page):
    """Wait until the page has no request out and no edit waiting for one."""
    page.wait_for_selector("body[data-busy='0']", state="attached")


def state_url(base, X, y, W, **settings):
    """A URL in the page's own format: points as int16 (1/1000) x, y and a uint8 label."""
    packed = b"".join(
        struct.pack("<hhB", round(p[0] * 1000), round(p[1] * 1000), c)
        for p, c in zip(X, y, strict=True)
    )
    params = {
        "ds": "blobs",
        "C": len(W[0]),
        "n": 3,
        "seed": 0,
        "loss": "hinge",
        "lam": 0.1,
        "lr": 0.1,
        "opt": "sgd",
        "mom": 0.9,
        "cls": 0,
        "W": ";".join(",".join(repr(float(v)) for v in row) for row in W),
        "pts": base64.urlsafe_b64encode(packed).decode().rstrip("="),
        **settings,
    }
    return base + "#" + urlencode(params)


def read_state(page):
    """``(X, y, W, params)`` decoded from the page's URL hash."""
    params = {k: v[0] for k, v in parse_qs(urlsplit(page.url).fragment).items()}
    raw = base64.urlsafe_b64decode(params["pts"] + "=" * (-len(params["pts"]) % 4))
    rows = [struct.unpack("<hhB", raw[i : i + 5]) for i in range(0, len(raw), 5)]
    X = np.array([[a / 1000, b / 1000] for a, b, _ in rows])
    y = np.array([c for _, _, c in rows])
    W = np.array([[float(v) for v in row.split(",")] for row in params["W"].split(";")])
    return X, y, W, params


def table_losses(page):
    return np.array(
        [
            float(v)
            for v in page.eval_on_selector_all(
                "#points td.loss", "l => l.map(e => e.dataset.value)"
            )
        ]
    )


def shown(page, element_id):
    return float(page.get_attribute(f"#{element_id}", "data-value"))


def canvas_xy(page, x, y):
    box = page.locator("#plot").bounding_box()
    return (
        box["x"] + (x + VIEW) / (2 * VIEW) * box["width"],
        box["y"] + (VIEW - y) / (2 * VIEW) * box["height"],
    )


# Three points per class around three centres, weights whose arrows stay clear of the points.
X0 = [[-2.0, 2.0], [-2.5, 1.5], [-1.5, 2.5], [2.0, 2.0], [2.5, 1.5], [1.5, 2.5], [0.0, -2.5]]
X0 += [[0.5, -3.0], [-0.5, -3.0]]
Y0 = [0, 0, 0, 1, 1, 1, 2, 2, 2]
W0 = [[-0.5, 0.5, 0.0], [0.3, 0.3, -0.6], [0.2, -0.1, 0.05]]


def test_page_loads_with_no_console_errors(page, errors, base_url_playground):
    open_page(page, base_url_playground)
    assert page.locator("#points tbody tr").count() == 30  # blobs, 3 classes x 10 points
    assert page.locator("#weights tbody tr").count() == 3
    assert shown(page, "loss-total") > 0
    assert "cdn" not in page.content().lower()


def test_run_lowers_the_displayed_loss(page, errors, base_url_playground):
    open_page(page, base_url_playground)
    before = shown(page, "loss-total")
    page.click("#run")
    page.wait_for_function("+document.getElementById('step-count').textContent >= 25")
    page.click("#run")  # pause
    settle(page)
    after = shown(page, "loss-total")
    assert after < before
    assert page.inner_text("#run") == "Run"
    # the number shown is lingrad's objective at the weights now in the URL
    X, y, W, _ = read_state(page)
    assert after == pytest.approx(Objective("hinge", X, y, lam=0.1).value(W), rel=1e-9)


def test_switching_to_softmax_shows_softmax_losses_for_the_same_weights(
    page, errors, base_url_playground
):
    open_page(page, state_url(base_url_playground, X0, Y0, W0))
    hinge_losses = table_losses(page)
    page.select_option("#loss", "softmax_cross_entropy")
    page.wait_for_function("location.hash.includes('loss=softmax_cross_entropy')")
    page.wait_for_function(
        "(v) => document.querySelector('#points td.loss').dataset.value !== v",
        arg=repr(float(hinge_losses[0])),
    )
    X, y, W, _ = read_state(page)
    np.testing.assert_array_equal(W, W0)  # the same weights
    S = scores(W, X)
    expected = [losses.softmax_cross_entropy(S[i : i + 1], y[i : i + 1])[0] for i in range(len(y))]
    np.testing.assert_allclose(table_losses(page), expected, rtol=1e-12)
    assert shown(page, "loss-data") == pytest.approx(losses.softmax_cross_entropy(S, y)[0])
    assert not np.allclose(table_losses(page), hinge_losses)
    hinge_expected = [losses.hinge(S[i : i + 1], y[i : i + 1])[0] for i in range(len(y))]
    np.testing.assert_allclose(hinge_losses, hinge_expected, rtol=1e-12)
    # the formula comes from the loss's spec, its sub- and superscripts as HTML
    formula = page.inner_html("#formula")
    assert formula.startswith("L<sub>i</sub> = −log(e<sup>s<sub>y<sub>i</sub></sub></sup>")


def test_adding_and_dragging_points_changes_the_table(page, errors, base_url_playground):
    open_page(page, state_url(base_url_playground, X0, Y0, W0))
    rows = page.locator("#points tbody tr")
    assert rows.count() == 9
    # add a point of class 2 at (3, -1)
    page.click("#class-picker button[data-cls='2']")
    page.mouse.click(*canvas_xy(page, 3.0, -1.0))
    page.wait_for_function("document.querySelectorAll('#points tbody tr').length === 10")
    X, y, _, _ = read_state(page)
    np.testing.assert_allclose(X[-1], [3.0, -1.0], atol=0.02)
    assert y[-1] == 2
    assert rows.nth(9).locator("td").nth(3).inner_text().strip() == "2"  # the label column
    # drag point 0 from (-2, 2) to (1, -1)
    before = rows.nth(0).inner_text()
    loss_before = table_losses(page)[0]
    page.mouse.move(*canvas_xy(page, -2.0, 2.0))
    page.mouse.down()
    page.mouse.move(*canvas_xy(page, -0.5, 0.5), steps=4)
    page.mouse.move(*canvas_xy(page, 1.0, -1.0), steps=4)
    page.mouse.up()
    page.wait_for_function(
        "(b) => document.querySelector('#points tbody tr').innerText !== b", arg=before
    )
    settle(page)
    X, y, W, _ = read_state(page)
    np.testing.assert_allclose(X[0], [1.0, -1.0], atol=0.03)
    assert rows.nth(0).inner_text() != before
    S = scores(W, X)
    assert table_losses(page)[0] == pytest.approx(losses.hinge(S[:1], y[:1])[0])
    assert table_losses(page)[0] != pytest.approx(loss_before)


def test_reloading_the_url_restores_the_state(page, errors, base_url_playground):
    open_page(page, state_url(base_url_playground, X0, Y0, W0))
    page.select_option("#loss", "crammer_singer")
    page.fill("#lam", "0.25")
    page.press("#lam", "Enter")
    page.select_option("#optimizer", "adam")
    for k in (1, 2, 3):
        page.click("#step")
        page.wait_for_function(f"document.getElementById('step-count').textContent === '{k}'")
    settle(page)
    url = page.url
    saved = {
        "table": page.inner_text("#points tbody"),
        "weights": page.eval_on_selector_all("#weights input", "l => l.map(e => e.value)"),
        "loss": shown(page, "loss-total"),
        "select": [page.input_value(s) for s in ("#loss", "#optimizer", "#lam")],
    }
    assert saved["select"] == ["crammer_singer", "adam", "0.25"]
    page.goto("about:blank")
    open_page(page, url)
    assert page.url == url
    assert page.inner_text("#points tbody") == saved["table"]
    assert (
        page.eval_on_selector_all("#weights input", "l => l.map(e => e.value)") == saved["weights"]
    )
    assert shown(page, "loss-total") == saved["loss"]
    assert [page.input_value(s) for s in ("#loss", "#optimizer", "#lam")] == saved["select"]


def test_screenshot_is_saved(page, errors, base_url_playground):
    open_page(page, base_url_playground + "#")
    page.click("#step")
    page.click("#run")
    page.wait_for_function("+document.getElementById('step-count').textContent >= 30")
    page.click("#run")
    settle(page)
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "playground.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 20_000


def handles(page):
    """class -> {"base": (x, y), "tip": (x, y)} in data coordinates, as the page draws them."""
    raw = page.get_attribute("#plot", "data-handles")
    return {
        h["c"]: {"base": np.array(h["base"]), "tip": np.array(h["tip"])} for h in json.loads(raw)
    }


def test_dragging_an_arrow_or_a_line_and_typing_edit_the_weights(page, errors, base_url_playground):
    # Deliberate change (issue 15): a class's ring now sits on its line inside the view, spread
    # apart from the others, and its arrow keeps a minimum length; the arrow's tip turns w and
    # scales it by the ratio of the arrow's new length to its old one.
    open_page(page, state_url(base_url_playground, X0, Y0, W0))
    h = handles(page)[0]
    base, tip = h["base"], h["tip"]
    w, b = np.array([W0[0][0], W0[1][0]]), W0[2][0]
    assert w @ base + b == pytest.approx(0.0, abs=1e-9)  # the ring is on class 0's line
    target = base + np.array([-0.6, 0.9])
    page.mouse.move(*canvas_xy(page, *tip))
    page.mouse.down()
    page.mouse.move(*canvas_xy(page, *(tip + target) / 2), steps=3)
    page.mouse.move(*canvas_xy(page, *target), steps=3)
    page.mouse.up()
    settle(page)
    _, _, W, _ = read_state(page)
    new_w = W[:2, 0]
    direction = (target - base) / np.linalg.norm(target - base)
    scale = np.linalg.norm(target - base) / np.linalg.norm(tip - base)
    expected = direction * np.linalg.norm(w) * scale
    np.testing.assert_allclose(new_w, expected, atol=0.03)
    assert new_w @ base + W[2, 0] == pytest.approx(0.0, abs=1e-9)  # the line keeps the ring
    np.testing.assert_array_equal(W[:, 1:], np.array(W0)[:, 1:])  # other classes untouched
    # drag the ring of class 0's line to (1, 1): same w, the line now passes through (1, 1)
    page.mouse.move(*canvas_xy(page, *handles(page)[0]["base"]))
    page.mouse.down()
    page.mouse.move(*canvas_xy(page, 1.0, 1.0), steps=4)
    page.mouse.up()
    settle(page)
    _, _, W2, _ = read_state(page)
    np.testing.assert_array_equal(W2[:2, 0], W[:2, 0])
    assert W2[:2, 0] @ np.array([1.0, 1.0]) + W2[2, 0] == pytest.approx(0.0, abs=0.05)
    # type b_1 = 1.5: the weight, the table and the loss follow
    before = page.inner_text("#points tbody")
    page.fill("input[data-row='2'][data-col='1']", "1.5")
    page.press("input[data-row='2'][data-col='1']", "Enter")
    page.wait_for_function(
        "(t) => document.querySelector('#points tbody').innerText !== t", arg=before
    )
    settle(page)
    X, y, W3, _ = read_state(page)
    assert W3[2, 1] == 1.5
    S = scores(W3, X)
    assert shown(page, "loss-data") == pytest.approx(losses.hinge(S, y)[0], rel=1e-12)
    shown_grad = np.zeros((3, 3))
    for row, col, value in page.eval_on_selector_all(
        ".grad", "l => l.map(e => [+e.dataset.row, +e.dataset.col, +e.dataset.value])"
    ):
        shown_grad[row, col] = value
    expected = Objective("hinge", X, y, lam=0.1).value_and_grad(W3)[1]
    np.testing.assert_allclose(shown_grad, expected, rtol=1e-9, atol=1e-12)


def test_dataset_choice_new_draw_and_reset(page, errors, base_url_playground):
    open_page(page, base_url_playground)
    page.select_option("#dataset", "xor")  # xor has two classes: the page switches to 2
    page.wait_for_function("document.querySelectorAll('#weights tbody tr').length === 2")
    settle(page)
    X, y, W, params = read_state(page)
    assert params["ds"] == "xor" and W.shape == (3, 2) and len(y) == 20
    assert np.all(X[y == 0].prod(axis=1) > 0) and np.all(X[y == 1].prod(axis=1) < 0)
    page.click("#new-data")  # a new draw: seed + 1
    page.wait_for_function("location.hash.includes('seed=1')")
    settle(page)
    X1, _, _, _ = read_state(page)
    assert not np.array_equal(X1, X)
    for k in (1, 2):
        page.click("#step")
        page.wait_for_function(f"document.getElementById('step-count').textContent === '{k}'")
    settle(page)
    _, _, W_trained, _ = read_state(page)
    page.click("#reset")
    page.wait_for_function("document.getElementById('step-count').textContent === '0'")
    settle(page)
    _, _, W_reset, _ = read_state(page)
    assert not np.array_equal(W_reset, W_trained)
    np.testing.assert_allclose(
        W_reset, init_weights(2, 2, rng=np.random.default_rng(1), scale=1.0), atol=5e-4
    )
