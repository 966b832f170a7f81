"""The visual viewpoint: one template per class, the class's weights as an image."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from lingrad._validation import as_float_array, fail
from lingrad.plots.figures import (
    ClassNames,
    Model,
    as_weights,
    fixed_figure,
    resolve_class_names,
)


def _check_image_shape(image_shape, n_features: int) -> tuple[int, ...]:
    if image_shape is None or isinstance(image_shape, str):
        fail("image_shape", "a tuple of 2 or 3 positive ints", repr(image_shape), TypeError)
    try:
        shape = tuple(int(s) for s in image_shape)
    except (TypeError, ValueError):
        fail("image_shape", "a tuple of 2 or 3 positive ints", repr(image_shape), TypeError)
    if len(shape) not in (2, 3) or min(shape) < 1:
        fail("image_shape", "(height, width) or an image with channels", repr(shape))
    if len(shape) == 3 and not ({shape[0], shape[-1]} & {1, 3, 4}):
        fail("image_shape", "1, 3 or 4 channels first or last", repr(shape))
    if math.prod(shape) != n_features:
        fail(
            "image_shape",
            f"{n_features} pixels in all, to match the model's {n_features} features",
            f"{shape} ({math.prod(shape)} pixels)",
        )
    return shape


def _channels_first(shape: tuple[int, ...]) -> bool:
    """Whether a 3-D image shape has its channels first: ``(3, H, W)`` rather than
    ``(H, W, 3)``; a trailing 1 or 3 means channels last, then a leading 1, 3 or 4 first."""
    return len(shape) == 3 and shape[-1] not in (1, 3) and shape[0] in (1, 3, 4)


def _to_display(images: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """(n, *shape) -> (n, H, W) or (n, H, W, 3): channels moved last, single channel dropped."""
    if _channels_first(shape):  # e.g. (3, 32, 32), CIFAR-10's row order
        images = np.moveaxis(images, 1, -1)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim == 4 and images.shape[-1] == 4:
        images = images[..., :3]
    return images


def _rescale(images: np.ndarray) -> np.ndarray:
    """Each image ``(v - min) / (max - min)`` into [0, 1] (a constant image becomes 0)."""
    flat = images.reshape(images.shape[0], -1).astype(np.float64)
    lo = flat.min(axis=1, keepdims=True)
    span = flat.max(axis=1, keepdims=True) - lo
    flat = (flat - lo) / np.where(span > 0, span, 1.0)
    return flat.reshape(images.shape)


def template_images(model: Model, image_shape: Sequence[int]) -> np.ndarray:
    """Each class's weights as an image in ``[0, 1]``: shape ``(C, H, W)`` or ``(C, H, W, 3)``.

    ``T_k = (w_k - min w_k) / (max w_k - min w_k)`` with ``w_k = W[:-1, k]`` reshaped to
    ``image_shape`` (channels-first shapes such as ``(3, 32, 32)`` are moved to the end).

    Examples:
        >>> W = np.vstack([np.arange(4.0).reshape(4, 1), [[9.0]]])     # D = 4 pixels, C = 1
        >>> template_images(W, (2, 2))[0]
        array([[0.        , 0.33333333],
               [0.66666667, 1.        ]])
    """
    return display_images(as_weights(model)[:-1].T, image_shape)


def pixel_templates(
    model: Model, image_shape: Sequence[int], std: ArrayLike | None = None
) -> np.ndarray:
    """Each class's weights in pixel space, signed, not rescaled: ``(C, H, W)`` or
    ``(C, H, W, 3)``.

    A model trained on standardised rows ``z = (x - mean) / std`` scores
    ``s_k = w_k . z + b_k = (w_k / std) . x + (b_k - (w_k / std) . mean)``: its template in
    pixel space is ``w_k / std`` (elementwise; ``mean`` moves only the bias). Without ``std``
    the template is ``w_k`` itself.

    Examples:
        >>> W = np.array([[2.0], [-1.0], [0.5], [4.0], [9.0]])     # D = 4 pixels, C = 1
        >>> pixel_templates(W, (2, 2), std=[2.0, 1.0, 0.5, 4.0])[0]
        array([[ 1., -1.],
               [ 1.,  1.]])
    """
    rows = as_weights(model)[:-1].T.astype(np.float64)  # (C, D)
    if std is not None:
        scale = as_float_array("std", std, ndim=1)
        if scale.shape != (rows.shape[1],) or not np.all(scale > 0):
            fail("std", f"{rows.shape[1]} positive standard deviations", f"shape {scale.shape}")
        rows = rows / scale
    shape = _check_image_shape(image_shape, rows.shape[1])
    return _to_display(rows.reshape((len(rows), *shape)), shape)


def display_images(rows: ArrayLike, image_shape: Sequence[int]) -> np.ndarray:
    """Rows ``(n, P)`` as images ready to show: each reshaped to ``image_shape``
    (``prod(image_shape) == P``), rescaled to ``[0, 1]`` on its own, channels moved last:
    shape ``(n, H, W)`` or ``(n, H, W, 3)``.

    Examples:
        >>> display_images(np.array([[0.0, 2.0, 4.0, 8.0]]), (2, 2))[0]
        array([[0.  , 0.25],
               [0.5 , 1.  ]])
    """
    rows = as_float_array("rows", rows, ndim=2)
    shape = _check_image_shape(image_shape, rows.shape[1])
    return _to_display(_rescale(rows.reshape((len(rows), *shape))), shape)


def _grid(n: int, max_cols: int = 5) -> tuple[int, int]:
    cols = min(n, max_cols)
    return math.ceil(n / cols), cols


def templates(
    model: Model,
    image_shape: Sequence[int],
    class_names: ClassNames = None,
    *,
    cmap: str = "gray",
    diverging: bool = False,
    std: ArrayLike | None = None,
) -> Figure:
    """The visual viewpoint: one panel per class showing its weight row as an image.

    Args:
        model: ``W`` ``(D + 1, C)`` or a fitted estimator (see :func:`as_weights`).
        image_shape: the shape a row of ``X`` reshapes to, ``prod(image_shape) == D``
            (``(8, 8)`` for digits, ``(32, 32, 3)`` or ``(3, 32, 32)`` for CIFAR-10).
        class_names: one title per class (default ``"0"``, ``"1"``...).
        cmap: the colour map of single-channel images (bright = largest weight).
        diverging: draw the signed weights with a colour map centred on 0 (``RdBu_r``: red
            raises the class score, blue lowers it, white is 0; each panel's limits are
            ``+-m_k``, ``m_k`` = :func:`signed_limit` ``(t_k)``, the 95th percentile of
            ``|t_k|``, beyond which colours saturate; colour images as
            ``clip(0.5 + t_k / (2 m_k), 0, 1)``) instead of rescaling each to ``[0, 1]``.
        std: the per-feature standard deviations ``(D,)`` the training rows were divided by;
            the templates are then drawn in pixel space, ``t_k = w_k / std``
            (:func:`pixel_templates`).

    Panel ``k`` shows :func:`template_images` ``[k]`` pixel for pixel (nearest interpolation)
    by default.

    Examples:
        >>> W = np.random.default_rng(0).normal(size=(65, 10))   # digits: 8 x 8 pixels, 10 classes
        >>> fig = templates(W, (8, 8))
        >>> sum(ax.has_data() for ax in fig.axes), fig.axes[3].get_title()
        (10, '3')
        >>> fig = templates(W, (8, 8), diverging=True, std=np.full(64, 2.0))
        >>> m = np.quantile(np.abs(W[:-1, 0]), 0.95) / 2
        >>> bool(np.allclose(fig.axes[0].images[0].get_clim(), (-m, m)))
        True
    """
    signed = diverging or std is not None
    images = pixel_templates(model, image_shape, std) if signed else template_images(
        model, image_shape)  # fmt: skip
    C = images.shape[0]
    names = resolve_class_names(class_names, C, model)
    rows, cols = _grid(C)
    # fixed margins (inches): the two-line title on top, each panel's title above it
    fig = fixed_figure(1.9 * cols + 0.4, 2.1 * rows + 0.6, (0.05, 0.05, 0.05, 0.75),
                       (0.1, 0.35), (rows, cols))  # fmt: skip
    axes = fig.subplots(rows, cols, squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if k >= C:
            continue
        img, kw = _shown(images[k], signed, cmap)
        ax.imshow(img, interpolation="nearest", **kw)
        ax.set_title(names[k], fontsize=11)
    space = "in pixel space (w_k / std)" if std is not None else ""
    fig.suptitle(
        f"Templates: each class's weights {space} as an image\nred raises the score, blue "
        "lowers it, white = 0; saturated beyond the 95th percentile of |weight|"
        if signed
        else "Templates: each class's weights as an image (rescaled per class, bright = large "
        "weight)",
        fontsize=10,
    )
    return fig


def signed_limit(template: ArrayLike) -> float:
    """The colour limit ``m`` of a signed template (drawn on ``[-m, m]``): the 95th percentile
    of ``|t|``, so that a few pixels with huge weights (in pixel space, pixels that are almost
    always blank have a tiny std) saturate instead of washing out the rest; ``max |t|`` if
    that is 0, and 1 for an all-zero template.

    Examples:
        >>> t = np.r_[np.linspace(-1.0, 1.0, 99), 50.0]
        >>> round(signed_limit(t), 3), signed_limit(np.zeros(3))
        (0.96, 1.0)
    """
    a = np.abs(np.asarray(template, dtype=np.float64))
    return float(np.quantile(a, 0.95)) or float(a.max()) or 1.0


def _shown(img: np.ndarray, signed: bool, cmap: str) -> tuple[np.ndarray, dict[str, Any]]:
    """The image and ``imshow`` keywords of one template: rescaled grey, or signed and
    centred on 0."""
    if not signed:
        return img, ({} if img.ndim == 3 else {"cmap": cmap, "vmin": 0.0, "vmax": 1.0})
    m = signed_limit(img)
    if img.ndim == 3:
        return np.clip(0.5 + img / (2 * m), 0.0, 1.0), {}
    return img, {"cmap": "RdBu_r" if cmap == "gray" else cmap, "vmin": -m, "vmax": m}
