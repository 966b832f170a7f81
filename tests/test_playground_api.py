"""The playground's JSON API (Starlette test client): it computes with lingrad, its steps are
lingrad's optimiser steps, and every bad request gets a 4xx naming the field, never a 500."""

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from lingrad import losses, optim, reference, toy
from lingrad.model import init_weights
from lingrad.objective import Objective
from lingrad.playground import create_app
from lingrad.playground.schema import LIMITS, LOSSES

client = TestClient(create_app(), base_url="http://127.0.0.1")  # a Host the app serves

LOSS_NAMES = list(LOSSES)


def problem(n_per_class=8, C=3, seed=0, loss="hinge", lam=0.1):
    rng = np.random.default_rng(seed)
    X, y = toy.make("blobs", n_per_class, C, rng=rng, noise=1.0)
    W = rng.standard_normal((3, C))
    return {"X": X.tolist(), "y": y.tolist(), "W": W.tolist(), "loss": loss, "lam": lam}


def post(path, body):
    r = client.post(path, json=body)
    return r, r.json()


# ------------------------------------------------------------------------------ the page


def test_page_and_static_files_are_served():
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    for src in ("/static/playground.js", "/static/playground.css"):
        assert src in page.text
        r = client.get(src)
        assert r.status_code == 200 and len(r.content) > 1000
    assert "cdn" not in page.text.lower() and "https://" not in page.text


def test_options_name_lingrad_losses_and_the_limits():
    r = client.get("/api/options")
    assert r.status_code == 200
    body = r.json()
    assert set(body["losses"]) <= set(losses.NAMES)
    assert set(body["losses"]) == {
        "hinge",
        "one_vs_all_hinge",
        "crammer_singer",
        "softmax_cross_entropy",
        "squared_hinge",
    }
    for name, loss in body["losses"].items():
        assert loss == {"label": losses.spec(name).title, "formula": losses.spec(name).formula}
    # issue 15 adds the searches (optimisation as search) beside the gradient methods
    assert set(body["optimizers"]) == {
        "sgd",
        "momentum",
        "adam",
        "random_search",
        "random_local_search",
    }
    assert body["datasets"] == list(toy.NAMES)
    assert body["limits"]["max_points"] == 10_000
    assert body["limits"]["max_body_bytes"] == 1_000_000


# ------------------------------------------------------------------------------ datasets, weights


@pytest.mark.parametrize("name", toy.NAMES)
def test_dataset_is_lingrad_toy_with_the_seed(name):
    r, body = post("/api/dataset", {"name": name, "n_per_class": 6, "n_classes": 2, "seed": 5})
    assert r.status_code == 200
    X, y = toy.make(name, 6, 2, rng=np.random.default_rng(5))
    np.testing.assert_allclose(body["X"], X, atol=5e-4)  # sent to 3 decimals
    assert body["y"] == y.tolist()


def test_weights_are_lingrad_init_weights_with_the_seed():
    r, body = post("/api/weights", {"n_classes": 4, "seed": 9})
    assert r.status_code == 200
    W = init_weights(2, 4, rng=np.random.default_rng(9), scale=1.0)
    np.testing.assert_allclose(body["W"], W, atol=5e-4)
    assert np.asarray(body["W"]).shape == (3, 4)


# ------------------------------------------------------------------------------ evaluate


@pytest.mark.parametrize("loss", LOSS_NAMES)
@pytest.mark.parametrize("lam", [0.0, 0.3])
def test_evaluate_agrees_with_the_objective_and_the_loop_reference(loss, lam):
    req = problem(loss=loss, lam=lam, seed=1)
    r, ev = post("/api/evaluate", req)
    assert r.status_code == 200, ev
    X, y, W = np.array(req["X"]), np.array(req["y"]), np.array(req["W"])
    J = Objective(loss, X, y, lam=lam)
    value, grad = J.value_and_grad(W)
    assert ev["loss"] == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(ev["grad"], grad, rtol=1e-12, atol=1e-14)
    S = X @ W[:2] + W[2]
    np.testing.assert_allclose(ev["scores"], S, rtol=1e-12)
    # per-point losses against the slide-by-slide loop version, one example at a time
    loop = getattr(reference, loss)
    expected = [loop(S[i : i + 1], y[i : i + 1])[0] for i in range(len(y))]
    np.testing.assert_allclose(ev["losses"], expected, rtol=1e-10, atol=1e-12)
    assert ev["data_loss"] == pytest.approx(np.mean(expected), rel=1e-10)
    assert ev["reg_loss"] == pytest.approx(lam * 0.5 * np.sum(W[:2] ** 2), rel=1e-12)
    assert ev["loss"] == pytest.approx(ev["data_loss"] + ev["reg_loss"], rel=1e-12)
    assert ev["accuracy"] == pytest.approx(np.mean(S.argmax(1) == y))


def test_same_weights_other_loss_gives_that_loss():
    req = problem(seed=2)
    _, hinge = post("/api/evaluate", req)
    _, soft = post("/api/evaluate", {**req, "loss": "softmax_cross_entropy"})
    S, y = np.array(hinge["scores"]), np.array(req["y"])
    assert hinge["data_loss"] == pytest.approx(losses.hinge(S, y)[0], rel=1e-12)
    assert soft["data_loss"] == pytest.approx(losses.softmax_cross_entropy(S, y)[0], rel=1e-12)
    assert soft["data_loss"] != pytest.approx(hinge["data_loss"])


# ------------------------------------------------------------------------------ step


OPTIMIZERS = {
    "sgd": (
        {"name": "sgd", "learning_rate": 0.2},
        lambda: optim.SGD(0.2),
    ),
    "momentum": (
        {"name": "momentum", "learning_rate": 0.1, "momentum": 0.8},
        lambda: optim.SGD(0.1, momentum=0.8),
    ),
    "adam": (
        {"name": "adam", "learning_rate": 0.05, "beta1": 0.85, "beta2": 0.99},
        lambda: optim.Adam(0.05, beta1=0.85, beta2=0.99),
    ),
}


@pytest.mark.parametrize("loss", LOSS_NAMES)
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_steps_equal_lingrad_optimiser_steps_with_the_state_round_tripped(name, loss):
    spec, make = OPTIMIZERS[name]
    req = problem(loss=loss, lam=0.05, seed=3)
    X, y, W = np.array(req["X"]), np.array(req["y"]), np.array(req["W"])
    J, opt = Objective(loss, X, y, lam=0.05), make()
    state = opt.init(W)
    optimizer = {**spec, "state": None}
    for t in range(4):
        r, body = post("/api/step", {**req, "optimizer": optimizer, "steps": 1})
        assert r.status_code == 200, body
        value, grad = J.value_and_grad(W)
        step, state = opt.update(grad, state, W)
        W = W + step
        np.testing.assert_allclose(body["W"], W, rtol=1e-12, atol=1e-15)
        assert body["history"] == pytest.approx([value], rel=1e-12)
        assert body["state"]["count"] == t + 1 == state.count
        assert body["evaluation"]["loss"] == pytest.approx(J.value(W), rel=1e-12)
        req["W"], optimizer = body["W"], {**spec, "state": body["state"]}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_many_steps_in_one_request_equal_one_step_per_request(name):
    spec = OPTIMIZERS[name][0]
    req = problem(seed=4)
    _, at_once = post("/api/step", {**req, "optimizer": spec, "steps": 5})
    optimizer, history = spec, []
    for _ in range(5):
        _, body = post("/api/step", {**req, "optimizer": optimizer, "steps": 1})
        req["W"], optimizer = body["W"], {**spec, "state": body["state"]}
        history += body["history"]
    np.testing.assert_allclose(at_once["W"], req["W"], rtol=1e-12)
    np.testing.assert_allclose(at_once["history"], history, rtol=1e-12)


def test_gradient_descent_lowers_the_loss():
    req = problem(seed=6, loss="softmax_cross_entropy")
    _, body = post("/api/step", {**req, "optimizer": {"learning_rate": 0.3}, "steps": 50})
    assert body["evaluation"]["loss"] < body["history"][0]
    assert np.all(np.diff(body["history"]) < 0)


# ------------------------------------------------------------------------------ bad requests


def with_(req, **changes):
    return {**req, **changes}


def step_req(**changes):
    return {**problem(n_per_class=3), "optimizer": {"name": "sgd"}, **changes}


BAD = [
    # (label, path, body (dict or raw text), status, field)
    ("NaN in X", "/api/evaluate", "NaN", 422, "X[0][0]"),
    ("Infinity in X", "/api/evaluate", "Infinity", 422, "X[0][0]"),
    ("string number", "/api/evaluate", with_(problem(), X=[["1.0", 2.0]], y=[0]), 422, "X[0][0]"),
    ("3-D point", "/api/evaluate", with_(problem(), X=[[1.0, 2.0, 3.0]], y=[0]), 422, "X[0]"),
    ("X not a list", "/api/evaluate", with_(problem(), X={"a": 1}), 422, "X"),
    ("huge value", "/api/evaluate", with_(problem(), X=[[1e300, 0.0]], y=[0]), 422, "X[0][0]"),
    ("float label", "/api/evaluate", with_(problem(), X=[[0.0, 0.0]], y=[1.5]), 422, "y[0]"),
    ("bool label", "/api/evaluate", with_(problem(), X=[[0.0, 0.0]], y=[True]), 422, "y[0]"),
    ("label >= C", "/api/evaluate", with_(problem(), X=[[0.0, 0.0]], y=[3]), 422, "y"),
    ("negative label", "/api/evaluate", with_(problem(), X=[[0.0, 0.0]], y=[-1]), 422, "y"),
    ("y shorter", "/api/evaluate", with_(problem(), X=[[0.0, 0.0]] * 2, y=[0]), 422, "y"),
    ("W 2 rows", "/api/evaluate", with_(problem(), W=[[1.0, 2.0, 3.0]] * 2), 422, "W"),
    ("W ragged", "/api/evaluate", with_(problem(), W=[[1.0, 2.0], [1.0], [0.0]]), 422, "W"),
    ("W one class", "/api/evaluate", with_(problem(), W=[[1.0]] * 3, y=[0] * 24), 422, "W"),
    ("W 7 classes", "/api/evaluate", with_(problem(), W=[[1.0] * 7] * 3), 422, "W"),
    ("NaN in W", "/api/evaluate", "W-NaN", 422, "W[1][1]"),
    ("unknown loss", "/api/evaluate", with_(problem(), loss="hingee"), 422, "loss"),
    ("non-L2 loss", "/api/evaluate", with_(problem(), loss="squared_error"), 422, "loss"),
    ("negative lam", "/api/evaluate", with_(problem(), lam=-0.1), 422, "lam"),
    ("string lam", "/api/evaluate", with_(problem(), lam="0.1"), 422, "lam"),
    ("unknown field", "/api/evaluate", with_(problem(), extra=1), 422, "extra"),
    ("missing X", "/api/evaluate", {"y": [0], "W": [[0.0, 0.0]] * 3}, 422, "X"),
    ("no points", "/api/evaluate", with_(problem(), X=[], y=[]), 422, "X"),
    ("too many points", "/api/evaluate", "10001", 422, "X"),
    ("JSON array", "/api/evaluate", [1, 2], 422, "body"),
    ("invalid JSON", "/api/evaluate", "{X:", 400, "body"),
    (
        "unknown optimiser",
        "/api/step",
        step_req(optimizer={"name": "rmsprop"}),
        422,
        "optimizer.name",
    ),
    (
        "zero rate",
        "/api/step",
        step_req(optimizer={"learning_rate": 0.0}),
        422,
        "optimizer.learning_rate",
    ),
    ("momentum 1", "/api/step", step_req(optimizer={"momentum": 1.0}), 422, "optimizer.momentum"),
    ("zero steps", "/api/step", step_req(steps=0), 422, "steps"),
    ("too many steps", "/api/step", step_req(steps=10_000), 422, "steps"),
    (
        "velocity shape",
        "/api/step",
        step_req(optimizer={"name": "momentum", "state": {"count": 1, "velocity": [[0.0]]}}),
        422,
        "optimizer.state.velocity",
    ),
    (
        "Adam state without v",
        "/api/step",
        step_req(optimizer={"name": "adam", "state": {"count": 1, "m": [[0.0] * 3] * 3}}),
        422,
        "optimizer.state.v",
    ),
    (
        "negative Adam v",
        "/api/step",
        step_req(
            optimizer={
                "name": "adam",
                "state": {"count": 1, "m": [[0.0] * 3] * 3, "v": [[-1.0] * 3] * 3},
            }
        ),
        422,
        "optimizer.state.v",
    ),
    (
        "negative count",
        "/api/step",
        step_req(optimizer={"name": "sgd", "state": {"count": -1}}),
        422,
        "optimizer.state.count",
    ),
    (
        "divergence",
        "/api/step",
        step_req(lam=1000.0, optimizer={"learning_rate": 100.0}, steps=500),
        422,
        "optimizer.learning_rate",
    ),
    ("unknown dataset", "/api/dataset", {"name": "moons"}, 422, "name"),
    ("xor with 3 classes", "/api/dataset", {"name": "xor", "n_classes": 3}, 422, "n_classes"),
    ("dataset too big", "/api/dataset", {"n_per_class": 4000, "n_classes": 3}, 422, "n_per_class"),
    ("negative seed", "/api/dataset", {"seed": -1}, 422, "seed"),
    ("seed as float", "/api/weights", {"seed": 1.0}, 422, "seed"),
    ("one class", "/api/weights", {"n_classes": 1}, 422, "n_classes"),
]


SENTINEL = "12345.5"  # a valid number in the JSON text, replaced by a token JSON cannot carry


def raw_body(body):
    """The bodies that Python values cannot write: NaN, Infinity, 10,001 points, bad JSON."""
    if body in ("NaN", "Infinity"):
        req = problem()
        req["X"][0][0] = float(SENTINEL)
        return json.dumps(req).replace(SENTINEL, body)
    if body == "W-NaN":
        req = with_(problem(), W=[[0.0] * 3, [0.0, float(SENTINEL), 0.0], [0.0] * 3])
        return json.dumps(req).replace(SENTINEL, "NaN")
    if body == "10001":
        return json.dumps(with_(problem(), X=[[0.0, 0.0]] * 10_001, y=[0] * 10_001))
    return body


@pytest.mark.parametrize(("label", "path", "body", "status", "field"), BAD, ids=[b[0] for b in BAD])
def test_bad_request_gets_a_4xx_naming_the_field(label, path, body, status, field):
    content = raw_body(body) if isinstance(body, str) else json.dumps(body)
    r = client.post(path, content=content, headers={"Content-Type": "application/json"})
    assert r.status_code == status, r.text
    answer = r.json()
    assert answer["field"] == field, answer
    assert answer["error"].startswith(f"{field}: expected "), answer


def test_nan_body_is_refused_not_by_luck():
    # the NaN/Infinity bodies of BAD are valid apart from that one token
    for token in ("NaN", "Infinity", "W-NaN"):
        text = raw_body(token)
        assert text.count("NaN") + text.count("Infinity") == 1
        clean = json.loads(text.replace("NaN", "0.5").replace("Infinity", "0.5"))
        assert client.post("/api/evaluate", json=clean).status_code == 200


def test_body_over_one_megabyte_is_refused_with_413():
    big = (
        b'{"X": [[0.0, 0.0]], "y": [0], "W": [[0.0, 0.0]]' + b" " * LIMITS["max_body_bytes"] + b"}"
    )
    r = client.post("/api/evaluate", content=big, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["field"] == "body"

    def chunks():  # no Content-Length: the limit is enforced while reading
        yield big[: len(big) // 2]
        yield big[len(big) // 2 :]

    r = client.post("/api/evaluate", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and "at most 1000000 bytes" in r.json()["error"]


def test_ten_thousand_points_are_accepted():
    req = with_(problem(), X=[[0.001 * i, 0.0] for i in range(10_000)], y=[0] * 10_000)
    r = client.post("/api/evaluate", json=req)
    assert r.status_code == 200 and len(r.json()["losses"]) == 10_000


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=12,
)


ANY_JSON_PATHS = ["/api/evaluate", "/api/step", "/api/dataset", "/api/weights", "/api/csv"]
ANY_JSON_PATHS += ["/api/export", "/api/model"]
ANY_JSON_KEYS = ["X", "y", "W", "loss", "lam", "optimizer", "steps", "name", "n_classes", "seed"]
ANY_JSON_KEYS += ["state", "features", "X_test", "y_test", "batch_size", "on_divergence"]
ANY_JSON_KEYS += ["noise", "text", "test_fraction"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    path=st.sampled_from(ANY_JSON_PATHS),
    key=st.sampled_from(ANY_JSON_KEYS),
    value=json_values,
)
def test_any_json_in_any_field_never_gives_a_500(path, key, value):
    base = step_req() if path != "/api/evaluate" else problem(n_per_class=2)
    if path in ("/api/dataset", "/api/weights"):
        base = {}
    r = client.post(path, json={**base, key: value})
    assert r.status_code < 500, r.text
    assert r.status_code == 200 or "error" in r.json()


def test_the_server_writes_no_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    req = problem()
    client.post("/api/step", json={**req, "optimizer": {"name": "adam"}, "steps": 3})
    client.post("/api/evaluate", json=req)
    client.post("/api/dataset", json={"name": "spiral"})
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------ the command


def test_cli_serves_on_loopback_only(monkeypatch, capsys):
    import uvicorn

    from lingrad.cli import main

    seen = {}

    def fake_run(self, sockets=None):
        seen["host"], seen["port"] = self.config.host, self.config.port
        seen["app"] = self.config.app

    monkeypatch.setattr(uvicorn.Server, "run", fake_run)
    assert main(["playground", "--port", "8123"]) == 0
    assert seen["host"] == "127.0.0.1" and seen["port"] == 8123
    assert (
        TestClient(seen["app"], base_url="http://127.0.0.1").get("/api/options").status_code == 200
    )


def test_cli_rejects_a_bad_port(capsys):
    from lingrad.cli import main

    assert main(["playground", "--port", "70000"]) == 2
    assert "--port: expected an integer in [0, 65535], got 70000" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["playground", "--host", "0.0.0.0"])  # there is no option to bind elsewhere


# ------------------------------------------------------------------------------ issue 15


def test_features_evaluate_the_objective_on_mapped_columns():
    req = problem(C=2)
    X = np.array(req["X"])
    names = ["x1^2", "x1*x2", "sin x2"]
    rng = np.random.default_rng(3)
    W = rng.standard_normal((6, 2))
    r, body = post(
        "/api/evaluate", {**req, "W": W.tolist(), "features": ["sin x2", "x1^2", "x1*x2"]}
    )
    assert r.status_code == 200
    # the columns written out by hand, in the order of FEATURES whatever the request's order
    mapped = np.column_stack([X, X[:, 0] ** 2, X[:, 0] * X[:, 1], np.sin(X[:, 1])])
    J, grad = Objective("hinge", mapped, np.array(req["y"]), lam=0.1).value_and_grad(W)
    assert body["loss"] == pytest.approx(J, rel=1e-12)
    np.testing.assert_allclose(body["grad"], grad, rtol=1e-12, atol=1e-15)
    assert names  # (the names above, as the table header shows them)
    r, body = post("/api/evaluate", {**req, "W": W[:5].tolist(), "features": names})
    assert r.status_code == 422 and body["field"] == "W"
    r, body = post("/api/evaluate", {**req, "features": ["x3^2"]})
    assert r.status_code == 422 and body["field"].startswith("features")
    r, body = post("/api/weights", {"n_classes": 2, "features": names})
    assert np.array(body["W"]).shape == (6, 2)


def test_a_diverging_run_stops_at_the_last_finite_weights():
    req = with_(step_req(), optimizer={"learning_rate": 50.0}, steps=60, on_divergence="stop")
    r, body = post("/api/step", req)
    assert r.status_code == 200 and body["diverged"] and "learning rate" in body["message"]
    taken = len(body["history"])
    assert 0 < taken < 60 and body["state"]["count"] == taken
    # the oracle: the same steps one request at a time, until the first refused one
    W, state = req["W"], None
    for _ in range(taken):
        one = with_(req, W=W, steps=1, on_divergence="error")
        one["optimizer"] = {**req["optimizer"], "state": state}
        r1, b1 = post("/api/step", one)
        assert r1.status_code == 200
        W, state = b1["W"], b1["state"]
    np.testing.assert_array_equal(body["W"], W)
    one = with_(req, W=W, steps=1, on_divergence="error")
    one["optimizer"] = {**req["optimizer"], "state": state}
    assert post("/api/step", one)[0].status_code == 422  # the next step does diverge
    calm = post("/api/step", with_(req, optimizer={"learning_rate": 0.1}))[1]
    assert calm["diverged"] is False and len(calm["history"]) == 60


def test_held_out_points_are_evaluated_not_trained_on():
    req, test = problem(seed=0), problem(seed=1)
    body = post("/api/evaluate", {**req, "X_test": test["X"], "y_test": test["y"]})[1]
    S = np.array(test["X"]) @ np.array(req["W"])[:2] + np.array(req["W"])[2]
    per_point = [losses.hinge(S[i : i + 1], np.array(test["y"][i : i + 1]))[0] for i in range(24)]
    assert body["test_loss"] == pytest.approx(np.mean(per_point), rel=1e-12)
    assert body["test_accuracy"] == np.mean(S.argmax(axis=1) == np.array(test["y"]))
    plain = post("/api/evaluate", req)[1]
    assert body["loss"] == plain["loss"] and "test_loss" not in plain
    r, bad = post("/api/evaluate", {**req, "X_test": test["X"], "y_test": test["y"][:-1]})
    assert r.status_code == 422 and bad["field"] == "y_test"


def test_mini_batch_steps_use_the_drawn_rows_and_repeat():
    req = with_(step_req(), batch_size=5, seed=7, steps=1)
    _, body = post("/api/step", req)
    assert post("/api/step", req)[1]["W"] == body["W"]  # stateless and seeded: same answer
    X, y, W = np.array(req["X"]), np.array(req["y"]), np.array(req["W"])
    rows = np.sort(np.random.default_rng([7, 0]).choice(len(y), 5, replace=False))
    J, grad = Objective("hinge", X[rows], y[rows], lam=req["lam"]).value_and_grad(W)
    np.testing.assert_allclose(body["W"], W - 0.1 * grad, rtol=1e-12, atol=1e-15)
    assert body["history"][0] == pytest.approx(J, rel=1e-12)
    full = post("/api/step", with_(req, batch_size=len(y)))[1]
    assert full["W"] == post("/api/step", with_(req, batch_size=None))[1]["W"]


@pytest.mark.parametrize("name", ["random_search", "random_local_search"])
def test_searches_never_raise_the_loss_and_count_evaluations(name):
    req = with_(step_req(), optimizer={"name": name, "learning_rate": 0.3}, steps=40, seed=2)
    r, body = post("/api/step", req)
    assert r.status_code == 200
    history = np.array(body["history"])
    assert np.all(np.diff(history) <= 0) and body["evaluation"]["loss"] <= history[-1]
    assert body["evaluations"] == body["state"]["evaluations"] == 41  # J(W_0) + one per try
    # the answer is lingrad's search, replayed with the same generator
    X, y, W = np.array(req["X"]), np.array(req["y"]), np.array(req["W"])
    objective = Objective("hinge", X, y, lam=req["lam"])
    opt = {"random_search": optim.RandomSearch(scale=0.3)}.get(
        name, optim.RandomLocalSearch(step_size=0.3)
    )
    state, rng = opt.init(W), np.random.default_rng([2, 0])
    for _ in range(40):
        step, state = opt.update(None, state, W, value_fn=objective.value, rng=rng)
        W = W + step
    np.testing.assert_allclose(body["W"], W, rtol=1e-12)
    again = with_(req, W=body["W"], steps=1)
    again["optimizer"] = {**req["optimizer"], "state": body["state"]}
    assert post("/api/step", again)[1]["evaluations"] == 42


def test_dataset_noise_is_lingrad_toy_noise():
    body = post("/api/dataset", {"name": "blobs", "n_per_class": 5, "n_classes": 2, "noise": 0})[1]
    X, _ = toy.make("blobs", 5, 2, rng=np.random.default_rng(0), noise=0.0)
    np.testing.assert_array_equal(body["X"], np.round(X, 3))
    assert post("/api/dataset", {"noise": 99})[0].status_code == 422


def test_dataset_test_fraction_holds_out_points_of_the_same_draw():
    full = post("/api/dataset", {"n_per_class": 10, "n_classes": 3})[1]
    split = post("/api/dataset", {"n_per_class": 10, "n_classes": 3, "test_fraction": 0.3})[1]
    assert len(split["y"]) == 21 and len(split["y_test"]) == 9
    rows = sorted(map(tuple, [*split["X"], *split["X_test"]]))
    assert rows == sorted(map(tuple, full["X"]))  # the same 30 points, split in two
    assert (
        full["X_test"] == [] and post("/api/dataset", {"test_fraction": 1.0})[0].status_code == 422
    )


CSV_BAD = [
    ("0,0,0\n1,1\n", "3 comma-separated values", "line 2"),
    ("0,0,0\n1,a,1\n", "numbers for x1 and x2", "line 2"),
    ("0,0,0\n1,1,1\nnan,0,1\n", "finite coordinates", "line 3"),
    ("0,0,0\n99,0,1\n", "|x| <= 32", "line 2"),
    ("0,0,0\n1,1,-1\n", "a label in 0..5", "line 2"),
    ("0,0,0\n1,1,6\n", "a label in 0..5", "line 2"),
    ("0,0,1\n1,1,1\n", "at least 2 classes", "1 class"),
    ("", "at least 2 classes", "0 class"),
]


@pytest.mark.parametrize(("text", "expected", "where"), CSV_BAD)
def test_csv_errors_are_422_naming_the_line(text, expected, where):
    r, body = post("/api/csv", {"text": text})
    assert r.status_code == 422 and body["field"] == "text"
    assert expected in body["error"] and where in body["error"]


def test_csv_points_are_read_and_capped():
    r, body = post("/api/csv", {"text": "x1, x2, label\n0.5, -1.25, 0\n\n2,3.0004,2\n"})
    assert r.status_code == 200
    assert body == {"X": [[0.5, -1.25], [2.0, 3.0]], "y": [0, 2], "n_classes": 3}
    big = "0,0,0\n" * (LIMITS["max_csv_bytes"] // 6 + 1)
    r, body = post("/api/csv", {"text": big})
    assert r.status_code == 422 and body["field"] == "text"


def test_exported_script_reproduces_the_weights(tmp_path):
    import subprocess
    import sys

    req = problem(C=2, loss="softmax_cross_entropy")
    W = np.random.default_rng(5).standard_normal((4, 2)) * 1e-3 + 1 / 3
    req = {**req, "W": W.tolist(), "features": ["x1*x2"]}
    r, body = post("/api/export", req)
    assert r.status_code == 200
    path = tmp_path / "playground_export.py"
    path.write_text(body["script"])
    env = {"PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src"), "PATH": ""}
    done = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, timeout=120, env=env
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    np.testing.assert_allclose(out["W"], W, rtol=1e-12, atol=0)
    assert out["loss"] == pytest.approx(post("/api/evaluate", req)[1]["loss"], rel=1e-12)


def test_model_download_is_a_lingrad_model_file(tmp_path):
    import pandas as pd

    from lingrad import io

    req = {**problem(C=3), "features": ["x2^2"], "W": np.arange(12.0).reshape(4, 3).tolist()}
    r = client.post("/api/model", json=req)
    assert r.status_code == 200 and "playground.npz" in r.headers["content-disposition"]
    path = tmp_path / "model.npz"
    path.write_bytes(r.content)
    model = io.load(path)
    np.testing.assert_array_equal(model.W_, np.array(req["W"]))
    assert model.feature_names_in_.tolist() == ["x1", "x2", "x2^2"]
    Phi = np.column_stack([np.array(req["X"]), np.array(req["X"])[:, 1] ** 2])
    frame = pd.DataFrame(Phi, columns=["x1", "x2", "x2^2"])
    expected = Phi @ model.W_[:-1] + model.W_[-1]
    np.testing.assert_array_equal(model.decision_function(frame), expected)


def test_show_serves_the_page_on_loopback_for_a_notebook_frame():
    import urllib.request

    from lingrad.playground import notebook, show

    try:
        frame = show(height=700)
        assert type(frame).__name__ == "IFrame" and frame.height == 700
        assert frame.src.startswith("http://127.0.0.1:")
        assert show().src == frame.src  # one server per process
        assert notebook._server["thread"].daemon
        with urllib.request.urlopen(frame.src, timeout=10) as page:
            body = page.read().decode()
            headers = page.headers
        assert "/static/playground.js" in body
        # a notebook on loopback may frame it; other sites still may not
        assert "X-Frame-Options" not in headers
        csp = headers["Content-Security-Policy"]
        assert "frame-ancestors 'self' http://127.0.0.1:* http://localhost:*" in csp
        assert "script-src" not in csp and "default-src 'self'" in csp
        with urllib.request.urlopen(
            urllib.request.Request(frame.src + "api/options"), timeout=10
        ) as r:
            assert "features" in json.loads(r.read())
    finally:
        notebook.stop()
    assert notebook._server == {}
    # the command's server keeps refusing frames
    r = client.get("/")
    assert (
        r.headers["x-frame-options"] == "DENY"
        and "frame-ancestors 'none'" in r.headers["content-security-policy"]
    )
