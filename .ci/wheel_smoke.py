"""Smoke test of an installed lingrad wheel, run by CI in a fresh virtual environment.

It checks what a packaging mistake would break and the tests (run from the source tree) would
not see: the package imports from site-packages, the console script runs, a short training
run writes its folder, and the playground serves its page and static files (package data).

Run: ``VENV/bin/python .ci/wheel_smoke.py`` (exits non-zero, naming the step, on a failure).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

BIN = Path(sys.executable).parent
LINGRAD = str(BIN / "lingrad")
TIMEOUT = 120  # seconds for any one step


def step(name: str, command: list[str], cwd: str) -> str:
    print(f"wheel smoke: {name}", flush=True)
    done = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    if done.returncode != 0:
        sys.exit(f"wheel smoke: {name} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


def playground(cwd: str) -> None:
    """Start ``lingrad playground --port 0``, read its URL, fetch the page and its files."""
    print("wheel smoke: the playground serves its page and static files", flush=True)
    server = subprocess.Popen(
        [LINGRAD, "playground", "--port", "0"], cwd=cwd, stdout=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + TIMEOUT
        line = ""
        while "http://" not in line:
            if time.monotonic() > deadline or server.poll() is not None:
                sys.exit("wheel smoke: the playground did not start")
            line = server.stdout.readline()
        url = line.split()[line.split().index("on") + 1]
        assert b"<canvas" in fetch(url), "the page has no canvas"
        for name in ("playground.js", "playground.css"):
            assert len(fetch(url + "static/" + name)) > 100, f"static/{name} is empty"
        assert "losses" in json.loads(fetch(url + "api/options")), "no losses in /api/options"
    finally:
        server.terminate()
        server.wait(timeout=TIMEOUT)


def main() -> None:
    with tempfile.TemporaryDirectory() as cwd:  # not the source tree: site-packages is used
        where = step(
            "import", [sys.executable, "-c", "import lingrad; print(lingrad.__file__)"], cwd
        )
        if "site-packages" not in where:
            sys.exit(f"wheel smoke: lingrad imported from {where.strip()}, not site-packages")
        shipped = "from importlib import metadata; print(metadata.distribution('lingrad').files)"
        if "LICENSE" not in step(
            "the LICENSE is in the wheel", [sys.executable, "-c", shipped], cwd
        ):
            sys.exit("wheel smoke: the wheel ships no LICENSE")
        step("lingrad --help", [LINGRAD, "--help"], cwd)
        args = ["train", "--epochs", "2", "--no-report", "-q", "--runs-dir", "runs", "--name", "s"]
        step("a short lingrad train", [LINGRAD, *args], cwd)
        assert (Path(cwd) / "runs" / "s" / "model.npz").is_file(), "no model.npz written"
        playground(cwd)
    print("wheel smoke: passed")


if __name__ == "__main__":
    main()
