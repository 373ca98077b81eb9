"""Classification pictures: a 2-D classifier's decision boundary, a confusion matrix, a grid of images."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from numnet.plot.style import CLASS_COLORS, WRONG_COLOR, as_array, label_axes, new_figure, styled

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure


def _light(color: str, amount: float = 0.55) -> tuple[float, float, float]:
    """``color`` mixed with white (``amount`` of white)."""
    from matplotlib.colors import to_rgb

    r, g, b = to_rgb(color)
    return (r + (1 - r) * amount, g + (1 - g) * amount, b + (1 - b) * amount)


def _labels(y: Any) -> np.ndarray:
    """Integer class labels from labels (N,), (N, 1) or one-hot / scores (N, C)."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return y.argmax(axis=1)
    y = y.reshape(-1)
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)) or np.any(y != np.round(y)):
            raise ValueError("expected integer class labels (or one-hot rows), got non-integer values")
    return y.astype(np.int64)


def _class_name(class_names: Sequence[str] | None, c: int) -> str:
    return str(class_names[c]) if class_names is not None and c < len(class_names) else f"class {c}"


@styled
def decision_boundary(
    predict: Callable[[np.ndarray], Any],
    X: Any,
    y: Any,
    bounds: Sequence[float] | None = None,
    resolution: int = 200,
    class_names: Sequence[str] | None = None,
    title: str = "Decision boundary",
    xlabel: str = "x₁",
    ylabel: str = "x₂",
    value_label: str | None = None,
) -> Figure:
    """The classifier's decision regions over a 2-D plane, with the data points on top.

    Args:
        predict: maps an (M, 2) float32 array of points to, per point, either the probability of class 1
            ((M,) or (M, 1) in [0, 1]; a single column outside [0, 1] is taken as a logit), class
            probabilities or scores (M, C), or integer labels (M,). It may return a Tensor.
        X: the data points (N, 2). y: their labels (N,), (N, 1) or one-hot (N, C).
        bounds: ``(x_min, x_max, y_min, y_max)`` of the plane; default: the data's range plus a 10 % margin.
        resolution: grid points along each axis.
        value_label: what a single column in [0, 1] is, for the colour bar (default ``P(class 1)``): e.g. a
            regression output clipped to [0, 1] is not a probability.

    With one probability the plane is shaded by it (colour bar) and the 0.5 contour drawn; otherwise each
    predicted class gets a light version of its colour and the boundaries between classes are drawn.
    """
    X = as_array(X)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"decision_boundary: X must have shape (N, 2), got {X.shape}")
    labels = _labels(y)
    if labels.size != len(X):
        raise ValueError(f"decision_boundary: {len(X)} points but {labels.size} labels")
    if bounds is None:
        low, high = X.min(axis=0), X.max(axis=0)
        pad = np.maximum((high - low) * 0.1, 0.5 * (high == low) + 1e-9)
        bounds = (low[0] - pad[0], high[0] + pad[0], low[1] - pad[1], high[1] + pad[1])
    x_min, x_max, y_min, y_max = (float(b) for b in bounds)
    xs, ys = np.linspace(x_min, x_max, resolution), np.linspace(y_min, y_max, resolution)
    xx, yy = np.meshgrid(xs, ys)
    grid = np.column_stack([xx.ravel(), yy.ravel()]).astype(np.float32)
    out = as_array(predict(grid))
    if out.shape[0] != grid.shape[0]:
        raise ValueError(
            f"decision_boundary: predict returned {out.shape[0]} rows for {grid.shape[0]} points"
        )
    if out.ndim == 2 and out.shape[1] == 1:
        out = out[:, 0]

    from matplotlib.colors import LinearSegmentedColormap, ListedColormap
    from matplotlib.lines import Line2D

    fig, axes = new_figure()
    ax = axes[0, 0]
    handles: list[Any] = []
    integral = out.ndim == 1 and bool(np.all(np.isfinite(out)) and np.all(out == np.round(out)))
    if out.ndim == 1 and not integral:  # the probability (or logit) of class 1
        prob = out if (out.min() >= 0 and out.max() <= 1) else 1 / (1 + np.exp(-np.clip(out, -60, 60)))
        cmap = LinearSegmentedColormap.from_list(
            "numnet_binary", [_light(CLASS_COLORS[0], 0.35), (1, 1, 1), _light(CLASS_COLORS[1], 0.35)]
        )
        shade = ax.contourf(
            xx, yy, prob.reshape(xx.shape), levels=np.linspace(0, 1, 11), cmap=cmap, alpha=0.85
        )
        colorbar = fig.colorbar(shade, ax=ax, ticks=np.linspace(0, 1, 6))
        colorbar.set_label(value_label or f"P({_class_name(class_names, 1)})")
        if prob.min() < 0.5 < prob.max():
            ax.contour(xx, yy, prob.reshape(xx.shape), levels=[0.5], colors="black", linewidths=1.5)
            line_label = "P = 0.5" if value_label is None else "0.5 (the class threshold)"
            handles.append(Line2D([], [], color="black", linewidth=1.5, label=line_label))
    else:
        predicted = out.astype(np.int64) if out.ndim == 1 else out.argmax(axis=1)
        n_classes = int(max(predicted.max(), labels.max()) + 1)
        cmap = ListedColormap([_light(CLASS_COLORS[c % len(CLASS_COLORS)]) for c in range(n_classes)])
        grid_labels = predicted.reshape(xx.shape)
        ax.contourf(
            xx, yy, grid_labels, levels=np.arange(-0.5, n_classes), cmap=cmap, vmin=-0.5, vmax=n_classes - 0.5
        )
        if len(np.unique(predicted)) > 1:
            ax.contour(
                xx, yy, grid_labels, levels=np.arange(0.5, n_classes - 1), colors="black", linewidths=1.2
            )
            handles.append(Line2D([], [], color="black", linewidth=1.2, label="decision boundary"))
    size = 45 if len(X) <= 200 else (14 if len(X) <= 2000 else 5)
    point_handles = []
    for c in np.unique(labels):
        mask = labels == c
        point_handles.append(
            ax.scatter(
                X[mask, 0],
                X[mask, 1],
                s=size,
                color=CLASS_COLORS[int(c) % len(CLASS_COLORS)],
                edgecolors="black",
                linewidths=0.6 if size > 10 else 0.2,
                label=_class_name(class_names, int(c)),
                zorder=3,
            )
        )
    ax.set_xlim(x_min, x_max)
    ax.set_ylim(y_min, y_max)
    ax.grid(False)
    label_axes(ax, title, xlabel, ylabel)
    ax.legend(handles=point_handles + handles, loc="best")
    return fig


@styled
def confusion_matrix(
    cm: Any,
    class_names: Sequence[str] | None = None,
    normalize: bool = False,
    title: str | None = None,
) -> Figure:
    """A confusion matrix: rows the true class, columns the predicted class, every cell annotated.

    ``cm`` is a (C, C) array of counts (``numnet.metrics.confusion_matrix`` gives one). With ``normalize``
    each row is divided by its total (the fraction of each true class predicted as each class). The title
    gives the overall accuracy when ``cm`` holds counts.
    """
    counts = as_array(cm)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1]:
        raise ValueError(f"confusion_matrix: cm must be square (C, C), got shape {counts.shape}")
    n = counts.shape[0]
    if class_names is not None and len(class_names) != n:
        raise ValueError(f"confusion_matrix: {len(class_names)} class names for {n} classes")
    names = [str(c) for c in class_names] if class_names is not None else [str(i) for i in range(n)]
    shown = counts
    if normalize:
        totals = counts.sum(axis=1, keepdims=True)
        shown = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    if title is None:
        title = "Confusion matrix" + (" (fraction of each true class)" if normalize else "")
        total = counts.sum()
        if total > 0 and np.all(counts == np.round(counts)):
            title += f"\naccuracy {np.trace(counts) / total:.2%} of {int(total):,}"
    side = max(4.8, 0.5 * n + 2.6)
    fig, axes = new_figure(figsize=(side + 0.9, side))
    ax = axes[0, 0]
    vmax = 1.0 if normalize else max(float(shown.max()), 1.0)
    image = ax.imshow(shown, cmap="Blues", vmin=0, vmax=vmax, interpolation="nearest")
    colorbar = fig.colorbar(image, ax=ax, shrink=0.85)
    colorbar.set_label("fraction of the true class" if normalize else "count")
    if n <= 30:
        fontsize = 10 if n <= 10 else (8 if n <= 16 else 6)
        for i in range(n):
            for j in range(n):
                value = shown[i, j]
                text = (
                    f"{value:.2f}"
                    if normalize
                    else (f"{int(value)}" if value == round(value) else f"{value:.3g}")
                )
                ax.text(
                    j,
                    i,
                    text,
                    ha="center",
                    va="center",
                    fontsize=fontsize,
                    color="white" if value > 0.55 * vmax else "black",
                )
    ax.set_xticks(
        range(n),
        names,
        rotation=45 if max(map(len, names)) > 3 else 0,
        ha="right" if max(map(len, names)) > 3 else "center",
    )
    ax.set_yticks(range(n), names)
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(True)
    label_axes(ax, title, "predicted class", "true class")
    return fig


def _image_array(images: Any, shape: tuple[int, ...]) -> np.ndarray:
    data = as_array(images, dtype=None)
    if data.ndim == 2:  # flat rows
        if int(np.prod(shape)) != data.shape[1]:
            side = math.isqrt(data.shape[1])
            if side * side != data.shape[1]:
                raise ValueError(f"image_grid: rows of {data.shape[1]} values do not make {shape} images")
            shape = (side, side)
        return data.reshape(len(data), *shape)
    if data.ndim == 4 and data.shape[1] in (1, 3) and data.shape[-1] not in (1, 3):  # (N, C, H, W)
        data = np.moveaxis(data, 1, -1)
    if data.ndim == 4 and data.shape[-1] == 1:
        data = data[..., 0]
    if data.ndim not in (3, 4):
        raise ValueError(f"image_grid: expected (N, H·W), (N, H, W) or (N, H, W, 3) images, got {data.shape}")
    return data


@styled
def image_grid(
    images: Any,
    true_labels: Any,
    predicted_labels: Any = None,
    shape: tuple[int, int] = (28, 28),
    n: int = 25,
    class_names: Sequence[str] | None = None,
    title: str | None = None,
    errors_only: bool = False,
    cmap: str = "gray_r",
) -> Figure:
    """A grid of the first ``n`` images with their labels.

    ``images`` (N, H·W) flat rows (reshaped to ``shape``), (N, H, W), (N, 1, H, W) or (N, H, W, 3). Each image
    is titled with its true label or, given ``predicted_labels``, with the prediction: wrong predictions are
    written ``predicted/true`` in red and framed in red. ``errors_only`` shows only the wrong ones.
    Labels may be integers, one-hot rows or scores (argmax).
    """
    data = _image_array(images, tuple(shape))
    true = _labels(true_labels)
    predicted = _labels(predicted_labels) if predicted_labels is not None else None
    if len(true) != len(data) or (predicted is not None and len(predicted) != len(data)):
        raise ValueError("image_grid: images, true_labels and predicted_labels must have the same length")
    index = np.arange(len(data))
    if errors_only:
        if predicted is None:
            raise ValueError("image_grid: errors_only needs predicted_labels")
        index = index[predicted != true]
    index = index[: max(int(n), 0)]
    count = len(index)
    cols = max(1, math.ceil(math.sqrt(count))) if count else 1
    rows = max(1, math.ceil(count / cols))
    width, height = 1.35 * cols + 0.3, 1.5 * rows + 0.55
    # Fixed placement, not constrained layout: the same result for a uniform grid, many times faster.
    fig, axes = new_figure(rows, cols, figsize=(width, height), layout=None)
    fig.subplots_adjust(
        left=0.15 / width,
        right=1 - 0.15 / width,
        bottom=0.1 / height,
        top=1 - 0.55 / height,
        wspace=0.12,
        hspace=0.3,
    )

    def name(c: int) -> str:
        return str(class_names[c]) if class_names is not None and c < len(class_names) else str(c)

    wrong_total = 0
    for k, ax in enumerate(axes.ravel()):
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
        if k >= count:
            ax.set_axis_off()
            continue
        i = index[k]
        ax.imshow(data[i], cmap=cmap if data.ndim == 3 else None, interpolation="nearest")
        if predicted is None:
            ax.set_title(name(true[i]), fontsize=9, fontweight="normal")
            continue
        wrong = predicted[i] != true[i]
        wrong_total += int(wrong)
        ax.set_title(
            f"{name(predicted[i])}/{name(true[i])}" if wrong else name(predicted[i]),
            fontsize=9,
            color=WRONG_COLOR if wrong else "black",
            fontweight="bold" if wrong else "normal",
        )
        for spine in ax.spines.values():
            spine.set_visible(True)
            spine.set_color(WRONG_COLOR if wrong else "#bbbbbb")
            spine.set_linewidth(2.2 if wrong else 0.6)
    if title is None:
        if predicted is None:
            title = "Images and their labels"
        elif errors_only:
            title = f"Wrong predictions (predicted/true): {count} shown"
        else:
            title = f"Predictions: {wrong_total} of {count} wrong (red: predicted/true)"
    fig.suptitle(title, fontsize=10, y=1 - 0.1 / height, va="top")
    return fig
