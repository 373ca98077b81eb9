"""Optimizer paths over the contour lines of a 2-D function (SGD vs Momentum vs AdaGrad vs Adam)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from numnet.plot.style import CLASS_COLORS, as_array, label_axes, new_figure, styled

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def _levels(z: np.ndarray, levels: Any) -> Any:
    """Contour levels: as given, or 20 levels at quantiles of the surface (dense where it is flat)."""
    if levels is not None:
        return levels
    finite = z[np.isfinite(z)]
    quantiles = np.unique(np.quantile(finite, np.linspace(0.0, 1.0, 22)[1:-1] ** 2))
    return quantiles if quantiles.size >= 2 else 10


def _draw_path(ax: Axes, path: np.ndarray, color: str, label: str | None) -> None:
    ax.plot(
        path[:, 0], path[:, 1], color=color, marker="o", markersize=2.5, linewidth=1.4, label=label, zorder=3
    )
    ax.plot(
        *path[0],
        marker="o",
        markersize=7,
        color="white",
        markeredgecolor=color,
        markeredgewidth=1.5,
        zorder=4,
    )
    ax.plot(
        *path[-1],
        marker="*",
        markersize=13,
        color=color,
        markeredgecolor="black",
        markeredgewidth=0.6,
        zorder=5,
    )


@styled
def optimizer_paths(
    f: Callable[[np.ndarray, np.ndarray], np.ndarray],
    paths: Mapping[str, Any],
    bounds: Sequence[float],
    levels: Any = None,
    separate: bool = True,
    minimum: Sequence[float] | None = None,
    resolution: int = 300,
    title: str | None = None,
) -> Figure:
    """Contours of ``f(x, y)`` with the path each optimizer took.

    Args:
        f: the function, vectorised over NumPy arrays: ``f(X, Y)`` on a mesh grid (e.g. ``X**2 / 20 + Y**2``).
        paths: optimizer name → its iterates, an array (T, 2) (start first).
        bounds: ``(x_min, x_max, y_min, y_max)`` of the picture.
        levels: contour levels (a count or a sequence); default: 20 levels dense near the minimum.
        separate: one panel per optimizer (a 2-column grid: the four-panel comparison) or, if False, all paths
            on one axes with a legend.
        minimum: ``(x, y)`` of the true minimum, marked with a cross.

    Each path is drawn with its iterates as dots, its start as a hollow circle and its end as a star; each
    panel's title gives the end point.
    """
    if not paths:
        raise ValueError("optimizer_paths: no paths to draw")
    arrays: dict[str, np.ndarray] = {}
    for name, path in paths.items():
        array = as_array(path)
        if array.ndim != 2 or array.shape[1] != 2 or len(array) == 0:
            raise ValueError(
                f"optimizer_paths: the path of {name!r} must have shape (T, 2), got {array.shape}"
            )
        arrays[str(name)] = array
    x_min, x_max, y_min, y_max = (float(b) for b in bounds)
    xs, ys = np.linspace(x_min, x_max, resolution), np.linspace(y_min, y_max, resolution)
    xx, yy = np.meshgrid(xs, ys)
    z = as_array(f(xx, yy))
    if z.shape != xx.shape:
        raise ValueError(f"optimizer_paths: f(X, Y) returned shape {z.shape} for a grid of {xx.shape}")
    contour_levels = _levels(z, levels)

    n = len(arrays) if separate else 1
    cols = 1 if n == 1 else 2
    rows = math.ceil(n / cols)
    figsize = (6.4, 4.8) if n == 1 else (5.4 * cols, 3.9 * rows + (0.4 if title else 0))
    fig, axes = new_figure(rows, cols, figsize=figsize)
    flat = axes.ravel()

    def background(ax: Axes) -> None:
        ax.contour(xx, yy, z, levels=contour_levels, cmap="Greys", linewidths=0.7, alpha=0.8, zorder=1)
        if minimum is not None:
            ax.plot(*minimum, marker="+", markersize=14, markeredgewidth=1.5, color="black", zorder=2)
        ax.set_xlim(x_min, x_max)
        ax.set_ylim(y_min, y_max)
        ax.grid(False)

    items = list(arrays.items())
    if separate:
        for k, ax in enumerate(flat):
            if k >= n:
                ax.set_axis_off()
                continue
            name, path = items[k]
            background(ax)
            _draw_path(ax, path, CLASS_COLORS[k % len(CLASS_COLORS)], None)
            end = path[-1]
            end_text = ", ".join(f"{round(float(v), 2) + 0.0:.2f}" for v in end)
            label_axes(ax, f"{name}: end ({end_text}) after {len(path) - 1} steps", "x", "y")
    else:
        ax = flat[0]
        background(ax)
        for k, (name, path) in enumerate(items):
            _draw_path(ax, path, CLASS_COLORS[k % len(CLASS_COLORS)], name)
        label_axes(ax, title or "Optimizer paths", "x", "y")
        ax.legend(loc="best")
    if title and separate:
        fig.suptitle(title)
    return fig
