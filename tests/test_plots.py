"""lingrad.plots: each figure's content against what it claims to show.

Oracles: the weights themselves (templates), ``lingrad.predict`` at the pixel centres
(decision regions), the loop-by-loop losses of ``lingrad.reference`` and SciPy's softmax
(scores table), scikit-learn's confusion matrix and decision function, and finite differences
of the sliced objective (landscape arrows).
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.text import Text

from lingrad import datasets, plots, reference
from lingrad.model import init_weights, predict, scores
from lingrad.objective import Objective


def _render(fig: Figure) -> np.ndarray:
    """The figure's pixels, RGB in [0, 255], row 0 at the top."""
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(int)


def _pixel(fig: Figure, ax, x: float, y: float, rgb: np.ndarray) -> np.ndarray:
    """The rendered colour at data point (x, y) of ``ax``."""
    px, py = ax.transData.transform((x, y))
    return rgb[rgb.shape[0] - 1 - int(py), int(px)]


@pytest.fixture(scope="module")
def digits():
    return datasets.load("digits", seed=0)


@pytest.fixture(scope="module")
def W_digits():
    return init_weights(64, 10, rng=np.random.default_rng(1), scale=1.0)


@pytest.fixture(scope="module")
def blobs():
    """Three 2-D clusters and a hand-set 3-class model that gets most of them right."""
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 3.0], [3.0, -1.0], [-3.0, -1.0]])
    X = np.repeat(centres, 20, axis=0) + 0.9 * rng.standard_normal((60, 2))
    y = np.repeat([0, 1, 2], 20)
    W = np.vstack([centres.T, [[0.2, -0.1, 0.3]]])  # w_k = centre_k: a nearest-template rule
    return X, y, W


# ------------------------------------------------------------------------------------------
# The model adapter
# ------------------------------------------------------------------------------------------


def test_as_weights_matches_scikit_learn_decision_function(digits):
    from sklearn.linear_model import LogisticRegression

    est = LogisticRegression(max_iter=200).fit(digits.X_train[:300], digits.y_train[:300])
    W = plots.as_weights(est)
    assert W.shape == (65, 10)
    np.testing.assert_allclose(
        scores(W, digits.X_val), est.decision_function(digits.X_val), rtol=1e-10, atol=1e-10
    )


def test_as_weights_binary_estimator_and_array_passthrough():
    class Binary:
        coef_ = np.array([[1.0, -2.0]])
        intercept_ = np.array([0.5])

    np.testing.assert_array_equal(plots.as_weights(Binary()), [[1.0], [-2.0], [0.5]])
    W = np.arange(6.0).reshape(3, 2)
    np.testing.assert_array_equal(plots.as_weights(W), W)


def test_as_weights_bad_input():
    class Mismatch:
        coef_ = np.ones((3, 2))
        intercept_ = np.ones(2)

    with pytest.raises(ValueError, match=r"model.intercept_: expected 3 values"):
        plots.as_weights(Mismatch())
    with pytest.raises(TypeError, match="model: expected weights W"):
        plots.as_weights("weights")
    with pytest.raises(ValueError, match=r"W: expected shape \(5, C\)"):
        plots.as_weights(np.ones((3, 2)), 4, "W")


# ------------------------------------------------------------------------------------------
# Templates
# ------------------------------------------------------------------------------------------


def test_template_equals_rescaled_weight_row_pixel_for_pixel(W_digits, digits):
    fig = plots.templates(W_digits, (8, 8), digits.class_names)
    assert isinstance(fig, Figure)
    axes = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in axes] == list(digits.class_names)
    rgb = _render(fig)
    for k, ax in enumerate(axes):
        w = W_digits[:-1, k]
        expected = ((w - w.min()) / (w.max() - w.min())).reshape(8, 8)
        np.testing.assert_allclose(ax.images[0].get_array(), expected, rtol=0, atol=1e-12)
        # The rendered panel: the centre of image cell (r, c) is drawn in gray level T[r, c].
        for r in range(8):
            for c in range(8):
                grey = _pixel(fig, ax, c, r, rgb)
                assert np.all(np.abs(grey - 255 * expected[r, c]) <= 2), (k, r, c, grey)


@pytest.mark.parametrize("shape", [(4, 4, 3), (3, 4, 4)])
def test_colour_templates_channels_last_or_first(shape):
    rng = np.random.default_rng(2)
    W = rng.standard_normal((49, 2))
    images = plots.template_images(W, shape)
    assert images.shape == (2, 4, 4, 3)
    for k in range(2):
        w = W[:-1, k]
        img = ((w - w.min()) / (w.max() - w.min())).reshape(shape)
        if shape[0] == 3:
            img = np.moveaxis(img, 0, -1)
        np.testing.assert_allclose(images[k], img, atol=1e-12)
    fig = plots.templates(W, shape, ["a", "b"])
    panels = [ax for ax in fig.axes if ax.images]
    np.testing.assert_allclose(panels[1].images[0].get_array(), images[1], atol=1e-12)


def test_diverging_templates_in_pixel_space(W_digits, digits):
    """With the scaler's std, panel k shows w_k / std (s_k = (w_k / std) . x + const) on a
    colour map centred on 0: white at 0, limits +-(95th percentile of |t_k|), saturated
    beyond."""
    std = datasets.Standardizer().fit(digits.X_train).scale
    fig = plots.templates(W_digits, (8, 8), digits.class_names, diverging=True, std=std)
    axes = [ax for ax in fig.axes if ax.images]
    rgb = _render(fig)
    for k, ax in enumerate(axes):
        expected = (W_digits[:-1, k] / std).reshape(8, 8)
        image = ax.images[0]
        np.testing.assert_allclose(image.get_array(), expected, rtol=1e-12)
        m = np.sort(np.abs(expected).ravel())
        m = m[59] + 0.85 * (m[60] - m[59])  # the 95th percentile of 64 values, by hand
        assert np.allclose(image.get_clim(), (-m, m)) and image.get_cmap().name == "RdBu_r"
        # the rendered colour is the colour map at (t + m) / 2m, clipped: sign and size show
        for r, c in (np.unravel_index(np.argmax(expected), expected.shape), (4, 4), (0, 0)):
            level = np.clip((expected[r, c] + m) / (2 * m), 0, 1)
            colour = np.array(image.get_cmap()(level)[:3]) * 255
            assert np.all(np.abs(_pixel(fig, ax, c, r, rgb) - colour) <= 3), (k, r, c)
    assert "pixel space" in fig.get_suptitle()
    with pytest.raises(ValueError, match="std: expected 64 positive standard deviations"):
        plots.templates(W_digits, (8, 8), std=np.zeros(64))


def test_templates_from_an_estimator_use_its_classes():
    class Fitted:
        coef_ = np.eye(4)
        intercept_ = np.zeros(4)
        classes_ = np.array(["cat", "dog", "ship", "car"])

    fig = plots.templates(Fitted(), (2, 2))
    assert [ax.get_title() for ax in fig.axes if ax.images] == ["cat", "dog", "ship", "car"]


def test_templates_bad_input(W_digits):
    with pytest.raises(ValueError, match=r"image_shape: expected 64 pixels .* got \(7, 7\)"):
        plots.templates(W_digits, (7, 7))
    with pytest.raises(ValueError, match="image_shape: expected 1, 3 or 4 channels"):
        plots.templates(np.ones((61, 2)), (5, 6, 2))
    with pytest.raises(TypeError, match="image_shape"):
        plots.templates(W_digits, None)
    with pytest.raises(ValueError, match="class_names: expected 10 names"):
        plots.templates(W_digits, (8, 8), ["a", "b"])


# ------------------------------------------------------------------------------------------
# Decision regions
# ------------------------------------------------------------------------------------------


def _pixel_centres(image):
    x0, x1, y0, y1 = image.get_extent()
    rows, cols = image.get_array().shape
    xs = x0 + (np.arange(cols) + 0.5) * (x1 - x0) / cols
    ys = y0 + (np.arange(rows) + 0.5) * (y1 - y0) / rows
    return xs, ys


def test_decision_region_colour_is_the_models_prediction(blobs):
    X, y, W = blobs
    fig = plots.decision_regions(W, X, y, resolution=40)
    ax = fig.axes[0]
    image = ax.images[0]
    xs, ys = _pixel_centres(image)
    gx, gy = np.meshgrid(xs, ys)
    expected = predict(W, np.column_stack([gx.ravel(), gy.ravel()])).reshape(gx.shape)
    np.testing.assert_array_equal(image.get_array(), expected)
    assert len(np.unique(expected)) == 3  # the view shows all three regions

    # The rendered colour at each pixel centre is that class's region colour.
    for artist in [*ax.lines, *ax.collections, *ax.texts]:
        artist.remove()
    rgb = _render(fig)
    palette = np.round(255 * plots.region_colors(3)).astype(int)
    for r in range(0, 40, 3):
        for c in range(0, 40, 3):
            got = _pixel(fig, ax, xs[c], ys[r], rgb)
            assert np.all(np.abs(got - palette[expected[r, c]]) <= 1), (r, c, got)


def test_hyperplanes_are_zero_score_lines_and_arrows_are_the_weights(blobs):
    X, y, W = blobs
    fig = plots.decision_regions(W, X, y)
    ax = fig.axes[0]
    lines = {line.get_gid(): line for line in ax.lines}
    arrows = {a.get_gid(): a for a in ax.texts}
    for k in range(3):
        line = lines[f"hyperplane-{k}"]
        for point in (line.get_xy1(), line.get_xy2()):
            assert abs(scores(W, np.array([point]))[0, k]) < 1e-9
        arrow = arrows[f"weight-{k}"]
        direction = np.subtract(arrow.xy, arrow.xyann)
        w = W[:2, k]
        assert abs(direction[0] * w[1] - direction[1] * w[0]) < 1e-9 * np.linalg.norm(w) ** 2
        assert direction @ w > 0
        # The arrow starts on the line: score 0 at its tail.
        assert abs(scores(W, np.array([arrow.xyann]))[0, k]) < 1e-9


def test_misclassified_points_are_ringed(blobs):
    X, y, W = blobs
    y = y.copy()
    y[:3] = 1  # three points now carry a label the model does not predict
    wrong = predict(W, X) != y
    assert wrong.sum() >= 3
    fig = plots.decision_regions(W, X, y)
    ax = fig.axes[0]
    rings = [c for c in ax.collections if c.get_label() == "misclassified"]
    assert len(rings) == 1
    np.testing.assert_allclose(rings[0].get_offsets(), X[wrong])
    assert f"{wrong.sum()} of 60 points misclassified" in ax.get_title()


def test_decision_regions_projection_on_two_features_is_an_exact_slice(digits, W_digits):
    X = digits.X_val
    fig = plots.decision_regions(W_digits, X, digits.y_val, features=(20, 43), resolution=25)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "feature 20" and ax.get_ylabel() == "feature 43"
    assert "other features held at their mean" in ax.get_title()
    image = ax.images[0]
    xs, ys = _pixel_centres(image)
    gx, gy = np.meshgrid(xs, ys)
    points = np.tile(X.mean(axis=0), (gx.size, 1))
    points[:, 20], points[:, 43] = gx.ravel() + X[:, 20].mean(), gy.ravel() + X[:, 43].mean()
    expected = predict(W_digits, points).reshape(gx.shape)
    np.testing.assert_array_equal(image.get_array(), expected)


def test_decision_regions_pca_plane_is_labelled(digits, W_digits):
    fig = plots.decision_regions(W_digits, digits.X_val, digits.y_val, resolution=20)
    ax = fig.axes[0]
    assert ax.get_xlabel().startswith("PC1") and ax.get_ylabel().startswith("PC2")
    assert "PCA plane" in ax.get_title()
    # Slices through the mean: the mean itself projects to the origin.
    assert ax.get_xlim()[0] < 0 < ax.get_xlim()[1]


def test_decision_regions_on_a_plane_edge_each_point_with_its_predicted_class(digits, W_digits):
    """D > 2: the projected points can fall in another class's region; each point's fill is
    its true class and its edge the class the full model predicts (oracle: lingrad.predict)."""
    X, y = digits.X_val, digits.y_val
    fig = plots.decision_regions(W_digits, X, y, resolution=20)
    ax = fig.axes[0]
    points = ax.collections[0]
    colors = plots.class_colors(10)
    edges, faces = points.get_edgecolors()[:, :3], points.get_facecolors()[:, :3]
    predicted = predict(W_digits, X)
    assert (predicted != y).any() and (predicted == y).any()  # both kinds are shown
    np.testing.assert_allclose(edges, np.array([to_rgb(c) for c in colors[predicted]]))
    np.testing.assert_allclose(faces, np.array([to_rgb(c) for c in colors[y]]))
    assert "edge = class the full model predicts" in ax.get_title()
    assert "fill = true class" in ax.get_title()
    # 2-D data are drawn exactly: black edges, no such note
    X2, W2 = X[:, :2], W_digits[[0, 1, -1]]
    flat = plots.decision_regions(W2, X2, y, resolution=10).axes[0]
    np.testing.assert_allclose(flat.collections[0].get_edgecolors()[:, :3], [[0.0, 0.0, 0.0]])
    assert "edge =" not in flat.get_title()


def test_decision_regions_binary_model():
    X = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.5], [-1.0, 2.0]])
    W = np.array([[1.0], [-0.5], [-0.2]])
    fig = plots.decision_regions(W, X, [0, 1, 1, 0], resolution=16)
    image = fig.axes[0].images[0]
    xs, ys = _pixel_centres(image)
    gx, gy = np.meshgrid(xs, ys)
    s = W[0, 0] * gx + W[1, 0] * gy + W[2, 0]
    np.testing.assert_array_equal(image.get_array(), (s >= 0).astype(int))
    assert [line.get_gid() for line in fig.axes[0].lines] == ["hyperplane-0"]


def test_decision_regions_bad_input(blobs):
    X, _, W = blobs
    with pytest.raises(ValueError, match=r"X: expected at least 2 features .* got shape \(5, 1\)"):
        plots.decision_regions(np.ones((2, 3)), np.ones((5, 1)), np.zeros(5, int))
    with pytest.raises(ValueError, match="X: expected a 2-D array"):
        plots.decision_regions(W, np.ones(5), None)
    with pytest.raises(ValueError, match=r"y: expected labels in \[0, 3\)"):
        plots.decision_regions(W, X, np.full(60, 7))
    with pytest.raises(ValueError, match="features: expected two different indices"):
        plots.decision_regions(np.ones((5, 2)), np.ones((6, 4)), None, features=(0, 9))


# ------------------------------------------------------------------------------------------
# The algebraic view
# ------------------------------------------------------------------------------------------

SLIDE = np.array([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]])


def test_algebraic_view_reproduces_the_slide():
    view = plots.algebraic_view(SLIDE, [0, 1, 2], loss="svm", class_names=["cat", "car", "frog"])
    np.testing.assert_allclose(view.losses, [2.9, 0.0, 12.9], atol=1e-12)
    assert round(view.mean_loss, 2) == 5.27
    np.testing.assert_allclose(view.hinge_terms.sum(axis=1), view.losses, atol=1e-12)
    soft = plots.algebraic_view(SLIDE, [0, 1, 2], loss="softmax")
    assert round(float(soft.probabilities[0, 0]), 2) == 0.13
    assert round(float(soft.losses[0]), 2) == 2.04


@pytest.mark.parametrize("loss", ["hinge", "softmax_cross_entropy", "crammer_singer"])
def test_algebraic_view_losses_match_the_loop_reference(loss):
    from scipy.special import softmax

    rng = np.random.default_rng(3)
    S, y = 3 * rng.standard_normal((7, 4)), rng.integers(0, 4, 7)
    view = plots.algebraic_view(S, y, loss=loss)
    oracle = getattr(reference, loss)
    for i in range(7):
        assert view.losses[i] == pytest.approx(oracle(S[i : i + 1], y[i : i + 1])[0], rel=1e-12)
    np.testing.assert_allclose(view.probabilities, softmax(S, axis=1), rtol=1e-12)
    np.testing.assert_allclose(view.margins, S - S[np.arange(7), y][:, None], atol=1e-15)


def test_scores_table_figure_shows_the_scores_and_losses(digits, W_digits):
    X, y = digits.X_val, digits.y_val
    fig = plots.scores_table(W_digits, X, y, class_names=digits.class_names, max_examples=4)
    table = fig.axes[0].tables[0]
    cells = table.get_celld()
    S = scores(W_digits, X[:4])
    for k in range(10):
        assert cells[(k + 1, 0)].get_text().get_text() == digits.class_names[k]
        for i in range(4):
            assert float(cells[(k + 1, i + 1)].get_text().get_text()) == pytest.approx(
                S[i, k], abs=0.005
            )
    for i in range(4):
        L_i = reference.hinge(S[i : i + 1], y[i : i + 1])[0]
        assert float(cells[(11, i + 1)].get_text().get_text()) == pytest.approx(L_i, abs=0.005)
        # the true class's cell is highlighted; the loss cell is green iff argmax is right
        assert cells[(y[i] + 1, i + 1)].get_facecolor()[:3] != (1.0, 1.0, 1.0)
        green = np.allclose(cells[(11, i + 1)].get_facecolor()[:3], to_rgb("#c8f0c8"))
        assert green == (np.argmax(S[i]) == y[i])
    assert cells[(11, 0)].get_text().get_text() == "SVM loss"


def test_scores_table_with_thumbnails(digits, W_digits):
    fig = plots.scores_table(
        W_digits, digits.X_val, digits.y_val, max_examples=3, image_shape=(8, 8),
        images=digits.X_val,
    )  # fmt: skip
    thumbs = [ax for ax in fig.axes if ax.images]
    assert len(thumbs) == 3
    x = digits.X_val[2]
    np.testing.assert_allclose(
        thumbs[2].images[0].get_array(), ((x - x.min()) / (x.max() - x.min())).reshape(8, 8)
    )


def test_algebraic_view_bad_input():
    with pytest.raises(ValueError, match="loss: expected a classification loss"):
        plots.algebraic_view(SLIDE, [0, 1, 2], loss="squared_error")
    with pytest.raises(ValueError, match=r"y: expected labels in \[0, 3\)"):
        plots.algebraic_view(SLIDE, [0, 1, 3])
    with pytest.raises(ValueError, match="S: expected a 2-D array"):
        plots.algebraic_view([1.0, 2.0], [0])


# ------------------------------------------------------------------------------------------
# History
# ------------------------------------------------------------------------------------------


def test_history_draws_each_series_as_given():
    h = {
        "loss": [2.3, 1.1, 0.7],
        "val_loss": [2.4, 1.3, 0.9],
        "train_accuracy": [0.3, 0.8, 0.9],
        "learning_rate": [0.1, 0.05, 0.025],
    }
    fig = plots.history(h)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["loss", "accuracy", "learning rate"]  # no grad_norm panel: no data
    lines = {line.get_gid(): line for ax in fig.axes for line in ax.lines}
    for key, values in h.items():
        np.testing.assert_array_equal(lines[key].get_ydata(), values)
        np.testing.assert_array_equal(lines[key].get_xdata(), [1, 2, 3])
    assert lines["val_loss"].get_linestyle() == "--"
    assert fig.axes[2].get_yscale() == "log"


def test_history_overlays_several_runs():
    runs = {
        "random search": {"loss": [2.3, 2.2, 2.2], "evaluations": [100, 200, 300]},
        "SGD": {"loss": [2.3, 0.9, 0.4], "evaluations": [100, 200, 300]},
    }
    fig = plots.history(runs, x="evaluations", xlabel="objective evaluations")
    (ax,) = fig.axes
    lines = {line.get_gid(): line for line in ax.lines}
    assert set(lines) == {"random search:loss", "SGD:loss"}
    np.testing.assert_array_equal(lines["SGD:loss"].get_xdata(), [100, 200, 300])
    assert not np.array_equal(
        lines["SGD:loss"].get_color(), lines["random search:loss"].get_color()
    )
    assert ax.get_xlabel() == "objective evaluations"
    assert len(plots.history([runs["SGD"], runs["SGD"]]).axes[0].lines) == 2


def test_history_bad_input():
    with pytest.raises(ValueError, match="history: expected at least one non-empty series"):
        plots.history({"loss": []})
    with pytest.raises(TypeError, match=r"history\['loss'\]: expected a list of numbers"):
        plots.history({"loss": ["a", "b"]})
    with pytest.raises(TypeError, match="history: expected a dict"):
        plots.history(3)


# ------------------------------------------------------------------------------------------
# The loss landscape
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def descent(digits):
    """A small softmax objective and the trajectory of full-batch gradient descent on it."""
    X = datasets.Standardizer().fit_transform(digits.X_train[:200])
    obj = Objective("softmax", X, digits.y_train[:200], lam=1e-2)
    W = init_weights(64, 10, rng=np.random.default_rng(0))
    path = [W.copy()]
    for _ in range(12):
        _, g = obj.value_and_grad(W)
        W = W - 0.5 * g
        path.append(W.copy())
    return obj, np.stack(path)


def test_landscape_trajectory_starts_at_the_initial_loss(descent):
    obj, path = descent
    W0, W = path[0], path[-1]
    data = plots.landscape_data(obj, W, trajectory=path, resolution=7, arrows=2)
    assert data.kind == "trajectory"
    np.testing.assert_allclose(data.trajectory[0], [1.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(data.trajectory[-1], [0.0, 0.0], atol=1e-12)
    start = W + data.trajectory[0, 0] * data.d1 + data.trajectory[0, 1] * data.d2
    assert obj.value(start) == pytest.approx(obj.value(W0), rel=1e-12)
    assert data.trajectory_values[0] == pytest.approx(obj.value(W0), rel=1e-12)
    np.testing.assert_allclose(data.trajectory_values, [obj.value(P) for P in path])
    assert data.trajectory_values[0] > data.trajectory_values[-1]

    fig = plots.landscape(obj, W, trajectory=path, resolution=7, arrows=2)
    left, right = fig.axes[0], fig.axes[1]
    curve = next(line for line in left.lines if line.get_gid() == "line")
    t0 = float(np.interp(0.0, curve.get_xdata(), curve.get_ydata()))
    t1 = float(np.interp(1.0, curve.get_xdata(), curve.get_ydata()))
    assert t0 == pytest.approx(obj.value(W0), rel=1e-9)
    assert t1 == pytest.approx(obj.value(W), rel=1e-9)
    drawn = next(line for line in right.lines if line.get_gid() == "trajectory")
    np.testing.assert_allclose(drawn.get_xydata(), data.trajectory)


def test_landscape_values_are_the_objective_at_each_point(descent):
    """The slice and the line come from scores combined affinely (one pass per direction):
    each value is J at its weights, evaluated directly, to rounding."""
    obj, path = descent
    W = path[-1]
    for trajectory in (path, None):
        data = plots.landscape_data(obj, W, trajectory=trajectory, resolution=5, arrows=0)
        for i, b in enumerate(data.b):
            for j, a in enumerate(data.a):
                direct = obj.value(W + a * data.d1 + b * data.d2)
                assert data.values[i, j] == pytest.approx(direct, rel=1e-12, abs=1e-14)
        for t, value in zip(data.line_t, data.line_values, strict=True):
            point = path[0] + t * (W - path[0]) if trajectory is not None else W + t * data.d1
            assert value == pytest.approx(obj.value(point), rel=1e-12, abs=1e-14)


def test_landscape_arrows_are_the_negative_gradient_of_the_slice(descent):
    obj, path = descent
    W = path[-1]
    data = plots.landscape_data(obj, W, trajectory=path, resolution=5, arrows=3)
    h = 1e-5
    for a, b, da, db in data.arrows:

        def phi(a, b):
            return obj.value(W + a * data.d1 + b * data.d2)

        ga = (phi(a + h, b) - phi(a - h, b)) / (2 * h)
        gb = (phi(a, b + h) - phi(a, b - h)) / (2 * h)
        # d1, d2 are orthogonal with equal norms: steepest descent is -(ga, gb) / |d|^2.
        scale = np.sum(data.d1 * data.d1)
        np.testing.assert_allclose([da, db], [-ga / scale, -gb / scale], rtol=1e-5, atol=1e-9)
    assert len(data.arrows) == 9
    fig = plots.landscape(obj, W, trajectory=path, resolution=5, arrows=3)
    quiver = next(c for c in fig.axes[1].collections if c.get_gid() == "negative-gradient")
    np.testing.assert_allclose(quiver.get_offsets(), data.arrows[:, :2])


def test_landscape_random_and_pca_directions(descent):
    obj, path = descent
    W = path[-1]
    r1 = plots.landscape_data(obj, W, rng=np.random.default_rng(5), resolution=5, arrows=0)
    r2 = plots.landscape_data(obj, W, rng=np.random.default_rng(5), resolution=5, arrows=0)
    np.testing.assert_array_equal(r1.d1, r2.d1)
    assert r1.kind == "random" and r1.trajectory is None
    # filter-normalised: each class column of a direction has the norm of W's column
    np.testing.assert_allclose(np.linalg.norm(r1.d1, axis=0), np.linalg.norm(W, axis=0))
    assert r1.values[2, 2] == pytest.approx(obj.value(W))  # the grid's centre is W itself
    pca = plots.landscape_data(obj, W, directions="pca", trajectory=path, resolution=5, arrows=0)
    # a trajectory that starts at the centre: "auto" takes its principal directions
    assert plots.landscape_data(obj, path[0], trajectory=path, resolution=3).kind == "pca"
    assert abs(np.sum(pca.d1 * pca.d2)) < 1e-9 * np.sum(pca.d1 * pca.d1)
    # GD's path is nearly planar: the PCA plane reproduces it closely
    recon = W + pca.trajectory[:, :1, None] * pca.d1 + pca.trajectory[:, 1:, None] * pca.d2
    rel = np.linalg.norm(recon - path) / np.linalg.norm(path - W)
    assert rel < 0.1


def test_landscape_bad_input(descent):
    obj, path = descent
    W = path[-1]
    with pytest.raises(ValueError, match="trajectory: expected at least one point different"):
        plots.landscape(obj, W, directions="pca")
    with pytest.raises(ValueError, match="got W_0 == W"):
        plots.landscape(obj, path[0], directions="trajectory", trajectory=path)
    with pytest.raises(ValueError, match="trajectory: expected an array of weights"):
        plots.landscape(obj, W, trajectory=np.ones((3, 4, 10)))
    with pytest.raises(TypeError, match=r"objective: expected a lingrad\.Objective"):
        plots.landscape(lambda W: 0.0, W)
    with pytest.raises(TypeError, match=r"rng: expected a numpy\.random\.Generator"):
        plots.landscape(obj, W, directions="random", rng=0)
    with pytest.raises(ValueError, match="directions: expected one of"):
        plots.landscape(obj, W, directions="sideways")
    with pytest.raises(ValueError, match="directions: expected two linearly independent"):
        plots.landscape(obj, W, directions=(W, 2 * W))


# ------------------------------------------------------------------------------------------
# Confusion matrix
# ------------------------------------------------------------------------------------------


def test_confusion_matches_scikit_learn(digits, W_digits):
    from sklearn.metrics import confusion_matrix

    X, y = digits.X_val, digits.y_val
    expected = confusion_matrix(y, predict(W_digits, X), labels=range(10))
    np.testing.assert_array_equal(plots.confusion_matrix(W_digits, X, y), expected)
    fig = plots.confusion(W_digits, X, y, class_names=digits.class_names)
    ax = fig.axes[0]
    np.testing.assert_array_equal(ax.images[0].get_array(), expected)
    texts = {(t.get_position()): t.get_text() for t in ax.texts}
    assert texts[(3, 5)] == str(expected[5, 3])
    assert f"{np.trace(expected) / expected.sum():.3f}" in ax.get_title()
    rows = plots.confusion(W_digits, X, y, normalize=True).axes[0].images[0].get_array()
    np.testing.assert_allclose(rows.sum(axis=1), 1.0)


# ------------------------------------------------------------------------------------------
# Files and the backend
# ------------------------------------------------------------------------------------------


def test_every_plot_returns_a_figure_and_writes_png_and_svg(tmp_path, blobs, descent):
    X, y, W = blobs
    obj, path = descent
    figures = {
        "templates": plots.templates(np.ones((5, 3)) * np.arange(3), (2, 2)),
        "regions": plots.decision_regions(W, X, y, resolution=20),
        "scores": plots.scores_table(W, X, y),
        "history": plots.history({"loss": [1.0, 0.5]}),
        "landscape": plots.landscape(obj, path[-1], trajectory=path, resolution=5, arrows=2),
        "confusion": plots.confusion(W, X, y),
    }
    for name, fig in figures.items():
        assert isinstance(fig, Figure)
        png, svg = plots.save(fig, tmp_path / name, ("png", "svg"))
        data = png.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 2000, name
        assert b"<svg" in svg.read_bytes()[:2000], name
    with pytest.raises(ValueError, match="formats: expected a subset of"):
        plots.save(figures["history"], tmp_path / "x", ("gif",))


def test_importing_lingrad_does_not_touch_matplotlib_and_plots_uses_no_pyplot():
    code = (
        "import sys, lingrad; assert 'matplotlib' not in sys.modules, 'core imports mpl';"
        "import lingrad.plots; assert 'matplotlib.pyplot' not in sys.modules, 'pyplot'"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_history_leaves_out_series_never_measured():
    h = {"loss": [1.0, 0.5], "val_loss": [None, None], "grad_norm": [float("nan")] * 2}
    assert plots.history_series(h) == {"": {"loss": pytest.approx([1.0, 0.5])}}
    fig = plots.history(h)
    assert [ax.get_title() for ax in fig.axes] == ["loss"]
    assert [line.get_gid() for line in fig.axes[0].lines] == ["loss"]


def test_float32_data_draws_the_same_pictures(blobs, descent):
    X, y, W = blobs
    X32 = X.astype(np.float32)
    image64 = plots.decision_regions(W, X, y, resolution=30).axes[0].images[0].get_array()
    image32 = plots.decision_regions(W, X32, y, resolution=30).axes[0].images[0].get_array()
    np.testing.assert_array_equal(image32, image64)
    np.testing.assert_array_equal(
        plots.confusion_matrix(W, X32, y), plots.confusion_matrix(W, X, y)
    )
    obj, path = descent
    obj32 = Objective("softmax", obj.X.astype(np.float32), obj.y, lam=obj.lam)
    data = plots.landscape_data(obj32, path[-1], trajectory=path, resolution=3, arrows=1)
    assert data.trajectory_values[0] == pytest.approx(obj32.value(path[0].astype(np.float32)))
    assert data.trajectory_values[0] == pytest.approx(obj.value(path[0]), rel=1e-5)


def _drawn_by(record):
    """A task drawing a small line plot and appending this process's id to ``record``."""

    def draw() -> Figure:
        with open(record, "a") as f:
            f.write(f"{os.getpid()}\n")
        fig = Figure(figsize=(2, 2))
        fig.subplots().plot([0, 1, 2], [1, 0, 2])
        return fig

    return draw


def test_write_figures_two_processes_write_the_same_files_in_order(tmp_path):
    """The parent and the forked child draw from the two ends (both processes draw, the parent
    the first figure); the files equal one process's byte for byte; ``done`` sees task order."""
    record = tmp_path / "pids"
    tasks = [plots.FigureTask(f"f{k}", _drawn_by(record)) for k in range(6)]
    order: list[int] = []
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    one = plots.write_figures(tasks, tmp_path / "one", workers=1)
    record.unlink()
    workers = 2 if plots.can_fork() else 1  # 2 with >= 2 CPUs, one thread and fork, as here
    two = plots.write_figures(
        tasks, tmp_path / "two", workers=2, done=lambda i, files, s: order.append(i)
    )
    assert order == list(range(6))
    pids = record.read_text().split()
    assert len(pids) == 6 and pids[0] == str(os.getpid()) and len(set(pids)) == workers
    for a, b in zip(one, two, strict=True):
        assert [p.name for p in a] == [p.name for p in b]
        assert a[0].read_bytes() == b[0].read_bytes()


def test_write_figures_a_figure_failing_in_the_child_raises_in_the_parent(tmp_path):
    def broken() -> Figure:
        raise ZeroDivisionError("the last figure is broken")

    record = tmp_path / "pids"
    tasks = [plots.FigureTask(f"f{k}", _drawn_by(record)) for k in range(3)]
    tasks.append(plots.FigureTask("broken", broken))  # the child starts from the back
    with pytest.raises(ZeroDivisionError, match="the last figure is broken"):
        plots.write_figures(tasks, tmp_path, workers=2)
    assert sorted(p.name for p in tmp_path.glob("*.png")) == ["f0.png", "f1.png", "f2.png"]
    with pytest.raises(ValueError, match="workers"):
        plots.write_figures(tasks, tmp_path, workers=0)


# ------------------------------------------------------------------------------------------
# Fixed layouts: nothing clipped, nothing on top of a panel
# ------------------------------------------------------------------------------------------


def _outside(fig: Figure) -> list[str]:
    """The texts, legends and tables of ``fig`` that reach past its edges (1 px slack),
    measured on the drawn figure."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    W, H = fig.bbox.width, fig.bbox.height
    items = [(t.get_text(), t) for t in fig.get_children() if isinstance(t, Text)]  # suptitle
    for ax in fig.axes:
        items += [(ax.get_title(), ax.title), (ax.get_xlabel(), ax.xaxis.label),
                  (ax.get_ylabel(), ax.yaxis.label)]  # fmt: skip
        if ax.axison:  # the tick labels drawn: those at ticks inside the view
            for i, axis in enumerate((ax.xaxis, ax.yaxis)):
                lo, hi = sorted(axis.get_view_interval())
                eps = 1e-9 * (hi - lo)
                labels = axis.get_majorticklabels()
                items += [
                    (t.get_text(), t) for t in labels if lo - eps <= t.get_position()[i] <= hi + eps
                ]
        items += [("legend", ax.get_legend())] if ax.get_legend() is not None else []
        items += [("table", table) for table in ax.tables]
    out = []
    for name, artist in items:
        if not artist.get_visible() or (hasattr(artist, "get_text") and not artist.get_text()):
            continue
        box = artist.get_window_extent(renderer)
        if box.x0 < -1 or box.y0 < -1 or box.x1 > W + 1 or box.y1 > H + 1:
            out.append(name)
    return out


def test_fixed_layouts_keep_every_title_label_legend_and_table_inside_the_figure(
    digits, W_digits, descent
):
    """The report's figures are laid out by fixed margins (no layout engine, one draw per
    save): long class names, multi-line titles, outside legends and colour bars still fit."""
    iris = datasets.load("iris", seed=0)
    Wi = init_weights(4, 3, rng=np.random.default_rng(2), scale=1.0)
    obj, path = descent
    X, y = digits.X_val[:60], digits.y_val[:60]
    long = ["automobile", "versicolor", "aeroplane"]
    figures = {
        "templates": plots.templates(W_digits, (8, 8), digits.class_names, diverging=True),
        "regions digits": plots.decision_regions(W_digits, X, y),
        "regions iris": plots.decision_regions(Wi, iris.X_val, iris.y_val, class_names=long),
        "regions 2-D": plots.decision_regions(Wi[[0, 1, 4]], iris.X_val[:, :2], iris.y_val),
        "scores": plots.scores_table(W_digits, X, y, image_shape=(8, 8), loss="softmax"),
        "scores iris": plots.scores_table(Wi, iris.X_val, iris.y_val, class_names=long),
        "history": plots.history(
            {
                "loss": [90.0, 45.7, 1e-3],
                "train_accuracy": [0.1, 0.5, 1],
                "learning_rate": [0.1, 0.05, 1e-4],
                "grad_norm": [12345.0, 1.0, 1e-6],
            }
        ),
        "landscape": plots.landscape(obj, path[-1], trajectory=path, resolution=5, arrows=2),
        "landscape random": plots.landscape(obj, path[-1], resolution=5, arrows=2),
        "confusion": plots.confusion(W_digits, X, y),
        "confusion long": plots.confusion(Wi, iris.X_val, iris.y_val, class_names=long),
    }
    for name, fig in figures.items():
        assert fig.get_layout_engine() is None, name
        assert _outside(fig) == [], name
    # the colour bars sit beside their panels, not on them
    for name in ("landscape", "confusion long"):
        panel, bar = figures[name].axes[-2], figures[name].axes[-1]
        assert bar.get_position().x0 > panel.get_position().x1, name
