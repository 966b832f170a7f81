"""Two-dimensional toy datasets for pictures and the playground.

``make(name, n_per_class, n_classes, rng=rng)`` returns ``(X, y)`` with ``X`` of shape
``(n_classes * n_per_class, 2)`` (float64, points roughly inside the square ``[-3, 3]^2``) and
``y`` integer labels in ``[0, n_classes)`` of shape ``(N,)``, ordered class by class
(``n_per_class`` rows of class 0, then class 1, ...). Every set is balanced.

* ``blobs``: Gaussian clouds ``N(mu_k, noise^2 I)`` around centres on the circle of radius 2,
  ``mu_k = 2 (cos a_k, sin a_k)`` with ``a_k = pi/2 + 2 pi k / C``: linearly separable
  for a small ``noise``, the lecture's "three classes in the plane".
* ``spiral``: ``C`` interleaved arms (the CS231n spiral): for ``r`` from 0 to 3 along arm
  ``k``, angle ``t = 4k + 4 r / 3 + noise * N(0, 1)``, point ``r (sin t, cos t)``. Not
  linearly separable: where a linear classifier stops being enough.
* ``xor``: two classes (``n_classes`` must be 2) in opposite quadrants, class 0 where
  ``x1 x2 > 0``, class 1 where ``x1 x2 < 0``; coordinates ``|x_d|`` uniform in ``[0.3, 3]``
  plus ``noise * N(0, 1)``. No line separates them.
* ``random``: points drawn independently and uniformly in ``[-3, 3]^2``, ``n_per_class`` per
  label: the labels carry no structure at all, the loss cannot go to zero.

Same ``rng`` seed, same data, bit for bit.
"""

from __future__ import annotations

import numpy as np

from lingrad._validation import check_choice, check_int, check_positive, fail

#: The names :func:`make` accepts.
NAMES: tuple[str, ...] = ("blobs", "spiral", "xor", "random")

#: Half the side of the square ``[-EXTENT, EXTENT]^2`` the points mostly fall into.
EXTENT = 3.0

_DEFAULT_NOISE = {"blobs": 0.6, "spiral": 0.2, "xor": 0.1, "random": 0.0}


def _blobs(n: int, C: int, noise: float, rng: np.random.Generator) -> np.ndarray:
    angles = np.pi / 2 + 2 * np.pi * np.arange(C) / C
    centres = 2.0 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return (centres[:, None, :] + noise * rng.standard_normal((C, n, 2))).reshape(-1, 2)


def _spiral(n: int, C: int, noise: float, rng: np.random.Generator) -> np.ndarray:
    r = np.linspace(0.0, EXTENT, n)
    t = 4.0 * np.arange(C)[:, None] + (4.0 / EXTENT) * r + noise * rng.standard_normal((C, n))
    return np.stack([r * np.sin(t), r * np.cos(t)], axis=-1).reshape(-1, 2)


def _xor(n: int, C: int, noise: float, rng: np.random.Generator) -> np.ndarray:
    if C != 2:
        fail("n_classes", "2 for the xor dataset", C)
    magnitude = rng.uniform(0.3, EXTENT, size=(C, n, 2))
    sign = rng.choice([-1.0, 1.0], size=(C, n, 1))
    # class 0: both coordinates share a sign (x1 x2 > 0); class 1: opposite signs.
    signs = np.concatenate([sign, sign * np.array([1.0, -1.0])[:, None, None]], axis=2)
    X = magnitude * signs
    return (X + noise * rng.standard_normal(X.shape)).reshape(-1, 2)


def _random(n: int, C: int, noise: float, rng: np.random.Generator) -> np.ndarray:
    X = rng.uniform(-EXTENT, EXTENT, size=(C * n, 2))
    return X + noise * rng.standard_normal(X.shape)


_MAKERS = {"blobs": _blobs, "spiral": _spiral, "xor": _xor, "random": _random}


def make(
    name: str,
    n_per_class: int = 20,
    n_classes: int = 3,
    *,
    rng: np.random.Generator,
    noise: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """A 2-D toy classification set ``(X, y)``; see the module docstring for each ``name``.

    Args:
        name: one of :data:`NAMES`.
        n_per_class: points per class (>= 1).
        n_classes: number of classes ``C`` (>= 2; exactly 2 for ``xor``).
        rng: the random generator (same seed, same data).
        noise: the spread (standard deviation of the Gaussian jitter); ``None`` picks the
            dataset's default (blobs 0.6, spiral 0.2, xor 0.1, random 0).

    Returns:
        ``X`` of shape ``(n_classes * n_per_class, 2)`` float64 and ``y`` of shape ``(N,)``
        integer labels, class by class.

    Examples:
        >>> X, y = make("blobs", 5, 3, rng=np.random.default_rng(0))
        >>> X.shape, y.tolist()
        ((15, 2), [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2])
    """
    if not isinstance(name, str):
        fail("name", f"one of {list(NAMES)}", type(name).__name__, TypeError)
    check_choice("name", name, NAMES)
    n_per_class = check_int("n_per_class", n_per_class, minimum=1)
    n_classes = check_int("n_classes", n_classes, minimum=2)
    if not isinstance(rng, np.random.Generator):
        fail("rng", "a numpy.random.Generator", type(rng).__name__, TypeError)
    noise = (
        _DEFAULT_NOISE[name] if noise is None else check_positive("noise", noise, allow_zero=True)
    )
    X = _MAKERS[name](n_per_class, n_classes, noise, rng)
    y = np.repeat(np.arange(n_classes, dtype=np.intp), n_per_class)
    return X.astype(np.float64, copy=False), y
