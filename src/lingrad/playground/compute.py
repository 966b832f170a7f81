"""What the playground computes, with lingrad's own code: no HTTP, no JSON here.

* :func:`evaluate` reads an :class:`lingrad.Objective` at ``W``: the total
  ``J(W) = (1/N) sum_i L_i + lam R(W)``, its two parts, ``dJ/dW`` (shape ``(3, C)``), the
  scores ``S = X W[:-1] + W[-1]`` (``(N, C)``) and the per-point losses ``L_i`` (``(N,)``) from
  the loss's registry kernel :attr:`lingrad.losses.LossSpec.kernel`.
* :func:`run_steps` takes full-batch steps with an optimiser of :mod:`lingrad.optim`:
  ``step, state = opt.update(dJ/dW, state, W)``; ``W <- W + step``.

The HTTP layer (:mod:`lingrad.playground.app`) turns validated requests into these arrays and
back; the benchmark times these functions alone as the "bare lingrad" reference.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from lingrad import optim
from lingrad._validation import check_labels, check_weights, check_X, fail
from lingrad.model import scores_unchecked
from lingrad.objective import Objective
from lingrad.playground import schema
from lingrad.playground.features import expand, ordered

#: The input coordinates ``(x1, x2)``; feature maps add columns after them.
N_FEATURES = 2


def _rectangular(name: str, rows: list[list[float]]) -> np.ndarray:
    """A list of rows as a float64 matrix; ragged rows are refused by name."""
    lengths = sorted({len(row) for row in rows})
    if len(lengths) != 1:
        fail(name, "rows of equal length (a matrix)", f"row lengths {lengths}")
    return np.asarray(rows, dtype=np.float64)


def problem(request: schema.Problem) -> tuple[Objective, np.ndarray]:
    """The objective and ``W`` (float64, shape ``(D + 1, C)``) of a request, shapes checked;
    ``D = 2 + len(request.features)``: the objective sees ``expand(X, features)``.

    Raises ``ValueError`` naming the field when ``y`` does not have one label per point,
    ``W`` is not ``(D + 1, C)`` with ``2 <= C <= max_classes``, or a label is outside ``[0, C)``.

    Examples:
        >>> req = schema.Problem(X=[[0.0, 0.0], [1.0, 1.0]], y=[0, 1], W=[[1, 0], [0, 1], [0, 0]])
        >>> objective, W = problem(req)
        >>> W.shape, W.dtype, objective.loss_spec.name
        ((3, 2), dtype('float64'), 'hinge')
        >>> req = schema.Problem(X=[[1.0, 2.0]], y=[0], W=[[1, 0]] * 4, features=["x1*x2"])
        >>> problem(req)[0].X.tolist()
        [[1.0, 2.0, 2.0]]
    """
    names = ordered(request.features)
    X = check_X(request.X, "X", dtype=np.float64)
    W = check_weights(_rectangular("W", request.W), N_FEATURES + len(names))
    C = W.shape[1]
    if not 2 <= C <= schema.LIMITS["max_classes"]:
        fail("W", f"between 2 and {schema.LIMITS['max_classes']} columns (one per class)", C)
    y = check_labels(request.y, X.shape[0], C)
    objective = Objective(request.loss, expand(X, names), y, regularizer="l2", lam=request.lam)
    objective.targets(C)
    return objective, W


def test_objective(request: schema.Problem, C: int) -> Objective | None:
    """The objective on the held-out set ``(X_test, y_test)``, ``None`` when there is none.

    Raises ``ValueError`` naming ``y_test`` when it does not give one label in ``[0, C)`` per
    test point (or is missing while ``X_test`` is given).

    Examples:
        >>> req = schema.Problem(X=[[0.0, 0.0]], y=[0], W=[[1, 0], [0, 1], [0, 0]],
        ...                      X_test=[[1.0, 1.0]], y_test=[1])
        >>> test_objective(req, 2).X.tolist()
        [[1.0, 1.0]]
    """
    if not request.X_test:
        return None
    X = check_X(request.X_test, "X_test", dtype=np.float64)
    y = check_labels(request.y_test or [], X.shape[0], C, name="y_test")
    test = Objective(request.loss, expand(X, ordered(request.features)), y)
    test.targets(C)
    return test


def _data_loss(objective: Objective, W: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(per-point losses (N,), scores (N, C))`` of ``objective`` at ``W``."""
    S = scores_unchecked(W, objective.X)
    per_point, _ = objective.loss_spec.kernel(
        S, objective.targets(W.shape[1]), **objective.loss_params
    )
    return per_point, S


def evaluate(objective: Objective, W: np.ndarray, test: Objective | None = None) -> dict[str, Any]:
    """Everything the page shows for ``W``: losses, gradient, scores, per-point losses.

    Returns a dict of NumPy values: ``loss`` (``data_loss + reg_loss``), ``data_loss`` (mean of
    ``losses``), ``reg_loss`` (``lam R(W)``), ``grad`` ``(3, C)``, ``scores`` ``(N, C)``,
    ``losses`` ``(N,)`` and ``accuracy`` (fraction of points whose top score is their label);
    with a ``test`` objective also ``test_loss`` (its mean per-point loss, no penalty) and
    ``test_accuracy``.

    Examples:
        >>> req = schema.Problem(X=[[0.0, 0.0], [1.0, 1.0]], y=[0, 1], W=[[0, 0], [0, 0], [0, 0]])
        >>> out = evaluate(*problem(req))           # hinge at W = 0: every margin term is 1
        >>> float(out["loss"]), out["grad"].shape, out["losses"].tolist()
        (1.0, (3, 2), [1.0, 1.0])
    """
    total, grad = objective.value_and_grad_unchecked(W)
    per_point, S = _data_loss(objective, W)
    reg = objective.lam * objective.regularizer.value(W) if objective.lam else 0.0
    out = {
        "loss": total,
        "data_loss": float(per_point.mean()),
        "reg_loss": float(reg),
        "grad": grad,
        "scores": S,
        "losses": per_point,
        "accuracy": float(np.mean(np.argmax(S, axis=1) == objective.targets(W.shape[1]))),
    }
    if test is not None:
        test_losses, test_scores = _data_loss(test, W)
        out["test_loss"] = float(test_losses.mean())
        hits = np.argmax(test_scores, axis=1) == test.targets(W.shape[1])
        out["test_accuracy"] = float(np.mean(hits))
    return out


Optimizer = optim.SGD | optim.Adam | optim.RandomSearch | optim.RandomLocalSearch
State = optim.SGDState | optim.AdamState | optim.SearchState


def make_optimizer(spec: schema.Optimizer) -> Optimizer:
    """The :mod:`lingrad.optim` optimiser a request names (a search's scale or step size is
    ``learning_rate``).

    Examples:
        >>> type(make_optimizer(schema.Optimizer(name="adam", learning_rate=0.05))).__name__
        'Adam'
        >>> make_optimizer(schema.Optimizer(name="random_local_search", learning_rate=0.2))
        RandomLocalSearch(step_size=0.2, n_candidates=1)
    """
    if spec.name == "random_search":
        return optim.RandomSearch(scale=spec.learning_rate)
    if spec.name == "random_local_search":
        return optim.RandomLocalSearch(step_size=spec.learning_rate)
    if spec.name == "adam":
        return optim.Adam(spec.learning_rate, beta1=spec.beta1, beta2=spec.beta2)
    momentum = spec.momentum if spec.name == "momentum" else 0.0
    return optim.SGD(spec.learning_rate, momentum=momentum)


def _state_array(name: str, value: list[list[float]] | None, W: np.ndarray) -> np.ndarray:
    if value is None:
        fail(name, f"an array of shape {W.shape} (the shape of W)", "nothing")
    arr = _rectangular(name, value)
    if arr.shape != W.shape:
        fail(name, f"an array of shape {W.shape} (the shape of W)", f"shape {arr.shape}")
    return arr


def optimizer_state(spec: schema.Optimizer, opt: Optimizer, W: np.ndarray) -> State:
    """The optimiser state a request carries (``opt.init(W)`` when it carries none).

    Examples:
        >>> spec = schema.Optimizer(name="momentum")
        >>> opt = make_optimizer(spec)
        >>> optimizer_state(spec, opt, np.zeros((3, 2)))
        SGDState(count=0, velocity=array([[0., 0.],
               [0., 0.],
               [0., 0.]]), plateau=None)
    """
    state = spec.state
    if state is None:
        return opt.init(W)
    prefix = "optimizer.state."
    if spec.name in schema.SEARCHES:
        value = np.inf if state.value is None else state.value
        return optim.SearchState(state.count, state.evaluations, value)
    if spec.name == "adam":
        m = _state_array(prefix + "m", state.m, W)
        v = _state_array(prefix + "v", state.v, W)
        if v.min() < 0:
            fail(prefix + "v", "non-negative second moments", f"minimum {v.min()}")
        return optim.AdamState(state.count, m, v)
    if spec.name == "momentum":
        return optim.SGDState(state.count, _state_array(prefix + "velocity", state.velocity, W))
    return optim.SGDState(state.count, None)


def state_to_dict(state: State) -> dict[str, Any]:
    """An optimiser state as plain lists, ready to be sent back with the next step (a search's
    ``value`` of ``inf``, not evaluated yet, becomes ``None``).

    Examples:
        >>> opt = optim.SGD(0.1, momentum=0.9)
        >>> state_to_dict(opt.init(np.zeros((1, 2))))
        {'count': 0, 'velocity': [[0.0, 0.0]]}
        >>> state_to_dict(optim.RandomSearch().init(np.zeros(1)))
        {'count': 0, 'evaluations': 0, 'value': None}
    """
    out = {
        key: (value.tolist() if isinstance(value, np.ndarray) else value)
        for key, value in state._asdict().items()
        if key != "plateau"  # the playground's rates are constant: no plateau state
    }
    if "value" in out and not np.isfinite(out["value"]):
        out["value"] = None
    return out


def evaluations(state: State, steps: int) -> int:
    """J evaluations spent so far: a search counts its own; a gradient step is one evaluation
    of J and dJ/dW together (``steps`` = the state's step count).

    Examples:
        >>> evaluations(optim.SGD(0.1).init(np.zeros(1)), 7)
        7
    """
    return state.evaluations if isinstance(state, optim.SearchState) else steps


def _one_step(
    objective: Objective,
    W: np.ndarray,
    opt: Optimizer,
    state: State,
    batch: int | None,
    rng: np.random.Generator,
) -> tuple[float, np.ndarray, State]:
    """``(J(W) on the step's examples, step, next state)``: a search reads full-batch values;
    a gradient method the gradient on ``batch`` examples drawn without replacement (all when
    ``None``)."""
    if isinstance(state, optim.SearchState):

        def value(V: np.ndarray) -> float:
            return objective.value_and_grad_unchecked(V, need_grad=False)[0]

        now = state.value if np.isfinite(state.value) else value(W)
        step, state = opt.update(None, state, W, value_fn=value, rng=rng)
        return now, step, state
    N = objective.n_samples
    rows = None if batch is None or batch >= N else np.sort(rng.choice(N, batch, replace=False))
    J, grad = objective.value_and_grad_unchecked(W, rows)
    step, state = opt.update(grad, state, W)  # type: ignore[arg-type]
    return J, step, state


def run_steps(
    objective: Objective,
    W: np.ndarray,
    opt: Optimizer,
    state: State,
    steps: int,
    *,
    stop_on_divergence: bool = False,
    batch_size: int | None = None,
    rng: np.random.Generator | None = None,
) -> tuple[np.ndarray, Any, NDArray[np.float64]]:
    """``steps`` steps; returns ``(W, state, history)`` with ``history[t] = J(W_t)`` (on step
    t's mini-batch when ``batch_size`` is given; full batch otherwise and for searches, which
    draw from ``rng``, as do mini-batches; default ``default_rng(0)``).

    A step that takes ``W`` out of the finite range ``|W| <= max_abs_value`` diverged: it raises
    ``ValueError`` (naming ``optimizer.learning_rate``), or with ``stop_on_divergence`` ends the
    run there, returning the last finite ``W_t``, its state and ``history[:t]`` (so
    ``len(history) < steps`` tells that it stopped).

    Examples:
        >>> req = schema.Problem(X=[[0.0, 0.0], [1.0, 1.0]], y=[0, 1], W=[[0, 0], [0, 0], [0, 0]])
        >>> objective, W = problem(req)
        >>> opt = optim.SGD(0.5)
        >>> W, state, history = run_steps(objective, W, opt, opt.init(W), 3)
        >>> [round(float(v), 3) for v in history], state.count
        ([1.0, 0.5, 0.5], 3)
        >>> W, state, history = run_steps(objective, W, optim.SGD(1e9), state, 5,
        ...                               stop_on_divergence=True)
        >>> len(history), state.count     # the first step diverged: nothing taken
        (0, 3)
    """
    rng = np.random.default_rng(0) if rng is None else rng
    history = np.empty(steps)
    for t in range(steps):
        history[t], step, new_state = _one_step(objective, W, opt, state, batch_size, rng)
        new_W = W + step
        if not np.isfinite(new_W).all() or np.abs(new_W).max() > schema.LIMITS["max_abs_value"]:
            if stop_on_divergence:
                return W, state, history[:t]
            fail(
                "optimizer.learning_rate",
                "a rate small enough to keep W finite (lower it)",
                f"W diverged after {t + 1} step(s)",
            )
        W, state = new_W, new_state
    return W, state, history
