"""cnn — the SimpleConvNet of "Deep Learning from Scratch" (chapter 7) on handwritten digits.

Each 28×28 image stays an image (1, 28, 28) instead of 784 loose pixels. 30 filters of 5×5 slide over it
(stride 1, no padding), giving 30 feature maps of 24×24; ReLU; a 2×2 max-pool halves them to 12×12; the
4,320 values feed an Affine layer of 100 ReLU units and an Affine layer of 10 scores, scored by softmax
cross-entropy. Weights start at 0.01·N(0, 1), biases at 0; Adam with learning rate 0.001, 100 images per
step, 20 epochs over the 60,000 training images. The book reports about 99 % training and 98.9 % test
accuracy.

The convolution runs as one matrix product per batch (im2col: every 5×5 patch becomes a column); its
backward forms dW from the same columns (the first layer needs no dX). The pictures show what the 30 filters
learned: random noise before training, edge and blob detectors after (the book's Figure 7-24), and the 30
feature maps they produce from one test digit.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import numnet
from numnet import data, metrics, models, nn, optim, plot
from numnet.demos.common import Report, image_data, output_folder, setting
from numnet.train import History

NAME = "cnn"
TITLE = "the DLFS SimpleConvNet (conv 30×5×5 → pool → 100 → 10) on MNIST"
PUBLISHED_TEST_ACCURACY = 0.989
PUBLISHED_TRAIN_ACCURACY = "≈ 0.99 (above test)"


@dataclass
class Settings:
    epochs: int = setting(20, "passes over the training images")
    batch_size: int = setting(100, "images per Adam step")
    lr: float = setting(0.001, "Adam's learning rate")
    filters: int = setting(30, "convolution filters")
    kernel_size: int = setting(5, "filter size (kernel_size × kernel_size)")
    hidden: int = setting(100, "units of the hidden Affine layer")
    weight_std: float = setting(0.01, "initial weights are weight_std·N(0, 1); biases 0")
    seed: int = setting(0, "seed of the initial weights and of the batch order")
    train_size: int | None = setting(None, "train on the first N training images (None: all 60,000)")
    eval_train_size: int = setting(10_000, "training images scored after each epoch (all at the end)")
    dataset: str = setting("mnist", "mnist, or digits (scikit-learn's 8×8 digits) where MNIST is missing")


QUICK: dict[str, Any] = {"epochs": 2, "train_size": 5000, "eval_train_size": 2000}


def as_images(X: np.ndarray) -> np.ndarray:
    """Flat rows (N, H·W) → images (N, 1, H, W), a view. (With ``load_mnist(..., flatten=False)``, which
    gives (N, 1, 28, 28) already, this becomes the identity.)"""
    side = math.isqrt(X.shape[1])
    return X.reshape(-1, 1, side, side)


def make_model(settings: Settings, image_shape: tuple[int, int, int]) -> nn.Sequential:
    return models.simple_cnn(
        image_shape,
        10,
        filters=settings.filters,
        kernel_size=settings.kernel_size,
        hidden=settings.hidden,
        weight_std=settings.weight_std,
    )


def accuracy(model: nn.Module, X: np.ndarray, y: np.ndarray, batch: int = 1000) -> float:
    """Accuracy over ``X`` in batches, in evaluation mode, without recording the graph."""
    return metrics.accuracy(y, predict(model, X, batch))


def predict(model: nn.Module, X: np.ndarray, batch: int = 1000) -> np.ndarray:
    was_training = model.training
    model.eval()
    try:
        with numnet.no_grad():
            return np.concatenate(
                [model(numnet.tensor(X[i : i + batch])).data.argmax(axis=1) for i in range(0, len(X), batch)]
            )
    finally:
        model.train(was_training)


def run(settings: Settings | None = None, out: str | Path | None = None) -> dict[str, Any]:
    settings = settings or Settings()
    out = output_folder(NAME, out)
    report = Report(NAME, TITLE, out, settings, intro=__doc__.split("\n\n", 1)[1])
    load_start = os.getloadavg()

    (X_train, y_train), (X_test, y_test) = image_data(settings.dataset)
    X_train, X_test = as_images(X_train), as_images(X_test)
    if settings.train_size is not None:
        X_train, y_train = X_train[: settings.train_size], y_train[: settings.train_size]
    report.say(
        f"{settings.dataset}: {len(X_train):,} training and {len(X_test):,} test images, "
        f"each {X_train.shape[1:]}"
    )
    numnet.manual_seed(settings.seed)
    model = make_model(settings, X_train.shape[1:])
    report.say(f"model: {model.num_parameters():,} parameters")
    filters_before = model[0].weight.data.copy()
    loader = data.DataLoader(
        data.TensorDataset(X_train, y_train), batch_size=settings.batch_size, shuffle=True, seed=settings.seed
    )
    loss_fn = nn.CrossEntropyLoss()
    optimizer = optim.Adam(model.parameters(), lr=settings.lr)
    history = History()
    X_eval, y_eval = X_train[: settings.eval_train_size], y_train[: settings.eval_train_size]

    def evaluate(epoch: int) -> None:
        train_acc, test_acc = accuracy(model, X_eval, y_eval), accuracy(model, X_test, y_test)
        history.record_epoch({"accuracy": train_acc, "test_accuracy": test_acc})
        report.say(f"epoch {epoch:3d}  train acc {train_acc:.4f}  test acc {test_acc:.4f}")

    with report.timer("training"):
        evaluate(0)
        for epoch in range(1, settings.epochs + 1):
            for xb, yb in loader:
                loss = loss_fn(model(xb), yb)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                history.record_step(loss.item(), settings.lr)
            evaluate(epoch)
    with report.timer("final evaluation"):
        train_acc = accuracy(model, X_train, y_train)
        predicted = predict(model, X_test)
    test_acc = metrics.accuracy(y_test, predicted)
    load_end = os.getloadavg()

    report.compare("test accuracy", test_acc, PUBLISHED_TEST_ACCURACY)
    report.compare(f"train accuracy (all {len(X_train):,})", train_acc, PUBLISHED_TRAIN_ACCURACY)
    report.compare("epochs", settings.epochs, 20)
    report.compare("parameters", model.num_parameters(), "")
    report.compare("training time (s)", report.timings["training"], "")
    report.compare("seconds per epoch", report.timings["training"] / max(settings.epochs, 1), "")
    report.compare(
        "load average at start / end (1 min)",
        f"{load_start[0]:.2f} / {load_end[0]:.2f}",
        f"{os.cpu_count()} CPUs",
    )
    report.differs(
        "Batches: the book's Trainer draws each batch with np.random.choice (with replacement) and scores "
        "1,000 training and test images per epoch; numnet's DataLoader shuffles each epoch and visits every "
        f"image once, and scores {settings.eval_train_size:,} training images and the whole test set after "
        "each epoch (the final train accuracy is over all training images)."
    )
    report.differs(
        "Softmax and cross-entropy are one fused op (log-softmax) in numnet's CrossEntropyLoss: no 1e-7 "
        "guard is needed; the gradient is the book's SoftmaxWithLoss (y − t) / batch."
    )
    report.differs(
        "Convolution: the book's im2col builds one row per output position (N·24·24, 25); numnet runs "
        "Conv → ReLU → 2×2 pool as one node whose (C·kh·kw)-major columns are grouped by pooling-window "
        "corner ((N·4, 25, 144) blocks), so each corner comes out of the product as one contiguous plane, "
        "and adds the bias after the pooling (the same values); the book's layout is kept as "
        "numnet.ops.conv.im2col (tested to give the same numbers as numnet's)."
    )
    report.figure(
        _filters_figure(filters_before, model[0].weight.data),
        "filters.png",
        "the first layer's filters before (random) and after training (the book's Figure 7-24)",
    )
    digit = int(np.flatnonzero(y_test == y_test[0])[0])
    report.figure(
        _feature_maps_figure(model, X_test[digit], int(y_test[digit])),
        "feature_maps.png",
        "one test digit and the 30 feature maps the trained filters make of it (after ReLU)",
    )
    report.figure(_accuracy_figure(history), "accuracy.png", "train and test accuracy per epoch")
    report.figure(
        plot.step_loss_curve(history, title="cnn: cross-entropy per iteration (batch of 100)"),
        "loss.png",
        "loss per iteration",
    )
    report.figure(
        plot.confusion_matrix(
            metrics.confusion_matrix(y_test, predicted, num_classes=10),
            class_names=[str(c) for c in range(10)],
        ),
        "confusion_matrix.png",
        "confusion matrix, test set",
    )
    report.finish()
    return {
        "train_accuracy": train_acc,
        "test_accuracy": test_acc,
        "history": history.to_dict(),
        "seconds": report.timings["training"],
        "load_average": (load_start, load_end),
        "headline": f"test accuracy {test_acc:.4f} (book 0.989) after {settings.epochs} epochs",
    }


# ---------------------------------------------------------------------------------------------------------
# Pictures
# ---------------------------------------------------------------------------------------------------------


def _grid_axes(fig: Any, spec: Any, count: int, columns: int) -> list[Any]:
    rows = math.ceil(count / columns)
    grid = spec.subgridspec(rows, columns, wspace=0.08, hspace=0.08)
    axes = []
    for k in range(count):
        ax = fig.add_subplot(grid[k // columns, k % columns])
        ax.set_xticks([])
        ax.set_yticks([])
        axes.append(ax)
    return axes


def _figure(width: float, height: float) -> Any:
    """A bare figure for the pictures below, which lay out their own grids of images."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _filters_figure(before: np.ndarray, after: np.ndarray) -> Any:
    """Each filter (its first input channel) as a small grey image, scaled to its own range (as the book's
    filter_show: dark = large weight, as ``gray_r``)."""
    count = before.shape[0]
    columns = min(10, count)
    fig = _figure(11, 0.52 * math.ceil(count / columns) + 0.9)
    outer = fig.add_gridspec(1, 2, wspace=0.12)
    for panel, (weights, label) in enumerate(((before, "before training"), (after, "after training"))):
        axes = _grid_axes(fig, outer[panel], count, columns)
        for k, ax in enumerate(axes):
            ax.imshow(weights[k, 0], cmap="gray_r", interpolation="nearest")
        axes[0].set_title(label, loc="left", fontsize=10)
    fig.suptitle(f"cnn: the {count} first-layer filters ({before.shape[2]}×{before.shape[3]})")
    return fig


def _feature_maps_figure(model: nn.Sequential, image: np.ndarray, label: int) -> Any:
    with numnet.no_grad():
        maps = model[1](model[0](numnet.tensor(image[None]))).data[0]  # conv → ReLU: (filters, H', W')
    count = maps.shape[0]
    columns = min(10, count)
    fig = _figure(11, 1.2 * math.ceil(count / columns) + 0.9)
    outer = fig.add_gridspec(1, 2, width_ratios=(1.3, columns), wspace=0.05)
    ax = fig.add_subplot(outer[0])
    ax.imshow(image[0], cmap="gray_r", interpolation="nearest")
    ax.set(xticks=[], yticks=[], title=f"test digit ({label})")
    for k, ax in enumerate(_grid_axes(fig, outer[1], count, columns)):
        ax.imshow(maps[k], cmap="gray_r", interpolation="nearest")
    fig.suptitle(
        f"cnn: the {count} feature maps of one digit after conv + ReLU ({maps.shape[1]}×{maps.shape[2]})"
    )
    return fig


def _accuracy_figure(history: History) -> Any:
    fig = _figure(6.4, 4.4)
    ax = fig.add_subplot()
    epochs = np.arange(len(history["accuracy"]))
    ax.plot(epochs, history["accuracy"], marker="o", markersize=3.5, label="train")
    ax.plot(epochs, history["test_accuracy"], marker="s", markersize=3.5, linestyle="--", label="test")
    ax.axhline(PUBLISHED_TEST_ACCURACY, color="grey", linewidth=0.8, linestyle=":", label="book test: 0.989")
    low = min(0.9, *history["test_accuracy"][1:]) if len(epochs) > 1 else 0.0
    ax.set(
        xlabel="epoch",
        ylabel="accuracy",
        ylim=(max(low - 0.01, 0), 1.0),
        title="cnn: accuracy per epoch (SimpleConvNet)",
    )
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)
    return fig
