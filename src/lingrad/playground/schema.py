"""The playground's JSON requests, declared once with their limits (pydantic, strict mode).

Every request is a strict pydantic model: numbers must be JSON numbers (no ``"1.5"`` strings,
no ``true`` for an integer), floats must be finite (``NaN`` and ``Infinity`` are refused),
unknown fields are refused, and sizes are capped by :data:`LIMITS`. Shape rules that link
fields (one label per point, ``W`` of shape ``(3, C)``, labels in ``[0, C)``, an optimiser
state shaped like ``W``) are checked afterwards by :func:`lingrad.playground.compute` with
lingrad's own validators, so one message template serves both: ``name: expected ..., got ...``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lingrad import losses
from lingrad.playground.features import FEATURES

#: The caps on a request; a larger one is refused with a 4xx and a message.
LIMITS = {
    "max_body_bytes": 1_000_000,
    "max_points": 10_000,
    "max_classes": 6,
    "max_steps": 500,
    "max_abs_value": 1e6,
    "max_abs_state": 1e30,
    "max_lam": 1e3,
    "max_learning_rate": 1e2,
    "max_seed": 2**32 - 1,
    "max_noise": 3.0,
    "max_csv_bytes": 200_000,
}

#: The losses the playground offers, read from the registry (every loss on integer labels with
#: one score column per class): registry name -> the label and the formula shown on the page.
LOSSES = {
    name: {"label": spec.title, "formula": spec.formula}
    for name, spec in ((name, losses.spec(name)) for name in losses.NAMES)
    if spec.target is losses.Target.LABELS
}

#: The optimisers the playground offers: name -> label shown on the page.
OPTIMIZERS = {
    "sgd": "SGD",
    "momentum": "SGD + momentum",
    "adam": "Adam",
    "random_search": "random search",
    "random_local_search": "random local search",
}

#: The optimisers that read only J's value (optimisation as search, :mod:`lingrad.optim.search`).
SEARCHES = ("random_search", "random_local_search")

_BIG = LIMITS["max_abs_value"]
_STATE = LIMITS["max_abs_state"]
Number = Annotated[float, Field(allow_inf_nan=False, ge=-_BIG, le=_BIG)]
Row = list[Number]
Matrix = Annotated[list[Row], Field(min_length=1, max_length=64)]
StateMatrix = Annotated[
    list[list[Annotated[float, Field(allow_inf_nan=False, ge=-_STATE, le=_STATE)]]],
    Field(min_length=1, max_length=64),
]
Point = Annotated[list[Number], Field(min_length=2, max_length=2)]
if TYPE_CHECKING:  # Literals of the names of LOSSES and FEATURES, built at run time
    LossName = str
    FeatureName = str
else:
    LossName = Literal[tuple(LOSSES)]
    FeatureName = Literal[tuple(FEATURES)]
Features = Annotated[list[FeatureName], Field(max_length=len(FEATURES))]
Seed = Annotated[int, Field(ge=0, le=LIMITS["max_seed"])]
NClasses = Annotated[int, Field(ge=2, le=LIMITS["max_classes"])]


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class Problem(_Strict):
    """A dataset, the parameters and the objective: what every compute request carries.

    ``X``: points, shape ``(N, 2)``; ``y``: labels ``(N,)`` in ``[0, C)``; ``W``: shape
    ``(3, C)``, rows ``w_1``, ``w_2`` and the bias ``b``; ``loss``: a name of :data:`LOSSES`;
    ``lam``: the L2 strength (objective = mean loss + ``lam * 0.5 * ||W[:-1]||^2``);
    ``features``: names of :data:`lingrad.playground.features.FEATURES` appended to ``(x1, x2)``
    (``W`` then has ``2 + len(features) + 1`` rows); ``X_test``, ``y_test``: an optional held-out
    set, evaluated but never trained on.

    Examples:
        >>> p = Problem(X=[[0.0, 1.0]], y=[0], W=[[1, 0], [0, 1], [0, 0]],
        ...             loss="softmax_cross_entropy")
        >>> p.loss, p.lam, len(p.W)
        ('softmax_cross_entropy', 0.0, 3)
    """

    X: Annotated[list[Point], Field(min_length=1, max_length=LIMITS["max_points"])]
    y: Annotated[list[int], Field(min_length=1, max_length=LIMITS["max_points"])]
    W: Matrix
    loss: LossName = "hinge"
    lam: Annotated[float, Field(allow_inf_nan=False, ge=0.0, le=LIMITS["max_lam"])] = 0.0
    features: Features = []
    X_test: Annotated[list[Point], Field(max_length=LIMITS["max_points"])] | None = None
    y_test: Annotated[list[int], Field(max_length=LIMITS["max_points"])] | None = None


class OptimizerState(_Strict):
    """The optimiser's state, sent back with every step so the server keeps none.

    ``count``: steps taken; ``velocity``: SGD momentum buffer (shape of ``W``); ``m``, ``v``:
    Adam's moment estimates (shape of ``W``); ``evaluations``, ``value``: a search's count of
    J evaluations and J at the current ``W`` (``None``: not evaluated yet).

    Examples:
        >>> OptimizerState(count=2, velocity=[[0.1, 0.0]]).model_dump(exclude_none=True)
        {'count': 2, 'evaluations': 0, 'velocity': [[0.1, 0.0]]}
    """

    count: Annotated[int, Field(ge=0, le=10**9)] = 0
    evaluations: Annotated[int, Field(ge=0, le=10**12)] = 0
    value: Annotated[float, Field(allow_inf_nan=False, ge=0.0, le=1e300)] | None = None
    velocity: StateMatrix | None = None
    m: StateMatrix | None = None
    v: StateMatrix | None = None


class Optimizer(_Strict):
    """Which optimiser of :mod:`lingrad.optim`, its hyperparameters and its state (``None``:
    start fresh with ``init(W)``). For the searches ``learning_rate`` is the scale of random
    search's draws or the step size of random local search.

    Examples:
        >>> o = Optimizer(name="adam")
        >>> o.learning_rate, o.state is None
        (0.1, True)
    """

    name: Literal["sgd", "momentum", "adam", "random_search", "random_local_search"] = "sgd"
    learning_rate: Annotated[
        float, Field(allow_inf_nan=False, gt=0.0, le=LIMITS["max_learning_rate"])
    ] = 0.1
    momentum: Annotated[float, Field(allow_inf_nan=False, ge=0.0, lt=1.0)] = 0.9
    beta1: Annotated[float, Field(allow_inf_nan=False, ge=0.0, lt=1.0)] = 0.9
    beta2: Annotated[float, Field(allow_inf_nan=False, ge=0.0, lt=1.0)] = 0.999
    state: OptimizerState | None = None


class StepRequest(Problem):
    """``steps`` full-batch optimiser steps from ``W``. ``on_divergence``: ``"error"`` answers a
    step that leaves the finite range with 422; ``"stop"`` answers the last finite weights and
    ``diverged`` (the page rolls back to them and stops). ``batch_size``: examples per gradient
    step, drawn without replacement (``None``: the full batch); ``seed``: with the state's step
    count, seeds the draws of mini-batches and searches (same request, same answer).

    Examples:
        >>> r = StepRequest(X=[[0.0, 1.0]], y=[0], W=[[1, 0], [0, 1], [0, 0]], steps=5)
        >>> r.steps, r.optimizer.name
        (5, 'sgd')
    """

    optimizer: Optimizer = Optimizer()
    steps: Annotated[int, Field(ge=1, le=LIMITS["max_steps"])] = 1
    on_divergence: Literal["error", "stop"] = "error"
    batch_size: Annotated[int, Field(ge=1, le=LIMITS["max_points"])] | None = None
    seed: Seed = 0


class DatasetRequest(_Strict):
    """A toy dataset of :mod:`lingrad.toy` drawn with ``numpy.random.default_rng(seed)``;
    ``noise``: its spread (``None``: the dataset's default); ``test_fraction``: the share of the
    points held out as a test set (drawn at random with the same generator).

    Examples:
        >>> DatasetRequest(name="xor", n_classes=2).model_dump()["test_fraction"]
        0.0
    """

    name: Literal["blobs", "spiral", "xor", "random"] = "blobs"
    n_per_class: Annotated[int, Field(ge=1, le=LIMITS["max_points"] // 2)] = 20
    n_classes: NClasses = 3
    seed: Seed = 0
    noise: Annotated[float, Field(allow_inf_nan=False, ge=0.0, le=LIMITS["max_noise"])] | None = (
        None
    )
    test_fraction: Annotated[float, Field(allow_inf_nan=False, ge=0.0, le=0.9)] = 0.0


class WeightsRequest(_Strict):
    """Initial weights ``scale * N(0, 1)`` and a zero bias, drawn from ``default_rng(seed)``,
    shape ``(2 + len(features) + 1, n_classes)``.

    Examples:
        >>> WeightsRequest().model_dump()
        {'n_classes': 3, 'seed': 0, 'scale': 1.0, 'features': []}
    """

    n_classes: NClasses = 3
    seed: Seed = 0
    scale: Annotated[float, Field(allow_inf_nan=False, gt=0.0, le=100.0)] = 1.0
    features: Features = []


class CsvRequest(_Strict):
    """CSV text of 2-D points with labels (see :mod:`lingrad.playground.csvdata`).

    Examples:
        >>> CsvRequest(text="0,0,0").text
        '0,0,0'
    """

    text: Annotated[str, Field(max_length=LIMITS["max_csv_bytes"])]


def field_name(loc: tuple) -> str:
    """A pydantic error location as a path: ``("X", 3, 1)`` -> ``"X[3][1]"``.

    Examples:
        >>> field_name(("X", 3, 1))
        'X[3][1]'
    """
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "body"


def describe(error: ValidationError) -> tuple[str, str]:
    """``(field, message)`` for the first error, in the house template ``name: expected ...``.

    Examples:
        >>> from pydantic import ValidationError
        >>> try:
        ...     WeightsRequest(n_classes=9)
        ... except ValidationError as error:
        ...     describe(error)
        ('n_classes', 'n_classes: expected less than or equal to 6, got 9')
    """
    first = error.errors(include_url=False)[0]
    field, kind, ctx = field_name(first["loc"]), first["type"], first.get("ctx", {})
    value = first.get("input")
    got = repr(value)
    if kind == "json_invalid":
        return "body", f"body: expected a JSON object, got invalid JSON ({first['msg']})"
    if kind == "missing":
        return field, f"{field}: expected a value (the field is required), got nothing"
    if kind == "extra_forbidden":
        expected = "no such field (not part of this request)"
    elif kind in ("too_long", "too_short"):
        bound = "at most" if kind == "too_long" else "at least"
        limit = ctx.get("max_length" if kind == "too_long" else "min_length")
        expected, got = f"{bound} {limit} items", f"{len(value)} items"
    else:
        expected = first["msg"].removeprefix("Input should be ").removeprefix("Value error, ")
    got = got if len(got) <= 60 else got[:57] + "..."
    return field, f"{field}: expected {expected}, got {got}"
