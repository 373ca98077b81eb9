"""numnet.plot curves: training curves, per-step loss, loss range, learning rate, training_figures."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from matplotlib.figure import Figure

from numnet import plot
from numnet.train.history import History


def make_history(epochs: int = 5, steps: int = 4, accuracy: bool = True, lr_decay: bool = True) -> History:
    history = History()
    lr = 0.1
    for e in range(epochs):
        for s in range(steps):
            history.record_step(1.0 / (1 + e * steps + s), lr)
        record = {
            "loss": float(np.mean(history.step_loss[-steps:])),
            "val_loss": 1.2 / (1 + e),
            "lr": lr,
            "time": 0.1,
        }
        if accuracy:
            record.update(accuracy=0.5 + 0.1 * e, val_accuracy=0.45 + 0.1 * e)
        history.record_epoch(record)
        if lr_decay and e == 2:
            lr = 0.01
    return history


def legend_texts(ax) -> list[str]:
    legend = ax.get_legend()
    assert legend is not None, "expected a legend"
    return [t.get_text() for t in legend.get_texts()]


def line(ax, label: str):
    matches = [ln for ln in ax.get_lines() if ln.get_label() == label]
    assert matches, f"no line labelled {label!r}; lines: {[ln.get_label() for ln in ax.get_lines()]}"
    return matches[0]


def test_training_curves_loss_and_accuracy_axes():
    history = make_history()
    fig = plot.training_curves(history)
    assert isinstance(fig, Figure)
    assert [ax.get_title() for ax in fig.axes] == ["Loss", "Accuracy"]
    loss_ax, acc_ax = fig.axes
    assert loss_ax.get_xlabel() == "epoch" and loss_ax.get_ylabel() == "loss"
    assert {"train", "validation"} <= set(legend_texts(loss_ax))
    np.testing.assert_allclose(line(loss_ax, "train").get_ydata(), history["loss"])
    np.testing.assert_allclose(line(loss_ax, "validation").get_ydata(), history["val_loss"])
    np.testing.assert_array_equal(line(loss_ax, "train").get_xdata(), [1, 2, 3, 4, 5])
    np.testing.assert_allclose(line(acc_ax, "train").get_ydata(), history["accuracy"])
    np.testing.assert_allclose(line(acc_ax, "validation").get_ydata(), history["val_accuracy"])
    # the best validation epoch is starred: the lowest loss, the highest accuracy
    assert any(t.startswith("best validation") and "epoch 5" in t for t in legend_texts(loss_ax))
    assert any(t.startswith("best validation") and "epoch 5" in t for t in legend_texts(acc_ax))


def test_training_curves_loss_only_and_log_scale():
    history = History()
    for e in range(6):
        history.record_epoch({"loss": 10.0**-e})
    fig = plot.training_curves(history)
    assert len(fig.axes) == 1
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"  # five decades
    assert legend_texts(ax) == ["train"]

    flat = History()
    for e in range(6):
        flat.record_epoch({"loss": 1.0 - 0.1 * e})
    assert plot.training_curves(flat).axes[0].get_yscale() == "linear"


def test_training_curves_explicit_keys_group_train_and_validation():
    history = make_history()
    fig = plot.training_curves(history, keys=["val_loss", "accuracy"], title="run 1")
    assert [ax.get_title() for ax in fig.axes] == ["Loss", "Accuracy"]
    assert legend_texts(fig.axes[0])[0] == "validation"
    assert fig.get_suptitle() == "run 1"
    with pytest.raises(KeyError, match="no 'mae'"):
        plot.training_curves(history, keys=["mae"])


def test_training_curves_accepts_dict_forms():
    history = make_history()
    for form in (history.to_dict(), {"loss": history["loss"], "val_loss": history["val_loss"]}):
        fig = plot.training_curves(form)
        np.testing.assert_allclose(line(fig.axes[0], "train").get_ydata(), history["loss"])
    with pytest.raises(TypeError, match="History"):
        plot.training_curves([1, 2, 3])


def test_training_curves_empty_history():
    with pytest.raises(ValueError, match="no epochs"):
        plot.training_curves(History())


def test_step_loss_curve_raw_and_smoothed():
    history = make_history()
    fig = plot.step_loss_curve(history)
    ax = fig.axes[0]
    assert ax.get_title() == "Loss per step" and ax.get_xlabel() == "step" and ax.get_ylabel() == "loss"
    np.testing.assert_allclose(line(ax, "per step").get_ydata(), history.step_loss)

    long = History()
    for s in range(500):
        long.record_step(1.0 + np.sin(s), 0.1)
    ax = plot.step_loss_curve(long).axes[0]
    labels = legend_texts(ax)
    assert labels[0] == "per step" and labels[1].startswith("centred moving average (10 steps")
    smoothed = line(ax, labels[1])
    np.testing.assert_allclose(smoothed.get_ydata()[0], np.mean(long.step_loss[:10]))
    # centred: the mean of steps 1 … 10 sits at step 5.5, not at step 10 (where it would trail the curve)
    assert smoothed.get_xdata()[0] == 5.5 and smoothed.get_xdata()[-1] == 500 - 4.5
    # a straight line's centred average lies on the line itself
    ramp = History()
    for s in range(300):
        ramp.record_step(float(s + 1), 0.1)
    ramp_line = line(plot.step_loss_curve(ramp, smooth=20).axes[0], "centred moving average (20 steps)")
    np.testing.assert_allclose(ramp_line.get_ydata(), ramp_line.get_xdata())
    with pytest.raises(ValueError, match="no per-step"):
        plot.step_loss_curve(History())


def per_sample_sgd_history(samples: int = 3, epochs: int = 4) -> History:
    """What per-sample SGD records: one step per sample, an epoch mean per epoch."""
    history = History()
    rng = np.random.default_rng(0)
    for _ in range(epochs):
        losses = rng.random(samples)
        for value in losses:
            history.record_step(float(value), 0.1)
        history.record_epoch({"loss": float(losses.mean())})
    return history


def test_loss_range_curve_from_per_sample_steps():
    history = per_sample_sgd_history()
    steps = np.array(history.step_loss).reshape(4, 3)
    fig = plot.loss_range_curve(history)
    ax = fig.axes[0]
    assert "min" in ax.get_title() and "max" in ax.get_title()
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "loss"
    np.testing.assert_allclose(line(ax, "min").get_ydata(), steps.min(axis=1))
    np.testing.assert_allclose(line(ax, "mean").get_ydata(), steps.mean(axis=1), rtol=1e-6)
    np.testing.assert_allclose(line(ax, "max").get_ydata(), steps.max(axis=1))
    assert ax.collections, "the min-max band is shaded"
    assert set(legend_texts(ax)) == {"min–max range", "max", "mean", "min"}


def test_loss_range_curve_from_epoch_keys_and_explicit_steps():
    history = History()
    for e in range(3):
        history.record_epoch({"loss": 2.0 - e, "loss_min": 1.5 - e, "loss_max": 3.0 - e})
    ax = plot.loss_range_curve(history).axes[0]
    np.testing.assert_allclose(line(ax, "min").get_ydata(), [1.5, 0.5, -0.5])
    np.testing.assert_allclose(line(ax, "max").get_ydata(), [3.0, 2.0, 1.0])

    steps_only = History()
    for value in range(6):
        steps_only.record_step(float(value), 0.1)
    low, mean, high = plot.loss_ranges(steps_only, steps_per_epoch=2)
    np.testing.assert_allclose(low, [0, 2, 4])
    np.testing.assert_allclose(high, [1, 3, 5])
    np.testing.assert_allclose(mean, [0.5, 2.5, 4.5])
    uneven = per_sample_sgd_history()
    uneven.step_loss.append(1.0)
    with pytest.raises(ValueError, match="steps_per_epoch"):
        plot.loss_range_curve(uneven)


def test_lr_curve_per_step_and_per_epoch():
    history = make_history()
    ax = plot.lr_curve(history).axes[0]
    assert (
        ax.get_title() == "Learning rate" and ax.get_xlabel() == "step" and ax.get_ylabel() == "learning rate"
    )
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), history.step_lr)

    epochs_only = History()
    for lr in (0.1, 0.05, 0.025):
        epochs_only.record_epoch({"loss": 1.0, "lr": lr})
    ax = plot.lr_curve(epochs_only).axes[0]
    assert ax.get_xlabel() == "epoch"
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), [0.1, 0.05, 0.025])

    decades = History()
    for lr in (1.0, 0.1, 0.01, 0.001):
        decades.record_epoch({"lr": lr})
    assert plot.lr_curve(decades).axes[0].get_yscale() == "log"
    with pytest.raises(ValueError, match="no learning rate"):
        plot.lr_curve({"loss": [1.0]})


def test_training_figures_names():
    figures = plot.training_figures(make_history())
    assert list(figures) == ["loss.png", "accuracy.png", "lr.png"]
    assert all(isinstance(f, Figure) for f in figures.values())
    assert figures["loss.png"].axes[0].get_title() == "Loss"
    assert figures["accuracy.png"].axes[0].get_title() == "Accuracy"

    constant = plot.training_figures(make_history(accuracy=False, lr_decay=False))
    assert list(constant) == ["loss.png"]
    assert len(constant["loss.png"].axes) == 1

    steps_only = History()
    steps_only.record_step(1.0, 0.1)
    steps_only.record_step(0.5, 0.1)
    assert plot.training_figures(steps_only)["loss.png"].axes[0].get_title() == "Loss per step"
    with pytest.raises(ValueError, match="no loss"):
        plot.training_figures(History())
    assert not plot.lr_changed(make_history(lr_decay=False))
    assert plot.lr_changed(make_history())
