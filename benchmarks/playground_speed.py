"""Playground speed while "Run" is on: optimiser steps per second shown by the page in headless
Chromium at 100 / 1,000 / 5,000 points, beside the bare lingrad step on the same data.

The server (``lingrad playground``) runs in its own process; the page is driven by Playwright
(Debian's Chromium). For each size the page loads a state URL (blobs, 2 classes, hinge,
lam = 0.1, SGD lr = 0.05), "Run" is switched on, and over a fixed window the benchmark counts
the steps the page reports and the animation frames it paints (the page must stay responsive:
>= 20 frames/s). The reference, measured in the same run, is the bare lingrad step the request
wraps (objective + one SGD step + evaluate), as steps per second.

    python benchmarks/playground_speed.py            # 4 s per size
    python benchmarks/playground_speed.py --quick    # 1.5 s per size (a smoke run)
"""

from __future__ import annotations

import base64
import struct
import time
from urllib.parse import urlencode

import _timing
import numpy as np
from playground_latency import serve

from lingrad import optim, toy
from lingrad.playground import compute, schema

SIZES = (100, 1_000, 5_000)

#: In the page: frames painted and steps taken over ``ms`` milliseconds.
WINDOW = """async (ms) => {
  const count = () => +document.getElementById("step-count").textContent;
  const steps0 = count();
  let frames = 0;
  const t0 = performance.now();
  await new Promise((done) => {
    const tick = () => {
      frames++;
      if (performance.now() - t0 < ms) requestAnimationFrame(tick); else done();
    };
    requestAnimationFrame(tick);
  });
  const seconds = (performance.now() - t0) / 1000;
  return { steps: (count() - steps0) / seconds, frames: frames / seconds };
}"""


def data(points: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``points`` blobs in 2 classes (3 decimals, as the page keeps them) and initial W."""
    rng = np.random.default_rng(0)
    X, y = toy.make("blobs", points // 2, 2, rng=rng)
    return np.round(X, 3), y, np.round(rng.standard_normal((3, 2)), 3)


def page_url(port: int, X: np.ndarray, y: np.ndarray, W: np.ndarray) -> str:
    """The page's own state URL: points packed as int16 thousandths and a uint8 label."""
    rows = zip(np.round(1000 * X).astype(int).tolist(), y.tolist(), strict=True)
    packed = b"".join(struct.pack("<hhB", a, b, c) for (a, b), c in rows)
    hash_ = {
        "ds": "blobs",
        "C": 2,
        "n": len(y) // 2,
        "seed": 0,
        "loss": "hinge",
        "lam": 0.1,
        "lr": 0.05,
        "opt": "sgd",
        "W": ";".join(",".join(repr(float(v)) for v in row) for row in W),
        "pts": base64.urlsafe_b64encode(packed).decode().rstrip("="),
    }
    return f"http://127.0.0.1:{port}/#" + urlencode(hash_)


def bare_rates(X: np.ndarray, y: np.ndarray, W: np.ndarray, repeats: int) -> tuple[float, float]:
    """``(steps/s of lingrad's step alone, requests/s of the computation one 1-step request
    wraps: build the objective from lists, one SGD step, evaluate)``."""
    request = schema.Problem(X=X.tolist(), y=y.tolist(), W=W.tolist(), loss="hinge", lam=0.1)
    objective, W0 = compute.problem(request)
    opt = optim.SGD(0.05)
    steps = 50

    def many() -> None:
        compute.run_steps(objective, W0, opt, opt.init(W0), steps)

    def one_request() -> None:
        objective, W0 = compute.problem(request)
        W1, _, _ = compute.run_steps(objective, W0, opt, opt.init(W0), 1)
        compute.evaluate(objective, W1)

    step = _timing.measure(many, max(3, repeats // 10), warmup=1)["median"] / steps
    return 1.0 / step, 1.0 / _timing.measure(one_request, repeats, warmup=3)["median"]


def page_speed(page, url: str, seconds: float) -> dict[str, float]:
    """Steps/s and frames/s of the page while running, and frames/s when idle."""
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']", timeout=60_000)
    page.wait_for_selector("body[data-busy='0']", state="attached", timeout=60_000)
    idle = page.evaluate(WINDOW, 1000)["frames"]
    page.click("#run")
    page.wait_for_timeout(1000)  # the page settles on its steps per request
    running = page.evaluate(WINDOW, int(1000 * seconds))
    page.click("#run")
    page.wait_for_selector("body[data-busy='0']", state="attached", timeout=60_000)
    return {**running, "idle": idle}


def main() -> None:
    parser = _timing.parser(__doc__.splitlines()[0])
    args = parser.parse_args()
    seconds = 1.5 if args.quick else 4.0
    from playwright.sync_api import sync_playwright

    server, port = serve()
    rows = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox"]
            )
            page = browser.new_page(viewport={"width": 1440, "height": 960})
            for points in SIZES:
                X, y, W = data(points)
                bare, request = bare_rates(X, y, W, 20 if args.quick else 50)
                seen = page_speed(page, page_url(port, X, y, W), seconds)
                rows.append((points, bare, request, seen))
                time.sleep(0.2)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(f"playground speed while Run is on, headless Chromium, {seconds:g} s per size")
    print(_timing.machine())
    print("bare step: lingrad's SGD step alone; bare request: objective from lists + 1 step +")
    print("evaluate (what a 1-step request computes); page: steps/s shown while Run is on")
    header = ("points", "bare step/s", "bare req/s", "page steps/s", "frames/s", "idle fps")
    print(" ".join(f"{h:>12}" for h in header), f"{'page/bare step':>15}")
    for points, bare, request, seen in rows:
        values = (points, bare, request, seen["steps"], seen["frames"], seen["idle"])
        print(" ".join(f"{v:>12.0f}" for v in values), f"{seen['steps'] / bare:>15.3f}")
    at_1000 = next(seen["steps"] for points, *_, seen in rows if points == 1_000)
    print(f"1,000 points: {at_1000:.1f} steps/s ({'meets' if at_1000 >= 30 else 'BELOW'} 30)")
    bare_1000 = next(bare for points, bare, *_ in rows if points == 1_000)
    print(f"page steps/s / bare server steps/s at 1,000 points = {at_1000 / bare_1000:.3f}")


if __name__ == "__main__":
    main()
