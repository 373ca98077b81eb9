"""Shared look of every numnet picture, figure creation, and ``save_figure``.

Figures are made with ``matplotlib.figure.Figure`` directly, never through ``pyplot``: no global state, no GUI
window, safe in threads and scripts; a notebook shows a returned figure as it shows any matplotlib figure.
matplotlib is imported only when a picture is drawn, so ``import numnet.plot`` works without it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: Default size of a one-panel figure, inches (matplotlib's default), and the resolution of saved PNGs.
FIGSIZE = (6.4, 4.8)
DPI = 120

#: Training split vs validation split, in every curve.
TRAIN_COLOR = "#1f77b4"
VAL_COLOR = "#ff7f0e"
#: Classes, in order (class 0 blue, class 1 red, …); optimizer paths and histogram series use the same list.
CLASS_COLORS = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
WRONG_COLOR = "#d62728"

_RC = {
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "legend.framealpha": 0.85,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "figure.titlesize": 12,
    "figure.titleweight": "bold",
    "lines.linewidth": 1.6,
}


def is_available() -> bool:
    """Whether matplotlib can be imported (so the picture functions can draw)."""
    try:
        require_matplotlib()
    except ImportError:
        return False
    return True


def require_matplotlib() -> Any:
    """Import and return matplotlib, or raise an ImportError that says how to install it."""
    try:
        import matplotlib
    except ImportError as exc:  # pragma: no cover - exercised only without matplotlib
        raise ImportError(
            "numnet.plot draws with matplotlib, which is not installed: pip install numnet[plot]"
        ) from exc
    return matplotlib


_FIGURE_CLASS: Any = None


def _figure_class() -> Any:
    """``NumnetFigure``: a matplotlib ``Figure`` that a notebook shows as a PNG even without pyplot.

    (IPython shows a figure through the formatter that matplotlib's inline backend registers when pyplot is
    loaded; without pyplot it falls back to ``_repr_png_``.) Made on first use, so matplotlib stays optional.
    """
    global _FIGURE_CLASS
    if _FIGURE_CLASS is None:
        require_matplotlib()
        import io

        from matplotlib.figure import Figure

        class NumnetFigure(Figure):
            __module__ = __name__
            __qualname__ = "NumnetFigure"

            def _repr_png_(self) -> bytes:
                buffer = io.BytesIO()
                self.savefig(buffer, format="png", dpi=DPI, facecolor="white")
                return buffer.getvalue()

        _FIGURE_CLASS = NumnetFigure
    return _FIGURE_CLASS


def __getattr__(name: str) -> Any:  # ``numnet.plot.style.NumnetFigure`` (e.g. for unpickling a figure)
    if name == "NumnetFigure":
        return _figure_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def new_figure(
    nrows: int = 1,
    ncols: int = 1,
    figsize: tuple[float, float] | None = None,
    layout: str | None = "constrained",
    **subplot_kw: Any,
) -> tuple[Figure, np.ndarray]:
    """A figure with an ``nrows`` × ``ncols`` grid of axes in numnet's style; axes returned as a 2-D array.

    The layout is matplotlib's constrained layout (titles, labels and colour bars never overlap) unless
    ``layout`` says otherwise (``None``: place the axes yourself, e.g. with ``fig.subplots_adjust``).
    """
    matplotlib = require_matplotlib()
    figure_class = _figure_class()
    if figsize is None:
        figsize = (
            min(FIGSIZE[0] * max(ncols, 1) * 0.8 + 1.3, 16.0),
            min(FIGSIZE[1] * max(nrows, 1) * 0.8 + 0.9, 14.0),
        )
        if nrows == ncols == 1:
            figsize = FIGSIZE
    with matplotlib.rc_context(_RC):
        fig = figure_class(figsize=figsize, dpi=DPI, layout=layout)
        axes = fig.subplots(nrows, ncols, squeeze=False, **subplot_kw)
    return fig, axes


def styled(func: Any) -> Any:
    """Decorator: draw inside numnet's rc settings (fonts, grid), so artists created later share the look."""
    import functools

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        matplotlib = require_matplotlib()
        with matplotlib.rc_context(_RC):
            return func(*args, **kwargs)

    return wrapper


def save_figure(fig: Figure, path: str | Path, dpi: int | None = None, format: str | None = None) -> Path:
    """Write ``fig`` to ``path`` (PNG, SVG or PDF by ``format`` or the suffix; PNG when there is neither);
    return the path.

    Parent folders are created. ``dpi`` defaults to 120 (readable on screen and in a README). The file is
    written all at once (``numnet.files.atomic_write``): an interrupted save leaves the old picture, or none.
    """
    require_matplotlib()
    from numnet.files import atomic_write

    path = Path(path)
    suffix = (format or path.suffix).lower().lstrip(".")
    if suffix not in {"png", "svg", "pdf", "jpg", "jpeg"}:
        if suffix:
            raise ValueError(f"save_figure: cannot write {path.name!r}; use a .png, .svg or .pdf file name")
        path = path.with_suffix(".png")
        suffix = "png"
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as handle:
        fig.savefig(handle, dpi=dpi or DPI, format=suffix, facecolor="white")
    return path


def log_scale_wanted(values: Any, decades: float = 2.0) -> bool:
    """Whether positive ``values`` span at least ``decades`` powers of ten (a log axis then reads better)."""
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[np.isfinite(v)]
    if v.size < 2 or (v <= 0).any():
        return False
    return bool(np.log10(v.max() / v.min()) >= decades)


def label_axes(
    ax: Axes, title: str | None = None, xlabel: str | None = None, ylabel: str | None = None
) -> None:
    if title is not None:
        ax.set_title(title)
    if xlabel is not None:
        ax.set_xlabel(xlabel)
    if ylabel is not None:
        ax.set_ylabel(ylabel)


def as_array(value: Any, dtype: Any = np.float64) -> np.ndarray:
    """An ndarray from an ndarray, a list or a numnet Tensor (through ``__array__``)."""
    return np.asarray(value, dtype=dtype) if dtype is not None else np.asarray(value)
