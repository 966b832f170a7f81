"""lingrad.report: a run folder's figures and its static index.html."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from lingrad import datasets, plots, report
from lingrad.model import init_weights, scores
from lingrad.objective import Objective

FIGURES = {"templates", "decision_regions", "scores_table", "history", "landscape", "confusion"}


class Links(HTMLParser):
    """Collects ``<img src>``, ``<a href>`` and the page's text."""

    def __init__(self):
        super().__init__()
        self.images, self.links, self.text, self.scripts = [], [], [], 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs["src"])
        elif tag == "a":
            self.links.append(attrs["href"])
        elif tag in ("script", "link", "iframe"):
            self.scripts += 1

    def handle_data(self, data):
        self.text.append(data)


def parse(index: Path) -> Links:
    links = Links()
    links.feed(index.read_text(encoding="utf-8"))
    return links


def assert_resolves(folder: Path, ref: str) -> Path:
    """A reference is a plain relative file name of a non-empty file in the folder."""
    assert ":" not in ref and not ref.startswith("/") and "/" not in ref, ref
    path = folder / ref
    assert path.is_file() and path.stat().st_size > 0, ref
    return path


@pytest.fixture(scope="module")
def trained():
    """Digits, standardised on train, and 6 steps of gradient descent on 300 examples."""
    data = datasets.load("digits", seed=0)
    scaler = datasets.Standardizer().fit(data.X_train)
    X_train, X_val = scaler.transform(data.X_train[:300]), scaler.transform(data.X_val)
    objective = Objective("softmax", X_train, data.y_train[:300], lam=1e-3)
    W = init_weights(64, 10, rng=np.random.default_rng(0))
    path, history = [W.copy()], {"loss": [], "learning_rate": []}
    for _ in range(6):
        value, grad = objective.value_and_grad(W)
        W = W - 0.5 * grad
        path.append(W.copy())
        history["loss"].append(value)
        history["learning_rate"].append(0.5)
    return data, X_val, objective, np.stack(path), history


def test_run_report_shows_every_figure_and_all_images_resolve(tmp_path, trained):
    data, X_val, objective, path, history = trained
    config = {"dataset": "digits", "loss": "softmax", "regularizer": "l2", "lam": 1e-3, "seed": 0}
    metrics = {"val_accuracy": 0.9321, "test_accuracy": 0.9111}
    index = report.write_run_report(
        tmp_path / "run",
        W=path[-1],
        X=X_val,
        y=data.y_val,
        class_names=data.class_names,
        image_shape=data.image_shape,
        history=history,
        config=config,
        metrics=metrics,
        objective=objective,
        trajectory=path,
        images=data.X_val,
        formats=("png", "svg"),
        examples=4,
    )
    folder = tmp_path / "run"
    assert index == folder / "index.html"
    page = parse(index)
    assert page.scripts == 0  # static: nothing to fetch, nothing to run
    stems = {Path(src).stem for src in page.images}
    assert stems == FIGURES
    for src in page.images:
        assert assert_resolves(folder, src).read_bytes()[:4] == b"\x89PNG"
    for href in page.links:
        if not href.startswith("#"):
            assert_resolves(folder, href)
    assert {Path(h).suffix for h in page.links if not h.startswith("#")} >= {".svg", ".md"}
    text = " ".join(page.text)
    for key, value in {**config, **metrics}.items():
        shown = f"{value:.6g}" if isinstance(value, float) else str(value)
        assert key in text and shown in text
    assert "0.9321" in text and "softmax" in text and "Not drawn" not in text
    # the text table is the algebraic view of the first 4 validation examples, run's loss
    view = plots.algebraic_view(
        scores(path[-1], X_val[:4]), data.y_val[:4], loss="softmax", class_names=data.class_names
    )
    assert (folder / "scores_table.md").read_text() == view.markdown() + "\n"
    assert f"L = {view.mean_loss:.4f}" in text


def test_run_report_leaves_out_what_does_not_apply(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 2))
    y = (X[:, 0] > 0).astype(int)
    W = np.array([[1.0, -1.0], [0.0, 0.0], [0.0, 0.0]])
    index = report.write_run_report(tmp_path, W=W, X=X, y=y, class_names=["neg", "pos"])
    page = parse(index)
    assert {Path(src).stem for src in page.images} == {
        "decision_regions",
        "scores_table",
        "confusion",
    }
    text = " ".join(page.text)
    assert "Not drawn" in text
    for stem in ("templates", "history", "landscape"):
        assert stem in text
    # PNG only by default (SVG costs about as much again; on request through formats=)
    assert (tmp_path / "decision_regions.png").is_file()
    assert not list(tmp_path.glob("*.svg"))

    one_feature = report.write_run_report(
        tmp_path / "d1", W=np.array([[1.0, -1.0], [0.0, 0.5]]), X=X[:, :1], y=y, formats="png"
    )
    assert "decision_regions" not in {Path(s).stem for s in parse(one_feature).images}
    assert not (tmp_path / "d1" / "scores_table.svg").exists()


def test_report_escapes_config_text(tmp_path):
    W = np.array([[1.0, -1.0], [0.0, 0.0], [0.0, 0.0]])
    X = np.array([[1.0, 0.0], [-1.0, 0.0], [2.0, 1.0]])
    index = report.write_run_report(
        tmp_path, W=W, X=X, y=[0, 1, 0], config={"note": "<script>alert(1)</script>"},
        formats="png",
    )  # fmt: skip
    html = index.read_text()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert parse(index).scripts == 0


def _write_run(folder: Path, **arrays):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps({"dataset": "digits", "seed": 3}))
    (folder / "metrics.json").write_text(json.dumps({"val_accuracy": 0.5}))
    np.savez(folder / "model.npz", **arrays)


def test_read_run_round_trip(tmp_path):
    W, path = np.ones((65, 10)), np.zeros((3, 65, 10))
    _write_run(tmp_path, W=W, trajectory=path)
    run = report.read_run(tmp_path)
    assert run.config == {"dataset": "digits", "seed": 3}
    assert run.metrics == {"val_accuracy": 0.5} and run.history == {}
    np.testing.assert_array_equal(run.W, W)
    np.testing.assert_array_equal(run.trajectory, path)


def test_read_run_bad_folders(tmp_path):
    with pytest.raises(ValueError, match="RUN_DIR: expected a run folder"):
        report.read_run(tmp_path / "missing")
    with pytest.raises(ValueError, match=r"expected a run folder containing config\.json"):
        report.read_run(tmp_path)
    _write_run(tmp_path / "a", V=np.ones((3, 2)))
    with pytest.raises(ValueError, match="expected an array named 'W'"):
        report.read_run(tmp_path / "a")
    _write_run(tmp_path / "b", W=np.array([{"x": 1}], dtype=object))
    with pytest.raises(ValueError, match="no pickles"):
        report.read_run(tmp_path / "b")
    _write_run(tmp_path / "c", W=np.ones((3, 2)))
    (tmp_path / "c" / "history.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"history\.json: expected a JSON file"):
        report.read_run(tmp_path / "c")


def test_binary_model_report_uses_the_logistic_loss(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    y = (X[:, 0] + 0.3 * rng.standard_normal(40) > 0).astype(int)
    W = np.array([[1.0], [0.2], [0.0], [0.1]])  # one score column: y = 1 if s >= 0
    objective = Objective("logistic", X, y)
    index = report.write_run_report(
        tmp_path, W=W, X=X, y=y, config={"loss": "svm"}, objective=objective,
        history={"loss": [0.7, 0.4]}, formats="png",
    )  # fmt: skip
    assert {Path(s).stem for s in parse(index).images} == FIGURES - {"templates"}
    table = (tmp_path / "scores_table.md").read_text()
    view = plots.algebraic_view(scores(W, X[:6]), y[:6], loss="logistic")
    assert table == view.markdown() + "\n" and "| logistic loss |" in table


class Rows(HTMLParser):
    """The ``(key, value)`` rows of the page's tables, by section id."""

    def __init__(self):
        super().__init__()
        self.section, self.rows, self.cells, self.cell = None, {}, None, None

    def handle_starttag(self, tag, attrs):
        if tag == "section":
            self.section = dict(attrs).get("id")
        elif tag == "tr":
            self.cells = []
        elif tag == "td" and self.cells is not None:
            self.cell = []

    def handle_endtag(self, tag):
        if tag == "td" and self.cell is not None:
            self.cells.append("".join(self.cell))
            self.cell = None
        elif tag == "tr" and self.cells:
            self.rows.setdefault(self.section, {})[self.cells[0]] = self.cells[-1]
            self.cells = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def test_metrics_table_is_readable_nested_dicts_flattened_none_as_dash(tmp_path):
    metrics = {
        "val_accuracy": 0.912345678,
        "stopped": None,
        "diagnostics": {
            "converged": False,
            "chance_loss": 2.302585093,
            "advice": ["converged: the loss has levelled off"],
            "nested": {"deep": None},
        },
        "empty": {},
    }
    W = np.array([[1.0, -1.0], [0.0, 0.0], [0.0, 0.0]])
    X = np.array([[1.0, 0.0], [-1.0, 0.0], [2.0, 1.0]])
    index = report.write_run_report(
        tmp_path, W=W, X=X, y=[0, 1, 0], metrics=metrics, config={"batch_size": None},
        progress=False,
    )  # fmt: skip
    rows = Rows()
    rows.feed(index.read_text())
    assert rows.rows["metrics"] == {
        "val_accuracy": "0.912346",
        "stopped": "-",
        "diagnostics.converged": "no",
        "diagnostics.chance_loss": "2.30259",
        "diagnostics.advice": "converged: the loss has levelled off",
        "diagnostics.nested.deep": "-",
        "empty": "-",
    }
    assert rows.rows["config"] == {"batch_size": "-"}
    text = index.read_text()
    assert "None" not in text and "{" not in text.split("<body>", 1)[1].split("<style>")[0]
    assert '{"' not in text  # no raw JSON dict anywhere


def test_report_progress_one_plain_line_per_figure_off_a_terminal(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 2))
    y = (X[:, 0] > 0).astype(int)
    W = np.array([[1.0, -1.0], [0.0, 0.0], [0.0, 0.0]])
    report.write_run_report(tmp_path, W=W, X=X, y=y)
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert captured.out == "" and len(lines) == report.N_FIGURES
    for k, (line, stem) in enumerate(zip(lines, FIGURE_ORDER, strict=True), start=1):
        assert line.startswith(f"report: [{k}/{report.N_FIGURES}] {stem} "), line
        assert line.endswith(" s)") and ("written" in line) == (stem not in SKIPPED_2D), line
    report.write_run_report(tmp_path, W=W, X=X, y=y, progress=False)
    assert capsys.readouterr().err == ""


FIGURE_ORDER = ("templates", "decision_regions", "scores_table", "history", "landscape",
                "confusion")  # fmt: skip
SKIPPED_2D = {"templates", "history", "landscape"}


def test_report_templates_in_pixel_space_from_the_scalers_std(tmp_path, trained, monkeypatch):
    data, X_val, _, path, _ = trained
    scaler = datasets.Standardizer().fit(data.X_train)
    seen = {}
    original = plots.templates

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(plots, "templates", spy)
    index = report.write_run_report(
        tmp_path, W=path[-1], X=X_val, y=data.y_val, image_shape=data.image_shape,
        mean=scaler.mean, std=scaler.scale, progress=False,
    )  # fmt: skip
    assert seen["diverging"] is True and np.array_equal(seen["std"], scaler.scale)
    assert "pixel space" in index.read_text()
    report.write_run_report(tmp_path / "b", W=path[-1], X=X_val, y=data.y_val,
                            image_shape=data.image_shape, progress=False)  # fmt: skip
    assert seen["std"] is None and seen["diverging"] is True
