"""numnet.plot pictures: 1-D fit, decision boundary, confusion matrix, images, histograms, optimizer paths."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from matplotlib.colors import to_hex
from matplotlib.figure import Figure

import numnet
from numnet import plot
from numnet.plot.style import CLASS_COLORS, WRONG_COLOR


def legend_texts(ax) -> list[str]:
    legend = ax.get_legend()
    assert legend is not None, "expected a legend"
    return [t.get_text() for t in legend.get_texts()]


# --- fit_1d ---------------------------------------------------------------------------------------------


def test_fit_1d_lines_sorted_with_training_points():
    rng = np.random.default_rng(0)
    x = rng.random(50)
    y = np.sin(6 * x)
    pred = y + 0.1
    fig = plot.fit_1d(x, y, pred.reshape(-1, 1), title="sine", x_train=x, y_train=y)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_title() == "sine" and ax.get_xlabel() == "x" and ax.get_ylabel() == "y"
    labels = legend_texts(ax)
    assert labels[0] == "training samples (50)" and labels[1] == "target"
    assert labels[2].startswith("prediction (MSE 0.01")
    target, prediction = ax.get_lines()
    order = np.argsort(x)
    np.testing.assert_allclose(target.get_xdata(), x[order])
    np.testing.assert_allclose(target.get_ydata(), y[order])
    np.testing.assert_allclose(prediction.get_ydata(), pred[order])
    assert len(ax.collections) == 1  # the training samples


def test_fit_1d_accepts_tensors_and_checks_lengths():
    x = numnet.tensor(np.linspace(0, 1, 10))
    fig = plot.fit_1d(x, x * 2, x * 2, show_mse=False)
    assert legend_texts(fig.axes[0]) == ["target", "prediction"]
    with pytest.raises(ValueError, match="same number of points"):
        plot.fit_1d(np.arange(3), np.arange(3), np.arange(4))


# --- decision_boundary ---------------------------------------------------------------------------------

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
XOR_Y = np.array([0, 1, 1, 0])


def xor_probability(points: np.ndarray) -> np.ndarray:
    s = points[:, 0] + points[:, 1]
    return (1 / (1 + np.exp(-20 * (s - 0.5))) * (1 / (1 + np.exp(20 * (s - 1.5))))).reshape(-1, 1)


def test_decision_boundary_binary_probability():
    seen = {}

    def predict(points):
        seen["shape"], seen["dtype"] = points.shape, points.dtype
        return xor_probability(points)

    fig = plot.decision_boundary(predict, XOR_X, XOR_Y, bounds=(-0.5, 1.5, -0.5, 1.5), resolution=50)
    assert seen == {"shape": (2500, 2), "dtype": np.float32}
    ax = fig.axes[0]
    assert ax.get_title() == "Decision boundary"
    assert ax.get_xlim() == (-0.5, 1.5) and ax.get_ylim() == (-0.5, 1.5)
    assert legend_texts(ax) == ["class 0", "class 1", "P = 0.5"]
    assert len(fig.axes) == 2 and fig.axes[1].get_ylabel() == "P(class 1)"  # the colour bar
    points = [c for c in ax.collections if c.get_offsets().shape == (2, 2)]
    assert len(points) == 2
    np.testing.assert_allclose(points[0].get_offsets(), XOR_X[XOR_Y == 0])
    assert to_hex(points[1].get_facecolor()[0]) == CLASS_COLORS[1]


def test_decision_boundary_multiclass_scores_labels_logits_and_tensors():
    rng = np.random.default_rng(1)
    centers = np.array([[0, 0], [3, 0], [1.5, 2.5]])
    X = np.concatenate([rng.normal(c, 0.4, (20, 2)) for c in centers])
    y = np.repeat([0, 1, 2], 20)

    def scores(points):
        return numnet.tensor(-((points[:, None, :] - centers[None]) ** 2).sum(-1))  # a Tensor is fine

    fig = plot.decision_boundary(scores, X, np.eye(3)[y], class_names=["a", "b", "c"], resolution=40)
    assert legend_texts(fig.axes[0]) == ["a", "b", "c", "decision boundary"]
    assert len(fig.axes) == 1  # no colour bar for classes

    labels = plot.decision_boundary(lambda p: scores(p).data.argmax(axis=1), X, y, resolution=40)
    assert legend_texts(labels.axes[0])[-1] == "decision boundary"

    logits = plot.decision_boundary(lambda p: 5 * (p[:, :1] - 1.5), X[:40], y[:40], resolution=40)
    assert "P = 0.5" in legend_texts(logits.axes[0])
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        plot.decision_boundary(scores, np.zeros((3, 3)), [0, 1, 2])
    with pytest.raises(ValueError, match="rows"):
        plot.decision_boundary(lambda p: p[:10], X, y, resolution=10)


# --- confusion_matrix ----------------------------------------------------------------------------------


def test_confusion_matrix_counts_annotated():
    cm = np.array([[5, 1, 0], [2, 7, 1], [0, 0, 4]])
    fig = plot.confusion_matrix(cm, class_names=["cat", "dog", "bird"])
    ax = fig.axes[0]
    assert ax.get_title().startswith("Confusion matrix")
    assert "accuracy 80.00% of 20" in ax.get_title()
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["cat", "dog", "bird"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["cat", "dog", "bird"]
    texts = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in ax.texts}
    assert texts == {(i, j): str(cm[i, j]) for i in range(3) for j in range(3)}
    np.testing.assert_array_equal(ax.images[0].get_array(), cm)
    # the darkest cell is written in white
    assert next(t for t in ax.texts if t.get_text() == "7").get_color() == "white"


def test_confusion_matrix_normalized_rows():
    cm = np.array([[3, 1], [0, 0]])
    ax = plot.confusion_matrix(cm, normalize=True).axes[0]
    assert "fraction of each true class" in ax.get_title()
    np.testing.assert_allclose(ax.images[0].get_array(), [[0.75, 0.25], [0, 0]])
    assert sorted(t.get_text() for t in ax.texts) == ["0.00", "0.00", "0.25", "0.75"]
    with pytest.raises(ValueError, match="square"):
        plot.confusion_matrix(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="class names"):
        plot.confusion_matrix(cm, class_names=["a"])


# --- image_grid ----------------------------------------------------------------------------------------


def test_image_grid_marks_wrong_predictions():
    rng = np.random.default_rng(0)
    images = rng.random((30, 784))
    true = np.arange(30) % 10
    pred = true.copy()
    pred[[1, 4]] = (true[[1, 4]] + 1) % 10
    fig = plot.image_grid(images, true, pred)
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == 25 and len(fig.axes) == 25
    assert shown[0].images[0].get_array().shape == (28, 28)
    np.testing.assert_allclose(shown[3].images[0].get_array(), images[3].reshape(28, 28))
    assert shown[1].get_title() == "2/1" and to_hex(shown[1].title.get_color()) == WRONG_COLOR
    assert shown[0].get_title() == "0" and to_hex(shown[0].title.get_color()) == "#000000"
    assert to_hex(shown[4].spines["left"].get_edgecolor()) == WRONG_COLOR
    assert "2 of 25 wrong" in fig.get_suptitle()

    errors = plot.image_grid(
        images, true, np.eye(10)[pred], errors_only=True, class_names=[str(c) for c in "abcdefghij"]
    )
    titled = [ax.get_title() for ax in errors.axes if ax.images]
    assert titled == ["c/b", "f/e"]


def test_image_grid_shapes_and_labels_only():
    images = np.zeros((5, 1, 8, 8))
    fig = plot.image_grid(images, [0, 1, 2, 3, 4], n=4)
    shown = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in shown] == ["0", "1", "2", "3"]
    assert shown[0].images[0].get_array().shape == (8, 8)
    assert plot.image_grid(np.zeros((2, 64)), [0, 1], shape=(8, 8)).axes[0].images[0].get_array().shape == (
        8,
        8,
    )
    with pytest.raises(ValueError, match="errors_only"):
        plot.image_grid(images, [0, 1, 2, 3, 4], errors_only=True)


# --- histograms ----------------------------------------------------------------------------------------


def test_histograms_one_panel_per_layer_shared_range():
    rng = np.random.default_rng(0)
    activations = {f"layer {i + 1}": 1 / (1 + np.exp(-rng.normal(0, 1, (100, 10)))) for i in range(5)}
    fig = plot.histograms(activations, title="Sigmoid activations", range=(0, 1), bins=20)
    assert [ax.get_title() for ax in fig.axes] == [f"layer {i}" for i in range(1, 6)]
    assert fig.get_suptitle() == "Sigmoid activations"
    for ax, values in zip(fig.axes, activations.values(), strict=True):
        assert ax.get_xlim() == (0, 1)
        assert len(ax.patches) == 20
        assert sum(p.get_height() for p in ax.patches) == values.size
    assert fig.axes[0].get_ylabel() == "count"
    assert "std" in fig.axes[0].texts[0].get_text()


def test_histograms_wrap_rows_default_range_and_errors():
    arrays = {str(i): np.full(10, float(i)) for i in range(7)}
    fig = plot.histograms(arrays, max_cols=4)
    panels = [ax for ax in fig.axes if ax.patches]
    assert len(panels) == 7 and len(fig.axes) == 8  # 2 rows of 4, the last empty
    assert panels[0].get_xlim() == (0.0, 6.0)
    with pytest.raises(ValueError, match="empty"):
        plot.histograms({})
    with pytest.raises(ValueError, match="None"):
        plot.histograms({"w": None})


def test_parameter_histograms_weights_and_grads():
    nn = pytest.importorskip("numnet.nn")
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    fig = plot.parameter_histograms(model)
    assert [ax.get_title() for ax in fig.axes] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    with pytest.raises(ValueError, match="backward"):
        plot.parameter_histograms(model, grads=True)
    model(numnet.randn(5, 3)).sum().backward()
    assert plot.parameter_histograms(model, grads=True).get_suptitle() == "Gradients"


# --- optimizer_paths -----------------------------------------------------------------------------------


def descend(lr: float, steps: int = 20) -> np.ndarray:
    p = np.array([-7.0, 2.0])
    out = [p.copy()]
    for _ in range(steps):
        p = p - lr * np.array([p[0] / 10, 2 * p[1]])
        out.append(p.copy())
    return np.array(out)


def f(x, y):
    return x**2 / 20 + y**2


def test_optimizer_paths_one_panel_each():
    paths = {"SGD": descend(0.9), "Momentum": descend(0.5), "AdaGrad": descend(0.3), "Adam": descend(0.1)}
    fig = plot.optimizer_paths(f, paths, bounds=(-10, 10, -5, 5), minimum=(0, 0), title="x²/20 + y²")
    assert len(fig.axes) == 4
    assert [ax.get_title().split(":")[0] for ax in fig.axes] == list(paths)
    assert fig.axes[0].get_title().endswith("after 20 steps")
    for ax, (_name, path) in zip(fig.axes, paths.items(), strict=True):
        drawn = max(ax.get_lines(), key=lambda ln: len(ln.get_xdata()))
        np.testing.assert_allclose(np.column_stack([drawn.get_xdata(), drawn.get_ydata()]), path)
        assert ax.get_xlim() == (-10, 10) and ax.get_ylim() == (-5, 5)
        assert ax.collections or getattr(ax, "_children", None)  # the contour lines
    assert fig.get_suptitle() == "x²/20 + y²"


def test_optimizer_paths_all_in_one_with_legend():
    paths = {"SGD": descend(0.9), "Adam": descend(0.1).tolist()}
    fig = plot.optimizer_paths(f, paths, bounds=(-10, 10, -5, 5), levels=[0.5, 1, 2, 4], separate=False)
    assert len(fig.axes) == 1
    assert legend_texts(fig.axes[0]) == ["SGD", "Adam"]
    with pytest.raises(ValueError, match=r"\(T, 2\)"):
        plot.optimizer_paths(f, {"bad": np.zeros((3, 3))}, bounds=(-1, 1, -1, 1))
    with pytest.raises(ValueError, match="no paths"):
        plot.optimizer_paths(f, {}, bounds=(-1, 1, -1, 1))


def test_histograms_without_zeros_and_with_own_ranges():
    rng = np.random.default_rng(0)
    small = np.maximum(rng.normal(size=4000), 0)  # ReLU outputs: half exact zeros
    large = small * 1000
    fig = plot.histograms({"layer 1": small, "layer 2": large}, bins=20, exclude_zeros=True, own_ranges=True)
    first, second = fig.axes[:2]
    assert sum(p.get_height() for p in first.patches) == np.count_nonzero(small)  # the zeros left out
    assert first.get_xlim()[1] == pytest.approx(small.max()) and second.get_xlim()[1] == pytest.approx(
        large.max()
    )
    notes = [t.get_text() for t in first.texts]
    assert any(f"zeros {np.mean(small == 0):.0%} (not drawn)" in n for n in notes)
    shared = plot.histograms({"a": small, "b": large}, bins=20, exclude_zeros=True)
    assert shared.axes[0].get_xlim() == shared.axes[1].get_xlim()  # one range unless asked
