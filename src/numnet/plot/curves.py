"""Training curves from a ``History``: loss and metrics per epoch, loss per step, loss range, learning rate.

Every function takes a ``numnet.train.History`` (or its ``to_dict()`` form, or a plain dict of per-epoch lists
such as ``{"loss": [...], "val_loss": [...]}``) and returns a matplotlib ``Figure``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from numnet.plot.style import (
    CLASS_COLORS,
    TRAIN_COLOR,
    VAL_COLOR,
    label_axes,
    log_scale_wanted,
    new_figure,
    styled,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# Per-epoch keys that are not curves of their own.
_NOT_CURVES = {"lr", "time", "epoch", "loss_min", "loss_max", "step", "steps"}
_TITLES = {
    "loss": "Loss",
    "accuracy": "Accuracy",
    "mse": "Mean squared error",
    "mae": "Mean absolute error",
    "r2": "R²",
    "lr": "Learning rate",
}


# ---------------------------------------------------------------------------------------------------------
# Reading a history
# ---------------------------------------------------------------------------------------------------------


class _Records:
    """A uniform view of a History, its dict form, or a dict of per-epoch lists."""

    def __init__(self, history: Any) -> None:
        if hasattr(history, "epochs") and not isinstance(history, Mapping):
            self.epochs = [dict(r) for r in history.epochs]
            self.step_loss = list(getattr(history, "step_loss", None) or [])
            self.step_lr = list(getattr(history, "step_lr", None) or [])
        elif (
            isinstance(history, Mapping)
            and isinstance(history.get("epochs"), Sequence)
            and all(isinstance(r, Mapping) for r in history["epochs"])
        ):
            self.epochs = [dict(r) for r in history["epochs"]]
            self.step_loss = list(history.get("step_loss") or [])
            self.step_lr = list(history.get("step_lr") or [])
        elif isinstance(history, Mapping):
            columns = {k: list(v) for k, v in history.items() if k not in {"step_loss", "step_lr"}}
            length = max((len(v) for v in columns.values()), default=0)
            self.epochs = [{k: v[i] for k, v in columns.items() if i < len(v)} for i in range(length)]
            self.step_loss = list(history.get("step_loss") or [])
            self.step_lr = list(history.get("step_lr") or [])
        else:
            raise TypeError(
                f"expected a numnet History (or a dict of per-epoch lists), got {type(history).__name__}"
            )

    def keys(self) -> list[str]:
        seen: dict[str, None] = {}
        for record in self.epochs:
            seen.update(dict.fromkeys(record))
        return list(seen)

    def series(self, key: str) -> np.ndarray:
        values = [record.get(key) for record in self.epochs]
        return np.array([math.nan if v is None else float(v) for v in values], dtype=np.float64)

    def has(self, key: str) -> bool:
        return len(self.epochs) > 0 and np.isfinite(self.series(key)).any()


def _epochs_axis(ax: Axes) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")


def _base(key: str) -> str:
    return key[4:] if key.startswith("val_") else key


def _groups(records: _Records, keys: Sequence[str] | None) -> dict[str, list[str]]:
    """base name → the keys drawn on its axes (``loss`` → ``loss``, ``val_loss``), in a stable order."""
    if keys is None:
        wanted = ["loss", "val_loss", "accuracy", "val_accuracy"]
        keys = [k for k in wanted if records.has(k)]
        if not any(_base(k) == "loss" for k in keys):  # e.g. a history of metrics only
            keys = [k for k in records.keys() if k not in _NOT_CURVES and records.has(k)]
    else:
        missing = [k for k in keys if k not in records.keys()]
        if missing:
            raise KeyError(
                f"the history has no {', '.join(map(repr, missing))}; "
                f"recorded: {', '.join(records.keys()) or 'none'}"
            )
    groups: dict[str, list[str]] = {}
    for key in keys:
        groups.setdefault(_base(key), []).append(key)
    return groups


def _draw_group(ax: Axes, records: _Records, base: str, keys: list[str]) -> None:
    epochs = np.arange(1, len(records.epochs) + 1)
    marker = "o" if len(epochs) <= 30 else None
    drawn = []
    for key in keys:
        values = records.series(key)
        is_val = key.startswith("val_")
        ax.plot(
            epochs,
            values,
            color=VAL_COLOR if is_val else TRAIN_COLOR,
            marker=marker,
            markersize=3.5,
            label="validation" if is_val else "train",
        )
        drawn.append(values)
        if is_val and np.isfinite(values).any() and len(epochs) > 1:
            best = int(np.nanargmax(values) if base in {"accuracy", "r2"} else np.nanargmin(values))
            ax.plot(
                epochs[best],
                values[best],
                linestyle="none",
                marker="*",
                markersize=11,
                color=VAL_COLOR,
                markeredgecolor="black",
                markeredgewidth=0.6,
                label=f"best validation: {values[best]:.4g} (epoch {epochs[best]})",
            )
    if base == "loss" and log_scale_wanted(np.concatenate(drawn)):
        ax.set_yscale("log")
    label_axes(ax, _TITLES.get(base, base.replace("_", " ").capitalize()), None, base.replace("_", " "))
    _epochs_axis(ax)
    ax.legend(loc="best")


# ---------------------------------------------------------------------------------------------------------
# Pictures
# ---------------------------------------------------------------------------------------------------------


@styled
def training_curves(history: Any, keys: Sequence[str] | None = None, title: str | None = None) -> Figure:
    """Per-epoch curves, training against validation: one axes per quantity.

    With ``keys=None``: the loss (train and validation) on one axes and, when accuracy was recorded, the
    accuracy on a second. Otherwise every key in ``keys``, ``x`` and ``val_x`` sharing an axes. The loss axis
    is logarithmic when the loss spans two decades or more; the best validation epoch is starred.
    """
    records = _Records(history)
    if not records.epochs:
        raise ValueError("training_curves: the history has no epochs yet (train at least one epoch)")
    groups = _groups(records, keys)
    if not groups:
        raise ValueError(
            f"training_curves: nothing to draw; recorded keys: {', '.join(records.keys()) or 'none'}"
        )
    n = len(groups)
    fig, axes = new_figure(1, n, figsize=(6.4, 4.8) if n == 1 else (5.2 * n, 4.3))
    for ax, (base, group_keys) in zip(axes[0], groups.items(), strict=True):
        _draw_group(ax, records, base, group_keys)
    if title:
        fig.suptitle(title)
    return fig


def _moving_average(values: np.ndarray, window: int) -> np.ndarray:
    kernel = np.ones(window) / window
    return np.convolve(values, kernel, mode="valid")


@styled
def step_loss_curve(history: Any, smooth: int | None = None, title: str = "Loss per step") -> Figure:
    """The loss of every optimisation step (every batch), with a moving average when there are many.

    ``smooth`` is the moving-average window in steps (default: about a fiftieth of the run; none below 100
    steps). The axis is logarithmic when the loss spans two decades or more.
    """
    records = _Records(history)
    losses = np.asarray(records.step_loss, dtype=np.float64)
    if losses.size == 0:
        raise ValueError("step_loss_curve: the history recorded no per-step losses")
    steps = np.arange(1, losses.size + 1)
    window = smooth if smooth is not None else (max(losses.size // 50, 2) if losses.size >= 100 else 1)
    fig, axes = new_figure()
    ax = axes[0, 0]
    if window > 1 and losses.size > window:
        ax.plot(steps, losses, color=TRAIN_COLOR, alpha=0.3, linewidth=0.8, label="per step")
        # centred: the mean of steps i … i + window − 1 is drawn at their middle, so it does not trail
        centres = np.arange(losses.size - window + 1) + (window + 1) / 2
        ax.plot(
            centres,
            _moving_average(losses, window),
            color=TRAIN_COLOR,
            linewidth=2,
            label=f"centred moving average ({window} steps)",
        )
    else:
        ax.plot(
            steps,
            losses,
            color=TRAIN_COLOR,
            marker="o" if losses.size <= 30 else None,
            markersize=3.5,
            label="per step",
        )
    if log_scale_wanted(losses):
        ax.set_yscale("log")
    label_axes(ax, title, "step", "loss")
    ax.legend(loc="best")
    return fig


def loss_ranges(
    history: Any, steps_per_epoch: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(min, mean, max) of the loss in each epoch, each of shape (epochs,).

    From per-epoch ``loss_min``/``loss_max`` (with ``loss`` as the mean) when the history recorded them;
    otherwise from ``step_loss`` cut into epochs of ``steps_per_epoch`` steps (by default the number of steps
    divided by the number of epochs; with per-sample SGD that is the number of training samples).
    """
    records = _Records(history)
    if records.has("loss_min") and records.has("loss_max"):
        low, high = records.series("loss_min"), records.series("loss_max")
        mean = records.series("loss") if records.has("loss") else (low + high) / 2
        return low, mean, high
    losses = np.asarray(records.step_loss, dtype=np.float64)
    if losses.size == 0:
        raise ValueError(
            "loss_ranges: the history has neither loss_min/loss_max per epoch nor per-step losses"
        )
    if steps_per_epoch is None:
        if not records.epochs or losses.size % len(records.epochs):
            raise ValueError(
                f"loss_ranges: cannot cut {losses.size} step losses into {len(records.epochs)} epochs "
                "evenly; "
                "pass steps_per_epoch="
            )
        steps_per_epoch = losses.size // len(records.epochs)
    if steps_per_epoch < 1 or losses.size < steps_per_epoch:
        raise ValueError(
            f"loss_ranges: steps_per_epoch={steps_per_epoch} does not fit {losses.size} step losses"
        )
    per_epoch = losses[: losses.size // steps_per_epoch * steps_per_epoch].reshape(-1, steps_per_epoch)
    mean = per_epoch.mean(axis=1)
    if records.has("loss") and len(records.epochs) == len(per_epoch):
        mean = np.where(np.isfinite(records.series("loss")), records.series("loss"), mean)
    return per_epoch.min(axis=1), mean, per_epoch.max(axis=1)


@styled
def loss_range_curve(
    history: Any, steps_per_epoch: int | None = None, title: str = "Loss per epoch: min, mean and max"
) -> Figure:
    """Minimum, mean and maximum loss of each epoch as three lines over a shaded min–max band.

    Works from a History of per-sample (or per-batch) SGD: ``loss_ranges`` says where the numbers come from.
    """
    low, mean, high = loss_ranges(history, steps_per_epoch)
    epochs = np.arange(1, len(mean) + 1)
    marker = "o" if len(epochs) <= 30 else None
    fig, axes = new_figure()
    ax = axes[0, 0]
    ax.fill_between(epochs, low, high, color=TRAIN_COLOR, alpha=0.15, linewidth=0, label="min–max range")
    ax.plot(epochs, high, color=CLASS_COLORS[1], linestyle="--", marker=marker, markersize=3, label="max")
    ax.plot(epochs, mean, color=TRAIN_COLOR, marker=marker, markersize=3.5, linewidth=2, label="mean")
    ax.plot(epochs, low, color=CLASS_COLORS[2], linestyle="--", marker=marker, markersize=3, label="min")
    if log_scale_wanted(np.concatenate([low, high])):
        ax.set_yscale("log")
    label_axes(ax, title, None, "loss")
    _epochs_axis(ax)
    ax.legend(loc="best")
    return fig


def _lr_values(records: _Records) -> tuple[np.ndarray, str]:
    if records.step_lr:
        return np.asarray(records.step_lr, dtype=np.float64), "step"
    if records.has("lr"):
        return records.series("lr"), "epoch"
    return np.empty(0), ""


@styled
def lr_curve(history: Any, title: str = "Learning rate") -> Figure:
    """The learning rate per step (when recorded per step) or per epoch; logarithmic across decades."""
    records = _Records(history)
    values, unit = _lr_values(records)
    if values.size == 0:
        raise ValueError("lr_curve: the history recorded no learning rate (no step_lr, no per-epoch lr)")
    x = np.arange(1, values.size + 1)
    fig, axes = new_figure()
    ax = axes[0, 0]
    ax.plot(
        x,
        values,
        color=CLASS_COLORS[3],
        drawstyle="steps-post" if unit == "step" else "default",
        marker="o" if unit == "epoch" and values.size <= 30 else None,
        markersize=3.5,
    )
    if log_scale_wanted(values):
        ax.set_yscale("log")
    label_axes(ax, title, unit, "learning rate")
    if unit == "epoch":
        _epochs_axis(ax)
    return fig


def lr_changed(history: Any) -> bool:
    """Whether the learning rate took more than one value during training."""
    values, _ = _lr_values(_Records(history))
    finite = values[np.isfinite(values)]
    return finite.size > 1 and bool(np.ptp(finite) > 1e-12 * max(abs(finite).max(), 1e-300))


def training_figures(history: Any) -> dict[str, Figure]:
    """The pictures of a training run, by file name (what ``numnet train`` writes):

    ``loss.png`` always (per-epoch train and validation loss; per-step loss when no epoch finished),
    ``accuracy.png`` when accuracy was recorded, ``lr.png`` when the learning rate changed.
    """
    records = _Records(history)
    figures: dict[str, Figure] = {}
    if records.has("loss") or records.has("val_loss"):
        keys = [k for k in ("loss", "val_loss") if records.has(k)]
        figures["loss.png"] = training_curves(_records_dict(records), keys=keys)
    elif records.step_loss:
        figures["loss.png"] = step_loss_curve(_records_dict(records))
    else:
        raise ValueError("training_figures: the history has no loss yet (no epoch and no step recorded)")
    if records.has("accuracy") or records.has("val_accuracy"):
        keys = [k for k in ("accuracy", "val_accuracy") if records.has(k)]
        figures["accuracy.png"] = training_curves(_records_dict(records), keys=keys)
    if lr_changed(_records_dict(records)):
        figures["lr.png"] = lr_curve(_records_dict(records))
    return figures


def _records_dict(records: _Records) -> dict[str, Any]:
    """The ``History.to_dict()`` form of ``records``."""
    return {"epochs": records.epochs, "step_loss": records.step_loss, "step_lr": records.step_lr}
