"""The run report opened from disk in headless Chromium: every image loads, nothing is fetched."""

from __future__ import annotations

import numpy as np
from conftest import require

from lingrad import datasets, report
from lingrad.model import init_weights
from lingrad.objective import Objective


def _report(folder):
    data = datasets.load("digits", seed=0)
    scaler = datasets.Standardizer().fit(data.X_train)
    X_train, X_val = scaler.transform(data.X_train[:200]), scaler.transform(data.X_val)
    objective = Objective("softmax", X_train, data.y_train[:200], lam=1e-3)
    W = init_weights(64, 10, rng=np.random.default_rng(0))
    path = [W]
    for _ in range(4):
        W = W - 0.5 * objective.value_and_grad(W)[1]
        path.append(W)
    return report.write_run_report(
        folder,
        W=W,
        X=X_val,
        y=data.y_val,
        class_names=data.class_names,
        image_shape=data.image_shape,
        history={"loss": [2.3, 1.0, 0.6, 0.5], "val_accuracy": [0.5, 0.8, 0.85, 0.9]},
        config={"dataset": "digits", "loss": "softmax"},
        metrics={"val_accuracy": 0.9},
        objective=objective,
        trajectory=np.stack(path),
        formats=("png",),
    )


def test_index_html_images_all_load_offline(tmp_path, request):
    require("playwright")
    require("pytest_playwright")
    page = request.getfixturevalue("page")
    index = _report(tmp_path / "run")
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(index.as_uri())
    page.wait_for_load_state("load")
    images = page.evaluate(
        "Array.from(document.images).map(i => ({src: i.src, ok: i.complete, w: i.naturalWidth,"
        " h: i.naturalHeight}))"
    )
    assert len(images) == 6
    for image in images:
        assert image["ok"] and image["w"] > 0 and image["h"] > 0, image
        assert image["src"].startswith(tmp_path.as_uri()), image
    assert all(url.startswith("file://") for url in requests), requests
    assert page.title() == "lingrad run: run"
    assert page.locator("#metrics td").first.inner_text() == "val_accuracy"
