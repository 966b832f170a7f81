"""lingrad.toy: the 2-D datasets have the promised shapes, labels, geometry and validation."""

import numpy as np
import pytest

from lingrad import toy


def rng(seed=0):
    return np.random.default_rng(seed)


# xor has two classes by definition (asking it for 3 is an error, tested below)
CASES = [(name, C) for name in toy.NAMES for C in (2, 3) if (name, C) != ("xor", 3)]


@pytest.mark.parametrize(("name", "C"), CASES)
def test_shapes_labels_and_range(name, C):
    X, y = toy.make(name, 7, C, rng=rng())
    assert X.shape == (7 * C, 2) and X.dtype == np.float64
    assert y.shape == (7 * C,) and y.dtype.kind == "i"
    np.testing.assert_array_equal(y, np.repeat(np.arange(C), 7))  # class by class, balanced
    assert np.isfinite(X).all()
    assert np.abs(X).max() < 2 * toy.EXTENT


@pytest.mark.parametrize("name", toy.NAMES)
def test_same_seed_same_data_other_seed_other_data(name):
    X1, y1 = toy.make(name, 10, 2, rng=rng(3))
    X2, y2 = toy.make(name, 10, 2, rng=rng(3))
    X3, _ = toy.make(name, 10, 2, rng=rng(4))
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)


def test_blobs_centres_on_the_circle_of_radius_two():
    X, y = toy.make("blobs", 4000, 3, rng=rng(), noise=0.1)
    for k in range(3):
        a = np.pi / 2 + 2 * np.pi * k / 3
        np.testing.assert_allclose(X[y == k].mean(0), [2 * np.cos(a), 2 * np.sin(a)], atol=0.01)
        np.testing.assert_allclose(X[y == k].std(0), [0.1, 0.1], rtol=0.05)


def test_xor_classes_sit_in_opposite_quadrants():
    X, y = toy.make("xor", 200, 2, rng=rng(), noise=0.0)
    product = X[:, 0] * X[:, 1]
    assert (product[y == 0] > 0).all() and (product[y == 1] < 0).all()
    assert np.abs(X).min() >= 0.3


def test_spiral_arms_grow_from_the_origin_to_radius_three():
    X, y = toy.make("spiral", 50, 3, rng=rng(), noise=0.0)
    r = np.hypot(X[:, 0], X[:, 1])
    for k in range(3):
        np.testing.assert_allclose(r[y == k], np.linspace(0, toy.EXTENT, 50), atol=1e-12)


def test_random_draw_is_uniform_in_the_square():
    X, _ = toy.make("random", 5000, 2, rng=rng())
    assert np.abs(X).max() <= toy.EXTENT
    np.testing.assert_allclose(X.mean(0), [0, 0], atol=0.1)
    np.testing.assert_allclose(X.var(0), [(2 * toy.EXTENT) ** 2 / 12] * 2, rtol=0.05)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"name": "moons"}, ValueError, "name: expected one of"),
        ({"name": 3}, TypeError, "name: expected one of"),
        ({"n_per_class": 0}, ValueError, "n_per_class: expected an integer >= 1"),
        ({"n_per_class": 2.5}, TypeError, "n_per_class: expected an integer"),
        ({"n_classes": 1}, ValueError, "n_classes: expected an integer >= 2"),
        ({"name": "xor", "n_classes": 3}, ValueError, "n_classes: expected 2 for the xor"),
        ({"noise": -1.0}, ValueError, "noise: expected a finite number >= 0"),
        ({"noise": float("nan")}, ValueError, "noise: expected a finite number >= 0"),
        ({"rng": 0}, TypeError, "rng: expected a numpy.random.Generator"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, error, message):
    args = {"name": "blobs", "n_per_class": 5, "n_classes": 3, "rng": rng(), **kwargs}
    with pytest.raises(error, match=message):
        toy.make(args.pop("name"), args.pop("n_per_class"), args.pop("n_classes"), **args)
