"""Convergence diagnostics of a finished run: still falling, oscillating, flat, diverged."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any

from lingrad.train.state import Stop, StopReason


def diagnose(
    history: Mapping[str, Sequence[float | None]], stop: Stop | None = None, *, window: int = 5
) -> dict[str, Any]:
    """Convergence diagnostics from a per-epoch history and why a run stopped (a :class:`Stop`).

    * ``still_falling``: the training loss fell by more than 0.5 % over the last ``window``
      epochs: more epochs (or a larger learning rate) would help;
    * ``oscillating``: the loss rose in at least a quarter of the epochs: the learning rate is
      probably too high (lower it, or use a decaying schedule);
    * ``flat``: the loss fell by less than 1 % over the whole run: the learning rate is
      probably too low (or the model is already at a minimum);
    * ``diverged``: the run stopped on the divergence guard.

    Returns a JSON-ready dict with those booleans, the relative drops and ``advice``, a list of
    sentences.

    Examples:
        >>> d = diagnose({"loss": [2.3, 1.0, 0.9, 0.8, 0.7, 0.6, 0.5]})
        >>> advice = d["advice"]
        >>> d["still_falling"], d["oscillating"], advice[0].startswith("the loss is still falling")
        (True, False, True)
    """
    loss = [v for v in history.get("loss", []) if v is not None and math.isfinite(v)]
    diverged = stop is not None and stop.reason is StopReason.DIVERGED
    out: dict[str, Any] = {
        "epochs": len(loss),
        "diverged": diverged,
        "still_falling": False,
        "oscillating": False,
        "flat": False,
        "total_drop": math.nan,
        "recent_drop": math.nan,
        "advice": [],
    }
    if diverged:
        out["advice"].append(
            "the run diverged: lower the learning rate, or standardise the features"
        )
    if len(loss) < 2:
        return out
    first, last = loss[0], loss[-1]
    k = min(window, len(loss) - 1)
    ref = loss[-1 - k]
    out["total_drop"] = (first - last) / max(abs(first), 1e-12)
    out["recent_drop"] = (ref - last) / max(abs(ref), 1e-12)
    rises = sum(b > a * (1 + 1e-9) for a, b in itertools.pairwise(loss))
    out["oscillating"] = rises >= max(1, (len(loss) - 1) / 4)
    out["still_falling"] = out["recent_drop"] > 5e-3 and not out["oscillating"]
    out["flat"] = out["total_drop"] < 1e-2 and not diverged
    if out["still_falling"]:
        out["advice"].append(
            "the loss is still falling at the end: train for more epochs "
            "(or raise the learning rate)"
        )
    if out["oscillating"]:
        out["advice"].append(
            "the loss goes up and down between epochs: the learning rate is probably too high "
            "(lower it or use a decaying schedule)"
        )
    if out["flat"]:
        out["advice"].append(
            "the loss barely moved: the learning rate is probably too low "
            "(or the weights started at a minimum)"
        )
    if not out["advice"]:
        out["advice"].append("converged: the loss has levelled off")
    return out
