"""The optimiser contract the trainer codes against, over today's ``lingrad.optim``.

Temporary: once ``lingrad.optim`` speaks the contract itself (``reads``, ``observe``,
``update(None, state, W, value_fn=..., rng=...)``, ``state_to_arrays``/``state_from_arrays``)
these become direct calls.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from lingrad._validation import fail


def check_reads(optimizer) -> str:
    """``"gradient"`` or ``"value"``: what ``optimizer.update`` reads."""
    for attr in ("init", "update", "rate"):
        if not callable(getattr(optimizer, attr, None)):
            fail(
                "optimizer",
                "an optimiser with init/update/rate (see lingrad.optim)",
                type(optimizer).__name__,
                TypeError,
            )
    reads = getattr(optimizer, "reads", getattr(optimizer, "uses", "gradient"))
    if reads not in ("gradient", "value"):
        fail("optimizer.reads", "'gradient' or 'value'", repr(reads))
    return reads


def search_update(optimizer, state, W, value_fn, rng):
    """One step of a search optimiser: ``(step, state)``."""
    return optimizer.update(value_fn, state, W, rng)


def _stateful_schedules(optimizer) -> list:
    if not dataclasses.is_dataclass(optimizer):
        return []
    values = (getattr(optimizer, f.name) for f in dataclasses.fields(optimizer))
    return [v for v in values if hasattr(v, "observe") and hasattr(v, "state_dict")]


def observe(optimizer, state, loss: float):
    """The optimiser state after seeing the epoch's watched loss (plateau reduction)."""
    for schedule in _stateful_schedules(optimizer):
        schedule.observe(loss)
    return state


def state_to_arrays(optimizer, state) -> tuple[dict[str, np.ndarray], dict]:
    """A named-tuple state as arrays and JSON scalars."""
    arrays, scalars = {}, {}
    for name, value in zip(state._fields, state, strict=True):
        if isinstance(value, np.ndarray):
            arrays[name] = value
        elif value is None or isinstance(value, int | float | bool):
            scalars[name] = value
        else:
            fail(f"optimizer state {name}", "arrays, numbers or None", type(value).__name__)
    saved = [s.state_dict() for s in _stateful_schedules(optimizer)]
    return arrays, {"fields": scalars, "schedules": saved}


def state_from_arrays(optimizer, template, arrays: dict, scalars: dict):
    """The inverse of :func:`state_to_arrays`."""
    for schedule, saved in zip(_stateful_schedules(optimizer), scalars["schedules"], strict=True):
        schedule.load_state_dict(saved)
    fields = scalars["fields"]
    values = [arrays[n] if n in arrays else fields[n] for n in template._fields]
    return type(template)(*values)
