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
    exclude_zeros: bool = False,
    own_ranges: bool = False,
) -> Figure:
    """One histogram per entry of ``named_arrays`` (name → array of any shape), side by side.

    This is the activation-distribution figure of a weight-initialisation experiment: e.g. five layers'
    activations, ``range=(0, 1)`` for sigmoid. All panels share the bins (``range``, by default the range of
    all values together) and the y axis, so the layers compare at a glance; each panel notes the mean and
    standard deviation (of all the values). Up to ``max_cols`` panels a row.

    ``exclude_zeros``: leave exact zeros out of the bars (ReLU outputs: a spike at 0 that dwarfs the rest)
    and say in each panel what share of the values they are. ``own_ranges``: each panel gets the range of
    its own values and its own y axis (when the layers' scales differ by orders of magnitude).
    """
    if not named_arrays:
        raise ValueError("histograms: nothing to draw (named_arrays is empty)")
    arrays: dict[str, np.ndarray] = {}
    for name, value in named_arrays.items():
        if value is None:
            raise ValueError(f"histograms: {name!r} is None (a gradient before backward()?)")
        arrays[str(name)] = as_array(value).ravel()
    fixed_range = range
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
        rows,
        cols,
        figsize=(min(2.6 * cols + 0.6, 16.0), 2.7 * rows + (0.6 if title else 0.3)),
        sharey=not own_ranges,
    )
    edges = np.linspace(range[0], range[1], bins + 1)
    if exclude_zeros and fixed_range is None and not own_ranges:  # the zeros no longer set the range
        nonzero = [a[np.isfinite(a) & (a != 0)] for a in arrays.values()]
        nonzero = [a for a in nonzero if a.size]
        if nonzero:
            low, high = min(float(a.min()) for a in nonzero), max(float(a.max()) for a in nonzero)
            edges = np.linspace(low, high if high > low else low + 1.0, bins + 1)
    for k, ax in enumerate(axes.ravel()):
        if k >= n:
            ax.set_axis_off()
            continue
        name, values = list(arrays.items())[k]
        finite = values[np.isfinite(values)]
        drawn = finite[finite != 0] if exclude_zeros else finite
        panel_edges = edges
        if own_ranges and fixed_range is None and drawn.size:
            low, high = float(drawn.min()), float(drawn.max())
            panel_edges = np.linspace(low, high if high > low else low + 1.0, bins + 1)
        ax.hist(drawn, bins=panel_edges, color=color, edgecolor="white", linewidth=0.4)
        ax.set_title(name, fontsize=10)
        ax.set_xlim(panel_edges[0], panel_edges[-1])
        ax.set_xlabel(xlabel, fontsize=9)
        if k % cols == 0:
            ax.set_ylabel("count")
        if finite.size:
            ax.text(
                0.97,
                0.97,
                f"mean {finite.mean():.3g}\nstd {finite.std():.3g}"
                + (f"\nzeros {np.mean(finite == 0):.0%} (not drawn)" if exclude_zeros else ""),
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
