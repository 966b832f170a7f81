"""The playground's ASGI app (Starlette): one page and a small, stateless JSON API.

Routes:

* ``GET /``: the page (``static/index.html``); ``GET /static/...``: its JS and CSS.
* ``GET /api/options``: the losses, optimisers, datasets and limits the page may offer.
* ``POST /api/dataset``: a toy dataset of :mod:`lingrad.toy` -> ``{"X", "y"}``.
* ``POST /api/weights``: initial weights from :func:`lingrad.init_weights` -> ``{"W"}``.
* ``POST /api/evaluate``: losses, gradient, scores and per-point losses at ``W``.
* ``POST /api/step``: ``steps`` optimiser steps -> the new ``W``, the optimiser ``state`` to
  send with the next step, the loss ``history`` and the evaluation at the new ``W``.
* ``POST /api/csv``: CSV text of labelled 2-D points -> ``{"X", "y", "n_classes"}``.
* ``POST /api/export``: a problem -> ``{"script"}``, a Python script reproducing it with lingrad.
* ``POST /api/model``: a problem -> its ``W`` as a lingrad model file (``.npz`` bytes).

Every request is validated (:mod:`lingrad.playground.schema`). Errors are JSON
``{"error": "field: expected ..., got ...", "field": "..."}`` with status 400 (not JSON),
413 (body over ``LIMITS["max_body_bytes"]``) or 422 (a field is wrong); never a 500 for bad
input. The server keeps no state between requests and writes no files (but the model file's
temporary copy, removed before it answers).

Served on 127.0.0.1 only, the app also defends the browser that talks to it:

* a ``Host`` header other than ``127.0.0.1``, ``localhost`` or ``[::1]`` (any port) is refused
  with 400 and field ``host``: a page of another site cannot reach the API by DNS rebinding;
* a POST needs ``Content-Type: application/json`` (else 415, field ``content-type``), which a
  cross-site form or ``text/plain`` fetch cannot send without a CORS preflight (never granted);
* every response carries ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY`` and the
  ``Content-Security-Policy`` :data:`CSP` (the page loads its own script and style only);
* the computations run in worker threads, at most ``workers`` at once, so the event loop keeps
  answering; a request beyond ``workers + queue`` admitted ones is refused with 503 (field
  ``server``, ``Retry-After: 1``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path

import anyio
import anyio.to_thread
import numpy as np
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lingrad import toy
from lingrad._validation import check_int
from lingrad.model import init_weights
from lingrad.playground import compute, csvdata, export, features, schema

STATIC = Path(__file__).with_name("static")

#: The host names the server answers to (``Host`` header, any port or none).
ALLOWED_HOSTS = ("127.0.0.1", "localhost", "[::1]")

#: The page's Content-Security-Policy: its own script, style, API and images only. Style
#: attributes are allowed (the tables colour their class chips with ``style="..."``), and
#: ``data:`` images (the empty favicon); no inline script, no frames, no plugins, no forms.
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "style-src-attr 'unsafe-inline'; object-src 'none'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)

#: The headers added to every response.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": CSP,
}

#: Who may frame the page when it is served for a notebook (``create_app(embeddable=True)``):
#: pages on loopback (Jupyter, JupyterLab) and VS Code's notebook views; no other site.
NOTEBOOK_FRAME_ANCESTORS = (
    "'self' http://127.0.0.1:* http://localhost:* http://[::1]:* vscode-webview:"
)


def _headers(embeddable: bool) -> dict[str, str]:
    """:data:`SECURITY_HEADERS`, or for a notebook's frame the same policy with
    ``frame-ancestors`` :data:`NOTEBOOK_FRAME_ANCESTORS` and no ``X-Frame-Options``."""
    if not embeddable:
        return SECURITY_HEADERS
    csp = CSP.replace("frame-ancestors 'none'", f"frame-ancestors {NOTEBOOK_FRAME_ANCESTORS}")
    return {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": csp}


class _RequestError(Exception):
    def __init__(self, status: int, field: str, message: str):
        super().__init__(message)
        self.status, self.field, self.message = status, field, message


#: List items encoded per ``json.dumps`` call: one call holds the GIL (the C encoder never lets
#: go), so a large answer is written in pieces and the event loop gets a turn in between.
_CHUNK = 256


def _default(value: object) -> object:
    """NumPy values for :func:`json.dumps`: arrays become lists, scalars Python numbers."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot encode {type(value).__name__}")


def _dumps(value: object) -> str:
    """``json.dumps(value)``, compact and without NaN, written in pieces of :data:`_CHUNK` list
    items (nested dicts and long lists are split; the text is the same as one call's)."""
    if isinstance(value, np.ndarray | np.generic):
        value = _default(value)
    options: dict = {"default": _default, "allow_nan": False, "separators": (",", ":")}
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        items = (json.dumps(key) + ":" + _dumps(item) for key, item in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple) and len(value) > _CHUNK:
        pieces = (
            json.dumps(list(value[i : i + _CHUNK]), **options)[1:-1]
            for i in range(0, len(value), _CHUNK)
        )
        return "[" + ",".join(pieces) + "]"
    return json.dumps(value, **options)


def _json(payload: dict, status: int = 200) -> Response:
    """A JSON response; NumPy arrays become lists."""
    return Response(_dumps(payload), status_code=status, media_type="application/json")


def _error(status: int, field: str, message: str, headers: dict | None = None) -> Response:
    response = _json({"error": message, "field": field}, status)
    response.headers.update(headers or {})
    return response


def _host_name(host: str) -> str | None:
    """The name of a ``Host`` header (lower case, port dropped), ``None`` if it is malformed."""
    host = host.strip().lower()
    if host.startswith("["):  # an IPv6 literal, "[::1]" or "[::1]:8231"
        name, bracket, port = host.partition("]")
        name += bracket
        port = port[1:] if port.startswith(":") else port
    else:
        name, _, port = host.partition(":")
    return name if name and (port == "" or port.isdigit()) else None


class _Guard:
    """ASGI middleware: refuse a foreign ``Host``, add :data:`SECURITY_HEADERS` to every
    response (the app's, the static files', a refusal)."""

    def __init__(self, app: ASGIApp, headers: dict[str, str]):
        self.app, self.headers = app, headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                extra = [
                    (name.lower().encode(), value.encode())
                    for name, value in self.headers.items()
                    if name.lower().encode() not in names
                ]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        hosts = [value.decode("latin-1") for name, value in scope["headers"] if name == b"host"]
        if len(hosts) != 1 or _host_name(hosts[0]) not in ALLOWED_HOSTS:
            got = repr(hosts[0][:100]) if len(hosts) == 1 else f"{len(hosts)} Host headers"
            expected = "one of " + ", ".join(ALLOWED_HOSTS) + " (with any port)"
            response = _error(400, "host", f"host: expected {expected}, got {got}")
            await response(scope, receive, send_secured)
            return
        await self.app(scope, receive, send_secured)


class _Workers:
    """Run computations in worker threads, at most ``workers`` at once; admit at most
    ``workers + queue`` requests (running or waiting), refuse more with 503."""

    def __init__(self, workers: int, queue: int):
        self.workers, self.bound = workers, workers + queue
        self.admitted = 0
        self.lock = threading.Lock()
        self.limiter: anyio.CapacityLimiter | None = None

    def admit(self) -> None:
        with self.lock:
            if self.admitted >= self.bound:
                raise _RequestError(
                    503,
                    "server",
                    f"server: expected at most {self.bound} computations at once, got more "
                    "(try again in a moment)",
                )
            self.admitted += 1

    def leave(self) -> None:
        with self.lock:
            self.admitted -= 1

    async def run(self, function: Callable[[], Response]) -> Response:
        if self.limiter is None:  # made on first use, inside the event loop
            self.limiter = anyio.CapacityLimiter(self.workers)
        return await anyio.to_thread.run_sync(function, limiter=self.limiter)


async def _read_body(request: Request) -> bytes:
    """The request body, refused with 413 as soon as it passes the size limit."""
    limit = schema.LIMITS["max_body_bytes"]
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _RequestError(413, "body", f"body: expected at most {limit} bytes, got {declared}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _RequestError(413, "body", f"body: expected at most {limit} bytes, got more")
        chunks.append(chunk)
    return b"".join(chunks)


def _check_content_type(request: Request) -> None:
    """Refuse (415) a body that is not declared ``application/json`` (parameters allowed)."""
    declared = request.headers.get("content-type")
    media = (declared or "").split(";", 1)[0].strip().lower()
    if media != "application/json":
        got = "no Content-Type" if declared is None else repr(declared[:100])
        message = f"content-type: expected application/json, got {got}"
        raise _RequestError(415, "content-type", message)


def _answer(model: type[schema.BaseModel], handler, body: bytes) -> Response:
    """Validate ``body`` as ``model``, call ``handler`` and encode its answer (in a worker)."""
    try:
        parsed = model.model_validate_json(body or b"{}")
    except ValidationError as exc:
        field, message = schema.describe(exc)
        status = 400 if exc.errors()[0]["type"] == "json_invalid" else 422
        raise _RequestError(status, field, message) from None
    try:
        answer = handler(parsed)
        return answer if isinstance(answer, Response) else _json(answer)
    except (ValueError, TypeError) as exc:
        message = str(exc)
        raise _RequestError(422, message.split(":", 1)[0], message) from None


def _endpoint(model: type[schema.BaseModel], handler, workers: _Workers):
    """A POST endpoint: check the content type, read and validate the body as ``model``, call
    ``handler(request)``; all but the first two in a worker thread of ``workers``.

    Pydantic errors and lingrad's ``ValueError``/``TypeError`` (raised by its validators with
    the message ``name: expected ..., got ...``) become 422 responses naming the field.
    """

    async def endpoint(request: Request) -> Response:
        try:
            _check_content_type(request)
            body = await _read_body(request)
            workers.admit()
            try:
                return await workers.run(lambda: _answer(model, handler, body))
            finally:
                workers.leave()
        except _RequestError as exc:
            headers = {"Retry-After": "1"} if exc.status == 503 else None
            return _error(exc.status, exc.field, exc.message, headers)

    return endpoint


def _dataset(request: schema.DatasetRequest) -> dict:
    total = request.n_per_class * request.n_classes
    if total > schema.LIMITS["max_points"]:
        limit = schema.LIMITS["max_points"]
        raise ValueError(f"n_per_class: expected n_per_class * n_classes <= {limit}, got {total}")
    rng = np.random.default_rng(request.seed)
    X, y = toy.make(
        request.name, request.n_per_class, request.n_classes, rng=rng, noise=request.noise
    )
    X = np.round(X, 3)
    held = rng.permutation(len(y))[: round(request.test_fraction * len(y))]
    train = np.setdiff1d(np.arange(len(y)), held)
    held.sort()
    return {"X": X[train], "y": y[train], "X_test": X[held], "y_test": y[held]}


def _weights(request: schema.WeightsRequest) -> dict:
    rng = np.random.default_rng(request.seed)
    n_features = compute.N_FEATURES + len(request.features)
    W = init_weights(n_features, request.n_classes, rng=rng, scale=request.scale)
    return {"W": np.round(W, 3)}


def _evaluate(request: schema.Problem) -> dict:
    objective, W = compute.problem(request)
    return compute.evaluate(objective, W, compute.test_objective(request, W.shape[1]))


def _step(request: schema.StepRequest) -> dict:
    objective, W = compute.problem(request)
    test = compute.test_objective(request, W.shape[1])
    opt = compute.make_optimizer(request.optimizer)
    state = compute.optimizer_state(request.optimizer, opt, W)
    stop = request.on_divergence == "stop"
    rng = np.random.default_rng([request.seed, state.count])
    W, state, history = compute.run_steps(
        objective,
        W,
        opt,
        state,
        request.steps,
        stop_on_divergence=stop,
        batch_size=request.batch_size,
        rng=rng,
    )
    answer = {
        "W": W,
        "state": compute.state_to_dict(state),
        "history": history,
        "evaluations": compute.evaluations(state, state.count),
        "evaluation": compute.evaluate(objective, W, test),
    }
    if stop:
        diverged = len(history) < request.steps
        answer["diverged"] = diverged
        if diverged:
            answer["message"] = (
                f"diverged: step {state.count + 1} would take W beyond "
                f"|W| <= {schema.LIMITS['max_abs_value']:g} with learning rate "
                f"{request.optimizer.learning_rate:g}; rolled back to the last finite weights "
                "(lower the learning rate)"
            )
    return answer


def _csv(request: schema.CsvRequest) -> dict:
    X, y = csvdata.parse(request.text)
    return {"X": X, "y": y, "n_classes": int(y.max()) + 1}


def _export(request: schema.Problem) -> dict:
    _, W = compute.problem(request)
    X, y = np.asarray(request.X, dtype=np.float64), np.asarray(request.y)
    return {"script": export.script(X, y, W, request.features, request.loss, request.lam)}


def _model(request: schema.Problem) -> Response:
    _, W = compute.problem(request)
    data = export.model_file(W, request.features, request.loss, request.lam)
    disposition = 'attachment; filename="playground.npz"'
    return Response(
        data, media_type="application/octet-stream", headers={"Content-Disposition": disposition}
    )


def _options(request: Request) -> Response:
    return _json(
        {
            "losses": schema.LOSSES,
            "optimizers": schema.OPTIMIZERS,
            "datasets": list(toy.NAMES),
            "features": list(features.FEATURES),
            "limits": schema.LIMITS,
        }
    )


def _index(request: Request) -> Response:
    return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


def create_app(*, workers: int = 2, queue: int = 6, embeddable: bool = False) -> Starlette:
    """The playground as an ASGI app (serve it with uvicorn, test it with Starlette's client).

    At most ``workers`` computations run at once (in threads, off the event loop) and at most
    ``queue`` more wait; a request beyond those is answered 503. Only the hosts of
    :data:`ALLOWED_HOSTS` are served: a test client must use one of them as its base URL.
    ``embeddable``: let loopback pages (a notebook) frame the page (see :func:`_headers`).

    Examples:
        >>> from starlette.testclient import TestClient
        >>> client = TestClient(create_app(), base_url="http://127.0.0.1")
        >>> r = client.post("/api/weights", json={"n_classes": 2, "seed": 0})
        >>> r.status_code, len(r.json()["W"])
        (200, 3)
        >>> r.headers["x-content-type-options"], r.headers["x-frame-options"]
        ('nosniff', 'DENY')
        >>> TestClient(create_app()).get("/").json()["field"]  # Host: testserver
        'host'
    """
    check_int("workers", workers, minimum=1)
    check_int("queue", queue, minimum=0)
    pool = _Workers(workers, queue)

    def post(model: type[schema.BaseModel], handler) -> Callable:
        return _endpoint(model, handler, pool)

    app = Starlette(
        routes=[
            Route("/", _index),
            Route("/api/options", _options),
            Route("/api/dataset", post(schema.DatasetRequest, _dataset), methods=["POST"]),
            Route("/api/weights", post(schema.WeightsRequest, _weights), methods=["POST"]),
            Route("/api/evaluate", post(schema.Problem, _evaluate), methods=["POST"]),
            Route("/api/step", post(schema.StepRequest, _step), methods=["POST"]),
            Route("/api/csv", post(schema.CsvRequest, _csv), methods=["POST"]),
            Route("/api/export", post(schema.Problem, _export), methods=["POST"]),
            Route("/api/model", post(schema.Problem, _model), methods=["POST"]),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ]
    )
    app.add_middleware(_Guard, headers=_headers(embeddable))
    return app
