"""Histograms of activations, weights or gradients, one panel per layer (the weight-initialisation figure)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from numnet.plot.style import CLASS_COLORS, as_array, new_figure, styled

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure


@styled
def histograms(
    named_arrays: Mapping[str, Any],
    title: str | None = None,
    bins: int = 30,
    range: tuple[float, float] | None = None,
    xlabel: str = "value",
    max_cols: int = 5,
    color: str = CLASS_COLORS[0],
) -> Figure:
    """One histogram per entry of ``named_arrays`` (name → array of any shape), side by side.

    This is the activation-distribution figure of a weight-initialisation experiment: e.g. five layers'
    activations, ``range=(0, 1)`` for sigmoid. All panels share the bins (``range``, by default the range of
    all values together) and the y axis, so the layers compare at a glance; each panel notes the mean and
    standard deviation. Up to ``max_cols`` panels a row.
    """
    if not named_arrays:
        raise ValueError("histograms: nothing to draw (named_arrays is empty)")
    arrays: dict[str, np.ndarray] = {}
    for name, value in named_arrays.items():
        if value is None:
            raise ValueError(f"histograms: {name!r} is None (a gradient before backward()?)")
        arrays[str(name)] = as_array(value).ravel()
    if range is None:
        finite = [a[np.isfinite(a)] for a in arrays.values()]
        finite = [a for a in finite if a.size]
        if not finite:
            raise ValueError("histograms: no finite values to draw")
        low, high = min(float(a.min()) for a in finite), max(float(a.max()) for a in finite)
        if low == high:
            low, high = low - 0.5, high + 0.5
        range = (low, high)
    n = len(arrays)
    cols = min(n, max_cols)
    rows = math.ceil(n / cols)
    fig, axes = new_figure(
        rows, cols, figsize=(min(2.6 * cols + 0.6, 16.0), 2.7 * rows + (0.6 if title else 0.3)), sharey=True
    )
    edges = np.linspace(range[0], range[1], bins + 1)
    for k, ax in enumerate(axes.ravel()):
        if k >= n:
            ax.set_axis_off()
            continue
        name, values = list(arrays.items())[k]
        finite = values[np.isfinite(values)]
        ax.hist(finite, bins=edges, color=color, edgecolor="white", linewidth=0.4)
        ax.set_title(name, fontsize=10)
        ax.set_xlim(range)
        ax.set_xlabel(xlabel, fontsize=9)
        if k % cols == 0:
            ax.set_ylabel("count")
        if finite.size:
            ax.text(
                0.97,
                0.97,
                f"mean {finite.mean():.3g}\nstd {finite.std():.3g}",
                transform=ax.transAxes,
                ha="right",
                va="top",
                fontsize=8,
                bbox={"boxstyle": "round,pad=0.25", "facecolor": "white", "alpha": 0.8, "linewidth": 0},
            )
        ax.tick_params(labelsize=8)
    if title:
        fig.suptitle(title)
    return fig


def parameter_histograms(model: Any, grads: bool = False, title: str | None = None, **options: Any) -> Figure:
    """``histograms`` of a model's weights (``grads=False``) or of their gradients after ``backward()``.

    One panel per parameter, named by ``model.named_parameters()``; parameters without a gradient are skipped
    when ``grads=True``.
    """
    named: dict[str, Any] = {}
    for name, param in model.named_parameters():
        value = (None if param.grad is None else param.grad.data) if grads else param.data
        if value is not None:
            named[name] = value
    if not named:
        raise ValueError(
            "parameter_histograms: no " + ("gradients (run backward() first)" if grads else "parameters")
        )
    return histograms(
        named,
        title=title or ("Gradients" if grads else "Weights"),
        xlabel="gradient" if grads else "weight",
        **options,
    )
