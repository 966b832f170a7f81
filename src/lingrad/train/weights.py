"""Example weights from class weights: scikit-learn's ``"balanced"`` rule, in one place.

The in-memory trainer, the estimators and the Dask path all call :func:`class_weights`
(with class counts from ``np.bincount`` or, on a cluster, ``da.bincount``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from lingrad._array_api import to_numpy
from lingrad._validation import check_positive, fail
from lingrad.losses import check_sample_weight
from lingrad.objective import Objective
from lingrad.train.evaluation import labels_of


def balanced_class_weights(counts: ArrayLike) -> NDArray[np.float64]:
    """``N / (K * count_k)`` per class ``(K,)`` from the class counts ``(K,)``, where ``N`` is
    the number of examples and ``K`` the number of classes present (scikit-learn's
    ``compute_class_weight("balanced")``); 0 for a class without examples.

    Examples:
        >>> balanced_class_weights([3, 1]).tolist()
        [0.6666666666666666, 2.0]
        >>> balanced_class_weights([2, 0, 2]).tolist()
        [1.0, 0.0, 1.0]
    """
    counts = np.asarray(counts)
    present = int(np.count_nonzero(counts))
    return np.where(counts > 0, counts.sum() / (present * np.maximum(counts, 1)), 0.0)


def class_weights(
    class_weight: str | Mapping[int, float], counts: Sequence[int] | NDArray[np.integer]
) -> NDArray[np.float64]:
    """Per-class weights ``(K,)`` from ``"balanced"`` (see :func:`balanced_class_weights`) or
    a dict ``{class index: weight}`` (1 for the classes it leaves out); ``counts`` ``(K,)``.

    Examples:
        >>> class_weights({1: 0.5}, [3, 1]).tolist()
        [1.0, 0.5]
        >>> class_weights("balanced", [3, 1]).tolist()
        [0.6666666666666666, 2.0]
    """
    K = len(counts)
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            fail("class_weight", "'balanced' or a dict {label: weight}", repr(class_weight))
        return balanced_class_weights(counts)
    if not isinstance(class_weight, dict):
        fail("class_weight", "'balanced' or a dict {label: weight}", type(class_weight).__name__)
    weights = np.ones(K)
    for label, w in class_weight.items():
        if not isinstance(label, int | np.integer) or not 0 <= label < K:
            fail("class_weight", f"labels in [0, {K})", repr(label))
        weights[label] = check_positive(f"class_weight[{label}]", w, allow_zero=True)
    return weights


def by_index(class_weight: str | Mapping[Any, float], classes: ArrayLike) -> dict[int, float] | str:
    """``class_weight`` keyed by the index of each label in ``classes`` (sorted labels),
    ``"balanced"`` unchanged; a label not among the classes is an error.

    Examples:
        >>> by_index({"dog": 2.0}, np.array(["cat", "dog"]))
        {1: 2.0}
    """
    if isinstance(class_weight, str):
        return class_weight
    classes = np.asarray(classes)
    out: dict[int, float] = {}
    for label, w in class_weight.items():
        where = np.flatnonzero(classes == label)
        if where.size != 1:
            fail("class_weight", f"labels among {classes.tolist()}", repr(label))
        out[int(where[0])] = w
    return out


def weighted_objective(
    objective: Objective,
    n_columns: int,
    class_weight: str | Mapping[int, float] | None,
    sample_weight: ArrayLike | None,
) -> Objective:
    """``objective`` with ``sample_weight * class_weight[y]`` times its own example weights
    (the objective itself when both are ``None``).

    Examples:
        >>> from lingrad.objective import Objective
        >>> J = Objective("softmax", np.eye(4), [0, 0, 0, 1])
        >>> weighted_objective(J, 2, "balanced", None).sample_weight.tolist()
        [0.6666666666666666, 0.6666666666666666, 0.6666666666666666, 2.0]
    """
    if class_weight is None and sample_weight is None:
        return objective
    N = objective.n_samples
    w = np.ones(N) if objective.sample_weight is None else to_numpy(objective.sample_weight)
    if sample_weight is not None:
        w = w * check_sample_weight(sample_weight, N)
    if class_weight is not None:
        if objective.loss_spec.task != "classification":
            fail("class_weight", "a classification loss", objective.loss_spec.name)
        labels = labels_of(objective, n_columns)
        if labels is None:
            fail("class_weight", "integer class labels", "probability targets")
        counts = np.bincount(labels, minlength=max(n_columns, 2))
        w = w * class_weights(class_weight, counts)[labels]
    return Objective(
        objective.loss_spec.name,
        objective.X,
        objective.y,
        regularizer=objective.regularizer,
        lam=objective.lam,
        sample_weight=w,
        block_rows=objective.block_rows,
        fit_intercept=objective.fit_intercept,
        check_input=False,  # X was checked when ``objective`` was built (dense or CSR)
        **objective.loss_params,
    )
