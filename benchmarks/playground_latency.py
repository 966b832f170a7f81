"""Step latency of the playground: one ``POST /api/step`` round trip over HTTP with 300 points.

The server (``lingrad playground``, uvicorn) runs in its own process on 127.0.0.1, as it does
for a person whose browser is another process; the client keeps one HTTP/1.1 connection
open, as a browser does, and sends the optimiser state back with each step (SGD with
momentum, 3 classes, hinge loss, lam = 0.1).
The reference, measured in the same run on the same data, is the bare lingrad computation the
request wraps: build the Objective, one optimiser step, evaluate the new weights.

    python benchmarks/playground_latency.py            # median over 200 steps
    python benchmarks/playground_latency.py --quick    # 30 steps (a smoke run)
    python benchmarks/playground_latency.py --browser  # also time fetch() from Chromium's page
"""

from __future__ import annotations

import http.client
import json
import socket
import statistics
import subprocess
import sys
import time

import _timing
import numpy as np

from lingrad import toy
from lingrad.playground import compute, schema


def serve() -> tuple[subprocess.Popen, int]:
    """``lingrad playground`` in its own process (as for a person: the browser is another
    process) on a free port of 127.0.0.1; returns once it accepts connections."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    launch = "import sys; from lingrad.cli import main; sys.exit(main())"
    command = [sys.executable, "-c", launch, "playground", "--port", str(port)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return server, port
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise SystemExit("the playground server did not start") from None
            time.sleep(0.05)


FETCH_STEPS = """async ([body, n]) => {
  const times = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = await fetch("/api/step", {method: "POST", body: JSON.stringify(body),
                                        headers: {"Content-Type": "application/json"}});
    const answer = await r.json();
    times.push((performance.now() - t0) / 1000);
    body.W = answer.W; body.optimizer.state = answer.state;
  }
  return times;
}"""


def browser_steps(port: int, body: dict, n: int) -> list[float]:
    """``n`` step round trips timed with ``fetch`` in a page of headless Chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox"]
        )
        page = browser.new_page()
        page.goto(f"http://127.0.0.1:{port}/")
        times = page.evaluate(FETCH_STEPS, [body, n])
        browser.close()
    return times


def main() -> None:
    parser = _timing.parser(__doc__.splitlines()[0])  # --quick: 30 steps instead of 200
    parser.add_argument("--points", type=int, default=300, help="points (3 classes)")
    parser.add_argument(
        "--browser",
        action="store_true",
        help="also time the same steps with fetch() inside Chromium (/usr/bin/chromium)",
    )
    args = parser.parse_args()
    steps = args.repeats or (30 if args.quick else 200)  # --repeats: timed steps
    warmup = 5 if args.quick else 20

    rng = np.random.default_rng(0)
    X, y = toy.make("blobs", args.points // 3, 3, rng=rng)
    W = rng.standard_normal((3, 3))
    optimizer = {"name": "momentum", "learning_rate": 0.05, "momentum": 0.9, "state": None}
    request = {"X": X.tolist(), "y": y.tolist(), "W": W.tolist(), "loss": "hinge", "lam": 0.1}

    # --- the bare lingrad computation a step request wraps (no HTTP, no JSON)
    parsed = schema.StepRequest.model_validate({**request, "optimizer": optimizer})
    bare = []
    W_bare, state = None, None
    for i in range(warmup + steps):
        t0 = time.perf_counter()
        objective, W0 = compute.problem(parsed)
        opt = compute.make_optimizer(parsed.optimizer)
        state = opt.init(W0) if state is None else state
        W_bare, state, _ = compute.run_steps(
            objective, W0 if W_bare is None else W_bare, opt, state, 1
        )
        compute.evaluate(objective, W_bare)
        if i >= warmup:
            bare.append(time.perf_counter() - t0)

    # --- the full round trip: JSON out, HTTP, validation, lingrad, JSON back
    server, port = serve()
    conn = http.client.HTTPConnection("127.0.0.1", port)
    trip = []
    body = dict(request)
    for i in range(warmup + steps):
        t0 = time.perf_counter()
        payload = json.dumps({**body, "optimizer": optimizer, "steps": 1}).encode()
        conn.request("POST", "/api/step", payload, {"Content-Type": "application/json"})
        response = conn.getresponse()
        answer = json.loads(response.read())
        if response.status != 200:
            raise SystemExit(f"step failed: {response.status} {answer}")
        body["W"], optimizer = answer["W"], {**optimizer, "state": answer["state"]}
        if i >= warmup:
            trip.append(time.perf_counter() - t0)
    conn.close()
    rows = [
        ("bare lingrad (objective + step + evaluate)", bare),
        ("POST /api/step round trip (HTTP + JSON)", trip),
    ]
    if args.browser:
        in_page = browser_steps(port, {**request, "optimizer": optimizer}, warmup + steps)
        rows.append(("the same from Chromium's fetch()", in_page[warmup:]))
    server.terminate()
    server.wait(timeout=10)

    med_bare, med_trip = statistics.median(bare), statistics.median(trip)
    print(f"playground step latency, {len(y)} points, 3 classes, median of {steps} steps")
    print(_timing.machine())
    print(f"{'what':<44} {'median ms':>10} {'p90 ms':>8}")
    for name, times in rows:
        p90 = float(np.percentile(times, 90))
        print(f"{name:<44} {1e3 * statistics.median(times):>10.3f} {1e3 * p90:>8.3f}")
    target = "under" if med_trip < 0.020 else "OVER"
    print(f"round trip {1e3 * med_trip:.2f} ms: {target} the 20 ms target")
    print(f"step round trip / bare lingrad step = {med_trip / med_bare:.2f}")


if __name__ == "__main__":
    main()
