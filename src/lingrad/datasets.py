"""Datasets as train / validation / test splits, and the preprocessing fitted on train only.

``load(name)`` returns a :class:`Dataset`; the shipped scikit-learn sets need no download.
Splits are stratified (each class in the same proportion in every split) and reproducible from
``seed``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lingrad._validation import check_X, fail


@dataclass(frozen=True)
class Dataset:
    """Three splits of ``(X, y)``: ``X_*`` of shape ``(n, D)``, ``y_*`` integer labels ``(n,)``.

    Attributes:
        class_names: one name per label value ``0..C-1``.
        image_shape: the shape one row reshapes to for image data (``(8, 8)`` for digits),
            ``None`` otherwise.
    """

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    image_shape: tuple[int, ...] | None = None

    @property
    def n_features(self) -> int:
        return self.X_train.shape[1]

    @property
    def n_classes(self) -> int:
        return len(self.class_names)


@dataclass
class Standardizer:
    """``x -> (x - mean) / scale`` per feature, fitted on training data only.

    Constant features get ``scale = 1`` (they become 0, not NaN).
    """

    mean: np.ndarray = field(default=None)
    scale: np.ndarray = field(default=None)

    def fit(self, X) -> Standardizer:
        X = check_X(X)
        self.mean = X.mean(axis=0)
        std = X.std(axis=0)
        self.scale = np.where(std > 0, std, 1.0).astype(X.dtype)
        return self

    def transform(self, X) -> np.ndarray:
        if self.mean is None:
            fail("Standardizer", "fit() to be called before transform()", "an unfitted one")
        X = check_X(X)
        if X.shape[1] != self.mean.shape[0]:
            fail("X", f"{self.mean.shape[0]} features", f"{X.shape[1]}")
        return ((X - self.mean) / self.scale).astype(X.dtype, copy=False)

    def fit_transform(self, X) -> np.ndarray:
        return self.fit(X).transform(X)


def _split(X, y, validation, test, seed):
    from sklearn.model_selection import train_test_split

    X_rest, X_test, y_rest, y_test = train_test_split(
        X, y, test_size=test, stratify=y, random_state=seed
    )
    X_train, X_val, y_train, y_val = train_test_split(
        X_rest, y_rest, test_size=validation / (1.0 - test), stratify=y_rest, random_state=seed
    )
    return X_train, y_train, X_val, y_val, X_test, y_test


def _digits():
    from sklearn.datasets import load_digits

    bunch = load_digits()
    names = tuple(str(int(c)) for c in bunch.target_names)
    return bunch.data, bunch.target, names, (8, 8)


_LOADERS = {"digits": _digits}
NAMES: tuple[str, ...] = tuple(_LOADERS)


def load(
    name: str, *, validation: float = 0.1, test: float = 0.2, seed: int = 0, dtype=np.float64
) -> Dataset:
    """Load a dataset by name and split it into train / validation / test.

    Args:
        name: one of :data:`NAMES`.
        validation: the fraction of all examples held out for validation.
        test: the fraction of all examples held out for the test.
        seed: the split's random seed.
        dtype: the dtype of the ``X`` arrays (float32 or float64).

    >>> data = load("digits")
    >>> data.X_train.shape[1], data.n_classes, data.image_shape
    (64, 10, (8, 8))
    """
    if name not in _LOADERS:
        fail("dataset", f"one of {sorted(_LOADERS)}", repr(name))
    for arg, frac in (("validation", validation), ("test", test)):
        if not 0.0 < frac < 1.0:
            fail(arg, "a fraction in (0, 1)", frac)
    if validation + test >= 1.0:
        fail(
            "validation + test",
            "a total below 1 (something must be left to train on)",
            validation + test,
        )
    X, y, class_names, image_shape = _LOADERS[name]()
    X = np.asarray(X, dtype=dtype)
    parts = _split(X, np.asarray(y, dtype=np.intp), validation, test, seed)
    return Dataset(name, *parts, class_names=class_names, image_shape=image_shape)
