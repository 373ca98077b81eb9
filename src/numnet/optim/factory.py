"""Optimizers by name, for the command line, sweeps and the scikit-learn estimators."""

from __future__ import annotations

from typing import Any

from numnet.optim.adagrad import Adagrad
from numnet.optim.adam import Adam, AdamW
from numnet.optim.optimizer import Optimizer
from numnet.optim.rmsprop import RMSprop
from numnet.optim.sgd import SGD

OPTIMIZERS = ("sgd", "momentum", "adagrad", "rmsprop", "adam", "adamw")


def create_optimizer(
    name: str, params: Any, lr: float, momentum: float = 0.0, weight_decay: float = 0.0
) -> Optimizer:
    """``name`` is one of ``OPTIMIZERS``: ``sgd`` (with ``momentum``, default none), ``momentum`` (SGD with
    ``momentum``, 0.9 when not given), or ``adagrad``/``rmsprop``/``adam``/``adamw`` with their defaults."""
    if name == "sgd":
        return SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    if name == "momentum":
        return SGD(params, lr=lr, momentum=momentum or 0.9, weight_decay=weight_decay)
    adaptive = {"adagrad": Adagrad, "rmsprop": RMSprop, "adam": Adam, "adamw": AdamW}
    if name not in adaptive:
        raise ValueError(f"unknown optimizer {name!r}; choose from {', '.join(OPTIMIZERS)}")
    return adaptive[name](params, lr=lr, weight_decay=weight_decay)
