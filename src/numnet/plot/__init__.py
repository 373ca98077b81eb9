"""Layer 8: pictures of training and of what a network learned, drawn with matplotlib.

Every function takes the data it needs and returns a ``matplotlib.figure.Figure`` (a notebook shows it);
``save_figure(fig, "out/loss.png")`` writes it (PNG, SVG or PDF by the suffix). Figures are created without
``pyplot``: no window opens, nothing global changes, and any backend works.

matplotlib is an optional extra (``pip install numnet[plot]``): ``import numnet.plot`` works without it,
``is_available()`` tells whether it is there, and drawing without it raises an ImportError that says how to
install it.

- curves: ``training_curves``, ``step_loss_curve``, ``loss_range_curve``, ``lr_curve``, ``training_figures``
- regression: ``fit_1d``
- classification: ``decision_boundary``, ``confusion_matrix``, ``image_grid``
- distributions: ``histograms``, ``parameter_histograms``
- paths: ``optimizer_paths``
"""

from numnet.plot.classification import confusion_matrix, decision_boundary, image_grid
from numnet.plot.curves import (
    loss_range_curve,
    loss_ranges,
    lr_changed,
    lr_curve,
    step_loss_curve,
    training_curves,
    training_figures,
)
from numnet.plot.distributions import histograms, parameter_histograms
from numnet.plot.paths import optimizer_paths
from numnet.plot.regression import fit_1d
from numnet.plot.style import is_available, new_figure, require_matplotlib, save_figure

__all__ = [
    "confusion_matrix",
    "decision_boundary",
    "fit_1d",
    "histograms",
    "image_grid",
    "is_available",
    "loss_range_curve",
    "loss_ranges",
    "lr_changed",
    "lr_curve",
    "new_figure",
    "optimizer_paths",
    "parameter_histograms",
    "require_matplotlib",
    "save_figure",
    "step_loss_curve",
    "training_curves",
    "training_figures",
]
