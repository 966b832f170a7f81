"""What every gradient method shares: its checked entry point, the rows one evaluation uses,
and the per-loss forms a method registers by loss name.

A gradient method is ``objective -> ((W, rows=None) -> (J(W), dJ/dW))``. :func:`checked` builds
that function from the method's unchecked computation ``(W, rows) -> (J, dW)``, so each method
writes only what makes it different. A method that needs its own form of each loss (an autodiff
graph, a SymPy expression) keeps them in a :class:`Forms` registry beside its code; asking for a
form it lacks raises an error that names the loss and the method, when the method is asked for
it, never at import.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from lingrad import losses
from lingrad._validation import fail
from lingrad.objective import Objective, ObjectiveProtocol, Rows

#: What a gradient method returns: ``(W, rows=None) -> (J(W), dJ/dW)``, ``dJ/dW`` like ``W``.
ValueAndGrad = Callable[..., tuple[float, npt.NDArray[np.floating]]]
#: A gradient method: ``objective -> ((W, rows=None) -> (J(W), dJ/dW))``.
GradientMethod = Callable[[Objective], ValueAndGrad]
_Form = TypeVar("_Form", bound=Callable[..., Any])
#: The methods that take a sparse (CSR) X: the others build dense per-example graphs or
#: expressions, and refuse it by name.
SPARSE_METHODS = ("analytic", "numerical")
#: The methods that take a dense X of another array library (PyTorch, CuPy, ...): the others
#: build their graphs or expressions on NumPy, and refuse it by name.
ARRAY_API_METHODS = ("analytic", "numerical")


def checked(
    method: str,
    objective: ObjectiveProtocol,
    compute: Callable[[npt.NDArray[np.floating], Rows], tuple[float, npt.NDArray[np.floating]]],
) -> ValueAndGrad:
    """The gradient method ``(W, rows=None) -> (J(W), dJ/dW)`` named ``method``.

    ``W`` (shape ``(D + 1, C)``) is checked once per call by ``objective.check_weights`` (which
    also validates the targets for ``C`` columns and casts ``W`` to X's dtype); then
    ``compute(W, rows)`` does the method's work on valid input. A method outside
    :data:`SPARSE_METHODS` refuses an objective over sparse X here, naming itself, and one
    outside :data:`ARRAY_API_METHODS` an objective over X of another array library
    (:func:`refuse_array_api`).

    Examples:
        >>> import numpy as np
        >>> from lingrad.objective import Objective
        >>> obj = Objective("svm", np.eye(2), np.array([0, 1]))
        >>> f = checked("analytic", obj, obj.value_and_grad_unchecked)
        >>> f.__name__, f(np.zeros((3, 2)))[0]
        ('analytic', 1.0)
    """

    refuse_sparse(method, objective)
    refuse_array_api(method, objective)

    def gradient(W: npt.ArrayLike, rows: Rows = None) -> tuple[float, npt.NDArray[np.floating]]:
        return compute(objective.check_weights(W), rows)

    gradient.__name__ = gradient.__qualname__ = method
    return gradient


def refuse_sparse(method: str, objective: Any) -> None:
    """Refuse, naming ``method``, an objective over sparse X for a method outside
    :data:`SPARSE_METHODS` (before any work on it).

    Examples:
        >>> import scipy.sparse as sp
        >>> J = Objective("softmax", sp.csr_array(np.eye(2)), [0, 1])
        >>> refuse_sparse("analytic", J)   # takes it
        >>> refuse_sparse("autodiff", J)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
            ...
        ValueError: gradient: expected one of ['analytic', 'numerical'] for sparse X (the ...
    """
    if getattr(objective, "sparse", False) and method not in SPARSE_METHODS:
        fail(
            "gradient",
            f"one of {list(SPARSE_METHODS)} for sparse X (the {method} method works on dense "
            "arrays only)",
            repr(method),
        )


def refuse_array_api(method: str, objective: Any) -> None:
    """Refuse, with a ``TypeError`` naming ``method`` and X's library, an objective over X of
    another array library than NumPy for a method outside :data:`ARRAY_API_METHODS`.

    Examples:
        >>> import array_api_strict as xs
        >>> J = Objective("softmax", xs.eye(2), [0, 1])
        >>> refuse_array_api("numerical", J)   # takes it
        >>> refuse_array_api("autodiff", J)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
            ...
        TypeError: gradient: expected one of ['analytic', 'numerical'] for X of array_api_strict...
    """
    xp = getattr(objective, "xp", np)
    if xp is not np and method not in ARRAY_API_METHODS:
        X = objective.X
        library = f"{type(X).__module__.split('.')[0]}.{type(X).__name__}"
        fail(
            "gradient",
            f"one of {list(ARRAY_API_METHODS)} for X of {library} (the {method} method works on "
            "NumPy arrays only: convert X to NumPy for it)",
            repr(method),
            TypeError,
        )


def batch(
    objective: Objective, n_columns: int, rows: Rows = None
) -> tuple[npt.NDArray[np.floating], npt.NDArray[Any], npt.NDArray[np.floating] | None]:
    """``(X, T, sample_weight)`` restricted to ``rows`` (a slice or index array; all if None).

    ``T`` are the validated targets for ``n_columns`` score columns; ``sample_weight`` may be
    ``None``. Assumes ``objective.check_weights`` has already run (the targets are cached).

    Examples:
        >>> import numpy as np
        >>> from lingrad.objective import Objective
        >>> obj = Objective("svm", np.eye(3), np.array([0, 1, 2]))
        >>> _ = obj.value(np.zeros((4, 3)))          # validates and caches the targets
        >>> X, T, w = batch(obj, 3, rows=slice(0, 2))
        >>> X.shape, T.tolist(), w
        ((2, 3), [0, 1], None)
    """
    X = objective.X if rows is None else objective.X[rows]
    T = objective.targets(n_columns)
    w = objective.sample_weight
    if rows is not None:
        T = T[rows]
        w = None if w is None else w[rows]
    return X, T, w


class Forms:
    """One gradient method's forms of the losses, by registry name of :mod:`lingrad.losses`.

    A form is whatever the method needs to write one loss its own way; :meth:`register` adds
    one (a decorator), :meth:`get` finds it by loss name or alias.

    Examples:
        >>> forms = Forms("example")
        >>> @forms.register("hinge")
        ... def hinge_form():
        ...     return "hinge, written the example's way"
        >>> forms.get("svm") is hinge_form, "hinge" in forms, forms.names()
        (True, True, ('hinge',))
        >>> forms.get("logistic")
        Traceback (most recent call last):
            ...
        ValueError: gradient 'example': expected a loss it has a form for (one of ['hinge']), \
got loss 'logistic'
    """

    def __init__(self, method: str) -> None:
        self.method = method
        self._forms: dict[str, Callable[..., Any]] = {}

    def register(self, loss: str) -> Callable[[_Form], _Form]:
        """A decorator that registers its function as the form of ``loss`` (a registry name)."""
        name = losses.canonical_name(loss)

        def add(form: _Form) -> _Form:
            self._forms[name] = form
            return form

        return add

    def __contains__(self, loss: str) -> bool:
        return losses.canonical_name(loss) in self._forms

    def names(self) -> tuple[str, ...]:
        """The registry names of the losses that have a form, in registration order."""
        return tuple(self._forms)

    def get(self, loss: str) -> Callable[..., Any]:
        """The form of ``loss`` (a name or alias); a ``ValueError`` naming the loss and the
        method if there is none."""
        name = losses.canonical_name(loss)
        if name not in self._forms:
            fail(
                f"gradient {self.method!r}",
                f"a loss it has a form for (one of {sorted(self._forms)})",
                f"loss {name!r}",
            )
        return self._forms[name]


__all__ = ["Forms", "GradientMethod", "ValueAndGrad", "batch", "checked"]
