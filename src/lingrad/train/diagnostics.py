"""Convergence diagnostics of a finished run: still falling, oscillating, flat, diverged, and
how the final loss compares with the chance loss (the loss of ``W = 0``).

The advice never contradicts itself: the learning rate is told to go one way only. Lowering
wins when the run diverged, the loss oscillated or it ended above the chance loss (the steps
overshoot: ``W = 0`` would do better); raising is suggested only when none of those holds.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from lingrad import losses
from lingrad._array_api import numpy_dtype, to_numpy
from lingrad.train.state import Stop, StopReason

if TYPE_CHECKING:
    from lingrad.objective import Objective

#: A final loss above ``NEAR_CHANCE`` times the chance loss is "barely better than chance":
#: never called converged (random search on digits ends at 2.15 against ln 10 = 2.30).
NEAR_CHANCE = 0.9
#: A final loss above ``ABOVE_CHANCE`` times the chance loss is clearly worse than ``W = 0``:
#: the steps overshoot (small random initial weights start a hair above the chance loss).
ABOVE_CHANCE = 1.01


def chance_loss(objective: Objective, n_columns: int) -> float:
    """The loss of ``W = 0`` (all scores 0), ``J(0)`` of shape ``(D + 1, n_columns)``: ``ln K``
    for softmax on ``K`` classes, ``ln 2`` for logistic, 1 for the hinge losses; what a model
    that learned nothing scores.

    Examples:
        >>> from lingrad.objective import Objective
        >>> J = Objective("softmax", np.eye(3), [0, 1, 2], lam=0.5)
        >>> round(chance_loss(J, 3), 6) == round(math.log(3), 6)
        True
    """
    # all scores 0 whatever X: the loss kernel on zero scores, no pass over X (and R(0) = 0)
    # (on the host for any array library: the targets and weights, once per fit)
    T = to_numpy(objective.targets(n_columns))
    w = None if objective.sample_weight is None else to_numpy(objective.sample_weight)
    dtype = numpy_dtype(objective.dtype)
    if T.ndim == 1 and T.dtype.kind in "iu":  # labels: one kernel row per label, weighted
        K = int(T.max()) + 1
        per_label = objective.loss_spec.kernel(
            np.zeros((K, n_columns), dtype=dtype), np.arange(K), **objective.loss_params
        )[0]
        counts = np.bincount(T, weights=w, minlength=K)
        return float(per_label @ counts / counts.sum())
    S = np.zeros((objective.n_samples, n_columns), dtype=dtype)
    per_example, dS = objective.loss_spec.kernel(S, T, **objective.loss_params)
    return losses.weighted_mean(per_example, dS, w)[0]


def _divergence_advice(standardized: bool | None) -> str:
    if standardized:
        return "the run diverged: lower the learning rate (the features are already standardised)"
    if standardized is None:
        return (
            "the run diverged: lower the learning rate (and standardise the features if they "
            "are not)"
        )
    return "the run diverged: lower the learning rate, or standardise the features"


def _chance_advice(last: float, chance: float) -> str:
    if last > ABOVE_CHANCE * chance:
        return (
            f"the final loss {last:.4g} is above the chance loss {chance:.4g} (the loss of "
            "W = 0): the steps overshoot: lower the learning rate"
        )
    return (
        f"the final loss {last:.4g} is at or barely below the chance loss {chance:.4g} (the "
        "loss of W = 0): the model has learned little; not converged"
    )


def _shape(loss: list[float], window: int, diverged: bool) -> dict[str, Any]:
    """The relative drops and the still-falling / oscillating / flat flags of ``loss``."""
    first, last = loss[0], loss[-1]
    k = min(window, len(loss) - 1)
    ref = loss[-1 - k]
    total = (first - last) / max(abs(first), 1e-12)
    recent = (ref - last) / max(abs(ref), 1e-12)
    rises = sum(b > a * (1 + 1e-9) for a, b in itertools.pairwise(loss))
    oscillating = rises >= max(1, (len(loss) - 1) / 4)
    return {
        "total_drop": total,
        "recent_drop": recent,
        "oscillating": oscillating,
        "still_falling": recent > 5e-3 and not oscillating,
        "flat": total < 1e-2 and not diverged,
    }


def _search_advice(out: dict[str, Any], stop: Stop | None) -> dict[str, Any]:
    """:func:`diagnose`'s advice for a search (no learning rate: a budget and a step size)."""
    advice: list[str] = out["advice"]
    budget = stop is not None and stop.reason is StopReason.BUDGET
    if out["still_falling"] or (budget and not out["flat"]):
        where = "the evaluation budget ran out" if budget else "the search ended"
        more = "raise max_evaluations" if budget else "search for more epochs"
        advice.append(f"{where} while the loss was still falling: {more}")
    if out["near_chance"]:
        advice.append(
            "a search rarely finds a better W in D x C dimensions: a gradient method "
            "(sgd, lbfgs) reaches far lower losses"
        )
    elif out["flat"]:
        advice.append("the best loss barely moved: the step size is probably too small or large")
    if not advice:
        out["converged"] = True
        advice.append("converged: the best loss has levelled off")
    return out


def diagnose(
    history: Mapping[str, Sequence[float | None]],
    stop: Stop | None = None,
    *,
    window: int = 5,
    chance_loss: float | None = None,
    standardized: bool | None = None,
    search: bool = False,
) -> dict[str, Any]:
    """Convergence diagnostics from a per-epoch history and why a run stopped (a :class:`Stop`).

    * ``still_falling``: the training loss fell by more than 0.5 % over the last ``window``
      epochs: more epochs would help;
    * ``oscillating``: the loss rose in at least a quarter of the epochs: the learning rate is
      probably too high (lower it, or use a decaying schedule);
    * ``flat``: the loss fell by less than 1 % over the whole run: the learning rate is
      probably too low (or the model is already at a minimum);
    * ``diverged``: the run stopped on the divergence guard;
    * ``above_chance`` / ``near_chance`` (``None`` without ``chance_loss``, the loss of
      ``W = 0``, see :func:`chance_loss`): the final loss ``L > ABOVE_CHANCE * chance_loss``
      (worse than ``W = 0``: lower the learning rate), or ``L >= NEAR_CHANCE * chance_loss``
      (barely better than a model that learned nothing);
    * ``converged``: none of the above: the loss levelled off below chance; or the run
      stopped on its solver's convergence test (``StopReason.CONVERGED``), whose message is
      then the advice (no learning-rate advice for a solver, which has none).

    ``standardized`` (``None``: unknown) says whether the features are standardised, so that a
    diverged run is not told to standardise what already is. ``search``: the run was a search
    (random, local, genetic), which has a step size and an evaluation budget, not a learning
    rate: a run its budget stopped is told to raise the budget, a still-falling one to search
    longer, and one stuck near chance that a gradient method does better (in ``D x C``
    dimensions a random guess rarely improves on the best so far). The advice never tells the
    learning rate to go both ways (see the module).

    Returns a JSON-ready dict with those booleans, the relative drops, ``chance_loss`` and
    ``advice``, a list of sentences.

    Examples:
        >>> d = diagnose({"loss": [2.3, 1.0, 0.9, 0.8, 0.7, 0.6, 0.5]})
        >>> advice = d["advice"]
        >>> d["still_falling"], d["oscillating"], advice[0].startswith("the loss is still falling")
        (True, False, True)
        >>> d = diagnose({"loss": [86.6, 70.1, 60.3, 52.2, 45.7]}, chance_loss=math.log(10))
        >>> d["above_chance"], d["converged"], any("raise" in a for a in d["advice"])
        (True, False, False)
        >>> budget = Stop(StopReason.BUDGET, "400 of 400 evaluations")
        >>> diagnose({"loss": [2.3, 2.2, 2.15]}, budget, search=True)["advice"][0]
        'the evaluation budget ran out while the loss was still falling: raise max_evaluations'
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
        "chance_loss": chance_loss,
        "above_chance": None,
        "near_chance": None,
        "converged": False,
        "advice": [],
    }
    advice: list[str] = out["advice"]
    if diverged:
        advice.append(_divergence_advice(standardized))
    if not loss:
        return out
    if chance_loss is not None:
        out["above_chance"] = loss[-1] > ABOVE_CHANCE * chance_loss
        out["near_chance"] = loss[-1] >= NEAR_CHANCE * chance_loss
        if out["near_chance"]:
            advice.append(_chance_advice(loss[-1], chance_loss))
    if stop is not None and stop.reason is StopReason.CONVERGED:
        # a solver's own convergence test (or tol) ended the run: the curve's shape says
        # nothing about a learning rate it does not have
        if not out["near_chance"]:
            out["converged"] = True
            advice.append(f"converged: {stop.message.removeprefix('converged: ')}")
        return out
    if len(loss) < 2:
        return out
    out.update(_shape(loss, window, diverged))
    if search:
        return _search_advice(out, stop)
    lower = diverged or out["oscillating"] or bool(out["above_chance"])
    if out["still_falling"]:
        more = "train for more epochs" + ("" if lower else " (or raise the learning rate)")
        advice.append(f"the loss is still falling at the end: {more}")
    if out["oscillating"]:
        advice.append(
            "the loss goes up and down between epochs: the learning rate is probably too high "
            "(lower it or use a decaying schedule)"
        )
    if out["flat"] and not lower:
        advice.append(
            "the loss barely moved: the learning rate is probably too low "
            "(or the weights started at a minimum)"
        )
    if not advice:
        out["converged"] = True
        advice.append("converged: the loss has levelled off")
    return out
