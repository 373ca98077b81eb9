"""The training recipe: named datasets, a run's settings and ``train_from_settings``, for every front end.

The command line (``numnet train``, ``sweep``, ``evaluate``, ``graph``) and the estimators build on this
package; it raises ``ValueError`` with a message that says what to change (the CLI prints it as one line).
Layer: application, below ``numnet.cli``; it imports nn, optim, data, train, io, metrics and plot.
"""

from numnet.recipe.datasets import NAMED, DatasetError, Splits, load_dataset
from numnet.recipe.settings import (
    ACTIVATIONS,
    DEFAULTS,
    LOSSES,
    MODELS,
    OPTIMIZERS,
    SCHEDULERS,
    TASKS,
    check_settings,
    defaults_for,
    ignored_settings,
    parse_hidden,
    settings_differences,
)
from numnet.recipe.training import (
    SettingWarning,
    build_model,
    choose_loss,
    make_loss,
    make_scheduler,
    metrics_for,
    output_width,
    targets_for,
    train_from_settings,
)

__all__ = [
    "ACTIVATIONS",
    "DEFAULTS",
    "LOSSES",
    "MODELS",
    "NAMED",
    "OPTIMIZERS",
    "SCHEDULERS",
    "TASKS",
    "DatasetError",
    "SettingWarning",
    "Splits",
    "build_model",
    "check_settings",
    "choose_loss",
    "defaults_for",
    "ignored_settings",
    "load_dataset",
    "make_loss",
    "make_scheduler",
    "metrics_for",
    "output_width",
    "parse_hidden",
    "settings_differences",
    "targets_for",
    "train_from_settings",
]
