"""The playground's ASGI app (Starlette): one page and a small, stateless JSON API.

Routes:

* ``GET /``: the page (``static/index.html``); ``GET /static/...``: its JS and CSS.
* ``GET /api/options``: the losses, optimisers, datasets and limits the page may offer.
* ``POST /api/dataset``: a toy dataset of :mod:`lingrad.toy` -> ``{"X", "y"}``.
* ``POST /api/weights``: initial weights from :func:`lingrad.init_weights` -> ``{"W"}``.
* ``POST /api/evaluate``: losses, gradient, scores and per-point losses at ``W``.
* ``POST /api/step``: ``steps`` optimiser steps -> the new ``W``, the optimiser ``state`` to
  send with the next step, the loss ``history`` and the evaluation at the new ``W``.

Every request is validated (:mod:`lingrad.playground.schema`). Errors are JSON
``{"error": "field: expected ..., got ...", "field": "..."}`` with status 400 (not JSON),
413 (body over ``LIMITS["max_body_bytes"]``) or 422 (a field is wrong); never a 500 for bad
input. The server keeps no state between requests and writes no files.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from lingrad import toy
from lingrad.model import init_weights
from lingrad.playground import compute, schema

STATIC = Path(__file__).with_name("static")


class _RequestError(Exception):
    def __init__(self, status: int, field: str, message: str):
        super().__init__(message)
        self.status, self.field, self.message = status, field, message


def _json(payload: dict, status: int = 200) -> Response:
    """A JSON response; NumPy arrays become lists."""

    def default(value):
        if isinstance(value, np.ndarray):
            return value.tolist()
        if isinstance(value, np.generic):
            return value.item()
        raise TypeError(f"cannot encode {type(value).__name__}")

    body = json.dumps(payload, default=default, allow_nan=False, separators=(",", ":"))
    return Response(body, status_code=status, media_type="application/json")


def _error(status: int, field: str, message: str) -> Response:
    return _json({"error": message, "field": field}, status)


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


def _endpoint(model: type[schema.BaseModel], handler):
    """A POST endpoint: read and validate the body as ``model``, call ``handler(request)``.

    Pydantic errors and lingrad's ``ValueError``/``TypeError`` (raised by its validators with
    the message ``name: expected ..., got ...``) become 422 responses naming the field.
    """

    async def endpoint(request: Request) -> Response:
        try:
            body = await _read_body(request)
            try:
                parsed = model.model_validate_json(body or b"{}")
            except ValidationError as exc:
                field, message = schema.describe(exc)
                status = 400 if exc.errors()[0]["type"] == "json_invalid" else 422
                raise _RequestError(status, field, message) from None
            try:
                return _json(handler(parsed))
            except (ValueError, TypeError) as exc:
                message = str(exc)
                raise _RequestError(422, message.split(":", 1)[0], message) from None
        except _RequestError as exc:
            return _error(exc.status, exc.field, exc.message)

    return endpoint


def _dataset(request: schema.DatasetRequest) -> dict:
    total = request.n_per_class * request.n_classes
    if total > schema.LIMITS["max_points"]:
        limit = schema.LIMITS["max_points"]
        raise ValueError(f"n_per_class: expected n_per_class * n_classes <= {limit}, got {total}")
    rng = np.random.default_rng(request.seed)
    X, y = toy.make(request.name, request.n_per_class, request.n_classes, rng=rng)
    return {"X": np.round(X, 3), "y": y}


def _weights(request: schema.WeightsRequest) -> dict:
    rng = np.random.default_rng(request.seed)
    W = init_weights(compute.N_FEATURES, request.n_classes, rng=rng, scale=request.scale)
    return {"W": np.round(W, 3)}


def _evaluate(request: schema.Problem) -> dict:
    objective, W = compute.problem(request)
    return compute.evaluate(objective, W)


def _step(request: schema.StepRequest) -> dict:
    objective, W = compute.problem(request)
    opt = compute.make_optimizer(request.optimizer)
    state = compute.optimizer_state(request.optimizer, opt, W)
    W, state, history = compute.run_steps(objective, W, opt, state, request.steps)
    return {
        "W": W,
        "state": compute.state_to_dict(state),
        "history": history,
        "evaluation": compute.evaluate(objective, W),
    }


def _options(request: Request) -> Response:
    return _json(
        {
            "losses": schema.LOSSES,
            "optimizers": schema.OPTIMIZERS,
            "datasets": list(toy.NAMES),
            "limits": schema.LIMITS,
        }
    )


def _index(request: Request) -> Response:
    return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


def create_app() -> Starlette:
    """The playground as an ASGI app (serve it with uvicorn, test it with Starlette's client).

    Examples:
        >>> from starlette.testclient import TestClient
        >>> client = TestClient(create_app())
        >>> r = client.post("/api/weights", json={"n_classes": 2, "seed": 0})
        >>> r.status_code, len(r.json()["W"])
        (200, 3)
    """
    return Starlette(
        routes=[
            Route("/", _index),
            Route("/api/options", _options),
            Route("/api/dataset", _endpoint(schema.DatasetRequest, _dataset), methods=["POST"]),
            Route("/api/weights", _endpoint(schema.WeightsRequest, _weights), methods=["POST"]),
            Route("/api/evaluate", _endpoint(schema.Problem, _evaluate), methods=["POST"]),
            Route("/api/step", _endpoint(schema.StepRequest, _step), methods=["POST"]),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ]
    )
