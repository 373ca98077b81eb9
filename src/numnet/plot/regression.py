"""A 1-D regression fit: the target curve, the network's prediction, and the training samples."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from numnet.plot.style import CLASS_COLORS, as_array, label_axes, new_figure, styled

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure


@styled
def fit_1d(
    x: Any,
    y_true: Any,
    y_pred: Any,
    title: str = "Fit",
    x_train: Any = None,
    y_train: Any = None,
    xlabel: str = "x",
    ylabel: str = "y",
    show_mse: bool = True,
) -> Figure:
    """The target ``y_true`` and the prediction ``y_pred`` at the points ``x`` as two lines (sorted by x).

    Arrays may be (N,) or (N, 1), NumPy or numnet tensors. ``x_train``/``y_train`` add the training samples as
    small grey points. With ``show_mse`` the prediction's legend entry gives its mean squared error.
    """
    x = as_array(x).reshape(-1)
    y_true = as_array(y_true).reshape(-1)
    y_pred = as_array(y_pred).reshape(-1)
    if not (x.size == y_true.size == y_pred.size):
        raise ValueError(
            f"fit_1d: x, y_true and y_pred must have the same number of points, got {x.size}, {y_true.size}, "
            f"{y_pred.size}"
        )
    order = np.argsort(x, kind="stable")
    fig, axes = new_figure()
    ax = axes[0, 0]
    if x_train is not None and y_train is not None:
        xt, yt = as_array(x_train).reshape(-1), as_array(y_train).reshape(-1)
        ax.scatter(
            xt,
            yt,
            s=10,
            color="#8c8c8c",
            alpha=0.45,
            linewidths=0,
            label=f"training samples ({xt.size})",
            zorder=1,
        )
    ax.plot(x[order], y_true[order], color="black", linewidth=2, label="target", zorder=2)
    label = "prediction"
    if show_mse:
        label += f" (MSE {np.mean((y_pred - y_true) ** 2):.3g})"
    ax.plot(
        x[order], y_pred[order], color=CLASS_COLORS[1], linewidth=2, linestyle="--", label=label, zorder=3
    )
    label_axes(ax, title, xlabel, ylabel)
    ax.legend(loc="best", markerscale=1.8)
    return fig
